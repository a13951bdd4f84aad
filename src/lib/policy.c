/* SPDX-License-Identifier: ISC */
/* policy.c: the cdb is opened on the first ETRN of a session and kept, so
 * a session costs nothing when nobody says ETRN, and each new connection
 * sees the database etrnd-rules last renamed into place. */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbget.h"

void policy_init(struct policy *p, const char *cdb_path)
{
	p->path = cdb_path;
	p->fd = -1;
}

void policy_close(struct policy *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

void policy_refresh(struct policy *p)
{
	struct stat open_st, now;

	if (p->fd < 0)
		return;
	if (fstat(p->fd, &open_st) < 0 || stat(p->path, &now) < 0 || now.st_ino != open_st.st_ino ||
	    now.st_dev != open_st.st_dev)
		policy_close(p);
}

static int policy_open(struct policy *p)
{
	if (p->fd >= 0)
		return 0;
	p->fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return p->fd < 0 ? -1 : 0;
}

/* A value up to VALUE_ON_STACK octets (most rules) is read into a buffer
 * on the stack, in pages the session's deeper calls touch anyway; a
 * longer one (many users=, a long run=) is read again into the static
 * buffer of the largest, a page fault of its own (make bench). */
#define VALUE_ON_STACK 512

/* 1 found and decoded, 0 absent, -1 error. */
static int find(struct policy *p, const char *key, size_t len, struct rule *r)
{
	static unsigned char large[RULE_VALUE_MAX];
	unsigned char small[VALUE_ON_STACK];
	unsigned char *v = small;
	size_t vlen;

	int rc = cdbget(p->fd, key, len, small, sizeof small, &vlen);
	if (rc < 0 && errno == EMSGSIZE && vlen <= sizeof large) {
		v = large;
		rc = cdbget(p->fd, key, len, large, sizeof large, &vlen);
	}
	if (rc < 0 && errno == EMSGSIZE)
		errno = EPROTO; /* over RULE_VALUE_MAX: not what etrnd-rules writes */
	if (rc <= 0)
		return rc;
	if (rule_decode(r, v, vlen) < 0) {
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

/* ETRN @x.y: a deny= on the host rule x.y refuses the domain too. */
static int host_denies(struct policy *p, const char *name, size_t len, char *key, struct rule *r)
{
	int rc = try_key(p, key, name, len, 0, r);
	return rc < 0 ? -1 : rc == 1 && r->deny[0];
}

int policy_lookup(struct policy *p, const struct node *n, char *key, struct rule *r)
{
	const char *name = n->name;
	size_t len = n->len;
	int rc;

	if (policy_open(p) < 0)
		return -1;
	if (n->kind != NODE_DOMAIN) {
		rc = try_key(p, key, name, len, 0, r);
		if (rc != 0 || n->kind != NODE_HOST)
			return rc;
	} else {
		name++, len--; /* walk from the domain itself */
		if ((rc = host_denies(p, name, len, key, r)) != 0)
			return rc;
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

static const struct {
	const char *reason; /* NULL: the rule's deny= text */
	const char *log;
} outcomes[] = {
    [V_OK] = {"", ""},
    [V_DENIED] = {NULL, "denied"},
    [V_CLIENT] = {"client not authorized", "client-not-allowed"},
    [V_AUTH_REQUIRED] = {"authentication required", "auth-required"},
    [V_USER] = {"user not authorized", "user-not-allowed"},
};

static int client_listed(const struct rule *r, const struct addr *client)
{
	for (size_t i = 0; i < r->allow.n; i++)
		if (cidr_match(&r->allow.v[i], client))
			return 1;
	return 0;
}

static int user_listed(const struct rule *r, const char *user)
{
	for (size_t i = 0; user && i < r->users.n; i++)
		if (strcmp(r->users.v[i], user) == 0)
			return 1;
	return 0;
}

enum verdict policy_authorize(const struct rule *r, const struct asker *who)
{
	if (r->deny[0])
		return V_DENIED;
	if ((r->allow.n == 0 && r->users.n == 0) || client_listed(r, who->client) ||
	    user_listed(r, who->user))
		return V_OK;
	if (r->users.n == 0)
		return V_CLIENT;
	return who->user ? V_USER : V_AUTH_REQUIRED;
}

int policy_login(struct policy *p, const char *name, struct rule *r)
{
	char key[NODE_BUF];
	int n = snprintf(key, sizeof key, "user:%s", name);

	if (n < 0 || (size_t)n >= sizeof key || policy_open(p) < 0)
		return -1;
	return find(p, key, (size_t)n, r);
}

const char *verdict_reason(enum verdict v, const struct rule *r)
{
	return outcomes[v].reason ? outcomes[v].reason : r->deny;
}

const char *verdict_log(enum verdict v)
{
	return outcomes[v].log;
}
