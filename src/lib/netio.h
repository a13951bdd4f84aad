/* SPDX-License-Identifier: ISC */
/* netio.h: bounded line input and reply output on the connection, with an
 * idle timeout per read or write and a deadline for the whole session.
 * No stdio: one read buffer, one reply buffer (outbuf), poll() and the
 * monotonic clock. */
#ifndef ETRND_NETIO_H
#define ETRND_NETIO_H

#include <stddef.h>

#include "bounds.h"
#include "outbuf.h"

#define NETIO_INBUF 4096

enum netio_event {
	NETIO_LINE = 1,     /* a complete line (without CR LF) */
	NETIO_OVERLONG = 2, /* a line over SMTP_LINE_MAX ended; it was discarded */
	NETIO_EOF = 0,
	NETIO_IDLE = -1,     /* idle timeout */
	NETIO_DEADLINE = -2, /* session deadline */
	NETIO_ERROR = -3,    /* read error */
};

struct netio {
	int infd, outfd;
	long idle_ms;
	long long deadline_ms; /* absolute, CLOCK_MONOTONIC */
	int discarding;        /* inside an overlong line */
	int timed_out;         /* a write hit the idle timeout or the deadline */
	size_t start, end;
	char in[NETIO_INBUF];
};

long long netio_now_ms(void);
void netio_init(struct netio *n, int infd, int outfd, long idle_s, long session_s);
/* Returns an event; for NETIO_LINE, *line and *len point into n->in, valid
 * until the next call. Flushes o before it blocks. */
int netio_getline(struct netio *n, struct outbuf *o, const char **line, size_t *len);
/* Gives the last reply SMTP_CLOSE_GRACE_MS to go out, after a timeout. */
void netio_grace(struct netio *n);
/* outbuf flush callback: writes with the same timeouts. */
int netio_write(void *netio, const char *buf, size_t len);

#endif
