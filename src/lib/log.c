/* SPDX-License-Identifier: ISC */
/* log.c: one sanitised key=value line per event, to stderr or syslog;
 * untrusted values are truncated and never carry control octets. */
#include "log.h"

#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "fmt.h"
#include "fsutil.h"
#include "text.h"

/* One initialised struct: it lives in .data, whose page every process
 * touches anyway, rather than on a page of .bss of its own (a page fault
 * in every session). */
static struct {
	const char *prog;
	enum log_target to;
	int fd;
	long pid; /* getpid() once: the prefix of every line */
} lg = {"etrnd", LOGTO_STDERR, 2, 0};

void log_init(const char *prog, enum log_target target)
{
	lg.prog = prog;
	lg.to = target;
	lg.pid = (long)getpid();
	if (target == LOGTO_SYSLOG)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

long log_pid(void)
{
	return lg.pid ? lg.pid : (long)getpid();
}

void log_set_fd(int fd)
{
	lg.fd = fd;
}

int log_stderr_is_client(void)
{
	struct stat s0, s2;

	if (fstat(0, &s0) < 0 || fstat(2, &s2) < 0)
		return 0;
	return S_ISSOCK(s2.st_mode) && s0.st_dev == s2.st_dev && s0.st_ino == s2.st_ino;
}

static void put(struct logline *l, const char *s, size_t n)
{
	if (n > sizeof l->buf - 1 - l->len)
		n = sizeof l->buf - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

void ll_start(struct logline *l, const char *event)
{
	l->len = 0;
	put(l, event, strlen(event));
}

void ll_mem(struct logline *l, const char *key, const char *value, size_t len)
{
	ll_long(l, key, value, len, LOG_VALUE_MAX);
}

void ll_long(struct logline *l, const char *key, const char *value, size_t len, size_t max)
{
	char v[LOG_TEXT_MAX + 2];
	size_t n = 0;
	int quote = len == 0;

	if (max > LOG_TEXT_MAX)
		max = LOG_TEXT_MAX;
	if (len > max)
		len = max;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == ' ')
			quote = 1;
		v[n++] = (!text_char(c) || c == '"' || c == '\\') ? '?' : (char)c;
	}
	put(l, " ", 1);
	put(l, key, strlen(key));
	put(l, "=", 1);
	if (quote)
		put(l, "\"", 1);
	put(l, v, n);
	if (quote)
		put(l, "\"", 1);
}

void ll_str(struct logline *l, const char *key, const char *value)
{
	ll_mem(l, key, value, strlen(value));
}

void ll_num(struct logline *l, const char *key, long value)
{
	char v[FMT_NUM_MAX];
	ll_mem(l, key, v, fmt_num(v, value, 1));
}

void ll_emit(struct logline *l)
{
	char out[LOG_LINE_MAX + 64];

	l->buf[l->len] = '\0';
	if (lg.to == LOGTO_SYSLOG) {
		syslog(LOG_INFO, "%s", l->buf);
		return;
	}
	size_t n = fmt(out, sizeof out - 1, "%s[%ld]: %s", lg.prog, log_pid(), l->buf);
	out[n++] = '\n';
	write_all(lg.fd, out, n);
}

void log_msg(const char *event, const char *key, const char *value)
{
	struct logline l;

	ll_start(&l, event);
	if (key)
		ll_str(&l, key, value);
	ll_emit(&l);
}
