/* SPDX-License-Identifier: ISC */
/* maildir.h: a node's spool of held mail, a maildir with one more
 * directory:
 *
 *   DIR/tmp/     etrnd-store writes here first
 *   DIR/new/     held messages (etrnd-store renames them in)
 *   DIR/cur/     held messages too (a maildir reader may move them here)
 *   DIR/failed/  messages the destination refused for good (5xx); never
 *                delivered again and never deleted by etrnd
 *
 * One deliverer at a time: etrnd-deliver and an ODMR session take an
 * exclusive flock() on DIR itself (maildir_lock), and a second one gives
 * up at once. Writers (etrnd-store) need no lock: a message appears in
 * new/ by rename, complete. */
#ifndef ETRND_MAILDIR_H
#define ETRND_MAILDIR_H

#include <stddef.h>
#include <sys/types.h>

enum maildir_sub { MD_TMP, MD_NEW, MD_CUR, MD_FAILED, MD_SUBS };
/* Its directory's name in a maildir ("new"). */
const char *maildir_sub_name(enum maildir_sub sub);

struct maildir {
	int dir;
	int sub[MD_SUBS];
	unsigned seq;
	char host[64]; /* for unique names */
};

struct maildir_msg {
	enum maildir_sub sub; /* MD_NEW or MD_CUR */
	char name[256];
};

/* Opens DIR. MD_MAKE_DIR makes DIR itself (the last component only) when
 * missing, MD_MAKE_SUBS its subdirectories (directories 0755: etrnd counts
 * new/ and cur/ as another user; tmp/ and failed/ 0700). 0, or -1 with
 * errno and the part that failed in *what (path itself, or "tmp", ...). */
enum { MD_MAKE_SUBS = 1, MD_MAKE_DIR = 2 };
int maildir_open(struct maildir *m, const char *path, int make, const char **what);
void maildir_close(struct maildir *m);
/* Exclusive, non-blocking: 0 locked, -1 (EWOULDBLOCK: another deliverer). */
int maildir_lock(struct maildir *m);
/* A unique file name: SECONDS.MmicrosPpidQseq.host (the maildir scheme). */
void maildir_unique(struct maildir *m, char *name, size_t size);
/* The held messages in new/ and cur/ (dot-files skipped), sorted by name
 * (oldest first); malloc'd, *n set. NULL on error. */
struct maildir_msg *maildir_list(struct maildir *m, size_t *n);
/* Creates tmp/NAME for writing (O_EXCL, mode 0600). */
int maildir_create_tmp(struct maildir *m, const char *name);
/* tmp/NAME into sub/to (never replacing), then fsync of sub/: 0, -1 when
 * the rename failed, -2 when only the fsync did (the file is in place). */
int maildir_commit(struct maildir *m, const char *name, enum maildir_sub sub, const char *to);
/* tmp/NAME over sub/to (replacing it), then fsync of sub/: as
 * maildir_commit. */
int maildir_replace(struct maildir *m, const char *name, enum maildir_sub sub, const char *to);
/* Removes sub/name, durably (fsync of sub/). */
int maildir_remove(struct maildir *m, enum maildir_sub sub, const char *name);
/* Moves sub/name as it is to failed/ (a file that is not a held message). */
int maildir_move_failed(struct maildir *m, enum maildir_sub sub, const char *name);
/* Removes tmp/NAME (after a failure). */
void maildir_discard(struct maildir *m, const char *name);

#endif
