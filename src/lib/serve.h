/* SPDX-License-Identifier: ISC */
/* serve.h: the session loop on a connection. */
#ifndef ETRND_SERVE_H
#define ETRND_SERVE_H

#include "netio.h"
#include "session.h"

struct tlsspawn;

/* What the loop needs beyond the session for the session's effects. */
struct serve_env {
	struct tlsspawn *tls; /* TLS through etrnd-tlsproxy, for STARTTLS; or NULL */
	/* ODMR: after ATRN's 250, deliver over this connection */
	void (*reverse)(void *ctx, struct netio *n, struct outbuf *o);
	void *ctx;
	const char *tls_error; /* out: why TLS could not start, or its handshake failed */
};

/* Greets, then feeds lines to the session until it ends; flushes every
 * reply before returning. */
void serve(struct session *s, struct netio *n, struct outbuf *o, struct serve_env *env);

#endif
