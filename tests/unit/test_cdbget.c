/* SPDX-License-Identifier: ISC */
/* cdbget against tinycdb's own cdb_find() on the same files: every key
 * present, as many absent, colliding hashes, and files cut short. */
#include <cdb.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdbget.h"
#include "testutil.h"

#define KEYS 3000

static void key_of(unsigned i, char *k, size_t *len)
{
	/* lengths 1..60; some keys differ only at their end */
	*len = (size_t)snprintf(k, 80, "%u.node%.*s", i, (int)(i % 50),
				"-------------------------"
				"-------------------------");
}

static void value_of(unsigned i, unsigned char *v, size_t *len)
{
	*len = (i * 7919u) % 300; /* 0..299 octets, the empty value too */
	for (size_t j = 0; j < *len; j++)
		v[j] = (unsigned char)(i + j);
}

/* A cdb of KEYS keys, and one key added twice (cdb_find gives the first). */
static const char *build(const char *dir)
{
	const char *path = strdup(tu_path(dir, "t.cdb"));
	struct cdb_make cm;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(cdb_make_start(&cm, fd), 0);
	for (unsigned i = 0; i < KEYS; i++) {
		char k[80];
		unsigned char v[300];
		size_t kl, vl;
		key_of(i, k, &kl);
		value_of(i, v, &vl);
		cr_assert_eq(cdb_make_add(&cm, k, (unsigned)kl, v, (unsigned)vl), 0);
	}
	cr_assert_eq(cdb_make_add(&cm, "0.node", 6, "second", 6), 0);
	cr_assert_eq(cdb_make_finish(&cm), 0);
	close(fd);
	return path;
}

/* tinycdb's answer for key: 1 with the value, or 0. */
static int reference(int fd, const char *k, size_t kl, unsigned char *v, size_t *vl)
{
	struct cdb c;
	cr_assert_eq(cdb_init(&c, fd), 0);
	int rc = cdb_find(&c, k, (unsigned)kl);
	if (rc > 0) {
		*vl = cdb_datalen(&c);
		memcpy(v, cdb_get(&c, *vl, cdb_datapos(&c)), *vl);
	}
	cdb_free(&c);
	return rc;
}

Test(cdbget, agrees_with_tinycdb_on_every_key_present_and_absent)
{
	char *d = tu_tmpdir();
	int fd = open(build(d), O_RDONLY);
	cr_assert(fd >= 0);
	for (unsigned i = 0; i < 2 * KEYS; i++) {
		char k[80];
		unsigned char want[300], got[300];
		size_t kl, wl = 0, gl = 0;
		key_of(i, k, &kl);
		if (i % 3 == 2) /* absent: a key of the file with one octet changed */
			k[kl - 1] ^= 0x20;
		int w = reference(fd, k, kl, want, &wl);
		int g = cdbget(fd, k, kl, got, sizeof got, &gl);
		cr_assert_eq(g, w, "key %.*s: %d, tinycdb %d", (int)kl, k, g, w);
		if (w > 0) {
			cr_assert_eq(gl, wl, "key %.*s", (int)kl, k);
			cr_assert_eq(memcmp(got, want, wl), 0, "key %.*s", (int)kl, k);
		}
	}
	unsigned char v[300];
	size_t vl;
	cr_assert_eq(cdbget(fd, "0.node", 6, v, sizeof v, &vl), 1);
	cr_assert_eq(vl, 0, "a key added twice: its first value, as cdb_find()");
	close(fd);
	tu_rmtree(d);
}

Test(cdbget, limits_and_broken_files_are_errors)
{
	char *d = tu_tmpdir();
	const char *path = build(d);
	int fd = open(path, O_RDONLY);
	unsigned char v[300];
	size_t vl;
	char k[80];
	size_t kl;
	unsigned i = 299; /* its value is 299 * 7919 % 300 = 181 octets long */
	key_of(i, k, &kl);
	errno = 0;
	cr_assert_eq(cdbget(fd, k, kl, v, 180, &vl), -1, "a value over the buffer");
	cr_assert_eq(errno, EMSGSIZE);
	cr_assert_eq(vl, 181, "the length it needs");
	cr_assert_eq(cdbget(fd, k, kl, v, 181, &vl), 1);
	cr_assert_eq(vl, 181);
	static char huge[CDBGET_KEY_MAX + 1];
	cr_assert_eq(cdbget(fd, huge, sizeof huge, v, sizeof v, &vl), -1);
	cr_assert_eq(errno, EINVAL);
	close(fd);
	/* cut short: in the header, in the tables, in the records */
	size_t len;
	char *whole = tu_read(path, &len);
	size_t cuts[] = {0, 100, 2048, len / 2, len - 5};
	for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
		int w = open(path, O_WRONLY | O_TRUNC);
		cr_assert_eq(write(w, whole, cuts[c]), (ssize_t)cuts[c]);
		close(w);
		fd = open(path, O_RDONLY);
		int errors = 0;
		for (unsigned j = 0; j < KEYS; j++) {
			key_of(j, k, &kl);
			errno = 0;
			int rc = cdbget(fd, k, kl, v, sizeof v, &vl);
			cr_assert(rc == -1 || rc == 0 || rc == 1);
			if (rc < 0) {
				cr_assert_eq(errno, EPROTO, "cut at %zu", cuts[c]);
				errors++;
			}
		}
		cr_assert_gt(errors, 0, "a file cut at %zu octets gave no error", cuts[c]);
		close(fd);
	}
	free(whole);
	tu_rmtree(d);
}

static void put32(unsigned char *p, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A hand-made cdb whose one record's value runs past the end of the file
 * (its hash table comes first, which the format allows): the value read
 * with the key must still be found short. */
Test(cdbget, a_value_cut_by_the_end_of_the_file_is_an_error)
{
	static const char key[] = "node.example";
	size_t kl = sizeof key - 1;
	unsigned long h = cdb_hash(key, (unsigned)kl) & 0xffffffffUL;
	unsigned char f[2048 + 16 + 8 + sizeof key + 10] = {0};
	unsigned long table = 2048, rec = 2048 + 16;

	put32(f + (h & 255) * 8, table);
	put32(f + (h & 255) * 8 + 4, 2); /* two slots, one used */
	put32(f + table + 8 * ((h >> 8) % 2), h);
	put32(f + table + 8 * ((h >> 8) % 2) + 4, rec);
	put32(f + rec, kl);
	put32(f + rec + 4, 100); /* 100 octets said, 10 there */
	memcpy(f + rec + 8, key, kl);
	char *d = tu_tmpdir();
	const char *path = tu_path(d, "cut.cdb");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	size_t n = rec + 8 + kl + 10;
	cr_assert_eq(write(fd, f, n), (ssize_t)n);
	unsigned char v[300];
	size_t vl;
	errno = 0;
	cr_expect_eq(cdbget(fd, key, kl, v, sizeof v, &vl), -1);
	cr_expect_eq(errno, EPROTO);
	put32(f + rec + 4, 10); /* the same record, its length true */
	cr_assert_eq(pwrite(fd, f + rec + 4, 4, (off_t)rec + 4), 4);
	cr_expect_eq(cdbget(fd, key, kl, v, sizeof v, &vl), 1);
	cr_expect_eq(vl, 10);
	close(fd);
}
