/* SPDX-License-Identifier: ISC */
/* etrnd -O (ODMR, RFC 2645) as a process: bin/etrnd on one end of a
 * socketpair, tests/helpers/odmrclient on the other playing the client
 * (its commands, then the SMTP server after the turn), held mail written
 * by bin/etrnd-store. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "sasl.h"
#include "sinkutil.h"
#include "testutil.h"
#include "tlsio.h"

static char *dir, *root, *cdb, *queue, *etrnd_log, *sink;
static const char *pass = "secret";

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	cr_assert(p);
	return p;
}

/* What bin/etrnd-rules -c or -p prints for a password (malloc'd): the
 * cram= or the password= attribute. */
static char *secret_of(const char *opt, const char *pw)
{
	char in[128];
	int n = snprintf(in, sizeof in, "%s\n", pw);
	const char *argv[] = {"etrnd-rules", opt, NULL};
	struct tu_run r = tu_exec(dir, argv, in, (size_t)n, NULL);
	cr_assert_eq(r.status, 0, "etrnd-rules %s: %s", opt, r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	char *c = xstrdup(r.out);
	tu_run_free(&r);
	return c;
}

static char *cram_of(const char *pw)
{
	return secret_of("-c", pw);
}

/* The rules of these tests; extra is appended (NULL: none). */
static void write_rules(const char *extra)
{
	char *c1 = cram_of(pass), *c2 = cram_of("other-secret");
	char *text = NULL;
	cr_assert(
	    asprintf(
		&text,
		"client.example.net  users=client.example.net spool=%s/client.example.net\n"
		"two.example.net     users=client.example.net spool=%s/two.example.net\n"
		"open.example.net    spool=%s/open.example.net\n"
		"addr.example.net    allow=192.0.2.0/24 spool=%s/addr.example.net\n"
		"both.example.net    allow=192.0.2.0/24 users=other spool=%s/both.example.net\n"
		"nospool.example.net users=client.example.net\n"
		"denied.example.net  deny=\"gone\"\n"
		"outside.example.net users=client.example.net spool=%s/outside/md\n"
		"dotdot.example.net  users=client.example.net spool=%s/../outside/md\n"
		"link.example.net    users=client.example.net spool=%s/link\n"
		"shared1.example.net users=client.example.net spool=%s/shared\n"
		"shared2.example.net users=client.example.net spool=%s/shared/\n"
		"user:client.example.net %s\n"
		"user:other %s\n"
		"%s",
		root, root, root, root, root, dir, root, root, root, root, c1, c2,
		extra ? extra : "") > 0);
	cr_assert_eq(tu_rules(dir, text, cdb), 0);
	free(text), free(c1), free(c2);
}

static void setup(void)
{
	dir = tu_tmpdir();
	root = xstrdup(tu_path(dir, "hold"));
	cdb = xstrdup(tu_path(dir, "odmr.cdb"));
	etrnd_log = xstrdup(tu_path(dir, "etrnd.log"));
	sink = xstrdup(tu_path(dir, "sink"));
	queue = xstrdup(tu_queue(dir));
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(tu_path(dir, "outside"), 0755), 0);
	write_rules(NULL);
}

static void smtpsink_stop(void);

static void teardown(void)
{
	smtpsink_stop(); /* also after a failed assertion */
	tu_rmtree(dir);
	free(dir), free(root), free(cdb), free(queue), free(etrnd_log), free(sink);
}

TestSuite(odmr, .init = setup, .fini = teardown, .timeout = 120);

static const char *helper(const char *name)
{
	static char p[4096];
	const char *h = getenv("ETRND_HELPERS") ? getenv("ETRND_HELPERS") : "tests/helpers";
	snprintf(p, sizeof p, "%s/%s", h, name);
	return p;
}

/* Debian's python3 as the e2e scripts use it (a pyenv shim on PATH would
 * cost a second per start). */
static const char *python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* The maildir of a node (beneath the spool root). */
static const char *md(const char *node)
{
	static char p[4][4096];
	static int i;
	char *b = p[i++ % 4];
	snprintf(b, 4096, "%s/%s", root, node);
	return b;
}

/* Holds a message for rcpts (NULL-terminated) in maildir path. */
static void hold_in(const char *path, const char *from, const char *body, size_t len,
		    const char *const *rcpts)
{
	const char *argv[32] = {"etrnd-store", "-f", from, path};
	tu_append(argv, 4, rcpts);
	struct tu_run r = tu_exec(dir, argv, body, len, NULL);
	cr_assert_eq(r.status, 0, "etrnd-store: %s", r.err);
	tu_run_free(&r);
}

#define RCPTS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void hold(const char *node, const char *body, const char *const *rcpts)
{
	hold_in(md(node), "s@example.org", body, strlen(body), rcpts);
}

static int count_in(const char *path, const char *sub)
{
	int n = tu_count(tu_path(path, sub));
	return n < 0 ? 0 : n;
}

/* -- a session: bin/etrnd -O and odmrclient on a socketpair ----------- */

struct session {
	pid_t etrnd, client;
	int etrnd_status, client_status;
	char *out; /* the client's transcript */
	char *log; /* etrnd's log lines (of every session so far) */
};

/* Starts etrnd -O (extra options after the standard ones; env "K=V"
 * strings) and the client with its options and steps. */
static void start_env(struct session *s, const char *const *extra, const char *const *env,
		      const char *const *client)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	memset(s, 0, sizeof *s);
	s->etrnd = fork();
	cr_assert(s->etrnd >= 0);
	if (s->etrnd == 0) {
		const char *argv[32] = {"etrnd", "-O", "-s", root,  "-n", "mx.example",
					"-d",    cdb,  "-q", queue, "-l", "stderr"};
		tu_append(argv, 12, extra);
		int log = open(etrnd_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(sv[0], 0), dup2(sv[0], 1), dup2(log, 2);
		putenv("TCPREMOTEIP=192.0.2.7");
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		tu_execv(tu_bin("etrnd"), argv);
		_exit(127);
	}
	s->client = fork();
	cr_assert(s->client >= 0);
	if (s->client == 0) {
		const char *argv[64] = {python(), helper("odmrclient"), "--fd",
					"3",      "--timeout",          "60"};
		int n = 6;
		for (int i = 0; client[i] && n < 63; i++)
			argv[n++] = client[i];
		argv[n] = NULL;
		int o = open(tu_path(dir, "client.out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(tu_path(dir, "client.err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(sv[1], 3), dup2(o, 1), dup2(e, 2);
		execv(argv[0], (char *const *)argv);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(sv[0]);
	close(sv[1]);
}

static void start(struct session *s, const char *const *client)
{
	start_env(s, NULL, NULL, client);
}

static void finish(struct session *s)
{
	s->client_status = tu_wait_exit(s->client, 90);
	s->etrnd_status = tu_wait_exit(s->etrnd, 30);
	s->out = tu_read(tu_path(dir, "client.out"), NULL);
	s->log = tu_read(etrnd_log, NULL);
	if (!s->log)
		s->log = xstrdup("");
	char *err = tu_read(tu_path(dir, "client.err"), NULL);
	cr_expect_eq(s->client_status, 0, "odmrclient: %s\n%s", err, s->out);
	cr_expect_eq(s->etrnd_status, 0, "etrnd: %s", s->log);
	free(err);
}

static void run(struct session *s, const char *const *client)
{
	start(s, client);
	finish(s);
}

static void done(struct session *s)
{
	free(s->out);
	free(s->log);
}

/* Whether the transcript has this whole line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; p && (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

#define EXPECT_LINE(s, line) cr_expect(has_line((s)->out, line), "no '%s' in:\n%s", line, (s)->out)

/* -- what the client's server received --------------------------------- */

static int sink_count(void)
{
	return count_in(sink, "new");
}

static struct got *sink_messages(void)
{
	return tu_sink_messages(sink);
}

static void expect_bytes(const struct got *g, const char *body)
{
	size_t wl;
	char *w = tu_wire(body, strlen(body), &wl);
	cr_expect(g && g->dlen == wl && memcmp(g->data, w, wl) == 0,
		  "not byte for byte: %zu octets arrived, %zu expected", g ? g->dlen : 0, wl);
	free(w);
}

#define LOGIN "C:EHLO client.test", "AUTH:client.example.net:secret"

static const char body1[] = "Subject: one\n\nhello\n.a line with a dot\n..two dots\n.\nend\n";
static const char body2[] = "Subject: two\nContent-Type: text/plain; charset=iso-8859-1\n\n"
			    "caf\xe9\n";
static const char body3[] = "Subject: three\n\nno newline at the end";

/* -- the tests -------------------------------------------------------- */

Test(odmr, delivers_the_nodes_mail_byte_for_byte_over_the_clients_connection)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	hold_in(md("client.example.net"), "", body2, strlen(body2),
		RCPTS("b@client.example.net", "c@Client.Example.NET"));
	hold("client.example.net", body3, RCPTS("d@client.example.net"));
	struct session s;
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "TURN"));
	EXPECT_LINE(&s, "S: 235 2.7.0 Authentication successful");
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	EXPECT_LINE(&s, "R: EHLO mx.example");
	EXPECT_LINE(&s, "R: QUIT");
	struct got *g = sink_messages();
	cr_expect_eq(sink_count(), 3);
	const struct got *m = tu_find(g, "<a@client.example.net>");
	cr_expect(m && strstr(m->head, "X-Sink-Mail: <s@example.org>"), "%s", m ? m->head : "-");
	expect_bytes(m, body1);
	m = tu_find(g, "<b@client.example.net>");
	cr_expect(m && strstr(m->head, "X-Sink-Mail: <> SIZE=") &&
		      strstr(m->head, "BODY=8BITMIME") &&
		      strstr(m->head, "X-Sink-Rcpt: <c@Client.Example.NET>"),
		  "%s", m ? m->head : "-");
	expect_bytes(m, body2);
	expect_bytes(tu_find(g, "<d@client.example.net>"), body3);
	tu_free_got(g);
	const char *maildir = md("client.example.net");
	cr_expect_eq(count_in(maildir, "new") + count_in(maildir, "cur"), 0,
		     "the maildir is empty");
	cr_expect_eq(count_in(maildir, "tmp"), 0);
	cr_expect_eq(count_in(maildir, "failed"), 0);
	cr_expect(strstr(s.log, "atrn client=192.0.2.7 user=client.example.net "
				"node=client.example.net code=250"),
		  "%s", s.log);
	cr_expect(strstr(s.log, "odmr client=192.0.2.7 user=client.example.net messages=3 sent=4 "
				"deferred=0 failed=0 result=done"),
		  "%s", s.log);
	done(&s);

	/* and again: RFC 2645's "no mail", the session goes on */
	run(&s, ARGS(LOGIN, "C:ATRN client.example.net", "C:QUIT"));
	EXPECT_LINE(&s, "S: 453 4.0.0 You have no mail");
	EXPECT_LINE(&s, "S: 221 2.0.0 mx.example closing connection");
	done(&s);
}

Test(odmr, ehlo_offers_atrn_and_cram_md5_not_etrn_nor_plain_outside_tls)
{
	struct session s;
	run(&s, ARGS("C:EHLO client.test", "C:ETRN client.example.net", "C:ETRN", "C:ETRN @@",
		     "C:HELP", "C:QUIT"));
	EXPECT_LINE(&s, "S: 250-ATRN");
	EXPECT_LINE(&s, "S: 250-AUTH CRAM-MD5");
	cr_expect(!strstr(s.out, "S: 250-ETRN") && !strstr(s.out, "S: 250 ETRN") &&
		      !strstr(s.out, "PLAIN") && !strstr(s.out, "STARTTLS"),
		  "%s", s.out);
	/* ETRN is not a command here, with any argument or none */
	const char *p = s.out;
	for (int i = 0; i < 3; i++) {
		p = strstr(p, "S: 502 5.5.1 Command not implemented\n");
		cr_assert(p, "ETRN %d was not answered 502:\n%s", i + 1, s.out);
		p++;
	}
	done(&s);
}

Test(odmr, no_mail_is_453_for_an_empty_or_a_missing_maildir)
{
	/* an empty maildir: deliver what it had, then look again */
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	struct session s;
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "TURN"));
	done(&s);
	cr_assert_eq(sink_count(), 1);
	run(&s, ARGS(LOGIN, "C:ATRN client.example.net", "C:ATRN two.example.net", "C:QUIT"));
	cr_expect(strstr(s.out, "S: 453 4.0.0 You have no mail\nC: ATRN two.example.net\n"
				"S: 453 4.0.0 You have no mail\n"),
		  "a missing maildir is no mail too:\n%s", s.out);
	done(&s);
}

Test(odmr, atrn_needs_auth_a_wrong_password_is_535_a_login_not_in_users_450)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	struct session s;
	run(&s, ARGS("C:EHLO client.test", "C:ATRN client.example.net",
		     "AUTH:client.example.net:wrong", "C:ATRN client.example.net",
		     "AUTH:other:other-secret", "C:ATRN client.example.net", "C:QUIT"));
	cr_expect(strstr(s.out, "C: ATRN client.example.net\nS: 530 5.7.0 Authentication required\n"
				"C: AUTH CRAM-MD5\n"),
		  "%s", s.out);
	EXPECT_LINE(&s, "S: 535 5.7.8 Authentication credentials invalid");
	cr_expect(strstr(s.out,
			 "S: 535 5.7.8 Authentication credentials invalid\n"
			 "C: ATRN client.example.net\nS: 530 5.7.0 Authentication required\n"),
		  "%s", s.out);
	EXPECT_LINE(&s, "S: 450 4.7.1 ATRN request refused");
	cr_expect(strstr(s.log, "auth client=192.0.2.7 user=client.example.net mech=CRAM-MD5 "
				"result=failed reason=bad-credentials"),
		  "%s", s.log);
	cr_expect(strstr(s.log, "atrn client=192.0.2.7 user=other node=client.example.net code=450 "
				"reason=user-not-allowed"),
		  "%s", s.log);
	cr_expect_eq(count_in(md("client.example.net"), "new"), 1);
	done(&s);
}

/* Outside TLS, ODMR offers CRAM-MD5 alone: with no login that has cram=,
 * AUTH is not offered at all, ATRN can only get 530, and each session
 * logs a warning that says why. */
Test(odmr, without_tls_and_a_cram_login_auth_is_not_offered_and_the_log_says_so)
{
	char *hash = secret_of("-p", "secret"), *text = NULL;
	cr_assert(asprintf(&text,
			   "client.example.net users=bob spool=%s/client.example.net\n"
			   "user:bob %s\n",
			   root, hash) > 0);
	cr_assert_eq(tu_rules(dir, text, cdb), 0);
	free(text), free(hash);
	struct session s;
	run(&s,
	    ARGS("C:EHLO client.test", "C:AUTH CRAM-MD5", "C:ATRN client.example.net", "C:QUIT"));
	cr_expect(!strstr(s.out, "S: 250-AUTH") && !strstr(s.out, "S: 250 AUTH"), "%s", s.out);
	EXPECT_LINE(&s, "S: 530 5.7.0 Authentication required");
	cr_expect(strstr(s.log, "warning reason=\"-O without -C and no login with cram=: AUTH is "
				"not offered, so no ATRN can succeed\""),
		  "%s", s.log);
	done(&s);
}

/* A login without cram= (password= only, for PLAIN inside TLS) fails
 * CRAM-MD5 as a wrong password does, and so does a name that is no login:
 * the same reply, only the log tells them apart. */
Test(odmr, cram_md5_for_a_login_without_cram_fails_like_a_wrong_password)
{
	char *hash = secret_of("-p", "secret"), extra[300];
	snprintf(extra, sizeof extra, "user:pwonly %s\n", hash);
	free(hash);
	write_rules(extra);
	struct session s;
	run(&s, ARGS("C:EHLO client.test", "AUTH:pwonly:secret", "AUTH:nobody.here:secret",
		     "C:ATRN client.example.net", "C:QUIT"));
	const char *p = s.out;
	int n = 0;
	while ((p = strstr(p, "S: 535 5.7.8 Authentication credentials invalid\n")))
		n++, p++;
	cr_expect_eq(n, 2, "%s", s.out);
	EXPECT_LINE(&s, "S: 530 5.7.0 Authentication required");
	cr_expect(strstr(s.log, "user=pwonly mech=CRAM-MD5 result=failed reason=bad-credentials"),
		  "%s", s.log);
	cr_expect(strstr(s.log, "user=nobody.here mech=CRAM-MD5 result=failed reason=no-login"),
		  "%s", s.log);
	done(&s);
}

/* RFC 2645's grammar: host names, a comma between them, at most
 * ATRN_NODES_MAX; anything else 501 before any rule is looked at. */
Test(odmr, atrn_syntax_and_the_node_limit_are_501)
{
	const char *bad[] = {"C:ATRN",
			     "C:ATRN client..example.net",
			     "C:ATRN #queue",
			     "C:ATRN @example.org",
			     "C:ATRN client.example.net,",
			     "C:ATRN ,client.example.net",
			     "C:ATRN [192.0.2.1]",
			     "C:ATRN client.example.net two.example.net",
			     "C:ATRN localname",
			     NULL};
	const char *argv[32] = {LOGIN};
	int n = 2;
	for (int i = 0; bad[i]; i++)
		argv[n++] = bad[i];
	argv[n++] = "C:QUIT";
	argv[n] = NULL;
	struct session s;
	run(&s, argv);
	const char *p = s.out;
	int syntax = 0;
	while ((p = strstr(p, "S: 501 5.5.4 Syntax: ATRN domain[,domain...] (at most 16)\n")))
		syntax++, p++;
	cr_expect_eq(syntax, 9, "%s", s.out);
	EXPECT_LINE(&s, "S: 221 2.0.0 mx.example closing connection");
	done(&s);

	char many[ATRN_NODES_MAX * 24 + 16];
	n = snprintf(many, sizeof many, "C:ATRN ");
	for (int i = 1; i <= ATRN_NODES_MAX; i++)
		n += snprintf(many + n, sizeof many - (size_t)n, "%sn%d.example.net",
			      i > 1 ? "," : "", i);
	char more[sizeof many + 24];
	snprintf(more, sizeof more, "%s,client.example.net", many);
	run(&s, ARGS(LOGIN, more, many, "C:QUIT"));
	cr_expect(strstr(s.out,
			 "S: 501 5.5.4 Syntax: ATRN domain[,domain...] (at most 16)\nC: ATRN "
			 "n1.example.net,"),
		  "17 nodes: %s", s.out);
	cr_expect(strstr(s.out, "n16.example.net\nS: 450 4.7.1 ATRN request refused\n"),
		  "16 nodes are looked up (and have no rule): %s", s.out);
	cr_expect(strstr(s.log, "node=n1.example.net code=450 reason=no-rule"), "%s", s.log);
	done(&s);
}

Test(odmr, no_rule_no_spool_or_deny_is_450)
{
	struct session s;
	run(&s, ARGS(LOGIN, "C:ATRN unknown.example.net", "C:ATRN nospool.example.net",
		     "C:ATRN denied.example.net", "C:QUIT"));
	cr_expect(strstr(s.out, "C: ATRN unknown.example.net\nS: 450 4.7.1 ATRN request refused\n"
				"C: ATRN nospool.example.net\nS: 450 4.7.1 ATRN request refused\n"
				"C: ATRN denied.example.net\nS: 450 4.7.1 ATRN request refused\n"),
		  "%s", s.out);
	cr_expect(strstr(s.log, "node=unknown.example.net code=450 reason=no-rule"), "%s", s.log);
	cr_expect(strstr(s.log, "node=nospool.example.net code=450 reason=no-spool"), "%s", s.log);
	cr_expect(strstr(s.log, "node=denied.example.net code=450 reason=denied"), "%s", s.log);
	done(&s);
}

/* ATRN hands the node's mail to whoever asked: only a login in users=
 * may take it. A rule open to anyone, or an address in allow=, is enough
 * to start a delivery to the node's own servers (ETRN), never to hand its
 * mail to the connected client. */
Test(odmr, only_a_login_in_users_takes_mail_an_open_rule_or_allow_is_not_enough)
{
	hold("open.example.net", body1, RCPTS("a@open.example.net"));
	hold("addr.example.net", body1, RCPTS("a@addr.example.net"));
	hold("both.example.net", body1, RCPTS("a@both.example.net"));
	struct session s;
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN open.example.net", "C:ATRN addr.example.net",
		     "C:ATRN both.example.net", "C:QUIT"));
	cr_expect(strstr(s.out, "C: ATRN open.example.net\nS: 450 4.7.1 ATRN request refused\n"
				"C: ATRN addr.example.net\nS: 450 4.7.1 ATRN request refused\n"
				"C: ATRN both.example.net\nS: 450 4.7.1 ATRN request refused\n"),
		  "%s", s.out);
	cr_expect_eq(sink_count(), 0);
	cr_expect(strstr(s.log, "node=open.example.net code=450 reason=no-users"), "%s", s.log);
	cr_expect(strstr(s.log, "node=addr.example.net code=450 reason=no-users"), "%s", s.log);
	cr_expect(strstr(s.log, "node=both.example.net code=450 reason=user-not-allowed"), "%s",
		  s.log);
	done(&s);
	/* the login users= names takes it, from any address */
	run(&s, ARGS("--dir", sink, "C:EHLO client.test", "AUTH:other:other-secret",
		     "C:ATRN both.example.net", "TURN"));
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 1);
	done(&s);
}

/* The client's SMTP server decides as any destination does: a 4xx keeps
 * the recipient for the next time, a 5xx moves it to failed/ with the
 * reply (etrnd-deliver's rules), a 250 removes it. */
Test(odmr, the_clients_server_4xx_keeps_5xx_moves_to_failed)
{
	hold("client.example.net", body1, RCPTS("ok@client.example.net"));
	hold("client.example.net", body2, RCPTS("later@client.example.net"));
	hold("client.example.net", body3, RCPTS("gone@client.example.net"));
	hold("client.example.net", "Subject: mixed\n\nx\n",
	     RCPTS("ok2@client.example.net", "later2@client.example.net",
		   "gone2@client.example.net"));
	hold("client.example.net", "Subject: data\n\ny\n", RCPTS("eom@client.example.net"));
	struct session s;
	run(&s, ARGS("--dir", sink, "--rcpt-reply", "later@client.example.net=450 4.2.1 try later",
		     "--rcpt-reply", "later2@client.example.net=451 4.3.0 busy", "--rcpt-reply",
		     "gone@client.example.net=550 5.1.1 no such user", "--rcpt-reply",
		     "gone2@client.example.net=553 5.1.3 bad address", "--eom", "250 2.0.0 ok",
		     "--eom", "250 2.0.0 ok", "--eom", "554 5.6.0 message refused", LOGIN,
		     "C:ATRN client.example.net", "TURN"));
	EXPECT_LINE(&s, "R: QUIT");
	struct got *g = sink_messages();
	cr_expect_eq(sink_count(), 2, "ok and the mixed one's ok2");
	expect_bytes(tu_find(g, "<ok@client.example.net>"), body1);
	const struct got *m = tu_find(g, "<ok2@client.example.net>");
	cr_expect(m && !strstr(m->head, "later2") && !strstr(m->head, "gone2"), "%s",
		  m ? m->head : "-");
	tu_free_got(g);
	const char *maildir = md("client.example.net");
	char *waiting = tu_snapshot(tu_path(maildir, "new")),
	     *failed = tu_snapshot(tu_path(maildir, "failed"));
	cr_expect_eq(count_in(maildir, "new"), 2, "%s", waiting);
	cr_expect(strstr(waiting, "to later@client.example.net\n") &&
		      strstr(waiting, "to later2@client.example.net\n") &&
		      !strstr(waiting, "ok2@") && !strstr(waiting, "gone2@"),
		  "%s", waiting);
	cr_expect_eq(count_in(maildir, "failed"), 3, "%s", failed);
	cr_expect(strstr(failed, "error gone@client.example.net 550 5.1.1 no such user\n") &&
		      strstr(failed, "error gone2@client.example.net 553 5.1.3 bad address\n") &&
		      strstr(failed, "error eom@client.example.net 554 5.6.0 message refused\n"),
		  "%s", failed);
	cr_expect_eq(count_in(maildir, "tmp"), 0);
	cr_expect(strstr(s.log, "messages=5 sent=2 deferred=2 failed=3 result=incomplete"), "%s",
		  s.log);
	free(waiting), free(failed);
	done(&s);
}

/* A connection lost in the middle of a message: what was acknowledged
 * before is gone from the spool, the message itself stays as it was, and
 * nothing is in failed/. */
Test(odmr, a_connection_lost_in_the_middle_of_a_message_keeps_it)
{
	size_t big = 300000;
	char *body = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		body[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	body[big] = '\0';
	hold_in(md("client.example.net"), "s@example.org", "Subject: 1 first\n\nx\n", 19,
		RCPTS("a@client.example.net"));
	hold("client.example.net", body, RCPTS("b@client.example.net"));
	const char *maildir = md("client.example.net");
	char *all = tu_snapshot(tu_path(maildir, "new"));
	struct session s;
	run(&s, ARGS("--dir", sink, "--drop-after", "100000", LOGIN, "C:ATRN client.example.net",
		     "TURN"));
	EXPECT_LINE(&s, "R: <EOF in the data>");
	cr_expect_eq(sink_count(), 1);
	char *after = tu_snapshot(tu_path(maildir, "new"));
	cr_expect_eq(count_in(maildir, "new"), 1);
	cr_expect(strstr(all, after) != NULL, "the kept message changed");
	cr_expect(strstr(after, body) != NULL, "the big message is not the one kept");
	cr_expect_eq(count_in(maildir, "failed"), 0);
	cr_expect_eq(count_in(maildir, "tmp"), 0);
	cr_expect(strstr(s.log, "messages=2 sent=1 deferred=1 failed=0 result=incomplete"), "%s",
		  s.log);
	done(&s);
	free(all), free(after);

	/* the lock went with the process: the next session delivers it */
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "TURN"));
	cr_expect_eq(sink_count(), 2);
	struct got *g = sink_messages();
	expect_bytes(tu_find(g, "<b@client.example.net>"), body);
	tu_free_got(g);
	cr_expect_eq(count_in(maildir, "new"), 0);
	done(&s);
	free(body);
}

/* -- pipelining around ATRN ------------------------------------------- */

/* AUTH CRAM-MD5 needs the server's challenge before the answer: an ATRN
 * pipelined after it is taken as the answer (501, not a login) and never
 * runs; the client can still log in and ATRN. */
Test(odmr, atrn_pipelined_behind_auth_cram_md5_is_the_sasl_answer_not_an_atrn)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	struct session s;
	run(&s, ARGS("--dir", sink, "C:EHLO client.test\nATRN client.example.net",
		     "C:AUTH CRAM-MD5\nATRN client.example.net", "AUTH:client.example.net:secret",
		     "C:ATRN client.example.net", "TURN"));
	cr_expect(strstr(s.out, "C: ATRN client.example.net\nS: 250-mx.example\n"), "%s", s.out);
	cr_expect(
	    strstr(s.out, "S: 250 ENHANCEDSTATUSCODES\nS: 530 5.7.0 Authentication required\n"),
	    "a group of EHLO and ATRN: %s", s.out);
	cr_expect(strstr(s.out, "C: ATRN client.example.net\nS: 334 ") &&
		      strstr(s.out, "S: 501 5.5.2 Cannot decode the response (base64)\n"),
		  "%s", s.out);
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 1);
	cr_expect(strstr(s.log, "code=250") && !strstr(s.log, "result=failed"), "%s", s.log);
	done(&s);
}

/* ATRN turns the connection round, so it must end a pipelined group
 * (RFC 2920 3.1, as TURN): what the client sent after it, before our 250,
 * cannot be its server's greeting. The session ends at once, nothing is
 * sent, the mail stays, the log says why. */
Test(odmr, commands_pipelined_after_atrn_end_the_session_with_nothing_sent)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	const char *maildir = md("client.example.net");
	char *before = tu_snapshot(tu_path(maildir, "new"));
	struct session s;
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net\nQUIT"));
	cr_expect(strstr(s.out, "S: 250 2.0.0 OK now reversing the connection\nS: <EOF>\n"), "%s",
		  s.out);
	cr_expect(!strstr(s.out, "S: EHLO"), "etrnd spoke as a client: %s", s.out);
	cr_expect(strstr(s.log,
			 "odmr client=192.0.2.7 user=client.example.net messages=0 sent=0 "
			 "deferred=0 failed=0 result=incomplete reason=pipelined-after-atrn"),
		  "%s", s.log);
	char *after = tu_snapshot(tu_path(maildir, "new"));
	cr_expect_str_eq(after, before);
	free(before), free(after);
	done(&s);
	/* a greeting sent before the 250 is no greeting either */
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net\n220 client.test ESMTP"));
	cr_expect(strstr(s.log, "reason=pipelined-after-atrn"), "%s", s.log);
	cr_expect_eq(sink_count(), 0);
	cr_expect_eq(count_in(maildir, "new"), 1);
	done(&s);
}

/* The client goes after the 250 (fetchmail does when its smtphost does
 * not answer): no greeting, nothing sent, the mail stays. */
Test(odmr, a_client_that_goes_after_the_250_keeps_everything)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	char *before = tu_snapshot(tu_path(md("client.example.net"), "new"));
	struct session s;
	run(&s, ARGS(LOGIN, "C:ATRN client.example.net"));
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect(strstr(s.log, "odmr client=192.0.2.7 user=client.example.net messages=0 sent=0 "
				"deferred=0 failed=0 result=incomplete"),
		  "%s", s.log);
	char *after = tu_snapshot(tu_path(md("client.example.net"), "new"));
	cr_expect_str_eq(after, before);
	cr_expect_eq(count_in(md("client.example.net"), "failed"), 0);
	free(before), free(after);
	done(&s);
}

/* -- locks: one deliverer per maildir --------------------------------- */

/* Another process holds one node's maildir (as etrnd-deliver does): the
 * whole ATRN is 451, and nothing of either node is delivered. */
Test(odmr, two_nodes_one_busy_is_451_and_nothing_is_delivered)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	hold("two.example.net", body2, RCPTS("a@two.example.net"));
	int fd = open(md("two.example.net"), O_RDONLY | O_DIRECTORY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	struct session s;
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net,two.example.net", "C:QUIT"));
	EXPECT_LINE(&s, "S: 451 4.3.0 Unable to process ATRN request now");
	cr_expect(strstr(s.log, "node=two.example.net code=451 reason=busy"), "%s", s.log);
	cr_expect_eq(sink_count(), 0);
	cr_expect_eq(count_in(md("client.example.net"), "new"), 1);
	cr_expect_eq(count_in(md("two.example.net"), "new"), 1);
	done(&s);
	/* the ATRN released client.example.net's lock: another process can
	 * take it, and once the other one goes, both are delivered */
	int cfd = open(md("client.example.net"), O_RDONLY | O_DIRECTORY);
	cr_expect_eq(flock(cfd, LOCK_EX | LOCK_NB), 0, "the refused ATRN kept a lock");
	close(cfd);
	close(fd);
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net,two.example.net", "TURN"));
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 2);
	done(&s);
}

/* etrnd-deliver (the runner's delivery) and an ODMR session take the same
 * lock: while one delivers, the other gives up, and every message is
 * delivered exactly once. */
static pid_t smtpsink_pid = -1;
static char smtpsink_port[8];

static void smtpsink_start(const char *const *extra)
{
	const char *ready = tu_path(dir, "smtpsink.ready");
	const char *argv[32] = {python(),       xstrdup(helper("smtpsink")),
				"--dir",        xstrdup(tu_path(dir, "mx")),
				"--listen",     "127.0.0.1:0",
				"--ready-file", xstrdup(ready),
				"--log",        xstrdup(tu_path(dir, "smtpsink.log"))};
	tu_append(argv, 10, extra);
	unlink(ready);
	smtpsink_pid = fork();
	cr_assert(smtpsink_pid >= 0);
	if (smtpsink_pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
		execv(argv[0], (char *const *)argv);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 3000; i++) {
		char *r = tu_read(ready, NULL);
		if (r) {
			cr_assert_eq(sscanf(r, "%*d\n%*s %7s", smtpsink_port), 1, "%s", r);
			free(r);
			return;
		}
		cr_assert(!tu_exits_within(smtpsink_pid, 10), "smtpsink exited");
	}
	cr_assert_fail("smtpsink not ready after 30 s");
}

static void smtpsink_stop(void)
{
	if (smtpsink_pid > 0) {
		kill(smtpsink_pid, SIGTERM);
		tu_wait_exit(smtpsink_pid, 10);
	}
	smtpsink_pid = -1;
}

static pid_t deliver_start(const char *maildir)
{
	char dest[64];
	snprintf(dest, sizeof dest, "[127.0.0.1]:%s", smtpsink_port);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		const char *argv[] = {"etrnd-deliver",      "-T", "60", maildir, dest,
				      "client.example.net", NULL};
		int log = open(tu_path(dir, "deliver.log"), O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0), dup2(nul, 1), dup2(log, 2);
		tu_execv(tu_bin("etrnd-deliver"), argv);
		_exit(127);
	}
	return pid;
}

static int wait_for_file(const char *path, int seconds)
{
	for (long long end = tu_now_ms() + seconds * 1000LL; tu_now_ms() < end; sleep_ms(10))
		if (access(path, F_OK) == 0)
			return 1;
	return 0;
}

static int file_has(const char *path, const char *needle, int seconds)
{
	for (long long end = tu_now_ms() + seconds * 1000LL; tu_now_ms() < end; sleep_ms(10)) {
		char *s = tu_read(path, NULL);
		int found = s && strstr(s, needle);
		free(s);
		if (found)
			return 1;
	}
	return 0;
}

Test(odmr, an_odmr_session_and_etrnd_deliver_never_deliver_one_message_twice)
{
	const char *maildir = md("client.example.net");
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	hold("client.example.net", body2, RCPTS("b@client.example.net"));
	hold("client.example.net", body3, RCPTS("c@client.example.net"));
	smtpsink_start(NULL);

	/* ODMR first: held at its first message, etrnd-deliver gives up */
	const char *pause = xstrdup(tu_path(dir, "pause"));
	char reached[4200];
	snprintf(reached, sizeof reached, "%s.reached", pause);
	struct session s;
	start(&s, ARGS("--dir", sink, "--pause-at-eom", pause, LOGIN, "C:ATRN client.example.net",
		       "TURN"));
	cr_assert(wait_for_file(reached, 60), "the first message never reached the client");
	pid_t d = deliver_start(maildir);
	cr_expect_eq(tu_wait_exit(d, 60), 75, "etrnd-deliver did not give up the locked maildir");
	cr_expect(file_has(tu_path(dir, "deliver.log"), "another delivery holds the maildir", 1));
	tu_write(pause, "go\n");
	finish(&s);
	cr_expect_eq(sink_count(), 3);
	cr_expect_eq(count_in(tu_path(dir, "mx"), "new"), 0, "etrnd-deliver delivered too");
	cr_expect_eq(count_in(maildir, "new"), 0);
	done(&s);

	/* etrnd-deliver first: held at its message (the MX never answers the
	 * final dot), the ATRN is 451; killed, it has delivered nothing, and
	 * ODMR then delivers the message once */
	hold("client.example.net", body1, RCPTS("d@client.example.net"));
	smtpsink_stop();
	smtpsink_start(ARGS("--reply", "eom=hang"));
	d = deliver_start(maildir);
	cr_assert(file_has(tu_path(dir, "smtpsink.log"), "<hang>", 60), "etrnd-deliver never sent");
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "C:QUIT"));
	EXPECT_LINE(&s, "S: 451 4.3.0 Unable to process ATRN request now");
	done(&s);
	kill(d, SIGTERM);
	cr_expect_eq(tu_wait_exit(d, 30), 128 + SIGTERM);
	cr_expect_eq(count_in(maildir, "new"), 1, "the unacknowledged message stays");
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "TURN"));
	cr_expect_eq(sink_count(), 4);
	cr_expect_eq(count_in(tu_path(dir, "mx"), "new"), 0);
	cr_expect_eq(count_in(maildir, "new"), 0);
	done(&s);
	smtpsink_stop();
	free((char *)pause);
}

/* -- the spool root (-s) and the sandbox ------------------------------ */

/* Every spool= must resolve to a place beneath the spool root: written
 * outside it, or leading out of it through ".." or a symbolic link, the
 * ATRN is 451 with a log line, and the maildir out there is not touched
 * (under Landlock etrnd could not remove what it delivered from there). */
Test(odmr, a_spool_outside_the_root_is_451_with_a_log_line)
{
	const char *out = tu_path(dir, "outside/md");
	hold_in(out, "s@example.org", body1, strlen(body1), RCPTS("a@outside.example.net"));
	cr_assert_eq(symlink(out, md("link")), 0);
	char *before = tu_snapshot(tu_path(out, "new"));
	struct session s;
	run(&s, ARGS("--dir", sink, LOGIN, "C:ATRN outside.example.net",
		     "C:ATRN dotdot.example.net", "C:ATRN link.example.net", "C:QUIT"));
	cr_expect(strstr(s.out, "C: ATRN outside.example.net\nS: 451 4.3.0 Unable to process ATRN "
				"request now\nC: ATRN dotdot.example.net\nS: 451 4.3.0 Unable to "
				"process ATRN request now\nC: ATRN link.example.net\nS: 451 4.3.0 "
				"Unable to process ATRN request now\n"),
		  "%s", s.out);
	cr_expect(strstr(s.log, "node=outside.example.net code=451 reason=spool-outside-root"),
		  "%s", s.log);
	cr_expect(strstr(s.log, "node=dotdot.example.net code=451 reason=spool-outside-root"), "%s",
		  s.log);
	cr_expect(strstr(s.log, "node=link.example.net code=451 reason=spool-outside-root"), "%s",
		  s.log);
	cr_expect_eq(sink_count(), 0);
	char *after = tu_snapshot(tu_path(out, "new"));
	cr_expect_str_eq(after, before);
	free(before), free(after);
	done(&s);
}

/* The root may itself be a symbolic link (/var/spool/etrnd-hold to a
 * bigger disk): the rules may name the maildirs by either path. */
Test(odmr, a_symlinked_spool_root_is_followed_once)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	const char *alias = xstrdup(tu_path(dir, "holdlink"));
	cr_assert_eq(symlink(root, alias), 0);
	struct session s;
	start_env(&s, ARGS("-s", alias), NULL,
		  ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "TURN"));
	finish(&s);
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 1);
	done(&s);
	free((char *)alias);
}

/* A spool root that does not exist: a warning when the session starts,
 * and 451 for a node with held mail (never "no mail"). */
Test(odmr, a_missing_spool_root_is_a_warning_and_451)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	const char *missing = xstrdup(tu_path(dir, "nohold"));
	struct session s;
	start_env(&s, ARGS("-s", missing), NULL,
		  ARGS(LOGIN, "C:ATRN client.example.net", "C:ATRN unknown.example.net", "C:QUIT"));
	finish(&s);
	char want[4300];
	snprintf(want, sizeof want, "warning spool_root=%s reason=\"No such file or directory\"",
		 missing);
	cr_expect(strstr(s.log, want), "%s", s.log);
	cr_expect(strstr(s.out, "C: ATRN client.example.net\nS: 451 4.3.0 Unable to process ATRN "
				"request now\n"),
		  "%s", s.out);
	cr_expect(strstr(s.log, "node=client.example.net code=451 reason=spool-root-missing"), "%s",
		  s.log);
	done(&s);
	free((char *)missing);
}

/* Two rules may name one maildir, spelt differently (here with a trailing
 * slash): one ATRN for both nodes locks it once and delivers both. */
Test(odmr, two_nodes_sharing_one_maildir_spelt_differently)
{
	hold("shared", body1, RCPTS("a@shared1.example.net"));
	hold("shared", body2, RCPTS("b@shared2.example.net"));
	hold("shared", body3, RCPTS("c@other.example.com"));
	struct session s;
	run(&s,
	    ARGS("--dir", sink, LOGIN, "C:ATRN shared1.example.net,shared2.example.net", "TURN"));
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 2, "%s", s.log);
	struct got *g = sink_messages();
	expect_bytes(tu_find(g, "<a@shared1.example.net>"), body1);
	expect_bytes(tu_find(g, "<b@shared2.example.net>"), body2);
	tu_free_got(g);
	cr_expect_eq(count_in(md("shared"), "new"), 1, "the third node's message stays");
	done(&s);
}

/* A maildir made by hand or by another tool may lack tmp/ or failed/:
 * etrnd-deliver makes them; ATRN must not take it for "no mail". */
Test(odmr, a_maildir_without_failed_or_tmp_still_has_mail)
{
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	hold("two.example.net", body2, RCPTS("a@two.example.net"));
	cr_assert_eq(rmdir(tu_path(md("client.example.net"), "failed")), 0);
	cr_assert_eq(rmdir(tu_path(md("two.example.net"), "tmp")), 0);
	struct session s;
	run(&s, ARGS("--dir", sink, "--rcpt-reply", "a@two.example.net=550 5.1.1 unknown", LOGIN,
		     "C:ATRN client.example.net,two.example.net", "TURN"));
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 1);
	cr_expect_eq(count_in(md("client.example.net"), "new"), 0);
	cr_expect_eq(count_in(md("two.example.net"), "failed"), 1);
	struct stat st;
	cr_expect(stat(tu_path(md("client.example.net"), "failed"), &st) == 0 &&
		      (st.st_mode & 0777) == 0700,
		  "failed/ not made as etrnd-deliver makes it");
	done(&s);
}

/* -u: etrnd -O runs as the user that owns the held mail. Run as another,
 * it could send a message and then not remove it, and send it again at
 * every ATRN: a maildir it cannot change is 451 with a log line. */
Test(odmr, a_maildir_etrnd_cannot_change_is_451_then_delivered_as_its_owner)
{
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() != 0 || !pw)
		cr_skip_test("needs root and the user nobody");
	cr_assert_eq(chmod(dir, 0755), 0);
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	const char *maildir = md("client.example.net");
	cr_assert_eq(chmod(tu_path(maildir, "tmp"), 0755), 0); /* readable, not writable */
	cr_assert_eq(chmod(tu_path(maildir, "failed"), 0755), 0);
	struct session s;
	start_env(&s, ARGS("-u", "nobody"), NULL,
		  ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "C:QUIT"));
	finish(&s);
	EXPECT_LINE(&s, "S: 451 4.3.0 Unable to process ATRN request now");
	cr_expect(strstr(s.log, "node=client.example.net code=451 reason=maildir-not-writable"),
		  "%s", s.log);
	cr_expect(!strstr(s.log, "running as root"), "%s", s.log);
	cr_expect_eq(sink_count(), 0);
	done(&s);

	char cmd[4200];
	snprintf(cmd, sizeof cmd, "chown -R nobody %s", maildir);
	cr_assert_eq(system(cmd), 0);
	start_env(&s, ARGS("-u", "nobody"), NULL,
		  ARGS("--dir", sink, LOGIN, "C:ATRN client.example.net", "TURN"));
	finish(&s);
	EXPECT_LINE(&s, "S: 250 2.0.0 OK now reversing the connection");
	cr_expect_eq(sink_count(), 1);
	cr_expect_eq(count_in(maildir, "new"), 0);
	done(&s);
}

static int landlock_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* _VERSION */);
}

/* Landlock, the kernel's half of -s: an ODMR session writes only beneath
 * the queue and the spool root. Its maildir is moved out of the root while
 * the client's server holds the reply to the first message; the 250 then
 * comes, and the kernel refuses the removal out there: the file stays
 * (the log says it will be sent again), whatever etrnd's own checks. */
Test(odmr, landlock_an_odmr_session_cannot_write_outside_the_root)
{
	if (landlock_abi() < 1)
		cr_skip_test("this kernel has no Landlock");
	hold("client.example.net", body1, RCPTS("a@client.example.net"));
	const char *moved = xstrdup(tu_path(dir, "outside/moved"));
	const char *pause = xstrdup(tu_path(dir, "pause"));
	char reached[4200];
	snprintf(reached, sizeof reached, "%s.reached", pause);
	char *before = tu_snapshot(tu_path(md("client.example.net"), "new"));
	struct session s;
	start(&s, ARGS("--dir", sink, "--pause-at-eom", pause, LOGIN, "C:ATRN client.example.net",
		       "TURN"));
	cr_assert(wait_for_file(reached, 60), "the message never reached the client");
	cr_assert_eq(rename(md("client.example.net"), moved), 0);
	tu_write(pause, "go\n");
	finish(&s);
	if (strstr(s.log, "warning sandbox=")) { /* e.g. under valgrind, which lacks Landlock */
		done(&s);
		cr_skip_test("etrnd ran without its sandbox here");
	}
	cr_expect_eq(sink_count(), 1, "the client's server has it");
	char *after = tu_snapshot(tu_path(moved, "new"));
	cr_expect_str_eq(after, before, "removed outside the root");
	cr_expect(strstr(s.log, "DELIVERED BUT NOT RECORDED in new/"), "%s", s.log);
	cr_expect(strstr(s.log, "Permission denied"), "%s", s.log);
	free(before), free(after);
	free((char *)moved), free((char *)pause);
	done(&s);
}

/* -- implicit TLS ----------------------------------------------------- */

static void make_cert(void)
{
	char cmd[8400];
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=mx.example "
		 "-addext subjectAltName=DNS:mx.example >/dev/null 2>&1",
		 dir, dir);
	cr_assert_eq(system(cmd), 0, "openssl req failed");
}

/* Under TLS, PLAIN is on offer too, and AUTH PLAIN with its initial
 * response and ATRN may share one write: the group ends at ATRN. */
Test(odmr, implicit_tls_plain_and_atrn_in_one_write_then_the_turn)
{
	if (!tlsio_available())
		cr_skip_test("built without TLS (make TLS=no)");
	if (system("command -v openssl >/dev/null 2>&1") != 0)
		cr_skip_test("no openssl to make a certificate");
	make_cert();
	hold("plain.example.net", body1, RCPTS("a@plain.example.net"));
	char *hash = secret_of("-p", "secret");
	char extra[600];
	snprintf(extra, sizeof extra,
		 "user:plain.user %s\n"
		 "plain.example.net users=plain.user spool=%s/plain.example.net\n",
		 hash, root);
	write_rules(extra);
	unsigned char ir[64];
	int irlen = snprintf((char *)ir, sizeof ir, "%cplain.user%csecret", 0, 0);
	char b64[128], group[300];
	b64_encode(ir, (size_t)irlen, b64, sizeof b64);
	snprintf(group, sizeof group, "C:AUTH PLAIN %s\nATRN plain.example.net", b64);
	const char *cert = xstrdup(tu_path(dir, "cert.pem")),
		   *key = xstrdup(tu_path(dir, "key.pem"));
	struct session s;
	start_env(&s, ARGS("-C", cert, "-K", key, "-S"), NULL,
		  ARGS("--tls", "--cafile", cert, "--servername", "mx.example", "--dir", sink,
		       "C:EHLO client.test", group, "TURN"));
	finish(&s);
	EXPECT_LINE(&s, "S: 250-AUTH PLAIN LOGIN CRAM-MD5");
	cr_expect(strstr(s.out, "S: 235 2.7.0 Authentication successful\n"
				"S: 250 2.0.0 OK now reversing the connection\n"),
		  "%s", s.out);
	cr_expect_eq(sink_count(), 1, "%s\n%s", s.out, s.log);
	struct got *g = sink_messages();
	expect_bytes(tu_find(g, "<a@plain.example.net>"), body1);
	tu_free_got(g);
	cr_expect(strstr(s.log, "end client=192.0.2.7 helo=client.test tls=TLSv1.3"), "%s", s.log);
	done(&s);
	free(hash), free((char *)cert), free((char *)key);
}
