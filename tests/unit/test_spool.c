/* SPDX-License-Identifier: ISC */
/* Counting held messages. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "testutil.h"

/* Forces the paths a local disk never takes. While armed, getdents64()
 * (this definition is the one spool.c gets: the tests are one executable)
 * says DT_UNKNOWN for every entry, as XFS without ftype or a FUSE file
 * system does, and removes each entry named gone* just before returning
 * it, as an MTA delivering held mail during the count would. Unarmed, it
 * is libc's getdents64(). */
static int armed;

ssize_t getdents64(int fd, void *buf, size_t size)
{
	static ssize_t (*real)(int, void *, size_t);
	if (!real)
		real = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "getdents64");
	ssize_t n = real(fd, buf, size);
	for (ssize_t pos = 0; armed && pos < n;) {
		struct dirent64 *e = (struct dirent64 *)((char *)buf + pos);
		e->d_type = DT_UNKNOWN;
		if (strncmp(e->d_name, "gone", 4) == 0)
			cr_assert_eq(unlinkat(fd, e->d_name, 0), 0);
		pos += e->d_reclen;
	}
	return n;
}

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

Test(spool, unknown_file_types_are_looked_up)
{
	char *d = tu_tmpdir();
	files(d, 5);
	tu_write(tu_path(d, ".hidden"), "x");
	mkdir(tu_path(d, "subdir"), 0755);
	cr_assert_eq(symlink("m1", tu_path(d, "link")), 0);
	cr_assert_eq(mkfifo(tu_path(d, "fifo"), 0600), 0);
	armed = 1;
	cr_assert_eq(spool_count(d, 100), 5);
	cr_assert_eq(spool_count(d, 3), 4, "stops at cap + 1");
	armed = 0;
	tu_rmtree(d);
}

/* A message delivered by the MTA between readdir() and the file-type
 * check was counted as an error: 253 became 250 "spool-unreadable". */
Test(spool, files_removed_during_the_count_are_not_an_error)
{
	char *d = tu_tmpdir();
	files(d, 5);
	tu_write(tu_path(d, "gone1"), "x");
	tu_write(tu_path(d, "gone2"), "x");
	armed = 1;
	errno = 0;
	cr_assert_eq(spool_count(d, 100), 5);
	cr_assert_eq(tu_count(d), 5, "the gone* files were really removed mid-count");
	armed = 0;
	tu_rmtree(d);

	d = tu_tmpdir(); /* a maildir: a removal in new/ must not stop cur/ */
	mkdir(tu_path(d, "new"), 0755);
	mkdir(tu_path(d, "cur"), 0755);
	files(tu_path(d, "new"), 2);
	files(tu_path(d, "cur"), 3);
	tu_write(tu_path(d, "new/gone"), "x");
	armed = 1;
	cr_assert_eq(spool_count(d, 100), 5);
	armed = 0;
	tu_rmtree(d);
}
