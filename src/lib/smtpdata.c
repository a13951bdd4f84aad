/* SPDX-License-Identifier: ISC */
/* smtpdata.c: turns a held message into SMTP DATA (CRLF, dot-stuffing,
 * the final dot) without changing anything else; see smtpdata.h. */
#include "smtpdata.h"

void smtpdata_init(struct smtpdata *s)
{
	s->bol = 1;
	s->cr = 0;
}

size_t smtpdata_put(struct smtpdata *s, const char *in, size_t len, size_t *used, char *out,
		    size_t size)
{
	size_t i = 0, n = 0;

	/* each input octet gives at most two output octets */
	for (; i < len && n + 2 <= size; i++) {
		char c = in[i];
		if (c == '.' && (s->bol || s->cr)) /* after a bare CR too: see .h */
			out[n++] = '.';
		if (c == '\n' && !s->cr)
			out[n++] = '\r';
		out[n++] = c;
		s->bol = c == '\n';
		s->cr = c == '\r';
	}
	*used = i;
	return n;
}

size_t smtpdata_end(const struct smtpdata *s, char *out)
{
	size_t n = 0;

	if (!s->bol) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	out[n++] = '.';
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

size_t smtpdata_size(const char *p, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			n++;
	if (len > 0 && p[len - 1] != '\n')
		n += 2;
	return n;
}

int smtpdata_8bit(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}
