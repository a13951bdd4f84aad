/* SPDX-License-Identifier: ISC */
/* cdbget.c: a cdb lookup in positional reads. tinycdb's cdb_seek() takes
 * an lseek() and a read() for each step; its cdb_find() maps the file,
 * and each page of a mapping a session first touches is a page fault,
 * dearer than the reads (make bench). The format: 256 (position, slots)
 * pairs, each hash table a run of (hash, record position) slots, each
 * record its key length, value length, key and value; all numbers 32-bit
 * little-endian. The hash is tinycdb's cdb_hash(). */
#include "cdbget.h"

#include <cdb.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define SLOTS_AT_ONCE 8

static unsigned long le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	       (unsigned long)p[3] << 24;
}

/* Exactly n octets at pos: 0, or -1 (EPROTO when the file ends first). */
static int get(int fd, void *buf, size_t n, unsigned long long pos)
{
	ssize_t r;

	do
		r = pread(fd, buf, n, (off_t)pos);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)n)
		return 0;
	if (r >= 0)
		errno = EPROTO;
	return -1;
}

/* The record at pos: 1 it is key's (its value read), 0 another key's.
 * One read takes the record's head and key and, into val, as much of what
 * follows as val holds: a value that fits costs no read of its own (in a
 * short-lived process a system call costs several microseconds on the
 * virtual machine make bench ran on; perf record of 1,000 sessions). */
static int record(int fd, unsigned long pos, const char *key, size_t klen, unsigned char *val,
		  size_t size, size_t *vlen)
{
	unsigned char head[8 + CDBGET_KEY_MAX];
	struct iovec iov[2] = {{head, 8 + klen}, {val, size}};
	ssize_t r;

	do
		r = preadv(fd, iov, 2, (off_t)pos);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if ((size_t)r < 8 + klen) {
		errno = EPROTO;
		return -1;
	}
	if (le32(head) != klen || memcmp(head + 8, key, klen) != 0)
		return 0;
	unsigned long len = le32(head + 4);
	if (len > size) {
		*vlen = len;
		errno = EMSGSIZE;
		return -1;
	}
	if ((size_t)r - 8 - klen < len) { /* the file ends inside the value */
		errno = EPROTO;
		return -1;
	}
	*vlen = len;
	return 1;
}

int cdbget(int fd, const char *key, size_t klen, unsigned char *val, size_t size, size_t *vlen)
{
	unsigned char t[8], s[8 * SLOTS_AT_ONCE];

	if (klen > CDBGET_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	unsigned long h = cdb_hash(key, (unsigned)klen) & 0xffffffffUL;
	if (get(fd, t, 8, (h & 255) * 8) < 0)
		return -1;
	unsigned long table = le32(t), slots = le32(t + 4);
	unsigned long i = slots ? (h >> 8) % slots : 0;
	for (unsigned long left = slots; left > 0;) {
		unsigned long n = slots - i; /* the slots before the table wraps */
		if (n > left)
			n = left;
		if (n > SLOTS_AT_ONCE)
			n = SLOTS_AT_ONCE;
		if (get(fd, s, 8 * n, (unsigned long long)table + 8 * i) < 0)
			return -1;
		for (unsigned long k = 0; k < n; k++) {
			unsigned long pos = le32(s + 8 * k + 4);
			if (pos == 0)
				return 0;
			if (le32(s + 8 * k) != h)
				continue;
			int rc = record(fd, pos, key, klen, val, size, vlen);
			if (rc != 0)
				return rc;
		}
		left -= n;
		i = (i + n) % slots;
	}
	return 0;
}
