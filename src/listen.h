/*
 * listen.h: echod's listening sockets, one per configured address.
 */
#ifndef ECHOD_LISTEN_H
#define ECHOD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "config.h"

struct listener {
	int fd;
	union addr addr;
	char name[ADDR_STRLEN];     /* "127.0.0.1:8888", "[::]:8888" */
};

struct listeners {
	struct listener list[CONFIG_MAX_LISTEN];
	size_t count;
	bool adopted;               /* systemd's: connections queued before echod
	                             * set the options lack them (see conn_start) */
};

/*
 * Binds and listens on every address of cfg (non-blocking, CLOEXEC,
 * SO_REUSEADDR, IPv6 v6-only; TCP_NODELAY and SO_OOBINLINE, which every
 * connection accepted inherits). On failure logs which address failed and
 * why, closes what it opened and returns -1.
 */
int listeners_open(struct listeners *ls, const struct config *cfg);
void listeners_close(struct listeners *ls);

/* Takes the n listening sockets systemd passed (fds 3 on), with the same
 * flags and connection options as its own; 0 or -1 (logged). */
int listeners_adopt(struct listeners *ls, int n);

/*
 * Fills next with the listeners cfg asks for, reusing cur's socket for an
 * address that stays (its backlog unchanged until listeners_set_backlog)
 * and binding the new ones. Returns 0, or -1 (logged) with nothing new
 * left open.
 */
int listeners_update(const struct listeners *cur, struct listeners *next,
    const struct config *cfg);

/* Gives every socket of ls a new backlog (failures logged). */
void listeners_set_backlog(const struct listeners *ls, int backlog);

/* Closes the sockets of ls that keep does not hold, and empties ls. */
void listeners_close_except(struct listeners *ls, const struct listeners *keep);

/* "127.0.0.1:8888, [::1]:8888" into buf. */
void listeners_describe(const struct listeners *ls, char *buf, size_t len);

#endif
