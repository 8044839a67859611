/*
 * notify.c: systemd's notify and socket-activation protocols, through
 * libsystemd when echod is built with it (see notify.h). Only the master
 * process calls these: systemd hears from the main PID.
 */
#include "notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "echod-build.h"
#include "log.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void
notify(const char *fmt, ...)
{
	char state[256];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	err = sd_notify(0, state);
	if (err < 0)
		log_debug("sd_notify %s failed: error %d", state, -err);
}

uint64_t
notify_watchdog_ms(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return (usec + 999) / 1000;     /* below a millisecond is still on */
}

int
notify_listen_fds(void)
{
	int n = sd_listen_fds(1);

	if (n < 0) {
		/* Not "no sockets": binding its own would take another's port. */
		log_errx("LISTEN_PID and LISTEN_FDS from systemd cannot be read: %s",
		    strerror(-n));
		return -1;
	}
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
		if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0) {
			log_errx("socket %d from systemd is not a listening TCP "
			    "socket: echod needs ListenStream= and Accept=no", fd);
			return -1;
		}
	return n > 0 ? n : 0;
}

int
notify_passed_fds(void)
{
	int n = sd_listen_fds(0);

	return n > 0 ? n : 0;
}

#else

void
notify(const char *fmt, ...)
{
	(void)fmt;
}

uint64_t
notify_watchdog_ms(void)
{
	return 0;
}

int
notify_listen_fds(void)
{
	return 0;
}

int
notify_passed_fds(void)
{
	return 0;
}

#endif
