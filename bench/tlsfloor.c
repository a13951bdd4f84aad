/* SPDX-License-Identifier: ISC */
/* tlsfloor CERTFILE KEYFILE: the cheapest STARTTLS responder, for the TLS
 * benchmark. It loads the key pair at start (as etrnd does), answers the
 * plaintext EHLO with STARTTLS, does the handshake with libtls on fds 0
 * and 1 (the same library, TLS 1.2-1.3, its default ciphers), and answers
 * every line inside TLS with a fixed reply: no parsing, no password check,
 * no lookup, no file. What fork + exec + the handshake + the records cost. */
#include <stdio.h>
#include <string.h>
#include <tls.h>
#include <unistd.h>

static const char greeting[] = "220 floor.example ESMTP\r\n";
static const char ehlo1[] = "250-floor.example\r\n250-ETRN\r\n250-STARTTLS\r\n250 PIPELINING\r\n";
static const char ready[] = "220 2.0.0 Ready to start TLS\r\n";
static const char ehlo2[] = "250-floor.example\r\n250-ETRN\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n";
static const char auth[] = "235 2.7.0 Authentication successful\r\n";
static const char etrn[] = "250 2.0.0 OK, queuing for node client.example.net started\r\n";
static const char quit[] = "221 2.0.0 floor.example closing connection\r\n";
static const char other[] = "250 2.0.0 OK\r\n";

/* One line (up to LF) into buf, through TLS when t is set: its length,
 * or -1 at the end. Byte by byte in plaintext, so that nothing meant for
 * the handshake is read before it. */
static ssize_t line(struct tls *t, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		ssize_t r = t ? tls_read(t, buf + n, 1) : read(0, buf + n, 1);
		if (r <= 0)
			return -1;
		if (buf[n++] == '\n')
			return (ssize_t)n;
	}
	return -1;
}

static int put(struct tls *t, const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t w = t ? tls_write(t, s, len) : write(1, s, len);
		if (w <= 0)
			return -1;
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tls_config *cfg;
	struct tls *srv, *t = NULL;
	char buf[1024];

	if (argc != 3 || tls_init() < 0 || !(cfg = tls_config_new()) ||
	    tls_config_set_protocols(cfg, TLS_PROTOCOL_TLSv1_2 | TLS_PROTOCOL_TLSv1_3) < 0 ||
	    tls_config_set_keypair_file(cfg, argv[1], argv[2]) < 0 || !(srv = tls_server()) ||
	    tls_configure(srv, cfg) < 0) {
		fputs("usage: tlsfloor CERTFILE KEYFILE (readable, matching)\n", stderr);
		return 111;
	}
	if (put(NULL, greeting) < 0)
		return 1;
	while (line(t, buf, sizeof buf) > 0) {
		const char *rep = other;
		if (buf[0] == 'S') { /* STARTTLS */
			if (put(NULL, ready) < 0 || tls_accept_fds(srv, &t, 0, 1) < 0 ||
			    tls_handshake(t) < 0)
				return 1;
			continue;
		}
		if (buf[0] == 'E')
			rep = buf[1] == 'H' ? (t ? ehlo2 : ehlo1) : etrn;
		else if (buf[0] == 'A')
			rep = auth;
		else if (buf[0] == 'Q')
			rep = quit;
		if (put(t, rep) < 0)
			return 1;
		if (rep == quit)
			break;
	}
	if (t) {
		tls_close(t);
		tls_free(t);
	}
	tls_free(srv);
	tls_config_free(cfg);
	return 0;
}
