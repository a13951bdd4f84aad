/* SPDX-License-Identifier: ISC */
/* child.c: see child.h. The command gets exactly fds 0, 1 and 2: the
 * runner's own descriptors, and any it inherited, are closed at exec. */
#include "child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsutil.h"
#include "num.h"
#include "log.h"

/* Every fd from 3 up closes at exec. close_range() where the kernel has it
 * (5.11 for the flag), else one fcntl() per entry of /proc/self/fd. */
static int cloexec_from_3(void)
{
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
#endif
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		unsigned long long fd;
		if (num_parse(e->d_name, strlen(e->d_name), 3, 1 << 30, &fd) == 0 &&
		    (int)fd != dirfd(d))
			fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

static void fail(int errfd)
{
	int e = errno;
	write_all(errfd, &e, sizeof e);
	_exit(127);
}

static void exec_child(char *const argv[], const struct child_env *env, int in, int out, int errfd)
{
	static const int sigs[] = {SIGPIPE, SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGXFSZ};
	sigset_t none;

	setpgid(0, 0);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0 || cloexec_from_3() < 0)
		fail(errfd);
	for (int fd = 0; fd <= 2; fd++)
		fcntl(fd, F_SETFD, 0); /* dup2() onto itself keeps close-on-exec */
	if (setenv("ETRN_NODE", env->node, 1) < 0 || setenv("ETRN_RULE", env->rule, 1) < 0 ||
	    setenv("ETRN_CLIENT", env->client, 1) < 0)
		fail(errfd);
	execv(argv[0], argv);
	fail(errfd);
}

int child_spawn(struct child *c, char *const argv[], const struct child_env *env, int stdin_fd)
{
	int out[2], err[2];

	*c = (struct child){.pid = 0, .outfd = -1, .errfd = -1};
	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]), close(out[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_child(argv, env, stdin_fd, out[1], err[1]);
	int e = errno;
	close(out[1]), close(err[1]);
	if (pid < 0) {
		close(out[0]), close(err[0]);
		errno = e;
		return -1;
	}
	setpgid(pid, pid); /* also here: no race with an early child_signal() */
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	c->pid = c->pgid = pid;
	c->outfd = out[0];
	c->errfd = err[0];
	return 0;
}

/* One captured line into the log, within the line budget. */
static void output_line(struct child *c, const char *node)
{
	if (c->linelen == 0)
		return;
	if (c->lines < RUN_OUTPUT_LINES) {
		struct logline l;
		ll_start(&l, "output");
		ll_str(&l, "node", node);
		ll_long(&l, "text", c->line, c->linelen, sizeof c->line);
		ll_emit(&l);
		c->lines++;
	} else {
		c->dropped += (long)c->linelen;
	}
	c->linelen = 0;
}

static void take_bytes(struct child *c, const char *node, const char *buf, ssize_t n)
{
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || c->linelen == sizeof c->line)
			output_line(c, node);
		if (buf[i] != '\n')
			c->line[c->linelen++] = buf[i];
	}
}

void child_read(struct child *c, const char *node, int final)
{
	char buf[4096];
	ssize_t n;

	while (c->outfd >= 0 && (n = read(c->outfd, buf, sizeof buf)) != 0) {
		if (n > 0) {
			take_bytes(c, node, buf, n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && !final)
			return;
		break;
	}
	output_line(c, node);
	if (c->outfd >= 0)
		close(c->outfd);
	c->outfd = -1;
}

void child_reaped(struct child *c)
{
	int e;

	c->pid = 0;
	c->exec_errno = 0;
	/* the leader is gone, so the pipe holds the errno or is at EOF */
	if (c->errfd >= 0 && read(c->errfd, &e, sizeof e) == (ssize_t)sizeof e)
		c->exec_errno = e ? e : EINVAL;
	if (c->errfd >= 0)
		close(c->errfd);
	c->errfd = -1;
}

void child_signal(const struct child *c, int sig)
{
	if (c->pgid > 0 && kill(-c->pgid, sig) < 0 && c->pid > 0)
		kill(c->pid, sig);
}

/* Whether /proc/NAME/stat is a live (not zombie) process in group pgid. */
static int live_in(const char *name, pid_t pgid)
{
	char path[64], buf[512], state;
	long pgrp;

	snprintf(path, sizeof path, "/proc/%s/stat", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold anything */
	return p && sscanf(p, ") %c %*d %ld", &state, &pgrp) == 2 && pgrp == (long)pgid &&
	       state != 'Z' && state != 'X';
}

/* kill(-pgid, 0) counts zombies, which stay until their parent (often
 * init, which may never reap them) does: look for a live member. */
static int live_member(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 1; /* cannot tell: as kill() says */
	while (!found && (e = readdir(d)) != NULL)
		found = e->d_name[0] >= '1' && e->d_name[0] <= '9' && live_in(e->d_name, pgid);
	closedir(d);
	return found;
}

int child_group_alive(const struct child *c)
{
	if (c->pgid <= 0 || (kill(-c->pgid, 0) < 0 && errno == ESRCH))
		return 0;
	return live_member(c->pgid);
}

void child_close(struct child *c)
{
	if (c->outfd >= 0)
		close(c->outfd);
	if (c->errfd >= 0)
		close(c->errfd);
	c->outfd = c->errfd = -1;
}
