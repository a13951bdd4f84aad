/* SPDX-License-Identifier: ISC */
/* The Landlock sandbox: writes beneath QUEUEDIR only, no TCP. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "testutil.h"

/* Exit codes of the sandboxed child, one per broken promise. */
static int child(const char *dir, const char *queue)
{
	const char *why;
	int abi = sandbox_queue(queue, &why);
	if (abi == 0)
		return 42; /* no Landlock here */
	if (abi < 0)
		return 1;
	int fd = open(tu_path(queue, "new/ok"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return 2;
	close(fd);
	if (rename(tu_path(queue, "new/ok"), tu_path(queue, "cur/ok")) < 0)
		return 3;
	errno = 0;
	if (open(tu_path(dir, "outside"), O_WRONLY | O_CREAT | O_EXCL, 0644) >= 0 ||
	    errno != EACCES)
		return 4;
	if (open(tu_path(dir, "existing"), O_WRONLY | O_APPEND) >= 0)
		return 5;
	if (mkdir(tu_path(dir, "newdir"), 0755) == 0 || unlink(tu_path(dir, "existing")) == 0)
		return 6;
	if (open(tu_path(dir, "existing"), O_RDONLY) < 0)
		return 7; /* reading stays possible (spools, the cdb) */
	if (abi >= 4) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9)};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(s, (struct sockaddr *)&sin, sizeof sin) == 0 || errno != EACCES)
			return 8;
	}
	return 0;
}

Test(sandbox, writes_only_beneath_the_queue)
{
	char *d = tu_tmpdir();
	const char *q = tu_queue(d);
	char queue[4096];
	snprintf(queue, sizeof queue, "%s", q);
	tu_write(tu_path(d, "existing"), "x");
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(d, queue));
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	int rc = WEXITSTATUS(st);
	if (rc == 42) {
		tu_rmtree(d);
		cr_skip_test("this kernel has no Landlock");
	}
	cr_assert_eq(rc, 0, "sandbox promise %d broken", rc);
	cr_assert_eq(access(tu_path(d, "outside"), F_OK), -1);
	tu_rmtree(d);
}

/* More directories than SANDBOX_DIRS_MAX: refused before anything is
 * opened or applied (this test process stays unsandboxed). */
Test(sandbox, too_many_directories_are_refused)
{
	const char *dirs[SANDBOX_DIRS_MAX + 1];
	for (size_t i = 0; i < SANDBOX_DIRS_MAX + 1; i++)
		dirs[i] = "/";
	const char *why = NULL;
	cr_assert_eq(sandbox_dirs(dirs, SANDBOX_DIRS_MAX + 1, &why), -1);
	cr_assert_str_eq(why, "too many directories");
}
