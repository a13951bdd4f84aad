/* SPDX-License-Identifier: ISC */
/* smtpc.c: the client side of SMTP: send a command, read a whole
 * (multi-line) reply, bounded like the server side. */
#include "smtpc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void smtpc_init(struct smtpc *c, int fd, long timeout_s)
{
	netio_init(&c->io, fd, fd, timeout_s, timeout_s);
	out_init(&c->out, netio_write, &c->io);
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

int smtpc_reply(struct smtpc *c, struct reply *r)
{
	const char *line;
	size_t len;
	int last = 0;

	memset(r, 0, sizeof *r);
	for (int n = 0; n < SMTPC_LINES_MAX && !last; n++) {
		if (netio_getline(&c->io, &c->out, &line, &len) != NETIO_LINE)
			return -1;
		if (c->trace)
			c->trace("<<<", line, len);
		int code = smtpc_parse_line(line, len, &last);
		if (code < 0 || (r->code && code != r->code))
			return -1;
		r->code = code;
		const char *text = len > 4 ? line + 4 : "";
		size_t tlen = len > 4 ? len - 4 : 0;
		if (n > 0 && is_etrn(text, tlen))
			r->has_etrn = 1;
		add_text(r, text, tlen);
	}
	return last ? r->code : -1;
}

int smtpc_cmd(struct smtpc *c, const char *line, struct reply *r)
{
	char buf[SMTP_LINE_MAX];
	int n = snprintf(buf, sizeof buf, "%s\r\n", line);

	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	if (c->trace)
		c->trace(">>>", line, (size_t)n - 2);
	out_put(&c->out, buf, (size_t)n);
	if (out_flush(&c->out) < 0)
		return -1;
	return smtpc_reply(c, r);
}
