/* SPDX-License-Identifier: ISC */
/* smtpc.h: the client side of a short SMTP dialogue (for etrn(1)): send a
 * command, read a whole (possibly multi-line) reply, with the same bounded
 * lines and deadlines as the server (netio). */
#ifndef ETRND_SMTPC_H
#define ETRND_SMTPC_H

#include <stddef.h>

#include "netio.h"
#include "outbuf.h"

#define SMTPC_REPLY_MAX 4096 /* all lines of one reply, joined by '\n' */
#define SMTPC_LINES_MAX 64   /* lines in one reply */

struct smtpc {
	struct netio io;
	struct outbuf out;
	void (*trace)(const char *dir, const char *line, size_t len); /* -v */
};

struct reply {
	int code;                   /* 200-599, or 0 on failure */
	size_t len;                 /* of text */
	char text[SMTPC_REPLY_MAX]; /* lines without codes, '\n'-separated */
	int has_etrn;               /* an EHLO reply listed ETRN */
};

void smtpc_init(struct smtpc *c, int fd, long timeout_s);
/* Reads one reply. Returns its code, or -1 (timeout, EOF, garbage). */
int smtpc_reply(struct smtpc *c, struct reply *r);
/* Sends "line\r\n" and reads the reply. */
int smtpc_cmd(struct smtpc *c, const char *line, struct reply *r);
/* Parses one reply line: code (or -1) and whether it is the last line. */
int smtpc_parse_line(const char *line, size_t len, int *last);

#endif
