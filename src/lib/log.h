/* SPDX-License-Identifier: ISC */
/* log.h: one line per event, "key=value" fields, sanitised.
 *
 *   etrnd[1234]: etrn client=192.0.2.7 node=client.example.net code=250
 *
 * Values are truncated to LOG_VALUE_MAX octets; octets outside printable
 * ASCII become '?'; a value with blanks is double-quoted. */
#ifndef ETRND_LOG_H
#define ETRND_LOG_H

#include <stddef.h>

#include "bounds.h"

enum log_target { LOGTO_STDERR, LOGTO_SYSLOG };

/* prog must outlive the program (argv[0] basename or a literal). */
void log_init(const char *prog, enum log_target target);
/* The pid the lines carry: getpid() as log_init() found it, else now. */
long log_pid(void);
/* Under inetd and xinetd fd 2 is the client socket: then stderr is not a log. */
int log_stderr_is_client(void);
/* Redirects stderr-mode output to fd (tests). */
void log_set_fd(int fd);

struct logline {
	size_t len;
	char buf[LOG_LINE_MAX];
};

void ll_start(struct logline *l, const char *event);
void ll_str(struct logline *l, const char *key, const char *value);
void ll_mem(struct logline *l, const char *key, const char *value, size_t len);
/* The same with a limit of its own, up to LOG_TEXT_MAX: a command's output
 * line, which is the point of its log line. */
void ll_long(struct logline *l, const char *key, const char *value, size_t len, size_t max);
void ll_num(struct logline *l, const char *key, long value);
void ll_emit(struct logline *l);

/* A whole line from a format, for the rare messages (fatal errors). */
void log_msg(const char *event, const char *key, const char *value);

#endif
