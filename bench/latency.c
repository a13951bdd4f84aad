/* SPDX-License-Identifier: ISC */
/* latency QUEUEDIR STAMPFILE N [GAP_MS]: writes N triggers for lat.example
 * the way etrnd does (tmp/ -> new/, the fsync of new/, then the FIFO byte),
 * each once the previous run is over (its claimed trigger gone from cur/)
 * and, with GAP_MS, that many milliseconds later: ETRNs that come back to
 * back meet the runner's limit on FIFO-driven rescans (RUNNER_POKE_GAP_MS),
 * spaced ones do not. Prints the median, p99 and maximum milliseconds from
 * the FIFO byte to the command's first instruction (bench/stamp). Every
 * wait for the runner is on an event, looked at every 100 us, and bounded
 * (5 s); GAP_MS is the workload's pace, not a wait for anything. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trigger.h"

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The last stamp in the file once it has n lines, or -1 after 5 s. */
static long long stamp(const char *path, int n)
{
	for (int tries = 0; tries < 50000; tries++) {
		FILE *f = fopen(path, "r");
		long long v = -1, x;
		int lines = 0;
		while (f && fscanf(f, "%lld", &x) == 1)
			v = x, lines++;
		if (f)
			fclose(f);
		if (lines >= n)
			return v;
		usleep(100);
	}
	return -1;
}

/* 0 once QUEUEDIR/cur is empty (the run is over), -1 after 5 s. */
static int run_over(const char *queue)
{
	char cur[4096];
	snprintf(cur, sizeof cur, "%s/cur", queue);
	for (int tries = 0; tries < 50000; tries++) {
		DIR *d = opendir(cur);
		const struct dirent *e;
		int n = 0;
		while (d && (e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		if (d)
			closedir(d);
		if (d && n == 0)
			return 0;
		usleep(100);
	}
	return -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		return 100;
	int n = atoi(argv[3]);
	long gap_ms = argc == 5 ? atol(argv[4]) : 0;
	const struct timespec gap = {gap_ms / 1000, gap_ms % 1000 * 1000000};
	double *ms = calloc((size_t)n, sizeof *ms);
	char uniq[64];
	struct trigger t = {.version = TRIGGER_VERSION, .pid = (long)getpid()};
	struct trigger_dirs q;
	trigger_dirs_init(&q, open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (q.queue < 0 || !ms)
		return 111;

	snprintf(t.node, sizeof t.node, "lat.example");
	snprintf(t.rule, sizeof t.rule, "lat.example");
	snprintf(t.client, sizeof t.client, "127.0.0.1");
	snprintf(t.user, sizeof t.user, "-");

	for (int i = 0; i < n; i++) {
		if (gap_ms > 0)
			nanosleep(&gap, NULL);
		snprintf(uniq, sizeof uniq, "bench.%d.%d", (int)getpid(), i);
		t.time = time(NULL);
		if (trigger_write(&q, uniq, &t, 0) < 0)
			return 111;
		long long t0 = now_ns();
		trigger_poke(&q);
		long long t1 = stamp(argv[2], i + 1);
		if (t1 < 0)
			return 111;
		ms[i] = (t1 - t0) / 1e6;
		if (run_over(argv[1]) < 0)
			return 111;
	}
	qsort(ms, (size_t)n, sizeof *ms, cmp);
	printf("%.3f %.3f %.3f\n", ms[n / 2], ms[n * 99 / 100], ms[n - 1]);
	return 0;
}
