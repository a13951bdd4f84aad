/* SPDX-License-Identifier: ISC */
/* spool.h: how many messages wait for a node (spool= in the rules). */
#ifndef ETRND_SPOOL_H
#define ETRND_SPOOL_H

/* Counts regular files, not dot-files, in DIR/new and DIR/cur when DIR/new
 * is a directory (a maildir), else in DIR. Stops at cap + 1. Returns the
 * count, or -1 (errno set) when the spool cannot be read. Not for threads
 * (one static read buffer). */
long spool_count(const char *dir, long cap);

#endif
