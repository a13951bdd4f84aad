/* SPDX-License-Identifier: ISC */
/* spool.c: counting the messages held for a node (spool= directory or
 * maildir), capped, for the 251/252/253 replies. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_file(int dfd, const struct dirent *d)
{
	struct stat st;

	if (d->d_name[0] == '.')
		return 0;
	if (d->d_type == DT_REG)
		return 1;
	if (d->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Adds the files of dir (relative to at) to *count, up to limit. */
static int count_dir(int at, const char *dir, long *count, long limit)
{
	int fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	errno = 0;
	while (*count < limit && (e = readdir(d)) != NULL)
		if (is_file(fd, e))
			(*count)++;
	int rc = errno ? -1 : 0;
	closedir(d);
	return rc;
}

long spool_count(const char *dir, long cap)
{
	struct stat st;
	long count = 0;

	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc;
	if (fstatat(fd, "new", &st, 0) == 0 && S_ISDIR(st.st_mode)) {
		rc = count_dir(fd, "new", &count, cap + 1);
		if (rc == 0 && count_dir(fd, "cur", &count, cap + 1) < 0 && errno != ENOENT)
			rc = -1; /* a maildir without cur/ just has nothing there */
	} else {
		rc = count_dir(fd, ".", &count, cap + 1);
	}
	int e = errno;
	close(fd);
	errno = e;
	return rc < 0 ? -1 : count;
}
