/* SPDX-License-Identifier: ISC */
/* schedule.c: see schedule.h. Everything here is arithmetic on its arguments;
 * runner.c does the I/O and applies the answers. */
#include "schedule.h"

#include <string.h>
#include <sys/wait.h>

#include "addr.h"
#include "bounds.h"
#include "policy.h"

int sched_uses_client(const char *tmpl, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (tmpl[i] != '%')
			continue;
		if (tmpl[i + 1] == 'c')
			return 1;
		i++; /* %% or another escape: the next octet is not a '%' to look at */
	}
	return 0;
}

static enum verdict client_verdict(const struct rule *r, const struct trigger *t)
{
	struct addr a = {0};
	struct asker who = {&a, strcmp(t->user, "-") ? t->user : NULL};

	if (strcmp(t->client, "unknown") != 0 && addr_parse(&a, t->client, strlen(t->client)) < 0)
		return V_CLIENT; /* trigger_parse() accepts only what this parses */
	return policy_authorize(r, &who);
}

struct sched_check sched_check(int found, const struct rule *r, size_t deflen, const char *deftmpl,
			       const struct trigger *t)
{
	if (!found)
		return (struct sched_check){SCHED_DROP, "no-rule"};
	const char *tmpl = r->run.n ? r->run.buf : deftmpl;
	size_t tlen = r->run.n ? r->run.len : deflen;
	if (r->deny[0])
		return (struct sched_check){SCHED_DROP, verdict_log(V_DENIED)};
	if (tlen == 0)
		return (struct sched_check){SCHED_DROP, "no-command"};
	if (t->lost)
		return sched_uses_client(tmpl, tlen)
			   ? (struct sched_check){SCHED_BAD, "content lost"}
			   : (struct sched_check){SCHED_RUN, NULL};
	enum verdict v = client_verdict(r, t);
	if (v != V_OK)
		return (struct sched_check){SCHED_BAD, verdict_log(v)};
	return (struct sched_check){SCHED_RUN, NULL};
}

long long sched_interval_wait(long long last_s, long long now_s, long interval_s, int *clamped)
{
	*clamped = 0;
	if (interval_s <= 0 || last_s <= 0)
		return 0;
	if (last_s > now_s) {
		*clamped = 1;
		last_s = now_s;
	}
	return now_s >= last_s + interval_s ? 0 : last_s + interval_s - now_s;
}

enum sched_next sched_after_run(const struct sched_run *run, int attempts, int once, int stopping)
{
	if (run->spawned && run->exec_failed)
		return SCHED_NOEXEC;
	if (run->spawned && WIFEXITED(run->status) && WEXITSTATUS(run->status) == 0)
		return SCHED_DONE;
	if (once || stopping)
		return SCHED_RELEASE;
	return run->attempt >= attempts ? SCHED_GIVEUP : SCHED_RETRY;
}

long long sched_backoff_ms(long backoff_s, int attempt)
{
	long long s = backoff_s > 0 ? backoff_s : 0;

	for (int i = 1; i < attempt && s < RUN_BACKOFF_MAX_S; i++)
		s *= 2;
	return (s < RUN_BACKOFF_MAX_S ? s : RUN_BACKOFF_MAX_S) * 1000;
}

long long sched_scan_at(const struct sched_scan *s)
{
	long long at = s->periodic_ms;

	if (s->now)
		return 0;
	if (s->wake_ms && s->wake_ms < at)
		at = s->wake_ms;
	if (s->asked) {
		long long gap = s->cost_ms * RUNNER_SCAN_SHARE;
		long long soonest =
		    s->last_ms + (gap > RUNNER_POKE_GAP_MS ? gap : RUNNER_POKE_GAP_MS);
		if (soonest < at)
			at = soonest;
	}
	return at;
}
