/* policy.h: which rule applies to a node, and whether the client may ask.
 *
 * Lookup order for ETRN a.b.example.net: a.b.example.net, @a.b.example.net,
 * @b.example.net, @example.net, @net; the first (most specific) found wins.
 * ETRN @x.y tries @x.y then @y; #queue and [literal] match exactly. */
#ifndef ETRND_POLICY_H
#define ETRND_POLICY_H

#include <cdb.h>

#include "addr.h"
#include "node.h"
#include "rule.h"

struct policy {
	const char *path;
	int fd; /* -1 until the cdb is first needed */
	struct cdb cdb;
};

void policy_init(struct policy *p, const char *cdb_path);
void policy_close(struct policy *p);
/* For long-running readers: drop the mapping if the file at the path was
 * replaced (etrnd-rules renames a new one into place). */
void policy_refresh(struct policy *p);
/* 1: a rule was found (its key in key[NODE_BUF], the rule in r);
 * 0: no rule; -1: the cdb is missing, unreadable or corrupt (errno set,
 * EPROTO for a corrupt file or value). */
int policy_lookup(struct policy *p, const struct node *n, char *key, struct rule *r);
/* Whether client may ask under r: no allow= list admits anyone. */
int policy_client_ok(const struct rule *r, const struct addr *client);

#endif
