/*
 * iov.h: helpers for arrays of struct iovec (the pieces of an echo).
 */
#ifndef ECHOD_IOV_H
#define ECHOD_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* The bytes of all cnt pieces. */
size_t iov_total(const struct iovec *iov, int cnt);

/* Copies the pieces into buf, in order, up to cap bytes; returns the bytes copied. */
size_t iov_gather(const struct iovec *iov, int cnt, char *buf, size_t cap);

#endif
