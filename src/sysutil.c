/*
 * sysutil.c: small system-call helpers (time, EINTR-safe writes, stdio).
 * Owns no state; every function is safe to call from any thread.
 */
#include "sysutil.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
now_ms(void)
{
	return now_us() / 1000;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
close_quietly(int fd)
{
	int saved = errno;

	if (fd >= 0)
		(void)close(fd);
	errno = saved;
}

int
stdio_fill_closed(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return -1;
	close_quietly(fd);
	return 0;
}

int
stdio_to_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (int i = 0; i <= 2; i++) {
		if (fd != i && dup2(fd, i) < 0) {
			close_quietly(fd);
			return -1;
		}
	}
	if (fd > 2)
		close_quietly(fd);
	return 0;
}
