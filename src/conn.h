/*
 * conn.h: one client connection: greeting, line-prefixed echo, bounded
 * buffering with backpressure, half-close, idle time.
 *
 * A connection belongs to the worker thread that accepted it and is only
 * ever touched by that thread; nothing in here locks.
 */
#ifndef ECHOD_CONN_H
#define ECHOD_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "prefix.h"
#include "ring.h"

/* Why a connection ended; CONN_OPEN while it has not. */
enum conn_end {
	CONN_OPEN = 0,
	CONN_EOF,          /* the client closed and got all its echo */
	CONN_RESET,        /* the client reset or vanished */
	CONN_IDLE,         /* silent both ways for idle_timeout */
	CONN_SHUTDOWN,     /* echod stopped before the client left */
	CONN_ERROR,        /* a socket call failed (logged) */
	CONN_LIMIT,        /* closed at once: max_connections were open */
};

struct conn {
	struct conn *prev, *next;   /* the owning worker's list */
	int fd;
	uint32_t events;            /* what epoll watches for now */
	uint64_t id;
	const struct config *cfg;   /* its worker's: outlives every connection */
	struct prefix prefix;       /* cfg's reply_prefix */
	struct prefix_state pstate;
	struct ring in;             /* bytes received, not yet echoed */
	size_t greet_sent;          /* bytes of cfg->greeting already sent */
	size_t render_budget;       /* most echo bytes worth rendering next; 0 = no limit */
	bool send_full;             /* the last send did not take all: wait for EPOLLOUT */
	bool read_eof;              /* the client shut down its sending side */
	uint64_t bytes_in, bytes_out;
	uint64_t opened_ms, active_ms;
	union addr peer;
};

/* What the worker lends its connections for one round of events. */
struct conn_io {
	int epfd;
	char *scratch;              /* the worker's read buffer */
	size_t scratch_len;
	char *out;                  /* the worker's buffer for flattened echoes */
	size_t out_len;
	uint64_t now_ms;
	uint64_t bytes_in, bytes_out;   /* every connection's, for stats */
	uint64_t rendered;          /* bytes of echo written into out, sent or not */
	size_t turn_left;           /* what the connection served may still send */
	bool set_options;           /* listeners from systemd: see conn_start */
};

/*
 * The most one connection sends per call of conn_handle (one more send
 * may go over it): then the worker serves its other connections before
 * this one's next turn. Without it a client that reads as fast as echod
 * writes, and sends empty lines under a long prefix (1 KiB of echo per
 * byte), would hold its worker thread for as long as its buffer lasts.
 */
#define CONN_TURN_BYTES (256 * 1024)

/*
 * A new connection on fd, or NULL if out of memory. cfg is borrowed: it
 * must outlive the connection (a worker's config does: it never changes
 * in a worker process, and the worker closes every connection first).
 */
struct conn *conn_new(int fd, const union addr *peer, const struct config *cfg,
    uint64_t id, uint64_t now_ms);

/* Sends the greeting and starts watching fd in io->epfd. fd has
 * TCP_NODELAY and SO_OOBINLINE from its listener; with io->set_options
 * (sockets from systemd, on which it may have queued before echod set
 * them there) they are set on fd itself. */
enum conn_end conn_start(struct conn *c, struct conn_io *io);

/* Does what the epoll events on c's socket allow: read, echo, flush. */
enum conn_end conn_handle(struct conn *c, uint32_t events, struct conn_io *io);

/* True when c has been silent both ways for its idle_timeout. */
bool conn_idle_expired(const struct conn *c, uint64_t now_ms);

/*
 * Logs a connection's disconnect line at prio: peer, number, why it ended
 * after ms milliseconds, bytes each way, then the text more.
 */
void conn_log_end(int prio, const union addr *peer, uint64_t id,
    enum conn_end why, uint64_t ms, uint64_t bytes_in, uint64_t bytes_out,
    const char *more);

/* Closes the socket, logs the disconnect line and frees c. */
void conn_close(struct conn *c, enum conn_end why, uint64_t now_ms);

#endif
