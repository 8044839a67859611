/*
 * lg_engine.h: the load generator's threads and connections.
 *
 * Owns the worker threads (each with its own epoll set over its own
 * connections, non-blocking sockets), the per-connection state machine of
 * each mode, and the per-thread counters. The main thread (loadgen.c)
 * owns the clock of the run: it moves the phase forward, and the threads
 * follow it. Threads share only the atomics in struct lg_shared.
 */
#ifndef LG_ENGINE_H
#define LG_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lg_hist.h"
#include "lg_verify.h"

enum lg_mode { MODE_PINGPONG, MODE_CONNRATE, MODE_IDLE, MODE_STREAM };

/* The phases of a run, in order; a mode skips those it has no use for. */
enum lg_phase {
	PH_SETUP,       /* connecting (idle: opening and verifying all) */
	PH_WARMUP,      /* load runs, not counted */
	PH_MEASURE,     /* the timed window */
	PH_OVERTIME,    /* load runs, not counted: the window is being sampled */
	PH_HOLD,        /* idle: every connection held, nothing sent */
	PH_REVERIFY,    /* idle: one more echo on every connection */
	PH_DRAIN,       /* no new work; wait for what is in flight */
	PH_DONE,        /* close everything and leave */
};

struct lg_config {
	enum lg_mode mode;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	int conns;              /* concurrent connections (idle: to hold) */
	size_t size;            /* bytes per line sent, '\n' included */
	int threads;
	int sources;            /* spread over 127.0.0.1..127.0.0.N; 0: no bind */
	long max_connects;      /* most connections opened in the whole run */
	int window;             /* per thread: opened, not yet answered */
	struct expect ex;
};

/* Written by the main thread (phase, deadline) or by all (counters). */
struct lg_shared {
	int phase;              /* enum lg_phase */
	uint64_t deadline_ns;   /* for the current phase's stragglers */
	long started;           /* connections opened so far */
	long ready;             /* connections that have had an echo */
	long settled;           /* idle: held or failed during setup */
	long reverify_settled;  /* idle: verified again or failed */
};

struct lg_stats {
	uint64_t rounds;        /* round trips finished in the window */
	uint64_t completed;     /* connrate: connections finished in the window */
	uint64_t win_bytes;     /* input bytes verified in the window */
	uint64_t sent;          /* input bytes sent, whole run */
	uint64_t verified;      /* input bytes echoed and verified, whole run */
	uint64_t connects;      /* connections established, whole run */
	uint64_t held;          /* idle: held after the first echo */
	uint64_t reverified;    /* idle: verified again after the hold */
	uint64_t failures;
	bool nofile;            /* socket() ran out of descriptors */
	char error[320];        /* the first failure, "" if none */
	struct hist lat;        /* ns: round trips, or whole connections */
};

struct lg_thread;

struct lg_engine {
	const struct lg_config *cfg;
	struct lg_shared sh;
	struct lg_thread *th;
	int nthreads;
};

uint64_t lg_now_ns(void);

/* Starts cfg->threads threads in PH_SETUP; 0, or -1 with a message printed. */
int engine_start(struct lg_engine *e, const struct lg_config *cfg);

/* Moves every thread to phase p; stragglers fail at deadline_ns. */
void engine_set_phase(struct lg_engine *e, enum lg_phase p, uint64_t deadline_ns);

long engine_counter(const long *counter);

/* Joins the threads, adds their stats into total and frees them. */
void engine_join(struct lg_engine *e, struct lg_stats *total);

#endif
