/* SPDX-License-Identifier: ISC */
/* cdbget.h: one key's value from a constant database (the cdb format
 * tinycdb writes) with pread(): no file offset, no mapping. */
#ifndef ETRND_CDBGET_H
#define ETRND_CDBGET_H

#include <stddef.h>

/* The longest key cdbget() looks up (etrnd's are a node or a login with
 * a prefix: under 300 octets). */
#define CDBGET_KEY_MAX 512

/* Finds key in the cdb open on fd and reads its value into val[size]:
 * 1 found (*vlen set), 0 absent, -1 error (errno: EMSGSIZE for a value
 * over size, its length in *vlen; EPROTO for a file that is not a cdb or
 * is cut short; EINVAL for a key over CDBGET_KEY_MAX; else pread()'s).
 * Slots are read 8 at a time: a key found in its first slot costs 4
 * reads, an absent one 2 or 3. */
int cdbget(int fd, const char *key, size_t klen, unsigned char *val, size_t size, size_t *vlen);

#endif
