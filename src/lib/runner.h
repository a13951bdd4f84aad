/* SPDX-License-Identifier: ISC */
/* runner.h: etrnd-runner's loop. Claims triggers, runs one command per
 * node at a time (a per-node lock the command inherits, held across runner
 * restarts) and up to cfg.jobs nodes at once, kills commands that overrun,
 * retries failures with backoff, and never loses a trigger: a trigger is
 * removed only after its run succeeded or was given up. The decisions are
 * schedule.c's; processes are child.c's; files are runq.c's. */
#ifndef ETRND_RUNNER_H
#define ETRND_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

#include "bounds.h"
#include "child.h"
#include "policy.h"
#include "runq.h"
#include "schedule.h"
#include "trigger.h"

struct runner_cfg {
	const char *queuedir, *cdb;
	int once;                       /* -1: one pass, wait for the runs, exit */
	int jobs;                       /* -j */
	long rescan_s;                  /* -r */
	long timeout_s;                 /* -t, when the rule has no timeout= */
	long backoff_s;                 /* -b: first retry delay, doubled each time */
	int attempts;                   /* -a: runs before a trigger is given up */
	size_t deflen;                  /* default command template (after --), 0 = none */
	char deftmpl[RULE_RUN_MAX + 1]; /* as struct words */
};

enum job_state {
	JOB_WAITING,  /* claimed; waits for its retry, or for the node's lock */
	JOB_RUNNING,  /* the command's leader runs */
	JOB_DRAINING, /* the leader exited; the rest of its group has not yet */
};

struct job {
	char name[TRIGGER_NAME_MAX];
	struct trigger t;
	char rule[NODE_BUF];
	char argv0[128];
	enum job_state state;
	struct child c;
	int spawned;     /* 0: the last start failed before exec */
	int status;      /* the leader's wait status */
	int attempt;     /* 1 for the first run */
	int term_sent;   /* the timeout's SIGTERM went out */
	int kill_sent;   /* and the SIGKILL RUN_KILL_GRACE_MS later */
	int lock_logged; /* "wait ... reason=locked" said once */
	long long start_ms, kill_ms, next_ms;
};

struct runner {
	struct runner_cfg cfg;
	struct runq q;
	struct policy pol;
	struct job **jobs;
	size_t njobs, capjobs;
	int running; /* jobs RUNNING or DRAINING */
	char **pending;
	size_t npending, ipending;
	int scanned;      /* -1: the pass's one scan is done */
	int scan_failing; /* the last scan could not read new/ */
	struct sched_scan scan;
	long long stop_ms;
	int stopping;
	int fatal; /* -1 could not read new/: exit 111 */
	unsigned long runs, failures;
};

/* Returns 0 or -1 with a reason in err (queue cannot be opened). */
int runner_init(struct runner *r, const struct runner_cfg *cfg, char *err, size_t errsize);
/* Runs until SIGTERM (or, with cfg.once, until the pass is done); returns
 * the exit status: 0; with -1, 1 when a trigger could not be claimed or
 * run, or its run failed, and 111 when new/ could not be read. The caller
 * routes SIGCHLD, SIGTERM, SIGINT and SIGHUP to runner_signal(). */
int runner_loop(struct runner *r, int sigfd);
void runner_signal(int sig);
/* The write end of the self-pipe runner_signal() pokes. */
void runner_set_sigfd(int fd);
void runner_free(struct runner *r);

#endif
