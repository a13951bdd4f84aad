/* SPDX-License-Identifier: ISC */
/* heldfile.h: one held message file of a node's maildir, as etrnd-deliver
 * sees it: read and checked like any untrusted input, then changed to
 * record what a delivery did to its recipients.
 *
 * A change is written to tmp/ first (heldfile_plan) and put in place with
 * renames and unlinks only (heldfile_apply), which need no disk space.
 * etrnd-deliver writes the plan for "the accepted recipients delivered"
 * before the message goes out: when the plan cannot be written the message
 * is not sent, so a recipient the destination took can always be taken
 * off the file, and is never delivered twice because the file could not
 * be rewritten. */
#ifndef ETRND_HELDFILE_H
#define ETRND_HELDFILE_H

#include <stddef.h>

#include "heldmsg.h"
#include "maildir.h"

struct heldfile {
	enum maildir_sub sub;
	char name[256];
	const char *data; /* the whole file, mapped read-only */
	size_t len;
	struct held h;
	char plan_wait[256];   /* tmp/ file that replaces the message ("": none) */
	char plan_failed[256]; /* tmp/ file for failed/ ("": none) */
	char kept[256];        /* a failed/ file that had to stay in tmp/ */
};

/* Maps sub/name and parses its envelope. 0; -1 with errno when it cannot
 * be read; -2 when it is not a held message (*why says why; error lines
 * belong in failed/ only, so they make a file in new/ or cur/ bad too). */
int heldfile_load(struct maildir *m, enum maildir_sub sub, const char *name, struct heldfile *f,
		  const char **why);
/* Unmaps, and drops a plan that was not applied. */
void heldfile_free(struct maildir *m, struct heldfile *f);
/* The message part. */
const char *heldfile_body(const struct heldfile *f, size_t *len);

/* Whether the recipients' states change the file: a recipient sent,
 * accepted or failed (deferred ones stay as they are). */
int heldfile_changed(const struct heldfile *f);
/* Writes the plan for the current states, with RCPT_ACCEPTED and RCPT_SENT
 * recipients taken as delivered: the failed ones (with their replies) for
 * failed/, the waiting ones for the message file. 0, or -1 with errno and
 * nothing left in tmp/. */
int heldfile_plan(struct maildir *m, struct heldfile *f);
/* Puts the plan in place: its failed/ file first, then the message file is
 * replaced by the waiting one, or removed when nobody waits. When failed/
 * cannot take its file and nothing was sent, nothing changes (-1); when
 * something was sent the message file is changed anyway and the failed
 * recipients stay in tmp/ (*kept names the file; the caller logs it).
 * 0, or -1 with errno and *what naming the step that failed. */
int heldfile_apply(struct maildir *m, struct heldfile *f, const char **what, const char **kept);
void heldfile_drop_plan(struct maildir *m, struct heldfile *f);

#endif
