/* SPDX-License-Identifier: ISC */
/* rule.h: one rule of etrnd.rules(5), and the table of its attributes.
 *
 * Every attribute is one row of rule_attrs[] (ruleattr.c): its name in
 * the rules file, its tag in the cdb value, its kind, its bounds and
 * where it lives in struct rule. The rules parser (ruleparse.c), the cdb
 * codec (rulecodec.c), the duplicate check and the error texts are all
 * driven by that table: a new attribute is one row, its field here, its
 * consumer and its line in etrnd.rules(5). */
#ifndef ETRND_RULE_H
#define ETRND_RULE_H

#include <stddef.h>

#include "addr.h"
#include "bounds.h"
#include "login.h"
#include "passwd.h"

/* The cdb value format version (etrnd.rules(5), "The cdb"). */
#define RULE_FORMAT 1

struct cidrs {
	size_t n;
	struct cidr v[RULE_ALLOW_MAX];
};

/* Words, each NUL-terminated, one after the other: a run= template. Its
 * length as the rules file counts it (the words with one space between
 * them) is len - 1, at most RULE_RUN_MAX. */
struct words {
	size_t n;   /* words */
	size_t len; /* octets used in buf, NULs included */
	char buf[RULE_RUN_MAX + 1];
};

/* Login names: users= of a node rule. The count comes last, where
 * struct rule needs it (below). */
struct logins {
	char v[RULE_USERS_MAX][LOGIN_BUF];
	size_t n;
};

#define CRAM_HEX 64 /* cram=: the HMAC-MD5 inner and outer states, in hex */

/* A record of the rules file: a node rule, or a login (user:NAME). */
/* Every field is an attribute of rule_attrs[]: rule_init() unsets them
 * through it. Compare two rules by their encodings (rule_encode), not
 * with memcmp(): past a field's end the octets are undefined. */
/* rule_init() writes the start of each field, and each page it touches
 * is a page fault in every session that looks a rule up: so users= comes
 * first with its count at its end, then the fields from the smallest to
 * the largest. What rule_init() writes then spans 2.6 KiB, one page when
 * the rule is page-aligned (queuestart.c's is), not the 4.1 KiB (two
 * pages) of smallest-to-largest. */
struct rule {
	struct logins users;                /* n == 0: no users= */
	long interval;                      /* -1 = not set */
	long timeout;                       /* -1 = not set */
	char cram[CRAM_HEX + 1];            /* user: lines: for CRAM-MD5 */
	char deny[RULE_DENY_MAX + 1];       /* "" = no deny= */
	char password[PASSWD_HASH_MAX + 1]; /* user: lines: a crypt(3) hash */
	char spool[RULE_PATH_MAX + 1];      /* "" = no spool= */
	struct words run;                   /* n == 0: no run= */
	struct cidrs allow;                 /* n == 0: no allow= */
};

enum attr_kind {
	ATTR_TEXT,    /* printable ASCII, 1..max octets */
	ATTR_PATH,    /* ATTR_TEXT that starts with '/' */
	ATTR_CIDRS,   /* comma-separated addresses or CIDR blocks, at most max */
	ATTR_COMMAND, /* words; the first an absolute path; only %n %r %c %% */
	ATTR_SECONDS, /* a number of seconds in [min, max] */
	ATTR_LOGINS,  /* comma-separated login names, at most max */
	ATTR_HASH,    /* a crypt(3) hash passwd_hash_ok() accepts */
	ATTR_CRAM,    /* CRAM_HEX lower-case hex digits */
};

#define ATTR_ALONE 1u /* a rule with this attribute may have no other */
#define ATTR_NODE 2u  /* allowed on node rules */
#define ATTR_LOGIN 4u /* allowed on user: lines */

struct rule_attr {
	const char *name; /* in the rules file */
	char tag;         /* in the cdb value */
	enum attr_kind kind;
	size_t off; /* offsetof(struct rule, ...) */
	unsigned long min, max;
	unsigned flags;
};

extern const struct rule_attr rule_attrs[];
extern const size_t rule_nattrs;

/* The largest encoded value: version octet, then every attribute's tag,
 * length and largest data. */
#define RULE_VALUE_MAX                                                                        \
	(1 + 9 * 3 + RULE_DENY_MAX + RULE_ALLOW_MAX * 18 + RULE_PATH_MAX + RULE_RUN_MAX + 1 + \
	 2 * 4 + RULE_USERS_MAX * LOGIN_BUF + PASSWD_HASH_MAX + CRAM_HEX)

void rule_init(struct rule *r);
/* The row for a name in the rules file, or NULL. */
const struct rule_attr *rule_attr_named(const char *name, size_t len);
/* Whether r has the attribute. */
int rule_attr_present(const struct rule_attr *a, const struct rule *r);
/* Sets the attribute from its text in the rules file. 0, or -1 with a
 * reason ("allow: ...") in err. */
int rule_attr_parse(const struct rule_attr *a, struct rule *r, const char *v, size_t len, char *err,
		    size_t errsize);
/* The attribute's cdb data into out (at most RULE_VALUE_MAX); returns its
 * length. */
size_t rule_attr_encode(const struct rule_attr *a, const struct rule *r, unsigned char *out);
/* Sets the attribute from its cdb data, checked as strictly as the parser
 * checks text. 0, or -1. */
int rule_attr_decode(const struct rule_attr *a, struct rule *r, const unsigned char *d, size_t len);

/* The cdb value (rulecodec.c). */
size_t rule_encode(const struct rule *r, unsigned char *out);
int rule_decode(struct rule *r, const unsigned char *v, size_t len);

/* A run= word: printable, and a '%' only in %n %r %c %%. */
int rule_command_word_ok(const char *s, size_t len);

#endif
