/*
 * master.c: signals, reload and orderly stop (see master.h).
 *
 * Signals are blocked in every thread and taken here with sigwaitinfo(),
 * outside signal context: no handler writes any variable. A reload parses
 * into a fresh config and swaps it in only when it is valid.
 */
#include "master.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "log.h"
#include "sysutil.h"

/* Descriptors echod needs beyond its clients: listeners, epolls, logs. */
#define FD_RESERVE 64

void
master_block_signals(struct master *m)
{
	sigemptyset(&m->signals);
	sigaddset(&m->signals, SIGHUP);
	sigaddset(&m->signals, SIGINT);
	sigaddset(&m->signals, SIGTERM);
	sigaddset(&m->signals, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &m->signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void
master_raise_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_connections +
	    (rlim_t)config_thread_count(cfg) * 2 + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)rl.rlim_cur);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want)
		log_warnx("max_connections %ld needs %llu open files but the "
		    "limit is %llu: raise the hard limit (ulimit -Hn, LimitNOFILE=)",
		    cfg->max_connections, (unsigned long long)want,
		    (unsigned long long)rl.rlim_cur);
}

int
master_listen(struct master *m)
{
	return listeners_open(&m->listeners, m->cfg);
}

int
master_start_workers(struct master *m)
{
	memset(&m->srv, 0, sizeof(m->srv));
	m->srv.listeners = &m->listeners;
	return worker_pool_start(&m->pool, &m->srv, m->cfg,
	    config_thread_count(m->cfg));
}

static void
master_report_config_error(void *ctx, const char *msg)
{
	(void)ctx;
	log_errx("%s", msg);
}

/* Warns about changed settings that only a restart applies. */
static void
master_warn_restart_only(const struct config *old, const struct config *cur)
{
	bool listen_changed = old->nlisten != cur->nlisten;

	for (size_t i = 0; !listen_changed && i < cur->nlisten; i++)
		listen_changed = strcmp(old->listen[i], cur->listen[i]) != 0;
	if (listen_changed || old->port != cur->port || old->backlog != cur->backlog)
		log_warnx("reload: port, listen and backlog changes need a restart");
	if (old->threads != cur->threads)
		log_warnx("reload: a threads change needs a restart");
	if (strcmp(old->pidfile, cur->pidfile) != 0)
		log_warnx("reload: a pidfile change needs a restart");
}

static void
master_reload(struct master *m)
{
	struct config *next = config_load(m->config_path,
	    master_report_config_error, NULL);

	if (next == NULL) {
		log_errx("reload failed, keeping the running configuration");
		return;
	}
	master_warn_restart_only(m->cfg, next);
	log_open(next->log_facility, next->log_level);
	master_raise_fd_limit(next);
	worker_pool_reload(&m->pool, next);
	config_unref(m->cfg);
	m->cfg = next;
	log_notice("reloaded %s", m->config_path);
}

static void
master_log_stats(struct master *m)
{
	log_notice("stats: %ld connections open, %llu accepted, %llu refused "
	    "(max_connections), %lu log messages dropped",
	    __atomic_load_n(&m->srv.open, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m->srv.accepted, __ATOMIC_RELAXED),
	    (unsigned long long)__atomic_load_n(&m->srv.refused, __ATOMIC_RELAXED),
	    log_dropped_total());
}

/* Stops accepting, closes the listeners, waits for the workers to drain. */
static void
master_stop(struct master *m, int signo)
{
	struct timespec poll = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	int timeout = m->cfg->shutdown_timeout;

	log_notice("stopping on SIG%s (%ld connections open, waiting up to %d s)",
	    sigabbrev_np(signo),
	    __atomic_load_n(&m->srv.open, __ATOMIC_RELAXED), timeout);
	worker_pool_stop(&m->pool, now_ms() + (uint64_t)timeout * 1000);
	listeners_close(&m->listeners);
	while (!worker_pool_finished(&m->pool)) {
		int sig = sigtimedwait(&m->signals, NULL, &poll);
		if (sig == SIGTERM || sig == SIGINT) {
			log_notice("SIG%s again: closing every connection now",
			    sigabbrev_np(sig));
			worker_pool_stop(&m->pool, now_ms());
		}
	}
	worker_pool_join(&m->pool);
}

/* Serves reloads and stats requests; returns the signal that says stop. */
static int
master_wait_for_stop(struct master *m)
{
	for (;;) {
		int sig = sigwaitinfo(&m->signals, NULL);

		if (sig == SIGHUP)
			master_reload(m);
		else if (sig == SIGUSR1)
			master_log_stats(m);
		else if (sig == SIGTERM || sig == SIGINT)
			return sig;
		else if (errno != EINTR)
			log_err("sigwaitinfo");
	}
}

void
master_run(struct master *m)
{
	master_stop(m, master_wait_for_stop(m));
}
