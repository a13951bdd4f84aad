/* SPDX-License-Identifier: ISC */
/* heldfile.c: reads one held message file as untrusted input and records
 * what a delivery did to its recipients; see heldfile.h. */
#include "heldfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

/* Opens sub/name if it is a regular file: its type is checked before the
 * open (a socket cannot be opened, a device must not be) and again after
 * it (it may have been replaced meanwhile). -1 (errno), or -2 when it is
 * something else. */
static int open_regular(struct maildir *m, enum maildir_sub sub, const char *name, struct stat *st)
{
	if (fstatat(m->sub[sub], name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISREG(st->st_mode))
		return -2;
	int fd = openat(m->sub[sub], name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP || errno == ENXIO ? -2 : -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		int e = errno, rc = S_ISREG(st->st_mode) ? -1 : -2;
		close(fd);
		errno = e;
		return rc;
	}
	return fd;
}

int heldfile_load(struct maildir *m, enum maildir_sub sub, const char *name, struct heldfile *f,
		  const char **why)
{
	struct stat st = {0};

	memset(f, 0, sizeof *f);
	f->sub = sub;
	if (strlen(name) >= sizeof f->name) {
		*why = "file name too long";
		return -2;
	}
	memcpy(f->name, name, strlen(name) + 1);
	int fd = open_regular(m, sub, name, &st);
	*why = fd == -2 ? "not a regular file" : "empty file";
	if (fd < 0 || st.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return fd == -1 ? -1 : -2;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return -1;
	}
	f->data = p;
	f->len = (size_t)st.st_size;
	size_t head = f->len < HELD_ENVELOPE_MAX ? f->len : HELD_ENVELOPE_MAX;
	int rc = held_parse(&f->h, f->data, head, why);
	for (size_t i = 0; rc == 0 && i < f->h.n; i++)
		if (f->h.rcpt[i].state == RCPT_FAILED) {
			*why = "an error line outside failed/";
			held_free(&f->h);
			rc = -1;
		}
	if (rc < 0) {
		munmap(p, f->len);
		f->data = NULL;
		return -2;
	}
	return 0;
}

const char *heldfile_body(const struct heldfile *f, size_t *len)
{
	*len = f->len - f->h.body;
	return f->data + f->h.body;
}

void heldfile_free(struct maildir *m, struct heldfile *f)
{
	heldfile_drop_plan(m, f);
	held_free(&f->h);
	if (f->data)
		munmap((void *)f->data, f->len);
	f->data = NULL;
}

int heldfile_changed(const struct heldfile *f)
{
	for (size_t i = 0; i < f->h.n; i++) {
		enum rcpt_state s = f->h.rcpt[i].state;
		if (s == RCPT_SENT || s == RCPT_ACCEPTED || s == RCPT_FAILED)
			return 1;
	}
	return 0;
}

/* The envelope part plus the message into a new tmp/ file; its name in tmp. */
static int write_tmp(struct maildir *m, const struct heldfile *f, enum held_part part, char *tmp,
		     size_t size)
{
	size_t elen, blen;
	const char *body = heldfile_body(f, &blen);
	char *env = held_envelope(&f->h, part, &elen);
	int fd = -1, rc = -1;

	maildir_unique(m, tmp, size);
	if (env && (fd = maildir_create_tmp(m, tmp)) >= 0 && write_all(fd, env, elen) == 0 &&
	    write_all(fd, body, blen) == 0 && fsync(fd) == 0)
		rc = 0;
	int e = errno;
	free(env);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -1, e = errno;
	if (rc < 0 && fd >= 0)
		maildir_discard(m, tmp);
	if (rc < 0)
		tmp[0] = '\0';
	errno = e;
	return rc;
}

static size_t count(const struct heldfile *f, int waiting)
{
	size_t n = 0;
	for (size_t i = 0; i < f->h.n; i++) {
		enum rcpt_state s = f->h.rcpt[i].state;
		n += waiting ? (s == RCPT_OTHER || s == RCPT_PENDING || s == RCPT_DEFERRED)
			     : s == RCPT_FAILED;
	}
	return n;
}

int heldfile_plan(struct maildir *m, struct heldfile *f)
{
	heldfile_drop_plan(m, f);
	if ((count(f, 0) &&
	     write_tmp(m, f, HELD_FAILED, f->plan_failed, sizeof f->plan_failed) < 0) ||
	    (count(f, 1) && write_tmp(m, f, HELD_WAITING, f->plan_wait, sizeof f->plan_wait) < 0)) {
		int e = errno;
		heldfile_drop_plan(m, f);
		errno = e;
		return -1;
	}
	return 0;
}

void heldfile_drop_plan(struct maildir *m, struct heldfile *f)
{
	if (f->plan_failed[0])
		maildir_discard(m, f->plan_failed);
	if (f->plan_wait[0])
		maildir_discard(m, f->plan_wait);
	f->plan_failed[0] = f->plan_wait[0] = '\0';
}

/* The plan's failed/ file, under the message's name (or its own when an
 * earlier failure of the same message has that name). As maildir_commit. */
static int apply_failed(struct maildir *m, struct heldfile *f)
{
	int rc = maildir_commit(m, f->plan_failed, MD_FAILED, f->name);
	if (rc == -1 && errno == EEXIST)
		rc = maildir_commit(m, f->plan_failed, MD_FAILED, f->plan_failed);
	if (rc != -1)
		f->plan_failed[0] = '\0';
	return rc;
}

static int any_sent(const struct heldfile *f)
{
	for (size_t i = 0; i < f->h.n; i++)
		if (f->h.rcpt[i].state == RCPT_SENT)
			return 1;
	return 0;
}

int heldfile_apply(struct maildir *m, struct heldfile *f, const char **what, const char **kept)
{
	int e = 0, rc = 0;

	*what = *kept = NULL;
	if (f->plan_failed[0] && (rc = apply_failed(m, f)) < 0) {
		e = errno;
		*what = maildir_sub_name(MD_FAILED);
		if (rc == -1 && !any_sent(f))
			return -1; /* nothing changes: the next run tries again */
		if (rc == -1) {
			memcpy(f->kept, f->plan_failed, sizeof f->kept);
			f->plan_failed[0] = '\0';
			*kept = f->kept;
		}
	}
	if (f->plan_wait[0])
		rc = maildir_replace(m, f->plan_wait, f->sub, f->name);
	else
		rc = maildir_remove(m, f->sub, f->name);
	if (rc != -1)
		f->plan_wait[0] = '\0';
	if (rc < 0 && !*what) {
		e = errno;
		*what = maildir_sub_name(f->sub);
	}
	errno = e;
	return *what ? -1 : 0;
}
