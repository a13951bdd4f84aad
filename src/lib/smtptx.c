/* SPDX-License-Identifier: ISC */
/* smtptx.c: see smtptx.h. Commands go through the connection's output
 * buffer (a pipelined group in one write, RFC 2920); the message goes out
 * in DATA_BUF pieces straight from the held file. */
#include "smtptx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "netio.h"
#include "smtpdata.h"
#include "text.h"
#include "tlsio.h"

#define DATA_BUF 65536

void smtptx_init_fd(struct smtptx *k, int fd, long long deadline_ms)
{
	memset(k, 0, sizeof *k);
	long long left_ms = deadline_ms - netio_now_ms();
	smtpc_init(&k->own, fd, SMTPC_GREETING_TIMEOUT,
		   left_ms > 1000 ? (long)(left_ms / 1000) : 1);
	k->c = &k->own;
	k->deadline_ms = deadline_ms;
}

void smtptx_init_conn(struct smtptx *k, struct smtpc *c, long long deadline_ms)
{
	memset(k, 0, sizeof *k);
	k->c = c;
	k->deadline_ms = deadline_ms;
}

/* Each reply within idle_s (smtpc bounds it), all within the run's
 * deadline; writes too (netio's idle timeout and deadline). */
static void timeouts(struct smtptx *k, long idle_s)
{
	k->c->reply_ms = idle_s * 1000;
	k->c->deadline_ms = k->deadline_ms;
	k->c->io.idle_ms = idle_s * 1000;
	k->c->io.deadline_ms = k->deadline_ms;
}

/* The reply's code, or -1 (and the connection is dead, r->code 0). */
static int reply(struct smtptx *k, struct reply *r, long timeout_s)
{
	timeouts(k, timeout_s);
	int code = k->alive ? smtpc_reply(k->c, r) : -1;
	if (code < 0) {
		k->alive = 0;
		r->code = 0;
		r->text[0] = '\0';
	}
	return code;
}

static void send_line(struct smtptx *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void send_line(struct smtptx *k, const char *fmt, ...)
{
	char line[SMTP_LINE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || n > SMTP_TEXT_MAX) {
		k->alive = 0; /* cannot happen with valid addresses (MAIL_ADDR_MAX) */
		return;
	}
	line[n] = '\r';
	line[n + 1] = '\n';
	if (k->c->trace)
		k->c->trace(">>>", line, (size_t)n);
	out_put(&k->c->out, line, (size_t)n + 2);
}

static int flush(struct smtptx *k)
{
	timeouts(k, SMTPC_BLOCK_TIMEOUT);
	if (!k->alive || out_flush(&k->c->out) < 0)
		k->alive = 0;
	return k->alive ? 0 : -1;
}

/* Message octets, written as they are (the output buffer is empty). */
static void put(struct smtptx *k, const char *buf, size_t n)
{
	timeouts(k, SMTPC_BLOCK_TIMEOUT);
	if (k->alive && netio_write(&k->c->io, buf, n) < 0)
		k->alive = 0;
}

/* -- the connection -------------------------------------------------- */

/* An EHLO keyword line, case-insensitively, alone or with parameters. */
static int keyword(const struct reply *r, const char *kw)
{
	return smtpc_keyword(r, kw) != NULL;
}

static int ehlo(struct smtptx *k, const char *helo)
{
	struct reply r;

	send_line(k, "EHLO %s", helo);
	int code = flush(k) < 0 ? -1 : reply(k, &r, SMTPC_MAIL_TIMEOUT);
	if (code >= 500 && code != 554) { /* EHLO not known: RFC 5321 4.1.4 */
		send_line(k, "HELO %s", helo);
		return flush(k) == 0 && reply(k, &r, SMTPC_MAIL_TIMEOUT) == 250 ? 0 : -1;
	}
	if (code != 250)
		return -1;
	k->starttls_offered = keyword(&r, "STARTTLS");
	k->pipelining = keyword(&r, "PIPELINING");
	k->eightbit = keyword(&r, "8BITMIME");
	k->size = keyword(&r, "SIZE");
	return 0;
}

/* STARTTLS when the server offers it (or -s wants it): 0 TLS is up or not
 * wanted, -1 the connection cannot go on. */
static int starttls(struct smtptx *k, const char *helo, int offered)
{
	const struct smtptx_tls *t = k->tlscfg;
	struct reply r;

	if (!t || !t->use || !offered) {
		if (t && t->required)
			k->why = "TLS required (-s), and STARTTLS is not offered";
		return t && t->required ? -1 : 0;
	}
	send_line(k, "STARTTLS");
	if (flush(k) < 0 || reply(k, &r, SMTPC_MAIL_TIMEOUT) != 220) {
		k->why = "STARTTLS refused";
		return -1;
	}
	struct tlsio *tls = &k->tls_state;
	if (tlsio_client(tls, t->cafile, t->cafile != NULL) < 0 ||
	    smtpc_tls(k->c, tls, k->host) < 0) {
		k->why = tls->err[0] ? tls->err : k->c->error;
		return -1; /* the connection's state is unknown: never go on in plaintext */
	}
	k->tls = tls;
	return ehlo(k, helo);
}

int smtptx_greet(struct smtptx *k, const char *helo)
{
	struct reply r;

	k->alive = 1;
	if (reply(k, &r, SMTPC_GREETING_TIMEOUT) != 220 || ehlo(k, helo) < 0 ||
	    starttls(k, helo, k->starttls_offered) < 0) {
		k->alive = 0;
		return -1;
	}
	return 0;
}

void smtptx_quit(struct smtptx *k)
{
	struct reply r;

	if (k->alive) {
		send_line(k, "QUIT");
		if (flush(k) == 0)
			reply(k, &r, SMTPC_MAIL_TIMEOUT);
	}
	k->alive = 0;
	if (k->tls || k->tls_state.ctx) {
		tlsio_free(&k->tls_state);
		k->tls = NULL;
	}
	if (k->c == &k->own && k->own.io.infd >= 0) {
		close(k->own.io.infd);
		k->own.io.infd = k->own.io.outfd = -1;
	}
}

/* -- recipients ------------------------------------------------------ */

/* The state, and the reply (sanitised, one line) or the text why. */
static void set_state(struct rcpt *rc, enum rcpt_state st, const struct reply *r, const char *why)
{
	rc->state = st;
	if (r && r->code) {
		char text[HELD_ERROR_MAX - 4];
		text_sanitize(text, sizeof text, r->text, strcspn(r->text, "\n"));
		snprintf(rc->error, sizeof rc->error, "%d %s", r->code, text);
	} else if (why) {
		snprintf(rc->error, sizeof rc->error, "%s", why);
	}
}

static void settle(struct held *h, enum rcpt_state from, enum rcpt_state to, const struct reply *r,
		   const char *why)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->rcpt[i].state == from)
			set_state(&h->rcpt[i], to, r, why);
}

/* A refusal of MAIL, DATA or the message: every recipient still in from. */
static void refused(struct held *h, enum rcpt_state from, const struct reply *r)
{
	settle(h, from, r->code >= 500 ? RCPT_FAILED : RCPT_DEFERRED, r, NULL);
}

static void rcpt_result(struct rcpt *rc, const struct reply *r)
{
	if (r->code / 100 == 2)
		rc->state = RCPT_ACCEPTED;
	else
		set_state(rc, r->code >= 500 ? RCPT_FAILED : RCPT_DEFERRED, r, NULL);
}

static size_t accepted(const struct held *h)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++)
		n += h->rcpt[i].state == RCPT_ACCEPTED;
	return n;
}

/* -- one transaction ------------------------------------------------- */

/* Ends a transaction the server may still hold open. */
static void rset(struct smtptx *k)
{
	struct reply r;

	send_line(k, "RSET");
	if (flush(k) == 0)
		reply(k, &r, SMTPC_MAIL_TIMEOUT);
}

/* After a 354: the message, then the reply to the final dot. The end of
 * the message and the dot go out in one write: a dot in a write of its
 * own would wait for the peer's delayed ACK (Nagle), 40 ms a message. */
static void send_data(struct smtptx *k, struct held *h, const char *body, size_t blen)
{
	static char buf[DATA_BUF];
	struct smtpdata e;
	struct reply r;
	size_t used, fill = 0;

	smtpdata_init(&e);
	while (blen > 0 && k->alive) {
		fill += smtpdata_put(&e, body, blen, &used, buf + fill, sizeof buf - fill);
		body += used, blen -= used;
		if (sizeof buf - fill < SMTPDATA_END_MAX + 2) {
			put(k, buf, fill);
			fill = 0;
		}
	}
	fill += smtpdata_end(&e, buf + fill);
	put(k, buf, fill);
	if (reply(k, &r, SMTPC_DOT_TIMEOUT) / 100 == 2)
		settle(h, RCPT_ACCEPTED, RCPT_SENT, NULL, NULL);
	else if (k->alive)
		refused(h, RCPT_ACCEPTED, &r);
}

static void local_failure(struct held *h)
{
	settle(h, RCPT_ACCEPTED, RCPT_DEFERRED, NULL, "not sent: the spool could not be updated");
}

/* One command at a time. */
static void sequential(struct smtptx *k, struct held *h, const char *mail, const char *body,
		       size_t blen, smtptx_ready_fn ready, void *arg)
{
	struct reply r;

	send_line(k, "%s", mail);
	if (flush(k) < 0 || reply(k, &r, SMTPC_MAIL_TIMEOUT) < 0)
		return;
	if (r.code / 100 != 2) {
		refused(h, RCPT_PENDING, &r);
		rset(k);
		return;
	}
	for (size_t i = 0; i < h->n; i++) {
		if (h->rcpt[i].state != RCPT_PENDING)
			continue;
		send_line(k, "RCPT TO:<%s>", h->rcpt[i].addr);
		if (flush(k) < 0 || reply(k, &r, SMTPC_RCPT_TIMEOUT) < 0)
			return;
		rcpt_result(&h->rcpt[i], &r);
	}
	if (accepted(h) > 0 && ready && ready(arg) < 0)
		local_failure(h);
	if (accepted(h) == 0) {
		rset(k);
		return;
	}
	send_line(k, "DATA");
	if (flush(k) < 0 || reply(k, &r, SMTPC_DATA_TIMEOUT) < 0)
		return;
	if (r.code != 354) {
		refused(h, RCPT_ACCEPTED, &r);
		rset(k);
		return;
	}
	send_data(k, h, body, blen);
}

/* RFC 2920: MAIL, every RCPT and DATA in one write, then the replies in
 * order. */
static void pipelined(struct smtptx *k, struct held *h, const char *mail, const char *body,
		      size_t blen, smtptx_ready_fn ready, void *arg)
{
	struct reply m, r, d;

	send_line(k, "%s", mail);
	for (size_t i = 0; i < h->n; i++)
		if (h->rcpt[i].state == RCPT_PENDING)
			send_line(k, "RCPT TO:<%s>", h->rcpt[i].addr);
	send_line(k, "DATA");
	if (flush(k) < 0)
		return;
	reply(k, &m, SMTPC_MAIL_TIMEOUT);
	for (size_t i = 0; i < h->n && k->alive; i++)
		if (h->rcpt[i].state == RCPT_PENDING && reply(k, &r, SMTPC_RCPT_TIMEOUT) > 0 &&
		    m.code / 100 == 2)
			rcpt_result(&h->rcpt[i], &r);
	reply(k, &d, SMTPC_DATA_TIMEOUT);
	if (!k->alive)
		return;
	if (m.code / 100 != 2)
		refused(h, RCPT_PENDING, &m);
	if (accepted(h) > 0 && d.code == 354) {
		if (!ready || ready(arg) == 0) {
			send_data(k, h, body, blen);
			return;
		}
		/* a 354 ends with the message or with the connection */
		local_failure(h);
		k->alive = 0;
		return;
	}
	if (accepted(h) > 0)
		refused(h, RCPT_ACCEPTED, &d);
	if (d.code == 354) { /* DATA taken without a recipient: end it empty */
		put(k, ".\r\n", 3);
		reply(k, &r, SMTPC_DOT_TIMEOUT);
	}
	rset(k);
}

void smtptx_send(struct smtptx *k, struct held *h, const char *body, size_t blen,
		 smtptx_ready_fn ready, void *arg)
{
	char mail[SMTP_LINE_MAX], size[32] = "";

	if (k->size)
		snprintf(size, sizeof size, " SIZE=%zu", smtpdata_size(body, blen));
	snprintf(mail, sizeof mail, "MAIL FROM:<%s>%s%s", h->from, size,
		 k->eightbit && smtpdata_8bit(body, blen) ? " BODY=8BITMIME" : "");
	if (k->alive && k->pipelining)
		pipelined(k, h, mail, body, blen, ready, arg);
	else if (k->alive)
		sequential(k, h, mail, body, blen, ready, arg);
	if (!k->alive) { /* lost: whatever is still open waits for a retry */
		settle(h, RCPT_ACCEPTED, RCPT_DEFERRED, NULL, "connection lost or timed out");
		settle(h, RCPT_PENDING, RCPT_DEFERRED, NULL, "connection lost or timed out");
	}
}
