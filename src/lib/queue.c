/* SPDX-License-Identifier: ISC */
/* queue.c: the names and modes of QUEUEDIR's parts, one table that etrnd
 * and etrnd-runner both open the queue through; see queue.h. */
#include "queue.h"

const struct queue_dir queue_dirs[Q_PARTS] = {
    [Q_TMP] = {"tmp", 0, 0}, [Q_NEW] = {"new", 0, 0},   [Q_CUR] = {"cur", 0, 1},
    [Q_BAD] = {"bad", 1, 1}, [Q_LAST] = {"last", 1, 1}, [Q_LOCKS] = {"locks", 1, 1},
};
