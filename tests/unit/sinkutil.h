/* SPDX-License-Identifier: ISC */
/* sinkutil.h: reading what tests/helpers/smtpsink stored, for the tests of
 * the delivery engine (etrnd-deliver and ODMR alike). */
#ifndef ETRND_SINKUTIL_H
#define ETRND_SINKUTIL_H

#include <stddef.h>

/* One message the sink stored: its X-Sink header block and the data. */
struct got {
	char *head, *data;
	size_t dlen;
};

/* The messages in sinkdir/new in arrival order; ended by head NULL. */
struct got *tu_sink_messages(const char *sinkdir);
void tu_free_got(struct got *g);
/* The message whose header block holds needle (an X-Sink-Rcpt line...). */
const struct got *tu_find(const struct got *g, const char *needle);
/* A held message as it must arrive: CRLF line ends (an existing CRLF kept),
 * one added after a last line without one. malloc'd; *out its length. */
char *tu_wire(const char *p, size_t len, size_t *out);

#endif
