/* SPDX-License-Identifier: ISC */
/* netio.c: the connection's bounded line reader and reply writer, with
 * an idle timeout per read or write and a deadline for the whole session. */
#include "netio.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long long netio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void netio_init(struct netio *n, int infd, int outfd, long idle_s, long session_s)
{
	memset(n, 0, sizeof *n);
	netio_lines_init(&n->lines);
	n->infd = infd;
	n->outfd = outfd;
	n->idle_ms = idle_s * 1000;
	n->deadline_ms = netio_now_ms() + (long long)session_s * 1000;
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

int netio_write(void *arg, const char *buf, size_t len)
{
	struct netio *n = arg;

	while (len > 0) {
		int rc = wait_fd(n, n->outfd, POLLOUT);
		if (rc < 0) {
			n->timed_out = rc;
			return -1;
		}
		ssize_t w = write(n->outfd, buf, len);
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
	b->start = b->end = 0;
	b->discarding = 0;
}

int netio_scan(struct netio_lines *b, const char **line, size_t *len)
{
	char *p = b->in + b->start;
	size_t have = b->end - b->start;
	char *nl = memchr(p, '\n', have);

	if (!nl) {
		if (have >= SMTP_LINE_MAX) { /* cannot end within the limit */
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
	if (l > SMTP_TEXT_MAX)
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

static int fill(struct netio *n)
{
	char *where;
	size_t room = netio_room(&n->lines, &where);

	for (;;) {
		int rc = wait_fd(n, n->infd, POLLIN);
		if (rc < 0)
			return rc;
		ssize_t r = read(n->infd, where, room);
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
		if (!input_pending(n) && out_flush(o) < 0)
			return NETIO_ERROR;
		int rc = fill(n);
		if (rc <= 0)
			return rc;
	}
}
