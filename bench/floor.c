/* SPDX-License-Identifier: ISC */
/* floor: the cheapest possible SMTP responder, for the benchmarks. It
 * answers each line of the scripted session with a fixed reply, with the
 * same I/O shape as etrnd (one read buffer, replies written when no input
 * is left, no stdio): what fork + exec + read + write cost. */
#include <string.h>
#include <unistd.h>

static const char greeting[] = "220 floor.example ESMTP\r\n";
static const char ehlo[] = "250-floor.example\r\n250-ETRN\r\n250-PIPELINING\r\n"
			   "250 ENHANCEDSTATUSCODES\r\n";
static const char etrn[] = "250 2.0.0 OK, queuing for node client.example.net started\r\n";
static const char quit[] = "221 2.0.0 floor.example closing connection\r\n";
static const char other[] = "250 2.0.0 OK\r\n";

int main(void)
{
	char in[4096], out[4096];
	size_t o = 0, have = 0;
	ssize_t r;

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
	}
	return write(1, out, o) < 0;
}
