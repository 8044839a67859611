/*
 * cpushare.c: a worker thread's scheduler slice, and the yield after a
 * slice of running without a break (see cpushare.h for why). Owns only
 * the per-thread state it is given; not the event loop that calls it.
 */
#include "cpushare.h"

#include <sched.h>
#include <linux/sched.h>            /* SCHED_FLAG_RESET_ON_FORK */
#include <sys/syscall.h>
#include <unistd.h>

/*
 * The kernel's struct sched_attr, first version (sched_setattr(2)):
 * Debian 12's glibc has no wrapper for it, and <linux/sched/types.h>
 * clashes with <sched.h> there.
 */
struct cpushare_attr {
	uint32_t size;
	uint32_t policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime;           /* for SCHED_OTHER and SCHED_BATCH: the slice, ns */
	uint64_t deadline;
	uint64_t period;
};

/* Asks for slices of slice_us for the calling thread, keeping its policy
 * and nice value. Kernels before 6.12 accept the slice and ignore it. */
static int
cpushare_set_slice(unsigned slice_us)
{
	struct cpushare_attr a = { .size = sizeof a };

	if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) < 0)
		return -1;
	if (a.policy != SCHED_OTHER && a.policy != SCHED_BATCH)
		return 0;
	a.flags &= SCHED_FLAG_RESET_ON_FORK;
	a.runtime = (uint64_t)slice_us * 1000;
	return syscall(SYS_sched_setattr, 0, &a, 0) < 0 ? -1 : 0;
}

int
cpushare_init(struct cpushare *cs, unsigned slice_us, uint64_t now_us)
{
	cs->slice_us = slice_us;
	cs->since_us = now_us;
	cs->yields = 0;
	return slice_us > 0 ? cpushare_set_slice(slice_us) : 0;
}

void
cpushare_waited(struct cpushare *cs, uint64_t before_us, uint64_t after_us)
{
	if (after_us - before_us > CPUSHARE_SLEPT_US)
		cs->since_us = after_us;
}

void
cpushare_check(struct cpushare *cs, uint64_t now_us)
{
	if (cs->slice_us == 0 || now_us - cs->since_us < cs->slice_us)
		return;
	sched_yield();
	cs->yields++;
	cs->since_us = now_us;
}
