/* SPDX-License-Identifier: ISC */
/* odmr.c: see odmr.h. The replies (RFC 2645 section 7): 450 ATRN request
 * refused (no rule, deny=, no users= naming the login, no spool=), 451
 * Unable to process ATRN request now (a maildir busy with another
 * delivery, outside the spool root, one this process could send from but
 * not change, a cdb or spool that cannot be read), 453 You have no mail.
 * Each refusal is one "atrn" log line with its reason. */
#include "odmr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver.h"
#include "log.h"
#include "smtpc.h"
#include "spool.h"

int odmr_init(struct odmr *o, struct policy *p, const char *client_text, const char *spool_root,
	      const char *helo)
{
	memset(o, 0, sizeof *o);
	o->policy = p;
	o->client_text = client_text;
	o->spool_root = spool_root;
	o->helo = helo;
	if (spool_root && !realpath(spool_root, o->root_real)) {
		o->root_real[0] = '\0';
		return -1;
	}
	return 0;
}

void odmr_release(struct odmr *o)
{
	for (size_t i = 0; i < o->nmd; i++)
		maildir_close(&o->md[i]); /* closing the last fd drops the lock */
	o->nmd = 0;
	o->n = 0;
}

static void log_atrn(const struct odmr *o, const struct node *n, int code, const char *why,
		     const char *detail)
{
	struct logline l;

	ll_start(&l, "atrn");
	ll_str(&l, "client", o->client_text);
	ll_str(&l, "user", o->user);
	ll_str(&l, "node", n->name);
	ll_num(&l, "code", code);
	if (why)
		ll_str(&l, "reason", why);
	if (detail)
		ll_str(&l, "detail", detail);
	ll_emit(&l);
}

static int refuse(const struct odmr *o, const struct node *n, int code, const char *why,
		  const char *detail)
{
	log_atrn(o, n, code, why, detail);
	return code;
}

/* Whether path lies below root; both resolved (realpath), so that neither
 * ".." nor a symbolic link leads out unseen. */
static int beneath(const char *path, const char *root)
{
	size_t n = strlen(root);
	if (n == 1) /* "/" */
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, root, n) == 0 && path[n] == '/';
}

/* Whether this process may change every part of the maildir: one it could
 * send from but not remove from would send the same messages at every
 * ATRN (wrong user, a read-only file system). */
static int writable(const struct maildir *m)
{
	for (int i = 0; i < MD_SUBS; i++)
		if (faccessat(m->sub[i], ".", W_OK | X_OK, AT_EACCESS) < 0)
			return 0;
	return 1;
}

/* The maildir at spool, opened and locked once per ATRN even when several
 * nodes share it (one directory, however its path is spelt): its index;
 * -1 when there is no maildir (nothing was ever held: nothing to send);
 * -2 when it may not or cannot be taken (*why, and *detail or NULL). A
 * missing subdirectory is made, as etrnd-deliver makes it. */
static int take_maildir(struct odmr *o, const char *spool, const char **why, char *detail,
			size_t dsize)
{
	char real[PATH_MAX];
	const char *what;
	struct stat st;

	if (!realpath(spool, real)) {
		if (errno == ENOENT)
			return -1;
		snprintf(detail, dsize, "%s", strerror(errno));
		*why = "spool-unreadable";
		return -2;
	}
	if (o->spool_root && !o->root_real[0]) {
		*why = "spool-root-missing";
		return -2;
	}
	if (o->spool_root && !beneath(real, o->root_real)) {
		*why = "spool-outside-root";
		return -2;
	}
	struct maildir *m = &o->md[o->nmd];
	if (maildir_open(m, real, MD_MAKE_SUBS, &what) < 0) {
		if (errno == ENOENT && what == real)
			return -1; /* gone since realpath() */
		snprintf(detail, dsize, "%s: %s", what == real ? "." : what, strerror(errno));
		*why = "maildir-unreadable";
		return -2;
	}
	if (fstat(m->dir, &st) < 0) {
		snprintf(detail, dsize, "%s", strerror(errno));
		maildir_close(m);
		*why = "maildir-unreadable";
		return -2;
	}
	for (size_t i = 0; i < o->nmd; i++)
		if (o->dev[i] == st.st_dev && o->ino[i] == st.st_ino) {
			maildir_close(m);
			return (int)i;
		}
	if (!writable(m)) {
		snprintf(detail, dsize, "%s", strerror(errno));
		maildir_close(m);
		*why = "maildir-not-writable";
		return -2;
	}
	if (maildir_lock(m) < 0) {
		int busy = errno == EWOULDBLOCK;
		snprintf(detail, dsize, "%s", strerror(errno));
		maildir_close(m);
		*why = busy ? "busy" : "lock-failed";
		return -2;
	}
	o->dev[o->nmd] = st.st_dev;
	o->ino[o->nmd] = st.st_ino;
	snprintf(o->real[o->nmd], sizeof o->real[0], "%s", real);
	return (int)o->nmd++;
}

/* One node: 0 accepted (with or without mail), else the refusal's code. */
static int node_ok(struct odmr *o, const struct node *n, long *held)
{
	char key[NODE_BUF], detail[200];
	const char *why = NULL;
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
		return refuse(o, n, 451, "cdb-error", NULL);
	if (found == 0)
		return refuse(o, n, 450, "no-rule", NULL);
	enum verdict v = policy_authorize(&r, &who);
	if (v != V_DENIED && r.users.n == 0)
		return refuse(o, n, 450, "no-users", NULL);
	if (v != V_OK)
		return refuse(o, n, 450, verdict_log(v), NULL);
	if (!r.spool[0])
		return refuse(o, n, 450, "no-spool", NULL);
	detail[0] = '\0';
	int i = take_maildir(o, r.spool, &why, detail, sizeof detail);
	if (i == -2)
		return refuse(o, n, 451, why, detail[0] ? detail : NULL);
	long count = i < 0 ? 0 : spool_count(o->real[i], SPOOL_SCAN_CAP);
	if (count < 0)
		return refuse(o, n, 451, "spool-unreadable", strerror(errno));
	*held += count;
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
		log_atrn(o, &nodes[i], held ? 250 : 453, NULL, NULL);
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
	out_init(&c.out, c.outmem, sizeof c.outmem, netio_write, &c.io);
	c.reply_ms = SMTPC_GREETING_TIMEOUT * 1000L;
	c.deadline_ms = netio_now_ms() + DELIVER_DEADLINE * 1000LL;
	for (size_t i = 0; i < od->n; i++)
		if (od->md_of[i] >= 0) {
			mds[k] = &od->md[od->md_of[i]];
			nodes[k++] = &od->nodes[i];
		}
	struct deliver_cfg cfg = {od->helo, NULL, c.deadline_ms, NULL};
	int retry = deliver_over(mds, nodes, k, &c, &cfg, &st);
	log_odmr(od, &st, retry, NULL);
	odmr_release(od);
}
