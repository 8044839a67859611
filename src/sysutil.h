/*
 * sysutil.h: small system-call helpers shared by the modules: monotonic
 * time, descriptor flags, writes that survive EINTR.
 */
#ifndef ECHOD_SYSUTIL_H
#define ECHOD_SYSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds and microseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void);
uint64_t now_us(void);

/* Writes all of buf, retrying EINTR and short writes; 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

/* close() that keeps errno and ignores EINTR (Linux closes the fd anyway). */
void close_quietly(int fd);

/*
 * Opens /dev/null on whichever of fd 0, 1 and 2 is closed, so that no
 * file or socket opened later takes their place (and is then written to
 * as stdout, or replaced by stdio_to_devnull); 0 or -1 with errno.
 */
int stdio_fill_closed(void);

/* Points fd 0, 1 and 2 at /dev/null; 0 or -1 with errno. */
int stdio_to_devnull(void);

#endif
