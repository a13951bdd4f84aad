/* SPDX-License-Identifier: ISC */
/* smtptx.h: the SMTP client side of a delivery: a connection (dialled by
 * the caller, or an established one for ODMR), its greeting and EHLO (HELO
 * as the fallback), then one transaction per message that settles every
 * recipient's state (heldmsg.h). RFC 5321 4.5.3.2 timeouts per command,
 * all under one deadline.
 *
 * After a transaction the connection is either dead (alive == 0) or ready
 * for the next MAIL: every transaction that may still be open on the
 * server's side is ended with RSET. */
#ifndef ETRND_SMTPTX_H
#define ETRND_SMTPTX_H

#include <stddef.h>

#include "bounds.h"
#include "heldmsg.h"
#include "smtpc.h"
#include "tlsio.h"

/* STARTTLS for connections we dial (RFC 3207). */
struct smtptx_tls {
	int use;            /* try STARTTLS when offered (TLS is built in) */
	int required;       /* -s: no delivery without TLS */
	const char *cafile; /* -c: verify the server against it; NULL: no verification */
};

struct smtptx {
	struct smtpc *c;
	struct smtpc own; /* a connection we dialled (c == &own) */
	int alive;
	int pipelining, eightbit, size, starttls_offered; /* EHLO keywords */
	long long deadline_ms;
	char peer[NODE_BUF + 72];
	char host[NODE_BUF];             /* the server's name, for TLS verification */
	const struct smtptx_tls *tlscfg; /* NULL: plaintext only */
	struct tlsio *tls;               /* the connection's TLS once started (&tls_state) */
	struct tlsio tls_state;
	const char *why; /* why greet failed, when it says */
};

/* Takes fd (a connected socket) as its own connection, or uses c. */
void smtptx_init_fd(struct smtptx *k, int fd, long long deadline_ms);
void smtptx_init_conn(struct smtptx *k, struct smtpc *c, long long deadline_ms);
/* Waits for the 220 and says EHLO (HELO when EHLO is not known); then,
 * with tlscfg, STARTTLS when offered (required with tlscfg->required) and
 * EHLO again inside TLS. 0, or -1 (the connection is then dead; k->why may
 * say why). */
int smtptx_greet(struct smtptx *k, const char *helo);
/* QUIT when alive; closes a connection of our own. */
void smtptx_quit(struct smtptx *k);

/* Called once the server has accepted recipients and before the message
 * goes out; the message is sent only when it returns 0. */
typedef int (*smtptx_ready_fn)(void *arg);

/* One transaction for the RCPT_PENDING recipients of h, body the message.
 * Each of them ends RCPT_SENT, RCPT_FAILED (5xx, with the reply) or
 * RCPT_DEFERRED (4xx, no answer, a lost connection, or ready() failing). */
void smtptx_send(struct smtptx *k, struct held *h, const char *body, size_t blen,
		 smtptx_ready_fn ready, void *arg);

#endif
