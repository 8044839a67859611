/*
 * log.h: echod's logging API.
 *
 * Syslog levels, and what echod uses each for:
 *   LOG_CRIT     echod is about to exit because of an error (fatal, fatalx)
 *   LOG_ERR      an operation failed: a socket call, a reload that was refused
 *   LOG_WARNING  serving goes on but something needs attention: limits
 *                reached, descriptors short, log messages dropped
 *   LOG_NOTICE   the daemon's life: start, reload, stop
 *   LOG_INFO     clients: connect and disconnect
 *   LOG_DEBUG    detail for developers
 *
 * Until log_start() the lines go straight to stderr (and syslog, once
 * log_open() has run), except in a forked child, which queues them from
 * the fork on (see log_after_fork_child). After it, callers only queue a
 * line: a logger thread writes them, so a slow syslog never stalls the
 * caller. When the queue is full the line is dropped and counted; the
 * count is logged once there is room again. Client data never goes into
 * a log line.
 *
 * log_err, log_warn and fatal append ": strerror(errno)", the *x forms do
 * not. Every function preserves errno.
 */
#ifndef ECHOD_LOG_H
#define ECHOD_LOG_H

#include <stdbool.h>
#include <syslog.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/*
 * Logs to syslog with facility from now on (the writing thread reopens
 * it); lines above level are not logged.
 */
void log_open(int facility, int level);
/* Changes whether stderr gets the lines (safe at any time). */
void log_set_stderr(bool to_stderr);

/*
 * True when stderr is systemd's journal stream ($JOURNAL_STREAM names its
 * device and inode): the journal already gets every line through syslog.
 */
bool log_stderr_is_journal(void);

/*
 * Around fork(): log_before_fork() waits (briefly) until no line is being
 * written, so the child gets syslog's and stderr's locks free, and
 * returns whether it did; pass that to the after-fork call on each side.
 * A child forked while a write was stuck (a stalled syslog) never writes
 * a line: better silent than deadlocked. The child has no logger thread
 * and an empty queue: its lines wait in the queue, unwritten, until it
 * calls log_start() (or log_stop(), which starts a thread for them), so
 * that none of them waits on a slow syslog.
 */
bool log_before_fork(void);
void log_after_fork_parent(bool held);
void log_after_fork_child(bool held);

/* Starts the logger thread; returns 0, or -1 with errno set. */
int log_start(void);
/* Writes what is queued (waiting 2 s at most), then logs synchronously. */
void log_stop(void);
/* Waits until every line queued so far is written, 1 s at most. */
void log_flush(void);

/* Lines dropped because the queue was full, since start. */
unsigned long log_dropped_total(void);

void log_msg(int prio, const char *fmt, ...) LOG_FMT(2, 3);
void log_err(const char *fmt, ...) LOG_FMT(1, 2);
void log_errx(const char *fmt, ...) LOG_FMT(1, 2);
void log_warn(const char *fmt, ...) LOG_FMT(1, 2);
void log_warnx(const char *fmt, ...) LOG_FMT(1, 2);
void log_notice(const char *fmt, ...) LOG_FMT(1, 2);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(const char *fmt, ...) LOG_FMT(1, 2);
/* Log at LOG_CRIT with strerror(errno), stop the logger and exit(status). */
void fatal(int status, const char *fmt, ...) LOG_FMT(2, 3) __attribute__((noreturn));

#endif
