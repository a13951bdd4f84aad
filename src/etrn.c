/* SPDX-License-Identifier: ISC */
/* etrn: ask an SMTP server to start the queue for nodes (RFC 1985), e.g.
 * from an ip-up script. One line per node on stdout: NODE CODE TEXT. */
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

#define EXIT_4XX EXIT_ETRN_4XX
#define EXIT_5XX EXIT_ETRN_5XX
#define EXIT_USAGE EXIT_PERM
#define EXIT_CONN EXIT_TEMP

struct options {
	const char *port, *helo;
	long timeout;
	int verbose;
};

static void usage(void)
{
	fputs("usage: etrn [-p PORT] [-H HELO] [-t SECONDS] [-v] SERVER NODE...\n", stderr);
	exit(EXIT_USAGE);
}

static void trace(const char *dir, const char *line, size_t len)
{
	fprintf(stderr, "%s %.*s\n", dir, (int)len, line);
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

static int parse(struct options *o, int argc, char **argv)
{
	int c;

	*o = (struct options){"25", NULL, 60, 0};
	while ((c = getopt(argc, argv, "p:H:t:v")) != -1) {
		switch (c) {
		case 'p': o->port = optarg; break;
		case 'H': o->helo = optarg; break;
		case 't':
			if (num_arg(optarg, 1, 3600, &o->timeout) < 0)
				usage();
			break;
		case 'v': o->verbose = 1; break;
		default: usage();
		}
	}
	if (argc - optind < 2)
		usage();
	return optind;
}

/* Every node is checked before anything is sent: no CR, LF or blank can
 * reach the server from the command line. */
static void check_nodes(char **nodes, int n)
{
	struct node parsed;
	for (int i = 0; i < n; i++)
		if (node_parse(&parsed, nodes[i], strlen(nodes[i]), 0) < 0) {
			fprintf(stderr,
				"etrn: '%s' is not a valid node (host, @domain, #queue or "
				"[address])\n",
				nodes[i]);
			exit(EXIT_USAGE);
		}
}

static const char *first_line(const struct reply *r)
{
	static char buf[SMTPC_REPLY_MAX];
	size_t n = strcspn(r->text, "\n");
	memcpy(buf, r->text, n);
	buf[n] = '\0';
	return buf;
}

static int greet(struct smtpc *c, const struct options *o)
{
	char helo[300], host[256] = "localhost";
	struct reply r;

	if (smtpc_reply(c, &r) != 220)
		return r.code >= 500 || r.code == 0 ? (r.code ? EXIT_5XX : EXIT_CONN) : EXIT_4XX;
	if (!o->helo && gethostname(host, sizeof host) == 0)
		host[sizeof host - 1] = '\0';
	snprintf(helo, sizeof helo, "EHLO %s", o->helo ? o->helo : host);
	int code = smtpc_cmd(c, helo, &r);
	if (code < 0)
		return EXIT_CONN;
	if (code != 250 || !r.has_etrn) {
		fprintf(stderr, "etrn: the server does not offer ETRN\n");
		return EXIT_5XX;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options o;
	struct smtpc c;
	struct reply r;
	char cmd[SMTP_LINE_MAX];
	int worst = EXIT_OK;

	int first = parse(&o, argc, argv);
	check_nodes(argv + first + 1, argc - first - 1);
	signal(SIGPIPE, SIG_IGN);
	smtpc_init(&c, dial(argv[first], o.port, o.timeout), o.timeout);
	if (o.verbose)
		c.trace = trace;
	int rc = greet(&c, &o);
	if (rc == EXIT_CONN)
		die_conn("no answer from the server", NULL);
	for (int i = first + 1; rc == EXIT_OK && i < argc; i++) {
		snprintf(cmd, sizeof cmd, "ETRN %s", argv[i]);
		int code = smtpc_cmd(&c, cmd, &r);
		if (code < 0)
			die_conn("connection lost during ETRN", argv[i]);
		printf("%s %d %s\n", argv[i], code, first_line(&r));
		int this = code >= 500 ? EXIT_5XX : code >= 400 ? EXIT_4XX : EXIT_OK;
		worst = this > worst ? this : worst;
		if (code == 421)
			break;
	}
	fflush(stdout);
	if (smtpc_cmd(&c, "QUIT", &r) < 0 && o.verbose)
		fprintf(stderr, "etrn: no reply to QUIT\n");
	return rc != EXIT_OK ? rc : worst;
}
