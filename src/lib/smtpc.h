/* SPDX-License-Identifier: ISC */
/* smtpc.h: the client side of a short SMTP dialogue (for etrn(1)): send a
 * command, read a whole (possibly multi-line) reply, with the same bounded
 * lines as the server (netio), a time limit for each reply and a deadline
 * for the whole dialogue; TLS (STARTTLS or implicit) through netio and
 * tlsio, with the server's certificate verified against its name. */
#ifndef ETRND_SMTPC_H
#define ETRND_SMTPC_H

#include <stddef.h>

#include "netio.h"
#include "outbuf.h"

#define SMTPC_REPLY_MAX 4096 /* all lines of one reply, joined by '\n' */
#define SMTPC_LINES_MAX 64   /* lines in one reply */

struct tlsio;

struct smtpc {
	struct netio io;
	struct outbuf out;
	char outmem[OUTBUF_SIZE]; /* out's buffer */
	long reply_ms;            /* each reply must be complete within this */
	long long deadline_ms;    /* the whole dialogue, absolute (CLOCK_MONOTONIC) */
	const char *error;        /* why the last call failed, for a message */
	char errbuf[256];
	void (*trace)(const char *dir, const char *line, size_t len); /* -v */
};

struct reply {
	int code;                   /* 200-599, or 0 on failure */
	size_t len;                 /* of text */
	char text[SMTPC_REPLY_MAX]; /* lines without codes, '\n'-separated, raw */
	int has_etrn;               /* an EHLO reply listed ETRN */
};

/* reply_s bounds each reply (from the command's first octet written to
 * the reply's last line), session_s the whole dialogue from now. */
void smtpc_init(struct smtpc *c, int fd, long reply_s, long session_s);
/* Reads one reply. Returns its code, or -1 with the reason in c->error
 * (a time limit, EOF, a line that is no SMTP reply, an endless reply). */
int smtpc_reply(struct smtpc *c, struct reply *r);
/* Sends "line\r\n" and reads the reply. */
int smtpc_cmd(struct smtpc *c, const char *line, struct reply *r);
/* The same for a line that carries a secret (AUTH): the trace shows
 * "shown" instead, and the copies smtpc made of the line are wiped. The
 * line may be longer than a command (RFC 4954): up to OUTBUF_SIZE octets
 * with its CR LF. */
int smtpc_cmd_secret(struct smtpc *c, const char *line, const char *shown, struct reply *r);
/* TLS from here on (after a 220 to STARTTLS, or first thing for implicit
 * TLS): t is a client context (tlsio_client()), the handshake must end
 * within the reply time limit, and the certificate must be valid for
 * servername. Whatever the server sent before the handshake is discarded.
 * 0, or -1 with the reason in c->error. */
int smtpc_tls(struct smtpc *c, struct tlsio *t, const char *servername);
/* An EHLO keyword in an EHLO reply (any line but the first), case
 * insensitively: its parameters ("" when none), or NULL. */
const char *smtpc_keyword(const struct reply *r, const char *kw);
/* Whether an EHLO reply offers the SASL mechanism mech in its AUTH line. */
int smtpc_auth_offered(const struct reply *r, const char *mech);
/* Parses one reply line: code (or -1) and whether it is the last line. */
int smtpc_parse_line(const char *line, size_t len, int *last);
/* The first line of r's text, octets outside printable ASCII as '?': what
 * a server sends must not reach a terminal raw (escape sequences, CR). */
const char *smtpc_first_line(const struct reply *r, char *buf, size_t size);

#endif
