/*
 * addr.c: conversion between numeric socket addresses and text.
 * Owns no state and never resolves names: echod listens on numeric
 * addresses only and logs peers by number.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

void
addr_format(const union addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6.sin6_port));
	} else if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->sin.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin.sin_port));
	} else {
		snprintf(buf, len, "(family %d)", a->sa.sa_family);
	}
}

int
addr_parse(const char *host, int port, union addr *out, socklen_t *outlen)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &out->sin.sin_addr) == 1) {
		out->sin.sin_family = AF_INET;
		out->sin.sin_port = htons((uint16_t)port);
		*outlen = sizeof(out->sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &out->sin6.sin6_addr) == 1) {
		out->sin6.sin6_family = AF_INET6;
		out->sin6.sin6_port = htons((uint16_t)port);
		*outlen = sizeof(out->sin6);
		return 0;
	}
	return -1;
}
