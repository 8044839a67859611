/*
 * serve.h: the worker process: the thread pool serving clients on the
 * listening sockets it inherited from the master, and what it tells the
 * master about itself.
 */
#ifndef ECHOD_SERVE_H
#define ECHOD_SERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "listen.h"

/* What the kernel sends the worker when the master dies (PR_SET_PDEATHSIG). */
#define SERVE_MASTER_GONE_SIGNAL SIGRTMIN

/* What a worker process writes to the master on its status pipe. */
enum serve_msg_type {
	SERVE_READY = 1,        /* every thread runs: the master may retire the old worker */
	SERVE_STATS = 2,        /* heartbeat, about once a second */
	SERVE_RETIRED = 3,      /* no thread accepts any more: only draining */
};

struct serve_msg {
	uint32_t type;
	uint32_t threads;
	int64_t open;           /* connections open now */
	uint64_t accepted;      /* since this worker started */
	uint64_t refused;       /* closed at once: max_connections */
	uint64_t log_dropped;
};

/*
 * Runs the worker process: starts the logger thread and the pool with
 * cfg on ls, reports SERVE_READY on status_fd, then serves until told to
 * stop by a signal (SIGTERM/SIGINT: stop, SIGUSR2: retire after a reload, SIGQUIT:
 * close everything now, SIGUSR1: log a stats line) or until the master is
 * gone. detached: once READY is sent, stdio goes to /dev/null. Returns the
 * process's exit status.
 */
int serve_run(struct config *cfg, struct listeners *ls, int status_fd,
    bool detached);

#endif
