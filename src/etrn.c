/* SPDX-License-Identifier: ISC */
/* etrn: ask an SMTP server to start the queue for nodes (RFC 1985), e.g.
 * from an ip-up script. One line per node on stdout: NODE CODE TEXT.
 * Nothing the server sends reaches the terminal raw. */
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
#include "lib/smtpc.h"
#include "lib/text.h"

#define EXIT_4XX EXIT_ETRN_4XX
#define EXIT_5XX EXIT_ETRN_5XX
#define EXIT_USAGE EXIT_PERM
#define EXIT_CONN EXIT_TEMP

struct options {
	const char *port;
	char helo[NODE_BUF];
	long reply_s, session_s;
	int verbose;
};

static void usage(void)
{
	fputs("usage: etrn [-p PORT] [-H HELO] [-t SECONDS] [-T SECONDS] [-v] SERVER NODE...\n",
	      stderr);
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

static int parse(struct options *o, int argc, char **argv)
{
	const char *helo = NULL;
	int c;

	*o = (struct options){"25", "", 60, 600, 0};
	while ((c = getopt(argc, argv, "p:H:t:T:v")) != -1) {
		switch (c) {
		case 'p': o->port = optarg; break;
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
		default: usage();
		}
	}
	if (argc - optind < 2)
		usage();
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

static int greet(struct smtpc *c, const struct options *o)
{
	char helo[sizeof "EHLO " + NODE_BUF];
	struct reply r;

	int code = smtpc_reply(c, &r);
	if (code < 0)
		die_conn("no greeting from the server", c->error);
	if (code >= 400)
		return refused("the server refused the session", &r);
	if (code != 220)
		return refused("not an SMTP greeting", &r);
	snprintf(helo, sizeof helo, "EHLO %s", o->helo);
	code = smtpc_cmd(c, helo, &r);
	if (code < 0)
		die_conn("no reply to EHLO", c->error);
	if (code != 250)
		return refused("EHLO refused", &r);
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
	struct options o;
	struct smtpc c;
	struct reply r;
	char cmd[SMTP_LINE_MAX], text[SMTPC_REPLY_MAX];
	int worst = EXIT_OK;

	int first = parse(&o, argc, argv);
	check_nodes(argv + first + 1, argc - first - 1);
	signal(SIGPIPE, SIG_IGN);
	smtpc_init(&c, dial(argv[first], o.port, o.reply_s), o.reply_s, o.session_s);
	if (o.verbose)
		c.trace = trace;
	int rc = greet(&c, &o);
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
	return rc != EXIT_OK ? rc : worst;
}
