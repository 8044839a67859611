/*
 * addr.h: socket addresses as text, "192.0.2.5:60225" or "[2001:db8::1]:60225".
 */
#ifndef ECHOD_ADDR_H
#define ECHOD_ADDR_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/* A peer or listener address, as small as the families echod serves. */
union addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* Writes the address with its port into buf (at least ADDR_STRLEN bytes). */
void addr_format(const union addr *a, char *buf, size_t len);

/* Parses a numeric IPv4 or IPv6 host and a port; 0, or -1 if not numeric. */
int addr_parse(const char *host, int port, union addr *out, socklen_t *outlen);

#endif
