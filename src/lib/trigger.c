/* SPDX-License-Identifier: ISC */
/* trigger.c: trigger names, the trigger file format (one field table for
 * writer and reader) and maildir-style delivery of a trigger into new/. */
#include "trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "fmt.h"
#include "fsutil.h"
#include "num.h"
#include "queue.h"

/* -- names ----------------------------------------------------------- */

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

size_t trigger_name(const char *node, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)node; *p; p++) {
		int keep = plain(*p) || (*p == '@' && p == (const unsigned char *)node);
		if (n + (keep ? 1 : 3) >= size) /* and the NUL */
			return 0;
		if (keep) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (n == 0 || n >= size || n > NAME_MAX)
		return 0;
	out[n] = '\0';
	return n;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int trigger_unname(const char *name, char *out, size_t size)
{
	size_t n = 0;
	int legacy = 0;

	for (const char *p = name; *p; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int hi = unhex(p[1]), lo = hi < 0 ? -1 : unhex(p[2]);
			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			if (c == '@' && p == name)
				legacy = 1; /* "%40domain": written by etrnd before 0.2 */
			else if (plain((unsigned char)c) || c == 0 || c == '@')
				return -1; /* not the one encoding etrnd writes */
			p += 2;
		} else if (!plain((unsigned char)c) && !(c == '@' && p == name)) {
			return -1;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	if (n == 0)
		return -1;
	out[n] = '\0';
	/* only what etrnd can have written: a valid node, already normalised */
	struct node parsed;
	if (node_parse(&parsed, out, n, 0) < 0 || strcmp(parsed.name, out) != 0)
		return -1;
	return legacy;
}

/* -- the field table ------------------------------------------------- */

/* How a field's value is written and read: a field of a kind that exists
 * is one row of fields[] and its member of struct trigger. */
enum tkind {
	TK_VERSION, /* the format's version, first line only */
	TK_KEY,     /* a normalised node or rule key (flags: node_parse's) */
	TK_CLIENT,  /* a canonical address, or "unknown" */
	TK_USER,    /* a login, or "-" */
	TK_LLONG,   /* a long long in [min, max] */
	TK_LONG,    /* a long in [min, max] */
};

#define TF(member) offsetof(struct trigger, member)

static const struct tfield {
	const char *name;
	size_t off;                  /* of the member in struct trigger */
	unsigned long long min, max; /* TK_LLONG, TK_LONG */
	enum tkind kind;
	int flags; /* TK_KEY */
	int since; /* the first version that has it */
} fields[] = {
    {.name = "version", .kind = TK_VERSION, .since = 1},
    {.name = "node", .kind = TK_KEY, .off = TF(node), .since = 1},
    {.name = "rule", .kind = TK_KEY, .off = TF(rule), .flags = NODE_RULEKEY, .since = 1},
    {.name = "client", .kind = TK_CLIENT, .off = TF(client), .since = 1},
    {.name = "user", .kind = TK_USER, .off = TF(user), .since = 2},
    {.name = "time", .kind = TK_LLONG, .off = TF(time), .max = 1ULL << 62, .since = 1},
    {.name = "pid", .kind = TK_LONG, .off = TF(pid), .min = 1, .max = 0x7fffffff, .since = 1},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Output into a caller's buffer, for trigger_format(), which is on every
 * ETRN's path: plain copies and a decimal conversion, no printf machinery
 * (a fifth of a session's instructions went to snprintf; make bench). */
struct out {
	char *buf;
	size_t size, n;
	int full; /* something did not fit (room is kept for a NUL) */
};

static void put(struct out *o, const char *s, size_t len)
{
	if (o->full || len >= o->size - o->n) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

/* v in decimal, zero-padded to width digits */
static void put_num_w(struct out *o, long long v, size_t width)
{
	char d[FMT_NUM_MAX];
	put(o, d, fmt_num(d, v, width));
}

static void put_num(struct out *o, long long v)
{
	put_num_w(o, v, 1);
}

static size_t done(struct out *o)
{
	if (o->full)
		return 0;
	o->buf[o->n] = '\0';
	return o->n;
}

static void format_field(const struct tfield *f, const struct trigger *t, struct out *o)
{
	const char *m = (const char *)t + f->off, *v = NULL;

	put(o, f->name, strlen(f->name));
	put(o, "=", 1);
	switch (f->kind) {
	case TK_VERSION: put_num(o, TRIGGER_VERSION); break;
	case TK_KEY:
	case TK_CLIENT: v = m; break;
	case TK_USER: v = m[0] ? m : "-"; break;
	case TK_LLONG: put_num(o, *(const long long *)(const void *)m); break;
	case TK_LONG: put_num(o, *(const long *)(const void *)m); break;
	}
	if (v)
		put(o, v, strlen(v));
	put(o, "\n", 1);
}

size_t trigger_format(const struct trigger *t, char *buf, size_t size)
{
	struct out o = {buf, size, 0, size == 0};

	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].since <= TRIGGER_VERSION)
			format_field(&fields[i], t, &o);
	return done(&o);
}

size_t trigger_tempname(char *buf, size_t size, long long sec, long nsec, long pid, unsigned seq,
			const char *host)
{
	struct out o = {buf, size, 0, size == 0};

	put_num(&o, sec);
	put(&o, ".", 1);
	put_num_w(&o, nsec, 9);
	put(&o, "P", 1);
	put_num(&o, pid);
	put(&o, "Q", 1);
	put_num(&o, seq);
	put(&o, ".", 1);
	put(&o, host, strlen(host));
	return done(&o);
}

/* A node or rule key, accepted only in its normalised form. */
static int parse_key(char *out, const char *v, size_t len, int flags)
{
	struct node n;

	if (node_parse(&n, v, len, flags) < 0 || n.len != len || memcmp(n.name, v, len) != 0)
		return -1;
	memcpy(out, n.name, n.len + 1);
	return 0;
}

static int parse_client(char *out, const char *v, size_t len)
{
	struct addr a;
	char text[TRIGGER_CLIENT_MAX];

	if (len == 7 && memcmp(v, "unknown", 7) == 0) {
		memcpy(out, "unknown", 8);
		return 0;
	}
	if (addr_parse(&a, v, len) < 0)
		return -1;
	size_t n = addr_format(&a, text, sizeof text);
	if (n != len || memcmp(text, v, len) != 0)
		return -1;
	memcpy(out, text, n + 1);
	return 0;
}

static int parse_user(char *out, const char *v, size_t len)
{
	if (len == 1 && v[0] == '-') {
		memcpy(out, "-", 2);
		return 0;
	}
	return login_parse(out, v, len) == 0 && memcmp(out, v, len) == 0 ? 0 : -1;
}

static int parse_field(const struct tfield *f, struct trigger *t, const char *v, size_t len)
{
	char *m = (char *)t + f->off;
	unsigned long long n;

	switch (f->kind) {
	case TK_VERSION: return -1; /* only on the first line */
	case TK_KEY: return parse_key(m, v, len, f->flags);
	case TK_CLIENT: return parse_client(m, v, len);
	case TK_USER: return parse_user(m, v, len);
	case TK_LLONG:
	case TK_LONG:
		if (num_parse(v, len, f->min, f->max, &n) < 0)
			return -1;
		if (f->kind == TK_LLONG)
			*(long long *)(void *)m = (long long)n;
		else
			*(long *)(void *)m = (long)n;
		return 0;
	}
	return -1;
}

static const struct tfield *field_named(const char *k, size_t klen, int version)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].since <= version && strlen(fields[i].name) == klen &&
		    memcmp(fields[i].name, k, klen) == 0)
			return &fields[i];
	return NULL;
}

static int parse_version(const char *buf, size_t len, size_t *pos)
{
	static const char key[] = "version=";
	unsigned long long v;
	const char *nl = memchr(buf, '\n', len);

	if (!nl || (size_t)(nl - buf) < sizeof key - 1 || memcmp(buf, key, sizeof key - 1) != 0 ||
	    num_parse(buf + sizeof key - 1, (size_t)(nl - buf) - (sizeof key - 1), 1,
		      TRIGGER_VERSION, &v) < 0)
		return -1;
	*pos = (size_t)(nl - buf) + 1;
	return (int)v;
}

int trigger_parse(const char *buf, size_t len, struct trigger *t, const char **why)
{
	unsigned seen = 1, want = 0; /* bit 0: version */
	size_t pos = 0;

	memset(t, 0, sizeof *t);
	memcpy(t->user, "-", 2);
	memcpy(t->client, "unknown", 8);
	if (len == 0) {
		t->lost = 1;
		return 0;
	}
	*why = "not a trigger file";
	if (len > TRIGGER_FILE_MAX || buf[len - 1] != '\n' || memchr(buf, 0, len) ||
	    (t->version = parse_version(buf, len, &pos)) < 0)
		return -1;
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].since <= t->version)
			want |= 1u << i;
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		const char *eq = memchr(line, '=', (size_t)(nl - line));
		pos = (size_t)(nl - buf) + 1;
		const struct tfield *f =
		    eq ? field_named(line, (size_t)(eq - line), t->version) : NULL;
		unsigned bit = f ? 1u << (f - fields) : 0;
		if (!f || (seen & bit)) {
			*why = f ? "field given twice" : "unknown field";
			return -1;
		}
		seen |= bit;
		if (parse_field(f, t, eq + 1, (size_t)(nl - eq - 1)) < 0) {
			*why = "invalid field";
			return -1;
		}
	}
	if (seen != want) {
		*why = "missing field";
		return -1;
	}
	return 0;
}

/* -- writing --------------------------------------------------------- */

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

/* Creates tmp/UNIQ with the content; on failure removes what it created. */
static int write_temp(int tmpdir, const char *uniq, const char *buf, size_t len, int sync)
{
	int fd = openat(tmpdir, uniq, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1; /* EEXIST: someone else's file, never ours to remove */
	if (write_all(fd, buf, len) < 0 || (sync && fsync(fd) < 0)) {
		int e = errno;
		close(fd);
		unlinkat(tmpdir, uniq, 0);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		int e = errno;
		unlinkat(tmpdir, uniq, 0);
		errno = e;
		return -1;
	}
	return 0;
}

void trigger_dirs_init(struct trigger_dirs *d, int queuefd)
{
	d->queue = queuefd;
	d->tmp = d->new = -1;
}

int trigger_dir(struct trigger_dirs *d, int part)
{
	int *fd = part == Q_TMP ? &d->tmp : &d->new;
	if (*fd < 0)
		*fd = openat(d->queue, queue_dirs[part].name, DIRFLAGS | O_NOFOLLOW);
	return *fd;
}

static void close_held(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void trigger_dirs_close(struct trigger_dirs *d)
{
	close_held(&d->queue);
	close_held(&d->tmp);
	close_held(&d->new);
}

/* Whether a trigger is pending is known first, so that an ETRN for a
 * pending node opens nothing, writes nothing and formats nothing. */
static int place(struct trigger_dirs *d, const char *uniq, const char *name,
		 const struct trigger *t, unsigned flags)
{
	char content[TRIGGER_FILE_MAX];
	struct stat st;
	int newdir = trigger_dir(d, Q_NEW);

	if (newdir < 0)
		return -1;
	if (!(flags & TRIGGER_REPLACE) && fstatat(newdir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1; /* a pending trigger starts a run that begins after this ETRN */
	size_t len = trigger_format(t, content, sizeof content);
	if (len == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int tmpdir = trigger_dir(d, Q_TMP);
	if (tmpdir < 0 || write_temp(tmpdir, uniq, content, len, flags & TRIGGER_SYNC) < 0)
		return -1;
	int rc = flags & TRIGGER_REPLACE ? renameat(tmpdir, uniq, newdir, name)
					 : rename_noreplace(tmpdir, uniq, newdir, name);
	if (rc < 0) {
		int e = errno;
		unlinkat(tmpdir, uniq, 0);
		if (e == EEXIST)
			return 1; /* another ETRN for the node came first */
		errno = e;
		return -1;
	}
	/* The trigger is in place; a failed directory fsync only weakens
	 * durability across a crash, so it is reported but not undone. */
	return fsync(newdir) < 0 ? -2 : 0;
}

/* No path is built, so no PATH_MAX buffer sits on the stack (a page of
 * stack is a page fault in every session). */
int trigger_write(struct trigger_dirs *d, const char *uniq, const struct trigger *t, unsigned flags)
{
	char name[TRIGGER_NAME_MAX];

	if (!trigger_name(t->node, name, sizeof name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return place(d, uniq, name, t, flags);
}

void trigger_poke(const struct trigger_dirs *d)
{
	struct stat st;

	int fd =
	    openat(d->queue, QUEUE_FIFO, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return; /* no FIFO, or nobody reading it: the runner rescans anyway */
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)!write(fd, "", 1);
	close(fd);
}
