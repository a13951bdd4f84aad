/* SPDX-License-Identifier: ISC */
/* sandbox.h: after setup, etrnd may write only beneath QUEUEDIR (and, in
 * ODMR mode, beneath the spool root) and may not open TCP connections or
 * listen (Linux Landlock). Reads are not limited: spool= directories can
 * be anywhere. */
#ifndef ETRND_SANDBOX_H
#define ETRND_SANDBOX_H

#include <stddef.h>

/* Returns the Landlock ABI version applied (>= 1), 0 when the kernel has
 * no Landlock (nothing applied; *why says so), or -1 on failure (*why). */
int sandbox_queue(const char *queuedir, const char **why);
/* The most directories sandbox_dirs() takes. */
#define SANDBOX_DIRS_MAX 4
/* The same with several directories. */
int sandbox_dirs(const char *const *dirs, size_t n, const char **why);
/* The same with directories the caller has open (O_PATH is enough): the
 * rule then covers the very directory the caller goes on using. A
 * negative fd allows nothing. */
int sandbox_fds(const int *fds, size_t n, const char **why);

#endif
