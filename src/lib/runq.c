/* SPDX-License-Identifier: ISC */
/* runq.c: see runq.h. The queue may be writable by etrnd's user, who can
 * plant anything in tmp/ and new/: every open here is O_NOFOLLOW and
 * O_NONBLOCK and checks the type of what it opened. */
#include "runq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "fsutil.h"

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
#define FILEFLAGS (O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

static int sub(struct runq *q, const struct queue_dir *d)
{
	if (d->runner_creates && mkdirat(q->qfd, d->name, 0750) < 0 && errno != EEXIST)
		return -1;
	return openat(q->qfd, d->name, DIRFLAGS);
}

/* A directory only the runner may write: anyone else who can could plant
 * files (a FIFO in last/, a link in cur/) or swap entries under it. */
static int runner_owned(int fd, char *why, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	snprintf(why, size,
		 "writable by others than the runner's user (uid %ld): owner uid %ld, mode %04o",
		 (long)geteuid(), (long)st.st_uid, (unsigned)(st.st_mode & 07777));
	return -1;
}

/* The FIFO is mode QUEUE_FIFO_MODE, set explicitly: mkfifo() obeys the
 * umask, and etrnd runs as another user who must be able to write it. We
 * hold a writer open too, so the reader never sees end-of-file when etrnd
 * closes its end. */
static int open_fifo(struct runq *q)
{
	struct stat st;

	if (mkfifoat(q->qfd, QUEUE_FIFO, QUEUE_FIFO_MODE) < 0 && errno != EEXIST)
		return -1;
	q->fifo_rd = openat(q->qfd, QUEUE_FIFO, O_RDONLY | FILEFLAGS);
	if (q->fifo_rd < 0 || fstat(q->fifo_rd, &st) < 0)
		return -1;
	if (!S_ISFIFO(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((st.st_mode & 07777) != QUEUE_FIFO_MODE && fchmod(q->fifo_rd, QUEUE_FIFO_MODE) < 0)
		return -1;
	q->fifo_wr = openat(q->qfd, QUEUE_FIFO, O_WRONLY | FILEFLAGS);
	return q->fifo_wr < 0 ? -1 : 0;
}

static int open_dirs(struct runq *q, const char **what, char *why, size_t size)
{
	for (int i = 0; i < Q_PARTS; i++) {
		*what = queue_dirs[i].name;
		if ((q->dir[i] = sub(q, &queue_dirs[i])) < 0)
			return -1;
		if (queue_dirs[i].runner_only && runner_owned(q->dir[i], why, size) < 0)
			return -1;
	}
	*what = "the trigger FIFO";
	return open_fifo(q);
}

int runq_open(struct runq *q, const char *dir, char *err, size_t errsize)
{
	const char *what = NULL;
	char why[160] = "";

	q->qfd = q->fifo_rd = q->fifo_wr = -1;
	q->mem = NULL;
	q->nmem = 0;
	for (int i = 0; i < Q_PARTS; i++)
		q->dir[i] = -1;
	/* QUEUEDIR itself may be a symbolic link, the administrator's choice,
	 * as etrnd allows; everything in it is opened with O_NOFOLLOW. */
	q->qfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->qfd >= 0 && open_dirs(q, &what, why, sizeof why) == 0)
		return 0;
	if (why[0])
		snprintf(err, errsize, "refusing %s/%s: %s", dir, what, why);
	else
		snprintf(err, errsize, "unable to open %s%s%s: %s", what ? what : "",
			 what ? " in " : "", dir, strerror(errno));
	runq_close(q);
	return -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void runq_close(struct runq *q)
{
	close_fd(&q->qfd);
	for (int i = 0; i < Q_PARTS; i++)
		close_fd(&q->dir[i]);
	close_fd(&q->fifo_rd);
	close_fd(&q->fifo_wr);
	free(q->mem);
	q->mem = NULL;
	q->nmem = 0;
}

static int add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **more = realloc(*names, c * sizeof *more);
		if (!more)
			return -1;
		*names = more;
		*cap = c;
	}
	if (!((*names)[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

static char **list(int dirfd, size_t *n)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char **names = malloc(sizeof *names);
	size_t cap = 1;
	struct dirent *e;

	*n = 0;
	if (!d || !names)
		goto fail;
	rewinddir(d);
	while ((errno = 0, e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    add_name(&names, n, &cap, e->d_name) < 0)
			goto fail;
	if (errno == 0) {
		closedir(d);
		return names;
	}
fail:;
	int saved = errno;
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	runq_free_names(names, *n);
	*n = 0;
	errno = saved;
	return NULL;
}

char **runq_list(struct runq *q, enum queue_part part, size_t *n)
{
	return list(q->dir[part], n);
}

void runq_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n && names; i++)
		free(names[i]);
	free(names);
}

int runq_pending(struct runq *q, const char *name)
{
	struct stat st;
	return fstatat(q->dir[Q_NEW], name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int runq_regular(struct runq *q, const char *name)
{
	struct stat st;
	if (fstatat(q->dir[Q_NEW], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return S_ISREG(st.st_mode) ? 1 : -1;
}

int runq_claim(struct runq *q, const char *name)
{
	if (renameat(q->dir[Q_NEW], name, q->dir[Q_CUR], name) == 0)
		return 0;
	return errno == ENOENT ? 1 : -1;
}

static int invalid(const char **why, const char *text)
{
	*why = text;
	return RUNQ_INVALID;
}

int runq_read(struct runq *q, const char *name, char *buf, size_t size, size_t *len,
	      const char **why)
{
	struct stat st;
	ssize_t r = -1;
	int fd = openat(q->dir[Q_CUR], name, O_RDONLY | FILEFLAGS);

	*why = NULL;
	if (fd < 0)
		return errno == ELOOP || errno == ENXIO ? invalid(why, "not a regular file")
							: RUNQ_TRANSIENT;
	if (fstat(fd, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			*why = "not a regular file";
		else if ((size_t)st.st_size >= size)
			*why = "too big";
		else
			r = read(fd, buf, size - 1);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	if (*why)
		return RUNQ_INVALID;
	if (r < 0)
		return RUNQ_TRANSIENT;
	*len = (size_t)r;
	buf[r] = '\0';
	return 0;
}

int runq_done(struct runq *q, const char *name)
{
	return unlinkat(q->dir[Q_CUR], name, 0) == 0 || errno == ENOENT ? 0 : -1;
}

int runq_release(struct runq *q, const char *name)
{
	if (rename_noreplace(q->dir[Q_CUR], name, q->dir[Q_NEW], name) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	return runq_done(q, name); /* the newer trigger stands for both */
}

static int remove_any(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	return errno == EISDIR ? unlinkat(dirfd, name, AT_REMOVEDIR) : -1;
}

int runq_bad(struct runq *q, enum queue_part from, const char *name)
{
	char alt[NAME_MAX + 1];
	struct timespec ts;
	int fd = q->dir[from];

	if (rename_noreplace(fd, name, q->dir[Q_BAD], name) == 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(alt, sizeof alt, "%.200s.%lld.%09ld", name, (long long)ts.tv_sec, ts.tv_nsec);
	if (errno == EEXIST && rename_noreplace(fd, name, q->dir[Q_BAD], alt) == 0)
		return 0;
	return remove_any(fd, name);
}

int runq_rename(struct runq *q, const char *from, const char *to)
{
	int fd = q->dir[Q_NEW];

	if (rename_noreplace(fd, from, fd, to) == 0)
		return 0;
	return errno == EEXIST ? remove_any(fd, from) : -1;
}

/* fd is open on something in last/ or locks/: -1 (EINVAL) unless it is a
 * regular file, so that a planted directory or FIFO is never used. */
static int regular_fd(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return 0;
	errno = EINVAL;
	return -1;
}

static int close_failing(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int stamp_file(struct runq *q, const char *name)
{
	int fd = openat(q->dir[Q_LAST], name, O_WRONLY | O_CREAT | FILEFLAGS, 0640);

	if (fd < 0)
		return -1;
	if (regular_fd(fd) < 0 || futimens(fd, NULL) < 0)
		return close_failing(fd);
	return close(fd);
}

static struct runq_mem *mem_find(struct runq *q, const char *name)
{
	for (size_t i = 0; i < q->nmem; i++)
		if (strcmp(q->mem[i].name, name) == 0)
			return &q->mem[i];
	return NULL;
}

/* A new entry, after forgetting those no interval reaches any more. */
static struct runq_mem *mem_add(struct runq *q, const char *name, long long now_s)
{
	size_t keep = 0;

	for (size_t i = 0; i < q->nmem; i++)
		if (q->mem[i].at + RULE_INTERVAL_MAX >= now_s)
			q->mem[keep++] = q->mem[i];
	q->nmem = keep;
	struct runq_mem *more = realloc(q->mem, (keep + 1) * sizeof *more);
	if (!more)
		return NULL;
	q->mem = more;
	snprintf(q->mem[keep].name, sizeof q->mem[keep].name, "%s", name);
	return &q->mem[q->nmem++];
}

int runq_stamp(struct runq *q, const char *name, long long now_s)
{
	struct runq_mem *m = mem_find(q, name);
	int rc = stamp_file(q, name), saved = errno;

	if (rc < 0 && !m)
		m = mem_add(q, name, now_s);
	if (m)
		m->at = now_s;
	errno = saved;
	return rc;
}

long long runq_last(struct runq *q, const char *name)
{
	struct stat st;
	struct runq_mem *m = mem_find(q, name);
	long long last = 0;

	if (fstatat(q->dir[Q_LAST], name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		last = (long long)st.st_mtime;
	return m && m->at > last ? m->at : last;
}

int runq_lock(struct runq *q, const char *name)
{
	int fd = openat(q->dir[Q_LOCKS], name, O_RDONLY | O_CREAT | FILEFLAGS, 0600);

	if (fd < 0)
		return -1;
	if (regular_fd(fd) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return close_failing(fd);
	fcntl(fd, F_SETFL, 0); /* the command's stdin: an ordinary blocking file */
	return fd;
}

int runq_clean_tmp(struct runq *q, long long now_s, long max_age_s)
{
	int removed = remove_stale(q->dir[Q_TMP], now_s, max_age_s);
	return removed < 0 ? 0 : removed;
}

void runq_drain(struct runq *q)
{
	char buf[512];
	if (q->fifo_rd < 0)
		return;
	while (read(q->fifo_rd, buf, sizeof buf) > 0)
		;
}
