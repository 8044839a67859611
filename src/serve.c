/*
 * serve.c: the worker process (see serve.h and doc/processes.md).
 *
 * Owns the worker process's main thread: it starts the logger thread and
 * the worker pool, turns the signals the master sends into a drain or a
 * fast stop, and sends the master a heartbeat with live counters. The
 * serving itself is worker.c's; the supervision is master.c's.
 */
#include "serve.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"
#include "sysutil.h"
#include "worker.h"

#define SERVE_BEAT_MS 1000          /* the heartbeat's period */
#define SERVE_DRAIN_POLL_MS 100     /* how often a drain checks the pool */

struct serve {
	struct config *cfg;
	struct listeners *ls;
	struct server srv;
	struct worker_pool pool;
	int status_fd;
	sigset_t signals;
};

static void
serve_signals(struct serve *s)
{
	sigemptyset(&s->signals);
	sigaddset(&s->signals, SIGTERM);
	sigaddset(&s->signals, SIGINT);
	sigaddset(&s->signals, SIGQUIT);
	sigaddset(&s->signals, SIGUSR1);
	sigaddset(&s->signals, SIGUSR2);
	sigaddset(&s->signals, SIGHUP);
	sigaddset(&s->signals, SERVE_MASTER_GONE_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &s->signals, NULL);
}

/* Tells the master something; false once the master is gone. */
static bool
serve_report(struct serve *s, uint32_t type)
{
	struct serve_msg msg = {
		.type = type,
		.threads = (uint32_t)s->pool.count,
		.open = __atomic_load_n(&s->srv.open, __ATOMIC_RELAXED),
		.accepted = __atomic_load_n(&s->srv.accepted, __ATOMIC_RELAXED),
		.refused = __atomic_load_n(&s->srv.refused, __ATOMIC_RELAXED),
		.log_dropped = log_dropped_total(),
	};
	ssize_t n;

	if (s->status_fd < 0)
		return true;
	do
		n = write(s->status_fd, &msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	return n >= 0 || errno == EAGAIN;
}

static void
serve_log_stats(struct serve *s)
{
	uint64_t in, out;

	worker_pool_bytes(&s->pool, &in, &out);
	log_notice("stats: %ld connections open, %llu accepted, %llu refused "
	    "(max_connections), %llu bytes in, %llu bytes out, %lu log messages "
	    "dropped",
	    __atomic_load_n(&s->srv.open, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&s->srv.accepted, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&s->srv.refused, __ATOMIC_RELAXED),
	    (unsigned long long)in, (unsigned long long)out, log_dropped_total());
}

/*
 * Sends the heartbeat once it is due (every SERVE_BEAT_MS, however many
 * signals come meanwhile); false once the master is gone.
 */
static bool
serve_beat(struct serve *s, uint64_t *due_ms)
{
	uint64_t now = now_ms();

	if (now < *due_ms)
		return true;
	*due_ms = now + SERVE_BEAT_MS;
	return serve_report(s, SERVE_STATS);
}

/* Waits for a signal until due_ms at most; the signal, or -1. */
static int
serve_wait_signal(struct serve *s, uint64_t due_ms)
{
	uint64_t now = now_ms(), left = due_ms > now ? due_ms - now : 0;
	struct timespec wait = { .tv_sec = (time_t)(left / 1000),
	    .tv_nsec = (long)(left % 1000) * 1000000L };

	return sigtimedwait(&s->signals, NULL, &wait);
}

/* Serves signals and heartbeats; returns the signal that says stop. */
static int
serve_wait_for_stop(struct serve *s)
{
	uint64_t due_ms = now_ms() + SERVE_BEAT_MS;

	for (;;) {
		int sig = serve_wait_signal(s, due_ms);

		if (sig == SIGUSR1)
			serve_log_stats(s);
		else if (sig == SERVE_MASTER_GONE_SIGNAL)
			return 0;
		else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT || sig == SIGUSR2)
			return sig;
		if (!serve_beat(s, &due_ms))
			return 0;       /* the master is gone */
	}
}

static void
serve_log_stop(struct serve *s, int sig)
{
	long open = __atomic_load_n(&s->srv.open, __ATOMIC_RELAXED);
	int timeout = sig == SIGQUIT ? 0 : s->cfg->shutdown_timeout;

	if (sig == SIGUSR2)
		log_notice("worker retiring after a reload (%ld connections open, "
		    "waiting up to %d s)", open, timeout);
	else if (sig == 0)
		log_errx("the master process is gone: stopping (%ld connections "
		    "open, waiting up to %d s)", open, timeout);
	else
		log_notice("stopping on SIG%s (%ld connections open, waiting up "
		    "to %d s)", sigabbrev_np(sig), open, timeout);
}

/*
 * Stops accepting, lets go of the listeners, waits for the pool to drain;
 * the heartbeat goes on, so that the master's count of open connections
 * follows the drain.
 */
static void
serve_stop(struct serve *s, int sig)
{
	uint64_t due_ms = now_ms() + SERVE_BEAT_MS;
	uint64_t timeout_ms = sig == SIGQUIT ? 0 : (uint64_t)s->cfg->shutdown_timeout * 1000;

	serve_log_stop(s, sig);
	worker_pool_stop(&s->pool, now_ms() + timeout_ms);
	listeners_close(s->ls);
	serve_report(s, SERVE_RETIRED);
	/*
	 * Only SIGQUIT cuts the drain short: the master sends it on a second
	 * SIGTERM. Another SIGTERM is no hurry: systemd sends one to every
	 * process of the unit, the master's own then arrives too.
	 */
	while (!worker_pool_finished(&s->pool)) {
		uint64_t poll_ms = now_ms() + SERVE_DRAIN_POLL_MS;
		if (serve_wait_signal(s, poll_ms < due_ms ? poll_ms : due_ms) == SIGQUIT) {
			log_notice("SIGQUIT while stopping: closing every connection now");
			worker_pool_stop(&s->pool, now_ms());
		}
		(void)serve_beat(s, &due_ms);
	}
	worker_pool_join(&s->pool);
}

int
serve_run(struct config *cfg, struct listeners *ls, int status_fd,
    bool detached)
{
	struct serve s = { .cfg = cfg, .ls = ls, .status_fd = status_fd };

	serve_signals(&s);
	s.srv.listeners = ls;
	if (log_start() < 0) {
		log_err("cannot start the logger thread");
		return EXIT_OSERR;
	}
	if (worker_pool_start(&s.pool, &s.srv, cfg, config_thread_count(cfg)) < 0)
		return EXIT_OSERR;
	/* A daemon's start-up lines reach its terminal before the starting
	 * process is told, and exits (at most 1 s if syslog is stalled). */
	if (detached)
		log_flush();
	serve_report(&s, SERVE_READY);
	if (detached) {
		log_set_stderr(false);
		if (stdio_to_devnull() < 0)
			log_warn("stdio to /dev/null");
	}
	serve_stop(&s, serve_wait_for_stop(&s));
	return 0;
}
