/* SPDX-License-Identifier: ISC */
/* maildir.c: see maildir.h. Directories are held open and used with *at()
 * calls; names come from readdir() or maildir_unique(), never from mail. */
#include "maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fsutil.h"

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)

static const struct {
	const char *name;
	mode_t mode;
} subs[MD_SUBS] = {
    [MD_TMP] = {"tmp", 0700},
    [MD_NEW] = {"new", 0755},
    [MD_CUR] = {"cur", 0755},
    [MD_FAILED] = {"failed", 0700},
};

const char *maildir_sub_name(enum maildir_sub sub)
{
	return subs[sub].name;
}

static int make_dir(int at, const char *name, mode_t mode)
{
	if (mkdirat(at, name, mode) < 0)
		return errno == EEXIST ? 0 : -1;
	int fd = openat(at, name, DIRFLAGS);
	if (fd < 0)
		return -1;
	int rc = fchmod(fd, mode); /* the umask must not take etrnd's read access */
	close(fd);
	return rc;
}

int maildir_open(struct maildir *m, const char *path, int make, const char **what)
{
	memset(m, 0, sizeof *m);
	m->dir = -1;
	for (int i = 0; i < MD_SUBS; i++)
		m->sub[i] = -1;
	*what = path;
	if ((make & MD_MAKE_DIR) && make_dir(AT_FDCWD, path, 0755) < 0)
		return -1;
	if ((m->dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (int i = 0; i < MD_SUBS; i++) {
		*what = subs[i].name;
		if ((make & MD_MAKE_SUBS) && make_dir(m->dir, subs[i].name, subs[i].mode) < 0)
			break;
		if ((m->sub[i] = openat(m->dir, subs[i].name, DIRFLAGS)) < 0)
			break;
	}
	if (m->sub[MD_SUBS - 1] >= 0)
		return 0;
	int e = errno;
	maildir_close(m);
	errno = e;
	return -1;
}

void maildir_close(struct maildir *m)
{
	for (int i = 0; i < MD_SUBS; i++) {
		if (m->sub[i] >= 0)
			close(m->sub[i]);
		m->sub[i] = -1;
	}
	if (m->dir >= 0)
		close(m->dir);
	m->dir = -1;
}

int maildir_lock(struct maildir *m)
{
	return flock(m->dir, LOCK_EX | LOCK_NB);
}

void maildir_unique(struct maildir *m, char *name, size_t size)
{
	struct timeval tv;

	if (!m->host[0]) {
		char h[64] = "localhost";
		gethostname(h, sizeof h - 1);
		size_t i;
		for (i = 0; i < sizeof m->host - 1 && h[i]; i++)
			m->host[i] = (h[i] == '/' || h[i] == ':' || h[i] == '.') ? '_' : h[i];
		m->host[i] = '\0';
	}
	gettimeofday(&tv, NULL);
	snprintf(name, size, "%lld.M%06ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
		 (long)getpid(), ++m->seq, m->host);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct maildir_msg *)a)->name, ((const struct maildir_msg *)b)->name);
}

/* Appends the regular files of one subdirectory. */
static int list_sub(struct maildir *m, enum maildir_sub sub, struct maildir_msg **v, size_t *n,
		    size_t *cap)
{
	int fd = dup(m->sub[sub]);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(*v)->name)
			continue;
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			struct maildir_msg *more = realloc(*v, c * sizeof *more);
			if (!more) {
				closedir(d);
				return -1;
			}
			*v = more, *cap = c;
		}
		(*v)[*n].sub = sub;
		memcpy((*v)[*n].name, e->d_name, strlen(e->d_name) + 1);
		(*n)++;
	}
	closedir(d);
	return 0;
}

struct maildir_msg *maildir_list(struct maildir *m, size_t *n)
{
	struct maildir_msg *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (list_sub(m, MD_NEW, &v, n, &cap) < 0 || list_sub(m, MD_CUR, &v, n, &cap) < 0) {
		free(v);
		return NULL;
	}
	if (!v)
		v = malloc(sizeof *v);
	if (*n > 1)
		qsort(v, *n, sizeof *v, by_name);
	return v;
}

int maildir_create_tmp(struct maildir *m, const char *name)
{
	return openat(m->sub[MD_TMP], name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600);
}

int maildir_commit(struct maildir *m, const char *name, enum maildir_sub sub, const char *to)
{
	if (rename_noreplace(m->sub[MD_TMP], name, m->sub[sub], to) < 0)
		return -1;
	return fsync(m->sub[sub]) < 0 ? -2 : 0;
}

int maildir_replace(struct maildir *m, const char *name, enum maildir_sub sub, const char *to)
{
	if (renameat(m->sub[MD_TMP], name, m->sub[sub], to) < 0)
		return -1;
	return fsync(m->sub[sub]) < 0 ? -2 : 0;
}

int maildir_remove(struct maildir *m, enum maildir_sub sub, const char *name)
{
	if (unlinkat(m->sub[sub], name, 0) < 0)
		return -1;
	return fsync(m->sub[sub]);
}

int maildir_move_failed(struct maildir *m, enum maildir_sub sub, const char *name)
{
	if (rename_noreplace(m->sub[sub], name, m->sub[MD_FAILED], name) < 0) {
		char unique[256];
		if (errno != EEXIST)
			return -1;
		maildir_unique(m, unique, sizeof unique);
		if (rename_noreplace(m->sub[sub], name, m->sub[MD_FAILED], unique) < 0)
			return -1;
	}
	/* both directories changed: neither may come back as it was */
	return fsync(m->sub[MD_FAILED]) < 0 ? -1 : fsync(m->sub[sub]);
}

void maildir_discard(struct maildir *m, const char *name)
{
	int e = errno;
	unlinkat(m->sub[MD_TMP], name, 0);
	errno = e;
}
