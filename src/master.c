/*
 * master.c: the master process (see master.h and doc/processes.md).
 *
 * Owns the supervision policy: one serving worker process at a time, a
 * replacement started on reload that takes over once it says READY (the
 * old one then drains), a restart within a second when the serving worker
 * dies, with a growing pause when it keeps dying, and the orderly stop.
 * The master does its work in one thread: signals arrive on a signalfd, so
 * nothing runs in signal context; its only other thread is the logger, held
 * still around every fork (log_before_fork()). The listening sockets stay
 * open here the whole time, so while a worker is replaced new clients wait
 * in the backlog instead of being refused.
 */
#include "master.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "echod-build.h"
#include "exitcodes.h"
#include "log.h"
#include "notify.h"
#include "sysutil.h"

/* Descriptors echod needs beyond its clients: listeners, epolls, logs. */
#define FD_RESERVE 64
#define STATUS_INTERVAL_MS 2000
#define STOP_GRACE_MS 10000     /* past shutdown_timeout, before SIGKILL */
#define HEARTBEAT_STALE_MS 2500 /* the worker beats every second */

void
master_block_signals(struct master *m)
{
	int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };

	sigemptyset(&m->signals);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&m->signals, sigs[i]);
	sigprocmask(SIG_BLOCK, &m->signals, NULL);
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
	int passed = notify_listen_fds();

	if (passed < 0)
		return -1;
	if (passed == 0)
		return listeners_open(&m->listeners, m->cfg);
	m->socket_activated = true;
	return listeners_adopt(&m->listeners, passed);
}

/* ---- the worker table ---- */

static struct wproc *
master_find(struct master *m, pid_t pid)
{
	for (int i = 0; i < m->nworkers; i++)
		if (m->workers[i].pid == pid)
			return &m->workers[i];
	return NULL;
}

static struct wproc *
master_find_pipe(struct master *m, int fd)
{
	for (int i = 0; i < m->nworkers; i++)
		if (m->workers[i].status_fd == fd)
			return &m->workers[i];
	return NULL;
}

static struct wproc *
master_in_state(struct master *m, enum wproc_state state)
{
	for (int i = 0; i < m->nworkers; i++)
		if (m->workers[i].state == state)
			return &m->workers[i];
	return NULL;
}

static void
master_forget(struct master *m, struct wproc *w)
{
	m->served += w->last.accepted;
	wproc_release(w);
	*w = m->workers[--m->nworkers];
}

static bool
listeners_hold_fd(const struct listeners *ls, int fd)
{
	for (size_t i = 0; i < ls->count; i++)
		if (ls->list[i].fd == fd)
			return true;
	return false;
}

/* Adds the listeners of from that a worker on ls must not keep open. */
static int
master_foreign_listeners(const struct listeners *from,
    const struct listeners *ls, int *fds)
{
	int n = 0;

	for (size_t i = 0; i < from->count; i++)
		if (!listeners_hold_fd(ls, from->list[i].fd))
			fds[n++] = from->list[i].fd;
	return n;
}

/* The master's descriptors, which a new worker on ls must not keep. */
static int
master_private_fds(const struct master *m, const struct listeners *ls, int *fds)
{
	int n = 0;

	fds[n++] = m->sigfd;
	fds[n++] = m->ready_fd;
	fds[n++] = m->pidfile ? m->pidfile->fd : -1;
	for (int i = 0; i < m->nworkers; i++)
		fds[n++] = m->workers[i].status_fd;
	n += master_foreign_listeners(&m->listeners, ls, fds + n);
	n += master_foreign_listeners(&m->next_listeners, ls, fds + n);
	return n;
}

/*
 * Starts a worker serving cfg on ls, for a reload or not; NULL (logged)
 * if it cannot.
 */
static struct wproc *
master_spawn(struct master *m, struct config *cfg, struct listeners *ls, bool reload)
{
	int fds[MASTER_MAX_WORKERS + 3 + 2 * CONFIG_MAX_LISTEN];
	int nfds = master_private_fds(m, ls, fds);
	struct wproc *w = &m->workers[m->nworkers];

	if (m->nworkers == MASTER_MAX_WORKERS) {
		log_errx("%d worker processes are still draining: "
		    "not starting another", m->nworkers);
		return NULL;
	}
	if (wproc_spawn(w, cfg, ls, fds, nfds, m->ready_fd >= 0, now_ms()) < 0)
		return NULL;
	w->reload = reload;
	m->nworkers++;
	if (m->paused_from_ms != 0) {       /* a crash loop's pause is over */
		m->paused_ms += now_ms() - m->paused_from_ms;
		m->paused_from_ms = 0;
	}
	return w;
}

/* ---- a worker is serving ---- */

/* The first worker serves: tell the starting process, systemd, the log. */
static void
master_announce_start(struct master *m, const struct wproc *w)
{
	char where[CONFIG_MAX_LISTEN * ADDR_STRLEN];

	listeners_describe(&m->listeners, where, sizeof(where));
	log_notice("echod %s started on %s (%u threads, max_connections %ld)",
	    PACKAGE_VERSION, where, w->last.threads, m->cfg->max_connections);
	if (m->ready_fd >= 0) {
		log_set_stderr(false);
		if (stdio_to_devnull() < 0)
			log_warn("stdio to /dev/null");
		daemon_ready(m->ready_fd, 0);
		m->ready_fd = -1;
	}
	notify("READY=1\nMAINPID=%ld", (long)getpid());
}

static void master_reload(struct master *m);

/* Does the reload that a SIGHUP asked for while another was under way. */
static void
master_reload_if_queued(struct master *m)
{
	if (m->reload_queued) {
		m->reload_queued = false;
		master_reload(m);
	}
}

/* The reload is done once the old worker no longer accepts. */
static void
master_finish_reload(struct master *m)
{
	m->retiring_pid = 0;
	log_notice("reloaded %s", m->config_path);
	if (m->stopping)
		return;
	notify("READY=1");
	master_reload_if_queued(m);
}

/*
 * A reload's worker serves: the old one retires, its config goes. w is
 * serving before the reload may finish here (no old worker left), so that
 * a reload queued meanwhile does not find it still starting, and wait.
 */
static void
master_commit_reload(struct master *m, struct wproc *w)
{
	struct wproc *old = master_in_state(m, WPROC_SERVING);

	w->state = WPROC_SERVING;
	listeners_close_except(&m->listeners, &m->next_listeners);
	m->listeners = m->next_listeners;
	m->next_listeners.count = 0;
	if (w->cfg->backlog != m->cfg->backlog && !m->socket_activated)
		listeners_set_backlog(&m->listeners, w->cfg->backlog);
	config_unref(m->cfg);
	m->cfg = config_ref(w->cfg);
	log_open(m->cfg->log_facility, m->cfg->log_level);
	if (old == NULL) {
		master_finish_reload(m);
		return;
	}
	old->state = WPROC_RETIRING;
	m->retiring_pid = old->pid;
	wproc_signal(old, SIGUSR2);
}

static void
master_worker_ready(struct master *m, struct wproc *w)
{
	bool first = m->ready_fd >= 0 || !m->announced;
	bool reload = w->reload;

	if (m->stopping) {
		w->state = WPROC_RETIRING;      /* told to stop as it started */
		return;
	}
	if (!first && !reload)
		log_notice("worker %ld serves again", (long)w->pid);
	if (reload)
		master_commit_reload(m, w);     /* serving from there on */
	else
		w->state = WPROC_SERVING;
	if (first) {
		m->announced = true;
		master_announce_start(m, w);
	}
	if (!reload)
		master_reload_if_queued(m);
}

/* ---- a worker is gone ---- */

/*
 * Counts a crash. Five within ten seconds of workers running are a crash
 * loop: each crash in it doubles the pause before the next worker. The
 * crashes are timed on a clock that stops during those pauses, so a
 * worker that dies at once keeps them doubling up to the cap, while ten
 * seconds of serving, by any worker, end the loop.
 */
static void
master_count_crash(struct master *m, uint64_t now)
{
	uint64_t t = now - m->paused_ms;
	bool looping;

	m->crashes[m->ncrashes++ % MASTER_CRASH_WINDOW] = t;
	/* The slot written next holds the oldest of the last few crashes. */
	looping = m->ncrashes >= MASTER_CRASH_WINDOW &&
	    t - m->crashes[m->ncrashes % MASTER_CRASH_WINDOW] < MASTER_CRASH_PERIOD_MS;
	if (!looping) {
		m->backoff_ms = 0;
		return;
	}
	m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : 1000;
	if (m->backoff_ms > MASTER_BACKOFF_MAX_MS)
		m->backoff_ms = MASTER_BACKOFF_MAX_MS;
}

/* Starts another worker after the crash loop's pause, if any, which the
 * crash clock then leaves out (master_spawn ends it). */
static void
master_respawn_later(struct master *m, uint64_t now)
{
	m->respawn_at_ms = now + m->backoff_ms;
	if (m->backoff_ms > 0 && m->paused_from_ms == 0)
		m->paused_from_ms = now;
}

/*
 * A reload's worker died before serving: keep everything as it was. If no
 * worker serves meanwhile (the old one died too, or was waiting out a
 * crash loop), one is started with the running configuration.
 */
static void
master_abandon_reload(struct master *m, const char *how)
{
	log_errx("reload failed: the new worker %s before serving; keeping the "
	    "running configuration", how);
	listeners_close_except(&m->next_listeners, &m->listeners);
	if (!m->stopping && master_in_state(m, WPROC_SERVING) == NULL)
		master_respawn_later(m, now_ms());
	notify("READY=1");
}

/* The reload's worker, while one is starting. */
static struct wproc *
master_reload_starting(struct master *m)
{
	for (int i = 0; i < m->nworkers; i++)
		if (m->workers[i].state == WPROC_STARTING && m->workers[i].reload)
			return &m->workers[i];
	return NULL;
}

static void
master_worker_died(struct master *m, struct wproc *w, const char *how)
{
	if (w->pid == m->retiring_pid)
		master_finish_reload(m);
	if (w->state == WPROC_RETIRING || m->stopping) {
		log_msg(strstr(how, "status 0") ? LOG_NOTICE : LOG_ERR,
		    "worker %ld %s", (long)w->pid, how);
		return;
	}
	if (w->state == WPROC_STARTING && w->reload) {
		master_abandon_reload(m, how);
		return;
	}
	if (!m->announced) {
		log_errx("worker %ld %s before serving", (long)w->pid, how);
		m->exit_status = EXIT_OSERR;
		return;
	}
	master_count_crash(m, now_ms());
	if (master_reload_starting(m) != NULL) {
		log_errx("worker %ld %s; the reload's worker takes over", (long)w->pid, how);
		return;
	}
	log_errx("worker %ld %s; starting another", (long)w->pid, how);
	if (m->backoff_ms > 0)
		log_errx("the worker died %d times within %d s of running: "
		    "waiting %llu s before starting another", MASTER_CRASH_WINDOW,
		    MASTER_CRASH_PERIOD_MS / 1000,
		    (unsigned long long)(m->backoff_ms / 1000));
	master_respawn_later(m, now_ms());
}

/*
 * The serving worker stopped accepting though the master did not ask:
 * someone signalled it directly. It drains as it was told, and another
 * worker serves at once (signals are read first in a round, so a stop
 * signalled to both processes is taken before this, and starts none).
 */
static void
master_worker_retired_itself(struct master *m, struct wproc *w)
{
	w->state = WPROC_RETIRING;
	if (master_reload_starting(m) != NULL) {
		log_warnx("worker %ld stopped accepting, not asked by the master; "
		    "the reload's worker takes over", (long)w->pid);
		return;
	}
	log_warnx("worker %ld stopped accepting, not asked by the master: "
	    "starting another", (long)w->pid);
	m->respawn_at_ms = now_ms();
}

/* Takes what w wrote on its status pipe: it serves, it has retired. */
static void
master_hear(struct master *m, struct wproc *w)
{
	int heard = wproc_read(w, now_ms());

	if ((heard & WPROC_HEARD_READY) && w->state == WPROC_STARTING)
		master_worker_ready(m, w);
	if (!(heard & WPROC_HEARD_RETIRED))
		return;
	if (w->pid == m->retiring_pid)
		master_finish_reload(m);
	else if (w->state == WPROC_SERVING && !m->stopping)
		master_worker_retired_itself(m, w);
}

/*
 * Reaps every worker that ended and decides what follows. What a dead
 * worker wrote last is read first: one that said it serves and died
 * before poll() reported it has still served.
 */
static void
master_reap(struct master *m)
{
	int status;
	pid_t pid;
	char how[64];

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct wproc *w = master_find(m, pid);
		if (w == NULL)
			continue;
		if (w->status_fd >= 0)
			master_hear(m, w);
		wproc_describe_exit(status, how, sizeof(how));
		master_worker_died(m, w, how);
		master_forget(m, w);
	}
	master_reload_if_queued(m);
}

/* ---- reload and stop ---- */

/* Listeners for a reloaded cfg: systemd's stay; else kept, new, closed. */
static int
master_reload_listeners(struct master *m, const struct config *next)
{
	if (!m->socket_activated)
		return listeners_update(&m->listeners, &m->next_listeners, next);
	m->next_listeners = m->listeners;
	return 0;
}

static void
master_report_config_error(void *ctx, const char *msg)
{
	(void)ctx;
	log_errx("%s", msg);
}

static void
master_reload(struct master *m)
{
	struct config *next;

	if (m->stopping || m->exit_status >= 0)
		return;         /* stopping, or the start failed: nothing to reload */
	if (master_in_state(m, WPROC_STARTING) != NULL || m->retiring_pid != 0) {
		m->reload_queued = true;    /* once the one under way is done */
		return;
	}
	notify("RELOADING=1");
	next = config_load(m->config_path, master_report_config_error, NULL);
	if (next == NULL || master_reload_listeners(m, next) < 0) {
		log_errx("reload failed, keeping the running configuration");
		config_unref(next);
		notify("READY=1");
		return;
	}
	if (!m->pidfile_from_cli && strcmp(next->pidfile, m->cfg->pidfile) != 0)
		log_warnx("reload: a pidfile change needs a restart");
	master_raise_fd_limit(next);
	if (master_spawn(m, next, &m->next_listeners, true) == NULL)
		master_abandon_reload(m, "could not be started");
	else
		m->respawn_at_ms = 0;       /* the new worker will serve */
	config_unref(next);
}

/* SIGQUIT to every worker: close every connection now. A SIGKILL that
 * is due already stays due: more stop signals never put it off. */
static void
master_quit_all(struct master *m, uint64_t now)
{
	for (int i = 0; i < m->nworkers; i++)
		wproc_signal(&m->workers[i], SIGQUIT);
	m->quit_at_ms = 0;
	if (m->kill_at_ms == 0 || now + STOP_GRACE_MS < m->kill_at_ms)
		m->kill_at_ms = now + STOP_GRACE_MS;
}

/*
 * Stops: the listeners close here (the workers close their copies as they
 * stop accepting), the serving worker drains, and shutdown_timeout later
 * every worker still draining, replaced ones included, is told to quit.
 */
static void
master_stop(struct master *m, int sig)
{
	uint64_t now = now_ms();

	if (m->stopping) {
		master_quit_all(m, now);
		return;
	}
	notify("STOPPING=1");
	m->stopping = true;
	m->reload_queued = false;
	m->respawn_at_ms = 0;
	listeners_close_except(&m->next_listeners, &m->listeners);
	listeners_close(&m->listeners);
	if (sig == SIGQUIT) {
		master_quit_all(m, now);
		return;
	}
	for (int i = 0; i < m->nworkers; i++)
		if (m->workers[i].state != WPROC_RETIRING)
			wproc_signal(&m->workers[i], sig);
	m->quit_at_ms = now + (uint64_t)m->cfg->shutdown_timeout * 1000;
	m->kill_at_ms = m->quit_at_ms + STOP_GRACE_MS;
}

static void
master_take_signal(struct master *m, int sig)
{
	struct wproc *serving = master_in_state(m, WPROC_SERVING);

	switch (sig) {
	case SIGCHLD: master_reap(m); break;
	case SIGHUP: master_reload(m); break;
	case SIGUSR1: if (serving) wproc_signal(serving, SIGUSR1); break;
	case SIGUSR2: log_warnx("SIGUSR2 is for worker processes: ignored"); break;
	default: master_stop(m, sig); break;
	}
}

static void
master_read_signals(struct master *m)
{
	struct signalfd_siginfo si;

	while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		master_take_signal(m, (int)si.ssi_signo);
}

/* ---- the loop ---- */

/* Tells systemd what is going on, from the workers' last heartbeats. */
static void
master_send_status(struct master *m)
{
	struct wproc *serving = master_in_state(m, WPROC_SERVING);
	long long open = 0;
	unsigned long long served = m->served;

	for (int i = 0; i < m->nworkers; i++) {
		open += m->workers[i].last.open;
		served += m->workers[i].last.accepted;
	}
	notify("STATUS=%lld connections open, %llu served, %u threads", open,
	    served, serving ? serving->last.threads : 0);
}

/* WATCHDOG=1 only while the serving worker keeps sending heartbeats. */
static void
master_feed_watchdog(struct master *m, uint64_t now)
{
	struct wproc *serving = master_in_state(m, WPROC_SERVING);

	if (serving != NULL && now - serving->heard_ms < HEARTBEAT_STALE_MS)
		notify("WATCHDOG=1");
	m->watchdog_at_ms = now + (m->watchdog_ms >= 4 ? m->watchdog_ms / 4 : 1);
}

static void
master_timers(struct master *m, uint64_t now)
{
	if (m->respawn_at_ms != 0 && now >= m->respawn_at_ms) {
		m->respawn_at_ms = 0;
		if (master_spawn(m, m->cfg, &m->listeners, false) == NULL)
			m->respawn_at_ms = now + 1000;
	}
	if (m->stopping && m->quit_at_ms != 0 && now >= m->quit_at_ms)
		master_quit_all(m, now);
	if (m->stopping && now >= m->kill_at_ms) {
		for (int i = 0; i < m->nworkers; i++)
			wproc_signal(&m->workers[i], SIGKILL);
		m->kill_at_ms = now + 1000;     /* again, should one not be reaped */
	}
	if (now >= m->status_at_ms) {
		master_send_status(m);
		m->status_at_ms = now + STATUS_INTERVAL_MS;
	}
	if (m->watchdog_ms && now >= m->watchdog_at_ms)
		master_feed_watchdog(m, now);
}

/* How long poll() may sleep: until the next timer, at most a second. */
static int
master_timeout(const struct master *m, uint64_t now)
{
	uint64_t next = now + 1000;

	if (m->respawn_at_ms != 0 && m->respawn_at_ms < next)
		next = m->respawn_at_ms;
	if (m->watchdog_ms && m->watchdog_at_ms < next)
		next = m->watchdog_at_ms;
	if (m->stopping && m->quit_at_ms != 0 && m->quit_at_ms < next)
		next = m->quit_at_ms;
	if (m->stopping && m->kill_at_ms < next)
		next = m->kill_at_ms;
	return next <= now ? 0 : (int)(next - now);
}

/* Reads every worker's status pipe that poll() found ready. */
static void
master_read_workers(struct master *m, const struct pollfd *pfd, int n)
{
	for (int i = 1; i < n; i++) {
		struct wproc *w = master_find_pipe(m, pfd[i].fd);

		if (w != NULL && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			master_hear(m, w);
	}
}

static void
master_poll(struct master *m)
{
	struct pollfd pfd[MASTER_MAX_WORKERS + 1];
	int n = 0;

	pfd[n++] = (struct pollfd){ .fd = m->sigfd, .events = POLLIN };
	for (int i = 0; i < m->nworkers; i++)
		if (m->workers[i].status_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = m->workers[i].status_fd,
			    .events = POLLIN };
	if (poll(pfd, (nfds_t)n, master_timeout(m, now_ms())) < 0) {
		if (errno != EINTR)
			log_err("poll");
		return;
	}
	/* Signals first: a stop that came with a worker's news is a stop
	 * (a worker ready in the same round no longer counts as a start). */
	if (pfd[0].revents & POLLIN)
		master_read_signals(m);
	else if (m->stopping)
		master_reap(m);     /* cheap, and no exit is left waiting */
	master_read_workers(m, pfd, n);
	master_timers(m, now_ms());
}

int
master_run(struct master *m)
{
	m->exit_status = -1;
	m->sigfd = signalfd(-1, &m->signals, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sigfd < 0) {
		log_err("signalfd");
		return EXIT_OSERR;
	}
	m->watchdog_ms = notify_watchdog_ms();
	if (log_start() < 0) {
		log_err("cannot start the logger thread");
		return EXIT_OSERR;
	}
	if (master_spawn(m, m->cfg, &m->listeners, false) == NULL)
		return EXIT_OSERR;
	while (m->exit_status < 0 && !(m->stopping && m->nworkers == 0))
		master_poll(m);
	close_quietly(m->sigfd);
	listeners_close(&m->listeners);
	return m->exit_status < 0 ? 0 : m->exit_status;
}
