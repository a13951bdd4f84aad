/* SPDX-License-Identifier: ISC */
/* sessions ROUNDS PER_ROUND INPUT NAME -- CMD ARGS [NAME -- CMD ARGS ...]
 *
 * Runs each command PER_ROUND times per round, the commands interleaved
 * round by round (so drift on a shared machine hits them all alike), each
 * session with stdin from INPUT and stdout/stderr to /dev/null. Prints one
 * line per command: NAME median_us p10_us p90_us sessions failures. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
	const char *name;
	char **argv;
	double *us;
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

static void run_one(struct cmd *c, const char *input)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, input, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	double t0 = now_us();
	if (posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ) != 0) {
		c->failures++;
		posix_spawn_file_actions_destroy(&fa);
		return;
	}
	waitpid(pid, &st, 0);
	c->us[c->n++] = now_us() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		c->failures++;
	posix_spawn_file_actions_destroy(&fa);
}

int main(int argc, char **argv)
{
	struct cmd cmds[16];
	int ncmd = 0;

	if (argc < 6)
		return 100;
	int rounds = atoi(argv[1]), per = atoi(argv[2]);
	const char *input = argv[3];
	for (int i = 4; i < argc && ncmd < 16;) {
		struct cmd *c = &cmds[ncmd++];
		c->name = argv[i];
		c->argv = argv + i + 1;
		int j = i + 1;
		while (j < argc && strcmp(argv[j], "::") != 0)
			j++;
		if (j == i + 1)
			return 100;
		argv[j] = NULL; /* argv[argc] is NULL already */
		i = j + 1;
		c->us = calloc((size_t)rounds * (size_t)per, sizeof *c->us);
		c->n = c->failures = 0;
	}
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < ncmd; k++)
			for (int s = 0; s < per; s++)
				run_one(&cmds[k], input);
	for (int k = 0; k < ncmd; k++) {
		struct cmd *c = &cmds[k];
		qsort(c->us, (size_t)c->n, sizeof *c->us, cmpd);
		printf("%s %.1f %.1f %.1f %d %d\n", c->name, c->n ? c->us[c->n / 2] : 0,
		       c->n ? c->us[c->n / 10] : 0, c->n ? c->us[c->n * 9 / 10] : 0, c->n,
		       c->failures);
	}
	return 0;
}
