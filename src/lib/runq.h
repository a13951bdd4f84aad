/* SPDX-License-Identifier: ISC */
/* runq.h: the runner's side of the trigger queue (layout in queue.h):
 * claim, release, refuse, interval stamps, per-node locks, and removal of
 * stale temp files.
 *
 * Directories are held open and used with *at() calls; names are file
 * names read from new/ or cur/, never paths. Nothing here blocks on a file
 * someone planted, and nothing is replaced by a rename: every failure is
 * returned with errno for the caller to log. */
#ifndef ETRND_RUNQ_H
#define ETRND_RUNQ_H

#include <limits.h>
#include <stddef.h>

#include "queue.h"

/* An interval stamp last/ would not take, kept in memory instead. */
struct runq_mem {
	char name[NAME_MAX + 1];
	long long at;
};

struct runq {
	int qfd;
	int dir[Q_PARTS];
	int fifo_rd, fifo_wr; /* -1 when there is no FIFO */
	struct runq_mem *mem;
	size_t nmem;
};

/* Opens QUEUEDIR: tmp/ new/ cur/ must exist, bad/ last/ locks/ and the FIFO
 * are created when missing, and the FIFO gets QUEUE_FIFO_MODE whatever the
 * umask. Refuses a runner-only directory (queue.h) that anyone but the
 * runner's user can write. Returns 0, or -1 with a reason in err. */
int runq_open(struct runq *q, const char *dir, char *err, size_t errsize);
void runq_close(struct runq *q);

/* Every name in new/ or cur/ but "." and "..", malloc'd; *n set. NULL with
 * errno when the directory cannot be read. */
char **runq_list(struct runq *q, enum queue_part part, size_t *n);
void runq_free_names(char **names, size_t n);

/* Whether new/NAME exists. */
int runq_pending(struct runq *q, const char *name);
/* 1 if new/NAME is a regular file, 0 if it is gone, -1 if it is anything
 * else (a directory, a link, a FIFO...). */
int runq_regular(struct runq *q, const char *name);

/* new/NAME -> cur/NAME. 0 claimed, 1 gone meanwhile, -1 error (errno). */
int runq_claim(struct runq *q, const char *name);

#define RUNQ_TRANSIENT -1 /* keep the trigger and try later (errno set) */
#define RUNQ_INVALID -2   /* not a trigger file (*why set) */
/* Reads cur/NAME into buf (NUL-terminated). 0, RUNQ_TRANSIENT (EMFILE, EIO,
 * ...) or RUNQ_INVALID (a link, not a regular file, too big). */
int runq_read(struct runq *q, const char *name, char *buf, size_t size, size_t *len,
	      const char **why);

/* The run finished or was given up: removes cur/NAME. 0 or -1 (errno). */
int runq_done(struct runq *q, const char *name);
/* cur/NAME back to new/ for a later run; a newer new/NAME stands for both
 * and is never replaced. 0 or -1 (errno). */
int runq_release(struct runq *q, const char *name);
/* NAME from new/ or cur/ into bad/ (under a unique name if bad/NAME exists);
 * if that fails it is removed: a refused trigger never runs. 0, or -1 with
 * errno when it could be neither moved nor removed. */
int runq_bad(struct runq *q, enum queue_part from, const char *name);
/* new/FROM -> new/TO, unless new/TO exists: then new/FROM is removed (one
 * trigger stands for both). 0 or -1 (errno). */
int runq_rename(struct runq *q, const char *from, const char *to);

/* The wall-clock second of the node's last start (0: none): the mtime of
 * last/NAME if that is a regular file, or what runq_stamp() kept in memory
 * when it could not write it, whichever is later. */
long long runq_last(struct runq *q, const char *name);
/* The node starts now (now_s): sets last/NAME's mtime, never blocking,
 * never following a link, writing only a regular file. When that fails (or
 * failed before) the stamp is kept in memory too, so that the interval
 * still holds while the runner runs. 0, or -1 with errno when last/NAME
 * could not be written. */
int runq_stamp(struct runq *q, const char *name, long long now_s);

/* Opens locks/NAME and takes its lock (flock, exclusive): returns the fd
 * (close-on-exec), or -1 with errno EWOULDBLOCK when another process holds
 * it (a command still running), else another errno. */
int runq_lock(struct runq *q, const char *name);

/* Removes files in tmp/ last modified more than max_age_s before now_s.
 * Returns how many. */
int runq_clean_tmp(struct runq *q, long long now_s, long max_age_s);

/* Reads and discards wake-up bytes. */
void runq_drain(struct runq *q);

#endif
