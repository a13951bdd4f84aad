/* SPDX-License-Identifier: ISC */
/* queuestart.c: the ETRN decision (RFC 1985 section 4) and its log line. */
#include "queuestart.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "clock.h"
#include "log.h"
#include "queue.h"
#include "spool.h"
#include "trigger.h"

void queuestart_init(struct queuestart *c, const char *cdb_path, const char *queuedir, int queuefd,
		     const struct addr *client, const char *host)
{
	memset(c, 0, sizeof *c);
	policy_init(&c->policy, cdb_path);
	c->queuedir = queuedir;
	trigger_dirs_init(&c->dirs, queuefd);
	c->pid = log_pid(); /* one getpid() per process */
	c->client = *client;
	addr_format(client, c->client_text, sizeof c->client_text);
	size_t i;
	for (i = 0; i < sizeof c->uniq_host - 1 && host[i]; i++) {
		char ch = host[i];
		int ok =
		    (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
		c->uniq_host[i] = ok ? ch : '_';
	}
	c->uniq_host[i] = '\0';
}

static void log_etrn(struct queuestart *c, const struct node *n, const char *rule, const char *user,
		     const struct etrn_result *r, const char *why, int err)
{
	struct logline l;

	ll_start(&l, "etrn");
	ll_str(&l, "client", c->client_text);
	if (user)
		ll_str(&l, "user", user);
	ll_str(&l, "node", n->name);
	ll_str(&l, "rule", rule[0] ? rule : "-");
	ll_num(&l, "code", r->code);
	if (r->code == 253 || r->code == 251)
		ll_num(&l, "count", (long)r->count);
	if (why)
		ll_str(&l, "reason", why);
	if (err)
		ll_str(&l, "error", strerror(err));
	ll_emit(&l);
}

/* Whether a run= template uses %c: then the client address must survive a
 * crash, and the latest asker's address replaces a pending one. */
static int uses_client(const struct rule *r)
{
	for (size_t i = 0; i + 1 < r->run.len; i++)
		if (r->run.buf[i] == '%' && (r->run.buf[i + 1] == 'c' || r->run.buf[i + 1] == '%'))
			if (r->run.buf[++i] == 'c')
				return 1;
	return 0;
}

/* src into dst[size], cut to fit as snprintf("%s") would: on every ETRN's
 * path, where snprintf's machinery cost more than the rest of the trigger. */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* QUEUEDIR, opened once for the session: only search permission is needed,
 * as for a path through it; -1 with errno (tried again at the next ETRN). */
static int queue_fd(struct queuestart *c)
{
	if (c->dirs.queue < 0)
		c->dirs.queue = open(c->queuedir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return c->dirs.queue;
}

static void queue_warning(const char *queuedir, const char *part, const char *reason)
{
	char path[LOG_VALUE_MAX + 1];
	struct logline l;

	snprintf(path, sizeof path, "%s%s%s", queuedir, part ? "/" : "", part ? part : "");
	ll_start(&l, "warning");
	ll_str(&l, "queue", path);
	ll_str(&l, "reason", reason);
	ll_emit(&l);
}

/* Why part of QUEUEDIR cannot take a trigger, or NULL. QUEUEDIR itself may
 * be a symbolic link (the admin chose it; open() follows it, as it does
 * for etrnd-runner); tmp/ and new/ may not (trigger_dir()'s O_NOFOLLOW). */
static const char *queue_part_problem(struct queuestart *c, int part)
{
	struct stat st;

	int fd = trigger_dir(&c->dirs, part);
	if (fd < 0) {
		const char *why = strerror(errno);
		if (fstatat(c->dirs.queue, queue_dirs[part].name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return "a symbolic link; only QUEUEDIR itself may be one";
		return why;
	}
	return faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) < 0 ? strerror(errno) : NULL;
}

/* The session goes on with a broken queue: an ETRN that needs a trigger
 * gets 458 (temporary), as for any failed write. */
void queuestart_check(struct queuestart *c)
{
	static const int parts[] = {Q_TMP, Q_NEW};

	if (queue_fd(c) < 0) {
		queue_warning(c->queuedir, NULL, strerror(errno));
		return;
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *why = queue_part_problem(c, parts[i]);
		if (why)
			queue_warning(c->queuedir, queue_dirs[parts[i]].name, why);
	}
}

static int write_trigger(struct queuestart *c, const struct node *n, const char *rule,
			 const char *user, unsigned flags)
{
	char uniq[160];
	struct timespec now;
	struct trigger t = {.version = TRIGGER_VERSION, .pid = c->pid};

	clock_read(CLOCK_REALTIME, &now);
	t.time = (long long)now.tv_sec;
	memcpy(t.node, n->name, n->len + 1);
	copy(t.rule, sizeof t.rule, rule);
	copy(t.client, sizeof t.client, c->client_text);
	copy(t.user, sizeof t.user, user ? user : "-");
	if (!trigger_tempname(uniq, sizeof uniq, (long long)now.tv_sec, (long)now.tv_nsec, t.pid,
			      ++c->seq, c->uniq_host)) {
		errno = ENAMETOOLONG; /* (uniq_host is shorter than uniq) */
		return -1;
	}
	if (queue_fd(c) < 0)
		return -1;
	int rc = trigger_write(&c->dirs, uniq, &t, flags);
	if (rc == -2)
		log_msg("warning", "error", "fsync of QUEUEDIR/new failed; trigger kept");
	if (rc == -1)
		return -1;
	trigger_poke(&c->dirs);
	return 0;
}

/* Sets code and count from the spool; returns 1 when a trigger is due. */
static int count_spool(const struct rule *r, struct etrn_result *res, const char **why, int *err)
{
	if (!r->spool[0]) {
		res->code = 250;
		return 1;
	}
	long count = spool_count(r->spool, SPOOL_SCAN_CAP);
	if (count < 0) {
		*why = "spool-unreadable";
		*err = errno;
		res->code = 250;
		return 1;
	}
	res->count = (unsigned long)count;
	res->code = count == 0 ? 251 : count > SPOOL_SCAN_CAP ? 252 : 253;
	return count > 0;
}

/* The rule an ETRN is judged by: 8 KiB, not on the stack but in a page
 * of its own from mmap() (once per process), page-aligned so that what
 * rule_init() writes lies in one page of it (rule.h): each page a session
 * touches is a page fault (make bench). A static _Alignas(4096) object
 * would do as well but raise .bss's alignment to a page, moving etrnd.c's
 * session state off the page it shares with .data. NULL with errno. */
static struct rule *rule_space(struct queuestart *c)
{
	if (!c->rule) {
		void *p = mmap(NULL, sizeof *c->rule, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		c->rule = p == MAP_FAILED ? NULL : p;
	}
	return c->rule;
}

/* What an ETRN's rule says, without the trigger: the rule is looked up,
 * the asker checked and the spool counted. Returns 1 when a trigger is
 * due, with *flags for it; else why not, in res and *why. */
static int judge(struct queuestart *c, const struct node *n, const char *user, char *key,
		 struct etrn_result *res, unsigned *flags, const char **why, int *err)
{
	struct rule *r = rule_space(c);
	if (!r) {
		*why = "out-of-memory";
		*err = errno;
		key[0] = '\0';
		return 0;
	}
	int found = policy_lookup(&c->policy, n, key, r);
	if (found <= 0) {
		*why = found < 0 ? "cdb-error" : "no-rule";
		*err = found < 0 ? errno : 0;
		key[0] = '\0';
		return 0;
	}
	struct asker who = {&c->client, user};
	enum verdict v = policy_authorize(r, &who);
	if (v != V_OK) {
		res->code = 459;
		snprintf(res->reason, sizeof res->reason, "%s", verdict_reason(v, r));
		*why = verdict_log(v);
		return 0;
	}
	*flags = uses_client(r) ? TRIGGER_SYNC | TRIGGER_REPLACE : 0;
	return count_spool(r, res, why, err);
}

void queuestart_etrn(void *ctx, const struct node *n, const char *user, struct etrn_result *res)
{
	struct queuestart *c = ctx;
	char key[NODE_BUF] = "";
	const char *why = NULL;
	unsigned flags = 0;
	int err = 0;

	res->code = 458;
	if (judge(c, n, user, key, res, &flags, &why, &err) &&
	    write_trigger(c, n, key, user, flags) < 0) {
		res->code = 458;
		why = "trigger-write-failed";
		err = errno;
	}
	log_etrn(c, n, key, user, res, why, err);
}
