/* SPDX-License-Identifier: ISC */
/* Logins in the rules (user:NAME password= cram=, users=) and the
 * authorisation decision that uses them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "rulecompile.h"
#include "ruleparse.h"
#include "testutil.h"

#define HASH "$y$j9T$bJ7loZDm65MI08oJ58Lym1$HXCD.uRy5YuIXTHrU/ua9E2HNTD0roSh6TXCU8BbqC."

static char err[RULES_ERR_MAX];

static int line(const char *s, struct node *k, struct rule *r)
{
	return rules_parse_line(s, strlen(s), k, r, err, sizeof err);
}

Test(logins, user_lines_parse_and_fold)
{
	struct node k;
	struct rule r;
	cr_assert_eq(line("user:Office@Example.NET password=" HASH, &k, &r), RULES_LOGIN, "%s",
		     err);
	cr_expect_str_eq(k.name, "user:office@example.net");
	cr_expect_str_eq(r.password, HASH);
	cr_assert_eq(line("client.example.net users=Bob,alice allow=192.0.2.0/24", &k, &r), 1, "%s",
		     err);
	cr_expect_eq(r.users.n, 2);
	cr_expect_str_eq(r.users.v[0], "bob");
	static const char *const bad[] = {
	    "user: password=" HASH,     "user:a/b password=" HASH,          "user:bob",
	    "user:bob password=x",      "user:bob spool=/x password=" HASH, "user:bob cram=0123",
	    "a.example password=" HASH, "a.example users=bob,bob",          "a.example users=",
	    "a.example users=b\\x01",   "a.example deny=x users=bob",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(line(bad[i], &k, &r), -1, "accepted: %s", bad[i]);
}

/* Whether r encodes to exactly the n octets of v. */
static int same_encoding(const struct rule *r, const unsigned char *v, size_t n)
{
	unsigned char again[RULE_VALUE_MAX];
	return rule_encode(r, again) == n && memcmp(again, v, n) == 0;
}

Test(logins, codec_round_trip)
{
	struct node k;
	struct rule r, back;
	unsigned char v[RULE_VALUE_MAX];
	cr_assert_eq(line("a.example users=bob,carol.x,d+e@f.example allow=192.0.2.1", &k, &r), 1);
	size_t n = rule_encode(&r, v);
	cr_assert_eq(rule_decode(&back, v, n), 0);
	cr_expect(same_encoding(&back, v, n));
	cr_assert_eq(line("user:bob password=" HASH " cram="
			  "0123456789abcdef0123456789abcdef"
			  "0123456789abcdef0123456789abcdef",
			  &k, &r),
		     RULES_LOGIN, "%s", err);
	n = rule_encode(&r, v);
	cr_assert_eq(rule_decode(&back, v, n), 0);
	cr_expect(same_encoding(&back, v, n));
}

Test(logins, authorisation_table)
{
	struct node k;
	struct rule open, byaddr, byuser, both, denied;
	struct addr in, out, none = {0};
	addr_parse(&in, "192.0.2.9", 9);
	addr_parse(&out, "198.51.100.1", 12);
	line("a.example", &k, &open);
	line("a.example allow=192.0.2.0/24", &k, &byaddr);
	line("a.example users=bob", &k, &byuser);
	line("a.example users=bob allow=192.0.2.0/24", &k, &both);
	line("a.example deny=gone", &k, &denied);
	const struct {
		const struct rule *r;
		const struct addr *a;
		const char *user;
		enum verdict v;
	} cases[] = {
	    {&open, &out, NULL, V_OK},        {&open, &none, "eve", V_OK},
	    {&byaddr, &in, NULL, V_OK},       {&byaddr, &out, NULL, V_CLIENT},
	    {&byaddr, &out, "bob", V_CLIENT}, {&byuser, &in, NULL, V_AUTH_REQUIRED},
	    {&byuser, &in, "bob", V_OK},      {&byuser, &in, "eve", V_USER},
	    {&both, &in, NULL, V_OK},         {&both, &out, NULL, V_AUTH_REQUIRED},
	    {&both, &out, "bob", V_OK},       {&both, &out, "eve", V_USER},
	    {&denied, &in, "bob", V_DENIED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct asker who = {cases[i].a, cases[i].user};
		cr_expect_eq(policy_authorize(cases[i].r, &who), cases[i].v, "case %zu", i);
	}
	cr_expect_str_eq(verdict_reason(V_AUTH_REQUIRED, &byuser), "authentication required");
	cr_expect_str_eq(verdict_reason(V_USER, &byuser), "user not authorized");
}

/* What etrnd-rules says about logins, as FILE:LINE: reason. */
Test(logins, compile_errors_name_the_file_and_line)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb"), *r = tu_path(d, "r");
	const struct {
		const char *text, *said;
	} cases[] = {
	    {"# a comment\na.example users=bob,alice\nuser:bob password=" HASH "\n",
	     ":2: users: no user:alice line defines the login 'alice'"},
	    {"user:bob password=" HASH "\n\nuser:bob password=" HASH "\n",
	     ":3: duplicate key 'user:bob' (first at line 1)"},
	    {"a.example\nuser:bob password=$6$x\n", ":2: password: "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *errs = NULL, want[300];
		cr_expect_eq(tu_compile(d, cases[i].text, cdb, &errs), COMPILE_BAD_RULES, "%zu", i);
		snprintf(want, sizeof want, "%s%s", r, cases[i].said);
		cr_expect(errs && strstr(errs, want), "case %zu: want '%s' in:\n%s", i, want, errs);
		free(errs);
	}
	tu_rmtree(d);
}

Test(logins, compile_checks_references_and_duplicates)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb");
	cr_expect_eq(tu_rules(d, "a.example users=bob\nuser:bob password=" HASH "\n", cdb), 0,
		     "a login may be defined after its use");
	cr_expect_eq(tu_rules(d, "a.example users=bob,alice\nuser:bob password=" HASH "\n", cdb),
		     100, "alice is not defined");
	cr_expect_eq(tu_rules(d, "user:bob password=" HASH "\nuser:BOB password=" HASH "\n", cdb),
		     100, "a login defined twice");
	struct policy p;
	struct rule r;
	cr_assert_eq(tu_rules(d, "a.example users=bob\nuser:bob password=" HASH "\n", cdb), 0);
	policy_init(&p, cdb);
	cr_expect_eq(policy_login(&p, "bob", &r), 1);
	cr_expect_str_eq(r.password, HASH);
	cr_expect_eq(policy_login(&p, "alice", &r), 0);
	policy_close(&p);
	tu_rmtree(d);
}
