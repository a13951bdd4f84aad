/* SPDX-License-Identifier: ISC */
/* queuestart.h: what etrnd does for one ETRN: find the rule, check who
 * asks, count the held mail, leave a trigger. It is the session's etrn
 * callback in the real server (the session itself does no I/O). */
#ifndef ETRND_QUEUESTART_H
#define ETRND_QUEUESTART_H

#include "addr.h"
#include "policy.h"
#include "session.h"

struct queuestart {
	struct policy policy;
	const char *queuedir;
	int queuefd; /* QUEUEDIR, opened (O_PATH) at the first trigger; -1 */
	struct addr client;
	char client_text[64];
	char uniq_host[64]; /* our host name, file-name-safe, for temp names */
	unsigned seq;       /* ETRNs written by this process */
	long pid;           /* getpid(), once */
};

void queuestart_init(struct queuestart *c, const char *cdb_path, const char *queuedir,
		     const struct addr *client, const char *host);
void queuestart_etrn(void *ctx, const struct node *node, const char *user, struct etrn_result *res);

#endif
