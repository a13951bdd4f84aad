/* libFuzzer target: cdb values (corrupt databases) and trigger files (the
 * runner's untrusted input). Whatever decodes re-encodes to something that
 * decodes to the same rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "trigger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rule r, d;
	static unsigned char v[RULE_VALUE_MAX];
	struct trigger_data t;
	const char *why;

	if (rule_decode(&r, data, size) == 0) {
		size_t n = rule_encode(&r, v);
		if (rule_decode(&d, v, n) < 0 || memcmp(&r, &d, sizeof r) != 0)
			abort();
	}
	if (trigger_parse((const char *)data, size, &t, &why) == 0) {
		struct node n;
		if (node_parse(&n, t.node, strlen(t.node), 0) < 0 || strcmp(n.name, t.node))
			abort();
	}
	return 0;
}
