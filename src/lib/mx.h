/* SPDX-License-Identifier: ISC */
/* mx.h: where mail for a domain goes (RFC 5321 section 5.1): its MX hosts
 * in preference order, or, without MX records, the domain itself. */
#ifndef ETRND_MX_H
#define ETRND_MX_H

#include "bounds.h"
#include "node.h"

struct mx {
	int pref;
	char host[NODE_BUF];
};

enum mx_result {
	MX_OK = 0,    /* hosts found (or the implicit MX) */
	MX_NONE = -1, /* the domain does not exist, or a null MX (RFC 7505): permanent */
	MX_TEMP = -2, /* the DNS did not answer: try again later */
};

/* Fills v[DELIVER_MX_MAX] for domain, lowest preference first (ties keep
 * the DNS order). *n gets the count. */
enum mx_result mx_lookup(const char *domain, struct mx *v, int *n);
/* The same from a DNS answer (untrusted: every length is checked against
 * the packet): *n is 0 when it has no MX record (the implicit MX applies);
 * MX records none of which names a host are MX_TEMP, a bad packet too. */
enum mx_result mx_parse(const unsigned char *msg, int len, struct mx *v, int *n);

#endif
