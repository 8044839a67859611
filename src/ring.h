/*
 * ring.h: a connection's byte buffer, a ring of fixed capacity.
 *
 * It holds bytes a client sent that echod has not yet echoed. Its storage
 * is allocated when first needed and freed when it empties, so an idle
 * connection holds no buffer at all. It never grows past its capacity:
 * that is the per-connection memory bound.
 */
#ifndef ECHOD_RING_H
#define ECHOD_RING_H

#include <stddef.h>
#include <sys/uio.h>

struct ring {
	char *data;        /* NULL while empty */
	size_t cap;        /* capacity, fixed at ring_init() */
	size_t head;       /* offset of the oldest byte */
	size_t len;        /* bytes held */
};

void ring_init(struct ring *r, size_t cap);
/* Frees the storage; the ring stays usable (and empty). */
void ring_release(struct ring *r);

static inline size_t ring_len(const struct ring *r) { return r->len; }
static inline size_t ring_space(const struct ring *r) { return r->cap - r->len; }

/* Fills iov[0..2) with the held bytes, oldest first; returns the count (0-2). */
int ring_data_iov(const struct ring *r, struct iovec iov[2]);
/* Fills iov[0..2) with the free space (allocating it); returns the count, -1 if out of memory. */
int ring_space_iov(struct ring *r, struct iovec iov[2]);
/* Marks n bytes written into the space from ring_space_iov() as held. */
void ring_commit(struct ring *r, size_t n);
/* Drops the n oldest bytes; frees the storage when the ring empties. */
void ring_consume(struct ring *r, size_t n);
/* Copies up to len bytes in; returns how many fit, or -1 if out of memory. */
long ring_append(struct ring *r, const void *buf, size_t len);

#endif
