/* etrnd-rules' compiler, and lookups in what it writes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compile.h"
#include "policy.h"
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
	tu_write(tu_path(dir, "r"), text);
	char *buf = NULL;
	size_t len = 0;
	FILE *e = open_memstream(&buf, &len);
	unsigned long n;
	int rc = rules_compile(tu_path(dir, "r"), cdb, e, &n);
	fclose(e);
	if (errs)
		*errs = buf;
	else
		free(buf);
	return rc;
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
	cr_assert(policy_client_ok(&r, &none), "no allow= admits anyone");
	cr_assert_eq(cidr_parse(&r.allow[0], "192.0.2.0/24", 12), 0);
	r.nallow = 1;
	cr_assert(policy_client_ok(&r, &in));
	cr_assert(!policy_client_ok(&r, &out));
	cr_assert(!policy_client_ok(&r, &none), "an unknown client matches no allow=");
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

Test(compile, errors_name_file_and_line_and_write_nothing)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb");
	char *errs;
	int rc = compile(d,
			 "good.example\n"
			 "\n"
			 "localname\n"
			 "a.example allow=192.0.2.1/8\n"
			 "Good.Example.\n",
			 cdb, &errs);
	cr_assert_eq(rc, COMPILE_BAD_RULES);
	char expect[3][200];
	snprintf(expect[0], 200, "%s:3: 'localname' is not a valid key", tu_path(d, "r"));
	snprintf(expect[1], 200, "%s:4: allow: '192.0.2.1/8' has bits set", tu_path(d, "r"));
	snprintf(expect[2], 200, "%s:5: duplicate key 'good.example' (first at line 1)",
		 tu_path(d, "r"));
	for (int i = 0; i < 3; i++)
		cr_expect(strstr(errs, expect[i]), "missing '%s' in:\n%s", expect[i], errs);
	cr_expect(strstr(errs, "3 errors"));
	struct stat st;
	cr_assert_eq(stat(cdb, &st), -1, "cdb written despite errors");
	cr_assert_eq(tu_count(d), 1, "temp file left behind");
	free(errs);
	tu_rmtree(d);
}

Test(compile, replaces_atomically_and_keeps_old_on_error)
{
	char *d = tu_tmpdir();
	const char *cdb = tu_path(d, "etrn.cdb");
	cr_assert_eq(compile(d, "a.example\n", cdb, NULL), COMPILE_OK);
	struct stat before, after;
	cr_assert_eq(stat(cdb, &before), 0);
	cr_assert_eq(before.st_mode & 0777, 0644);
	cr_assert_eq(compile(d, "a.example\nbad_key\n", cdb, NULL), COMPILE_BAD_RULES);
	cr_assert_eq(stat(cdb, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino, "old cdb replaced by a failed compile");
	cr_assert_eq(compile(d, "b.example\n", cdb, NULL), COMPILE_OK);
	cr_assert_eq(stat(cdb, &after), 0);
	cr_assert_neq(before.st_ino, after.st_ino, "not a new file renamed into place");
	tu_rmtree(d);
}

Test(compile, long_lines_crlf_and_io_errors)
{
	char *d = tu_tmpdir();
	char *errs;
	char big[RULES_LINE_MAX + 100];
	memset(big, 'a', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	cr_assert_eq(compile(d, big, tu_path(d, "c"), &errs), COMPILE_BAD_RULES);
	cr_assert(strstr(errs, ":1: line longer than"), "%s", errs);
	free(errs);
	cr_assert_eq(compile(d, "a.example deny=x\r\nb.example\r\n", tu_path(d, "c"), NULL),
		     COMPILE_OK);
	cr_assert_eq(compile(d, "a.example\n", tu_path(d, "nodir/c"), &errs), COMPILE_IO_ERROR);
	cr_assert(strstr(errs, "etrnd-rules: unable to"), "%s", errs);
	free(errs);
	tu_rmtree(d);
}

/* Every sample rules file we ship compiles. */
#include <glob.h>

Test(samples, shipped_rules_compile)
{
	const char *root = getenv("ETRND_ROOT") ? getenv("ETRND_ROOT") : ".";
	char pat[2][4096];
	snprintf(pat[0], sizeof pat[0], "%s/etc/*/etrn.rules", root);
	snprintf(pat[1], sizeof pat[1], "%s/cdb/*.rules", root);
	glob_t g;
	cr_assert_eq(glob(pat[0], 0, NULL, &g), 0);
	cr_assert_eq(glob(pat[1], GLOB_APPEND, NULL, &g), 0);
	cr_assert_geq(g.gl_pathc, 4);
	char *d = tu_tmpdir();
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *errs = NULL;
		size_t len = 0;
		FILE *e = open_memstream(&errs, &len);
		unsigned long n = 0;
		int rc = rules_compile(g.gl_pathv[i], tu_path(d, "c.cdb"), e, &n);
		fclose(e);
		cr_expect_eq(rc, COMPILE_OK, "%s:\n%s", g.gl_pathv[i], errs);
		cr_expect_gt(n, 0);
		free(errs);
	}
	globfree(&g);
	tu_rmtree(d);
}
