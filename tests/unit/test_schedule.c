/* SPDX-License-Identifier: ISC */
/* The runner's decisions (schedule.c), without processes or files. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/wait.h>

#include "bounds.h"
#include "schedule.h"

/* A rule from rules-file attribute text, e.g. "allow", "192.0.2.0/24". */
static void set(struct rule *r, const char *name, const char *value)
{
	char err[200];
	const struct rule_attr *a = rule_attr_named(name, strlen(name));
	cr_assert(a, "%s", name);
	cr_assert_eq(rule_attr_parse(a, r, value, strlen(value), err, sizeof err), 0, "%s", err);
}

static struct trigger trig(const char *client)
{
	struct trigger t = {.version = TRIGGER_VERSION};
	strcpy(t.node, "a.example");
	strcpy(t.rule, "a.example");
	strcpy(t.client, client);
	strcpy(t.user, "-");
	return t;
}

static const char *check(int found, const struct rule *r, const char *deftmpl, size_t deflen,
			 const struct trigger *t, enum sched_verdict want)
{
	struct sched_check c = sched_check(found, r, deflen, deftmpl, t);
	cr_assert_eq(c.verdict, want, "verdict %d, reason %s", c.verdict,
		     c.reason ? c.reason : "-");
	return c.reason ? c.reason : "";
}

Test(sched, drop_reasons_from_the_rule)
{
	struct rule r;
	struct trigger t = trig("192.0.2.7");
	static const char def[] = "/bin/true\0%n";

	rule_init(&r);
	cr_expect_str_eq(check(0, &r, "", 0, &t, SCHED_DROP), "no-rule");
	cr_expect_str_eq(check(1, &r, "", 0, &t, SCHED_DROP), "no-command");
	check(1, &r, def, sizeof def, &t, SCHED_RUN); /* the default command */
	set(&r, "deny", "retired");
	cr_expect_str_eq(check(1, &r, def, sizeof def, &t, SCHED_DROP), "denied");
}

Test(sched, the_client_is_checked_against_allow_as_etrnd_checks_it)
{
	struct rule r;
	struct trigger in = trig("192.0.2.7"), out = trig("203.0.113.9"), none = trig("unknown");
	struct trigger v6 = trig("2001:db8::1");

	rule_init(&r);
	set(&r, "run", "/bin/true %n");
	check(1, &r, "", 0, &out, SCHED_RUN); /* no allow=: any client */
	check(1, &r, "", 0, &none, SCHED_RUN);
	set(&r, "allow", "192.0.2.0/24,2001:db8::/48");
	check(1, &r, "", 0, &in, SCHED_RUN);
	check(1, &r, "", 0, &v6, SCHED_RUN);
	cr_expect_str_eq(check(1, &r, "", 0, &out, SCHED_BAD), "client-not-allowed");
	cr_expect_str_eq(check(1, &r, "", 0, &none, SCHED_BAD), "client-not-allowed",
			 "an unknown client matches only rules without allow=");
}

Test(sched, a_lost_trigger_runs_only_when_the_command_does_not_use_the_client)
{
	struct rule r;
	struct trigger t = trig("unknown");

	t.lost = 1;
	rule_init(&r);
	set(&r, "allow", "192.0.2.0/24");
	set(&r, "run", "/bin/true %n %r %%c");
	check(1, &r, "", 0, &t, SCHED_RUN);
	rule_init(&r);
	set(&r, "run", "/bin/true -c%c");
	cr_expect_str_eq(check(1, &r, "", 0, &t, SCHED_BAD), "content lost");
	static const char def[] = "/bin/true\0%c";
	rule_init(&r);
	cr_expect_str_eq(check(1, &r, def, sizeof def, &t, SCHED_BAD), "content lost");
}

Test(sched, uses_client)
{
	cr_expect(sched_uses_client("/x\0%c", 6));
	cr_expect(sched_uses_client("/x\0a%%%c", 9));
	cr_expect(!sched_uses_client("/x\0%%c", 7), "%%c is a percent sign and a c");
	cr_expect(!sched_uses_client("/x\0%n%r", 8));
	cr_expect(!sched_uses_client("/x\0%", 4));
}

Test(sched, interval_with_clock_jumps)
{
	int clamped;

	cr_expect_eq(sched_interval_wait(0, 1000, 60, &clamped), 0, "never ran");
	cr_expect_eq(sched_interval_wait(990, 1000, 0, &clamped), 0, "no interval=");
	cr_expect_eq(sched_interval_wait(990, 1000, 60, &clamped), 50);
	cr_expect(!clamped);
	cr_expect_eq(sched_interval_wait(940, 1000, 60, &clamped), 0, "exactly one interval");
	cr_expect_eq(sched_interval_wait(1000 + 86400, 1000, 60, &clamped), 60,
		     "a stamp a day ahead holds one interval, not a day");
	cr_expect(clamped);
	cr_expect_eq(sched_interval_wait(1001, 1000, RULE_INTERVAL_MAX, &clamped),
		     RULE_INTERVAL_MAX);
	cr_expect(clamped);
}

static enum sched_next after(int spawned, int exec_failed, int status, int attempt, int once,
			     int stopping)
{
	struct sched_run run = {spawned, exec_failed, status, attempt};
	return sched_after_run(&run, 3, once, stopping);
}

Test(sched, what_follows_a_run)
{
	int ok = 0, fail = 1 << 8, killed = SIGKILL;

	cr_assert(WIFEXITED(ok) && WEXITSTATUS(ok) == 0 && WEXITSTATUS(fail) == 1);
	cr_assert(WIFSIGNALED(killed));
	cr_expect_eq(after(1, 0, ok, 1, 0, 0), SCHED_DONE);
	cr_expect_eq(after(1, 0, ok, 3, 1, 1), SCHED_DONE);
	cr_expect_eq(after(1, 0, fail, 1, 0, 0), SCHED_RETRY);
	cr_expect_eq(after(1, 0, killed, 2, 0, 0), SCHED_RETRY);
	cr_expect_eq(after(1, 0, fail, 3, 0, 0), SCHED_GIVEUP);
	cr_expect_eq(after(1, 0, fail, 1, 1, 0), SCHED_RELEASE, "-1: the next pass retries");
	cr_expect_eq(after(1, 0, fail, 1, 0, 1), SCHED_RELEASE, "stopping: the next start retries");
	cr_expect_eq(after(0, 0, 0, 1, 0, 0), SCHED_RETRY, "fork failed: may pass");
	cr_expect_eq(after(0, 0, 0, 3, 0, 0), SCHED_GIVEUP);
	cr_expect_eq(after(1, 1, 127 << 8, 1, 0, 0), SCHED_NOEXEC, "no retry of a missing command");
	cr_expect_eq(after(1, 1, 127 << 8, 1, 1, 0), SCHED_NOEXEC);
}

Test(sched, backoff_doubles_up_to_a_day)
{
	cr_expect_eq(sched_backoff_ms(60, 1), 60000);
	cr_expect_eq(sched_backoff_ms(60, 2), 120000);
	cr_expect_eq(sched_backoff_ms(60, 5), 960000);
	cr_expect_eq(sched_backoff_ms(60, 12), (long long)RUN_BACKOFF_MAX_S * 1000);
	cr_expect_eq(sched_backoff_ms(0, 100), 0);
	cr_expect_eq(sched_backoff_ms(86400, 1), 86400000);
	long long prev = 0;
	for (int a = 1; a <= 1000; a++) { /* 48 and up overflowed a shift before */
		long long d = sched_backoff_ms(1, a);
		cr_assert(d >= prev && d <= (long long)RUN_BACKOFF_MAX_S * 1000, "attempt %d", a);
		prev = d;
	}
	cr_expect_eq(prev, (long long)RUN_BACKOFF_MAX_S * 1000);
}

Test(sched, rescans_asked_for_by_wake_ups_are_rate_limited)
{
	struct sched_scan s = {.last_ms = 10000, .cost_ms = 1, .periodic_ms = 70000};

	cr_expect_eq(sched_scan_at(&s), 70000, "nothing asked: the periodic rescan");
	s.wake_ms = 30000;
	cr_expect_eq(sched_scan_at(&s), 30000, "an interval= that ends first");
	s.asked = 1;
	cr_expect_eq(sched_scan_at(&s), 10000 + RUNNER_POKE_GAP_MS);
	s.cost_ms = 500; /* a scan of a huge new/ */
	cr_expect_eq(sched_scan_at(&s), 10000 + 500 * RUNNER_SCAN_SHARE);
	s.cost_ms = 100000;
	cr_expect_eq(sched_scan_at(&s), 30000, "never later than what is due anyway");
	s.now = 1;
	cr_expect_eq(sched_scan_at(&s), 0, "SIGHUP: at once");
}
