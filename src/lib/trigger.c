/* trigger.c: maildir-style delivery of a trigger file. */
#include "trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "fsutil.h"

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

size_t trigger_name(const char *node, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)node; *p; p++) {
		if (n + 4 > size)
			return 0;
		if (plain(*p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (n == 0 || n >= size)
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

	for (const char *p = name; *p; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int hi = unhex(p[1]), lo = hi < 0 ? -1 : unhex(p[2]);
			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			if (plain((unsigned char)c) || c == 0)
				return -1; /* not the one encoding etrnd writes */
			p += 2;
		} else if (!plain((unsigned char)c)) {
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
	return 0;
}

static int fill_content(char *buf, size_t size, const struct trigger *t)
{
	int n = snprintf(buf, size, "version=%d\nnode=%s\nrule=%s\nclient=%s\ntime=%lld\npid=%ld\n",
			 TRIGGER_VERSION, t->node, t->rule, t->client, t->time, t->pid);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

static int write_file(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int trigger_write(const char *queuedir, const char *uniq, const struct trigger *t)
{
	char name[TRIGGER_NAME_MAX], tmp[PATH_MAX], dst[PATH_MAX], newdir[PATH_MAX];
	char content[4 * NODE_BUF + 128];

	int len = fill_content(content, sizeof content, t);
	if (len < 0)
		return -1;
	if (!trigger_name(t->node, name, sizeof name) ||
	    snprintf(tmp, sizeof tmp, "%s/tmp/%s", queuedir, uniq) >= (int)sizeof tmp ||
	    snprintf(dst, sizeof dst, "%s/new/%s", queuedir, name) >= (int)sizeof dst ||
	    snprintf(newdir, sizeof newdir, "%s/new", queuedir) >= (int)sizeof newdir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (write_file(tmp, content, (size_t)len) < 0 || rename(tmp, dst) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	/* The trigger is in place; a failed directory fsync only weakens
	 * durability across a crash, so it is reported but not undone. */
	return fsync_dir(newdir) < 0 ? -2 : 0;
}

void trigger_poke(const char *queuedir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof path, "%s/trigger", queuedir) >= (int)sizeof path)
		return;
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return; /* no FIFO, or nobody reading it: the runner rescans anyway */
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)!write(fd, "", 1);
	close(fd);
}

static int parse_digits(const char *v, size_t len, long long *out)
{
	long long n = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
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

static int parse_client(char *out, size_t size, const char *v, size_t len)
{
	struct addr a;
	char text[64];

	if (len == 7 && memcmp(v, "unknown", 7) == 0) {
		snprintf(out, size, "unknown");
		return 0;
	}
	if (addr_parse(&a, v, len) < 0)
		return -1;
	size_t n = addr_format(&a, text, sizeof text);
	if (n != len || memcmp(text, v, len) != 0 || n >= size)
		return -1;
	memcpy(out, text, n + 1);
	return 0;
}

static int parse_field(struct trigger_data *t, const char *k, size_t klen, const char *v,
		       size_t vlen)
{
	long long num;

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(k, s, klen) == 0)
	if (KEY("version"))
		return parse_digits(v, vlen, &num) == 0 && num == TRIGGER_VERSION ? 0 : -1;
	if (KEY("node"))
		return parse_key(t->node, v, vlen, 0);
	if (KEY("rule"))
		return parse_key(t->rule, v, vlen, NODE_RULEKEY);
	if (KEY("client"))
		return parse_client(t->client, sizeof t->client, v, vlen);
	if (KEY("time"))
		return parse_digits(v, vlen, &t->time);
	if (KEY("pid")) {
		if (parse_digits(v, vlen, &num) < 0 || num > 0x7fffffff)
			return -1;
		t->pid = (long)num;
		return 0;
	}
#undef KEY
	return -1;
}

int trigger_parse(const char *buf, size_t len, struct trigger_data *t, const char **why)
{
	static const char *const keys[] = {"version", "node", "rule", "client", "time", "pid"};
	unsigned seen = 0;
	size_t pos = 0;

	memset(t, 0, sizeof *t);
	*why = "not a trigger file";
	if (len == 0 || len > TRIGGER_FILE_MAX || buf[len - 1] != '\n' || memchr(buf, 0, len))
		return -1;
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		const char *eq = memchr(line, '=', (size_t)(nl - line));
		pos = (size_t)(nl - buf) + 1;
		if (!eq)
			return -1;
		size_t klen = (size_t)(eq - line), i;
		for (i = 0; i < 6; i++)
			if (strlen(keys[i]) == klen && memcmp(keys[i], line, klen) == 0)
				break;
		if (i == 6 || (seen & (1u << i))) {
			*why = i == 6 ? "unknown field" : "field given twice";
			return -1;
		}
		seen |= 1u << i;
		if (parse_field(t, line, klen, eq + 1, (size_t)(nl - eq - 1)) < 0) {
			*why = "invalid field";
			return -1;
		}
	}
	if (seen != 0x3f) {
		*why = "missing field";
		return -1;
	}
	return 0;
}
