/* SPDX-License-Identifier: ISC */
/* runner.c: see runner.h: the poll loop and the glue between the queue
 * (runq.c), the decisions (schedule.c) and the processes (child.c). Time is
 * CLOCK_MONOTONIC milliseconds, except interval= stamps, which are
 * wall-clock seconds so that they survive restarts. */
#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exits.h"
#include "log.h"
#include "netio.h"
#include "runargv.h"

static volatile sig_atomic_t got_term, got_hup;
static int sig_write_fd = -1;

void runner_signal(int sig)
{
	int saved = errno;
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	if (sig_write_fd >= 0)
		(void)!write(sig_write_fd, "", 1);
	errno = saved;
}

void runner_set_sigfd(int fd)
{
	sig_write_fd = fd;
}

int runner_init(struct runner *r, const struct runner_cfg *cfg, char *err, size_t errsize)
{
	memset(r, 0, sizeof *r);
	r->cfg = *cfg;
	policy_init(&r->pol, cfg->cdb);
	r->scan.now = 1;
	return runq_open(&r->q, cfg->queuedir, err, errsize);
}

void runner_free(struct runner *r)
{
	runq_free_names(r->pending, r->npending);
	r->pending = NULL;
	for (size_t i = 0; i < r->njobs; i++) {
		child_close(&r->jobs[i]->c);
		free(r->jobs[i]);
	}
	free(r->jobs);
	policy_close(&r->pol);
	runq_close(&r->q);
}

/* -- log lines ----------------------------------------------------------- */

static void log_node(const char *event, const char *node, const char *key, const char *value)
{
	struct logline l;
	ll_start(&l, event);
	ll_str(&l, "node", node);
	if (key)
		ll_str(&l, key, value);
	ll_emit(&l);
}

/* A queue operation that failed, with its errno. */
static void log_fs(const char *op, const char *name, int err)
{
	struct logline l;
	ll_start(&l, "error");
	ll_str(&l, "op", op);
	ll_str(&l, "file", name);
	ll_str(&l, "error", strerror(err));
	ll_emit(&l);
}

/* A directory of the queue that could not be listed. */
static void log_unreadable(const char *what, int err)
{
	struct logline l;
	ll_start(&l, "error");
	ll_str(&l, "reason", what);
	ll_str(&l, "error", strerror(err));
	ll_emit(&l);
}

static void log_file(const char *event, const char *name, const char *key, const char *value)
{
	struct logline l;
	ll_start(&l, event);
	ll_str(&l, "file", name);
	ll_str(&l, key, value);
	ll_emit(&l);
}

/* -- jobs ---------------------------------------------------------------- */

static struct job *find_job(struct runner *r, const char *name)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (strcmp(r->jobs[i]->name, name) == 0)
			return r->jobs[i];
	return NULL;
}

static struct job *new_job(struct runner *r, const char *name, const char *node)
{
	if (r->njobs == r->capjobs) {
		size_t cap = r->capjobs ? r->capjobs * 2 : 16;
		/* an array of pointers: a job never moves while it is used */
		struct job **more =
		    realloc(r->jobs, cap * sizeof *more); // NOLINT(bugprone-sizeof-expression)
		if (!more)
			return NULL;
		r->jobs = more;
		r->capjobs = cap;
	}
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	snprintf(j->name, sizeof j->name, "%s", name);
	snprintf(j->t.node, sizeof j->t.node, "%s", node);
	j->c.outfd = j->c.errfd = -1;
	j->attempt = 1;
	r->jobs[r->njobs++] = j;
	return j;
}

static void drop_job(struct runner *r, struct job *j)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i] == j) {
			r->jobs[i] = r->jobs[--r->njobs];
			break;
		}
	child_close(&j->c);
	free(j);
}

/* -- the trigger's file -------------------------------------------------- */

/* Removes the claimed trigger (its run is over, or the rule says no). */
static void done(struct runner *r, struct job *j)
{
	if (runq_done(&r->q, j->name) < 0)
		log_fs("remove", j->name, errno);
}

/* cur/NAME back to new/, for a later run. */
static void release(struct runner *r, const char *name)
{
	if (runq_release(&r->q, name) < 0)
		log_fs("release", name, errno);
}

/* Into bad/ with a log line: never run. Here and for drop and giveup
 * the line follows the move, so that a line read means the file is gone
 * (or an error line came first). */
static void refuse(struct runner *r, enum queue_part from, const char *name, const char *why)
{
	if (runq_bad(&r->q, from, name) < 0)
		log_fs("refuse", name, errno);
	log_file("bad", name, "reason", why);
}

/* Reads and checks cur/NAME after a claim. 0 ok; -1 the job is gone (the
 * trigger refused, or kept in new/ after an error that may pass). */
static int load(struct runner *r, struct job *j)
{
	char buf[TRIGGER_FILE_MAX + 1];
	char node[NODE_BUF];
	const char *why = NULL;
	size_t len;

	snprintf(node, sizeof node, "%s", j->t.node);
	int rc = runq_read(&r->q, j->name, buf, sizeof buf, &len, &why);
	if (rc == RUNQ_TRANSIENT) {
		log_fs("read", j->name, errno);
		r->failures++;
		release(r, j->name);
		drop_job(r, j);
		return -1;
	}
	if (rc == 0 && trigger_parse(buf, len, &j->t, &why) == 0) {
		if (j->t.lost)
			snprintf(j->t.node, sizeof j->t.node, "%s", node);
		if (strcmp(j->t.node, node) == 0)
			return 0;
		why = "node does not match the file name";
	}
	refuse(r, Q_CUR, j->name, why);
	drop_job(r, j);
	return -1;
}

/* -- interval= ----------------------------------------------------------- */

static void stamp(struct runner *r, const char *name)
{
	if (runq_stamp(&r->q, name, (long long)time(NULL)) < 0)
		log_fs("stamp", name, errno); /* the interval holds from memory */
}

/* Not before the node's interval= has passed since its last start. */
static int too_early(struct runner *r, const char *name, const char *node, long interval_s)
{
	long long now_s = (long long)time(NULL), last = runq_last(&r->q, name);
	int clamped;
	long long wait = sched_interval_wait(last, now_s, interval_s, &clamped);

	if (clamped) {
		struct logline l;
		ll_start(&l, "clock");
		ll_str(&l, "node", node);
		ll_str(&l, "reason", "last start in the future: counted from now");
		ll_num(&l, "ahead", (long)(last - now_s));
		ll_emit(&l);
		stamp(r, name);
	}
	if (wait == 0)
		return 0;
	long long at = netio_now_ms() + wait * 1000;
	if (r->scan.wake_ms == 0 || at < r->scan.wake_ms)
		r->scan.wake_ms = at;
	return 1;
}

/* -- starting a run ------------------------------------------------------ */

/* What a run needs from the node's rule, looked up afresh each time. */
struct plan {
	int found;
	struct rule rule;
	long timeout_s, interval_s;
};

/* 0, or -1: the cdb cannot be read, try again later. */
static int lookup(struct runner *r, struct job *j, struct plan *p)
{
	struct node n;

	p->found = 0;
	rule_init(&p->rule);
	if (node_parse(&n, j->t.node, strlen(j->t.node), 0) < 0)
		return 0; /* trigger_unname() let only valid nodes through */
	policy_refresh(&r->pol);
	int rc = policy_lookup(&r->pol, &n, j->rule, &p->rule);
	if (rc < 0) {
		log_node("defer", j->t.node, "reason", "cdb-error");
		r->failures++;
		return -1;
	}
	p->found = rc;
	p->timeout_s = rc && p->rule.timeout > 0 ? p->rule.timeout : r->cfg.timeout_s;
	p->interval_s = rc && p->rule.interval > 0 ? p->rule.interval : 0;
	return 0;
}

/* The rule's verdict on the loaded trigger. 0 run it; -1 the job is gone
 * (dropped, or refused into bad/). */
static int vet(struct runner *r, struct job *j, const struct plan *p)
{
	struct sched_check c =
	    sched_check(p->found, &p->rule, r->cfg.deflen, r->cfg.deftmpl, &j->t);

	if (c.verdict == SCHED_RUN)
		return 0;
	if (c.verdict == SCHED_DROP) {
		done(r, j);
		log_node("drop", j->t.node, "reason", c.reason);
	} else {
		refuse(r, Q_CUR, j->name, c.reason);
	}
	drop_job(r, j);
	return -1;
}

/* The argv for this run, from the rule's run= or the default command. */
static int build(struct runner *r, struct job *j, const struct plan *p, struct runargv *a)
{
	const char *tmpl = p->rule.run.n ? p->rule.run.buf : r->cfg.deftmpl;
	size_t tlen = p->rule.run.n ? p->rule.run.len : r->cfg.deflen;

	if (runargv_expand(a, tmpl, tlen, j->t.node, j->rule, j->t.client) < 0)
		return -1;
	snprintf(j->argv0, sizeof j->argv0, "%s", a->argv[0]);
	return 0;
}

static void finish(struct runner *r, struct job *j);

/* The node's lock is held by a command this runner did not start (one a
 * killed runner left behind): wait for it, saying so once. */
static void locked(struct runner *r, struct job *j)
{
	if (!j->lock_logged)
		log_node("wait", j->t.node, "reason", "locked");
	j->lock_logged = 1;
	if (r->cfg.once) { /* the next pass tries again */
		release(r, j->name);
		drop_job(r, j);
		return;
	}
	j->state = JOB_WAITING;
	j->next_ms = netio_now_ms() + RUN_LOCK_POLL_MS;
}

/* lockfd becomes the command's stdin; -1 (the lock could not be opened)
 * makes this a failed start, retried like a failed run. */
static void spawn(struct runner *r, struct job *j, char *const argv[], int lockfd)
{
	struct child_env env = {j->t.node, j->rule, j->t.client};

	j->state = JOB_RUNNING;
	j->start_ms = netio_now_ms();
	j->term_sent = j->kill_sent = 0;
	r->running++;
	r->runs++;
	j->spawned = lockfd >= 0 && child_spawn(&j->c, argv, &env, lockfd) == 0;
	int e = errno;
	if (lockfd >= 0)
		close(lockfd); /* the command holds the lock now */
	if (!j->spawned) {
		log_node("error", j->t.node, "reason", strerror(e));
		finish(r, j);
	}
}

static void launch(struct runner *r, struct job *j, const struct plan *p)
{
	struct runargv a;

	if (build(r, j, p, &a) < 0) {
		done(r, j);
		log_node("drop", j->t.node, "reason", "command-too-long");
		drop_job(r, j);
		return;
	}
	int lockfd = runq_lock(&r->q, j->name);
	if (lockfd < 0 && errno == EWOULDBLOCK) {
		locked(r, j);
		return;
	}
	if (lockfd < 0)
		log_fs("lock", j->name, errno);
	stamp(r, j->name);
	j->kill_ms = netio_now_ms() + p->timeout_s * 1000;
	spawn(r, j, a.argv, lockfd);
}

/* -- taking triggers from new/ ------------------------------------------- */

/* new/NAME as a name etrnd writes, and a regular file: 0, or -1 (refused
 * into bad/, gone, or a name of before 0.2 that could not be renamed). */
static int valid_name(struct runner *r, const char *name, char *node)
{
	int kind = trigger_unname(name, node, NODE_BUF);
	int reg = kind < 0 ? 0 : runq_regular(&r->q, name);

	if (kind < 0 || reg < 0)
		refuse(r, Q_NEW, name, kind < 0 ? "not a trigger name" : "not a regular file");
	return kind == 0 && reg == 1 ? 0 : -1;
}

/* Claims new/NAME into a job; -1 when it could not (the job is gone). */
static int claim(struct runner *r, struct job *j)
{
	int rc = runq_claim(&r->q, j->name);

	if (rc < 0) {
		log_fs("claim", j->name, errno);
		r->failures++;
	}
	if (rc != 0) {
		drop_job(r, j);
		return -1;
	}
	return load(r, j);
}

static void take(struct runner *r, const char *name)
{
	char node[NODE_BUF];
	struct plan p;

	if (valid_name(r, name, node) < 0 || find_job(r, name))
		return; /* one run per node: a trigger for a busy node waits in new/ */
	struct job *j = new_job(r, name, node);
	if (!j)
		return;
	if (lookup(r, j, &p) < 0 || (p.found && too_early(r, name, node, p.interval_s))) {
		drop_job(r, j); /* stays in new/ for later */
		return;
	}
	if (claim(r, j) < 0 || vet(r, j, &p) < 0)
		return;
	launch(r, j, &p);
}

/* -- after a run --------------------------------------------------------- */

static void log_run(const struct job *j)
{
	struct logline l;
	char st[32];

	if (!j->spawned)
		snprintf(st, sizeof st, "spawn-failed");
	else if (j->c.exec_errno)
		snprintf(st, sizeof st, "exec-failed");
	else if (WIFEXITED(j->status))
		snprintf(st, sizeof st, "exit:%d", WEXITSTATUS(j->status));
	else
		snprintf(st, sizeof st, "signal:%d", WTERMSIG(j->status));
	ll_start(&l, "run");
	ll_str(&l, "node", j->t.node);
	ll_str(&l, "rule", j->rule);
	ll_str(&l, "cmd", j->argv0);
	ll_str(&l, "status", st);
	if (j->spawned && j->c.exec_errno)
		ll_str(&l, "error", strerror(j->c.exec_errno));
	ll_num(&l, "ms", (long)(netio_now_ms() - j->start_ms));
	ll_num(&l, "attempt", j->attempt);
	if (j->term_sent)
		ll_str(&l, "killed", "timeout");
	if (j->c.dropped)
		ll_num(&l, "output_dropped", j->c.dropped);
	ll_emit(&l);
}

static void retry_later(struct runner *r, struct job *j)
{
	long long delay = sched_backoff_ms(r->cfg.backoff_s, j->attempt);
	struct logline l;

	j->state = JOB_WAITING;
	j->next_ms = netio_now_ms() + delay;
	j->attempt++;
	ll_start(&l, "retry");
	ll_str(&l, "node", j->t.node);
	ll_num(&l, "attempt", j->attempt);
	ll_num(&l, "delay", (long)(delay / 1000));
	ll_emit(&l);
}

static void log_giveup(const struct job *j)
{
	struct logline l;
	ll_start(&l, "giveup");
	ll_str(&l, "node", j->t.node);
	ll_num(&l, "attempts", j->attempt);
	ll_emit(&l);
}

/* The run is over, its whole process group gone: what next (schedule.c). */
static void finish(struct runner *r, struct job *j)
{
	struct sched_run run = {j->spawned, j->c.exec_errno != 0, j->status, j->attempt};
	enum sched_next next = sched_after_run(&run, r->cfg.attempts, r->cfg.once, r->stopping);

	child_read(&j->c, j->t.node, 1);
	child_close(&j->c);
	log_run(j);
	r->running--;
	if (next != SCHED_DONE)
		r->failures++;
	if (runq_pending(&r->q, j->name))
		r->scan.asked = 1; /* an ETRN came in while it ran */
	if (next == SCHED_RETRY) {
		retry_later(r, j);
		return;
	}
	if (next == SCHED_RELEASE)
		release(r, j->name);
	else
		done(r, j);
	/* after the removal, as refuse() logs */
	if (next == SCHED_NOEXEC)
		log_node("drop", j->t.node, "reason", "exec-failed");
	if (next == SCHED_GIVEUP)
		log_giveup(j);
	drop_job(r, j);
}

static struct job *job_of_pid(struct runner *r, pid_t pid)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i]->state == JOB_RUNNING && r->jobs[i]->c.pid == pid)
			return r->jobs[i];
	return NULL;
}

static void reap(struct runner *r)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct job *j = job_of_pid(r, pid);
		if (!j)
			continue;
		child_reaped(&j->c);
		j->status = status;
		j->state = JOB_DRAINING;
	}
}

/* A run ends when its whole process group is gone, not when its leader
 * exits: a member that outlives it (a shell's background job, which does
 * not even keep the lock on its stdin) is still the node's command. */
static void drain(struct runner *r)
{
	for (size_t i = 0; i < r->njobs; i++) {
		struct job *j = r->jobs[i];
		if (j->state != JOB_DRAINING)
			continue;
		child_read(&j->c, j->t.node, 0);
		if (child_group_alive(&j->c))
			continue;
		finish(r, j);
		i = (size_t)-1; /* finish() reorders the jobs */
	}
}

/* -- scheduling ---------------------------------------------------------- */

/* Names etrnd wrote before 0.2 ("%40domain") get the one current name
 * before anything runs, so that both names of a node make one run. */
static void canonical_names(struct runner *r)
{
	char node[NODE_BUF], name[TRIGGER_NAME_MAX];

	for (size_t i = 0; i < r->npending; i++) {
		char *old = r->pending[i], *copy;
		if (trigger_unname(old, node, sizeof node) != 1 ||
		    !trigger_name(node, name, sizeof name))
			continue;
		if (runq_rename(&r->q, old, name) < 0) {
			log_fs("rename", old, errno);
			continue;
		}
		log_file("renamed", old, "to", name);
		if ((copy = strdup(name)) != NULL) {
			r->pending[i] = copy;
			free(old);
		}
	}
}

static void rescan(struct runner *r, long long now)
{
	int periodic = now >= r->scan.periodic_ms;

	runq_free_names(r->pending, r->npending);
	runq_drain(&r->q);
	r->pending = runq_list(&r->q, Q_NEW, &r->npending);
	if (!r->pending && !r->scan_failing) /* said once until a scan works again */
		log_unreadable("unable to read QUEUEDIR/new", errno);
	r->scan_failing = !r->pending;
	if (!r->pending) {
		r->npending = 0;
		r->fatal = r->cfg.once;
	}
	canonical_names(r);
	if (periodic) {
		int n = runq_clean_tmp(&r->q, (long long)time(NULL), QUEUE_TMP_MAX_AGE);
		if (n > 0) {
			struct logline l;
			ll_start(&l, "cleaned");
			ll_num(&l, "tmp_files", n);
			ll_emit(&l);
		}
	}
	r->ipending = 0;
	r->scanned = 1;
	r->scan = (struct sched_scan){.last_ms = now, .periodic_ms = now + r->cfg.rescan_s * 1000};
}

/* Jobs waiting to retry, or for their node's lock, whose time has come. */
static void retries(struct runner *r, long long now)
{
	struct plan p;

	for (size_t i = 0; i < r->njobs && r->running < r->cfg.jobs; i++) {
		struct job *j = r->jobs[i];
		if (j->state != JOB_WAITING || now < j->next_ms)
			continue;
		if (lookup(r, j, &p) < 0) {
			j->next_ms = now + r->cfg.rescan_s * 1000;
			continue;
		}
		if (runq_claim(&r->q, j->name) < 0) /* a newer trigger joins this retry */
			log_fs("claim", j->name, errno);
		i = (size_t)-1; /* vet() and launch() may reorder the jobs */
		if (vet(r, j, &p) == 0)
			launch(r, j, &p);
	}
}

static void schedule(struct runner *r, long long now)
{
	int due = r->cfg.once ? !r->scanned : now >= sched_scan_at(&r->scan);

	if (due)
		rescan(r, now);
	retries(r, now);
	while (r->ipending < r->npending && r->running < r->cfg.jobs && !r->fatal)
		take(r, r->pending[r->ipending++]);
	if (due)
		r->scan.cost_ms = netio_now_ms() - now;
}

/* Timeouts: SIGTERM to the process group, then SIGKILL to the whole group
 * RUN_KILL_GRACE_MS later, whether or not its leader has exited. */
static void enforce(struct runner *r, long long now)
{
	for (size_t i = 0; i < r->njobs; i++) {
		struct job *j = r->jobs[i];
		if (j->state == JOB_WAITING || j->kill_sent || now < j->kill_ms)
			continue;
		if (j->term_sent) {
			child_signal(&j->c, SIGKILL);
			j->kill_sent = 1;
			continue;
		}
		child_signal(&j->c, SIGTERM);
		log_node("timeout", j->t.node, "cmd", j->argv0);
		j->term_sent = 1;
		j->kill_ms = now + RUN_KILL_GRACE_MS;
	}
}

/* -- the loop ------------------------------------------------------------ */

static int finished_all(const struct runner *r)
{
	if (r->fatal)
		return 1;
	if (r->stopping)
		return r->running == 0;
	if (r->cfg.once)
		return r->scanned && r->running == 0 && r->njobs == 0 && r->ipending >= r->npending;
	return 0;
}

static long long job_due(const struct job *j, long long now)
{
	if (j->state == JOB_WAITING)
		return j->next_ms;
	long long at = j->kill_sent ? now + RUN_DRAIN_POLL_MS : j->kill_ms;
	if (j->state == JOB_DRAINING && now + RUN_DRAIN_POLL_MS < at)
		at = now + RUN_DRAIN_POLL_MS;
	return at;
}

static long long earliest(const struct runner *r, long long now)
{
	long long t = r->cfg.once ? now + 1000 : sched_scan_at(&r->scan);

	if (r->stopping && r->stop_ms < t)
		t = r->stop_ms;
	for (size_t i = 0; i < r->njobs; i++) {
		long long at = job_due(r->jobs[i], now);
		if (at < t)
			t = at;
	}
	return t;
}

static void wait_events(struct runner *r, int sigfd, long long now)
{
	struct pollfd *p = calloc(r->njobs + 2, sizeof *p);
	long long wait = earliest(r, now) - now;

	if (!p) {
		usleep(100000);
		return;
	}
	p[0] = (struct pollfd){sigfd, POLLIN, 0};
	/* a rescan already asked for drains the FIFO when it runs */
	p[1] = (struct pollfd){r->scan.asked || r->cfg.once ? -1 : r->q.fifo_rd, POLLIN, 0};
	for (size_t i = 0; i < r->njobs; i++)
		p[i + 2] = (struct pollfd){r->jobs[i]->c.outfd, POLLIN, 0}; /* -1 is ignored */
	wait = wait < 0 ? 0 : wait > 60000 ? 60000 : wait;
	if (poll(p, r->njobs + 2, (int)wait) > 0) {
		char buf[64];
		while (p[0].revents && read(sigfd, buf, sizeof buf) > 0)
			;
		if (p[1].revents)
			r->scan.asked = 1;
		for (size_t i = 0; i < r->njobs; i++)
			if (p[i + 2].revents)
				child_read(&r->jobs[i]->c, r->jobs[i]->t.node, 0);
	}
	free(p);
}

static void begin_stop(struct runner *r, long long now)
{
	r->stopping = 1;
	r->stop_ms = now + RUNNER_STOP_WAIT_MS;
	log_msg("stopping", "running", r->running ? "yes" : "no");
}

/* Out of patience: the running commands get their timeout now. */
static void stop_now(struct runner *r, long long now)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i]->state != JOB_WAITING && !r->jobs[i]->term_sent &&
		    r->jobs[i]->kill_ms > now)
			r->jobs[i]->kill_ms = now;
}

/* After a crash: every claimed trigger goes back to new/ (a newer one there
 * stands for both); a node whose command still runs waits for its lock. */
static void recover(struct runner *r)
{
	size_t n;
	char **names = runq_list(&r->q, Q_CUR, &n);
	long moved = 0;

	if (!names) {
		log_unreadable("unable to read QUEUEDIR/cur", errno);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (runq_release(&r->q, names[i]) == 0)
			moved++;
		else
			log_fs("recover", names[i], errno);
	runq_free_names(names, n);
	if (moved > 0) {
		struct logline l;
		ll_start(&l, "recovered");
		ll_num(&l, "triggers", moved);
		ll_emit(&l);
	}
}

static int exit_status(const struct runner *r)
{
	if (r->fatal)
		return EXIT_TEMP;
	return r->cfg.once && r->failures ? 1 : 0;
}

int runner_loop(struct runner *r, int sigfd)
{
	recover(r);
	r->scan.periodic_ms = 0; /* the first scan cleans tmp/ too */
	while (!finished_all(r)) {
		long long now = netio_now_ms();
		if (got_term && !r->stopping)
			begin_stop(r, now);
		if (got_hup)
			got_hup = 0, r->scan.now = 1;
		reap(r);
		drain(r);
		if (!r->stopping)
			schedule(r, now);
		else if (now >= r->stop_ms)
			stop_now(r, now);
		enforce(r, now);
		if (finished_all(r))
			break;
		wait_events(r, sigfd, now);
	}
	return exit_status(r);
}
