/* SPDX-License-Identifier: ISC */
/* etrnd: one SMTP session on stdin/stdout that answers ETRN (RFC 1985),
 * with STARTTLS (RFC 3207) or implicit TLS (RFC 8314) and AUTH (RFC 4954)
 * when a certificate is given; with -O, ODMR's ATRN (RFC 2645) instead.
 * Started per connection by inetd, xinetd, tcpserver or systemd. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/authcheck.h"
#include "lib/client.h"
#include "lib/exits.h"
#include "lib/log.h"
#include "lib/netio.h"
#include "lib/num.h"
#include "lib/odmr.h"
#include "lib/privs.h"
#include "lib/queuestart.h"
#include "lib/sandbox.h"
#include "lib/serve.h"
#include "lib/tlsspawn.h"

struct options {
	const char *cdb, *queuedir, *host, *user;
	long idle, deadline;
	int log_target;         /* -1 = decide from fd 2 */
	const char *cert, *key; /* -C, -K */
	int implicit_tls;       /* -S */
	int odmr;               /* -O: RFC 2645's ATRN instead of ETRN */
	const char *spool_root; /* -s: ODMR delivers only from maildirs below it */
};

static void usage(void)
{
	static const char msg[] =
	    "usage: etrnd [-d CDB] [-q QUEUEDIR] [-n HOSTNAME] [-t IDLE_SECONDS]\n"
	    "             [-T SESSION_SECONDS] [-l stderr|syslog] [-u USER]\n"
	    "             [-C CERTFILE -K KEYFILE [-S]] [-O [-s SPOOLROOT]]\n";
	fputs(msg, stderr);
	exit(EXIT_PERM);
}

static long seconds(const char *s)
{
	long v;
	if (num_arg(s, 1, 86400, &v) < 0)
		usage();
	return v;
}

static void parse_options(struct options *o, int argc, char **argv)
{
	int c;

	*o = (struct options){.cdb = "/etc/etrnd/etrn.cdb",
			      .queuedir = "/var/spool/etrnd",
			      .idle = SMTP_IDLE_TIMEOUT,
			      .deadline = SMTP_SESSION_DEADLINE,
			      .log_target = -1,
			      .spool_root = "/var/spool/etrnd-hold"};
	while ((c = getopt(argc, argv, "d:q:n:t:T:l:u:C:K:SOs:")) != -1) {
		switch (c) {
		case 'O': o->odmr = 1; break;
		case 's': o->spool_root = optarg; break;
		case 'C': o->cert = optarg; break;
		case 'K': o->key = optarg; break;
		case 'S': o->implicit_tls = 1; break;
		case 'd': o->cdb = optarg; break;
		case 'q': o->queuedir = optarg; break;
		case 'n': o->host = optarg; break;
		case 't': o->idle = seconds(optarg); break;
		case 'T': o->deadline = seconds(optarg); break;
		case 'u': o->user = optarg; break;
		case 'l':
			if (strcmp(optarg, "stderr") == 0)
				o->log_target = LOGTO_STDERR;
			else if (strcmp(optarg, "syslog") == 0)
				o->log_target = LOGTO_SYSLOG;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc || !o->cdb || !o->queuedir) /* getopt() sets optarg */
		usage();
	if (!o->cert != !o->key || (o->implicit_tls && !o->cert)) {
		fputs("etrnd: -C and -K go together, and -S needs them\n", stderr);
		exit(EXIT_PERM);
	}
#ifndef WITH_TLS
	if (o->cert) {
		fputs("etrnd: -C, -K and -S need TLS, and this etrnd was built without it "
		      "(make TLS=no)\n",
		      stderr);
		exit(EXIT_PERM);
	}
#endif
}

/* -n, else TCPLOCALHOST, else gethostname(); only a valid host name. */
static void our_name(char *out, const char *flag)
{
	char buf[NODE_BUF];
	const char *cands[2] = {flag, getenv("TCPLOCALHOST")};

	for (int i = 0; i < 2; i++)
		if (cands[i] && node_host(out, cands[i], strlen(cands[i]), 1) > 0)
			return;
	if (gethostname(buf, sizeof buf) == 0) {
		buf[sizeof buf - 1] = '\0';
		if (node_host(out, buf, strlen(buf), 1) > 0)
			return;
	}
	memcpy(out, "localhost", sizeof "localhost");
}

/* The session's state in one object, its own file's only static one, so
 * that .bss starts with it: then its first part shares the page the kernel
 * already zeroes past the end of .data at exec. Each page a session first
 * touches is a page fault (make bench counts them), so the parts every
 * session writes come first: the small ones, the reply buffer, then the
 * line reader, whose input buffer is written from its start. What a short
 * session writes then ends about 1.9 KiB into the object: in that same
 * page while .bss starts in its first half (so in both builds today).
 * TLS's and ODMR's state stay apart, touched only with -C or -O. */
static struct {
	/* With -S the client waits for a TLS handshake: a plaintext 421
	 * would only confuse it, so then nothing is written. */
	int implicit_tls_mode;
	struct session s;
	struct authcheck auth;
	struct queuestart ctx;
	struct outbuf out;
	char outmem[SMTP_REPLIES_BUF]; /* out's buffer */
	struct netio n;
	struct tlsspawn tls; /* only with -C */
	struct odmr odmr;    /* only with -O */
} sess;

/* The session is over. etrnd writes through its own buffers (netio,
 * outbuf, log.c), never stdio, and registers no atexit() handler, so
 * exit()'s work (the handlers, stdio's flush) has nothing to do: _exit(),
 * as qmail's programs end. In a static build that work's code is also a
 * 64 KiB window of text a session need not touch (make bench). Under
 * AddressSanitizer, exit() runs its leak check. */
#if defined(__has_feature) /* clang */
#if __has_feature(address_sanitizer)
#define EXIT_CHECKS_LEAKS 1
#endif
#elif defined(__SANITIZE_ADDRESS__) /* gcc */
#define EXIT_CHECKS_LEAKS 1
#endif

static _Noreturn void session_exit(void)
{
#ifdef EXIT_CHECKS_LEAKS
	exit(0);
#else
	_exit(0);
#endif
}

static void die_temp(const char *host, const char *why)
{
	char msg[SMTP_REPLY_MAX];
	log_msg("fatal", "reason", why);
	int n = snprintf(msg, sizeof msg, "421 4.3.0 %s Service not available\r\n", host);
	if (!sess.implicit_tls_mode)
		(void)!write(1, msg, (size_t)n);
	exit(EXIT_TEMP);
}

/* Writes only beneath QUEUEDIR (and -O's spool root) from here on, where
 * the kernel allows it. QUEUEDIR is opened once, for the sandbox and the
 * session's triggers alike: the rule covers the very directory the
 * triggers go to. Returns its fd, or -1 (opened again at the first use). */
static int sandbox(const struct options *o, const char *host)
{
	const char *why;
	int fds[2] = {open(o->queuedir, O_PATH | O_DIRECTORY | O_CLOEXEC), -1};
	if (o->odmr)
		fds[1] = open(o->spool_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int abi = sandbox_fds(fds, o->odmr ? 2 : 1, &why);
	if (fds[1] >= 0)
		close(fds[1]);
	if (abi < 0)
		die_temp(host, why);
	if (abi == 0)
		log_msg("warning", "sandbox", why);
	return fds[0];
}

/* -O: a spool root that cannot be resolved (missing, unreadable) makes
 * every ATRN with held mail 451; the log says why when the session
 * starts, not only in each ATRN's line. */
static void spool_root_warning(const char *root, const char *reason)
{
	struct logline l;

	ll_start(&l, "warning");
	ll_str(&l, "spool_root", root);
	ll_str(&l, "reason", reason);
	ll_emit(&l);
}

static void log_end(const struct session *s, const struct queuestart *c, const struct tlsspawn *tls,
		    long long start_ms)
{
	struct logline l;

	ll_start(&l, "end");
	ll_str(&l, "client", c->client_text);
	if (s->helo[0])
		ll_str(&l, "helo", s->helo);
	if (s->tls) {
		ll_str(&l, "tls", tls->version);
		ll_str(&l, "cipher", tls->cipher);
	}
	if (s->user[0])
		ll_str(&l, "user", s->user);
	ll_num(&l, "commands", (long)s->commands);
	ll_num(&l, "etrn", (long)s->etrns);
	ll_num(&l, "errors", (long)s->errors);
	ll_num(&l, "seconds", (long)((netio_now_ms() - start_ms) / 1000));
	ll_str(&l, "why", s->end);
	ll_emit(&l);
}

/* The certificate and the key are opened now, as root, before -u and the
 * sandbox (the key can be mode 0600 root); etrnd-tlsproxy reads them from these
 * fds when TLS starts, and checks that they go together then. */
static void load_tls(const struct options *o, struct tlsspawn *t, const char *host)
{
	if (o->cert && tlsspawn_setup(t, o->cert, o->key) < 0)
		die_temp(host, t->err);
}

/* -S: the handshake comes before the greeting (RFC 8314). A failed one is
 * a log line and the end, with nothing written. */
static int implicit_tls(struct netio *n, struct tlsspawn *t, struct session *s)
{
	if (tlsspawn_start(t, n) < 0 || tlsspawn_handshake(t, n) < 0) {
		log_msg("tls", "error", t->err);
		return -1;
	}
	session_tls_started(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	char host[NODE_BUF], err[200];
	struct addr client;
	struct odmr *odmr = &sess.odmr;
	struct queuestart *ctx = &sess.ctx;
	struct session *s = &sess.s;
	struct netio *n = &sess.n;
	struct outbuf *out = &sess.out;
	struct tlsspawn *tls = &sess.tls;

	long long start_ms = netio_now_ms();

	parse_options(&o, argc, argv);
	sess.implicit_tls_mode = o.implicit_tls;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a failed write (458), not death */
	if (o.log_target < 0)
		o.log_target = log_stderr_is_client() ? LOGTO_SYSLOG : LOGTO_STDERR;
	log_init("etrnd", (enum log_target)o.log_target);
	our_name(host, o.host);
	client_addr(&client);
	load_tls(&o, tls, host);
	if (o.user && privs_drop(o.user, err, sizeof err) < 0)
		die_temp(host, err);
	if (!o.user && geteuid() == 0)
		log_msg("warning", "reason", "running as root; use -u USER");
	int queuefd = sandbox(&o, host);
	netio_init(n, 0, 1, o.idle, o.deadline, start_ms);
	out_init(out, sess.outmem, sizeof sess.outmem, netio_write, n);
	queuestart_init(ctx, o.cdb, o.queuedir, queuefd, &client, host);
	if (!o.odmr)
		queuestart_check(ctx);
	session_init(s, host, queuestart_etrn, ctx, out);
	struct serve_env env = {o.cert ? tls : NULL, NULL, NULL, NULL};
	sess.auth = (struct authcheck){&ctx->policy, ctx->client_text};
	if (o.cert || o.odmr) {
		s->tls_ok = o.cert != NULL;
		s->auth = authcheck_try;
		s->auth_ctx = &sess.auth;
		s->cram_ok = authcheck_cram_offered(&ctx->policy);
	}
	if (o.odmr && !o.cert && !s->cram_ok) /* plaintext ODMR offers CRAM-MD5 only */
		log_msg("warning", "reason",
			"-O without -C and no login with cram=: AUTH is not offered, so no ATRN "
			"can succeed");
	if (o.odmr) {
		if (odmr_init(odmr, &ctx->policy, ctx->client_text, o.spool_root, host) < 0)
			spool_root_warning(o.spool_root, strerror(errno));
		s->atrn = odmr_atrn;
		s->atrn_ctx = odmr;
		env.reverse = odmr_reverse;
		env.ctx = odmr;
	}
	if (!o.implicit_tls || implicit_tls(n, tls, s) == 0)
		serve(s, n, out, &env);
	else
		s->end = "tls-failed";
	if (env.tls_error)
		log_msg("tls", "error", env.tls_error);
	if (o.cert && tlsspawn_end(tls) < 0)
		log_msg("warning", "tls", tls->err);
	log_end(s, ctx, tls, start_ms);
	if (o.odmr)
		odmr_release(odmr);
	session_exit();
}
