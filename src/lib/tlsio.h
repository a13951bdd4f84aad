/* SPDX-License-Identifier: ISC */
/* tlsio.h: TLS under an SMTP connection, with libtls (LibreTLS on Debian).
 *
 * TLS is a transport, not part of the dialogue: netio reads and writes
 * through a struct tlsio once a handshake has started, and the session
 * engine never sees it. Built with TLS=no, every function fails with
 * "built without TLS" and tlsio_available() is 0. */
#ifndef ETRND_TLSIO_H
#define ETRND_TLSIO_H

#include <stddef.h>
#include <sys/types.h>

#define TLSIO_WANT_READ (-2)  /* wait until the read fd is readable, then retry */
#define TLSIO_WANT_WRITE (-3) /* wait until the write fd is writable, then retry */

struct tls;
struct tls_config;

struct tlsio {
	struct tls_config *cfg;
	struct tls *ctx;  /* the server or client context */
	struct tls *conn; /* this connection; NULL before a handshake */
	int client;
	char err[200];
};

int tlsio_available(void);
/* A server context with the PEM certificate chain and key, read from fds
 * open on the two files (etrnd opened them as root, before dropping its
 * privileges, for etrnd-tlsproxy; each at most TLS_PEM_MAX octets); the
 * names are for messages. TLS 1.2 and 1.3 only, libtls's default ciphers.
 * A file that cannot be read or a key that does not match the certificate
 * fails here. 0, or -1 with the reason in t->err. */
int tlsio_server_fds(struct tlsio *t, int certfd, int keyfd, const char *certname,
		     const char *keyname);
/* A client context. cafile NULL: the system's CA store. verify 0: no
 * verification at all (opportunistic STARTTLS between MTAs, RFC 3207). */
int tlsio_client(struct tlsio *t, const char *cafile, int verify);
/* Starts the handshake on the connection's fds (the client sends SNI and
 * verifies against servername). 0, or -1. */
int tlsio_start(struct tlsio *t, int rfd, int wfd, const char *servername);
/* One handshake step: 0 done, TLSIO_WANT_*, or -1 (reason in t->err). */
int tlsio_handshake(struct tlsio *t);
/* n > 0, 0 at the end, TLSIO_WANT_*, or -1. */
ssize_t tlsio_read(struct tlsio *t, void *buf, size_t len);
ssize_t tlsio_write(struct tlsio *t, const void *buf, size_t len);
/* "TLSv1.3" and the cipher of an established connection. */
const char *tlsio_version(struct tlsio *t);
const char *tlsio_cipher(struct tlsio *t);
/* close_notify (best effort, never blocks for long) and frees everything. */
void tlsio_free(struct tlsio *t);

#endif
