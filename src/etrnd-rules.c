/* SPDX-License-Identifier: ISC */
/* etrnd-rules: compile etrn.rules into etrn.cdb, or change nothing. */
#include <stdio.h>

#include "lib/rulecompile.h"

int main(int argc, char **argv)
{
	unsigned long n = 0;

	if (argc != 3) {
		fputs("usage: etrnd-rules RULES CDB\n", stderr);
		return COMPILE_BAD_RULES;
	}
	int rc = rules_compile(argv[1], argv[2], stderr, &n);
	if (rc == COMPILE_OK)
		printf("etrnd-rules: %lu rule%s written to %s\n", n, n == 1 ? "" : "s", argv[2]);
	return rc;
}
