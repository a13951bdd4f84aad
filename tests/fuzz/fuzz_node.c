/* SPDX-License-Identifier: ISC */
/* libFuzzer target: node syntax and the trigger-name encoding. A node that
 * parses is normalised (parsing it again gives itself) and its file name
 * decodes back to it; the name never holds '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "trigger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node n, again;
	char name[TRIGGER_NAME_MAX], back[NODE_BUF];
	int flags = size && (data[0] & 1) ? NODE_RULEKEY : 0;

	if (size == 0 || node_parse(&n, (const char *)data + 1, size - 1, flags) < 0)
		return 0;
	if (n.len != strlen(n.name) || n.len >= NODE_BUF)
		abort();
	if (node_parse(&again, n.name, n.len, flags) < 0 || strcmp(again.name, n.name) != 0)
		abort();
	if (!trigger_name(n.name, name, sizeof name) || strchr(name, '/') ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		abort();
	if (!flags || n.kind != NODE_DOMAIN || strchr(n.name, '.')) {
		if (trigger_unname(name, back, sizeof back) < 0 || strcmp(back, n.name) != 0)
			abort();
	}
	return 0;
}
