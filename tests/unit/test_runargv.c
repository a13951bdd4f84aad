/* SPDX-License-Identifier: ISC */
/* run= templates into argv, and trigger files read back. */
#include <criterion/criterion.h>
#include <string.h>

#include "runargv.h"
#include "trigger.h"

Test(runargv, expands_escapes_inside_words_only)
{
	static const char tmpl[] = "/usr/sbin/sendmail\0-qR@%n\0%r:%c\0"
				   "100%%\0$(rm -rf /);%n";
	struct runargv a;
	cr_assert_eq(runargv_expand(&a, tmpl, sizeof tmpl, "client.example.net", "@example.net",
				    "192.0.2.7"),
		     0);
	cr_assert_eq(a.argc, 5);
	cr_assert_str_eq(a.argv[0], "/usr/sbin/sendmail");
	cr_assert_str_eq(a.argv[1], "-qR@client.example.net");
	cr_assert_str_eq(a.argv[2], "@example.net:192.0.2.7");
	cr_assert_str_eq(a.argv[3], "100%");
	cr_assert_str_eq(a.argv[4], "$(rm -rf /);client.example.net");
	cr_assert_null(a.argv[5]);
}

Test(runargv, bounded)
{
	char tmpl[RULE_RUN_MAX];
	struct runargv a;
	size_t n = 0;
	memcpy(tmpl, "/x", 3);
	n = 3;
	while (n + 3 < sizeof tmpl) { /* many %n: far more than RUNARGV_BUF */
		memcpy(tmpl + n, "%n", 2);
		n += 2;
	}
	tmpl[n++] = '\0';
	char node[NODE_BUF];
	memset(node, 'a', 250);
	node[250] = '\0';
	cr_assert_eq(runargv_expand(&a, tmpl, n, node, "r", "c"), -1);
}

Test(runargv, default_command_template)
{
	char out[RULE_RUN_MAX];
	char *ok[] = {"/usr/sbin/postqueue", "-s", "%n"};
	cr_assert_eq(runargv_template(out, sizeof out, ok, 3),
		     sizeof "/usr/sbin/postqueue\0-s\0%n");
	char *rel[] = {"postqueue", "-s"};
	cr_assert_eq(runargv_template(out, sizeof out, rel, 2), 0);
	char *esc[] = {"/bin/x", "%z"};
	cr_assert_eq(runargv_template(out, sizeof out, esc, 2), 0);
	char *ctl[] = {"/bin/x", "a\nb"};
	cr_assert_eq(runargv_template(out, sizeof out, ctl, 2), 0);
}
