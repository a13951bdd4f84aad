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

/* Looks for a complete line in the buffer: NETIO_LINE, NETIO_OVERLONG, or
 * 0 when more input is needed. */
static int scan(struct netio *n, const char **line, size_t *len)
{
	char *p = n->in + n->start;
	size_t have = n->end - n->start;
	char *nl = memchr(p, '\n', have);

	if (!nl) {
		if (have >= SMTP_LINE_MAX) { /* cannot end within the limit */
			n->discarding = 1;
			n->start = n->end = 0;
		}
		return 0;
	}
	size_t l = (size_t)(nl - p);
	n->start += l + 1;
	if (n->discarding) {
		n->discarding = 0;
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

static int fill(struct netio *n)
{
	if (n->start > 0) {
		memmove(n->in, n->in + n->start, n->end - n->start);
		n->end -= n->start;
		n->start = 0;
	}
	for (;;) {
		int rc = wait_fd(n, n->infd, POLLIN);
		if (rc < 0)
			return rc;
		ssize_t r = read(n->infd, n->in + n->end, sizeof n->in - n->end);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return NETIO_ERROR;
		if (r == 0)
			return NETIO_EOF;
		n->end += (size_t)r;
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
		int ev = scan(n, line, len);
		if (ev)
			return ev;
		if (!input_pending(n) && out_flush(o) < 0)
			return NETIO_ERROR;
		int rc = fill(n);
		if (rc <= 0)
			return rc;
	}
}
