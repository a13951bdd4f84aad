/* SPDX-License-Identifier: ISC */
/* tlsdrive: the client side of the TLS benchmark (bench/tls.sh).
 *
 *   tlsdrive sessions ROUNDS PER CAFILE USER PASSWORD \
 *            NAME tls|plain CMD ARGS... [:: NAME tls|plain CMD ARGS...]
 *            [:: NAME hash HASH PASSWORD]
 *
 * Runs each server command PER times per round, interleaved round by
 * round, on a socketpair (fds 0 and 1), and speaks to it with etrn's own
 * client code (smtpc over tlsio, the certificate verified against
 * CAFILE for mx.bench). "tls": EHLO, STARTTLS, EHLO, AUTH PLAIN, ETRN,
 * QUIT, each waiting for its reply; "plain": EHLO, ETRN, QUIT in one
 * write (pipelined: bench/floor.c answers only that way). A session is timed from the spawn to
 * the server's exit; its CPU time is the server's own (wait4). "hash"
 * times a check of PASSWORD against HASH as etrnd makes it (passwd_check),
 * here, interleaved with the sessions so that both see the same machine.
 * Prints one line per entry: NAME median_us p10_us p90_us cpu_median_us
 * count failures.
 *
 *   tlsdrive crypt SETTING PASSWORD
 *
 * Prints crypt(3) of PASSWORD with SETTING: a hash of a chosen method and
 * cost (etrnd-rules -p makes only the default one). */
#include <crypt.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "passwd.h"
#include "sasl.h"
#include "smtpc.h"
#include "tlsio.h"

extern char **environ;

enum kind { PLAIN, TLS, HASH };

struct prog {
	const char *name;
	enum kind kind;
	char **argv;
	double *us, *cpu;
	int n, failures;
};

static const char *cafile, *user, *pass;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int expect(struct smtpc *c, const char *line, int code)
{
	struct reply r;
	return (line ? smtpc_cmd(c, line, &r) : smtpc_reply(c, &r)) == code ? 0 : -1;
}

/* EHLO, ETRN, QUIT in one write; 0 when every reply was the expected one. */
static int plain_dialogue(struct smtpc *c)
{
	static const char all[] = "EHLO bench.example\r\nETRN client.example.net\r\nQUIT\r\n";
	if (netio_write(&c->io, all, sizeof all - 1) < 0)
		return -1;
	return expect(c, NULL, 220) == 0 && expect(c, NULL, 250) == 0 &&
		       expect(c, NULL, 250) == 0 && expect(c, NULL, 221) == 0
		   ? 0
		   : -1;
}

/* EHLO, STARTTLS, EHLO, AUTH PLAIN, ETRN, QUIT, each after the reply
 * before it; 0 when every reply was the expected one. */
static int tls_dialogue(struct smtpc *c)
{
	static struct tlsio t;
	char b64[700], auth[sizeof "AUTH PLAIN " + sizeof b64];
	unsigned char msg[2 * SASL_FIELD_MAX + 2];
	size_t ul = strlen(user), pl = strlen(pass);

	msg[0] = '\0';
	memcpy(msg + 1, user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, pass, pl);
	b64_encode(msg, ul + pl + 2, b64, sizeof b64);
	snprintf(auth, sizeof auth, "AUTH PLAIN %s", b64);
	if (expect(c, NULL, 220) < 0 || expect(c, "EHLO bench.example", 250) < 0 ||
	    expect(c, "STARTTLS", 220) < 0)
		return -1;
	int rc = tlsio_client(&t, cafile, 1) == 0 && smtpc_tls(c, &t, "mx.bench") == 0 &&
			 expect(c, "EHLO bench.example", 250) == 0 && expect(c, auth, 235) == 0 &&
			 expect(c, "ETRN client.example.net", 250) == 0 &&
			 expect(c, "QUIT", 221) == 0
		     ? 0
		     : -1;
	tlsio_free(&t);
	return rc;
}

static void time_hash(struct prog *p)
{
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	double t0 = now_us();
	int ok = passwd_check(p->argv[0], p->argv[1]);
	p->us[p->n] = now_us() - t0;
	getrusage(RUSAGE_SELF, &r1);
	p->cpu[p->n++] = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1e6 +
			 (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
			 (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 +
			 (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	if (!ok) /* the password must be the right one */
		p->failures++;
}

static void run_one(struct prog *p)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	int sv[2], st;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		p->failures++;
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	double t0 = now_us();
	int spawned = posix_spawn(&pid, p->argv[0], &fa, NULL, p->argv, environ) == 0;
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (!spawned) {
		close(sv[0]);
		p->failures++;
		return;
	}
	static struct smtpc c;
	smtpc_init(&c, sv[0], 30, 60);
	int ok = (p->kind == TLS ? tls_dialogue(&c) : plain_dialogue(&c)) == 0;
	close(sv[0]);
	wait4(pid, &st, 0, &ru);
	p->us[p->n] = now_us() - t0;
	p->cpu[p->n++] = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
			 ru.ru_stime.tv_usec;
	if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		p->failures++;
}

static int sessions(int argc, char **argv)
{
	struct prog progs[8];
	int np = 0;

	if (argc < 10)
		return 100;
	int rounds = atoi(argv[2]), per = atoi(argv[3]);
	cafile = argv[4], user = argv[5], pass = argv[6];
	if (rounds < 1 || per < 1 || strlen(user) > SASL_FIELD_MAX || strlen(pass) > SASL_FIELD_MAX)
		return 100;
	for (int i = 7; i + 2 < argc && np < 8;) {
		struct prog *p = &progs[np++];
		p->name = argv[i];
		p->kind = strcmp(argv[i + 1], "tls") == 0    ? TLS
			  : strcmp(argv[i + 1], "hash") == 0 ? HASH
							     : PLAIN;
		p->argv = argv + i + 2;
		int j = i + 2;
		while (j < argc && strcmp(argv[j], "::") != 0)
			j++;
		argv[j] = NULL; /* argv[argc] is NULL already */
		if (p->kind == HASH && j - (i + 2) != 2)
			return 100;
		i = j + 1;
		p->us = calloc((size_t)rounds * (size_t)per, sizeof *p->us);
		p->cpu = calloc((size_t)rounds * (size_t)per, sizeof *p->cpu);
		if (!p->us || !p->cpu)
			return 111;
		p->n = p->failures = 0;
	}
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < np; k++)
			for (int s = 0; s < per; s++)
				if (progs[k].kind == HASH)
					time_hash(&progs[k]);
				else
					run_one(&progs[k]);
	for (int k = 0; k < np; k++) {
		struct prog *p = &progs[k];
		qsort(p->us, (size_t)p->n, sizeof *p->us, cmpd);
		qsort(p->cpu, (size_t)p->n, sizeof *p->cpu, cmpd);
		printf("%s %.1f %.1f %.1f %.1f %d %d\n", p->name, p->n ? p->us[p->n / 2] : 0,
		       p->n ? p->us[p->n / 10] : 0, p->n ? p->us[p->n * 9 / 10] : 0,
		       p->n ? p->cpu[p->n / 2] : 0, p->n, p->failures);
	}
	return 0;
}

static int hash_with(int argc, char **argv)
{
	struct crypt_data cd;
	if (argc != 4)
		return 100;
	memset(&cd, 0, sizeof cd);
	const char *h = crypt_rn(argv[3], argv[2], &cd, sizeof cd);
	if (!h || h[0] != '$')
		return 1;
	puts(h);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN); /* a server that dies is a failure, not our end */
	if (argc > 1 && strcmp(argv[1], "sessions") == 0)
		return sessions(argc, argv);
	if (argc > 1 && strcmp(argv[1], "crypt") == 0)
		return hash_with(argc, argv);
	fputs("usage: tlsdrive sessions ROUNDS PER CAFILE USER PASSWORD NAME tls|plain CMD... "
	      "[:: ...]\n       tlsdrive crypt SETTING PASSWORD\n",
	      stderr);
	return 100;
}
