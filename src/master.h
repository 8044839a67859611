/*
 * master.h: the master process. It holds the config, the listening
 * sockets and the pidfile, and supervises the worker process that serves
 * clients: starts it, restarts it when it dies, replaces it on reload and
 * stops it on SIGTERM. It serves no client itself. See doc/processes.md.
 */
#ifndef ECHOD_MASTER_H
#define ECHOD_MASTER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "daemon.h"
#include "listen.h"
#include "wproc.h"

#define MASTER_MAX_WORKERS 64      /* serving + starting + still draining */
#define MASTER_CRASH_WINDOW 5      /* this many crashes ... */
#define MASTER_CRASH_PERIOD_MS 10000   /* ... within this long, pauses left out: back off */
#define MASTER_BACKOFF_MAX_MS 30000

struct master {
	const char *config_path;
	struct config *cfg;         /* the running config (one reference) */
	struct listeners listeners; /* what the serving worker accepts on */
	struct listeners next_listeners;  /* during a reload, until READY */
	bool socket_activated;      /* listeners came from systemd */
	struct pidfile *pidfile;
	bool pidfile_from_cli;      /* -p: the config's pidfile is not used */
	int ready_fd;               /* the starting process waits on it; -1 once told */
	int sigfd;
	sigset_t signals;

	struct wproc workers[MASTER_MAX_WORKERS];
	int nworkers;
	bool announced;             /* the first worker has served */
	bool reload_queued;         /* SIGHUP while a reload was under way */
	pid_t retiring_pid;         /* the worker a reload replaces, until it stops accepting */
	int exit_status;            /* -1 while running */
	bool stopping;
	uint64_t quit_at_ms;        /* when stopping: SIGQUIT what still drains */
	uint64_t kill_at_ms;        /* when stopping: SIGKILL what is left */

	uint64_t crashes[MASTER_CRASH_WINDOW];  /* when the last crashes were, paused_ms left out */
	int ncrashes;
	uint64_t backoff_ms;
	uint64_t paused_ms;         /* time spent in crash-loop pauses, in all */
	uint64_t paused_from_ms;    /* when the pause under way began; 0 = none */
	uint64_t respawn_at_ms;     /* 0 = no worker to start */

	unsigned long long served;  /* clients served by workers now gone */
	uint64_t status_at_ms;      /* next STATUS= to systemd */
	uint64_t watchdog_ms;       /* WATCHDOG_USEC / 1000, 0 = none */
	uint64_t watchdog_at_ms;
};

/* Blocks the signals the master takes (call first, before any fork). */
void master_block_signals(struct master *m);

/* Raises RLIMIT_NOFILE toward what cfg needs; warns when it cannot. */
void master_raise_fd_limit(const struct config *cfg);

/* Takes systemd's sockets or binds the configured ones; 0 or -1 (logged). */
int master_listen(struct master *m);

/*
 * Starts the first worker and supervises until stopped. Tells ready_fd
 * (and systemd) once the worker serves. Returns the exit status.
 */
int master_run(struct master *m);

#endif
