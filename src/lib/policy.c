/* policy.c: the cdb is opened on the first ETRN of a session and kept
 * (mmap), so a session costs nothing when nobody says ETRN, and each new
 * connection sees the database etrnd-rules last renamed into place. */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void policy_init(struct policy *p, const char *cdb_path)
{
	p->path = cdb_path;
	p->fd = -1;
}

void policy_close(struct policy *p)
{
	if (p->fd < 0)
		return;
	cdb_free(&p->cdb);
	close(p->fd);
	p->fd = -1;
}

void policy_refresh(struct policy *p)
{
	struct stat mapped, now;

	if (p->fd < 0)
		return;
	/* fstat here, not at open: etrnd opens once per session and never asks */
	if (fstat(p->fd, &mapped) < 0 || stat(p->path, &now) < 0 || now.st_ino != mapped.st_ino ||
	    now.st_dev != mapped.st_dev || now.st_size != mapped.st_size ||
	    now.st_mtim.tv_sec != mapped.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != mapped.st_mtim.tv_nsec)
		policy_close(p);
}

static int policy_open(struct policy *p)
{
	if (p->fd >= 0)
		return 0;
	int fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (cdb_init(&p->cdb, fd) < 0) {
		int e = errno;
		close(fd);
		errno = e ? e : EPROTO;
		return -1;
	}
	p->fd = fd;
	return 0;
}

/* 1 found and decoded, 0 absent, -1 error. */
static int find(struct policy *p, const char *key, size_t len, struct rule *r)
{
	int rc = cdb_find(&p->cdb, key, (unsigned)len);
	if (rc <= 0) {
		if (rc < 0 && errno == 0)
			errno = EPROTO;
		return rc;
	}
	unsigned vlen = cdb_datalen(&p->cdb);
	const unsigned char *v = cdb_get(&p->cdb, vlen, cdb_datapos(&p->cdb));
	if (!v || rule_decode(r, v, vlen) < 0) {
		errno = EPROTO;
		return -1;
	}
	return 1;
}

static int try_key(struct policy *p, char *key, const char *s, size_t len, int at, struct rule *r)
{
	size_t n = 0;
	if (at)
		key[n++] = '@';
	memcpy(key + n, s, len);
	key[n + len] = '\0';
	return find(p, key, n + len, r);
}

int policy_lookup(struct policy *p, const struct node *n, char *key, struct rule *r)
{
	const char *name = n->name;
	size_t len = n->len;
	int rc;

	errno = 0;
	if (policy_open(p) < 0)
		return -1;
	if (n->kind != NODE_DOMAIN) {
		rc = try_key(p, key, name, len, 0, r);
		if (rc != 0 || n->kind != NODE_HOST)
			return rc;
	} else {
		name++, len--; /* walk from the domain itself */
	}
	while (len > 0) {
		rc = try_key(p, key, name, len, 1, r);
		if (rc != 0)
			return rc;
		const char *dot = memchr(name, '.', len);
		if (!dot)
			break;
		len -= (size_t)(dot + 1 - name);
		name = dot + 1;
	}
	return 0;
}

int policy_client_ok(const struct rule *r, const struct addr *client)
{
	if (r->nallow == 0)
		return 1;
	for (size_t i = 0; i < r->nallow; i++)
		if (cidr_match(&r->allow[i], client))
			return 1;
	return 0;
}
