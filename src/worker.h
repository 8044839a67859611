/*
 * worker.h: the pool of worker threads that serve clients.
 *
 * Each worker runs its own epoll loop over the shared listening sockets
 * (EPOLLEXCLUSIVE: one worker woken per new connection) and over the many
 * connections it serves. Other threads talk to a worker only through its
 * mailbox: the main thread's order to stop, with a deadline, and
 * connections another worker accepted and hands over to even out the
 * load. See doc/threads.md.
 */
#ifndef ECHOD_WORKER_H
#define ECHOD_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "listen.h"

/* State every worker shares; counters are updated atomically. */
struct server {
	const struct listeners *listeners;
	long open;                  /* connections open now, all workers */
	uint64_t next_conn_id;
	uint64_t accepted;          /* since start */
	uint64_t refused;           /* closed at once: max_connections */
};

struct worker;

struct worker_pool {
	struct server *srv;
	struct worker *workers;
	int size;                   /* workers set up (each has a mailbox) */
	int count;                  /* workers whose thread runs or ran */
	pthread_mutex_t lock;       /* guards the gate and the counts below */
	pthread_cond_t changed;
	int gate;                   /* 0: threads wait; 1: serve; -1: leave */
	int not_accepting;          /* workers that have let go of the listeners */
	int exited;                 /* workers whose thread has finished */
};

/*
 * Starts count workers serving with cfg (each takes a reference); none
 * accepts before all run. 0, or -1 with no connection taken.
 */
int worker_pool_start(struct worker_pool *pool, struct server *srv,
    struct config *cfg, int count);

/*
 * Tells every worker to stop accepting and to close what is still open at
 * deadline_ms (CLOCK_MONOTONIC); returns once none of them accepts any more,
 * so the listeners may be closed.
 */
void worker_pool_stop(struct worker_pool *pool, uint64_t deadline_ms);

/* Bytes received and sent by every connection of the pool so far. */
void worker_pool_bytes(struct worker_pool *pool, uint64_t *in, uint64_t *out);

/* True once every worker thread has finished. */
int worker_pool_finished(struct worker_pool *pool);

/* Joins the threads and frees the pool. */
void worker_pool_join(struct worker_pool *pool);

#endif
