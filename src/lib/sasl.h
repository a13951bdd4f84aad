/* SPDX-License-Identifier: ISC */
/* sasl.h: the SASL pieces of SMTP AUTH (RFC 4954): base64 (RFC 4648),
 * PLAIN (RFC 4616) and LOGIN, pure functions on untrusted octets. */
#ifndef ETRND_SASL_H
#define ETRND_SASL_H

#include <stddef.h>

#include "bounds.h"

/* RFC 4616: authcid and password are at most 255 octets each. */
#define SASL_FIELD_MAX 255

/* Strict base64: the alphabet, '=' padding to a multiple of four, no
 * blanks, no bits set in the padding. Returns the decoded length, or -1. */
long b64_decode(const char *in, size_t len, unsigned char *out, size_t size);
/* Returns the encoded length (NUL-terminated in out), or 0 if it does not fit. */
size_t b64_encode(const unsigned char *in, size_t len, char *out, size_t size);

struct sasl_login {
	char authzid[SASL_FIELD_MAX + 1];
	char user[SASL_FIELD_MAX + 1];
	char pass[SASL_FIELD_MAX + 1];
};

/* A decoded PLAIN message: [authzid] NUL authcid NUL passwd, the last two
 * non-empty, none with a NUL. 0, or -1. */
int sasl_plain(const unsigned char *msg, size_t len, struct sasl_login *l);
/* A decoded LOGIN answer (user name or password): 1-255 octets, no NUL.
 * Copies it NUL-terminated into out[SASL_FIELD_MAX + 1]; 0, or -1. */
int sasl_field(const unsigned char *msg, size_t len, char *out);
/* Wipes a login's secrets. */
void sasl_wipe(struct sasl_login *l);

#endif
