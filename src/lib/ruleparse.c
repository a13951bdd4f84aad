/* SPDX-License-Identifier: ISC */
/* ruleparse.c: one rules line: KEY [name=value ...]. What each attribute
 * accepts is the table's business (ruleattr.c); this file only splits the
 * line into a key and name=value pairs.
 *
 * '#' followed by a blank or the end of the line starts a comment; '#name'
 * is a queue key. A value may be double-quoted ("a b", with \" and \\). */
#include "ruleparse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "login.h"
#include "text.h"

struct cursor {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errsize;
};

static int fail(struct cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct cursor *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errsize, fmt, ap);
	va_end(ap);
	return -1;
}

static int blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void skip_blanks(struct cursor *c)
{
	while (c->pos < c->len && blank(c->s[c->pos]))
		c->pos++;
}

/* At the end of the line, or at a comment. */
static int at_end(const struct cursor *c)
{
	if (c->pos >= c->len)
		return 1;
	return c->s[c->pos] == '#' && (c->pos + 1 == c->len || blank(c->s[c->pos + 1]));
}

static size_t word_end(const struct cursor *c)
{
	size_t e = c->pos;
	while (e < c->len && !blank(c->s[e]))
		e++;
	return e;
}

/* Reads a value, unquoting it into out[RULES_LINE_MAX]; returns its length
 * or -1. A line is at most RULES_LINE_MAX octets, so the value fits. */
static int read_value(struct cursor *c, char *out)
{
	size_t n = 0;

	if (c->pos < c->len && c->s[c->pos] == '"') {
		for (c->pos++; c->pos < c->len && c->s[c->pos] != '"'; c->pos++) {
			if (c->s[c->pos] == '\\' && c->pos + 1 < c->len)
				c->pos++;
			out[n++] = c->s[c->pos];
		}
		if (c->pos >= c->len)
			return fail(c, "unterminated quoted value");
		c->pos++;
		if (c->pos < c->len && !blank(c->s[c->pos]))
			return fail(c, "blank expected after closing quote");
	} else {
		size_t e = word_end(c);
		memcpy(out, c->s + c->pos, e - c->pos);
		n = e - c->pos;
		c->pos = e;
	}
	out[n] = '\0';
	return (int)n;
}

static int parse_attr(struct cursor *c, struct rule *r, uint64_t *seen, unsigned scope)
{
	static char value[RULES_LINE_MAX + 1];
	size_t start = c->pos;

	while (c->pos < c->len && c->s[c->pos] >= 'a' && c->s[c->pos] <= 'z')
		c->pos++;
	size_t n = c->pos - start;
	if (n == 0 || c->pos >= c->len || c->s[c->pos] != '=')
		return fail(c, "expected name=value at column %zu", c->pos + 1);
	const struct rule_attr *a = rule_attr_named(c->s + start, n);
	if (!a)
		return fail(c, "unknown attribute '%.*s'", (int)(n > 32 ? 32 : n), c->s + start);
	if (!(a->flags & scope))
		return fail(c, "%s= is not allowed on %s", a->name,
			    scope == ATTR_LOGIN ? "a user: line" : "a node rule");
	uint64_t bit = UINT64_C(1) << (a - rule_attrs);
	if (*seen & bit)
		return fail(c, "%s= given twice", a->name);
	*seen |= bit;
	c->pos++;
	int vlen = read_value(c, value);
	if (vlen < 0)
		return -1;
	return rule_attr_parse(a, r, value, (size_t)vlen, c->err, c->errsize);
}

/* An attribute that must stand alone (deny=) with any other. */
static const struct rule_attr *not_alone(uint64_t seen)
{
	for (size_t i = 0; i < rule_nattrs; i++)
		if ((rule_attrs[i].flags & ATTR_ALONE) && (seen & (UINT64_C(1) << i)) &&
		    seen != (UINT64_C(1) << i))
			return &rule_attrs[i];
	return NULL;
}

/* "user:NAME": a login. */
static int login_key(struct cursor *c, size_t e, struct node *key)
{
	const size_t plen = sizeof RULES_LOGIN_PREFIX - 1;
	char name[LOGIN_BUF];

	if (e - c->pos < plen || memcmp(c->s + c->pos, RULES_LOGIN_PREFIX, plen) != 0)
		return 0;
	if (login_parse(name, c->s + c->pos + plen, e - c->pos - plen) < 0) {
		char shown[81];
		text_sanitize(shown, sizeof shown, c->s + c->pos, e - c->pos);
		return fail(c, "'%s' is not a login (user:NAME, NAME 1-64 of a-z 0-9 . _ @ + -)",
			    shown);
	}
	key->len = (size_t)snprintf(key->name, sizeof key->name, "%s%s", RULES_LOGIN_PREFIX, name);
	key->kind = NODE_HOST; /* not a node: the return value says so */
	return 1;
}

int rules_parse_line(const char *line, size_t len, struct node *key, struct rule *r, char *err,
		     size_t errsize)
{
	struct cursor c = {line, len, 0, err, errsize};
	uint64_t seen = 0;

	rule_init(r);
	if (memchr(line, '\0', len))
		return fail(&c, "NUL byte in line");
	skip_blanks(&c);
	if (at_end(&c))
		return 0;
	size_t e = word_end(&c);
	int login = login_key(&c, e, key);
	if (login < 0)
		return -1;
	if (!login && node_parse(key, line + c.pos, e - c.pos, NODE_RULEKEY) < 0) {
		char shown[81];
		text_sanitize(shown, sizeof shown, line + c.pos, e - c.pos);
		return fail(&c, "'%s' is not a valid key (host, @domain, #queue or [address])",
			    shown);
	}
	c.pos = e;
	for (;;) {
		skip_blanks(&c);
		if (at_end(&c))
			break;
		if (parse_attr(&c, r, &seen, login ? ATTR_LOGIN : ATTR_NODE) < 0)
			return -1;
	}
	const struct rule_attr *alone = not_alone(seen);
	if (alone)
		return fail(&c, "%s= cannot be combined with other attributes", alone->name);
	if (login && !r->password[0] && !r->cram[0])
		return fail(&c, "a login needs password= (or cram= for CRAM-MD5 only)");
	return login ? RULES_LOGIN : 1;
}
