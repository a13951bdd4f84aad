/* SPDX-License-Identifier: ISC */
/* authcheck.c: see authcheck.h. An unknown login, a login without the
 * secret the mechanism needs, and a wrong answer all cost the same work
 * and get the same reply; only the log tells them apart. */
#include "authcheck.h"

#include <string.h>
#include <time.h>

#include "log.h"
#include "md5.h"
#include "passwd.h"
#include "ruleparse.h"

static const char *const mech_names[] = {
    [MECH_PLAIN] = "PLAIN", [MECH_LOGIN] = "LOGIN", [MECH_CRAM] = "CRAM-MD5"};

static int same_hex(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* HMAC-MD5(secret, challenge) in hex against the client's digest. A login
 * without cram= is checked against a secret nobody has. */
static int cram_ok(const char *cram, const char *challenge, const char *digest)
{
	static const char nobody[CRAM_HEX + 1] =
	    "00000000000000000000000000000000ffffffffffffffffffffffffffffffff";
	struct cram_secret c;
	unsigned char mac[16];
	char hex[33];

	if (cram_parse(cram ? cram : nobody, CRAM_HEX, &c) < 0)
		return 0;
	cram_hmac(&c, challenge, strlen(challenge), mac);
	for (size_t i = 0; i < 16; i++) {
		hex[2 * i] = "0123456789abcdef"[mac[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[mac[i] & 15];
	}
	return same_hex(hex, digest, 32) && cram != NULL;
}

static void log_auth(const struct authcheck *k, const struct auth_attempt *a, const char *result,
		     const char *why)
{
	struct logline l;

	ll_start(&l, "auth");
	ll_str(&l, "client", k->client);
	ll_str(&l, "user", a->user[0] ? a->user : "-");
	ll_str(&l, "mech", mech_names[a->mech]);
	ll_str(&l, "result", result);
	if (why)
		ll_str(&l, "reason", why);
	ll_emit(&l);
}

/* After the n-th failure: n times AUTH_DELAY_MS, so guessing costs time. */
static void delay(unsigned failures)
{
	long ms = (long)(failures + 1) * AUTH_DELAY_MS;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

enum auth_result authcheck_try(void *ctx, const struct auth_attempt *a)
{
	struct authcheck *k = ctx;
	struct rule r;
	int found = a->user[0] ? policy_login(k->policy, a->user, &r) : 0;

	if (found < 0) {
		log_auth(k, a, "tempfail", "cdb-error");
		return AUTH_TEMP;
	}
	int ok;
	if (a->mech == MECH_CRAM)
		ok = cram_ok(found && r.cram[0] ? r.cram : NULL, a->challenge, a->digest);
	else
		ok = passwd_check(found && r.password[0] ? r.password : NULL, a->pass);
	if (ok < 0) {
		log_auth(k, a, "tempfail", passwd_error());
		return AUTH_TEMP;
	}
	log_auth(k, a, ok ? "ok" : "failed", ok ? NULL : found ? "bad-credentials" : "no-login");
	if (ok)
		return AUTH_OK;
	delay(a->failures);
	return AUTH_BAD;
}

int authcheck_cram_offered(struct policy *p)
{
	struct rule r;
	return policy_login(p, RULES_CRAM_MARK, &r) == 1;
}
