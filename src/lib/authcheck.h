/* SPDX-License-Identifier: ISC */
/* authcheck.h: the session's AUTH callback: a login's password (PLAIN,
 * LOGIN) or CRAM-MD5 answer checked against its user: record in the cdb,
 * one log line per attempt, and a growing delay after each failure. */
#ifndef ETRND_AUTHCHECK_H
#define ETRND_AUTHCHECK_H

#include "policy.h"
#include "session.h"

struct authcheck {
	struct policy *policy;
	const char *client; /* the client's address text, for the log */
};

enum auth_result authcheck_try(void *ctx, const struct auth_attempt *a);
/* Whether some login has cram= (etrnd-rules marks the cdb): CRAM-MD5 is
 * offered only then. */
int authcheck_cram_offered(struct policy *p);

#endif
