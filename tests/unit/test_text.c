/* SPDX-License-Identifier: ISC */
/* text: which octets count as printable text, and the ASCII-only
 * case-insensitive match of SMTP verbs and keywords. */
#include <criterion/criterion.h>
#include <string.h>

#include "text.h"

Test(text, caseeq_ignores_ascii_case_only)
{
	cr_expect(text_caseeq("ETRN", "etrn", 4));
	cr_expect(text_caseeq("ETRN", "eTrN", 4));
	cr_expect(text_caseeq("CRAM-MD5", "cram-md5", 8));
	cr_expect(!text_caseeq("ETRN", "ETRM", 4));
	/* 0x40-0x5f and 0x60-0x7f differ by 0x20 outside the letters too */
	cr_expect(!text_caseeq("@", "`", 1));
	cr_expect(!text_caseeq("[", "{", 1));
	cr_expect(!text_caseeq("A", "\xc1", 1));
	cr_expect(!text_caseeq("A", "\xe1", 1));
}

Test(text, caseeq_needs_the_whole_word_and_no_more)
{
	cr_expect(!text_caseeq("ETRN", "ETR", 3));   /* a prefix of the word */
	cr_expect(!text_caseeq("ETRN", "ETRNX", 5)); /* longer than the word */
	cr_expect(!text_caseeq("HELO", "HEL\0", 4)); /* a NUL is no letter */
	cr_expect(text_caseeq("", "anything", 0));
	cr_expect(!text_caseeq("QUIT", "", 0));
}

Test(text, printable_word_and_sanitize)
{
	char out[8];

	cr_expect(text_printable("a b~", 4));
	cr_expect(!text_printable("a\tb", 3));
	cr_expect(text_word("a.b", 3));
	cr_expect(!text_word("a b", 3));
	cr_expect_eq(text_sanitize(out, sizeof out, "a\001\177bcdefgh", 10), 7);
	cr_expect_str_eq(out, "a??bcde");
}
