/* SPDX-License-Identifier: ISC */
/* store.c: see store.h. The message is streamed from the MTA into
 * tmp/NAME after its envelope, fsynced, and renamed into new/; new/ is
 * fsynced before the MTA hears "stored". */
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "fsutil.h"
#include "heldmsg.h"
#include "maildir.h"
#include "text.h"

#define COPY_BUF 65536
#define STORE_NAME_TRIES 3

static int fail(char *why, size_t size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t size, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return code;
}

/* "<a@b>" -> "a@b"; "<>" and "" -> "". 0, or -1 if not an address. */
static int bare(char *out, const char *s, int null_ok)
{
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
		s++, len -= 2;
	if (len == 0 ? !null_ok : !mailaddr_ok(s, len))
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int envelope(struct store_req *r, struct held *h, char *why, size_t size)
{
	char shown[80];

	if (bare(h->from, r->sender, 1) < 0)
		return fail(
		    why, size, EX_USAGE, "bad sender address '%s'",
		    (text_sanitize(shown, sizeof shown, r->sender, strlen(r->sender)), shown));
	if (r->nrcpts < 1 || r->nrcpts > HELD_RCPTS_MAX)
		return fail(why, size, EX_USAGE, "between 1 and %d recipients, not %d",
			    HELD_RCPTS_MAX, r->nrcpts);
	h->rcpt = calloc((size_t)r->nrcpts, sizeof *h->rcpt);
	if (!h->rcpt)
		return fail(why, size, EX_TEMPFAIL, "out of memory");
	for (int i = 0; i < r->nrcpts; i++, h->n++)
		if (bare(h->rcpt[i].addr, r->rcpts[i], 0) < 0)
			return fail(
			    why, size, EX_USAGE, "bad recipient address '%s'",
			    (text_sanitize(shown, sizeof shown, r->rcpts[i], strlen(r->rcpts[i])),
			     shown));
	return EX_OK;
}

/* The length of the line at p[0..len) if it starts with name and is
 * complete and not folded (the next octet is known and not a blank); 0
 * otherwise. */
static size_t header_line(const char *p, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *end = memchr(p, '\n', len);

	if (!end || (size_t)(end - p) < nl || memcmp(p, name, nl) != 0)
		return 0;
	size_t l = (size_t)(end - p) + 1;
	if (l == len || p[l] == ' ' || p[l] == '\t')
		return 0;
	return l;
}

/* What OpenSMTPD's mda puts before the message (mda.c): "Return-Path:
 * <SENDER>" and "Delivered-To: RECIPIENT", or only the Delivered-To line
 * for the null sender. Returns the octets of buf[0..len) to drop: those
 * lines, and nothing when the message does not start with them. */
static size_t mda_prefix(const struct store_req *r, const char *buf, size_t len)
{
	size_t rp = 0;

	if (r->sender[0] && strcmp(r->sender, "<>") != 0 &&
	    (rp = header_line(buf, len, "Return-Path: <")) == 0)
		return 0;
	size_t dt = header_line(buf + rp, len - rp, "Delivered-To: ");
	return dt ? rp + dt : 0;
}

/* Fills buf from fd until it holds want octets or the input ends; the
 * octets read, or -1. */
static ssize_t read_full(int fd, char *buf, size_t want)
{
	size_t have = 0;

	while (have < want) {
		ssize_t n = read(fd, buf + have, want - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

/* Copies the message from r->in to fd; -1 (errno) on an I/O error, -2 over
 * the size limit. With -m, the first block is read whole (it holds the
 * mda's lines whatever the pipe's chunks), and their octets are dropped. */
static int copy(struct store_req *r, int fd)
{
	static char buf[COPY_BUF];
	long total = 0;
	ssize_t n;

	if (r->strip_mda) {
		if ((n = read_full(r->in, buf, sizeof buf)) < 0)
			return -1;
		size_t skip = mda_prefix(r, buf, (size_t)n);
		total = n - (ssize_t)skip;
		if (total > r->max)
			return -2;
		if (write_all(fd, buf + skip, (size_t)n - skip) < 0)
			return -1;
		if (n < (ssize_t)sizeof buf)
			return 0;
	}
	while ((n = read(r->in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		total += n;
		if (total > r->max)
			return -2;
		if (write_all(fd, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* Creates tmp/NAME under a fresh unique name (another try if the name is
 * taken: a clock stepped back, or a pid reused within a microsecond). */
static int create_tmp(struct store_req *r, struct maildir *m)
{
	for (int i = 0; i < STORE_NAME_TRIES; i++) {
		maildir_unique(m, r->name, sizeof r->name);
		int fd = maildir_create_tmp(m, r->name);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int write_tmp(struct store_req *r, struct maildir *m, const struct held *h, char *why,
		     size_t size)
{
	size_t elen;
	char *env = held_envelope(h, HELD_WAITING, &elen);
	int fd = env ? create_tmp(r, m) : -1;

	if (fd < 0) {
		free(env);
		return fail(why, size, EX_TEMPFAIL, "unable to create a file in tmp/: %s",
			    strerror(errno));
	}
	int rc = write_all(fd, env, elen) < 0 ? -1 : copy(r, fd);
	free(env);
	if (rc == 0 && fsync(fd) < 0)
		rc = -1;
	int e = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, e = errno;
	if (rc == 0)
		return EX_OK;
	maildir_discard(m, r->name);
	if (rc == -2)
		return fail(why, size, EX_DATAERR, "message larger than %ld octets", r->max);
	return fail(why, size, EX_TEMPFAIL, "unable to write tmp/%s: %s", r->name, strerror(e));
}

/* tmp/NAME into new/ (under the same name, else a fresh one), durably. */
static int commit(struct store_req *r, struct maildir *m, char *why, size_t size)
{
	char to[sizeof r->name];
	int c = maildir_commit(m, r->name, MD_NEW, r->name);

	for (int i = 1; c == -1 && errno == EEXIST && i < STORE_NAME_TRIES; i++) {
		maildir_unique(m, to, sizeof to);
		c = maildir_commit(m, r->name, MD_NEW, to);
		if (c != -1)
			memcpy(r->name, to, sizeof to);
	}
	if (c == 0)
		return EX_OK;
	int e = errno;
	if (c == -2) /* in new/ but not durable: take it back, the MTA tries again */
		unlinkat(m->sub[MD_NEW], r->name, 0);
	else
		maildir_discard(m, r->name);
	return fail(why, size, EX_TEMPFAIL, "unable to move tmp/%s into new/: %s", r->name,
		    strerror(e));
}

int store_message(struct store_req *r, char *why, size_t size)
{
	struct held h = {0};
	struct maildir m;
	const char *what;

	int rc = envelope(r, &h, why, size);
	if (rc == EX_OK && maildir_open(&m, r->dir, MD_MAKE_DIR | MD_MAKE_SUBS, &what) < 0) {
		rc = fail(why, size, EX_TEMPFAIL, "unable to open the maildir %s (%s): %s", r->dir,
			  what, strerror(errno));
	} else if (rc == EX_OK) {
		rc = write_tmp(r, &m, &h, why, size);
		if (rc == EX_OK)
			rc = commit(r, &m, why, size);
		maildir_close(&m);
	}
	held_free(&h);
	return rc;
}
