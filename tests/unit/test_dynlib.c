/* SPDX-License-Identifier: ISC */
/* dynlib: a library opened once per process, by name, and what it says
 * when a library or a function is missing, or too many are asked for. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "dynlib.h"

/* A static build opens nothing at run time (dynlib.h). */
#ifdef ETRND_STATIC
#define NOT_STATIC .disabled = 1
#else
#define NOT_STATIC .disabled = 0
#endif

Test(dynlib, a_function_is_found_and_the_library_opened_once, NOT_STATIC)
{
	void *fn = NULL, *again = NULL;
	const struct dynsym syms[] = {{"strlen", &fn}};
	char err[200] = "";
	cr_assert_eq(dynlib_open("libc.so.6", syms, 1, err, sizeof err), 0, "%s", err);
	cr_assert_not_null(fn);
	/* libc's own strlen: under ASan, not the address the program calls */
	size_t (*len)(const char *) = (size_t(*)(const char *))fn;
	cr_assert_eq(len("four"), 4);
	/* the second call does not look again: its slot stays as it was */
	const struct dynsym later[] = {{"strlen", &again}};
	cr_assert_eq(dynlib_open("libc.so.6", later, 1, err, sizeof err), 0);
	cr_assert_null(again);
}

Test(dynlib, a_missing_library_or_function_says_which_every_time, NOT_STATIC)
{
	void *fn = NULL;
	const struct dynsym syms[] = {{"strlen", &fn}};
	char err[200] = "";
	for (int i = 0; i < 2; i++) {
		err[0] = '\0';
		cr_assert_eq(dynlib_open("libetrnd-no-such-library.so.0", syms, 1, err, sizeof err),
			     -1);
		cr_expect(strstr(err, "libetrnd-no-such-library.so.0"), "%s", err);
	}
	const struct dynsym none[] = {{"etrnd_no_such_function", &fn}};
	cr_assert_eq(dynlib_open("libm.so.6", none, 1, err, sizeof err), -1);
	cr_expect_str_eq(err, "libm.so.6: no etrnd_no_such_function");
}

Test(dynlib, more_libraries_than_the_limit_are_refused, NOT_STATIC)
{
	void *fn = NULL;
	const struct dynsym syms[] = {{"strlen", &fn}};
	char name[64], err[200] = "";
	for (int i = 0; i < DYNLIB_MAX; i++) {
		snprintf(name, sizeof name, "libetrnd-missing-%d.so", i);
		char *kept = strdup(name); /* dynlib keeps the name */
		cr_assert_eq(dynlib_open(kept, syms, 1, err, sizeof err), -1);
	}
	cr_assert_eq(dynlib_open("libc.so.6", syms, 1, err, sizeof err), -1);
	char want[64];
	snprintf(want, sizeof want, "more than %d libraries", DYNLIB_MAX);
	cr_expect(strstr(err, want), "%s", err);
}
