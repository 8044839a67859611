/*
 * mailbox.h: what other threads leave for one worker thread.
 *
 * Two kinds of post: the order to stop (with a deadline), from the
 * process's main thread; and accepted connections another worker hands
 * over to even out the load. The owning worker watches the eventfd in its
 * epoll set and takes everything at once. The mailbox's mutex is held only
 * to copy in or out; no other lock is ever taken while it is held.
 */
#ifndef ECHOD_MAILBOX_H
#define ECHOD_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define MAILBOX_CONNS 64

/* An accepted socket on its way to the worker that will serve it. */
struct handoff {
	int fd;
	union addr peer;
};

struct mailbox {
	int fd;                     /* eventfd: rung on every post */
	pthread_mutex_t lock;       /* guards what follows */
	bool stop;
	uint64_t deadline_ms;
	int nconns;
	struct handoff conns[MAILBOX_CONNS];
};

/* What mailbox_take() found. */
struct mailbox_content {
	bool stop;
	uint64_t deadline_ms;
	int nconns;
	struct handoff conns[MAILBOX_CONNS];
};

/* 0, or -1 with errno set (the eventfd could not be made). */
int mailbox_init(struct mailbox *mb);
/* Closes the eventfd and every socket still waiting in the mailbox. */
void mailbox_free(struct mailbox *mb);

/* Orders the owner to stop accepting and to be done by deadline_ms. */
void mailbox_post_stop(struct mailbox *mb, uint64_t deadline_ms);

/*
 * Hands an accepted socket to the owner. Returns false, keeping nothing,
 * when the mailbox is full or its owner was told to stop: the caller
 * serves the connection itself.
 */
bool mailbox_post_conn(struct mailbox *mb, int fd, const union addr *peer);

/* Empties the mailbox into *out (called by the owner when fd is readable). */
void mailbox_take(struct mailbox *mb, struct mailbox_content *out);

#endif
