/* SPDX-License-Identifier: ISC */
/* session.h: the SMTP dialogue of etrnd, free of I/O.
 *
 * Lines go in (without their line end), whole replies come out into an
 * outbuf. The ETRN decision is a callback, so the engine can be tested and
 * fuzzed without a cdb, a queue or a socket. */
#ifndef ETRND_SESSION_H
#define ETRND_SESSION_H

#include <stddef.h>

#include "bounds.h"
#include "node.h"
#include "outbuf.h"

struct etrn_result {
	int code;                       /* 250, 251, 252, 253, 458 or 459 */
	unsigned long count;            /* 253: messages waiting */
	char reason[RULE_DENY_MAX + 1]; /* 459: printable ASCII */
};

typedef void (*etrn_fn)(void *ctx, const struct node *node, struct etrn_result *res);

struct session {
	const char *host; /* our name, validated by the caller */
	etrn_fn etrn;
	void *ctx;
	struct outbuf *out;
	unsigned long commands, errors, etrns;
	unsigned long others; /* commands counted against SMTP_MAX_OTHER */
	int closed;
	const char *end; /* why the session ended: quit, eof, timeout, ... */
	char helo[64];   /* the client's HELO/EHLO name, for the log only */
};

void session_init(struct session *s, const char *host, etrn_fn etrn, void *ctx, struct outbuf *out);
void session_greet(struct session *s);
/* One command line. Returns 1 when the session is over, else 0. */
int session_line(struct session *s, const char *line, size_t len);
/* A line longer than SMTP_LINE_MAX was received and discarded. */
int session_overlong(struct session *s);
/* The idle timeout or the session deadline expired: 421 and end. */
void session_timeout(struct session *s, const char *why);

#endif
