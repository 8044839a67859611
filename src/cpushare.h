/*
 * cpushare.h: a busy worker thread's fair turn on its CPU core.
 *
 * Linux switches a thread that never sleeps out for the others waiting on
 * its core only at its clock tick: a thread that always finds work, as an
 * epoll loop under load does, keeps its core for up to 4 ms at Debian's
 * 250 Hz, and every other task queued on that core waits that long:
 * clients on the same host, other daemons, echod's other worker threads.
 *
 * So a worker thread runs to a slice of its own (the "cpu_slice"
 * setting). It asks the kernel for scheduler slices of that length, tells
 * cpushare how long each epoll_wait took, and calls cpushare_check after
 * each batch of events: once it has run a slice since it last waited for
 * events, it yields the core (sched_yield), which returns at once when
 * nothing else waits. With slices this short a yield gives up no more
 * than the kernel's fair share, so a CPU-bound neighbour gets no more
 * time than it would otherwise.
 */
#ifndef ECHOD_CPUSHARE_H
#define ECHOD_CPUSHARE_H

#include <stdint.h>

/* An epoll_wait that took longer than this slept (or was switched out):
 * one that returns ready events at once takes a microsecond or two. */
#define CPUSHARE_SLEPT_US 20

struct cpushare {
	uint64_t slice_us;          /* 0: never yield */
	uint64_t since_us;          /* when the thread last left the core */
	unsigned long yields;       /* times the core was offered */
};

/*
 * Sets up cs for the calling thread, as if it had just slept at now_us,
 * and asks the kernel for scheduler slices of slice_us (not when 0, nor
 * under a real-time policy). Returns 0, or -1 with errno when the kernel
 * refused the slice; cs is usable either way.
 */
int cpushare_init(struct cpushare *cs, unsigned slice_us, uint64_t now_us);

/* Notes an epoll_wait that ran from before_us to after_us. */
void cpushare_waited(struct cpushare *cs, uint64_t before_us, uint64_t after_us);

/* Yields the core if the calling thread has run slice_us since it last
 * left it; now_us is the time after the batch it has just served. */
void cpushare_check(struct cpushare *cs, uint64_t now_us);

#endif
