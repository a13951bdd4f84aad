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

#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "fmt.h"
#include "sasl.h"
#include "text.h"

static void reply(struct session *s, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void reply(struct session *s, const char *format, ...)
{
	char line[SMTP_REPLY_MAX];
	va_list ap;

	va_start(ap, format);
	size_t n = fmt_v(line, sizeof line - 2, format, ap);
	va_end(ap);
	line[n] = '\r';
	line[n + 1] = '\n';
	out_put(s->out, line, n + 2);
	if (line[0] == '5')
		s->errors++;
}

static void end(struct session *s, const char *why)
{
	s->closed = 1;
	s->end = why;
}

/* What AUTH offers here: PLAIN and LOGIN only inside TLS (they carry the
 * password); CRAM-MD5 when some login has cram=, and in ODMR mode also
 * outside TLS (it never carries the password; RFC 2645's clients use it). */
static const struct mechanism {
	const char *name;
	enum sasl_mech mech;
	int plaintext_odmr; /* offered outside TLS in ODMR mode */
} mechanisms[] = {
    {"PLAIN", MECH_PLAIN, 0},
    {"LOGIN", MECH_LOGIN, 0},
    {"CRAM-MD5", MECH_CRAM, 1},
};
#define NMECH (sizeof mechanisms / sizeof mechanisms[0])

static int offered(const struct session *s, const struct mechanism *m)
{
	if (!s->auth || (m->mech == MECH_CRAM && !s->cram_ok))
		return 0;
	return s->tls || (s->atrn && m->plaintext_odmr);
}

/* "AUTH PLAIN LOGIN" for the EHLO reply, or "" when nothing is on offer. */
static void auth_keyword(const struct session *s, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < NMECH; i++)
		if (offered(s, &mechanisms[i]))
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "250-AUTH ",
					      mechanisms[i].name);
	if (n)
		snprintf(out + n, size - n, "\r\n");
}

static void cmd_helo(struct session *s, const char *arg, size_t len, int ehlo)
{
	char auth[64];

	if (len == 0 || !text_word(arg, len)) {
		reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return;
	}
	size_t n = len < sizeof s->helo - 1 ? len : sizeof s->helo - 1;
	memcpy(s->helo, arg, n);
	s->helo[n] = '\0';
	s->ehlo = 1;
	if (!ehlo) {
		reply(s, "250 %s", s->host);
		return;
	}
	auth_keyword(s, auth, sizeof auth);
	reply(s, "250-%s\r\n250-%s\r\n250-PIPELINING\r\n%s%s250 ENHANCEDSTATUSCODES", s->host,
	      s->atrn ? "ATRN" : "ETRN", s->tls_ok && !s->tls ? "250-STARTTLS\r\n" : "", auth);
}

static void cmd_ehlo(struct session *s, const char *arg, size_t len)
{
	cmd_helo(s, arg, len, 1);
}

static void cmd_helo4(struct session *s, const char *arg, size_t len)
{
	cmd_helo(s, arg, len, 0);
}

static void cmd_starttls(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	if (!s->tls_ok) {
		reply(s, "502 5.5.1 Command not implemented");
		return;
	}
	if (len > 0) {
		reply(s, "501 5.5.4 Syntax: STARTTLS (no parameters)");
		return;
	}
	if (s->tls) {
		reply(s, "503 5.5.1 TLS already active");
		return;
	}
	s->want_tls = 1; /* answered by session_starttls(), once TLS can start */
}

void session_starttls(struct session *s, int ok)
{
	s->want_tls = 0;
	if (ok)
		reply(s, "220 2.0.0 Ready to start TLS");
	else
		reply(s, "454 4.7.0 TLS not available due to temporary reason");
}

void session_tls_started(struct session *s)
{
	s->want_tls = 0;
	s->tls = 1;
	s->ehlo = 0; /* RFC 3207 4.2: forget what the client said before */
	s->user[0] = '\0';
	s->sasl = 0;
	s->helo[0] = '\0';
}

/* -- AUTH (RFC 4954) ------------------------------------------------- */

static void auth_done(struct session *s, enum auth_result r, const char *user)
{
	s->sasl = 0;
	if (r == AUTH_OK) {
		snprintf(s->user, sizeof s->user, "%s", user);
		reply(s, "235 2.7.0 Authentication successful");
	} else if (r == AUTH_TEMP) {
		reply(s, "454 4.7.0 Temporary authentication failure");
	} else if (++s->auth_failures >= AUTH_MAX_FAILURES) {
		reply(s, "421 4.7.0 %s Too many authentication failures, closing connection",
		      s->host);
		end(s, "auth-failures");
	} else {
		reply(s, "535 5.7.8 Authentication credentials invalid");
	}
}

/* Checks user and password (PLAIN, LOGIN). A name that is no login still
 * goes to the callback as "", so that it costs the same as a bad password. */
static void check_password(struct session *s, enum sasl_mech m, const char *user, const char *pass)
{
	char folded[LOGIN_BUF] = "";
	if (login_parse(folded, user, strlen(user)) < 0)
		folded[0] = '\0';
	struct auth_attempt a = {m, folded, pass, NULL, NULL, s->auth_failures};
	enum auth_result r = s->auth(s->auth_ctx, &a);
	auth_done(s, folded[0] ? r : (r == AUTH_TEMP ? r : AUTH_BAD), folded);
}

/* The SASL message in a line: 0 and the octets, or -1 after the reply. */
static long sasl_decode(struct session *s, const char *line, size_t len, unsigned char *out,
			size_t size)
{
	if (len == 1 && line[0] == '*') {
		s->sasl = 0;
		reply(s, "501 5.7.0 Authentication cancelled");
		return -1;
	}
	long n = b64_decode(line, len, out, size);
	if (n < 0) {
		s->sasl = 0;
		reply(s, "501 5.5.2 Cannot decode the response (base64)");
	}
	return n;
}

static void plain_step(struct session *s, const unsigned char *msg, size_t len)
{
	struct sasl_login l;
	char fz[LOGIN_BUF], fu[LOGIN_BUF];

	if (sasl_plain(msg, len, &l) < 0) {
		s->sasl = 0;
		reply(s, "501 5.5.2 Malformed PLAIN message");
		return;
	}
	/* no proxy authorization: an authzid must name the login itself */
	if (l.authzid[0] && (login_parse(fz, l.authzid, strlen(l.authzid)) < 0 ||
			     login_parse(fu, l.user, strlen(l.user)) < 0 || strcmp(fz, fu) != 0))
		l.user[0] = '\x01'; /* no login: fails like a wrong password */
	check_password(s, MECH_PLAIN, l.user, l.pass);
	sasl_wipe(&l);
}

static void login_step(struct session *s, const unsigned char *msg, size_t len)
{
	char field[SASL_FIELD_MAX + 1];

	if (sasl_field(msg, len, field) < 0) {
		s->sasl = 0;
		reply(s, "501 5.5.2 Malformed LOGIN answer");
		return;
	}
	if (!s->sasl_user[0] && s->challenge[0] == 'u') { /* the user name */
		if (login_parse(s->sasl_user, field, strlen(field)) < 0)
			snprintf(s->sasl_user, sizeof s->sasl_user, "\x01");
		s->challenge[0] = 'p';
		s->sasl = 1;
		reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
		return;
	}
	check_password(s, MECH_LOGIN, s->sasl_user[0] == '\x01' ? "\x01" : s->sasl_user, field);
	explicit_bzero(field, sizeof field);
}

/* "user digest": the digest is the last blank-separated word, 32 hex. */
static void cram_step(struct session *s, const unsigned char *msg, size_t len)
{
	char text[SASL_FIELD_MAX + 40], user[LOGIN_BUF] = "";
	const char *sp;

	if (len >= sizeof text || memchr(msg, '\0', len) ||
	    !(sp = memrchr((const char *)msg, ' ', len)) ||
	    (size_t)(msg + len - (const unsigned char *)sp) != 33 ||
	    strspn(sp + 1, "0123456789abcdef") < 32) {
		s->sasl = 0;
		reply(s, "501 5.5.2 Malformed CRAM-MD5 answer");
		return;
	}
	memcpy(text, msg, len);
	text[len] = '\0';
	size_t ulen = (size_t)(sp - (const char *)msg);
	if (login_parse(user, text, ulen) < 0)
		user[0] = '\0';
	struct auth_attempt a = {MECH_CRAM,       user, NULL, s->challenge, text + ulen + 1,
				 s->auth_failures};
	enum auth_result r = s->auth(s->auth_ctx, &a);
	auth_done(s, user[0] ? r : (r == AUTH_TEMP ? r : AUTH_BAD), user);
}

static void sasl_answer(struct session *s, const char *line, size_t len)
{
	static unsigned char msg[SMTP_AUTH_LINE_MAX];
	long n = sasl_decode(s, line, len, msg, sizeof msg);

	if (n < 0)
		return;
	s->sasl = 0;
	if (s->mech == MECH_PLAIN)
		plain_step(s, msg, (size_t)n);
	else if (s->mech == MECH_LOGIN)
		login_step(s, msg, (size_t)n);
	else
		cram_step(s, msg, (size_t)n);
	explicit_bzero(msg, (size_t)n);
}

/* A CRAM-MD5 challenge: <random.seconds@host>, in the RFC 2195 form. */
static void new_challenge(struct session *s)
{
	unsigned long long r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (unsigned long long)clock() ^ (unsigned long long)(uintptr_t)s;
	snprintf(s->challenge, sizeof s->challenge, "<%llx.%lld@%.60s>", r, (long long)time(NULL),
		 s->host);
}

static void auth_start(struct session *s, const struct mechanism *m, const char *init, size_t ilen)
{
	s->mech = m->mech;
	s->sasl = 1;
	s->sasl_user[0] = '\0';
	if (m->mech == MECH_CRAM) {
		if (ilen) {
			s->sasl = 0;
			reply(s, "501 5.5.2 CRAM-MD5 takes no initial response");
			return;
		}
		char b64[128];
		new_challenge(s);
		b64_encode((const unsigned char *)s->challenge, strlen(s->challenge), b64,
			   sizeof b64);
		reply(s, "334 %s", b64);
		return;
	}
	if (m->mech == MECH_LOGIN)
		s->challenge[0] = 'u';
	if (ilen) { /* RFC 4954 4: the initial response ("=" is an empty one) */
		sasl_answer(s, ilen == 1 && init[0] == '=' ? "" : init,
			    ilen == 1 && init[0] == '=' ? 0 : ilen);
		return;
	}
	reply(s, m->mech == MECH_PLAIN ? "334 " : "334 VXNlcm5hbWU6"); /* "Username:" */
}

static void cmd_auth(struct session *s, const char *arg, size_t len)
{
	size_t w = 0;

	while (w < len && arg[w] != ' ')
		w++;
	const struct mechanism *m = NULL;
	for (size_t i = 0; i < NMECH; i++)
		if (text_caseeq(mechanisms[i].name, arg, w))
			m = &mechanisms[i];
	size_t i = w;
	while (i < len && arg[i] == ' ')
		i++;
	if (!s->auth) {
		reply(s, "502 5.5.1 Command not implemented");
	} else if (m && !offered(s, m) && !s->tls) { /* known, but only inside TLS */
		reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
	} else if (!m || !offered(s, m)) {
		reply(s, "504 5.5.4 Unrecognized authentication type");
	} else if (!s->ehlo || s->user[0]) {
		reply(s, "503 5.5.1 %s", s->user[0] ? "Already authenticated" : "Say EHLO first");
	} else {
		auth_start(s, m, arg + i, len - i);
	}
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

	if (s->atrn) { /* ODMR mode: RFC 2645 5.4, whatever the argument */
		reply(s, "502 5.5.1 Command not implemented");
		return;
	}
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
	s->etrn(s->ctx, &node, s->user[0] ? s->user : NULL, &res);
	if (res.code == 459 && (!res.reason[0] || !text_printable(res.reason, strlen(res.reason))))
		strcpy(res.reason, "access denied");
	etrn_reply(s, &node, &res);
}

/* -- ATRN (RFC 2645, ODMR mode) -------------------------------------- */

static const char *atrn_text(int code)
{
	switch (code) {
	case 250: return "250 2.0.0 OK now reversing the connection";
	case 451: return "451 4.3.0 Unable to process ATRN request now";
	case 453: return "453 4.0.0 You have no mail";
	default: return "450 4.7.1 ATRN request refused";
	}
}

/* "domain[,domain...]": host names only (RFC 2645 5.2.1's grammar). */
static size_t atrn_nodes(const char *arg, size_t len, struct node *nodes)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && arg[i] != ',')
			continue;
		if (n == ATRN_NODES_MAX || node_parse(&nodes[n], arg + start, i - start, 0) < 0 ||
		    nodes[n].kind != NODE_HOST)
			return 0;
		n++;
		start = i + 1;
	}
	return n;
}

static void cmd_atrn(struct session *s, const char *arg, size_t len)
{
	static struct node nodes[ATRN_NODES_MAX];

	if (!s->atrn) {
		reply(s, "502 5.5.1 Command not implemented");
		return;
	}
	if (!s->user[0]) {
		reply(s, "530 5.7.0 Authentication required");
		return;
	}
	size_t n = atrn_nodes(arg, len, nodes);
	if (n == 0) {
		reply(s, "501 5.5.4 Syntax: ATRN domain[,domain...] (at most %d)", ATRN_NODES_MAX);
		return;
	}
	int code = s->atrn(s->atrn_ctx, nodes, n, s->user);
	reply(s, "%s", atrn_text(code));
	if (code == 250)
		s->want_reverse = 1;
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
	if (s->atrn)
		reply(s, "214 2.0.0 Commands: EHLO HELO AUTH ATRN NOOP RSET HELP QUIT (RFC 2645)");
	else
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
    {"ATRN", cmd_atrn, LIM_OTHER},
    {"STARTTLS", cmd_starttls, LIM_OTHER},
    {"AUTH", cmd_auth, LIM_OTHER},
    {"MAIL", cmd_mail, LIM_OTHER},
    {"RCPT", cmd_sequence, LIM_OTHER},
    {"DATA", cmd_sequence, LIM_OTHER},
    {"BDAT", cmd_sequence, LIM_OTHER},
};

static const struct command *lookup(const char *verb, size_t len)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (text_caseeq(commands[i].verb, verb, len))
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

size_t session_line_max(const struct session *s)
{
	for (size_t i = 0; i < NMECH; i++)
		if (offered(s, &mechanisms[i]))
			return SMTP_AUTH_LINE_MAX;
	return SMTP_LINE_MAX;
}

int session_line(struct session *s, const char *line, size_t len)
{
	size_t v = 0, a;

	if (s->closed)
		return 1;
	if (s->sasl) { /* an answer in a SASL exchange, not a command */
		sasl_answer(s, line, len);
		return s->closed;
	}
	s->commands++;
	if (too_many_errors(s))
		return 1;
	if (len > SMTP_TEXT_MAX && !(line[4] == ' ' && text_caseeq("AUTH", line, 4))) {
		reply(s, "500 5.5.2 Line too long"); /* only AUTH may be longer */
		return 0;
	}
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
	s->sasl = 0; /* an answer too long for AUTH ends the exchange */
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
