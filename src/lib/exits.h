/* SPDX-License-Identifier: ISC */
/* exits.h: the exit statuses of every etrnd program, defined once.
 *
 * The daemon-side programs follow qmail's convention (0, 100 permanent,
 * 111 temporary). etrnd-store and etrnd-deliver are run by MTAs and by the
 * runner, which read sysexits(3) codes, so those two use <sysexits.h>. */
#ifndef ETRND_EXITS_H
#define ETRND_EXITS_H

#include <sysexits.h>

#define EXIT_OK 0
#define EXIT_PERM 100 /* usage or permanent failure: do not retry */
#define EXIT_TEMP 111 /* temporary failure: try again later */

/* etrn(1): the worst reply among the nodes asked for */
#define EXIT_ETRN_4XX 1
#define EXIT_ETRN_5XX 2

#endif
