/* SPDX-License-Identifier: ISC */
/* passwd.c: see passwd.h. crypt_rn() keeps its state on our stack; the
 * comparison runs over the whole hash whatever differs first. */
#include "passwd.h"

#include <crypt.h>
#include <string.h>

/* A valid yescrypt setting with the default cost, for unknown logins. */
static const char dummy[] = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$";

static int same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int passwd_check(const char *hash, const char *pass)
{
	struct crypt_data cd;
	const char *setting = hash && passwd_hash_ok(hash, strlen(hash)) ? hash : dummy;
	/* the dummy is a setting, not a hash: crypt_rn() accepts both */

	memset(&cd, 0, sizeof cd);
	const char *out = crypt_rn(pass, setting, &cd, sizeof cd);
	int ok = out && hash && setting == hash && same(out, hash);
	explicit_bzero(&cd, sizeof cd);
	return ok;
}

int passwd_hash(const char *pass, char *out, size_t size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt))
		return -1;
	memset(&cd, 0, sizeof cd);
	const char *h = crypt_rn(pass, salt, &cd, sizeof cd);
	int rc = h && h[0] == '$' && strlen(h) < size ? 0 : -1;
	if (rc == 0)
		memcpy(out, h, strlen(h) + 1);
	explicit_bzero(&cd, sizeof cd);
	return rc;
}

/* The methods accepted in password=, and the length of their hash part
 * (the text after the last '$'). */
static const struct {
	const char *prefix;
	size_t hashlen;
} methods[] = {
    {"$y$", 43},               /* yescrypt, the default */
    {"$gy$", 43},              /* gost-yescrypt */
    {"$7$", 43},               /* scrypt */
    {"$2b$", 53},              /* bcrypt: salt and hash in one field */
    {"$2y$", 53}, {"$6$", 86}, /* sha512crypt; sha256crypt ($5$) libxcrypt calls legacy */
};

static int crypt64(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
			    s[i]) ||
		    s[i] == '\0')
			return 0;
	return 1;
}

int passwd_hash_ok(const char *hash, size_t len)
{
	char h[PASSWD_HASH_MAX + 1];

	if (len == 0 || len > PASSWD_HASH_MAX || memchr(hash, '\0', len))
		return 0;
	memcpy(h, hash, len);
	h[len] = '\0';
	const char *last = strrchr(h, '$');
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strncmp(h, methods[i].prefix, strlen(methods[i].prefix)) == 0)
			return last && strlen(last + 1) == methods[i].hashlen &&
			       crypt64(last + 1, methods[i].hashlen) &&
			       crypt_checksalt(h) == CRYPT_SALT_OK;
	return 0;
}
