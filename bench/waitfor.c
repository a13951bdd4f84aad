/* SPDX-License-Identifier: ISC */
/* waitfor SECONDS EVENT ARGS: waits for an event instead of sleeping for
 * a guessed time; exits 0 once it holds, 1 when SECONDS passed first. It
 * looks every millisecond. EVENTs:
 *   fifo PATH     a process has the FIFO open for reading (the runner is
 *                 listening); nothing is written to it
 *   empty DIR...  every DIR is empty (the runs asked for are over)
 *   port PORT     127.0.0.1:PORT accepts connections */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fifo_read(const char *path)
{
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0; /* ENXIO: no reader yet; ENOENT: no FIFO yet */
	close(fd);
	return 1;
}

static int empty(const char *dir)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n == 0;
}

static int listening(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int holds(int argc, char **argv)
{
	if (strcmp(argv[2], "fifo") == 0)
		return fifo_read(argv[3]);
	if (strcmp(argv[2], "port") == 0)
		return listening(atoi(argv[3]));
	for (int i = 3; i < argc; i++)
		if (!empty(argv[i]))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[2], "fifo") != 0 && strcmp(argv[2], "empty") != 0 &&
			 strcmp(argv[2], "port") != 0))
		return 100;
	long ms = atol(argv[1]) * 1000;
	const struct timespec tick = {0, 1000000};
	for (long i = 0; i <= ms; i++) {
		if (holds(argc, argv))
			return 0;
		nanosleep(&tick, NULL);
	}
	return 1;
}
