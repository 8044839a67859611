/*
 * config.h: echod's settings, as loaded from a libconfig file.
 *
 * A struct config is immutable once loaded and shared by reference count:
 * the master holds one, every worker and every connection holds its own
 * reference to the config it was created with, so a reload never changes
 * the settings under a running connection.
 */
#ifndef ECHOD_CONFIG_H
#define ECHOD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONFIG_MAX_LISTEN   16      /* addresses in "listen" at most */
#define CONFIG_MAX_GREETING 8192    /* bytes in "greeting" at most */
#define CONFIG_MAX_PREFIX   1024    /* bytes in "reply_prefix" at most */
#define CONFIG_MAX_THREADS  1024
#define CONFIG_MAX_CPU_SLICE 100000 /* microseconds in "cpu_slice" at most */

struct config {
	int refs;                    /* atomic; see config_ref() */
	char *path;                  /* the file it came from ("" for defaults) */

	int port;                    /* 1..65535 */
	char *listen[CONFIG_MAX_LISTEN];  /* numeric IPv4/IPv6 addresses */
	size_t nlisten;
	int backlog;                 /* 1..65535 */
	int threads;                 /* 0 = one per online CPU, else 1..1024 */
	int cpu_slice;               /* microseconds, 0 = never yield, 0..100000 */
	long max_connections;        /* 1..1000000 */
	int idle_timeout;            /* seconds, 0 = never */
	size_t buffer_size;          /* 1024..16777216 */
	char *greeting;              /* may be "" */
	size_t greeting_len;
	char *reply_prefix;          /* may be "" */
	size_t reply_prefix_len;
	int shutdown_timeout;        /* seconds, 0..86400 */
	char *pidfile;               /* "" = none */
	char *user;                  /* "" = keep the starting user */
	char *group;                 /* "" = the user's primary group */
	uid_t uid;                   /* user's, when user is set */
	gid_t gid;                   /* group's, or user's primary group */

	int log_facility;            /* LOG_DAEMON, LOG_USER, LOG_LOCAL0..7 */
	int log_level;               /* LOG_ERR..LOG_DEBUG */
	bool log_connections;
};

/* Receives one error message, already formatted as "file:line: key: text". */
typedef void config_report_fn(void *ctx, const char *msg);

/*
 * Loads and validates path. Every error found is passed to report (all of
 * them, not just the first); on any error NULL is returned and nothing
 * else changes. On success returns a config with one reference.
 */
struct config *config_load(const char *path, config_report_fn *report, void *ctx);

/* The built-in defaults (one reference), or NULL when out of memory. */
struct config *config_defaults(void);

struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);

/* The worker thread count: cfg->threads, or the online CPUs when 0. */
int config_thread_count(const struct config *cfg);

#endif
