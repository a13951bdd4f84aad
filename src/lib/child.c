/* SPDX-License-Identifier: ISC */
/* child.c: a queue-run command as a process: started without a shell in
 * its own process group, its output captured, stopped as a group. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

static void exec_child(char *const argv[], const char *node, const char *rule, const char *client,
		       int out)
{
	sigset_t none;
	static const int sigs[] = {SIGPIPE, SIGCHLD, SIGTERM, SIGHUP, SIGINT};

	setpgid(0, 0);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	if (setenv("ETRN_NODE", node, 1) < 0 || setenv("ETRN_RULE", rule, 1) < 0 ||
	    setenv("ETRN_CLIENT", client, 1) < 0)
		_exit(127);
	execv(argv[0], argv);
	static const char msg[] = "etrnd-runner: unable to execute the command: ";
	const char *e = strerror(errno);
	write_all(2, msg, sizeof msg - 1);
	write_all(2, e, strlen(e));
	write_all(2, "\n", 1);
	_exit(127);
}

pid_t child_spawn(char *const argv[], const char *node, const char *rule, const char *client,
		  int *outfd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		exec_child(argv, node, rule, client, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	setpgid(pid, pid); /* also here: no race with an early child_signal() */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*outfd = p[0];
	return pid;
}

void child_signal(pid_t pid, int sig)
{
	if (pid > 0 && kill(-pid, sig) < 0)
		kill(pid, sig);
}
