/*
 * prefix.c: the line-prefix state machine (see prefix.h). Pure: it
 * describes output as iovecs or writes it into the caller's buffer, and
 * follows what was sent; the caller does the I/O.
 */
#include "prefix.h"

#include <stdint.h>
#include <string.h>

void
prefix_state_init(struct prefix_state *st)
{
	st->line_start = true;
	st->sent = 0;
}

/* Length of data's first line piece: up to and including '\n', or all. */
static size_t
line_piece(const char *data, size_t len)
{
	const char *nl = memchr(data, '\n', len);

	return nl ? (size_t)(nl - data) + 1 : len;
}

static void
iov_add(struct iovec *iov, int *cnt, const void *base, size_t len)
{
	iov[*cnt].iov_base = (void *)(uintptr_t)base;
	iov[*cnt].iov_len = len;
	(*cnt)++;
}

size_t
prefix_plan(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, struct iovec *iov, int max, int *cnt)
{
	size_t done = 0;

	if (p->len == 0) {
		if (len > 0 && *cnt < max) {
			iov_add(iov, cnt, data, len);
			return len;
		}
		return 0;
	}
	while (done < len && *cnt + 2 <= max) {
		size_t piece = line_piece(data + done, len - done);
		if (st->line_start) {
			iov_add(iov, cnt, p->str + st->sent, p->len - st->sent);
			st->line_start = false;
			st->sent = 0;
		}
		iov_add(iov, cnt, data + done, piece);
		done += piece;
		st->line_start = data[done - 1] == '\n';
	}
	return done;
}

/*
 * Walks the echo of data[0 .. len) from *st for at most *budget output
 * bytes, copying them to out unless out is NULL; see prefix_advance().
 */
static size_t
prefix_walk(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, char *out, size_t *budget)
{
	size_t done = 0, o = 0;

	while (done < len && *budget > 0) {
		if (st->line_start && p->len > 0) {
			size_t k = p->len - st->sent;
			k = k < *budget ? k : *budget;
			if (out != NULL)
				memcpy(out + o, p->str + st->sent, k);
			o += k;
			st->sent += k;
			*budget -= k;
			if (st->sent < p->len)
				break;
		}
		st->line_start = false;
		st->sent = 0;
		size_t piece = p->len ? line_piece(data + done, len - done) : len - done;
		size_t k = piece < *budget ? piece : *budget;
		if (out != NULL)
			memcpy(out + o, data + done, k);
		o += k;
		done += k;
		*budget -= k;
		if (k < piece)
			break;
		st->line_start = data[done - 1] == '\n';
	}
	return done;
}

size_t
prefix_advance(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, size_t *written)
{
	return prefix_walk(p, st, data, len, NULL, written);
}

size_t
prefix_render(const struct prefix *p, struct prefix_state *st,
    const char *data, size_t len, char *out, size_t *room)
{
	return prefix_walk(p, st, data, len, out, room);
}
