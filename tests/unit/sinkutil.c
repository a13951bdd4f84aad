/* SPDX-License-Identifier: ISC */
/* sinkutil.c: reads the messages tests/helpers/smtpsink stored, for the
 * delivery and ODMR tests; see sinkutil.h. */
#include "sinkutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SINK_MAX 1024

struct got *tu_sink_messages(const char *sinkdir)
{
	char cmd[4200], name[512];
	/* the sink names files SECONDS_NS.PID.N: numeric order is arrival order */
	snprintf(cmd, sizeof cmd, "ls -1 %s/new 2>/dev/null | sort -t. -k1,1n -k3,3n", sinkdir);
	FILE *p = popen(cmd, "r");
	struct got *g = calloc(SINK_MAX, sizeof *g);
	int n = 0;
	cr_assert(p && g);
	while (n < SINK_MAX - 1 && fgets(name, sizeof name, p)) {
		name[strcspn(name, "\n")] = '\0';
		size_t len;
		char *s = tu_read(tu_path(tu_path(sinkdir, "new"), name), &len);
		char *sep = s ? strstr(s, "\n\n") : NULL;
		cr_assert(sep, "%s: no header block", name);
		*sep = '\0';
		g[n].head = s;
		g[n].data = sep + 2;
		g[n++].dlen = len - (size_t)(sep + 2 - s);
	}
	pclose(p);
	return g;
}

void tu_free_got(struct got *g)
{
	for (int i = 0; g[i].head; i++)
		free(g[i].head);
	free(g);
}

const struct got *tu_find(const struct got *g, const char *needle)
{
	for (int i = 0; g[i].head; i++)
		if (strstr(g[i].head, needle))
			return &g[i];
	return NULL;
}

char *tu_wire(const char *p, size_t len, size_t *out)
{
	char *w = malloc(2 * len + 3);
	size_t n = 0;
	cr_assert(w);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			w[n++] = '\r';
		w[n++] = p[i];
	}
	if (len > 0 && p[len - 1] != '\n')
		w[n++] = '\r', w[n++] = '\n';
	*out = n;
	return w;
}
