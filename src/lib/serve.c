/* SPDX-License-Identifier: ISC */
/* serve.c: the loop that feeds a connection's lines to the I/O-free
 * session engine and flushes its replies. */
#include "serve.h"

void serve(struct session *s, struct netio *n, struct outbuf *o)
{
	const char *line;
	size_t len;

	session_greet(s);
	while (!s->closed) {
		int ev = netio_getline(n, o, &line, &len);
		if (ev == NETIO_LINE)
			session_line(s, line, len);
		else if (ev == NETIO_OVERLONG)
			session_overlong(s);
		else if (ev == NETIO_IDLE || ev == NETIO_DEADLINE) {
			session_timeout(s, ev == NETIO_IDLE ? "timeout" : "deadline");
			netio_grace(n); /* time to send the 421, no more */
		} else {
			s->closed = 1;
			s->end = ev == NETIO_EOF ? "eof" : "io-error";
		}
	}
	if (out_flush(o) < 0 && n->timed_out)
		s->end = n->timed_out == NETIO_IDLE ? "write-timeout" : "write-deadline";
}
