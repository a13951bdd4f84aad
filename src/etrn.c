/* SPDX-License-Identifier: ISC */
/* etrn: ask an SMTP server to start the queue for nodes (RFC 1985), e.g.
 * from an ip-up script. One line per node on stdout: NODE CODE TEXT.
 * Nothing the server sends reaches the terminal raw. With -s or -S the
 * dialogue runs over TLS with the server's certificate verified, and -a
 * logs in (AUTH PLAIN) with a password that never appears in argv. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/exits.h"
#include "lib/node.h"
#include "lib/num.h"
#include "lib/sasl.h"
#include "lib/smtpc.h"
#include "lib/text.h"
#include "lib/tlsio.h"

#define EXIT_4XX EXIT_ETRN_4XX
#define EXIT_5XX EXIT_ETRN_5XX
#define EXIT_USAGE EXIT_PERM
#define EXIT_CONN EXIT_TEMP

enum tls_mode { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT };

struct options {
	const char *port;
	char helo[NODE_BUF];
	long reply_s, session_s;
	int verbose;
	enum tls_mode tls;
	const char *cafile;            /* -c; NULL: the system's CA store */
	const char *user;              /* -a */
	char pass[SASL_FIELD_MAX + 1]; /* from -A FILE or ETRN_PASSWORD */
};

static void usage(void)
{
	fputs("usage: etrn [-p PORT] [-H HELO] [-t SECONDS] [-T SECONDS] [-v]\n"
	      "            [-s | -S] [-c CAFILE] [-a USER [-A PASSFILE]] SERVER NODE...\n",
	      stderr);
	exit(EXIT_USAGE);
}

static void die_usage(const char *why)
{
	fprintf(stderr, "etrn: %s\n", why);
	exit(EXIT_USAGE);
}

static void trace(const char *dir, const char *line, size_t len)
{
	char shown[SMTP_LINE_MAX];
	text_sanitize(shown, sizeof shown, line, len);
	fprintf(stderr, "%s %s\n", dir, shown);
}

static void die_conn(const char *what, const char *detail)
{
	fprintf(stderr, "etrn: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(EXIT_CONN);
}

/* Connects to the first address of server that answers (IPv4 or IPv6). */
static int dial(const char *server, const char *port, long timeout)
{
	struct addrinfo hints = {0}, *res, *ai;
	struct timeval tv = {timeout, 0};
	int fd = -1, err;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	if ((err = getaddrinfo(server, port, &hints, &res)) != 0)
		die_conn("unable to resolve the server", gai_strerror(err));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() */
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	freeaddrinfo(res);
	if (fd < 0)
		die_conn("unable to connect", strerror(errno));
	return fd;
}

/* The EHLO name: a host name (one label or more) or an address literal,
 * normalised; anything else could carry CR LF and inject commands. */
static int helo_name(char *out, const char *s)
{
	struct node n;

	if (node_host(out, s, strlen(s), 1) > 0)
		return 0;
	if (node_parse(&n, s, strlen(s), 0) == 0 && n.kind == NODE_LITERAL) {
		memcpy(out, n.name, n.len + 1);
		return 0;
	}
	return -1;
}

/* The password: the first line of -A FILE (without its line end), else
 * ETRN_PASSWORD; 1-255 octets (RFC 4616's limit). Never from argv, where
 * every user of the machine could read it. */
static void password(struct options *o, const char *file)
{
	const char *p = getenv("ETRN_PASSWORD");
	char buf[SASL_FIELD_MAX + 3];
	size_t len;

	if (file) {
		FILE *f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, "etrn: -A %s: %s\n", file, strerror(errno));
			exit(EXIT_USAGE);
		}
		size_t got = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		const char *nl = memchr(buf, '\n', got);
		len = nl ? (size_t)(nl - buf) : got;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
		if (memchr(buf, '\0', len))
			die_usage("-A: the password file holds a NUL octet");
		buf[len] = '\0';
		p = buf;
	} else if (!p) {
		die_usage("-a needs a password: -A FILE or the variable ETRN_PASSWORD");
	}
	len = strlen(p);
	if (len == 0 || len > SASL_FIELD_MAX)
		die_usage("the password must be 1 to 255 octets on one line");
	memcpy(o->pass, p, len + 1);
	explicit_bzero(buf, sizeof buf);
}

/* What the TLS and AUTH options need of each other. */
static void check_tls_options(struct options *o, const char *passfile, int port_given)
{
	if (o->tls == TLS_NONE && o->cafile)
		die_usage("-c is for TLS: add -s or -S");
	if (o->tls == TLS_NONE && o->user)
		die_usage("-a sends a password, only over TLS: add -s or -S");
	if (passfile && !o->user)
		die_usage("-A goes with -a");
	if (o->tls != TLS_NONE && !tlsio_available())
		die_usage("-s and -S need TLS, and this etrn was built without it (make TLS=no)");
	if (o->user && (strlen(o->user) == 0 || strlen(o->user) > SASL_FIELD_MAX))
		die_usage("-a: a user name of 1 to 255 octets");
	if (o->user)
		password(o, passfile);
	if (o->tls == TLS_IMPLICIT && !port_given)
		o->port = "465"; /* RFC 8314's submissions port */
}

static int parse(struct options *o, int argc, char **argv)
{
	const char *helo = NULL, *passfile = NULL;
	int c, port_given = 0;

	*o = (struct options){.port = "25", .reply_s = 60, .session_s = 600};
	while ((c = getopt(argc, argv, "p:H:t:T:vsSc:a:A:")) != -1) {
		switch (c) {
		case 'p':
			o->port = optarg;
			port_given = 1;
			break;
		case 'H': helo = optarg; break;
		case 't':
			if (num_arg(optarg, 1, 3600, &o->reply_s) < 0)
				usage();
			break;
		case 'T':
			if (num_arg(optarg, 1, 86400, &o->session_s) < 0)
				usage();
			break;
		case 'v': o->verbose = 1; break;
		case 's':
		case 'S':
			if (o->tls != TLS_NONE)
				die_usage("-s and -S exclude each other");
			o->tls = c == 's' ? TLS_STARTTLS : TLS_IMPLICIT;
			break;
		case 'c': o->cafile = optarg; break;
		case 'a': o->user = optarg; break;
		case 'A': passfile = optarg; break;
		default: usage();
		}
	}
	if (argc - optind < 2)
		usage();
	check_tls_options(o, passfile, port_given);
	if (helo && helo_name(o->helo, helo) < 0) {
		char shown[64];
		text_sanitize(shown, sizeof shown, helo, strlen(helo));
		fprintf(stderr, "etrn: -H '%s' is not a host name or an address literal\n", shown);
		exit(EXIT_USAGE);
	}
	if (!helo) {
		char host[256];
		host[sizeof host - 1] = '\0';
		if (gethostname(host, sizeof host - 1) < 0 || helo_name(o->helo, host) < 0)
			memcpy(o->helo, "localhost", sizeof "localhost");
	}
	return optind;
}

/* Every node is checked before anything is sent: no CR, LF or blank can
 * reach the server from the command line. */
static void check_nodes(char **nodes, int n)
{
	struct node parsed;
	for (int i = 0; i < n; i++)
		if (node_parse(&parsed, nodes[i], strlen(nodes[i]), 0) < 0) {
			char shown[NODE_BUF];
			text_sanitize(shown, sizeof shown, nodes[i], strlen(nodes[i]));
			fprintf(stderr,
				"etrn: '%s' is not a valid node (host, @domain, #queue or "
				"[address])\n",
				shown);
			exit(EXIT_USAGE);
		}
}

/* The exit status for a reply that is not the one expected, with a message
 * that says what came instead. */
static int refused(const char *what, const struct reply *r)
{
	char text[SMTPC_REPLY_MAX];
	fprintf(stderr, "etrn: %s: %d %s\n", what, r->code, smtpc_first_line(r, text, sizeof text));
	return r->code >= 400 && r->code < 500 ? EXIT_4XX : EXIT_5XX;
}

/* A TLS or AUTH failure: the message, and 111. A refusal of STARTTLS or
 * AUTH counts as one: the dialogue cannot go on as asked, and the replies
 * there (454, 535, 421) are about this attempt, not the nodes. */
static int secure_failed(const char *what, const struct reply *r, const char *detail)
{
	if (r) {
		char text[SMTPC_REPLY_MAX];
		fprintf(stderr, "etrn: %s: %d %s\n", what, r->code,
			smtpc_first_line(r, text, sizeof text));
	} else
		fprintf(stderr, "etrn: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	return EXIT_CONN;
}

/* A handshake that failed leaves nothing to say QUIT over. */
static void tls_start(struct smtpc *c, struct tlsio *t, const char *server)
{
	if (smtpc_tls(c, t, server) < 0)
		exit(secure_failed("TLS with the server failed", NULL, c->error));
	if (c->trace)
		fprintf(stderr, "--- TLS %s %s\n", tlsio_version(t), tlsio_cipher(t));
}

/* EHLO, and the reply in *r: EXIT_OK, or the exit status. */
static int ehlo(struct smtpc *c, const struct options *o, struct reply *r)
{
	char helo[sizeof "EHLO " + NODE_BUF];

	snprintf(helo, sizeof helo, "EHLO %s", o->helo);
	int code = smtpc_cmd(c, helo, r);
	if (code < 0)
		die_conn("no reply to EHLO", c->error);
	return code == 250 ? EXIT_OK : refused("EHLO refused", r);
}

/* RFC 3207: STARTTLS, the handshake, and EHLO again, since everything
 * learnt before TLS is void. */
static int starttls(struct smtpc *c, const struct options *o, struct tlsio *t, const char *server,
		    struct reply *r)
{
	if (!smtpc_keyword(r, "STARTTLS"))
		return secure_failed("the server does not offer STARTTLS", NULL, NULL);
	int code = smtpc_cmd(c, "STARTTLS", r);
	if (code < 0)
		die_conn("no reply to STARTTLS", c->error);
	if (code != 220)
		return secure_failed("STARTTLS refused", r, NULL);
	tls_start(c, t, server);
	return ehlo(c, o, r);
}

/* RFC 4954 AUTH PLAIN with the initial response: NUL user NUL password. */
static int auth_plain(struct smtpc *c, struct options *o, const struct reply *ehlo_reply)
{
	unsigned char msg[2 * SASL_FIELD_MAX + 2];
	char b64[(sizeof msg + 2) / 3 * 4 + 1], line[sizeof "AUTH PLAIN " + sizeof b64];
	struct reply r;
	size_t ul = strlen(o->user), pl = strlen(o->pass);

	if (!smtpc_auth_offered(ehlo_reply, "PLAIN"))
		return secure_failed("the server does not offer AUTH PLAIN", NULL, NULL);
	msg[0] = '\0';
	memcpy(msg + 1, o->user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, o->pass, pl);
	explicit_bzero(o->pass, sizeof o->pass);
	b64_encode(msg, ul + pl + 2, b64, sizeof b64); /* sized for the longest */
	explicit_bzero(msg, sizeof msg);
	snprintf(line, sizeof line, "AUTH PLAIN %s", b64);
	explicit_bzero(b64, sizeof b64);
	int code = smtpc_cmd_secret(c, line, "AUTH PLAIN (user and password hidden)", &r);
	explicit_bzero(line, sizeof line);
	if (code < 0)
		die_conn("no reply to AUTH", c->error);
	return code == 235 ? EXIT_OK : secure_failed("AUTH refused", &r, NULL);
}

/* The greeting, EHLO, and what -s and -a add: EXIT_OK when the server
 * is ready for ETRN, else the exit status. */
static int greet(struct smtpc *c, struct options *o, struct tlsio *t, const char *server)
{
	struct reply r;

	int code = smtpc_reply(c, &r);
	if (code < 0)
		die_conn("no greeting from the server", c->error);
	if (code >= 400)
		return refused("the server refused the session", &r);
	if (code != 220)
		return refused("not an SMTP greeting", &r);
	int rc = ehlo(c, o, &r);
	if (rc == EXIT_OK && o->tls == TLS_STARTTLS)
		rc = starttls(c, o, t, server, &r);
	if (rc == EXIT_OK && o->user)
		rc = auth_plain(c, o, &r);
	if (rc != EXIT_OK)
		return rc;
	if (!r.has_etrn) {
		fprintf(stderr, "etrn: the server does not offer ETRN\n");
		return EXIT_5XX;
	}
	return EXIT_OK;
}

/* RFC 1985: 250-253 start the queue; 4xx and 5xx refuse. Any other code
 * (a 354, a 220) is no answer to ETRN: an error, never success. */
static int etrn_status(const char *node, const struct reply *r)
{
	if (r->code >= 250 && r->code <= 253)
		return EXIT_OK;
	if (r->code >= 400)
		return r->code < 500 ? EXIT_4XX : EXIT_5XX;
	fprintf(stderr, "etrn: %s: %d is not a reply to ETRN (250-253, 4xx or 5xx)\n", node,
		r->code);
	return EXIT_5XX;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct smtpc c;
	static struct tlsio tls;
	struct reply r;
	char cmd[SMTP_LINE_MAX], text[SMTPC_REPLY_MAX];
	int worst = EXIT_OK;

	int first = parse(&o, argc, argv);
	check_nodes(argv + first + 1, argc - first - 1);
	signal(SIGPIPE, SIG_IGN);
	/* verification is always on: -c, or the system's CA store */
	if (o.tls != TLS_NONE && tlsio_client(&tls, o.cafile, 1) < 0) {
		fprintf(stderr, "etrn: %s\n", tls.err);
		exit(EXIT_USAGE);
	}
	smtpc_init(&c, dial(argv[first], o.port, o.reply_s), o.reply_s, o.session_s);
	if (o.verbose)
		c.trace = trace;
	if (o.tls == TLS_IMPLICIT)
		tls_start(&c, &tls, argv[first]);
	int rc = greet(&c, &o, &tls, argv[first]);
	for (int i = first + 1; rc == EXIT_OK && i < argc; i++) {
		snprintf(cmd, sizeof cmd, "ETRN %s", argv[i]);
		int code = smtpc_cmd(&c, cmd, &r);
		if (code < 0) {
			fflush(stdout);
			fprintf(stderr, "etrn: no reply to ETRN %s: %s\n", argv[i], c.error);
			exit(EXIT_CONN);
		}
		printf("%s %d %s\n", argv[i], code, smtpc_first_line(&r, text, sizeof text));
		int this = etrn_status(argv[i], &r);
		worst = this > worst ? this : worst;
		if (code == 421)
			break;
	}
	fflush(stdout);
	if (smtpc_cmd(&c, "QUIT", &r) < 0 && o.verbose)
		fprintf(stderr, "etrn: no reply to QUIT: %s\n", c.error);
	if (o.tls != TLS_NONE)
		tlsio_free(&tls);
	return rc != EXIT_OK ? rc : worst;
}
