/* SPDX-License-Identifier: ISC */
/* libFuzzer target: the SASL decoders (AUTH's untrusted input). Invariants:
 * strict base64 has one encoding per value (what decodes re-encodes to the
 * same text); a PLAIN message that splits gives NUL-free fields within
 * bounds whose rejoining is the message; CRAM values round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md5.h"
#include "sasl.h"

static unsigned char out[12288];
static char again[16400];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long n = b64_decode((const char *)data, size, out, sizeof out);
	if (n >= 0) {
		size_t e = b64_encode(out, (size_t)n, again, sizeof again);
		if (e != size || memcmp(again, data, size) != 0)
			abort();
	}
	struct sasl_login l;
	if (sasl_plain(data, size, &l) == 0) {
		size_t a = strlen(l.authzid), u = strlen(l.user), p = strlen(l.pass);
		if (u == 0 || p == 0 || u > SASL_FIELD_MAX || p > SASL_FIELD_MAX ||
		    a + u + p + 2 != size || memcmp(data + a + 1, l.user, u) != 0 ||
		    memcmp(data + a + u + 2, l.pass, p) != 0)
			abort();
	}
	struct cram_secret c;
	char text[65];
	if (cram_parse((const char *)data, size, &c) == 0) {
		cram_format(&c, text);
		if (memcmp(text, data, 64) != 0)
			abort();
	}
	return 0;
}
