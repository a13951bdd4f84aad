/* SPDX-License-Identifier: ISC */
/* outbuf.c: the reply buffer: whole replies in, one write per pipelined
 * group out (RFC 2920). */
#include "outbuf.h"

#include <string.h>

void out_init(struct outbuf *o, char *buf, size_t size, int (*flush)(void *, const char *, size_t),
	      void *arg)
{
	o->buf = buf;
	o->size = size;
	o->len = 0;
	o->failed = 0;
	o->flush = flush;
	o->arg = arg;
}

int out_flush(struct outbuf *o)
{
	if (o->failed)
		return -1;
	if (o->len > 0 && o->flush(o->arg, o->buf, o->len) < 0) {
		o->failed = 1;
		return -1;
	}
	o->len = 0;
	return 0;
}

void out_put(struct outbuf *o, const char *s, size_t len)
{
	if (o->failed || len > o->size)
		return;
	if (o->len + len > o->size && out_flush(o) < 0)
		return;
	memcpy(o->buf + o->len, s, len);
	o->len += len;
}
