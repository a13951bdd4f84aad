/* SPDX-License-Identifier: ISC */
/* bin/etrn as a process against a scripted server on 127.0.0.1: time
 * limits per reply and per dialogue, replies that are no answer, hostile
 * text, greetings that refuse, and what -H may send. Every wait is on an
 * event (a connection, a line, etrn's exit), bounded. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

struct peer {
	int listen, conn, pidfd, out, err;
	pid_t pid;
	char in[8192]; /* what etrn sent, as received */
	size_t inlen;
};

/* Listens on 127.0.0.1 and starts bin/etrn -p PORT args... against it. */
static void start(struct peer *p, const char *const *args)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int out[2], err[2];
	char port[16];

	memset(p, 0, sizeof *p);
	p->conn = -1;
	signal(SIGPIPE, SIG_IGN);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	p->listen = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(p->listen, 0);
	cr_assert_eq(bind(p->listen, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(p->listen, 1), 0);
	cr_assert_eq(getsockname(p->listen, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, sizeof port, "%d", ntohs(sa.sin_port));
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
	const char *argv[32] = {"etrn", "-p", port};
	tu_append(argv, 3, args);
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		dup2(out[1], 1), dup2(err[1], 2);
		tu_execv(tu_bin("etrn"), argv);
		_exit(127);
	}
	close(out[1]), close(err[1]);
	p->out = out[0], p->err = err[0];
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	cr_assert_geq(p->pidfd, 0, "pidfd_open: %s", strerror(errno));
}

/* Waits up to ms for fd to be readable or etrn to exit: 1 readable, 0 not. */
static int wait_for(struct peer *p, int fd, int ms)
{
	struct pollfd w[2] = {{fd, POLLIN, 0}, {p->pidfd, POLLIN, 0}};
	long long end = tu_now_ms() + ms;
	for (;;) {
		long long left = end - tu_now_ms();
		int rc = poll(w, 2, left > 0 ? (int)left : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (w[0].revents)
			return 1;
		if (rc == 0 || w[1].revents)
			return 0;
	}
}

static int exited(struct peer *p)
{
	struct pollfd w = {p->pidfd, POLLIN, 0};
	return poll(&w, 1, 0) == 1;
}

/* The server's pause before a reply: ends early if etrn gives up. */
static void pause_ms(struct peer *p, int ms)
{
	struct pollfd w = {p->pidfd, POLLIN, 0};
	long long end = tu_now_ms() + ms;
	while (tu_now_ms() < end && poll(&w, 1, (int)(end - tu_now_ms())) == 0)
		;
}

static int connected(struct peer *p)
{
	if (p->conn < 0 && wait_for(p, p->listen, 10000))
		p->conn = accept4(p->listen, NULL, NULL, SOCK_CLOEXEC);
	return p->conn >= 0;
}

static void say(struct peer *p, const char *s)
{
	cr_assert(connected(p), "etrn did not connect");
	(void)!write(p->conn, s, strlen(s));
}

/* The next command line from etrn (without CRLF), or NULL if none came. */
static const char *hear(struct peer *p)
{
	static char line[1024];
	cr_assert(connected(p), "etrn did not connect");
	for (;;) {
		char *nl = memchr(p->in, '\n', p->inlen);
		if (nl) {
			size_t n = (size_t)(nl - p->in);
			memcpy(line, p->in, n);
			line[n > 0 && line[n - 1] == '\r' ? n - 1 : n] = '\0';
			memmove(p->in, nl + 1, p->inlen - n - 1);
			p->inlen -= n + 1;
			return line;
		}
		if (!wait_for(p, p->conn, 10000))
			return NULL;
		ssize_t r = read(p->conn, p->in + p->inlen, sizeof p->in - 1 - p->inlen);
		if (r <= 0)
			return NULL;
		p->inlen += (size_t)r;
	}
}

static void expect(struct peer *p, const char *want)
{
	const char *got = hear(p);
	cr_assert(got, "etrn sent nothing, expected '%s'", want);
	cr_assert_str_eq(got, want);
}

static char *drain(int fd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char b[4096];
	ssize_t r;
	while ((r = read(fd, b, sizeof b)) > 0)
		fwrite(b, 1, (size_t)r, m);
	fclose(m);
	return buf;
}

struct result {
	int status;
	long long ms; /* from start() to the exit */
	char *out, *err;
};

/* Waits (bounded) for etrn to exit; its status, output and errors. */
static struct result finish(struct peer *p, long long started)
{
	struct result r;
	int st;
	struct pollfd w = {p->pidfd, POLLIN, 0};
	if (poll(&w, 1, 20000) != 1)
		kill(p->pid, SIGKILL); /* our unreaped child: its pid is still its own */
	cr_assert_eq(waitpid(p->pid, &st, 0), p->pid);
	r.ms = tu_now_ms() - started;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = drain(p->out);
	r.err = drain(p->err);
	close(p->out), close(p->err), close(p->pidfd), close(p->listen);
	if (p->conn >= 0)
		close(p->conn);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out), free(r->err);
}

static const char ehlo_reply[] = "250-mx.test\r\n250-ETRN\r\n250 PIPELINING\r\n";

/* -t bounded the whole dialogue although etrn(1) said "each reply": a
 * server that takes 0.5 s per reply made etrn -t 2 fail after 2 s. */
Test(etrn, t_bounds_each_reply_not_the_dialogue)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-t", "2", "-H", "c.test", "127.0.0.1", "a.example", "b.example",
				   NULL});
	pause_ms(&p, 500);
	say(&p, "220 mx.test ESMTP\r\n");
	expect(&p, "EHLO c.test");
	pause_ms(&p, 500);
	say(&p, ehlo_reply);
	expect(&p, "ETRN a.example");
	pause_ms(&p, 500);
	say(&p, "250 2.0.0 OK, queuing for node a.example started\r\n");
	expect(&p, "ETRN b.example");
	pause_ms(&p, 500);
	say(&p, "251 2.0.0 OK, no messages waiting for node b.example\r\n");
	expect(&p, "QUIT");
	pause_ms(&p, 500);
	say(&p, "221 2.0.0 bye\r\n");
	struct result r = finish(&p, t0);
	cr_assert_eq(r.status, 0, "exit %d after %lld ms: %s", r.status, r.ms, r.err);
	cr_assert_str_eq(r.out, "a.example 250 2.0.0 OK, queuing for node a.example started\n"
				"b.example 251 2.0.0 OK, no messages waiting for node b.example\n");
	cr_assert_gt(r.ms, 2000, "the test must outlast -t to mean anything");
	result_free(&r);
}

/* A reply that trickles in, a byte at a time, is still bounded by -t. */
Test(etrn, t_still_cuts_a_reply_that_never_completes)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-t", "1", "-H", "c.test", "127.0.0.1", "a.example", NULL});
	say(&p, "220 mx.test ESMTP\r\n");
	expect(&p, "EHLO c.test");
	say(&p, ehlo_reply);
	expect(&p, "ETRN a.example");
	for (int i = 0; i < 20 && !exited(&p); i++) {
		say(&p, i == 0 ? "250 2.0.0 O" : "K");
		pause_ms(&p, 300);
	}
	struct result r = finish(&p, t0);
	cr_assert_eq(r.status, 111, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.err, "etrn: no reply to ETRN a.example: no complete reply within 1 s\n");
	cr_assert_lt(r.ms, 4000, "a trickle kept etrn -t 1 for %lld ms", r.ms);
	result_free(&r);
}

/* -T: a deadline for the whole dialogue, however prompt each reply. */
Test(etrn, T_bounds_the_whole_dialogue)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-t", "5", "-T", "1", "-H", "c.test", "127.0.0.1", "a.example",
				   "b.example", "c.example", NULL});
	pause_ms(&p, 400);
	say(&p, "220 mx.test ESMTP\r\n");
	expect(&p, "EHLO c.test");
	pause_ms(&p, 400);
	say(&p, ehlo_reply);
	for (const char *cmd; (cmd = hear(&p)) != NULL && strncmp(cmd, "ETRN ", 5) == 0;) {
		char reply[200];
		pause_ms(&p, 400);
		snprintf(reply, sizeof reply, "250 2.0.0 OK, queuing for node %s started\r\n",
			 cmd + 5);
		say(&p, reply);
	}
	struct result r = finish(&p, t0);
	cr_assert_eq(r.status, 111, "exit %d: %s", r.status, r.err);
	cr_assert(strstr(r.err, ": the deadline for the whole dialogue passed\n"), "%s", r.err);
	cr_assert_lt(r.ms, 4000);
	result_free(&r);
}

/* The server's text reaches the terminal with escapes, CR and the like
 * as '?', in the result lines and in -v's dialogue. */
Test(etrn, reply_text_is_printed_sanitised)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-v", "-H", "c.test", "127.0.0.1", "a.example", NULL});
	say(&p, "220 mx.test \x1b]0;owned\x07 ESMTP\r\n");
	expect(&p, "EHLO c.test");
	say(&p, ehlo_reply);
	expect(&p, "ETRN a.example");
	say(&p, "250 2.0.0 OK \x1b[2J\x1b[H queued\rX\x9b\r\n");
	expect(&p, "QUIT");
	say(&p, "221 2.0.0 bye\r\n");
	struct result r = finish(&p, t0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "a.example 250 2.0.0 OK ?[2J?[H queued?X?\n");
	cr_assert(strstr(r.err, "<<< 220 mx.test ?]0;owned? ESMTP\n"), "%s", r.err);
	cr_assert(strstr(r.err, "<<< 250 2.0.0 OK ?[2J?[H queued?X?\n"), "%s", r.err);
	for (const char *c = r.err; *c; c++)
		cr_assert(*c == '\n' || (*c >= 0x20 && *c < 0x7f), "raw octet 0x%02x on stderr",
			  (unsigned char)*c);
	result_free(&r);
}

/* A 354 (or any code RFC 1985 does not give ETRN) is no success. */
Test(etrn, a_reply_that_is_no_answer_to_etrn_is_an_error)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-H", "c.test", "127.0.0.1", "a.example", "b.example", NULL});
	say(&p, "220 mx.test ESMTP\r\n");
	expect(&p, "EHLO c.test");
	say(&p, ehlo_reply);
	expect(&p, "ETRN a.example");
	say(&p, "354 Start mail input\r\n");
	expect(&p, "ETRN b.example");
	say(&p, "220 hello again\r\n");
	expect(&p, "QUIT");
	say(&p, "221 2.0.0 bye\r\n");
	struct result r = finish(&p, t0);
	cr_assert_eq(r.status, 2, "exit %d for replies that are no answer", r.status);
	cr_assert_str_eq(r.out, "a.example 354 Start mail input\nb.example 220 hello again\n");
	cr_assert_str_eq(r.err,
			 "etrn: a.example: 354 is not a reply to ETRN (250-253, 4xx or 5xx)\n"
			 "etrn: b.example: 220 is not a reply to ETRN (250-253, 4xx or 5xx)\n");
	result_free(&r);
}

static struct result greeted_with(const char *greeting, int endless)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-H", "c.test", "127.0.0.1", "a.example", NULL});
	say(&p, greeting);
	for (int i = 0; endless && i < 1000 && !exited(&p); i++)
		if (write(p.conn, greeting, strlen(greeting)) < 0)
			break;       /* etrn hung up */
	shutdown(p.conn, SHUT_RDWR); /* as a server does after its 421 or 554 */
	return finish(&p, t0);
}

/* A greeting that refuses, or never ends, used to exit without a word. */
Test(etrn, a_refusing_or_endless_greeting_is_explained)
{
	struct result r = greeted_with("421 4.3.2 mx.test busy, try later\r\n", 0);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(
	    r.err, "etrn: the server refused the session: 421 4.3.2 mx.test busy, try later\n");
	cr_assert_str_eq(r.out, "");
	result_free(&r);
	r = greeted_with("554 5.7.1 no ETRN \x1b[1mfor you\r\n", 0);
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err,
			 "etrn: the server refused the session: 554 5.7.1 no ETRN ?[1mfor you\n");
	result_free(&r);
	r = greeted_with("220-mx.test still greeting\r\n", 1);
	cr_assert_eq(r.status, 111);
	cr_assert_str_eq(r.err,
			 "etrn: no greeting from the server: a reply of more than 64 lines\n");
	result_free(&r);
	r = greeted_with("250 mx.test\r\n", 0);
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.err, "etrn: not an SMTP greeting: 250 mx.test\n");
	result_free(&r);
}

/* -H was sent as given: CR LF in it injected commands. */
Test(etrn, H_is_a_host_name_or_an_address_literal)
{
	struct peer p;
	long long t0 = tu_now_ms();
	start(&p, (const char *[]){"-H", "c.test\r\nRSET", "127.0.0.1", "a.example", NULL});
	cr_assert(!wait_for(&p, p.listen, 10000), "etrn connected with a bad -H");
	struct result r = finish(&p, t0);
	cr_assert_eq(r.status, 100);
	cr_assert_str_eq(r.err,
			 "etrn: -H 'c.test??RSET' is not a host name or an address literal\n");
	result_free(&r);

	static const char *const ok[][2] = {
	    {"C.Test", "EHLO c.test"},
	    {"laptop", "EHLO laptop"},
	    {"[192.0.2.1]", "EHLO [192.0.2.1]"},
	    {"[IPv6:2001:DB8::1]", "EHLO [ipv6:2001:db8::1]"},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		t0 = tu_now_ms();
		start(&p, (const char *[]){"-H", ok[i][0], "127.0.0.1", "a.example", NULL});
		say(&p, "220 mx.test ESMTP\r\n");
		expect(&p, ok[i][1]);
		say(&p, "502 5.5.1 no\r\n");
		expect(&p, "QUIT");
		say(&p, "221 2.0.0 bye\r\n");
		r = finish(&p, t0);
		cr_assert_eq(r.status, 2, "%s", r.err);
		result_free(&r);
	}
	static const char *const bad[] = {"a b", "@example.org", "#queue",
					  "",    "-x.test",      "c.test\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t0 = tu_now_ms();
		start(&p, (const char *[]){"-H", bad[i], "127.0.0.1", "a.example", NULL});
		r = finish(&p, t0);
		cr_expect_eq(r.status, 100, "-H '%s'", bad[i]);
		result_free(&r);
	}
}
