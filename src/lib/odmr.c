/* SPDX-License-Identifier: ISC */
/* odmr.c: see odmr.h. The replies (RFC 2645 section 7): 450 ATRN request
 * refused (no rule, not the client's, no spool= maildir), 451 Unable to
 * process ATRN request now (a maildir busy with another delivery, a cdb or
 * spool that cannot be read), 453 You have no mail. */
#include "odmr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "log.h"
#include "smtpc.h"
#include "spool.h"

void odmr_init(struct odmr *o, struct policy *p, const char *client_text, const char *spool_root,
	       const char *helo)
{
	memset(o, 0, sizeof *o);
	o->policy = p;
	o->client_text = client_text;
	o->spool_root = spool_root;
	o->helo = helo;
}

void odmr_release(struct odmr *o)
{
	for (size_t i = 0; i < o->nmd; i++)
		maildir_close(&o->md[i]); /* closing the last fd drops the lock */
	o->nmd = 0;
	o->n = 0;
}

static void log_atrn(const struct odmr *o, const struct node *n, int code, const char *why)
{
	struct logline l;

	ll_start(&l, "atrn");
	ll_str(&l, "client", o->client_text);
	ll_str(&l, "user", o->user);
	ll_str(&l, "node", n->name);
	ll_num(&l, "code", code);
	if (why)
		ll_str(&l, "reason", why);
	ll_emit(&l);
}

static int refuse(const struct odmr *o, const struct node *n, int code, const char *why)
{
	log_atrn(o, n, code, why);
	return code;
}

/* Whether path lies below root (both as given: spool= paths are absolute
 * and normalised by the administrator). */
static int beneath(const char *path, const char *root)
{
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	return strncmp(path, root, n) == 0 && path[n] == '/';
}

/* The maildir for spool, opened and locked once per ATRN even when several
 * nodes share it. Its index, -1 (no maildir yet: nothing held), or -2 busy
 * or unreadable. */
static int take_maildir(struct odmr *o, const char *spool)
{
	const char *what;

	for (size_t i = 0; i < o->nmd; i++)
		if (strcmp(o->spool[i], spool) == 0)
			return (int)i;
	struct maildir *m = &o->md[o->nmd];
	if (maildir_open(m, spool, 0, &what) < 0)
		return errno == ENOENT ? -1 : -2;
	if (maildir_lock(m) < 0) {
		maildir_close(m);
		return -2;
	}
	snprintf(o->spool[o->nmd], sizeof o->spool[0], "%s", spool);
	return (int)o->nmd++;
}

/* One node: 0 accepted (with or without mail), else the refusal's code. */
static int node_ok(struct odmr *o, const struct node *n, long *held)
{
	char key[NODE_BUF];
	struct rule r;
	const struct addr none = {0};
	/* ATRN hands the node's mail to whoever asked, wherever it is: only
	 * a login that users= names may take it. An address in allow= or a
	 * rule open to anyone lets a client start a delivery to the node's
	 * own servers (ETRN), never take the mail; so the address is not
	 * asked, and a rule without users= is refused. */
	struct asker who = {&none, o->user};

	int found = policy_lookup(o->policy, n, key, &r);
	if (found < 0)
		return refuse(o, n, 451, "cdb-error");
	if (found == 0)
		return refuse(o, n, 450, "no-rule");
	enum verdict v = policy_authorize(&r, &who);
	if (v != V_DENIED && r.users.n == 0)
		return refuse(o, n, 450, "no-users");
	if (v != V_OK)
		return refuse(o, n, 450, verdict_log(v));
	if (!r.spool[0])
		return refuse(o, n, 450, "no-spool");
	if (o->spool_root && !beneath(r.spool, o->spool_root))
		return refuse(o, n, 451, "spool-outside-root");
	int i = take_maildir(o, r.spool);
	if (i == -2)
		return refuse(o, n, 451, "busy-or-unreadable");
	long count = i < 0 ? 0 : spool_count(r.spool, SPOOL_SCAN_CAP);
	*held += count > 0 ? count : 0;
	o->nodes[o->n] = *n;
	o->md_of[o->n++] = i;
	return 0;
}

int odmr_atrn(void *ctx, const struct node *nodes, size_t n, const char *user)
{
	struct odmr *o = ctx;
	long held = 0;

	odmr_release(o);
	snprintf(o->user, sizeof o->user, "%s", user);
	for (size_t i = 0; i < n; i++) {
		int code = node_ok(o, &nodes[i], &held);
		if (code) {
			odmr_release(o);
			return code;
		}
	}
	for (size_t i = 0; i < n; i++)
		log_atrn(o, &nodes[i], held ? 250 : 453, NULL);
	if (held == 0) {
		odmr_release(o);
		return 453;
	}
	return 250;
}

static void log_odmr(const struct odmr *od, const struct deliver_stats *st, int retry,
		     const char *why)
{
	struct logline l;

	ll_start(&l, "odmr");
	ll_str(&l, "client", od->client_text);
	ll_str(&l, "user", od->user);
	ll_num(&l, "messages", (long)st->messages);
	ll_num(&l, "sent", (long)st->sent);
	ll_num(&l, "deferred", (long)st->deferred);
	ll_num(&l, "failed", (long)st->failed);
	ll_str(&l, "result", retry ? "incomplete" : "done");
	if (why)
		ll_str(&l, "reason", why);
	ll_emit(&l);
}

/* The client's SMTP server is at the other end now: our connection, with
 * its TLS, its buffered input and our output buffer, becomes an SMTP
 * client's (smtpc) for deliver_over(). */
void odmr_reverse(void *ctx, struct netio *n, struct outbuf *o)
{
	struct odmr *od = ctx;
	static struct smtpc c;
	struct maildir *mds[ATRN_NODES_MAX];
	const struct node *nodes[ATRN_NODES_MAX];
	struct deliver_stats st = {0};
	size_t k = 0;

	(void)o; /* flushed by the caller; the client side has its own */
	if (n->lines.end > n->lines.start) {
		/* Read before our 250 went out, so not the greeting of the
		 * client's server: ATRN must end a pipelined group, as TURN
		 * does (RFC 2920 3.1). Nothing is sent; the mail stays. */
		log_odmr(od, &st, 1, "pipelined-after-atrn");
		odmr_release(od);
		return;
	}
	memset(&c, 0, sizeof c);
	c.io = *n;
	out_init(&c.out, netio_write, &c.io);
	c.reply_ms = SMTPC_GREETING_TIMEOUT * 1000L;
	c.deadline_ms = netio_now_ms() + DELIVER_DEADLINE * 1000LL;
	for (size_t i = 0; i < od->n; i++)
		if (od->md_of[i] >= 0) {
			mds[k] = &od->md[od->md_of[i]];
			nodes[k++] = &od->nodes[i];
		}
	struct deliver_cfg cfg = {od->helo, NULL, c.deadline_ms};
	int retry = deliver_over(mds, nodes, k, &c, &cfg, &st);
	log_odmr(od, &st, retry, NULL);
	odmr_release(od);
}
