/* SPDX-License-Identifier: ISC */
/* sasl.c: see sasl.h. Decoders reject anything a correct client does not
 * send, so that one string has one meaning. */
#include "sasl.h"

#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

long b64_decode(const char *in, size_t len, unsigned char *out, size_t size)
{
	size_t n = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int j = 0; j < 4; j++) {
			if (in[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (pad || (v[j] = value(in[i + j])) < 0) {
				return -1;
			}
		}
		unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
				  (unsigned long)v[2] << 6 | (unsigned long)v[3];
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1; /* bits set where the padding is */
		unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
				      (unsigned char)w};
		if (n + 3 - (size_t)pad > size)
			return -1;
		memcpy(out + n, b, 3 - (size_t)pad);
		n += 3 - (size_t)pad;
	}
	return (long)n;
}

size_t b64_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t n = 0;

	if ((len + 2) / 3 * 4 + 1 > size)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long w = (unsigned long)in[i] << 16;
		if (i + 1 < len)
			w |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			w |= in[i + 2];
		out[n++] = alphabet[w >> 18 & 63];
		out[n++] = alphabet[w >> 12 & 63];
		out[n++] = i + 1 < len ? alphabet[w >> 6 & 63] : '=';
		out[n++] = i + 2 < len ? alphabet[w & 63] : '=';
	}
	out[n] = '\0';
	return n;
}

static int copy_field(char *out, const unsigned char *s, size_t len, int empty_ok)
{
	if ((!empty_ok && len == 0) || len > SASL_FIELD_MAX || memchr(s, '\0', len))
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int sasl_plain(const unsigned char *msg, size_t len, struct sasl_login *l)
{
	const unsigned char *a = memchr(msg, '\0', len);
	const unsigned char *b = a ? memchr(a + 1, '\0', len - (size_t)(a + 1 - msg)) : NULL;

	memset(l, 0, sizeof *l);
	if (!b)
		return -1;
	if (copy_field(l->authzid, msg, (size_t)(a - msg), 1) < 0 ||
	    copy_field(l->user, a + 1, (size_t)(b - a - 1), 0) < 0 ||
	    copy_field(l->pass, b + 1, len - (size_t)(b + 1 - msg), 0) < 0) {
		sasl_wipe(l);
		return -1;
	}
	return 0;
}

int sasl_field(const unsigned char *msg, size_t len, char *out)
{
	return copy_field(out, msg, len, 0);
}

void sasl_wipe(struct sasl_login *l)
{
	explicit_bzero(l, sizeof *l);
}
