/* SPDX-License-Identifier: ISC */
/* runner.h: etrnd-runner's scheduler. Claims triggers, runs one command
 * per node at a time and up to cfg.jobs nodes at once, kills commands that
 * overrun, retries failures with backoff, and never loses a trigger: a
 * trigger is removed only after its run succeeded or was given up. */
#ifndef ETRND_RUNNER_H
#define ETRND_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

#include "bounds.h"
#include "policy.h"
#include "runq.h"
#include "trigger.h"

struct runner_cfg {
	const char *queuedir, *cdb;
	int once;       /* -1: one pass, wait for the runs, exit */
	int jobs;       /* -j */
	long rescan_s;  /* -r */
	long timeout_s; /* -t, when the rule has no timeout= */
	long backoff_s; /* -b: first retry delay, doubled each time */
	int attempts;   /* -a: runs before a trigger is given up */
	size_t deflen;  /* default command template (after --), 0 = none */
	char deftmpl[RULE_RUN_MAX];
};

struct job {
	char name[TRIGGER_NAME_MAX];
	struct trigger t;
	char rule[NODE_BUF];
	char argv0[128];
	pid_t pid; /* 0 while waiting to retry */
	int outfd;
	int attempt;
	int term_sent;
	long long start_ms, kill_ms, next_ms;
	size_t linelen;
	int lines;
	long dropped;
	char line[LOG_VALUE_MAX];
};

struct runner {
	struct runner_cfg cfg;
	struct runq q;
	struct policy pol;
	struct job *jobs;
	size_t njobs, capjobs;
	int running;
	char **pending;
	size_t npending, ipending;
	int scan_needed;
	long long next_scan_ms, wake_ms, stop_ms;
	int stopping;
	unsigned long runs, failures;
};

/* Returns 0 or -1 with a reason in err (queue cannot be opened). */
int runner_init(struct runner *r, const struct runner_cfg *cfg, char *err, size_t errsize);
/* Runs until SIGTERM (or, with cfg.once, until the pass is done); returns
 * 1 when, with -1, a run failed, else 0. The
 * caller routes SIGCHLD, SIGTERM, SIGINT and SIGHUP to runner_signal(). */
int runner_loop(struct runner *r, int sigfd);
void runner_signal(int sig);
/* The write end of the self-pipe runner_signal() pokes. */
void runner_set_sigfd(int fd);
void runner_free(struct runner *r);

#endif
