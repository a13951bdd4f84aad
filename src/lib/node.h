/* SPDX-License-Identifier: ISC */
/* node.h: the ETRN argument, parsed and normalised (RFC 1985 section 3).
 *
 * Only the normalised form ever leaves this module: replies, logs, cdb keys
 * and trigger names are built from it, never from the raw client bytes. */
#ifndef ETRND_NODE_H
#define ETRND_NODE_H

#include <stddef.h>

#include "bounds.h"

enum node_kind {
	NODE_HOST,    /* client.example.net */
	NODE_DOMAIN,  /* @example.net: the domain and everything below it */
	NODE_QUEUE,   /* #queue */
	NODE_LITERAL, /* [192.0.2.1] or [ipv6:2001:db8::1] */
};

struct node {
	enum node_kind kind;
	size_t len;          /* strlen(name) */
	char name[NODE_BUF]; /* normalised, NUL-terminated */
};

/* A rules key may be "@net" (one label); an ETRN argument needs two. */
#define NODE_RULEKEY 1

/* Parse s[0..len). Returns 0 and fills n, or -1 for a syntax error. */
int node_parse(struct node *n, const char *s, size_t len, int flags);

/* Normalise a host name (LDH labels, >= min_labels) into out[NODE_BUF].
 * Returns the length, or -1. */
int node_host(char *out, const char *s, size_t len, int min_labels);

#endif
