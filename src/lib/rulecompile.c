/* SPDX-License-Identifier: ISC */
/* rulecompile.c: etrnd-rules' work. Two passes are not needed: errors are
 * collected while the cdb is built in a temp file, which is renamed into
 * place only when there were none. */
#include "rulecompile.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "ruleparse.h"

/* Duplicate keys: an open-addressing set, since cdb_make_exists() scans a
 * list per hash byte and is quadratic on a million rules. */
struct slot {
	unsigned hash;
	unsigned long line; /* 0 = empty */
	size_t off, len;
};

struct keyset {
	struct slot *slots;
	size_t cap, n;
	char *arena;
	size_t used, size;
};

static int keyset_grow(struct keyset *ks)
{
	size_t cap = ks->cap ? ks->cap * 2 : 1024;
	struct slot *s = calloc(cap, sizeof *s);
	if (!s)
		return -1;
	for (size_t i = 0; i < ks->cap; i++) {
		if (!ks->slots[i].line)
			continue;
		size_t j = ks->slots[i].hash & (cap - 1);
		while (s[j].line)
			j = (j + 1) & (cap - 1);
		s[j] = ks->slots[i];
	}
	free(ks->slots);
	ks->slots = s;
	ks->cap = cap;
	return 0;
}

static int arena_add(struct keyset *ks, const char *key, size_t len)
{
	if (ks->used + len > ks->size) {
		size_t size = ks->size ? ks->size * 2 : 65536;
		char *a = realloc(ks->arena, size);
		if (!a)
			return -1;
		ks->arena = a;
		ks->size = size;
	}
	memcpy(ks->arena + ks->used, key, len);
	ks->used += len;
	return 0;
}

/* Returns 0 if added, the first line number if key is a duplicate, -1 on
 * memory exhaustion. */
static long keyset_add(struct keyset *ks, const char *key, size_t len, unsigned long line)
{
	if ((ks->n + 1) * 2 > ks->cap && keyset_grow(ks) < 0)
		return -1;
	unsigned h = cdb_hash(key, (unsigned)len);
	size_t j = h & (ks->cap - 1);
	for (; ks->slots[j].line; j = (j + 1) & (ks->cap - 1)) {
		const struct slot *s = &ks->slots[j];
		if (s->hash == h && s->len == len && memcmp(ks->arena + s->off, key, len) == 0)
			return (long)s->line;
	}
	if (arena_add(ks, key, len) < 0)
		return -1;
	ks->slots[j] = (struct slot){h, line, ks->used - len, len};
	ks->n++;
	return 0;
}

static int keyset_has(const struct keyset *ks, const char *key, size_t len)
{
	if (ks->cap == 0)
		return 0;
	unsigned h = cdb_hash(key, (unsigned)len);
	for (size_t j = h & (ks->cap - 1); ks->slots[j].line; j = (j + 1) & (ks->cap - 1)) {
		const struct slot *s = &ks->slots[j];
		if (s->hash == h && s->len == len && memcmp(ks->arena + s->off, key, len) == 0)
			return 1;
	}
	return 0;
}

static void keyset_free(struct keyset *ks)
{
	free(ks->slots);
	free(ks->arena);
}

/* Reads one line without its newline (and a CR before it). Returns -1 at
 * end of file, 1 if the line was longer than the buffer (the rest is
 * skipped), 0 otherwise. */
static int read_line(FILE *f, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	int c, too_long = 0;

	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n + 1 < size)
			buf[n++] = (char)c;
		else
			too_long = 1;
	}
	if (c == EOF && n == 0 && !too_long)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return too_long;
}

/* A login named in users=, checked once every line is read. */
struct ref {
	unsigned long line;
	char name[LOGIN_BUF];
};

struct build {
	int cram; /* some login has cram= */
	const char *rules_path;
	FILE *errs;
	struct cdb_make cm;
	struct keyset keys;
	struct ref *refs;
	size_t nrefs, caprefs;
	unsigned long line, errors, rules;
	int io_error;
};

static void report(struct build *j, const char *reason)
{
	fprintf(j->errs, "%s:%lu: %s\n", j->rules_path, j->line, reason);
	j->errors++;
}

static void add_rule(struct build *j, const struct node *key, const struct rule *r)
{
	unsigned char value[RULE_VALUE_MAX];
	long first = keyset_add(&j->keys, key->name, key->len, j->line);
	if (first < 0) {
		report(j, "out of memory");
		return;
	}
	if (first > 0) {
		char msg[RULES_ERR_MAX + NODE_BUF];
		snprintf(msg, sizeof msg, "duplicate key '%s' (first at line %ld)", key->name,
			 first);
		report(j, msg);
		return;
	}
	j->rules++;
	j->cram |= r->cram[0] != '\0';
	for (size_t i = 0; i < r->users.n; i++) {
		if (j->nrefs == j->caprefs) {
			size_t c = j->caprefs ? j->caprefs * 2 : 64;
			struct ref *v = realloc(j->refs, c * sizeof *v);
			if (!v) {
				report(j, "out of memory");
				return;
			}
			j->refs = v, j->caprefs = c;
		}
		j->refs[j->nrefs].line = j->line;
		memcpy(j->refs[j->nrefs++].name, r->users.v[i], LOGIN_BUF);
	}
	if (j->errors)
		return; /* nothing will be written; only keep checking */
	size_t vlen = rule_encode(r, value);
	if (cdb_make_add(&j->cm, key->name, (unsigned)key->len, value, (unsigned)vlen) < 0)
		j->io_error = errno ? errno : EIO;
}

/* The record that tells etrnd to offer CRAM-MD5 (ruleparse.h): an empty
 * value of the current format. */
static void add_cram_mark(struct build *j)
{
	static const char key[] = RULES_LOGIN_PREFIX RULES_CRAM_MARK;
	unsigned char value[RULE_VALUE_MAX];
	struct rule r;

	if (!j->cram || j->errors || j->io_error)
		return;
	rule_init(&r);
	size_t n = rule_encode(&r, value);
	if (cdb_make_add(&j->cm, key, sizeof key - 1, value, (unsigned)n) < 0)
		j->io_error = errno ? errno : EIO;
}

/* Every login that users= names must have its user: line. */
static void check_refs(struct build *j)
{
	char key[sizeof RULES_LOGIN_PREFIX + LOGIN_BUF], msg[RULES_ERR_MAX];

	for (size_t i = 0; i < j->nrefs; i++) {
		int n = snprintf(key, sizeof key, "%s%s", RULES_LOGIN_PREFIX, j->refs[i].name);
		if (keyset_has(&j->keys, key, (size_t)n))
			continue;
		j->line = j->refs[i].line;
		snprintf(msg, sizeof msg, "users: no user:%s line defines the login '%s'",
			 j->refs[i].name, j->refs[i].name);
		report(j, msg);
	}
}

static void compile_lines(struct build *j, FILE *in)
{
	char buf[RULES_LINE_MAX + 1], err[RULES_ERR_MAX];
	struct node key;
	struct rule r;
	size_t len;
	int rc;

	while ((rc = read_line(in, buf, sizeof buf, &len)) >= 0) {
		j->line++;
		if (rc == 1) {
			snprintf(err, sizeof err, "line longer than %d octets", RULES_LINE_MAX);
			report(j, err);
			continue;
		}
		rc = rules_parse_line(buf, len, &key, &r, err, sizeof err);
		if (rc < 0)
			report(j, err);
		else if (rc >= 1)
			add_rule(j, &key, &r);
	}
	if (ferror(in))
		j->io_error = errno ? errno : EIO;
}

/* The mode and group the new cdb gets: those of the one it replaces, so
 * that an administrator who made it 0640 root:etrnd (it may hold cram=
 * secrets) keeps that; else 0644 and our own group (*gid -1). 0, or -1
 * with errno when cdb_path cannot be examined. */
static int old_attrs(const char *cdb_path, mode_t *mode, gid_t *gid)
{
	struct stat st;

	*mode = 0644;
	*gid = (gid_t)-1;
	if (stat(cdb_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode)) {
		*mode = st.st_mode & 0777;
		*gid = st.st_gid;
	}
	return 0;
}

/* Gives the temp file the old cdb's group and mode, makes it durable and
 * renames it over cdb_path; closes fd in every case. Returns 0; -1 when
 * nothing was installed (the temp file is still there; *what names the
 * step when it is not the write itself); or 1 when the new cdb is in place
 * and in use but the fsync of its directory (dir) failed, so that after a
 * crash the previous one may be back. errno is set for -1 and 1. *mode
 * gets the new cdb's mode. */
static int install(int fd, const char *tmp, const char *cdb_path, char *dir, size_t dirsize,
		   mode_t *mode, const char **what)
{
	gid_t gid;
	struct stat st;

	*what = NULL;
	if (dir_of(cdb_path, dir, dirsize) < 0) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	int rc = old_attrs(cdb_path, mode, &gid);
	if (rc < 0)
		*what = "unable to examine the cdb it replaces";
	else if (gid != (gid_t)-1 && fstat(fd, &st) == 0 && st.st_gid != gid &&
		 (rc = fchown(fd, (uid_t)-1, gid)) < 0)
		*what = "unable to give it the group of the cdb it replaces";
	if (rc < 0 || fchmod(fd, *mode) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, cdb_path) < 0)
		return -1;
	return fsync_dir(dir) < 0 ? 1 : 0;
}

static int open_temp(const char *cdb_path, char *tmp, size_t size)
{
	int n = snprintf(tmp, size, "%s.tmpXXXXXX", cdb_path);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(tmp, O_CLOEXEC);
}

/* cram= values are password equivalents: a database that holds them and
 * that every local user can read, or anyone but its owner can write, is
 * worth a warning (the exit status stays what it is). Group read is the
 * documented mode (0640, etrnd's group): which group is etrnd's is not
 * known here. */
static void warn_readable(struct build *j, const char *cdb_path, mode_t mode)
{
	if (!j->cram || !(mode & (S_IROTH | S_IWOTH | S_IWGRP)))
		return;
	fprintf(j->errs,
		"etrnd-rules: warning: %s holds cram= secrets (password equivalents) and is "
		"%s (mode %04o); make it readable only by root and etrnd's "
		"user (chgrp GROUP %s; chmod 0640 %s): later runs keep its mode and group\n",
		cdb_path, mode & S_IROTH ? "readable by everyone" : "writable by others",
		(unsigned)mode, cdb_path, cdb_path);
}

static int finish(struct build *j, int fd, const char *tmp, const char *cdb_path)
{
	char dir[4096];
	const char *what = NULL;
	mode_t mode = 0;

	if (j->errors) {
		cdb_make_finish(&j->cm); /* only to free its memory */
		close(fd);
		unlink(tmp);
		fprintf(j->errs, "%s: %lu error%s, %s not written\n", j->rules_path, j->errors,
			j->errors == 1 ? "" : "s", cdb_path);
		return COMPILE_BAD_RULES;
	}
	int finished = cdb_make_finish(&j->cm);
	int rc = -1;
	if (j->io_error || finished < 0) {
		if (!j->io_error)
			j->io_error = errno;
		close(fd);
	} else {
		rc = install(fd, tmp, cdb_path, dir, sizeof dir, &mode, &what);
	}
	if (rc < 0) {
		int e = j->io_error ? j->io_error : errno;
		unlink(tmp);
		fprintf(j->errs, "etrnd-rules: unable to write %s%s%s: %s\n", cdb_path,
			what ? ": " : "", what ? what : "", strerror(e));
		return COMPILE_IO_ERROR;
	}
	int e = errno;
	warn_readable(j, cdb_path, mode);
	if (rc > 0) {
		/* Not "unable to write": the new database is live. Only its
		 * survival across a crash is in doubt, and running etrnd-rules
		 * again is the remedy, hence a temporary failure. */
		fprintf(j->errs,
			"etrnd-rules: %s is in place and in use, but the fsync of directory %s "
			"failed: %s; after a crash the previous database may be back, so run "
			"etrnd-rules again\n",
			cdb_path, dir, strerror(e));
		return COMPILE_IO_ERROR;
	}
	return COMPILE_OK;
}

int rules_compile(const char *rules_path, const char *cdb_path, FILE *errs, unsigned long *nrules)
{
	char tmp[4096];
	struct build j = {.rules_path = rules_path, .errs = errs};

	FILE *in = fopen(rules_path, "re");
	if (!in) {
		fprintf(errs, "etrnd-rules: unable to open %s: %s\n", rules_path, strerror(errno));
		return COMPILE_IO_ERROR;
	}
	int fd = open_temp(cdb_path, tmp, sizeof tmp);
	if (fd < 0 || cdb_make_start(&j.cm, fd) < 0) {
		fprintf(errs, "etrnd-rules: unable to create a temp file for %s: %s\n", cdb_path,
			strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		fclose(in);
		return COMPILE_IO_ERROR;
	}
	compile_lines(&j, in);
	check_refs(&j);
	add_cram_mark(&j);
	fclose(in);
	int rc = finish(&j, fd, tmp, cdb_path);
	keyset_free(&j.keys);
	free(j.refs);
	*nrules = j.rules;
	return rc;
}
