/*
 * wproc.c: starting and following worker processes (see wproc.h).
 *
 * Owns the fork into a worker process and what the child does before it
 * serves: close what belongs to the master, ask to die with the master,
 * drop privileges. The master's policies (when to start one, when to
 * retire one, crash back-off) are master.c's.
 */
#include "wproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcodes.h"
#include "log.h"
#include "privdrop.h"
#include "sysutil.h"

/* Ends the worker process once what it queued to log is written. */
static void __attribute__((noreturn))
wproc_child_exit(int status)
{
	log_stop();
	exit(status);
}

/* In the new worker process: becomes the worker and exits. */
static void __attribute__((noreturn))
wproc_child(struct config *cfg, struct listeners *ls, int status_fd,
    pid_t master, const int *close_fds, int nclose, bool detached)
{
	for (int i = 0; i < nclose; i++)
		close_quietly(close_fds[i]);
	/* Lines are queued from the fork on (log.h): none of them waits for
	 * a slow syslog, and the logger thread starts in serve_run, once
	 * privileges are dropped and signals blocked, as for every thread. */
	log_open(cfg->log_facility, cfg->log_level);
	if (privdrop(cfg) < 0)
		wproc_child_exit(EXIT_OSERR);
	/* After privdrop(): a change of user clears PR_SET_PDEATHSIG. */
	if (prctl(PR_SET_PDEATHSIG, SERVE_MASTER_GONE_SIGNAL, 0, 0, 0) < 0)
		log_warn("prctl PR_SET_PDEATHSIG");
	if (getppid() != master)
		wproc_child_exit(0);    /* the master died meanwhile */
	wproc_child_exit(serve_run(cfg, ls, status_fd, detached));
}

int
wproc_spawn(struct wproc *w, struct config *cfg, struct listeners *ls,
    const int *close_fds, int nclose, bool detached, uint64_t now_ms)
{
	int fds[2];
	pid_t master = getpid();
	bool log_held;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		log_err("pipe for a worker");
		return -1;
	}
	log_held = log_before_fork();
	w->pid = fork();
	if (w->pid == 0)
		log_after_fork_child(log_held);
	else
		log_after_fork_parent(log_held);
	if (w->pid < 0) {
		log_err("fork a worker");
		close_quietly(fds[0]);
		close_quietly(fds[1]);
		return -1;
	}
	if (w->pid == 0) {
		close_quietly(fds[0]);
		if (fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)     /* never wait on the master */
			log_warn("fcntl O_NONBLOCK on the status pipe");
		wproc_child(cfg, ls, fds[1], master, close_fds, nclose, detached);
	}
	close_quietly(fds[1]);
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
		log_warn("fcntl O_NONBLOCK on a status pipe");
	w->status_fd = fds[0];
	w->state = WPROC_STARTING;
	w->cfg = config_ref(cfg);
	w->started_ms = w->heard_ms = now_ms;
	memset(&w->last, 0, sizeof(w->last));
	return 0;
}

int
wproc_read(struct wproc *w, uint64_t now_ms)
{
	struct serve_msg msg;
	int heard = 0;
	ssize_t n;

	while ((n = read(w->status_fd, &msg, sizeof(msg))) == (ssize_t)sizeof(msg)) {
		w->heard_ms = now_ms;
		w->last = msg;
		if (msg.type == SERVE_READY)
			heard |= WPROC_HEARD_READY;
		if (msg.type == SERVE_RETIRED)
			heard |= WPROC_HEARD_RETIRED;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_quietly(w->status_fd);
		w->status_fd = -1;
	}
	return heard;
}

void
wproc_signal(struct wproc *w, int sig)
{
	if (kill(w->pid, sig) < 0 && errno != ESRCH)
		log_err("kill %ld SIG%s", (long)w->pid, sigabbrev_np(sig));
}

void
wproc_release(struct wproc *w)
{
	close_quietly(w->status_fd);
	w->status_fd = -1;
	config_unref(w->cfg);
	w->cfg = NULL;
}

void
wproc_describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by SIG%s%s",
		    sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}
