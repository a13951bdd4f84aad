/* SPDX-License-Identifier: ISC */
/* deliver.h: the SMTP delivery engine for a node's maildir (etrnd-deliver,
 * and etrnd's ODMR service over the client's own connection).
 *
 * Per message: the destination's 250 to the data removes the delivered
 * recipients (the file goes when none is left, durably); a 4xx or a lost
 * connection keeps them; a 5xx moves them, with the reply, to failed/.
 * Recipients the node does not cover are never touched. */
#ifndef ETRND_DELIVER_H
#define ETRND_DELIVER_H

#include <stddef.h>

#include "maildir.h"
#include "node.h"
#include "smtpc.h"
#include "smtptx.h"

enum dest_kind { DEST_MX, DEST_HOST, DEST_CONN };

struct dest {
	enum dest_kind kind;
	char host[NODE_BUF]; /* a name or a bare address, for DEST_HOST */
	char port[8];
};

/* "mx", "HOST", "HOST:PORT", "[ADDRESS]" or "[ADDRESS]:PORT" (IPv4 or
 * IPv6); the port defaults to 25. 0, or -1. */
int dest_parse(struct dest *d, const char *s);

struct deliver_cfg {
	const char *helo;             /* our name in EHLO/HELO */
	const struct node *node;      /* what to deliver; NULL: every recipient */
	long long deadline_ms;        /* absolute, CLOCK_MONOTONIC */
	const struct smtptx_tls *tls; /* STARTTLS on connections we dial; NULL: none */
};

struct deliver_stats {
	unsigned long messages;                       /* files with something for the node */
	unsigned long sent, deferred, failed, errors; /* recipients; errors: local */
};

/* Delivers what cfg->node covers in m (which the caller has locked) to d.
 * Returns 0 when nothing deliverable is left, 1 when something waits for
 * a retry. */
int deliver_maildir(struct maildir *m, const struct dest *d, const struct deliver_cfg *cfg,
		    struct deliver_stats *st);

/* The same over an established connection whose peer is the SMTP server
 * (ODMR after the role reversal): waits for its 220, EHLO, delivers, QUIT. */
int deliver_connection(struct maildir *m, struct smtpc *c, const struct deliver_cfg *cfg,
		       struct deliver_stats *st);

/* The same for several maildirs, one node each, over one connection (an
 * ATRN naming several nodes): one greeting, one EHLO, one QUIT. */
int deliver_over(struct maildir *const *mds, const struct node *const *nodes, size_t n,
		 struct smtpc *c, const struct deliver_cfg *cfg, struct deliver_stats *st);

#endif
