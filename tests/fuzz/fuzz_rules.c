/* SPDX-License-Identifier: ISC */
/* libFuzzer target: one rules line. A line that parses encodes to a value
 * that decodes to the same rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ruleparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node key;
	static struct rule r, d;
	static unsigned char v[RULE_VALUE_MAX], again[RULE_VALUE_MAX];
	char err[RULES_ERR_MAX];

	if (size > RULES_LINE_MAX)
		return 0;
	if (rules_parse_line((const char *)data, size, &key, &r, err, sizeof err) != 1)
		return 0;
	size_t n = rule_encode(&r, v);
	if (n > RULE_VALUE_MAX || rule_decode(&d, v, n) < 0 || rule_encode(&d, again) != n ||
	    memcmp(again, v, n) != 0)
		abort();
	return 0;
}
