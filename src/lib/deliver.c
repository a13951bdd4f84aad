/* SPDX-License-Identifier: ISC */
/* deliver.c: see deliver.h. The run reads every envelope once, makes one
 * work item per message and recipient domain (one per message for a fixed
 * destination), sorts them by domain and delivers each domain's items over
 * one connection: the domain's MX hosts in order, or the one host given. */
#include "deliver.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "dial.h"
#include "heldfile.h"
#include "log.h"
#include "mx.h"
#include "netio.h"
#include "num.h"
#include "smtptx.h"

/* -- destinations ---------------------------------------------------- */

static int set_port(struct dest *d, const char *p)
{
	unsigned long long v;
	if (num_parse(p, strlen(p), 1, 65535, &v) < 0)
		return -1;
	snprintf(d->port, sizeof d->port, "%llu", v);
	return 0;
}

/* An address literal's text ("192.0.2.7", "2001:db8::7", "IPv6:...") in
 * s[0..len), printed canonically into out[NODE_BUF]. */
static int literal(char *out, const char *s, size_t len)
{
	struct addr a;

	if (len > 5 && strncasecmp(s, "ipv6:", 5) == 0)
		s += 5, len -= 5;
	if (addr_parse(&a, s, len) < 0)
		return -1;
	addr_format(&a, out, NODE_BUF);
	return 0;
}

int dest_parse(struct dest *d, const char *s)
{
	memset(d, 0, sizeof *d);
	memcpy(d->port, "25", 3);
	if (strcasecmp(s, "mx") == 0) {
		d->kind = DEST_MX;
		return 0;
	}
	d->kind = DEST_HOST;
	if (s[0] == '[') { /* [192.0.2.7]:25, [2001:db8::7]:25, [IPv6:2001:db8::7] */
		const char *rb = strchr(s, ']');
		if (!rb || (rb[1] && (rb[1] != ':' || set_port(d, rb + 2) < 0)))
			return -1;
		return literal(d->host, s + 1, (size_t)(rb - s - 1));
	}
	const char *colon = strchr(s, ':');
	if (colon && set_port(d, colon + 1) < 0)
		return -1;
	size_t hlen = colon ? (size_t)(colon - s) : strlen(s);
	if (node_host(d->host, s, hlen, 1) > 0)
		return 0;
	struct addr a; /* a bare IPv4 address: 192.0.2.7:25 */
	if (addr_parse(&a, s, hlen) < 0 || a.family != AF_INET)
		return -1;
	addr_format(&a, d->host, sizeof d->host);
	return 0;
}

/* -- the run --------------------------------------------------------- */

/* One piece of work: the recipients of one message in one domain (or all
 * of its covered recipients, when the destination is not per domain). */
struct item {
	size_t msg;
	char domain[NODE_BUF];
};

struct run {
	struct maildir *md;
	const struct deliver_cfg *cfg;
	const struct dest *d;
	struct deliver_stats *st;
	struct maildir_msg *msgs;
	size_t nmsgs;
	struct item *items;
	size_t nitems, cap;
	int retry; /* something waits for a later run */
};

static void log_bad(const struct maildir_msg *m, const char *event, const char *why)
{
	struct logline l;
	ll_start(&l, event);
	ll_str(&l, "msg", m->name);
	ll_str(&l, "reason", why);
	ll_emit(&l);
}

/* The lower-case domain of a covered recipient ("" for one destination). */
static void item_domain(const struct run *u, const char *addr, char *out)
{
	struct node n;
	const char *d = mailaddr_domain(addr);

	out[0] = '\0';
	if (u->d->kind != DEST_MX)
		return;
	if (node_parse(&n, d, strlen(d), 0) == 0)
		memcpy(out, n.name, n.len + 1);
	else
		node_host(out, d, strlen(d), 1);
}

static int add_item(struct run *u, size_t msg, const char *domain)
{
	for (size_t i = u->nitems; i-- > 0 && u->items[i].msg == msg;)
		if (strcmp(u->items[i].domain, domain) == 0)
			return 0;
	if (u->nitems == u->cap) {
		size_t c = u->cap ? u->cap * 2 : 64;
		struct item *v = realloc(u->items, c * sizeof *v);
		if (!v)
			return -1;
		u->items = v, u->cap = c;
	}
	u->items[u->nitems].msg = msg;
	memcpy(u->items[u->nitems++].domain, domain, strlen(domain) + 1);
	return 0;
}

/* Reads every envelope once: which messages have recipients for the node,
 * and in which domains. A file that is not a held message goes to failed/. */
static void collect(struct run *u)
{
	struct heldfile f;
	const char *why;
	char dom[NODE_BUF];

	for (size_t i = 0; i < u->nmsgs; i++) {
		const struct maildir_msg *m = &u->msgs[i];
		int rc = heldfile_load(u->md, m->sub, m->name, &f, &why);
		if (rc == -2) {
			log_bad(m, "failed", why);
			if (maildir_move_failed(u->md, m->sub, m->name) < 0)
				u->retry = 1;
			continue;
		}
		if (rc < 0) { /* gone meanwhile (ENOENT) is fine */
			if (errno != ENOENT)
				log_bad(m, "unreadable", strerror(errno)), u->retry = 1;
			continue;
		}
		int any = 0;
		for (size_t r = 0; r < f.h.n; r++) {
			if (!held_covers(u->cfg->node, f.h.rcpt[r].addr))
				continue;
			item_domain(u, f.h.rcpt[r].addr, dom);
			any = 1;
			if (add_item(u, i, dom) < 0)
				u->retry = 1;
		}
		u->st->messages += any;
		heldfile_free(u->md, &f);
	}
}

static int by_domain(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);
	return c ? c : (x->msg > y->msg) - (x->msg < y->msg);
}

/* Why a destination could not be reached; perm: for good (5xx-like). */
struct unreachable {
	int perm;
	char why[HELD_ERROR_MAX];
};

static int try_host(struct run *u, struct smtptx *k, const char *host, struct unreachable *x)
{
	char addr[64] = "";
	int gai = 0;

	int fd = dial(host, u->d->port, u->cfg->deadline_ms, addr, &gai);
	if (fd < 0) {
		snprintf(x->why, sizeof x->why, "%.120s: %.60s", host,
			 gai ? gai_strerror(gai) : strerror(errno));
		return -1;
	}
	smtptx_init_fd(k, fd, u->cfg->deadline_ms);
	snprintf(k->peer, sizeof k->peer, "%s[%s]:%s", host, addr, u->d->port);
	snprintf(k->host, sizeof k->host, "%s", host);
	k->tlscfg = u->cfg->tls;
	if (smtptx_greet(k, u->cfg->helo) == 0)
		return 0;
	snprintf(x->why, sizeof x->why, "%.120s: %.70s", k->peer,
		 k->why ? k->why : "no SMTP greeting or EHLO accepted");
	smtptx_quit(k);
	return -1;
}

/* The hosts for a domain: its MX hosts; an address literal's address. */
static int hosts_of(const char *domain, struct mx *hosts, int *n, struct unreachable *x)
{
	if (domain[0] == '[') {
		*n = 1;
		return literal(hosts[0].host, domain + 1, strlen(domain) - 2);
	}
	enum mx_result rc = mx_lookup(domain, hosts, n);
	if (rc == MX_OK)
		return 0;
	x->perm = rc == MX_NONE;
	snprintf(x->why, sizeof x->why, "%.150s %s", domain,
		 x->perm ? "has no mail host" : "could not be looked up in the DNS");
	return -1;
}

/* Connects to the destination of a domain ("" for a fixed host); k is not
 * alive when nothing answered (x says why). */
static void open_conn(struct run *u, const char *domain, struct smtptx *k, struct unreachable *x)
{
	struct mx hosts[DELIVER_MX_MAX];
	int n = 1;

	smtptx_init_fd(k, -1, u->cfg->deadline_ms);
	memset(x, 0, sizeof *x);
	if (u->d->kind == DEST_HOST)
		memcpy(hosts[0].host, u->d->host, sizeof hosts[0].host);
	else if (hosts_of(domain, hosts, &n, x) < 0)
		return;
	for (int i = 0; i < n && netio_now_ms() < u->cfg->deadline_ms; i++)
		if (try_host(u, k, hosts[i].host, x) == 0)
			return;
	if (netio_now_ms() >= u->cfg->deadline_ms)
		snprintf(x->why, sizeof x->why, "%.150s: the run's deadline (-T) passed",
			 domain[0] ? domain : u->d->host);
}

static void log_item(const struct run *u, const struct smtptx *k, const struct heldfile *f,
		     const unsigned long count[], const char *local)
{
	struct logline l;
	const char *last = NULL;

	for (size_t i = 0; i < f->h.n && !last; i++)
		if (f->h.rcpt[i].state != RCPT_OTHER && f->h.rcpt[i].error[0])
			last = f->h.rcpt[i].error;
	ll_start(&l, "deliver");
	ll_str(&l, "msg", f->name);
	ll_str(&l, "node", u->cfg->node ? u->cfg->node->name : "-");
	ll_str(&l, "dest", k->peer[0] ? k->peer : "-");
	ll_str(&l, "from", f->h.from[0] ? f->h.from : "<>");
	ll_num(&l, "sent", (long)count[RCPT_SENT]);
	ll_num(&l, "deferred", (long)count[RCPT_DEFERRED]);
	ll_num(&l, "failed", (long)count[RCPT_FAILED]);
	if (last)
		ll_str(&l, "reply", last);
	if (local)
		ll_str(&l, "error", local);
	ll_emit(&l);
}

static int in_item(const struct run *u, const struct item *it, const char *addr)
{
	char dom[NODE_BUF];

	if (!held_covers(u->cfg->node, addr))
		return 0;
	item_domain(u, addr, dom);
	return strcmp(dom, it->domain) == 0;
}

/* Nothing answered: the item's recipients wait, or fail for good. */
static void unreachable(struct held *h, const struct unreachable *x)
{
	for (size_t i = 0; i < h->n; i++) {
		struct rcpt *r = &h->rcpt[i];
		if (r->state != RCPT_PENDING)
			continue;
		r->state = x->perm ? RCPT_FAILED : RCPT_DEFERRED;
		snprintf(r->error, sizeof r->error, "%d %.190s", x->perm ? 550 : 451,
			 x->why[0] ? x->why : "not delivered");
	}
}

struct ready_arg {
	struct maildir *md;
	struct heldfile *f;
};

/* smtptx's hook: the plan for "accepted = delivered", before the message
 * goes out. */
static int ready(void *arg)
{
	struct ready_arg *a = arg;
	return heldfile_plan(a->md, a->f);
}

/* Records the outcome in the maildir. Returns what went wrong, or NULL. */
static const char *record(struct run *u, struct heldfile *f, int sent, char *buf, size_t size)
{
	const char *what, *kept;

	if (!sent) {
		heldfile_drop_plan(u->md, f);
		if (!heldfile_changed(f))
			return NULL;
		if (heldfile_plan(u->md, f) < 0) {
			snprintf(buf, size, "unable to write tmp/: %s", strerror(errno));
			return buf;
		}
	}
	if (heldfile_apply(u->md, f, &what, &kept) == 0)
		return NULL;
	if (kept)
		snprintf(buf, size, "delivered; the failed recipients stay in tmp/%s: %s", kept,
			 strerror(errno));
	else if (sent)
		snprintf(buf, size, "DELIVERED BUT NOT RECORDED in %s/ (will be sent again): %s",
			 what, strerror(errno));
	else
		snprintf(buf, size, "unable to update %s/: %s", what, strerror(errno));
	return buf;
}

static void one_item(struct run *u, struct smtptx *k, const struct item *it,
		     const struct unreachable *x)
{
	const struct maildir_msg *m = &u->msgs[it->msg];
	struct heldfile f;
	struct ready_arg arg = {u->md, &f};
	unsigned long count[RCPT_FAILED + 1] = {0};
	const char *why;
	char local[300];

	if (heldfile_load(u->md, m->sub, m->name, &f, &why) < 0) {
		u->retry = 1; /* it was readable a moment ago */
		return;
	}
	for (size_t i = 0; i < f.h.n; i++)
		f.h.rcpt[i].state = in_item(u, it, f.h.rcpt[i].addr) ? RCPT_PENDING : RCPT_OTHER;
	size_t blen;
	const char *body = heldfile_body(&f, &blen);
	if (k->alive)
		smtptx_send(k, &f.h, body, blen, ready, &arg);
	else
		unreachable(&f.h, x);
	for (size_t i = 0; i < f.h.n; i++)
		count[f.h.rcpt[i].state]++;
	u->st->sent += count[RCPT_SENT];
	u->st->deferred += count[RCPT_DEFERRED];
	u->st->failed += count[RCPT_FAILED];
	u->retry |= count[RCPT_DEFERRED] > 0;
	const char *err = record(u, &f, count[RCPT_SENT] > 0, local, sizeof local);
	if (err) {
		u->st->errors++;
		u->retry = 1;
	}
	log_item(u, k, &f, count, err);
	heldfile_free(u->md, &f);
}

/* The items [i, j) of one domain over one connection. */
static void run_domain(struct run *u, struct smtptx *k, size_t i, size_t j,
		       const struct unreachable *x)
{
	for (; i < j; i++) {
		if (netio_now_ms() >= u->cfg->deadline_ms) {
			u->retry = 1; /* the rest stays untouched */
			return;
		}
		one_item(u, k, &u->items[i], x);
	}
}

static void run_items(struct run *u, struct smtptx *given)
{
	struct smtptx own;
	struct unreachable x = {0};

	for (size_t i = 0, j; i < u->nitems; i = j) {
		for (j = i + 1; j < u->nitems; j++)
			if (strcmp(u->items[j].domain, u->items[i].domain) != 0)
				break;
		if (netio_now_ms() >= u->cfg->deadline_ms) {
			u->retry = 1;
			return;
		}
		if (given) {
			run_domain(u, given, i, j, &x);
			continue;
		}
		open_conn(u, u->items[i].domain, &own, &x);
		run_domain(u, &own, i, j, &x);
		smtptx_quit(&own);
	}
}

static int run(struct run *u, struct smtptx *given)
{
	u->msgs = maildir_list(u->md, &u->nmsgs);
	if (!u->msgs)
		return 1;
	collect(u);
	if (u->nitems > 1)
		qsort(u->items, u->nitems, sizeof *u->items, by_domain);
	run_items(u, given);
	free(u->items);
	free(u->msgs);
	return u->retry;
}

int deliver_maildir(struct maildir *m, const struct dest *d, const struct deliver_cfg *cfg,
		    struct deliver_stats *st)
{
	struct run u = {.md = m, .cfg = cfg, .d = d, .st = st};
	return run(&u, NULL);
}

int deliver_connection(struct maildir *m, struct smtpc *c, const struct deliver_cfg *cfg,
		       struct deliver_stats *st)
{
	struct maildir *mds[1] = {m};
	const struct node *nodes[1] = {cfg->node};
	return deliver_over(mds, nodes, 1, c, cfg, st);
}

int deliver_over(struct maildir *const *mds, const struct node *const *nodes, size_t n,
		 struct smtpc *c, const struct deliver_cfg *cfg, struct deliver_stats *st)
{
	static const struct dest conn = {.kind = DEST_CONN};
	struct smtptx k;
	int rc = 0;

	smtptx_init_conn(&k, c, cfg->deadline_ms);
	snprintf(k.peer, sizeof k.peer, "client");
	if (smtptx_greet(&k, cfg->helo) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct deliver_cfg one = *cfg;
		one.node = nodes[i];
		struct run u = {.md = mds[i], .cfg = &one, .d = &conn, .st = st};
		rc |= k.alive ? run(&u, &k) : 1;
	}
	smtptx_quit(&k);
	return rc;
}
