/* SPDX-License-Identifier: ISC */
/* The node's maildir (maildir.c) and bin/etrnd-store as a process. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heldmsg.h"
#include "maildir.h"
#include "testutil.h"

static char *dir, *mdpath;

static void setup(void)
{
	dir = tu_tmpdir();
	cr_assert(asprintf(&mdpath, "%s/md", dir) > 0);
}

static void teardown(void)
{
	tu_rmtree(dir);
	free(dir);
	free(mdpath);
}

TestSuite(maildir, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(store, .init = setup, .fini = teardown, .timeout = 400);

static void open_md(struct maildir *m, const char *path, int make)
{
	const char *what;
	cr_assert_eq(maildir_open(m, path, make, &what), 0, "%s: %s", what, strerror(errno));
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return st.st_mode & 07777;
}

Test(maildir, made_with_its_modes_whatever_the_umask)
{
	struct maildir m;
	const char *md = tu_path(dir, "md");

	umask(077);
	open_md(&m, md, MD_MAKE_DIR | MD_MAKE_SUBS);
	maildir_close(&m);
	cr_expect_eq(mode_of(md), 0755);
	cr_expect_eq(mode_of(tu_path(md, "new")), 0755);
	cr_expect_eq(mode_of(tu_path(md, "cur")), 0755);
	cr_expect_eq(mode_of(tu_path(md, "tmp")), 0700);
	cr_expect_eq(mode_of(tu_path(md, "failed")), 0700);
	for (int i = 0; i < MD_SUBS; i++)
		cr_expect_eq(m.sub[i], -1, "closed twice would close another file");
	cr_expect_eq(m.dir, -1);
}

Test(maildir, open_says_what_is_missing)
{
	struct maildir m;
	const char *what, *md = tu_path(dir, "md");

	cr_assert_eq(maildir_open(&m, md, MD_MAKE_SUBS, &what), -1);
	cr_expect_eq(errno, ENOENT);
	cr_expect_eq(what, md, "the maildir itself is missing");
	mkdir(md, 0755);
	mkdir(tu_path(md, "tmp"), 0700);
	mkdir(tu_path(md, "new"), 0755);
	mkdir(tu_path(md, "cur"), 0755);
	cr_assert_eq(maildir_open(&m, md, 0, &what), -1);
	cr_expect_eq(errno, ENOENT);
	cr_expect_str_eq(what, "failed");
	open_md(&m, md, MD_MAKE_SUBS);
	maildir_close(&m);
	cr_expect_eq(mode_of(tu_path(md, "failed")), 0700);
}

Test(maildir, unique_names_never_repeat)
{
	struct maildir m;
	enum { N = 2000 };
	static char names[N][256];

	open_md(&m, tu_path(dir, "md"), MD_MAKE_DIR | MD_MAKE_SUBS);
	for (int i = 0; i < N; i++) {
		maildir_unique(&m, names[i], sizeof names[i]);
		cr_assert(names[i][0] >= '0' && names[i][0] <= '9', "%s", names[i]);
		cr_assert_null(strchr(names[i], '/'));
	}
	qsort(names, N, sizeof names[0], (int (*)(const void *, const void *))strcmp);
	for (int i = 1; i < N; i++)
		cr_assert_str_neq(names[i - 1], names[i]);
	maildir_close(&m);
}

Test(maildir, commit_never_replaces_replace_does)
{
	struct maildir m;
	const char *md = tu_path(dir, "md");

	open_md(&m, md, MD_MAKE_DIR | MD_MAKE_SUBS);
	tu_write(tu_path(md, "new/x"), "old");
	int fd = maildir_create_tmp(&m, "y");
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "new", 3), 3);
	close(fd);
	cr_assert_eq(maildir_create_tmp(&m, "y"), -1, "O_EXCL");
	cr_assert_eq(errno, EEXIST);

	cr_assert_eq(maildir_commit(&m, "y", MD_NEW, "x"), -1);
	cr_assert_eq(errno, EEXIST);
	char *s = tu_read(tu_path(md, "new/x"), NULL);
	cr_expect_str_eq(s, "old");
	free(s);
	cr_expect_eq(access(tu_path(md, "tmp/y"), F_OK), 0, "still in tmp/");

	cr_assert_eq(maildir_replace(&m, "y", MD_NEW, "x"), 0);
	s = tu_read(tu_path(md, "new/x"), NULL);
	cr_expect_str_eq(s, "new");
	free(s);
	cr_expect_eq(tu_count(tu_path(md, "tmp")), 0);
	maildir_close(&m);
}

Test(maildir, lock_is_exclusive_across_processes)
{
	struct maildir a, b;
	const char *md = tu_path(dir, "md");

	open_md(&a, md, MD_MAKE_DIR | MD_MAKE_SUBS);
	open_md(&b, md, 0);
	cr_assert_eq(maildir_lock(&a), 0);
	cr_assert_eq(maildir_lock(&b), -1);
	cr_assert_eq(errno, EWOULDBLOCK);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct maildir c;
		const char *what;
		_exit(maildir_open(&c, md, 0, &what) == 0 && maildir_lock(&c) == -1 &&
			      errno == EWOULDBLOCK
			  ? 0
			  : 1);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process got the lock");
	maildir_close(&a);
	cr_expect_eq(maildir_lock(&b), 0, "free once the holder is gone");
	maildir_close(&b);
}

Test(maildir, list_is_new_and_cur_sorted_without_dot_files)
{
	struct maildir m;
	const char *md = tu_path(dir, "md");
	size_t n;

	open_md(&m, md, MD_MAKE_DIR | MD_MAKE_SUBS);
	tu_write(tu_path(md, "new/3"), "x");
	tu_write(tu_path(md, "cur/1:2,S"), "x");
	tu_write(tu_path(md, "new/2"), "x");
	tu_write(tu_path(md, "new/.hidden"), "x");
	tu_write(tu_path(md, "tmp/0"), "x");
	tu_write(tu_path(md, "failed/0"), "x");
	struct maildir_msg *v = maildir_list(&m, &n);
	cr_assert(v);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(v[0].name, "1:2,S");
	cr_expect_eq(v[0].sub, MD_CUR);
	cr_expect_str_eq(v[1].name, "2");
	cr_expect_str_eq(v[2].name, "3");
	cr_expect_eq(v[2].sub, MD_NEW);
	free(v);
	maildir_close(&m);
}

/* -- bin/etrnd-store -------------------------------------------------- */

/* (tu_path's buffers rotate: argument lists keep this one) */
static const char *md(void)
{
	return mdpath;
}

static int store(const char *input, size_t len, const char *const *args, char **err)
{
	const char *argv[32] = {"etrnd-store"};
	tu_append(argv, 1, args);
	struct tu_run r = tu_exec(dir, argv, input, len, NULL);
	int st = r.status;
	if (err)
		*err = r.err, r.err = NULL;
	tu_run_free(&r);
	return st;
}

/* The one file in md/new, whole; NULL when there is not exactly one. */
static char *only_file(size_t *len)
{
	char path[4096];
	char *name = NULL;
	FILE *p;

	if (tu_count(tu_path(md(), "new")) != 1)
		return NULL;
	snprintf(path, sizeof path, "ls %s/new", md());
	p = popen(path, "r");
	char line[512] = "";
	cr_assert(fgets(line, sizeof line, p));
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	name = strdup(tu_path(tu_path(md(), "new"), line));
	char *s = tu_read(name, len);
	free(name);
	return s;
}

static void expect_stored(const char *envelope, const char *body, size_t blen)
{
	size_t len, elen = strlen(envelope);
	char *s = only_file(&len);
	cr_assert(s, "not exactly one file in new/");
	cr_expect(len == elen + blen && memcmp(s, envelope, elen) == 0 &&
		      memcmp(s + elen, body, blen) == 0,
		  "stored:\n%.*s", (int)len, s);
	free(s);
}

static void expect_nothing_left(void)
{
	cr_expect(tu_count(tu_path(md(), "tmp")) <= 0, "left in tmp/");
	int n = tu_count(tu_path(md(), "new"));
	cr_expect(n <= 0, "left in new/: %d", n);
}

Test(store, the_null_sender_either_way_and_several_recipients)
{
	const char body[] = "Subject: bounce\n\nno final newline, and a NUL \0 octet";
	const char *forms[] = {"", "<>", NULL};
	for (int i = 0; forms[i]; i++) {
		const char *args[] = {"-f",
				      forms[i],
				      md(),
				      "a@client.example.net",
				      "<b@Sub.Example.Org>",
				      "c@[192.0.2.7]",
				      NULL};
		cr_assert_eq(store(body, sizeof body - 1, args, NULL), 0);
		expect_stored("etrnd-envelope 1\nfrom \nto a@client.example.net\n"
			      "to b@Sub.Example.Org\nto c@[192.0.2.7]\n\n",
			      body, sizeof body - 1);
		tu_rmtree(md());
	}
	const char *args[] = {"-f", "<s@example.org>", md(), "a@client.example.net", NULL};
	cr_assert_eq(store("x\n", 2, args, NULL), 0);
	expect_stored("etrnd-envelope 1\nfrom s@example.org\nto a@client.example.net\n\n", "x\n",
		      2);
	cr_expect_eq(mode_of(md()), 0755);
}

/* -e VARIABLE: the sender from the environment, as Exim's pipe transport
 * sets SENDER (empty for the null sender); the same checks as -f. */
Test(store, e_takes_the_sender_from_the_environment)
{
	const char *args[] = {"-e", "SENDER", md(), "a@client.example.net", NULL};
	const char *forms[][2] = {{"SENDER=s@example.org", "s@example.org"},
				  {"SENDER=<s@example.org>", "s@example.org"},
				  {"SENDER=", ""}};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		const char *argv[32] = {"etrnd-store"}, *env[] = {forms[i][0], NULL};
		tu_append(argv, 1, args);
		struct tu_run r = tu_exec(dir, argv, "x\n", 2, env);
		cr_assert_eq(r.status, 0, "%s: %s", forms[i][0], r.err);
		tu_run_free(&r);
		char want[200];
		snprintf(want, sizeof want,
			 "etrnd-envelope 1\nfrom %s\nto a@client.example.net\n\n", forms[i][1]);
		expect_stored(want, "x\n", 2);
		tu_rmtree(md());
	}
	const char *argv[32] = {"etrnd-store"}, *bad[] = {"SENDER=bad sender", NULL};
	tu_append(argv, 1, args);
	struct tu_run r = tu_exec(dir, argv, "x\n", 2, bad);
	cr_expect_eq(r.status, 64, "a bad sender: %s", r.err);
	tu_run_free(&r);
	const char *unset[] = {"-e", "ETRND_TEST_UNSET_VARIABLE", md(), "a@b.example", NULL};
	char *err = NULL;
	cr_expect_eq(store("x\n", 2, unset, &err), 64);
	cr_expect(err && strstr(err, "-e ETRND_TEST_UNSET_VARIABLE: no such variable"), "%s", err);
	free(err);
	expect_nothing_left();
}

Test(store, usage_and_bad_addresses_are_64)
{
	const char *const cases[][8] = {
	    {NULL},
	    {"-x", md(), "a@b.example", NULL},
	    {md(), NULL},
	    {"-s", "ten", md(), "a@b.example", NULL},
	    {"-s", "0", md(), "a@b.example", NULL},
	    {md(), "not-an-address", NULL},
	    {md(), "a@b.example", "<>", NULL},
	    {md(), "a b@c.example", NULL},
	    {md(), "a@b_c.example", NULL},
	    {"-f", "bad sender", md(), "a@b.example", NULL},
	    {"-f", "<a@b.example", md(), "a@b.example", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *err = NULL;
		cr_expect_eq(store("x\n", 2, cases[i], &err), 64, "case %zu", i);
		cr_expect(err && strstr(err, "etrnd-store"), "case %zu: says why: %s", i, err);
		free(err);
		expect_nothing_left();
	}
}

Test(store, over_the_size_limit_is_65_and_leaves_nothing)
{
	const char *args[] = {"-s", "10", md(), "a@b.example", NULL};
	cr_expect_eq(store("0123456789", 10, args, NULL), 0, "exactly the limit");
	tu_rmtree(md());
	char *err = NULL;
	cr_expect_eq(store("0123456789a", 11, args, &err), 65);
	cr_expect(err && strstr(err, "larger than 10"), "%s", err);
	free(err);
	expect_nothing_left();

	/* the default, 50 MB, counts the stream, not a declared size */
	size_t big = (size_t)HELD_SIZE_DEFAULT + 1;
	char *m = malloc(big);
	memset(m, 'x', big);
	const char *dflt[] = {md(), "a@b.example", NULL};
	cr_expect_eq(store(m, big, dflt, NULL), 65);
	free(m);
	expect_nothing_left();
}

enum child_setup { AS_IS, FSIZE_4K, AS_NOBODY };

/* bin/etrnd-store with input from a file, unwrapped (valgrind's own files
 * would hit a file size limit, and nobody cannot write its logs). */
static int store_as(enum child_setup how, const char *input, size_t len, const char *const *args,
		    char **err)
{
	const char *in = tu_path(dir, "in"), *errpath = tu_path(dir, "err");
	FILE *f = fopen(in, "w");
	cr_assert(f);
	fwrite(input, 1, len, f);
	fclose(f);
	const char *argv[32] = {"etrnd-store"};
	tu_append(argv, 1, args);
	struct passwd *pw = getpwnam("nobody");
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd0 = open(in, O_RDONLY),
		    fd2 = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		dup2(fd0, 0), dup2(fd2, 2);
		signal(SIGXFSZ, SIG_DFL); /* the program must ignore it itself */
		if (how == FSIZE_4K) {
			struct rlimit rl = {4096, 4096};
			setrlimit(RLIMIT_FSIZE, &rl);
		}
		if (how == AS_NOBODY && (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
					 setuid(pw->pw_uid) < 0))
			_exit(126);
		execv(tu_bin("etrnd-store"), (char *const *)argv);
		_exit(127);
	}
	int st = tu_reap(pid, 30);
	if (err)
		*err = tu_read(errpath, NULL);
	return st;
}

Test(store, a_full_disk_is_75_and_leaves_nothing)
{
	size_t big = 100000;
	char *m = malloc(big);
	memset(m, 'x', big);
	const char *args[] = {"-f", "", md(), "a@b.example", NULL};
	char *err = NULL;
	cr_expect_eq(store_as(FSIZE_4K, m, big, args, &err), 75, "not killed by SIGXFSZ");
	cr_expect(err && strstr(err, "unable to write"), "%s", err);
	free(err);
	free(m);
	expect_nothing_left();
	cr_expect_eq(store_as(FSIZE_4K, "small\n", 6, args, NULL), 0, "under the limit");
}

Test(store, permission_denied_is_75_and_leaves_nothing)
{
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() != 0 || !pw)
		cr_skip_test("needs root and a user nobody");
	const char *args[] = {"-f", "", md(), "a@b.example", NULL};
	cr_assert_eq(store("x\n", 2, args, NULL), 0, "root made the maildir");
	char *err = NULL;
	cr_expect_eq(store_as(AS_NOBODY, "y\n", 2, args, &err), 75);
	cr_expect(err && strstr(err, "Permission denied"), "%s", err);
	free(err);
	cr_expect_eq(tu_count(tu_path(md(), "tmp")), 0);
	cr_expect_eq(tu_count(tu_path(md(), "new")), 1, "only root's message");

	/* a maildir nobody cannot create */
	chmod(dir, 0755);
	const char *other[] = {"-f", "", tu_path(dir, "other"), "a@b.example", NULL};
	err = NULL;
	cr_expect_eq(store_as(AS_NOBODY, "y\n", 2, other, &err), 75);
	cr_expect(err && strstr(err, "Permission denied"), "%s", err);
	free(err);
	cr_expect_eq(access(tu_path(dir, "other"), F_OK), -1);
}

Test(store, fifty_concurrent_stores_never_collide)
{
	enum { N = 50 };
	pid_t pids[N];
	char bodies[N][64];

	for (int i = 0; i < N; i++) {
		snprintf(bodies[i], sizeof bodies[i], "Subject: %d\n\nmessage %d of %d\n", i, i, N);
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			int p[2];
			if (pipe(p) < 0)
				_exit(126);
			if (write(p[1], bodies[i], strlen(bodies[i])) < 0)
				_exit(126);
			close(p[1]);
			dup2(p[0], 0);
			const char *argv[] = {"etrnd-store",          "-f", "s@example.org", md(),
					      "a@client.example.net", NULL};
			tu_execv(tu_bin("etrnd-store"), argv);
		}
	}
	for (int i = 0; i < N; i++)
		cr_expect_eq(tu_reap(pids[i], 300), 0, "store %d", i); /* valgrind: slow */
	cr_assert_eq(tu_count(tu_path(md(), "new")), N);
	cr_expect_eq(tu_count(tu_path(md(), "tmp")), 0);

	int seen[N] = {0};
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "ls %s/new", md());
	FILE *ls = popen(cmd, "r");
	char name[512];
	while (fgets(name, sizeof name, ls)) {
		name[strcspn(name, "\n")] = '\0';
		size_t len;
		char *s = tu_read(tu_path(tu_path(md(), "new"), name), &len);
		const char *env =
		    "etrnd-envelope 1\nfrom s@example.org\nto a@client.example.net\n\n";
		cr_assert(s && len > strlen(env) && memcmp(s, env, strlen(env)) == 0, "%s", name);
		int k = atoi(s + strlen(env) + strlen("Subject: "));
		cr_assert(k >= 0 && k < N);
		cr_expect_str_eq(s + strlen(env), bodies[k], "%s", name);
		seen[k]++;
		free(s);
	}
	pclose(ls);
	for (int i = 0; i < N; i++)
		cr_expect_eq(seen[i], 1, "message %d stored %d times", i, seen[i]);
}

/* -m: what OpenSMTPD's mda puts before the message goes, nothing else. */
static void strip_case(const char *sender, const char *in, const char *want)
{
	const char *args[] = {"-m", "-f", sender, md(), "r@client.example.net", NULL};
	char env[512];
	const char *shown = sender[0] == '<' ? "" : sender;
	snprintf(env, sizeof env, "etrnd-envelope 1\nfrom %s\nto r@client.example.net\n\n", shown);
	cr_assert_eq(store(in, strlen(in), args, NULL), 0);
	expect_stored(env, want, strlen(want));
	tu_rmtree(md());
}

Test(store, m_strips_only_the_mda_lines)
{
	const char *msg = "Received: from x\nReturn-Path: <orig@example.org>\n"
			  "Delivered-To: list@example.org\nSubject: s\n\nbody\n";
	char in[1024];

	snprintf(in, sizeof in,
		 "Return-Path: <s@example.org>\nDelivered-To: r@client.example.net\n%s", msg);
	strip_case("s@example.org", in, msg);
	/* the null sender: OpenSMTPD adds Delivered-To only */
	snprintf(in, sizeof in, "Delivered-To: r@client.example.net\n%s", msg);
	strip_case("", in, msg);
	strip_case("<>", in, msg);
	/* the message's own Delivered-To, after the mda's, stays */
	snprintf(in, sizeof in, "Delivered-To: r@client.example.net\nDelivered-To: x@y.example\n%s",
		 msg);
	strip_case("", in, in + strlen("Delivered-To: r@client.example.net\n"));
	/* not the mda's lines: nothing goes */
	strip_case("s@example.org", msg, msg);
	strip_case("", "Return-Path: <>\nSubject: s\n\nb\n", "Return-Path: <>\nSubject: s\n\nb\n");
	snprintf(in, sizeof in, "Delivered-To: r@client.example.net\n%s", msg);
	strip_case("s@example.org", in, in); /* a sender but no Return-Path */
	snprintf(in, sizeof in, "Delivered-To: r@client.example.net\n\tfolded\n%s", msg);
	strip_case("", in, in);
	snprintf(in, sizeof in, "delivered-to: r@client.example.net\n%s", msg);
	strip_case("", in, in);

	/* without -m nothing is stripped */
	snprintf(in, sizeof in, "Delivered-To: r@client.example.net\n%s", msg);
	const char *args[] = {"-f", "", md(), "r@client.example.net", NULL};
	cr_assert_eq(store(in, strlen(in), args, NULL), 0);
	expect_stored("etrnd-envelope 1\nfrom \nto r@client.example.net\n\n", in, strlen(in));
}

/* Waits (bounded) until the reader has taken everything out of the pipe. */
static void drained(int fd)
{
	for (int i = 0; i < 1000; i++) {
		int n = 0;
		cr_assert_eq(ioctl(fd, FIONREAD, &n), 0);
		if (n == 0)
			return;
		struct timespec t = {0, 5 * 1000 * 1000};
		nanosleep(&t, NULL);
	}
	cr_assert_fail("etrnd-store does not read its input");
}

Test(store, m_does_not_depend_on_how_the_pipe_splits_the_lines)
{
	const char *parts[] = {"Return-Pa", "th: <s@example.org>\n", "Delivered-To: r@client",
			       ".example.net\n", "Subject: s\n\nbody\n"};
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		const char *argv[] = {"etrnd-store",          "-m", "-f", "s@example.org", md(),
				      "r@client.example.net", NULL};
		tu_execv(tu_bin("etrnd-store"), argv);
	}
	close(p[0]);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(write(p[1], parts[i], strlen(parts[i])), (ssize_t)strlen(parts[i]));
		drained(p[1]);
	}
	close(p[1]);
	cr_assert_eq(tu_reap(pid, 60), 0);
	expect_stored("etrnd-envelope 1\nfrom s@example.org\nto r@client.example.net\n\n",
		      "Subject: s\n\nbody\n", 17);
}

/* etrnd-store with n recipients r0@client.example.net ...; its status. */
static int store_many(int n)
{
	char **argv = calloc((size_t)n + 8, sizeof *argv);
	int a = 0;
	argv[a++] = "etrnd-store";
	argv[a++] = "-f";
	argv[a++] = "";
	argv[a++] = mdpath;
	for (int i = 0; i < n; i++)
		cr_assert(asprintf(&argv[a++], "r%d@client.example.net", i) > 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		int p[2];
		if (pipe(p) < 0 || write(p[1], "x\n", 2) != 2)
			_exit(126);
		close(p[1]);
		dup2(p[0], 0), dup2(nul, 2);
		execv(tu_bin("etrnd-store"), argv);
		_exit(127);
	}
	int st = tu_reap(pid, 60);
	for (int i = 4; i < a; i++)
		free(argv[i]);
	free(argv);
	return st;
}

Test(store, a_thousand_recipients_and_not_one_more)
{
	cr_expect_eq(store_many(HELD_RCPTS_MAX + 1), 64);
	expect_nothing_left();
	cr_assert_eq(store_many(HELD_RCPTS_MAX), 0);
	size_t len;
	char *s = only_file(&len);
	cr_assert(s);
	struct held h;
	const char *why;
	cr_assert_eq(held_parse(&h, s, len, &why), 0, "%s", why);
	cr_expect_eq(h.n, HELD_RCPTS_MAX);
	cr_expect_str_eq(h.rcpt[HELD_RCPTS_MAX - 1].addr, "r999@client.example.net");
	held_free(&h);
	free(s);
}
