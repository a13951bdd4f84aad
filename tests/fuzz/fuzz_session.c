/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the SMTP engine fed arbitrary bytes, split into lines
 * by netio's own splitter (netio_scan), filled from memory as a read()
 * would fill it. Invariants: every reply line ends in CRLF, is at most
 * SMTP_LINE_MAX octets, starts with a known code; the ETRN callback only
 * ever sees a valid, normalised node. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "netio.h"
#include "node.h"
#include "session.h"

static const int codes[] = {214, 220, 221, 250, 251, 252, 253, 421,
			    458, 459, 500, 501, 502, 503, 550};

static void check_line(const char *s, size_t len)
{
	if (len < 6 || len > SMTP_LINE_MAX || s[len - 2] != '\r')
		abort();
	int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	int known = 0;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		known |= codes[i] == code;
	if (!known || (s[3] != ' ' && s[3] != '-'))
		abort();
	for (size_t i = 0; i + 2 < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

static int check_flush(void *arg, const char *buf, size_t len)
{
	(void)arg;
	size_t start = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n') {
			check_line(buf + start, i - start + 1);
			start = i + 1;
		}
	if (start != len) /* a write that ends inside a reply */
		abort();
	return 0;
}

static void etrn(void *ctx, const struct node *n, const char *user, struct etrn_result *r)
{
	(void)user;
	struct node again;
	unsigned char pick = *(unsigned char *)ctx;
	if (n->len != strlen(n->name) || node_parse(&again, n->name, n->len, 0) < 0 ||
	    strcmp(again.name, n->name) != 0)
		abort(); /* only valid nodes may reach the policy and the queue */
	static const int results[] = {250, 251, 252, 253, 458, 459};
	r->code = results[pick % 6];
	r->count = pick;
	if (pick & 0x80) /* a reason with bytes that must never reach the wire */
		memcpy(r->reason, "bad\r\nreason", 12);
	else
		strcpy(r->reason, "not allowed here");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outbuf out;
	static char outmem[SMTP_REPLIES_BUF];
	static struct session s;
	static struct netio_lines in;
	unsigned char pick = size ? data[0] : 0;
	const char *line;
	size_t len, used = 0;

	out_init(&out, outmem, sizeof outmem, check_flush, NULL);
	session_init(&s, "mx.example", etrn, &pick, &out);
	netio_lines_init(&in);
	session_greet(&s);
	while (!s.closed && used < size) {
		char *where;
		size_t room = netio_room(&in, &where);
		size_t n = size - used < room ? size - used : room;
		memcpy(where, data + used, n);
		netio_added(&in, n);
		used += n;
		int ev;
		while (!s.closed && (ev = netio_scan(&in, &line, &len)) != 0) {
			if (ev == NETIO_OVERLONG)
				session_overlong(&s);
			else
				session_line(&s, line, len);
		}
	}
	out_flush(&out);
	return 0;
}
