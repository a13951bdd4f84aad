/* SPDX-License-Identifier: ISC */
/* passwd.h: login passwords as crypt(3) hashes (libxcrypt; yescrypt for new
 * ones). Only hashes are ever stored; the password lives in memory for the
 * length of one check and is wiped by the caller. */
#ifndef ETRND_PASSWD_H
#define ETRND_PASSWD_H

#include <stddef.h>

#define PASSWD_HASH_MAX 255

/* 1 when pass matches hash. hash NULL (no such login): the same work on a
 * dummy hash, then 0, so an unknown login costs what a wrong password does.
 * -1 when libcrypt cannot be opened (passwd_error()). */
int passwd_check(const char *hash, const char *pass);
/* A new yescrypt hash of pass; 0, or -1 (passwd_error() when libcrypt
 * could not be opened). */
int passwd_hash(const char *pass, char *out, size_t size);
/* Whether hash is a well-formed hash of a method crypt(3) supports here. */
int passwd_hash_ok(const char *hash, size_t len);
/* Why libcrypt could not be opened, or NULL when it could (or was not
 * needed yet). */
const char *passwd_error(void);

#endif
