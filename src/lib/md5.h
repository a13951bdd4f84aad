/* SPDX-License-Identifier: ISC */
/* md5.h: MD5 (RFC 1321), only for CRAM-MD5 (RFC 2195), which ODMR's
 * clients need: HMAC-MD5 from stored inner and outer states, so that the
 * password itself is never stored. MD5 is not used for anything else. */
#ifndef ETRND_MD5_H
#define ETRND_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
	uint32_t s[4];
	uint64_t bytes;
	unsigned char buf[64];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t len);
void md5_final(struct md5 *m, unsigned char out[16]);

/* The two HMAC-MD5 states of a key: its 32-octet password equivalent. */
struct cram_secret {
	uint32_t inner[4], outer[4];
};

void cram_secret(const char *pass, size_t len, struct cram_secret *c);
/* HMAC-MD5(key, msg) from the key's states. */
void cram_hmac(const struct cram_secret *c, const void *msg, size_t len, unsigned char out[16]);
/* 64 lower-case hex digits (the cram= value) and back; 0, or -1. */
void cram_format(const struct cram_secret *c, char out[65]);
int cram_parse(const char *s, size_t len, struct cram_secret *c);

#endif
