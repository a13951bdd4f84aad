/* SPDX-License-Identifier: ISC */
/* num.c: see num.h. Every number etrnd reads (flags, rules, trigger files,
 * CIDR prefixes, SMTP reply codes) goes through num_parse(). */
#include "num.h"

#include <string.h>

int num_parse(const char *s, size_t len, unsigned long long min, unsigned long long max,
	      unsigned long long *out)
{
	unsigned long long v = 0;

	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > max / 10 || (v == max / 10 && d > max % 10))
			return -1; /* beyond max (and so beyond the type) */
		v = v * 10 + d;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

int num_arg(const char *s, long min, long max, long *out)
{
	unsigned long long v;

	if (min < 0 || max < min ||
	    num_parse(s, strlen(s), (unsigned long long)min, (unsigned long long)max, &v) < 0)
		return -1;
	*out = (long)v;
	return 0;
}
