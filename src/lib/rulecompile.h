/* SPDX-License-Identifier: ISC */
/* rulecompile.h: rules file -> cdb, validated, written atomically. */
#ifndef ETRND_RULECOMPILE_H
#define ETRND_RULECOMPILE_H

#include <stdio.h>

#include "exits.h"

/* Exit statuses, as etrnd-rules returns them. */
#define COMPILE_OK EXIT_OK
#define COMPILE_BAD_RULES EXIT_PERM
#define COMPILE_IO_ERROR EXIT_TEMP

/* Compiles rules_path into cdb_path. Every error goes to errs as
 * "FILE:LINE: reason"; on any error nothing is written. *nrules gets the
 * number of rules compiled. */
int rules_compile(const char *rules_path, const char *cdb_path, FILE *errs, unsigned long *nrules);

#endif
