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

static int parse(const char *s)
{
	struct trigger_data t;
	const char *why;
	return trigger_parse(s, strlen(s), &t, &why);
}

Test(trigger_file, valid_content)
{
	struct trigger_data t;
	const char *why;
	const char *s = "version=1\nnode=client.example.net\nrule=@example.net\n"
			"client=2001:db8::7\ntime=1700000000\npid=42\n";
	cr_assert_eq(trigger_parse(s, strlen(s), &t, &why), 0, "%s", why);
	cr_assert_str_eq(t.node, "client.example.net");
	cr_assert_str_eq(t.rule, "@example.net");
	cr_assert_str_eq(t.client, "2001:db8::7");
	cr_assert_eq(t.time, 1700000000);
	cr_assert_eq(t.pid, 42);
	cr_assert_eq(parse("version=1\nnode=#q\nrule=#q\nclient=unknown\ntime=1\npid=1\n"), 0);
}

Test(trigger_file, anything_else_is_refused)
{
	static const char *const bad[] = {
	    "",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\n",
	    "version=2\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=1\n",
	    "version=1\nnode=A.example\nrule=a.example\nclient=unknown\ntime=1\npid=1\n",
	    "version=1\nnode=a.example;x\nrule=a.example\nclient=unknown\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=localname\nclient=unknown\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=1.2.3\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=::FFFF:1.2.3.4\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=x\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=1",
	    "version=1\nnode=a.example\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=1\nrun=/bin/sh\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=1\n\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(parse(bad[i]), -1, "case %zu accepted", i);
}
