/*
 * cpushare.h: a busy worker thread's fair turn on its CPU core.
 *
 * Linux switches a thread that never sleeps out for the others waiting on
 * its core only at its clock tick: a thread that always finds work, as an
 * epoll loop under load does, keeps its core for up to 4 ms at Debian's
 * 250 Hz, and every other task queued on that core waits that long:
 * clients on the same host, other daemons, echod's other worker threads.
 *
 * So a worker thread runs to a slice of its own (the "cpu_slice" setting).
 * It asks the kernel for scheduler slices of that length, and calls
 * cpushare_check after each batch of events: once it has run a slice
 * without sleeping or being switched out, it yields the core
 * (sched_yield). A yield returns at once when nothing else waits; with
 * slices this short it gives up no more than the kernel's fair share, so
 * a CPU-bound neighbour still gets no more time than it would otherwise.
 */
#ifndef ECHOD_CPUSHARE_H
#define ECHOD_CPUSHARE_H

#include <stdint.h>

struct cpushare {
	uint64_t slice_us;          /* 0: never yield */
	uint64_t since_us;          /* start of the span being checked */
	long switches;              /* the thread's context switches at since_us */
	unsigned long yields;       /* times the core was offered */
};

/*
 * Sets up cs for the calling thread, with its first span starting at
 * now_us, and asks the kernel for scheduler slices of slice_us (not when
 * 0, nor under a real-time policy). Returns 0, or -1 with errno when the
 * kernel refused the slice; cs is usable either way.
 */
int cpushare_init(struct cpushare *cs, unsigned slice_us, uint64_t now_us);

/* Yields the core if the calling thread has not left it since a span of
 * slice_us began; then starts the next span. */
void cpushare_check(struct cpushare *cs, uint64_t now_us);

/* Context switches (voluntary and not) of the calling thread so far. */
long cpushare_switches(void);

#endif
