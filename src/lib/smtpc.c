/* SPDX-License-Identifier: ISC */
/* smtpc.c: the client side of SMTP: send a command, read a whole
 * (multi-line) reply, bounded like the server side: line length, lines per
 * reply, time per reply and for the whole dialogue; TLS underneath when
 * asked. */
#include "smtpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"
#include "tlsio.h"

void smtpc_init(struct smtpc *c, int fd, long reply_s, long session_s)
{
	netio_init(&c->io, fd, fd, reply_s, session_s, netio_now_ms());
	out_init(&c->out, c->outmem, sizeof c->outmem, netio_write, &c->io);
	c->reply_ms = reply_s * 1000;
	c->deadline_ms = c->io.deadline_ms;
	c->error = "";
	c->trace = NULL;
}

int smtpc_parse_line(const char *line, size_t len, int *last)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*last = len == 3 || line[3] == ' ';
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static void add_text(struct reply *r, const char *s, size_t len)
{
	if (r->len && r->len + 1 < sizeof r->text)
		r->text[r->len++] = '\n';
	if (len > sizeof r->text - 1 - r->len)
		len = sizeof r->text - 1 - r->len;
	memcpy(r->text + r->len, s, len);
	r->len += len;
	r->text[r->len] = '\0';
}

/* An EHLO keyword line: "ETRN" alone or followed by parameters. */
static int is_etrn(const char *s, size_t len)
{
	return len >= 4 && strncasecmp(s, "ETRN", 4) == 0 && (len == 4 || s[4] == ' ');
}

/* The next exchange (a command and its reply, or the greeting) must end
 * within reply_ms, and within the dialogue's deadline. netio applies the
 * earlier of the two to every wait. */
static void start_exchange(struct smtpc *c)
{
	long long reply_end = netio_now_ms() + c->reply_ms;
	c->io.deadline_ms = reply_end < c->deadline_ms ? reply_end : c->deadline_ms;
}

static int fail(struct smtpc *c, const char *why)
{
	c->error = why;
	return -1;
}

static int io_failure(struct smtpc *c, int ev)
{
	switch (ev) {
	case NETIO_EOF: return fail(c, "the server closed the connection");
	case NETIO_OVERLONG: return fail(c, "a reply line longer than 512 octets");
	case NETIO_ERROR:
		if (c->io.tls) /* the reason is libtls's, errno only says EPROTO */
			snprintf(c->errbuf, sizeof c->errbuf, "%s", c->io.tls->err);
		else
			snprintf(c->errbuf, sizeof c->errbuf, "read error: %s", strerror(errno));
		return fail(c, c->errbuf);
	default: break;
	}
	if (c->io.deadline_ms == c->deadline_ms)
		return fail(c, "the deadline for the whole dialogue passed");
	snprintf(c->errbuf, sizeof c->errbuf, "no complete reply within %ld s", c->reply_ms / 1000);
	return fail(c, c->errbuf);
}

static int read_reply(struct smtpc *c, struct reply *r)
{
	const char *line;
	size_t len;
	int last = 0;

	memset(r, 0, sizeof *r);
	for (int n = 0; !last; n++) {
		if (n == SMTPC_LINES_MAX)
			return fail(c, "a reply of more than 64 lines");
		int ev = netio_getline(&c->io, &c->out, &line, &len);
		if (ev != NETIO_LINE)
			return io_failure(c, ev);
		if (c->trace)
			c->trace("<<<", line, len);
		int code = smtpc_parse_line(line, len, &last);
		if (code < 0)
			return fail(c, "a line that is not an SMTP reply");
		if (r->code && code != r->code)
			return fail(c, "the lines of one reply have different codes");
		r->code = code;
		const char *text = len > 4 ? line + 4 : "";
		size_t tlen = len > 4 ? len - 4 : 0;
		if (n > 0 && is_etrn(text, tlen))
			r->has_etrn = 1;
		add_text(r, text, tlen);
	}
	return r->code;
}

int smtpc_reply(struct smtpc *c, struct reply *r)
{
	start_exchange(c);
	return read_reply(c, r);
}

/* Sends line (at most max octets with CR LF) and reads the reply. */
static int command(struct smtpc *c, const char *line, const char *shown, size_t max,
		   struct reply *r)
{
	char buf[OUTBUF_SIZE];
	int n = snprintf(buf, sizeof buf, "%s\r\n", line);

	if (n < 0 || (size_t)n >= sizeof buf || (size_t)n > max) {
		explicit_bzero(buf, sizeof buf);
		return fail(c, "command too long");
	}
	start_exchange(c);
	if (c->trace)
		c->trace(">>>", shown, strlen(shown));
	out_put(&c->out, buf, (size_t)n);
	int rc = out_flush(&c->out);
	if (shown != line) { /* the buffered copy too, flushed or not */
		explicit_bzero(c->out.buf, c->out.size);
		c->out.len = 0;
	}
	explicit_bzero(buf, sizeof buf);
	if (rc < 0) {
		if (c->io.timed_out)
			return io_failure(c, c->io.timed_out);
		if (c->io.tls)
			snprintf(c->errbuf, sizeof c->errbuf, "%s", c->io.tls->err);
		else
			snprintf(c->errbuf, sizeof c->errbuf, "write error: %s", strerror(errno));
		return fail(c, c->errbuf);
	}
	return read_reply(c, r);
}

int smtpc_cmd(struct smtpc *c, const char *line, struct reply *r)
{
	return command(c, line, line, SMTP_LINE_MAX, r);
}

/* An AUTH line may be longer than a command (RFC 4954 section 4): 12288
 * octets; here as long as one write of the reply buffer, which a PLAIN
 * response of 255-octet names and passwords (695 octets) fits easily. */
int smtpc_cmd_secret(struct smtpc *c, const char *line, const char *shown, struct reply *r)
{
	return command(c, line, shown, OUTBUF_SIZE, r);
}

int smtpc_tls(struct smtpc *c, struct tlsio *t, const char *servername)
{
	start_exchange(c);
	if (netio_starttls(&c->io, t, servername) == 0)
		return 0;
	snprintf(c->errbuf, sizeof c->errbuf, "%s", t->err);
	return fail(c, c->errbuf);
}

const char *smtpc_keyword(const struct reply *r, const char *kw)
{
	size_t kl = strlen(kw);
	for (const char *l = strchr(r->text, '\n'); l; l = strchr(l + 1, '\n'))
		if (strncasecmp(l + 1, kw, kl) == 0) {
			if (l[1 + kl] == '\0' || l[1 + kl] == '\n')
				return "";
			if (l[1 + kl] == ' ')
				return l + 2 + kl;
		}
	return NULL;
}

int smtpc_auth_offered(const struct reply *r, const char *mech)
{
	const char *p = smtpc_keyword(r, "AUTH");
	size_t ml = strlen(mech);

	while (p && *p && *p != '\n') {
		size_t w = strcspn(p, " \n");
		if (w == ml && strncasecmp(p, mech, ml) == 0)
			return 1;
		p += w;
		p += strspn(p, " ");
	}
	return 0;
}

const char *smtpc_first_line(const struct reply *r, char *buf, size_t size)
{
	const char *nl = memchr(r->text, '\n', r->len);
	text_sanitize(buf, size, r->text, nl ? (size_t)(nl - r->text) : r->len);
	return buf;
}
