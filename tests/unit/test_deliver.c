/* SPDX-License-Identifier: ISC */
/* etrnd-deliver: the DATA encoding, destinations, the held message files,
 * and bin/etrnd-deliver as a process against tests/helpers/smtpsink. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpdata.h"
#include "testutil.h"

struct data_case {
	const char *in;
	size_t inlen;
	const char *out; /* on the wire, with the final dot */
	size_t outlen;
	size_t size; /* RFC 1870 */
};

#define C(in, out, size) {in, sizeof in - 1, out, sizeof out - 1, size}
static const struct data_case data_cases[] = {
    C("", ".\r\n", 0),
    C("a", "a\r\n.\r\n", 3),
    C("a\n", "a\r\n.\r\n", 3),
    C("a\r\n", "a\r\n.\r\n", 3),
    C(".\n", "..\r\n.\r\n", 3),
    C("..x\n.\n", "...x\r\n..\r\n.\r\n", 8),
    C("a\n.b", "a\r\n..b\r\n.\r\n", 7),
    C("a.\n", "a.\r\n.\r\n", 4),
    C("\r\n.\r\n", "\r\n..\r\n.\r\n", 5),
    C("a\r\r\n", "a\r\r\n.\r\n", 4),
    C("a\rb\n", "a\rb\r\n.\r\n", 5),
    C("a\r.b\n", "a\r.b\r\n.\r\n", 6),
    C("\n\n", "\r\n\r\n.\r\n", 4),
    C("x\r", "x\r\r\n.\r\n", 4),
    C(".", "..\r\n.\r\n", 3),
    C("\xe9t\xe9\n", "\xe9t\xe9\r\n.\r\n", 5),
    C("\0a\n", "\0a\r\n.\r\n", 4),
    C("Subject: x\n\n.\n..\n.x\n", "Subject: x\r\n\r\n..\r\n...\r\n..x\r\n.\r\n", 25),
};

/* Encodes in through in-chunks of ichunk octets and an out buffer of osize. */
static char *encode(const struct data_case *c, size_t ichunk, size_t osize, size_t *len)
{
	struct smtpdata s;
	char *out = malloc(3 * c->inlen + SMTPDATA_END_MAX), buf[64];
	size_t n = 0;

	cr_assert(osize <= sizeof buf);
	smtpdata_init(&s);
	for (size_t at = 0; at < c->inlen;) {
		size_t chunk = c->inlen - at < ichunk ? c->inlen - at : ichunk, used = 0;
		while (used < chunk) {
			size_t u;
			size_t w = smtpdata_put(&s, c->in + at + used, chunk - used, &u, buf, osize);
			cr_assert(u > 0 && w <= osize, "no progress");
			memcpy(out + n, buf, w);
			n += w, used += u;
		}
		at += chunk;
	}
	n += smtpdata_end(&s, out + n);
	*len = n;
	return out;
}

Test(smtpdata, dot_stuffing_and_line_ends_in_any_chunks)
{
	const size_t ichunks[] = {1, 2, 3, 7, 4096}, osizes[] = {2, 3, 5, 64};
	for (size_t i = 0; i < sizeof data_cases / sizeof data_cases[0]; i++) {
		const struct data_case *c = &data_cases[i];
		for (size_t a = 0; a < 5; a++)
			for (size_t b = 0; b < 4; b++) {
				size_t len;
				char *got = encode(c, ichunks[a], osizes[b], &len);
				cr_expect(len == c->outlen && memcmp(got, c->out, len) == 0,
					  "case %zu (chunk %zu, out %zu): got %zu octets", i,
					  ichunks[a], osizes[b], len);
				free(got);
			}
	}
}

Test(smtpdata, size_is_rfc1870_exact)
{
	for (size_t i = 0; i < sizeof data_cases / sizeof data_cases[0]; i++) {
		const struct data_case *c = &data_cases[i];
		cr_expect_eq(smtpdata_size(c->in, c->inlen), c->size, "case %zu: %zu", i,
			     smtpdata_size(c->in, c->inlen));
	}
}

Test(smtpdata, eight_bit)
{
	cr_expect(!smtpdata_8bit("plain ASCII\r\n\x7f", 14));
	cr_expect(smtpdata_8bit("caf\xc3\xa9", 5));
	cr_expect(smtpdata_8bit("\x80", 1));
	cr_expect(!smtpdata_8bit("", 0));
}
