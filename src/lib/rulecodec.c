/* SPDX-License-Identifier: ISC */
/* rulecodec.c: a rule as a cdb value (format RULE_FORMAT, etrnd.rules(5)):
 *
 *   octet 0     the format version
 *   then, for each attribute the rule has, in table order:
 *               tag (1 octet), length (2 octets, big-endian), data
 *
 * The writer is etrnd-rules; the readers are etrnd and etrnd-runner, which
 * trust nothing they read: an unknown or repeated tag, a bad length or
 * data the rules parser could not have produced fails the whole value. */
#include <stdint.h>
#include <string.h>

#include "rule.h"

size_t rule_encode(const struct rule *r, unsigned char *out)
{
	unsigned char *p = out;

	*p++ = RULE_FORMAT;
	for (size_t i = 0; i < rule_nattrs; i++) {
		const struct rule_attr *a = &rule_attrs[i];
		if (!rule_attr_present(a, r))
			continue;
		size_t n = rule_attr_encode(a, r, p + 3);
		p[0] = (unsigned char)a->tag;
		p[1] = (unsigned char)(n >> 8);
		p[2] = (unsigned char)n;
		p += 3 + n;
	}
	return (size_t)(p - out);
}

static const struct rule_attr *tagged(int tag, size_t *index)
{
	for (size_t i = 0; i < rule_nattrs; i++)
		if (rule_attrs[i].tag == tag) {
			*index = i;
			return &rule_attrs[i];
		}
	return NULL;
}

int rule_decode(struct rule *r, const unsigned char *v, size_t len)
{
	uint64_t seen = 0;
	size_t i = 1, idx = 0;

	rule_init(r);
	if (len == 0 || v[0] != RULE_FORMAT)
		return -1;
	while (i < len) {
		if (len - i < 3)
			return -1;
		const struct rule_attr *a = tagged(v[i], &idx);
		size_t flen = ((size_t)v[i + 1] << 8) | v[i + 2];
		if (!a || (seen & (UINT64_C(1) << idx)) || len - i - 3 < flen)
			return -1;
		seen |= UINT64_C(1) << idx;
		if (rule_attr_decode(a, r, v + i + 3, flen) < 0)
			return -1;
		i += 3 + flen;
	}
	return 0;
}
