/* SPDX-License-Identifier: ISC */
/* bin/etrnd as a process: sockets, limits, timeouts, failures, logs. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "testutil.h"

static char *dir;
static const char *cdb, *queue;

static const char *rules = "client.example.net\n"
			   "local.example.net allow=127.0.0.0/8\n"
			   "far.example.net allow=192.0.2.0/24\n"
			   "v6.example.net allow=::1\n"
			   "@example.org\n";

static void setup(void)
{
	dir = tu_tmpdir();
	cdb = strdup(tu_path(dir, "etrn.cdb"));
	cr_assert_eq(tu_rules(dir, rules, cdb), 0);
	queue = strdup(tu_queue(dir));
}

static void teardown(void)
{
	tu_rmtree(dir);
}

TestSuite(etrnd, .init = setup, .fini = teardown, .timeout = 30);

/* Starts bin/etrnd on the given fds; extra args after the standard ones. */
static pid_t spawn(int fd0, int fd1, int fd2, const char *const *extra, const char *const *env)
{
	const char *argv[32] = {"etrnd", "-n", "mx.example", "-d", cdb, "-q", queue};
	tu_append(argv, 7, extra);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		if (fd2 == 2) /* keep the test report readable */
			fd2 = open("/dev/null", O_WRONLY);
		dup2(fd0, 0), dup2(fd1, 1), dup2(fd2, 2);
		for (int i = 3; i < 64; i++)
			close(i);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		tu_execv(tu_bin("etrnd"), argv);
		_exit(127);
	}
	return pid;
}

static struct tu_run session(const char *input, size_t len, const char *const *extra)
{
	const char *argv[32] = {"etrnd", "-n",  "mx.example", "-d",    cdb,
				"-q",    queue, "-l",         "stderr"};
	int n = 9;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	const char *env[] = {"TCPREMOTEIP=192.0.2.7", NULL};
	return tu_exec(dir, argv, input, len, env);
}

Test(etrnd, pipelined_group_is_answered_in_one_write)
{
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, out), 0);
	const char *script = "EHLO c.example\r\nETRN client.example.net\r\nETRN @example.org\r\n"
			     "NOOP\r\nQUIT\r\n";
	cr_assert_eq(write(in[1], script, strlen(script)), (ssize_t)strlen(script));
	close(in[1]);
	pid_t pid = spawn(in[0], out[1], 2, NULL, NULL);
	close(in[0]), close(out[1]);
	char rec[8192];
	int records = 0;
	ssize_t r, total = 0;
	while ((r = read(out[0], rec, sizeof rec)) > 0)
		records++, total += r;
	cr_assert_eq(tu_wait_exit(pid, 10), 0);
	cr_assert_eq(records, 1, "greeting and 5 replies came in %d writes", records);
	cr_assert_gt(total, 100);
	close(out[0]);
}

Test(etrnd, pipelining_after_a_round_trip)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid_t pid = spawn(sv[1], sv[1], 2, NULL, NULL);
	close(sv[1]);
	char buf[4096];
	ssize_t r = read(sv[0], buf, sizeof buf);
	cr_assert_gt(r, 0);
	cr_assert_eq(strncmp(buf, "220 ", 4), 0);
	const char *group = "ETRN a.example.org\r\nETRN b.example.org\r\nETRN nothere.example\r\n";
	cr_assert_eq(write(sv[0], group, strlen(group)), (ssize_t)strlen(group));
	r = read(sv[0], buf, sizeof buf - 1);
	cr_assert_gt(r, 0);
	buf[r] = '\0';
	cr_assert_str_eq(buf, "250 2.0.0 OK, queuing for node a.example.org started\r\n"
			      "250 2.0.0 OK, queuing for node b.example.org started\r\n"
			      "458 4.3.0 Unable to queue messages for node nothere.example\r\n");
	cr_assert_eq(write(sv[0], "QUIT\r\n", 6), 6);
	free(tu_slurp_fd(sv[0], 5, NULL));
	cr_assert_eq(tu_wait_exit(pid, 10), 0);
	close(sv[0]);
}

Test(etrnd, flood_leaves_one_trigger)
{
	char script[4096] = "";
	for (int i = 0; i < SMTP_MAX_ETRN; i++)
		strcat(script, "ETRN Client.Example.Net\r\n");
	strcat(script, "QUIT\r\n");
	for (int s = 0; s < 5; s++) {
		struct tu_run r = session(script, strlen(script), NULL);
		cr_assert_eq(r.status, 0);
		cr_assert_eq(strstr(r.out, "221 ") != NULL, 1);
		tu_run_free(&r);
	}
	cr_assert_eq(tu_count(tu_path(queue, "new")), 1);
	cr_assert_eq(tu_count(tu_path(queue, "tmp")), 0);
	char *c = tu_read(tu_path(queue, "new/client.example.net"), NULL);
	cr_assert(c && strstr(c, "node=client.example.net\nrule=client.example.net\n"
				 "client=192.0.2.7\n"));
	free(c);
}

Test(etrnd, etrn_limit_closes_with_421)
{
	char script[4096] = "";
	for (int i = 0; i <= SMTP_MAX_ETRN; i++)
		strcat(script, "ETRN x.example.org\r\n");
	strcat(script, "NOOP\r\n");
	struct tu_run r = session(script, strlen(script), NULL);
	cr_assert(strstr(r.out, "421 4.7.0 mx.example Too many ETRN commands"));
	cr_assert(!strstr(r.out, "250 2.0.0 OK\r\n"), "NOOP answered after 421");
	cr_assert(strstr(r.err, "why=etrn-limit"), "%s", r.err);
	tu_run_free(&r);
}

/* 1M NOOPs took 0.3 s and were all answered: other commands have a limit. */
Test(etrnd, noop_flood_is_cut_at_the_command_limit)
{
	size_t one = strlen("NOOP\r\n"), n = SMTP_MAX_OTHER + 50;
	char *script = malloc(n * one + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(script + i * one, "NOOP\r\n", one);
	struct tu_run r = session(script, n * one, NULL);
	cr_assert_eq(r.status, 0);
	size_t oks = 0;
	for (const char *p = r.out; (p = strstr(p, "250 2.0.0 OK\r\n")) != NULL; p++)
		oks++;
	cr_assert_eq(oks, SMTP_MAX_OTHER, "%zu NOOPs answered 250", oks);
	const char *tail = "250 2.0.0 OK\r\n421 4.7.0 mx.example Too many commands, closing "
			   "connection\r\n";
	cr_assert_str_eq(r.out + r.outlen - strlen(tail), tail);
	char counts[64];
	snprintf(counts, sizeof counts, " commands=%d etrn=0 errors=0 ", SMTP_MAX_OTHER + 1);
	cr_assert(strstr(r.err, counts) && strstr(r.err, " why=command-limit\n"), "%s", r.err);
	free(script);
	tu_run_free(&r);
}

static char *line_of(size_t len, const char *end)
{
	char *s = malloc(len + 16);
	memset(s, 'x', len);
	strcpy(s + len, end);
	return s;
}

Test(etrnd, line_length_limit)
{
	char script[20000];
	char *ok = line_of(SMTP_TEXT_MAX, "\r\n"), *over = line_of(SMTP_TEXT_MAX + 1, "\r\n"),
	     *huge = line_of(9000, "\n");
	snprintf(script, sizeof script, "%s%s%sNOOP\nQUIT\r\n", ok, over, huge);
	struct tu_run r = session(script, strlen(script), NULL);
	cr_assert_str_eq(r.out, "220 mx.example ESMTP\r\n"
				"500 5.5.2 Syntax error, command unrecognized\r\n"
				"500 5.5.2 Line too long\r\n"
				"500 5.5.2 Line too long\r\n"
				"250 2.0.0 OK\r\n"
				"221 2.0.0 mx.example closing connection\r\n");
	free(ok), free(over), free(huge);
	tu_run_free(&r);
}

/* NUL or 8-bit octets: 500 in the verb, 501 in any command's argument. */
Test(etrnd, nul_and_8bit_bytes)
{
	static const char script[] = "ETRN a\0b.example\r\nNO\0OP\r\nETRN caf\xe9.example\r\n"
				     "HELO \x80\r\nNOOP \xff\r\nRSET \0\r\nQUIT\r\n";
	struct tu_run r = session(script, sizeof script - 1, NULL);
	cr_assert_str_eq(r.out, "220 mx.example ESMTP\r\n"
				"501 5.5.4 Syntax Error in Parameters\r\n"
				"500 5.5.2 Syntax error, command unrecognized\r\n"
				"501 5.5.4 Syntax Error in Parameters\r\n"
				"501 5.5.4 Syntax Error in Parameters\r\n"
				"501 5.5.4 Syntax Error in Parameters\r\n"
				"501 5.5.4 Syntax Error in Parameters\r\n"
				"221 2.0.0 mx.example closing connection\r\n");
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	tu_run_free(&r);
}

Test(etrnd, idle_timeout)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int errp[2];
	cr_assert_eq(pipe(errp), 0);
	const char *extra[] = {"-t", "1", "-l", "stderr", NULL};
	pid_t pid = spawn(sv[1], sv[1], errp[1], extra, NULL);
	close(sv[1]), close(errp[1]);
	char *got = tu_slurp_fd(sv[0], 8, NULL);
	cr_assert_str_eq(
	    got, "220 mx.example ESMTP\r\n421 4.4.2 mx.example Error: timeout exceeded\r\n");
	cr_assert_eq(tu_wait_exit(pid, 5), 0);
	char *log = tu_slurp_fd(errp[0], 1, NULL);
	cr_assert(strstr(log, "why=timeout"), "%s", log);
	free(got), free(log);
}

Test(etrnd, session_deadline_cuts_a_slow_client)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int errp[2];
	cr_assert_eq(pipe(errp), 0);
	const char *extra[] = {"-t", "60", "-T", "2", "-l", "stderr", NULL};
	pid_t pid = spawn(sv[1], sv[1], errp[1], extra, NULL);
	close(sv[1]), close(errp[1]);
	signal(SIGPIPE, SIG_IGN); /* etrnd closes the socket as it goes */
	/* a byte whenever etrnd has not exited for 100 ms: never idle, never
	 * done; the 2 s deadline must end it long before 60 bytes */
	int exited = 0;
	for (int i = 0; i < 60 && !exited; i++)
		exited = write(sv[0], "N", 1) != 1 || tu_exits_within(pid, 100);
	cr_assert(exited, "etrnd still running 6 s into a 2 s deadline");
	char *got = tu_slurp_fd(sv[0], 3, NULL);
	cr_assert(strstr(got, "421 4.4.2 mx.example Error: timeout exceeded\r\n"), "%s", got);
	cr_assert_eq(tu_wait_exit(pid, 5), 0);
	char *log = tu_slurp_fd(errp[0], 1, NULL);
	cr_assert(strstr(log, "why=deadline"), "%s", log);
	free(got), free(log);
}

Test(etrnd, client_that_never_reads_cannot_outstay_the_deadline)
{
	int sv[2];
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	const char *extra[] = {"-T", "2", "-l", "stderr", NULL};
	int devnull = open("/dev/null", O_WRONLY);
	pid_t pid = spawn(sv[1], sv[1], devnull, extra, NULL);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	char noops[6000];
	for (int i = 0; i < 1000; i++)
		memcpy(noops + 6 * i, "NOOP\r\n", 6);
	long long start = tu_now_ms();
	int exited = 0;
	while (!exited && tu_now_ms() - start < 10000) {
		(void)!write(sv[0], noops, sizeof noops);
		exited = tu_exits_within(pid, 20);
	}
	int status = tu_wait_exit(pid, 1);
	cr_assert_eq(status, 0, "etrnd still running 10 s into a 2 s deadline");
	cr_assert_leq(tu_now_ms() - start, 6000);
	close(sv[0]);
	close(devnull);
}

Test(etrnd, missing_queue_and_cdb_failures_answer_458_and_go_on)
{
	const char *s = "ETRN client.example.net\r\nNOOP\r\nQUIT\r\n";
	const char *nq[] = {"-q", "/nonexistent/queue", NULL};
	struct tu_run r = session(s, strlen(s), nq);
	cr_assert_str_eq(r.out, "220 mx.example ESMTP\r\n"
				"458 4.3.0 Unable to queue messages for node client.example.net\r\n"
				"250 2.0.0 OK\r\n221 2.0.0 mx.example closing connection\r\n");
	cr_assert(strstr(r.err, "reason=trigger-write-failed"), "%s", r.err);
	tu_run_free(&r);

	const char *missing[] = {"-d", "/nonexistent/etrn.cdb", NULL};
	r = session(s, strlen(s), missing);
	cr_assert(strstr(r.out, "458 4.3.0 Unable to queue messages for node client.example.net"));
	cr_assert(strstr(r.out, "250 2.0.0 OK\r\n"));
	cr_assert(strstr(r.err, "reason=cdb-error"), "%s", r.err);
	tu_run_free(&r);

	/* a cdb cut in half, and one with its data overwritten */
	size_t len;
	char *good = tu_read(cdb, &len);
	FILE *f = fopen(cdb, "w");
	fwrite(good, 1, len / 2, f);
	fclose(f);
	r = session(s, strlen(s), NULL);
	cr_assert(strstr(r.out, "458 4.3.0"), "%s", r.out);
	cr_assert(strstr(r.out, "250 2.0.0 OK\r\n"));
	tu_run_free(&r);
	memset(good + 2048, 0xff, len - 2048 > 40 ? 40 : len - 2048);
	f = fopen(cdb, "w");
	fwrite(good, 1, len, f);
	fclose(f);
	r = session(s, strlen(s), NULL);
	cr_assert(strstr(r.out, "458 4.3.0"), "%s", r.out);
	tu_run_free(&r);
	free(good);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "tmp")), 0);
}

Test(etrnd, unwritable_queue_as_unprivileged_user)
{
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root, to start etrnd -u nobody");
	const struct passwd *pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("skipped: no user nobody on this system");
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	chmod(dir, 0755);
	const char *s = "ETRN client.example.net\r\nQUIT\r\n";
	const char *user[] = {"-u", "nobody", NULL};
	struct tu_run r = session(s, strlen(s), user);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "458 4.3.0 Unable to queue messages for node client.example.net"),
		  "%s", r.out);
	cr_assert(strstr(r.err, "Permission denied"), "%s", r.err);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	cr_assert_eq(tu_count(tu_path(queue, "tmp")), 0);
	tu_run_free(&r);
	/* the same, with the queue's tmp/ and new/ writable by nobody */
	cr_assert_eq(chown(tu_path(queue, "tmp"), uid, gid), 0);
	cr_assert_eq(chown(tu_path(queue, "new"), uid, gid), 0);
	r = session(s, strlen(s), user);
	cr_assert(strstr(r.out, "250 2.0.0 OK, queuing for node client.example.net started"),
		  "%s%s", r.out, r.err);
	tu_run_free(&r);
	struct stat st; /* written by nobody: the privileges were really dropped */
	cr_assert_eq(stat(tu_path(queue, "new/client.example.net"), &st), 0);
	cr_assert_eq(st.st_uid, uid);
	cr_assert_eq(st.st_gid, gid);
}

Test(etrnd, log_lines)
{
	const char *s = "HELO c.example\r\nETRN client.example.net\r\nETRN local.example.net\r\n"
			"QUIT\r\n";
	struct tu_run r = session(s, strlen(s), NULL);
	char want[200];
	snprintf(want, sizeof want, "etrnd[");
	cr_assert(strstr(r.err, want));
	cr_assert(strstr(r.err, "]: etrn client=192.0.2.7 node=client.example.net "
				"rule=client.example.net code=250\n"),
		  "%s", r.err);
	cr_assert(strstr(r.err, "]: etrn client=192.0.2.7 node=local.example.net "
				"rule=local.example.net code=459 reason=client-not-allowed\n"),
		  "%s", r.err);
	cr_assert(strstr(r.err, "]: end client=192.0.2.7 helo=c.example commands=4 etrn=2 "
				"errors=0 seconds=0 why=quit\n"),
		  "%s", r.err);
	tu_run_free(&r);
}

Test(etrnd, usage_errors_exit_100)
{
	static const char *const bad[][3] = {
	    {"-x", NULL}, {"-t", "abc"}, {"-t", "0"}, {"-l", "file"}, {"extra", NULL}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tu_run r = session("", 0, bad[i]);
		cr_expect_eq(r.status, 100, "%s", bad[i][0]);
		cr_expect(strstr(r.err, "usage: etrnd"), "%s", r.err);
		cr_expect_eq(r.outlen, 0);
		tu_run_free(&r);
	}
}

Test(etrnd, logs_go_to_syslog_when_fd2_is_the_client_socket)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = spawn(sv[1], sv[1], sv[1], NULL, NULL);
	close(sv[1]);
	const char *s = "ETRN nothere.example\r\nQUIT\r\n";
	cr_assert_eq(write(sv[0], s, strlen(s)), (ssize_t)strlen(s));
	char *got = tu_slurp_fd(sv[0], 5, NULL);
	cr_assert_eq(tu_wait_exit(pid, 5), 0);
	cr_assert_str_eq(got, "220 mx.example ESMTP\r\n"
			      "458 4.3.0 Unable to queue messages for node nothere.example\r\n"
			      "221 2.0.0 mx.example closing connection\r\n");
	free(got);
}

/* A real TCP connection: the ACL sees getpeername(), not the environment. */
static void tcp_acl(int family, const char *listen_addr, const char *node, const char *want)
{
	int l = socket(family, SOCK_STREAM, 0);
	if (l < 0)
		cr_skip_test("skipped: no %s sockets here (%s)",
			     family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, listen_addr, &s4->sin_addr);
		len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, listen_addr, &s6->sin6_addr);
		len = sizeof *s6;
	}
	if (bind(l, (struct sockaddr *)&ss, len) < 0)
		cr_skip_test("skipped: cannot bind %s (%s): no such loopback address here",
			     listen_addr, strerror(errno));
	cr_assert_eq(listen(l, 1), 0);
	getsockname(l, (struct sockaddr *)&ss, &len);
	int c = socket(family, SOCK_STREAM, 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&ss, len), 0);
	int a = accept(l, NULL, NULL);
	cr_assert_geq(a, 0);
	const char *env[] = {"TCPREMOTEIP=192.0.2.7", NULL}; /* must be ignored */
	pid_t pid = spawn(a, a, 2, (const char *[]){"-l", "stderr", NULL}, env);
	close(a), close(l);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "ETRN %s\r\nQUIT\r\n", node);
	cr_assert_eq(write(c, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	char *got = tu_slurp_fd(c, 5, NULL);
	cr_assert(strstr(got, want), "%s: %s", node, got);
	cr_assert_eq(tu_wait_exit(pid, 5), 0);
	close(c);
	free(got);
}

Test(etrnd, tcp_peer_address_reaches_the_acl)
{
	tcp_acl(AF_INET, "127.0.0.1", "local.example.net",
		"250 2.0.0 OK, queuing for node local.example.net started");
	tcp_acl(AF_INET, "127.0.0.1", "far.example.net",
		"459 4.7.1 Node far.example.net not allowed: client not authorized");
}

/* Skipped, saying so, where the host has no ::1. */
Test(etrnd, tcp_ipv6_peer_address_reaches_the_acl)
{
	tcp_acl(AF_INET6, "::1", "v6.example.net",
		"250 2.0.0 OK, queuing for node v6.example.net started");
	tcp_acl(AF_INET6, "::ffff:127.0.0.1", "local.example.net",
		"250 2.0.0 OK, queuing for node local.example.net started");
}

Test(etrnd, client_address_from_the_environment)
{
	const char *s = "ETRN far.example.net\r\nETRN client.example.net\r\nQUIT\r\n";
	const char *argv[] = {"etrnd", "-n",  "mx.example", "-d",     cdb,
			      "-q",    queue, "-l",         "stderr", NULL};
	const char *env1[] = {"REMOTE_ADDR=192.0.2.9", NULL};
	struct tu_run r = tu_exec(dir, argv, s, strlen(s), env1);
	cr_assert(strstr(r.out, "250 2.0.0 OK, queuing for node far.example.net"), "%s", r.out);
	tu_run_free(&r);
	const char *env2[] = {"REMOTE_HOST=not-an-address", NULL};
	r = tu_exec(dir, argv, s, strlen(s), env2);
	cr_assert(strstr(r.out, "459 4.7.1 Node far.example.net not allowed"), "%s", r.out);
	cr_assert(strstr(r.out, "250 2.0.0 OK, queuing for node client.example.net"), "%s", r.out);
	cr_assert(strstr(r.err, "client=unknown"), "%s", r.err);
	tu_run_free(&r);
}

Test(etrnd, greeting_name)
{
	const char *argv[] = {"etrnd", "-d", cdb, "-q", queue, "-l", "stderr", NULL};
	const char *env[] = {"TCPLOCALHOST=MX1.Example.COM", NULL};
	struct tu_run r = tu_exec(dir, argv, "QUIT\r\n", 6, env);
	cr_assert_eq(strncmp(r.out, "220 mx1.example.com ESMTP\r\n", 27), 0, "%s", r.out);
	tu_run_free(&r);
	const char *env2[] = {"TCPLOCALHOST=bad name\r\n250 injected", NULL};
	r = tu_exec(dir, argv, "QUIT\r\n", 6, env2);
	cr_assert(!strstr(r.out, "injected"), "%s", r.out);
	tu_run_free(&r);
}

/* No -n, no valid TCPLOCALHOST, no valid host name: "localhost", as
 * etrnd(8) says. The host name is set in a UTS namespace of etrnd's own. */
Test(etrnd, greeting_name_falls_back_to_localhost)
{
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root, to give etrnd a host name of its own");
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(write(in[1], "QUIT\r\n", 6), 6);
	close(in[1]);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static const char bad[] = "not_a_host!";
		if (unshare(CLONE_NEWUTS) < 0 || sethostname(bad, sizeof bad - 1) < 0)
			_exit(99);
		const char *argv[] = {"etrnd", "-d", cdb, "-q", queue, "-l", "stderr", NULL};
		int nul = open("/dev/null", O_WRONLY);
		dup2(in[0], 0), dup2(out[1], 1), dup2(nul, 2);
		putenv("TCPLOCALHOST=bad name");
		tu_execv(tu_bin("etrnd"), argv);
		_exit(127);
	}
	close(in[0]), close(out[1]);
	char *got = tu_slurp_fd(out[0], 10, NULL);
	int status = tu_wait_exit(pid, 10);
	if (status == 99)
		cr_skip_test("skipped: no UTS namespace here");
	cr_assert_eq(status, 0);
	cr_assert_str_eq(got, "220 localhost ESMTP\r\n221 2.0.0 localhost closing connection\r\n");
	free(got);
	close(out[0]);
}

/* Runs a script through etrnd with stdout on a pipe and a limit applied in
 * the child first (RLIMIT_FSIZE: the disk is "full" for regular files). */
static char *limited(const char *script, int resource, rlim_t value)
{
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(write(in[1], script, strlen(script)), (ssize_t)strlen(script));
	close(in[1]);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {value, value};
		setrlimit(resource, &rl);
		const char *argv[] = {"etrnd", "-n",  "mx.example", "-d",     cdb,
				      "-q",    queue, "-l",         "stderr", NULL};
		int nul = open("/dev/null", O_WRONLY);
		dup2(in[0], 0), dup2(out[1], 1), dup2(nul, 2);
		putenv("TCPREMOTEIP=192.0.2.7");
		/* not under $ETRND_WRAP: valgrind's own files would hit the limit */
		execv(tu_bin("etrnd"), (char *const *)argv);
		_exit(127);
	}
	close(in[0]), close(out[1]);
	char *got = tu_slurp_fd(out[0], 10, NULL);
	cr_assert_eq(tu_wait_exit(pid, 10), 0);
	close(out[0]);
	return got;
}

Test(etrnd, no_space_for_the_trigger_answers_458_and_leaves_nothing)
{
	char *got = limited("ETRN client.example.net\r\nNOOP\r\nQUIT\r\n", RLIMIT_FSIZE, 10);
	cr_assert_str_eq(got, "220 mx.example ESMTP\r\n"
			      "458 4.3.0 Unable to queue messages for node client.example.net\r\n"
			      "250 2.0.0 OK\r\n221 2.0.0 mx.example closing connection\r\n");
	cr_assert_eq(tu_count(tu_path(queue, "tmp")), 0, "half-written temp file left");
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	free(got);
}

Test(etrnd, a_fifo_without_reader_does_not_block)
{
	cr_assert_eq(mkfifo(tu_path(queue, "trigger"), 0622), 0);
	long long t0 = time(NULL);
	const char *s = "ETRN client.example.net\r\nQUIT\r\n";
	struct tu_run r = session(s, strlen(s), NULL);
	cr_assert(strstr(r.out, "250 2.0.0 OK, queuing for node client.example.net started"));
	cr_assert_leq(time(NULL) - t0, 5);
	tu_run_free(&r);
	/* with a reader, the wake-up byte arrives */
	int fd = open(tu_path(queue, "trigger"), O_RDONLY | O_NONBLOCK);
	cr_assert_geq(fd, 0);
	r = session(s, strlen(s), NULL);
	char b[8];
	cr_assert_eq(read(fd, b, sizeof b), 1);
	close(fd);
	tu_run_free(&r);
}

/* QUEUEDIR may be a symbolic link; its tmp/ and new/ may not (the runner
 * agrees: etrnd-runner(8)). */
Test(etrnd, a_symlinked_queuedir_is_used)
{
	const char *link = strdup(tu_path(dir, "queue-link"));
	cr_assert_eq(symlink(queue, link), 0);
	const char *s = "ETRN client.example.net\r\nQUIT\r\n";
	const char *q[] = {"-q", link, NULL};
	struct tu_run r = session(s, strlen(s), q);
	cr_assert(strstr(r.out, "250 2.0.0 OK, queuing for node client.example.net started"),
		  "%s%s", r.out, r.err);
	cr_assert(!strstr(r.err, "warning queue="), "%s", r.err);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 1);
	tu_run_free(&r);
}

static void symlinked_part(const char *part)
{
	char real[4096], want[4200];
	snprintf(real, sizeof real, "%s/elsewhere-%s", dir, part);
	cr_assert_eq(mkdir(real, 0755), 0);
	cr_assert_eq(rmdir(tu_path(queue, part)), 0);
	cr_assert_eq(symlink(real, tu_path(queue, part)), 0);
	const char *s = "ETRN client.example.net\r\nQUIT\r\n";
	struct tu_run r = session(s, strlen(s), NULL);
	cr_assert(strstr(r.out, "458 4.3.0 Unable to queue messages for node client.example.net"),
		  "%s: %s", part, r.out);
	snprintf(
	    want, sizeof want,
	    "warning queue=%s/%s reason=\"a symbolic link; only QUEUEDIR itself may be one\"\n",
	    queue, part);
	cr_assert(strstr(r.err, want), "%s", r.err);
	cr_assert(strstr(r.err, "reason=trigger-write-failed"), "%s", r.err);
	cr_assert_eq(tu_count(real), 0, "%s: written through the symbolic link", part);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	tu_run_free(&r);
}

Test(etrnd, a_symlinked_tmp_is_refused)
{
	symlinked_part("tmp");
}

Test(etrnd, a_symlinked_new_is_refused)
{
	symlinked_part("new");
}

/* etrnd's warning at the start about a part of the queue. */
static void expect_queue_warning(const char *err, const char *path, const char *reason)
{
	char want[4200];
	snprintf(want, sizeof want, "warning queue=%s reason=\"%s\"\n", path, reason);
	cr_assert(strstr(err, want), "%s", err);
}

/* tmp/ is required: a queue without it is named in the log at the start. */
Test(etrnd, a_queue_without_tmp_is_named_in_the_log)
{
	cr_assert_eq(rmdir(tu_path(queue, "tmp")), 0);
	const char *s = "NOOP\r\nETRN client.example.net\r\nQUIT\r\n";
	struct tu_run r = session(s, strlen(s), NULL);
	cr_assert_str_eq(r.out, "220 mx.example ESMTP\r\n250 2.0.0 OK\r\n"
				"458 4.3.0 Unable to queue messages for node client.example.net\r\n"
				"221 2.0.0 mx.example closing connection\r\n");
	expect_queue_warning(r.err, tu_path(queue, "tmp"), "No such file or directory");
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	tu_run_free(&r);
}

/* QUEUEDIR itself missing: named in the log at the start, once (tmp/ and
 * new/ below it are not named as well); an ETRN is a 458, and a later one
 * too, not a crash on the queue that could not be opened. */
Test(etrnd, a_missing_queuedir_is_named_in_the_log)
{
	const char *gone = strdup(tu_path(dir, "no-such-queue"));
	const char *s = "ETRN client.example.net\r\nETRN @example.org\r\nQUIT\r\n";
	const char *q[] = {"-q", gone, NULL};
	struct tu_run r = session(s, strlen(s), q);
	cr_assert_str_eq(r.out, "220 mx.example ESMTP\r\n"
				"458 4.3.0 Unable to queue messages for node client.example.net\r\n"
				"458 4.3.0 Unable to queue messages for node @example.org\r\n"
				"221 2.0.0 mx.example closing connection\r\n");
	expect_queue_warning(r.err, gone, "No such file or directory");
	cr_assert(!strstr(r.err, "/tmp reason="), "%s", r.err);
	cr_assert(!strstr(r.err, "/new reason="), "%s", r.err);
	cr_assert(
	    strstr(r.err,
		   "node=@example.org rule=@example.org code=458 reason=trigger-write-failed"),
	    "%s", r.err);
	tu_run_free(&r);
}

Test(etrnd, unreadable_spool_is_250_with_a_log_line)
{
	cr_assert_eq(tu_rules(dir, "held.example spool=/nonexistent/spool\n", cdb), 0);
	const char *s = "ETRN held.example\r\nQUIT\r\n";
	struct tu_run r = session(s, strlen(s), NULL);
	cr_assert(strstr(r.out, "250 2.0.0 OK, queuing for node held.example started"), "%s",
		  r.out);
	cr_assert(
	    strstr(r.err, "code=250 reason=spool-unreadable error=\"No such file or directory\""),
	    "%s", r.err);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 1);
	tu_run_free(&r);
}

/* ETRN @legacy.example.org got 250 through @example.org although the host
 * rule legacy.example.org says deny=: the host's refusal covers a request
 * for its domain, whichever rule the file lists first. */
static void domain_request_and_host_deny(const char *rules_text)
{
	cr_assert_eq(tu_rules(dir, rules_text, cdb), 0);
	const char *s = "ETRN @legacy.example.org\r\nETRN @example.org\r\n"
			"ETRN legacy.example.org\r\nETRN other.example.org\r\nQUIT\r\n";
	struct tu_run r = session(s, strlen(s), NULL);
	cr_assert_str_eq(r.out,
			 "220 mx.example ESMTP\r\n"
			 "459 4.7.1 Node @legacy.example.org not allowed: retired\r\n"
			 "250 2.0.0 OK, queuing for node @example.org started\r\n"
			 "459 4.7.1 Node legacy.example.org not allowed: retired\r\n"
			 "250 2.0.0 OK, queuing for node other.example.org started\r\n"
			 "221 2.0.0 mx.example closing connection\r\n",
			 "rules:\n%s", rules_text);
	cr_assert(strstr(r.err, "node=@legacy.example.org rule=legacy.example.org code=459 "
				"reason=denied\n"),
		  "%s", r.err);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 2);
	struct stat st;
	cr_assert_neq(stat(tu_path(queue, "new/@legacy.example.org"), &st), 0);
	tu_run_free(&r);
}

Test(etrnd, host_deny_refuses_its_domain_request_domain_rule_first)
{
	domain_request_and_host_deny("@example.org\nlegacy.example.org deny=\"retired\"\n");
}

Test(etrnd, host_deny_refuses_its_domain_request_host_rule_first)
{
	domain_request_and_host_deny("legacy.example.org deny=\"retired\"\n@example.org\n");
}

/* A domain of the longest valid length: "@" and 253 octets. Its trigger
 * name was "%40" and the domain, 256 octets, so every such ETRN got 458. */
static void long_domain(char *out)
{
	static const char *const labels[] = {"a", "b", "c"};
	size_t n = 0;
	for (int i = 0; i < 3; i++) { /* 3 x 63 octets and their dots */
		memset(out + n, labels[i][0], NODE_LABEL_MAX);
		n += NODE_LABEL_MAX;
		out[n++] = '.';
	}
	size_t rest = NODE_HOST_MAX - n - strlen(".example.org");
	memset(out + n, 'd', rest);
	strcpy(out + n + rest, ".example.org");
	cr_assert_eq(strlen(out), NODE_HOST_MAX);
}

Test(etrnd, the_longest_domain_gets_a_trigger)
{
	char host[NODE_BUF], script[1024], want[1024];
	long_domain(host);
	snprintf(script, sizeof script, "ETRN @%s\r\nETRN %s\r\nQUIT\r\n", host, host);
	struct tu_run r = session(script, strlen(script), NULL);
	snprintf(want, sizeof want,
		 "220 mx.example ESMTP\r\n"
		 "250 2.0.0 OK, queuing for node @%s started\r\n"
		 "250 2.0.0 OK, queuing for node %s started\r\n"
		 "221 2.0.0 mx.example closing connection\r\n",
		 host, host);
	cr_assert_str_eq(r.out, want, "%s", r.err);
	/* two nodes, two triggers: names stay injective at the limit */
	cr_assert_eq(tu_count(tu_path(queue, "new")), 2);
	char name[NODE_BUF + 1];
	snprintf(name, sizeof name, "@%s", host);
	cr_assert_eq(strlen(name), NODE_HOST_MAX + 1);
	char *c = tu_read(tu_path(tu_path(queue, "new"), name), NULL);
	cr_assert(c, "no new/@<253-octet domain>");
	snprintf(want, sizeof want, "node=@%s\nrule=@example.org\n", host);
	cr_assert(strstr(c, want), "%s", c);
	free(c);
	cr_assert_eq(tu_count(tu_path(queue, "tmp")), 0);
	tu_run_free(&r);
}

/* etrnd on a socketpair (*sock), its log (-l stderr) on a pipe (*log). */
static pid_t spawn_logging(int *sock, int *log)
{
	int sv[2], errp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(pipe(errp), 0);
	const char *extra[] = {"-l", "stderr", NULL};
	pid_t pid = spawn(sv[1], sv[1], errp[1], extra, NULL);
	close(sv[1]), close(errp[1]);
	*sock = sv[0], *log = errp[0];
	return pid;
}

/* Sends a command and reads the replies until one ends with marker. */
static void say_and_wait(int sock, const char *cmd, const char *marker)
{
	char buf[4096];
	size_t n = 0;
	buf[0] = '\0';
	cr_assert_eq(write(sock, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	while (!strstr(buf, marker)) {
		cr_assert_lt(n, sizeof buf - 1, "no %s in %s", marker, buf);
		cr_assert_eq(tu_readable(sock, 10000), 1, "no reply to %s", cmd);
		ssize_t r = read(sock, buf + n, sizeof buf - 1 - n);
		cr_assert_gt(r, 0);
		n += (size_t)r;
		buf[n] = '\0';
	}
}

/* Sends the rest of the session: its replies, and etrnd's exit status. */
static char *finish(int sock, pid_t pid, const char *rest, int *status)
{
	cr_assert_eq(write(sock, rest, strlen(rest)), (ssize_t)strlen(rest));
	char *got = tu_slurp_fd(sock, 10, NULL);
	*status = tu_wait_exit(pid, 10);
	close(sock);
	return got;
}

/* The cdb truncated in place under a running session (not replaced by
 * rename as etrnd-rules does): the next lookup is a 458 and a log line. It
 * was a SIGBUS while the cdb was mapped. */
Test(etrnd, a_cdb_truncated_during_the_session_is_458_not_a_crash)
{
	int sock, logfd, status;
	pid_t pid = spawn_logging(&sock, &logfd);
	say_and_wait(sock, "ETRN client.example.net\r\n", "started\r\n"); /* the cdb is open */
	cr_assert_eq(truncate(cdb, 0), 0);
	char *got = finish(sock, pid, "ETRN @example.org\r\nNOOP\r\nQUIT\r\n", &status);
	cr_assert_eq(status, 0, "etrnd ended with status %d (128 + %d is SIGBUS)", status, SIGBUS);
	cr_assert_str_eq(got, "458 4.3.0 Unable to queue messages for node @example.org\r\n"
			      "250 2.0.0 OK\r\n221 2.0.0 mx.example closing connection\r\n");
	char *log = tu_slurp_fd(logfd, 2, NULL);
	cr_assert(strstr(log, "node=@example.org rule=- code=458 reason=cdb-error"), "%s", log);
	free(got), free(log);
}

/* The ETRN's rule lives in memory mapped at the first ETRN (queuestart.c).
 * When the kernel refuses it, the ETRN is a 458 and a log line, and the
 * session goes on. The refusal: RLIMIT_AS lowered, from outside, to what
 * the waiting etrnd has mapped already. Not under valgrind (the limit would
 * be valgrind's) nor AddressSanitizer (its own mappings need room): both
 * run with $ETRND_WRAP set. */
Test(etrnd, an_etrn_whose_rule_cannot_be_mapped_is_458_and_logged)
{
	if (getenv("ETRND_WRAP")) /* make check-valgrind, check-asan */
		cr_skip_test("skipped under a wrapper: the limit would hit valgrind or ASan");
	int sock, logfd, status;
	pid_t pid = spawn_logging(&sock, &logfd);
	say_and_wait(sock, "NOOP\r\n", "250 2.0.0 OK\r\n"); /* set up, waiting */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	char *st = tu_read(path, NULL);
	cr_assert(st);
	const char *vm = strstr(st, "VmSize:");
	cr_assert(vm, "%s", st);
	rlim_t kib = strtoull(vm + 7, NULL, 10);
	free(st);
	struct rlimit lim = {kib * 1024, kib * 1024};
	cr_assert_eq(prlimit(pid, RLIMIT_AS, &lim, NULL), 0, "prlimit: %s", strerror(errno));
	char *got = finish(sock, pid, "ETRN client.example.net\r\nNOOP\r\nQUIT\r\n", &status);
	cr_assert_eq(status, 0);
	cr_assert_str_eq(got, "458 4.3.0 Unable to queue messages for node client.example.net\r\n"
			      "250 2.0.0 OK\r\n221 2.0.0 mx.example closing connection\r\n");
	char *log = tu_slurp_fd(logfd, 2, NULL);
	cr_assert(strstr(log, "node=client.example.net rule=- code=458 reason=out-of-memory"), "%s",
		  log);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
	free(got), free(log);
}

/* The libraries of TLS and of password hashes are opened when TLS is set
 * up or a password is checked (dynlib.h): mid-session, after EHLO and an
 * ETRN, a plaintext etrnd has mapped none of them. */
Test(etrnd, a_plaintext_session_maps_no_tls_or_crypt_library)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	const char *extra[] = {"-t", "20", NULL};
	pid_t pid = spawn(sv[1], sv[1], 2, extra, NULL);
	close(sv[1]);
	const char cmds[] = "EHLO client.test\r\nETRN local.example.net\r\nNOOP\r\n";
	cr_assert_eq(write(sv[0], cmds, sizeof cmds - 1), (ssize_t)(sizeof cmds - 1));
	char got[4096];
	size_t n = 0;
	while (n + 1 < sizeof got && tu_readable(sv[0], 10000) > 0) {
		ssize_t r = read(sv[0], got + n, sizeof got - 1 - n);
		cr_assert(r > 0, "etrnd ended early");
		n += (size_t)r;
		got[n] = '\0';
		if (strstr(got, "\r\n250 2.0.0 OK\r\n")) /* NOOP's: all answered */
			break;
	}
	cr_assert(strstr(got, "\r\n250 2.0.0 OK\r\n"), "%s", got);
	char maps[64];
	snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
	char *m = tu_read(maps, NULL);
	cr_assert(m);
	const char *libs[] = {"/libtls.so", "/libssl.so", "/libcrypto.so", "/libcrypt.so"};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++)
		cr_expect_null(strstr(m, libs[i]), "%s is mapped:\n%s", libs[i], m);
	cr_assert_eq(write(sv[0], "QUIT\r\n", 6), 6);
	cr_assert_eq(tu_wait_exit(pid, 10), 0);
	close(sv[0]);
	free(m);
}
