/* SPDX-License-Identifier: ISC */
/* addr.h: IP addresses and CIDR blocks for the client ACL. */
#ifndef ETRND_ADDR_H
#define ETRND_ADDR_H

#include <stddef.h>

struct addr {
	int family; /* 0 (unknown), AF_INET or AF_INET6 */
	unsigned char b[16];
};

struct cidr {
	int family;
	unsigned prefix;
	unsigned char b[16];
};

/* Text to address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes
 * the IPv4 address, so it matches IPv4 rules. Returns 0 or -1. */
int addr_parse(struct addr *a, const char *s, size_t len);
/* Prints the address, or "unknown"; returns the length. */
size_t addr_format(const struct addr *a, char *out, size_t size);
/* Converts a sockaddr (from getpeername) into an addr; -1 if not IP. */
int addr_from_sockaddr(struct addr *a, const void *sa, size_t salen);

/* "192.0.2.0/24", "2001:db8::/48" or a bare address (a /32 or /128).
 * Returns 0, -1 for bad syntax, -2 when bits are set beyond the prefix. */
int cidr_parse(struct cidr *c, const char *s, size_t len);
int cidr_match(const struct cidr *c, const struct addr *a);
size_t cidr_format(const struct cidr *c, char *out, size_t size);

#endif
