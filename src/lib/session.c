/* SPDX-License-Identifier: ISC */
/* session.c: command table and replies. Every reply after the greeting
 * carries an RFC 3463 code, except the HELO/EHLO replies: RFC 2034 exempts
 * them, and the EHLO grammar (RFC 5321 4.1.1.1) has no room for one.
 *
 * What holds for every command is checked here, before its function runs:
 * a known verb, the limit of its class, an argument of printable ASCII. */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"

static void reply(struct session *s, const char *fmt, ...)
{
	char line[SMTP_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 3)
		n = (int)sizeof line - 3;
	line[n] = '\r';
	line[n + 1] = '\n';
	out_put(s->out, line, (size_t)n + 2);
	if (line[0] == '5')
		s->errors++;
}

static void end(struct session *s, const char *why)
{
	s->closed = 1;
	s->end = why;
}

static void cmd_helo(struct session *s, const char *arg, size_t len, int ehlo)
{
	if (len == 0 || !text_word(arg, len)) {
		reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return;
	}
	size_t n = len < sizeof s->helo - 1 ? len : sizeof s->helo - 1;
	memcpy(s->helo, arg, n);
	s->helo[n] = '\0';
	if (ehlo)
		reply(s, "250-%s\r\n250-ETRN\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES",
		      s->host);
	else
		reply(s, "250 %s", s->host);
}

static void cmd_ehlo(struct session *s, const char *arg, size_t len)
{
	cmd_helo(s, arg, len, 1);
}

static void cmd_helo4(struct session *s, const char *arg, size_t len)
{
	cmd_helo(s, arg, len, 0);
}

static void etrn_reply(struct session *s, const struct node *n, const struct etrn_result *r)
{
	switch (r->code) {
	case 250: reply(s, "250 2.0.0 OK, queuing for node %s started", n->name); break;
	case 251: reply(s, "251 2.0.0 OK, no messages waiting for node %s", n->name); break;
	case 252: reply(s, "252 2.0.0 OK, pending messages for node %s started", n->name); break;
	case 253:
		reply(s, "253 2.0.0 OK, %lu pending messages for node %s started", r->count,
		      n->name);
		break;
	case 459: reply(s, "459 4.7.1 Node %s not allowed: %s", n->name, r->reason); break;
	default: reply(s, "458 4.3.0 Unable to queue messages for node %s", n->name); break;
	}
}

static void cmd_etrn(struct session *s, const char *arg, size_t len)
{
	struct node node;
	struct etrn_result res = {458, 0, ""};

	if (len == 0) {
		reply(s, "500 5.5.2 Syntax Error");
		return;
	}
	if (!text_word(arg, len) || node_parse(&node, arg, len, 0) < 0) {
		reply(s, "501 5.5.4 Syntax Error in Parameters");
		return;
	}
	if (++s->etrns > SMTP_MAX_ETRN) {
		reply(s, "421 4.7.0 %s Too many ETRN commands, closing connection", s->host);
		end(s, "etrn-limit");
		return;
	}
	s->etrn(s->ctx, &node, &res);
	if (res.code == 459 && (!res.reason[0] || !text_printable(res.reason, strlen(res.reason))))
		strcpy(res.reason, "access denied");
	etrn_reply(s, &node, &res);
}

static void cmd_ok(struct session *s, const char *arg, size_t len)
{
	(void)arg, (void)len;
	reply(s, "250 2.0.0 OK");
}

static void cmd_quit(struct session *s, const char *arg, size_t len)
{
	(void)arg, (void)len;
	reply(s, "221 2.0.0 %s closing connection", s->host);
	end(s, "quit");
}

static void cmd_help(struct session *s, const char *arg, size_t len)
{
	(void)arg, (void)len;
	reply(s, "214 2.0.0 Commands: EHLO HELO ETRN NOOP RSET HELP QUIT (RFC 1985)");
}

static void cmd_not_implemented(struct session *s, const char *arg, size_t len)
{
	(void)arg, (void)len;
	reply(s, "502 5.5.1 Command not implemented");
}

static void cmd_mail(struct session *s, const char *arg, size_t len)
{
	(void)arg, (void)len;
	reply(s, "550 5.3.2 This host accepts no mail");
}

static void cmd_sequence(struct session *s, const char *arg, size_t len)
{
	(void)arg, (void)len;
	reply(s, "503 5.5.1 Bad sequence of commands");
}

/* Which limit a command counts against: ETRN has its own (SMTP_MAX_ETRN,
 * counted once the node parses); QUIT ends the session anyway; every other
 * known command counts against SMTP_MAX_OTHER, as Postfix's junk-command
 * limit does, so that NOOP, RSET or HELP cannot keep a session busy. */
enum limit { LIM_ETRN, LIM_NONE, LIM_OTHER };

static const struct command {
	const char *verb;
	void (*fn)(struct session *s, const char *arg, size_t len);
	enum limit limit;
} commands[] = {
    {"ETRN", cmd_etrn, LIM_ETRN},
    {"EHLO", cmd_ehlo, LIM_OTHER},
    {"HELO", cmd_helo4, LIM_OTHER},
    {"NOOP", cmd_ok, LIM_OTHER},
    {"RSET", cmd_ok, LIM_OTHER},
    {"QUIT", cmd_quit, LIM_NONE},
    {"HELP", cmd_help, LIM_OTHER},
    {"VRFY", cmd_not_implemented, LIM_OTHER},
    {"EXPN", cmd_not_implemented, LIM_OTHER},
    {"TURN", cmd_not_implemented, LIM_OTHER},
    {"ATRN", cmd_not_implemented, LIM_OTHER},
    {"STARTTLS", cmd_not_implemented, LIM_OTHER},
    {"AUTH", cmd_not_implemented, LIM_OTHER},
    {"MAIL", cmd_mail, LIM_OTHER},
    {"RCPT", cmd_sequence, LIM_OTHER},
    {"DATA", cmd_sequence, LIM_OTHER},
    {"BDAT", cmd_sequence, LIM_OTHER},
};

static const struct command *lookup(const char *verb, size_t len)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strlen(commands[i].verb) == len &&
		    strncasecmp(commands[i].verb, verb, len) == 0)
			return &commands[i];
	return NULL;
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

void session_init(struct session *s, const char *host, etrn_fn etrn, void *ctx, struct outbuf *out)
{
	memset(s, 0, sizeof *s);
	s->host = host;
	s->etrn = etrn;
	s->ctx = ctx;
	s->out = out;
	s->end = "eof";
}

void session_greet(struct session *s)
{
	reply(s, "220 %s ESMTP", s->host);
}

/* A command past its class's limit gets 421 and ends the session. */
static int over_limit(struct session *s, const struct command *c)
{
	if (c->limit != LIM_OTHER || ++s->others <= SMTP_MAX_OTHER)
		return 0;
	reply(s, "421 4.7.0 %s Too many commands, closing connection", s->host);
	end(s, "command-limit");
	return 1;
}

static int too_many_errors(struct session *s)
{
	if (s->errors < SMTP_MAX_ERRORS)
		return 0;
	reply(s, "421 4.7.0 %s Too many errors, closing connection", s->host);
	end(s, "errors");
	return 1;
}

int session_line(struct session *s, const char *line, size_t len)
{
	size_t v = 0, a;

	if (s->closed)
		return 1;
	s->commands++;
	if (too_many_errors(s))
		return 1;
	while (v < len && !blank(line[v]))
		v++;
	for (a = v; a < len && blank(line[a]);)
		a++;
	while (len > a && blank(line[len - 1]))
		len--;
	const struct command *c = text_word(line, v) ? lookup(line, v) : NULL;
	if (!c)
		reply(s, "500 5.5.2 Syntax error, command unrecognized");
	else if (over_limit(s, c))
		return 1;
	else if (!text_printable(line + a, len - a)) /* NUL, 8-bit, controls */
		reply(s, "501 5.5.4 Syntax Error in Parameters");
	else
		c->fn(s, line + a, len - a);
	return s->closed;
}

int session_overlong(struct session *s)
{
	if (s->closed)
		return 1;
	s->commands++;
	if (too_many_errors(s))
		return 1;
	reply(s, "500 5.5.2 Line too long");
	return 0;
}

void session_timeout(struct session *s, const char *why)
{
	if (s->closed)
		return;
	reply(s, "421 4.4.2 %s Error: timeout exceeded", s->host);
	end(s, why);
}
