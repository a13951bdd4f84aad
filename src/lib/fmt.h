/* SPDX-License-Identifier: ISC */
/* fmt.h: decimal numbers and the few printf conversions that replies and
 * log lines use, without stdio. On every session's path: printf's
 * machinery (vfprintf and its large stack frame) cost a tenth of a static
 * session's instructions and page faults of its own (make bench). */
#ifndef ETRND_FMT_H
#define ETRND_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* The longest decimal long long, sign included. */
#define FMT_NUM_MAX 20

/* v in decimal into out[FMT_NUM_MAX] (no NUL), zero-padded to width
 * digits (at most FMT_NUM_MAX - 1). Returns the length. */
size_t fmt_num(char *out, long long v, size_t width);

/* Like vsnprintf() for the conversions %s, %d, %ld, %lu and %%, and no
 * others (no flags, width or precision): into buf[size], NUL-terminated
 * and cut to fit when size > 0. Returns the length stored. */
size_t fmt_v(char *buf, size_t size, const char *format, va_list ap);
size_t fmt(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

#endif
