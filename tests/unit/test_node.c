/* SPDX-License-Identifier: ISC */
/* Node syntax: RFC 1985 arguments, strict. */
#include <criterion/criterion.h>
#include <string.h>

#include "node.h"

static int parse(struct node *n, const char *s)
{
	return node_parse(n, s, strlen(s), 0);
}

Test(node, valid_hosts_are_folded_and_echoed)
{
	struct node n;
	cr_assert_eq(parse(&n, "Client.Example.NET."), 0);
	cr_assert_str_eq(n.name, "client.example.net");
	cr_assert_eq(n.kind, NODE_HOST);
	cr_assert_eq(n.len, strlen("client.example.net"));
	cr_assert_eq(parse(&n, "a-b.c1.example"), 0);
	cr_assert_eq(parse(&n, "1a.example.com"), 0);
}

Test(node, invalid_hosts)
{
	static const char *const bad[] = {
	    "localname",
	    "../x",
	    "exa_mple.com",
	    "-a.example",
	    "a-.example",
	    "a..example",
	    ".example.com",
	    "example.com..",
	    "a b.example",
	    "x.example/",
	    "192.0.2.1",
	    "@",
	    "#",
	    "",
	    "caf\xc3\xa9.example",
	    "a\0b.example",
	    "[",
	    "[]",
	    "[192.0.2.1",
	    "[192.0.2.256]",
	    "[IPv6:1::2::3]",
	    "[2001:db8::1]",
	    "[ipv6:]",
	    "[01.2.3.4]",
	    "@localname",
	    "#a/b",
	    "#a b",
	    "#..\\x",
	};
	struct node n;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(parse(&n, bad[i]), -1, "accepted '%s'", bad[i]);
	cr_expect_eq(node_parse(&n, "a\0b.example", 11, 0), -1);
}

Test(node, label_and_name_lengths)
{
	char buf[600];
	struct node n;
	memset(buf, 'a', 63);
	strcpy(buf + 63, ".example");
	cr_assert_eq(parse(&n, buf), 0, "63-octet label refused");
	memset(buf, 'a', 64);
	strcpy(buf + 64, ".example");
	cr_assert_eq(parse(&n, buf), -1, "64-octet label accepted");
	/* 4 x 63 + 3 dots = 255 > 253 */
	size_t p = 0;
	for (int i = 0; i < 4; i++) {
		memset(buf + p, 'b', 63);
		p += 63;
		buf[p++] = '.';
	}
	buf[p - 1] = '\0';
	cr_assert_eq(parse(&n, buf), -1, "255-octet name accepted");
	buf[253] = '\0'; /* 253 octets ending in 'b' */
	cr_assert_eq(parse(&n, buf), 0, "253-octet name refused");
	cr_assert_eq(n.len, 253);
}

Test(node, domains_queues_literals)
{
	struct node n;
	cr_assert_eq(parse(&n, "@Claremont.EDU"), 0);
	cr_assert_str_eq(n.name, "@claremont.edu");
	cr_assert_eq(n.kind, NODE_DOMAIN);
	cr_assert_eq(parse(&n, "@edu"), -1);
	cr_assert_eq(node_parse(&n, "@edu", 4, NODE_RULEKEY), 0);
	cr_assert_eq(parse(&n, "#YMIR_q-1.x"), 0);
	cr_assert_str_eq(n.name, "#ymir_q-1.x");
	cr_assert_eq(n.kind, NODE_QUEUE);
	char q[70] = "#";
	memset(q + 1, 'q', 64);
	q[65] = '\0';
	cr_assert_eq(parse(&n, q), 0);
	q[65] = 'q', q[66] = '\0';
	cr_assert_eq(parse(&n, q), -1);
	cr_assert_eq(parse(&n, "[192.0.2.1]"), 0);
	cr_assert_str_eq(n.name, "[192.0.2.1]");
	cr_assert_eq(n.kind, NODE_LITERAL);
	cr_assert_eq(parse(&n, "[IPv6:2001:DB8:0:0::1]"), 0);
	cr_assert_str_eq(n.name, "[ipv6:2001:db8::1]");
}
