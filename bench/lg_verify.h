/*
 * lg_verify.h: what the load generator sends and what it expects back.
 *
 * Owns the test pattern (a block of printable lines, the same in every
 * thread) and the echo verifier: the greeting, then for every line the
 * prefix before its first byte, then the bytes that were sent, in order.
 * Pure: no sockets, no clocks; the caller feeds it what it read.
 */
#ifndef LG_VERIFY_H
#define LG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The bytes to send: input byte i of a stream is block[(base + i) % len]. */
struct pattern {
	char *block;
	size_t len;                 /* a multiple of line */
	size_t line;                /* line length, '\n' included */
};

/* What the server is told to say besides the echo. */
struct expect {
	const char *greeting;
	size_t greeting_len;
	const char *prefix;
	size_t prefix_len;
	const struct pattern *pat;
};

/* One connection's position in the expected reply. */
struct verifier {
	const struct expect *ex;
	uint64_t base;              /* pattern offset of input byte 0 */
	size_t greet_pos;           /* greeting bytes seen */
	size_t prefix_pos;          /* prefix bytes seen at this line start */
	bool line_start;            /* the next data byte opens a line */
	uint64_t echoed;            /* input bytes seen echoed, all verified */
};

/* Fills pat with lines of line bytes; 0, or -1 if out of memory. */
int pattern_init(struct pattern *pat, size_t line);
void pattern_free(struct pattern *pat);

/*
 * The first of the n input bytes from offset off of a stream based at
 * base, and how many of them lie contiguously in the block (at most n).
 */
const char *pattern_at(const struct pattern *pat, uint64_t base, uint64_t off,
    size_t n, size_t *contiguous);

/* A stream base for connection number id that starts on a line boundary. */
uint64_t pattern_base(const struct pattern *pat, uint64_t id);

void verifier_init(struct verifier *v, const struct expect *ex, uint64_t base);

/*
 * Checks n received bytes, of which the server can only have echoed the
 * first sent input bytes. Returns 0, or -1 with why set on the first
 * byte that is not what was expected.
 */
int verifier_feed(struct verifier *v, const char *buf, size_t n,
    uint64_t sent, const char **why);

/* True once the greeting has been seen in full. */
bool verifier_greeted(const struct verifier *v);

#endif
