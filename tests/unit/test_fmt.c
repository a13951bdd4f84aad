/* SPDX-License-Identifier: ISC */
/* fmt: the printf subset of replies and log lines says what snprintf
 * would, cut to fit the same way. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

/* Cutting to fit is what is tested here. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* fmt_v without the compiler's format check, for a malformed format. */
static size_t unchecked(char *out, size_t size, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	size_t n = fmt_v(out, size, format, ap);
	va_end(ap);
	return n;
}

/* fmt and snprintf side by side, in buffers of every size up to 40. */
#define SAME(...)                                                                            \
	do {                                                                                 \
		for (size_t size = 1; size <= 40; size++) {                                  \
			char a[41], b[41];                                                   \
			memset(a, 'x', sizeof a);                                            \
			size_t n = fmt(a, size, __VA_ARGS__);                                \
			int m = snprintf(b, size, __VA_ARGS__);                              \
			cr_assert_str_eq(a, b, "size %zu", size);                            \
			cr_assert_eq(n, (size_t)m < size ? (size_t)m : size - 1, "size %zu", \
				     size);                                                  \
		}                                                                            \
	} while (0)

Test(fmt, matches_snprintf_for_its_conversions)
{
	SAME("220 %s ESMTP", "mx.example");
	SAME("253 2.0.0 OK, %lu pending messages for node %s started", 12345UL, "a.example");
	SAME("501 5.5.4 Syntax: ATRN domain[,domain...] (at most %d)", 16);
	SAME("%s[%ld]: %s", "etrnd", 4242L, "etrn client=192.0.2.1");
	SAME("%d %d %ld %ld %lu", INT_MIN, INT_MAX, LONG_MIN, LONG_MAX, ULONG_MAX);
	SAME("100%% %s", "");
	SAME("%s", "");
	SAME("no conversion at all");
}

Test(fmt, a_conversion_it_does_not_know_is_copied_as_it_stands)
{
	char out[32];
	size_t n = unchecked(out, sizeof out, "a%");
	cr_assert_str_eq(out, "a%");
	cr_assert_eq(n, 2);
	n = unchecked(out, sizeof out, "%x%zu|%s", "b");
	cr_assert_str_eq(out, "%x%zu|b");
	cr_assert_eq(n, 7);
	n = unchecked(out, sizeof out, "%q");
	cr_assert_str_eq(out, "%q");
	cr_assert_eq(n, 2);
}

Test(fmt, size_zero_stores_nothing)
{
	char out[4] = "abc";
	cr_assert_eq(fmt(out, 0, "%s", "long"), 0);
	cr_assert_str_eq(out, "abc");
}

Test(fmt, numbers_are_zero_padded_to_a_width)
{
	char d[FMT_NUM_MAX + 1];
	size_t n = fmt_num(d, 42, 9);
	d[n] = '\0';
	cr_assert_str_eq(d, "000000042");
	n = fmt_num(d, LLONG_MIN, 1);
	d[n] = '\0';
	cr_assert_str_eq(d, "-9223372036854775808");
	n = fmt_num(d, 7, 99); /* the width is capped to what fits */
	cr_assert_eq(n, FMT_NUM_MAX - 1);
}
