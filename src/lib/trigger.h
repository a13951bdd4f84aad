/* trigger.h: the trigger queue (QUEUEDIR/tmp, new, cur, trigger FIFO).
 *
 * A trigger is a small file "new/NAME", NAME an injective encoding of the
 * node, so repeated ETRNs for one node coalesce into one pending trigger.
 * Content, one "key=value" per line:
 *   version=1  node=...  rule=...  client=...  time=...  pid=... */
#ifndef ETRND_TRIGGER_H
#define ETRND_TRIGGER_H

#include <stddef.h>

#include "node.h"

#define TRIGGER_VERSION 1
/* An encoded name: every octet may become three. */
#define TRIGGER_NAME_MAX (3 * NODE_BUF)

struct trigger {
	const char *node;   /* normalised */
	const char *rule;   /* the rule key that matched */
	const char *client; /* address text, or "unknown" */
	long long time;
	long pid;
};

/* Encodes a normalised node as a file name: [a-z0-9.-] stay, every other
 * octet becomes %XX (upper-case hex). Returns the length, or 0 if it does
 * not fit. */
size_t trigger_name(const char *node, char *out, size_t size);
/* Decodes a name back into a node; -1 unless it is the encoding etrnd
 * writes of a valid, normalised node. */
int trigger_unname(const char *name, char *out, size_t size);

/* Writes tmp/UNIQUE, fsyncs it, renames it to new/NAME and fsyncs new/.
 * uniq names the temp file (time.PpidQseq.host). On failure removes the
 * temp file and returns -1 with errno set. Returns -2 when the trigger is
 * in place but the fsync of new/ failed (logged; the trigger stands). */
int trigger_write(const char *queuedir, const char *uniq, const struct trigger *t);
/* What the runner reads back from a trigger file, every field checked. */
struct trigger_data {
	char node[NODE_BUF];
	char rule[NODE_BUF];
	char client[64]; /* canonical address text, or "unknown" */
	long long time;
	long pid;
};

/* Largest trigger file the runner accepts. */
#define TRIGGER_FILE_MAX 2048

/* Parses a trigger file's content: exactly the six lines etrnd writes, each
 * once, each valid. Returns 0, or -1 with a reason in *why. */
int trigger_parse(const char *buf, size_t len, struct trigger_data *t, const char **why);

/* One byte to QUEUEDIR/trigger if it is a FIFO with a reader; never blocks. */
void trigger_poke(const char *queuedir);

#endif
