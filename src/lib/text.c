/* SPDX-License-Identifier: ISC */
/* text.c: the printable-text checks and the sanitising copy that every
 * reply, log line and cdb value goes through; see text.h. */
#include "text.h"

int text_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!text_char((unsigned char)s[i]))
			return 0;
	return 1;
}

int text_word(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!text_char((unsigned char)s[i]) || s[i] == ' ')
			return 0;
	return 1;
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

int text_caseeq(const char *word, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!word[i] || fold((unsigned char)word[i]) != fold((unsigned char)s[i]))
			return 0;
	return word[len] == '\0';
}

size_t text_sanitize(char *out, size_t size, const char *s, size_t len)
{
	size_t n = 0;

	if (size == 0)
		return 0;
	for (; n < len && n + 1 < size; n++)
		out[n] = text_char((unsigned char)s[n]) ? s[n] : '?';
	out[n] = '\0';
	return n;
}
