/* SPDX-License-Identifier: ISC */
/* spoolscan REPS DIR...: the cost of counting each spool DIR alone, with
 * etrnd's own spool_count() (cap SPOOL_SCAN_CAP), the DIRs taking turns.
 * Prints per DIR: the count, then the median, p10 and p90 microseconds of
 * one count, and its mean user and system time (getrusage). make bench compares it with a whole session: what the
 * kernel's readdir leaves for etrnd to improve. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "bounds.h"
#include "spool.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(const struct timeval *tv)
{
	return tv->tv_sec * 1e6 + tv->tv_usec;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 100;
	int reps = atoi(argv[1]), ndir = argc - 2;
	if (reps < 1)
		return 100;
	double *us = calloc((size_t)reps * (size_t)ndir, sizeof *us);
	long *count = calloc((size_t)ndir, sizeof *count);
	double *user = calloc((size_t)ndir, sizeof *user), *sys = calloc((size_t)ndir, sizeof *sys);
	if (!us || !count || !user || !sys)
		return 111;
	for (int r = 0; r < reps; r++)
		for (int d = 0; d < ndir; d++) {
			struct rusage a, b;
			getrusage(RUSAGE_SELF, &a);
			double t0 = now_us();
			count[d] = spool_count(argv[2 + d], SPOOL_SCAN_CAP);
			us[d * reps + r] = now_us() - t0;
			getrusage(RUSAGE_SELF, &b);
			user[d] += cpu_us(&b.ru_utime) - cpu_us(&a.ru_utime);
			sys[d] += cpu_us(&b.ru_stime) - cpu_us(&a.ru_stime);
			if (count[d] < 0)
				return 111;
		}
	for (int d = 0; d < ndir; d++) {
		double *v = us + d * reps;
		qsort(v, (size_t)reps, sizeof *v, cmpd);
		printf("%s %ld %.1f %.1f %.1f %.1f %.1f\n", argv[2 + d], count[d], v[reps / 2],
		       v[reps / 10], v[reps * 9 / 10], user[d] / reps, sys[d] / reps);
	}
	return 0;
}
