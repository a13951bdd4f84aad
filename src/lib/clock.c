/* SPDX-License-Identifier: ISC */
/* clock.c: the time of a short-lived process.
 * The vDSO's clock_gettime() reads the kernel's clock pages, and its first
 * call maps them into the process (vvar and, on a KVM guest, the
 * paravirtual clock's page): page faults that cost an etrnd session about
 * 45 us on make bench's machine (paired runs: doc/DECISIONS). etrnd reads
 * the clock five times a session, each system call one to a few microseconds
 * there, so it asks the kernel. Long-lived programs (the runner)
 * keep libc's clock_gettime(). */
#include "clock.h"

#include <sys/syscall.h>
#include <unistd.h>

void clock_read(clockid_t id, struct timespec *ts)
{
	if (syscall(SYS_clock_gettime, id, ts) != 0) /* only EINVAL/EFAULT: a bug */
		ts->tv_sec = 0, ts->tv_nsec = 0;
}
