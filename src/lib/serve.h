/* SPDX-License-Identifier: ISC */
/* serve.h: the session loop on a connection. */
#ifndef ETRND_SERVE_H
#define ETRND_SERVE_H

#include "netio.h"
#include "session.h"

/* Greets, then feeds lines to the session until it ends; flushes every
 * reply before returning. */
void serve(struct session *s, struct netio *n, struct outbuf *o);

#endif
