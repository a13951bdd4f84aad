/* SPDX-License-Identifier: ISC */
/* netio.h: bounded line input and reply output on the connection, with an
 * idle timeout per read or write and a deadline for the whole session.
 * No stdio: one read buffer, one reply buffer (outbuf), poll() and the
 * monotonic clock.
 *
 * The line splitting itself (struct netio_lines) does no I/O: netio fills
 * it from the connection, and the fuzz targets and tests can fill it from
 * memory, so they run the very code that splits a client's bytes. */
#ifndef ETRND_NETIO_H
#define ETRND_NETIO_H

#include <stddef.h>

#include "bounds.h"
#include "outbuf.h"

/* Room for the longest line netio ever accepts (an AUTH line) and more. */
#define NETIO_INBUF 16384

enum netio_event {
	NETIO_LINE = 1,     /* a complete line (without CR LF) */
	NETIO_OVERLONG = 2, /* a line over the limit ended; it was discarded */
	NETIO_EOF = 0,
	NETIO_IDLE = -1,     /* idle timeout */
	NETIO_DEADLINE = -2, /* session deadline */
	NETIO_ERROR = -3,    /* read error */
};

/* Input octets not yet returned as lines: in[start, end). */
struct netio_lines {
	size_t max; /* the longest line accepted, CR LF included: SMTP_LINE_MAX */
	size_t start, end;
	int discarding; /* inside an overlong line */
	char in[NETIO_INBUF];
};

void netio_lines_init(struct netio_lines *b);
/* The next complete line: NETIO_LINE (*line and *len point into the
 * buffer, without the LF and one CR before it, valid until the buffer is
 * next changed), NETIO_OVERLONG (a line over b->max ended; its octets are
 * gone), or 0 when more input is needed. A line end is LF. */
int netio_scan(struct netio_lines *b, const char **line, size_t *len);
/* Makes room for more input after what is kept: *where gets the place,
 * the return value its size (never 0 when netio_scan() returned 0). */
size_t netio_room(struct netio_lines *b, char **where);
/* n octets were stored at the place netio_room() gave. */
void netio_added(struct netio_lines *b, size_t n);

struct tlsio;

struct netio {
	int infd, outfd;
	struct tlsio *tls; /* NULL: plaintext */
	long idle_ms;
	long long deadline_ms; /* absolute, CLOCK_MONOTONIC */
	int timed_out;         /* a write hit the idle timeout or the deadline */
	struct netio_lines lines;
};

/* CLOCK_MONOTONIC in milliseconds. */
long long netio_now_ms(void);
/* The session's deadline is session_s after start_ms, a netio_now_ms()
 * the caller read when it began (etrnd: its first; one clock read less). */
void netio_init(struct netio *n, int infd, int outfd, long idle_s, long session_s,
		long long start_ms);
/* Returns an event; for NETIO_LINE, *line and *len point into n->in, valid
 * until the next call. Flushes o before it blocks. */
int netio_getline(struct netio *n, struct outbuf *o, const char **line, size_t *len);
/* TLS from here on: the input buffered so far is discarded, never read as
 * commands (RFC 3207 section 4.2; the CVE-2011-0411 class), the fds become
 * non-blocking and the handshake runs under the idle timeout and the
 * deadline. 0, or -1 (the reason in t->err, or a timeout). */
int netio_starttls(struct netio *n, struct tlsio *t, const char *servername);
/* Gives the last reply SMTP_CLOSE_GRACE_MS to go out, after a timeout. */
void netio_grace(struct netio *n);
/* outbuf flush callback: writes with the same timeouts. */
int netio_write(void *netio, const char *buf, size_t len);

#endif
