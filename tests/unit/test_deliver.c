/* SPDX-License-Identifier: ISC */
/* etrnd-deliver: the DATA encoding, destinations, the held message files,
 * and bin/etrnd-deliver as a process against tests/helpers/smtpsink. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpdata.h"
#include "testutil.h"

struct data_case {
	const char *in;
	size_t inlen;
	const char *out; /* on the wire, with the final dot */
	size_t outlen;
	size_t size; /* RFC 1870 */
};

#define C(in, out, size)                                     \
	{                                                    \
		in, sizeof in - 1, out, sizeof out - 1, size \
	}
static const struct data_case data_cases[] = {
    C("", ".\r\n", 0),
    C("a", "a\r\n.\r\n", 3),
    C("a\n", "a\r\n.\r\n", 3),
    C("a\r\n", "a\r\n.\r\n", 3),
    C(".\n", "..\r\n.\r\n", 3),
    C("..x\n.\n", "...x\r\n..\r\n.\r\n", 8),
    C("a\n.b", "a\r\n..b\r\n.\r\n", 7),
    C("a.\n", "a.\r\n.\r\n", 4),
    C("\r\n.\r\n", "\r\n..\r\n.\r\n", 5),
    C("a\r\r\n", "a\r\r\n.\r\n", 4),
    C("a\rb\n", "a\rb\r\n.\r\n", 5),
    C("a\r.b\n", "a\r.b\r\n.\r\n", 6),
    C("\n\n", "\r\n\r\n.\r\n", 4),
    C("x\r", "x\r\r\n.\r\n", 4),
    C(".", "..\r\n.\r\n", 3),
    C("\xe9t\xe9\n", "\xe9t\xe9\r\n.\r\n", 5),
    C("\0a\n", "\0a\r\n.\r\n", 4),
    C("Subject: x\n\n.\n..\n.x\n", "Subject: x\r\n\r\n..\r\n...\r\n..x\r\n.\r\n", 25),
};

/* Encodes in through in-chunks of ichunk octets and an out buffer of osize. */
static char *encode(const struct data_case *c, size_t ichunk, size_t osize, size_t *len)
{
	struct smtpdata s;
	char *out = malloc(3 * c->inlen + SMTPDATA_END_MAX), buf[64];
	size_t n = 0;

	cr_assert(osize <= sizeof buf);
	smtpdata_init(&s);
	for (size_t at = 0; at < c->inlen;) {
		size_t chunk = c->inlen - at < ichunk ? c->inlen - at : ichunk, used = 0;
		while (used < chunk) {
			size_t u;
			size_t w =
			    smtpdata_put(&s, c->in + at + used, chunk - used, &u, buf, osize);
			cr_assert(u > 0 && w <= osize, "no progress");
			memcpy(out + n, buf, w);
			n += w, used += u;
		}
		at += chunk;
	}
	n += smtpdata_end(&s, out + n);
	*len = n;
	return out;
}

Test(smtpdata, dot_stuffing_and_line_ends_in_any_chunks)
{
	const size_t ichunks[] = {1, 2, 3, 7, 4096}, osizes[] = {2, 3, 5, 64};
	for (size_t i = 0; i < sizeof data_cases / sizeof data_cases[0]; i++) {
		const struct data_case *c = &data_cases[i];
		for (size_t a = 0; a < 5; a++)
			for (size_t b = 0; b < 4; b++) {
				size_t len;
				char *got = encode(c, ichunks[a], osizes[b], &len);
				cr_expect(len == c->outlen && memcmp(got, c->out, len) == 0,
					  "case %zu (chunk %zu, out %zu): got %zu octets", i,
					  ichunks[a], osizes[b], len);
				free(got);
			}
	}
}

Test(smtpdata, size_is_rfc1870_exact)
{
	for (size_t i = 0; i < sizeof data_cases / sizeof data_cases[0]; i++) {
		const struct data_case *c = &data_cases[i];
		cr_expect_eq(smtpdata_size(c->in, c->inlen), c->size, "case %zu: %zu", i,
			     smtpdata_size(c->in, c->inlen));
	}
}

Test(smtpdata, eight_bit)
{
	cr_expect(!smtpdata_8bit("plain ASCII\r\n\x7f", 14));
	cr_expect(smtpdata_8bit("caf\xc3\xa9", 5));
	cr_expect(smtpdata_8bit("\x80", 1));
	cr_expect(!smtpdata_8bit("", 0));
}

/* -- MX answers ------------------------------------------------------- */

#include "mx.h"

struct pkt {
	unsigned char b[4096];
	int len;
};

static void put16(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)v;
}

/* A name in DNS wire form ("" is the root). */
static void put_name(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		p->b[p->len++] = (unsigned char)l;
		memcpy(p->b + p->len, name, l);
		p->len += (int)l;
		name += l + (dot ? 1 : 0);
	}
	p->b[p->len++] = 0;
}

/* Header and question for example.net MX, with an answers. */
static void start(struct pkt *p, unsigned an)
{
	memset(p, 0, sizeof *p);
	put16(p, 0x1234), put16(p, 0x8180), put16(p, 1), put16(p, an), put16(p, 0), put16(p, 0);
	put_name(p, "example.net");
	put16(p, 15), put16(p, 1);
}

/* An answer record: owner = the question's name (pointer 0xc00c). */
static void mx_rr(struct pkt *p, unsigned type, unsigned class, unsigned pref, const char *host)
{
	put16(p, 0xc00c), put16(p, type), put16(p, class), put16(p, 0), put16(p, 300);
	int rdlen_at = p->len;
	put16(p, 0);
	int rd = p->len;
	put16(p, pref);
	put_name(p, host);
	p->b[rdlen_at] = (unsigned char)((p->len - rd) >> 8);
	p->b[rdlen_at + 1] = (unsigned char)(p->len - rd);
}

static enum mx_result parse_pkt(const struct pkt *p, struct mx *v, int *n)
{
	/* an exact-size copy: ASan sees any read past the packet */
	unsigned char *copy = malloc((size_t)p->len);
	memcpy(copy, p->b, (size_t)p->len);
	enum mx_result rc = mx_parse(copy, p->len, v, n);
	free(copy);
	return rc;
}

Test(mx, preference_order_ties_keep_dns_order)
{
	struct pkt p;
	struct mx v[DELIVER_MX_MAX];
	int n;

	start(&p, 4);
	mx_rr(&p, 15, 1, 20, "mx2.example.net");
	mx_rr(&p, 5, 1, 0, "alias.example.net"); /* a CNAME-typed record: skipped */
	mx_rr(&p, 15, 1, 10, "MX1.Example.NET.");
	mx_rr(&p, 15, 1, 20, "mx3.example.net");
	cr_assert_eq(parse_pkt(&p, v, &n), MX_OK);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(v[0].host, "mx1.example.net");
	cr_expect_str_eq(v[1].host, "mx2.example.net");
	cr_expect_str_eq(v[2].host, "mx3.example.net");
	cr_expect_eq(v[0].pref, 10);
}

Test(mx, no_mx_records_means_the_implicit_mx)
{
	struct pkt p;
	struct mx v[DELIVER_MX_MAX];
	int n = 7;

	start(&p, 0);
	cr_assert_eq(parse_pkt(&p, v, &n), MX_OK);
	cr_assert_eq(n, 0);
}

Test(mx, null_mx_and_unusable_targets)
{
	struct pkt p;
	struct mx v[DELIVER_MX_MAX];
	int n;

	start(&p, 1);
	mx_rr(&p, 15, 1, 0, "");
	cr_expect_eq(parse_pkt(&p, v, &n), MX_NONE, "RFC 7505 null MX");

	start(&p, 2);
	mx_rr(&p, 15, 1, 10, "bad_host.example.net");
	mx_rr(&p, 15, 1, 20, "-x.example.net");
	cr_expect_eq(parse_pkt(&p, v, &n), MX_TEMP, "MX records, none usable: not implicit");

	start(&p, 3);
	mx_rr(&p, 15, 1, 10, "bad_host.example.net");
	mx_rr(&p, 15, 1, 30, "");
	mx_rr(&p, 15, 1, 20, "ok.example.net");
	cr_assert_eq(parse_pkt(&p, v, &n), MX_OK);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(v[0].host, "ok.example.net");

	start(&p, 1);
	mx_rr(&p, 15, 3 /* CH */, 10, "chaos.example.net");
	cr_assert_eq(parse_pkt(&p, v, &n), MX_OK);
	cr_expect_eq(n, 0, "a record of another class is not an MX of this domain");
}

Test(mx, at_most_deliver_mx_max_hosts)
{
	struct pkt p;
	struct mx v[DELIVER_MX_MAX];
	int n;
	char host[32];

	start(&p, DELIVER_MX_MAX + 4);
	for (int i = 0; i < DELIVER_MX_MAX + 4; i++) {
		snprintf(host, sizeof host, "mx%d.example.net", i);
		mx_rr(&p, 15, 1, (unsigned)(100 - i), host);
	}
	cr_assert_eq(parse_pkt(&p, v, &n), MX_OK);
	cr_assert_eq(n, DELIVER_MX_MAX);
	cr_expect_eq(v[0].pref, 100 - (DELIVER_MX_MAX - 1));
}

Test(mx, malformed_answers_are_temporary_never_a_crash)
{
	struct pkt good, p;
	struct mx v[DELIVER_MX_MAX];
	int n;

	start(&good, 1);
	mx_rr(&good, 15, 1, 10, "mx.example.net");
	/* every cut of a valid answer */
	for (int len = 0; len < good.len; len++) {
		p = good;
		p.len = len;
		cr_expect_eq(parse_pkt(&p, v, &n), MX_TEMP, "cut at %d", len);
	}
	/* more answers announced than present */
	p = good;
	p.b[7] = 2;
	cr_expect_eq(parse_pkt(&p, v, &n), MX_TEMP);
	/* rdlength past the end */
	p = good;
	p.b[good.len - 20] = 0x7f;
	cr_expect_eq(parse_pkt(&p, v, &n), MX_TEMP);
	/* the exchange runs past its rdlength: rdlength 3 for a longer name */
	start(&p, 1);
	put16(&p, 0xc00c), put16(&p, 15), put16(&p, 1), put16(&p, 0), put16(&p, 300);
	put16(&p, 3), put16(&p, 10);
	put_name(&p, "mx.example.net");
	cr_expect_eq(parse_pkt(&p, v, &n), MX_TEMP);
	/* a compression pointer to itself, and one past the packet */
	const unsigned ptrs[] = {0, 0x3fff};
	for (int i = 0; i < 2; i++) {
		start(&p, 1);
		put16(&p, 0xc00c), put16(&p, 15), put16(&p, 1), put16(&p, 0), put16(&p, 300);
		put16(&p, 4), put16(&p, 10);
		put16(&p, 0xc000 | (ptrs[i] ? ptrs[i] : (unsigned)p.len));
		cr_expect_eq(parse_pkt(&p, v, &n), MX_TEMP, "pointer %u", ptrs[i]);
	}
}
