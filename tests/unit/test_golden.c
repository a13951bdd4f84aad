/* SPDX-License-Identifier: ISC */
/* Golden transcripts: tests/golden/NAME.in through the real bin/etrnd,
 * against a cdb compiled by the real bin/etrnd-rules. NAME.out holds the
 * exact replies (CRLF on the wire, LF in the file); NAME.triggers the
 * sorted file names left in QUEUEDIR/new. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bounds.h"
#include "testutil.h"

static const char *golden_dir(void)
{
	return getenv("ETRND_GOLDEN") ? getenv("ETRND_GOLDEN") : "tests/golden";
}

static void spool(const char *dir, const char *name, int n)
{
	char path[4096], f[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	mkdir(path, 0755);
	for (int i = 0; i < n; i++) {
		snprintf(f, sizeof f, "%s/%d.msg", path, i);
		tu_write(f, "x");
	}
}

/* The scratch fixture the golden rules refer to as @DIR@. */
static void fixture(const char *d)
{
	spool(d, "spool14", 14);
	spool(d, "empty", 0);
	spool(d, "big", SPOOL_SCAN_CAP + 1);
	spool(d, "maildir3", 0);
	spool(d, "maildir3/new", 2);
	spool(d, "maildir3/cur", 1);
	spool(d, "maildir3/tmp", 5);
}

static char *substitute(const char *text, const char *dir)
{
	size_t cap = strlen(text) * 2 + 4096, n = 0;
	char *out = malloc(cap);
	for (const char *p = text; *p;) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			n += (size_t)sprintf(out + n, "%s", dir);
			p += 5;
		} else {
			out[n++] = *p++;
		}
		cr_assert(n + 4096 < cap);
	}
	out[n] = '\0';
	return out;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *listing(const char *dir)
{
	char *names[256], *out = calloc(1, 65536);
	int n = 0;
	DIR *d = opendir(dir);
	cr_assert(d);
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], cmp);
	for (int i = 0; i < n; i++) {
		strcat(out, names[i]);
		strcat(out, "\n");
		free(names[i]);
	}
	return out;
}

/* Replies must end in CRLF; returns them with LF for comparison. */
static char *unwire(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			cr_assert(i > 0 && s[i - 1] == '\r', "reply line without CRLF");
		if (s[i] != '\r')
			out[n++] = s[i];
		else
			cr_assert(i + 1 < len && s[i + 1] == '\n', "bare CR in reply");
	}
	out[n] = '\0';
	return out;
}

static void golden(const char *name)
{
	char *d = tu_tmpdir(), file[4096];
	fixture(d);
	snprintf(file, sizeof file, "%s/etrn.rules", golden_dir());
	char *rules = tu_read(file, NULL), *text = substitute(rules, d);
	const char *cdb = tu_path(d, "etrn.cdb");
	cr_assert_eq(tu_rules(d, text, cdb), 0, "rules do not compile");
	const char *q = tu_queue(d);
	snprintf(file, sizeof file, "%s/%s.in", golden_dir(), name);
	size_t inlen;
	char *in = tu_read(file, &inlen);
	cr_assert(in, "%s", file);
	const char *argv[] = {"etrnd", "-n", "mx.example", "-d",     cdb,
			      "-q",    q,    "-l",         "stderr", NULL};
	const char *env[] = {"TCPREMOTEIP=192.0.2.7", NULL};
	struct tu_run r = tu_exec(d, argv, in, inlen, env);
	cr_assert_eq(r.status, 0, "%s: exit %d\n%s", name, r.status, r.err);
	char *got = unwire(r.out, r.outlen);
	snprintf(file, sizeof file, "%s/%s.out", golden_dir(), name);
	char *want = tu_read(file, NULL);
	cr_assert_str_eq(got, want, "%s: replies differ", name);
	snprintf(file, sizeof file, "%s/%s.triggers", golden_dir(), name);
	char *want_t = tu_read(file, NULL), *got_t = listing(tu_path(q, "new"));
	cr_assert_str_eq(got_t, want_t, "%s: triggers differ", name);
	cr_assert_eq(tu_count(tu_path(q, "tmp")), 0, "%s: temp files left", name);
	free(rules), free(text), free(in), free(got), free(want), free(want_t), free(got_t);
	tu_run_free(&r);
	tu_rmtree(d);
}

Test(golden, rfc1985_section7)
{
	golden("rfc1985");
}
Test(golden, basic_commands)
{
	golden("basic");
}
Test(golden, refused_commands_and_error_limit)
{
	golden("refused");
}
Test(golden, node_syntax)
{
	golden("nodes");
}
Test(golden, policy_and_spools)
{
	golden("policy");
}
Test(golden, eof_without_quit)
{
	golden("eof");
}
Test(golden, line_limits_and_bad_octets)
{
	golden("lines");
}
