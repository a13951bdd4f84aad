/* SPDX-License-Identifier: ISC */
/* addr.c: address parsing and prefix matching. */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fmt.h"
#include "num.h"

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void unmap(struct addr *a)
{
	if (a->family == AF_INET6 && memcmp(a->b, v4mapped, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = AF_INET;
	}
}

/* Copies s[0..len) into a NUL-terminated buffer; -1 if it cannot be text. */
static int copy_text(char *out, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size || memchr(s, '\0', len))
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int addr_parse(struct addr *a, const char *s, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	memset(a, 0, sizeof *a);
	if (copy_text(text, sizeof text, s, len) < 0)
		return -1;
	if (inet_pton(AF_INET, text, a->b) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, text, a->b) == 1)
		a->family = AF_INET6;
	else
		return -1;
	unmap(a);
	return 0;
}

size_t addr_format(const struct addr *a, char *out, size_t size)
{
	if (a->family == 0 || !inet_ntop(a->family, a->b, out, (socklen_t)size))
		return fmt(out, size, "unknown");
	return strlen(out);
}

int addr_from_sockaddr(struct addr *a, const void *sa, size_t salen)
{
	sa_family_t fam;

	memset(a, 0, sizeof *a);
	if (salen < sizeof fam)
		return -1;
	memcpy(&fam, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof fam);
	if (fam == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof sin);
		memcpy(a->b, &sin.sin_addr, 4);
		a->family = AF_INET;
		return 0;
	}
	if (fam == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof sin6);
		memcpy(a->b, &sin6.sin6_addr, 16);
		a->family = AF_INET6;
		unmap(a);
		return 0;
	}
	return -1;
}

/* A prefix length: digits, no leading zero, at most max. */
static int parse_prefix(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long long v;

	if ((len > 1 && s[0] == '0') || num_parse(s, len, 0, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int cidr_parse(struct cidr *c, const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	char text[INET6_ADDRSTRLEN];

	memset(c, 0, sizeof *c);
	if (copy_text(text, sizeof text, s, alen) < 0)
		return -1;
	if (inet_pton(AF_INET, text, c->b) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, text, c->b) == 1)
		c->family = AF_INET6;
	else
		return -1;
	unsigned max = c->family == AF_INET ? 32 : 128;
	c->prefix = max;
	if (slash && parse_prefix(slash + 1, len - alen - 1, max, &c->prefix) < 0)
		return -1;
	for (unsigned bit = c->prefix; bit < max; bit++)
		if (c->b[bit / 8] & (0x80u >> (bit % 8)))
			return -2;
	return 0;
}

int cidr_match(const struct cidr *c, const struct addr *a)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (a->family != c->family)
		return 0;
	if (memcmp(a->b, c->b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xffu << (8 - rest));
	return (a->b[full] & mask) == c->b[full];
}

size_t cidr_format(const struct cidr *c, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->b, text, sizeof text))
		text[0] = '\0';
	int w = snprintf(out, size, "%s/%u", text, c->prefix);
	return w < 0 ? 0 : strlen(out);
}
