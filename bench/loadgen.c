/*
 * loadgen.c: the benchmark's load generator: command line, the clock of a
 * run, the server's cost over the timed window, and the report.
 *
 * Owns: refusing any target that is not loopback, the bounds of a run
 * (time, connections, descriptors), moving the engine through its phases,
 * sampling the server's process tree (lg_proc.c) at the window's edges,
 * and printing one key=value line plus one line for people. Does not own
 * the connections (lg_engine.c) nor what a correct echo is (lg_verify.c).
 *
 * Exit status: 0 all verified; 1 a failure or an unverified byte; 2 usage;
 * 3 idle only: fewer connections than asked for, for lack of descriptors
 * in this process (all that were opened were verified).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lg_engine.h"
#include "lg_proc.h"

#define NS_PER_S        1000000000.0
#define FD_RESERVE      32              /* descriptors not for connections */
#define MAX_CONNS       1000000
#define MAX_SIZE        (1 << 20)
#define MAX_SECS        600.0

struct options {
	struct lg_config cfg;
	const char *addr;
	int port;
	double secs, warmup, grace;
	pid_t server;
	char *greeting, *prefix;
};

struct result {
	struct lg_stats st;
	double window_s, setup_s, lg_cpu_s;
	double sys_busy_s;          /* the whole machine's, over the window */
	double steal_s;             /* taken by the hypervisor, over the window */
	bool have_srv;
	struct proc_sample base, srv0, srv1;
	long wanted;                /* idle: connections asked for */
	long nofile;                /* idle: RLIMIT_NOFILE, if it capped the count */
};

static const char *const mode_names[] = { "pingpong", "connrate", "idle", "stream" };

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: loadgen -m pingpong|connrate|idle|stream -p port [options]\n"
	    "  -a addr     server address, loopback only (127.0.0.0/8, ::1); 127.0.0.1\n"
	    "  -c n        connections at once (idle: to open and hold)\n"
	    "  -s bytes    line size, newline included (16; stream 128)\n"
	    "  -d secs     timed window (idle: how long to hold) (3)\n"
	    "  -w secs     warm-up before the window (0.5)\n"
	    "  -t n        threads (1)\n"
	    "  -B n        spread source addresses over 127.0.0.1..n\n"
	    "  -N n        most connections opened in the run\n"
	    "  -k n        connections opened but not yet answered, per thread (32)\n"
	    "  -G secs     time allowed to connect, and to drain at the end (10)\n"
	    "  -g text     expected greeting (\\n \\r \\t \\\\ \\xHH escapes)\n"
	    "  -P text     expected line prefix (same escapes)\n"
	    "  -S pid      server's pid: measure its process tree\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

/* Decodes C-like escapes in place; returns the length. */
static size_t
unescape(char *s)
{
	char *out = s;
	const char *in = s;

	while (*in != '\0') {
		if (*in != '\\' || in[1] == '\0') {
			*out++ = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'n': *out++ = '\n'; in++; break;
		case 'r': *out++ = '\r'; in++; break;
		case 't': *out++ = '\t'; in++; break;
		case 'x': {
			char hex[3] = { in[1], in[1] ? in[2] : '\0', '\0' };
			*out++ = (char)strtol(hex, NULL, 16);
			in += 1 + strlen(hex);
			break;
		}
		default: *out++ = *in++; break;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

static long
parse_long(const char *s, long lo, long hi, char opt)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die_usage("-%c: want an integer from %ld to %ld, not \"%s\"", opt, lo, hi, s);
	return v;
}

static double
parse_secs(const char *s, double lo, char opt)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= lo && v <= MAX_SECS))
		die_usage("-%c: want seconds from %g to %g, not \"%s\"", opt, lo, MAX_SECS, s);
	return v;
}

static enum lg_mode
parse_mode(const char *s)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (enum lg_mode)i;
	die_usage("unknown mode \"%s\"", s);
}

/* Fills cfg->dst from addr and port; only loopback addresses pass. */
static void
parse_target(struct options *o)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&o->cfg.dst;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&o->cfg.dst;

	memset(&o->cfg.dst, 0, sizeof(o->cfg.dst));
	if (inet_pton(AF_INET, o->addr, &in4->sin_addr) == 1) {
		if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
			die_usage("%s is not in 127.0.0.0/8: only loopback is a target", o->addr);
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)o->port);
		o->cfg.dstlen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, o->addr, &in6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			die_usage("%s is not ::1: only loopback is a target", o->addr);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)o->port);
		o->cfg.dstlen = sizeof(*in6);
	} else {
		die_usage("\"%s\" is not a numeric IPv4 or IPv6 address", o->addr);
	}
}

static void
options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->addr = "127.0.0.1";
	o->secs = 3;
	o->warmup = 0.5;
	o->grace = 10;
	o->cfg.mode = (enum lg_mode)-1;
	o->cfg.threads = 1;
	o->cfg.sources = -1;
	o->cfg.max_connects = -1;
	o->cfg.window = 32;
	o->greeting = o->prefix = NULL;
}

/* Fills in what depends on the mode and was not given. */
static void
options_finish(struct options *o)
{
	struct lg_config *c = &o->cfg;

	if ((int)c->mode < 0 || o->port == 0)
		die_usage("-m and -p are required");
	if (c->conns == 0)
		c->conns = c->mode == MODE_IDLE ? 100 : c->mode == MODE_CONNRATE ? 16 : 1;
	if (c->size == 0)
		c->size = c->mode == MODE_STREAM ? 128 : 16;
	if (c->sources < 0)
		c->sources = c->mode == MODE_IDLE ? 1 + c->conns / 20000 : 0;
	if (c->max_connects < 0)
		c->max_connects = c->mode == MODE_CONNRATE ? 5000000 : c->conns;
	if (c->threads > c->conns)
		c->threads = c->conns;
	parse_target(o);
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	int ch;

	options_defaults(o);
	while ((ch = getopt(argc, argv, "m:a:p:c:s:d:w:t:B:N:k:G:g:P:S:h")) != -1) {
		switch (ch) {
		case 'm': o->cfg.mode = parse_mode(optarg); break;
		case 'a': o->addr = optarg; break;
		case 'p': o->port = (int)parse_long(optarg, 1, 65535, 'p'); break;
		case 'c': o->cfg.conns = (int)parse_long(optarg, 1, MAX_CONNS, 'c'); break;
		case 's': o->cfg.size = (size_t)parse_long(optarg, 1, MAX_SIZE, 's'); break;
		case 'd': o->secs = parse_secs(optarg, 0.1, 'd'); break;
		case 'w': o->warmup = parse_secs(optarg, 0, 'w'); break;
		case 't': o->cfg.threads = (int)parse_long(optarg, 1, 64, 't'); break;
		case 'B': o->cfg.sources = (int)parse_long(optarg, 0, 254, 'B'); break;
		case 'N': o->cfg.max_connects = parse_long(optarg, 1, 1000000000L, 'N'); break;
		case 'k': o->cfg.window = (int)parse_long(optarg, 1, 100000, 'k'); break;
		case 'G': o->grace = parse_secs(optarg, 0.1, 'G'); break;
		case 'g': o->greeting = optarg; break;
		case 'P': o->prefix = optarg; break;
		case 'S': o->server = (pid_t)parse_long(optarg, 1, 1L << 22, 'S'); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument \"%s\"", argv[optind]);
	options_finish(o);
}

/* Raises the descriptor limit as far as allowed; idle gets capped to fit. */
static void
fit_descriptors(struct options *o, struct result *r)
{
	struct rlimit rl;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	room = (long)rl.rlim_cur - FD_RESERVE - o->cfg.threads;
	r->wanted = o->cfg.conns;
	if (o->cfg.conns <= room)
		return;
	if (o->cfg.mode != MODE_IDLE) {
		fprintf(stderr, "loadgen: %d connections need more descriptors than "
		    "RLIMIT_NOFILE (%ld) allows\n", o->cfg.conns, (long)rl.rlim_cur);
		exit(2);
	}
	r->nofile = (long)rl.rlim_cur;
	o->cfg.conns = (int)room;
	o->cfg.max_connects = room;
	fprintf(stderr, "loadgen: holding %ld of %ld connections: RLIMIT_NOFILE is %ld "
	    "and cannot be raised here\n", room, r->wanted, (long)rl.rlim_cur);
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
	    .tv_nsec = (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static uint64_t
secs_ns(double s)
{
	return (uint64_t)(s * NS_PER_S);
}

/* Waits until *counter reaches want or the deadline passes. */
static void
wait_counter(const long *counter, long want, uint64_t deadline)
{
	while (engine_counter(counter) < want && lg_now_ns() < deadline)
		sleep_ns(5000000);
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void
sample_server(const struct options *o, struct result *r, struct proc_sample *s, bool mem)
{
	if (o->server > 0 && proc_sample_tree(o->server, mem, s) == 0)
		return;
	r->have_srv = false;
}

/* The server's memory now, into r->srv1. */
static void
sample_memory(const struct options *o, struct result *r)
{
	struct proc_sample m;

	sample_server(o, r, &m, true);
	r->srv1.rss_kib = m.rss_kib;
	r->srv1.pss_kib = m.pss_kib;
}

/* The server's CPU time and processes now, into r->srv1. */
static void
sample_cpu(const struct options *o, struct result *r)
{
	struct proc_sample c;

	sample_server(o, r, &c, false);
	r->srv1.cpu_s = c.cpu_s;
	r->srv1.procs = c.procs;
}

static void
sleep_until(uint64_t deadline)
{
	uint64_t now = lg_now_ns();

	if (now < deadline)
		sleep_ns(deadline - now);
}

/*
 * The timed window: CPU of the server, of this process and of the whole
 * machine at both edges; the server's memory half way through (idle: at
 * the end, before anything is sent again).
 */
static void
run_window(const struct options *o, struct lg_engine *e, struct result *r,
    enum lg_phase during)
{
	uint64_t t0, t1;
	double cpu0, busy0 = 0, steal0 = 0, busy1 = 0, steal1 = 0;

	sample_server(o, r, &r->srv0, false);
	cpu0 = self_cpu_s();
	(void)proc_system_cpu(&busy0, &steal0);
	t0 = lg_now_ns();
	engine_set_phase(e, during, 0);
	if (during == PH_MEASURE) {
		sleep_until(t0 + secs_ns(o->secs) / 2);
		sample_memory(o, r);
	}
	sleep_until(t0 + secs_ns(o->secs));
	t1 = lg_now_ns();
	/* Nothing after t1 counts, however long the sampling below takes
	 * (for a thousand forked processes, up to a second). */
	if (during == PH_MEASURE)
		engine_set_phase(e, PH_OVERTIME, 0);
	(void)proc_system_cpu(&busy1, &steal1);
	r->sys_busy_s = busy1 - busy0;
	r->steal_s = steal1 - steal0;
	r->lg_cpu_s = self_cpu_s() - cpu0;
	sample_cpu(o, r);
	if (during == PH_HOLD)
		sample_memory(o, r);
	r->window_s = (double)(t1 - t0) / NS_PER_S;
}

/* pingpong, stream, connrate: connect, warm up, measure, drain. */
static void
run_load(const struct options *o, struct lg_engine *e, struct result *r)
{
	uint64_t start = lg_now_ns();

	if (o->cfg.mode != MODE_CONNRATE)
		wait_counter(&e->sh.ready, o->cfg.conns, start + secs_ns(o->grace));
	r->setup_s = (double)(lg_now_ns() - start) / NS_PER_S;
	engine_set_phase(e, PH_WARMUP, 0);
	sleep_ns(secs_ns(o->warmup));
	run_window(o, e, r, PH_MEASURE);
	engine_set_phase(e, PH_DRAIN, lg_now_ns() + secs_ns(o->grace));
}

/* idle: open and verify all, hold (the window), verify all again. */
static void
run_idle(const struct options *o, struct lg_engine *e, struct result *r)
{
	uint64_t start = lg_now_ns();
	double setup_limit = o->grace + o->cfg.conns / 500.0;

	wait_counter(&e->sh.settled, e->nthreads, start + secs_ns(setup_limit));
	r->setup_s = (double)(lg_now_ns() - start) / NS_PER_S;
	engine_set_phase(e, PH_HOLD, 0);
	sleep_ns(200000000);        /* let the server settle before the window */
	run_window(o, e, r, PH_HOLD);
	engine_set_phase(e, PH_REVERIFY, lg_now_ns() + secs_ns(setup_limit));
	wait_counter(&e->sh.reverify_settled, e->nthreads,
	    lg_now_ns() + secs_ns(setup_limit + 1));
	engine_set_phase(e, PH_DONE, 0);
}

static double
per_s(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

static double
us(const struct hist *h, double q)
{
	return (double)hist_quantile(h, q) / 1000.0;
}

static bool
all_verified(const struct result *r)
{
	return r->st.failures == 0 && r->st.verified == r->st.sent;
}

static void
print_latency(const struct result *r)
{
	printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f", us(&r->st.lat, 0.5),
	    us(&r->st.lat, 0.99), us(&r->st.lat, 0.999));
}

static void
print_mode_keys(const struct options *o, const struct result *r)
{
	const struct lg_stats *s = &r->st;
	double w = r->window_s;

	switch (o->cfg.mode) {
	case MODE_PINGPONG:
		printf(" rt=%llu rt_per_s=%.0f", (unsigned long long)s->rounds, per_s(s->rounds, w));
		print_latency(r);
		break;
	case MODE_CONNRATE:
		printf(" conns_done=%llu conns_per_s=%.0f",
		    (unsigned long long)s->completed, per_s(s->completed, w));
		print_latency(r);
		break;
	case MODE_STREAM:
		printf(" mb_per_s=%.1f", per_s(s->win_bytes, w) / 1e6);
		break;
	case MODE_IDLE:
		printf(" wanted=%ld held=%llu reverified=%llu setup_s=%.2f open_per_s=%.0f"
		    " limited_by=%s", r->wanted, (unsigned long long)s->held,
		    (unsigned long long)s->reverified, r->setup_s,
		    per_s(s->held, r->setup_s), r->nofile ? "RLIMIT_NOFILE" : "none");
		break;
	}
}

static void
print_server_keys(const struct options *o, const struct result *r)
{
	const struct proc_sample *a = &r->srv0, *b = &r->srv1;
	uint64_t held = r->st.held ? r->st.held : 1;

	if (!r->have_srv) {
		printf(" srv_procs=na srv_cpu_pct=na srv_rss_kib=na srv_pss_kib=na");
		return;
	}
	printf(" srv_procs=%d srv_cpu_pct=%.0f srv_rss_kib=%llu srv_pss_kib=%llu",
	    b->procs, 100.0 * (b->cpu_s - a->cpu_s) / r->window_s,
	    (unsigned long long)b->rss_kib, (unsigned long long)b->pss_kib);
	if (o->cfg.mode != MODE_IDLE)
		return;
	printf(" srv_base_pss_kib=%llu pss_per_conn_b=%.0f rss_per_conn_b=%.0f",
	    (unsigned long long)r->base.pss_kib,
	    ((double)b->pss_kib - (double)r->base.pss_kib) * 1024.0 / (double)held,
	    ((double)b->rss_kib - (double)r->base.rss_kib) * 1024.0 / (double)held);
}

/*
 * The machine's CPU over the window (100 = one core), and what of it was
 * neither the server's nor this process's: other work that skews the run.
 */
static void
print_machine_keys(const struct result *r)
{
	double busy = 100.0 * r->sys_busy_s / r->window_s;

	printf(" sys_cpu_pct=%.0f steal_pct=%.0f", busy, 100.0 * r->steal_s / r->window_s);
	if (r->have_srv)
		printf(" other_cpu_pct=%.0f", busy - 100.0 *
		    (r->srv1.cpu_s - r->srv0.cpu_s + r->lg_cpu_s) / r->window_s);
	else
		printf(" other_cpu_pct=na");
}

static void
print_machine_line(const struct options *o, const struct result *r)
{
	const struct lg_stats *s = &r->st;

	printf("mode=%s addr=%s port=%d conns=%d size=%zu threads=%d secs=%.3f",
	    mode_names[o->cfg.mode], o->addr, o->port, o->cfg.conns, o->cfg.size,
	    o->cfg.threads, r->window_s);
	print_mode_keys(o, r);
	printf(" connects=%llu failures=%llu sent_bytes=%llu verified_bytes=%llu"
	    " all_verified=%d", (unsigned long long)s->connects,
	    (unsigned long long)s->failures, (unsigned long long)s->sent,
	    (unsigned long long)s->verified, all_verified(r));
	print_server_keys(o, r);
	printf(" lg_cpu_pct=%.0f", 100.0 * r->lg_cpu_s / r->window_s);
	print_machine_keys(r);
	printf("\n");
}

static void
print_human_line(const struct options *o, const struct result *r)
{
	const struct lg_stats *s = &r->st;
	double w = r->window_s;

	printf("# %s, %d conns x %zu B, %.2f s: ", mode_names[o->cfg.mode],
	    o->cfg.conns, o->cfg.size, w);
	if (o->cfg.mode == MODE_PINGPONG || o->cfg.mode == MODE_CONNRATE)
		printf("%.0f %s/s, p50 %.1f us, p99 %.1f us, p99.9 %.1f us; ",
		    per_s(o->cfg.mode == MODE_PINGPONG ? s->rounds : s->completed, w),
		    o->cfg.mode == MODE_PINGPONG ? "round trips" : "connections",
		    us(&s->lat, 0.5), us(&s->lat, 0.99), us(&s->lat, 0.999));
	else if (o->cfg.mode == MODE_STREAM)
		printf("%.1f MB/s echoed; ", per_s(s->win_bytes, w) / 1e6);
	else
		printf("%llu of %ld held (%.1f s to open), %llu verified again; ",
		    (unsigned long long)s->held, r->wanted, r->setup_s,
		    (unsigned long long)s->reverified);
	printf("%llu failures; %s", (unsigned long long)s->failures,
	    all_verified(r) ? "every byte verified" : "NOT all bytes verified");
	if (r->have_srv)
		printf("; server: %d procs, %.0f%% CPU, RSS %.1f MiB, PSS %.1f MiB",
		    r->srv1.procs, 100.0 * (r->srv1.cpu_s - r->srv0.cpu_s) / w,
		    (double)r->srv1.rss_kib / 1024.0, (double)r->srv1.pss_kib / 1024.0);
	printf("\n");
}

/* Whether the run did what it was asked: work done, nothing unverified. */
static int
exit_status(const struct options *o, const struct result *r)
{
	const struct lg_stats *s = &r->st;
	bool worked = o->cfg.mode == MODE_PINGPONG ? s->rounds > 0 :
	    o->cfg.mode == MODE_CONNRATE ? s->completed > 0 :
	    o->cfg.mode == MODE_STREAM ? s->win_bytes > 0 :
	    s->held > 0 && s->reverified == s->held;

	if (s->error[0] != '\0')
		fprintf(stderr, "loadgen: first failure: %s\n", s->error);
	if (!worked || !all_verified(r)) {
		if (!worked)
			fprintf(stderr, "loadgen: the run did no verified work\n");
		return 1;
	}
	return r->nofile ? 3 : 0;
}

/* Builds the pattern and the expected greeting and prefix. */
static void
prepare_expect(struct options *o, struct pattern *pat)
{
	struct expect *ex = &o->cfg.ex;

	if (pattern_init(pat, o->cfg.size) < 0) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(2);
	}
	ex->pat = pat;
	ex->greeting = o->greeting ? o->greeting : "";
	ex->greeting_len = o->greeting ? unescape(o->greeting) : 0;
	ex->prefix = o->prefix ? o->prefix : "";
	ex->prefix_len = o->prefix ? unescape(o->prefix) : 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct result r = { .have_srv = true };
	struct lg_engine e;
	struct pattern pat;

	parse_options(argc, argv, &o);
	fit_descriptors(&o, &r);
	prepare_expect(&o, &pat);
	/* A hard stop in case anything hangs: the run is bounded whatever happens. */
	alarm((unsigned)(3 * o.grace + o.warmup + o.secs + 3 * o.cfg.conns / 500 + 30));
	sample_server(&o, &r, &r.base, o.cfg.mode == MODE_IDLE);
	if (engine_start(&e, &o.cfg) < 0)
		return 1;
	if (o.cfg.mode == MODE_IDLE)
		run_idle(&o, &e, &r);
	else
		run_load(&o, &e, &r);
	engine_join(&e, &r.st);
	print_machine_line(&o, &r);
	print_human_line(&o, &r);
	pattern_free(&pat);
	return exit_status(&o, &r);
}
