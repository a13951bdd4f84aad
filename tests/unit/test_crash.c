/* SPDX-License-Identifier: ISC */
/* Issue 12's crash claim, proved by cutting the real bin/etrnd at every
 * system call of an ETRN. strace records the calls from the read() that
 * brings the ETRN to the write() of its reply; then, once per call, etrnd
 * runs again under "strace -e inject=CALL:signal=KILL:when=N", which kills
 * it as it enters that call (and once more at the first call after the
 * reply). After each cut:
 *   - a client that has its 2xx has a trigger for the node in new/;
 *   - new/ holds nothing half-written: no file, or the node's trigger whose
 *     content is complete and valid (a process that dies leaves the page
 *     cache as it was; only a power cut can leave the content empty, for
 *     rules without %c, whose content is not fsynced: that case is tested
 *     too, by putting the empty file there);
 *   - etrnd-runner -1 runs the node exactly once if a trigger is there,
 *     never otherwise.
 * The same traces show the fsyncs: one (new/, after the rename) for a new
 * trigger, two (the file, then new/) when the rule's command uses %c, none
 * and no write at all for a node that is pending already, which only
 * pokes the FIFO. Skipped without strace and under valgrind (it emulates
 * the calls the test cuts). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "trigger.h"

static char *dir, *cdb, *queue, *record, *runlog, *elog, *strace;
static int fifo_reader = -1;

static const char *helpers(void)
{
	return getenv("ETRND_HELPERS") ? getenv("ETRND_HELPERS") : "tests/helpers";
}

static void setup(void)
{
	const char *wrap = getenv("ETRND_WRAP");
	if (wrap && strstr(wrap, "valgrind"))
		cr_skip_test("skipped under valgrind: it emulates the system calls cut here");
	strace = tu_strace();
	if (!strace)
		cr_skip_test("skipped: no strace (apt-get install strace)");
	dir = tu_tmpdir();
	cdb = strdup(tu_path(dir, "etrn.cdb"));
	queue = strdup(tu_path(dir, "queue"));
	record = strdup(tu_path(dir, "record"));
	runlog = strdup(tu_path(dir, "runner.log"));
	elog = strdup(tu_path(dir, "etrnd.log"));
	char rules[8192];
	snprintf(rules, sizeof rules,
		 "crash.example run=\"%s/record %%n\"\n"
		 "crashc.example run=\"%s/record %%n %%c\"\n",
		 helpers(), helpers());
	cr_assert_eq(tu_rules(dir, rules, cdb), 0);
	setenv("RECORD", record, 1);
}

static void teardown(void)
{
	if (fifo_reader >= 0)
		close(fifo_reader);
	fifo_reader = -1;
	if (dir)
		tu_rmtree(dir);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

/* -- the queue ------------------------------------------------------------ */

static void put_trigger(const char *node, const char *content)
{
	char name[TRIGGER_NAME_MAX], path[4096];
	cr_assert(trigger_name(node, name, sizeof name));
	tu_write(tu_path(queue, "tmp/put"), content);
	snprintf(path, sizeof path, "%s/new/%s", queue, name);
	cr_assert_eq(rename(tu_path(queue, "tmp/put"), path), 0);
}

/* A fresh queue (pending: with that trigger in new/ already), its FIFO
 * held open by a reader, as a running runner holds it: etrnd's poke then
 * opens and writes it, two more calls to cut. */
static void fresh_queue(const char *node, const char *pending)
{
	if (fifo_reader >= 0)
		close(fifo_reader);
	tu_rmtree(queue);
	cr_assert_eq(strcmp(tu_queue(dir), queue), 0);
	cr_assert_eq(mkfifo(tu_path(queue, "trigger"), 0622), 0);
	fifo_reader = open(tu_path(queue, "trigger"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(fifo_reader, 0);
	if (pending)
		put_trigger(node, pending);
	unlink(record);
}

/* What new/ holds: 0 nothing, 1 the node's trigger with valid content, 2
 * the node's trigger, empty. Anything else fails the test. The content
 * goes to content (size 4096) when there is one. */
static int new_state(const char *node, char *content)
{
	char name[TRIGGER_NAME_MAX];
	cr_assert(trigger_name(node, name, sizeof name));
	int n = tu_count(tu_path(queue, "new"));
	cr_assert(n == 0 || n == 1, "new/ holds %d entries", n);
	if (n == 0)
		return 0;
	const char *path = tu_path(tu_path(queue, "new"), name);
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "new/ holds something that is not new/%s", name);
	cr_assert(S_ISREG(st.st_mode), "new/%s is not a regular file", name);
	size_t len;
	char *buf = tu_read(path, &len);
	cr_assert(buf);
	struct trigger t;
	const char *why = "";
	cr_assert_eq(trigger_parse(buf, len, &t, &why), 0, "new/%s is half-written (%s): %s", name,
		     why, buf);
	int state = t.lost ? 2 : 1;
	if (!t.lost)
		cr_assert_str_eq(t.node, node);
	snprintf(content, 4096, "%s", buf);
	free(buf);
	return state;
}

/* One etrnd-runner -1 pass; the number of runs it made. */
static int runner_pass(void)
{
	int before = tu_lines(record);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		int log = open(runlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(nul, 0), dup2(nul, 1), dup2(log, 2);
		const char *argv[] = {"etrnd-runner", "-1", "-q", queue, "-d", cdb, NULL};
		tu_execv(tu_bin("etrnd-runner"), argv);
		_exit(127);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "etrnd-runner -1 failed (status %d)", st);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0, "the runner left a trigger in new/");
	cr_assert_eq(tu_count(tu_path(queue, "cur")), 0, "the runner left a trigger in cur/");
	return tu_lines(record) - before;
}

/* -- etrnd under strace --------------------------------------------------- */

struct outcome {
	int killed;  /* died of SIGKILL (the cut) */
	int replied; /* the client has the 2xx for its ETRN */
	char out[8192];
};

/* etrnd for one client that sends "ETRN node" and waits for the reply,
 * then ends the session (EOF). Under strace, recording every call into
 * trace, or with cut = "CALL:N", killed as it enters the Nth CALL. */
static struct outcome run_etrnd(const char *node, const char *trace, const char *cut)
{
	struct outcome o = {0};
	char line[300], spec[2][128];
	int in[2], out[2];
	snprintf(line, sizeof line, "ETRN %s\r\n", node);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	/* the ETRN is there before etrnd starts: the same calls every run */
	cr_assert_eq(write(in[1], line, strlen(line)), (ssize_t)strlen(line));

	const char *argv[64] = {strace, "-f", "-qq", "-s", "4096", "-o", trace};
	int n = 7;
	if (cut) {
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)strcspn(cut, ":"), cut);
		snprintf(spec[0], sizeof spec[0], "trace=%s", name);
		snprintf(spec[1], sizeof spec[1], "inject=%s:signal=KILL:when=%s", name,
			 strchr(cut, ':') + 1);
		argv[n++] = "-e";
		argv[n++] = spec[0];
		argv[n++] = "-e";
		argv[n++] = spec[1];
	}
	char *wrap = getenv("ETRND_WRAP") ? strdup(getenv("ETRND_WRAP")) : NULL;
	for (char *w = wrap ? strtok(wrap, " ") : NULL; w && n < 40; w = strtok(NULL, " "))
		argv[n++] = w;
	const char *etrnd[] = {tu_bin("etrnd"), "-n", "mx.test", "-l", "stderr", "-d", cdb, "-q",
			       queue,           NULL};
	for (int i = 0; etrnd[i]; i++)
		argv[n++] = etrnd[i];
	argv[n] = NULL;

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int log = open(elog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(in[0], 0), dup2(out[1], 1), dup2(log, 2);
		for (int i = 3; i < 64; i++)
			close(i);
		setenv("TCPREMOTEIP", "192.0.2.7", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	free(wrap);
	close(in[0]);
	close(out[1]);
	/* the greeting and the ETRN's reply, or EOF: etrnd (and strace) died */
	size_t got = 0;
	long long end = tu_now_ms() + 60000;
	while (got + 1 < sizeof o.out && tu_now_ms() < end) {
		int crlf = 0;
		for (size_t i = 0; i + 1 < got; i++)
			crlf += o.out[i] == '\r' && o.out[i + 1] == '\n';
		if (crlf >= 2)
			break;
		struct pollfd p = {out[0], POLLIN, 0};
		if (poll(&p, 1, (int)(end - tu_now_ms())) <= 0)
			continue;
		ssize_t r = read(out[0], o.out + got, sizeof o.out - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(in[1]); /* the client is done: EOF ends the session */
	ssize_t r;
	while (got + 1 < sizeof o.out &&
	       (r = read(out[0], o.out + got, sizeof o.out - 1 - got)) > 0)
		got += (size_t)r;
	o.out[got] = '\0';
	close(out[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	o.killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	if (!cut)
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "strace etrnd: status %d: %s", st,
			  o.out);
	char want[300];
	snprintf(want, sizeof want, "\r\n250 2.0.0 OK, queuing for node %s started\r\n", node);
	o.replied = strstr(o.out, want) != NULL;
	return o;
}

/* -- the trace -------------------------------------------------------------- */

struct trace {
	char **line; /* "NAME(ARGS) = RET ...", the pid taken off */
	int n;
};

static struct trace read_trace(const char *path)
{
	struct trace t = {0};
	char *buf = tu_read(path, NULL), *save = NULL;
	cr_assert(buf, "no trace %s", path);
	t.line = calloc(strlen(buf) / 2 + 1, sizeof *t.line);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, "0123456789");
		l += strspn(l, " ");
		if (*l >= 'a' && *l <= 'z') /* not "--- SIG..." or "+++ ..." */
			t.line[t.n++] = strdup(l);
	}
	free(buf);
	return t;
}

static void call_name(const char *line, char *name, size_t size)
{
	size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_");
	cr_assert(n > 0 && n < size && line[n] == '(', "not a call: %s", line);
	memcpy(name, line, n);
	name[n] = '\0';
}

static int is_call(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncmp(line, name, n) == 0 && line[n] == '(';
}

/* The result of a call: the number after the last " = ". */
static long call_ret(const char *line)
{
	const char *eq = NULL;
	for (const char *p = strstr(line, " = "); p; p = strstr(p + 1, " = "))
		eq = p;
	return eq ? strtol(eq + 3, NULL, 10) : -1;
}

/* The first fd argument of a call, e.g. 6 in "fsync(6)". */
static long first_arg(const char *line)
{
	return strtol(strchr(line, '(') + 1, NULL, 10);
}

/* The calls that make data durable. */
static int is_sync(const char *line)
{
	static const char *const names[] = {"fsync",  "fdatasync",       "sync",
					    "syncfs", "sync_file_range", "msync"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (is_call(line, names[i]))
			return 1;
	return 0;
}

static int is_rename(const char *line)
{
	return is_call(line, "rename") || is_call(line, "renameat") || is_call(line, "renameat2");
}

/* The window: from the read() that brings the ETRN (*from) to the write()
 * of its reply (*to). */
static void window(const struct trace *t, const char *node, int *from, int *to)
{
	char reply[300];
	snprintf(reply, sizeof reply, "250 2.0.0 OK, queuing for node %s started", node);
	*from = *to = -1;
	for (int i = 0; i < t->n && *to < 0; i++) {
		if (*from < 0 && is_call(t->line[i], "read") && first_arg(t->line[i]) == 0 &&
		    strstr(t->line[i], "\"ETRN "))
			*from = i;
		else if (*from >= 0 && is_call(t->line[i], "write") && first_arg(t->line[i]) == 1 &&
			 strstr(t->line[i], reply))
			*to = i;
	}
	cr_assert(*from >= 0 && *to > *from && *to + 1 < t->n,
		  "no ETRN read, reply write and call after it in the trace");
}

/* -- the claim -------------------------------------------------------------- */

enum kind { NEW, PENDING };

/* Cuts etrnd at every call of the window and checks the queue after each.
 * pending: the content of a trigger already in new/ (NULL: none). Returns
 * the number of cuts. */
static int cut_everywhere(const char *node, const char *pending, int uses_client,
			  const struct trace *ref, int from, int to)
{
	int cuts = 0;
	for (int i = from + 1; i <= to + 1; i++) {
		char name[64], spec[100], content[4096] = "";
		call_name(ref->line[i], name, sizeof name);
		int nth = 0;
		for (int j = 0; j <= i; j++)
			nth += is_call(ref->line[j], name);
		snprintf(spec, sizeof spec, "%s:%d", name, nth);

		fresh_queue(node, pending);
		struct outcome o = run_etrnd(node, tu_path(dir, "cut.trace"), spec);
		cr_assert(o.killed, "cut at %s (%s): etrnd was not killed", spec, ref->line[i]);
		/* it died entering exactly that call */
		struct trace c = read_trace(tu_path(dir, "cut.trace"));
		cr_assert_eq(c.n, nth, "cut at %s: the trace shows %d calls of %s", spec, c.n,
			     name);
		cr_assert_eq(o.replied, i > to, "cut at %s (%s): the client %s the reply", spec,
			     ref->line[i], o.replied ? "has" : "lacks");

		int state = new_state(node, content);
		if (o.replied)
			cr_assert_eq(state, 1, "cut at %s: answered 250, no trigger in new/", spec);
		if (pending)
			cr_assert_str_eq(content, pending, "cut at %s: the pending trigger changed",
					 spec);
		cr_assert_neq(state, 2, "cut at %s: a killed process lost the content", spec);
		cr_assert_leq(tu_count(tu_path(queue, "tmp")), 1);
		cr_assert_eq(runner_pass(), state ? 1 : 0, "cut at %s (%s): %s", spec, ref->line[i],
			     state ? "not run exactly once" : "ran without a trigger");
		if (state && !uses_client) {
			/* what a power cut at this point may leave instead: new/
			 * durable, the content not (it was never fsynced) */
			put_trigger(node, "");
			cr_assert_eq(runner_pass(), 1,
				     "cut at %s: an empty trigger did not run once", spec);
			char *rec = tu_read(record, NULL);
			char want[300];
			snprintf(want, sizeof want, "node=%s rule=%s client=unknown\n", node, node);
			cr_assert(rec && strstr(rec, want), "%s", rec);
			free(rec);
		}
		cuts++;
	}
	return cuts;
}

/* The reference run: its trace, and the window in it. */
static struct trace reference(const char *node, const char *pending, int *from, int *to)
{
	fresh_queue(node, pending);
	struct outcome o = run_etrnd(node, tu_path(dir, "ref.trace"), NULL);
	cr_assert(o.replied, "%s", o.out);
	struct trace t = read_trace(tu_path(dir, "ref.trace"));
	window(&t, node, from, to);
	return t;
}

/* The fd a call returned for an openat() of QUEUEDIR/name (by path, or
 * relative to an fd) between the calls from and to. etrnd opens new/ and
 * tmp/ as the session starts and keeps them: search from the start. */
static long opened(const struct trace *t, int from, int to, const char *name)
{
	char rel[100], abs[4200];
	snprintf(rel, sizeof rel, ", \"%s\", ", name);
	snprintf(abs, sizeof abs, "\"%s/%s\", ", queue, name);
	for (int i = from; i < to; i++)
		if (is_call(t->line[i], "openat") &&
		    (strstr(t->line[i], rel) || strstr(t->line[i], abs)))
			return call_ret(t->line[i]);
	return -1;
}

Test(crash, a_new_trigger_costs_one_fsync_and_survives_a_cut_anywhere)
{
	int from, to;
	struct trace t = reference("crash.example", NULL, &from, &to);
	long newdir = opened(&t, 0, to, "new");
	int syncs = 0, rename_at = -1;
	for (int i = from; i < to; i++) {
		if (is_rename(t.line[i]))
			rename_at = i;
		if (is_sync(t.line[i])) {
			syncs++;
			cr_assert(is_call(t.line[i], "fsync") && first_arg(t.line[i]) == newdir &&
				      rename_at >= 0,
				  "not the fsync of new/ after the rename: %s", t.line[i]);
		}
	}
	cr_assert_eq(syncs, 1, "a new trigger costs %d syncs", syncs);
	int cuts = cut_everywhere("crash.example", NULL, 0, &t, from, to);
	cr_assert_geq(cuts, 10, "only %d calls between the ETRN and its reply", cuts);
	cr_log_info("crash: a new trigger: %d cuts", cuts);
}

Test(crash, a_trigger_for_a_command_with_the_client_is_fsynced_before_the_rename)
{
	int from, to;
	struct trace t = reference("crashc.example", NULL, &from, &to);
	long newdir = opened(&t, 0, to, "new");
	long file = -1;
	int syncs = 0, rename_at = -1;
	for (int i = from; i < to; i++) {
		if (is_call(t.line[i], "openat") && strstr(t.line[i], "O_CREAT"))
			file = call_ret(t.line[i]);
		if (is_rename(t.line[i]))
			rename_at = i;
		if (is_sync(t.line[i])) {
			long fd = first_arg(t.line[i]);
			cr_assert(syncs == 0 ? fd == file && rename_at < 0
					     : fd == newdir && rename_at >= 0,
				  "sync %d: %s", syncs + 1, t.line[i]);
			syncs++;
		}
	}
	cr_assert_eq(syncs, 2);
	int cuts = cut_everywhere("crashc.example", NULL, 1, &t, from, to);
	cr_assert_geq(cuts, 10);
	cr_log_info("crash: a trigger with the client: %d cuts", cuts);
}

/* A pending trigger with %c is replaced by the latest asker's: new/ holds
 * the old one or the new one, each complete, at every cut. */
Test(crash, a_replaced_trigger_is_the_old_or_the_new_one_whole)
{
	char old[512];
	snprintf(old, sizeof old,
		 "version=2\nnode=crashc.example\nrule=crashc.example\nclient=198.51.100.1\n"
		 "user=-\ntime=1\npid=1\n");
	int from, to;
	struct trace t = reference("crashc.example", old, &from, &to);
	for (int i = from + 1; i <= to + 1; i++) {
		char name[64], spec[100], content[4096];
		call_name(t.line[i], name, sizeof name);
		int nth = 0;
		for (int j = 0; j <= i; j++)
			nth += is_call(t.line[j], name);
		snprintf(spec, sizeof spec, "%s:%d", name, nth);
		fresh_queue("crashc.example", old);
		struct outcome o = run_etrnd("crashc.example", tu_path(dir, "cut.trace"), spec);
		cr_assert(o.killed);
		cr_assert_eq(new_state("crashc.example", content), 1, "cut at %s", spec);
		int is_new = strstr(content, "client=192.0.2.7\n") != NULL;
		cr_assert(is_new || strcmp(content, old) == 0, "cut at %s: %s", spec, content);
		if (o.replied)
			cr_assert(is_new, "cut at %s: answered, the old asker's trigger left",
				  spec);
		cr_assert_eq(runner_pass(), 1, "cut at %s", spec);
	}
}

Test(crash, an_etrn_for_a_pending_node_writes_and_syncs_nothing)
{
	char pending[512];
	snprintf(pending, sizeof pending,
		 "version=2\nnode=crash.example\nrule=crash.example\nclient=198.51.100.1\n"
		 "user=-\ntime=1\npid=1\n");
	int from, to;
	struct trace t = reference("crash.example", pending, &from, &to);
	long fifo = -1;
	int poked = 0;
	for (int i = from + 1; i < to; i++) {
		const char *l = t.line[i];
		cr_assert(!is_sync(l), "a sync for a pending node: %s", l);
		cr_assert(!strstr(l, "O_CREAT") && !is_rename(l) && !is_call(l, "unlink") &&
			      !is_call(l, "unlinkat") && !is_call(l, "linkat"),
			  "a change for a pending node: %s", l);
		if (is_call(l, "openat") && (strstr(l, "/trigger\"") || strstr(l, ", \"trigger\"")))
			fifo = call_ret(l);
		if (is_call(l, "write")) {
			long fd = first_arg(l);
			cr_assert(fd == 2 || fd == fifo, "a write for a pending node: %s", l);
			poked += fd == fifo;
		}
	}
	cr_assert_eq(poked, 1, "the FIFO was not poked");
	int cuts = cut_everywhere("crash.example", pending, 0, &t, from, to);
	cr_log_info("crash: a pending node: %d cuts", cuts);
}
