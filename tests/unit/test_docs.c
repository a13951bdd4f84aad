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
