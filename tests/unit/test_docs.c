/* SPDX-License-Identifier: ISC */
/* The documentation against the tree: README's layout names every module
 * of src/lib, so that a newcomer's map does not silently go stale. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *root(void)
{
	return getenv("ETRND_ROOT") ? getenv("ETRND_ROOT") : ".";
}

/* Whether word occurs in text with no letter, digit or '_' on either side. */
static int has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; (p = strstr(p, word)) != NULL; p++) {
		int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		int after = isalnum((unsigned char)p[n]) || p[n] == '_';
		if (!before && !after)
			return 1;
	}
	return 0;
}

Test(docs, readme_layout_names_every_module_of_src_lib)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/README", root());
	char *readme = tu_read(path, NULL);
	cr_assert(readme, "%s", path);
	char *layout = strstr(readme, "\nLayout\n");
	cr_assert(layout, "README has no Layout section");
	char *end = strstr(layout + 8, "\n\n\n");
	if (end)
		*end = '\0';
	snprintf(path, sizeof path, "%s/src/lib", root());
	DIR *d = opendir(path);
	cr_assert(d, "%s", path);
	int modules = 0;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char name[256];
		size_t n = strlen(e->d_name);
		if (n < 3 || e->d_name[0] == '.' ||
		    (strcmp(e->d_name + n - 2, ".c") != 0 && strcmp(e->d_name + n - 2, ".h") != 0))
			continue;
		memcpy(name, e->d_name, n - 2);
		name[n - 2] = '\0';
		modules++;
		cr_expect(has_word(layout, name), "README's layout does not name src/lib/%s",
			  e->d_name);
	}
	closedir(d);
	cr_assert_gt(modules, 20);
	free(readme);
}

/* A section of README: from its title line to the next two blank lines
 * (malloc'd), or NULL. */
static char *readme_section(const char *title)
{
	char path[4096], head[128];
	snprintf(path, sizeof path, "%s/README", root());
	char *readme = tu_read(path, NULL);
	snprintf(head, sizeof head, "\n%s\n", title);
	char *s = readme ? strstr(readme, head) : NULL;
	char *out = NULL;
	if (s) {
		char *end = strstr(s + strlen(head), "\n\n\n");
		out = end ? strndup(s, (size_t)(end - s)) : strdup(s);
	}
	free(readme);
	return out;
}

/* Whether the number num occurs in text, not as part of a longer one
 * ("1.2" is not in "11.25"; "3.61x" has it). */
static int has_number(const char *text, const char *num)
{
	size_t n = strlen(num);
	for (const char *p = text; (p = strstr(p, num)) != NULL; p++) {
		int before = p > text && (isdigit((unsigned char)p[-1]) || p[-1] == '.');
		int after = isdigit((unsigned char)p[n]) ||
			    (p[n] == '.' && isdigit((unsigned char)p[n + 1]));
		if (!before && !after)
			return 1;
	}
	return 0;
}

/* Every ratio README's Performance section gives ("1.24x") is a figure of
 * BENCHMARKS.md, which make bench writes: the quick summary cannot drift
 * from the last measured run. */
Test(docs, readme_performance_figures_come_from_benchmarks_md)
{
	char *perf = readme_section("Performance");
	cr_assert(perf, "README has no Performance section");
	char path[4096];
	snprintf(path, sizeof path, "%s/BENCHMARKS.md", root());
	char *bench = tu_read(path, NULL);
	cr_assert(bench, "%s", path);
	int figures = 0;
	for (const char *p = perf; *p; p++) {
		if (!isdigit((unsigned char)*p) || (p > perf && isdigit((unsigned char)p[-1])))
			continue;
		size_t n = strspn(p, "0123456789.");
		if (p[n] != 'x' || !memchr(p, '.', n) || isalnum((unsigned char)p[n + 1]))
			continue;
		char fig[32];
		snprintf(fig, sizeof fig, "%.*s", (int)n, p);
		figures++;
		cr_expect(has_number(bench, fig), "README's %sx is not in BENCHMARKS.md", fig);
	}
	cr_assert_geq(figures, 3, "README's Performance section gives %d ratios", figures);
	free(perf), free(bench);
}
