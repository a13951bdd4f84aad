/* SPDX-License-Identifier: ISC */
/* Counting held messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "testutil.h"

static void files(const char *where, int n)
{
	char name[32], dir[4096];
	snprintf(dir, sizeof dir, "%s", where);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "m%d", i);
		tu_write(tu_path(dir, name), "x");
	}
}

Test(spool, plain_directory)
{
	char *d = tu_tmpdir();
	cr_assert_eq(spool_count(d, 100), 0);
	files(d, 5);
	tu_write(tu_path(d, ".hidden"), "x");
	mkdir(tu_path(d, "subdir"), 0755);
	cr_assert_eq(symlink("m1", tu_path(d, "link")), 0);
	cr_assert_eq(spool_count(d, 100), 5);
	cr_assert_eq(spool_count(d, 3), 4, "stops at cap + 1");
	tu_rmtree(d);
}

Test(spool, maildir_counts_new_and_cur)
{
	char *d = tu_tmpdir();
	mkdir(tu_path(d, "new"), 0755);
	mkdir(tu_path(d, "cur"), 0755);
	mkdir(tu_path(d, "tmp"), 0755);
	files(tu_path(d, "new"), 3);
	files(tu_path(d, "cur"), 4);
	files(tu_path(d, "tmp"), 9);
	cr_assert_eq(spool_count(d, 100), 7);
	tu_rmtree(d);
}

Test(spool, unreadable)
{
	char *d = tu_tmpdir();
	cr_assert_eq(spool_count(tu_path(d, "nothere"), 100), -1);
	tu_write(tu_path(d, "file"), "x");
	cr_assert_eq(spool_count(tu_path(d, "file"), 100), -1);
	tu_rmtree(d);
}
