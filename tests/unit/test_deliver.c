/* SPDX-License-Identifier: ISC */
/* etrnd-deliver: the DATA encoding, destinations, the held message files,
 * and bin/etrnd-deliver as a process against tests/helpers/smtpsink. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpdata.h"
#include "sinkutil.h"
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
    C("a\r.b\n", "a\r..b\r\n.\r\n", 6), /* a dot after a bare CR: smuggling */
    C("x\r.\r\ny\n", "x\r..\r\ny\r\n.\r\n", 8),
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

/* -- destinations ----------------------------------------------------- */

#include "deliver.h"
#include "log.h"

static void dest_ok(const char *s, enum dest_kind kind, const char *host, const char *port)
{
	struct dest d;
	cr_assert_eq(dest_parse(&d, s), 0, "refused '%s'", s);
	cr_expect_eq(d.kind, kind, "%s", s);
	cr_expect_str_eq(d.host, host, "%s", s);
	cr_expect_str_eq(d.port, port, "%s", s);
}

Test(dest, forms)
{
	dest_ok("mx", DEST_MX, "", "25");
	dest_ok("MX", DEST_MX, "", "25");
	dest_ok("mx.", DEST_HOST, "mx", "25"); /* a host named mx */
	dest_ok("mail.example.net", DEST_HOST, "mail.example.net", "25");
	dest_ok("Mail.Example.NET.", DEST_HOST, "mail.example.net", "25");
	dest_ok("localhost:2525", DEST_HOST, "localhost", "2525");
	dest_ok("192.0.2.7:25", DEST_HOST, "192.0.2.7", "25");
	dest_ok("[192.0.2.7]", DEST_HOST, "192.0.2.7", "25");
	dest_ok("[192.0.2.7]:587", DEST_HOST, "192.0.2.7", "587");
	dest_ok("[2001:db8::7]:25", DEST_HOST, "2001:db8::7", "25");
	dest_ok("[2001:DB8:0::7]", DEST_HOST, "2001:db8::7", "25");
	dest_ok("[ipv6:2001:db8::7]:2525", DEST_HOST, "2001:db8::7", "2525");
	dest_ok("[IPv6:::1]:1", DEST_HOST, "::1", "1");
	dest_ok("[::ffff:192.0.2.7]:25", DEST_HOST, "192.0.2.7", "25");
	dest_ok("h.example:65535", DEST_HOST, "h.example", "65535");
	dest_ok("h.example:0025", DEST_HOST, "h.example", "25");
}

Test(dest, refused)
{
	const char *bad[] = {"",
			     "h.example:",
			     "h.example:0",
			     "h.example:65536",
			     "h.example:99999999999999999999",
			     "h.example:-1",
			     "h.example:+25",
			     "h.example:25 ",
			     "h.example:2x",
			     "h_x.example",
			     "-h.example",
			     "2001:db8::7",
			     "2001:db8::7:25",
			     "[2001:db8::7]25",
			     "[2001:db8::7]:",
			     "[2001:db8::7]:0",
			     "[192.0.2.7]:70000",
			     "[192.0.2.300]",
			     "[ipv6:]",
			     "[]",
			     "[h.example]",
			     "[192.0.2.7",
			     "192.0.2.7]",
			     "h.example:25:25",
			     NULL};
	struct dest d;
	for (int i = 0; bad[i]; i++)
		cr_expect_eq(dest_parse(&d, bad[i]), -1, "accepted '%s'", bad[i]);
}

/* -- bin/etrnd-deliver against tests/helpers/smtpsink ---------------- */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dir, *mdpath, *sinkdir, *sinklog, *ready;
static pid_t sink_pid = -1;
static char sink_port[8];

static void psetup(void)
{
	dir = tu_tmpdir();
	cr_assert(asprintf(&mdpath, "%s/md", dir) > 0);
	cr_assert(asprintf(&sinkdir, "%s/sink", dir) > 0);
	cr_assert(asprintf(&sinklog, "%s/sink.log", dir) > 0);
	cr_assert(asprintf(&ready, "%s/sink.ready", dir) > 0);
	sink_pid = -1;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static void sink_stop(void)
{
	if (sink_pid > 0) {
		kill(sink_pid, SIGTERM);
		tu_reap(sink_pid, 10);
	}
	sink_pid = -1;
}

static void pteardown(void)
{
	sink_stop();
	tu_rmtree(dir);
	free(dir), free(mdpath), free(sinkdir), free(sinklog), free(ready);
}

TestSuite(deliver, .init = psetup, .fini = pteardown, .timeout = 180);

static const char *helpers(void)
{
	return getenv("ETRND_HELPERS") ? getenv("ETRND_HELPERS") : "tests/helpers";
}

/* Starts the sink on listen ("127.0.0.1:0", "[::1]:0") with extra options;
 * waits (bounded) until it is bound; its port in sink_port. */
static void sink_start(const char *listen, const char *const *extra)
{
	char prog[4096];
	snprintf(prog, sizeof prog, "%s/smtpsink", helpers());
	/* Debian's python3 as the e2e scripts use it (a pyenv shim on PATH
	 * would cost a second per start) */
	const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	const char *argv[32] = {py,     prog,           "--dir", sinkdir, "--listen",
				listen, "--ready-file", ready,   "--log", sinklog};
	tu_append(argv, 10, extra);
	unlink(ready);
	sink_pid = fork();
	cr_assert(sink_pid >= 0);
	if (sink_pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		int err = open(tu_path(dir, "sink.err"), O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(nul, 0), dup2(nul, 1), dup2(err, 2);
		execvp(py, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		char *r = tu_read(ready, NULL);
		if (r) {
			char host[64];
			cr_assert_eq(sscanf(r, "%*d\n%63s %7s", host, sink_port), 2, "%s", r);
			free(r);
			return;
		}
		int st;
		cr_assert_eq(waitpid(sink_pid, &st, WNOHANG), 0, "smtpsink exited: %s",
			     tu_read(tu_path(dir, "sink.err"), NULL));
		sleep_ms(10);
	}
	cr_assert_fail("smtpsink not ready after 10 s");
}

/* "[127.0.0.1]:PORT" of the sink (the form a rule's run= uses: [%c]:25). */
static const char *at_sink(void)
{
	static char d[64];
	snprintf(d, sizeof d, "[127.0.0.1]:%s", sink_port);
	return d;
}

/* Holds a message with bin/etrnd-store; rcpts NULL-terminated. */
static void hold(const char *from, const char *body, size_t len, const char *const *rcpts)
{
	const char *argv[32] = {"etrnd-store", "-f", from, mdpath};
	tu_append(argv, 4, rcpts);
	struct tu_run r = tu_exec(dir, argv, body, len, NULL);
	cr_assert_eq(r.status, 0, "etrnd-store: %s", r.err);
	tu_run_free(&r);
}

#define RCPTS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* bin/etrnd-deliver -T 60 [extra] md dest [node]; its log in *log. */
static int deliver_run(const char *dest, const char *node, const char *const *extra, char **log)
{
	const char *argv[32] = {"etrnd-deliver", "-T", "60"};
	int n = 3;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n++] = mdpath;
	argv[n++] = dest;
	argv[n++] = node;
	argv[n] = NULL;
	struct tu_run r = tu_exec(dir, argv, "", 0, NULL);
	int st = r.status;
	if (log)
		*log = r.err, r.err = NULL;
	tu_run_free(&r);
	return st;
}

static int deliver(const char *node, char **log)
{
	return deliver_run(at_sink(), node, NULL, log);
}

/* The files of a directory, sorted; NULL-terminated, malloc'd. */
static char **names(const char *d)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "ls -1 %s 2>/dev/null | sort", d);
	FILE *p = popen(cmd, "r");
	char **v = calloc(1024, sizeof *v), line[512];
	int n = 0;
	while (n < 1023 && fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = '\0';
		v[n++] = strdup(line);
	}
	pclose(p);
	return v;
}

static void free_names(char **v)
{
	for (int i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static int sink_count(void)
{
	int n = tu_count(tu_path(sinkdir, "new"));
	return n < 0 ? 0 : n;
}

static struct got *sink_messages(void)
{
	return tu_sink_messages(sinkdir);
}

static void expect_bytes(const struct got *g, const char *body, size_t len)
{
	size_t wl;
	char *w = tu_wire(body, len, &wl);
	cr_expect(g->dlen == wl && memcmp(g->data, w, wl) == 0,
		  "not byte for byte: %zu octets arrived, %zu expected (%s)", g->dlen, wl, g->head);
	free(w);
}

static char *file_of(const char *sub, const char *name, size_t *len)
{
	return tu_read(tu_path(tu_path(mdpath, sub), name), len);
}

static int md_count(const char *sub)
{
	int n = tu_count(tu_path(mdpath, sub));
	return n < 0 ? 0 : n;
}

/* The end of a message and its final dot leave in one write: a dot
 * written alone waits for the peer's delayed ACK (Nagle's algorithm), about
 * 40 ms a message on Linux. strace records every write's octets. */
Test(deliver, a_message_ends_with_its_dot_in_the_same_write)
{
	const char *wrap = getenv("ETRND_WRAP");
	char *strace = tu_strace();
	if (wrap && strstr(wrap, "valgrind"))
		cr_skip_test("skipped under valgrind (strace would trace valgrind's writes)");
	if (!strace)
		cr_skip_test("skipped: no strace (apt-get install strace)");
	const char body[] = "Subject: one\n\nthe last line\n";
	hold("a@example.org", body, sizeof body - 1, RCPTS("a@client.example.net"));
	hold("a@example.org", body, sizeof body - 1, RCPTS("b@client.example.net"));
	sink_start("127.0.0.1:0", NULL);
	char trace[4200];
	snprintf(trace, sizeof trace,
		 "%s -f -qq -e trace=write,writev,sendto,sendmsg -xx -s 200 -o %s %s", strace,
		 tu_path(dir, "trace"), wrap ? wrap : "");
	setenv("ETRND_WRAP", trace, 1);
	int st = deliver_run(at_sink(), "client.example.net", NULL, NULL);
	wrap ? setenv("ETRND_WRAP", wrap, 1) : unsetenv("ETRND_WRAP");
	cr_assert_eq(st, 0);
	cr_assert_eq(sink_count(), 2);
	char *t = tu_read(tu_path(dir, "trace"), NULL);
	/* the last line, CRLF, dot, CRLF: "the last line\r\n.\r\n" in hex */
	const char *tail = "\\x6c\\x69\\x6e\\x65\\x0d\\x0a\\x2e\\x0d\\x0a\"";
	int together = 0;
	for (const char *p = t; (p = strstr(p, tail)); p++)
		together++;
	cr_expect_eq(together, 2, "the dot left apart from the message:\n%s", t);
	cr_expect_null(strstr(t, " \"\\x2e\\x0d\\x0a\", 3)"), "a dot in a write of its own:\n%s",
		       t);
	free(t), free(strace);
}

Test(deliver, byte_for_byte)
{
	const char dots[] = "Subject: dots\n\n.\n..\n.leading dot\n...three\nend.\n";
	const char eight[] = "Subject: =?utf-8?q?caf=C3=A9?=\nContent-Transfer-Encoding: 8bit\n\n"
			     "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\xe2\x82\xac\n";
	const char nofinal[] = "Subject: no final newline\n\nlast line";
	const char crlf[] = "Subject: crlf\r\n\r\nkept\r\nas is\r\n.dot\r\nmixed\nbare\rcr\r\n";
	const char bounce[] = "Subject: a bounce\n\nnull sender\n";
	/* 5 MB of base64 lines, some of them starting with a dot */
	size_t blen = 5u << 20;
	char *big = malloc(blen);
	int n = sprintf(big, "Subject: attachment\nContent-Type: application/octet-stream\n"
			     "Content-Transfer-Encoding: base64\n\n");
	const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned x = 12345;
	for (size_t i = (size_t)n; i < blen; i++) {
		x = x * 1103515245 + 12345;
		big[i] = (i - (size_t)n) % 77 == 76 ? '\n' : b64[(x >> 16) % 64];
		if ((i - (size_t)n) % (77 * 1000) == 0)
			big[i] = '.';
	}
	big[blen - 1] = '\n';

	hold("a@example.org", dots, sizeof dots - 1, RCPTS("d@client.example.net"));
	hold("a@example.org", eight, sizeof eight - 1, RCPTS("e@client.example.net"));
	hold("a@example.org", nofinal, sizeof nofinal - 1, RCPTS("n@client.example.net"));
	hold("a@example.org", crlf, sizeof crlf - 1, RCPTS("c@client.example.net"));
	hold("", bounce, sizeof bounce - 1, RCPTS("b@client.example.net"));
	hold("<a@example.org>", big, blen, RCPTS("big@client.example.net"));
	sink_start("127.0.0.1:0", NULL);
	char *log = NULL;
	cr_assert_eq(deliver("client.example.net", &log), 0, "%s", log);
	cr_expect_eq(md_count("new"), 0, "%s", log);
	cr_expect_eq(md_count("tmp"), 0);
	cr_expect_eq(md_count("failed"), 0);
	free(log);

	struct got *g = sink_messages();
	const struct got *m;
	cr_assert_eq(sink_count(), 6);
	cr_assert((m = tu_find(g, "<d@client.example.net>")));
	expect_bytes(m, dots, sizeof dots - 1);
	cr_expect_null(strstr(m->head, "BODY=8BITMIME"));
	cr_assert((m = tu_find(g, "<e@client.example.net>")));
	expect_bytes(m, eight, sizeof eight - 1);
	cr_expect(strstr(m->head, "BODY=8BITMIME"), "%s", m->head);
	cr_assert((m = tu_find(g, "<n@client.example.net>")));
	expect_bytes(m, nofinal, sizeof nofinal - 1);
	cr_assert((m = tu_find(g, "<c@client.example.net>")));
	expect_bytes(m, crlf, sizeof crlf - 1);
	cr_assert((m = tu_find(g, "<b@client.example.net>")));
	expect_bytes(m, bounce, sizeof bounce - 1);
	cr_expect(strstr(m->head, "X-Sink-Mail: <> SIZE="), "%s", m->head);
	cr_assert((m = tu_find(g, "<big@client.example.net>")));
	expect_bytes(m, big, blen);
	cr_expect(strstr(m->head, "X-Sink-Mail: <a@example.org> SIZE="), "%s", m->head);
	/* SIZE= is what arrived (RFC 1870) */
	for (int i = 0; g[i].head; i++) {
		const char *s = strstr(g[i].head, "SIZE=");
		cr_assert(s, "%s", g[i].head);
		cr_expect_eq(strtoul(s + 5, NULL, 10), g[i].dlen, "%s", g[i].head);
	}
	tu_free_got(g);
	free(big);
}

static int have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

Test(deliver, over_ipv6)
{
	if (!have_ipv6_loopback())
		cr_skip_test("no ::1 here");
	const char body[] = "Subject: v6\n\n.over IPv6\n";
	hold("a@example.org", body, sizeof body - 1, RCPTS("a@client.example.net"));
	sink_start("[::1]:0", NULL);
	char dest[64], *log = NULL;
	snprintf(dest, sizeof dest, "[IPv6:::1]:%s", sink_port);
	cr_assert_eq(deliver_run(dest, "client.example.net", NULL, &log), 0, "%s", log);
	cr_expect(strstr(log, "dest=::1[::1]:"), "%s", log);
	free(log);
	struct got *g = sink_messages();
	cr_assert(g[0].head && !g[1].head);
	cr_expect(strstr(g[0].head, "X-Sink-Local: ::1:"), "%s", g[0].head);
	expect_bytes(&g[0], body, sizeof body - 1);
	tu_free_got(g);
	cr_expect_eq(md_count("new"), 0);
}

/* The set from issue 13: mail held for several domains in one maildir. */
static void hold_the_set(void)
{
	hold("s@example.org", "Subject: 1\n\nshared\n", 19,
	     RCPTS("a@client.example.net", "b@notclient.example.net"));
	hold("s@example.org", "Subject: 2\n\nevil\n", 17, RCPTS("c@client.example.net.evil.test"));
	hold("s@example.org", "Subject: 3\n\ndash\n", 17, RCPTS("d@client-example.net"));
	hold("s@example.org", "Subject: 4\n\norg\n", 16,
	     RCPTS("e@sub.example.org", "f@example.org"));
	hold("s@example.org", "Subject: 5\n\ncase\n", 17, RCPTS("g@CLIENT.Example.NET"));
	hold("s@example.org", "Subject: 6\n\nsub\n", 16, RCPTS("h@sub.client.example.net"));
}

/* The files whose envelope has needle, in md/new. */
static int held_with(const char *needle)
{
	char **v = names(tu_path(mdpath, "new"));
	int n = 0;
	for (int i = 0; v[i]; i++) {
		char *s = file_of("new", v[i], NULL);
		n += strstr(s, needle) != NULL;
		free(s);
	}
	free_names(v);
	return n;
}

Test(deliver, exactly_the_nodes_recipients)
{
	hold_the_set();
	char *before = tu_snapshot(tu_path(mdpath, "new")), *log = NULL;
	sink_start("127.0.0.1:0", NULL);
	cr_assert_eq(deliver("client.example.net", &log), 0, "%s", log);
	free(log);
	struct got *g = sink_messages();
	cr_assert_eq(sink_count(), 2);
	const struct got *m = tu_find(g, "Subject: 1");
	cr_assert(m || (m = tu_find(g, "<a@client.example.net>")));
	cr_expect(strstr(m->head, "X-Sink-Rcpt: <a@client.example.net>") &&
		      !strstr(m->head, "notclient"),
		  "%s", m->head);
	cr_expect(tu_find(g, "<g@CLIENT.Example.NET>"), "case folded");
	cr_expect(!tu_find(g, "evil") && !tu_find(g, "client-example") &&
		  !tu_find(g, "sub.client"));
	tu_free_got(g);
	/* untouched: byte for byte; the shared one keeps only its other recipient */
	cr_expect_eq(md_count("new"), 5);
	cr_expect_eq(held_with("to a@client.example.net\n"), 0);
	cr_expect_eq(
	    held_with("etrnd-envelope 1\nfrom s@example.org\nto b@notclient.example.net\n\n"
		      "Subject: 1\n\nshared\n"),
	    1);
	char *after = tu_snapshot(tu_path(mdpath, "new"));
	const char *keep[] = {"evil\n", "dash\n", "org\n", "sub\n"};
	for (int i = 0; i < 4; i++) {
		/* the same file, with the same name and content */
		const char *b = strstr(before, keep[i]);
		cr_assert(b);
		const char *start = b;
		while (start > before && strncmp(start, "== ", 3) != 0)
			start--;
		size_t len = (size_t)(b - start) + strlen(keep[i]);
		char *piece = strndup(start, len);
		cr_expect(strstr(after, piece), "changed: %s", piece);
		free(piece);
	}
	free(before), free(after);

	cr_assert_eq(deliver("@example.org", &log), 0, "%s", log);
	free(log);
	g = sink_messages();
	cr_assert_eq(sink_count(), 3);
	m = tu_find(g, "<e@sub.example.org>");
	cr_assert(m);
	cr_expect(strstr(m->head, "X-Sink-Rcpt: <f@example.org>"), "one transaction: %s", m->head);
	tu_free_got(g);
	cr_expect_eq(md_count("new"), 4);
	cr_expect_eq(held_with("Subject: 4\n"), 0);
}

/* The log's lines of connection 1: group numbers of MAIL, RCPT, DATA. */
static void groups(int *mail, int *rcpt, int *data, int *nrcpt)
{
	char *log = tu_read(sinklog, NULL);
	cr_assert(log);
	*nrcpt = 0;
	*mail = *data = -1;
	for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n")) {
		int conn, group, off = 0;
		if (sscanf(l, "%d %d %n", &conn, &group, &off) < 2 || conn != 1)
			continue;
		if (strncmp(l + off, "MAIL", 4) == 0 && *mail < 0)
			*mail = group;
		else if (strncmp(l + off, "RCPT", 4) == 0 && *data < 0 && *nrcpt < 8)
			rcpt[(*nrcpt)++] = group;
		else if (strncmp(l + off, "DATA", 4) == 0 && *data < 0)
			*data = group;
	}
	free(log);
}

Test(deliver, pipelining_when_offered)
{
	int mail, rcpt[8], data, n;
	hold("s@example.org", "x\n", 2,
	     RCPTS("a@client.example.net", "b@client.example.net", "c@client.example.net"));
	sink_start("127.0.0.1:0", NULL);
	char dest[32];
	snprintf(dest, sizeof dest, "127.0.0.1:%s", sink_port); /* HOST:PORT with an address */
	cr_assert_eq(deliver_run(dest, NULL, NULL, NULL), 0);
	groups(&mail, rcpt, &data, &n);
	cr_assert_eq(n, 3);
	cr_expect(mail > 0 && rcpt[0] == mail && rcpt[1] == mail && rcpt[2] == mail && data == mail,
		  "not one group: MAIL %d, RCPT %d %d %d, DATA %d", mail, rcpt[0], rcpt[1], rcpt[2],
		  data);
}

Test(deliver, one_command_at_a_time_without_pipelining)
{
	int mail, rcpt[8], data, n;
	hold("s@example.org", "x\n", 2,
	     RCPTS("a@client.example.net", "b@client.example.net", "c@client.example.net"));
	sink_start("127.0.0.1:0", (const char *[]){"--no-pipelining", NULL});
	cr_assert_eq(deliver(NULL, NULL), 0);
	groups(&mail, rcpt, &data, &n);
	cr_assert_eq(n, 3);
	cr_expect(mail > 0 && rcpt[0] > mail && rcpt[1] > rcpt[0] && rcpt[2] > rcpt[1] &&
		      data > rcpt[2],
		  "sent before a reply: MAIL %d, RCPT %d %d %d, DATA %d", mail, rcpt[0], rcpt[1],
		  rcpt[2], data);
	cr_expect_eq(sink_count(), 1);
}

Test(deliver, helo_when_ehlo_is_not_known)
{
	const char body[] = "Subject: old server\n\n8 bit: \xe9\n";
	hold("s@example.org", body, sizeof body - 1, RCPTS("a@client.example.net"));
	sink_start("127.0.0.1:0", (const char *[]){"--no-esmtp", NULL});
	char *log = NULL;
	cr_assert_eq(deliver("client.example.net", &log), 0, "%s", log);
	free(log);
	struct got *g = sink_messages();
	cr_assert(g[0].head && !g[1].head);
	cr_expect(strstr(g[0].head, "X-Sink-Helo: HELO "), "%s", g[0].head);
	cr_expect(strstr(g[0].head, "X-Sink-Mail: <s@example.org>\n"), "no ESMTP parameters: %s",
		  g[0].head);
	expect_bytes(&g[0], body, sizeof body - 1);
	tu_free_got(g);
}

Test(deliver, rcpt_451_keeps_the_message_and_exits_75)
{
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net", "b@client.example.net"));
	char *before = tu_snapshot(tu_path(mdpath, "new")), *log = NULL;
	sink_start("127.0.0.1:0", (const char *[]){"--reply", "rcpt=451 4.3.0 try later", NULL});
	cr_assert_eq(deliver("client.example.net", &log), 75, "%s", log);
	cr_expect(strstr(log, "deferred=2") && strstr(log, "reply=\"451 4.3.0 try later\""), "%s",
		  log);
	free(log);
	char *after = tu_snapshot(tu_path(mdpath, "new"));
	cr_expect_str_eq(after, before);
	cr_expect_eq(sink_count(), 0);
	cr_expect_eq(md_count("failed"), 0);
	free(before), free(after);
}

Test(deliver, rcpt_550_for_one_recipient)
{
	const char body[] = "Subject: three\n\nx\n";
	hold("s@example.org", body, sizeof body - 1,
	     RCPTS("a@client.example.net", "b@client.example.net", "c@client.example.net"));
	sink_start("127.0.0.1:0",
		   (const char *[]){"--rcpt-reply", "b@client.example.net=550 5.1.1 no such user",
				    "--rcpt-reply", "c@client.example.net=452 4.2.2 mailbox full",
				    NULL});
	char *log = NULL;
	cr_assert_eq(deliver("client.example.net", &log), 75, "c waits: %s", log);
	free(log);
	struct got *g = sink_messages();
	cr_assert(g[0].head && !g[1].head);
	cr_expect(strstr(g[0].head, "X-Sink-Rcpt: <a@client.example.net>") &&
		      !strstr(g[0].head, "<b@") && !strstr(g[0].head, "<c@"),
		  "%s", g[0].head);
	tu_free_got(g);
	char *failed = tu_snapshot(tu_path(mdpath, "failed")),
	     *left = tu_snapshot(tu_path(mdpath, "new"));
	cr_expect(strstr(failed, "etrnd-envelope 1\nfrom s@example.org\nto b@client.example.net\n"
				 "error b@client.example.net 550 5.1.1 no such user\n\n"
				 "Subject: three\n\nx\n"),
		  "%s", failed);
	cr_expect(strstr(left, "etrnd-envelope 1\nfrom s@example.org\nto c@client.example.net\n\n"
			       "Subject: three\n\nx\n"),
		  "%s", left);
	cr_expect_eq(md_count("new"), 1);
	cr_expect_eq(md_count("failed"), 1);
	cr_expect_eq(md_count("tmp"), 0);
	free(failed), free(left);
}

Test(deliver, a_5xx_to_mail_data_or_the_message_fails_it)
{
	const char *stages[] = {"mail=550 5.7.1 sender refused", "data=554 5.3.0 no data today",
				"eom=554 5.6.0 content refused"};
	for (int i = 0; i < 3; i++) {
		hold("s@example.org", "x\n", 2,
		     RCPTS("a@client.example.net", "b@client.example.net"));
		sink_start("127.0.0.1:0", (const char *[]){"--reply", stages[i], NULL});
		char *log = NULL;
		cr_assert_eq(deliver("client.example.net", &log), 0, "%s: %s", stages[i], log);
		free(log);
		cr_expect_eq(md_count("new"), 0, "%s", stages[i]);
		cr_expect_eq(md_count("failed"), 1, "%s", stages[i]);
		char *failed = tu_snapshot(tu_path(mdpath, "failed")), want[200];
		snprintf(want, sizeof want, "error b@client.example.net %s\n",
			 strchr(stages[i], '=') + 1);
		cr_expect(strstr(failed, want) && strstr(failed, "error a@client.example.net "),
			  "%s", failed);
		cr_expect_eq(sink_count(), 0);
		free(failed);
		sink_stop();
		tu_rmtree(mdpath);
		tu_rmtree(sinkdir);
		unlink(sinklog);
	}
}

Test(deliver, a_4xx_to_the_message_keeps_it)
{
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	char *before = tu_snapshot(tu_path(mdpath, "new"));
	sink_start("127.0.0.1:0", (const char *[]){"--reply", "eom=451 4.3.0 disk full", NULL});
	cr_assert_eq(deliver("client.example.net", NULL), 75);
	char *after = tu_snapshot(tu_path(mdpath, "new"));
	cr_expect_str_eq(after, before);
	cr_expect_eq(md_count("failed"), 0);
	free(before), free(after);
}

Test(deliver, sink_gone_keeps_everything)
{
	hold_the_set();
	char *before = tu_snapshot(tu_path(mdpath, "new")), *log = NULL;
	sink_start("127.0.0.1:0", NULL);
	sink_stop(); /* its port now refuses connections */
	cr_assert_eq(deliver(NULL, &log), 75, "%s", log);
	cr_expect(strstr(log, "Connection refused"), "%s", log);
	free(log);
	char *after = tu_snapshot(tu_path(mdpath, "new"));
	cr_expect_str_eq(after, before);
	cr_expect_eq(md_count("failed"), 0);
	cr_expect_eq(md_count("tmp"), 0);
	free(before), free(after);
}

Test(deliver, another_deliverer_holding_the_lock_gives_75_at_once)
{
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	sink_start("127.0.0.1:0", NULL);
	pid_t holder = fork();
	cr_assert(holder >= 0);
	if (holder == 0) { /* holds the maildir's lock until killed */
		int fd = open(mdpath, O_RDONLY | O_DIRECTORY);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	int busy = 0;
	for (int i = 0; i < 1000 && !busy; i++) { /* until the holder has it */
		int fd = open(mdpath, O_RDONLY | O_DIRECTORY);
		busy = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
		if (!busy)
			sleep_ms(10);
	}
	cr_assert(busy, "the holder never took the lock");
	long long t0 = tu_now_ms();
	char *log = NULL;
	cr_expect_eq(deliver(NULL, &log), 75, "%s", log);
	cr_expect(tu_now_ms() - t0 < 10000, "did not give up at once");
	cr_expect(strstr(log, "another delivery holds the maildir"), "%s", log);
	free(log);
	kill(holder, SIGKILL);
	tu_reap(holder, 10);
	cr_expect_eq(sink_count(), 0);
	char *slog = tu_read(sinklog, NULL);
	cr_expect(!slog || !strstr(slog, "MAIL"), "connected anyway");
	free(slog);
	cr_expect_eq(md_count("new"), 1);
}

/* A file dropped into new/ by hand or by something else. */
static void drop_in(const char *name, const char *content, size_t len)
{
	int fd = open(tu_path(tu_path(mdpath, "new"), name), O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0, "%s", name);
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
}

Test(deliver, files_that_are_not_held_messages_go_to_failed)
{
	hold("s@example.org", "good\n", 5, RCPTS("a@client.example.net"));
	const char *junk[][2] = {
	    {"1.junk", "From someone Mon Jan  1 00:00:00 2026\nSubject: mbox\n\nx\n"},
	    {"2.cut", "etrnd-envelope 1\nfrom s@example.org\nto a@client.exam"},
	    {"3.noend", "etrnd-envelope 1\nfrom s@example.org\nto a@client.example.net\n"},
	    {"4.error", "etrnd-envelope 1\nfrom \nto a@client.example.net\n"
			"error a@client.example.net 550 x\n\nbody\n"},
	    {"5.empty", ""},
	    {"6.badrcpt", "etrnd-envelope 1\nfrom \nto <a@client.example.net>\n\nbody\n"},
	};
	for (int i = 0; i < 6; i++)
		drop_in(junk[i][0], junk[i][1], strlen(junk[i][1]));
	/* an envelope that never ends within HELD_ENVELOPE_MAX */
	size_t big = HELD_ENVELOPE_MAX + 4096;
	char *env = malloc(big);
	size_t n = (size_t)sprintf(env, "etrnd-envelope 1\nfrom \n");
	while (n + 40 < big)
		n += (size_t)sprintf(env + n, "to a%06zu@client.example.net\n", n);
	drop_in("7.huge", env, n);
	free(env);
	cr_assert_eq(symlink("/etc/passwd", tu_path(tu_path(mdpath, "new"), "8.link")), 0);
	cr_assert_eq(mkfifo(tu_path(tu_path(mdpath, "new"), "9.fifo"), 0600), 0);
	cr_assert_eq(mkdir(tu_path(tu_path(mdpath, "new"), "a.dir"), 0700), 0);
	/* a UNIX socket: anyone who can write new/ can bind one there */
	int sock = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof un.sun_path, "%s/new/b.sock", mdpath);
	cr_assert(strlen(mdpath) + 11 < sizeof un.sun_path, "temp path too long for a socket");
	cr_assert_eq(bind(sock, (struct sockaddr *)&un, sizeof un), 0, "%s", strerror(errno));
	sink_start("127.0.0.1:0", NULL);
	char *log = NULL;
	cr_assert_eq(deliver("client.example.net", &log), 0, "%s", log);
	cr_expect_eq(sink_count(), 1, "%s", log);
	cr_expect_eq(md_count("new"), 0, "%s", log);
	cr_expect_eq(md_count("failed"), 11, "%s", log);
	free(log);
	close(sock);
	struct stat st;
	cr_expect_eq(lstat(tu_path(tu_path(mdpath, "failed"), "8.link"), &st), 0);
	cr_expect(S_ISLNK(st.st_mode), "moved as it is, not followed");
	cr_expect_eq(access("/etc/passwd", R_OK), 0);
	char *s = file_of("failed", "4.error", NULL);
	cr_expect_str_eq(s, junk[3][1], "moved unchanged");
	free(s);
}

Test(deliver, no_maildir_is_nothing_to_do_a_bare_one_is_delivered)
{
	char *log = NULL;
	cr_expect_eq(deliver_run("127.0.0.1:1", "client.example.net", NULL, &log), 0, "%s", log);
	cr_expect(strstr(log, "no maildir"), "%s", log);
	free(log);
	/* a maildir without failed/ (made by hand): delivered, failed/ made */
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	cr_assert_eq(rmdir(tu_path(mdpath, "failed")), 0);
	sink_start("127.0.0.1:0", NULL);
	cr_expect_eq(deliver("client.example.net", &log), 0, "%s", log);
	free(log);
	cr_expect_eq(sink_count(), 1, "not delivered: a missing failed/ is not a missing maildir");
	struct stat st;
	cr_expect_eq(stat(tu_path(mdpath, "failed"), &st), 0);
}

Test(deliver, stale_temp_files_of_a_crashed_writer_are_removed)
{
	char *log = NULL;
	hold("s@example.org", "x\n", 2, RCPTS("a@other.example"));
	tu_write(tu_path(mdpath, "tmp/crashed"), "half a message");
	tu_write(tu_path(mdpath, "tmp/writing"), "a store in progress");
	struct timespec old[2] = {{time(NULL) - HELD_TMP_MAX_AGE - 60, 0},
				  {time(NULL) - HELD_TMP_MAX_AGE - 60, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, tu_path(mdpath, "tmp/crashed"), old, 0), 0);
	sink_start("127.0.0.1:0", NULL);
	cr_expect_eq(deliver("client.example.net", &log), 0, "%s", log);
	free(log);
	cr_expect_eq(access(tu_path(mdpath, "tmp/crashed"), F_OK), -1, "an old temp file stayed");
	cr_expect_eq(access(tu_path(mdpath, "tmp/writing"), F_OK), 0, "a fresh one was removed");
}

Test(deliver, usage_is_100)
{
	const char *const cases[][6] = {
	    {mdpath, NULL},
	    {mdpath, "h_x.example", NULL},
	    {mdpath, "127.0.0.1:25", "not a node", NULL},
	    {"-T", "0", mdpath, "mx", NULL},
	    {"-T", "x", mdpath, "mx", NULL},
	    {"-h", "bad_name", mdpath, "mx", NULL},
	    {"-l", "file", mdpath, "mx", NULL},
	    {mdpath, "mx", "a.example", "extra", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *argv[12] = {"etrnd-deliver"};
		tu_append(argv, 1, cases[i]);
		struct tu_run r = tu_exec(dir, argv, "", 0, NULL);
		cr_expect_eq(r.status, 100, "case %zu: %s", i, r.err);
		tu_run_free(&r);
	}
}

/* A server that accepts connections and never says a word. */
static int silent_server(char *port, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(port, size, "%d", ntohs(a.sin_port));
	return fd;
}

Test(deliver, the_deadline_holds_against_a_server_that_never_answers)
{
	char port[8], dest[32], *log = NULL;
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	char *before = tu_snapshot(tu_path(mdpath, "new"));
	int fd = silent_server(port, sizeof port);
	snprintf(dest, sizeof dest, "[127.0.0.1]:%s", port);
	long long t0 = tu_now_ms();
	cr_expect_eq(deliver_run(dest, NULL, (const char *[]){"-T", "2", NULL}, &log), 75, "%s",
		     log);
	long long took = tu_now_ms() - t0;
	cr_expect(took >= 1500 && took < 8000, "-T 2 took %lld ms", took);
	free(log);
	close(fd);
	char *after = tu_snapshot(tu_path(mdpath, "new"));
	cr_expect_str_eq(after, before);
	free(before), free(after);

	/* silent after the message: the deadline, and the message stays */
	sink_start("127.0.0.1:0", (const char *[]){"--reply", "eom=hang", NULL});
	t0 = tu_now_ms();
	cr_expect_eq(deliver_run(at_sink(), NULL, (const char *[]){"-T", "2", NULL}, &log), 75,
		     "%s", log);
	took = tu_now_ms() - t0;
	cr_expect(took >= 1500 && took < 8000, "-T 2 took %lld ms", took);
	free(log);
	cr_expect_eq(md_count("new"), 1);
}

Test(deliver, a_connection_lost_within_a_pipelined_group_keeps_everything)
{
	const char *where[][2] = {
	    {"--rcpt-reply", "b@client.example.net=drop"},
	    {"--reply", "mail=drop"},
	    {"--reply", "data=drop"},
	    {"--reply", "eom=drop"},
	};
	for (int i = 0; i < 4; i++) {
		hold("s@example.org", "one\n", 4,
		     RCPTS("a@client.example.net", "b@client.example.net", "c@other.example"));
		hold("s@example.org", "two\n", 4, RCPTS("d@client.example.net"));
		char *before = tu_snapshot(tu_path(mdpath, "new")), *log = NULL;
		sink_start("127.0.0.1:0", (const char *[]){where[i][0], where[i][1], NULL});
		cr_expect_eq(deliver("client.example.net", &log), 75, "%s: %s", where[i][1], log);
		cr_expect(strstr(log, "sent=0 deferred=2 failed=0"), "%s", log);
		cr_expect(strstr(log, "sent=0 deferred=1 failed=0"), "%s", log);
		free(log);
		char *after = tu_snapshot(tu_path(mdpath, "new"));
		cr_expect_str_eq(after, before, "%s", where[i][1]);
		cr_expect_eq(md_count("failed"), 0);
		cr_expect_eq(md_count("tmp"), 0);
		cr_expect_eq(sink_count(), 0);
		free(before), free(after);
		sink_stop();
		tu_rmtree(mdpath);
		unlink(sinklog);
	}
}

Test(deliver, after_a_refused_data_the_next_message_goes_through)
{
	/* every recipient of the first refused: the server answers DATA 554
	 * and, like Postfix, keeps the transaction until RSET */
	hold("s@example.org", "first\n", 6, RCPTS("x@client.example.net"));
	hold("s@example.org", "second\n", 7, RCPTS("y@client.example.net"));
	const char *modes[] = {NULL, "--no-pipelining"};
	for (int i = 0; i < 2; i++) {
		sink_start("127.0.0.1:0", (const char *[]){"--rcpt-reply",
							   "x@client.example.net=550 5.1.1 unknown",
							   modes[i], NULL});
		char *log = NULL;
		cr_expect_eq(deliver("client.example.net", &log), 0, "%s", log);
		free(log);
		cr_expect_eq(sink_count(), 1, "second message refused after the first");
		struct got *g = sink_messages();
		cr_expect(g[0].head && strstr(g[0].head, "<y@client.example.net>"));
		tu_free_got(g);
		cr_expect_eq(md_count("new"), 0);
		cr_expect_eq(md_count("failed"), 1);
		sink_stop();
		tu_rmtree(mdpath);
		tu_rmtree(sinkdir);
		hold("s@example.org", "first\n", 6, RCPTS("x@client.example.net"));
		hold("s@example.org", "second\n", 7, RCPTS("y@client.example.net"));
	}
}

/* bin/etrnd-deliver unwrapped under RLIMIT_FSIZE (valgrind's own files
 * would hit the limit). */
static int deliver_fsize(long limit, const char *node)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		int err = open(tu_path(dir, "deliver.err"), O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(nul, 0), dup2(nul, 1), dup2(err, 2);
		signal(SIGXFSZ, SIG_DFL);
		struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
		setrlimit(RLIMIT_FSIZE, &rl);
		const char *argv[] = {"etrnd-deliver", "-T", "60", mdpath, at_sink(), node, NULL};
		execv(tu_bin("etrnd-deliver"), (char *const *)argv);
		_exit(127);
	}
	return tu_reap(pid, 90);
}

Test(deliver, a_rewrite_that_cannot_be_written_never_gives_a_second_copy)
{
	/* a is the node's, b is not: delivering a means rewriting the file
	 * with b alone, a copy of the message that needs disk space */
	size_t len = 20000;
	char *body = malloc(len);
	memset(body, 'x', len);
	body[len - 1] = '\n';
	hold("s@example.org", body, len, RCPTS("a@client.example.net", "b@notclient.example.net"));
	/* and a recipient refused for good: its failed/ file needs space too */
	hold("s@example.org", body, len, RCPTS("c@client.example.net", "r@client.example.net"));
	char *before = tu_snapshot(tu_path(mdpath, "new"));
	sink_start("127.0.0.1:0",
		   (const char *[]){"--rcpt-reply", "r@client.example.net=550 5.1.1 gone", NULL});

	int st = deliver_fsize(4096, "client.example.net");
	char *err = tu_read(tu_path(dir, "deliver.err"), NULL);
	cr_expect_eq(st, 75, "%s", err);
	cr_expect_eq(sink_count(), 0, "sent although the spool could not record it: %s", err);
	char *after = tu_snapshot(tu_path(mdpath, "new"));
	cr_expect_str_eq(after, before);
	cr_expect_eq(md_count("tmp"), 0);
	cr_expect_eq(md_count("failed"), 0);
	free(after), free(err);

	/* with room: each recipient once */
	cr_expect_eq(deliver_fsize(1L << 30, "client.example.net"), 0);
	cr_expect_eq(deliver_fsize(1L << 30, "client.example.net"), 0);
	cr_expect_eq(sink_count(), 2);
	struct got *g = sink_messages();
	cr_expect(tu_find(g, "<a@client.example.net>") && tu_find(g, "<c@client.example.net>"));
	tu_free_got(g);
	cr_expect_eq(held_with("to b@notclient.example.net\n\n"), 1);
	cr_expect_eq(md_count("new"), 1);
	cr_expect_eq(md_count("failed"), 1);
	free(before), free(body);
}

Test(deliver, over_an_established_connection_as_odmr_will)
{
	const char body[] = "Subject: odmr\n\n.the client's own connection\n";
	hold("s@example.org", body, sizeof body - 1, RCPTS("a@client.example.net"));
	hold("s@example.org", "other\n", 6, RCPTS("b@notclient.example.net"));
	sink_start("127.0.0.1:0", NULL);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(sink_port)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);

	struct maildir m;
	const char *what;
	struct node n;
	struct smtpc c;
	struct deliver_stats st = {0};
	cr_assert_eq(maildir_open(&m, mdpath, 0, &what), 0);
	cr_assert_eq(maildir_lock(&m), 0);
	cr_assert_eq(node_parse(&n, "client.example.net", 18, 0), 0);
	struct deliver_cfg cfg = {"odmr.example.org", &n, tu_now_ms() + 30000, NULL};
	int logfd = open(tu_path(dir, "odmr.log"), O_WRONLY | O_CREAT | O_APPEND, 0600);
	log_set_fd(logfd);
	smtpc_init(&c, fd, 30, 30);
	cr_expect_eq(deliver_connection(&m, &c, &cfg, &st), 0);
	maildir_close(&m);
	close(fd);
	close(logfd);
	char *dlog = tu_read(tu_path(dir, "odmr.log"), NULL);
	cr_expect(dlog && strstr(dlog, "deliver msg=") &&
		      strstr(dlog, "dest=client from=s@example.org sent=1"),
		  "%s", dlog);
	free(dlog);
	cr_expect_eq(st.messages, 1);
	cr_expect_eq(st.sent, 1);
	struct got *g = sink_messages();
	cr_assert(g[0].head && !g[1].head);
	cr_expect(strstr(g[0].head, "X-Sink-Helo: EHLO odmr.example.org"), "%s", g[0].head);
	expect_bytes(&g[0], body, sizeof body - 1);
	tu_free_got(g);
	cr_expect_eq(md_count("new"), 1, "the other node's message stays");
	char *slog = tu_read(sinklog, NULL);
	cr_expect(slog && strstr(slog, " QUIT"), "%s", slog);
	free(slog);
}

Test(deliver, a_thousand_recipients_in_one_pipelined_transaction)
{
	/* the envelope as etrnd-store writes it, 1000 recipients */
	char *file = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&file, &len);
	fprintf(m, "etrnd-envelope 1\nfrom s@example.org\n");
	for (int i = 0; i < HELD_RCPTS_MAX; i++)
		fprintf(m, "to recipient-number-%04d@client.example.net\n", i);
	fprintf(m, "\nSubject: many\n\nx\n");
	fclose(m);
	hold("s@example.org", "y\n", 2, RCPTS("other@notclient.example.net"));
	drop_in("0.many", file, len);
	free(file);
	sink_start("127.0.0.1:0", NULL);
	char *log = NULL;
	cr_assert_eq(deliver("client.example.net", &log), 0, "%s", log);
	cr_expect(strstr(log, "sent=1000 deferred=0 failed=0"), "%s", log);
	free(log);
	struct got *g = sink_messages();
	cr_assert(g[0].head && !g[1].head);
	int n = 0;
	for (const char *p = g[0].head; (p = strstr(p, "X-Sink-Rcpt: ")); p++)
		n++;
	cr_expect_eq(n, HELD_RCPTS_MAX);
	tu_free_got(g);
	cr_expect_eq(md_count("new"), 1, "the other node's message stays");
}

Test(deliver, hostile_replies_end_the_connection_and_keep_the_message)
{
	char overlong[700], many[2000];
	int n = snprintf(overlong, sizeof overlong, "250 ");
	memset(overlong + n, 'x', 600);
	overlong[n + 600] = '\0';
	n = 0;
	for (int i = 0; i < 70; i++)
		n += snprintf(many + n, sizeof many - (size_t)n, "250-line %d\r\n", i);
	snprintf(many + n, sizeof many - (size_t)n, "250 last");
	const char *replies[] = {
	    "hello there",       "250-first\r\n251 second", "25",     "2500 ok",
	    "600 no such class", "250-unfinished",          overlong, many};
	for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
		char arg[2100];
		snprintf(arg, sizeof arg, "a@client.example.net=%s", replies[i]);
		hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
		char *before = tu_snapshot(tu_path(mdpath, "new")), *log = NULL;
		sink_start("127.0.0.1:0", (const char *[]){"--rcpt-reply", arg, NULL});
		cr_expect_eq(deliver("client.example.net", &log), 75, "reply %zu: %s", i, log);
		free(log);
		char *after = tu_snapshot(tu_path(mdpath, "new"));
		cr_expect_str_eq(after, before, "reply %zu", i);
		cr_expect_eq(sink_count(), 0);
		free(before), free(after);
		sink_stop();
		tu_rmtree(mdpath);
		tu_rmtree(sinkdir);
	}
	/* a refusal in 8 bits and with control characters: sanitised in failed/ */
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	sink_start("127.0.0.1:0",
		   (const char *[]){"--rcpt-reply",
				    "a@client.example.net=550 5.1.1 caf\xc3\xa9\tgone", NULL});
	cr_expect_eq(deliver("client.example.net", NULL), 0);
	char *failed = tu_snapshot(tu_path(mdpath, "failed"));
	cr_expect(strstr(failed, "error a@client.example.net 550 5.1.1 caf???gone\n"), "%s",
		  failed);
	free(failed);
}

/* A CA and a certificate for localhost and 127.0.0.1, by tests/e2e/pki.sh. */
static void make_pki(void)
{
	char cmd[4096];
	const char *root = getenv("ETRND_ROOT") ? getenv("ETRND_ROOT") : ".";
	snprintf(cmd, sizeof cmd,
		 "bash -c 'fail() { echo \"$*\" >&2; exit 1; }; . \"%s/tests/e2e/pki.sh\"; "
		 "make_pki \"%s\" localhost' >/dev/null 2>&1",
		 root, dir);
	cr_assert_eq(system(cmd), 0, "openssl req could not make the test certificates");
}

Test(deliver, tls_starttls_when_offered_verified_with_c_refused_without_it_by_s)
{
	char *log = NULL, crt[4096], key[4096], ca[4096];
	make_pki();
	snprintf(crt, sizeof crt, "%s/server.crt", dir);
	snprintf(key, sizeof key, "%s/server.key", dir);
	snprintf(ca, sizeof ca, "%s/ca.crt", dir);
	const char *const tls[] = {"--tls-cert", crt, "--tls-key", key, NULL};
	sink_start("127.0.0.1:0", tls);
	/* opportunistic: offered, so used, without verification */
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	cr_expect_eq(deliver("client.example.net", &log), 0, "%s", log);
	free(log);
	struct got *g = sink_messages();
	cr_expect(g[0].head && strstr(g[0].head, "X-Sink-Helo: EHLO") &&
		      strstr(g[0].head, " TLS TLSv1."),
		  "not delivered inside TLS:\n%s", g[0].head ? g[0].head : "(nothing)");
	tu_free_got(g);
	/* -c: verified against the CA, by the server's name */
	hold("s@example.org", "y\n", 2, RCPTS("b@client.example.net"));
	char dest[64];
	snprintf(dest, sizeof dest, "localhost:%s", sink_port);
	const char *const verify[] = {"-c", ca, NULL};
	cr_expect_eq(deliver_run(dest, "client.example.net", verify, &log), 0, "%s", log);
	free(log);
	cr_expect_eq(sink_count(), 2);
	/* -c with a CA that did not sign it: kept, never sent in plaintext */
	hold("s@example.org", "z\n", 2, RCPTS("c@client.example.net"));
	const char *const wrong[] = {"-c", "/etc/ssl/certs/ca-certificates.crt", NULL};
	cr_expect_eq(deliver_run(dest, "client.example.net", wrong, &log), 75, "%s", log);
	cr_expect(strstr(log, "verif"), "%s", log);
	free(log);
	cr_expect_eq(sink_count(), 2, "delivered despite a certificate it could not verify");
}

Test(deliver, tls_s_keeps_the_mail_of_a_server_without_starttls)
{
	char *log = NULL;
	sink_start("127.0.0.1:0", NULL);
	hold("s@example.org", "x\n", 2, RCPTS("a@client.example.net"));
	const char *const s[] = {"-s", NULL};
	cr_expect_eq(deliver_run(at_sink(), "client.example.net", s, &log), 75, "%s", log);
	cr_expect(strstr(log, "STARTTLS is not offered"), "%s", log);
	free(log);
	cr_expect_eq(sink_count(), 0);
	cr_expect_eq(deliver("client.example.net", &log), 0, "%s", log);
	free(log);
	cr_expect_eq(sink_count(), 1, "kept, and delivered without -s");
}
