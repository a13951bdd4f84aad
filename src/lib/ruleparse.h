/* SPDX-License-Identifier: ISC */
/* ruleparse.h: one line of the text rules format (etrnd.rules(5)). */
#ifndef ETRND_RULEPARSE_H
#define ETRND_RULEPARSE_H

#include <stddef.h>

#include "node.h"
#include "rule.h"

#define RULES_ERR_MAX 200

/* The cdb key prefix of a login line ("user:NAME"): no node key has it. */
#define RULES_LOGIN_PREFIX "user:"
#define RULES_LOGIN 2
/* etrnd-rules adds the record user:%cram (no login can be named so) when
 * some login has cram=, so that etrnd knows whether to offer CRAM-MD5. */
#define RULES_CRAM_MARK "%cram"

/* Parses one line (without its newline). Returns 1 and fills key and r for
 * a node rule, RULES_LOGIN for a login line (key->name "user:NAME", the
 * name folded), 0 for a blank or comment line, -1 with a reason in err
 * for an error. */
int rules_parse_line(const char *line, size_t len, struct node *key, struct rule *r, char *err,
		     size_t errsize);

#endif
