/* SPDX-License-Identifier: ISC */
/* TLS and AUTH as processes: bin/etrnd with -C -K (STARTTLS) and -S
 * (implicit TLS) against openssl s_client and against our own client code
 * (smtpc over tlsio, the code etrn(1) runs), and bin/etrn -s -S -c -a
 * against bin/etrnd and against a scripted server. Every test makes its
 * own throwaway CA and server certificate with openssl req; connections
 * are socketpairs, or TCP on 127.0.0.1 with a port the kernel picks.
 * Every wait is on an event, bounded. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "netio.h"
#include "sasl.h"
#include "smtpc.h"
#include "testutil.h"
#include "tlsio.h"

/* etrnd-rules -p for "secret", and for 255 times "p" (the longest
 * password PLAIN carries): the default yescrypt cost, as deployed. */
#define SECRET_HASH "$y$j9T$i9bD2dDw2A/OEKon5sjyl0$XCPv/Z7pcGfT6wXvwwkSfoeY2Cgd.WKOFbSL8DqlQT5"
#define LONG_HASH "$y$j9T$WzLzlt4na8F8l3B23xGhY1$pNW./RSgogcvs4BQpSfIIIAf3Fl.lMTxgsuX8gV1KB."
#define LONG_LOGIN "a234567890123456789012345678901234567890123456789012345678901234"

static char *dir;
static const char *cdb, *queue;
static char ca[4096], crt[4096], key[4096], other_key[4096], logfile[4096];

static const char *rules = "user:bob password=" SECRET_HASH "\n"
			   "user:alice password=" SECRET_HASH "\n"
			   "user:" LONG_LOGIN " password=" LONG_HASH "\n"
			   "client.example.net users=bob," LONG_LOGIN "\n"
			   "office.example.net users=bob allow=192.0.2.0/24\n"
			   "open.example.net\n";

/* Runs a shell command line in dir; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	char *full = NULL;
	cr_assert(asprintf(&full, "cd '%s' && { %s ; } >>'%s/sh.log' 2>&1", dir, cmd, dir) > 0);
	int st = system(full);
	free(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A CA, a server certificate for mx.example and 127.0.0.1 that it signed,
 * and a key of another certificate (a mismatch for -K). */
static void make_pki(void)
{
	static const char cnf[] = "[req]\ndistinguished_name=dn\n[dn]\n"
				  "[ca]\nbasicConstraints=critical,CA:true\n"
				  "keyUsage=critical,keyCertSign,cRLSign\n"
				  "subjectKeyIdentifier=hash\n"
				  "[leaf]\nbasicConstraints=CA:false\n"
				  "subjectAltName=DNS:mx.example,IP:127.0.0.1\n"
				  "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
				  "authorityKeyIdentifier=keyid:always\n";
	tu_write(tu_path(dir, "pki.cnf"), cnf);
	const char *req = "openssl req -config pki.cnf -x509 -days 2 -nodes -newkey ec "
			  "-pkeyopt ec_paramgen_curve:prime256v1";
	int rc = sh("%s -subj /CN=etrnd-test-CA -extensions ca -keyout ca.key -out ca.crt && "
		    "%s -subj /CN=mx.example -extensions leaf -CA ca.crt -CAkey ca.key "
		    "-keyout server.key -out server.crt && "
		    "%s -subj /CN=other -extensions leaf -keyout other.key -out other.crt",
		    req, req, req);
	cr_assert_eq(rc, 0, "openssl req failed:\n%s", tu_read(tu_path(dir, "sh.log"), NULL));
	snprintf(ca, sizeof ca, "%s/ca.crt", dir);
	snprintf(crt, sizeof crt, "%s/server.crt", dir);
	snprintf(key, sizeof key, "%s/server.key", dir);
	snprintf(other_key, sizeof other_key, "%s/other.key", dir);
	cr_assert_eq(chmod(key, 0600), 0);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	dir = tu_tmpdir();
	cdb = strdup(tu_path(dir, "etrn.cdb"));
	cr_assert_eq(tu_rules(dir, rules, cdb), 0);
	queue = strdup(tu_queue(dir));
	snprintf(logfile, sizeof logfile, "%s/etrnd.log", dir);
	make_pki();
}

static void teardown(void)
{
	tu_rmtree(dir);
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(etrn_tls, .init = setup, .fini = teardown, .timeout = 60);

static void clear_log(void)
{
	int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
}

static char *etrnd_log(void)
{
	char *s = tu_read(logfile, NULL);
	return s ? s : strdup("");
}

/* Starts bin/etrnd on fd (as fd 0 and 1), logging to logfile, with the
 * options in extra; as the user pw when pw is not NULL. */
static pid_t spawn_etrnd(int fd, const char *const *extra, const struct passwd *pw)
{
	const char *argv[32] = {"etrnd", "-n",  "mx.example", "-d",    cdb,
				"-q",    queue, "-l",         "stderr"};
	tu_append(argv, 9, extra);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int log = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (log < 0)
			_exit(127);
		dup2(fd, 0), dup2(fd, 1), dup2(log, 2);
		for (int i = 3; i < 64; i++)
			close(i);
		putenv((char *)"TCPREMOTEIP=198.51.100.7");
		if (pw) { /* unwrapped: $ETRND_WRAP's logs are not this user's to write */
			if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
			    setuid(pw->pw_uid) < 0)
				_exit(126);
			execv(tu_bin("etrnd"), (char *const *)argv);
			_exit(127);
		}
		tu_execv(tu_bin("etrnd"), argv);
		_exit(127);
	}
	return pid;
}

/* -- a session through our own client code ------------------------------ */

struct conn {
	int fd;
	pid_t pid;
	struct smtpc c;
	struct tlsio t;
	struct reply r;
};

static const char *const starttls_args[] = {"-C", crt, "-K", key, NULL};
static const char *const implicit_args[] = {"-C", crt, "-K", key, "-S", NULL};

/* etrnd on a socketpair with extra options; the greeting is not read. */
static void open_conn(struct conn *k, const char *const *extra)
{
	int sv[2];
	memset(k, 0, sizeof *k);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	k->pid = spawn_etrnd(sv[1], extra, NULL);
	close(sv[1]);
	k->fd = sv[0];
	smtpc_init(&k->c, k->fd, 20, 60);
}

static void handshake(struct conn *k)
{
	cr_assert_eq(tlsio_client(&k->t, ca, 1), 0, "%s", k->t.err);
	cr_assert_eq(smtpc_tls(&k->c, &k->t, "mx.example"), 0, "handshake: %s\nlog: %s", k->c.error,
		     etrnd_log());
}

static int cmd(struct conn *k, const char *line)
{
	int code = smtpc_cmd(&k->c, line, &k->r);
	cr_assert_gt(code, 0, "no reply to '%.40s': %s\nlog: %s", line, k->c.error, etrnd_log());
	return code;
}

/* The reply's first line as "CODE text". */
static const char *said(struct conn *k)
{
	static char buf[SMTPC_REPLY_MAX + 8];
	char text[SMTPC_REPLY_MAX];
	snprintf(buf, sizeof buf, "%d %s", k->r.code, smtpc_first_line(&k->r, text, sizeof text));
	return buf;
}

static void expect_cmd(struct conn *k, const char *line, const char *want)
{
	cmd(k, line);
	cr_assert_str_eq(said(k), want, "after '%.40s'", line);
}

/* A connection, its greeting read and EHLO sent (k->r: EHLO's reply). */
static void greeted(struct conn *k, const char *const *extra)
{
	open_conn(k, extra);
	cr_assert_eq(smtpc_reply(&k->c, &k->r), 220);
	cmd(k, "EHLO client.test");
}

/* Greeting, EHLO, STARTTLS, handshake, EHLO again: ready for AUTH. */
static void open_tls(struct conn *k)
{
	open_conn(k, starttls_args);
	cr_assert_eq(smtpc_reply(&k->c, &k->r), 220, "%s", k->c.error);
	cmd(k, "EHLO client.test");
	cr_assert(smtpc_keyword(&k->r, "STARTTLS"), "no STARTTLS before TLS: %s", k->r.text);
	cr_assert(!smtpc_keyword(&k->r, "AUTH"), "AUTH offered in plaintext: %s", k->r.text);
	expect_cmd(k, "STARTTLS", "220 2.0.0 Ready to start TLS");
	handshake(k);
	cmd(k, "EHLO client.test");
	cr_assert_eq(k->r.code, 250);
}

/* AUTH PLAIN with an initial response for user and pass. */
static int auth_plain(struct conn *k, const char *user, const char *pass)
{
	unsigned char msg[600];
	char b64[900], line[1000];
	size_t ul = strlen(user), pl = strlen(pass);
	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, pass, pl);
	cr_assert_gt(b64_encode(msg, ul + pl + 2, b64, sizeof b64), 0);
	snprintf(line, sizeof line, "AUTH PLAIN %s", b64);
	int code = smtpc_cmd_secret(&k->c, line, line, &k->r);
	cr_assert_gt(code, 0, "no reply to AUTH: %s", k->c.error);
	return code;
}

/* Sends raw octets (through TLS when it is up) and reads one reply. */
static int raw(struct conn *k, const char *buf, size_t len)
{
	cr_assert_eq(netio_write(&k->c.io, buf, len), 0, "write failed");
	int code = smtpc_reply(&k->c, &k->r);
	cr_assert_gt(code, 0, "no reply: %s", k->c.error);
	return code;
}

/* QUIT (unless the session is over), then etrnd's exit status. */
static int close_conn(struct conn *k, int quit)
{
	if (quit)
		expect_cmd(k, "QUIT", "221 2.0.0 mx.example closing connection");
	if (k->c.io.tls)
		tlsio_free(&k->t);
	close(k->fd);
	return tu_wait_exit(k->pid, 20);
}

/* -- TCP on 127.0.0.1, for peers that dial ----------------------------- */

static int tcp_listen(char *port, size_t size)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(l, 0);
	cr_assert_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	cr_assert_eq(listen(l, 4), 0);
	cr_assert_eq(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	snprintf(port, size, "%d", ntohs(sa.sin_port));
	return l;
}

struct proc {
	pid_t pid;
	int pidfd;
	int in, out; /* its stdin (ours to write) and its stdout+stderr */
};

/* The next connection on l from the process p (within 20 s), or -1 when
 * p exits first. */
static int tcp_accept(int l, const struct proc *p)
{
	struct pollfd w[2] = {{l, POLLIN, 0}, {p->pidfd, POLLIN, 0}};
	long long end = tu_now_ms() + 20000;
	for (;;) {
		long long left = end - tu_now_ms();
		int rc = poll(w, 2, left > 0 ? (int)left : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (w[0].revents & POLLIN)
			return accept4(l, NULL, NULL, SOCK_CLOEXEC);
		return -1;
	}
}

/* Starts argv (a program on PATH, or a bin/ program when bin is set). */
static struct proc start_proc(const char *const *argv, int bin, const char *const *env)
{
	int in[2], out[2];
	struct proc p;
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	p.pid = fork();
	cr_assert_geq(p.pid, 0);
	if (p.pid == 0) {
		dup2(in[0], 0), dup2(out[1], 1), dup2(out[1], 2);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		if (bin)
			tu_execv(tu_bin(argv[0]), argv);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]), close(out[1]);
	p.in = in[1], p.out = out[0];
	p.pidfd = (int)syscall(SYS_pidfd_open, p.pid, 0);
	cr_assert_geq(p.pidfd, 0, "pidfd_open: %s", strerror(errno));
	return p;
}

/* Its status and everything it printed (malloc'd). */
static int finish_proc(struct proc *p, char **output)
{
	close(p->in);
	*output = tu_slurp_fd(p->out, 30, NULL);
	close(p->out), close(p->pidfd);
	return tu_wait_exit(p->pid, 30);
}

/* openssl s_client against one etrnd started with etrnd_args on a TCP
 * connection: client_args go after "openssl s_client -connect ADDR",
 * input is its stdin. s_client's status; its output in *output, etrnd's
 * status in *etrnd_status. */
static int s_client(const char *const *etrnd_args, const char *const *client_args,
		    const char *input, char **output, int *etrnd_status)
{
	char port[16], addr[64];
	int l = tcp_listen(port, sizeof port);
	snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
	const char *argv[32] = {"openssl", "s_client", "-connect", addr};
	tu_append(argv, 4, client_args);
	struct proc p = start_proc(argv, 0, NULL);
	int a = tcp_accept(l, &p);
	cr_assert_geq(a, 0, "s_client did not connect");
	close(l);
	pid_t e = spawn_etrnd(a, etrnd_args, NULL);
	close(a);
	size_t len = strlen(input);
	cr_assert_eq(write(p.in, input, len), (ssize_t)len);
	int st = finish_proc(&p, output);
	*etrnd_status = tu_wait_exit(e, 20);
	return st;
}

/* -- etrnd: the TLS transport ------------------------------------------- */

Test(tls, openssl_s_client_starttls_completes_a_handshake)
{
	char *out;
	int est;
	int st = s_client(starttls_args,
			  (const char *[]){"-starttls", "smtp", "-name", "client.test", "-CAfile",
					   ca, "-verify_return_error", "-servername", "mx.example",
					   "-crlf", "-ign_eof", NULL},
			  "EHLO client.test\nETRN open.example.net\nQUIT\n", &out, &est);
	cr_assert_eq(st, 0, "s_client: %s", out);
	cr_assert_eq(est, 0);
	cr_assert(strstr(out, "Verify return code: 0 (ok)"), "%s", out);
	cr_assert(strstr(out, "250-AUTH PLAIN LOGIN\r\n"), "%s", out);
	cr_assert(strstr(out, "250 2.0.0 OK, queuing for node open.example.net started"), "%s",
		  out);
	cr_assert(strstr(out, "221 2.0.0 mx.example closing connection"), "%s", out);
	char *log = etrnd_log();
	cr_assert(strstr(log, " tls=TLSv1.3 cipher=TLS_"), "%s", log);
	cr_assert(strstr(log, "why=quit"), "%s", log);
	free(log), free(out);
}

Test(tls, openssl_s_client_implicit_tls_with_S)
{
	char *out;
	int est;
	int st = s_client(implicit_args,
			  (const char *[]){"-CAfile", ca, "-verify_return_error", "-servername",
					   "mx.example", "-crlf", "-ign_eof", NULL},
			  "EHLO client.test\nQUIT\n", &out, &est);
	cr_assert_eq(st, 0, "s_client: %s", out);
	cr_assert_eq(est, 0);
	cr_assert(strstr(out, "Verify return code: 0 (ok)"), "%s", out);
	/* the greeting comes over TLS; inside TLS there is no STARTTLS */
	cr_assert(strstr(out, "220 mx.example ESMTP\r\n"), "%s", out);
	cr_assert(strstr(out, "250-AUTH PLAIN LOGIN\r\n"), "%s", out);
	cr_assert(!strstr(out, "STARTTLS"), "%s", out);
	free(out);
}

/* s_client -tls1 (or -tls1_1) at security level 0 really offers only
 * that version; etrnd's log names the protocol as the reason, so it was
 * the version that was refused, not something else. TLS 1.2 works. */
Test(tls, tls_1_0_and_1_1_are_refused_1_2_and_1_3_work)
{
	static const char *const versions[] = {"-tls1", "-tls1_1"};
	for (size_t i = 0; i < 2; i++) {
		char *out;
		int est;
		clear_log();
		int st = s_client(implicit_args,
				  (const char *[]){versions[i], "-cipher", "DEFAULT@SECLEVEL=0",
						   "-ign_eof", NULL},
				  "QUIT\r\n", &out, &est);
		cr_expect_neq(st, 0, "%s accepted: %s", versions[i], out);
		cr_expect_eq(est, 0);
		cr_expect(!strstr(out, "220 mx.example"), "%s", out);
		char *log = etrnd_log();
		cr_expect(strstr(log, "tls error=") && strstr(log, "unsupported protocol"),
			  "%s: %s", versions[i], log);
		free(log), free(out);
	}
	static const char *const good[] = {"-tls1_2", "-tls1_3"};
	for (size_t i = 0; i < 2; i++) {
		char *out;
		int est;
		int st = s_client(implicit_args,
				  (const char *[]){good[i], "-CAfile", ca, "-verify_return_error",
						   "-crlf", "-ign_eof", NULL},
				  "QUIT\n", &out, &est);
		cr_expect_eq(st, 0, "%s: %s", good[i], out);
		cr_expect(strstr(out, "221 2.0.0"), "%s: %s", good[i], out);
		free(out);
	}
}

/* The key is read as root before -u: a key only root can read works for
 * etrnd -u nobody. */
Test(tls, a_key_0600_root_is_read_before_dropping_to_nobody)
{
	if (geteuid() != 0)
		cr_skip_test("skipped: needs root, to start etrnd -u nobody");
	if (!getpwnam("nobody"))
		cr_skip_test("skipped: no user nobody on this system");
	cr_assert_eq(chown(key, 0, 0), 0);
	cr_assert_eq(chmod(key, 0600), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	struct conn k;
	open_conn(&k, (const char *[]){"-u", "nobody", "-C", crt, "-K", key, "-S", NULL});
	handshake(&k);
	cr_assert_eq(smtpc_reply(&k.c, &k.r), 220, "%s", k.c.error);
	cr_assert_eq(close_conn(&k, 1), 0);
	char *log = etrnd_log();
	cr_assert(strstr(log, "tls=TLSv1.3"), "%s", log);
	free(log);
}

/* Runs etrnd with the given -C/-K on a socketpair (as uid unless -1):
 * it must log why and exit 111 before any greeting. */
static void refuses_to_start(const char *cert, const char *k, const struct passwd *pw,
			     const char *why)
{
	int sv[2];
	clear_log();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = spawn_etrnd(sv[1], (const char *[]){"-C", cert, "-K", k, NULL}, pw);
	close(sv[1]);
	char *out = tu_slurp_fd(sv[0], 20, NULL);
	close(sv[0]);
	cr_expect_eq(tu_wait_exit(pid, 20), 111, "%s", why);
	cr_expect(!strstr(out, "220"), "%s: greeted: %s", why, out);
	char *log = etrnd_log();
	cr_expect(strstr(log, "fatal reason=") && strstr(log, why), "want '%s' in: %s", why, log);
	free(log), free(out);
}

Test(tls, a_missing_or_unreadable_key_exits_111_before_the_greeting)
{
	refuses_to_start(crt, tu_path(dir, "nothere.key"), NULL, "unable to read the key");
	refuses_to_start(tu_path(dir, "nothere.crt"), key, NULL, "unable to read the certificate");
	refuses_to_start(crt, dir, NULL, "unable to read the key");
	if (geteuid() == 0 && getpwnam("nobody")) { /* root reads anything: be nobody */
		cr_assert_eq(chmod(dir, 0755), 0);
		cr_assert_eq(chmod(crt, 0644), 0);
		cr_assert_eq(chmod(key, 0600), 0);
		refuses_to_start(crt, key, getpwnam("nobody"), "unable to read the key");
	} else if (geteuid() != 0) {
		cr_assert_eq(chmod(key, 0), 0);
		refuses_to_start(crt, key, NULL, "unable to read the key");
	}
}

/* TLS_PEM_MAX: a certificate file one octet over 256 KiB is refused when
 * TLS starts (454, logged); one of the limit's length is read whole (its
 * PEM, padded with blank lines, still loads). */
Test(tls, a_certificate_file_over_256_kib_gets_454)
{
	size_t len = 0;
	char *pem = tu_read(crt, &len);
	cr_assert(pem && len < TLS_PEM_MAX);
	char *big = malloc(TLS_PEM_MAX + 2);
	cr_assert(big);
	memcpy(big, pem, len);
	memset(big + len, '\n', TLS_PEM_MAX + 1 - len);
	const char *paths[2] = {tu_path(dir, "limit.crt"), tu_path(dir, "over.crt")};
	size_t sizes[2] = {TLS_PEM_MAX, TLS_PEM_MAX + 1};
	for (int i = 0; i < 2; i++) {
		char *path = strdup(paths[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		cr_assert(fd >= 0 && write(fd, big, sizes[i]) == (ssize_t)sizes[i] &&
			  close(fd) == 0);
		struct conn k;
		clear_log();
		greeted(&k, (const char *[]){"-C", path, "-K", key, NULL});
		if (i == 0) {
			expect_cmd(&k, "STARTTLS", "220 2.0.0 Ready to start TLS");
			handshake(&k);
			cr_assert_eq(close_conn(&k, 1), 0);
		} else {
			expect_cmd(&k, "STARTTLS",
				   "454 4.7.0 TLS not available due to temporary reason");
			cr_assert_eq(close_conn(&k, 1), 0);
			char *log = etrnd_log();
			cr_expect(strstr(log, "over.crt: longer than 256 KiB"), "%s", log);
			free(log);
		}
		free(path);
	}
	free(big), free(pem);
}

/* etrnd -C finds etrnd-tlsproxy in its own directory; without it there,
 * it exits 111 at the start and says where it looked. */
Test(tls, without_etrnd_tlsproxy_beside_it_C_exits_111)
{
	const char *lonely = tu_path(dir, "lonely");
	cr_assert_eq(mkdir(lonely, 0755), 0);
	size_t len = 0;
	char *image = tu_read(tu_bin("etrnd"), &len);
	cr_assert(image && len > 0);
	char copy[4096];
	snprintf(copy, sizeof copy, "%s/etrnd", lonely);
	int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	cr_assert(fd >= 0 && write(fd, image, len) == (ssize_t)len && close(fd) == 0);
	free(image);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR),
		    log = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (null < 0 || log < 0)
			_exit(127);
		dup2(null, 0), dup2(null, 1), dup2(log, 2);
		execl(copy, "etrnd", "-n", "mx.example", "-d", cdb, "-q", queue, "-l", "stderr",
		      "-C", crt, "-K", key, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(tu_wait_exit(pid, 20), 111);
	char *log = etrnd_log();
	cr_expect(strstr(log, "fatal reason=") && strstr(log, "lonely/etrnd-tlsproxy"), "%s", log);
	free(log);
}

/* A key of another certificate is found when TLS starts (etrnd-tlsproxy loads
 * the pair): STARTTLS gets 454 (RFC 3207), the session goes on in
 * plaintext, and the log names both files; under -S nothing is written. */
Test(tls, a_key_of_another_certificate_gets_454_at_starttls)
{
	struct conn k;
	clear_log();
	greeted(&k, (const char *[]){"-C", crt, "-K", other_key, NULL});
	cr_assert(smtpc_keyword(&k.r, "STARTTLS"), "%s", k.r.text);
	expect_cmd(&k, "STARTTLS", "454 4.7.0 TLS not available due to temporary reason");
	expect_cmd(&k, "STARTTLS", "454 4.7.0 TLS not available due to temporary reason");
	expect_cmd(&k, "NOOP", "250 2.0.0 OK");
	cr_assert_eq(close_conn(&k, 1), 0);
	char *log = etrnd_log();
	cr_expect(strstr(log, "tls error=") && strstr(log, "other.key with "), "%s", log);
	free(log);

	int sv[2];
	clear_log();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid =
	    spawn_etrnd(sv[1], (const char *[]){"-C", crt, "-K", other_key, "-S", NULL}, NULL);
	close(sv[1]);
	size_t len = 0;
	char *out = tu_slurp_fd(sv[0], 20, &len);
	close(sv[0]);
	cr_expect_eq(tu_wait_exit(pid, 20), 0);
	cr_expect_eq(len, 0, "-S wrote: %s", out);
	log = etrnd_log();
	cr_expect(strstr(log, "other.key with ") && strstr(log, "why=tls-failed"), "%s", log);
	free(log), free(out);
}

/* Nothing but a TLS alert record (5-octet header, 2-octet body) may
 * follow: no SMTP reply in plaintext to a client that wanted TLS. */
static void only_an_alert(const char *out, size_t len)
{
	cr_expect(len == 0 || (len == 7 && out[0] == 0x15 && out[1] == 0x03),
		  "%zu octets after the handshake failed: '%.*s'", len, (int)len, out);
}

Test(tls, a_failed_handshake_is_logged_exit_0_nothing_written)
{
	/* STARTTLS, then plaintext where the ClientHello belongs */
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = spawn_etrnd(sv[1], starttls_args, NULL);
	close(sv[1]);
	static const char banner[] = "220 mx.example ESMTP\r\n";
	static const char ready[] = "220 2.0.0 Ready to start TLS\r\n";
	char buf[256];
	cr_assert(tu_readable(sv[0], 20000));
	cr_assert_eq(read(sv[0], buf, sizeof banner - 1), (ssize_t)sizeof banner - 1);
	cr_assert_eq(write(sv[0], "STARTTLS\r\n", 10), 10);
	cr_assert(tu_readable(sv[0], 20000));
	cr_assert_eq(read(sv[0], buf, sizeof ready - 1), (ssize_t)sizeof ready - 1);
	cr_assert_eq(memcmp(buf, ready, sizeof ready - 1), 0);
	static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
	cr_assert_eq(write(sv[0], junk, sizeof junk - 1), (ssize_t)sizeof junk - 1);
	size_t len;
	char *out = tu_slurp_fd(sv[0], 20, &len);
	cr_assert_eq(tu_wait_exit(pid, 20), 0);
	only_an_alert(out, len);
	free(out);
	close(sv[0]);
	char *log = etrnd_log();
	cr_assert(strstr(log, "tls error=\"TLS handshake: "), "%s", log);
	cr_assert(strstr(log, "why=tls-failed"), "%s", log);
	free(log);

	/* -S: the same, and not even a greeting */
	clear_log();
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = spawn_etrnd(sv[1], implicit_args, NULL);
	close(sv[1]);
	cr_assert_eq(write(sv[0], "EHLO client.test\r\n", 18), 18);
	out = tu_slurp_fd(sv[0], 20, &len);
	cr_assert_eq(tu_wait_exit(pid, 20), 0);
	only_an_alert(out, len);
	free(out);
	close(sv[0]);
	log = etrnd_log();
	cr_assert(strstr(log, "tls error=\"TLS handshake: "), "%s", log);
	cr_assert(strstr(log, "why=tls-failed"), "%s", log);
	free(log);
}

/* The handshake runs under the session's limits: a client that never sends
 * its ClientHello (after STARTTLS, or at all under -S) is cut at the idle
 * timeout (-t 1), with a log line, and nothing is written. */
Test(tls, a_client_silent_in_the_handshake_is_cut_by_the_timeout)
{
	const char *const after_starttls[] = {"-C", crt, "-K", key, "-t", "1", NULL};
	const char *const implicit[] = {"-C", crt, "-K", key, "-S", "-t", "1", NULL};
	for (int S = 0; S <= 1; S++) {
		clear_log();
		int sv[2];
		cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		long long t0 = tu_now_ms();
		pid_t pid = spawn_etrnd(sv[1], S ? implicit : after_starttls, NULL);
		close(sv[1]);
		if (!S) {
			char buf[256];
			cr_assert(tu_readable(sv[0], 20000));
			cr_assert_gt(read(sv[0], buf, sizeof buf), 0);
			cr_assert_eq(write(sv[0], "STARTTLS\r\n", 10), 10);
		}
		/* then nothing, with the connection open, until etrnd ends */
		cr_assert_eq(tu_wait_exit(pid, 20), 0, "-S %d: etrnd did not end", S);
		long long took = tu_now_ms() - t0;
		close(sv[0]);
		cr_expect_geq(took, 900, "-S %d: cut after %lld ms, before the timeout", S, took);
		char *log = etrnd_log();
		cr_expect(strstr(log, "tls error=\"TLS handshake: timeout\"") &&
			      strstr(log, "why=tls-failed"),
			  "-S %d: %s", S, log);
		free(log);
		cr_expect_eq(tu_count(tu_path(queue, "new")), 0);
	}
}

/* CVE-2011-0411: a command pipelined behind STARTTLS in plaintext must
 * never run, in particular not as if the client had sent it inside TLS. */
Test(tls, commands_pipelined_behind_starttls_are_discarded)
{
	struct conn k;
	greeted(&k, starttls_args);
	static const char inject[] = "STARTTLS\r\nETRN open.example.net\r\n";
	cr_assert_eq(raw(&k, inject, sizeof inject - 1), 220);
	handshake(&k);
	/* the first reply inside TLS answers our EHLO, not the injected ETRN */
	cmd(&k, "EHLO client.test");
	cr_assert_str_eq(said(&k), "250 mx.example");
	cmd(&k, "NOOP");
	cr_assert_str_eq(said(&k), "250 2.0.0 OK");
	cr_assert_eq(close_conn(&k, 1), 0);
	char *log = etrnd_log();
	cr_assert(!strstr(log, "etrn client="), "the injected ETRN ran: %s", log);
	cr_assert(strstr(log, " etrn=0 "), "%s", log);
	free(log);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 0);
}

/* A TLS record longer than the room left in netio's buffer (here: a
 * partial line, then a full 16384-octet record ending in QUIT) must be
 * read to its end without waiting for more octets from the socket. It
 * used to stay half inside libtls until the idle timeout. */
Test(tls, a_record_that_overfills_the_line_buffer_is_read_at_once)
{
	struct conn k;
	open_conn(&k, (const char *[]){"-C", crt, "-K", key, "-S", "-t", "30", NULL});
	handshake(&k);
	cr_assert_eq(smtpc_reply(&k.c, &k.r), 220);
	static char rec[16384];
	static const char head[] = "NOOP ";
	cr_assert_eq(netio_write(&k.c.io, "NOOP xxxxxxxxxxxxxxxxxxx", 24), 0);
	size_t n = 0;
	memcpy(rec, "\r\n", 2);
	n = 2;
	while (n + 500 + 200 < sizeof rec) { /* NOOP lines of 500 octets */
		memcpy(rec + n, head, 5);
		memset(rec + n + 5, 'y', 493);
		memcpy(rec + n + 498, "\r\n", 2);
		n += 500;
	}
	size_t pad = sizeof rec - n - 6 - 7; /* a last NOOP fills it up to QUIT */
	memcpy(rec + n, head, 5);
	memset(rec + n + 5, 'z', pad);
	memcpy(rec + n + 5 + pad, "\r\n", 2);
	memcpy(rec + n + 7 + pad, "QUIT\r\n", 6);
	long long t0 = tu_now_ms();
	cr_assert_eq(netio_write(&k.c.io, rec, sizeof rec), 0);
	int replies = 0;
	while (smtpc_reply(&k.c, &k.r) == 250)
		replies++;
	cr_assert_eq(k.r.code, 221, "after %d replies: %d %s (%s)", replies, k.r.code, k.r.text,
		     k.c.error);
	cr_assert_lt(tu_now_ms() - t0, 10000, "the QUIT waited for the idle timeout");
	cr_assert_eq(close_conn(&k, 0), 0);
}

/* -- STARTTLS and AUTH replies ------------------------------------------ */

Test(tls, ehlo_offers_starttls_in_plaintext_and_auth_inside_tls)
{
	struct conn k;
	open_tls(&k); /* checks the plaintext EHLO */
	cr_assert(!smtpc_keyword(&k.r, "STARTTLS"), "STARTTLS inside TLS: %s", k.r.text);
	cr_assert(smtpc_auth_offered(&k.r, "PLAIN") && smtpc_auth_offered(&k.r, "LOGIN"), "%s",
		  k.r.text);
	cr_assert(!smtpc_auth_offered(&k.r, "CRAM-MD5"), "no login has cram=: %s", k.r.text);
	cr_assert(k.r.has_etrn);
	cr_assert_eq(close_conn(&k, 1), 0);
	/* no certificate: neither STARTTLS nor AUTH */
	greeted(&k, NULL);
	cr_assert(!smtpc_keyword(&k.r, "STARTTLS") && !smtpc_keyword(&k.r, "AUTH"), "%s", k.r.text);
	expect_cmd(&k, "STARTTLS", "502 5.5.1 Command not implemented");
	cr_assert_eq(close_conn(&k, 1), 0);
}

Test(tls, starttls_with_an_argument_501_inside_tls_503)
{
	struct conn k;
	greeted(&k, starttls_args);
	expect_cmd(&k, "STARTTLS now", "501 5.5.4 Syntax: STARTTLS (no parameters)");
	expect_cmd(&k, "STARTTLS", "220 2.0.0 Ready to start TLS");
	handshake(&k);
	cmd(&k, "EHLO client.test");
	expect_cmd(&k, "STARTTLS", "503 5.5.1 TLS already active");
	cr_assert_eq(close_conn(&k, 1), 0);
}

Test(tls, auth_in_plaintext_538_before_ehlo_503_twice_503_unknown_504)
{
	struct conn k;
	greeted(&k, starttls_args);
	expect_cmd(&k, "AUTH PLAIN AGJvYgBzZWNyZXQ=",
		   "538 5.7.11 Encryption required for requested authentication mechanism");
	expect_cmd(&k, "AUTH LOGIN",
		   "538 5.7.11 Encryption required for requested authentication mechanism");
	expect_cmd(&k, "STARTTLS", "220 2.0.0 Ready to start TLS");
	handshake(&k);
	/* TLS forgot the EHLO */
	expect_cmd(&k, "AUTH PLAIN AGJvYgBzZWNyZXQ=", "503 5.5.1 Say EHLO first");
	cmd(&k, "EHLO client.test");
	expect_cmd(&k, "AUTH DIGEST-MD5", "504 5.5.4 Unrecognized authentication type");
	expect_cmd(&k, "AUTH CRAM-MD5", "504 5.5.4 Unrecognized authentication type");
	cr_assert_eq(auth_plain(&k, "bob", "secret"), 235);
	cr_assert_str_eq(said(&k), "235 2.7.0 Authentication successful");
	expect_cmd(&k, "AUTH PLAIN AGJvYgBzZWNyZXQ=", "503 5.5.1 Already authenticated");
	cr_assert_eq(close_conn(&k, 1), 0);
}

Test(tls, auth_cancel_bad_base64_and_bad_plain_are_501)
{
	struct conn k;
	open_tls(&k);
	expect_cmd(&k, "AUTH PLAIN", "334 ");
	expect_cmd(&k, "*", "501 5.7.0 Authentication cancelled");
	expect_cmd(&k, "AUTH PLAIN", "334 ");
	expect_cmd(&k, "AGJvYgBzZWNyZXQ", "501 5.5.2 Cannot decode the response (base64)");
	expect_cmd(&k, "AUTH PLAIN AGJvYgBzZWNyZXQ*",
		   "501 5.5.2 Cannot decode the response (base64)");
	/* "bob\0secret": no second NUL */
	expect_cmd(&k, "AUTH PLAIN Ym9iAHNlY3JldA==", "501 5.5.2 Malformed PLAIN message");
	/* LOGIN, step by step: "Username:", "Password:" */
	expect_cmd(&k, "AUTH LOGIN", "334 VXNlcm5hbWU6");
	expect_cmd(&k, "Ym9i", "334 UGFzc3dvcmQ6");
	expect_cmd(&k, "c2VjcmV0", "235 2.7.0 Authentication successful");
	cr_assert_eq(close_conn(&k, 1), 0);
	char *log = etrnd_log();
	cr_assert(strstr(log, "auth client=198.51.100.7 user=bob mech=LOGIN result=ok"), "%s", log);
	free(log);
}

/* RFC 4954 section 4: an AUTH line (and a SASL answer) of 12288 octets
 * with its CR LF; a command line stays at 512. */
Test(tls, an_auth_line_of_12288_octets_is_taken_a_command_over_512_is_not)
{
	struct conn k;
	open_tls(&k);
	static char line[SMTP_AUTH_LINE_MAX + 8];
	const char *b64 = "AGJvYgBzZWNyZXQ="; /* \0bob\0secret */
	/* blanks between the mechanism and the response pad it to length */
	size_t fill = SMTP_AUTH_LINE_MAX - 2 - strlen("AUTH PLAIN") - strlen(b64);
	memcpy(line, "AUTH PLAIN", 10);
	memset(line + 10, ' ', fill);
	memcpy(line + 10 + fill, b64, strlen(b64));
	memcpy(line + 10 + fill + strlen(b64), "\r\n", 3);
	cr_assert_eq(strlen(line), SMTP_AUTH_LINE_MAX);
	cr_assert_eq(raw(&k, line, SMTP_AUTH_LINE_MAX), 235, "%s", said(&k));
	cr_assert_eq(close_conn(&k, 1), 0);

	open_tls(&k);
	memmove(line + 11, line + 10, SMTP_AUTH_LINE_MAX - 10 + 1); /* one blank more */
	cr_assert_eq(strlen(line), SMTP_AUTH_LINE_MAX + 1);
	raw(&k, line, SMTP_AUTH_LINE_MAX + 1);
	cr_assert_str_eq(said(&k), "500 5.5.2 Line too long");
	/* a SASL answer far over 512 octets is decoded (and is no PLAIN
	 * message); base64 comes in fours, so 12284 + CR LF */
	expect_cmd(&k, "AUTH PLAIN", "334 ");
	memset(line, 'A', SMTP_AUTH_LINE_MAX - 4);
	memcpy(line + SMTP_AUTH_LINE_MAX - 4, "\r\n", 3);
	raw(&k, line, SMTP_AUTH_LINE_MAX - 2);
	cr_assert_str_eq(said(&k), "501 5.5.2 Malformed PLAIN message");
	/* any other command: 512 octets with CR LF */
	memset(line, ' ', SMTP_LINE_MAX);
	memcpy(line, "NOOP", 4);
	memcpy(line + SMTP_LINE_MAX - 3, "x\r\n", 4);
	cr_assert_eq(raw(&k, line, SMTP_LINE_MAX), 250, "%s", said(&k));
	memcpy(line + SMTP_LINE_MAX - 2, "x\r\n", 4);
	raw(&k, line, SMTP_LINE_MAX + 1);
	cr_assert_str_eq(said(&k), "500 5.5.2 Line too long");
	cr_assert_eq(close_conn(&k, 1), 0);
}

/* The longest login and password a PLAIN message carries: a 695-octet
 * AUTH line, over the 512 of a command. */
Test(tls, the_longest_login_and_password_authenticate)
{
	char pass[SASL_FIELD_MAX + 1];
	memset(pass, 'p', SASL_FIELD_MAX);
	pass[SASL_FIELD_MAX] = '\0';
	struct conn k;
	open_tls(&k);
	cr_assert_eq(auth_plain(&k, LONG_LOGIN, pass), 235, "%s", said(&k));
	expect_cmd(&k, "ETRN client.example.net",
		   "250 2.0.0 OK, queuing for node client.example.net started");
	cr_assert_eq(close_conn(&k, 1), 0);
}

/* Three wrong passwords: 535, 535, then 421 and the end; each failure
 * waits longer than the one before (AUTH_DELAY_MS times its number). */
Test(tls, three_wrong_passwords_end_in_421_each_waiting_longer)
{
	struct conn k;
	long long took[3];
	open_tls(&k);
	for (int i = 0; i < 3; i++) {
		long long t0 = tu_now_ms();
		auth_plain(&k, "bob", "wrong");
		took[i] = tu_now_ms() - t0;
		if (i < 2)
			cr_assert_str_eq(said(&k), "535 5.7.8 Authentication credentials invalid");
	}
	cr_assert_str_eq(
	    said(&k), "421 4.7.0 mx.example Too many authentication failures, closing connection");
	for (int i = 0; i < 3; i++) /* the sleeps are exact; only the upper end is loose */
		cr_expect(took[i] >= (i + 1) * AUTH_DELAY_MS &&
			      took[i] < (i + 1) * AUTH_DELAY_MS + 15000,
			  "failure %d took %lld ms", i + 1, took[i]);
	cr_expect_gt(took[1], took[0]);
	cr_expect_gt(took[2], took[1]);
	cr_assert_lt(smtpc_reply(&k.c, &k.r), 0, "the session went on after 421");
	cr_assert_eq(close_conn(&k, 0), 0);
	char *log = etrnd_log();
	cr_assert(strstr(log, "auth client=198.51.100.7 user=bob mech=PLAIN result=failed "
			      "reason=bad-credentials"),
		  "%s", log);
	/* the two 535 count toward the error limit */
	cr_assert(strstr(log, "errors=2 ") && strstr(log, "why=auth-failures"), "%s", log);
	free(log);
}

/* An unknown login gets the reply of a wrong password after the same
 * work: a hash of a dummy (yescrypt at the default cost, tens of ms),
 * not a quick "no such user". Measured loosely on a loaded machine:
 * the time beyond the first failure's fixed delay, a few tries. */
Test(tls, an_unknown_login_fails_like_a_wrong_password_and_costs_the_same)
{
	long long wrong = 0, unknown = 0;
	int close_enough = 0;
	for (int attempt = 0; attempt < 3 && !close_enough; attempt++) {
		struct conn k;
		open_tls(&k);
		long long t0 = tu_now_ms();
		auth_plain(&k, "bob", "wrong");
		wrong = tu_now_ms() - t0 - AUTH_DELAY_MS;
		cr_assert_str_eq(said(&k), "535 5.7.8 Authentication credentials invalid");
		cr_assert_eq(close_conn(&k, 1), 0);
		open_tls(&k);
		t0 = tu_now_ms();
		auth_plain(&k, "nosuchuser", "wrong");
		unknown = tu_now_ms() - t0 - AUTH_DELAY_MS;
		cr_assert_str_eq(said(&k), "535 5.7.8 Authentication credentials invalid");
		cr_assert_eq(close_conn(&k, 1), 0);
		close_enough =
		    wrong > 20 && unknown > 20 && unknown * 4 > wrong && wrong * 4 > unknown;
	}
	cr_assert(close_enough, "beyond the delay: wrong password %lld ms, unknown login %lld ms",
		  wrong, unknown);
	char *log = etrnd_log();
	cr_assert(strstr(log, "user=nosuchuser mech=PLAIN result=failed reason=no-login"), "%s",
		  log);
	free(log);
}

Test(tls, auth_and_etrn_log_lines_and_the_trigger_carry_the_login)
{
	struct conn k;
	open_tls(&k);
	cr_assert_eq(auth_plain(&k, "Bob", "secret"), 235);
	expect_cmd(&k, "ETRN client.example.net",
		   "250 2.0.0 OK, queuing for node client.example.net started");
	cr_assert_eq(close_conn(&k, 1), 0);
	char *log = etrnd_log();
	cr_assert(strstr(log, "]: auth client=198.51.100.7 user=bob mech=PLAIN result=ok\n"), "%s",
		  log);
	cr_assert(strstr(log, "]: etrn client=198.51.100.7 user=bob node=client.example.net "
			      "rule=client.example.net code=250\n"),
		  "%s", log);
	cr_assert(
	    strstr(log, "]: end client=198.51.100.7 helo=client.test tls=TLSv1.3 cipher=TLS_"),
	    "%s", log);
	cr_assert(strstr(log, " user=bob commands="), "%s", log);
	free(log);
	char *t = tu_read(tu_path(queue, "new/client.example.net"), NULL);
	cr_assert(t, "no trigger");
	cr_assert(strstr(t, "\nuser=bob\n"), "%s", t);
	free(t);
}

Test(tls, refusals_say_authentication_required_or_user_not_authorized)
{
	struct conn k;
	open_tls(&k);
	expect_cmd(&k, "ETRN client.example.net",
		   "459 4.7.1 Node client.example.net not allowed: authentication required");
	/* allow= and users=: neither the address nor a login */
	expect_cmd(&k, "ETRN office.example.net",
		   "459 4.7.1 Node office.example.net not allowed: authentication required");
	expect_cmd(&k, "ETRN open.example.net",
		   "250 2.0.0 OK, queuing for node open.example.net started");
	cr_assert_eq(auth_plain(&k, "alice", "secret"), 235);
	expect_cmd(&k, "ETRN client.example.net",
		   "459 4.7.1 Node client.example.net not allowed: user not authorized");
	cr_assert_eq(close_conn(&k, 1), 0);
	char *log = etrnd_log();
	cr_assert(strstr(log, "user=alice node=client.example.net rule=client.example.net "
			      "code=459 reason=user-not-allowed"),
		  "%s", log);
	cr_assert(strstr(log, "node=client.example.net rule=client.example.net code=459 "
			      "reason=auth-required"),
		  "%s", log);
	free(log);
	cr_assert_eq(tu_count(tu_path(queue, "new")), 1); /* open.example.net only */
}

/* make TLS=no B=build/notls BINDIR=build/notls/bin all (make check does). */
static const char *notls_bin(const char *prog)
{
	static char path[4096];
	const char *root = getenv("ETRND_ROOT") ? getenv("ETRND_ROOT") : ".";
	snprintf(path, sizeof path, "%s/build/notls/bin/%s", root, prog);
	if (access(path, X_OK) != 0)
		cr_skip_test("skipped: no TLS=no build in build/notls (make check builds it)");
	return path;
}

Test(tls, a_build_without_tls_refuses_C_with_100)
{
	const char *etrnd = notls_bin("etrnd");
	char *cmdline = NULL;
	cr_assert(asprintf(&cmdline, "'%s' -d '%s' -q '%s' -C '%s' -K '%s' </dev/null", etrnd, cdb,
			   queue, crt, key) > 0);
	int st = sh("%s", cmdline);
	free(cmdline);
	cr_assert_eq(st, 100);
	char *out = tu_read(tu_path(dir, "sh.log"), NULL);
	cr_assert(strstr(out, "etrnd: -C, -K and -S need TLS, and this etrnd was built without it"),
		  "%s", out);
	cr_assert(!strstr(out, "220"), "%s", out);
	free(out);
}

/* -- etrn(1) over TLS ---------------------------------------------------- */

struct run {
	int status;
	char *out; /* stdout and stderr */
	int etrnd_status;
};

/* bin/etrn args... against one bin/etrnd (etrnd_args) on 127.0.0.1:PORT;
 * "PORT" in args becomes the port. env: extra "K=V" for etrn. */
static struct run etrn(const char *const *etrnd_args, const char *const *args,
		       const char *const *env)
{
	char port[16];
	int l = tcp_listen(port, sizeof port);
	const char *argv[32] = {"etrn"};
	int n = 1;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = strcmp(args[i], "PORT") == 0 ? port : args[i];
	argv[n] = NULL;
	struct proc p = start_proc(argv, 1, env);
	struct run r = {.etrnd_status = -2};
	int a = tcp_accept(l, &p);
	close(l);
	pid_t e = a >= 0 ? spawn_etrnd(a, etrnd_args, NULL) : -1;
	if (a >= 0)
		close(a);
	r.status = finish_proc(&p, &r.out);
	if (e > 0)
		r.etrnd_status = tu_wait_exit(e, 20);
	return r;
}

static void write_password(const char *name, const char *content)
{
	tu_write(tu_path(dir, name), content);
	cr_assert_eq(chmod(tu_path(dir, name), 0600), 0);
}

Test(etrn_tls, s_and_a_log_in_and_start_the_nodes_of_the_login)
{
	write_password("pw", "secret\n");
	const char *pw = tu_path(dir, "pw");
	struct run r =
	    etrn(starttls_args,
		 (const char *[]){"-p", "PORT", "-s", "-c", ca, "-a", "bob", "-A", pw, "127.0.0.1",
				  "client.example.net", "open.example.net", NULL},
		 NULL);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert_str_eq(r.out, "client.example.net 250 2.0.0 OK, queuing for node "
				"client.example.net started\n"
				"open.example.net 250 2.0.0 OK, queuing for node open.example.net "
				"started\n");
	cr_assert_eq(r.etrnd_status, 0);
	free(r.out);
	char *log = etrnd_log();
	cr_assert(strstr(log, "user=bob node=client.example.net rule=client.example.net code=250"),
		  "%s", log);
	cr_assert(strstr(log, "tls=TLSv1.3") && strstr(log, "why=quit"), "%s", log);
	free(log);
	/* another login: 459, exit 1 as for any 4xx */
	r = etrn(starttls_args,
		 (const char *[]){"-p", "PORT", "-s", "-c", ca, "-a", "alice", "127.0.0.1",
				  "client.example.net", NULL},
		 (const char *[]){"ETRN_PASSWORD=secret", NULL});
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert_str_eq(r.out, "client.example.net 459 4.7.1 Node client.example.net not "
				"allowed: user not authorized\n");
	free(r.out);
}

Test(etrn_tls, S_speaks_implicit_tls)
{
	struct run r = etrn(implicit_args,
			    (const char *[]){"-p", "PORT", "-S", "-c", ca, "-a", "bob", "127.0.0.1",
					     "client.example.net", NULL},
			    (const char *[]){"ETRN_PASSWORD=secret", NULL});
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, "client.example.net 250 "), "%s", r.out);
	free(r.out);
	/* without -a: the node needs a login */
	r = etrn(implicit_args,
		 (const char *[]){"-p", "PORT", "-S", "-c", ca, "127.0.0.1", "client.example.net",
				  "open.example.net", NULL},
		 NULL);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_assert(strstr(r.out, "client.example.net 459 4.7.1 Node client.example.net not "
				"allowed: authentication required\n"),
		  "%s", r.out);
	cr_assert(strstr(r.out, "open.example.net 250 "), "%s", r.out);
	free(r.out);
}

Test(etrn_tls, v_shows_the_dialogue_but_never_the_password)
{
	write_password("pw", "secret\r\nsecond line\n");
	struct run r =
	    etrn(starttls_args,
		 (const char *[]){"-v", "-p", "PORT", "-s", "-c", ca, "-a", "bob", "-A",
				  tu_path(dir, "pw"), "127.0.0.1", "client.example.net", NULL},
		 NULL);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, ">>> STARTTLS\n<<< 220 2.0.0 Ready to start TLS\n--- TLS TLSv1.3 "),
		  "%s", r.out);
	cr_assert(strstr(r.out, ">>> AUTH PLAIN (user and password hidden)\n"
				"<<< 235 2.7.0 Authentication successful\n"),
		  "%s", r.out);
	cr_assert(!strstr(r.out, "secret") && !strstr(r.out, "AGJvYgBzZWNyZXQ"), "%s", r.out);
	free(r.out);
}

Test(etrn_tls, a_refused_login_is_111_and_the_session_ends_with_quit)
{
	struct run r = etrn(starttls_args,
			    (const char *[]){"-p", "PORT", "-s", "-c", ca, "-a", "bob", "127.0.0.1",
					     "client.example.net", NULL},
			    (const char *[]){"ETRN_PASSWORD=wrong", NULL});
	cr_assert_eq(r.status, 111, "%s", r.out);
	cr_assert_str_eq(r.out,
			 "etrn: AUTH refused: 535 5.7.8 Authentication credentials invalid\n");
	free(r.out);
	char *log = etrnd_log();
	cr_assert(strstr(log, "why=quit") && !strstr(log, "etrn client="), "%s", log);
	free(log);
}

Test(etrn_tls, verification_is_always_on)
{
	/* no -c: the system's store does not know our CA */
	struct run r =
	    etrn(starttls_args,
		 (const char *[]){"-p", "PORT", "-s", "127.0.0.1", "open.example.net", NULL}, NULL);
	cr_assert_eq(r.status, 111, "%s", r.out);
	cr_assert(strstr(r.out, "etrn: TLS with the server failed: TLS handshake: certificate "
				"verification failed"),
		  "%s", r.out);
	free(r.out);
	char *log = etrnd_log();
	cr_assert(!strstr(log, "etrn client="), "%s", log);
	free(log);
	/* the right CA, the wrong name */
	r = etrn(
	    implicit_args,
	    (const char *[]){"-p", "PORT", "-S", "-c", ca, "localhost", "open.example.net", NULL},
	    NULL);
	if (r.etrnd_status == -2) /* localhost is ::1 only here */
		cr_skip_test("skipped: localhost does not reach 127.0.0.1");
	cr_assert_eq(r.status, 111, "%s", r.out);
	cr_assert(strstr(r.out, "name `localhost' not present in server certificate"), "%s", r.out);
	free(r.out);
	/* a CA file that cannot be read is a usage error */
	r = etrn(implicit_args,
		 (const char *[]){"-p", "PORT", "-S", "-c", tu_path(dir, "nothere.crt"),
				  "127.0.0.1", "open.example.net", NULL},
		 NULL);
	cr_assert_eq(r.status, 100, "%s", r.out);
	free(r.out);
}

Test(etrn_tls, s_fails_when_starttls_is_not_offered)
{
	struct run r = etrn(
	    NULL,
	    (const char *[]){"-p", "PORT", "-s", "-c", ca, "127.0.0.1", "open.example.net", NULL},
	    NULL);
	cr_assert_eq(r.status, 111, "%s", r.out);
	cr_assert_str_eq(r.out, "etrn: the server does not offer STARTTLS\n");
	free(r.out);
	char *log = etrnd_log();
	cr_assert(!strstr(log, "etrn client=") && strstr(log, "why=quit"), "%s", log);
	free(log);
}

Test(etrn_tls, usage_errors_are_100_and_nothing_is_sent)
{
	write_password("empty", "\n");
	write_password("long", "");
	char longpw[SASL_FIELD_MAX + 3];
	memset(longpw, 'p', SASL_FIELD_MAX + 1);
	strcpy(longpw + SASL_FIELD_MAX + 1, "\n");
	write_password("long", longpw);
	const char *const *bad[] = {
	    (const char *[]){"-a", "bob", "-A", "/dev/null", "127.0.0.1", "x.example", NULL},
	    (const char *[]){"-c", "/dev/null", "127.0.0.1", "x.example", NULL},
	    (const char *[]){"-s", "-S", "127.0.0.1", "x.example", NULL},
	    (const char *[]){"-s", "-a", "bob", "127.0.0.1", "x.example", NULL},
	    (const char *[]){"-s", "-A", "/dev/null", "127.0.0.1", "x.example", NULL},
	    (const char *[]){"-s", "-a", "bob", "-A", "/nonexistent", "127.0.0.1", "x.example",
			     NULL},
	    (const char *[]){"-s", "-a", "bob", "-A", "EMPTY", "127.0.0.1", "x.example", NULL},
	    (const char *[]){"-s", "-a", "bob", "-A", "LONG", "127.0.0.1", "x.example", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *argv[32] = {"etrn"};
		int n = 1;
		for (int j = 0; bad[i][j]; j++)
			argv[n++] = strcmp(bad[i][j], "EMPTY") == 0  ? tu_path(dir, "empty")
				    : strcmp(bad[i][j], "LONG") == 0 ? tu_path(dir, "long")
								     : bad[i][j];
		argv[n] = NULL;
		struct tu_run r = tu_exec(dir, argv, "", 0, NULL);
		cr_expect_eq(r.status, 100, "case %zu: %s", i, r.err);
		cr_expect(strncmp(r.err, "etrn: ", 6) == 0 || strncmp(r.err, "usage:", 6) == 0,
			  "case %zu: %s", i, r.err);
		tu_run_free(&r);
	}
}

Test(etrn_tls, a_build_without_tls_refuses_s_with_100)
{
	const char *etrn_path = notls_bin("etrn");
	int st = sh("'%s' -s 127.0.0.1 x.example", etrn_path);
	cr_assert_eq(st, 100);
	char *out = tu_read(tu_path(dir, "sh.log"), NULL);
	cr_assert(strstr(out, "etrn: -s and -S need TLS, and this etrn was built without it"), "%s",
		  out);
	free(out);
}

Test(etrn_tls, a_build_without_tls_refuses_deliver_s_and_c_with_100)
{
	const char *deliver = notls_bin("etrnd-deliver");
	const char *opts[] = {"-s", "-c /nonexistent-ca.pem"};
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		int st = sh("'%s' %s '%s' mx", deliver, opts[i], dir);
		cr_expect_eq(st, 100, "%s", opts[i]);
	}
	char *out = tu_read(tu_path(dir, "sh.log"), NULL);
	cr_assert(strstr(out, "etrnd-deliver: -s and -c need TLS, and this build has none"), "%s",
		  out);
	free(out);
}

/* -- etrn(1) against a scripted server ----------------------------------- */

struct script {
	int l, conn;
	struct proc p;
	struct netio io;
	struct outbuf out;
	char outmem[OUTBUF_SIZE];
	struct tlsio t;
};

static void script_start(struct script *s, const char *const *args)
{
	char port[16];
	memset(s, 0, sizeof *s);
	s->l = tcp_listen(port, sizeof port);
	const char *argv[32] = {"etrn", "-p", port};
	tu_append(argv, 3, args);
	s->p = start_proc(argv, 1, (const char *[]){"ETRN_PASSWORD=secret", NULL});
	s->conn = tcp_accept(s->l, &s->p);
	cr_assert_geq(s->conn, 0, "etrn did not connect");
	netio_init(&s->io, s->conn, s->conn, 20, 60, netio_now_ms());
	out_init(&s->out, s->outmem, sizeof s->outmem, netio_write, &s->io);
}

static void script_say(struct script *s, const char *text)
{
	out_put(&s->out, text, strlen(text));
	cr_assert_eq(out_flush(&s->out), 0);
}

/* The next line from etrn; "" at its end. */
static const char *script_hear(struct script *s)
{
	static char line[SMTP_LINE_MAX];
	const char *l;
	size_t len;
	if (netio_getline(&s->io, &s->out, &l, &len) != NETIO_LINE)
		return "";
	snprintf(line, sizeof line, "%.*s", (int)len, l);
	return line;
}

static void script_tls(struct script *s)
{
	int cf = open(crt, O_RDONLY | O_CLOEXEC), kf = open(key, O_RDONLY | O_CLOEXEC);
	cr_assert(cf >= 0 && kf >= 0);
	cr_assert_eq(tlsio_server_fds(&s->t, cf, kf, crt, key), 0, "%s", s->t.err);
	close(cf), close(kf);
	cr_assert_eq(netio_starttls(&s->io, &s->t, NULL), 0, "%s", s->t.err);
}

static int script_end(struct script *s, char **output)
{
	int st = finish_proc(&s->p, output);
	if (s->io.tls)
		tlsio_free(&s->t);
	close(s->conn), close(s->l);
	return st;
}

/* The client side of CVE-2011-0411: what a man in the middle appends to
 * the 220 of STARTTLS in plaintext must not be taken for a reply inside
 * TLS. Here the appended lines would pass for the EHLO reply. */
Test(etrn_tls, replies_pipelined_behind_the_starttls_220_are_discarded)
{
	struct script s;
	script_start(&s, (const char *[]){"-s", "-c", ca, "-H", "client.test", "127.0.0.1",
					  "open.example.net", NULL});
	script_say(&s, "220 mx.example ESMTP\r\n");
	cr_assert_str_eq(script_hear(&s), "EHLO client.test");
	script_say(&s, "250-mx.example\r\n250-STARTTLS\r\n250 ETRN\r\n");
	cr_assert_str_eq(script_hear(&s), "STARTTLS");
	script_say(&s, "220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 ETRN\r\n");
	script_tls(&s);
	cr_assert_str_eq(script_hear(&s), "EHLO client.test", "etrn took the injected reply");
	script_say(&s, "250-mx.example\r\n250 ETRN\r\n");
	cr_assert_str_eq(script_hear(&s), "ETRN open.example.net");
	script_say(&s, "250 2.0.0 OK\r\n");
	cr_assert_str_eq(script_hear(&s), "QUIT");
	script_say(&s, "221 2.0.0 bye\r\n");
	char *out;
	cr_assert_eq(script_end(&s, &out), 0, "%s", out);
	cr_assert_str_eq(out, "open.example.net 250 2.0.0 OK\n");
	free(out);
}

Test(etrn_tls, a_server_without_auth_plain_or_refusing_starttls_is_111)
{
	struct script s;
	script_start(&s, (const char *[]){"-S", "-c", ca, "-a", "bob", "-H", "client.test",
					  "127.0.0.1", "open.example.net", NULL});
	script_tls(&s);
	script_say(&s, "220 mx.example ESMTP\r\n");
	cr_assert_str_eq(script_hear(&s), "EHLO client.test");
	script_say(&s, "250-mx.example\r\n250-AUTH LOGIN CRAM-MD5\r\n250 ETRN\r\n");
	cr_assert_str_eq(script_hear(&s), "QUIT");
	script_say(&s, "221 2.0.0 bye\r\n");
	char *out;
	cr_assert_eq(script_end(&s, &out), 111, "%s", out);
	cr_assert_str_eq(out, "etrn: the server does not offer AUTH PLAIN\n");
	free(out);

	script_start(&s, (const char *[]){"-s", "-c", ca, "-H", "client.test", "127.0.0.1",
					  "open.example.net", NULL});
	script_say(&s, "220 mx.example ESMTP\r\n");
	cr_assert_str_eq(script_hear(&s), "EHLO client.test");
	script_say(&s, "250-mx.example\r\n250-STARTTLS\r\n250 ETRN\r\n");
	cr_assert_str_eq(script_hear(&s), "STARTTLS");
	script_say(&s, "454 4.7.0 TLS not available due to temporary reason\r\n");
	cr_assert_str_eq(script_hear(&s), "QUIT");
	script_say(&s, "221 2.0.0 bye\r\n");
	cr_assert_eq(script_end(&s, &out), 111, "%s", out);
	cr_assert_str_eq(out, "etrn: STARTTLS refused: 454 4.7.0 TLS not available due to "
			      "temporary reason\n");
	free(out);
}

/* -- smtpc's line limits ---------------------------------------------- */

/* Octets waiting on fd now (read and counted). */
static size_t pending(int fd)
{
	char buf[1024];
	size_t n = 0;
	ssize_t r;
	while (tu_readable(fd, 0) && (r = read(fd, buf, sizeof buf)) > 0)
		n += (size_t)r;
	return n;
}

/* A command is at most 512 octets with CR LF; an AUTH line (a secret) up
 * to the reply buffer, 4096; anything longer is refused whole, never
 * sent cut. */
Test(etrn_tls, smtpc_sends_whole_lines_or_nothing)
{
	static char line[OUTBUF_SIZE + 8];
	int sv[2];
	struct smtpc c;
	struct reply r;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	smtpc_init(&c, sv[0], 5, 10);
	memset(line, 'x', sizeof line - 1);
	line[OUTBUF_SIZE - 2] = '\0'; /* 4094 + CR LF = 4096: too long for snprintf's buffer */
	cr_assert_eq(smtpc_cmd_secret(&c, line, "AUTH", &r), -1);
	cr_assert_str_eq(c.error, "command too long");
	line[SMTP_LINE_MAX - 1] = '\0'; /* 511 + CR LF: over a command's 512 */
	cr_assert_eq(smtpc_cmd(&c, line, &r), -1);
	cr_assert_str_eq(c.error, "command too long");
	cr_assert(!tu_readable(sv[1], 0), "something was sent");
	/* 4093 + CR LF goes out whole, 510 + CR LF as a command too */
	memset(line, 'x', sizeof line - 1);
	line[OUTBUF_SIZE - 3] = '\0';
	cr_assert_eq(write(sv[1], "250 ok\r\n", 8), 8);
	cr_assert_eq(smtpc_cmd_secret(&c, line, "AUTH", &r), 250, "%s", c.error);
	cr_assert_eq(pending(sv[1]), OUTBUF_SIZE - 1);
	line[SMTP_LINE_MAX - 2] = '\0';
	cr_assert_eq(write(sv[1], "250 ok\r\n", 8), 8);
	cr_assert_eq(smtpc_cmd(&c, line, &r), 250, "%s", c.error);
	cr_assert_eq(pending(sv[1]), SMTP_LINE_MAX);
	close(sv[0]), close(sv[1]);
}
