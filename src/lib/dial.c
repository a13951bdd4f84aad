/* SPDX-License-Identifier: ISC */
/* dial.c: see dial.h. connect() runs non-blocking under poll(), so a host
 * that drops SYNs costs timeout_s, not the kernel's minutes. No
 * AI_ADDRCONFIG: it hides loopback-only hosts and IPv4 on IPv6-only lo. */
#include "dial.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "bounds.h"
#include "netio.h"

static int try_connect(const struct addrinfo *ai, long long deadline_ms)
{
	long long left = deadline_ms - netio_now_ms();
	long timeout_ms =
	    left < SMTPC_CONNECT_TIMEOUT * 1000L ? (long)left : SMTPC_CONNECT_TIMEOUT * 1000L;
	if (timeout_ms <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail;
	struct pollfd p = {fd, POLLOUT, 0};
	int rc;
	while ((rc = poll(&p, 1, (int)timeout_ms)) < 0 && errno == EINTR)
		;
	int err = 0;
	socklen_t len = sizeof err;
	if (rc == 0)
		err = ETIMEDOUT;
	else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		errno = err;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

int dial(const char *host, const char *port, long long deadline_ms, char *peer, int *gai)
{
	struct addrinfo hints = {0}, *res, *ai;
	int fd = -1, tried = 0;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	*gai = getaddrinfo(host, port, &hints, &res);
	if (*gai != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai && fd < 0 && tried < DELIVER_ADDRS_MAX; ai = ai->ai_next, tried++) {
		fd = try_connect(ai, deadline_ms);
		struct addr a;
		if (fd >= 0 && addr_from_sockaddr(&a, ai->ai_addr, ai->ai_addrlen) == 0)
			addr_format(&a, peer, 64);
	}
	int e = errno;
	freeaddrinfo(res);
	errno = e;
	return fd;
}
