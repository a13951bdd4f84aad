/* SPDX-License-Identifier: ISC */
/* spool.c: counting the messages held for a node (spool= directory or
 * maildir), capped, for the 251/252/253 replies.
 *
 * The count reads the directory with getdents64(2) straight into one
 * buffer and looks at nothing but each entry's name and d_type: no DIR
 * allocation, no call per entry, no system call per entry on a file system
 * that fills in d_type. What is left is the kernel's own readdir (make
 * bench, BENCHMARKS.md "spool counting"). */
#include "spool.h"
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* One getdents64() reads up to this much: about 170 maildir names of 70
 * octets. Each page of the buffer the kernel fills is a page fault, dearer
 * than a system call: a spool of 10,000 files took 12 faults and 170 us
 * more with 64 KiB than with 16 KiB (paired runs), and 8 KiB saved no more
 * faults than it cost in calls. */
#define DIRBUF ((size_t)16 * 1024)

/* 1 for a message, 0 for anything else: a dot-file, not a regular file,
 * or a file gone since the directory was read (the MTA delivered or
 * removed it meanwhile: it is not waiting). -1 when it cannot be told.
 * d_type is DT_UNKNOWN on some file systems (XFS without ftype, many FUSE
 * ones): then it takes an fstatat(), which is where a concurrent removal
 * shows. */
static int is_message(int dfd, const char *name, unsigned char type)
{
	struct stat st;

	if (name[0] == '.')
		return 0;
	if (type != DT_UNKNOWN)
		return type == DT_REG;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISREG(st.st_mode);
	return errno == ENOENT ? 0 : -1;
}

/* Counts the records getdents64() left in buf (glibc's struct dirent64
 * is the kernel's linux_dirent64). */
static int count_buf(int fd, const char *buf, size_t len, long *count, long limit)
{
	for (size_t pos = 0; pos < len && *count < limit;) {
		const struct dirent64 *d = (const struct dirent64 *)(const void *)(buf + pos);
		int m = is_message(fd, d->d_name, d->d_type);
		if (m < 0)
			return -1;
		*count += m;
		pos += d->d_reclen;
	}
	return 0;
}

/* Adds the messages in dir (relative to at) to *count, up to limit. */
static int count_dir(int at, const char *dir, char *buf, long *count, long limit)
{
	int fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	int rc = 0;
	while (rc == 0 && *count < limit) {
		ssize_t n = getdents64(fd, buf, DIRBUF);
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		rc = count_buf(fd, buf, (size_t)n, count, limit);
	}
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

long spool_count(const char *dir, long cap)
{
	/* Static, not on the stack: a 16 KiB frame would be probed page by
	 * page (-fstack-clash-protection); only the pages the kernel fills
	 * are ever touched here. One count at a time per process. */
	static _Alignas(struct dirent64) char buf[DIRBUF];
	struct stat st;
	long count = 0;

	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc;
	const char *new = maildir_sub_name(MD_NEW), *cur = maildir_sub_name(MD_CUR);
	if (fstatat(fd, new, &st, 0) == 0 && S_ISDIR(st.st_mode)) {
		rc = count_dir(fd, new, buf, &count, cap + 1);
		if (rc == 0 && count_dir(fd, cur, buf, &count, cap + 1) < 0 && errno != ENOENT)
			rc = -1; /* a maildir without cur/ just has nothing there */
	} else {
		rc = count_dir(fd, ".", buf, &count, cap + 1);
	}
	int e = errno;
	close(fd);
	errno = e;
	return rc < 0 ? -1 : count;
}
