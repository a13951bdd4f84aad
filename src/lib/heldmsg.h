/* SPDX-License-Identifier: ISC */
/* heldmsg.h: one held message: its envelope and the message, in one file
 * of a node's maildir (etrnd-store(8) documents the format):
 *
 *   etrnd-envelope 1\n
 *   from SENDER\n            the envelope sender; empty for <>
 *   to RECIPIENT\n           one line per recipient, at least one
 *   error RECIPIENT TEXT\n   failed/ only: why a recipient failed
 *   \n
 *   the message, exactly as the MTA handed it over
 *
 * The message part is never parsed or changed: etrnd-deliver sends it
 * byte for byte, only with CRLF line ends and dot-stuffing on the wire. */
#ifndef ETRND_HELDMSG_H
#define ETRND_HELDMSG_H

#include <stddef.h>

#include "bounds.h"
#include "node.h"

#define HELD_MAGIC "etrnd-envelope 1\n"

enum rcpt_state {
	RCPT_OTHER,    /* not covered by the node being delivered: untouched */
	RCPT_PENDING,  /* covered, not yet tried */
	RCPT_ACCEPTED, /* RCPT 2xx in this transaction */
	RCPT_SENT,     /* delivered: leaves the file */
	RCPT_DEFERRED, /* 4xx or no answer: stays for a retry */
	RCPT_FAILED,   /* 5xx: goes to failed/ */
};

struct rcpt {
	enum rcpt_state state;
	char addr[MAIL_ADDR_MAX + 1];
	char error[HELD_ERROR_MAX + 1]; /* the remote reply for a failure */
};

struct held {
	char from[MAIL_ADDR_MAX + 1]; /* "" = the null sender */
	size_t n;
	struct rcpt *rcpt; /* malloc'd, n entries */
	size_t body;       /* offset of the message in the file */
};

/* An envelope address: 1-254 octets of printable ASCII without blanks or
 * <>, a non-empty local part, '@', and a host name or address literal. */
int mailaddr_ok(const char *s, size_t len);
/* The domain part (after the last '@') of a valid address. */
const char *mailaddr_domain(const char *addr);
/* Whether node covers the address: a host node its domain exactly, an
 * @domain node the domain and every name below it, a literal the same
 * literal, a #queue every address; NULL covers every address. */
int held_covers(const struct node *node, const char *addr);

/* The envelope (magic, from, to lines, blank line) into a malloc'd
 * buffer; *len set. NULL if out of memory. HELD_WAITING writes the
 * recipients still to be delivered (RCPT_OTHER, RCPT_PENDING,
 * RCPT_DEFERRED), HELD_FAILED only the failed ones with their error. */
enum held_part { HELD_WAITING, HELD_FAILED };
char *held_envelope(const struct held *h, enum held_part part, size_t *len);
/* Parses the envelope at the start of buf. 0, or -1 with *why. */
int held_parse(struct held *h, const char *buf, size_t len, const char **why);
void held_free(struct held *h);

#endif
