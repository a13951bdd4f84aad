/* SPDX-License-Identifier: ISC */
/* runargv.c: a run= template made into one node's argv; words stay words
 * (no shell ever sees them). */
#include "runargv.h"

#include <string.h>

#include "rule.h"

static int put(struct runargv *a, size_t *n, const char *s, size_t len)
{
	if (*n + len >= sizeof a->buf)
		return -1;
	memcpy(a->buf + *n, s, len);
	*n += len;
	return 0;
}

int runargv_expand(struct runargv *a, const char *tmpl, size_t len, const char *node,
		   const char *rule, const char *client)
{
	size_t n = 0;

	a->argc = 0;
	for (size_t i = 0; i < len; i++) {
		if (a->argc == RULE_RUN_ARGS_MAX)
			return -1;
		a->argv[a->argc++] = a->buf + n;
		for (; i < len && tmpl[i] != '\0'; i++) {
			const char *sub = NULL;
			if (tmpl[i] == '%' && i + 1 < len) {
				char c = tmpl[i + 1];
				sub = c == 'n'   ? node
				      : c == 'r' ? rule
				      : c == 'c' ? client
				      : c == '%' ? "%"
						 : NULL;
			}
			if (sub) {
				i++;
				if (put(a, &n, sub, strlen(sub)) < 0)
					return -1;
			} else if (put(a, &n, tmpl + i, 1) < 0) {
				return -1;
			}
		}
		if (put(a, &n, "", 1) < 0)
			return -1;
	}
	a->argv[a->argc] = NULL;
	return a->argc > 0 ? 0 : -1;
}

size_t runargv_template(char *out, size_t size, char *const *words, int n)
{
	size_t used = 0;

	if (n <= 0 || n > RULE_RUN_ARGS_MAX || words[0][0] != '/')
		return 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(words[i]);
		if (!rule_command_word_ok(words[i], len) || used + len + 1 > size)
			return 0;
		memcpy(out + used, words[i], len + 1);
		used += len + 1;
	}
	return used;
}
