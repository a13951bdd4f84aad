/* Trigger names and trigger files. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "trigger.h"

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
	cr_assert_str_eq(names[1], "%40example.net");
	cr_assert_str_eq(names[3], "%23dial%5Fup");
}

Test(trigger, foreign_names_are_refused)
{
	static const char *const bad[] = {"",          "a/b", "%61",   "%2", "%zz",
					  "A.example", "%00", "..%2F", "a b"};
	char out[NODE_BUF];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(trigger_unname(bad[i], out, sizeof out), -1, "%s", bad[i]);
}

Test(trigger, write_renames_into_new_and_coalesces)
{
	char *d = tu_tmpdir();
	const char *q = tu_queue(d);
	struct trigger t = {"client.example.net", "@example.net", "192.0.2.7", 1700000000, 42};
	cr_assert_eq(trigger_write(q, "1.P1Q1.h", &t), 0);
	t.client = "192.0.2.8";
	cr_assert_eq(trigger_write(q, "1.P1Q2.h", &t), 0);
	cr_assert_eq(tu_count(tu_path(q, "new")), 1);
	cr_assert_eq(tu_count(tu_path(q, "tmp")), 0);
	char *c = tu_read(tu_path(q, "new/client.example.net"), NULL);
	cr_assert_str_eq(c, "version=1\nnode=client.example.net\nrule=@example.net\n"
			    "client=192.0.2.8\ntime=1700000000\npid=42\n");
	free(c);
	tu_rmtree(d);
}

Test(trigger, failures_leave_nothing_behind)
{
	char *d = tu_tmpdir();
	struct trigger t = {"a.example", "a.example", "unknown", 1, 1};
	cr_assert_eq(trigger_write(tu_path(d, "missing"), "u", &t), -1);
	const char *q = tu_queue(d);
	rmdir(tu_path(q, "new"));
	cr_assert_eq(trigger_write(q, "u", &t), -1);
	cr_assert_eq(tu_count(tu_path(q, "tmp")), 0, "temp file left behind");
	/* an existing temp name is never overwritten (O_EXCL) */
	mkdir(tu_path(q, "new"), 0755);
	tu_write(tu_path(q, "tmp/u"), "someone else's");
	cr_assert_eq(trigger_write(q, "u", &t), -1);
	tu_rmtree(d);
}

Test(trigger, poke_never_blocks)
{
	char *d = tu_tmpdir();
	const char *q = tu_queue(d);
	trigger_poke(q); /* no FIFO */
	cr_assert_eq(mkfifo(tu_path(q, "trigger"), 0600), 0);
	trigger_poke(q); /* FIFO without a reader: ENXIO, no block */
	unlink(tu_path(q, "trigger"));
	tu_write(tu_path(q, "trigger"), "");
	trigger_poke(q); /* a regular file is left alone */
	size_t len = 99;
	free(tu_read(tu_path(q, "trigger"), &len));
	cr_assert_eq(len, 0);
	tu_rmtree(d);
}
