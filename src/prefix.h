/*
 * prefix.h: the line-prefix state machine.
 *
 * Turns the bytes a client sent into the bytes echod sends back: the same
 * bytes with the reply prefix before the first byte of every line (a line
 * ends at '\n'). The prefix of a line is sent only once its first byte has
 * arrived, so the output depends only on the input bytes, never on how
 * they were split. Pure: no I/O, no allocation; the caller owns the data.
 */
#ifndef ECHOD_PREFIX_H
#define ECHOD_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

struct prefix {
	const char *str;
	size_t len;
};

/* Where the echo stands: at a line start, and how much of the prefix is out. */
struct prefix_state {
	bool line_start;   /* the next input byte begins a line */
	size_t sent;       /* bytes of that line's prefix already sent */
};

void prefix_state_init(struct prefix_state *st);

/*
 * Appends to iov[*cnt .. max) the output that echoes data[0 .. len), starting
 * from *st, and advances *st as if all of it were sent. Stops early when iov
 * is full. Returns how many input bytes the added iovecs cover.
 */
size_t prefix_plan(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, struct iovec *iov, int max, int *cnt);

/*
 * Writes into out the output that echoes data[0 .. len), starting from *st,
 * for at most *room bytes (a prefix or a line may be cut where room ends),
 * advancing *st over what it wrote and subtracting that from *room.
 * Returns how many input bytes were written out.
 */
size_t prefix_render(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, char *out, size_t *room);

/*
 * Advances *st over up to *written output bytes that echo data[0 .. len)
 * and subtracts what it used from *written. Returns how many input bytes
 * were fully sent.
 */
size_t prefix_advance(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, size_t *written);

#endif
