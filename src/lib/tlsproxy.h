/* SPDX-License-Identifier: ISC */
/* tlsproxy.h: etrnd-tlsproxy's work. etrnd does no TLS itself: at STARTTLS (or
 * at once, under -S) it starts etrnd-tlsproxy on the connection and goes on
 * over a socket to it, in plaintext. So etrnd never maps libtls, libssl
 * or libcrypto (a static etrnd spent most of each session relocating
 * OpenSSL), and the TLS library, which parses what the client sends
 * before anything is authenticated, runs in a process of its own.
 *
 * Status lines to etrnd on the socket, each ending in LF:
 *   "ready"                  the certificate and key are loaded: etrnd
 *                            answers 220 and the handshake may begin;
 *   "tls VERSION CIPHER"     the handshake is done; what follows on the
 *                            socket is the session, in plaintext;
 *   "fail REASON"            then etrnd-tlsproxy exits. */
#ifndef ETRND_TLSPROXY_H
#define ETRND_TLSPROXY_H

#include "netio.h"
#include "tlsio.h"

/* The longest status line, LF included. */
#define TLSPROXY_STATUS_MAX 256

struct tlsproxy {
	/* The connection (fds 0 and 1), with the idle time (the handshake's
	 * wait for the client; a write to it that is stuck) and the deadline
	 * (the session's end, whatever happens): the handshake is netio's. */
	struct netio net;
	int sock; /* etrnd's end */
	struct tlsio tls;
};

/* Loads the key pair from the fds, says "ready", does the handshake and
 * relays until either side ends. Returns 0, or -1 when it said "fail". */
int tlsproxy_run(struct tlsproxy *p, int certfd, int keyfd, const char *certname,
		 const char *keyname);

#endif
