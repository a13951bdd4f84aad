/* SPDX-License-Identifier: ISC */
/* fsutil.h: small file-system helpers for durable, atomic writes. */
#ifndef ETRND_FSUTIL_H
#define ETRND_FSUTIL_H

#include <stddef.h>

/* fsync() a directory so that a rename into it survives a crash. */
int fsync_dir(const char *dir);
/* The directory part of path ("." when there is none); -1 if too long. */
int dir_of(const char *path, char *out, size_t size);
/* write() all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* renameat() that never replaces: -1 with EEXIST when the target exists.
 * renameat2(RENAME_NOREPLACE), or link+unlink where the file system or
 * kernel lacks it. */
int rename_noreplace(int fromdir, const char *from, int todir, const char *to);
/* Removes the files (not directories, not dot-files) of dirfd last changed
 * before now_s - max_age_s: a crashed writer's temp files, as maildir
 * readers do. Returns how many, or -1 if the directory cannot be read. */
int remove_stale(int dirfd, long long now_s, long max_age_s);

#endif
