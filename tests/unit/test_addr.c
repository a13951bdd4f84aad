/* SPDX-License-Identifier: ISC */
/* Addresses and CIDR blocks. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "addr.h"

static struct addr A(const char *s) {
	struct addr a;
	cr_assert_eq(addr_parse(&a, s, strlen(s)), 0, "%s", s);
	return a;
}

static struct cidr
C(const char *s) {
	struct cidr c;
	cr_assert_eq(cidr_parse(&c, s, strlen(s)), 0, "%s", s);
	return c;
}

Test(addr, v4_prefixes)
{
	struct cidr c = C("192.0.2.0/24");
	struct addr in = A("192.0.2.77"), out = A("192.0.3.1");
	cr_assert(cidr_match(&c, &in));
	cr_assert(!cidr_match(&c, &out));
	struct cidr odd = C("10.0.0.0/9");
	struct addr a = A("10.127.255.255"), b = A("10.128.0.0");
	cr_assert(cidr_match(&odd, &a));
	cr_assert(!cidr_match(&odd, &b));
	struct cidr all = C("0.0.0.0/0");
	cr_assert(cidr_match(&all, &out));
	struct cidr host = C("203.0.113.5");
	cr_assert_eq(host.prefix, 32);
}

Test(addr, v6_and_mapped)
{
	struct cidr c6 = C("2001:db8::/48"), c4 = C("127.0.0.0/8");
	struct addr a = A("2001:db8:0:ffff::1"), m = A("::ffff:127.0.0.1");
	cr_assert(cidr_match(&c6, &a));
	cr_assert_eq(m.family, AF_INET, "mapped address stays IPv6");
	cr_assert(cidr_match(&c4, &m));
	cr_assert(!cidr_match(&c6, &m));
}

Test(addr, bad_cidrs)
{
	static const char *const bad[] = {
	    "",  "/24",        "192.0.2.0/",   "192.0.2.0/33", "192.0.2.0/024", "2001:db8::/129",
	    "x", "192.0.2/24", "192.0.2.0/2a", "1.2.3.4/-1"};
	struct cidr c;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(cidr_parse(&c, bad[i], strlen(bad[i])), -1, "%s", bad[i]);
	cr_expect_eq(cidr_parse(&c, "192.0.2.1/24", 12), -2);
}

Test(addr, unknown_client_matches_nothing)
{
	struct addr none = {0};
	struct cidr all = C("0.0.0.0/0"), all6 = C("::/0");
	cr_assert(!cidr_match(&all, &none));
	cr_assert(!cidr_match(&all6, &none));
	char buf[64];
	addr_format(&none, buf, sizeof buf);
	cr_assert_str_eq(buf, "unknown");
}
