/* SPDX-License-Identifier: ISC */
/* serve.c: the loop that feeds a connection's lines to the I/O-free
 * session engine and flushes its replies. */
#include "serve.h"

#include "tlsspawn.h"

static void stop(struct session *s, const char *why)
{
	s->closed = 1;
	s->end = why;
}

/* STARTTLS: 220 once etrnd-tlsproxy has the key pair loaded (454 if it cannot),
 * then the handshake; nothing the client sent before it is ever read. */
static void starttls(struct session *s, struct netio *n, struct outbuf *o, struct serve_env *env)
{
	if (out_flush(o) < 0) {
		stop(s, "io-error");
		return;
	}
	if (tlsspawn_start(env->tls, n) < 0) {
		env->tls_error = env->tls->err;
		session_starttls(s, 0);
		return;
	}
	session_starttls(s, 1);
	if (out_flush(o) < 0)
		stop(s, "io-error");
	else if (tlsspawn_handshake(env->tls, n) < 0) {
		env->tls_error = env->tls->err;
		stop(s, "tls-failed");
	} else
		session_tls_started(s);
}

/* The effects of the last line: TLS, or ODMR's turn of the connection. */
static void effects(struct session *s, struct netio *n, struct outbuf *o, struct serve_env *env)
{
	if (s->want_tls)
		starttls(s, n, o, env);
	if (s->want_reverse) {
		s->want_reverse = 0;
		if (out_flush(o) == 0 && env->reverse)
			env->reverse(env->ctx, n, o);
		stop(s, "reversed");
	}
}

void serve(struct session *s, struct netio *n, struct outbuf *o, struct serve_env *env)
{
	const char *line;
	size_t len;

	session_greet(s);
	while (!s->closed) {
		n->lines.max = session_line_max(s);
		int ev = netio_getline(n, o, &line, &len);
		if (ev == NETIO_LINE) {
			session_line(s, line, len);
			effects(s, n, o, env);
		} else if (ev == NETIO_OVERLONG)
			session_overlong(s);
		else if (ev == NETIO_IDLE || ev == NETIO_DEADLINE) {
			session_timeout(s, ev == NETIO_IDLE ? "timeout" : "deadline");
			netio_grace(n); /* time to send the 421, no more */
		} else {
			s->closed = 1;
			s->end = ev == NETIO_EOF ? "eof" : "io-error";
		}
	}
	if (out_flush(o) < 0 && n->timed_out)
		s->end = n->timed_out == NETIO_IDLE ? "write-timeout" : "write-deadline";
}
