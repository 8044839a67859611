/*
 * master.h: the main thread once echod serves: it owns the listeners and
 * the worker pool, and turns signals into reloads and an orderly stop.
 */
#ifndef ECHOD_MASTER_H
#define ECHOD_MASTER_H

#include <signal.h>

#include "config.h"
#include "listen.h"
#include "worker.h"

struct master {
	const char *config_path;
	struct config *cfg;         /* the running config (one reference) */
	struct listeners listeners;
	struct server srv;
	struct worker_pool pool;
	sigset_t signals;           /* blocked everywhere, taken by master_run() */
};

/* Blocks the signals the master handles (call before any thread starts). */
void master_block_signals(struct master *m);

/* Raises RLIMIT_NOFILE toward what cfg needs; warns when it cannot. */
void master_raise_fd_limit(const struct config *cfg);

/* Binds the listeners; 0, or -1 (logged). */
int master_listen(struct master *m);

/* Starts the worker pool on the bound listeners; 0, or -1 (logged). */
int master_start_workers(struct master *m);

/* Handles signals until told to stop; returns once every worker is done. */
void master_run(struct master *m);

#endif
