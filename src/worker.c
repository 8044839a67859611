/*
 * worker.c: the worker threads (see worker.h and doc/threads.md).
 *
 * Owns each worker's epoll set, connection list, read and output
 * buffers, and the choice of who serves a new connection: the worker that
 * accepted it, unless it has more than BALANCE_SLACK connections beyond
 * another worker, which then gets it through its mailbox. From there on a
 * connection is served and freed by that one worker. Shared between
 * workers: the listening sockets (read-only here), the counters in struct
 * server (atomics), each worker's load (atomic) and configs (reference
 * counted, immutable). Mailboxes are the only locks a worker takes.
 */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "cpushare.h"
#include "log.h"
#include "mailbox.h"
#include "ratelimit.h"
#include "sysutil.h"

#define WORKER_EVENTS       256
#define WORKER_SCRATCH      65536
#define WORKER_OUT          131072  /* room for a full scratch with its prefixes */
#define ACCEPT_BATCH        32
#define ACCEPT_PAUSE_MS     100     /* after EMFILE and friends */
#define SWEEP_INTERVAL_MS   1000    /* idle checks */
#define BALANCE_SLACK       1       /* connections more than another worker's before handing over */

/* epoll tokens: a listener's index below this, this for the mailbox, else
 * a connection's address (never that small). */
#define TOKEN_MAILBOX       CONFIG_MAX_LISTEN
_Static_assert(CONFIG_MAX_LISTEN <= 32, "held_back is a 32-bit mask of listeners");

struct worker {
	int id;
	pthread_t thread;
	struct worker_pool *pool;
	struct server *srv;
	int epfd;
	struct mailbox mailbox;     /* stop orders and handed-over connections */
	long load;                  /* connections served or on their way here (atomic) */

	/* Only the worker's own thread touches what follows. */
	struct config *cfg;
	struct conn *conns;         /* every open connection */
	long nconns;
	unsigned next_peer;         /* the worker to compare with next */
	bool accepting;
	bool stop_ordered;          /* the mailbox said stop: drain after this batch */
	bool draining;
	uint64_t resume_ms;         /* when to accept again after a pause */
	uint32_t held_back;         /* listeners out of the set after an error of their own */
	uint64_t held_back_ms;      /* when to put them back */
	uint64_t deadline_ms;       /* when draining: close what is left */
	uint64_t sweep_ms;          /* next idle check */
	struct ratelimit rl_refused;
	struct ratelimit rl_accept;
	struct conn_io io;
	struct cpushare cpushare;   /* this thread's turn on its core */
	char scratch[WORKER_SCRATCH];
	char out[WORKER_OUT];
};

static void
worker_link(struct worker *w, struct conn *c)
{
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
}

static void
worker_unlink(struct worker *w, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
}

static void
worker_close(struct worker *w, struct conn *c, enum conn_end why)
{
	worker_unlink(w, c);
	__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&w->srv->open, 1, __ATOMIC_RELAXED);
	conn_close(c, why, w->io.now_ms);
}

/* Adds (on) or removes (off) listener i, its index its token. */
static void
worker_listen_one(struct worker *w, size_t i, bool on)
{
	const struct listener *l = &w->srv->listeners->list[i];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = i };

	if (epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->fd, &ev) < 0)
		log_err("epoll_ctl for listener %s", l->name);
}

/*
 * Adds (on) or removes (off) every listener from this worker's epoll set;
 * those held back are out of it already, and all come back together.
 */
static void
worker_listen(struct worker *w, bool on)
{
	for (size_t i = 0; i < w->srv->listeners->count; i++)
		if (on || !(w->held_back & (1u << i)))
			worker_listen_one(w, i, on);
	w->held_back = 0;
	w->accepting = on;
}

/* Takes listener i alone out of the set for ACCEPT_PAUSE_MS. */
static void
worker_hold_back(struct worker *w, size_t i)
{
	worker_listen_one(w, i, false);
	w->held_back |= 1u << i;
	w->held_back_ms = w->io.now_ms + ACCEPT_PAUSE_MS;
}

/* Puts the held-back listeners back once their pause is over. */
static void
worker_release_held_back(struct worker *w)
{
	for (size_t i = 0; i < w->srv->listeners->count; i++)
		if (w->held_back & (1u << i))
			worker_listen_one(w, i, true);
	w->held_back = 0;
}

/*
 * Closes a connection over max_connections at once. Its disconnect line
 * (reason "limit") is a warning, at most one a second: a flood of
 * refusals must not flood the log.
 */
static void
worker_refuse(struct worker *w, int fd, const union addr *peer)
{
	uint64_t id = __atomic_add_fetch(&w->srv->next_conn_id, 1, __ATOMIC_RELAXED);
	char more[96];
	unsigned long held;
	int n;

	close_quietly(fd);
	__atomic_add_fetch(&w->srv->refused, 1, __ATOMIC_RELAXED);
	if (!ratelimit_pass(&w->rl_refused, w->io.now_ms, &held))
		return;
	n = snprintf(more, sizeof(more), ": max_connections (%ld) reached",
	    w->cfg->max_connections);
	if (held && n > 0 && (size_t)n < sizeof(more))
		snprintf(more + n, sizeof(more) - (size_t)n,
		    " (%lu more refused before)", held);
	conn_log_end(LOG_WARNING, peer, id, CONN_LIMIT, 0, 0, 0, more);
}

/* Starts serving a connection counted in srv->open and in w->load. */
static void
worker_serve(struct worker *w, int fd, const union addr *peer)
{
	uint64_t id = __atomic_add_fetch(&w->srv->next_conn_id, 1, __ATOMIC_RELAXED);
	struct conn *c = conn_new(fd, peer, w->cfg, id, w->io.now_ms);

	if (c == NULL) {
		log_errx("out of memory for a connection");
		close_quietly(fd);
		__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&w->srv->open, 1, __ATOMIC_RELAXED);
		return;
	}
	worker_link(w, c);
	if (c->cfg->log_connections) {
		char name[ADDR_STRLEN];
		addr_format(peer, name, sizeof(name));
		log_info("connect from %s (conn %llu, %ld open)", name,
		    (unsigned long long)id,
		    __atomic_load_n(&w->srv->open, __ATOMIC_RELAXED));
	}
	enum conn_end why = conn_start(c, &w->io);
	if (why != CONN_OPEN)
		worker_close(w, c, why);
}

/*
 * The worker that should serve a connection w accepted: w, unless w has
 * more than BALANCE_SLACK connections beyond the next worker in turn.
 * Comparing with one other worker at a time keeps the cost per accept
 * constant, and evens out the load however the kernel picks who accepts.
 * Loads count connections still in a mailbox, so a burst is not all
 * handed to one worker before it had time to take any.
 */
static struct worker *
worker_pick(struct worker *w)
{
	struct worker_pool *pool = w->pool;
	struct worker *other;

	if (pool->size < 2)
		return w;
	w->next_peer = (w->next_peer + 1) % (unsigned)pool->size;
	if (w->next_peer == (unsigned)w->id)
		w->next_peer = (w->next_peer + 1) % (unsigned)pool->size;
	other = &pool->workers[w->next_peer];
	if (__atomic_load_n(&w->load, __ATOMIC_RELAXED) <=
	    __atomic_load_n(&other->load, __ATOMIC_RELAXED) + BALANCE_SLACK)
		return w;
	return other;
}

/* Takes an accepted socket: refuse it over the limit, else have it served. */
static void
worker_admit(struct worker *w, int fd, const union addr *peer)
{
	long open = __atomic_add_fetch(&w->srv->open, 1, __ATOMIC_RELAXED);
	struct worker *to;

	if (open > w->cfg->max_connections) {
		__atomic_sub_fetch(&w->srv->open, 1, __ATOMIC_RELAXED);
		worker_refuse(w, fd, peer);
		return;
	}
	__atomic_add_fetch(&w->srv->accepted, 1, __ATOMIC_RELAXED);
	to = worker_pick(w);
	__atomic_add_fetch(&to->load, 1, __ATOMIC_RELAXED);
	if (to != w && !mailbox_post_conn(&to->mailbox, fd, peer)) {
		__atomic_sub_fetch(&to->load, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->load, 1, __ATOMIC_RELAXED);
		to = w;
	}
	if (to == w)
		worker_serve(w, fd, peer);
}

/*
 * Handles an accept() error on listener i; returns true when accepting
 * should stop for now. Any error but a client that left first pauses: a
 * listening socket that stays readable would otherwise bring the thread
 * straight back. Out of descriptors or memory, every listener pauses;
 * an error of one listener's own (EPERM from a security module leaves
 * the connection queued) pauses that one alone, so the others serve.
 */
static bool
worker_accept_failed(struct worker *w, size_t i)
{
	const char *listener = w->srv->listeners->list[i].name;
	unsigned long held;
	int err = errno;

	switch (err) {
	case EAGAIN:
#if EAGAIN != EWOULDBLOCK
	case EWOULDBLOCK:
#endif
		return true;
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
		return false;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		worker_listen(w, false);
		w->resume_ms = w->io.now_ms + ACCEPT_PAUSE_MS;
		break;
	default:
		worker_hold_back(w, i);
		break;
	}
	errno = err;        /* epoll_ctl may have changed it */
	if (ratelimit_pass(&w->rl_accept, w->io.now_ms, &held))
		log_err("accept on %s (pausing accepts for %d ms, %lu similar errors before)",
		    listener, ACCEPT_PAUSE_MS, held);
	return true;
}

static void
worker_accept(struct worker *w, size_t i)
{
	int fd = w->srv->listeners->list[i].fd;

	for (int n = 0; n < ACCEPT_BATCH && w->accepting; n++) {
		union addr peer;
		socklen_t len = sizeof(peer);
		int c = accept4(fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0)
			worker_admit(w, c, &peer);
		else if (worker_accept_failed(w, i))
			return;
	}
}

/* Lets go of the listeners and tells the pool; connections go on. */
static void
worker_begin_drain(struct worker *w)
{
	if (w->accepting)
		worker_listen(w, false);
	w->draining = true;
	pthread_mutex_lock(&w->pool->lock);
	w->pool->not_accepting++;
	pthread_cond_broadcast(&w->pool->changed);
	pthread_mutex_unlock(&w->pool->lock);
}

/*
 * Serves the connections other workers handed over, and takes note of a
 * stop order: stop accepting, and be done by its deadline. The drain
 * begins after the batch (worker_timers): a listener event in the same
 * batch may be the one wakeup EPOLLEXCLUSIVE gave for a connection, and
 * must still be accepted, or that client would wait for the next one.
 */
static void
worker_read_mailbox(struct worker *w)
{
	struct mailbox_content got;

	mailbox_take(&w->mailbox, &got);
	for (int i = 0; i < got.nconns; i++)
		worker_serve(w, got.conns[i].fd, &got.conns[i].peer);
	if (got.stop) {
		w->deadline_ms = got.deadline_ms;
		w->stop_ordered = true;
	}
}

/* Closes idle connections, and all of them once a drain runs out of time. */
static void
worker_sweep(struct worker *w)
{
	bool expired = w->draining && w->io.now_ms >= w->deadline_ms;
	struct conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (expired)
			worker_close(w, c, CONN_SHUTDOWN);
		else if (conn_idle_expired(c, w->io.now_ms))
			worker_close(w, c, CONN_IDLE);
	}
	w->sweep_ms = w->io.now_ms + SWEEP_INTERVAL_MS;
}

/* Milliseconds epoll_wait may sleep before the next timed job, or -1. */
static int
worker_timeout(const struct worker *w)
{
	uint64_t next = UINT64_MAX;

	if (w->nconns > 0)
		next = w->sweep_ms;
	if (w->draining && w->deadline_ms < next)
		next = w->deadline_ms;
	if (!w->accepting && !w->draining && w->resume_ms < next)
		next = w->resume_ms;
	if (w->accepting && w->held_back && w->held_back_ms < next)
		next = w->held_back_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= w->io.now_ms ? 0 : (int)(next - w->io.now_ms);
}

/*
 * A listener's token is its index. A batch of events may still hold one
 * after this worker stopped accepting, and by then the process may have
 * closed the listeners: so the token alone says what an event is, and
 * the listeners are touched only while accepting.
 */
static void
worker_dispatch(struct worker *w, const struct epoll_event *ev)
{
	if (ev->data.u64 < TOKEN_MAILBOX) {
		if (w->accepting && !(w->held_back & (1u << ev->data.u64)))
			worker_accept(w, (size_t)ev->data.u64);
	} else if (ev->data.u64 == TOKEN_MAILBOX) {
		worker_read_mailbox(w);
	} else {
		struct conn *c = ev->data.ptr;
		enum conn_end why = conn_handle(c, ev->events, &w->io);
		if (why != CONN_OPEN)
			worker_close(w, c, why);
	}
}

/*
 * Runs what waits for the end of a batch: a drain ordered, the idle
 * sweep, the drain deadline, accepts resumed.
 */
static void
worker_timers(struct worker *w)
{
	if (w->stop_ordered && !w->draining)
		worker_begin_drain(w);
	if (w->io.now_ms >= w->sweep_ms ||
	    (w->draining && w->io.now_ms >= w->deadline_ms))
		worker_sweep(w);
	if (!w->accepting && !w->draining && w->io.now_ms >= w->resume_ms)
		worker_listen(w, true);
	if (w->accepting && w->held_back && w->io.now_ms >= w->held_back_ms)
		worker_release_held_back(w);
}

/*
 * Waits until every thread of the pool runs: a worker that accepted
 * before a later thread failed to start would lose its clients when the
 * pool gives up. False if it gave up.
 */
static bool
worker_wait_for_pool(struct worker *w)
{
	int gate;

	pthread_mutex_lock(&w->pool->lock);
	while (w->pool->gate == 0)
		pthread_cond_wait(&w->pool->changed, &w->pool->lock);
	gate = w->pool->gate;
	pthread_mutex_unlock(&w->pool->lock);
	return gate > 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[WORKER_EVENTS];
	uint64_t t;

	if (!worker_wait_for_pool(w))
		return NULL;
	/* One clock reading ends a batch and starts the next epoll_wait (a
	 * yield in between counts as time away from the core, as a sleep). */
	t = now_us();
	if (cpushare_init(&w->cpushare, (unsigned)w->cfg->cpu_slice, t) < 0)
		log_warn("worker %d: cannot set a %d us scheduler slice",
		    w->id, w->cfg->cpu_slice);
	while (!(w->draining && w->nconns == 0)) {
		int n = epoll_wait(w->epfd, evs, WORKER_EVENTS, worker_timeout(w));
		if (n < 0 && errno != EINTR)
			fatal(EXIT_FAILURE, "worker %d: epoll_wait", w->id);
		uint64_t now = now_us();
		cpushare_waited(&w->cpushare, t, now);
		w->io.now_ms = now / 1000;
		for (int i = 0; i < n; i++)
			worker_dispatch(w, &evs[i]);
		worker_timers(w);
		t = n > 0 ? now_us() : now;
		cpushare_check(&w->cpushare, t);
	}
	pthread_mutex_lock(&w->pool->lock);
	w->pool->exited++;
	pthread_cond_broadcast(&w->pool->changed);
	pthread_mutex_unlock(&w->pool->lock);
	return NULL;
}

/* Sets up one worker's epoll set and mailbox in the calling thread. */
static int
worker_init(struct worker *w, struct worker_pool *pool, struct config *cfg, int id)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TOKEN_MAILBOX };

	w->epfd = w->mailbox.fd = -1;
	w->id = id;
	w->pool = pool;
	w->srv = pool->srv;
	w->cfg = config_ref(cfg);
	w->next_peer = (unsigned)id;
	ratelimit_init(&w->rl_refused, 1000);
	ratelimit_init(&w->rl_accept, 1000);
	w->io.scratch = w->scratch;
	w->io.scratch_len = sizeof(w->scratch);
	w->io.out = w->out;
	w->io.out_len = sizeof(w->out);
	w->io.set_options = w->srv->listeners->adopted;
	w->io.now_ms = now_ms();
	w->sweep_ms = w->io.now_ms + SWEEP_INTERVAL_MS;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->io.epfd = w->epfd;
	if (w->epfd < 0 || mailbox_init(&w->mailbox) < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->mailbox.fd, &ev) < 0) {
		log_err("worker %d: epoll/eventfd", id);
		return -1;
	}
	worker_listen(w, true);
	return 0;
}

static void
worker_free(struct worker *w)
{
	close_quietly(w->epfd);
	mailbox_free(&w->mailbox);
	config_unref(w->cfg);
}

static int
worker_spawn(struct worker *w)
{
	char name[16];
	int err = pthread_create(&w->thread, NULL, worker_main, w);

	if (err != 0) {
		errno = err;
		log_err("worker %d: pthread_create", w->id);
		return -1;
	}
	snprintf(name, sizeof(name), "echod-w%d", w->id);
	pthread_setname_np(w->thread, name);
	return 0;
}

/* Lets the threads serve (1), or leave at once (-1). */
static void
worker_pool_open_gate(struct worker_pool *pool, int gate)
{
	pthread_mutex_lock(&pool->lock);
	pool->gate = gate;
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
}

/* Frees workers [from, to), which have no thread. */
static void
worker_pool_free_from(struct worker_pool *pool, int from, int to)
{
	for (int i = from; i < to; i++)
		worker_free(&pool->workers[i]);
}

int
worker_pool_start(struct worker_pool *pool, struct server *srv,
    struct config *cfg, int count)
{
	pool->srv = srv;
	pool->count = pool->size = 0;
	pool->gate = pool->not_accepting = pool->exited = 0;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->changed, NULL);
	pool->workers = calloc((size_t)count, sizeof(*pool->workers));
	if (pool->workers == NULL) {
		log_err("worker pool");
		return -1;
	}
	/* Every mailbox exists before any worker may hand a connection over. */
	for (int i = 0; i < count; i++) {
		if (worker_init(&pool->workers[i], pool, cfg, i) < 0) {
			worker_pool_free_from(pool, 0, i + 1);
			free(pool->workers);
			pool->workers = NULL;
			return -1;
		}
	}
	pool->size = count;
	for (int i = 0; i < count; i++) {
		if (worker_spawn(&pool->workers[i]) < 0) {
			worker_pool_open_gate(pool, -1);    /* they leave, having accepted nothing */
			worker_pool_free_from(pool, i, count);
			worker_pool_join(pool);             /* and the array */
			return -1;
		}
		pool->count++;
	}
	worker_pool_open_gate(pool, 1);
	return 0;
}

void
worker_pool_stop(struct worker_pool *pool, uint64_t deadline_ms)
{
	for (int i = 0; i < pool->count; i++)
		mailbox_post_stop(&pool->workers[i].mailbox, deadline_ms);
	pthread_mutex_lock(&pool->lock);
	while (pool->not_accepting < pool->count)
		pthread_cond_wait(&pool->changed, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
}

void
worker_pool_bytes(struct worker_pool *pool, uint64_t *in, uint64_t *out)
{
	*in = *out = 0;
	for (int i = 0; i < pool->count; i++) {
		*in += __atomic_load_n(&pool->workers[i].io.bytes_in, __ATOMIC_RELAXED);
		*out += __atomic_load_n(&pool->workers[i].io.bytes_out, __ATOMIC_RELAXED);
	}
}

int
worker_pool_finished(struct worker_pool *pool)
{
	int done;

	pthread_mutex_lock(&pool->lock);
	done = pool->exited == pool->count;
	pthread_mutex_unlock(&pool->lock);
	return done;
}

void
worker_pool_join(struct worker_pool *pool)
{
	for (int i = 0; i < pool->count; i++) {
		pthread_join(pool->workers[i].thread, NULL);
		worker_free(&pool->workers[i]);
	}
	free(pool->workers);
	pool->workers = NULL;
	pool->count = 0;
}
