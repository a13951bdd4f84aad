/* SPDX-License-Identifier: ISC */
/* etrnd-runner: consume etrnd's triggers and start the queue run for each
 * node. Long-running (daemontools, systemd) or -1 for one pass (cron). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/exits.h"
#include "lib/log.h"
#include "lib/num.h"
#include "lib/runargv.h"
#include "lib/runner.h"

static void usage(void)
{
	fputs("usage: etrnd-runner [-q QUEUEDIR] [-d CDB] [-1] [-j JOBS] [-r RESCAN_SECONDS]\n"
	      "                    [-t TIMEOUT] [-b BACKOFF] [-a ATTEMPTS] [-- COMMAND ARGS...]\n",
	      stderr);
	exit(EXIT_PERM);
}

static long number(const char *s, long min, long max)
{
	long v;
	if (num_arg(s, min, max, &v) < 0)
		usage();
	return v;
}

static void parse(struct runner_cfg *c, int argc, char **argv)
{
	int opt;

	*c = (struct runner_cfg){
	    "/var/spool/etrnd", "/etc/etrnd/etrn.cdb", 0, 1, RUNNER_DEF_RESCAN, RUNNER_DEF_TIMEOUT,
	    RUNNER_DEF_BACKOFF, RUNNER_DEF_ATTEMPTS,   0, ""};
	while ((opt = getopt(argc, argv, "q:d:1j:r:t:b:a:")) != -1) {
		switch (opt) {
		case 'q': c->queuedir = optarg; break;
		case 'd': c->cdb = optarg; break;
		case '1': c->once = 1; break;
		case 'j': c->jobs = (int)number(optarg, 1, RUNNER_JOBS_MAX); break;
		case 'r': c->rescan_s = number(optarg, 1, 86400); break;
		case 't': c->timeout_s = number(optarg, 1, RULE_TIMEOUT_MAX); break;
		case 'b': c->backoff_s = number(optarg, 0, 86400); break;
		case 'a': c->attempts = (int)number(optarg, 1, RUNNER_ATTEMPTS_MAX); break;
		default: usage();
		}
	}
	if (optind < argc) {
		c->deflen =
		    runargv_template(c->deftmpl, sizeof c->deftmpl, argv + optind, argc - optind);
		if (c->deflen == 0) {
			fputs("etrnd-runner: the default command must be an absolute path, with "
			      "printable words and only %n %r %c %% escapes\n",
			      stderr);
			exit(EXIT_PERM);
		}
	}
}

static int signals(void)
{
	int p[2];
	struct sigaction sa;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	runner_set_sigfd(p[1]);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = runner_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return p[0];
}

/* fds 0, 1 and 2 open (on /dev/null if need be), so that no pipe or lock
 * the runner opens lands on them. */
static void std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			exit(EXIT_TEMP);
}

int main(int argc, char **argv)
{
	static struct runner r;
	struct runner_cfg cfg;
	char err[512];

	std_fds();
	parse(&cfg, argc, argv);
	log_init("etrnd-runner", LOGTO_STDERR);
	int sigfd = signals();
	if (sigfd < 0 || runner_init(&r, &cfg, err, sizeof err) < 0) {
		log_msg("fatal", "reason", sigfd < 0 ? "unable to create a pipe" : err);
		return EXIT_TEMP;
	}
	int rc = runner_loop(&r, sigfd);
	runner_free(&r);
	return rc;
}
