/* SPDX-License-Identifier: ISC */
/* store.h: etrnd-store's work: one message from an MTA, with its envelope,
 * into a node's maildir, durably, or nothing at all. */
#ifndef ETRND_STORE_H
#define ETRND_STORE_H

#include <stddef.h>

struct store_req {
	const char *dir;    /* the node's maildir (created when missing) */
	const char *sender; /* "", "<>", "<a@b>" or "a@b" */
	char *const *rcpts; /* as the MTA gives them, <> optional */
	int nrcpts;
	long max;       /* -s: largest message, octets */
	int strip_mda;  /* -m: drop a leading Return-Path:/Delivered-To: */
	int in;         /* the message */
	char name[256]; /* out: the file written in new/ */
};

/* Returns a sysexits(3) status: EX_OK, EX_USAGE (bad address or count),
 * EX_DATAERR (over max), EX_TEMPFAIL (anything else: nothing is left in
 * tmp/ or new/). The reason of a failure goes to *why. */
int store_message(struct store_req *r, char *why, size_t whysize);

#endif
