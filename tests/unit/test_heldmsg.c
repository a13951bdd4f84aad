/* SPDX-License-Identifier: ISC */
/* The held message's envelope: addresses, format and parse, and which
 * recipients a node covers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heldmsg.h"
#include "node.h"

static int addr_ok(const char *s)
{
	return mailaddr_ok(s, strlen(s));
}

Test(heldmsg, addresses)
{
	const char *good[] = {"a@b.example",          "first.last+tag@sub.example.org",
			      "x@localhost",          "u@[192.0.2.7]",
			      "u@[IPv6:2001:db8::1]", "a@b@c.example" /* last @ */,
			      "o'neil@example.net",   NULL};
	const char *bad[] = {"",
			     "@b.example",
			     "a@",
			     "ab.example",
			     "a b@c.example",
			     "<a@b.example>",
			     "a@b.example>",
			     "a@-b.example",
			     "a@b_c.example",
			     "a@[192.0.2.300]",
			     "a@[IPv6:zz::1]",
			     "a@[192.0.2.7",
			     "a@192.0.2.7",
			     "a\t@b.example",
			     "a\x7f@b.example",
			     "\xc3\xa9@b.example",
			     NULL};
	for (int i = 0; good[i]; i++)
		cr_expect(addr_ok(good[i]), "refused '%s'", good[i]);
	for (int i = 0; bad[i]; i++)
		cr_expect(!addr_ok(bad[i]), "accepted '%s'", bad[i]);
	cr_expect(!mailaddr_ok("a\0@b.example", 12), "NUL inside");

	char longest[MAIL_ADDR_MAX + 2];
	memset(longest, 'a', sizeof longest);
	memcpy(longest + MAIL_ADDR_MAX - 10, "@b.example", 11); /* 254 octets */
	cr_expect(addr_ok(longest));
	memset(longest, 'a', sizeof longest);
	memcpy(longest + MAIL_ADDR_MAX - 9, "@b.example", 11); /* 255 */
	cr_expect(!addr_ok(longest));
	cr_expect_str_eq(mailaddr_domain("a@b@Sub.Example"), "Sub.Example");
}

/* A held message with n recipients "rI@client.example.net". */
static void make(struct held *h, const char *from, size_t n)
{
	memset(h, 0, sizeof *h);
	snprintf(h->from, sizeof h->from, "%s", from);
	h->rcpt = calloc(n, sizeof *h->rcpt);
	cr_assert(h->rcpt);
	h->n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(h->rcpt[i].addr, sizeof h->rcpt[i].addr, "r%zu@client.example.net", i);
}

static char *envelope(const struct held *h, enum held_part part, size_t *len)
{
	char *e = held_envelope(h, part, len);
	cr_assert(e);
	return e;
}

Test(heldmsg, envelope_is_exactly_the_documented_format)
{
	struct held h;
	size_t len;

	make(&h, "", 2);
	char *e = envelope(&h, HELD_WAITING, &len);
	const char *want = "etrnd-envelope 1\nfrom \nto r0@client.example.net\n"
			   "to r1@client.example.net\n\n";
	cr_assert_eq(len, strlen(want));
	cr_assert(memcmp(e, want, len) == 0, "%.*s", (int)len, e);
	free(e);

	h.rcpt[0].state = RCPT_SENT;
	h.rcpt[1].state = RCPT_FAILED;
	snprintf(h.rcpt[1].error, sizeof h.rcpt[1].error, "550 5.1.1 no such user");
	e = envelope(&h, HELD_FAILED, &len);
	want = "etrnd-envelope 1\nfrom \nto r1@client.example.net\n"
	       "error r1@client.example.net 550 5.1.1 no such user\n\n";
	cr_assert_eq(len, strlen(want));
	cr_assert(memcmp(e, want, len) == 0, "%.*s", (int)len, e);
	free(e);
	held_free(&h);
}

Test(heldmsg, round_trip_keeps_sender_recipients_errors_and_body)
{
	const size_t counts[] = {1, 2, 17, HELD_RCPTS_MAX};
	for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		struct held h, back;
		const char *why;
		size_t len;

		make(&h, c % 2 ? "" : "sender@example.org", counts[c]);
		for (size_t i = 0; i < h.n; i += 3) {
			h.rcpt[i].state = RCPT_FAILED;
			snprintf(h.rcpt[i].error, sizeof h.rcpt[i].error, "5%02zu x y", i % 100);
		}
		for (enum held_part part = HELD_WAITING; part <= HELD_FAILED; part++) {
			char *e = envelope(&h, part, &len);
			char *file = malloc(len + 6);
			memcpy(file, e, len);
			memcpy(file + len, "\nbody\n", 6);
			size_t want = 0;
			for (size_t i = 0; i < h.n; i++)
				want += (h.rcpt[i].state == RCPT_FAILED) == (part == HELD_FAILED);
			int rc = held_parse(&back, file, len + 6, &why);
			if (want == 0) { /* an envelope without recipients is not one */
				cr_assert_eq(rc, -1);
				free(file);
				free(e);
				continue;
			}
			cr_assert_eq(rc, 0, "%s", why);
			cr_assert_eq(back.body, len);
			cr_assert_str_eq(back.from, h.from);
			size_t j = 0;
			for (size_t i = 0; i < h.n; i++) {
				if ((h.rcpt[i].state == RCPT_FAILED) != (part == HELD_FAILED))
					continue;
				cr_assert_str_eq(back.rcpt[j].addr, h.rcpt[i].addr);
				cr_assert_str_eq(back.rcpt[j].error,
						 part == HELD_FAILED ? h.rcpt[i].error : "");
				cr_assert_eq(back.rcpt[j].state,
					     part == HELD_FAILED ? RCPT_FAILED : RCPT_OTHER);
				j++;
			}
			cr_assert_eq(back.n, j);
			held_free(&back);
			free(file);
			free(e);
		}
		held_free(&h);
	}
}

static void refused(const char *text, size_t len)
{
	struct held h;
	const char *why = NULL;
	int rc = held_parse(&h, text, len, &why);
	cr_expect_eq(rc, -1, "accepted: %.*s", (int)len, text);
	cr_expect(why && why[0]);
	cr_expect_null(h.rcpt, "allocation left behind");
}

#define M "etrnd-envelope 1\n"
Test(heldmsg, hostile_envelopes_are_refused)
{
	const char *bad[] = {"",
			     "etrnd-envelope 2\nfrom \nto a@b.example\n\n",
			     "ETRND-ENVELOPE 1\nfrom \nto a@b.example\n\n",
			     M "from\nto a@b.example\n\n", /* from without its space */
			     M "to a@b.example\n\n",       /* no from line */
			     M "from <>\nto a@b.example\n\n",
			     M "from a b@c.example\nto a@b.example\n\n",
			     M "from \n\n",                     /* no recipient */
			     M "from \nto\n\n",                 /* to without its space */
			     M "from \nto \n\n",                /* empty recipient */
			     M "from \nto <a@b.example>\n\n",   /* brackets */
			     M "from \nto a@b.example \n\n",    /* trailing blank */
			     M "from \nto a@b.example\r\n\r\n", /* CR */
			     M "from \nto a@b.example\nbcc c@d.example\n\n", /* unknown word */
			     M "from \n to a@b.example\n\n",
			     M "from \nto a@b.example\n", /* no blank line */
			     M "from \nto a@b.example",   /* cut */
			     M "from \nerror a@b.example 550 x\nto a@b.example\n\n",
			     M "from \nto a@b.example\nerror c@d.example 550 x\n\n",
			     M "from \nto a@b.example\nerror a@b.example\n\n",
			     M "from \nto a@b.example\nerror a@b.example 550 \x01\n\n",
			     M "from \nto a@b.example\nerror a@b.exampl 550 x\n\n",
			     NULL};
	for (int i = 0; bad[i]; i++)
		refused(bad[i], strlen(bad[i]));

	const char nul[] = M "from \nto a\0@b.example\n\n";
	refused(nul, sizeof nul - 1);

	char err[400];
	int n = snprintf(err, sizeof err, M "from \nto a@b.example\nerror a@b.example %0*d\n\n",
			 HELD_ERROR_MAX + 1, 5);
	refused(err, (size_t)n);

	/* one recipient over the limit */
	struct held h;
	size_t len;
	make(&h, "", HELD_RCPTS_MAX);
	char *e = envelope(&h, HELD_WAITING, &len);
	char *more = malloc(len + 64);
	memcpy(more, e, len - 1);
	int m = sprintf(more + len - 1, "to x@y.example\n\n");
	refused(more, len - 1 + (size_t)m);
	free(more);
	free(e);
	held_free(&h);
}

Test(heldmsg, every_cut_of_a_valid_envelope_is_refused)
{
	const char *full = M "from s@example.org\nto a@client.example.net\n"
			     "to b@sub.example.org\n\nbody\n";
	size_t end = strstr(full, "\n\n") - full + 2;
	for (size_t len = 0; len < end; len++) {
		/* a copy of exactly len octets, so that ASan sees any over-read */
		char *cut = malloc(len ? len : 1);
		memcpy(cut, full, len);
		refused(cut, len);
		free(cut);
	}
	struct held h;
	const char *why;
	cr_assert_eq(held_parse(&h, full, end, &why), 0, "%s", why);
	cr_assert_eq(h.body, end);
	cr_assert_eq(h.n, 2);
	held_free(&h);
}

static int covers(const char *node, const char *addr)
{
	struct node n;
	cr_assert_eq(node_parse(&n, node, strlen(node), 0), 0, "node %s", node);
	return held_covers(&n, addr);
}

Test(heldmsg, a_host_node_covers_exactly_its_domain)
{
	cr_expect(covers("client.example.net", "a@client.example.net"));
	cr_expect(covers("client.example.net", "a@CLIENT.Example.NET"));
	cr_expect(covers("Client.Example.Net", "a@client.example.net"));
	cr_expect(covers("client.example.net", "a@client.example.net."));
	cr_expect(!covers("client.example.net", "a@sub.client.example.net"));
	cr_expect(!covers("client.example.net", "a@notclient.example.net"));
	cr_expect(!covers("client.example.net", "a@client.example.net.evil.test"));
	cr_expect(!covers("client.example.net", "a@client-example.net"));
	cr_expect(!covers("client.example.net", "client.example.net@other.example"));
	cr_expect(!covers("client.example.net", "a@[192.0.2.7]"));
}

Test(heldmsg, a_domain_node_covers_itself_and_its_subdomains)
{
	cr_expect(covers("@example.org", "a@example.org"));
	cr_expect(covers("@example.org", "a@sub.example.org"));
	cr_expect(covers("@example.org", "a@deep.sub.Example.ORG"));
	cr_expect(covers("@Example.Org", "a@sub.example.org"));
	cr_expect(!covers("@example.org", "a@notexample.org"));
	cr_expect(!covers("@example.org", "a@sub-example.org"));
	cr_expect(!covers("@example.org", "a@example.org.evil.test"));
	cr_expect(!covers("@example.org", "a@org"));
	cr_expect(covers("@example.net", "a@client.example.net"));
	cr_expect(!covers("@client.example.net", "a@client.example.net.evil.test"));
	cr_expect(!covers("@client.example.net", "a@client-example.net"));
	cr_expect(!covers("@client.example.net", "a@example.net"));
}

Test(heldmsg, literals_queues_and_no_node)
{
	cr_expect(covers("[192.0.2.7]", "a@[192.0.2.7]"));
	cr_expect(!covers("[192.0.2.7]", "a@[192.0.2.70]"));
	cr_expect(!covers("[192.0.2.7]", "a@client.example.net"));
	cr_expect(covers("[IPv6:2001:db8::1]", "a@[ipv6:2001:DB8:0::1]"));
	cr_expect(!covers("[IPv6:2001:db8::1]", "a@[IPv6:2001:db8::2]"));
	cr_expect(covers("#queue", "a@anything.example"));
	cr_expect(held_covers(NULL, "a@anything.example"));
}
