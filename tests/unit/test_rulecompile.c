/* SPDX-License-Identifier: ISC */
/* etrnd-rules' compiler: errors by line, atomic replacement, the samples. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounds.h"
#include "policy.h"
#include "rulecompile.h"
#include "testutil.h"

/* While armed, fsync() of a directory fails with EIO (this definition is
 * the one the compiler gets: the tests are one executable); files and
 * every other caller get libc's fsync(). */
static int fail_dir_fsync;

int fsync(int fd)
{
	static int (*real)(int);
	struct stat st;
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (fail_dir_fsync && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}

static int compile(const char *dir, const char *text, const char *cdb, char **errs)
{
	return tu_compile(dir, text, cdb, errs);
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

/* The fsync of the directory comes after the rename: the new cdb is live.
 * etrnd-rules said "unable to write" although etrnd already used it. */
Test(compile, a_failed_directory_fsync_says_the_new_cdb_is_live)
{
	char *d = tu_tmpdir();
	const char *cdb = strdup(tu_path(d, "etrn.cdb"));
	cr_assert_eq(compile(d, "old.example\n", cdb, NULL), COMPILE_OK);
	char *errs;
	fail_dir_fsync = 1;
	int rc = compile(d, "new.example\n", cdb, &errs);
	fail_dir_fsync = 0;
	cr_assert_eq(rc, COMPILE_IO_ERROR, "not durable: a temporary failure");
	char want[4200];
	snprintf(want, sizeof want,
		 "etrnd-rules: %s is in place and in use, but the fsync of directory %s failed: "
		 "%s;",
		 cdb, d, strerror(EIO));
	cr_assert(strstr(errs, want), "%s", errs);
	cr_assert(!strstr(errs, "unable to write"), "%s", errs);
	free(errs);
	struct policy p; /* what etrnd now sees */
	struct node n;
	struct rule r;
	char key[NODE_BUF];
	policy_init(&p, cdb);
	node_parse(&n, "new.example", 11, 0);
	cr_assert_eq(policy_lookup(&p, &n, key, &r), 1);
	policy_close(&p);
	cr_assert_eq(tu_count(d), 2, "only the rules and the cdb: no temp file left");
	tu_rmtree(d);
}

/* spool= and run= may be as long as etrnd.rules(5) says: 1024 octets. */
Test(compile, spool_path_of_the_documented_length)
{
	char *d = tu_tmpdir();
	char line[RULE_PATH_MAX + 64];
	int n = snprintf(line, sizeof line, "a.example spool=/");
	memset(line + n, 's', RULE_PATH_MAX - 1);
	strcpy(line + n + RULE_PATH_MAX - 1, "\n");
	char *errs;
	cr_assert_eq(compile(d, line, tu_path(d, "c"), &errs), COMPILE_OK, "%s", errs);
	free(errs);
	strcpy(line + n + RULE_PATH_MAX - 1, "s\n");
	cr_assert_eq(compile(d, line, tu_path(d, "c"), &errs), COMPILE_BAD_RULES);
	cr_assert(strstr(errs, "spool: too long"), "%s", errs);
	free(errs);
	tu_rmtree(d);
}

/* run= holds 1024 octets as the man page counts them (its words with one
 * space between them): one word of 1024, two words of 1024 with the space;
 * one octet more is refused. Issue 9 item 21. */
Test(compile, run_of_the_documented_length)
{
	char *d = tu_tmpdir();
	char line[RULE_RUN_MAX + 64], *errs;
	int n = snprintf(line, sizeof line, "a.example run=\"/");
	const size_t lens[] = {RULE_RUN_MAX, RULE_RUN_MAX + 1};
	for (int words = 1; words <= 2; words++)
		for (size_t k = 0; k < 2; k++) {
			memset(line + n, 'r', lens[k] - 1);
			if (words == 2)
				line[n + 500] = ' ';
			strcpy(line + n + lens[k] - 1, "\"\n");
			int rc = compile(d, line, tu_path(d, "c"), &errs);
			cr_assert_eq(rc, k ? COMPILE_BAD_RULES : COMPILE_OK,
				     "%d words, %zu octets: %s", words, lens[k], errs);
			if (k)
				cr_assert(strstr(errs, "run: longer than 1024 octets"), "%s", errs);
			free(errs);
		}
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
