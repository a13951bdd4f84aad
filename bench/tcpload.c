/* SPDX-License-Identifier: ISC */
/* tcpload PORT SECONDS CONCURRENCY INPUT: connects to 127.0.0.1:PORT again
 * and again from CONCURRENCY threads for SECONDS, sends INPUT, reads until
 * the server closes. Prints: sessions/s, and failures (no "221" seen). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;
static double end_at;
static char script[4096];
static size_t script_len;
static long done_ok, failed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int one(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	char buf[8192];
	size_t n = 0;
	ssize_t r;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, script, script_len) != (ssize_t)script_len) {
		close(fd);
		return -1;
	}
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return strstr(buf, "\n221 ") ? 0 : -1;
}

static void *worker(void *arg)
{
	(void)arg;
	while (now() < end_at) {
		int rc = one();
		pthread_mutex_lock(&mu);
		if (rc == 0)
			done_ok++;
		else
			failed++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return 100;
	port = atoi(argv[1]);
	double secs = atof(argv[2]);
	int conc = atoi(argv[3]);
	FILE *f = fopen(argv[4], "r");
	if (!f)
		return 111;
	script_len = fread(script, 1, sizeof script, f);
	fclose(f);
	pthread_t t[64];
	double start = now();
	end_at = start + secs;
	for (int i = 0; i < conc && i < 64; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < conc && i < 64; i++)
		pthread_join(t[i], NULL);
	printf("%.0f %ld\n", done_ok / (now() - start), failed);
	return 0;
}
