/* SPDX-License-Identifier: ISC */
/* sessions ROUNDS PER INPUT NAME [OPT...] CMD ARGS :: [NAME [OPT...] CMD ARGS :: ...]
 *
 * Runs every command ROUNDS x PER times, the commands taking turns session
 * by session (so that drift on a shared machine hits them all alike), in
 * a new order each turn (shuffled, with the same seed each run): no command
 * always follows the same one, since a process leaves work behind for the
 * next (a static etrnd session right after the floor that writes 100
 * pages took 2.5% longer than one after an etrnd session). Each
 * session with stdin from INPUT and stdout/stderr to /dev/null, and times
 * each from the spawn to the reaping of its process. OPTs, before CMD:
 *   in=FILE    this command's stdin instead of INPUT
 *   pre=PATH   removed before each of its sessions, not timed (e.g. the
 *              trigger the previous session left, so that each writes one)
 *   env=K=V    added to its environment
 *   copy=PATH  another copy of CMD's file (at most MAXCOPY): the command's
 *              sessions run CMD and its copies in turn. Where the page
 *              cache and the machine put one copy's pages is that copy's
 *              luck: six install(1) copies of one static etrnd differed by
 *              up to 40 us a session (3%), so one copy is one sample.
 *   talk       a client as RFC 2920 has it, over pipes: after EHLO or HELO
 *              it waits for the reply (EHLO is the last command of a
 *              group); the rest goes as one group, and the client reads
 *              until EOF. Without it, the whole of INPUT is stdin at once
 *              (Sendmail refuses that: "554 5.5.0 SMTP protocol error").
 * Prints one line per command: NAME median_us p10_us p90_us sessions
 * failures, then the median of each round (for ratios per round); then the
 * same of the CPU time the session's process used (user + system, from
 * wait4: what it cost, without the time it waited for a CPU on a busy
 * machine), as a line NAME.cpu. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXCMD 16
#define MAXENV 8
#define MAXCOPY 8

struct cmd {
	const char *name, *input, *pre;
	int talk;
	char *script; /* talk: the input, read once */
	size_t script_len;
	char **argv;
	char *exe[MAXCOPY + 1]; /* argv[0] and its copies, taken in turn */
	int nexe, runs;
	char **envp;
	double *us, *cpu;
	int n, failures;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values. */
static double quantile(const double *v, int n, double q)
{
	return n ? v[(int)(q * (n - 1) + 0.5)] : 0;
}

static double tv_us(const struct timeval *tv)
{
	return tv->tv_sec * 1e6 + tv->tv_usec;
}

/* Waits for the session's process: its wall and CPU time. */
static void reap(struct cmd *c, pid_t pid, int *st, double t0)
{
	struct rusage ru;
	while (wait4(pid, st, 0, &ru) < 0)
		if (errno != EINTR)
			exit(111);
	c->us[c->n] = now_us() - t0;
	c->cpu[c->n++] = tv_us(&ru.ru_utime) + tv_us(&ru.ru_stime);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Final reply lines ("NNN " at a line start) in buf[0..n). */
static int finals(const char *buf, size_t n)
{
	int k = 0;
	for (size_t i = 0; i + 3 < n; i++)
		if ((i == 0 || buf[i - 1] == '\n') && buf[i] >= '2' && buf[i] <= '5' &&
		    buf[i + 3] == ' ')
			k++;
	return k;
}

/* The client's side of a talk session: 0, or -1 when the server did not
 * answer as a server must. */
static int converse(struct cmd *c, int *to, int from)
{
	char buf[65536];
	size_t got = 0, pos = 0;
	int sent = 0; /* commands sent; the greeting makes one reply more */

	while (pos < c->script_len) {
		size_t end = pos;
		int wait = 0;
		while (end < c->script_len && !wait) { /* one group */
			const char *l = c->script + end, *nl = memchr(l, '\n', c->script_len - end);
			end = nl ? (size_t)(nl - c->script) + 1 : c->script_len;
			wait = strncasecmp(l, "EHLO", 4) == 0 || strncasecmp(l, "HELO", 4) == 0;
			sent++;
		}
		if (write_all(*to, c->script + pos, end - pos) < 0)
			return -1;
		pos = end;
		while (wait && finals(buf, got) < sent + 1) {
			ssize_t r = read(from, buf + got, sizeof buf - got);
			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
	}
	close(*to); /* the end of the input, as a client that is done */
	*to = -1;
	ssize_t r;
	while ((r = read(from, buf + got, sizeof buf - got)) > 0)
		got += (size_t)r;
	return finals(buf, got) == sent + 1 ? 0 : -1;
}

/* The file this session runs: the command's own or a copy, in turn. */
static const char *exe(struct cmd *c)
{
	return c->exe[c->runs++ % c->nexe];
}

static void run_talk(struct cmd *c)
{
	posix_spawn_file_actions_t fa;
	int in[2], out[2], st, ok;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		exit(111);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	double t0 = now_us();
	int rc = posix_spawn(&pid, exe(c), &fa, NULL, c->argv, c->envp);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		c->failures++;
		return;
	}
	ok = converse(c, &in[1], out[0]) == 0;
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
	reap(c, pid, &st, t0);
	if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		c->failures++;
}

static void run_one(struct cmd *c)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	if (c->pre && unlink(c->pre) < 0 && errno != ENOENT) {
		c->failures++;
		return;
	}
	if (c->talk) {
		run_talk(c);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, c->input, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	double t0 = now_us();
	if (posix_spawn(&pid, exe(c), &fa, NULL, c->argv, c->envp) != 0) {
		c->failures++;
		posix_spawn_file_actions_destroy(&fa);
		return;
	}
	reap(c, pid, &st, t0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		c->failures++;
	posix_spawn_file_actions_destroy(&fa);
}

static int read_script(struct cmd *c)
{
	static char buf[65536];
	int fd = open(c->input, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || (size_t)n == sizeof buf || !(c->script = malloc((size_t)n)))
		return -1;
	memcpy(c->script, buf, (size_t)n);
	c->script_len = (size_t)n;
	return 0;
}

/* A new order of v[0..n) (Fisher-Yates; a 64-bit LCG, Knuth's MMIX). */
static void shuffle(int *v, int n, uint64_t *seed)
{
	for (int i = n - 1; i > 0; i--) {
		*seed = *seed * 6364136223846793005u + 1442695040888963407u;
		int j = (int)((*seed >> 33) % (uint64_t)(i + 1));
		int t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/* environ plus the env= options. */
static char **environment(char **extra, int nextra)
{
	int n = 0;
	while (environ[n])
		n++;
	char **e = calloc((size_t)(n + nextra + 1), sizeof *e);
	if (!e)
		exit(111);
	memcpy(e, environ, (size_t)n * sizeof *e);
	memcpy(e + n, extra, (size_t)nextra * sizeof *e);
	return e;
}

/* A usage error: the reason on stderr, exit 100. */
static int usage(const char *why)
{
	fprintf(stderr, "sessions: %s\n", why);
	return 100;
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAXCMD];
	int ncmd = 0;

	if (argc < 7)
		return usage("usage: sessions ROUNDS PER INPUT NAME [OPT...] CMD ARGS :: ...");
	signal(SIGPIPE, SIG_IGN); /* a server gone early is a failure, not our end */
	int rounds = atoi(argv[1]), per = atoi(argv[2]);
	if (rounds < 1 || per < 1)
		return usage("ROUNDS and PER must be at least 1");
	for (int i = 4; i < argc;) {
		if (ncmd == MAXCMD)
			return usage("more than MAXCMD (16) commands");
		struct cmd *c = &cmds[ncmd++];
		char *extra[MAXENV];
		int nextra = 0;
		memset(c, 0, sizeof *c);
		c->name = argv[i++];
		c->input = argv[3];
		for (; i < argc; i++) {
			if (strncmp(argv[i], "in=", 3) == 0)
				c->input = argv[i] + 3;
			else if (strncmp(argv[i], "pre=", 4) == 0)
				c->pre = argv[i] + 4;
			else if (strncmp(argv[i], "env=", 4) == 0) {
				if (nextra == MAXENV)
					return usage("more than MAXENV (8) env= for one command");
				extra[nextra++] = argv[i] + 4;
			} else if (strncmp(argv[i], "copy=", 5) == 0) {
				if (c->nexe == MAXCOPY)
					return usage("more than MAXCOPY (8) copy= for one command");
				c->exe[++c->nexe] = argv[i] + 5;
			} else if (strcmp(argv[i], "talk") == 0)
				c->talk = 1;
			else
				break;
		}
		c->argv = argv + i;
		c->exe[0] = argv[i];
		c->nexe++;
		int j = i;
		while (j < argc && strcmp(argv[j], "::") != 0)
			j++;
		if (j == i)
			return usage("a command name without a command");
		argv[j] = NULL; /* argv[argc] is NULL already */
		i = j + 1;
		c->envp = environment(extra, nextra);
		if (c->talk && read_script(c) < 0)
			return 111;
		c->us = calloc((size_t)rounds * (size_t)per, sizeof *c->us);
		c->cpu = calloc((size_t)rounds * (size_t)per, sizeof *c->cpu);
		if (!c->us || !c->cpu)
			return 111;
	}
	int order[MAXCMD];
	uint64_t seed = 1;
	for (int k = 0; k < ncmd; k++)
		order[k] = k;
	for (int r = 0; r < rounds; r++)
		for (int s = 0; s < per; s++) {
			shuffle(order, ncmd, &seed);
			for (int k = 0; k < ncmd; k++)
				run_one(&cmds[order[k]]);
		}
	double *tmp = calloc((size_t)per, sizeof *tmp), *rm = calloc((size_t)rounds, sizeof *rm);
	if (!tmp || !rm)
		return 111;
	for (int k = 0; k < ncmd; k++)
		for (int cpu = 0; cpu < 2; cpu++) {
			struct cmd *c = &cmds[k];
			double *v = cpu ? c->cpu : c->us;
			int whole = c->n == rounds * per; /* no spawn failed: rounds are intact */
			for (int r = 0; whole && r < rounds; r++) {
				memcpy(tmp, v + (size_t)r * (size_t)per, (size_t)per * sizeof *tmp);
				qsort(tmp, (size_t)per, sizeof *tmp, cmpd);
				rm[r] = quantile(tmp, per, 0.5);
			}
			qsort(v, (size_t)c->n, sizeof *v, cmpd);
			printf("%s%s %.1f %.1f %.1f %d %d", c->name, cpu ? ".cpu" : "",
			       quantile(v, c->n, 0.5), quantile(v, c->n, 0.1),
			       quantile(v, c->n, 0.9), c->n, c->failures);
			for (int r = 0; whole && r < rounds; r++)
				printf(" %.1f", rm[r]);
			printf("\n");
		}
	free(rm);
	free(tmp);
	return 0;
}
