/* SPDX-License-Identifier: ISC */
/* libFuzzer target: what etrnd-deliver reads from others: a held
 * message's envelope (a maildir file anyone with the hold user can write)
 * and a DNS answer to an MX query. Invariants: a parsed envelope has at
 * least one valid recipient, its body offset lies inside the input, and it
 * is written back to an envelope that parses to the same addresses; MX
 * hosts are valid names (or the null MX) in preference order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heldmsg.h"
#include "mx.h"

static void envelope(const uint8_t *data, size_t size)
{
	struct held h, again;
	const char *why;
	size_t len;

	if (held_parse(&h, (const char *)data, size, &why) < 0)
		return;
	if (h.n == 0 || h.body > size || (h.from[0] && !mailaddr_ok(h.from, strlen(h.from))))
		abort();
	for (size_t i = 0; i < h.n; i++)
		if (!mailaddr_ok(h.rcpt[i].addr, strlen(h.rcpt[i].addr)))
			abort();
	char *text = held_envelope(&h, HELD_WAITING, &len);
	if (text && len > 0) {
		int waiting = 0;
		for (size_t i = 0; i < h.n; i++)
			waiting |= h.rcpt[i].state != RCPT_FAILED;
		if (waiting &&
		    (held_parse(&again, text, len, &why) < 0 || strcmp(again.from, h.from) != 0))
			abort();
		if (waiting)
			held_free(&again);
	}
	free(text);
	held_free(&h);
}

static void answer(const uint8_t *data, size_t size)
{
	struct mx v[DELIVER_MX_MAX];
	int n = 0;

	if (size > 65535 || mx_parse(data, (int)size, v, &n) != MX_OK)
		return;
	if (n < 0 || n > DELIVER_MX_MAX)
		abort();
	for (int i = 1; i < n; i++)
		if (v[i].pref < v[i - 1].pref)
			abort();
	for (int i = 0; i < n; i++)
		if (strlen(v[i].host) >= sizeof v[i].host)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		envelope(data + 1, size - 1);
	else
		answer(data + 1, size - 1);
	return 0;
}
