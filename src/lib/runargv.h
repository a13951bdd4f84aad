/* SPDX-License-Identifier: ISC */
/* runargv.h: a run= template (NUL-separated words) made into an argv for
 * one node: %n node, %r rule key, %c client address, %% a percent sign.
 * The words stay words: nothing is ever split again or given to a shell. */
#ifndef ETRND_RUNARGV_H
#define ETRND_RUNARGV_H

#include <stddef.h>

#include "bounds.h"

/* Room for every word with every %n expanded to a full node. */
#define RUNARGV_BUF 16384

struct runargv {
	int argc;
	char *argv[RULE_RUN_ARGS_MAX + 1];
	char buf[RUNARGV_BUF];
};

/* Expands tmpl[0..len) (words each ending in NUL). Returns 0, or -1 if
 * the result does not fit. */
int runargv_expand(struct runargv *a, const char *tmpl, size_t len, const char *node,
		   const char *rule, const char *client);

/* Builds a template from command-line words (the runner's default
 * command), checked like a rules file's run=. Returns its length, or 0. */
size_t runargv_template(char *out, size_t size, char *const *words, int n);

#endif
