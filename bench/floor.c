/* SPDX-License-Identifier: ISC */
/* floor [-p PAGES] [DIR]: the cheapest possible SMTP responder, for the
 * benchmarks.
 * It answers each line of the scripted session with a fixed reply, with
 * the same I/O shape as etrnd (one read buffer, replies written at QUIT or
 * when no input is left, no stdio): what fork + exec + read + write cost. With
 * DIR, an ETRN also creates DIR/floor and fsyncs DIR before its reply: the
 * floor plus one fsync of a directory, the least a durable trigger can
 * cost on that disk (make bench removes DIR/floor between sessions). With
 * -p, it first writes to PAGES pages of zeroed memory (at most 1024): what
 * that many page faults cost, to weigh the faults of a bigger program. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char pages[1024][4096];

/* DIR/floor created and DIR fsynced: 0, or -1. */
static int durable(const char *dir)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -1;
	int f = openat(d, "floor", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc = f >= 0 && close(f) == 0 && fsync(d) == 0 ? 0 : -1;
	close(d);
	return rc;
}

static const char greeting[] = "220 floor.example ESMTP\r\n";
static const char ehlo[] = "250-floor.example\r\n250-ETRN\r\n250-PIPELINING\r\n"
			   "250 ENHANCEDSTATUSCODES\r\n";
static const char etrn[] = "250 2.0.0 OK, queuing for node client.example.net started\r\n";
static const char quit[] = "221 2.0.0 floor.example closing connection\r\n";
static const char other[] = "250 2.0.0 OK\r\n";

int main(int argc, char **argv)
{
	char in[4096], out[4096];
	size_t o = 0, have = 0;
	ssize_t r;

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		long n = atol(argv[2]);
		for (long i = 0; i < n && i < 1024; i++)
			*(volatile char *)&pages[i][0] = 1;
		argc -= 2, argv += 2;
	}
	memcpy(out, greeting, sizeof greeting - 1);
	o = sizeof greeting - 1;
	while ((r = read(0, in + have, sizeof in - have)) > 0) {
		have += (size_t)r;
		char *p = in, *nl;
		while ((nl = memchr(p, '\n', have - (size_t)(p - in))) != NULL) {
			const char *rep = p[0] == 'E' && p[1] == 'H' ? ehlo
					  : p[0] == 'E'              ? etrn
					  : p[0] == 'Q'              ? quit
								     : other;
			if (rep == etrn && argc > 1 && durable(argv[1]) < 0)
				return 1;
			size_t n = strlen(rep);
			if (o + n > sizeof out) {
				if (write(1, out, o) < 0)
					return 1;
				o = 0;
			}
			memcpy(out + o, rep, n);
			o += n;
			if (rep == quit) {
				return write(1, out, o) < 0;
			}
			p = nl + 1;
		}
		have -= (size_t)(p - in);
		memmove(in, p, have);
		/* no input left: the replies go out, as etrnd's do (a client
		 * waiting for them, e.g. after EHLO, gets them) */
		struct pollfd pf = {0, POLLIN, 0};
		if (o > 0 && poll(&pf, 1, 0) == 0) {
			if (write(1, out, o) < 0)
				return 1;
			o = 0;
		}
	}
	return write(1, out, o) < 0;
}
