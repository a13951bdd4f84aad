/* SPDX-License-Identifier: ISC */
/* child.h: starting a queue-run command, and stopping it. */
#ifndef ETRND_CHILD_H
#define ETRND_CHILD_H

#include <sys/types.h>

/* Forks and execs argv[0] (an absolute path, no PATH search, no shell) in
 * a new process group, stdin from /dev/null, stdout and stderr into a pipe
 * whose non-blocking read end goes to *outfd, with ETRN_NODE, ETRN_RULE and
 * ETRN_CLIENT set. Returns the pid, or -1. */
pid_t child_spawn(char *const argv[], const char *node, const char *rule, const char *client,
		  int *outfd);
/* Signals the child's whole process group. */
void child_signal(pid_t pid, int sig);

#endif
