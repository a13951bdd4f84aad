/* SPDX-License-Identifier: ISC */
/* bin/etrnd-runner as a process, fed by the real bin/etrnd. No test sleeps
 * for a fixed time: each waits, with a bound, for the event it needs (a
 * line in a file, a file appearing or going, a process exiting), and runs
 * that must overlap are held open by the record helper's hold files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "runq.h"
#include "testutil.h"
#include "trigger.h"

static char *dir, *cdb, *queue, *record, *runlog;
static pid_t runner = -1;

static const char *rules_tmpl =
    "a.example run=\"@H@/record %n %r %c ';' '$(touch pwned)' `x`\"\n"
    "@b.example run=\"@H@/record %n\"\n"
    "fail.example run=\"/usr/bin/env EXIT=1 @H@/record %n\"\n"
    "p1.example run=\"@H@/record %n\"\n"
    "p2.example run=\"@H@/record %n\"\n"
    "p3.example run=\"@H@/record %n\"\n"
    "stubborn.example run=\"/bin/sh -c 'trap \\\"\\\" TERM; sleep 30'\" timeout=1\n"
    "orphan.example run=\"@H@/orphan\" timeout=1\n"
    "iv.example run=\"@H@/record %n\" interval=3600\n"
    "iv1.example run=\"@H@/record %n\" interval=1\n"
    "@iv.example run=\"@H@/record %n\" interval=3600\n"
    "x.example run=\"@H@/record first\"\n"
    "chatty.example run=\"/usr/bin/seq 1 30\"\n"
    "missing.example run=\"/nonexistent/etrnd-test-command %n\"\n"
    "fds.example run=\"@H@/fds\"\n"
    "acl.example allow=192.0.2.0/24 run=\"@H@/record %n %c\"\n"
    "deny.example deny=no\n"
    "none.example\n";

static const char *helpers(void)
{
	return getenv("ETRND_HELPERS") ? getenv("ETRND_HELPERS") : "tests/helpers";
}

static void compile(const char *text)
{
	char *out = malloc(strlen(text) * 4 + 1), *o = out;
	for (const char *p = text; *p;) {
		if (strncmp(p, "@H@", 3) == 0) {
			o += sprintf(o, "%s", helpers());
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	cr_assert_eq(tu_rules(dir, out, cdb), 0, "rules do not compile");
	free(out);
}

static void setup(void)
{
	dir = tu_tmpdir();
	cdb = strdup(tu_path(dir, "etrn.cdb"));
	queue = strdup(tu_queue(dir));
	record = strdup(tu_path(dir, "record"));
	runlog = strdup(tu_path(dir, "runner.log"));
	setenv("RECORD", record, 1);
	compile(rules_tmpl);
	runner = -1;
}

/* Whether process pid was started with RECORD=<this test's record> in its
 * environment: the runner and every command it started, nothing else. */
static int ours(const char *pid)
{
	char path[64], env[65536], want[4200];
	snprintf(path, sizeof path, "/proc/%s/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC),
	    n = snprintf(want, sizeof want, "RECORD=%s", record);
	ssize_t len = fd < 0 ? -1 : read(fd, env, sizeof env - 1);
	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(env + i) + 1) {
		env[len] = '\0';
		if (strcmp(env + i, want) == 0 && n > 0)
			return 1;
	}
	return 0;
}

/* SIGKILLs what this test left running, identified by its environment, so
 * that no pid that may have been reused is ever signalled. */
static int kill_ours(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && atoi(e->d_name) != getpid() &&
		    ours(e->d_name) && kill(atoi(e->d_name), SIGKILL) == 0)
			found++;
	if (d)
		closedir(d);
	return found;
}

static void teardown(void)
{
	if (runner > 0)
		kill(runner, SIGKILL), waitpid(runner, NULL, 0);
	for (int i = 0; i < 100 && kill_ours() > 0; i++)
		usleep(20000);
	tu_rmtree(dir);
}

TestSuite(runner, .init = setup, .fini = teardown, .timeout = 90);

/* ETRN through the real etrnd, which writes the trigger; user: -u USER. */
static void etrn_as(const char *node, const char *user)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "ETRN %s\r\nQUIT\r\n", node);
	const char *argv[] = {"etrnd", "-n", "mx.example", "-d", cdb,  "-q",
			      queue,   "-l", "stderr",     "-u", user, NULL};
	if (!user)
		argv[9] = NULL;
	const char *env[] = {"TCPREMOTEIP=192.0.2.7", NULL};
	struct tu_run r = tu_exec(dir, argv, cmd, strlen(cmd), env);
	cr_assert(strstr(r.out, "\r\n250 2.0.0"), "%s%s", r.out, r.err);
	tu_run_free(&r);
}

static void etrn(const char *node)
{
	etrn_as(node, NULL);
}

struct how {
	int nofile;  /* RLIMIT_NOFILE, 0 = as it is */
	int leak_fd; /* an fd the runner inherits without close-on-exec, 0 = none */
	int umask;   /* -1 = as it is */
};

static pid_t spawn_runner(const char *const *extra, const struct how *how)
{
	const char *argv[32] = {"etrnd-runner", "-q", queue, "-d", cdb};
	tu_append(argv, 5, extra);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(runlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(fd, 2);
		if (how && how->leak_fd)
			dup2(nul, how->leak_fd);
		if (how && how->umask >= 0)
			umask((mode_t)how->umask);
		struct rlimit rl = {how ? (rlim_t)how->nofile : 0, how ? (rlim_t)how->nofile : 0};
		if (how && how->nofile)
			setrlimit(RLIMIT_NOFILE, &rl);
		tu_execv(tu_bin("etrnd-runner"), argv);
		_exit(127);
	}
	return pid;
}

static pid_t start_runner(const char *const *extra)
{
	return spawn_runner(extra, NULL);
}

/* Waits up to seconds for pid: its status, or -1 (killed). */
static int wait_exit(pid_t pid, int seconds)
{
	int rc = tu_wait_exit(pid, seconds);
	return rc;
}

/* Runs etrnd-runner -1 to completion (30 s at most); its exit status. */
static int once_how(const char *const *extra, const struct how *how)
{
	const char *args[16] = {"-1"};
	int n = 1;
	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	int st = wait_exit(spawn_runner(args, how), 30);
	cr_assert_neq(st, -1, "etrnd-runner -1 did not finish in 30 s");
	return st;
}

static int once(const char *const *extra)
{
	return once_how(extra, NULL);
}

/* SIGTERM, and its exit status once it exited (the runs it waits for are
 * over by then). */
static int stop_runner(void)
{
	kill(runner, SIGTERM);
	int st = wait_exit(runner, 60);
	runner = -1;
	cr_assert_neq(st, -1, "etrnd-runner did not stop");
	return st;
}

static int occurrences(const char *path, const char *what)
{
	char *s = tu_read(path, NULL);
	int n = 0;
	for (char *p = s; p && (p = strstr(p, what)); p++)
		n++;
	free(s);
	return n;
}

static int contains(const char *path, const char *what)
{
	return occurrences(path, what) > 0;
}

/* Polls (bounded) until path contains what at least n times. */
static int wait_n(const char *path, const char *what, int n, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (occurrences(path, what) >= n)
			return 1;
		usleep(10000);
	}
	return 0;
}

static int wait_for(const char *path, const char *what, int seconds)
{
	return wait_n(path, what, 1, seconds);
}

/* wait_for() in the runner's log, giving up early if the runner dies. */
static int wait_log(const char *what, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (contains(runlog, what))
			return 1;
		if (waitpid(runner, NULL, WNOHANG) == runner) {
			runner = -1;
			return contains(runlog, what);
		}
		usleep(10000);
	}
	return 0;
}

/* Polls (bounded) until the directory has n entries. */
static int wait_count(const char *d, int n, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (tu_count(d) == n)
			return 1;
		usleep(10000);
	}
	return 0;
}

static int max_concurrency(void)
{
	char *s = tu_read(tu_path(dir, "record.concurrency"), NULL);
	int max = 0;
	for (char *p = s; p && *p;) {
		int v = atoi(p);
		max = v > max ? v : max;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	free(s);
	return max;
}

/* The record helper keeps a run of node open while this file exists. */
static const char *hold(const char *node)
{
	static char path[4200];
	snprintf(path, sizeof path, "%s.hold.%s", record, node);
	return path;
}

/* Starts the runner (with extra arguments) and a run of node that stays
 * open until the test removes hold(node). */
static void start_held(const char *node, const char *const *extra)
{
	char want[300];
	tu_write(hold(node), "");
	runner = start_runner(extra);
	etrn(node);
	snprintf(want, sizeof want, "node=%s", node);
	cr_assert(wait_for(record, want, 10), "%s did not start", node);
}

/* A trigger file put into new/ as etrnd would (tmp/, then rename). */
static void put_trigger(const char *name, const char *content)
{
	tu_write(tu_path(queue, "tmp/put"), content);
	cr_assert_eq(rename(tu_path(queue, "tmp/put"), tu_path(tu_path(queue, "new"), name)), 0);
}

static void set_mtime(const char *path, long long t)
{
	struct timespec ts[2] = {{(time_t)t, 0}, {(time_t)t, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0, "%s", path);
}

/* -- what the runner runs, and how --------------------------------------- */

Test(runner, runs_the_command_without_a_shell)
{
	etrn("A.Example");
	cr_assert_eq(once(NULL), 0);
	char *rec = tu_read(record, NULL);
	cr_assert_str_eq(rec, "argc=6 [a.example] [a.example] [192.0.2.7] [;] [$(touch pwned)] "
			      "[`x`] node=a.example rule=a.example client=192.0.2.7\n");
	free(rec);
	cr_assert_eq(access(tu_path(dir, "pwned"), F_OK), -1);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "cur")), 0);
	cr_assert(contains(runlog, "output node=a.example text=\"run of a.example done\""));
	cr_assert(contains(runlog, "run node=a.example rule=a.example cmd="));
	cr_assert(contains(runlog, "status=exit:0"));
}

Test(runner, domain_rule_and_default_command)
{
	etrn("x.b.example");
	etrn("none.example");
	char def[4096];
	snprintf(def, sizeof def, "%s/record", helpers());
	const char *args[] = {"--", def, "default", "%n", "%r", NULL};
	cr_assert_eq(once(args), 0);
	cr_assert(contains(record, "argc=1 [x.b.example] node=x.b.example rule=@b.example"));
	cr_assert(contains(record, "argc=3 [default] [none.example] [none.example]"));
}

Test(runner, dropped_and_bad_triggers_never_run)
{
	etrn("none.example"); /* no run= and no default command */
	const char *q = queue;
	tu_write(tu_path(q, "new/deny.example"), "version=1\nnode=deny.example\nrule=deny.example\n"
						 "client=unknown\ntime=1\npid=1\n");
	tu_write(tu_path(q, "new/norule.example"),
		 "version=1\nnode=norule.example\n"
		 "rule=norule.example\nclient=unknown\ntime=1\npid=1\n");
	tu_write(tu_path(q, "new/UPPER.example"), "x");
	tu_write(tu_path(q, "new/%61.example"), "x");
	tu_write(tu_path(q, "new/b.example"), "version=1\nnode=a.example\nrule=a.example\n"
					      "client=unknown\ntime=1\npid=1\n");
	tu_write(tu_path(q, "new/c.b.example"), "run=/bin/sh\n");
	cr_assert_eq(symlink("/etc/passwd", tu_path(q, "new/d.b.example")), 0);
	once(NULL);
	cr_assert_eq(access(record, F_OK), -1, "something ran");
	cr_assert_eq(tu_count(tu_path(q, "new")), 0);
	cr_assert_eq(tu_count(tu_path(q, "cur")), 0);
	cr_assert_eq(tu_count(tu_path(q, "bad")), 5);
	cr_assert(contains(runlog, "drop node=none.example reason=no-command"));
	cr_assert(contains(runlog, "drop node=deny.example reason=denied"));
	cr_assert(contains(runlog, "drop node=norule.example reason=no-rule"));
	cr_assert(contains(runlog, "bad file=b.example reason=\"node does not match"));
}

Test(runner, output_is_bounded_and_oversized_triggers_are_refused)
{
	etrn("chatty.example"); /* its command prints 30 lines */
	char big[TRIGGER_FILE_MAX + 100];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	tu_write(tu_path(queue, "new/x.b.example"), big);
	cr_assert_eq(once(NULL), 0);
	cr_assert_eq(occurrences(runlog, "output node=chatty.example"), RUN_OUTPUT_LINES);
	cr_assert(contains(runlog, "text=20\n"));
	cr_assert(!contains(runlog, "text=21\n"));
	cr_assert(contains(runlog, "output_dropped=20"), "lines 21-30: 10 lines of 2 octets");
	cr_assert(contains(runlog, "bad file=x.b.example reason=\"too big\""));
	cr_assert_eq(access(record, F_OK), -1, "the oversized trigger ran");
}

/* Issue 9 item 22: QUEUEDIR may be a symbolic link for the runner as for
 * etrnd (a trigger etrnd wrote through the link runs); what is inside it
 * may not (tests/unit/test_etrnd.c, test_runner's planted names). */
Test(runner, a_symlinked_queuedir_is_used)
{
	char *link = strdup(tu_path(dir, "queue-link"));
	cr_assert_eq(symlink(queue, link), 0);
	char *real = queue;
	queue = link;
	etrn("x.b.example");
	int st = once(NULL);
	queue = real;
	cr_assert_eq(st, 0, "%s", tu_read(runlog, NULL));
	cr_assert(contains(record, "node=x.b.example rule=@b.example"), "%s",
		  tu_read(runlog, NULL));
	free(link);
}

/* Issue 9 item 9. */
Test(runner, commands_get_exactly_fds_0_1_2)
{
	etrn("fds.example");
	struct how how = {.leak_fd = 9, .umask = -1};
	cr_assert_eq(once_how(NULL, &how), 0);
	cr_assert(contains(record, "fds: 0 1 2\n"), "%s", tu_read(record, NULL));
}

/* Issue 9 item 8. */
Test(runner, a_command_that_cannot_be_executed_is_not_retried)
{
	etrn("missing.example");
	const char *args[] = {"-b", "0", "-a", "3", NULL};
	runner = start_runner(args);
	cr_assert(wait_for(runlog, "drop node=missing.example reason=exec-failed", 10), "%s",
		  tu_read(runlog, NULL));
	cr_assert(contains(runlog, "status=exec-failed error=\"No such file or directory\""));
	cr_assert_eq(occurrences(runlog, "run node=missing.example"), 1, "retried");
	cr_assert(!contains(runlog, "output node=missing.example"));
	cr_assert(wait_count(tu_path(queue, "cur"), 0, 5));
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(stop_runner(), 0);
	etrn("missing.example");
	cr_assert_eq(once(NULL), 1, "-1: a trigger that could not run is a failed pass");
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0, "kept for a retry that cannot help");
}

/* -- one node, one command: timeouts, locks, restarts --------------------- */

Test(runner, timeout_kills_a_command_that_ignores_sigterm)
{
	etrn("stubborn.example");
	cr_assert_eq(once(NULL), 1);
	cr_assert(contains(runlog, "timeout node=stubborn.example"));
	cr_assert(contains(runlog, "status=signal:9"), "not SIGKILLed");
	cr_assert(contains(runlog, "killed=timeout"));
	cr_assert_eq(access(tu_path(queue, "new/stubborn.example"), F_OK), 0, "trigger lost");
}

/* Issue 9 item 2: the leader dies of SIGTERM, a child that ignores it
 * lives on; the retry must not start beside it. */
Test(runner, timeout_kills_the_whole_group_before_the_node_runs_again)
{
	etrn("orphan.example");
	const char *args[] = {"-b", "0", "-a", "2", NULL};
	runner = start_runner(args);
	cr_assert(wait_n(record, "start orphan.example", 2, 40), "no retry: %s",
		  tu_read(runlog, NULL));
	cr_assert(!contains(record, "overlap"), "the retry ran beside the first run's child");
	cr_assert(contains(runlog, "timeout node=orphan.example"));
	cr_assert(contains(runlog, "status=signal:15"), "%s", tu_read(runlog, NULL));
}

/* Issue 9 item 3: a runner killed with SIGKILL leaves its command running;
 * the next runner (-1 or not) must wait for it. */
Test(runner, a_restarted_runner_waits_for_the_command_of_a_killed_one)
{
	start_held("g.b.example", NULL);
	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	runner = -1;
	cr_assert_eq(access(tu_path(queue, "cur/g.b.example"), F_OK), 0);
	cr_assert_eq(once(NULL), 0);
	cr_assert_eq(tu_lines(record), 1, "ran beside the command of the killed runner");
	cr_assert(contains(runlog, "recovered triggers=1"));
	cr_assert(contains(runlog, "wait node=g.b.example reason=locked"));
	cr_assert_eq(access(tu_path(queue, "new/g.b.example"), F_OK), 0, "trigger lost");
	runner = start_runner(NULL);
	cr_assert(wait_n(runlog, "wait node=g.b.example reason=locked", 2, 10));
	cr_assert_eq(unlink(hold("g.b.example")), 0); /* the old command ends */
	cr_assert(wait_n(record, "node=g.b.example", 2, 20));
	cr_assert(wait_count(tu_path(queue, "cur"), 0, 10));
	cr_assert_eq(max_concurrency(), 1, "two commands of one node at once");
	cr_assert_eq(occurrences(runlog, "wait node=g.b.example"), 2, "said more than once each");
	cr_assert_eq(tu_lines(record), 2);
}

Test(runner, one_run_per_node_and_an_etrn_during_a_run_gets_its_own_run)
{
	const char *args[] = {"-j", "4", NULL};
	start_held("h.b.example", args);
	etrn("h.b.example"); /* while the first run is held open */
	etrn("h.b.example");
	cr_assert_eq(unlink(hold("h.b.example")), 0);
	cr_assert(wait_n(runlog, "run node=h.b.example", 2, 20),
		  "the ETRNs during the run were lost");
	cr_assert(wait_count(tu_path(queue, "cur"), 0, 10));
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0, "a third run is pending");
	cr_assert_eq(stop_runner(), 0);
	cr_assert_eq(tu_lines(record), 2);
	cr_assert_eq(max_concurrency(), 1, "two runs of one node at once");
}

Test(runner, parallel_nodes_up_to_j)
{
	const char *nodes[] = {"p1.example", "p2.example", "p3.example"};
	for (int i = 0; i < 3; i++)
		tu_write(hold(nodes[i]), ""), etrn(nodes[i]);
	const char *j3[] = {"-1", "-j", "3", NULL};
	runner = start_runner(j3);
	cr_assert(wait_n(record, "node=p", 3, 10), "not three at once with -j 3");
	for (int i = 0; i < 3; i++)
		unlink(hold(nodes[i]));
	cr_assert_eq(wait_exit(runner, 30), 0);
	runner = -1;
	cr_assert_eq(max_concurrency(), 3);
	unlink(tu_path(dir, "record.concurrency"));
	for (int i = 0; i < 3; i++)
		tu_write(hold(nodes[i]), ""), etrn(nodes[i]);
	const char *j1[] = {"-1", "-j", "1", NULL};
	runner = start_runner(j1);
	cr_assert(wait_n(record, "node=p", 4, 10));
	for (int i = 0; i < 3; i++)
		unlink(hold(nodes[i]));
	cr_assert_eq(wait_exit(runner, 30), 0);
	runner = -1;
	cr_assert_eq(tu_lines(record), 6);
	cr_assert_eq(max_concurrency(), 1);
}

Test(runner, sigterm_lets_the_run_finish)
{
	start_held("s.b.example", NULL);
	kill(runner, SIGTERM);
	cr_assert(wait_for(runlog, "stopping running=yes", 10));
	cr_assert_eq(unlink(hold("s.b.example")), 0);
	int st = wait_exit(runner, 30);
	runner = -1;
	cr_assert_eq(st, 0);
	cr_assert(contains(runlog, "run node=s.b.example"));
	cr_assert(contains(runlog, "status=exit:0"));
	cr_assert_eq(tu_count(tu_path(queue, "cur")), 0);
}

/* -- retries, intervals --------------------------------------------------- */

Test(runner, retries_with_backoff_then_gives_up)
{
	etrn("fail.example");
	const char *args[] = {"-b", "0", "-a", "3", NULL};
	runner = start_runner(args);
	cr_assert(wait_for(runlog, "giveup node=fail.example attempts=3", 20));
	cr_assert_eq(tu_lines(record), 3);
	cr_assert(contains(runlog, "status=exit:1 ms="));
	cr_assert(contains(runlog, "attempt=3"));
	cr_assert(contains(runlog, "retry node=fail.example attempt=2 delay=0"));
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "cur")), 0);
	cr_assert_eq(stop_runner(), 0);
}

/* Issue 9 item 10: the doubling delay overflowed a shift from attempt 48
 * (with -b 0 too: the shift is undefined whatever it shifts). */
Test(runner, a_hundred_attempts)
{
	etrn("fail.example");
	const char *args[] = {"-b", "0", "-a", "100", NULL};
	runner = start_runner(args);
	cr_assert(wait_log("giveup node=fail.example attempts=100", 80), "%s",
		  tu_read(runlog, NULL));
	cr_assert_eq(tu_lines(record), 100);
	cr_assert_eq(stop_runner(), 0);
}

Test(runner, interval_holds_a_trigger_without_losing_it)
{
	etrn("iv.example");
	once(NULL);
	etrn("iv.example");
	once(NULL);
	cr_assert_eq(tu_lines(record), 1, "ran twice inside the interval");
	cr_assert_eq(access(tu_path(queue, "new/iv.example"), F_OK), 0, "trigger lost");
	cr_assert_eq(unlink(tu_path(queue, "last/iv.example")), 0);
	once(NULL);
	cr_assert_eq(tu_lines(record), 2);
}

/* Issue 9 item 6: a stamp a day in the future (the clock was stepped
 * back) holds the node one interval, not a day. */
Test(runner, a_stamp_in_the_future_is_clamped)
{
	cr_assert_eq(mkdir(tu_path(queue, "last"), 0750), 0);
	tu_write(tu_path(queue, "last/iv1.example"), "");
	set_mtime(tu_path(queue, "last/iv1.example"), (long long)time(NULL) + 86400);
	runner = start_runner(NULL);
	etrn("iv1.example");
	cr_assert(wait_for(record, "node=iv1.example", 15), "held for the clock's jump");
	cr_assert(contains(runlog, "clock node=iv1.example"), "%s", tu_read(runlog, NULL));
}

/* Issue 9 items 4 and 6: a stamp that cannot be written is logged, and the
 * interval holds from memory. */
Test(runner, an_unwritable_stamp_keeps_the_interval_in_memory)
{
	cr_assert_eq(mkdir(tu_path(queue, "last"), 0750), 0);
	cr_assert_eq(mkdir(tu_path(queue, "last/iv.example"), 0750), 0);
	set_mtime(tu_path(queue, "last/iv.example"), 1000000000);
	runner = start_runner(NULL);
	etrn("iv.example");
	cr_assert(wait_for(record, "node=iv.example", 10));
	cr_assert(wait_for(runlog, "error op=stamp file=iv.example", 10), "%s",
		  tu_read(runlog, NULL));
	cr_assert(wait_count(tu_path(queue, "cur"), 0, 10));
	etrn("iv.example");
	etrn("x.b.example"); /* runs after the runner has looked at iv.example again */
	cr_assert(wait_for(runlog, "run node=x.b.example", 10));
	cr_assert_eq(stop_runner(), 0);
	cr_assert_eq(occurrences(record, "node=iv.example"), 1, "ran twice inside the interval");
	cr_assert_eq(access(tu_path(queue, "new/iv.example"), F_OK), 0, "trigger lost");
}

/* Issue 9 item 4: a FIFO planted as a stamp never blocks the runner. */
Test(runner, a_fifo_planted_in_last_does_not_block)
{
	cr_assert_eq(mkdir(tu_path(queue, "last"), 0750), 0);
	cr_assert_eq(mkfifo(tu_path(queue, "last/iv.example"), 0600), 0);
	set_mtime(tu_path(queue, "last/iv.example"), 1000000000);
	etrn("iv.example");
	cr_assert_eq(once(NULL), 0);
	cr_assert(contains(record, "node=iv.example"));
	cr_assert(contains(runlog, "error op=stamp file=iv.example"));
}

/* -- the queue's files ---------------------------------------------------- */

/* Issue 9 item 4: bad/ last/ cur/ locks/ are the runner's alone. */
Test(runner, refuses_runner_directories_others_can_write)
{
	static const char *const dirs[] = {"cur", "bad", "last", "locks"};
	struct passwd *pw = getpwnam("nobody");
	for (size_t i = 0; i < 4; i++)
		for (int how = 0; how < 2; how++) {
			if (how == 1 && (geteuid() != 0 || !pw))
				continue; /* another owner: root only */
			const char *d = tu_path(queue, dirs[i]);
			mkdir(d, 0750);
			cr_assert_eq(how ? chown(d, pw->pw_uid, 0) : chmod(d, 0770), 0);
			const char *argv[] = {"etrnd-runner", "-1", "-q", queue, "-d", cdb, NULL};
			struct tu_run r = tu_exec(dir, argv, "", 0, NULL);
			char want[64];
			snprintf(want, sizeof want, "/%s: writable by others", dirs[i]);
			cr_expect_eq(r.status, 111, "%s %s", dirs[i], how ? "owner" : "mode");
			cr_expect(r.err && strstr(r.err, want), "%s", r.err);
			tu_run_free(&r);
			cr_assert_eq(chmod(d, 0750), 0);
			cr_assert_eq(chown(d, geteuid(), getegid()), 0);
		}
	cr_assert_eq(once(NULL), 0, "the same queue, put right");
	if (geteuid() != 0)
		cr_skip_test("not root: another owner was not tried, only group and other write");
}

/* Issue 9 item 5: running out of descriptors (or memory, or an I/O error)
 * while reading a trigger keeps it; a failing scan with -1 exits 111. */
/* Under valgrind the limit counts valgrind's own descriptors too, and
 * valgrind itself fails first at the low ones. */
static void skip_under_valgrind(void)
{
	const char *wrap = getenv("ETRND_WRAP");
	if (wrap && strstr(wrap, "valgrind"))
		cr_skip_test("RLIMIT_NOFILE tests do not run under valgrind");
}

Test(runner, running_out_of_descriptors_never_loses_a_trigger)
{
	skip_under_valgrind();
	for (int n = 8; n <= 40; n++) {
		int before = tu_lines(record);
		etrn("x.b.example");
		struct how how = {.nofile = n, .umask = -1};
		const char *args[] = {"-1", NULL};
		pid_t pid = spawn_runner(args, &how);
		int st = wait_exit(pid, 15);
		cr_assert_neq(st, -1, "RLIMIT_NOFILE %d: hangs", n);
		cr_assert_eq(tu_count(tu_path(queue, "bad")) > 0, 0, "RLIMIT_NOFILE %d: to bad/",
			     n);
		cr_assert_eq(tu_count(tu_path(queue, "cur")), 0, "RLIMIT_NOFILE %d", n);
		int kept = access(tu_path(queue, "new/x.b.example"), F_OK) == 0;
		if (st == 0)
			cr_assert(tu_lines(record) == before + 1 && !kept, "RLIMIT_NOFILE %d", n);
		else
			cr_assert(kept && (st == 1 || st == 111), "RLIMIT_NOFILE %d: exit %d", n,
				  st);
	}
	cr_assert(contains(runlog, "Too many open files"), "the limits tried never bit");
	cr_assert(contains(runlog, "status=exit:0"), "no limit was high enough");
}

/* Issue 9 item 5: -1 exits 111 when new/ cannot be read. */
Test(runner, once_exits_111_when_new_cannot_be_scanned)
{
	int found = 0;
	skip_under_valgrind();
	for (int n = 8; n <= 40 && !found; n++) {
		etrn("x.b.example");
		struct how how = {.nofile = n, .umask = -1};
		const char *args[] = {"-1", NULL};
		int st = wait_exit(spawn_runner(args, &how), 15);
		cr_assert_neq(st, -1, "RLIMIT_NOFILE %d: hangs", n);
		found = contains(runlog, "unable to read QUEUEDIR/new");
		if (found)
			cr_assert_eq(st, 111, "RLIMIT_NOFILE %d", n);
	}
	cr_assert(found, "no limit made the scan fail: %s", tu_read(runlog, NULL));
}

/* Issue 9 item 7: a directory planted in new/ twice under one name. */
Test(runner, a_planted_directory_never_blocks_its_node)
{
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(mkdir(tu_path(queue, "new/a.example"), 0755), 0);
		cr_assert_eq(mkdir(tu_path(queue, "new/a.example/x"), 0755), 0);
		once(NULL);
		cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
		cr_assert_eq(tu_count(tu_path(queue, "cur")), 0, "stuck in cur/");
	}
	cr_assert_eq(tu_count(tu_path(queue, "bad")), 2);
	etrn("a.example");
	cr_assert_eq(once(NULL), 0);
	cr_assert(contains(record, "node=a.example"), "the node is blocked");
	cr_assert(!contains(runlog, "recovered"), "a false recovery");
}

/* Issue 9 item 7: a failed claim is logged with its errno. */
Test(runner, a_failed_claim_is_logged)
{
	put_trigger("x.b.example", "version=1\nnode=x.b.example\nrule=@b.example\n"
				   "client=unknown\ntime=1\npid=1\n");
	runner = start_runner(NULL);
	cr_assert(wait_for(record, "node=x.b.example", 10)); /* the runner is in its loop */
	cr_assert_eq(mkdir(tu_path(queue, "cur/a.example"), 0755), 0);
	cr_assert_eq(mkdir(tu_path(queue, "cur/a.example/x"), 0755), 0);
	etrn("a.example");
	cr_assert(wait_for(runlog, "error op=claim file=a.example error=", 10), "%s",
		  tu_read(runlog, NULL));
	cr_assert_eq(access(tu_path(queue, "new/a.example"), F_OK), 0, "trigger lost");
}

/* Issue 9 item 7: with -1, a trigger that could not be claimed fails the
 * pass (EXDEV: cur/ on another file system). */
Test(runner, once_fails_when_a_claim_fails)
{
	const char *cur = tu_path(queue, "cur");
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		cr_skip_test("no mount namespace (%s): needs root", strerror(errno));
	cr_assert_eq(mount("etrnd-test", cur, "tmpfs", 0, "mode=0755"), 0, "%s", strerror(errno));
	etrn("a.example");
	int st = once(NULL);
	umount2(tu_path(queue, "cur"), MNT_DETACH);
	cr_assert_eq(st, 1);
	cr_assert(
	    contains(runlog, "error op=claim file=a.example error=\"Invalid cross-device link\""),
	    "%s", tu_read(runlog, NULL));
	cr_assert_eq(access(tu_path(queue, "new/a.example"), F_OK), 0, "trigger lost");
}

/* Issue 9 item 11: names that are not an encoding etrnd writes go to bad/,
 * dot-files included, instead of being skipped on every scan. */
Test(runner, dot_files_and_foreign_names_go_to_bad)
{
	static const char *const junk[] = {".hidden", ".a.example", "..x", "a.example~",
					   "A.EXAMPLE"};
	for (size_t i = 0; i < 5; i++)
		tu_write(tu_path(tu_path(queue, "new"), junk[i]), "x");
	cr_assert_eq(once(NULL), 0);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0, "left in new/");
	cr_assert_eq(tu_count(tu_path(queue, "bad")), 5);
	cr_assert_eq(access(record, F_OK), -1);
}

static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	char *s = tu_read(path, NULL);
	cr_assert(s);
	snprintf(buf, sizeof buf, "%s", strrchr(s, ')') + 2);
	free(s);
	long utime = 0, stime = 0;
	char *tok = strtok(buf, " ");
	for (int field = 3; tok; field++, tok = strtok(NULL, " ")) {
		if (field == 14)
			utime = atol(tok);
		if (field == 15)
			stime = atol(tok);
	}
	return utime + stime;
}

/* Issue 9 item 11: a flood of wake-ups (anyone may write the FIFO) costs a
 * bounded share of a CPU, however expensive a scan of new/ is. */
Test(runner, fifo_wakeups_are_rate_limited)
{
	cr_assert_eq(mkdir(tu_path(queue, "last"), 0750), 0);
	char name[64];
	for (int i = 0; i < 3000; i++) { /* held by interval=: looked at on every scan */
		snprintf(name, sizeof name, "n%d.iv.example", i);
		tu_write(tu_path(tu_path(queue, "last"), name), "");
		tu_write(tu_path(tu_path(queue, "new"), name), "");
	}
	const char *args[] = {"-r", "3600", NULL};
	runner = start_runner(args);
	int fd = -1;
	for (int i = 0; i < 500 && fd < 0; i++, usleep(10000))
		fd = open(tu_path(queue, "trigger"), O_WRONLY | O_NONBLOCK);
	cr_assert(fd >= 0, "no FIFO reader");
	long t0 = cpu_ticks(runner), hz = sysconf(_SC_CLK_TCK);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (b = a; b.tv_sec - a.tv_sec < 3; clock_gettime(CLOCK_MONOTONIC, &b)) {
		(void)!write(fd, "", 1);
		usleep(100);
	}
	close(fd);
	double wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	double cpu = (double)(cpu_ticks(runner) - t0) / (double)hz;
	cr_log_info("the runner used %.2f s of CPU in %.2f s of wake-ups", cpu, wall);
	cr_assert_lt(cpu, wall * 0.4, "the runner used %.2f s of CPU in %.2f s of wake-ups", cpu,
		     wall);
	cr_assert_eq(access(record, F_OK), -1);
}

/* Issue 9 item 12: a release never replaces a newer trigger. Two processes
 * race: one releases cur/x, the other places new/x as etrnd does (never
 * replacing) and checks that what it placed stays until it removes it. */
static void place_and_check(const char *q)
{
	struct timespec t0, t;
	struct stat mine, now;
	int fd = open(tu_path(q, "tmp/w"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || close(fd) < 0 || stat(tu_path(q, "tmp/w"), &mine) < 0)
		_exit(2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (t = t0; t.tv_sec - t0.tv_sec < 5; clock_gettime(CLOCK_MONOTONIC, &t)) {
		unlink(tu_path(q, "new/x"));
		if (link(tu_path(q, "tmp/w"), tu_path(q, "new/x")) < 0)
			continue;
		for (volatile int spin = 0; spin < 2000; spin++)
			;
		if (stat(tu_path(q, "new/x"), &now) < 0 || now.st_ino != mine.st_ino)
			_exit(1);
	}
	_exit(0);
}

Test(runq, release_never_replaces_a_newer_trigger, .timeout = 60)
{
	char *d = tu_tmpdir(), err[256];
	const char *q = tu_queue(d);
	struct runq rq;
	cr_assert_eq(runq_open(&rq, q, err, sizeof err), 0, "%s", err);
	pid_t w = fork();
	cr_assert(w >= 0);
	if (w == 0)
		place_and_check(q);
	int st;
	while (waitpid(w, &st, WNOHANG) == 0) {
		tu_write(tu_path(q, "cur/x"), "older");
		runq_release(&rq, "x");
	}
	runq_close(&rq);
	tu_rmtree(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a newer new/x was replaced");
}

/* Issue 9 item 13: tmp/ files a crashed writer left, at start and on the
 * periodic rescans. */
Test(runner, stale_temp_files_are_removed)
{
	long long now = (long long)time(NULL);
	tu_write(tu_path(queue, "tmp/stale"), "");
	set_mtime(tu_path(queue, "tmp/stale"), now - 37 * 3600);
	tu_write(tu_path(queue, "tmp/recent"), "");
	set_mtime(tu_path(queue, "tmp/recent"), now - 35 * 3600);
	cr_assert_eq(once(NULL), 0);
	cr_assert_eq(access(tu_path(queue, "tmp/stale"), F_OK), -1, "kept at start");
	cr_assert_eq(access(tu_path(queue, "tmp/recent"), F_OK), 0);
	put_trigger("x.b.example", "");
	const char *args[] = {"-r", "1", NULL};
	runner = start_runner(args);
	cr_assert(wait_for(record, "node=x.b.example", 10)); /* past its first scan */
	tu_write(tu_path(queue, "tmp/stale2"), "");
	set_mtime(tu_path(queue, "tmp/stale2"), now - 40 * 3600);
	/* the line follows the removal it counts: wait for the line */
	cr_assert(wait_n(runlog, "cleaned tmp_files=1", 2, 10), "kept on the periodic rescans: %s",
		  tu_read(runlog, NULL));
	cr_assert_eq(tu_count(tu_path(queue, "tmp")), 1);
	cr_assert_eq(access(tu_path(queue, "tmp/recent"), F_OK), 0);
	cr_assert_eq(occurrences(runlog, "cleaned tmp_files=1"), 2);
}

/* -- what the runner believes of a trigger -------------------------------- */

/* Issue 9 item 18: a trigger's client= is checked against allow= again:
 * etrnd's user could write any. */
Test(runner, a_client_the_rule_does_not_allow_is_refused)
{
	etrn("acl.example"); /* 192.0.2.7: allowed */
	cr_assert_eq(once(NULL), 0);
	cr_assert(contains(record, "[acl.example] [192.0.2.7]"));
	put_trigger("acl.example", "version=2\nnode=acl.example\nrule=acl.example\n"
				   "client=203.0.113.9\nuser=-\ntime=1\npid=1\n");
	once(NULL);
	cr_assert(!contains(record, "203.0.113.9"), "a forged client ran");
	cr_assert(contains(runlog, "bad file=acl.example reason=client-not-allowed"));
	cr_assert_eq(tu_count(tu_path(queue, "bad")), 1);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
}

/* Issue 12's special case: an empty trigger (a crash took the content that
 * etrnd does not fsync for rules without %c). */
Test(runner, an_empty_trigger_runs_unless_the_command_uses_the_client)
{
	put_trigger("x.b.example", "");
	put_trigger("a.example", ""); /* its command uses %c */
	cr_assert_eq(once(NULL), 0);
	cr_assert(contains(record, "argc=1 [x.b.example] node=x.b.example rule=@b.example "
				   "client=unknown\n"));
	cr_assert(!contains(record, "a.example "));
	cr_assert(contains(runlog, "bad file=a.example reason=\"content lost\""));
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
}

/* Issue 10 item 2: a trigger etrnd wrote before this version (format 1,
 * and "%40domain" as the name of an @domain node) runs after an upgrade,
 * under the one current name. */
Test(runner, a_trigger_in_the_previous_format_runs)
{
	static const char v1[] = "version=1\nnode=@b.example\nrule=@b.example\n"
				 "client=192.0.2.7\ntime=1\npid=1\n";
	put_trigger("%40b.example", v1);
	cr_assert_eq(once(NULL), 0);
	cr_assert(contains(record, "argc=1 [@b.example] node=@b.example rule=@b.example"), "%s",
		  tu_read(runlog, NULL));
	cr_assert(contains(runlog, "renamed file=%40b.example to=@b.example"));
	put_trigger("%40b.example", v1); /* both names: one run */
	etrn("@b.example");
	cr_assert_eq(once(NULL), 0);
	cr_assert_eq(occurrences(record, "node=@b.example"), 2);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "bad")), 0);
}

/* -- waking up ------------------------------------------------------------ */

Test(runner, fifo_wakes_at_once_and_sighup_rescans)
{
	put_trigger("w.b.example", "version=1\nnode=w.b.example\nrule=@b.example\n"
				   "client=unknown\ntime=1\npid=1\n");
	const char *args[] = {"-r", "3600", NULL};
	runner = start_runner(args);
	cr_assert(wait_for(record, "node=w.b.example", 10)); /* past its first scan */
	etrn("a.example");                                   /* etrnd writes the FIFO */
	cr_assert(wait_for(record, "node=a.example", 5), "the FIFO did not wake the runner");
	/* a trigger that arrives without a wake-up byte: SIGHUP */
	put_trigger("x.b.example", "version=1\nnode=x.b.example\nrule=@b.example\n"
				   "client=unknown\ntime=1\npid=1\n");
	kill(runner, SIGHUP);
	cr_assert(wait_for(record, "node=x.b.example", 5), "SIGHUP did not rescan");
}

/* Issue 9 item 1: the deployment INSTALL describes: the runner as root,
 * etrnd as an unprivileged user who owns tmp/ and new/. The FIFO must let
 * that user wake the runner, whatever the runner's umask. */
Test(runner, etrnd_as_another_user_wakes_the_runner)
{
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() != 0 || !pw)
		cr_skip_test("needs root and a user nobody: etrnd runs as nobody");
	cr_assert_eq(chmod(dir, 0755), 0);
	cr_assert_eq(chmod(cdb, 0644), 0);
	cr_assert_eq(chown(tu_path(queue, "tmp"), pw->pw_uid, pw->pw_gid), 0);
	cr_assert_eq(chown(tu_path(queue, "new"), pw->pw_uid, pw->pw_gid), 0);
	cr_assert_eq(mkfifo(tu_path(queue, "trigger"), 0600), 0); /* as a runner of 0.1 left it */
	etrn_as("w.b.example", "nobody");
	const char *args[] = {"-r", "3600", NULL};
	struct how how = {.umask = 022};
	runner = spawn_runner(args, &how);
	cr_assert(wait_for(record, "node=w.b.example", 10)); /* past its first scan */
	struct stat st;
	cr_assert_eq(stat(tu_path(queue, "trigger"), &st), 0);
	cr_expect_eq(st.st_mode & 07777, QUEUE_FIFO_MODE, "mode %o", st.st_mode & 07777);
	etrn_as("a.example", "nobody");
	/* well inside -r 3600: only the FIFO can wake it (5 s for valgrind) */
	cr_assert(wait_for(record, "node=a.example", 5), "no wake-up from etrnd's user");
}

Test(runner, rebuilt_cdb_takes_effect_without_restart)
{
	runner = start_runner(NULL);
	etrn("x.example");
	cr_assert(wait_for(record, "[first]", 5));
	char *rules = strdup(rules_tmpl), *p = strstr(rules, "first");
	memcpy(p, "other", 5);
	compile(rules);
	free(rules);
	etrn("x.example");
	cr_assert(wait_for(record, "[other]", 5), "the new cdb was not used");
}

Test(runner, usage_errors)
{
	static const char *const bad[][3] = {
	    {"-j", "0"}, {"-x", NULL}, {"--", "relative"}, {"--", "/bin/x", "%z"}, {"-a", "101"}};
	for (size_t i = 0; i < 5; i++) {
		const char *argv[] = {"etrnd-runner", bad[i][0], bad[i][1], bad[i][2], NULL};
		struct tu_run r = tu_exec(dir, argv, "", 0, NULL);
		cr_expect_eq(r.status, 100, "%s", bad[i][0]);
		tu_run_free(&r);
	}
	const char *noq[] = {"etrnd-runner", "-1", "-q", "/nonexistent", NULL};
	struct tu_run r = tu_exec(dir, noq, "", 0, NULL);
	cr_assert_eq(r.status, 111);
	cr_assert(strstr(r.err, "fatal reason="), "%s", r.err);
	tu_run_free(&r);
	cr_assert_eq(rmdir(tu_path(queue, "cur")), 0);
	const char *nocur[] = {"etrnd-runner", "-1", "-q", queue, NULL};
	r = tu_exec(dir, nocur, "", 0, NULL);
	cr_assert_eq(r.status, 111);
	cr_assert(strstr(r.err, "unable to open cur in "), "%s", r.err);
	tu_run_free(&r);
}
