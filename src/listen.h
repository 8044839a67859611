/*
 * listen.h: echod's listening sockets, one per configured address.
 */
#ifndef ECHOD_LISTEN_H
#define ECHOD_LISTEN_H

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
};

/*
 * Binds and listens on every address of cfg (non-blocking, CLOEXEC,
 * SO_REUSEADDR, IPv6 v6-only). On failure logs which address failed and
 * why, closes what it opened and returns -1.
 */
int listeners_open(struct listeners *ls, const struct config *cfg);
void listeners_close(struct listeners *ls);

/* "127.0.0.1:8888, [::1]:8888" into buf. */
void listeners_describe(const struct listeners *ls, char *buf, size_t len);

#endif
