/* SPDX-License-Identifier: ISC */
/* node.c: ETRN node syntax. Strict: anything not listed here is a 501. */
#include "node.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
}

/* Checks one label s[0..len): 1-63 LDH octets, no hyphen at either end. */
static int label_ok(const char *s, size_t len)
{
	if (len == 0 || len > NODE_LABEL_MAX)
		return 0;
	if (s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_ldh((unsigned char)s[i]))
			return 0;
	return 1;
}

static int all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int node_host(char *out, const char *s, size_t len, int min_labels)
{
	if (len > 1 && s[len - 1] == '.')
		len--; /* the root's dot is not part of the name */
	if (len == 0 || len > NODE_HOST_MAX)
		return -1;
	int labels = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!label_ok(s + start, i - start))
			return -1;
		labels++;
		if (i == len && all_digits(s + start, i - start))
			return -1; /* a dotted quad is written [192.0.2.1] */
		start = i + 1;
	}
	if (labels < min_labels)
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = fold((unsigned char)s[i]);
	out[len] = '\0';
	return (int)len;
}

static int parse_queue(struct node *n, const char *s, size_t len)
{
	if (len == 0 || len > NODE_QUEUE_MAX)
		return -1;
	n->name[0] = '#';
	for (size_t i = 0; i < len; i++) {
		char c = fold((unsigned char)s[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return -1;
		n->name[i + 1] = c;
	}
	n->name[len + 1] = '\0';
	n->len = len + 1;
	n->kind = NODE_QUEUE;
	return 0;
}

/* [192.0.2.1] or [IPv6:2001:db8::1] (RFC 5321 4.1.3), re-printed canonically. */
static int parse_literal(struct node *n, const char *s, size_t len)
{
	char in[INET6_ADDRSTRLEN + 8];
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	int af = AF_INET;

	if (len < 2 || s[len - 1] != ']')
		return -1;
	s++, len -= 2; /* drop the brackets */
	if (len >= 5 && strncasecmp(s, "ipv6:", 5) == 0) {
		af = AF_INET6;
		s += 5, len -= 5;
	}
	if (len == 0 || len >= sizeof in || memchr(s, '\0', len))
		return -1;
	memcpy(in, s, len);
	in[len] = '\0';
	if (inet_pton(af, in, addr) != 1 || !inet_ntop(af, addr, text, sizeof text))
		return -1;
	int w = snprintf(n->name, sizeof n->name, "[%s%s]", af == AF_INET6 ? "ipv6:" : "", text);
	if (w < 0 || (size_t)w >= sizeof n->name)
		return -1;
	n->len = (size_t)w;
	n->kind = NODE_LITERAL;
	return 0;
}

int node_parse(struct node *n, const char *s, size_t len, int flags)
{
	int min_labels = 2;
	int w;

	if (len == 0)
		return -1;
	switch (s[0]) {
	case '#': return parse_queue(n, s + 1, len - 1);
	case '[': return parse_literal(n, s, len);
	case '@':
		if (flags & NODE_RULEKEY)
			min_labels = 1;
		w = node_host(n->name + 1, s + 1, len - 1, min_labels);
		if (w < 0)
			return -1;
		n->name[0] = '@';
		n->len = (size_t)w + 1;
		n->kind = NODE_DOMAIN;
		return 0;
	default:
		w = node_host(n->name, s, len, min_labels);
		if (w < 0)
			return -1;
		n->len = (size_t)w;
		n->kind = NODE_HOST;
		return 0;
	}
}
