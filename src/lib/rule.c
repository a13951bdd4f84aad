/* rule.c: the cdb value codec. The writer is etrnd-rules; the reader is
 * etrnd and etrnd-runner, which trust nothing they read. */
#include "rule.h"

#include <string.h>
#include <sys/socket.h>

void rule_init(struct rule *r)
{
	memset(r, 0, sizeof *r);
	r->interval = -1;
	r->timeout = -1;
}

int rule_text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int rule_run_arg_ok(const char *s, size_t len)
{
	if (len == 0 || !rule_text_ok(s, len))
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

static unsigned char *put_field(unsigned char *p, int tag, const void *data, size_t len)
{
	*p++ = (unsigned char)tag;
	*p++ = (unsigned char)(len >> 8);
	*p++ = (unsigned char)len;
	memcpy(p, data, len);
	return p + len;
}

static unsigned char *put_u32(unsigned char *p, int tag, unsigned long v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	return put_field(p, tag, b, 4);
}

static size_t encode_allow(const struct rule *r, unsigned char *out)
{
	unsigned char *p = out;

	for (size_t i = 0; i < r->nallow; i++) {
		const struct cidr *c = &r->allow[i];
		size_t n = c->family == AF_INET ? 4 : 16;
		*p++ = (unsigned char)(c->family == AF_INET ? 4 : 6);
		*p++ = (unsigned char)c->prefix;
		memcpy(p, c->b, n);
		p += n;
	}
	return (size_t)(p - out);
}

size_t rule_encode(const struct rule *r, unsigned char *out)
{
	unsigned char *p = out;

	*p++ = RULE_FORMAT;
	if (r->nallow) {
		unsigned char allow[RULE_ALLOW_MAX * 18];
		size_t len = encode_allow(r, allow);
		p = put_field(p, 'A', allow, len);
	}
	if (r->has_deny)
		p = put_field(p, 'D', r->deny, strlen(r->deny));
	if (r->spool[0])
		p = put_field(p, 'S', r->spool, strlen(r->spool));
	if (r->nrun)
		p = put_field(p, 'R', r->run, r->runlen);
	if (r->interval >= 0)
		p = put_u32(p, 'I', (unsigned long)r->interval);
	if (r->timeout >= 0)
		p = put_u32(p, 'T', (unsigned long)r->timeout);
	return (size_t)(p - out);
}

static int decode_allow(struct rule *r, const unsigned char *d, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (r->nallow == RULE_ALLOW_MAX || len - i < 2)
			return -1;
		struct cidr *c = &r->allow[r->nallow++];
		size_t n = d[i] == 4 ? 4 : d[i] == 6 ? 16 : 0;
		if (n == 0 || d[i + 1] > n * 8 || len - i - 2 < n)
			return -1;
		c->family = n == 4 ? AF_INET : AF_INET6;
		c->prefix = d[i + 1];
		memcpy(c->b, d + i + 2, n);
		for (unsigned bit = c->prefix; bit < n * 8; bit++)
			if (c->b[bit / 8] & (0x80u >> (bit % 8)))
				return -1;
		i += 2 + n;
	}
	return r->nallow ? 0 : -1;
}

static int decode_string(char *out, size_t max, const unsigned char *d, size_t len)
{
	if (len == 0 || len > max || !rule_text_ok((const char *)d, len))
		return -1;
	memcpy(out, d, len);
	out[len] = '\0';
	return 0;
}

static int decode_run(struct rule *r, const unsigned char *d, size_t len)
{
	size_t start = 0;

	if (len == 0 || len > RULE_RUN_MAX || d[len - 1] != '\0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (d[i] != '\0')
			continue;
		if (r->nrun == RULE_RUN_ARGS_MAX ||
		    !rule_run_arg_ok((const char *)d + start, i - start))
			return -1;
		r->nrun++;
		start = i + 1;
	}
	if (d[0] != '/')
		return -1;
	memcpy(r->run, d, len);
	r->runlen = len;
	return 0;
}

static int decode_u32(long *out, const unsigned char *d, size_t len, long min, long max)
{
	if (len != 4)
		return -1;
	unsigned long v = ((unsigned long)d[0] << 24) | ((unsigned long)d[1] << 16) |
			  ((unsigned long)d[2] << 8) | d[3];
	if (v < (unsigned long)min || v > (unsigned long)max)
		return -1;
	*out = (long)v;
	return 0;
}

static int decode_field(struct rule *r, int tag, const unsigned char *d, size_t len)
{
	switch (tag) {
	case 'A': return decode_allow(r, d, len);
	case 'D': r->has_deny = 1; return decode_string(r->deny, RULE_DENY_MAX, d, len);
	case 'S':
		if (decode_string(r->spool, RULE_PATH_MAX, d, len) < 0)
			return -1;
		return r->spool[0] == '/' ? 0 : -1;
	case 'R': return decode_run(r, d, len);
	case 'I': return decode_u32(&r->interval, d, len, 0, RULE_INTERVAL_MAX);
	case 'T': return decode_u32(&r->timeout, d, len, 1, RULE_TIMEOUT_MAX);
	default: return -1;
	}
}

int rule_decode(struct rule *r, const unsigned char *v, size_t len)
{
	static const char tags[] = "ADSRIT";
	unsigned seen = 0;
	size_t i = 1;

	rule_init(r);
	if (len == 0 || v[0] != RULE_FORMAT)
		return -1;
	while (i < len) {
		if (len - i < 3)
			return -1;
		int tag = v[i];
		size_t flen = ((size_t)v[i + 1] << 8) | v[i + 2];
		const char *t = tag ? strchr(tags, tag) : NULL;
		if (!t || (seen & (1u << (t - tags))) || len - i - 3 < flen)
			return -1;
		seen |= 1u << (t - tags);
		if (decode_field(r, tag, v + i + 3, flen) < 0)
			return -1;
		i += 3 + flen;
	}
	return 0;
}
