/* SPDX-License-Identifier: ISC */
/* text.h: the one place that says which octets are printable text.
 *
 * etrnd never passes a client's or a file's raw octets on: replies, logs,
 * error messages and cdb values carry only text these functions accept
 * (or produced, with '?' in place of anything else). */
#ifndef ETRND_TEXT_H
#define ETRND_TEXT_H

#include <stddef.h>

/* Whether one octet is printable ASCII, space included (0x20-0x7e); inline,
 * as the log escapes every octet it writes through it. */
static inline int text_char(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}
/* Printable ASCII, space included (0x20-0x7e). */
int text_printable(const char *s, size_t len);
/* Printable ASCII without space: an SMTP verb or parameter, a word. */
int text_word(const char *s, size_t len);
/* Whether s[0..len) is the word (NUL-terminated, ASCII), ASCII letters
 * in either case: SMTP verbs and keywords. The C library's strncasecmp()
 * would consult the locale's table, one more page a session touches. */
int text_caseeq(const char *word, const char *s, size_t len);
/* Copies s[0..len) into out[size] (NUL-terminated, truncated), each octet
 * outside 0x20-0x7e replaced by '?'. Returns the length written. */
size_t text_sanitize(char *out, size_t size, const char *s, size_t len);

#endif
