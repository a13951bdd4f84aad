/* SPDX-License-Identifier: ISC */
#ifndef ETRND_CLOCK_H
#define ETRND_CLOCK_H

#include <time.h>

/* clock_gettime() by the system call itself, not through the vDSO. */
void clock_read(clockid_t id, struct timespec *ts);

#endif
