/* SPDX-License-Identifier: ISC */
/* stamp FILE: appends CLOCK_REALTIME nanoseconds to FILE, first thing:
 * the runner's latency benchmark uses it as the queue-run command. */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc != 2)
		return 100;
	int n =
	    snprintf(buf, sizeof buf, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		return 111;
	return close(fd) < 0 ? 111 : 0;
}
