/* SPDX-License-Identifier: ISC */
/* bin/etrnd-runner as a process, fed by the real bin/etrnd. No test sleeps
 * for a fixed time: each waits, with a bound, for the event it needs (a
 * line in a file, a file appearing or going, a process exiting), and runs
 * that must overlap are held open by the record helper's hold files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "testutil.h"
#include "trigger.h"

static char *dir, *cdb, *queue, *record, *runlog;
static pid_t runner = -1;

static const char *rules_tmpl =
    "a.example run=\"@H@/record %n %r %c ';' '$(touch pwned)' `x`\"\n"
    "@b.example run=\"@H@/record %n\"\n"
    "fail.example run=\"/usr/bin/env EXIT=1 @H@/record %n\"\n"
    "slow2.example run=\"/usr/bin/env SLEEP=2 @H@/record %n\"\n"
    "p1.example run=\"@H@/record %n\"\n"
    "p2.example run=\"@H@/record %n\"\n"
    "p3.example run=\"@H@/record %n\"\n"
    "stubborn.example run=\"/bin/sh -c 'trap \\\"\\\" TERM; sleep 30'\" timeout=1\n"
    "iv.example run=\"@H@/record %n\" interval=3600\n"
    "x.example run=\"@H@/record first\"\n"
    "chatty.example run=\"/usr/bin/seq 1 30\"\n"
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

/* ETRN through the real etrnd, which writes the trigger. */
static void etrn(const char *node)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "ETRN %s\r\nQUIT\r\n", node);
	const char *argv[] = {"etrnd", "-n",  "mx.example", "-d",     cdb,
			      "-q",    queue, "-l",         "stderr", NULL};
	const char *env[] = {"TCPREMOTEIP=192.0.2.7", NULL};
	struct tu_run r = tu_exec(dir, argv, cmd, strlen(cmd), env);
	cr_assert(strstr(r.out, "\r\n250 2.0.0"), "%s%s", r.out, r.err);
	tu_run_free(&r);
}

static pid_t start_runner(const char *const *extra)
{
	const char *argv[32] = {"etrnd-runner", "-q", queue, "-d", cdb};
	tu_append(argv, 5, extra);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(runlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(fd, 2);
		tu_execv(tu_bin("etrnd-runner"), argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to seconds for pid to exit: its status (or 128+signal), or -1
 * when it did not (it is then killed). */
static int wait_exit(pid_t pid, int seconds)
{
	int st;
	for (int i = 0; i < seconds * 100; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		cr_assert(w >= 0, "waitpid: %s", strerror(errno));
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Runs etrnd-runner -1 to completion (30 s at most); its exit status. */
static int once(const char *const *extra)
{
	const char *args[16] = {"-1"};
	int n = 1;
	for (int i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	int st = wait_exit(start_runner(args), 30);
	cr_assert_neq(st, -1, "etrnd-runner -1 did not finish in 30 s");
	return st;
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

static int lines(const char *path)
{
	char *s = tu_read(path, NULL);
	int n = 0;
	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
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

/* A trigger file put into new/ as etrnd would (tmp/, then rename). */
static void put_trigger(const char *name, const char *content)
{
	tu_write(tu_path(queue, "tmp/put"), content);
	cr_assert_eq(rename(tu_path(queue, "tmp/put"), tu_path(tu_path(queue, "new"), name)), 0);
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
	cr_assert(contains(runlog, "bad file=x.b.example reason=unreadable"));
	cr_assert_eq(access(record, F_OK), -1, "the oversized trigger ran");
}

/* -- one node, one command: timeouts, restarts ---------------------------- */

Test(runner, timeout_kills_a_command_that_ignores_sigterm)
{
	etrn("stubborn.example");
	cr_assert_eq(once(NULL), 1);
	cr_assert(contains(runlog, "timeout node=stubborn.example"));
	cr_assert(contains(runlog, "status=signal:9"), "not SIGKILLed");
	cr_assert(contains(runlog, "killed=timeout"));
	cr_assert_eq(access(tu_path(queue, "new/stubborn.example"), F_OK), 0, "trigger lost");
}

Test(runner, crash_in_a_run_then_restart_runs_the_node_again)
{
	runner = start_runner(NULL);
	etrn("slow2.example");
	cr_assert(wait_for(record, "node=slow2.example", 5));
	kill(runner, SIGKILL);
	waitpid(runner, NULL, 0);
	runner = -1;
	cr_assert_eq(access(tu_path(queue, "cur/slow2.example"), F_OK), 0);
	cr_assert_eq(once(NULL), 0);
	cr_assert(contains(runlog, "recovered triggers=1"));
	cr_assert_eq(lines(record), 2);
	cr_assert_eq(tu_count(tu_path(queue, "cur")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
}

Test(runner, one_run_per_node_and_an_etrn_during_a_run_gets_its_own_run)
{
	const char *args[] = {"-j", "4", NULL};
	tu_write(hold("h.b.example"), "");
	runner = start_runner(args);
	etrn("h.b.example");
	cr_assert(wait_for(record, "node=h.b.example", 10));
	etrn("h.b.example"); /* while the first run is held open */
	etrn("h.b.example");
	cr_assert_eq(unlink(hold("h.b.example")), 0);
	cr_assert(wait_n(runlog, "run node=h.b.example", 2, 20),
		  "the ETRNs during the run were lost");
	cr_assert(wait_count(tu_path(queue, "cur"), 0, 10));
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0, "a third run is pending");
	cr_assert_eq(stop_runner(), 0);
	cr_assert_eq(lines(record), 2);
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
	cr_assert_eq(lines(record), 6);
	cr_assert_eq(max_concurrency(), 1);
}

Test(runner, sigterm_lets_the_run_finish)
{
	tu_write(hold("s.b.example"), "");
	runner = start_runner(NULL);
	etrn("s.b.example");
	cr_assert(wait_for(record, "node=s.b.example", 10));
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
	cr_assert_eq(lines(record), 3);
	cr_assert(contains(runlog, "status=exit:1 ms="));
	cr_assert(contains(runlog, "attempt=3"));
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "cur")), 0);
	cr_assert_eq(stop_runner(), 0);
}

Test(runner, interval_holds_a_trigger_without_losing_it)
{
	etrn("iv.example");
	once(NULL);
	etrn("iv.example");
	once(NULL);
	cr_assert_eq(lines(record), 1, "ran twice inside the interval");
	cr_assert_eq(access(tu_path(queue, "new/iv.example"), F_OK), 0, "trigger lost");
	cr_assert_eq(unlink(tu_path(queue, "last/iv.example")), 0);
	once(NULL);
	cr_assert_eq(lines(record), 2);
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
