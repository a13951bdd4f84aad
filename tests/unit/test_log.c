/* SPDX-License-Identifier: ISC */
/* Log lines: key=value, sanitised, bounded. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

Test(log, values_are_sanitised_and_quoted)
{
	struct logline l;
	ll_start(&l, "etrn");
	ll_str(&l, "node", "a.example");
	ll_mem(&l, "evil", "x\r\n250 ok\0\"\\", 12);
	ll_str(&l, "reason", "two words");
	ll_str(&l, "empty", "");
	ll_num(&l, "code", 458);
	l.buf[l.len] = '\0';
	cr_assert_str_eq(l.buf, "etrn node=a.example evil=\"x??250 ok???\" reason=\"two words\" "
				"empty=\"\" code=458");
}

Test(log, values_and_lines_are_bounded)
{
	struct logline l;
	char big[5000];
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ll_start(&l, "x");
	ll_str(&l, "a", big);
	cr_assert_eq(l.len, strlen("x a=") + LOG_VALUE_MAX);
	for (int i = 0; i < 50; i++)
		ll_str(&l, "a", big);
	cr_assert_lt(l.len, sizeof l.buf);
}

Test(log, stderr_line_format)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	log_init("etrnd", LOGTO_STDERR);
	log_set_fd(p[1]);
	log_msg("fatal", "reason", "disk full");
	close(p[1]);
	char buf[200] = "", want[200];
	cr_assert_gt(read(p[0], buf, sizeof buf - 1), 0);
	snprintf(want, sizeof want, "etrnd[%ld]: fatal reason=\"disk full\"\n", (long)getpid());
	cr_assert_str_eq(buf, want);
}
