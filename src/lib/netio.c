/* SPDX-License-Identifier: ISC */
/* netio.c: the connection's bounded line reader and reply writer, with
 * an idle timeout per read or write and a deadline for the whole session. */
#include "netio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "tlsio.h"

long long netio_now_ms(void)
{
	struct timespec ts;

	clock_read(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void netio_init(struct netio *n, int infd, int outfd, long idle_s, long session_s,
		long long start_ms)
{
	/* field by field: zeroing the 16 KiB input buffer cost a session 4
	 * page faults and 16,000 instructions (make bench) */
	netio_lines_init(&n->lines);
	n->infd = infd;
	n->outfd = outfd;
	n->tls = NULL;
	n->timed_out = 0;
	n->idle_ms = idle_s * 1000;
	n->deadline_ms = start_ms + (long long)session_s * 1000;
}

void netio_grace(struct netio *n)
{
	n->idle_ms = SMTP_CLOSE_GRACE_MS;
	n->deadline_ms = netio_now_ms() + SMTP_CLOSE_GRACE_MS;
}

/* Waits for fd to be ready: 1 ready, NETIO_IDLE or NETIO_DEADLINE. */
static int wait_fd(struct netio *n, int fd, short events)
{
	struct pollfd p = {fd, events, 0};

	for (;;) {
		long long left = n->deadline_ms - netio_now_ms();
		if (left <= 0)
			return NETIO_DEADLINE;
		int wait = left < n->idle_ms ? (int)left : (int)n->idle_ms;
		int rc = poll(&p, 1, wait);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return left <= n->idle_ms ? NETIO_DEADLINE : NETIO_IDLE;
		if (errno != EINTR)
			return 1; /* let read()/write() report the error */
	}
}

/* TLS wants the other direction now and then (a renegotiation, a
 * session ticket): wait for what it asks. */
static int wait_want(struct netio *n, ssize_t want)
{
	return want == TLSIO_WANT_WRITE ? wait_fd(n, n->outfd, POLLOUT)
					: wait_fd(n, n->infd, POLLIN);
}

/* One write: n >= 0, or -1 with errno; a TLS wait that timed out sets
 * n->timed_out. */
static ssize_t put(struct netio *n, const char *buf, size_t len)
{
	if (!n->tls)
		return write(n->outfd, buf, len);
	ssize_t w;
	while ((w = tlsio_write(n->tls, buf, len)) == TLSIO_WANT_READ || w == TLSIO_WANT_WRITE) {
		int rc = wait_want(n, w);
		if (rc < 0) {
			n->timed_out = rc;
			return -1;
		}
	}
	if (w < 0)
		errno = EPROTO;
	return w;
}

int netio_write(void *arg, const char *buf, size_t len)
{
	struct netio *n = arg;

	while (len > 0) {
		int rc = wait_fd(n, n->outfd, POLLOUT);
		if (rc < 0) {
			n->timed_out = rc;
			return -1;
		}
		ssize_t w = put(n, buf, len);
		if (n->timed_out)
			return -1;
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

void netio_lines_init(struct netio_lines *b)
{
	b->max = SMTP_LINE_MAX;
	b->start = b->end = 0;
	b->discarding = 0;
}

int netio_scan(struct netio_lines *b, const char **line, size_t *len)
{
	char *p = b->in + b->start;
	size_t have = b->end - b->start;
	char *nl = memchr(p, '\n', have);

	if (!nl) {
		if (have >= b->max) { /* cannot end within the limit */
			b->discarding = 1;
			b->start = b->end = 0;
		}
		return 0;
	}
	size_t l = (size_t)(nl - p);
	b->start += l + 1;
	if (b->discarding) {
		b->discarding = 0;
		return NETIO_OVERLONG;
	}
	if (l > 0 && p[l - 1] == '\r')
		l--;
	if (l > b->max - 2)
		return NETIO_OVERLONG;
	*line = p;
	*len = l;
	return NETIO_LINE;
}

size_t netio_room(struct netio_lines *b, char **where)
{
	if (b->start > 0) {
		memmove(b->in, b->in + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	*where = b->in + b->end;
	return sizeof b->in - b->end;
}

void netio_added(struct netio_lines *b, size_t n)
{
	b->end += n;
}

/* One read: n >= 0, or -1 with errno; a TLS wait that timed out returns
 * -1 with *timeout set to the netio event. */
static ssize_t get(struct netio *n, char *where, size_t room, int *timeout)
{
	if (!n->tls)
		return read(n->infd, where, room);
	ssize_t r;
	while ((r = tlsio_read(n->tls, where, room)) == TLSIO_WANT_READ || r == TLSIO_WANT_WRITE) {
		int rc = wait_want(n, r);
		if (rc < 0) {
			*timeout = rc;
			return -1;
		}
	}
	if (r < 0)
		errno = EPROTO;
	return r;
}

/* With TLS the fd is not the whole truth: a record longer than the room
 * left in the buffer stays partly inside libtls, and poll() would wait for
 * octets that have already arrived. So under TLS fill() reads first and
 * waits only when libtls asks (get() does), checking the deadline itself.
 * It does the same when the caller has just seen input waiting (ready):
 * a second poll() would only say so again. */
static int fill(struct netio *n, int ready)
{
	char *where;
	size_t room = netio_room(&n->lines, &where);

	for (;; ready = 0) {
		int rc = n->tls || ready ? (netio_now_ms() < n->deadline_ms ? 1 : NETIO_DEADLINE)
					 : wait_fd(n, n->infd, POLLIN);
		if (rc < 0)
			return rc;
		int timeout = 0;
		ssize_t r = get(n, where, room, &timeout);
		if (timeout)
			return timeout;
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return NETIO_ERROR;
		if (r == 0)
			return NETIO_EOF;
		netio_added(&n->lines, (size_t)r);
		return 1;
	}
}

/* Input already waiting in the kernel belongs to the same pipelined group. */
static int input_pending(const struct netio *n)
{
	struct pollfd p = {n->infd, POLLIN, 0};
	return poll(&p, 1, 0) > 0;
}

int netio_getline(struct netio *n, struct outbuf *o, const char **line, size_t *len)
{
	for (;;) {
		int ev = netio_scan(&n->lines, line, len);
		if (ev)
			return ev;
		int ready = input_pending(n);
		if (!ready && out_flush(o) < 0)
			return NETIO_ERROR;
		int rc = fill(n, ready);
		if (rc <= 0)
			return rc;
	}
}

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int netio_starttls(struct netio *n, struct tlsio *t, const char *servername)
{
	netio_lines_init(&n->lines); /* what came before the handshake is gone */
	if (nonblocking(n->infd) < 0 || nonblocking(n->outfd) < 0) {
		snprintf(t->err, sizeof t->err, "TLS: unable to make the connection non-blocking");
		return -1;
	}
	if (tlsio_start(t, n->infd, n->outfd, servername) < 0)
		return -1;
	int rc;
	while ((rc = tlsio_handshake(t)) == TLSIO_WANT_READ || rc == TLSIO_WANT_WRITE) {
		int w = wait_want(n, rc);
		if (w < 0) {
			snprintf(t->err, sizeof t->err, "TLS handshake: %s",
				 w == NETIO_IDLE ? "timeout" : "session deadline");
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	n->tls = t;
	return 0;
}
