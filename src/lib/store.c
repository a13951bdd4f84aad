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

/* A header line an MDA puts before the message (OpenSMTPD's mda does). */
static size_t mda_line(const char *p, size_t len)
{
	static const char *const names[] = {"Return-Path:", "Delivered-To:"};
	const char *nl = memchr(p, '\n', len);
	if (!nl || (nl + 1 < p + len && (nl[1] == ' ' || nl[1] == '\t')))
		return 0; /* no whole line, or a folded header */
	for (int i = 0; i < 2; i++)
		if ((size_t)(nl - p) >= strlen(names[i]) &&
		    strncasecmp(p, names[i], strlen(names[i])) == 0)
			return (size_t)(nl - p) + 1;
	return 0;
}

/* Copies the message from r->in to fd; -1 (errno) on an I/O error, -2 over
 * the size limit. */
static int copy(struct store_req *r, int fd)
{
	static char buf[COPY_BUF];
	long total = 0;
	int first = 1;
	ssize_t n;

	while ((n = read(r->in, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		size_t skip = 0, l;
		while (first && r->strip_mda && (l = mda_line(buf + skip, (size_t)n - skip)) > 0)
			skip += l;
		first = 0;
		total += n - (ssize_t)skip;
		if (total > r->max)
			return -2;
		if (write_all(fd, buf + skip, (size_t)n - skip) < 0)
			return -1;
	}
	return 0;
}

static int write_tmp(struct store_req *r, struct maildir *m, const struct held *h, char *why,
		     size_t size)
{
	size_t elen;
	char *env = held_envelope(h, HELD_WAITING, &elen);
	int fd = env ? maildir_create_tmp(m, r->name) : -1;

	if (fd < 0) {
		free(env);
		return fail(why, size, EX_TEMPFAIL, "unable to create tmp/%s: %s", r->name,
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

int store_message(struct store_req *r, char *why, size_t size)
{
	struct held h = {0};
	struct maildir m;
	const char *what;

	int rc = envelope(r, &h, why, size);
	if (rc == EX_OK && maildir_open(&m, r->dir, 1, &what) < 0)
		rc = fail(why, size, EX_TEMPFAIL, "unable to open the maildir %s (%s): %s", r->dir,
			  what, strerror(errno));
	else if (rc == EX_OK) {
		maildir_unique(&m, r->name, sizeof r->name);
		rc = write_tmp(r, &m, &h, why, size);
		int c = rc == EX_OK ? maildir_commit(&m, r->name, MD_NEW, r->name) : 0;
		if (c == -2) /* in new/ but not durable: take it back, let the MTA retry */
			unlinkat(m.sub[MD_NEW], r->name, 0);
		if (c < 0) {
			maildir_discard(&m, r->name);
			rc = fail(why, size, EX_TEMPFAIL, "unable to move tmp/%s into new/: %s",
				  r->name, strerror(errno));
		}
		maildir_close(&m);
	}
	held_free(&h);
	return rc;
}
