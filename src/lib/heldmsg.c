/* SPDX-License-Identifier: ISC */
/* heldmsg.c: the held message's envelope, written by etrnd-store and read
 * by etrnd-deliver, which trusts it no more than any other input. */
#include "heldmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

int mailaddr_ok(const char *s, size_t len)
{
	const char *at = len ? memrchr(s, '@', len) : NULL;
	struct node n;

	if (len == 0 || len > MAIL_ADDR_MAX || !at || at == s || !text_word(s, len) ||
	    memchr(s, '<', len) || memchr(s, '>', len))
		return 0;
	size_t dlen = len - (size_t)(at + 1 - s);
	if (dlen > 0 && at[1] == '[')
		return node_parse(&n, at + 1, dlen, 0) == 0;
	char host[NODE_BUF];
	return node_host(host, at + 1, dlen, 1) > 0;
}

const char *mailaddr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}

int held_covers(const struct node *node, const char *addr)
{
	const char *d = mailaddr_domain(addr);
	size_t dlen = strlen(d);
	struct node dn;

	if (!node || node->kind == NODE_QUEUE)
		return 1;
	if (node_parse(&dn, d, dlen, NODE_RULEKEY) < 0 && node_parse(&dn, d, dlen, 0) < 0)
		return 0;
	if (node->kind == NODE_LITERAL || node->kind == NODE_HOST)
		return strcmp(dn.name, node->name) == 0;
	/* @domain: the domain itself, or a name that ends in ".domain" */
	const char *dom = node->name + 1;
	size_t len = node->len - 1;
	if (dn.len == len)
		return strcmp(dn.name, dom) == 0;
	return dn.len > len && dn.name[dn.len - len - 1] == '.' &&
	       strcmp(dn.name + dn.len - len, dom) == 0;
}

static int wanted(enum rcpt_state s, enum held_part part)
{
	if (part == HELD_FAILED)
		return s == RCPT_FAILED;
	return s == RCPT_OTHER || s == RCPT_PENDING || s == RCPT_DEFERRED;
}

char *held_envelope(const struct held *h, enum held_part part, size_t *len)
{
	size_t size = sizeof HELD_MAGIC + 6 + strlen(h->from) + 2;
	for (size_t i = 0; i < h->n; i++)
		size += 2 * (MAIL_ADDR_MAX + 8) + HELD_ERROR_MAX;
	char *buf = malloc(size), *p = buf;
	if (!buf)
		return NULL;
	p += sprintf(p, "%sfrom %s\n", HELD_MAGIC, h->from);
	for (size_t i = 0; i < h->n; i++) {
		const struct rcpt *r = &h->rcpt[i];
		if (!wanted(r->state, part))
			continue;
		p += sprintf(p, "to %s\n", r->addr);
		if (part == HELD_FAILED)
			p += sprintf(p, "error %s %s\n", r->addr, r->error);
	}
	*p++ = '\n';
	*len = (size_t)(p - buf);
	return buf;
}

/* One "word rest\n" line at buf[*pos] (the space is required, the rest
 * may be empty): the word's index in words, the rest in *arg (not
 * terminated), or -1. */
static int line(const char *buf, size_t len, size_t *pos, const char **arg, size_t *alen)
{
	static const char *const words[] = {"from", "to", "error"};
	const char *l = buf + *pos, *nl = memchr(l, '\n', len - *pos);
	if (!nl)
		return -1;
	*pos = (size_t)(nl - buf) + 1;
	const char *sp = memchr(l, ' ', (size_t)(nl - l));
	if (!sp)
		return -1;
	*arg = sp + 1;
	*alen = (size_t)(nl - *arg);
	for (int i = 0; i < 3; i++)
		if (strlen(words[i]) == (size_t)(sp - l) &&
		    memcmp(words[i], l, (size_t)(sp - l)) == 0)
			return i;
	return -1;
}

static int add_rcpt(struct held *h, const char *a, size_t len)
{
	if (h->n == HELD_RCPTS_MAX || !mailaddr_ok(a, len))
		return -1;
	if (h->n % 16 == 0) {
		struct rcpt *r = realloc(h->rcpt, (h->n + 16) * sizeof *r);
		if (!r)
			return -1;
		h->rcpt = r;
	}
	struct rcpt *r = &h->rcpt[h->n++];
	memset(r, 0, sizeof *r);
	memcpy(r->addr, a, len);
	return 0;
}

/* "error ADDR TEXT": the text goes to the last recipient, which is ADDR. */
static int add_error(struct held *h, const char *a, size_t len)
{
	if (h->n == 0)
		return -1;
	struct rcpt *r = &h->rcpt[h->n - 1];
	size_t alen = strlen(r->addr);
	if (len < alen + 1 || memcmp(a, r->addr, alen) != 0 || a[alen] != ' ' ||
	    len - alen - 1 > HELD_ERROR_MAX || !text_printable(a + alen + 1, len - alen - 1))
		return -1;
	memcpy(r->error, a + alen + 1, len - alen - 1);
	r->state = RCPT_FAILED;
	return 0;
}

int held_parse(struct held *h, const char *buf, size_t len, const char **why)
{
	size_t pos = sizeof HELD_MAGIC - 1, alen;
	const char *arg;

	memset(h, 0, sizeof *h);
	*why = "not a held message (no envelope)";
	if (len < pos || memcmp(buf, HELD_MAGIC, pos) != 0)
		return -1;
	*why = "bad envelope sender";
	if (line(buf, len, &pos, &arg, &alen) != 0 || (alen > 0 && !mailaddr_ok(arg, alen)))
		return -1;
	memcpy(h->from, arg, alen);
	h->from[alen] = '\0';
	*why = "bad envelope recipient";
	while (pos < len && buf[pos] != '\n') {
		int w = line(buf, len, &pos, &arg, &alen);
		if ((w == 1 && add_rcpt(h, arg, alen) < 0) ||
		    (w == 2 && add_error(h, arg, alen) < 0) || w < 1) {
			held_free(h);
			return -1;
		}
	}
	if (pos >= len || h->n == 0) {
		*why = pos >= len ? "envelope without an end" : "no recipient";
		held_free(h);
		return -1;
	}
	h->body = pos + 1;
	return 0;
}

void held_free(struct held *h)
{
	free(h->rcpt);
	h->rcpt = NULL;
	h->n = 0;
}
