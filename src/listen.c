/*
 * listen.c: resolves the configured numeric addresses and opens the
 * listening sockets. Owns those descriptors until listeners_close();
 * accepting on them is the workers' job.
 */
#include "listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sysutil.h"

/*
 * Options every connection accepted on fd inherits from it: no Nagle
 * delay for the echo, and urgent (MSG_OOB) bytes kept in the stream, to
 * be echoed in place. A connection has them from its handshake on, so
 * urgent bytes sent while it waits to be accepted are not lost either
 * (conn_start sets them again on sockets from systemd, for connections
 * that queued there before echod started). Best effort, as there: a socket
 * from systemd may refuse one (MPTCP has no SO_OOBINLINE) and still serve.
 */
static void
listener_conn_options(int fd)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
}

static int
listener_options(int fd, int family)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		return -1;
	listener_conn_options(fd);
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		return -1;
	return 0;
}

/* Creates, binds and listens; returns NULL, or the name of the failing call. */
static const char *
listener_setup(struct listener *l, socklen_t len, int backlog)
{
	l->fd = socket(l->addr.sa.sa_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return "socket";
	if (listener_options(l->fd, l->addr.sa.sa_family) < 0)
		return "setsockopt";
	if (bind(l->fd, &l->addr.sa, len) < 0)
		return "bind";
	if (listen(l->fd, backlog) < 0)
		return "listen";
	return NULL;
}

/* Opens one listener; on failure logs "CALL ADDR: error" and returns -1. */
static int
listener_open(struct listener *l, const char *host, const struct config *cfg)
{
	socklen_t len;
	const char *failed;

	l->fd = -1;
	if (addr_parse(host, cfg->port, &l->addr, &len) < 0) {
		log_errx("listen: \"%s\" is not a numeric address", host);
		return -1;
	}
	addr_format(&l->addr, l->name, sizeof(l->name));
	failed = listener_setup(l, len, cfg->backlog);
	if (failed == NULL)
		return 0;
	log_err("%s %s", failed, l->name);
	close_quietly(l->fd);
	l->fd = -1;
	return -1;
}

/* The listener of ls with name, or NULL. */
static const struct listener *
listeners_find(const struct listeners *ls, const char *name)
{
	for (size_t i = 0; i < ls->count; i++)
		if (strcmp(ls->list[i].name, name) == 0)
			return &ls->list[i];
	return NULL;
}

/* Opens what cfg's listen[i] asks for, or takes it over from cur. */
static int
listener_renew(struct listener *l, const struct listeners *cur,
    const char *host, const struct config *cfg)
{
	const struct listener *old;
	socklen_t len;

	if (addr_parse(host, cfg->port, &l->addr, &len) == 0) {
		addr_format(&l->addr, l->name, sizeof(l->name));
		if ((old = listeners_find(cur, l->name)) != NULL) {
			*l = *old;
			return 0;
		}
	}
	return listener_open(l, host, cfg);
}

int
listeners_update(const struct listeners *cur, struct listeners *next,
    const struct config *cfg)
{
	next->count = 0;
	next->adopted = false;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		if (listener_renew(&next->list[i], cur, cfg->listen[i], cfg) < 0) {
			listeners_close_except(next, cur);
			return -1;
		}
		next->count++;
	}
	return 0;
}

void
listeners_set_backlog(const struct listeners *ls, int backlog)
{
	for (size_t i = 0; i < ls->count; i++)
		if (listen(ls->list[i].fd, backlog) < 0)
			log_warn("listen %s (new backlog %d)", ls->list[i].name, backlog);
}

void
listeners_close_except(struct listeners *ls, const struct listeners *keep)
{
	for (size_t i = 0; i < ls->count; i++)
		if (listeners_find(keep, ls->list[i].name) == NULL)
			close_quietly(ls->list[i].fd);
	ls->count = 0;
}

int
listeners_adopt(struct listeners *ls, int n)
{
	ls->count = 0;
	ls->adopted = true;
	if (n > CONFIG_MAX_LISTEN) {
		/* Left unserved, the rest would take clients that wait forever. */
		log_errx("systemd passed %d sockets; echod serves at most %d", n,
		    CONFIG_MAX_LISTEN);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct listener *l = &ls->list[i];
		socklen_t len = sizeof(l->addr);
		int flags;

		l->fd = 3 + i;
		if (getsockname(l->fd, &l->addr.sa, &len) < 0 ||
		    (flags = fcntl(l->fd, F_GETFL)) < 0 ||
		    fcntl(l->fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
		    fcntl(l->fd, F_SETFD, FD_CLOEXEC) < 0) {
			log_err("socket %d from systemd", l->fd);
			return -1;
		}
		listener_conn_options(l->fd);
		addr_format(&l->addr, l->name, sizeof(l->name));
		ls->count++;
	}
	return 0;
}

int
listeners_open(struct listeners *ls, const struct config *cfg)
{
	ls->count = 0;
	ls->adopted = false;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		if (listener_open(&ls->list[i], cfg->listen[i], cfg) < 0) {
			listeners_close(ls);
			return -1;
		}
		ls->count++;
	}
	return 0;
}

void
listeners_close(struct listeners *ls)
{
	for (size_t i = 0; i < ls->count; i++)
		close_quietly(ls->list[i].fd);
	ls->count = 0;
}

void
listeners_describe(const struct listeners *ls, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ls->count && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s",
		    i ? ", " : "", ls->list[i].name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
