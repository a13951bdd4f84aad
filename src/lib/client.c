/* SPDX-License-Identifier: ISC */
/* client.c: the asking client's address, from the socket or the
 * launcher's environment (see client.h for the order). */
#include "client.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *client_addr(struct addr *a)
{
	static const char *const vars[] = {"TCPREMOTEIP", "REMOTE_ADDR", "REMOTE_HOST"};
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getpeername(0, (struct sockaddr *)&ss, &len) == 0 &&
	    addr_from_sockaddr(a, &ss, len) == 0)
		return "peer";
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v && addr_parse(a, v, strlen(v)) == 0)
			return vars[i];
	}
	memset(a, 0, sizeof *a);
	return "none";
}
