/* SPDX-License-Identifier: ISC */
/* fmt.c: see fmt.h. */
#include "fmt.h"

#include <string.h>

static size_t digits(char *out, unsigned long long u, int minus, size_t width)
{
	char d[FMT_NUM_MAX];
	size_t i = sizeof d;

	if (width > FMT_NUM_MAX - 1)
		width = FMT_NUM_MAX - 1;
	do
		d[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0 || sizeof d - i < width);
	if (minus)
		d[--i] = '-';
	memcpy(out, d + i, sizeof d - i);
	return sizeof d - i;
}

size_t fmt_num(char *out, long long v, size_t width)
{
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
	return digits(out, u, v < 0, width);
}

struct sink {
	char *buf;
	size_t room, n; /* room: octets that fit before the NUL */
};

static void put(struct sink *k, const char *s, size_t len)
{
	if (len > k->room - k->n)
		len = k->room - k->n;
	memcpy(k->buf + k->n, s, len);
	k->n += len;
}

/* One conversion at f (after '%'): the number of format octets it took. */
static size_t convert(struct sink *k, const char *f, va_list *ap)
{
	char d[FMT_NUM_MAX];

	switch (f[0]) {
	case 's': {
		const char *s = va_arg(*ap, const char *);
		put(k, s, strlen(s));
		return 1;
	}
	case 'd': put(k, d, fmt_num(d, va_arg(*ap, int), 1)); return 1;
	case 'l':
		if (f[1] == 'd') {
			put(k, d, fmt_num(d, va_arg(*ap, long), 1));
			return 2;
		}
		if (f[1] == 'u') {
			put(k, d, digits(d, va_arg(*ap, unsigned long), 0, 1));
			return 2;
		}
		break;
	case '%': put(k, "%", 1); return 1;
	default: break;
	}
	put(k, "%", 1); /* not a conversion fmt knows: copied as it stands */
	return 0;
}

size_t fmt_v(char *buf, size_t size, const char *format, va_list ap)
{
	struct sink k = {buf, size ? size - 1 : 0, 0};
	va_list aq;

	if (size == 0)
		return 0;
	va_copy(aq, ap);
	for (const char *f = format; *f;) {
		const char *pct = strchr(f, '%');
		size_t lit = pct ? (size_t)(pct - f) : strlen(f);
		put(&k, f, lit);
		if (!pct)
			break;
		f = pct + 1;
		f += convert(&k, f, &aq);
	}
	va_end(aq);
	buf[k.n] = '\0';
	return k.n;
}

size_t fmt(char *buf, size_t size, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	size_t n = fmt_v(buf, size, format, ap);
	va_end(ap);
	return n;
}
