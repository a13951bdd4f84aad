/* SPDX-License-Identifier: ISC */
/* outbuf.h: the reply buffer. Replies are appended whole; the buffer is
 * flushed when the next reply would not fit and before every blocking
 * read, so a pipelined group of commands gets its replies in one write
 * (RFC 2920) and no reply is ever split across writes. */
#ifndef ETRND_OUTBUF_H
#define ETRND_OUTBUF_H

#include <stddef.h>

/* A client's buffer: it holds one command line (smtpc.h). etrnd's
 * replies have their own, smaller size (SMTP_REPLIES_BUF, bounds.h). */
#define OUTBUF_SIZE 4096

struct outbuf {
	size_t len, size;
	int failed; /* a flush failed: the peer is gone or too slow */
	int (*flush)(void *arg, const char *buf, size_t len);
	void *arg;
	char *buf; /* size octets, the caller's */
};

void out_init(struct outbuf *o, char *buf, size_t size, int (*flush)(void *, const char *, size_t),
	      void *arg);
/* Appends one whole reply (len <= the buffer's size; a longer one is
 * dropped, as after a failed flush). */
void out_put(struct outbuf *o, const char *s, size_t len);
/* Writes out what is buffered; -1 (and o->failed) on failure. */
int out_flush(struct outbuf *o);

#endif
