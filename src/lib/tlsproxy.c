/* SPDX-License-Identifier: ISC */
/* tlsproxy.c: see tlsproxy.h. */
#include "tlsproxy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt.h"
#include "fsutil.h"
#include "netio.h"

/* One status line to etrnd: the words, a space between each, and LF. */
static void say(struct tlsproxy *p, const char *w1, const char *w2, const char *w3)
{
	char line[TLSPROXY_STATUS_MAX];
	size_t n = fmt(line, sizeof line - 1, "%s%s%s%s%s", w1, w2[0] ? " " : "", w2,
		       w3[0] ? " " : "", w3);
	line[n++] = '\n';
	(void)write_all(p->sock, line, n);
}

static int fail(struct tlsproxy *p, const char *why)
{
	say(p, "fail", why, "");
	return -1;
}

/* netio_starttls(): the same handshake, time limits and reasons as
 * etrn's and etrnd-deliver's client side. */
static int handshake(struct tlsproxy *p)
{
	if (netio_starttls(&p->net, &p->tls, NULL) < 0)
		return fail(p, p->tls.err);
	say(p, "tls", tlsio_version(&p->tls), tlsio_cipher(&p->tls));
	return 0;
}

/* One direction's buffer: octets [off, len) are still to be written. */
struct pipe {
	char buf[16384];
	size_t off, len;
	int eof;      /* its source ended */
	ssize_t want; /* TLS asked to wait for this (TLSIO_WANT_*), or 0 */
};

/* client -> etrnd: decrypt what TLS has, write it to the socket. 1 progress,
 * 0 nothing to do now, -1 the end. */
static int up(struct tlsproxy *p, struct pipe *u)
{
	if (u->len == 0 && !u->eof) {
		ssize_t r = tlsio_read(&p->tls, u->buf, sizeof u->buf);
		if (r == TLSIO_WANT_READ || r == TLSIO_WANT_WRITE) {
			u->want = r;
			return 0;
		}
		u->want = 0;
		if (r <= 0) { /* the client ended (or broke) its side */
			u->eof = 1;
			shutdown(p->sock, SHUT_WR);
			return r < 0 ? -1 : 1;
		}
		u->off = 0, u->len = (size_t)r;
	}
	if (u->len == 0)
		return 0;
	ssize_t w = write(p->sock, u->buf + u->off, u->len - u->off);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if ((u->off += (size_t)w) == u->len)
		u->off = u->len = 0;
	return 1;
}

/* etrnd -> client: read the socket, encrypt it out. */
static int down(struct tlsproxy *p, struct pipe *d)
{
	if (d->len == 0 && !d->eof) {
		ssize_t r = read(p->sock, d->buf, sizeof d->buf);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (r == 0) {
			d->eof = 1;
			return -1; /* etrnd is done: nothing more to say */
		}
		d->off = 0, d->len = (size_t)r;
	}
	if (d->len == 0)
		return 0;
	ssize_t w = tlsio_write(&p->tls, d->buf + d->off, d->len - d->off);
	if (w == TLSIO_WANT_READ || w == TLSIO_WANT_WRITE) {
		d->want = w;
		return 0;
	}
	d->want = 0;
	if (w < 0)
		return -1;
	if ((d->off += (size_t)w) == d->len)
		d->off = d->len = 0;
	return 1;
}

/* Waits until one side can move: 1, or -1 (the deadline; or a write to the
 * client stuck for the idle time; or etrnd gone while its octets wait). */
static int wait_any(struct tlsproxy *p, const struct pipe *u, const struct pipe *d)
{
	struct pollfd f[3] = {{p->net.infd, 0, 0}, {p->net.outfd, 0, 0}, {p->sock, 0, 0}};
	if ((u->len == 0 && !u->eof) || u->want == TLSIO_WANT_READ || d->want == TLSIO_WANT_READ)
		f[0].events = POLLIN;
	if (u->want == TLSIO_WANT_WRITE || d->want == TLSIO_WANT_WRITE)
		f[1].events = POLLOUT;
	f[2].events = (short)((d->len == 0 ? POLLIN : 0) | (u->len > 0 ? POLLOUT : 0));
	long long left = p->net.deadline_ms - netio_now_ms();
	if (left <= 0)
		return -1;
	int stuck = d->len > 0 && d->want != 0; /* octets for the client wait */
	int rc = poll(f, 3, stuck && left > p->net.idle_ms ? (int)p->net.idle_ms : (int)left);
	if (rc == 0)
		return -1;
	if (rc < 0)
		return errno == EINTR ? 1 : -1;
	if (d->len > 0 && (f[2].revents & (POLLHUP | POLLERR)) && !(f[2].revents & POLLIN))
		return -1;
	return 1;
}

static void relay(struct tlsproxy *p)
{
	static struct pipe u, d;

	if (fcntl(p->sock, F_SETFL, fcntl(p->sock, F_GETFL) | O_NONBLOCK) < 0)
		return;
	for (;;) {
		int a = up(p, &u), b = down(p, &d);
		if (b < 0 || (a < 0 && u.len == 0))
			return;
		if (a == 0 && b == 0 && wait_any(p, &u, &d) < 0)
			return;
	}
}

int tlsproxy_run(struct tlsproxy *p, int certfd, int keyfd, const char *certname,
		 const char *keyname)
{
	if (tlsio_server_fds(&p->tls, certfd, keyfd, certname, keyname) < 0)
		return fail(p, p->tls.err);
	say(p, "ready", "", "");
	if (handshake(p) < 0) {
		tlsio_free(&p->tls);
		return -1;
	}
	relay(p);
	tlsio_free(&p->tls); /* close_notify, one try */
	return 0;
}
