/* SPDX-License-Identifier: ISC */
/* policy.h: which rule applies to a node, and whether the asker may start it.
 *
 * Lookup order for ETRN a.b.example.net: a.b.example.net, @a.b.example.net,
 * @b.example.net, @example.net, @net; the first (most specific) found wins.
 * ETRN @x.y tries @x.y then @y, after a deny= on the host rule x.y, which
 * refuses the domain request too. #queue and [literal] match exactly.
 *
 * The cdb is read with read(2), never mapped: a database truncated in place
 * under a running etrnd is a failed lookup (458), not a SIGBUS. */
#ifndef ETRND_POLICY_H
#define ETRND_POLICY_H

#include "addr.h"
#include "node.h"
#include "rule.h"

struct policy {
	const char *path;
	int fd; /* -1 until the cdb is first needed */
};

void policy_init(struct policy *p, const char *cdb_path);
void policy_close(struct policy *p);
/* For long-running readers: reopen if the file at the path was replaced
 * (etrnd-rules renames a new one into place). */
void policy_refresh(struct policy *p);
/* 1: a rule was found (its key in key[NODE_BUF], the rule in r);
 * 0: no rule; -1: the cdb is missing, unreadable or corrupt (errno set,
 * EPROTO for a corrupt file or value). */
int policy_lookup(struct policy *p, const struct node *n, char *key, struct rule *r);

/* Who may start a rule's node. One table of outcomes (policy.c), used by
 * etrnd's ETRN and by the runner's re-check of a trigger. */
enum verdict {
	V_OK,
	V_DENIED,        /* deny= */
	V_CLIENT,        /* allow= does not list the client (and no users=) */
	V_AUTH_REQUIRED, /* users= lists logins, and the client has none */
	V_USER,          /* logged in, but not as a login users= lists */
};

struct asker {
	const struct addr *client; /* family 0 when unknown */
	const char *user;          /* the login, or NULL */
};

/* The decision: deny= refuses; a rule with neither allow= nor users=
 * admits anyone; else the client's address in allow=, or its login in
 * users=, admits it. */
enum verdict policy_authorize(const struct rule *r, const struct asker *who);
/* The user:NAME record of a login (name already folded): 1 found, 0 not,
 * -1 cdb error. */
int policy_login(struct policy *p, const char *name, struct rule *r);
/* The text after "Node X not allowed: " for a refusal. */
const char *verdict_reason(enum verdict v, const struct rule *r);
/* The log's reason= for a refusal. */
const char *verdict_log(enum verdict v);

#endif
