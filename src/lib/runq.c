/* SPDX-License-Identifier: ISC */
/* runq.c: the runner's side of the trigger queue: claim, release, refuse,
 * recover, interval stamps, all with *at() calls on held directories. */
#include "runq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)

static int sub(struct runq *q, const char *name, int create)
{
	if (create && mkdirat(q->qfd, name, 0750) < 0 && errno != EEXIST)
		return -1;
	return openat(q->qfd, name, DIRFLAGS);
}

/* The FIFO is mode 0622: a wake-up byte from anyone only causes a rescan,
 * and etrnd's user must be able to write it. We hold a writer open too, so
 * the reader never sees end-of-file when etrnd closes its end. */
static int open_fifo(struct runq *q)
{
	struct stat st;

	if (mkfifoat(q->qfd, "trigger", 0622) < 0 && errno != EEXIST)
		return -1;
	q->fifo_rd = openat(q->qfd, "trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (q->fifo_rd < 0)
		return -1;
	if (fstat(q->fifo_rd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	q->fifo_wr = openat(q->qfd, "trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	return q->fifo_wr < 0 ? -1 : 0;
}

int runq_open(struct runq *q, const char *dir, char *err, size_t errsize)
{
	const struct {
		const char *name;
		int *fd, create;
	} subs[] = {{"new", &q->newfd, 0},
		    {"cur", &q->curfd, 0},
		    {"bad", &q->badfd, 1},
		    {"last", &q->lastfd, 1}};
	const char *what = dir;

	*q = (struct runq){-1, -1, -1, -1, -1, -1, -1};
	q->qfd = open(dir, DIRFLAGS);
	if (q->qfd < 0)
		goto fail;
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		what = subs[i].name;
		if ((*subs[i].fd = sub(q, subs[i].name, subs[i].create)) < 0)
			goto fail;
	}
	what = "the trigger FIFO";
	if (open_fifo(q) == 0)
		return 0;
fail:
	snprintf(err, errsize, "unable to open %s%s%s: %s", what == dir ? "" : what,
		 what == dir ? "" : " in ", dir, strerror(errno));
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
	close_fd(&q->newfd);
	close_fd(&q->curfd);
	close_fd(&q->badfd);
	close_fd(&q->lastfd);
	close_fd(&q->fifo_rd);
	close_fd(&q->fifo_wr);
}

static char **list(int dirfd, size_t *n)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			char **more = realloc(names, cap * sizeof *names);
			if (!more)
				break;
			names = more;
		}
		if (!(names[*n] = strdup(e->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (!names)
		names = malloc(sizeof *names);
	return names;
}

char **runq_scan(struct runq *q, size_t *n)
{
	return list(q->newfd, n);
}

void runq_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int runq_pending(struct runq *q, const char *name)
{
	struct stat st;
	return fstatat(q->newfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int runq_recover(struct runq *q)
{
	size_t n;
	char **names = list(q->curfd, &n);
	int moved = 0;

	if (!names)
		return -1;
	for (size_t i = 0; i < n; i++) {
		runq_release(q, names[i]);
		moved++;
	}
	runq_free_names(names, n);
	return moved;
}

int runq_claim(struct runq *q, const char *name)
{
	if (renameat(q->newfd, name, q->curfd, name) == 0)
		return 0;
	return errno == ENOENT ? 1 : -1;
}

int runq_read(struct runq *q, const char *name, char *buf, size_t size, size_t *len)
{
	struct stat st;
	int fd = openat(q->curfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size >= size) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	ssize_t r = read(fd, buf, size - 1);
	close(fd);
	if (r < 0)
		return -1;
	*len = (size_t)r;
	buf[r] = '\0';
	return 0;
}

void runq_done(struct runq *q, const char *name)
{
	unlinkat(q->curfd, name, 0);
}

void runq_release(struct runq *q, const char *name)
{
	if (runq_pending(q, name))
		unlinkat(q->curfd, name, 0); /* the newer trigger stands for both */
	else
		renameat(q->curfd, name, q->newfd, name);
}

void runq_bad(struct runq *q, const char *name, int from_cur)
{
	int from = from_cur ? q->curfd : q->newfd;
	if (renameat(from, name, q->badfd, name) < 0)
		unlinkat(from, name, 0); /* never run it, whatever happens */
}

long long runq_last(struct runq *q, const char *name)
{
	struct stat st;
	if (fstatat(q->lastfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return (long long)st.st_mtime;
}

void runq_stamp(struct runq *q, const char *name)
{
	int fd = openat(q->lastfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	futimens(fd, NULL);
	close(fd);
}

void runq_drain(struct runq *q)
{
	char buf[512];
	if (q->fifo_rd < 0)
		return;
	while (read(q->fifo_rd, buf, sizeof buf) > 0)
		;
}
