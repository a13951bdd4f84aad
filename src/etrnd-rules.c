/* SPDX-License-Identifier: ISC */
/* etrnd-rules: compile etrn.rules into etrn.cdb, or change nothing; -p and
 * -c turn a password read from stdin into the password= or cram= value of
 * a user: line, so that no password is ever written into the rules. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lib/exits.h"
#include "lib/md5.h"
#include "lib/passwd.h"
#include "lib/rulecompile.h"
#include "lib/sasl.h"

static void usage(void)
{
	fputs("usage: etrnd-rules RULES CDB\n"
	      "       etrnd-rules -p | -c     (password on stdin)\n",
	      stderr);
}

/* One line from stdin, without echo when stdin is a terminal. */
static int read_password(char *buf, size_t size)
{
	struct termios old, quiet;
	int tty = tcgetattr(0, &old) == 0;

	if (tty) {
		fputs("Password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	char *ok = fgets(buf, (int)size, stdin);
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	size_t len = ok ? strcspn(buf, "\r\n") : 0;
	if (ok && buf[len] == '\0' && !feof(stdin) && len == size - 1)
		return -1; /* longer than the buffer */
	buf[len] = '\0';
	return ok && len > 0 && len <= SASL_FIELD_MAX ? 0 : -1;
}

static int secret(int cram)
{
	char pass[SASL_FIELD_MAX + 2], out[PASSWD_HASH_MAX + 1];
	struct cram_secret c;

	if (read_password(pass, sizeof pass) < 0) {
		fprintf(stderr, "etrnd-rules: a password of 1 to %d octets on one line\n",
			SASL_FIELD_MAX);
		return EXIT_PERM;
	}
	if (cram) {
		cram_secret(pass, strlen(pass), &c);
		cram_format(&c, out);
	} else if (passwd_hash(pass, out, sizeof out) < 0) {
		explicit_bzero(pass, sizeof pass);
		fprintf(stderr, "etrnd-rules: unable to hash the password%s%s\n",
			passwd_error() ? ": " : "", passwd_error() ? passwd_error() : "");
		return EXIT_TEMP;
	}
	explicit_bzero(pass, sizeof pass);
	printf("%s=%s\n", cram ? "cram" : "password", out);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;

	if (argc == 2 && (strcmp(argv[1], "-p") == 0 || strcmp(argv[1], "-c") == 0))
		return secret(argv[1][1] == 'c');
	if (argc != 3 || argv[1][0] == '-') {
		usage();
		return COMPILE_BAD_RULES;
	}
	int rc = rules_compile(argv[1], argv[2], stderr, &n);
	if (rc == COMPILE_OK)
		printf("etrnd-rules: %lu rule%s written to %s\n", n, n == 1 ? "" : "s", argv[2]);
	return rc;
}
