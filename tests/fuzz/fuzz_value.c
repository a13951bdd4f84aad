/* SPDX-License-Identifier: ISC */
/* libFuzzer target: cdb values (corrupt databases) and trigger files (the
 * runner's untrusted input). Whatever decodes re-encodes to something that
 * decodes to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "trigger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rule r, d;
	static unsigned char v[RULE_VALUE_MAX], reenc[RULE_VALUE_MAX];
	struct trigger t, again;
	char text[TRIGGER_FILE_MAX];
	const char *why;

	if (rule_decode(&r, data, size) == 0) {
		size_t n = rule_encode(&r, v);
		if (rule_decode(&d, v, n) < 0 || rule_encode(&d, reenc) != n ||
		    memcmp(reenc, v, n) != 0)
			abort();
	}
	if (trigger_parse((const char *)data, size, &t, &why) == 0) {
		struct node n;
		if (!t.lost &&
		    (node_parse(&n, t.node, strlen(t.node), 0) < 0 || strcmp(n.name, t.node)))
			abort();
		/* any version read is written back as the current one, unchanged */
		size_t len = trigger_format(&t, text, sizeof text);
		if (!t.lost && (len == 0 || trigger_parse(text, len, &again, &why) < 0 ||
				strcmp(again.node, t.node) || strcmp(again.rule, t.rule) ||
				strcmp(again.client, t.client) || strcmp(again.user, t.user) ||
				again.time != t.time || again.pid != t.pid))
			abort();
	}
	return 0;
}
