/* SPDX-License-Identifier: ISC */
/* testutil.h: helpers shared by the Criterion tests. */
#ifndef ETRND_TESTUTIL_H
#define ETRND_TESTUTIL_H

#include <stddef.h>
#include <stdio.h>

/* A fresh directory under $TMPDIR, removed by rmtree(). */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);
/* path = a/b, into a static rotating buffer. */
const char *tu_path(const char *dir, const char *name);
void tu_write(const char *path, const char *content);
/* Reads a whole file into a malloc'd NUL-terminated buffer (or NULL). */
char *tu_read(const char *path, size_t *len);
/* Number of entries (not . or ..) in a directory, -1 if it cannot be read. */
int tu_count(const char *dir);
/* Makes QUEUEDIR with tmp/ new/ cur/ inside dir; returns its path. */
const char *tu_queue(const char *dir);
/* A directory's files, name and content in name order (malloc'd), to
 * compare before and after. */
char *tu_snapshot(const char *dir);
/* Compiles rules text with the real bin/etrnd-rules; returns exit status. */
int tu_rules(const char *dir, const char *rules, const char *cdb);
/* The same; etrnd-rules' standard error in *err (malloc'd) when err is
 * not NULL. */
int tu_rules_err(const char *dir, const char *rules, const char *cdb, char **err);
/* How many lines the file has (0 when it cannot be read). */
int tu_lines(const char *path);
/* Path of a program in bin/ ($ETRND_BIN, else ./bin). */
const char *tu_bin(const char *prog);

struct tu_run {
	int status; /* exit status, or 128+signal */
	char *out;  /* stdout */
	char *err;  /* stderr */
	size_t outlen;
};

/* Runs argv (argv[0] is a bin/ program name) with input on stdin, inside
 * dir; extra environment "K=V" strings in env (NULL-terminated, may be NULL). */
struct tu_run tu_exec(const char *dir, const char *const *argv, const char *input, size_t inlen,
		      const char *const *env);
void tu_run_free(struct tu_run *r);
/* Copies the NULL-terminated extra (may be NULL) into argv from index n
 * on, and terminates argv (which has room for 32 entries). */
void tu_append(const char **argv, int n, const char *const *extra);
/* The monotonic clock in milliseconds. */
long long tu_now_ms(void);
/* Whether fd becomes readable within ms (poll: an event, not a sleep). */
int tu_readable(int fd, long ms);
/* Whether the child pid exits within ms (its pidfd becomes readable). It
 * stays unreaped, so its pid cannot be another process's meanwhile. */
int tu_exits_within(int pid, long ms);
/* Waits up to seconds for the child pid to exit and reaps it: its status
 * (or 128+signal), or -1 when it did not (it is then killed and reaped). */
int tu_wait_exit(int pid, int seconds);
/* tu_wait_exit, and the test fails when pid had to be killed. */
int tu_reap(int pid, int seconds);
/* Everything from a stream until EOF (malloc'd, NUL-terminated). */
char *tu_slurp(FILE *f, size_t *len);
/* Everything from fd until EOF, or until seconds pass (malloc'd). */
char *tu_slurp_fd(int fd, int seconds, size_t *len);
/* The output of a shell command (malloc'd); its exit status (or
 * 128+signal) in *status when status is not NULL. */
char *tu_shell(const char *cmd, int *status);
/* Compiles rules text (written to dir/r) with rules_compile() into cdb;
 * the error text in *errs (malloc'd) when errs is not NULL. */
int tu_compile(const char *dir, const char *text, const char *cdb, char **errs);
/* The path of prog in $PATH (malloc'd), or NULL. */
char *tu_which(const char *prog);
/* strace's path (malloc'd), or NULL when it is not installed. Also turns
 * LeakSanitizer off in the programs started from now on: it cannot work
 * under ptrace and aborts the traced program (the sanitizer build's leak
 * checks are the other tests' job). */
char *tu_strace(void);
/* execs path with argv[1..]; under $ETRND_WRAP (e.g. valgrind ...) when set. */
void tu_execv(const char *path, const char *const *argv);

#endif
