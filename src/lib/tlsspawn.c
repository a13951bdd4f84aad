/* SPDX-License-Identifier: ISC */
/* tlsspawn.c: see tlsspawn.h. */
#include "tlsspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bounds.h"
#include "fmt.h"
#include "tlsproxy.h"

static int fail(struct tlsspawn *t, const char *what, const char *why)
{
	fmt(t->err, sizeof t->err, "%s: %s", what, why);
	return -1;
}

#define HELPER "/etrnd-tlsproxy"

/* dirname(/proc/self/exe)/etrnd-tlsproxy */
static int find_helper(struct tlsspawn *t)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return fail(t, "/proc/self/exe", n < 0 ? strerror(errno) : "empty");
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return fail(t, self, "not an absolute path");
	*slash = '\0';
	if (fmt(t->helper, sizeof t->helper, "%s%s", self, HELPER) !=
	    strlen(self) + sizeof HELPER - 1)
		return fail(t, self, "path too long");
	if (access(t->helper, X_OK) < 0)
		return fail(t, t->helper, strerror(errno));
	return 0;
}

/* A regular file, opened for etrnd-tlsproxy to read: the fd, or -1 (err). */
static int open_file(struct tlsspawn *t, const char *path, const char *what)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int e = errno;
	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1, e = EISDIR;
		if (!S_ISDIR(st.st_mode))
			e = EINVAL;
	}
	if (fd < 0)
		fmt(t->err, sizeof t->err, "%s: unable to read the %s: %s", path, what,
		    strerror(e));
	return fd;
}

int tlsspawn_setup(struct tlsspawn *t, const char *certfile, const char *keyfile)
{
	t->sock = -1;
	t->pid = -1;
	t->version[0] = t->cipher[0] = t->err[0] = '\0';
	t->certname = certfile;
	t->keyname = keyfile;
	if ((t->cert = open_file(t, certfile, "certificate")) < 0 ||
	    (t->key = open_file(t, keyfile, "key")) < 0)
		return -1;
	return find_helper(t);
}

/* posix_spawn() of etrnd-tlsproxy with high[i] as its fd i of {0 1 3 4 5}.
 * Not fork(): the child shares etrnd's memory until the exec (vfork), so
 * etrnd takes no page fault afterwards for every page it writes (make
 * bench: about thirty faults per TLS session). 0, or -1 with errno. */
static int spawn(struct tlsspawn *t, const int high[5], char *const argv[])
{
	extern char **environ;
	static const int to[5] = {0, 1, 3, 4, 5};
	posix_spawn_file_actions_t fa;

	int rc = posix_spawn_file_actions_init(&fa);
	if (rc == 0) {
		for (int i = 0; rc == 0 && i < 5; i++)
			rc = posix_spawn_file_actions_adddup2(&fa, high[i], to[i]);
		if (rc == 0)
			rc = posix_spawn(&t->pid, t->helper, &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	errno = rc;
	return rc == 0 ? 0 : -1;
}

/* etrnd-tlsproxy on n's connection, with sock and the two files. The fds
 * go above 9 first: a source may be another one's place in the child. */
static int start_helper(struct tlsspawn *t, const struct netio *n, int sock, long left_ms)
{
	int from[5] = {n->infd, n->outfd, sock, t->cert, t->key}, high[5], i, rc = -1;
	char idle[FMT_NUM_MAX + 1], left[FMT_NUM_MAX + 1];

	idle[fmt_num(idle, n->idle_ms, 1)] = '\0';
	left[fmt_num(left, left_ms, 1)] = '\0';
	for (i = 0; i < 5; i++)
		if ((high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10)) < 0)
			break;
	if (i == 5) {
		char *argv[] = {"etrnd-tlsproxy",   idle, left, (char *)t->certname,
				(char *)t->keyname, NULL};
		rc = spawn(t, high, argv);
	}
	int e = errno;
	while (i-- > 0)
		close(high[i]);
	errno = e;
	return rc;
}

/* One status line from etrnd-tlsproxy into buf (without its LF). It is
 * looked at first (MSG_PEEK) and then only the line is read: what follows
 * it belongs to the session. 0, or -1 (err). */
static int status(struct tlsspawn *t, const struct netio *n, char *buf, size_t size)
{
	struct pollfd p = {t->sock, POLLIN, 0};
	/* etrnd-tlsproxy keeps the same time limits: a little longer here, so
	 * that its own reason ("TLS handshake: timeout") is the one that comes */
	long idle = n->idle_ms + SMTP_CLOSE_GRACE_MS;

	for (;;) {
		long long left = n->deadline_ms + 2LL * SMTP_CLOSE_GRACE_MS - netio_now_ms();
		int rc = left <= 0 ? 0 : poll(&p, 1, left < idle ? (int)left : (int)idle);
		if (rc == 0)
			return fail(t, "TLS", "etrnd-tlsproxy: timeout");
		if (rc < 0 && errno == EINTR)
			continue;
		ssize_t r = recv(t->sock, buf, size - 1, MSG_PEEK);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return fail(t, "TLS", "etrnd-tlsproxy ended without a word");
		char *lf = memchr(buf, '\n', (size_t)r);
		if (!lf && (size_t)r == size - 1)
			return fail(t, "TLS", "etrnd-tlsproxy: status line too long");
		if (!lf)
			continue; /* the rest of the line is on its way */
		size_t len = (size_t)(lf - buf) + 1;
		if (read(t->sock, buf, len) != (ssize_t)len)
			return fail(t, "TLS", "etrnd-tlsproxy: status line lost");
		buf[len - 1] = '\0';
		return 0;
	}
}

int tlsspawn_start(struct tlsspawn *t, struct netio *n)
{
	int sv[2];
	char line[TLSPROXY_STATUS_MAX];

	tlsspawn_end(t); /* what is left of an earlier STARTTLS that got 454 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail(t, "TLS", strerror(errno));
	long long left = n->deadline_ms - netio_now_ms() + SMTP_CLOSE_GRACE_MS;
	int rc = start_helper(t, n, sv[1], left > 0 ? (long)left : 1);
	int e = errno;
	close(sv[1]);
	t->sock = sv[0];
	if (rc < 0) {
		t->pid = -1;
		return fail(t, t->helper, strerror(e));
	}
	if (status(t, n, line, sizeof line) < 0)
		return -1;
	if (strcmp(line, "ready") != 0)
		return fail(t, "TLS", strncmp(line, "fail ", 5) == 0 ? line + 5 : line);
	return 0;
}

int tlsspawn_handshake(struct tlsspawn *t, struct netio *n)
{
	char line[TLSPROXY_STATUS_MAX];

	if (status(t, n, line, sizeof line) < 0)
		return -1;
	if (strncmp(line, "fail ", 5) == 0) {
		fmt(t->err, sizeof t->err, "%s", line + 5);
		return -1;
	}
	char *cipher = strncmp(line, "tls ", 4) == 0 ? strchr(line + 4, ' ') : NULL;
	if (!cipher)
		return fail(t, "TLS", "etrnd-tlsproxy: an unknown status");
	*cipher++ = '\0';
	fmt(t->version, sizeof t->version, "%s", line + 4);
	fmt(t->cipher, sizeof t->cipher, "%s", cipher);
	int fl = fcntl(t->sock, F_GETFL);
	if (fl < 0 || fcntl(t->sock, F_SETFL, fl | O_NONBLOCK) < 0)
		return fail(t, "TLS", strerror(errno));
	netio_lines_init(&n->lines);
	n->infd = n->outfd = t->sock;
	return 0;
}

/* Until etrnd-tlsproxy closes its end of the socket, which it does as it
 * exits: 1, or 0 when SMTP_CLOSE_GRACE_MS passed first. */
static int drained(int sock)
{
	struct pollfd p = {sock, POLLIN, 0};
	long long end = netio_now_ms() + SMTP_CLOSE_GRACE_MS, left;
	char buf[512];

	while ((left = end - netio_now_ms()) > 0) {
		int rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return 0;
		ssize_t r = read(sock, buf, sizeof buf);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return 1;
	}
	return 0;
}

int tlsspawn_end(struct tlsspawn *t)
{
	int st = 0, rc = 0, gone = 1;

	if (t->sock >= 0) {
		shutdown(t->sock, SHUT_WR);
		gone = drained(t->sock);
		close(t->sock);
		t->sock = -1;
	}
	if (t->pid > 0) {
		if (!gone) {
			kill(t->pid, SIGKILL);
			rc = fail(t, "etrnd-tlsproxy", "still running after the session; killed");
		}
		while (waitpid(t->pid, &st, 0) < 0 && errno == EINTR)
			;
		if (gone && (WIFSIGNALED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 111))) {
			char why[64];
			fmt(why, sizeof why,
			    WIFSIGNALED(st) ? "killed by signal %d" : "exit status %d",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			rc = fail(t, "etrnd-tlsproxy", why);
		}
		t->pid = -1;
	}
	return rc;
}
