/* SPDX-License-Identifier: ISC */
/* schedule.h: the runner's decisions, as pure functions of their inputs (no
 * clock, no files, no processes), so that a unit test can state each one:
 * whether a trigger may run under its rule, when a node's interval= lets it
 * start, what follows a run, how long a retry waits, when to rescan. */
#ifndef ETRND_SCHEDULE_H
#define ETRND_SCHEDULE_H

#include <stddef.h>

#include "rule.h"
#include "trigger.h"

/* -- before a run ------------------------------------------------------ */

enum sched_verdict {
	SCHED_RUN,  /* run it */
	SCHED_DROP, /* the rule says no (no rule, deny=, no command): removed */
	SCHED_BAD,  /* the trigger is not one etrnd would have written: bad/ */
};

struct sched_check {
	enum sched_verdict verdict;
	const char *reason; /* for the log; NULL with SCHED_RUN */
};

/* found: policy_lookup()'s 1 or 0 (not -1: the caller defers on that).
 * The command is the rule's run=, else the default template (deflen 0:
 * none). The trigger's client is checked against allow= exactly as etrnd
 * checks it; a lost trigger (an empty file: a crash took the content) has
 * no client, so it runs only when the command does not use %c. */
struct sched_check sched_check(int found, const struct rule *r, size_t deflen, const char *deftmpl,
			       const struct trigger *t);

/* Whether a command template (NUL-separated words) uses %c. */
int sched_uses_client(const char *tmpl, size_t len);

/* Seconds until a node with interval= may start again, 0 if now. last_s is
 * the wall-clock second of its last start (0: none). A last_s in the
 * future (the clock was stepped back) is taken as now, and *clamped set:
 * the node then waits one interval, not the whole jump. */
long long sched_interval_wait(long long last_s, long long now_s, long interval_s, int *clamped);

/* -- after a run ------------------------------------------------------- */

enum sched_next {
	SCHED_DONE,    /* success: remove the trigger */
	SCHED_RELEASE, /* back to new/ for the next pass (-1, or stopping) */
	SCHED_RETRY,   /* run again after sched_backoff_ms() */
	SCHED_GIVEUP,  /* out of attempts: remove, with a log line */
	SCHED_NOEXEC,  /* the command could not be executed: retrying cannot help */
};

struct sched_run {
	int spawned;     /* 0: fork or pipe failed, nothing ran */
	int exec_failed; /* the child could not execute the command */
	int status;      /* the wait status of the command's leader */
	int attempt;     /* 1 for the first run */
};

enum sched_next sched_after_run(const struct sched_run *run, int attempts, int once, int stopping);

/* The wait before the run after failed attempt number attempt (1, 2, ...):
 * backoff_s, doubled for each attempt after the first, at most
 * RUN_BACKOFF_MAX_S. In milliseconds. */
long long sched_backoff_ms(long backoff_s, int attempt);

/* -- rescans ----------------------------------------------------------- */

struct sched_scan {
	long long last_ms;     /* when the last scan began (0: never) */
	long long cost_ms;     /* how long it took */
	long long periodic_ms; /* when the -r rescan is due */
	long long wake_ms;     /* a node's interval= ends (0: none) */
	int asked;             /* a FIFO wake-up or a newer trigger: rate-limited */
	int now;               /* SIGHUP or start: at once */
};

/* The monotonic millisecond at which the next scan may begin. */
long long sched_scan_at(const struct sched_scan *s);

#endif
