/* rules.c: parse one rules line: KEY [name=value ...].
 *
 * '#' followed by a blank or the end of the line starts a comment; '#name'
 * is a queue key. A value may be double-quoted ("a b", with \" and \\). */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct cursor {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errsize;
};

static int fail(struct cursor *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/* The text as typed, for an error message: truncated, non-printables '?'. */
static void printable(char *out, size_t size, const char *s, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
	out[n] = '\0';
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

/* Reads a value, unquoting it into out; returns its length or -1. */
static int read_value(struct cursor *c, char *out, size_t size)
{
	size_t n = 0;

	if (c->pos < c->len && c->s[c->pos] == '"') {
		for (c->pos++; c->pos < c->len && c->s[c->pos] != '"'; c->pos++) {
			if (c->s[c->pos] == '\\' && c->pos + 1 < c->len)
				c->pos++;
			if (n + 1 >= size)
				return fail(c, "value too long");
			out[n++] = c->s[c->pos];
		}
		if (c->pos >= c->len)
			return fail(c, "unterminated quoted value");
		c->pos++;
		if (c->pos < c->len && !blank(c->s[c->pos]))
			return fail(c, "blank expected after closing quote");
	} else {
		size_t e = word_end(c);
		if (e - c->pos >= size)
			return fail(c, "value too long");
		memcpy(out, c->s + c->pos, e - c->pos);
		n = e - c->pos;
		c->pos = e;
	}
	out[n] = '\0';
	return (int)n;
}

static int parse_allow(struct cursor *c, struct rule *r, const char *v, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ',')
			continue;
		if (r->nallow == RULE_ALLOW_MAX)
			return fail(c, "allow: more than %d entries", RULE_ALLOW_MAX);
		int rc = cidr_parse(&r->allow[r->nallow], v + start, i - start);
		if (rc == -2)
			return fail(c, "allow: '%.*s' has bits set beyond its prefix",
				    (int)(i - start), v + start);
		if (rc < 0)
			return fail(c, "allow: '%.*s' is not an address or CIDR block",
				    (int)(i - start), v + start);
		r->nallow++;
		start = i + 1;
	}
	return 0;
}

/* Splits a run= template into NUL-separated words; 'single quotes' group. */
static int parse_run(struct cursor *c, struct rule *r, const char *v, size_t len)
{
	size_t i = 0, n = 0;

	for (;;) {
		while (i < len && blank(v[i]))
			i++;
		if (i == len)
			break;
		if (r->nrun == RULE_RUN_ARGS_MAX)
			return fail(c, "run: more than %d arguments", RULE_RUN_ARGS_MAX);
		size_t start = n;
		while (i < len && !blank(v[i])) {
			if (v[i] == '\'') {
				const char *q = memchr(v + i + 1, '\'', len - i - 1);
				if (!q)
					return fail(c, "run: unterminated single quote");
				size_t qn = (size_t)(q - v) - i - 1;
				memcpy(r->run + n, v + i + 1, qn);
				n += qn;
				i += qn + 2;
			} else {
				r->run[n++] = v[i++];
			}
		}
		if (!rule_run_arg_ok(r->run + start, n - start))
			return fail(c,
				    "run: argument %zu is empty, not printable, or has a %% "
				    "other than %%n %%r %%c %%%%",
				    r->nrun + 1);
		r->run[n++] = '\0';
		r->nrun++;
	}
	if (r->nrun == 0)
		return fail(c, "run: empty command");
	if (r->run[0] != '/')
		return fail(c, "run: the command must be an absolute path");
	r->runlen = n;
	return 0;
}

static int parse_number(struct cursor *c, const char *name, const char *v, size_t len, long min,
			long max, long *out)
{
	long n = 0;

	if (len == 0 || len > 9)
		return fail(c, "%s: not a number of seconds", name);
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(c, "%s: not a number of seconds", name);
		n = n * 10 + (v[i] - '0');
	}
	if (n < min || n > max)
		return fail(c, "%s: must be between %ld and %ld", name, min, max);
	*out = n;
	return 0;
}

static int parse_text(struct cursor *c, const char *name, char *out, size_t max, const char *v,
		      size_t len)
{
	if (len == 0)
		return fail(c, "%s: empty value", name);
	if (len > max)
		return fail(c, "%s: longer than %zu characters", name, max);
	if (!rule_text_ok(v, len))
		return fail(c, "%s: only printable ASCII is allowed", name);
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

static int set_attr(struct cursor *c, struct rule *r, const char *name, const char *v, size_t len)
{
	if (strcmp(name, "allow") == 0)
		return parse_allow(c, r, v, len);
	if (strcmp(name, "deny") == 0) {
		r->has_deny = 1;
		return parse_text(c, "deny", r->deny, RULE_DENY_MAX, v, len);
	}
	if (strcmp(name, "spool") == 0) {
		if (parse_text(c, "spool", r->spool, RULE_PATH_MAX, v, len) < 0)
			return -1;
		return v[0] == '/' ? 0 : fail(c, "spool: must be an absolute path");
	}
	if (strcmp(name, "run") == 0)
		return parse_run(c, r, v, len);
	if (strcmp(name, "interval") == 0)
		return parse_number(c, name, v, len, 0, RULE_INTERVAL_MAX, &r->interval);
	if (strcmp(name, "timeout") == 0)
		return parse_number(c, name, v, len, 1, RULE_TIMEOUT_MAX, &r->timeout);
	return fail(c, "unknown attribute '%s'", name);
}

static int parse_attr(struct cursor *c, struct rule *r, unsigned *seen)
{
	static const char *const names[] = {"allow", "deny", "spool", "run", "interval", "timeout"};
	char name[16], value[RULE_RUN_MAX];
	size_t n = 0;

	while (c->pos < c->len && c->s[c->pos] >= 'a' && c->s[c->pos] <= 'z' && n + 1 < sizeof name)
		name[n++] = c->s[c->pos++];
	name[n] = '\0';
	if (n == 0 || c->pos >= c->len || c->s[c->pos] != '=')
		return fail(c, "expected name=value at column %zu", c->pos + 1);
	c->pos++;
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i]) != 0)
			continue;
		if (*seen & (1u << i))
			return fail(c, "%s= given twice", name);
		*seen |= 1u << i;
	}
	int vlen = read_value(c, value, sizeof value);
	if (vlen < 0)
		return -1;
	return set_attr(c, r, name, value, (size_t)vlen);
}

int rules_parse_line(const char *line, size_t len, struct node *key, struct rule *r, char *err,
		     size_t errsize)
{
	struct cursor c = {line, len, 0, err, errsize};
	unsigned seen = 0;

	rule_init(r);
	if (memchr(line, '\0', len))
		return fail(&c, "NUL byte in line");
	skip_blanks(&c);
	if (at_end(&c))
		return 0;
	size_t e = word_end(&c);
	if (node_parse(key, line + c.pos, e - c.pos, NODE_RULEKEY) < 0) {
		char shown[81];
		printable(shown, sizeof shown, line + c.pos, e - c.pos);
		return fail(&c, "'%s' is not a valid key (host, @domain, #queue or [address])",
			    shown);
	}
	c.pos = e;
	for (;;) {
		skip_blanks(&c);
		if (at_end(&c))
			break;
		if (parse_attr(&c, r, &seen) < 0)
			return -1;
	}
	if (r->has_deny && seen != 2)
		return fail(&c, "deny= cannot be combined with other attributes");
	return 1;
}
