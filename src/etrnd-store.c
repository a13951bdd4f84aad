/* SPDX-License-Identifier: ISC */
/* etrnd-store: the delivery agent an MTA runs for held mail. It stores one
 * message from stdin, with its envelope, in a node's maildir, and exits
 * with a sysexits(3) status the MTA understands. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "lib/num.h"
#include "lib/store.h"

static void usage(void)
{
	fputs("usage: etrnd-store [-m] [-f SENDER | -e VARIABLE] [-s BYTES] DIR RECIPIENT...\n",
	      stderr);
	exit(EX_USAGE);
}

int main(int argc, char **argv)
{
	struct store_req r = {.sender = "", .max = HELD_SIZE_DEFAULT, .in = 0};
	char why[512];
	int c;

	/* "+": options end at DIR, so a recipient that starts with '-' is never
	 * taken for one (an MTA passes what the sender wrote) */
	while ((c = getopt(argc, argv, "+mf:e:s:")) != -1) {
		switch (c) {
		case 'm': r.strip_mda = 1; break;
		case 'f': r.sender = optarg; break;
		case 'e': /* Exim's pipe transport: the sender only in $SENDER */
			if (!(r.sender = getenv(optarg))) {
				fprintf(stderr, "etrnd-store: -e %s: no such variable\n", optarg);
				return EX_USAGE;
			}
			break;
		case 's':
			if (num_arg(optarg, 1, HELD_SIZE_MAX, &r.max) < 0)
				usage();
			break;
		default: usage();
		}
	}
	if (argc - optind < 2)
		usage();
	/* a file size limit (RLIMIT_FSIZE) is a full disk: EFBIG, exit 75 */
	signal(SIGXFSZ, SIG_IGN);
	r.dir = argv[optind];
	r.rcpts = argv + optind + 1;
	r.nrcpts = argc - optind - 1;
	int rc = store_message(&r, why, sizeof why);
	if (rc != EX_OK)
		fprintf(stderr, "etrnd-store: %s\n", why);
	return rc;
}
