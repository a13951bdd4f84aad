/* SPDX-License-Identifier: ISC */
/* queuestart.h: what etrnd does for one ETRN: find the rule, check who
 * asks, count the held mail, leave a trigger. It is the session's etrn
 * callback in the real server (the session itself does no I/O). */
#ifndef ETRND_QUEUESTART_H
#define ETRND_QUEUESTART_H

#include "addr.h"
#include "policy.h"
#include "session.h"
#include "trigger.h"

struct queuestart {
	struct policy policy;
	const char *queuedir;
	struct trigger_dirs dirs; /* opened by queuestart_check() or the first trigger */
	struct addr client;
	char client_text[64];
	char uniq_host[64]; /* our host name, file-name-safe, for temp names */
	unsigned seq;       /* ETRNs written by this process */
	long pid;           /* getpid(), once */
	struct rule *rule;  /* the ETRN's rule, mapped at the first (queuestart.c) */
};

/* queuefd: QUEUEDIR already open (O_PATH), kept for the session; or -1. */
void queuestart_init(struct queuestart *c, const char *cdb_path, const char *queuedir, int queuefd,
		     const struct addr *client, const char *host);
/* Opens the queue as the session will use it (after -u and the sandbox)
 * and logs a warning for each part that cannot take a trigger, so that a
 * broken queue is named when a connection starts, not only as a failed
 * write in an ETRN's line. What opens is kept for the session's triggers. */
void queuestart_check(struct queuestart *c);
void queuestart_etrn(void *ctx, const struct node *node, const char *user, struct etrn_result *res);

#endif
