/*
 * ratelimit.c: one log line per interval, with a count of the rest.
 */
#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, uint64_t interval_ms)
{
	rl->interval_ms = interval_ms;
	rl->last_ms = 0;
	rl->held = 0;
}

bool
ratelimit_pass(struct ratelimit *rl, uint64_t now_ms, unsigned long *held)
{
	if (rl->last_ms != 0 && now_ms - rl->last_ms < rl->interval_ms) {
		rl->held++;
		return false;
	}
	*held = rl->held;
	rl->held = 0;
	rl->last_ms = now_ms ? now_ms : 1;
	return true;
}
