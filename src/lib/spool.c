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

/* 1 for a message, 0 for anything else: a dot-file, not a regular file,
 * or a file gone since readdir() listed it (the MTA delivered or removed
 * it meanwhile: it is not waiting). -1 when it cannot be told. d_type is
 * DT_UNKNOWN on some file systems (XFS without ftype, many FUSE ones):
 * then it takes an fstatat(), which is where a concurrent removal shows. */
static int is_message(int dfd, const struct dirent *d)
{
	struct stat st;

	if (d->d_name[0] == '.')
		return 0;
	if (d->d_type != DT_UNKNOWN)
		return d->d_type == DT_REG;
	if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISREG(st.st_mode);
	return errno == ENOENT ? 0 : -1;
}

/* Adds the messages in dir (relative to at) to *count, up to limit. errno
 * is cleared before every readdir(): only its own failure may be taken for
 * an error, not one left over from an earlier call. */
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
	int rc = 0;
	while (rc == 0 && *count < limit) {
		errno = 0;
		const struct dirent *e = readdir(d);
		if (!e) {
			rc = errno ? -1 : 0;
			break;
		}
		int m = is_message(fd, e);
		if (m < 0)
			rc = -1;
		else
			*count += m;
	}
	int e = errno;
	closedir(d);
	errno = e;
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
