/* SPDX-License-Identifier: ISC */
/* libFuzzer target: netio's line reader (scan and fill) on a real
 * descriptor. The first two octets seed the chunk sizes; the rest is
 * written into a SOCK_SEQPACKET socketpair, one record per chunk, so each
 * read() in fill() gets exactly one chunk; the writing end is closed and
 * netio_getline() reads to EOF. (What does not fit in the socket's buffer
 * is left out, and out of the expected events too: nothing blocks.)
 *
 * Invariants: a line never holds more than SMTP_TEXT_MAX octets nor a LF;
 * the events are exactly those of the whole input split at each LF,
 * whatever the chunks: every line once and in order, every overlong line
 * reported once, nothing lost or duplicated between lines, nothing after
 * the last LF; then EOF. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bounds.h"
#include "netio.h"

#define CHUNK_MAX 2048 /* below the room fill() always has: no record is cut */
#define RECORDS_MAX 128

struct feed {
	int fd;
	const uint8_t *data;
	size_t size;
	uint32_t seed;
	size_t bound; /* chunks are 1 to bound octets */
};

static size_t next_chunk(struct feed *f, size_t left)
{
	f->seed = f->seed * 1103515245u + 12345u;
	size_t n = 1 + (size_t)(f->seed >> 8) % f->bound;
	return n < left ? n : left;
}

/* Writes the chunks without blocking; f->size becomes what was written. */
static void write_chunks(struct feed *f)
{
	size_t used = 0;

	while (used < f->size) {
		size_t n = next_chunk(f, f->size - used);
		ssize_t w = send(f->fd, f->data + used, n, MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == ENOBUFS))
			break;
		if (w != (ssize_t)n)
			abort();
		used += n;
	}
	f->size = used;
	close(f->fd);
}

/* The expected next event from the whole input at *pos: NETIO_LINE with
 * the line, NETIO_OVERLONG, or NETIO_EOF once no LF is left. */
static int expect(const uint8_t *d, size_t size, size_t *pos, const uint8_t **line, size_t *len)
{
	const uint8_t *nl = memchr(d + *pos, '\n', size - *pos);
	if (!nl)
		return NETIO_EOF;
	size_t l = (size_t)(nl - (d + *pos));
	*line = d + *pos;
	*pos += l + 1;
	if (l > 0 && (*line)[l - 1] == '\r')
		l--;
	*len = l;
	return l > SMTP_TEXT_MAX ? NETIO_OVERLONG : NETIO_LINE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netio n;
	static struct outbuf out;
	static char outmem[SMTP_REPLIES_BUF];
	int sv[2];

	if (size < 2)
		return 0;
	/* octet 0 bounds the chunks (1 octet each up to CHUNK_MAX), octet 1
	 * varies their sizes; about RECORDS_MAX records at most, so that a
	 * run costs a few hundred system calls, not thousands */
	struct feed f = {0, data + 2, size - 2, data[1], 1 + (size_t)data[0] * CHUNK_MAX / 255};
	if (f.bound < 2 * f.size / RECORDS_MAX)
		f.bound = 2 * f.size / RECORDS_MAX;
	if (f.bound > CHUNK_MAX)
		f.bound = CHUNK_MAX;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	f.fd = sv[1];
	write_chunks(&f);
	netio_init(&n, sv[0], sv[0], 30, 60, netio_now_ms());
	out_init(&out, outmem, sizeof outmem, netio_write, &n);
	size_t pos = 0;
	for (;;) {
		const char *got;
		const uint8_t *want;
		size_t glen, wlen;
		int ev = netio_getline(&n, &out, &got, &glen);
		int ex = expect(f.data, f.size, &pos, &want, &wlen);
		if (ev != ex)
			abort(); /* a line lost, duplicated, split or joined */
		if (ev == NETIO_EOF)
			break;
		if (ev == NETIO_LINE && (glen > SMTP_TEXT_MAX || glen != wlen ||
					 memchr(got, '\n', glen) || memcmp(got, want, glen) != 0))
			abort();
	}
	close(sv[0]);
	return 0;
}
