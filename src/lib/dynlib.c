/* SPDX-License-Identifier: ISC */
/* dynlib.c: dlopen() of a library once per process, its functions looked
 * up by name; see dynlib.h for why etrnd opens libtls and libcrypt late. */
#include "dynlib.h"

#include "bounds.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static struct opened {
	const char *soname;
	int rc;
	char why[200];
} opened[DYNLIB_MAX];

static int load(const char *soname, const struct dynsym *syms, size_t n, char *why, size_t len)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(why, len, "%s: no %s", soname, syms[i].name);
			return -1;
		}
	}
	return 0;
}

int dynlib_open(const char *soname, const struct dynsym *syms, size_t n, char *err, size_t errlen)
{
	size_t i = 0;
	while (i < DYNLIB_MAX && opened[i].soname && strcmp(opened[i].soname, soname) != 0)
		i++;
	if (i == DYNLIB_MAX) {
		snprintf(err, errlen, "%s: more than %d libraries to open", soname, DYNLIB_MAX);
		return -1;
	}
	struct opened *o = &opened[i];
	if (!o->soname) {
		o->soname = soname;
		o->rc = load(soname, syms, n, o->why, sizeof o->why);
	}
	if (o->rc < 0)
		snprintf(err, errlen, "%s", o->why);
	return o->rc;
}
