/*
 * main.c: echod's command line, start-up order and exit statuses.
 *
 * Start-up order, and why:
 *  0. descriptors inherited beyond stdio closed, systemd's sockets kept: a
 *     caller's pipe is not held for the daemon's life;
 *  1. options, then the config: every error goes to the terminal;
 *  2. signals blocked before any thread exists, so every thread inherits it;
 *  3. pidfile, then listeners: a second instance is told so, a busy port
 *     is told so, both before detaching, with a non-zero status;
 *  4. detach (unless -f): the original process waits for step 6;
 *  5. the master starts its logger thread (after daemonizing: threads only
 *     after that fork) and forks the worker process, which queues its log
 *     lines from the fork on and starts its own logger thread and the pool
 *     once it has dropped privileges and blocked its signals;
 *  6. once the worker serves: report ready, point stdio at /dev/null,
 *     supervise until stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echod-build.h"
#include "config.h"
#include "daemon.h"
#include "exitcodes.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "sysutil.h"

struct options {
	const char *config_path;
	const char *pidfile;        /* NULL: the config's */
	int foreground;
	int test_only;
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: echod [-f] [-t] [-c file] [-p pidfile] [-h] [-V]\n"
	    "  -c file     config file (default %s)\n"
	    "  -f          stay in the foreground, log to stderr too\n"
	    "  -t          check the config file and exit\n"
	    "  -p pidfile  pidfile, overriding the config (\"\" for none)\n"
	    "  -h          this help\n"
	    "  -V          print the version\n", ECHOD_CONF_PATH);
}

static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Prints "echod: " and the message, then the usage, on stderr; exits 64. */
static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("echod: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(EXIT_USAGE);
}

/*
 * path, made absolute from the directory echod was started in: the
 * daemon works from "/", and reads the config file again on a reload and
 * removes the pidfile at exit. buf holds the result (PATH_MAX bytes).
 */
static const char *
absolute_path(const char *path, char *buf)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || path[0] == '\0')
		return path;
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "echod: cannot find the current directory for %s: %s\n",
		    path, strerror(errno));
		exit(EXIT_OSERR);
	}
	if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX) {
		fprintf(stderr, "echod: %s/%s: path too long\n", cwd, path);
		exit(EXIT_USAGE);
	}
	return buf;
}

/*
 * Parses argv into opts; exits on -h, -V and usage errors. There are no
 * long options: getopt_long only lets "--help" be reported whole (getopt
 * stops at its second "-", and does not say in which argument).
 */
static void
parse_options(int argc, char **argv, struct options *opts)
{
	static const struct option no_long_options[] = { { NULL, 0, NULL, 0 } };
	static char config_buf[PATH_MAX], pidfile_buf[PATH_MAX];
	int ch;

	opts->config_path = ECHOD_CONF_PATH;
	while ((ch = getopt_long(argc, argv, ":c:fhp:tV", no_long_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': opts->config_path = optarg; break;
		case 'f': opts->foreground = 1; break;
		case 'p': opts->pidfile = optarg; break;
		case 't': opts->test_only = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("echod %s\n", PACKAGE_VERSION); exit(0);
		case ':': usage_error("option -%c needs an argument", optopt);
		default:
			if (optopt == 0)        /* an unknown "--name" */
				usage_error("unknown option %s", argv[optind - 1]);
			usage_error("unknown option -%c", optopt);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (opts->config_path[0] == '\0')
		usage_error("option -c needs a file name");
	opts->config_path = absolute_path(opts->config_path, config_buf);
	if (opts->pidfile != NULL)
		opts->pidfile = absolute_path(opts->pidfile, pidfile_buf);
}

static void
report_config_error(void *ctx, const char *msg)
{
	(void)ctx;
	log_errx("%s", msg);
}

/* Loads the config or exits with EXIT_CONFIG; with -t, exits either way. */
static struct config *
load_config(const struct options *opts)
{
	struct config *cfg = config_load(opts->config_path, report_config_error, NULL);

	if (cfg == NULL)
		exit(EXIT_CONFIG);
	if (opts->test_only) {
		log_notice("%s: configuration OK", opts->config_path);
		config_unref(cfg);
		exit(0);
	}
	return cfg;
}

/* Steps 3 and 4: pidfile, listeners, detaching. Returns the ready pipe or -1. */
static int
claim_and_detach(struct master *m, struct pidfile *pf, const struct options *opts)
{
	const char *path = opts->pidfile ? opts->pidfile : m->cfg->pidfile;
	int status = pidfile_acquire(pf, path);
	int ready = -1;

	if (status != 0)
		exit(status);
	/* Written before the first client can connect; again once detached. */
	if (pidfile_write(pf, getpid()) < 0) {
		pidfile_release(pf);
		exit(EXIT_CANTCREAT);
	}
	if (master_listen(m) < 0) {
		pidfile_release(pf);
		exit(EXIT_OSERR);
	}
	if (!opts->foreground && (ready = daemon_detach()) < 0) {
		pidfile_release(pf);
		exit(EXIT_OSERR);
	}
	if (ready >= 0 && pidfile_write(pf, getpid()) < 0) {
		pidfile_release(pf);
		daemon_ready(ready, EXIT_CANTCREAT);
		exit(EXIT_CANTCREAT);
	}
	return ready;
}

int
main(int argc, char **argv)
{
	struct options opts = { 0 };
	struct master m = { .ready_fd = -1 };
	struct pidfile pf;
	int status;

	if (stdio_fill_closed() < 0)
		return EXIT_OSERR;
	/* What a caller left open beyond stdio (the pipe it waits on) is not
	 * the daemon's to hold for its whole life; systemd's sockets are. */
	closefrom(3 + notify_passed_fds());
	parse_options(argc, argv, &opts);
	m.config_path = opts.config_path;
	m.pidfile_from_cli = opts.pidfile != NULL;
	m.cfg = load_config(&opts);
	log_open(m.cfg->log_facility, m.cfg->log_level);
	if (log_stderr_is_journal())
		log_set_stderr(false);     /* syslog reaches the journal already */
	master_block_signals(&m);
	master_raise_fd_limit(m.cfg);
	m.ready_fd = claim_and_detach(&m, &pf, &opts);
	m.pidfile = &pf;
	status = master_run(&m);
	pidfile_release(&pf);
	log_msg(status ? LOG_ERR : LOG_NOTICE, "echod %s", status ? "not started" : "stopped");
	log_stop();
	/* Last, so that a starting process that was not told yet exits once
	 * all is done; told to stop before it served, it must not say started. */
	daemon_ready(m.ready_fd, status ? status : EXIT_STOPPED_EARLY);
	config_unref(m.cfg);
	return status;
}
