/* SPDX-License-Identifier: ISC */
/* sandbox.c: Landlock through raw system calls (no library needed). The
 * kernel ABI is stable; rights newer than the installed headers (Debian 12
 * ships 6.1's) are spelt out here with their UAPI values, and each is only
 * used when the running kernel reports the ABI version that has it. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 4; older kernels get a prefix. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
};

static uint64_t write_rights(int abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		     LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	return r;
}

static int make_ruleset(int abi, uint64_t fs)
{
	struct ruleset_attr attr = {.handled_access_fs = fs};
	size_t size = sizeof attr.handled_access_fs;

	if (abi >= 4) { /* no TCP bind or connect at all: etrnd needs neither */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = sizeof attr;
	}
	return (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
}

/* Allows writes beneath the directory open on fd; -1 (a directory that
 * could not be opened) allows nothing. */
static int allow(int rs, uint64_t fs, int fd)
{
	if (fd < 0)
		return 0;
	struct landlock_path_beneath_attr beneath = {.allowed_access = fs, .parent_fd = fd};
	return (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0);
}

int sandbox_fds(const int *fds, size_t n, const char **why)
{
	int abi =
	    (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		*why = "Landlock is not available in this kernel";
		return 0;
	}
	uint64_t fs = write_rights(abi);
	int rs = make_ruleset(abi, fs);
	if (rs < 0) {
		*why = "landlock_create_ruleset failed";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (allow(rs, fs, fds[i]) < 0) {
			close(rs);
			*why = "landlock_add_rule failed";
			return -1;
		}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		close(rs);
		*why = "landlock_restrict_self failed";
		return -1;
	}
	close(rs);
	*why = "";
	return abi;
}

int sandbox_dirs(const char *const *dirs, size_t n, const char **why)
{
	int fds[SANDBOX_DIRS_MAX] = {0}; /* the first n are set below */

	if (n > SANDBOX_DIRS_MAX) {
		*why = "too many directories";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		fds[i] = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
	int abi = sandbox_fds(fds, n, why);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return abi;
}

int sandbox_queue(const char *queuedir, const char **why)
{
	return sandbox_dirs(&queuedir, 1, why);
}
