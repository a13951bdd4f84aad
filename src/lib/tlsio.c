/* SPDX-License-Identifier: ISC */
/* tlsio.c: see tlsio.h. A server's key and certificate are read from fds
 * that were opened before privileges were dropped (etrnd opens them for
 * etrnd-tlsproxy), so the key file can stay 0600 root. libtls itself is
 * opened at setup (dynlib.h): a program that never sets TLS up never maps
 * libssl and libcrypto. */
#include "tlsio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"

#ifdef WITH_TLS
#include <tls.h>

#include "dynlib.h"

#ifndef ETRND_STATIC
_Static_assert(sizeof LIBTLS_SONAME > 1,
	       "no soname for libtls: is its -dev package installed? (make deps)");
#endif

/* Every libtls function used here, called as T.name(...). */
#define LIBTLS_FUNCS(X)                     \
	X(tls_accept_fds)                   \
	X(tls_client)                       \
	X(tls_close)                        \
	X(tls_config_error)                 \
	X(tls_config_free)                  \
	X(tls_config_insecure_noverifycert) \
	X(tls_config_insecure_noverifyname) \
	X(tls_config_new)                   \
	X(tls_config_set_ca_file)           \
	X(tls_config_set_keypair_mem)       \
	X(tls_config_set_protocols)         \
	X(tls_configure)                    \
	X(tls_conn_cipher)                  \
	X(tls_conn_version)                 \
	X(tls_connect_fds)                  \
	X(tls_error)                        \
	X(tls_free)                         \
	X(tls_handshake)                    \
	X(tls_init)                         \
	X(tls_read)                         \
	X(tls_server)                       \
	X(tls_write)

static struct libtls {
#define X(f) __typeof__(f) *f; /* NOLINT(bugprone-macro-parentheses): a name */
	LIBTLS_FUNCS(X)
#undef X
} T
#ifdef ETRND_STATIC
    =
	{
#define X(f) .f = f,
	    LIBTLS_FUNCS(X)
#undef X
}
#endif
;

int tlsio_available(void)
{
	return 1;
}

static int fail(struct tlsio *t, const char *what, const char *why)
{
	snprintf(t->err, sizeof t->err, "%s: %s", what, why ? why : "unknown error");
	return -1;
}

/* A key pair that does not go together is a fault of either file (libtls
 * says "failed to load private key" for a key of another certificate):
 * the reason names both. */
static int fail_pair(struct tlsio *t, const char *certfile, const char *keyfile, const char *why)
{
	snprintf(t->err, sizeof t->err, "%s with %s: %s", keyfile, certfile,
		 why ? why : "unknown error");
	return -1;
}

/* Opens libtls (once): nothing to do in the static build. */
static int open_libtls(struct tlsio *t)
{
#ifdef ETRND_STATIC
	(void)t;
	return 0;
#else
	static const struct dynsym syms[] = {
#define X(f) {#f, (void **)&T.f},
	    LIBTLS_FUNCS(X)
#undef X
	};
	return dynlib_open(LIBTLS_SONAME, syms, sizeof syms / sizeof syms[0], t->err,
			   sizeof t->err);
#endif
}

static int setup(struct tlsio *t, int client)
{
	memset(t, 0, sizeof *t);
	t->client = client;
	if (open_libtls(t) < 0)
		return -1;
	if (T.tls_init() < 0 || !(t->cfg = T.tls_config_new()))
		return fail(t, "TLS", "out of memory");
	if (T.tls_config_set_protocols(t->cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0)
		return fail(t, "TLS protocols", T.tls_config_error(t->cfg));
	t->ctx = client ? T.tls_client() : T.tls_server();
	return t->ctx ? 0 : fail(t, "TLS", "out of memory");
}

/* All of fd into a buffer of TLS_PEM_MAX + 1 (so that a longer file is
 * seen): the length, or -1. */
static ssize_t slurp(int fd, uint8_t *buf)
{
	size_t n = 0;
	for (;;) { /* pread: the fd may be read again, for a later STARTTLS */
		ssize_t r = pread(fd, buf + n, TLS_PEM_MAX + 1 - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || (n += (size_t)r) > TLS_PEM_MAX)
			return (ssize_t)n;
	}
}

int tlsio_server_fds(struct tlsio *t, int certfd, int keyfd, const char *certname,
		     const char *keyname)
{
	static uint8_t cert[TLS_PEM_MAX + 1], key[TLS_PEM_MAX + 1];

	if (setup(t, 0) < 0)
		return -1;
	ssize_t clen = slurp(certfd, cert), klen = slurp(keyfd, key);
	int rc;
	if (clen < 0 || klen < 0)
		rc = fail(t, clen < 0 ? certname : keyname, strerror(errno));
	else if (clen > TLS_PEM_MAX || klen > TLS_PEM_MAX)
		rc = fail(t, clen > TLS_PEM_MAX ? certname : keyname, "longer than 256 KiB");
	else if (T.tls_config_set_keypair_mem(t->cfg, cert, (size_t)clen, key, (size_t)klen) < 0)
		rc = fail_pair(t, certname, keyname, T.tls_config_error(t->cfg));
	else if (T.tls_configure(t->ctx, t->cfg) < 0)
		rc = fail_pair(t, certname, keyname, T.tls_error(t->ctx));
	else
		rc = 0;
	if (klen > 0) /* only what was read: the rest was never touched */
		explicit_bzero(key, (size_t)klen < sizeof key ? (size_t)klen : sizeof key);
	return rc;
}

int tlsio_client(struct tlsio *t, const char *cafile, int verify)
{
	if (setup(t, 1) < 0)
		return -1;
	if (!verify) {
		T.tls_config_insecure_noverifycert(t->cfg);
		T.tls_config_insecure_noverifyname(t->cfg);
	} else if (cafile && T.tls_config_set_ca_file(t->cfg, cafile) < 0) {
		return fail(t, cafile, T.tls_config_error(t->cfg));
	}
	if (T.tls_configure(t->ctx, t->cfg) < 0)
		return fail(t, "TLS", T.tls_error(t->ctx));
	return 0;
}

int tlsio_start(struct tlsio *t, int rfd, int wfd, const char *servername)
{
	int rc = t->client ? T.tls_connect_fds(t->ctx, rfd, wfd, servername)
			   : T.tls_accept_fds(t->ctx, &t->conn, rfd, wfd);
	if (t->client)
		t->conn = t->ctx;
	return rc < 0 ? fail(t, "TLS", T.tls_error(t->ctx)) : 0;
}

static ssize_t map(struct tlsio *t, ssize_t rc, const char *what)
{
	if (rc == TLS_WANT_POLLIN)
		return TLSIO_WANT_READ;
	if (rc == TLS_WANT_POLLOUT)
		return TLSIO_WANT_WRITE;
	if (rc < 0)
		return fail(t, what, T.tls_error(t->conn));
	return rc;
}

int tlsio_handshake(struct tlsio *t)
{
	return (int)map(t, T.tls_handshake(t->conn), "TLS handshake");
}

ssize_t tlsio_read(struct tlsio *t, void *buf, size_t len)
{
	return map(t, T.tls_read(t->conn, buf, len), "TLS read");
}

ssize_t tlsio_write(struct tlsio *t, const void *buf, size_t len)
{
	return map(t, T.tls_write(t->conn, buf, len), "TLS write");
}

const char *tlsio_version(struct tlsio *t)
{
	const char *v = t->conn ? T.tls_conn_version(t->conn) : NULL;
	return v ? v : "-";
}

const char *tlsio_cipher(struct tlsio *t)
{
	const char *c = t->conn ? T.tls_conn_cipher(t->conn) : NULL;
	return c ? c : "-";
}

void tlsio_free(struct tlsio *t)
{
	if (t->conn && t->conn != t->ctx) {
		T.tls_close(t->conn); /* non-blocking fds: one try at close_notify */
		T.tls_free(t->conn);
	} else if (t->conn) {
		T.tls_close(t->conn);
	}
	if (t->ctx)
		T.tls_free(t->ctx);
	if (t->cfg)
		T.tls_config_free(t->cfg);
	memset(t, 0, sizeof *t);
}

#else /* built with TLS=no */

static int none(struct tlsio *t)
{
	snprintf(t->err, sizeof t->err, "etrnd was built without TLS (make TLS=no)");
	return -1;
}

int tlsio_available(void)
{
	return 0;
}
int tlsio_server_fds(struct tlsio *t, int certfd, int keyfd, const char *certname,
		     const char *keyname)
{
	(void)certfd, (void)keyfd, (void)certname, (void)keyname;
	memset(t, 0, sizeof *t);
	return none(t);
}
int tlsio_client(struct tlsio *t, const char *cafile, int verify)
{
	(void)cafile, (void)verify;
	memset(t, 0, sizeof *t);
	return none(t);
}
int tlsio_start(struct tlsio *t, int rfd, int wfd, const char *servername)
{
	(void)rfd, (void)wfd, (void)servername;
	return none(t);
}
int tlsio_handshake(struct tlsio *t)
{
	return none(t);
}
ssize_t tlsio_read(struct tlsio *t, void *buf, size_t len)
{
	(void)buf, (void)len;
	return none(t);
}
ssize_t tlsio_write(struct tlsio *t, const void *buf, size_t len)
{
	(void)buf, (void)len;
	return none(t);
}
const char *tlsio_version(struct tlsio *t)
{
	(void)t;
	return "-";
}
const char *tlsio_cipher(struct tlsio *t)
{
	(void)t;
	return "-";
}
void tlsio_free(struct tlsio *t)
{
	memset(t, 0, sizeof *t);
}
#endif
