/*
 * lg_verify.c: the test pattern and the echo verifier (see lg_verify.h).
 * Owns nothing but the pattern block; knows no sockets.
 */
#include "lg_verify.h"

#include <stdlib.h>
#include <string.h>

#define PATTERN_MIN_BYTES 65536

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
pattern_init(struct pattern *pat, size_t line)
{
	uint32_t x = 2463534242u;      /* xorshift32: the same bytes every run */
	size_t lines = (PATTERN_MIN_BYTES + line - 1) / line;

	pat->line = line;
	pat->len = lines * line;
	pat->block = malloc(pat->len);
	if (pat->block == NULL)
		return -1;
	for (size_t i = 0; i < pat->len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat->block[i] = i % line == line - 1 ? '\n' : alphabet[x & 63];
	}
	return 0;
}

void
pattern_free(struct pattern *pat)
{
	free(pat->block);
	pat->block = NULL;
}

const char *
pattern_at(const struct pattern *pat, uint64_t base, uint64_t off, size_t n,
    size_t *contiguous)
{
	size_t at = (size_t)((base + off) % pat->len);

	*contiguous = pat->len - at < n ? pat->len - at : n;
	return pat->block + at;
}

uint64_t
pattern_base(const struct pattern *pat, uint64_t id)
{
	return (id * 7919 % (pat->len / pat->line)) * pat->line;
}

void
verifier_init(struct verifier *v, const struct expect *ex, uint64_t base)
{
	v->ex = ex;
	v->base = base;
	v->greet_pos = 0;
	v->prefix_pos = 0;
	v->line_start = true;
	v->echoed = 0;
}

bool
verifier_greeted(const struct verifier *v)
{
	return v->greet_pos == v->ex->greeting_len;
}

static size_t
min3(size_t a, size_t b, uint64_t c)
{
	size_t m = a < b ? a : b;

	return c < m ? (size_t)c : m;
}

/* Checks the next bytes against the echo of the input; returns bytes used or 0. */
static size_t
verifier_data(struct verifier *v, const char *buf, size_t n, uint64_t sent,
    const char **why)
{
	const struct pattern *pat = v->ex->pat;
	size_t at = (size_t)((v->base + v->echoed) % pat->len);
	size_t run = pat->line - at % pat->line;     /* to the end of the line */
	size_t k = min3(n, run, sent - v->echoed);

	if (v->echoed >= sent) {
		*why = "more bytes echoed than were sent";
		return 0;
	}
	if (memcmp(buf, pat->block + at, k) != 0) {
		*why = "echoed data differs from what was sent";
		return 0;
	}
	v->echoed += k;
	v->line_start = k == run;
	v->prefix_pos = 0;
	return k;
}

/* Checks the next bytes against the rest of s (greeting or prefix). */
static size_t
verifier_fixed(const char *s, size_t len, size_t *pos, const char *buf,
    size_t n, const char **why, const char *what)
{
	size_t k = len - *pos < n ? len - *pos : n;

	if (memcmp(buf, s + *pos, k) != 0) {
		*why = what;
		return 0;
	}
	*pos += k;
	return k;
}

int
verifier_feed(struct verifier *v, const char *buf, size_t n, uint64_t sent,
    const char **why)
{
	const struct expect *ex = v->ex;

	while (n > 0) {
		size_t k;
		if (v->greet_pos < ex->greeting_len)
			k = verifier_fixed(ex->greeting, ex->greeting_len,
			    &v->greet_pos, buf, n, why, "greeting differs");
		else if (v->line_start && v->prefix_pos < ex->prefix_len)
			k = verifier_fixed(ex->prefix, ex->prefix_len,
			    &v->prefix_pos, buf, n, why, "line prefix differs");
		else
			k = verifier_data(v, buf, n, sent, why);
		if (k == 0)
			return -1;
		buf += k;
		n -= k;
	}
	return 0;
}
