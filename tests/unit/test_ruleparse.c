/* SPDX-License-Identifier: ISC */
/* The rules text format, line by line, and the cdb value codec. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ruleparse.h"

static char err[RULES_ERR_MAX];

static int line(const char *s, struct node *k, struct rule *r)
{
	return rules_parse_line(s, strlen(s), k, r, err, sizeof err);
}

Test(rules, comments_and_blank_lines)
{
	struct node k;
	struct rule r;
	cr_assert_eq(line("", &k, &r), 0);
	cr_assert_eq(line("   \t ", &k, &r), 0);
	cr_assert_eq(line("# a comment", &k, &r), 0);
	cr_assert_eq(line("#", &k, &r), 0);
	cr_assert_eq(line("  #\tindented comment", &k, &r), 0);
	cr_assert_eq(line("#dialup", &k, &r), 1, "a queue key is not a comment");
	cr_assert_str_eq(k.name, "#dialup");
	cr_assert_eq(line("a.example # trailing comment", &k, &r), 1);
	cr_assert_eq(line("a.example allow=192.0.2.1 # comment", &k, &r), 1);
	cr_assert_eq(r.allow.n, 1);
}

Test(rules, full_rule)
{
	struct node k;
	struct rule r;
	cr_assert_eq(line("Client.Example.NET allow=192.0.2.0/24,2001:db8::/48 "
			  "spool=/var/spool/hold/client run=\"/usr/bin/x -a '%n b' %%\" "
			  "interval=60 timeout=300",
			  &k, &r),
		     1, "%s", err);
	cr_assert_str_eq(k.name, "client.example.net");
	cr_assert_eq(r.allow.n, 2);
	cr_assert_eq(r.allow.v[1].family, AF_INET6);
	cr_assert_str_eq(r.spool, "/var/spool/hold/client");
	cr_assert_eq(r.run.n, 4);
	cr_assert_eq(r.run.len, sizeof "/usr/bin/x\0-a\0%n b\0%%");
	cr_assert_eq(memcmp(r.run.buf, "/usr/bin/x\0-a\0%n b\0%%", r.run.len), 0);
	cr_assert_eq(r.interval, 60);
	cr_assert_eq(r.timeout, 300);
	cr_assert_str_eq(r.deny, "");
}

Test(rules, deny_with_quotes)
{
	struct node k;
	struct rule r;
	cr_assert_eq(line("legacy.example.com deny=\"ETRN \\\"retired\\\" here\"", &k, &r), 1, "%s",
		     err);
	cr_assert_str_eq(r.deny, "ETRN \"retired\" here");
	cr_assert_eq(line("@example.org deny=gone", &k, &r), 1);
	cr_assert_str_eq(k.name, "@example.org");
}

Test(rules, errors_have_reasons)
{
	static const struct {
		const char *line, *reason;
	} cases[] = {
	    {"localname", "not a valid key"},
	    {"exa_mple.com", "not a valid key"},
	    {"a.example allow=192.0.2.1/24", "bits set beyond"},
	    {"a.example allow=300.1.1.1", "not an address"},
	    {"a.example allow=", "not an address"},
	    {"a.example bogus=1", "unknown attribute"},
	    {"a.example allow=192.0.2.1 allow=192.0.2.2", "given twice"},
	    {"a.example deny=\"x", "unterminated"},
	    {"a.example deny=\"x\"y", "blank expected"},
	    {"a.example deny=x spool=/s", "cannot be combined"},
	    {"a.example spool=relative", "absolute path"},
	    {"a.example run=sendmail", "absolute path"},
	    {"a.example run=\"/bin/x %z\"", "%n %r %c"},
	    {"a.example run=\"/bin/x 'open\"", "unterminated single quote"},
	    {"a.example interval=-1", "not a number"},
	    {"a.example timeout=0", "between 1 and"},
	    {"a.example interval=9999999", "between 0 and"},
	    {"a.example novalue", "expected name=value"},
	    {"a.example deny=\"\"", "empty value"},
	};
	struct node k;
	struct rule r;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_expect_eq(line(cases[i].line, &k, &r), -1, "accepted: %s", cases[i].line);
		cr_expect(strstr(err, cases[i].reason), "'%s': got '%s'", cases[i].line, err);
	}
	cr_expect_eq(rules_parse_line("a.example\0x", 11, &k, &r, err, sizeof err), -1);
}

Test(rules, entry_and_argument_limits)
{
	char buf[RULES_LINE_MAX];
	struct node k;
	struct rule r;
	int n = snprintf(buf, sizeof buf, "a.example allow=");
	for (int i = 0; i < RULE_ALLOW_MAX; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s192.0.2.%d", i ? "," : "", i);
	cr_assert_eq(line(buf, &k, &r), 1, "%s", err);
	cr_assert_eq(r.allow.n, RULE_ALLOW_MAX);
	snprintf(buf + n, sizeof buf - (size_t)n, ",198.51.100.1");
	cr_assert_eq(line(buf, &k, &r), -1);
	cr_assert(strstr(err, "more than 64 entries"), "%s", err);
	n = snprintf(buf, sizeof buf, "a.example run=\"/bin/x");
	for (int i = 1; i < RULE_RUN_ARGS_MAX; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, " a");
	snprintf(buf + n, sizeof buf - (size_t)n, "\"");
	cr_assert_eq(line(buf, &k, &r), 1, "%s", err);
	cr_assert_eq(r.run.n, RULE_RUN_ARGS_MAX);
	snprintf(buf + n, sizeof buf - (size_t)n, " a\"");
	cr_assert_eq(line(buf, &k, &r), -1);
	cr_assert(strstr(err, "more than 32 arguments"), "%s", err);
}

static void roundtrip(const char *text)
{
	struct node k;
	struct rule r, d;
	unsigned char v[RULE_VALUE_MAX];
	cr_assert_eq(line(text, &k, &r), 1, "%s: %s", text, err);
	size_t n = rule_encode(&r, v);
	cr_assert(n <= RULE_VALUE_MAX);
	cr_assert_eq(rule_decode(&d, v, n), 0, "%s", text);
	unsigned char again[RULE_VALUE_MAX];
	cr_assert_eq(rule_encode(&d, again), n, "%s", text);
	cr_assert_eq(memcmp(again, v, n), 0, "%s", text);
}

Test(rule_value, roundtrips)
{
	roundtrip("a.example");
	roundtrip("a.example deny=\"no more\"");
	roundtrip("a.example allow=192.0.2.0/24,::1,2001:db8::/32 spool=/x run=\"/bin/a %n\" "
		  "interval=0 timeout=86400");
}

Test(rule_value, corrupt_values_are_refused)
{
	struct rule r;
	static const struct {
		const char *v;
		size_t len;
	} bad[] = {
	    {"", 0},          /* empty */
	    {"\2", 1},        /* future version */
	    {"\1X\0\0", 4},   /* unknown tag */
	    {"\1D\0\5ab", 6}, /* length past the end */
	    {"\1D\0\2ab"
	     "D\0\2ab",
	     11},                          /* tag twice */
	    {"\1D\0\2a\n", 6},             /* control character */
	    {"\1S\0\1x", 5},               /* relative spool */
	    {"\1R\0\3/ab", 6},             /* argv not NUL-terminated */
	    {"\1R\0\3ab\0", 6},            /* relative command */
	    {"\1R\0\4/a%\0", 7},           /* bad escape */
	    {"\1A\0\6\4\x21\1\2\3\4", 10}, /* prefix 33 */
	    {"\1A\0\6\4\x18\1\2\3\4", 10}, /* host bits set */
	    {"\1A\0\6\5\x08\1\2\3\4", 10}, /* family 5 */
	    {"\1I\0\3\0\0\1", 7},          /* short number */
	    {"\1T\0\4\0\0\0\0", 8},        /* timeout 0 */
	    {"\1", 2},                     /* truncated field header */
	    {"\1D\0", 3},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(rule_decode(&r, (const unsigned char *)bad[i].v, bad[i].len), -1,
			     "case %zu accepted", i);
	cr_expect_eq(rule_decode(&r, (const unsigned char *)"\1", 1), 0);
}
