/* SPDX-License-Identifier: ISC */
/* dial.h: a TCP connection to a host or an address, bounded in time. */
#ifndef ETRND_DIAL_H
#define ETRND_DIAL_H

#include <stddef.h>

/* Connects to the first address of host (a name or a literal IPv4/IPv6
 * address) that answers, trying at most DELIVER_ADDRS_MAX addresses, each
 * for at most SMTPC_CONNECT_TIMEOUT seconds and all of them before
 * deadline_ms (CLOCK_MONOTONIC). The name lookup itself is bounded by the
 * resolver's own timeouts (resolv.conf), not by the deadline. Returns the
 * socket (blocking, close-on-exec) with the peer's address text in
 * peer[64], or -1 with errno (ETIMEDOUT at the deadline), and *gai set
 * when the name did not resolve. */
int dial(const char *host, const char *port, long long deadline_ms, char *peer, int *gai);

#endif
