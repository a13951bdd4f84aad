/* SPDX-License-Identifier: ISC */
/* etrnd-rules and the cdb's mode: a new cdb keeps the mode and group of
 * the one it replaces, and one that holds cram= secrets (password
 * equivalents) readable by everyone is warned about. */
#include <criterion/criterion.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rulecompile.h"
#include "testutil.h"

#define CRAM "cram=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
static const char with_cram[] = "client.example.net users=bob spool=/var/spool/etrnd-hold/c\n"
				"user:bob " CRAM "\n";
static const char without_cram[] = "client.example.net allow=192.0.2.0/24\n";

static char *dir;
static const char *cdb;

static void setup(void)
{
	dir = tu_tmpdir();
	cdb = strdup(tu_path(dir, "etrn.cdb"));
}

static void teardown(void)
{
	tu_rmtree(dir);
	free((char *)cdb);
}

TestSuite(rulesmode, .init = setup, .fini = teardown, .timeout = 30);

/* bin/etrnd-rules RULES CDB: its exit status; stderr in *err. */
static int rules(const char *text, char **err)
{
	return tu_rules_err(dir, text, cdb, err);
}

static struct stat st_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "stat %s", path);
	return st;
}

/* A group to give the cdb: neither the test's own nor but. */
static gid_t other_group(gid_t but)
{
	const char *names[] = {"daemon", "mail", "users", "nogroup", NULL};
	for (int i = 0; names[i]; i++) {
		struct group *g = getgrnam(names[i]);
		if (g && g->gr_gid != getegid() && g->gr_gid != but)
			return g->gr_gid;
	}
	return (gid_t)-1;
}

Test(rulesmode, cram_secrets_readable_by_everyone_are_warned_about_status_unchanged)
{
	char *err;
	cr_assert_eq(rules(with_cram, &err), 0, "%s", err);
	cr_expect_eq(st_of(cdb).st_mode & 0777, 0644, "a first cdb is 0644, as before");
	char want[4300];
	snprintf(want, sizeof want,
		 "etrnd-rules: warning: %s holds cram= secrets (password equivalents) and is "
		 "readable by everyone (mode 0644)",
		 cdb);
	cr_expect(strstr(err, want), "no warning: %s", err);
	free(err);

	/* no secrets: no warning, whatever the mode */
	cr_assert_eq(rules(without_cram, &err), 0, "%s", err);
	cr_expect_str_eq(err, "");
	free(err);
	/* a failed compile warns about nothing and changes nothing */
	cr_assert_eq(rules("user:bob " CRAM "\nbad_key\n", &err), 100);
	cr_expect(!strstr(err, "warning"), "%s", err);
	free(err);
}

Test(rulesmode, the_new_cdb_keeps_the_mode_and_group_it_replaces)
{
	char *err;
	cr_assert_eq(rules(with_cram, &err), 0, "%s", err);
	free(err);
	gid_t g = other_group((gid_t)-1);
	if (geteuid() != 0 || g == (gid_t)-1)
		g = getegid(); /* the mode alone then */
	cr_assert_eq(chown(cdb, (uid_t)-1, g), 0);
	cr_assert_eq(chmod(cdb, 0640), 0);
	ino_t old = st_of(cdb).st_ino;

	cr_assert_eq(rules(with_cram, &err), 0, "%s", err);
	cr_expect_str_eq(err, "", "0640 is not readable by everyone: no warning");
	free(err);
	struct stat st = st_of(cdb);
	cr_expect_neq(st.st_ino, old, "not a new file renamed into place");
	cr_expect_eq(st.st_mode & 07777, 0640, "mode %o", st.st_mode & 07777);
	cr_expect_eq(st.st_gid, g, "group %u, not %u", (unsigned)st.st_gid, (unsigned)g);

	cr_assert_eq(chmod(cdb, 0600), 0);
	cr_assert_eq(rules(without_cram, &err), 0, "%s", err);
	free(err);
	cr_expect_eq(st_of(cdb).st_mode & 07777, 0600);

	/* writable by others is too wide as well */
	cr_assert_eq(chmod(cdb, 0620), 0);
	cr_assert_eq(rules(with_cram, &err), 0, "%s", err);
	cr_expect(strstr(err, "is writable by others (mode 0620)"), "no warning: %s", err);
	free(err);
	cr_expect_eq(st_of(cdb).st_mode & 07777, 0620);

	/* kept when it is too wide, too: then the warning says so */
	cr_assert_eq(chmod(cdb, 0604), 0);
	cr_assert_eq(rules(with_cram, &err), 0, "%s", err);
	cr_expect(strstr(err, "readable by everyone (mode 0604)"), "%s", err);
	free(err);
	cr_expect_eq(st_of(cdb).st_mode & 07777, 0604);
	cr_expect_eq(st_of(cdb).st_gid, g);
	cr_expect_eq(tu_count(dir), 2, "only the rules and the cdb: no temp file left");
}

/* A user who may not give the new cdb the old one's group (not root, not
 * in the group) installs nothing: a cdb etrnd's user could no longer read
 * (or one more readable than the old) would be worse than the old one. */
Test(rulesmode, a_group_that_cannot_be_kept_replaces_nothing)
{
	struct passwd *pw = getpwnam("nobody");
	gid_t g = pw ? other_group(pw->pw_gid) : (gid_t)-1;
	if (geteuid() != 0 || g == (gid_t)-1)
		cr_skip_test("needs root, the user nobody and a group nobody is not in");
	char *err;
	cr_assert_eq(rules(with_cram, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(chown(cdb, 0, g), 0);
	cr_assert_eq(chmod(cdb, 0640), 0);
	cr_assert_eq(chown(dir, pw->pw_uid, pw->pw_gid), 0);
	tu_write(tu_path(dir, "etrn.rules"), with_cram);
	cr_assert_eq(chmod(tu_path(dir, "etrn.rules"), 0644), 0);
	struct stat before = st_of(cdb);

	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(90);
		FILE *e = fdopen(pipefd[1], "w");
		unsigned long n;
		int rc = rules_compile(tu_path(dir, "etrn.rules"), cdb, e, &n);
		fclose(e);
		_exit(rc);
	}
	close(pipefd[1]);
	char out[2048] = "";
	size_t n = 0;
	ssize_t r;
	while (n < sizeof out - 1 && (r = read(pipefd[0], out + n, sizeof out - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(pipefd[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_expect_eq(WEXITSTATUS(st), COMPILE_IO_ERROR, "%s", out);
	cr_expect(strstr(out, "unable to give it the group of the cdb it replaces"), "%s", out);
	struct stat after = st_of(cdb);
	cr_expect_eq(after.st_ino, before.st_ino, "the old cdb was replaced");
	cr_expect_eq(after.st_gid, g);
	cr_expect_eq(tu_count(dir), 2, "a temp file was left behind");
}
