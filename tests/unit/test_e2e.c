/* SPDX-License-Identifier: ISC */
/* End-to-end scripts (tests/e2e/) with real third-party programs, run as
 * Criterion tests so that make check reports them with everything else. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

/* Runs tests/e2e/name with the unpacked programs of build/ext; it passes
 * when it exits 0 and says PASS. With may_skip, "SKIP: why" (no root, no
 * namespaces) and exit 0 skips the test instead. */
static void run_script(const char *name, int may_skip)
{
	char cmd[4096];
	const char *root = getenv("ETRND_ROOT") ? getenv("ETRND_ROOT") : ".";
	snprintf(cmd, sizeof cmd,
		 "ETRND_EXT=%s/build/ext/inetd/root ETRND_EXTDIR=%s/build/ext bash %s/tests/e2e/%s "
		 "2>&1",
		 root, root, root, name);
	int st;
	char *out = tu_shell(cmd, &st);
	cr_assert(st == 0, "%s failed:\n%s", name, out);
	const char *skip = may_skip ? strstr(out, "SKIP: ") : NULL;
	if (skip && !strstr(out, "PASS")) {
		char why[200];
		snprintf(why, sizeof why, "%s", skip + 6);
		free(out);
		cr_skip_test("%s", why);
	}
	cr_assert(strstr(out, "PASS\n"), "%s:\n%s", name, out);
	free(out);
}

static void script(const char *name)
{
	run_script(name, 0);
}

/* The hold recipe: Postfix (unpacked) delivers held mail into a maildir per
 * node; ETRN has etrnd-deliver deliver exactly the node's mail. */
Test(e2e, postfix_hold_recipe_delivers_exactly_the_node, .timeout = 240)
{
	script("postfix.sh");
}

Test(e2e, opensmtpd_holds_in_maildirs_until_etrn_then_delivers_exactly, .timeout = 240)
{
	script("opensmtpd.sh");
}

Test(e2e, exim_holds_in_maildir_until_etrn_and_flushes_exactly, .timeout = 240)
{
	script("exim.sh");
}

Test(e2e, sendmail_holds_in_maildirs_until_etrn_and_the_flush_recipe, .timeout = 240)
{
	script("sendmail.sh");
}

/* The flush recipe: held in Postfix's queue, postqueue -s per site, with
 * its documented over-matches and the end of the hold at any queue run. */
Test(e2e, postfix_flush_recipe_and_its_limits, .timeout = 240)
{
	script("postfix_flush.sh");
}

Test(e2e, launchers_inetd_xinetd_tcpserver_daemontools_runit_systemd, .timeout = 240)
{
	script("launchers.sh");
}

Test(e2e, clients_etrn_fetchmail_msmtp_smtplib, .timeout = 240)
{
	script("clients.sh");
}

Test(e2e, make_install_and_uninstall_into_destdir, .timeout = 120)
{
	script("install.sh");
}

Test(docs, man_pages_are_lint_clean)
{
	char cmd[4096];
	const char *root = getenv("ETRND_ROOT") ? getenv("ETRND_ROOT") : ".";
	snprintf(cmd, sizeof cmd,
		 "cd %s && mandoc -Tlint -W style man/*.1 man/*.5 man/*.8 2>&1 && echo LINT-OK",
		 root);
	char *out = tu_shell(cmd, NULL);
	cr_assert_str_eq(out, "LINT-OK\n", "mandoc -Tlint:\n%s", out);
	free(out);
}

Test(e2e, stress_200_concurrent_and_a_slow_client, .timeout = 120)
{
	script("stress.sh");
}

Test(e2e, deliver_mx_against_dnsmasq_in_namespaces, .timeout = 180)
{
	run_script("deliver_mx.sh", 1);
}

/* ODMR (RFC 2645): fetchmail --protocol ODMR against etrnd -O under
 * tcpserver (etc/odmr/run) as etrnhold: byte for byte, 453, 450, 535, a
 * kill in the middle of a message, implicit TLS, inetd and xinetd. */
Test(e2e, odmr_fetchmail_against_etrnd_O_under_tcpserver, .timeout = 240)
{
	run_script("odmr.sh", 1);
}
