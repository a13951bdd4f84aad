/* SPDX-License-Identifier: ISC */
/* login.h: the syntax of a login name (user:NAME in etrnd.rules(5)). */
#ifndef ETRND_LOGIN_H
#define ETRND_LOGIN_H

#include <stddef.h>

#define LOGIN_MAX 64
#define LOGIN_BUF (LOGIN_MAX + 1)

/* 1-64 octets of [a-z0-9._@+-] after folding to lower case. Writes the
 * folded name to out[LOGIN_BUF]; returns 0, or -1. */
int login_parse(char *out, const char *s, size_t len);

#endif
