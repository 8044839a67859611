/*
 * lg_engine.c: the load generator's threads and connections (see
 * lg_engine.h).
 *
 * Each thread owns a fixed array of connection slots and one epoll set
 * (level-triggered; EPOLLOUT only while a write is pending). A slot is
 * touched by its thread only. What a slot does next depends on the mode:
 *   pingpong  connect; send a line, wait for all of its echo; repeat.
 *   stream    connect; write the pattern flat out, read and check it back.
 *   connrate  connect; read the greeting; one echo; half-close; wait for
 *             the server's close; open the next connection in the slot.
 *   idle      like connrate up to the echo, then hold the connection;
 *             after the hold, one more echo on every one of them.
 * Slots are opened a few at a time (cfg->window per thread not yet
 * answered), except connrate's, which all churn from the start. Every byte
 * read goes through the verifier; anything unexpected, a reset or an early
 * close is a failure, counted and remembered.
 */
#include "lg_engine.h"
#include "lg_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LG_EVENTS     256
#define LG_BUF        65536
#define LG_TICK_MS    10
#define LG_READS      4               /* reads per event, at most */
#define STREAM_BURST  (256 * 1024)    /* bytes written per event, at most */

enum lc_state {
	LC_FREE,        /* never opened, or finished cleanly */
	LC_CONNECTING,
	LC_GREETING,    /* waiting for the whole greeting before sending */
	LC_ROUND,       /* a line sent (or being sent), its echo awaited */
	LC_STREAM,
	LC_CLOSING,     /* connrate: half-closed, waiting for the server's FIN */
	LC_HELD,        /* idle: verified, held open */
	LC_FAILED,
};

struct lconn {
	int fd;
	enum lc_state state;
	bool want_out;          /* EPOLLOUT is in the epoll set */
	bool settled;           /* up: had an echo (idle: its whole first echo) */
	bool in_reverify;       /* idle: its second echo is awaited */
	uint64_t sent;          /* input bytes sent */
	uint64_t target;        /* input bytes to send in this round */
	uint64_t t_open, t_round;
	struct verifier v;
};

struct lg_thread {
	int id;
	pthread_t thread;
	struct lg_engine *eng;
	const struct lg_config *cfg;
	int epfd;
	int phase;              /* as this thread last saw it */
	struct lconn *conns;
	int nconns;
	int next;               /* the next slot to open */
	int busy;               /* slots with an open socket */
	int inflight;           /* opened, not yet settled */
	int pending;            /* idle: second echoes awaited */
	bool setup_done, reverified;
	uint64_t now;
	struct lg_stats st;
	char buf[LG_BUF];
};

static void conn_progress(struct lg_thread *th, struct lconn *c);

uint64_t
lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long
engine_counter(const long *counter)
{
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

static void
counter_add(long *counter, long n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELEASE);
}

static bool
state_open(enum lc_state s)
{
	return s != LC_FREE && s != LC_FAILED;
}

/* Counts a failure and keeps the first message. */
static void __attribute__((format(printf, 2, 3)))
note_failure(struct lg_thread *th, const char *fmt, ...)
{
	va_list ap;

	th->st.failures++;
	if (th->st.error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(th->st.error, sizeof(th->st.error), fmt, ap);
	va_end(ap);
}

static int conn_open(struct lg_thread *th, struct lconn *c);

/* Closes c's socket and keeps the mode's books; end is LC_FREE or LC_FAILED. */
static void
conn_end(struct lg_thread *th, struct lconn *c, enum lc_state end)
{
	bool was_open = state_open(c->state);

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = end;
	if (!was_open)
		return;
	th->busy--;
	if (!c->settled && th->cfg->mode != MODE_CONNRATE)
		th->inflight--;
	if (c->in_reverify) {
		c->in_reverify = false;
		th->pending--;
	}
	if (th->cfg->mode == MODE_CONNRATE && th->phase < PH_DRAIN)
		(void)conn_open(th, c);
}

static void __attribute__((format(printf, 3, 4)))
conn_fail(struct lg_thread *th, struct lconn *c, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_failure(th, "%s", msg);
	conn_end(th, c, LC_FAILED);
}

static void
conn_want_out(struct lg_thread *th, struct lconn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (c->want_out == on)
		return;
	if (on)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(th->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		conn_fail(th, c, "epoll_ctl: %s", strerror(errno));
		return;
	}
	c->want_out = on;
}

/* Binds fd to 127.0.0.N, N spread by id, leaving the port to connect(). */
static int
conn_bind_source(const struct lg_config *cfg, int fd, long id)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int on = 1;

	if (cfg->sources <= 0 || cfg->dst.ss_family != AF_INET)
		return 0;
	src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(id % cfg->sources));
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
	return bind(fd, (struct sockaddr *)&src, sizeof(src));
}

static int
conn_socket(struct lg_thread *th, long id)
{
	const struct lg_config *cfg = th->cfg;
	int on = 1;
	int fd = socket(cfg->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			th->st.nofile = true;
		note_failure(th, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (conn_bind_source(cfg, fd, id) < 0 ||
	    (connect(fd, (const struct sockaddr *)&cfg->dst, cfg->dstlen) < 0 &&
	    errno != EINPROGRESS)) {
		note_failure(th, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Opens a new connection in slot c. Returns 0, 1 when the run's bound on
 * connections is reached (nothing opened), -1 on failure (counted).
 */
static int
conn_open(struct lg_thread *th, struct lconn *c)
{
	long id = __atomic_fetch_add(&th->eng->sh.started, 1, __ATOMIC_RELAXED);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };

	if (id >= th->cfg->max_connects)
		return 1;
	if ((c->fd = conn_socket(th, id)) < 0) {
		c->state = LC_FAILED;
		return -1;
	}
	if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		note_failure(th, "epoll_ctl: %s", strerror(errno));
		close(c->fd);
		c->fd = -1;
		c->state = LC_FAILED;
		return -1;
	}
	c->state = LC_CONNECTING;
	c->want_out = true;
	c->settled = c->in_reverify = false;
	c->sent = c->target = 0;
	c->t_open = th->now;
	verifier_init(&c->v, &th->cfg->ex, pattern_base(th->cfg->ex.pat, (uint64_t)id));
	th->busy++;
	return 0;
}

/*
 * Sends up to max bytes of c's pattern from where it stands. Returns
 * 1 when something went out, 0 when the socket is full, -1 when the
 * connection failed (already counted).
 */
static int
send_pattern(struct lg_thread *th, struct lconn *c, size_t max)
{
	size_t k;
	const char *p = pattern_at(th->cfg->ex.pat, c->v.base, c->sent, max, &k);
	ssize_t n;

	do
		n = send(c->fd, p, k, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0) {
		conn_fail(th, c, "send: %s", strerror(errno));
		return -1;
	}
	c->sent += (uint64_t)n;
	th->st.sent += (uint64_t)n;
	return 1;
}

/* Sends what is left of the current round's line. */
static void
conn_write(struct lg_thread *th, struct lconn *c)
{
	while (c->sent < c->target) {
		int r = send_pattern(th, c, (size_t)(c->target - c->sent));
		if (r == 0)
			conn_want_out(th, c, true);
		if (r <= 0)
			return;
	}
	conn_want_out(th, c, false);
}

/* Writes the pattern flat out: until the socket is full or a burst is done. */
static void
stream_write(struct lg_thread *th, struct lconn *c)
{
	uint64_t until = c->sent + STREAM_BURST;

	if (th->phase >= PH_DRAIN) {
		conn_want_out(th, c, false);
		return;
	}
	while (c->sent < until && send_pattern(th, c, (size_t)(until - c->sent)) > 0)
		;
}

/* c is up: it counts as ready, and the next slot may open. */
static void
conn_settle(struct lg_thread *th, struct lconn *c)
{
	c->settled = true;
	th->inflight--;
	counter_add(&th->eng->sh.ready, 1);
}

static void
round_start(struct lg_thread *th, struct lconn *c)
{
	c->state = LC_ROUND;
	c->target = c->sent + th->cfg->size;
	c->t_round = th->now;
	conn_write(th, c);
}

/* Idle: the echo of the first or the second line is complete. */
static void
idle_round_done(struct lg_thread *th, struct lconn *c)
{
	c->state = LC_HELD;
	if (!c->settled) {
		conn_settle(th, c);
		th->st.held++;
	} else if (c->in_reverify) {
		c->in_reverify = false;
		th->pending--;
		th->st.reverified++;
	}
}

static void
round_done(struct lg_thread *th, struct lconn *c)
{
	switch (th->cfg->mode) {
	case MODE_PINGPONG:
		if (th->phase == PH_MEASURE) {
			th->st.rounds++;
			hist_add(&th->st.lat, th->now - c->t_round);
		}
		if (th->phase < PH_DRAIN)
			round_start(th, c);
		else
			conn_end(th, c, LC_FREE);
		break;
	case MODE_CONNRATE:
		c->state = LC_CLOSING;
		if (shutdown(c->fd, SHUT_WR) < 0)
			conn_fail(th, c, "shutdown: %s", strerror(errno));
		break;
	case MODE_IDLE:
		idle_round_done(th, c);
		break;
	case MODE_STREAM:
		break;
	}
}

/* The server closed: the end of a connrate connection, else a failure. */
static void
conn_eof(struct lg_thread *th, struct lconn *c)
{
	if (c->state != LC_CLOSING) {
		conn_fail(th, c, "server closed the connection (%llu of %llu bytes echoed)",
		    (unsigned long long)c->v.echoed, (unsigned long long)c->sent);
		return;
	}
	if (th->phase == PH_MEASURE) {
		th->st.completed++;
		hist_add(&th->st.lat, th->now - c->t_open);
	}
	conn_end(th, c, LC_FREE);
}

/* Verifies n bytes just read; false if the connection failed. */
static bool
conn_take(struct lg_thread *th, struct lconn *c, size_t n)
{
	uint64_t before = c->v.echoed;
	const char *why;

	if (verifier_feed(&c->v, th->buf, n, c->sent, &why) < 0) {
		conn_fail(th, c, "%s (after %llu bytes echoed)", why,
		    (unsigned long long)c->v.echoed);
		return false;
	}
	th->st.verified += c->v.echoed - before;
	if (!c->settled && c->v.echoed > 0 &&
	    (th->cfg->mode == MODE_PINGPONG || th->cfg->mode == MODE_STREAM))
		conn_settle(th, c);
	if (th->phase == PH_MEASURE)
		th->st.win_bytes += c->v.echoed - before;
	return true;
}

static void
conn_read(struct lg_thread *th, struct lconn *c)
{
	for (int i = 0; i < LG_READS; i++) {
		ssize_t n = recv(c->fd, th->buf, sizeof(th->buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_fail(th, c, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			conn_eof(th, c);
			return;
		}
		if (!conn_take(th, c, (size_t)n))
			return;
		if ((size_t)n < sizeof(th->buf))
			break;
	}
	conn_progress(th, c);
}

/* After new input: moves c to its next step when it is due. */
static void
conn_progress(struct lg_thread *th, struct lconn *c)
{
	if (c->state == LC_GREETING && verifier_greeted(&c->v))
		round_start(th, c);
	else if (c->state == LC_ROUND && c->v.echoed == c->target)
		round_done(th, c);
	else if (c->state == LC_STREAM && th->phase >= PH_DRAIN &&
	    c->v.echoed == c->sent)
		conn_end(th, c, LC_FREE);
}

static void
conn_connected(struct lg_thread *th, struct lconn *c)
{
	th->st.connects++;
	switch (th->cfg->mode) {
	case MODE_PINGPONG:
		round_start(th, c);
		break;
	case MODE_STREAM:
		c->state = LC_STREAM;
		stream_write(th, c);
		break;
	case MODE_CONNRATE:
	case MODE_IDLE:
		c->state = LC_GREETING;
		conn_want_out(th, c, false);
		if (c->state == LC_GREETING)
			conn_progress(th, c);
		break;
	}
}

/* A connecting socket became writable or failed: find out which. */
static void
conn_check_connect(struct lg_thread *th, struct lconn *c)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err != 0) {
		conn_fail(th, c, "connect: %s", strerror(err));
		return;
	}
	if (getpeername(c->fd, (struct sockaddr *)&peer, &len) < 0)
		return;         /* not yet: a stale event from the slot's last socket */
	conn_connected(th, c);
}

static void
conn_event(struct lg_thread *th, struct lconn *c, uint32_t events)
{
	if (!state_open(c->state))
		return;
	th->now = lg_now_ns();
	if (c->state == LC_CONNECTING) {
		conn_check_connect(th, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(th, c);
	if (!state_open(c->state) || !(events & EPOLLOUT))
		return;
	if (c->state == LC_STREAM)
		stream_write(th, c);
	else if (c->state == LC_ROUND)
		conn_write(th, c);
}

/*
 * Opens more of this thread's slots, keeping at most cfg->window of them
 * not yet up, so that a server is not met with one burst of thousands of
 * handshakes. connrate opens all its slots at once (they never settle).
 */
static void
open_more(struct lg_thread *th)
{
	bool opening = th->cfg->mode == MODE_IDLE ? th->phase == PH_SETUP :
	    th->phase < PH_DRAIN;

	while (opening && th->next < th->nconns &&
	    (th->inflight < th->cfg->window || th->cfg->mode == MODE_CONNRATE)) {
		int r = conn_open(th, &th->conns[th->next++]);
		if (r == 0 && th->cfg->mode != MODE_CONNRATE)
			th->inflight++;
		else if (r > 0 || th->st.nofile)
			th->next = th->nconns;
	}
	if (!th->setup_done && th->next == th->nconns && th->inflight == 0 &&
	    th->cfg->mode == MODE_IDLE) {
		th->setup_done = true;
		counter_add(&th->eng->sh.settled, 1);
	}
}

static void
idle_start_reverify(struct lg_thread *th)
{
	for (int i = 0; i < th->nconns; i++) {
		struct lconn *c = &th->conns[i];
		if (c->state != LC_HELD)
			continue;
		c->in_reverify = true;
		th->pending++;
		round_start(th, c);
	}
}

/* The server's end of c, as /proc shows it (IPv4 only); 0 or -1. */
static int
server_socket(const struct lconn *c, struct proc_tcp_sock *ps)
{
	struct sockaddr_in ours, theirs;
	socklen_t ol = sizeof(ours), tl = sizeof(theirs);

	if (getsockname(c->fd, (struct sockaddr *)&ours, &ol) < 0 ||
	    getpeername(c->fd, (struct sockaddr *)&theirs, &tl) < 0 ||
	    ours.sin_family != AF_INET)
		return -1;
	return proc_tcp_sock(&theirs, &ours, ps);
}

/*
 * What c's socket holds, for the message of a connection that is stuck:
 * whether the bytes wait in our receive queue (we did not read), in our
 * send queue (the server did not read) or in neither (the server holds
 * them), and whether TCP is backing off; and the server's end, as /proc shows it.
 */
static void
socket_state(const struct lconn *c, char *buf, size_t size)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);
	int unread = -1, unsent = -1, n;
	struct proc_tcp_sock ps;

	(void)ioctl(c->fd, SIOCINQ, &unread);
	(void)ioctl(c->fd, SIOCOUTQ, &unsent);
	(void)getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	n = snprintf(buf, size, "%llu of %llu bytes echoed; ours: %d unread, %d unsent, "
	    "backoff %u, rto %u ms",
	    (unsigned long long)c->v.echoed, (unsigned long long)c->sent, unread,
	    unsent, ti.tcpi_backoff, ti.tcpi_rto / 1000);
	if (n > 0 && (size_t)n < size && server_socket(c, &ps) == 0)
		snprintf(buf + n, size - (size_t)n, "; server's: %ld unread, %ld unsent, "
		    "timer %d in %ld ms, %d retransmits", ps.rx, ps.tx, ps.timer,
		    ps.timer_ms, ps.retransmits);
}

/* Fails every connection that still waits for something. */
static void
fail_stragglers(struct lg_thread *th, const char *what)
{
	char state[256];

	for (int i = 0; i < th->nconns; i++) {
		struct lconn *c = &th->conns[i];
		if (!state_open(c->state) || c->state == LC_HELD)
			continue;
		if (c->state == LC_CONNECTING) {
			conn_fail(th, c, "%s: still connecting at the deadline", what);
			continue;
		}
		socket_state(c, state, sizeof(state));
		conn_fail(th, c, "%s: still waiting for its echo at the deadline (%s)",
		    what, state);
	}
}

/* What a thread does on entering phase p (idle's phases only in idle). */
static void
thread_phase_hook(struct lg_thread *th, int p)
{
	bool idle = th->cfg->mode == MODE_IDLE;

	if (p == PH_HOLD && idle)
		fail_stragglers(th, "setup");
	if (p == PH_REVERIFY && idle)
		idle_start_reverify(th);
	if (p != PH_DRAIN || th->cfg->mode != MODE_STREAM)
		return;
	for (int i = 0; i < th->nconns; i++)
		if (th->conns[i].state == LC_STREAM) {
			conn_want_out(th, &th->conns[i], false);
			conn_progress(th, &th->conns[i]);
		}
}

/* Catches up with the main thread, one phase at a time. */
static void
thread_enter_phase(struct lg_thread *th, int phase)
{
	while (th->phase < phase) {
		th->phase++;
		thread_phase_hook(th, th->phase);
	}
}

/* Timed work after each batch of events. */
static void
thread_tick(struct lg_thread *th)
{
	uint64_t deadline = __atomic_load_n(&th->eng->sh.deadline_ns, __ATOMIC_ACQUIRE);

	open_more(th);
	if (th->phase == PH_REVERIFY && !th->reverified && th->pending == 0) {
		th->reverified = true;
		counter_add(&th->eng->sh.reverify_settled, 1);
	}
	if ((th->phase == PH_DRAIN || th->phase == PH_REVERIFY) && th->now > deadline)
		fail_stragglers(th, th->phase == PH_DRAIN ? "drain" : "second echo");
}

static bool
thread_finished(const struct lg_thread *th)
{
	return th->phase == PH_DONE || (th->phase == PH_DRAIN && th->busy == 0);
}

static void *
thread_main(void *arg)
{
	struct lg_thread *th = arg;
	struct epoll_event evs[LG_EVENTS];

	th->now = lg_now_ns();
	open_more(th);
	while (!thread_finished(th)) {
		int n = epoll_wait(th->epfd, evs, LG_EVENTS, LG_TICK_MS);
		int phase = __atomic_load_n(&th->eng->sh.phase, __ATOMIC_ACQUIRE);
		th->now = lg_now_ns();
		if (phase != th->phase)
			thread_enter_phase(th, phase);
		for (int i = 0; i < n; i++)
			conn_event(th, evs[i].data.ptr, evs[i].events);
		thread_tick(th);
	}
	for (int i = 0; i < th->nconns; i++)
		if (state_open(th->conns[i].state))
			conn_end(th, &th->conns[i], LC_FREE);
	return NULL;
}

static int
thread_init(struct lg_engine *e, struct lg_thread *th, int id, int nconns)
{
	th->id = id;
	th->eng = e;
	th->cfg = e->cfg;
	th->nconns = nconns;
	th->phase = PH_SETUP;
	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	th->conns = calloc((size_t)(nconns > 0 ? nconns : 1), sizeof(*th->conns));
	if (th->epfd < 0 || th->conns == NULL) {
		fprintf(stderr, "loadgen: thread setup: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < nconns; i++)
		th->conns[i].fd = -1;
	return 0;
}

int
engine_start(struct lg_engine *e, const struct lg_config *cfg)
{
	e->cfg = cfg;
	memset(&e->sh, 0, sizeof(e->sh));
	e->nthreads = 0;
	e->th = calloc((size_t)cfg->threads, sizeof(*e->th));
	if (e->th == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		return -1;
	}
	for (int i = 0; i < cfg->threads; i++) {
		int share = cfg->conns / cfg->threads + (i < cfg->conns % cfg->threads);
		int err;
		if (thread_init(e, &e->th[i], i, share) < 0)
			return -1;
		if ((err = pthread_create(&e->th[i].thread, NULL, thread_main, &e->th[i])) != 0) {
			fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(err));
			return -1;
		}
		e->nthreads++;
	}
	return 0;
}

void
engine_set_phase(struct lg_engine *e, enum lg_phase p, uint64_t deadline_ns)
{
	__atomic_store_n(&e->sh.deadline_ns, deadline_ns, __ATOMIC_RELEASE);
	__atomic_store_n(&e->sh.phase, (int)p, __ATOMIC_RELEASE);
}

static void
stats_add(struct lg_stats *t, const struct lg_stats *s)
{
	t->rounds += s->rounds;
	t->completed += s->completed;
	t->win_bytes += s->win_bytes;
	t->sent += s->sent;
	t->verified += s->verified;
	t->connects += s->connects;
	t->held += s->held;
	t->reverified += s->reverified;
	t->failures += s->failures;
	t->nofile = t->nofile || s->nofile;
	if (t->error[0] == '\0')
		memcpy(t->error, s->error, sizeof(t->error));
	hist_merge(&t->lat, &s->lat);
}

void
engine_join(struct lg_engine *e, struct lg_stats *total)
{
	for (int i = 0; i < e->nthreads; i++) {
		pthread_join(e->th[i].thread, NULL);
		stats_add(total, &e->th[i].st);
		close(e->th[i].epfd);
		free(e->th[i].conns);
	}
	free(e->th);
	e->th = NULL;
	e->nthreads = 0;
}
