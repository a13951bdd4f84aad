/* SPDX-License-Identifier: ISC */
/* client.h: who is asking. getpeername(0) first (inetd, xinetd, systemd);
 * else TCPREMOTEIP (tcpserver), REMOTE_ADDR (systemd), REMOTE_HOST
 * (xinetd). A value that does not parse as an address is ignored. */
#ifndef ETRND_CLIENT_H
#define ETRND_CLIENT_H

#include "addr.h"

/* Fills a (family 0 when nothing is known); returns the source used:
 * "peer", the variable's name, or "none". */
const char *client_addr(struct addr *a);

#endif
