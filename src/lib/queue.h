/* SPDX-License-Identifier: ISC */
/* queue.h: the layout of QUEUEDIR, the one place that names its parts.
 *
 *   tmp/      etrnd writes a trigger here first
 *   new/NAME  pending: one file per node (NAME: trigger_name())
 *   cur/NAME  claimed by the runner (running, or waiting to retry)
 *   bad/NAME  refused by the runner, never executed
 *   last/NAME mtime = when the node's last run started (interval=)
 *   locks/NAME  held (flock) by the runner's command while it runs
 *   trigger   a FIFO: any byte wakes the runner
 *
 * etrnd writes tmp/ and new/ only; the runner owns everything else. */
#ifndef ETRND_QUEUE_H
#define ETRND_QUEUE_H

enum queue_part { Q_TMP, Q_NEW, Q_CUR, Q_BAD, Q_LAST, Q_LOCKS, Q_PARTS };

struct queue_dir {
	const char *name;
	int runner_creates; /* made by the runner when missing */
	int runner_only;    /* must be writable by the runner's user alone */
};

extern const struct queue_dir queue_dirs[Q_PARTS];

#define QUEUE_FIFO "trigger"
/* The FIFO's mode, set explicitly (a umask would strip it): any local user
 * may wake the runner, which then only rescans. */
#define QUEUE_FIFO_MODE 0622

#endif
