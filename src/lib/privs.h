/* SPDX-License-Identifier: ISC */
/* privs.h: dropping root for good. */
#ifndef ETRND_PRIVS_H
#define ETRND_PRIVS_H

#include <stddef.h>

/* Switches to user's uid and gid with no supplementary groups, then checks
 * that root cannot be regained. Returns 0, or -1 with a reason in err. */
int privs_drop(const char *user, char *err, size_t errsize);

#endif
