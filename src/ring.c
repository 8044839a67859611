/*
 * ring.c: the connection buffer (see ring.h). Owns only its storage;
 * knows nothing about sockets or prefixes.
 */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

void
ring_init(struct ring *r, size_t cap)
{
	r->data = NULL;
	r->cap = cap;
	r->head = 0;
	r->len = 0;
}

void
ring_release(struct ring *r)
{
	free(r->data);
	r->data = NULL;
	r->head = 0;
	r->len = 0;
}

/* Splits [off, off + n) of the ring into at most two contiguous iovecs. */
static int
ring_span(const struct ring *r, size_t off, size_t n, struct iovec iov[2])
{
	size_t first;

	if (n == 0)
		return 0;
	off %= r->cap;
	first = r->cap - off < n ? r->cap - off : n;
	iov[0].iov_base = r->data + off;
	iov[0].iov_len = first;
	if (first == n)
		return 1;
	iov[1].iov_base = r->data;
	iov[1].iov_len = n - first;
	return 2;
}

int
ring_data_iov(const struct ring *r, struct iovec iov[2])
{
	return ring_span(r, r->head, r->len, iov);
}

int
ring_space_iov(struct ring *r, struct iovec iov[2])
{
	if (r->data == NULL && (r->data = malloc(r->cap)) == NULL)
		return -1;
	return ring_span(r, r->head + r->len, ring_space(r), iov);
}

void
ring_commit(struct ring *r, size_t n)
{
	r->len += n;
}

void
ring_consume(struct ring *r, size_t n)
{
	r->len -= n;
	r->head = (r->head + n) % r->cap;
	if (r->len == 0)
		ring_release(r);
}

long
ring_append(struct ring *r, const void *buf, size_t len)
{
	struct iovec iov[2];
	size_t done = 0;
	int n = ring_space_iov(r, iov);

	if (n < 0)
		return -1;
	for (int i = 0; i < n && done < len; i++) {
		size_t k = len - done < iov[i].iov_len ? len - done : iov[i].iov_len;
		memcpy(iov[i].iov_base, (const char *)buf + done, k);
		done += k;
	}
	ring_commit(r, done);
	return (long)done;
}
