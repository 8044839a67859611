/*
 * conn.c: one client connection (see conn.h).
 *
 * Owns the connection's socket, its buffer of unechoed input and its place
 * in the prefix state machine. The buffer holds input, not output: the
 * echo (prefixes included) is rebuilt from it on every send, so at most
 * buffer_size bytes are held however many prefixes the data calls for;
 * how much is rebuilt follows what the socket took last time, and a full
 * socket is not tried again before epoll says it has room.
 * When the buffer is full, echod stops reading: the client's own send
 * blocks, and that is the backpressure. The owning worker's epoll set,
 * list and counters are the worker's business.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iov.h"
#include "log.h"
#include "sysutil.h"

#define CONN_IOV_MAX 4       /* the greeting and two pieces of input, unprefixed */
#define CONN_GATHER_SMALL 4096  /* several pieces this small in all are copied into one */
#define CONN_RENDER_MIN 4096    /* least echo rendered for a socket that took little */

struct conn *
conn_new(int fd, const union addr *peer, const struct config *cfg, uint64_t id,
    uint64_t now_ms)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->id = id;
	c->cfg = cfg;
	c->prefix.str = cfg->reply_prefix;
	c->prefix.len = cfg->reply_prefix_len;
	prefix_state_init(&c->pstate);
	ring_init(&c->in, cfg->buffer_size);
	c->peer = *peer;
	c->opened_ms = c->active_ms = now_ms;
	return c;
}

/* Adds n to a counter only this thread writes and others may read. */
static void
conn_io_count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

static size_t
conn_greeting_left(const struct conn *c)
{
	return c->cfg->greeting_len - c->greet_sent;
}

static bool
conn_has_output(const struct conn *c)
{
	return conn_greeting_left(c) > 0 || ring_len(&c->in) > 0;
}

/* One send's worth of echo, and what it means once all of it is sent. */
struct conn_offer {
	struct msghdr msg;
	struct iovec iov[CONN_IOV_MAX];
	size_t len;                 /* bytes offered */
	size_t greeting;            /* greeting bytes among them */
	size_t covered;             /* input bytes whose echo they complete */
	struct prefix_state plan;   /* the prefix state after them */
};

/*
 * Offers the rest of the greeting and the echo of src as pieces pointing
 * into them (RFC 862 mode: no prefix, so at most three pieces). A few
 * small pieces are copied into the worker's flat buffer instead: one
 * send() costs the kernel less than a sendmsg().
 */
static void
conn_offer_pieces(const struct conn *c, const struct iovec *src, int nsrc,
    struct conn_io *io, struct conn_offer *o)
{
	int cnt = 0;

	o->plan = c->pstate;
	o->covered = 0;
	o->greeting = conn_greeting_left(c);
	if (o->greeting > 0) {
		o->iov[cnt].iov_base = c->cfg->greeting + c->greet_sent;
		o->iov[cnt++].iov_len = o->greeting;
	}
	for (int i = 0; i < nsrc; i++) {
		size_t k = prefix_plan(&c->prefix, &o->plan, src[i].iov_base,
		    src[i].iov_len, o->iov, CONN_IOV_MAX, &cnt);
		o->covered += k;
		if (k < src[i].iov_len)
			break;
	}
	o->len = iov_total(o->iov, cnt);
	o->msg = (struct msghdr){ .msg_iov = o->iov, .msg_iovlen = (size_t)cnt };
	if (cnt > 1 && o->len <= CONN_GATHER_SMALL) {
		iov_gather(o->iov, cnt, io->out, io->out_len);
		o->iov[0].iov_base = io->out;
		o->iov[0].iov_len = o->len;
		o->msg.msg_iovlen = 1;
	}
}

/*
 * Bytes of echo worth rendering for c: all the worker's flat buffer holds,
 * unless the socket took less than it was offered last time. Then a slow
 * reader does not cost a full buffer's rendering for every few kilobytes
 * it reads.
 */
static size_t
conn_render_budget(const struct conn *c, const struct conn_io *io)
{
	return c->render_budget > 0 ? c->render_budget : io->out_len;
}

/*
 * Learns from a send that took n bytes (0: none, EAGAIN) of len offered.
 * A socket that took less is full until epoll says otherwise, and twice
 * what it took (CONN_RENDER_MIN at least) is enough to render next time;
 * a send that took everything doubles the budget, back to no limit once
 * it reaches the whole buffer.
 */
static void
conn_learn_fit(struct conn *c, size_t n, size_t len, size_t out_len)
{
	size_t next = 2 * (n < len ? n : c->render_budget);

	c->send_full = n < len;
	if (c->send_full && next < CONN_RENDER_MIN)
		next = CONN_RENDER_MIN;
	c->render_budget = next < out_len ? next : 0;
}

/*
 * Offers the rest of the greeting and the prefixed echo of src written
 * into the worker's flat buffer, as much as the budget allows. A prefix
 * per short line would be too many small pieces: the kernel's cost per
 * piece is far more than one copy here.
 */
static void
conn_offer_flat(const struct conn *c, const struct iovec *src, int nsrc,
    struct conn_io *io, struct conn_offer *o)
{
	size_t budget = conn_render_budget(c, io);
	size_t room = budget;

	o->plan = c->pstate;
	o->covered = 0;
	o->greeting = conn_greeting_left(c) < room ? conn_greeting_left(c) : room;
	memcpy(io->out, c->cfg->greeting + c->greet_sent, o->greeting);
	room -= o->greeting;
	for (int i = 0; i < nsrc; i++) {
		size_t k = prefix_render(&c->prefix, &o->plan, src[i].iov_base,
		    src[i].iov_len, io->out + (budget - room), &room);
		o->covered += k;
		if (k < src[i].iov_len)
			break;
	}
	o->len = budget - room;
	io->rendered += o->len;
	o->iov[0].iov_base = io->out;
	o->iov[0].iov_len = o->len;
	o->msg = (struct msghdr){ .msg_iov = o->iov, .msg_iovlen = 1 };
}

/* Follows n sent bytes through the greeting and the input; returns input bytes done. */
static size_t
conn_account(struct conn *c, const struct iovec *src, int nsrc, size_t n)
{
	size_t g = conn_greeting_left(c) < n ? conn_greeting_left(c) : n;
	size_t done = 0;

	c->greet_sent += g;
	n -= g;
	for (int i = 0; i < nsrc && n > 0; i++)
		done += prefix_advance(&c->prefix, &c->pstate, src[i].iov_base,
		    src[i].iov_len, &n);
	return done;
}

/* How a failed send or read ended: the client's side went away (a reset,
 * or its host stopped answering), or an error worth logging. */
static enum conn_end
conn_failure(int err)
{
	if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT || err == EHOSTUNREACH)
		return CONN_RESET;
	return CONN_ERROR;
}

/* sendmsg(), or send() for one piece: the kernel's cheaper path. */
static ssize_t
conn_sendv(int fd, const struct msghdr *msg)
{
	if (msg->msg_iovlen == 1)
		return send(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	return sendmsg(fd, msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * Sends the greeting's rest and as much of the echo of src as the socket
 * takes in one call. Returns the input bytes fully echoed, or -1 with
 * *why set. *blocked is set when the socket would not take all it was
 * offered.
 */
static long
conn_send(struct conn *c, const struct iovec *src, int nsrc, bool *blocked,
    enum conn_end *why, struct conn_io *io)
{
	struct conn_offer o;
	ssize_t n;

	if (c->prefix.len > 0)
		conn_offer_flat(c, src, nsrc, io, &o);
	else
		conn_offer_pieces(c, src, nsrc, io, &o);
	if (o.len == 0)
		return 0;
	do
		n = conn_sendv(c->fd, &o.msg);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		*blocked = errno == EAGAIN || errno == EWOULDBLOCK;
		if (*blocked)
			conn_learn_fit(c, 0, o.len, io->out_len);
		else
			*why = conn_failure(errno);
		if (*why == CONN_ERROR)
			log_err("send to conn %llu", (unsigned long long)c->id);
		return *blocked ? 0 : -1;
	}
	c->bytes_out += (uint64_t)n;
	io->turn_left -= (size_t)n < io->turn_left ? (size_t)n : io->turn_left;
	c->active_ms = io->now_ms;
	conn_learn_fit(c, (size_t)n, o.len, io->out_len);
	conn_io_count(&io->bytes_out, (uint64_t)n);
	if ((size_t)n == o.len) {
		c->greet_sent += o.greeting;
		c->pstate = o.plan;
		return (long)o.covered;
	}
	*blocked = true;
	return (long)conn_account(c, src, nsrc, (size_t)n);
}

/*
 * Echoes what the buffer holds until it is empty, the socket is full or
 * the turn is over. A socket found full is not tried again before epoll
 * says it has room.
 */
static enum conn_end
conn_flush(struct conn *c, struct conn_io *io)
{
	enum conn_end why = CONN_OPEN;
	bool blocked = c->send_full;

	while (conn_has_output(c) && !blocked && io->turn_left > 0) {
		struct iovec src[2];
		int nsrc = ring_data_iov(&c->in, src);
		long done = conn_send(c, src, nsrc, &blocked, &why, io);
		if (done < 0)
			return why;
		ring_consume(&c->in, (size_t)done);
	}
	return CONN_OPEN;
}

/* Echoes fresh input straight from the worker's scratch; keeps the rest. */
static enum conn_end
conn_echo_fresh(struct conn *c, char *data, size_t len, struct conn_io *io)
{
	enum conn_end why = CONN_OPEN;
	bool blocked = false;

	while (len > 0 && !blocked && io->turn_left > 0) {
		struct iovec src = { .iov_base = data, .iov_len = len };
		long done = conn_send(c, &src, 1, &blocked, &why, io);
		if (done < 0)
			return why;
		data += done;
		len -= (size_t)done;
	}
	if (len > 0 && ring_append(&c->in, data, len) < 0) {
		log_errx("conn %llu: out of memory for its buffer",
		    (unsigned long long)c->id);
		return CONN_ERROR;
	}
	return CONN_OPEN;
}

static enum conn_end
conn_read_failed(struct conn *c)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_OPEN;
	if (conn_failure(errno) == CONN_RESET)
		return CONN_RESET;
	log_err("read from conn %llu", (unsigned long long)c->id);
	return CONN_ERROR;
}

/* Reads once: into the scratch when nothing is pending, else into the buffer. */
static enum conn_end
conn_read(struct conn *c, struct conn_io *io)
{
	struct iovec iov[2];
	ssize_t n;
	bool direct = !conn_has_output(c);
	int cnt = 1;

	if (direct) {
		iov[0].iov_base = io->scratch;
		iov[0].iov_len = io->scratch_len < c->in.cap ? io->scratch_len : c->in.cap;
	} else if ((cnt = ring_space_iov(&c->in, iov)) <= 0) {
		return cnt < 0 ? CONN_ERROR : CONN_OPEN;
	}
	n = cnt == 1 ? recv(c->fd, iov[0].iov_base, iov[0].iov_len, 0)
	    : readv(c->fd, iov, cnt);
	if (n < 0)
		return conn_read_failed(c);
	if (n == 0) {
		c->read_eof = true;
		return CONN_OPEN;
	}
	c->bytes_in += (uint64_t)n;
	c->active_ms = io->now_ms;
	conn_io_count(&io->bytes_in, (uint64_t)n);
	if (direct)
		return conn_echo_fresh(c, io->scratch, (size_t)n, io);
	ring_commit(&c->in, (size_t)n);
	return conn_flush(c, io);
}

/* Watches for what the connection can use next: input room, output wait. */
static enum conn_end
conn_rearm(struct conn *c, int epfd)
{
	struct epoll_event ev = { .data.ptr = c };
	uint32_t want = 0;

	if (!c->read_eof && ring_space(&c->in) > 0)
		want |= EPOLLIN;
	if (conn_has_output(c))
		want |= EPOLLOUT;
	if (c->read_eof && !conn_has_output(c))
		return CONN_EOF;
	if (want == c->events)
		return CONN_OPEN;
	ev.events = want;
	if (epoll_ctl(epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		log_err("epoll_ctl for conn %llu", (unsigned long long)c->id);
		return CONN_ERROR;
	}
	c->events = want;
	return CONN_OPEN;
}

enum conn_end
conn_start(struct conn *c, struct conn_io *io)
{
	int on = 1;
	enum conn_end why;

	if (io->set_options) {
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		(void)setsockopt(c->fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
	}
	io->turn_left = CONN_TURN_BYTES;
	why = conn_flush(c, io);
	return why != CONN_OPEN ? why : conn_rearm(c, io->epfd);
}

enum conn_end
conn_handle(struct conn *c, uint32_t events, struct conn_io *io)
{
	enum conn_end why = CONN_OPEN;
	bool hangup = events & (EPOLLERR | EPOLLHUP);

	io->turn_left = CONN_TURN_BYTES;

	if ((events & EPOLLOUT) || hangup) {
		c->send_full = false;
		why = conn_flush(c, io);
	}
	if (why == CONN_OPEN && ((events & EPOLLIN) || hangup) &&
	    !c->read_eof && ring_space(&c->in) > 0)
		why = conn_read(c, io);
	return why != CONN_OPEN ? why : conn_rearm(c, io->epfd);
}

bool
conn_idle_expired(const struct conn *c, uint64_t now_ms)
{
	uint64_t limit = (uint64_t)c->cfg->idle_timeout * 1000;

	return limit > 0 && now_ms - c->active_ms >= limit;
}

static const char *
conn_end_name(enum conn_end why)
{
	switch (why) {
	case CONN_EOF: return "eof";
	case CONN_RESET: return "reset";
	case CONN_IDLE: return "idle timeout";
	case CONN_SHUTDOWN: return "shutdown";
	case CONN_ERROR: return "error";
	case CONN_LIMIT: return "limit";
	case CONN_OPEN: break;
	}
	return "open";
}

void
conn_log_end(int prio, const union addr *peer, uint64_t id, enum conn_end why,
    uint64_t ms, uint64_t bytes_in, uint64_t bytes_out, const char *more)
{
	char name[ADDR_STRLEN];

	addr_format(peer, name, sizeof(name));
	log_msg(prio, "disconnect %s (conn %llu): %s after %llu.%llu s, "
	    "%llu bytes in, %llu bytes out%s", name, (unsigned long long)id,
	    conn_end_name(why), (unsigned long long)(ms / 1000),
	    (unsigned long long)(ms % 1000 / 100),
	    (unsigned long long)bytes_in, (unsigned long long)bytes_out, more);
}

void
conn_close(struct conn *c, enum conn_end why, uint64_t now_ms)
{
	close_quietly(c->fd);
	if (c->cfg->log_connections)
		conn_log_end(LOG_INFO, &c->peer, c->id, why, now_ms - c->opened_ms,
		    c->bytes_in, c->bytes_out, "");
	ring_release(&c->in);
	free(c);
}
