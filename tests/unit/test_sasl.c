/* SPDX-License-Identifier: ISC */
/* SASL pieces (base64, PLAIN, LOGIN fields), passwords and CRAM-MD5. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "md5.h"
#include "passwd.h"
#include "sasl.h"

static long dec(const char *s, char *out)
{
	long n = b64_decode(s, strlen(s), (unsigned char *)out, 64);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

Test(base64, rfc4648_vectors_both_ways)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[64];
	for (int i = 0; i < 7; i++) {
		cr_expect_eq(dec(enc[i], out), (long)strlen(plain[i]), "%s", enc[i]);
		cr_expect_str_eq(out, plain[i]);
		cr_expect_eq(
		    b64_encode((const unsigned char *)plain[i], strlen(plain[i]), out, sizeof out),
		    strlen(enc[i]));
		cr_expect_str_eq(out, enc[i]);
	}
}

Test(base64, anything_else_is_refused)
{
	static const char *const bad[] = {"Zg=",  "Zg",   "Z===", "Zm9v YmFy", "Zm9\n",
					  "Zh==", "Zm9=", "=Zg=", "Zg==Zg==",  "Zm-_"};
	char out[64];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(dec(bad[i], out), -1, "%s accepted", bad[i]);
	cr_expect_eq(b64_decode("Zm9vYmFy", 8, (unsigned char *)out, 5), -1, "output overflow");
}

Test(sasl, plain_message)
{
	struct sasl_login l;
	cr_assert_eq(sasl_plain((const unsigned char *)"\0bob\0secret", 11, &l), 0);
	cr_expect_str_eq(l.authzid, "");
	cr_expect_str_eq(l.user, "bob");
	cr_expect_str_eq(l.pass, "secret");
	cr_assert_eq(sasl_plain((const unsigned char *)"bob\0bob\0pw", 10, &l), 0);
	cr_expect_str_eq(l.authzid, "bob");
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {{"bob\0secret", 10},
		   {"\0\0secret", 9},
		   {"\0bob\0", 5},
		   {"\0bob\0se\0cret", 12},
		   {"", 0}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(sasl_plain((const unsigned char *)bad[i].s, bad[i].len, &l), -1,
			     "case %zu", i);
	char big[SASL_FIELD_MAX + 10] = {0};
	memset(big + 5, 'a', SASL_FIELD_MAX + 1);
	memcpy(big, "\0bob\0", 5);
	cr_expect_eq(sasl_plain((const unsigned char *)big, 5 + SASL_FIELD_MAX + 1, &l), -1,
		     "a password over 255 octets");
}

Test(passwd, hash_check_and_unknown_logins)
{
	char h[PASSWD_HASH_MAX + 1];
	cr_assert_eq(passwd_hash("secret", h, sizeof h), 0);
	cr_expect_eq(strncmp(h, "$y$", 3), 0, "yescrypt by default: %s", h);
	cr_expect(passwd_hash_ok(h, strlen(h)));
	cr_expect_eq(passwd_check(h, "secret"), 1);
	cr_expect_eq(passwd_check(h, "Secret"), 0);
	cr_expect_eq(passwd_check(NULL, "secret"), 0, "an unknown login never matches");
	cr_expect_eq(passwd_check("$y$j9T$x", "secret"), 0, "a malformed hash never matches");
	static const char *const bad[] = {"x", "$y$j9T$abc", "$1$abcdefgh$0123456789012345678901",
					  "", "$6$salt$short"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect(!passwd_hash_ok(bad[i], strlen(bad[i])), "%s accepted", bad[i]);
}

static void hex(const unsigned char d[16], char out[33])
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

Test(md5, rfc1321_vectors_and_rfc2195_example)
{
	static const char *const in[] = {
	    "", "abc", "message digest",
	    "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
	static const char *const want[] = {
	    "d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72",
	    "f96b697d7cb7938d525a2f31aaf161d0", "57edf4a22be3c955ac49da2e2107b67a"};
	unsigned char d[16];
	char h[33];
	struct md5 m;
	for (int i = 0; i < 4; i++) {
		md5_init(&m);
		md5_update(&m, in[i], strlen(in[i]));
		md5_final(&m, d);
		hex(d, h);
		cr_expect_str_eq(h, want[i]);
	}
	struct cram_secret c, back;
	const char *challenge = "<1896.697170952@postoffice.reston.mci.net>";
	cram_secret("tanstaaftanstaaf", 16, &c);
	cram_hmac(&c, challenge, strlen(challenge), d);
	hex(d, h);
	cr_expect_str_eq(h, "b913a602c7eda7a495b4e6e7334d3890", "RFC 2195 section 2");
	char text[65];
	cram_format(&c, text);
	cr_assert_eq(cram_parse(text, 64, &back), 0);
	cr_expect_eq(memcmp(&c, &back, sizeof c), 0);
	cr_expect_eq(cram_parse(text, 63, &back), -1);
	text[5] = 'G';
	cr_expect_eq(cram_parse(text, 64, &back), -1);
}
