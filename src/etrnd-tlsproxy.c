/* SPDX-License-Identifier: ISC */
/* etrnd-tlsproxy: the TLS side of one etrnd connection (tlsproxy.h). etrnd
 * starts it at STARTTLS, or at once under -S, and talks to it over fd 3:
 *
 *   etrnd-tlsproxy IDLE_MS DEADLINE_MS CERTNAME KEYNAME
 *
 * fds 0 and 1: the connection; 3: etrnd's socket; 4 and 5: the
 * certificate chain and the key, which etrnd opened before it dropped its
 * privileges (the names are for messages only). It may write no file and
 * open no TCP connection (Landlock). Not for running by hand. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/exits.h"
#include "lib/fmt.h"
#include "lib/netio.h"
#include "lib/num.h"
#include "lib/sandbox.h"
#include "lib/tlsproxy.h"

int main(int argc, char **argv)
{
	static struct tlsproxy p;
	long idle, left;

	if (argc != 5 || num_arg(argv[1], 1, 86400000L, &idle) < 0 ||
	    num_arg(argv[2], 1, 86400000L, &left) < 0) {
		fputs(
		    "usage: etrnd-tlsproxy IDLE_MS DEADLINE_MS CERTNAME KEYNAME (started by etrnd -C)\n",
		    stderr);
		return EXIT_PERM;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Landlock on top of etrnd's: no writes anywhere, no TCP. (Without
	 * Landlock in the kernel etrnd has logged that already.) */
	const char *why;
	if (sandbox_dirs(NULL, 0, &why) < 0) {
		char line[TLSPROXY_STATUS_MAX];
		size_t n = fmt(line, sizeof line, "fail sandbox: %s\n", why);
		(void)!write(3, line, n);
		return EXIT_TEMP;
	}
	long long now = netio_now_ms();
	netio_init(&p.net, 0, 1, 0, 0, now);
	p.net.idle_ms = idle; /* etrnd passes milliseconds */
	p.net.deadline_ms = now + left;
	p.sock = 3;
	int rc = tlsproxy_run(&p, 4, 5, argv[3], argv[4]);
	/* _exit: the close_notify is out; what OpenSSL would free at exit goes
	 * with the process, and etrnd waits for this exit */
	_exit(rc < 0 ? EXIT_TEMP : 0);
}
