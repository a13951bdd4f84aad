/* SPDX-License-Identifier: ISC */
/* The SMTP engine, without I/O: lines in, replies out. */
#include <criterion/criterion.h>
#include <string.h>

#include "bounds.h"
#include "session.h"

struct sink {
	char buf[65536];
	size_t len;
	int writes;
	int torn; /* writes that did not end with a whole reply */
};

static int to_sink(void *arg, const char *b, size_t len)
{
	struct sink *s = arg;
	cr_assert(s->len + len < sizeof s->buf);
	memcpy(s->buf + s->len, b, len);
	s->len += len;
	s->buf[s->len] = '\0';
	s->writes++;
	if (len < 2 || memcmp(b + len - 2, "\r\n", 2) != 0)
		s->torn++;
	return 0;
}

static struct etrn_result next = {250, 0, ""};
static int calls;
static char last_node[NODE_BUF];

static void fake_etrn(void *ctx, const struct node *n, const char *user, struct etrn_result *r)
{
	(void)ctx, (void)user;
	calls++;
	strcpy(last_node, n->name);
	*r = next;
}

static struct sink sink;
static struct outbuf out;
static char outmem[SMTP_REPLIES_BUF];
static struct session s;

static void setup(void)
{
	memset(&sink, 0, sizeof sink);
	out_init(&out, outmem, sizeof outmem, to_sink, &sink);
	session_init(&s, "mx.example", fake_etrn, NULL, &out);
	next = (struct etrn_result){250, 0, ""};
	calls = 0;
}

/* Feeds one line and returns the reply it produced. */
static const char *say(const char *line)
{
	size_t before = sink.len;
	session_line(&s, line, strlen(line));
	out_flush(&out);
	return sink.buf + before;
}

TestSuite(session, .init = setup);

Test(session, greeting_and_ehlo)
{
	session_greet(&s);
	out_flush(&out);
	cr_assert_str_eq(sink.buf, "220 mx.example ESMTP\r\n");
	cr_assert_str_eq(
	    say("EHLO client.example"),
	    "250-mx.example\r\n250-ETRN\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n");
	cr_assert_str_eq(say("helo client.example"), "250 mx.example\r\n");
	cr_assert_str_eq(say("EHLO"), "501 5.5.4 Syntax: EHLO hostname\r\n");
	cr_assert_str_eq(s.helo, "client.example");
}

Test(session, etrn_replies_use_rfc1985_texts)
{
	static const struct {
		struct etrn_result r;
		const char *reply;
	} cases[] = {
	    {{250, 0, ""}, "250 2.0.0 OK, queuing for node ymir.example.edu started\r\n"},
	    {{251, 0, ""}, "251 2.0.0 OK, no messages waiting for node ymir.example.edu\r\n"},
	    {{252, 0, ""}, "252 2.0.0 OK, pending messages for node ymir.example.edu started\r\n"},
	    {{253, 14, ""},
	     "253 2.0.0 OK, 14 pending messages for node ymir.example.edu started\r\n"},
	    {{458, 0, ""}, "458 4.3.0 Unable to queue messages for node ymir.example.edu\r\n"},
	    {{459, 0, "Unknown"}, "459 4.7.1 Node ymir.example.edu not allowed: Unknown\r\n"},
	    {{459, 0, "bad\r\nreason"},
	     "459 4.7.1 Node ymir.example.edu not allowed: access denied\r\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		next = cases[i].r;
		cr_expect_str_eq(say("ETRN YMIR.example.edu."), cases[i].reply);
	}
	cr_assert_eq(calls, 7);
}

Test(session, etrn_syntax_errors_never_reach_the_policy)
{
	cr_assert_str_eq(say("ETRN"), "500 5.5.2 Syntax Error\r\n");
	cr_assert_str_eq(say("ETRN   "), "500 5.5.2 Syntax Error\r\n");
	cr_assert_str_eq(say("ETRN localname"), "501 5.5.4 Syntax Error in Parameters\r\n");
	cr_assert_str_eq(say("ETRN a.example b.example"),
			 "501 5.5.4 Syntax Error in Parameters\r\n");
	cr_assert_str_eq(say("ETRN caf\xc3\xa9.example"),
			 "501 5.5.4 Syntax Error in Parameters\r\n");
	cr_assert_eq(session_line(&s, "ETRN a\0.example", 16), 0);
	out_flush(&out);
	cr_assert_str_eq(sink.buf + sink.len - 38, "501 5.5.4 Syntax Error in Parameters\r\n");
	cr_assert_eq(calls, 0);
	cr_assert_str_eq(say("etrn  @Example.ORG  "),
			 "250 2.0.0 OK, queuing for node @example.org started\r\n");
	cr_assert_str_eq(last_node, "@example.org");
}

Test(session, other_commands)
{
	cr_assert_str_eq(say("NOOP"), "250 2.0.0 OK\r\n");
	cr_assert_str_eq(say("RSET"), "250 2.0.0 OK\r\n");
	cr_assert(strncmp(say("HELP"), "214 2.0.0 ", 10) == 0);
	static const char *const n502[] = {"VRFY x",         "EXPN x",   "TURN",
					   "ATRN a.example", "STARTTLS", "AUTH PLAIN"};
	for (size_t i = 0; i < 6; i++)
		cr_expect_str_eq(say(n502[i]), "502 5.5.1 Command not implemented\r\n");
	setup();
	cr_assert_str_eq(say("MAIL FROM:<a@b>"), "550 5.3.2 This host accepts no mail\r\n");
	cr_assert_str_eq(say("RCPT TO:<a@b>"), "503 5.5.1 Bad sequence of commands\r\n");
	cr_assert_str_eq(say("DATA"), "503 5.5.1 Bad sequence of commands\r\n");
	cr_assert_str_eq(say("BDAT 10 LAST"), "503 5.5.1 Bad sequence of commands\r\n");
	cr_assert_str_eq(say("FOO"), "500 5.5.2 Syntax error, command unrecognized\r\n");
	cr_assert_str_eq(say("ET\xffRN a.example"),
			 "500 5.5.2 Syntax error, command unrecognized\r\n");
	cr_assert_str_eq(say("QUIT"), "221 2.0.0 mx.example closing connection\r\n");
	cr_assert(s.closed);
	cr_assert_str_eq(s.end, "quit");
	cr_assert_eq(session_line(&s, "NOOP", 4), 1, "commands after QUIT");
}

Test(session, error_limit)
{
	for (int i = 0; i < SMTP_MAX_ERRORS; i++)
		cr_assert_eq(say("BOGUS")[0], '5');
	cr_assert_str_eq(say("NOOP"),
			 "421 4.7.0 mx.example Too many errors, closing connection\r\n");
	cr_assert(s.closed);
	cr_assert_str_eq(s.end, "errors");
}

Test(session, etrn_limit)
{
	for (int i = 0; i < SMTP_MAX_ETRN; i++)
		cr_assert_eq(say("ETRN a.example")[0], '2');
	cr_assert_str_eq(say("ETRN a.example"),
			 "421 4.7.0 mx.example Too many ETRN commands, closing connection\r\n");
	cr_assert_eq(calls, SMTP_MAX_ETRN);
	cr_assert_str_eq(s.end, "etrn-limit");
}

Test(session, overlong_and_timeout)
{
	session_overlong(&s);
	out_flush(&out);
	cr_assert_str_eq(sink.buf, "500 5.5.2 Line too long\r\n");
	cr_assert_eq(s.errors, 1);
	cr_assert(!s.closed);
	session_timeout(&s, "timeout");
	out_flush(&out);
	cr_assert(strstr(sink.buf, "421 4.4.2 mx.example Error: timeout exceeded\r\n"));
	cr_assert(s.closed);
}

Test(session, pipelined_replies_are_one_write)
{
	session_greet(&s);
	const char *lines[] = {"EHLO c.example", "ETRN a.example", "ETRN b.example", "QUIT"};
	for (int i = 0; i < 4; i++)
		session_line(&s, lines[i], strlen(lines[i]));
	out_flush(&out);
	cr_assert_eq(sink.writes, 1);
	cr_assert(strstr(sink.buf, "221 2.0.0"));
}

Test(session, replies_never_split_when_the_buffer_fills)
{
	const char *help = say("HELP");
	size_t one = strlen(help);
	_Static_assert(SMTP_MAX_OTHER * 60 > SMTP_REPLIES_BUF, "HELP replies must fill the buffer");
	for (int i = 1; i < SMTP_MAX_OTHER; i++)
		session_line(&s, "HELP", 4);
	out_flush(&out);
	cr_assert_gt(sink.writes, 1);
	cr_assert_eq(sink.torn, 0);
	cr_assert_eq(sink.len, SMTP_MAX_OTHER * one);
}

Test(session, other_commands_are_limited)
{
	static const char *const cycle[] = {"NOOP", "RSET", "HELP", "EHLO c.example", "VRFY x"};
	for (int i = 0; i < SMTP_MAX_OTHER; i++) {
		const char *r = say(cycle[i % 5]);
		cr_assert(r[0] == '2' || r[0] == '5', "%d: %s", i, r);
		if (r[0] == '5')
			s.errors = 0; /* VRFY's 502: only the other limit is under test */
	}
	cr_assert(!s.closed);
	cr_assert_str_eq(say("ETRN a.example"),
			 "250 2.0.0 OK, queuing for node a.example started\r\n",
			 "ETRN has its own limit");
	cr_assert_str_eq(say("NOOP"),
			 "421 4.7.0 mx.example Too many commands, closing connection\r\n");
	cr_assert(s.closed);
	cr_assert_str_eq(s.end, "command-limit");
	cr_assert_eq(session_line(&s, "QUIT", 4), 1);
}

Test(session, quit_is_not_counted)
{
	for (int i = 0; i < SMTP_MAX_OTHER; i++)
		say("NOOP");
	cr_assert_str_eq(say("QUIT"), "221 2.0.0 mx.example closing connection\r\n");
}

Test(session, nul_8bit_or_control_octets_in_any_argument_are_501)
{
	static const char *const lines[] = {
	    "NOOP \xff",         "NOOP caf\xc3\xa9", "RSET \x80", "HELP \x1b[2J",      "HELO a\tb",
	    "EHLO \xe9.example", "VRFY \x7f",        "QUIT \xff", "ETRN a\x80.example"};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		s.errors = 0;
		cr_expect_str_eq(say(lines[i]), "501 5.5.4 Syntax Error in Parameters\r\n", "%zu",
				 i);
	}
	cr_assert_eq(session_line(&s, "NOOP a\0b", 9), 0);
	out_flush(&out);
	cr_assert_str_eq(sink.buf + sink.len - 38, "501 5.5.4 Syntax Error in Parameters\r\n");
	cr_assert(!s.closed, "QUIT with a bad argument is refused, not obeyed");
	cr_assert_eq(calls, 0);
	cr_assert_str_eq(say("NOOP printable, with blanks"), "250 2.0.0 OK\r\n");
	cr_assert_str_eq(say("NOOP\t"), "250 2.0.0 OK\r\n", "trailing blanks are not an argument");
}
