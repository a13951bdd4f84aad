/* SPDX-License-Identifier: ISC */
/* session.h: the SMTP dialogue of etrnd, free of I/O.
 *
 * Lines go in (without their line end), whole replies come out into an
 * outbuf. What needs the world (the ETRN decision, checking a password,
 * ATRN) is a callback, so the engine can be tested and fuzzed without a
 * cdb, a queue or a socket. What needs the connection (starting TLS,
 * turning an ODMR connection round) is an effect the caller reads after
 * each line: want_tls, want_reverse. */
#ifndef ETRND_SESSION_H
#define ETRND_SESSION_H

#include <stddef.h>

#include "bounds.h"
#include "login.h"
#include "node.h"
#include "outbuf.h"

struct etrn_result {
	int code;                       /* 250, 251, 252, 253, 458 or 459 */
	unsigned long count;            /* 253: messages waiting */
	char reason[RULE_DENY_MAX + 1]; /* 459: printable ASCII */
};

/* user: the login when the client authenticated, else NULL. */
typedef void (*etrn_fn)(void *ctx, const struct node *node, const char *user,
			struct etrn_result *res);

enum sasl_mech { MECH_PLAIN, MECH_LOGIN, MECH_CRAM };
enum auth_result { AUTH_BAD = 0, AUTH_OK = 1, AUTH_TEMP = -1 };

struct auth_attempt {
	enum sasl_mech mech;
	const char *user;      /* folded; a name that is no login never gets here */
	const char *pass;      /* PLAIN and LOGIN */
	const char *challenge; /* CRAM-MD5: what we sent */
	const char *digest;    /* CRAM-MD5: the client's 32 hex digits */
	unsigned failures;     /* failed attempts before this one */
};

/* Checks a login (and waits after a failure: the caller's policy). */
typedef enum auth_result (*auth_fn)(void *ctx, const struct auth_attempt *a);

/* ATRN (RFC 2645): 250 (then the connection turns round), 450 refused,
 * 451 not now (busy, a temporary failure), 453 no mail. */
typedef int (*atrn_fn)(void *ctx, const struct node *nodes, size_t n, const char *user);

struct session {
	/* set by the caller */
	const char *host; /* our name, validated by the caller */
	etrn_fn etrn;
	auth_fn auth; /* NULL: no AUTH */
	void *auth_ctx;
	atrn_fn atrn; /* set: ODMR mode (-O): ATRN, and no ETRN */
	void *atrn_ctx;
	int tls_ok;  /* a certificate is loaded: STARTTLS on offer */
	int cram_ok; /* some login has cram=: CRAM-MD5 on offer */
	void *ctx;   /* etrn's */
	struct outbuf *out;
	/* state */
	unsigned long commands, errors, etrns;
	unsigned long others; /* commands counted against SMTP_MAX_OTHER */
	int tls;              /* inside TLS */
	int ehlo;             /* EHLO or HELO seen (since TLS started) */
	char user[LOGIN_BUF]; /* the login after a successful AUTH, else "" */
	unsigned auth_failures;
	int sasl; /* a SASL exchange waits for the client's answer */
	enum sasl_mech mech;
	char sasl_user[LOGIN_BUF];
	char challenge[96];
	/* effects, for the caller after it has flushed the replies */
	int want_tls;     /* start TLS now */
	int want_reverse; /* ODMR: deliver over this connection now */
	int closed;
	const char *end; /* why the session ended: quit, eof, timeout, ... */
	char helo[64];   /* the client's HELO/EHLO name, for the log only */
};

void session_init(struct session *s, const char *host, etrn_fn etrn, void *ctx, struct outbuf *out);
void session_greet(struct session *s);
/* One command line (or SASL answer). Returns 1 when the session is over. */
int session_line(struct session *s, const char *line, size_t len);
/* A line longer than session_line_max() was received and discarded. */
int session_overlong(struct session *s);
/* The idle timeout or the session deadline expired: 421 and end. */
void session_timeout(struct session *s, const char *why);
/* The longest line the next read may accept, CR LF included:
 * SMTP_AUTH_LINE_MAX while AUTH is on offer, else SMTP_LINE_MAX. */
size_t session_line_max(const struct session *s);
/* The answer to STARTTLS (want_tls): 220 when TLS can start, else 454
 * (RFC 3207: TLS not available due to temporary reason; the session goes
 * on in plaintext). */
void session_starttls(struct session *s, int ok);
/* TLS is up (after want_tls): the client must say EHLO again; any AUTH
 * state is forgotten. */
void session_tls_started(struct session *s);

#endif
