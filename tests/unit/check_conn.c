/*
 * check_conn.c: unit tests of one connection (conn.c) over a real TCP
 * connection on loopback: the echo a client gets back, byte for byte,
 * however it reads, and the work echod does for a client that reads
 * slowly.
 *
 * The test plays both the worker (calling conn_handle() as epoll would)
 * and the client (writing lines, reading the echo a little at a time).
 * The randomized case draws greeting, prefix, buffer and socket sizes
 * and splits every write and read anew, from a fixed seed per run. A
 * client that reads its echo as fast as echod sends it gets it a turn at
 * a time.
 */
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

#define SCRATCH_LEN 65536
#define OUT_LEN     131072
#define INPUT_LEN   (512 * 1024)

/* A loopback TCP connection: srv is echod's end (non-blocking), cli the client's. */
struct pair {
	int srv, cli;
};

static void
pair_open(struct pair *p, int srv_sndbuf, int cli_rcvbuf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int on = 1;

	ck_assert_int_ge(lfd, 0);
	/* As echod's listeners: the connection inherits them (see conn_start). */
	ck_assert_int_eq(setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)), 0);
	ck_assert_int_eq(setsockopt(lfd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on)), 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	p->cli = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(p->cli, 0);
	if (cli_rcvbuf > 0)
		ck_assert_int_eq(setsockopt(p->cli, SOL_SOCKET, SO_RCVBUF,
		    &cli_rcvbuf, sizeof(cli_rcvbuf)), 0);
	(void)connect(p->cli, (struct sockaddr *)&sin, sizeof(sin));
	p->srv = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(p->srv, 0);
	if (srv_sndbuf > 0)
		ck_assert_int_eq(setsockopt(p->srv, SOL_SOCKET, SO_SNDBUF,
		    &srv_sndbuf, sizeof(srv_sndbuf)), 0);
	close(lfd);
}

/* A fixed-seed generator: the same draws on every run of the suite. */
static size_t
draw(uint64_t *rng, size_t n)
{
	*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)((*rng >> 33) % n);
}

/*
 * How the client splits its writes and reads: at most write_max and
 * read_max bytes a call, or, with a generator, a fresh draw every call
 * (often small, sometimes tens of KiB).
 */
struct split {
	size_t write_max, read_max;
	uint64_t *rng;                  /* NULL: the fixed sizes */
};

static size_t
split_size(struct split *sp, size_t fixed)
{
	if (sp->rng == NULL)
		return fixed;
	return 1 + draw(sp->rng, draw(sp->rng, 2) ? 100 : 70000);
}

/* Lines of varied length, some empty, the last one unterminated. */
static char *
make_input(size_t len)
{
	char *in = malloc(len);
	unsigned seed = 7;

	ck_assert_ptr_nonnull(in);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		in[i] = (seed >> 16) % 61 == 0 ? '\n' : (char)('a' + (seed >> 16) % 26);
	}
	return in;
}

/* What a client must get: the greeting, then the prefix before every line. */
static size_t
reference(const struct config *cfg, const char *in, size_t len, char *out)
{
	size_t o = cfg->greeting_len;
	int line_start = 1;

	memcpy(out, cfg->greeting, o);
	for (size_t i = 0; i < len; i++) {
		if (line_start) {
			memcpy(out + o, cfg->reply_prefix, cfg->reply_prefix_len);
			o += cfg->reply_prefix_len;
		}
		out[o++] = in[i];
		line_start = in[i] == '\n';
	}
	return o;
}

struct run {
	struct conn_io io;
	char *scratch, *outbuf;
	char *got;
	size_t got_len;
};

/*
 * Echoes in through one connection: the client writes as much as the
 * socket takes and reads at most read_max bytes between two rounds of
 * events; the worker handles what epoll reports, as a worker does.
 */
static void
run_echo(struct config *cfg, const char *in, size_t len, struct split *sp,
    struct pair *p, struct run *r, size_t want_len)
{
	union addr peer = { 0 };
	struct conn *c;
	size_t written = 0;
	bool closed = false;

	r->scratch = malloc(SCRATCH_LEN);
	r->outbuf = malloc(OUT_LEN);
	r->got = malloc(want_len + 1);
	r->got_len = 0;
	memset(&r->io, 0, sizeof(r->io));
	r->io.epfd = epoll_create1(0);
	r->io.scratch = r->scratch;
	r->io.scratch_len = SCRATCH_LEN;
	r->io.out = r->outbuf;
	r->io.out_len = OUT_LEN;
	c = conn_new(p->srv, &peer, cfg, 1, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conn_start(c, &r->io), CONN_OPEN);
	for (int round = 0; r->got_len < want_len; round++) {
		ck_assert_int_lt(round, 10000000);
		if (written < len) {
			size_t k = split_size(sp, sp->write_max);
			ssize_t n = write(p->cli, in + written,
			    k < len - written ? k : len - written);
			if (n > 0)
				written += (size_t)n;
		} else if (!closed) {
			ck_assert_int_eq(shutdown(p->cli, SHUT_WR), 0);
			closed = true;
		}
		size_t read_max = split_size(sp, sp->read_max);
		size_t room = want_len - r->got_len < read_max ? want_len - r->got_len : read_max;
		ssize_t n = read(p->cli, r->got + r->got_len, room);
		if (n > 0)
			r->got_len += (size_t)n;
		struct epoll_event ev;
		if (epoll_wait(r->io.epfd, &ev, 1, 0) != 1)
			continue;
		ck_assert_ptr_eq(ev.data.ptr, c);
		enum conn_end why = conn_handle(c, ev.events, &r->io);
		if (why != CONN_OPEN) {
			ck_assert_int_eq(why, CONN_EOF);
			conn_close(c, why, 0);
			c = NULL;
			p->srv = -1;
			break;
		}
	}
	ck_assert_int_eq(fcntl(p->cli, F_SETFL, 0), 0);   /* the rest: wait for it */
	while (r->got_len < want_len) {
		ssize_t n = read(p->cli, r->got + r->got_len, want_len - r->got_len);
		ck_assert_int_gt(n, 0);
		r->got_len += (size_t)n;
	}
	if (!closed)
		ck_assert_int_eq(shutdown(p->cli, SHUT_WR), 0);
	/* All echoed: the client's half-close must end the connection. */
	for (int round = 0; c != NULL; round++) {
		struct epoll_event ev;
		enum conn_end why;
		ck_assert_int_lt(round, 1000);
		ck_assert_int_eq(epoll_wait(r->io.epfd, &ev, 1, 1000), 1);
		why = conn_handle(c, ev.events, &r->io);
		if (why == CONN_OPEN)
			continue;
		ck_assert_int_eq(why, CONN_EOF);
		conn_close(c, why, 0);
		c = NULL;
		p->srv = -1;
	}
	close(r->io.epfd);
	close(p->cli);
}

static void
run_free(struct run *r)
{
	free(r->scratch);
	free(r->outbuf);
	free(r->got);
}

/* Echoes INPUT_LEN bytes with the given prefix/greeting and read size. */
static void
check_echo(const char *greeting, const char *prefix, size_t read_max,
    int srv_sndbuf, int cli_rcvbuf, struct run *r)
{
	struct config *cfg = config_defaults();
	char *in = make_input(INPUT_LEN);
	char *want = malloc(INPUT_LEN * 2 + 8192);
	size_t want_len;
	struct pair p;
	struct split sp = { .write_max = SIZE_MAX, .read_max = read_max };

	ck_assert_ptr_nonnull(cfg);
	cfg->log_connections = false;
	free(cfg->greeting);
	free(cfg->reply_prefix);
	cfg->greeting = strdup(greeting);
	cfg->greeting_len = strlen(greeting);
	cfg->reply_prefix = strdup(prefix);
	cfg->reply_prefix_len = strlen(prefix);
	want_len = reference(cfg, in, INPUT_LEN, want);
	pair_open(&p, srv_sndbuf, cli_rcvbuf);
	run_echo(cfg, in, INPUT_LEN, &sp, &p, r, want_len);
	ck_assert_uint_eq(r->got_len, want_len);
	ck_assert_mem_eq(r->got, want, want_len);
	ck_assert_uint_eq(r->io.bytes_in, INPUT_LEN);
	ck_assert_uint_eq(r->io.bytes_out, want_len);
	free(in);
	free(want);
	config_unref(cfg);
}

START_TEST(seed_echo_is_exact_for_a_fast_reader)
{
	struct run r;

	check_echo("Welcome\n", "OK...", SIZE_MAX, 0, 0, &r);
	run_free(&r);
}
END_TEST

START_TEST(rfc862_echo_is_exact_for_a_slow_reader)
{
	struct run r;

	check_echo("", "", 1000, 8192, 8192, &r);
	run_free(&r);
}
END_TEST

/*
 * A client that reads 1,000 bytes at a time through small socket buffers:
 * the echo is still exact, and echod renders little more of it than the
 * socket takes, instead of a full output buffer every time it may send.
 */
START_TEST(seed_echo_to_a_slow_reader_renders_what_it_sends)
{
	struct run r;

	check_echo("Welcome\n", "OK...", 1000, 8192, 8192, &r);
	ck_assert_uint_le(r.io.rendered, 3 * r.io.bytes_out);
	run_free(&r);
}
END_TEST

/* A string of len bytes of c, for a drawn greeting or prefix. */
static char *
filled(size_t len, char first, int span)
{
	char *s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)(first + (int)(i % (size_t)span));
	s[len] = '\0';
	return s;
}

/* A config with a drawn greeting (up to 8 KiB), prefix (none, short or
 * up to 1 KiB) and buffer size. */
static struct config *
drawn_config(uint64_t *rng)
{
	static const size_t buffers[] = { 1024, 1500, 4096, 65536, 200000 };
	struct config *cfg = config_defaults();

	ck_assert_ptr_nonnull(cfg);
	cfg->log_connections = false;
	cfg->greeting_len = draw(rng, 4) == 0 ? draw(rng, 8193) : draw(rng, 20);
	cfg->reply_prefix_len = draw(rng, 3) == 0 ? 0 :
	    draw(rng, 4) == 0 ? 1 + draw(rng, 1024) : 1 + draw(rng, 8);
	free(cfg->greeting);
	free(cfg->reply_prefix);
	cfg->greeting = filled(cfg->greeting_len, 'G', 1);
	cfg->reply_prefix = filled(cfg->reply_prefix_len, 'A', 26);
	cfg->buffer_size = buffers[draw(rng, 5)];
	return cfg;
}

/*
 * Whatever the sizes and however client and kernel split the bytes, the
 * client gets back exactly the greeting and its input with the prefix
 * before every line, and the connection ends with its half-close.
 */
START_TEST(echo_is_exact_however_it_is_split)
{
	static const int bufs[] = { 0, 4608, 8192, 20000 };
	uint64_t rng = (uint64_t)_i * 7919 + 1;
	struct config *cfg = drawn_config(&rng);
	size_t len = 1 + draw(&rng, cfg->reply_prefix_len > 16 ? 60000 : 300000);
	size_t newline_one_in = 1 + draw(&rng, 200);
	char *in = malloc(len);
	char *want = malloc(cfg->greeting_len + len * (cfg->reply_prefix_len + 1));
	struct split sp = { .rng = &rng };
	size_t want_len;
	struct pair p;
	struct run r;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(want);
	for (size_t i = 0; i < len; i++)
		in[i] = draw(&rng, newline_one_in) == 0 ? '\n' : (char)('a' + draw(&rng, 26));
	want_len = reference(cfg, in, len, want);
	pair_open(&p, bufs[draw(&rng, 4)], bufs[draw(&rng, 4)]);
	run_echo(cfg, in, len, &sp, &p, &r, want_len);
	ck_assert_uint_eq(r.got_len, want_len);
	ck_assert_mem_eq(r.got, want, want_len);
	run_free(&r);
	free(in);
	free(want);
	config_unref(cfg);
}
END_TEST

/* A client that reads its echo as fast as it comes, in its own thread. */
struct reader {
	pthread_t thread;
	int fd;                     /* blocking */
	char *got;
	size_t want, got_len;
};

static void *
reader_run(void *arg)
{
	struct reader *rd = arg;

	while (rd->got_len < rd->want) {
		ssize_t n = read(rd->fd, rd->got + rd->got_len, rd->want - rd->got_len);
		if (n <= 0)
			break;
		rd->got_len += (size_t)n;
	}
	return NULL;
}

/*
 * Empty lines under a 1 KiB prefix, to a client that reads as fast as
 * echod sends: 16 KiB of input is 16 MiB of echo, and the socket is never
 * full for long. Each call of conn_handle still sends at most a turn's
 * worth (and one send more) before the worker's other connections get
 * theirs; the echo is exact.
 */
START_TEST(a_fast_reader_gets_its_echo_a_turn_at_a_time)
{
	enum { LINES = 16384, PREFIX = 1024 };
	struct config *cfg = config_defaults();
	char *in = malloc(LINES);
	char *want = malloc((size_t)LINES * (PREFIX + 1));
	struct reader rd = { .got = malloc((size_t)LINES * (PREFIX + 1)) };
	union addr peer = { 0 };
	struct pair p;
	struct run r = { 0 };
	struct conn *c;
	int turns = 0;

	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(rd.got);
	cfg->log_connections = false;
	free(cfg->greeting);
	free(cfg->reply_prefix);
	cfg->greeting = strdup("");
	cfg->greeting_len = 0;
	cfg->reply_prefix = filled(PREFIX, 'a', 26);
	cfg->reply_prefix_len = PREFIX;
	memset(in, '\n', LINES);
	rd.want = reference(cfg, in, LINES, want);
	pair_open(&p, 0, 0);
	ck_assert_int_eq(fcntl(p.cli, F_SETFL, 0), 0);
	ck_assert_int_eq(write(p.cli, in, LINES), LINES);
	rd.fd = p.cli;
	ck_assert_int_eq(pthread_create(&rd.thread, NULL, reader_run, &rd), 0);
	r.scratch = malloc(SCRATCH_LEN);
	r.outbuf = malloc(OUT_LEN);
	r.io.epfd = epoll_create1(0);
	r.io.scratch = r.scratch;
	r.io.scratch_len = SCRATCH_LEN;
	r.io.out = r.outbuf;
	r.io.out_len = OUT_LEN;
	c = conn_new(p.srv, &peer, cfg, 1, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(conn_start(c, &r.io), CONN_OPEN);
	while (r.io.bytes_out < rd.want) {
		struct epoll_event ev;
		uint64_t before = r.io.bytes_out;
		ck_assert_int_eq(epoll_wait(r.io.epfd, &ev, 1, 5000), 1);
		ck_assert_int_eq(conn_handle(c, ev.events, &r.io), CONN_OPEN);
		ck_assert_uint_le(r.io.bytes_out - before, CONN_TURN_BYTES + OUT_LEN);
		turns++;
	}
	ck_assert_int_eq(pthread_join(rd.thread, NULL), 0);
	ck_assert_uint_eq(rd.got_len, rd.want);
	ck_assert_mem_eq(rd.got, want, rd.want);
	ck_assert_int_ge(turns, (int)(rd.want / (CONN_TURN_BYTES + OUT_LEN)));
	conn_close(c, CONN_EOF, 0);
	close(r.io.epfd);
	close(p.cli);
	run_free(&r);
	free(rd.got);
	free(in);
	free(want);
	config_unref(cfg);
}
END_TEST

static Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, seed_echo_is_exact_for_a_fast_reader);
	tcase_add_test(tc, rfc862_echo_is_exact_for_a_slow_reader);
	tcase_add_test(tc, seed_echo_to_a_slow_reader_renders_what_it_sends);
	tcase_add_test(tc, a_fast_reader_gets_its_echo_a_turn_at_a_time);
	suite_add_tcase(s, tc);
	tc = tcase_create("random splits");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, echo_is_exact_however_it_is_split, 0, 100);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conn_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
