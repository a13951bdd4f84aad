/* SPDX-License-Identifier: ISC */
/* trigger.h: a trigger file, written by etrnd and read by the runner.
 *
 * A trigger is "new/NAME", NAME an injective, file-name-safe encoding of
 * the node, so repeated ETRNs for one node coalesce into one pending
 * trigger. Its content is "key=value" lines, driven by one field table
 * (trigger.c); the first line is version=N, and the runner reads every
 * version up to TRIGGER_VERSION, so triggers pending across an upgrade
 * are not lost:
 *   version 1: version node rule client time pid
 *   version 2: version node rule client user time pid */
#ifndef ETRND_TRIGGER_H
#define ETRND_TRIGGER_H

#include <stddef.h>

#include "login.h"
#include "node.h"

#define TRIGGER_VERSION 2
/* An encoded name: at most NAME_MAX for every valid node. */
#define TRIGGER_NAME_MAX 256
/* Largest trigger file the runner accepts. */
#define TRIGGER_FILE_MAX 2048
#define TRIGGER_CLIENT_MAX 64

struct trigger {
	int version;
	char node[NODE_BUF];             /* normalised */
	char rule[NODE_BUF];             /* the rule key that matched */
	char client[TRIGGER_CLIENT_MAX]; /* canonical address, or "unknown" */
	char user[LOGIN_BUF];            /* the login, or "-" */
	long long time;                  /* when etrnd wrote it */
	long pid;                        /* etrnd's pid */
	int lost; /* an empty file (a crash took its content): only the node is known */
};

/* Encodes a normalised node as a file name: [a-z0-9.-] and a leading '@'
 * stay, every other octet becomes %XX (upper-case hex). Returns the length,
 * or 0 if it does not fit. */
size_t trigger_name(const char *node, char *out, size_t size);
/* Decodes a name back into a node; -1 unless it is the encoding etrnd
 * writes of a valid, normalised node. Returns 1 for the encoding of etrnd
 * before 0.2 ("%40domain"), which the runner renames, else 0. */
int trigger_unname(const char *name, char *out, size_t size);

/* The file content for t (version TRIGGER_VERSION). Returns the length, or
 * 0 if it does not fit. */
size_t trigger_format(const struct trigger *t, char *buf, size_t size);
/* A temp file name for tmp/, unique per host and process:
 * SECONDS.NANOSECONDSPpidQseq.host (nanoseconds 9 digits). Returns the
 * length, or 0 if it does not fit. */
size_t trigger_tempname(char *buf, size_t size, long long sec, long nsec, long pid, unsigned seq,
			const char *host);
/* Parses a trigger file's content: every field of its version exactly
 * once, each valid. An empty file is a lost trigger (t->lost, node ""), for
 * the caller to fill from the name. Returns 0, or -1 with a reason in
 * *why. */
int trigger_parse(const char *buf, size_t len, struct trigger *t, const char **why);

#define TRIGGER_SYNC 1u    /* fsync the content too: it must survive a crash */
#define TRIGGER_REPLACE 2u /* replace a pending trigger instead of joining it */

/* QUEUEDIR and its tmp/ and new/ as a writer holds them for a session:
 * tmp/ and new/ are opened beneath the queue fd with O_NOFOLLOW (a symlink
 * in their place is refused; QUEUEDIR itself may be one) when first
 * needed, and kept, so that each ETRN opens nothing but its file. -1: not
 * open (yet). */
struct trigger_dirs {
	int queue; /* QUEUEDIR (O_PATH will do) */
	int tmp, new;
};

void trigger_dirs_init(struct trigger_dirs *d, int queuefd);
/* tmp/ or new/ (Q_TMP or Q_NEW), opened now if it is not yet: fd, or -1
 * with errno (tried again at the next call). */
int trigger_dir(struct trigger_dirs *d, int part);
/* Closes what is open, the queue fd included. */
void trigger_dirs_close(struct trigger_dirs *d);

/* Writes tmp/UNIQ, renames it to new/NAME and fsyncs new/. Without
 * TRIGGER_REPLACE a pending new/NAME is left as it is (nothing written).
 * uniq names the temp file. Returns 0 written, 1 already pending, -2 in
 * place but the fsync of new/ failed, -1 failed (errno set, nothing left
 * behind). */
int trigger_write(struct trigger_dirs *d, const char *uniq, const struct trigger *t,
		  unsigned flags);

/* One byte to QUEUEDIR/trigger if it is a FIFO with a reader; never blocks. */
void trigger_poke(const struct trigger_dirs *d);

#endif
