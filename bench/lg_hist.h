/*
 * lg_hist.h: a latency histogram for the load generator.
 *
 * Owns the buckets: exact below 128 ns, then 64 buckets per power of two
 * (under 1.6% error), so percentiles need no stored samples. One per
 * thread, merged at the end; nothing here locks.
 */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS) * (1 << HIST_SUB_BITS) + (2 << HIST_SUB_BITS))

struct hist {
	uint64_t count;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);

/* The value (ns) below which a fraction q (0 < q <= 1) of samples lie; 0 if empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
