/* rule.h: one rule, and its value in the cdb (format version 1).
 *
 * The cdb key is the normalised rule key (client.example.net, @example.net,
 * #queue, [192.0.2.1]). The value is binary, documented in etrnd.rules(5):
 *
 *   byte 0      format version, RULE_FORMAT (1)
 *   then fields, each: tag (1 octet), length (2 octets, big-endian), data
 *     'A' allow    entries of: family (4 or 6), prefix, 4 or 16 address octets
 *     'D' deny     reason, printable ASCII
 *     'S' spool    absolute directory path, printable ASCII
 *     'R' run      argv, each argument NUL-terminated
 *     'I' interval seconds, 4 octets big-endian
 *     'T' timeout  seconds, 4 octets big-endian
 *
 * Each tag appears at most once. The decoder checks everything again: a
 * value that does not decode is treated like a corrupt cdb (458). */
#ifndef ETRND_RULE_H
#define ETRND_RULE_H

#include <stddef.h>

#include "addr.h"
#include "bounds.h"

#define RULE_FORMAT 1
/* Version byte plus every field at its largest. */
#define RULE_VALUE_MAX \
	(1 + 6 * 3 + RULE_ALLOW_MAX * 18 + RULE_DENY_MAX + RULE_PATH_MAX + RULE_RUN_MAX + 8)

struct rule {
	int has_deny;
	char deny[RULE_DENY_MAX + 1];
	size_t nallow;
	struct cidr allow[RULE_ALLOW_MAX];
	char spool[RULE_PATH_MAX + 1]; /* "" = no spool= */
	size_t nrun;                   /* 0 = no run= */
	size_t runlen;                 /* octets used in run, NULs included */
	char run[RULE_RUN_MAX];        /* argv, NUL-separated */
	long interval;                 /* -1 = not set */
	long timeout;                  /* -1 = not set */
};

void rule_init(struct rule *r);
/* Encodes r into out (RULE_VALUE_MAX octets); returns the length. */
size_t rule_encode(const struct rule *r, unsigned char *out);
/* Decodes and validates a cdb value; 0, or -1 if it is not a valid v1 value. */
int rule_decode(struct rule *r, const unsigned char *v, size_t len);

/* Helpers shared by the parser and the decoder. */
int rule_text_ok(const char *s, size_t len);    /* printable ASCII, space allowed */
int rule_run_arg_ok(const char *s, size_t len); /* printable, %n %r %c %% only */

#endif
