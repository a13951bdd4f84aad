/* SPDX-License-Identifier: ISC */
/* tlsspawn.h: TLS for etrnd, through etrnd-tlsproxy (tlsproxy.h): etrnd opens
 * the certificate and the key at setup, starts etrnd-tlsproxy on the connection
 * when TLS begins, and from then on reads and writes a socket to it. */
#ifndef ETRND_TLSSPAWN_H
#define ETRND_TLSSPAWN_H

#include <limits.h>
#include <sys/types.h>

#include "netio.h"

struct tlsspawn {
	char helper[PATH_MAX]; /* etrnd-tlsproxy, beside the running etrnd */
	int cert, key;         /* the files, opened at setup (as root) */
	const char *certname, *keyname;
	int sock; /* etrnd's end of the socket to etrnd-tlsproxy; -1 before */
	pid_t pid;
	char version[32], cipher[96]; /* of the handshake */
	char err[200];
};

/* At setup, before privileges are dropped: opens both files and finds
 * etrnd-tlsproxy in the directory of the running etrnd. 0, or -1 (err). */
int tlsspawn_setup(struct tlsspawn *t, const char *certfile, const char *keyfile);
/* Starts etrnd-tlsproxy on n's connection and waits (n's timeouts) until it
 * has loaded the key pair: 0, then the client may be told 220; or -1 (err;
 * nothing was sent to the client: STARTTLS gets 454). */
int tlsspawn_start(struct tlsspawn *t, struct netio *n);
/* After the 220: waits for the handshake's outcome. 0: n reads and writes
 * the socket from now on, and the input it had is gone (RFC 3207 4.2). */
int tlsspawn_handshake(struct tlsspawn *t, struct netio *n);
/* The session is over: etrnd-tlsproxy gets EOF, says close_notify and exits;
 * reaped within SMTP_CLOSE_GRACE_MS, killed after that. 0, or -1 (err)
 * when it had to be killed or did not end as it should (a signal, an
 * exit status other than 0 and 111). */
int tlsspawn_end(struct tlsspawn *t);

#endif
