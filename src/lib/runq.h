/* SPDX-License-Identifier: ISC */
/* runq.h: the runner's side of the trigger queue.
 *
 *   new/NAME   pending      cur/NAME   claimed (being run or waiting to retry)
 *   bad/NAME   refused      last/NAME  mtime = when the node's last run started
 *   trigger    FIFO: any byte wakes the runner
 *
 * Directories are held open and used with *at() calls; names are file
 * names read from new/ or cur/, never paths. */
#ifndef ETRND_RUNQ_H
#define ETRND_RUNQ_H

#include <stddef.h>

struct runq {
	int qfd, newfd, curfd, badfd, lastfd;
	int fifo_rd, fifo_wr; /* -1 when there is no FIFO */
};

/* Opens QUEUEDIR (tmp/ new/ cur/ must exist; bad/ last/ and the FIFO are
 * created when missing). Returns 0, or -1 with a reason in err. */
int runq_open(struct runq *q, const char *dir, char *err, size_t errsize);
void runq_close(struct runq *q);

/* After a crash: cur/NAME goes back to new/ unless a newer new/NAME waits. */
int runq_recover(struct runq *q);
/* The names in new/ (dot-files skipped), malloc'd; *n set. NULL on error. */
char **runq_scan(struct runq *q, size_t *n);
void runq_free_names(char **names, size_t n);

/* new/NAME -> cur/NAME. 0 claimed, 1 gone meanwhile, -1 error. */
int runq_claim(struct runq *q, const char *name);
/* Reads cur/NAME (a regular file, not a link) into buf. -1 on error. */
int runq_read(struct runq *q, const char *name, char *buf, size_t size, size_t *len);
/* The run finished (or was given up): remove cur/NAME. */
void runq_done(struct runq *q, const char *name);
/* cur/NAME back to new/ (unless a newer new/NAME waits), for a later run. */
void runq_release(struct runq *q, const char *name);
/* Moves NAME from new/ (from_cur 0) or cur/ (1) into bad/. */
void runq_bad(struct runq *q, const char *name, int from_cur);
/* Whether new/NAME exists. */
int runq_pending(struct runq *q, const char *name);

/* Wall-clock second of the node's last run start, 0 if none. */
long long runq_last(struct runq *q, const char *name);
void runq_stamp(struct runq *q, const char *name);

/* Reads and discards wake-up bytes. */
void runq_drain(struct runq *q);

#endif
