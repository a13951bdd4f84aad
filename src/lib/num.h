/* SPDX-License-Identifier: ISC */
/* num.h: the one checked decimal number parser. Digits only: no sign, no
 * blanks, no base prefix; overflow and range are errors, never clamped. */
#ifndef ETRND_NUM_H
#define ETRND_NUM_H

#include <stddef.h>

/* s[0..len) as a number in [min, max]: 0 and *out, or -1. */
int num_parse(const char *s, size_t len, unsigned long long min, unsigned long long max,
	      unsigned long long *out);
/* The same for a NUL-terminated string into a long (command-line flags). */
int num_arg(const char *s, long min, long max, long *out);

#endif
