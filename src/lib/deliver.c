/* SPDX-License-Identifier: ISC */
/* deliver.c: see deliver.h. One connection per destination (the MX hosts
 * of a recipient domain, or the one host given), EHLO with HELO as the
 * fallback, PIPELINING, SIZE and 8BITMIME when offered; RFC 5321 4.5.3.2
 * timeouts per command under a deadline for the whole run. */
#include "deliver.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "dial.h"
#include "fsutil.h"
#include "heldmsg.h"
#include "log.h"
#include "mx.h"
#include "netio.h"
#include "num.h"
#include "text.h"

#define DATA_BUF 65536

/* -- destinations ---------------------------------------------------- */

static int set_port(struct dest *d, const char *p)
{
	unsigned long long v;
	if (num_parse(p, strlen(p), 1, 65535, &v) < 0)
		return -1;
	snprintf(d->port, sizeof d->port, "%llu", v);
	return 0;
}

int dest_parse(struct dest *d, const char *s)
{
	struct addr a;

	memset(d, 0, sizeof *d);
	memcpy(d->port, "25", 3);
	if (strcmp(s, "mx") == 0) {
		d->kind = DEST_MX;
		return 0;
	}
	d->kind = DEST_HOST;
	const char *end = s + strlen(s), *colon;
	if (s[0] == '[') { /* [192.0.2.7]:25, [2001:db8::7]:25, [ipv6:...] */
		const char *rb = strchr(s, ']');
		if (!rb || (rb[1] && (rb[1] != ':' || set_port(d, rb + 2) < 0)))
			return -1;
		const char *in = s + 1;
		if ((size_t)(rb - in) > 5 && strncasecmp(in, "ipv6:", 5) == 0)
			in += 5;
		if (addr_parse(&a, in, (size_t)(rb - in)) < 0)
			return -1;
		addr_format(&a, d->host, sizeof d->host);
		return 0;
	}
	colon = strchr(s, ':');
	if (colon && set_port(d, colon + 1) < 0)
		return -1;
	size_t hlen = colon ? (size_t)(colon - s) : (size_t)(end - s);
	return node_host(d->host, s, hlen, 1) > 0 || addr_parse(&a, s, hlen) == 0 ? 0 : -1;
}

/* -- one SMTP connection --------------------------------------------- */

struct conn {
	struct smtpc *c;
	struct smtpc own; /* the connection we dialled (else c is the caller's) */
	int alive, pipelining, eightbit, size;
	char peer[NODE_BUF + 72];
	long long deadline_ms;
};

static int reply(struct conn *k, struct reply *r, long timeout_s)
{
	k->c->reply_ms = timeout_s * 1000;
	k->c->deadline_ms = k->deadline_ms;
	int code = smtpc_reply(k->c, r);
	if (code < 0)
		k->alive = 0;
	return code;
}

static void send_line(struct conn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void send_line(struct conn *k, const char *fmt, ...)
{
	char line[SMTP_LINE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || n > SMTP_TEXT_MAX) {
		k->alive = 0; /* cannot happen for valid addresses: MAIL_ADDR_MAX */
		return;
	}
	memcpy(line + n, "\r\n", 2);
	if (k->c->trace)
		k->c->trace(">>>", line, (size_t)n);
	out_put(&k->c->out, line, (size_t)n + 2);
}

static int flush(struct conn *k)
{
	k->c->io.idle_ms = SMTPC_BLOCK_TIMEOUT * 1000;
	k->c->io.deadline_ms = k->deadline_ms;
	if (out_flush(&k->c->out) < 0)
		k->alive = 0;
	return k->alive ? 0 : -1;
}

/* An EHLO keyword line, case-insensitively, alone or with parameters. */
static const char *keyword(const struct reply *r, const char *kw)
{
	size_t kl = strlen(kw);
	for (const char *l = strchr(r->text, '\n'); l; l = strchr(l + 1, '\n'))
		if (strncasecmp(l + 1, kw, kl) == 0 &&
		    (l[1 + kl] == '\0' || l[1 + kl] == '\n' || l[1 + kl] == ' '))
			return l + 1 + kl;
	return NULL;
}

static int ehlo(struct conn *k, const char *helo)
{
	struct reply r;

	send_line(k, "EHLO %s", helo);
	if (flush(k) < 0)
		return -1;
	int code = reply(k, &r, SMTPC_MAIL_TIMEOUT);
	if (code >= 500 && code != 554) {
		send_line(k, "HELO %s", helo);
		if (flush(k) < 0 || reply(k, &r, SMTPC_MAIL_TIMEOUT) != 250)
			return -1;
		return 0;
	}
	if (code != 250)
		return -1;
	k->pipelining = keyword(&r, "PIPELINING") != NULL;
	k->eightbit = keyword(&r, "8BITMIME") != NULL;
	k->size = keyword(&r, "SIZE") != NULL;
	return 0;
}

static int greet(struct conn *k, const char *helo)
{
	struct reply r;

	k->alive = 1;
	if (reply(k, &r, SMTPC_GREETING_TIMEOUT) != 220)
		return -1;
	return ehlo(k, helo);
}

static void quit(struct conn *k)
{
	struct reply r;

	if (k->alive) {
		send_line(k, "QUIT");
		if (flush(k) == 0)
			reply(k, &r, SMTPC_MAIL_TIMEOUT);
	}
	if (k->c == &k->own)
		close(k->own.io.infd);
	k->alive = 0;
}

/* -- one message ----------------------------------------------------- */

static void set_error(struct rcpt *r, const struct reply *rep, enum rcpt_state st)
{
	r->state = st;
	char text[HELD_ERROR_MAX - 4];
	text_sanitize(text, sizeof text, rep->text, strcspn(rep->text, "\n"));
	snprintf(r->error, sizeof r->error, "%d %s", rep->code, text);
}

/* Every recipient of the transaction that is not final yet gets st. */
static void settle(struct held *h, enum rcpt_state from, enum rcpt_state st, const struct reply *r)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->rcpt[i].state == from) {
			if (r && r->code)
				set_error(&h->rcpt[i], r, st);
			else
				h->rcpt[i].state = st;
		}
}

/* A reply to MAIL, DATA or the final dot applies to the whole transaction. */
static void whole(struct held *h, enum rcpt_state from, const struct reply *r, int code)
{
	settle(h, from, code >= 500 ? RCPT_FAILED : RCPT_DEFERRED, code > 0 ? r : NULL);
}

static int has_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}

static size_t wire_size(const char *p, size_t len)
{
	size_t n = len + 5; /* CRLF.CRLF */
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			n++;
	return n;
}

static int put_data(struct conn *k, const char *buf, size_t n)
{
	k->c->io.idle_ms = SMTPC_BLOCK_TIMEOUT * 1000;
	if (netio_write(&k->c->io, buf, n) < 0)
		k->alive = 0;
	return k->alive ? 0 : -1;
}

/* The message as DATA: CRLF line ends, dot-stuffed, then the final dot.
 * Lines that already end in CRLF are sent as they are. */
static int send_body(struct conn *k, const char *p, size_t len)
{
	static char buf[DATA_BUF + 8];
	size_t n = 0;
	int bol = 1;

	for (size_t i = 0; i < len; i++) {
		if (n > DATA_BUF && put_data(k, buf, n) < 0)
			return -1;
		if (n > DATA_BUF)
			n = 0;
		if (bol && p[i] == '.')
			buf[n++] = '.';
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			buf[n++] = '\r';
		buf[n++] = p[i];
		bol = p[i] == '\n';
	}
	if (!bol)
		memcpy(buf + n, "\r\n", 2), n += 2;
	memcpy(buf + n, ".\r\n", 3), n += 3;
	return put_data(k, buf, n);
}

static void rcpt_result(struct rcpt *rc, int code, const struct reply *r)
{
	if (code < 0)
		return; /* no answer: the connection is gone, the caller defers */
	if (code / 100 == 2)
		rc->state = RCPT_ACCEPTED;
	else
		set_error(rc, r, code >= 500 ? RCPT_FAILED : RCPT_DEFERRED);
}

static int accepted(const struct held *h)
{
	int n = 0;
	for (size_t i = 0; i < h->n; i++)
		n += h->rcpt[i].state == RCPT_ACCEPTED;
	return n;
}

static void rset(struct conn *k)
{
	struct reply r;
	send_line(k, "RSET");
	if (flush(k) == 0)
		reply(k, &r, SMTPC_MAIL_TIMEOUT);
}

/* One command at a time. The DATA reply goes to *data (code 0: not sent).
 * Returns -1 when MAIL was refused. */
static int tx_sequential(struct conn *k, struct held *h, const char *mail, struct reply *data)
{
	struct reply r;

	send_line(k, "%s", mail);
	int code = flush(k) < 0 ? -1 : reply(k, &r, SMTPC_MAIL_TIMEOUT);
	if (code / 100 != 2) {
		whole(h, RCPT_PENDING, &r, code);
		return -1;
	}
	for (size_t i = 0; i < h->n && k->alive; i++) {
		if (h->rcpt[i].state != RCPT_PENDING)
			continue;
		send_line(k, "RCPT TO:<%s>", h->rcpt[i].addr);
		code = flush(k) < 0 ? -1 : reply(k, &r, SMTPC_RCPT_TIMEOUT);
		rcpt_result(&h->rcpt[i], code, &r);
	}
	if (!k->alive)
		return 0;
	if (accepted(h) == 0) {
		rset(k);
		return 0;
	}
	send_line(k, "DATA");
	if (flush(k) == 0)
		reply(k, data, SMTPC_DATA_TIMEOUT);
	return 0;
}

/* RFC 2920: MAIL, every RCPT and DATA in one write, then the replies in
 * order. */
static int tx_pipelined(struct conn *k, struct held *h, const char *mail, struct reply *data)
{
	struct reply r, m;

	send_line(k, "%s", mail);
	for (size_t i = 0; i < h->n; i++)
		if (h->rcpt[i].state == RCPT_PENDING)
			send_line(k, "RCPT TO:<%s>", h->rcpt[i].addr);
	send_line(k, "DATA");
	if (flush(k) < 0)
		return 0;
	int mcode = reply(k, &m, SMTPC_MAIL_TIMEOUT);
	for (size_t i = 0; i < h->n && k->alive; i++)
		if (h->rcpt[i].state == RCPT_PENDING) {
			int code = reply(k, &r, SMTPC_RCPT_TIMEOUT);
			if (mcode / 100 == 2)
				rcpt_result(&h->rcpt[i], code, &r);
		}
	if (k->alive)
		reply(k, data, SMTPC_DATA_TIMEOUT);
	if (data->code == 354 && (mcode / 100 != 2 || accepted(h) == 0)) {
		data->code = 0; /* nobody to send it to: an empty message ends it */
		if (put_data(k, ".\r\n", 3) == 0)
			reply(k, &r, SMTPC_DOT_TIMEOUT);
	}
	if (mcode / 100 != 2) {
		whole(h, RCPT_PENDING, &m, k->alive ? mcode : -1);
		return -1;
	}
	return 0;
}

/* One SMTP transaction for the RCPT_PENDING recipients of h. */
static void transact(struct conn *k, struct held *h, const char *body, size_t blen)
{
	char mail[SMTP_LINE_MAX], size[32] = "";
	struct reply data = {0}, r;

	if (k->size)
		snprintf(size, sizeof size, " SIZE=%zu", wire_size(body, blen));
	snprintf(mail, sizeof mail, "MAIL FROM:<%s>%s%s", h->from, size,
		 k->eightbit && has_8bit(body, blen) ? " BODY=8BITMIME" : "");
	int rc = k->pipelining ? tx_pipelined(k, h, mail, &data) : tx_sequential(k, h, mail, &data);
	if (rc == 0 && k->alive && accepted(h) > 0) {
		if (data.code != 354) {
			whole(h, RCPT_ACCEPTED, &data, data.code);
			if (k->alive && data.code > 0)
				rset(k);
		} else if (send_body(k, body, blen) == 0) {
			int code = reply(k, &r, SMTPC_DOT_TIMEOUT);
			if (code / 100 == 2)
				settle(h, RCPT_ACCEPTED, RCPT_SENT, NULL);
			else
				whole(h, RCPT_ACCEPTED, &r, code);
		}
	} else if (rc < 0 && k->alive) {
		rset(k);
	}
	if (!k->alive) { /* lost: everything still open waits for a retry */
		settle(h, RCPT_ACCEPTED, RCPT_DEFERRED, NULL);
		settle(h, RCPT_PENDING, RCPT_DEFERRED, NULL);
	}
}

/* -- the message files ----------------------------------------------- */

struct msgfile {
	const struct maildir_msg *m;
	char *buf;
	size_t len;
	struct held h;
};

/* Reads up to max octets of sub/name (all of it when max is 0). 0, -1
 * (errno), or -2 when the envelope does not parse (*why). */
static int load(struct maildir *md, const struct maildir_msg *m, size_t max, struct msgfile *f,
		const char **why)
{
	struct stat st;

	memset(f, 0, sizeof *f);
	f->m = m;
	*why = strerror(EIO);
	int fd = openat(md->sub[m->sub], m->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = fd < 0 ? strerror(errno) : "not a regular file";
		if (fd >= 0)
			close(fd);
		return fd < 0 ? -1 : -2;
	}
	size_t want = max && (size_t)st.st_size > max ? max : (size_t)st.st_size;
	f->buf = malloc(want + 1);
	ssize_t n = f->buf ? pread(fd, f->buf, want, 0) : -1;
	int e = errno;
	close(fd);
	if (n < 0 || (size_t)n != want) {
		free(f->buf);
		f->buf = NULL;
		*why = strerror(n < 0 ? e : EIO);
		return -1;
	}
	f->len = want;
	if (held_parse(&f->h, f->buf, f->len, why) < 0) {
		free(f->buf);
		f->buf = NULL;
		return -2;
	}
	return 0;
}

static void unload(struct msgfile *f)
{
	held_free(&f->h);
	free(f->buf);
	f->buf = NULL;
}

/* Writes envelope + message body into a new tmp/ file; its name in tmp. */
static int write_tmp(struct maildir *md, const struct msgfile *f, enum held_part part, char *tmp,
		     size_t size)
{
	size_t elen;
	char *env = held_envelope(&f->h, part, &elen);
	int fd = -1, rc = -1;

	maildir_unique(md, tmp, size);
	if (env && (fd = maildir_create_tmp(md, tmp)) >= 0 && write_all(fd, env, elen) == 0 &&
	    write_all(fd, f->buf + f->h.body, f->len - f->h.body) == 0 && fsync(fd) == 0)
		rc = 0;
	free(env);
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (rc < 0 && fd >= 0)
		maildir_discard(md, tmp);
	return rc;
}

static int to_failed(struct maildir *md, const struct msgfile *f)
{
	char tmp[256];

	if (write_tmp(md, f, HELD_FAILED, tmp, sizeof tmp) < 0)
		return -1;
	int rc = maildir_commit(md, tmp, MD_FAILED, f->m->name);
	if (rc == -1 && errno == EEXIST) /* an earlier failure of the same file */
		rc = maildir_commit(md, tmp, MD_FAILED, tmp);
	if (rc == -1)
		maildir_discard(md, tmp);
	return rc == -1 ? -1 : 0;
}

/* After a transaction: failed recipients to failed/, then the file goes
 * (nobody left) or is rewritten with the recipients still waiting. */
static int finalize(struct maildir *md, struct msgfile *f)
{
	size_t left = 0, done = 0, failed = 0;
	char tmp[256];

	for (size_t i = 0; i < f->h.n; i++) {
		enum rcpt_state s = f->h.rcpt[i].state;
		left += s == RCPT_OTHER || s == RCPT_PENDING || s == RCPT_DEFERRED;
		done += s == RCPT_SENT || s == RCPT_FAILED;
		failed += s == RCPT_FAILED;
	}
	if (failed && to_failed(md, f) < 0)
		return -1;
	if (left == 0)
		return maildir_remove(md, f->m->sub, f->m->name);
	if (done == 0)
		return 0;
	if (write_tmp(md, f, HELD_WAITING, tmp, sizeof tmp) < 0)
		return -1;
	if (maildir_replace(md, tmp, f->m->sub, f->m->name) < 0) {
		maildir_discard(md, tmp);
		return -1;
	}
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

static void log_bad(const struct maildir_msg *m, const char *why)
{
	struct logline l;
	ll_start(&l, "failed");
	ll_str(&l, "msg", m->name);
	ll_str(&l, "reason", why);
	ll_emit(&l);
}

/* The lower-case domain of a covered recipient, "" for one destination. */
static void item_domain(const struct run *u, const char *addr, char *out)
{
	struct node n;
	const char *d = mailaddr_domain(addr);

	out[0] = '\0';
	if (u->d->kind == DEST_MX && node_parse(&n, d, strlen(d), NODE_RULEKEY) == 0)
		memcpy(out, n.name, n.len + 1);
	else if (u->d->kind == DEST_MX)
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
static int collect(struct run *u)
{
	struct msgfile f;
	const char *why;
	char dom[NODE_BUF];

	for (size_t i = 0; i < u->nmsgs; i++) {
		int rc = load(u->md, &u->msgs[i], HELD_ENVELOPE_MAX, &f, &why);
		if (rc == -2) {
			log_bad(&u->msgs[i], why);
			if (maildir_move_failed(u->md, u->msgs[i].sub, u->msgs[i].name) < 0)
				u->retry = 1;
			continue;
		}
		if (rc < 0) {
			u->retry |= errno != ENOENT;
			continue;
		}
		int any = 0;
		for (size_t r = 0; r < f.h.n; r++) {
			if (f.h.rcpt[r].state != RCPT_OTHER ||
			    !held_covers(u->cfg->node, f.h.rcpt[r].addr))
				continue;
			item_domain(u, f.h.rcpt[r].addr, dom);
			any = 1;
			if (add_item(u, i, dom) < 0)
				u->retry = 1;
		}
		u->st->messages += any;
		unload(&f);
	}
	return 0;
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

static int try_host(struct run *u, struct conn *k, const char *host, struct unreachable *x)
{
	char addr[64] = "";
	int gai;
	long left_s = (long)((u->cfg->deadline_ms - netio_now_ms()) / 1000);
	long t = left_s < SMTPC_CONNECT_TIMEOUT ? left_s : SMTPC_CONNECT_TIMEOUT;

	int fd = t > 0 ? dial(host, u->d->port, t, addr, &gai) : -1;
	if (fd < 0) {
		snprintf(x->why, sizeof x->why, "%.120s: %.60s", host,
			 t <= 0 ? "deadline reached"
			 : gai  ? gai_strerror(gai)
				: strerror(errno));
		return -1;
	}
	smtpc_init(&k->own, fd, SMTPC_GREETING_TIMEOUT, left_s);
	k->own.trace = NULL;
	k->c = &k->own;
	snprintf(k->peer, sizeof k->peer, "%s[%s]:%s", host, addr, u->d->port);
	if (greet(k, u->cfg->helo) == 0)
		return 0;
	snprintf(x->why, sizeof x->why, "%.150s: no SMTP greeting or EHLO accepted", k->peer);
	k->alive = 0;
	close(fd);
	return -1;
}

/* Connects to the destination of a domain ("" for a fixed host). */
static void open_conn(struct run *u, const char *domain, struct conn *k, struct unreachable *x)
{
	struct mx hosts[DELIVER_MX_MAX];
	int n = 1;

	memset(k, 0, sizeof *k);
	k->deadline_ms = u->cfg->deadline_ms;
	memset(x, 0, sizeof *x);
	if (u->d->kind == DEST_HOST) {
		memcpy(hosts[0].host, u->d->host, sizeof hosts[0].host);
	} else {
		enum mx_result rc = mx_lookup(domain, hosts, &n);
		if (rc != MX_OK) {
			x->perm = rc == MX_NONE;
			snprintf(x->why, sizeof x->why, "%.150s %s", domain,
				 x->perm ? "has no mail host"
					 : "could not be looked up in the DNS");
			return;
		}
	}
	for (int i = 0; i < n; i++)
		if (try_host(u, k, hosts[i].host, x) == 0)
			return;
}

static void log_item(const struct run *u, const struct conn *k, const struct msgfile *f,
		     const unsigned long count[], const char *why)
{
	struct logline l;
	const char *last = why;

	for (size_t i = 0; i < f->h.n && !last; i++)
		if (f->h.rcpt[i].error[0])
			last = f->h.rcpt[i].error;
	ll_start(&l, "deliver");
	ll_str(&l, "msg", f->m->name);
	ll_str(&l, "node", u->cfg->node ? u->cfg->node->name : "-");
	ll_str(&l, "dest", k->peer[0] ? k->peer : "-");
	ll_str(&l, "from", f->h.from[0] ? f->h.from : "<>");
	ll_num(&l, "sent", (long)count[RCPT_SENT]);
	ll_num(&l, "deferred", (long)count[RCPT_DEFERRED]);
	ll_num(&l, "failed", (long)count[RCPT_FAILED]);
	if (last)
		ll_str(&l, "reply", last);
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

static void one_item(struct run *u, struct conn *k, const struct item *it,
		     const struct unreachable *x)
{
	struct msgfile f;
	const char *why;
	unsigned long count[RCPT_FAILED + 1] = {0};

	if (load(u->md, &u->msgs[it->msg], 0, &f, &why) < 0) {
		u->retry = 1; /* it was readable a moment ago */
		return;
	}
	for (size_t i = 0; i < f.h.n; i++)
		f.h.rcpt[i].state = in_item(u, it, f.h.rcpt[i].addr) ? RCPT_PENDING : RCPT_OTHER;
	if (k->alive) {
		transact(k, &f.h, f.buf + f.h.body, f.len - f.h.body);
	} else {
		struct reply r = {.code = x->perm ? 550 : 451};
		snprintf(r.text, sizeof r.text, "%s", x->why[0] ? x->why : "not delivered");
		settle(&f.h, RCPT_PENDING, x->perm ? RCPT_FAILED : RCPT_DEFERRED, &r);
	}
	for (size_t i = 0; i < f.h.n; i++)
		count[f.h.rcpt[i].state]++;
	u->st->sent += count[RCPT_SENT];
	u->st->deferred += count[RCPT_DEFERRED];
	u->st->failed += count[RCPT_FAILED];
	u->retry |= count[RCPT_DEFERRED] > 0;
	const char *err = NULL;
	if (finalize(u->md, &f) < 0) {
		err = strerror(errno);
		u->st->errors++;
		u->retry = 1;
	}
	log_item(u, k, &f, count, err);
	unload(&f);
}

static void run_items(struct run *u, struct conn *given)
{
	struct conn k;
	struct unreachable x = {0};

	for (size_t i = 0; i < u->nitems;) {
		size_t j = i + 1;
		while (j < u->nitems && strcmp(u->items[j].domain, u->items[i].domain) == 0)
			j++;
		if (given)
			k = *given;
		else
			open_conn(u, u->items[i].domain, &k, &x);
		for (; i < j; i++) {
			if (netio_now_ms() >= u->cfg->deadline_ms) {
				u->retry = 1;
				break;
			}
			one_item(u, &k, &u->items[i], &x);
		}
		i = j;
		if (!given)
			quit(&k);
		else
			*given = k;
	}
}

static int run(struct run *u, struct conn *given)
{
	u->msgs = maildir_list(u->md, &u->nmsgs);
	if (!u->msgs)
		return 1;
	collect(u);
	qsort(u->items, u->nitems, sizeof *u->items, by_domain);
	if (u->nitems > 0 || given)
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
	static const struct dest conn = {.kind = DEST_CONN};
	struct run u = {.md = m, .cfg = cfg, .d = &conn, .st = st};
	struct conn k = {.c = c, .deadline_ms = cfg->deadline_ms};

	snprintf(k.peer, sizeof k.peer, "client");
	if (greet(&k, cfg->helo) < 0)
		return 1;
	int rc = run(&u, &k);
	quit(&k);
	return rc;
}
