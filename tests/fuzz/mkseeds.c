/* SPDX-License-Identifier: ISC */
/* mkseeds CDB DIR: writes every value of a compiled cdb into DIR as a
 * seed for fuzz_value. */
#include <cdb.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct cdb c;
	unsigned pos;
	char path[4096];
	int n = 0;

	if (argc != 3)
		return 100;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0 || cdb_init(&c, fd) < 0)
		return 111;
	cdb_seqinit(&pos, &c);
	while (cdb_seqnext(&pos, &c) > 0) {
		snprintf(path, sizeof path, "%s/value%d", argv[2], n++);
		FILE *f = fopen(path, "w");
		if (!f)
			return 111;
		fwrite(cdb_get(&c, cdb_datalen(&c), cdb_datapos(&c)), 1, cdb_datalen(&c), f);
		fclose(f);
	}
	return 0;
}
