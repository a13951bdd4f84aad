/* SPDX-License-Identifier: ISC */
/* child.h: a queue-run command as a process: started without a shell in a
 * process group of its own, its output captured line by line into the log
 * (within a budget), stopped as a group, and watched until the whole group
 * is gone. */
#ifndef ETRND_CHILD_H
#define ETRND_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "bounds.h"

struct child {
	pid_t pid;      /* the leader; 0 once reaped */
	pid_t pgid;     /* its process group, which outlives it */
	int outfd;      /* read end of its stdout and stderr; -1 once closed */
	int errfd;      /* close-on-exec pipe: an errno arrives if exec failed */
	int exec_errno; /* set by child_reaped() */
	size_t linelen;
	int lines;    /* output lines logged */
	long dropped; /* output octets past the budget */
	char line[LOG_TEXT_MAX];
};

struct child_env {
	const char *node, *rule, *client;
};

/* Forks and execs argv[0] (an absolute path, no PATH search, no shell) in
 * a new process group, with ETRN_NODE, ETRN_RULE and ETRN_CLIENT set.
 * stdin_fd becomes its fd 0 (the runner gives the node's lock file, so the
 * command and everything it forks hold the lock); stdout and stderr go to
 * a pipe; nothing else stays open across exec. Returns 0, or -1 with
 * errno. */
int child_spawn(struct child *c, char *const argv[], const struct child_env *env, int stdin_fd);
/* Logs what the command wrote, one "output node=NODE" line per line, at
 * most RUN_OUTPUT_LINES. With final, reads what is there and closes the
 * pipe, even if a process that left the group still holds it. */
void child_read(struct child *c, const char *node, int final);
/* The leader was reaped: learns whether exec failed (exec_errno). */
void child_reaped(struct child *c);
/* Signals the whole process group. */
void child_signal(const struct child *c, int sig);
/* Whether a live process of the group is left (zombies do not count). */
int child_group_alive(const struct child *c);
/* Closes what is still open. */
void child_close(struct child *c);

#endif
