/* SPDX-License-Identifier: ISC */
/* passwd.c: see passwd.h. crypt_rn() keeps its state on our stack; the
 * comparison runs over the whole hash whatever differs first. libcrypt is
 * opened the first time a hash is looked at (dynlib.h). */
#include "passwd.h"

#include <crypt.h>
#include <string.h>

#include "dynlib.h"

#ifndef ETRND_STATIC
_Static_assert(sizeof LIBCRYPT_SONAME > 1,
	       "no soname for libcrypt: is its -dev package installed? (make deps)");
#endif

/* Every libcrypt function used here, called as C.name(...). */
#define LIBCRYPT_FUNCS(X) X(crypt_rn) X(crypt_gensalt_rn) X(crypt_checksalt)

static struct libcrypt {
#define X(f) __typeof__(f) *f; /* NOLINT(bugprone-macro-parentheses): a name */
	LIBCRYPT_FUNCS(X)
#undef X
} C
#ifdef ETRND_STATIC
    =
	{
#define X(f) .f = f,
	    LIBCRYPT_FUNCS(X)
#undef X
}
#endif
;

static char open_error[200];

/* Opens libcrypt (once): 0, or -1 (passwd_error() says why). */
static int open_libcrypt(void)
{
#ifdef ETRND_STATIC
	return 0;
#else
	static const struct dynsym syms[] = {
#define X(f) {#f, (void **)&C.f},
	    LIBCRYPT_FUNCS(X)
#undef X
	};
	return dynlib_open(LIBCRYPT_SONAME, syms, sizeof syms / sizeof syms[0], open_error,
			   sizeof open_error);
#endif
}

const char *passwd_error(void)
{
	return open_error[0] ? open_error : NULL;
}

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
	if (open_libcrypt() < 0)
		return -1;
	const char *setting = hash && passwd_hash_ok(hash, strlen(hash)) ? hash : dummy;
	/* the dummy is a setting, not a hash: crypt_rn() accepts both */

	memset(&cd, 0, sizeof cd);
	const char *out = C.crypt_rn(pass, setting, &cd, sizeof cd);
	int ok = out && hash && setting == hash && same(out, hash);
	explicit_bzero(&cd, sizeof cd);
	return ok;
}

int passwd_hash(const char *pass, char *out, size_t size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;

	if (open_libcrypt() < 0 || !C.crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt))
		return -1;
	memset(&cd, 0, sizeof cd);
	const char *h = C.crypt_rn(pass, salt, &cd, sizeof cd);
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

	if (len == 0 || len > PASSWD_HASH_MAX || memchr(hash, '\0', len) || open_libcrypt() < 0)
		return 0;
	memcpy(h, hash, len);
	h[len] = '\0';
	const char *last = strrchr(h, '$');
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strncmp(h, methods[i].prefix, strlen(methods[i].prefix)) == 0)
			return last && strlen(last + 1) == methods[i].hashlen &&
			       crypt64(last + 1, methods[i].hashlen) &&
			       C.crypt_checksalt(h) == CRYPT_SALT_OK;
	return 0;
}
