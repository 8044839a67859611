/*
 * floor.c: the benchmark's floor: the simplest fast echo server the kernel
 * allows, as the physical limit of this machine for the benchmark's
 * ratios. Not a product: no greeting, no prefix, no logging, no limits, no
 * configuration, no graceful stop (SIGTERM just ends it).
 *
 * Owns: one thread per core, each with its own SO_REUSEPORT listener and
 * one epoll loop over the connections it accepted. A read is written
 * straight back; only what the socket did not take is kept (per
 * descriptor), and the connection is not read again until that is gone,
 * which is the whole of its backpressure. Out of descriptors, a thread
 * stops accepting for 100 ms rather than spin.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOR_EVENTS    256
#define FLOOR_BUF       65536
#define FLOOR_BACKLOG   4096
#define PAUSE_MS        100

/* Bytes a connection still owes its client. */
struct owed {
	char *buf;
	size_t off, len;
};

struct floor_thread {
	pthread_t thread;
	int lfd, epfd;
	int paused_ms;              /* epoll timeout while not accepting, or -1 */
	struct owed *owed;          /* indexed by descriptor */
	size_t owed_cap;
	char buf[FLOOR_BUF];
};

static void
die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
floor_listen(const struct sockaddr_in *addr)
{
	int on = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
		die("setsockopt");
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("bind");
	if (listen(fd, FLOOR_BACKLOG) < 0)
		die("listen");
	return fd;
}

static void
watch(struct floor_thread *t, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(t->epfd, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL)
		die("epoll_ctl");
}

/* The owed slot for fd, growing the table as needed. */
static struct owed *
owed_slot(struct floor_thread *t, int fd)
{
	if ((size_t)fd >= t->owed_cap) {
		size_t cap = t->owed_cap ? t->owed_cap : 1024;
		while (cap <= (size_t)fd)
			cap *= 2;
		struct owed *o = realloc(t->owed, cap * sizeof(*o));
		if (o == NULL)
			die("realloc");
		memset(o + t->owed_cap, 0, (cap - t->owed_cap) * sizeof(*o));
		t->owed = o;
		t->owed_cap = cap;
	}
	return &t->owed[fd];
}

static void
conn_close(struct floor_thread *t, int fd)
{
	struct owed *o = owed_slot(t, fd);

	free(o->buf);
	memset(o, 0, sizeof(*o));
	close(fd);
}

/* Keeps buf[0..len) to send later and stops reading fd until it is sent. */
static void
conn_owe(struct floor_thread *t, int fd, const char *buf, size_t len)
{
	struct owed *o = owed_slot(t, fd);

	if ((o->buf = malloc(len)) == NULL)
		die("malloc");
	memcpy(o->buf, buf, len);
	o->off = 0;
	o->len = len;
	watch(t, EPOLL_CTL_MOD, fd, EPOLLOUT);
}

/* Sends what fd owes; returns -1 if the connection is gone. */
static int
conn_pay(struct floor_thread *t, int fd)
{
	struct owed *o = owed_slot(t, fd);
	ssize_t n = send(fd, o->buf + o->off, o->len - o->off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	o->off += (size_t)n;
	if (o->off < o->len)
		return 0;
	free(o->buf);
	memset(o, 0, sizeof(*o));
	watch(t, EPOLL_CTL_MOD, fd, EPOLLIN);
	return 0;
}

/* Reads once and writes it straight back; returns -1 to close. */
static int
conn_echo(struct floor_thread *t, int fd)
{
	ssize_t n = recv(fd, t->buf, sizeof(t->buf), MSG_DONTWAIT);
	ssize_t w;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n < 0)
		return 0;
	w = send(fd, t->buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	if (w < 0)
		w = 0;
	if (w < n)
		conn_owe(t, fd, t->buf + w, (size_t)(n - w));
	return 0;
}

static void
floor_accept(struct floor_thread *t)
{
	int on = 1;

	for (;;) {
		int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
			    errno == ENOBUFS) {
				watch(t, EPOLL_CTL_DEL, t->lfd, 0);
				t->paused_ms = PAUSE_MS;
			}
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		watch(t, EPOLL_CTL_ADD, fd, EPOLLIN);
	}
}

static void
floor_event(struct floor_thread *t, const struct epoll_event *ev)
{
	int fd = ev->data.fd;
	int r;

	if (fd == t->lfd) {
		floor_accept(t);
		return;
	}
	if (owed_slot(t, fd)->len > 0)
		r = conn_pay(t, fd);
	else
		r = conn_echo(t, fd);
	if (r < 0)
		conn_close(t, fd);
}

static void *
floor_main(void *arg)
{
	struct floor_thread *t = arg;
	struct epoll_event evs[FLOOR_EVENTS];

	if ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	t->paused_ms = -1;
	watch(t, EPOLL_CTL_ADD, t->lfd, EPOLLIN);
	for (;;) {
		int n = epoll_wait(t->epfd, evs, FLOOR_EVENTS, t->paused_ms);
		if (n == 0 && t->paused_ms >= 0) {
			t->paused_ms = -1;
			watch(t, EPOLL_CTL_ADD, t->lfd, EPOLLIN);
		}
		for (int i = 0; i < n; i++)
			floor_event(t, &evs[i]);
	}
	return NULL;
}

static void
parse_args(int argc, char **argv, struct sockaddr_in *addr, long *threads)
{
	int ch;

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*threads = sysconf(_SC_NPROCESSORS_ONLN);
	while ((ch = getopt(argc, argv, "a:p:t:")) != -1) {
		switch (ch) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &addr->sin_addr) != 1 ||
			    (ntohl(addr->sin_addr.s_addr) >> 24) != 127) {
				fprintf(stderr, "floor: -a wants an address in 127.0.0.0/8\n");
				exit(2);
			}
			break;
		case 'p': addr->sin_port = htons((uint16_t)atoi(optarg)); break;
		case 't': *threads = atol(optarg); break;
		default:
			fprintf(stderr, "usage: floor -p port [-a 127.x.y.z] [-t threads]\n");
			exit(2);
		}
	}
	if (addr->sin_port == 0 || *threads < 1 || *threads > 256) {
		fprintf(stderr, "usage: floor -p port [-a 127.x.y.z] [-t threads]\n");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in addr;
	struct floor_thread *ts;
	struct rlimit rl;
	long n;

	parse_args(argc, argv, &addr, &n);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((ts = calloc((size_t)n, sizeof(*ts))) == NULL)
		die("calloc");
	for (long i = 0; i < n; i++)
		ts[i].lfd = floor_listen(&addr);
	for (long i = 0; i < n; i++)
		if ((errno = pthread_create(&ts[i].thread, NULL, floor_main, &ts[i])) != 0)
			die("pthread_create");
	pthread_join(ts[0].thread, NULL);
	return 0;
}
