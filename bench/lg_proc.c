/*
 * lg_proc.c: a server's process tree, its CPU time and memory (see
 * lg_proc.h). Reads /proc only; never signals or waits for anything.
 */
#include "lg_proc.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct proc_entry {
	pid_t pid, ppid;
	unsigned long long ticks;   /* utime + stime + cutime + cstime */
	bool in_tree;
};

struct proc_table {
	struct proc_entry *e;
	size_t n, cap;
};

/* Reads ppid and CPU ticks from /proc/PID/stat; 0 or -1. */
static int
proc_read_stat(pid_t pid, struct proc_entry *pe)
{
	char path[64], buf[1024];
	unsigned long long ut, st, cut, cst;
	const char *p;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* After "comm)": state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime ... */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
	    &pe->ppid, &ut, &st, &cut, &cst) != 5)
		return -1;
	pe->pid = pid;
	pe->ticks = ut + st + cut + cst;
	pe->in_tree = false;
	return 0;
}

static int
proc_table_add(struct proc_table *t, const struct proc_entry *pe)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 512;
		struct proc_entry *e = realloc(t->e, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		t->e = e;
		t->cap = cap;
	}
	t->e[t->n++] = *pe;
	return 0;
}

/* Every process now in /proc, with its parent and CPU ticks. */
static int
proc_table_load(struct proc_table *t)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct proc_entry pe;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (proc_read_stat((pid_t)atoi(de->d_name), &pe) == 0 &&
		    proc_table_add(t, &pe) < 0)
			break;
	}
	closedir(d);
	return 0;
}

/* Marks root and its descendants; returns how many. */
static int
proc_table_mark(struct proc_table *t, pid_t root)
{
	int marked = 0;
	bool grew = true;

	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].pid == root) {
			t->e[i].in_tree = true;
			marked = 1;
		}
	while (grew && marked > 0) {
		grew = false;
		for (size_t i = 0; i < t->n; i++) {
			for (size_t j = 0; !t->e[i].in_tree && j < t->n; j++) {
				if (t->e[j].in_tree && t->e[j].pid == t->e[i].ppid) {
					t->e[i].in_tree = true;
					marked++;
					grew = true;
				}
			}
		}
	}
	return marked;
}

/* Adds Rss and Pss (kB) from /proc/PID/smaps_rollup to out. */
static void
proc_add_memory(pid_t pid, struct proc_sample *out)
{
	char path[64], line[256];
	unsigned long long kib;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Rss: %llu kB", &kib) == 1)
			out->rss_kib += kib;
		else if (sscanf(line, "Pss: %llu kB", &kib) == 1)
			out->pss_kib += kib;
	}
	fclose(f);
}

int
proc_sample_tree(pid_t root, bool with_memory, struct proc_sample *out)
{
	struct proc_table t = { 0 };
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);

	memset(out, 0, sizeof(*out));
	if (proc_table_load(&t) < 0)
		return -1;
	out->procs = proc_table_mark(&t, root);
	for (size_t i = 0; i < t.n; i++) {
		if (!t.e[i].in_tree)
			continue;
		ticks += t.e[i].ticks;
		if (with_memory)
			proc_add_memory(t.e[i].pid, out);
	}
	free(t.e);
	out->cpu_s = (double)ticks / (double)(hz > 0 ? hz : 100);
	return out->procs > 0 ? 0 : -1;
}

int
proc_system_cpu(double *busy_s, double *steal_s)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	long hz = sysconf(_SC_CLK_TCK);
	double tick = 1.0 / (double)(hz > 0 ? hz : 100);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
	    &sys, &idle, &iowait, &irq, &softirq, &steal);
	fclose(f);
	if (n != 8)
		return -1;
	*busy_s = (double)(user + nice + sys + irq + softirq) * tick;
	*steal_s = (double)steal * tick;
	return 0;
}

/* One /proc/net/tcp address, "0100007F:1F90", is a? */
static bool
proc_tcp_addr_is(const char *field, const struct sockaddr_in *a)
{
	unsigned addr, port;

	return sscanf(field, "%8X:%4X", &addr, &port) == 2 &&
	    addr == a->sin_addr.s_addr && port == ntohs(a->sin_port);
}

int
proc_tcp_sock(const struct sockaddr_in *local, const struct sockaddr_in *remote,
    struct proc_tcp_sock *out)
{
	char line[512], laddr[64], raddr[64];
	unsigned long tx, rx, when;
	int timer, retr, found = -1;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (f == NULL)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*d: %63s %63s %*x %lx:%lx %x:%lx %x", laddr, raddr,
		    &tx, &rx, &timer, &when, &retr) == 7 &&
		    proc_tcp_addr_is(laddr, local) && proc_tcp_addr_is(raddr, remote)) {
			*out = (struct proc_tcp_sock){ .tx = (long)tx, .rx = (long)rx,
			    .timer = timer, .timer_ms = (long)when * 1000 / sysconf(_SC_CLK_TCK),
			    .retransmits = retr };
			found = 0;
		}
	}
	fclose(f);
	return found;
}
