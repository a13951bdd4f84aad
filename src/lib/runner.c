/* SPDX-License-Identifier: ISC */
/* runner.c: see runner.h. Time is CLOCK_MONOTONIC milliseconds, except
 * interval= stamps, which are wall-clock seconds so they survive restarts. */
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

#include "child.h"
#include "log.h"
#include "netio.h"
#include "runargv.h"

static volatile sig_atomic_t got_term, got_hup, got_chld;
static int sig_write_fd = -1;

void runner_signal(int sig)
{
	int saved = errno;
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	if (sig_write_fd >= 0)
		(void)!write(sig_write_fd, "", 1);
	errno = saved;
}

int runner_init(struct runner *r, const struct runner_cfg *cfg, char *err, size_t errsize)
{
	memset(r, 0, sizeof *r);
	r->cfg = *cfg;
	policy_init(&r->pol, cfg->cdb);
	r->scan_needed = 1;
	return runq_open(&r->q, cfg->queuedir, err, errsize);
}

void runner_free(struct runner *r)
{
	runq_free_names(r->pending, r->npending);
	r->pending = NULL;
	free(r->jobs);
	policy_close(&r->pol);
	runq_close(&r->q);
}

static struct job *find_job(struct runner *r, const char *name)
{
	for (size_t i = 0; i < r->njobs; i++)
		if (strcmp(r->jobs[i].name, name) == 0)
			return &r->jobs[i];
	return NULL;
}

static struct job *new_job(struct runner *r, const char *name)
{
	if (r->njobs == r->capjobs) {
		size_t cap = r->capjobs ? r->capjobs * 2 : 16;
		struct job *j = realloc(r->jobs, cap * sizeof *j);
		if (!j)
			return NULL;
		r->jobs = j;
		r->capjobs = cap;
	}
	struct job *j = &r->jobs[r->njobs++];
	memset(j, 0, sizeof *j);
	snprintf(j->name, sizeof j->name, "%s", name);
	j->outfd = -1;
	j->attempt = 1;
	return j;
}

static void drop_job(struct runner *r, struct job *j)
{
	if (j->outfd >= 0)
		close(j->outfd);
	*j = r->jobs[--r->njobs];
}

static void log_node(const char *event, const char *node, const char *key, const char *value)
{
	struct logline l;
	ll_start(&l, event);
	ll_str(&l, "node", node);
	if (key)
		ll_str(&l, key, value);
	ll_emit(&l);
}

/* Flushes one captured output line into the log, within the line budget. */
static void output_line(struct job *j)
{
	if (j->linelen == 0)
		return;
	if (j->lines < RUN_OUTPUT_LINES) {
		struct logline l;
		ll_start(&l, "output");
		ll_str(&l, "node", j->t.node);
		ll_mem(&l, "text", j->line, j->linelen);
		ll_emit(&l);
		j->lines++;
	} else {
		j->dropped += (long)j->linelen;
	}
	j->linelen = 0;
}

/* Reads what the command wrote. At the end (final) the pipe is closed
 * even if a grandchild still holds it open. */
static void read_output(struct job *j, int final)
{
	char buf[4096];
	ssize_t n;

	while (j->outfd >= 0 && (n = read(j->outfd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !final)
				return;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || j->linelen == sizeof j->line)
				output_line(j);
			if (buf[i] != '\n')
				j->line[j->linelen++] = buf[i];
		}
	}
	output_line(j);
	if (j->outfd >= 0)
		close(j->outfd);
	j->outfd = -1;
}

/* What a run needs from the node's rule, looked up afresh each time. */
struct plan {
	struct rule rule;
	long timeout_s, interval_s;
};

/* 1 ok, 0 the trigger is to be dropped (no rule, deny=, no command), -1
 * try again later (the cdb cannot be read). */
static int prepare(struct runner *r, struct job *j, struct plan *p)
{
	struct node n;

	if (node_parse(&n, j->t.node, strlen(j->t.node), 0) < 0)
		return 0;
	policy_refresh(&r->pol);
	int rc = policy_lookup(&r->pol, &n, j->rule, &p->rule);
	if (rc < 0) {
		log_node("defer", j->t.node, "reason", "cdb-error");
		return -1;
	}
	const char *why = rc == 0 ? "no-rule" : p->rule.deny[0] ? "denied" : NULL;
	if (!why && !p->rule.run.n && !r->cfg.deflen)
		why = "no-command";
	if (why) {
		log_node("drop", j->t.node, "reason", why);
		return 0;
	}
	p->timeout_s = p->rule.timeout > 0 ? p->rule.timeout : r->cfg.timeout_s;
	p->interval_s = p->rule.interval > 0 ? p->rule.interval : 0;
	return 1;
}

/* The argv for this run, from the rule's run= or the default command. */
static int build(struct runner *r, struct job *j, const struct plan *p, struct runargv *a)
{
	const char *tmpl = p->rule.run.n ? p->rule.run.buf : r->cfg.deftmpl;
	size_t tlen = p->rule.run.n ? p->rule.run.len : r->cfg.deflen;

	if (runargv_expand(a, tmpl, tlen, j->t.node, j->rule, j->t.client) < 0) {
		log_node("drop", j->t.node, "reason", "command-too-long");
		return -1;
	}
	snprintf(j->argv0, sizeof j->argv0, "%s", a->argv[0]);
	return 0;
}

/* Returns -1 when the job was dropped instead (its slot is reused). */
static int start(struct runner *r, struct job *j, const struct plan *p)
{
	long long now = netio_now_ms();
	struct runargv a;

	if (build(r, j, p, &a) < 0) {
		runq_done(&r->q, j->name);
		drop_job(r, j);
		return -1;
	}
	runq_stamp(&r->q, j->name);
	j->start_ms = now;
	j->kill_ms = now + p->timeout_s * 1000;
	j->term_sent = 0;
	j->lines = 0;
	j->dropped = 0;
	j->linelen = 0;
	j->pid = child_spawn(a.argv, j->t.node, j->rule, j->t.client, &j->outfd);
	r->running++;
	r->runs++;
	if (j->pid < 0) {
		j->pid = -1; /* reaped below as a failure */
		log_node("error", j->t.node, "reason", "fork failed");
	}
	return 0;
}

static void log_run(const struct job *j, int status)
{
	struct logline l;
	char st[32];

	if (status < 0)
		snprintf(st, sizeof st, "spawn-failed");
	else if (WIFEXITED(status))
		snprintf(st, sizeof st, "exit:%d", WEXITSTATUS(status));
	else
		snprintf(st, sizeof st, "signal:%d", WTERMSIG(status));
	ll_start(&l, "run");
	ll_str(&l, "node", j->t.node);
	ll_str(&l, "rule", j->rule);
	ll_str(&l, "cmd", j->argv0);
	ll_str(&l, "status", st);
	ll_num(&l, "ms", (long)(netio_now_ms() - j->start_ms));
	ll_num(&l, "attempt", j->attempt);
	if (j->term_sent)
		ll_str(&l, "killed", "timeout");
	if (j->dropped)
		ll_num(&l, "output_dropped", j->dropped);
	ll_emit(&l);
}

static void finished(struct runner *r, struct job *j, int status)
{
	read_output(j, 1);
	log_run(j, status);
	r->running--;
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		runq_done(&r->q, j->name);
	} else if (r->cfg.once || r->stopping) {
		r->failures++;
		runq_release(&r->q, j->name); /* the next pass tries again */
	} else if (j->attempt >= r->cfg.attempts) {
		r->failures++;
		struct logline l;
		ll_start(&l, "giveup");
		ll_str(&l, "node", j->t.node);
		ll_num(&l, "attempts", j->attempt);
		ll_emit(&l);
		runq_done(&r->q, j->name);
	} else {
		long long delay = (long long)r->cfg.backoff_s * 1000 << (j->attempt - 1);
		j->next_ms = netio_now_ms() + delay;
		j->attempt++;
		j->pid = 0;
		if (runq_pending(&r->q, j->name))
			r->scan_needed = 1;
		return;
	}
	if (runq_pending(&r->q, j->name))
		r->scan_needed = 1; /* an ETRN came in while it ran */
	drop_job(r, j);
}

static void reap(struct runner *r)
{
	int status;
	pid_t pid;

	got_chld = 0;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (size_t i = 0; i < r->njobs; i++)
			if (r->jobs[i].pid == pid) {
				finished(r, &r->jobs[i], status);
				break;
			}
	for (size_t i = 0; i < r->njobs; i++)
		if (r->jobs[i].pid < 0) { /* fork failed */
			finished(r, &r->jobs[i], -1);
			i--;
		}
}

/* Reads and checks cur/NAME after a claim; on failure it goes to bad/. */
static int load(struct runner *r, struct job *j, const char *node)
{
	char buf[TRIGGER_FILE_MAX + 1];
	const char *why = "unreadable";
	size_t len;

	if (runq_read(&r->q, j->name, buf, sizeof buf, &len) == 0 &&
	    trigger_parse(buf, len, &j->t, &why) == 0) {
		if (j->t.lost)
			snprintf(j->t.node, sizeof j->t.node, "%s", node);
		if (strcmp(j->t.node, node) == 0)
			return 0;
		why = "node does not match the file name";
	}
	struct logline l;
	ll_start(&l, "bad");
	ll_str(&l, "file", j->name);
	ll_str(&l, "reason", why);
	ll_emit(&l);
	runq_bad(&r->q, j->name, 1);
	return -1;
}

/* Not before the node's interval= has passed since its last start. */
static int too_early(struct runner *r, const char *name, long interval_s)
{
	if (interval_s <= 0)
		return 0;
	long long last = runq_last(&r->q, name), now = (long long)time(NULL);
	if (last == 0 || now >= last + interval_s)
		return 0;
	long long at = netio_now_ms() + (last + interval_s - now) * 1000;
	if (r->wake_ms == 0 || at < r->wake_ms)
		r->wake_ms = at;
	return 1;
}

/* Claims and starts new/NAME. */
static void take(struct runner *r, const char *name)
{
	char node[NODE_BUF];
	struct plan p;

	if (trigger_unname(name, node, sizeof node) < 0) {
		log_node("bad", "-", "file", name);
		runq_bad(&r->q, name, 0);
		return;
	}
	if (find_job(r, name))
		return; /* one run per node: it waits in new/ */
	struct job *j = new_job(r, name);
	if (!j)
		return;
	snprintf(j->t.node, sizeof j->t.node, "%s", node);
	int rc = prepare(r, j, &p);
	if (rc < 0 || (rc > 0 && too_early(r, name, p.interval_s))) {
		drop_job(r, j); /* stays in new/ for later */
		return;
	}
	int claimed = runq_claim(&r->q, name);
	if (claimed != 0 || load(r, j, node) < 0) {
		drop_job(r, j);
		return;
	}
	if (rc == 0) {
		runq_done(&r->q, name);
		drop_job(r, j);
		return;
	}
	start(r, j, &p);
}

static void rescan(struct runner *r)
{
	runq_free_names(r->pending, r->npending);
	r->pending = runq_scan(&r->q, &r->npending);
	if (!r->pending) {
		r->npending = 0;
		log_msg("error", "reason", "unable to read QUEUEDIR/new");
	}
	r->ipending = 0;
	r->scan_needed = 0;
	r->wake_ms = 0;
	r->next_scan_ms = netio_now_ms() + r->cfg.rescan_s * 1000;
}

/* Jobs waiting to retry whose time has come. */
static void retries(struct runner *r, long long now)
{
	struct plan p;

	for (size_t i = 0; i < r->njobs && r->running < r->cfg.jobs; i++) {
		struct job *j = &r->jobs[i];
		if (j->pid != 0 || now < j->next_ms)
			continue;
		int rc = prepare(r, j, &p);
		if (rc < 0) {
			j->next_ms = now + r->cfg.rescan_s * 1000;
			continue;
		}
		runq_claim(&r->q, j->name); /* a newer trigger joins this retry */
		if (rc == 0) {
			runq_done(&r->q, j->name);
			drop_job(r, j);
			i--;
			continue;
		}
		if (start(r, j, &p) < 0)
			i--;
	}
}

static void schedule(struct runner *r)
{
	long long now = netio_now_ms();

	if (r->cfg.once
		? r->pending == NULL
		: r->scan_needed || now >= r->next_scan_ms || (r->wake_ms && now >= r->wake_ms))
		rescan(r); /* -1 scans once: a flood cannot keep a cron pass alive */
	retries(r, now);
	while (r->ipending < r->npending && r->running < r->cfg.jobs)
		take(r, r->pending[r->ipending++]);
}

/* Timeouts: SIGTERM to the process group, SIGKILL after the grace. */
static void enforce(struct runner *r, long long now)
{
	for (size_t i = 0; i < r->njobs; i++) {
		struct job *j = &r->jobs[i];
		if (j->pid <= 0 || now < j->kill_ms)
			continue;
		child_signal(j->pid, j->term_sent ? SIGKILL : SIGTERM);
		if (!j->term_sent)
			log_node("timeout", j->t.node, "cmd", j->argv0);
		j->term_sent = 1;
		j->kill_ms = now + RUN_KILL_GRACE_MS;
	}
}

static int finished_all(const struct runner *r)
{
	if (r->stopping)
		return r->running == 0;
	if (r->cfg.once)
		return r->pending && r->running == 0 && r->ipending >= r->npending;
	return 0;
}

static long long earliest(const struct runner *r, long long now)
{
	long long t = r->cfg.once ? now + 1000 : r->next_scan_ms;
	if (r->wake_ms && r->wake_ms < t)
		t = r->wake_ms;
	if (r->stopping && r->stop_ms < t)
		t = r->stop_ms;
	for (size_t i = 0; i < r->njobs; i++) {
		const struct job *j = &r->jobs[i];
		long long at = j->pid > 0 ? j->kill_ms : j->next_ms;
		if (at < t)
			t = at;
	}
	return t;
}

static void wait_events(struct runner *r, int sigfd, long long now)
{
	struct pollfd *p = calloc(r->njobs + 2, sizeof *p);
	size_t n = 0;
	if (!p) {
		usleep(100000);
		return;
	}
	p[n++] = (struct pollfd){sigfd, POLLIN, 0};
	p[n++] = (struct pollfd){r->q.fifo_rd, POLLIN, 0};
	for (size_t i = 0; i < r->njobs; i++)
		p[n++] = (struct pollfd){r->jobs[i].outfd, POLLIN, 0}; /* -1 is ignored */
	long long wait = earliest(r, now) - now;
	if (wait < 0)
		wait = 0;
	if (wait > 60000)
		wait = 60000;
	if (poll(p, n, (int)wait) > 0) {
		if (p[0].revents) {
			char buf[64];
			while (read(sigfd, buf, sizeof buf) > 0)
				;
		}
		if (p[1].revents) {
			runq_drain(&r->q);
			r->scan_needed = 1;
		}
		for (size_t i = 0; i < r->njobs; i++)
			if (p[i + 2].revents && r->jobs[i].outfd == p[i + 2].fd)
				read_output(&r->jobs[i], 0);
	}
	free(p);
}

static void begin_stop(struct runner *r, long long now)
{
	r->stopping = 1;
	r->stop_ms = now + RUNNER_STOP_WAIT_MS;
	log_msg("stopping", "running", r->running ? "yes" : "no");
}

int runner_loop(struct runner *r, int sigfd)
{
	int recovered = runq_recover(&r->q);
	if (recovered > 0) {
		struct logline l;
		ll_start(&l, "recovered");
		ll_num(&l, "triggers", recovered);
		ll_emit(&l);
	}
	while (!finished_all(r)) {
		long long now = netio_now_ms();
		if (got_term && !r->stopping)
			begin_stop(r, now);
		if (got_hup) {
			got_hup = 0;
			r->scan_needed = 1;
		}
		reap(r);
		if (!r->stopping)
			schedule(r);
		else if (now >= r->stop_ms)
			for (size_t i = 0; i < r->njobs; i++)
				if (r->jobs[i].pid > 0 && r->jobs[i].kill_ms > now)
					r->jobs[i].kill_ms = now; /* out of patience */
		enforce(r, now);
		if (finished_all(r))
			break;
		wait_events(r, sigfd, now);
	}
	return r->cfg.once && r->failures ? 1 : 0;
}

void runner_set_sigfd(int fd)
{
	sig_write_fd = fd;
}
