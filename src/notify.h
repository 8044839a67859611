/*
 * notify.h: telling systemd how echod is doing (sd_notify), and taking
 * the sockets systemd opened for it (socket activation). Without
 * libsystemd, or when not started by systemd, every call does nothing.
 */
#ifndef ECHOD_NOTIFY_H
#define ECHOD_NOTIFY_H

#include <stdint.h>

/* Sends one notify state ("READY=1", "STATUS=..."), printf-style. */
void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd asks for, in ms; 0 when there is none. */
uint64_t notify_watchdog_ms(void);

/*
 * The number of listening sockets systemd passed (from fd 3 on), or 0;
 * -1 (logged) when one of them is not a listening TCP socket (a datagram
 * socket, or a connection under Accept=yes), or when LISTEN_PID and
 * LISTEN_FDS cannot be read (LISTEN_PID not a number, LISTEN_FDS not a
 * positive number). Unsets the LISTEN_*
 * variables so no child takes them again.
 */
int notify_listen_fds(void);

/* How many sockets systemd passed to this process (from fd 3 on), or 0
 * (also when the variables cannot be read); checks nothing, and changes
 * nothing but their close-on-exec flag (sd_listen_fds sets it). */
int notify_passed_fds(void);

#endif
