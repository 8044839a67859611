/*
 * daemon.h: becoming a daemon, and the pidfile that says which one runs.
 */
#ifndef ECHOD_DAEMON_H
#define ECHOD_DAEMON_H

#include <sys/types.h>

struct pidfile {
	int fd;             /* open and flock()ed while echod runs; -1 = none */
	char path[4096];
};

/*
 * Creates (with its directory, one level) and locks path. Returns 0, or an
 * exit status after logging why: EXIT_RUNNING when another process holds
 * the lock, EXIT_CANTCREAT when the file cannot be made.
 */
int pidfile_acquire(struct pidfile *pf, const char *path);
/* Writes pid into the locked file; 0 or -1 (logged). */
int pidfile_write(struct pidfile *pf, pid_t pid);
/* Removes the file, unless another has taken its name meanwhile, and lets
 * go of the lock (no-op without a pidfile). */
void pidfile_release(struct pidfile *pf);

/*
 * Forks, starts a new session and forks again. The original process does
 * not return: it waits for daemon_ready() from the daemon and exits with
 * the status the daemon reports (EXIT_OSERR if the daemon dies first).
 * In the daemon returns the descriptor to pass to daemon_ready(). Returns
 * -1 (logged) when the pipe or a fork fails, in the original process or in
 * the first child (after which the original one exits EXIT_OSERR): the
 * caller cleans up and exits.
 */
int daemon_detach(void);
/* Tells the waiting original process to exit with status; closes fd. */
void daemon_ready(int fd, int status);

#endif
