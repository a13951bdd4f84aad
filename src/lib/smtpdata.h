/* SPDX-License-Identifier: ISC */
/* smtpdata.h: a held message as the DATA of an SMTP transaction (RFC 5321
 * 4.1.1.4, 4.5.2): every line end CRLF (a bare LF gets its CR, an existing
 * CRLF is kept as it is), a dot at the start of a line doubled, a CRLF
 * added when the last line has none, then ".\r\n". Nothing else changes,
 * with one exception against SMTP smuggling: a dot after a bare CR is
 * doubled too, so that a server that takes a bare CR for a line end can
 * never read "\r.\r\n" as the end of the data (a server that does not
 * keeps one dot more).
 *
 * The encoder is a small state machine so that a message of any size goes
 * out through one fixed buffer. */
#ifndef ETRND_SMTPDATA_H
#define ETRND_SMTPDATA_H

#include <stddef.h>

struct smtpdata {
	int bol; /* the next octet starts a line */
	int cr;  /* the previous octet was a CR */
};

void smtpdata_init(struct smtpdata *s);
/* Encodes as much of in[0..len) as fits in out[0..size) (size >= 2); *used
 * gets the octets of in consumed. Returns the octets written. */
size_t smtpdata_put(struct smtpdata *s, const char *in, size_t len, size_t *used, char *out,
		    size_t size);
/* The end of the data: CRLF if the message did not end with a line end,
 * then ".\r\n", into out[SMTPDATA_END_MAX]. Returns the octets written. */
#define SMTPDATA_END_MAX 5
size_t smtpdata_end(const struct smtpdata *s, char *out);

/* RFC 1870 SIZE: the octets of the message as sent, CRLF line ends
 * included, without the dots added by stuffing and without the final
 * ".\r\n". */
size_t smtpdata_size(const char *p, size_t len);
/* Whether any octet has the high bit set (BODY=8BITMIME, RFC 6152). */
int smtpdata_8bit(const char *p, size_t len);

#endif
