/* SPDX-License-Identifier: ISC */
/* login.c: the one check of a login name's syntax, used by the rules
 * parser, the cdb codec and AUTH; see login.h. */
#include "login.h"

#include <string.h>

int login_parse(char *out, const char *s, size_t len)
{
	if (len == 0 || len > LOGIN_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("._@+-", c)) ||
		    c == '\0')
			return -1;
		out[i] = c;
	}
	out[len] = '\0';
	return 0;
}
