/* SPDX-License-Identifier: ISC */
/* dynlib.h: shared libraries opened by the code that needs them, the first
 * time it does, instead of at every start.
 *
 * etrnd starts once per connection, and the dynamic loader maps and
 * relocates every library a program is linked with before main(): libtls
 * brings libssl and libcrypto, whose relocation alone costs more than a
 * whole plaintext ETRN session. So libtls is opened when TLS is set up
 * (etrnd -C, etrn -s, etrnd-deliver -s) and libcrypt when a password is
 * checked or hashed; a plaintext session opens neither. The static build
 * (ETRND_STATIC) links both in and opens nothing. */
#ifndef ETRND_DYNLIB_H
#define ETRND_DYNLIB_H

#include <stddef.h>

/* One function of a library, and where its address goes. */
struct dynsym {
	const char *name;
	void **slot;
};

/* Opens soname (the exact version the program was built against, as the
 * linker would have) and fills the slot of every symbol. Once per library
 * and process: later calls return the first result, a failure included.
 * soname is kept: a string that lives as long as the process. At most
 * DYNLIB_MAX (bounds.h) libraries. 0, or -1 with the reason in err. */
int dynlib_open(const char *soname, const struct dynsym *syms, size_t n, char *err, size_t errlen);

#endif
