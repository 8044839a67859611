/*
 * wproc.h: worker processes as the master sees them: starting one,
 * hearing from it, signalling it, and why it ended.
 */
#ifndef ECHOD_WPROC_H
#define ECHOD_WPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "listen.h"
#include "serve.h"

enum wproc_state {
	WPROC_STARTING,         /* forked, has not said READY yet */
	WPROC_SERVING,          /* the one worker accepting clients */
	WPROC_RETIRING,         /* replaced, or stopped by a signal of its own: draining */
};

struct wproc {
	pid_t pid;
	int status_fd;          /* the read end of its status pipe; -1 at EOF */
	enum wproc_state state;
	struct config *cfg;     /* a reference: what it serves with */
	bool reload;            /* started by a reload: its READY commits it */
	uint64_t started_ms;
	uint64_t heard_ms;      /* when its last message came */
	struct serve_msg last;  /* its latest heartbeat */
};

/*
 * Forks a worker process serving cfg on ls. In the child, closes the fds in
 * close_fds[0..nclose), drops privileges, serves and exits; it never
 * returns. detached: once serving, the child's stdio goes to /dev/null. In
 * the master returns 0, or -1 (logged).
 */
int wproc_spawn(struct wproc *w, struct config *cfg, struct listeners *ls,
    const int *close_fds, int nclose, bool detached, uint64_t now_ms);

#define WPROC_HEARD_READY   1   /* it serves */
#define WPROC_HEARD_RETIRED 2   /* it no longer accepts */

/*
 * Reads what w sent. Returns the WPROC_HEARD_* bits of what came; once
 * the pipe is closed (the worker is gone or going) status_fd becomes -1.
 */
int wproc_read(struct wproc *w, uint64_t now_ms);

void wproc_signal(struct wproc *w, int sig);

/* Frees what w holds in the master, once it has been reaped. */
void wproc_release(struct wproc *w);

/* Describes a wait() status: "exited with status 3", "killed by SIGSEGV". */
void wproc_describe_exit(int status, char *buf, size_t len);

#endif
