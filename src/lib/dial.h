/* SPDX-License-Identifier: ISC */
/* dial.h: a TCP connection to a host or an address, bounded in time. */
#ifndef ETRND_DIAL_H
#define ETRND_DIAL_H

#include <stddef.h>

/* Connects to the first address of host (a name or a literal IPv4/IPv6
 * address) that answers within timeout_s, trying at most DELIVER_ADDRS_MAX
 * addresses. Returns the socket (blocking, close-on-exec) with the peer's
 * address text in peer[64], or -1 with errno (and *gai set when the name
 * did not resolve: EAI_NONAME is permanent, others temporary). */
int dial(const char *host, const char *port, long timeout_s, char *peer, int *gai);

#endif
