/* SPDX-License-Identifier: ISC */
/* md5.c: see md5.h. Written from RFC 1321's description: four rounds of
 * sixteen steps over 64-octet blocks, little-endian words. */
#include "md5.h"

#include <string.h>

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const unsigned char R[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void block(uint32_t s[4], const unsigned char *p)
{
	uint32_t w[16], a = s[0], b = s[1], c = s[2], d = s[3];

	for (size_t i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		       (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (unsigned i = 0; i < 64; i++) {
		uint32_t f;
		unsigned g, r = i / 16;
		if (r == 0)
			f = (b & c) | (~b & d), g = i;
		else if (r == 1)
			f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
		else if (r == 2)
			f = b ^ c ^ d, g = (3 * i + 5) % 16;
		else
			f = c ^ (b | ~d), g = (7 * i) % 16;
		uint32_t t = d;
		d = c;
		c = b;
		b = b + rol(a + f + K[i] + w[g], R[r][i % 4]);
		a = t;
	}
	s[0] += a, s[1] += b, s[2] += c, s[3] += d;
}

void md5_init(struct md5 *m)
{
	static const uint32_t iv[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	memcpy(m->s, iv, sizeof iv);
	m->bytes = 0;
}

void md5_update(struct md5 *m, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t have = m->bytes % 64;

	m->bytes += len;
	while (len > 0) {
		size_t n = 64 - have < len ? 64 - have : len;
		memcpy(m->buf + have, p, n);
		have += n, p += n, len -= n;
		if (have == 64) {
			block(m->s, m->buf);
			have = 0;
		}
	}
}

void md5_final(struct md5 *m, unsigned char out[16])
{
	uint64_t bits = m->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t have = m->bytes % 64, n = have < 56 ? 56 - have : 120 - have;

	for (int i = 0; i < 8; i++)
		pad[n + (size_t)i] = (unsigned char)(bits >> (8 * i));
	md5_update(m, pad, n + 8);
	for (int i = 0; i < 16; i++)
		out[i] = (unsigned char)(m->s[i / 4] >> (8 * (i % 4)));
}

void cram_secret(const char *pass, size_t len, struct cram_secret *c)
{
	unsigned char key[64] = {0}, pad[64];
	struct md5 m;

	if (len > 64) { /* RFC 2104: a long key is its digest */
		md5_init(&m);
		md5_update(&m, pass, len);
		md5_final(&m, key);
	} else {
		memcpy(key, pass, len);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = key[i] ^ 0x36;
	md5_init(&m);
	block(m.s, pad);
	memcpy(c->inner, m.s, sizeof c->inner);
	for (int i = 0; i < 64; i++)
		pad[i] = key[i] ^ 0x5c;
	md5_init(&m);
	block(m.s, pad);
	memcpy(c->outer, m.s, sizeof c->outer);
	memset(key, 0, sizeof key);
	memset(pad, 0, sizeof pad);
}

void cram_hmac(const struct cram_secret *c, const void *msg, size_t len, unsigned char out[16])
{
	struct md5 m;
	unsigned char in[16];

	memcpy(m.s, c->inner, sizeof m.s);
	m.bytes = 64;
	md5_update(&m, msg, len);
	md5_final(&m, in);
	memcpy(m.s, c->outer, sizeof m.s);
	m.bytes = 64;
	md5_update(&m, in, sizeof in);
	md5_final(&m, out);
}

void cram_format(const struct cram_secret *c, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	const uint32_t *w[2] = {c->inner, c->outer};
	int n = 0;

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 4; i++)
			for (int b = 0; b < 4; b++) {
				unsigned v = w[k][i] >> (8 * b) & 0xff;
				out[n++] = hex[v >> 4], out[n++] = hex[v & 15];
			}
	out[n] = '\0';
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cram_parse(const char *s, size_t len, struct cram_secret *c)
{
	uint32_t *w[2] = {c->inner, c->outer};

	if (len != 64)
		return -1;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 4; i++) {
			w[k][i] = 0;
			for (int b = 0; b < 4; b++) {
				const char *p = s + (size_t)(32 * k + 8 * i + 2 * b);
				int hi = unhex(p[0]), lo = unhex(p[1]);
				if (hi < 0 || lo < 0)
					return -1;
				w[k][i] |= (uint32_t)(hi << 4 | lo) << (8 * b);
			}
		}
	return 0;
}
