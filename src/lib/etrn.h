/* etrn.h: what one ETRN does: rule, client check, spool count, trigger.
 * This is the session's etrn callback in the real server. */
#ifndef ETRND_ETRN_H
#define ETRND_ETRN_H

#include "addr.h"
#include "policy.h"
#include "session.h"

struct etrn_ctx {
	struct policy policy;
	const char *queuedir;
	struct addr client;
	char client_text[64];
	char uniq_host[64]; /* our host name, file-name-safe, for temp names */
	unsigned seq;       /* ETRNs written by this process */
};

void etrn_ctx_init(struct etrn_ctx *c, const char *cdb_path, const char *queuedir,
		   const struct addr *client, const char *host);
void etrn_act(void *ctx, const struct node *node, struct etrn_result *res);

#endif
