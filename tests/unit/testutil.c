/* SPDX-License-Identifier: ISC */
/* testutil.c: temp dirs, files and running the real programs, for the
 * Criterion tests. */
#include "testutil.h"

#include "rulecompile.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *t = NULL;
	cr_assert(asprintf(&t, "%s/etrnd-test.XXXXXX", base) > 0);
	cr_assert(mkdtemp(t) != NULL, "mkdtemp %s", t);
	return t;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

void tu_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_path(const char *dir, const char *name)
{
	static char bufs[8][4096];
	static int i;
	char *b = bufs[i++ % 8];
	int n = snprintf(b, 4096, "%s/%s", dir, name);
	cr_assert(n > 0 && n < 4096, "path too long");
	return b;
}

void tu_write(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "fopen %s", path);
	fputs(content, f);
	cr_assert(fclose(f) == 0);
}

char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = tu_slurp(f, len);
	fclose(f);
	return buf;
}

int tu_count(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

const char *tu_queue(const char *dir)
{
	static char q[4096];
	snprintf(q, sizeof q, "%s/queue", dir);
	mkdir(q, 0755);
	mkdir(tu_path(q, "tmp"), 0755);
	mkdir(tu_path(q, "new"), 0755);
	mkdir(tu_path(q, "cur"), 0755);
	return q;
}

const char *tu_bin(const char *prog)
{
	static char b[4][4096];
	static int i;
	char *p = b[i++ % 4];
	const char *dir = getenv("ETRND_BIN") ? getenv("ETRND_BIN") : "bin";
	snprintf(p, 4096, "%s/%s", dir, prog);
	return p;
}

int tu_rules_err(const char *dir, const char *rules, const char *cdb, char **err)
{
	const char *rpath = tu_path(dir, "etrn.rules");
	tu_write(rpath, rules);
	const char *argv[] = {"etrnd-rules", rpath, cdb, NULL};
	struct tu_run r = tu_exec(dir, argv, "", 0, NULL);
	int st = r.status;
	if (err)
		*err = r.err, r.err = NULL;
	tu_run_free(&r);
	return st;
}

int tu_rules(const char *dir, const char *rules, const char *cdb)
{
	return tu_rules_err(dir, rules, cdb, NULL);
}

int tu_lines(const char *path)
{
	char *s = tu_read(path, NULL);
	int n = 0;
	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

static void child(const char *dir, const char *const *argv, const char *in, const char *out,
		  const char *err, const char *const *env)
{
	int fd0 = open(in, O_RDONLY), fd1 = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    fd2 = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd0 < 0 || fd1 < 0 || fd2 < 0)
		_exit(127);
	dup2(fd0, 0), dup2(fd1, 1), dup2(fd2, 2);
	for (int i = 0; env && env[i]; i++)
		putenv((char *)env[i]);
	(void)dir;
	tu_execv(tu_bin(argv[0]), argv);
}

void tu_append(const char **argv, int n, const char *const *extra)
{
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
}

char *tu_which(const char *prog)
{
	const char *path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
	char *copy = strdup(path), *save = NULL, *found = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", d, prog);
		if (access(p, X_OK) == 0)
			found = strdup(p);
	}
	free(copy);
	return found;
}

char *tu_strace(void)
{
	setenv("LSAN_OPTIONS", "detect_leaks=0", 1); /* read after ASAN_OPTIONS */
	return tu_which("strace");
}

void tu_execv(const char *path, const char *const *argv)
{
	const char *wrap = getenv("ETRND_WRAP");
	const char *all[64];
	int n = 0;
	char *copy = wrap ? strdup(wrap) : NULL;

	for (char *w = copy ? strtok(copy, " ") : NULL; w && n < 40; w = strtok(NULL, " "))
		all[n++] = w;
	all[n++] = path;
	for (int i = 1; argv[i] && n < 63; i++)
		all[n++] = argv[i];
	all[n] = NULL;
	execv(all[0], (char *const *)all);
	execvp(all[0], (char *const *)all);
	_exit(127);
}

struct tu_run tu_exec(const char *dir, const char *const *argv, const char *input, size_t inlen,
		      const char *const *env)
{
	struct tu_run r = {0};
	char in[4096], out[4096], err[4096];
	snprintf(in, sizeof in, "%s/.stdin", dir);
	snprintf(out, sizeof out, "%s/.stdout", dir);
	snprintf(err, sizeof err, "%s/.stderr", dir);
	FILE *f = fopen(in, "w");
	cr_assert(f);
	fwrite(input, 1, inlen, f);
	fclose(f);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		child(dir, argv, in, out, err, env);
	int st;
	cr_assert(waitpid(pid, &st, 0) == pid);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = tu_read(out, &r.outlen);
	r.err = tu_read(err, NULL);
	unlink(in), unlink(out), unlink(err);
	return r;
}

void tu_run_free(struct tu_run *r)
{
	free(r->out);
	free(r->err);
}

long long tu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tu_readable(int fd, long ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	long long end = tu_now_ms() + ms;
	for (;;) {
		long long left = end - tu_now_ms();
		int rc = poll(&p, 1, left > 0 ? (int)left : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc == 1;
	}
}

int tu_exits_within(int pid, long ms)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert_geq(fd, 0, "pidfd_open %d: %s", pid, strerror(errno));
	int exited = tu_readable(fd, ms);
	close(fd);
	return exited;
}

int tu_wait_exit(int pid, int seconds)
{
	int st, exited = tu_exits_within(pid, seconds * 1000L);
	if (!exited)
		kill(pid, SIGKILL); /* still our unreaped child: never another's pid */
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (!exited)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tu_reap(int pid, int seconds)
{
	int rc = tu_wait_exit(pid, seconds);
	cr_assert(rc >= 0, "pid %d still running after %d s", pid, seconds);
	return rc;
}

char *tu_slurp(FILE *f, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	cr_assert(m);
	int c;
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(m);
	if (len)
		*len = n;
	return buf;
}

char *tu_slurp_fd(int fd, int seconds, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	long long end = tu_now_ms() + seconds * 1000LL;
	while (n + 1 < cap) {
		long long left = end - tu_now_ms();
		if (left <= 0 || !tu_readable(fd, left))
			break;
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *tu_shell(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	cr_assert(p, "popen %s", cmd);
	char *out = tu_slurp(p, NULL);
	int st = pclose(p);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return out;
}

char *tu_snapshot(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' 2>/dev/null && for f in $(ls -1 | LC_ALL=C sort); do "
		 "echo \"== $f\"; cat \"$f\"; done",
		 dir);
	return tu_shell(cmd, NULL);
}

int tu_compile(const char *dir, const char *text, const char *cdb, char **errs)
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
