/* SPDX-License-Identifier: ISC */
/* mx.c: MX records with res_query(3) and dn_expand(3), both in libc (no
 * libresolv): the reply is parsed here, every length checked against the
 * packet. */
#include "mx.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX 8192

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Skips a name at *p; -1 if it runs past the end. */
static int skip_name(const unsigned char *msg, const unsigned char *end, const unsigned char **p)
{
	char name[NS_MAXDNAME];
	int n = dn_expand(msg, end, *p, name, sizeof name);
	if (n < 0)
		return -1;
	*p += n;
	return 0;
}

/* Insertion sort: stable, so equal preferences keep the DNS order. */
static void sort_by_pref(struct mx *v, int n)
{
	for (int i = 1; i < n; i++) {
		struct mx t = v[i];
		int j = i;
		for (; j > 0 && v[j - 1].pref > t.pref; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/* One answer record: adds an MX to v; *seen counts the MX records, usable
 * or not. -1 on a malformed packet. */
static int record(const unsigned char *msg, const unsigned char *end, const unsigned char **p,
		  struct mx *v, int *n, int *seen)
{
	char name[NS_MAXDNAME];

	if (skip_name(msg, end, p) < 0 || end - *p < 10)
		return -1;
	unsigned type = get16(*p), class = get16(*p + 2), rdlen = get16(*p + 8);
	const unsigned char *rd = *p + 10;
	if (end - rd < (long)rdlen)
		return -1;
	*p = rd + rdlen;
	if (type != ns_t_mx || class != ns_c_in)
		return 0;
	(*seen)++;
	if (rdlen < 3 || *n == DELIVER_MX_MAX)
		return 0;
	int used = dn_expand(msg, end, rd + 2, name, sizeof name);
	if (used < 0 || (unsigned)used + 2 > rdlen)
		return -1; /* the name runs past its record */
	int w = node_host(v[*n].host, name, strlen(name), 1);
	if (w < 0 && name[0] != '\0')
		return 0; /* not a host name: skip it */
	if (w < 0)
		v[*n].host[0] = '\0'; /* "." : the null MX */
	v[*n].pref = (int)get16(rd);
	(*n)++;
	return 0;
}

/* MX_OK with *seen MX records (0: none), or MX_TEMP for a bad packet. */
static enum mx_result parse(const unsigned char *msg, int len, struct mx *v, int *n, int *seen)
{
	const unsigned char *end = msg + len, *p = msg + NS_HFIXEDSZ;

	if (len < NS_HFIXEDSZ)
		return MX_TEMP;
	unsigned qd = get16(msg + 4), an = get16(msg + 6);
	for (unsigned i = 0; i < qd; i++) {
		if (skip_name(msg, end, &p) < 0 || end - p < 4)
			return MX_TEMP;
		p += 4;
	}
	for (unsigned i = 0; i < an; i++)
		if (record(msg, end, &p, v, n, seen) < 0)
			return MX_TEMP;
	return MX_OK;
}

enum mx_result mx_parse(const unsigned char *msg, int len, struct mx *v, int *n)
{
	int seen = 0;

	*n = 0;
	if (parse(msg, len, v, n, &seen) != MX_OK)
		return MX_TEMP;
	if (seen > 0 && *n == 0)
		return MX_TEMP; /* MX records, none usable: not the implicit MX (5.1) */
	sort_by_pref(v, *n);
	if (*n > 0 && v[0].host[0] == '\0')
		return MX_NONE; /* RFC 7505: this domain accepts no mail */
	int k = 0;              /* a null MX among others (against RFC 7505): not a host */
	for (int i = 0; i < *n; i++)
		if (v[i].host[0])
			v[k++] = v[i];
	*n = k;
	return MX_OK;
}

enum mx_result mx_lookup(const char *domain, struct mx *v, int *n)
{
	unsigned char *answer = malloc(ANSWER_MAX);

	*n = 0;
	if (!answer)
		return MX_TEMP;
	int len = res_query(domain, ns_c_in, ns_t_mx, answer, ANSWER_MAX);
	enum mx_result rc = MX_OK;
	if (len < 0)
		rc = h_errno == HOST_NOT_FOUND ? MX_NONE : h_errno == NO_DATA ? MX_OK : MX_TEMP;
	else
		rc = mx_parse(answer, len < ANSWER_MAX ? len : ANSWER_MAX, v, n);
	free(answer);
	if (rc == MX_OK && *n == 0) { /* no MX: the domain is its own mail host */
		node_host(v[0].host, domain, strlen(domain), 1);
		v[0].pref = 0;
		*n = 1;
	}
	return rc;
}
