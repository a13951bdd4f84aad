/* SPDX-License-Identifier: ISC */
/* Lookups in a compiled cdb, and who may start a rule's node. */
#include <cdb.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "rulecompile.h"
#include "testutil.h"

static const char *rules = "# sample\n"
			   "client.example.net allow=192.0.2.0/24\n"
			   "@example.net run=\"/bin/true %n\"\n"
			   "@net deny=\"whole TLD\"\n"
			   "@b.example.org\n"
			   "#dialup\n"
			   "[192.0.2.1]\n"
			   "[IPv6:2001:db8::1]\n";

static int compile(const char *dir, const char *text, const char *cdb, char **errs)
{
	return tu_compile(dir, text, cdb, errs);
}

static const char *lookup(struct policy *p, const char *arg)
{
	static char key[NODE_BUF];
	struct node n;
	struct rule r;
	cr_assert_eq(node_parse(&n, arg, strlen(arg), 0), 0, "%s", arg);
	int rc = policy_lookup(p, &n, key, &r);
	cr_assert_geq(rc, 0);
	return rc ? key : "-";
}

Test(policy, lookup_order_most_specific_first)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb");
	cr_assert_eq(compile(d, rules, cdb, NULL), COMPILE_OK);
	struct policy p;
	policy_init(&p, cdb);
	cr_expect_str_eq(lookup(&p, "client.example.net"), "client.example.net");
	cr_expect_str_eq(lookup(&p, "other.example.net"), "@example.net");
	cr_expect_str_eq(lookup(&p, "a.b.c.example.net"), "@example.net");
	cr_expect_str_eq(lookup(&p, "example.net"), "@example.net", "a domain covers itself");
	cr_expect_str_eq(lookup(&p, "other.net"), "@net", "host walks to @net");
	cr_expect_str_eq(lookup(&p, "@example.net"), "@example.net");
	cr_expect_str_eq(lookup(&p, "@x.example.net"), "@example.net");
	cr_expect_str_eq(lookup(&p, "x.b.example.org"), "@b.example.org");
	cr_expect_str_eq(lookup(&p, "b.example.org"), "@b.example.org");
	cr_expect_str_eq(lookup(&p, "example.org"), "-");
	cr_expect_str_eq(lookup(&p, "@example.org"), "-");
	cr_expect_str_eq(lookup(&p, "#dialup"), "#dialup");
	cr_expect_str_eq(lookup(&p, "#dialup2"), "-");
	cr_expect_str_eq(lookup(&p, "[192.0.2.1]"), "[192.0.2.1]");
	cr_expect_str_eq(lookup(&p, "[192.0.2.2]"), "-");
	cr_expect_str_eq(lookup(&p, "[IPv6:2001:db8:0::1]"), "[ipv6:2001:db8::1]");
	policy_close(&p);
	tu_rmtree(d);
}

Test(policy, client_acl)
{
	struct rule r;
	rule_init(&r);
	struct addr none = {0}, in, out;
	addr_parse(&in, "192.0.2.9", 9);
	addr_parse(&out, "198.51.100.1", 12);
	struct asker a_none = {&none, NULL}, a_in = {&in, NULL}, a_out = {&out, NULL};
	cr_assert_eq(policy_authorize(&r, &a_none), V_OK, "no allow= admits anyone");
	cr_assert_eq(cidr_parse(&r.allow.v[0], "192.0.2.0/24", 12), 0);
	r.allow.n = 1;
	cr_assert_eq(policy_authorize(&r, &a_in), V_OK);
	cr_assert_eq(policy_authorize(&r, &a_out), V_CLIENT);
	cr_assert_eq(policy_authorize(&r, &a_none), V_CLIENT,
		     "an unknown client matches no allow=");
	cr_assert_str_eq(verdict_reason(V_CLIENT, &r), "client not authorized");
	snprintf(r.deny, sizeof r.deny, "retired");
	cr_assert_eq(policy_authorize(&r, &a_in), V_DENIED, "deny= wins over allow=");
	cr_assert_str_eq(verdict_reason(V_DENIED, &r), "retired");
}

Test(policy, missing_and_corrupt_cdb)
{
	char *d = tu_tmpdir();
	struct policy p;
	struct node n;
	struct rule r;
	char key[NODE_BUF];
	node_parse(&n, "a.example", 9, 0);
	policy_init(&p, tu_path(d, "none.cdb"));
	cr_assert_eq(policy_lookup(&p, &n, key, &r), -1);
	cr_assert_eq(errno, ENOENT);
	tu_write(tu_path(d, "short.cdb"), "garbage");
	policy_init(&p, tu_path(d, "short.cdb"));
	cr_assert_eq(policy_lookup(&p, &n, key, &r), -1);
	/* a full-size table of garbage: hash slots pointing past the end */
	FILE *f = fopen(tu_path(d, "junk.cdb"), "w");
	for (int i = 0; i < 4096; i++)
		putc(0xff, f);
	fclose(f);
	policy_init(&p, tu_path(d, "junk.cdb"));
	cr_assert_eq(policy_lookup(&p, &n, key, &r), -1);
	policy_close(&p);
	tu_rmtree(d);
}

/* A rule's value is read into a small buffer first (policy.c); a longer
 * one is read whole, and one over RULE_VALUE_MAX is a broken cdb. */
Test(policy, a_long_value_is_read_whole_and_an_oversized_one_refused)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb");
	char text[2048], word[901];
	memset(word, 'x', 900);
	word[900] = '\0';
	snprintf(text, sizeof text, "big.example run=\"/bin/echo %s\"\nsmall.example\n", word);
	cr_assert_eq(compile(d, text, cdb, NULL), COMPILE_OK);
	struct policy p;
	struct node n;
	struct rule r;
	char key[NODE_BUF];
	policy_init(&p, cdb);
	node_parse(&n, "big.example", 11, 0);
	cr_assert_eq(policy_lookup(&p, &n, key, &r), 1);
	cr_assert_eq(r.run.n, 2);
	cr_assert_str_eq(r.run.buf + strlen(r.run.buf) + 1, word);
	cr_expect_str_eq(lookup(&p, "small.example"), "small.example");
	policy_close(&p);

	const char *bad = tu_path(d, "oversized.cdb");
	int fd = open(bad, O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct cdb_make cm;
	cr_assert_eq(cdb_make_start(&cm, fd), 0);
	static unsigned char v[RULE_VALUE_MAX + 1];
	v[0] = RULE_FORMAT;
	cr_assert_eq(cdb_make_add(&cm, "a.example", 9, v, sizeof v), 0);
	cr_assert_eq(cdb_make_finish(&cm), 0);
	close(fd);
	policy_init(&p, bad);
	node_parse(&n, "a.example", 9, 0);
	errno = 0;
	cr_assert_eq(policy_lookup(&p, &n, key, &r), -1);
	cr_assert_eq(errno, EPROTO);
	policy_close(&p);
	tu_rmtree(d);
}

/* ETRN @legacy.example.org: the host rule legacy.example.org says deny=,
 * so the request for its domain is refused with that rule, not started
 * through @example.org; in either order of the rules file. */
static void host_deny_covers_domain(const char *text)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb");
	cr_assert_eq(compile(d, text, cdb, NULL), COMPILE_OK);
	struct policy p;
	struct node n;
	struct rule r;
	char key[NODE_BUF];
	struct addr none = {0};
	struct asker anyone = {&none, NULL};
	policy_init(&p, cdb);
	node_parse(&n, "@legacy.example.org", 19, 0);
	cr_assert_eq(policy_lookup(&p, &n, key, &r), 1);
	cr_assert_str_eq(key, "legacy.example.org");
	cr_assert_eq(policy_authorize(&r, &anyone), V_DENIED);
	cr_assert_str_eq(verdict_reason(V_DENIED, &r), "retired");
	cr_expect_str_eq(lookup(&p, "@example.org"), "@example.org");
	cr_expect_str_eq(lookup(&p, "other.example.org"), "@example.org");
	policy_close(&p);
	tu_rmtree(d);
}

Test(policy, host_deny_refuses_its_domain_domain_rule_first)
{
	host_deny_covers_domain("@example.org\nlegacy.example.org deny=\"retired\"\n");
}

Test(policy, host_deny_refuses_its_domain_host_rule_first)
{
	host_deny_covers_domain("legacy.example.org deny=\"retired\"\n@example.org\n");
}
