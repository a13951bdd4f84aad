/* SPDX-License-Identifier: ISC */
/* odmr.h: what etrnd -O does for ATRN (RFC 2645): decide, for a logged-in
 * client, whether the nodes it names have held mail it may take, lock
 * their maildirs, and after the 250 deliver them over the client's own
 * connection with the engine etrnd-deliver uses (deliver.c). */
#ifndef ETRND_ODMR_H
#define ETRND_ODMR_H

#include <limits.h>
#include <sys/types.h>

#include "bounds.h"
#include "maildir.h"
#include "netio.h"
#include "node.h"
#include "outbuf.h"
#include "policy.h"

struct odmr {
	struct policy *policy;
	const char *client_text;  /* for the log: an address never authorises ATRN */
	const char *spool_root;   /* -s: every maildir must lie below it; NULL: anywhere */
	char root_real[PATH_MAX]; /* spool_root resolved; "" when it cannot be */
	const char *helo;         /* our name when we turn client */
	char user[LOGIN_BUF];
	size_t n;                          /* nodes accepted by the last ATRN */
	struct node nodes[ATRN_NODES_MAX]; /* each with its maildir: */
	int md_of[ATRN_NODES_MAX];         /* an index into md (shared spools), or -1 */
	size_t nmd;
	struct maildir md[ATRN_NODES_MAX]; /* locked */
	dev_t dev[ATRN_NODES_MAX];         /* which directory each one is */
	ino_t ino[ATRN_NODES_MAX];
	char real[ATRN_NODES_MAX][PATH_MAX]; /* and its resolved path */
};

/* spool_root is resolved now (realpath): -1 with errno when it cannot be;
 * then every ATRN that finds a maildir is 451 (spool-root-missing). */
int odmr_init(struct odmr *o, struct policy *p, const char *client_text, const char *spool_root,
	      const char *helo);
/* The session's ATRN callback: 250, 450, 451 or 453. */
int odmr_atrn(void *ctx, const struct node *nodes, size_t n, const char *user);
/* The serve loop's reversal: delivers what the last ATRN locked. */
void odmr_reverse(void *ctx, struct netio *n, struct outbuf *o);
/* Unlocks and closes what the last ATRN took. */
void odmr_release(struct odmr *o);

#endif
