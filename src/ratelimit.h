/*
 * ratelimit.h: lets a repeated log line through at most once per interval
 * and counts what it held back, so a flood of refusals or descriptor
 * errors costs one line per second, not one per event.
 */
#ifndef ECHOD_RATELIMIT_H
#define ECHOD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t interval_ms;
	uint64_t last_ms;       /* when a line last went through; 0 = never */
	unsigned long held;     /* events held back since then */
};

void ratelimit_init(struct ratelimit *rl, uint64_t interval_ms);

/*
 * True when a line may be logged now; *held then receives the number of
 * events suppressed since the previous line. Not thread-safe: one per thread.
 */
bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ms, unsigned long *held);

#endif
