/* SPDX-License-Identifier: ISC */
/* etrnd-deliver: deliver what a node's maildir holds over SMTP, to the
 * recipient domains' MX hosts or to one host, e.g. the address the ETRN
 * came from. Run by etrnd-runner (run= in etrnd.rules) or by hand. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/deliver.h"
#include "lib/exits.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/netio.h"
#include "lib/num.h"
#include "lib/privs.h"
#include "lib/tlsio.h"

struct options {
	const char *helo, *user;
	struct smtptx_tls tls; /* -s, -c */
	long deadline_s;
	enum log_target log;
	const char *dir, *dest, *node;
};

static void usage(void)
{
	fputs(
	    "usage: etrnd-deliver [-h HELO] [-T SECONDS] [-u USER] [-l stderr|syslog] [-s] [-c CAFILE]\n"
	    "                     DIR mx|HOST[:PORT]|[ADDRESS]:PORT [NODE]\n",
	    stderr);
	exit(EXIT_PERM);
}

static void parse(struct options *o, int argc, char **argv)
{
	int c;

	*o = (struct options){.deadline_s = DELIVER_DEADLINE, .log = LOGTO_STDERR};
	while ((c = getopt(argc, argv, "+h:T:u:l:sc:")) != -1) {
		switch (c) {
		case 's': o->tls.required = 1; break;
		case 'c': o->tls.cafile = optarg; break;
		case 'h': o->helo = optarg; break;
		case 'u': o->user = optarg; break;
		case 'T':
			if (num_arg(optarg, 1, DELIVER_DEADLINE_MAX, &o->deadline_s) < 0)
				usage();
			break;
		case 'l':
			if (strcmp(optarg, "stderr") != 0 && strcmp(optarg, "syslog") != 0)
				usage();
			o->log = optarg[0] == 's' && optarg[1] == 'y' ? LOGTO_SYSLOG : LOGTO_STDERR;
			break;
		default: usage();
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		usage();
	if ((o->tls.required || o->tls.cafile) && !tlsio_available()) {
		fputs("etrnd-deliver: -s and -c need TLS, and this build has none (make TLS=no)\n",
		      stderr);
		exit(EXIT_PERM);
	}
	o->tls.use = tlsio_available(); /* opportunistic STARTTLS (RFC 3207) */
	o->dir = argv[optind];
	o->dest = argv[optind + 1];
	o->node = argc - optind == 3 ? argv[optind + 2] : NULL;
}

/* -h, else this host's name if it is a valid one, else "localhost". */
static void our_name(char *out, const char *flag)
{
	char buf[NODE_BUF] = "";

	if (flag && node_host(out, flag, strlen(flag), 1) > 0)
		return;
	if (flag) {
		fputs("etrnd-deliver: -h needs a host name\n", stderr);
		exit(EXIT_PERM);
	}
	gethostname(buf, sizeof buf - 1);
	if (node_host(out, buf, strlen(buf), 1) < 0)
		memcpy(out, "localhost", sizeof "localhost");
}

static int finish(const char *node, const struct deliver_stats *st, int retry, const char *why)
{
	struct logline l;

	ll_start(&l, "done");
	ll_str(&l, "node", node ? node : "-");
	ll_num(&l, "messages", (long)st->messages);
	ll_num(&l, "sent", (long)st->sent);
	ll_num(&l, "deferred", (long)st->deferred);
	ll_num(&l, "failed", (long)st->failed);
	if (why)
		ll_str(&l, "reason", why);
	ll_num(&l, "status", retry ? EX_TEMPFAIL : 0);
	ll_emit(&l);
	return retry ? EX_TEMPFAIL : EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options o;
	struct dest d;
	struct node n;
	struct maildir m;
	struct deliver_stats st = {0};
	char helo[NODE_BUF], err[256];
	const char *what;

	parse(&o, argc, argv);
	int bad_dest = dest_parse(&d, o.dest) < 0;
	if (bad_dest || (o.node && node_parse(&n, o.node, strlen(o.node), 0) < 0)) {
		fprintf(stderr, "etrnd-deliver: bad %s '%s'\n", bad_dest ? "destination" : "node",
			bad_dest ? o.dest : o.node);
		return EXIT_PERM;
	}
	our_name(helo, o.helo);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit fails a write, as a full disk */
	log_init("etrnd-deliver", o.log);
	if (o.user && privs_drop(o.user, err, sizeof err) < 0) {
		log_msg("fatal", "reason", err);
		return EX_TEMPFAIL;
	}
	const char *node = o.node ? n.name : NULL;
	/* No DIR: nothing was ever held. A DIR without some subdirectory
	 * (made by hand, or by an older etrnd-store) gets it. */
	if (maildir_open(&m, o.dir, MD_MAKE_SUBS, &what) < 0) {
		int missing = errno == ENOENT && what == o.dir;
		snprintf(err, sizeof err, "%s: %s", what, strerror(errno));
		return finish(node, &st, !missing, missing ? "no maildir" : err);
	}
	if (maildir_lock(&m) < 0)
		return finish(node, &st, 1, "another delivery holds the maildir");
	/* what a crashed etrnd-store or deliverer left in tmp/ */
	remove_stale(m.sub[MD_TMP], (long long)time(NULL), HELD_TMP_MAX_AGE);
	struct deliver_cfg cfg = {helo, o.node ? &n : NULL, netio_now_ms() + o.deadline_s * 1000,
				  &o.tls};
	int retry = deliver_maildir(&m, &d, &cfg, &st);
	maildir_close(&m);
	return finish(node, &st, retry, NULL);
}
