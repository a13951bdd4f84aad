/* SPDX-License-Identifier: ISC */
/* fsutil.c: the file-system steps every writer here shares (write all,
 * fsync a directory, rename without replacing, removing stale temp files);
 * see fsutil.h. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int dir_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		if (size < 2)
			return -1;
		out[0] = '.';
		out[1] = '\0';
		return 0;
	}
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -1;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int rename_noreplace(int fromdir, const char *from, int todir, const char *to)
{
#ifdef SYS_renameat2
	if (syscall(SYS_renameat2, fromdir, from, todir, to, 1 /* RENAME_NOREPLACE */) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -1;
#endif
	if (linkat(fromdir, from, todir, to, 0) < 0)
		return -1;
	unlinkat(fromdir, from, 0);
	return 0;
}

int remove_stale(int dirfd, long long now_s, long max_age_s)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	struct stat st;
	int removed = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode) && (long long)st.st_mtime < now_s - max_age_s &&
		    unlinkat(dirfd, e->d_name, 0) == 0)
			removed++;
	closedir(d);
	return removed;
}
