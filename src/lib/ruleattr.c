/* SPDX-License-Identifier: ISC */
/* ruleattr.c: the attribute table, and for each kind of attribute how it
 * is read from the rules file, encoded into the cdb and decoded from it.
 * The decoder accepts exactly what the parser can produce. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "num.h"
#include "rule.h"
#include "text.h"

#define F(field) offsetof(struct rule, field)

const struct rule_attr rule_attrs[] = {
    {"allow", 'A', ATTR_CIDRS, F(allow), 1, RULE_ALLOW_MAX, ATTR_NODE},
    {"deny", 'D', ATTR_TEXT, F(deny), 1, RULE_DENY_MAX, ATTR_NODE | ATTR_ALONE},
    {"spool", 'S', ATTR_PATH, F(spool), 1, RULE_PATH_MAX, ATTR_NODE},
    {"run", 'R', ATTR_COMMAND, F(run), 1, RULE_RUN_MAX, ATTR_NODE},
    {"interval", 'I', ATTR_SECONDS, F(interval), 0, RULE_INTERVAL_MAX, ATTR_NODE},
    {"timeout", 'T', ATTR_SECONDS, F(timeout), 1, RULE_TIMEOUT_MAX, ATTR_NODE},
    {"users", 'U', ATTR_LOGINS, F(users), 1, RULE_USERS_MAX, ATTR_NODE},
    {"password", 'P', ATTR_HASH, F(password), 1, PASSWD_HASH_MAX, ATTR_LOGIN},
    {"cram", 'C', ATTR_CRAM, F(cram), CRAM_HEX, CRAM_HEX, ATTR_LOGIN},
};
const size_t rule_nattrs = sizeof rule_attrs / sizeof rule_attrs[0];

static void *field(const struct rule_attr *a, const struct rule *r);

/* Each attribute unset, as its kind says, through the table (every field
 * of struct rule is an attribute): zeroing the whole 8 KiB struct cost
 * every ETRN 8,000 instructions (make bench). */
void rule_init(struct rule *r)
{
	for (size_t i = 0; i < rule_nattrs; i++) {
		void *f = field(&rule_attrs[i], r);
		switch (rule_attrs[i].kind) {
		case ATTR_TEXT:
		case ATTR_PATH:
		case ATTR_HASH:
		case ATTR_CRAM: *(char *)f = '\0'; break;
		case ATTR_CIDRS: ((struct cidrs *)f)->n = 0; break;
		case ATTR_COMMAND: ((struct words *)f)->n = ((struct words *)f)->len = 0; break;
		case ATTR_SECONDS: *(long *)f = -1; break;
		case ATTR_LOGINS: ((struct logins *)f)->n = 0; break;
		}
	}
}

const struct rule_attr *rule_attr_named(const char *name, size_t len)
{
	for (size_t i = 0; i < rule_nattrs; i++)
		if (strlen(rule_attrs[i].name) == len && memcmp(rule_attrs[i].name, name, len) == 0)
			return &rule_attrs[i];
	return NULL;
}

static void *field(const struct rule_attr *a, const struct rule *r)
{
	return (char *)r + a->off;
}

int rule_attr_present(const struct rule_attr *a, const struct rule *r)
{
	const void *f = field(a, r);

	switch (a->kind) {
	case ATTR_TEXT:
	case ATTR_PATH:
	case ATTR_HASH:
	case ATTR_CRAM: return ((const char *)f)[0] != '\0';
	case ATTR_CIDRS: return ((const struct cidrs *)f)->n > 0;
	case ATTR_LOGINS: return ((const struct logins *)f)->n > 0;
	case ATTR_COMMAND: return ((const struct words *)f)->n > 0;
	case ATTR_SECONDS: return *(const long *)f >= 0;
	}
	return 0;
}

static int fail(char *err, size_t size, const struct rule_attr *a, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t size, const struct rule_attr *a, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(err, size, "%s: %s", a->name, why);
	return -1;
}

int rule_command_word_ok(const char *s, size_t len)
{
	if (len == 0 || !text_printable(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%')
			continue;
		if (i + 1 == len || !strchr("nrc%", s[i + 1]))
			return 0;
		i++;
	}
	return 1;
}

/* -- text and paths -------------------------------------------------- */

/* Lower-case hex digits only, in exactly v[0..len): a cdb value's text is
 * not NUL-terminated (strspn() read past it into the next attribute, or
 * into what was left in the buffer: valgrind, reading onto the stack). */
static int lower_hex(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return 0;
	return 1;
}

static const char *text_check(const struct rule_attr *a, const char *v, size_t len)
{
	if (len < a->min)
		return "empty value";
	if (len > a->max)
		return "too long";
	if (!text_printable(v, len))
		return "only printable ASCII is allowed";
	if (a->kind == ATTR_PATH && v[0] != '/')
		return "must be an absolute path";
	if (a->kind == ATTR_HASH && !passwd_hash_ok(v, len))
		return passwd_error()
			   ? passwd_error()
			   : "not a crypt(3) hash of a supported method (use etrnd-rules -p)";
	if (a->kind == ATTR_CRAM && (len != CRAM_HEX || !lower_hex(v, len)))
		return "not 64 lower-case hex digits (use etrnd-rules -c)";
	return NULL;
}

static int set_text(const struct rule_attr *a, struct rule *r, const char *v, size_t len)
{
	char *out = field(a, r);
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

/* -- allow= ---------------------------------------------------------- */

static int parse_cidrs(const struct rule_attr *a, struct rule *r, const char *v, size_t len,
		       char *err, size_t errsize)
{
	struct cidrs *c = field(a, r);
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ',')
			continue;
		char shown[64];
		text_sanitize(shown, sizeof shown, v + start, i - start);
		if (c->n == a->max)
			return fail(err, errsize, a, "more than %lu entries", a->max);
		int rc = cidr_parse(&c->v[c->n], v + start, i - start);
		if (rc == -2)
			return fail(err, errsize, a, "'%s' has bits set beyond its prefix", shown);
		if (rc < 0)
			return fail(err, errsize, a, "'%s' is not an address or CIDR block", shown);
		c->n++;
		start = i + 1;
	}
	return 0;
}

/* Each entry: family (4 or 6), prefix, then 4 or 16 address octets. */
static size_t encode_cidrs(const struct cidrs *c, unsigned char *out)
{
	unsigned char *p = out;

	for (size_t i = 0; i < c->n; i++) {
		size_t n = c->v[i].family == AF_INET ? 4 : 16;
		*p++ = (unsigned char)(n == 4 ? 4 : 6);
		*p++ = (unsigned char)c->v[i].prefix;
		memcpy(p, c->v[i].b, n);
		p += n;
	}
	return (size_t)(p - out);
}

static int decode_cidrs(const struct rule_attr *a, struct cidrs *c, const unsigned char *d,
			size_t len)
{
	for (size_t i = 0; i < len;) {
		if (c->n == a->max || len - i < 2)
			return -1;
		struct cidr *e = &c->v[c->n++];
		size_t n = d[i] == 4 ? 4 : d[i] == 6 ? 16 : 0;
		if (n == 0 || d[i + 1] > n * 8 || len - i - 2 < n)
			return -1;
		e->family = n == 4 ? AF_INET : AF_INET6;
		e->prefix = d[i + 1];
		memcpy(e->b, d + i + 2, n);
		for (unsigned bit = e->prefix; bit < n * 8; bit++)
			if (e->b[bit / 8] & (0x80u >> (bit % 8)))
				return -1;
		i += 2 + n;
	}
	return c->n ? 0 : -1;
}

/* -- run= ------------------------------------------------------------ */

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies one word starting at v[*i] into w; 'single quotes' group. */
static int command_word(struct words *w, const char *v, size_t len, size_t *i, size_t max)
{
	while (*i < len && !blank(v[*i])) {
		size_t n = 1;
		const char *s = v + *i;
		if (v[*i] == '\'') {
			const char *q = memchr(v + *i + 1, '\'', len - *i - 1);
			if (!q)
				return -1;
			s = v + *i + 1;
			n = (size_t)(q - s);
			*i += n + 2;
		} else {
			(*i)++;
		}
		if (w->len + n > max) /* the NUL ending the last word is extra */
			return -2;
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
	return 0;
}

static int parse_command(const struct rule_attr *a, struct rule *r, const char *v, size_t len,
			 char *err, size_t errsize)
{
	struct words *w = field(a, r);
	size_t i = 0;

	for (;;) {
		while (i < len && blank(v[i]))
			i++;
		if (i == len)
			break;
		if (w->n == RULE_RUN_ARGS_MAX)
			return fail(err, errsize, a, "more than %d arguments", RULE_RUN_ARGS_MAX);
		size_t start = w->len;
		int rc = command_word(w, v, len, &i, a->max);
		if (rc == -1)
			return fail(err, errsize, a, "unterminated single quote");
		if (rc == -2)
			return fail(err, errsize, a, "longer than %lu octets", a->max);
		if (!rule_command_word_ok(w->buf + start, w->len - start))
			return fail(err, errsize, a,
				    "argument %zu is empty, not printable, or has a %% other "
				    "than %%n %%r %%c %%%%",
				    w->n + 1);
		w->buf[w->len++] = '\0';
		w->n++;
	}
	if (w->n == 0)
		return fail(err, errsize, a, "empty command");
	if (w->buf[0] != '/')
		return fail(err, errsize, a, "the command must be an absolute path");
	return 0;
}

static int decode_command(const struct rule_attr *a, struct words *w, const unsigned char *d,
			  size_t len)
{
	size_t start = 0;

	if (len == 0 || len > a->max + 1 || d[len - 1] != '\0' || d[0] != '/')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (d[i] != '\0')
			continue;
		if (w->n == RULE_RUN_ARGS_MAX ||
		    !rule_command_word_ok((const char *)d + start, i - start))
			return -1;
		w->n++;
		start = i + 1;
	}
	memcpy(w->buf, d, len);
	w->len = len;
	return 0;
}

/* -- users= --------------------------------------------------------- */

static int parse_logins(const struct rule_attr *a, struct rule *r, const char *v, size_t len,
			char *err, size_t errsize)
{
	struct logins *l = field(a, r);
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && v[i] != ',')
			continue;
		char shown[LOGIN_BUF];
		text_sanitize(shown, sizeof shown, v + start, i - start);
		if (l->n == a->max)
			return fail(err, errsize, a, "more than %lu logins", a->max);
		if (login_parse(l->v[l->n], v + start, i - start) < 0)
			return fail(err, errsize, a,
				    "'%s' is not a login name (1-64 of a-z 0-9 . _ @ + -)", shown);
		for (size_t j = 0; j < l->n; j++)
			if (strcmp(l->v[j], l->v[l->n]) == 0)
				return fail(err, errsize, a, "'%s' given twice", l->v[j]);
		l->n++;
		start = i + 1;
	}
	return 0;
}

/* Encoded as the folded names joined by commas: the text form again. */
static size_t encode_logins(const struct logins *l, unsigned char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			out[n++] = ',';
		memcpy(out + n, l->v[i], strlen(l->v[i]));
		n += strlen(l->v[i]);
	}
	return n;
}

static int decode_logins(const struct rule_attr *a, struct rule *r, const unsigned char *d,
			 size_t len)
{
	char err[RULE_DENY_MAX];
	const struct logins *l = field(a, r);

	if (parse_logins(a, r, (const char *)d, len, err, sizeof err) < 0 || l->n == 0)
		return -1;
	unsigned char again[RULE_USERS_MAX * LOGIN_BUF];
	return encode_logins(l, again) == len && memcmp(again, d, len) == 0 ? 0 : -1;
}

/* -- seconds --------------------------------------------------------- */

static int parse_seconds(const struct rule_attr *a, struct rule *r, const char *v, size_t len,
			 char *err, size_t errsize)
{
	unsigned long long n;

	if (num_parse(v, len, 0, ~0ULL >> 1, &n) < 0)
		return fail(err, errsize, a, "not a number of seconds");
	if (n < a->min || n > a->max)
		return fail(err, errsize, a, "must be between %lu and %lu", a->min, a->max);
	*(long *)field(a, r) = (long)n;
	return 0;
}

static int decode_seconds(const struct rule_attr *a, long *out, const unsigned char *d, size_t len)
{
	if (len != 4)
		return -1;
	unsigned long v = ((unsigned long)d[0] << 24) | ((unsigned long)d[1] << 16) |
			  ((unsigned long)d[2] << 8) | d[3];
	if (v < a->min || v > a->max)
		return -1;
	*out = (long)v;
	return 0;
}

/* -- dispatch by kind ------------------------------------------------ */

int rule_attr_parse(const struct rule_attr *a, struct rule *r, const char *v, size_t len, char *err,
		    size_t errsize)
{
	const char *why;

	switch (a->kind) {
	case ATTR_TEXT:
	case ATTR_PATH:
	case ATTR_HASH:
	case ATTR_CRAM:
		if ((why = text_check(a, v, len)) != NULL)
			return fail(err, errsize, a, "%s", why);
		return set_text(a, r, v, len);
	case ATTR_CIDRS: return parse_cidrs(a, r, v, len, err, errsize);
	case ATTR_LOGINS: return parse_logins(a, r, v, len, err, errsize);
	case ATTR_COMMAND: return parse_command(a, r, v, len, err, errsize);
	case ATTR_SECONDS: return parse_seconds(a, r, v, len, err, errsize);
	}
	return -1;
}

size_t rule_attr_encode(const struct rule_attr *a, const struct rule *r, unsigned char *out)
{
	const void *f = field(a, r);
	size_t n;

	switch (a->kind) {
	case ATTR_TEXT:
	case ATTR_PATH:
	case ATTR_HASH:
	case ATTR_CRAM:
		n = strlen(f);
		memcpy(out, f, n);
		return n;
	case ATTR_CIDRS: return encode_cidrs(f, out);
	case ATTR_LOGINS: return encode_logins(f, out);
	case ATTR_COMMAND:
		memcpy(out, ((const struct words *)f)->buf, ((const struct words *)f)->len);
		return ((const struct words *)f)->len;
	case ATTR_SECONDS: {
		unsigned long v = (unsigned long)*(const long *)f;
		out[0] = (unsigned char)(v >> 24), out[1] = (unsigned char)(v >> 16);
		out[2] = (unsigned char)(v >> 8), out[3] = (unsigned char)v;
		return 4;
	}
	}
	return 0;
}

int rule_attr_decode(const struct rule_attr *a, struct rule *r, const unsigned char *d, size_t len)
{
	switch (a->kind) {
	case ATTR_TEXT:
	case ATTR_PATH:
	case ATTR_HASH:
	case ATTR_CRAM:
		if (text_check(a, (const char *)d, len))
			return -1;
		return set_text(a, r, (const char *)d, len);
	case ATTR_CIDRS: return decode_cidrs(a, field(a, r), d, len);
	case ATTR_LOGINS: return decode_logins(a, r, d, len);
	case ATTR_COMMAND: return decode_command(a, field(a, r), d, len);
	case ATTR_SECONDS: return decode_seconds(a, field(a, r), d, len);
	}
	return -1;
}
