/* SPDX-License-Identifier: ISC */
/* rulecompile.h: rules file -> cdb, validated, written atomically. */
#ifndef ETRND_RULECOMPILE_H
#define ETRND_RULECOMPILE_H

#include <stdio.h>

/* Exit statuses, as etrnd-rules returns them. */
#define COMPILE_OK 0
#define COMPILE_BAD_RULES 100
#define COMPILE_IO_ERROR 111

/* Compiles rules_path into cdb_path. Every error goes to errs as
 * "FILE:LINE: reason"; on any error nothing is written. *nrules gets the
 * number of rules compiled. */
int rules_compile(const char *rules_path, const char *cdb_path, FILE *errs, unsigned long *nrules);

#endif
