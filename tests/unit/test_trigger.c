/* SPDX-License-Identifier: ISC */
/* Trigger names, the trigger file format and writing triggers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue.h"
#include "testutil.h"
#include "trigger.h"

static struct trigger mk(const char *node, const char *rule, const char *client, long long time,
			 long pid)
{
	struct trigger t = {.version = TRIGGER_VERSION, .time = time, .pid = pid};
	snprintf(t.node, sizeof t.node, "%s", node);
	snprintf(t.rule, sizeof t.rule, "%s", rule);
	snprintf(t.client, sizeof t.client, "%s", client);
	snprintf(t.user, sizeof t.user, "-");
	return t;
}

Test(trigger, names_are_safe_and_injective)
{
	static const char *const nodes[] = {
	    "client.example.net", "@example.net",       "#dialup", "#dial_up",
	    "[192.0.2.1]",        "[ipv6:2001:db8::1]", "#..",     "#-_."};
	char names[8][TRIGGER_NAME_MAX], back[NODE_BUF];
	for (int i = 0; i < 8; i++) {
		cr_assert(trigger_name(nodes[i], names[i], sizeof names[i]) > 0);
		cr_assert(!strchr(names[i], '/'));
		cr_assert(strcmp(names[i], ".") && strcmp(names[i], ".."));
		cr_assert_eq(trigger_unname(names[i], back, sizeof back), 0, "%s", names[i]);
		cr_assert_str_eq(back, nodes[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(names[i], names[j]);
	}
	cr_assert_str_eq(names[1], "@example.net");
	cr_assert_str_eq(names[3], "%23dial%5Fup");
}

/* Every valid node has a name within NAME_MAX, the longest ones included:
 * "@" and a 253-octet domain (254 octets), a #queue of 64 octets that all
 * need escapes, the longest IPv6 literal. The names stay injective. */
Test(trigger, the_longest_nodes_have_names)
{
	char host[NODE_BUF], domain[NODE_BUF + 1], queue[NODE_BUF];
	size_t n = 0;
	while (n + NODE_LABEL_MAX + 1 < NODE_HOST_MAX - 10) {
		memset(host + n, 'a' + (char)(n % 26), NODE_LABEL_MAX);
		n += NODE_LABEL_MAX;
		host[n++] = '.';
	}
	memset(host + n, 'z', NODE_HOST_MAX - n - 8);
	strcpy(host + NODE_HOST_MAX - 8, ".example");
	cr_assert_eq(strlen(host), NODE_HOST_MAX);
	snprintf(domain, sizeof domain, "@%s", host);
	queue[0] = '#';
	memset(queue + 1, '_', NODE_QUEUE_MAX);
	queue[NODE_QUEUE_MAX + 1] = '\0';
	const char *nodes[] = {host, domain, queue,
			       "[ipv6:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]"};
	char names[4][TRIGGER_NAME_MAX], back[NODE_BUF];
	for (int i = 0; i < 4; i++) {
		struct node parsed;
		cr_assert_eq(node_parse(&parsed, nodes[i], strlen(nodes[i]), 0), 0, "%s", nodes[i]);
		cr_assert_str_eq(parsed.name, nodes[i]);
		size_t len = trigger_name(nodes[i], names[i], sizeof names[i]);
		cr_assert(len > 0 && len <= 255, "%s: %zu", nodes[i], len);
		cr_assert_eq(trigger_unname(names[i], back, sizeof back), 0, "%s", names[i]);
		cr_assert_str_eq(back, nodes[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(names[i], names[j]);
	}
	cr_assert_eq(strlen(names[1]), NODE_HOST_MAX + 1);
	char small[10];
	cr_assert_eq(trigger_name("a.example", small, 10), 9, "exactly fits with its NUL");
	cr_assert_eq(trigger_name("a.example", small, 9), 0);
	cr_assert_eq(trigger_name("#a_", small, 7), 0, "no room for the escape and the NUL");
	cr_assert_eq(trigger_name("#a_", small, 8), 7);
}

Test(trigger, foreign_names_are_refused)
{
	static const char *const bad[] = {"",          "a/b", "%61",   "%2", "%zz",
					  "A.example", "%00", "..%2F", "a b"};
	char out[NODE_BUF];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(trigger_unname(bad[i], out, sizeof out), -1, "%s", bad[i]);
}

/* QUEUEDIR as queuestart opens it for trigger_write() */
static struct trigger_dirs queue_fd(const char *q)
{
	struct trigger_dirs d;
	int fd = open(q, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", q, strerror(errno));
	trigger_dirs_init(&d, fd);
	return d;
}

Test(trigger, write_renames_into_new_and_coalesces)
{
	char *d = tu_tmpdir();
	const char *q = tu_queue(d);
	struct trigger_dirs qfd = queue_fd(q);
	struct trigger t = mk("client.example.net", "@example.net", "192.0.2.7", 1700000000, 42);
	cr_assert_eq(trigger_write(&qfd, "1.P1Q1.h", &t, 0), 0);
	snprintf(t.client, sizeof t.client, "192.0.2.8");
	cr_assert_eq(trigger_write(&qfd, "1.P1Q2.h", &t, 0), 1, "a pending trigger is joined");
	cr_assert_eq(tu_count(tu_path(q, "new")), 1);
	cr_assert_eq(tu_count(tu_path(q, "tmp")), 0);
	char *c = tu_read(tu_path(q, "new/client.example.net"), NULL);
	cr_assert_str_eq(c, "version=2\nnode=client.example.net\nrule=@example.net\n"
			    "client=192.0.2.7\nuser=-\ntime=1700000000\npid=42\n");
	free(c);
	/* a rule whose command uses %c: the latest asker's address replaces it */
	cr_assert_eq(trigger_write(&qfd, "1.P1Q3.h", &t, TRIGGER_SYNC | TRIGGER_REPLACE), 0);
	c = tu_read(tu_path(q, "new/client.example.net"), NULL);
	cr_assert(strstr(c, "client=192.0.2.8\n"), "%s", c);
	free(c);
	cr_assert_eq(tu_count(tu_path(q, "tmp")), 0);
	trigger_dirs_close(&qfd);
	tu_rmtree(d);
}

Test(trigger, failures_leave_nothing_behind)
{
	char *d = tu_tmpdir();
	struct trigger t = mk("a.example", "a.example", "unknown", 1, 1);
	const char *q = tu_queue(d);
	struct trigger_dirs qfd = queue_fd(q);
	rmdir(tu_path(q, "new"));
	cr_assert_eq(trigger_write(&qfd, "u", &t, 0), -1);
	cr_assert_eq(tu_count(tu_path(q, "tmp")), 0, "temp file left behind");
	/* a new/ that failed to open is tried again at the next trigger */
	mkdir(tu_path(q, "new"), 0755);
	cr_assert_eq(trigger_write(&qfd, "w", &t, 0), 0);
	cr_assert_eq(unlink(tu_path(q, "new/a.example")), 0);
	/* an existing temp name is never overwritten (O_EXCL) */
	tu_write(tu_path(q, "tmp/u"), "someone else's");
	cr_assert_eq(trigger_write(&qfd, "u", &t, 0), -1);
	char *other = tu_read(tu_path(q, "tmp/u"), NULL);
	cr_assert(other, "another process's temp file was removed");
	cr_assert_str_eq(other, "someone else's");
	free(other);
	/* new/ as a symbolic link is refused, not followed (a new session:
	 * an open new/ is kept for the session's triggers) */
	trigger_dirs_close(&qfd);
	qfd = queue_fd(q);
	rmdir(tu_path(q, "new"));
	cr_assert_eq(symlink(tu_path(d, "elsewhere"), tu_path(q, "new")), 0);
	mkdir(tu_path(d, "elsewhere"), 0755);
	cr_assert_eq(trigger_write(&qfd, "v", &t, 0), -1);
	cr_assert_eq(tu_count(tu_path(d, "elsewhere")), 0);
	trigger_dirs_close(&qfd);
	tu_rmtree(d);
}

Test(trigger, poke_never_blocks)
{
	char *d = tu_tmpdir();
	const char *q = tu_queue(d);
	struct trigger_dirs qfd = queue_fd(q);
	trigger_poke(&qfd); /* no FIFO */
	cr_assert_eq(mkfifo(tu_path(q, "trigger"), 0600), 0);
	trigger_poke(&qfd); /* FIFO without a reader: ENXIO, no block */
	unlink(tu_path(q, "trigger"));
	tu_write(tu_path(q, "trigger"), "");
	trigger_poke(&qfd); /* a regular file is left alone */
	size_t len = 99;
	free(tu_read(tu_path(q, "trigger"), &len));
	cr_assert_eq(len, 0);
	trigger_dirs_close(&qfd);
	tu_rmtree(d);
}

static int parse(const char *s)
{
	struct trigger t;
	const char *why;
	return trigger_parse(s, strlen(s), &t, &why);
}

Test(trigger_file, valid_content)
{
	struct trigger t;
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
	    "\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\n",
	    "version=2\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=1\n",
	    "version=3\nnode=a.example\nrule=a.example\nclient=unknown\nuser=-\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\nuser=-\ntime=1\npid=1\n",
	    "node=a.example\nversion=1\nrule=a.example\nclient=unknown\ntime=1\npid=1\n",
	    "version=2\nnode=a.example\nrule=a.example\nclient=unknown\nuser=Bob\ntime=1\npid=1\n",
	    "version=1\nnode=a.example\nrule=a.example\nclient=unknown\ntime=1\npid=0\n",
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

/* trigger_format() and trigger_tempname() write without printf (they are
 * on every ETRN's path): the same octets as the printf formats, and 0
 * whenever the result and its NUL do not fit. */
Test(trigger_file, formats_as_printf_would_and_refuses_to_cut)
{
	struct trigger t = {.version = TRIGGER_VERSION, .time = 0, .pid = 2147483647};
	char buf[TRIGGER_FILE_MAX], want[TRIGGER_FILE_MAX], name[64];
	snprintf(t.node, sizeof t.node, "[ipv6:2001:db8::1]");
	snprintf(t.rule, sizeof t.rule, "@example.net");
	snprintf(t.client, sizeof t.client, "192.0.2.7");
	static const long long times[] = {0, 9, 10, 1700000000, 4611686018427387904LL};
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		t.time = times[i];
		t.user[0] = i % 2 ? '\0' : 'b';
		t.user[1] = '\0';
		int n = snprintf(
		    want, sizeof want,
		    "version=%d\nnode=%s\nrule=%s\nclient=%s\nuser=%s\ntime=%lld\npid=%ld\n",
		    TRIGGER_VERSION, t.node, t.rule, t.client, t.user[0] ? t.user : "-", t.time,
		    t.pid);
		cr_assert_eq(trigger_format(&t, buf, sizeof buf), (size_t)n);
		cr_assert_str_eq(buf, want);
		cr_assert_eq(trigger_format(&t, buf, (size_t)n + 1), (size_t)n);
		cr_assert_eq(trigger_format(&t, buf, (size_t)n), 0, "cut instead of refused");
	}
	cr_assert_eq(trigger_format(&t, buf, 0), 0);
	static const long nsecs[] = {0, 7, 123456789, 999999999};
	for (size_t i = 0; i < sizeof nsecs / sizeof nsecs[0]; i++) {
		int n = snprintf(want, sizeof want, "%lld.%09ldP%ldQ%u.%s", 1700000000LL, nsecs[i],
				 42L, 7u, "mx.example");
		cr_assert_eq(trigger_tempname(name, sizeof name, 1700000000LL, nsecs[i], 42, 7,
					      "mx.example"),
			     (size_t)n);
		cr_assert_str_eq(name, want);
		cr_assert_eq(
		    trigger_tempname(name, (size_t)n, 1700000000LL, nsecs[i], 42, 7, "mx.example"),
		    0);
	}
}
