/*
 * lg_proc.h: what the server costs, read from /proc.
 *
 * Owns finding a server's whole process tree (the pid given plus every
 * descendant, by the ppid links in /proc/PID/stat) and adding up its CPU
 * time and its memory (Rss and Pss from /proc/PID/smaps_rollup); and the
 * machine's busy time, to tell how much other work ran beside a run.
 * Also reads a socket's queues from /proc/net/tcp, to tell which end of a
 * stuck connection holds its bytes. Knows nothing about the load.
 */
#ifndef LG_PROC_H
#define LG_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

struct proc_sample {
	double cpu_s;               /* user + system, reaped children included */
	uint64_t rss_kib;
	uint64_t pss_kib;
	int procs;                  /* processes in the tree; 0: root is gone */
};

/* Samples root's tree; memory only when with_memory. 0, or -1 if root is gone. */
int proc_sample_tree(pid_t root, bool with_memory, struct proc_sample *out);

/*
 * CPU seconds the machine has used (user, nice, system, irq and softirq
 * from /proc/stat: without CONFIG_IRQ_TIME_ACCOUNTING the kernel charges
 * interrupt time to the process it interrupted, so a process tree's time
 * includes its share of irq and softirq), and the seconds the hypervisor
 * gave to others (steal). 0, or -1.
 */
int proc_system_cpu(double *busy_s, double *steal_s);

/* An IPv4 TCP socket as /proc/net/tcp shows it. */
struct proc_tcp_sock {
	long tx;                    /* bytes sent and not yet acknowledged */
	long rx;                    /* bytes received and not yet read */
	int timer;                  /* 1 retransmit, 4 zero-window probe, 0 none... */
	long timer_ms;              /* when the timer fires */
	int retransmits;            /* unanswered retransmissions or probes */
};

/*
 * Looks up the socket bound to local and connected to remote. 0, or -1 if
 * there is no such socket.
 */
int proc_tcp_sock(const struct sockaddr_in *local,
    const struct sockaddr_in *remote, struct proc_tcp_sock *out);

#endif
