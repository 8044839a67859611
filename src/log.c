/*
 * log.c: echod's log (see log.h for the API and what each level is for).
 *
 * Owns the syslog connection, the stderr copy and the logger thread with
 * its bounded queue. Any thread may log; only the logger thread (or, before
 * log_start(), the caller itself) calls syslog(3) and writes to stderr.
 */
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX   1024     /* a queued line, with its NUL: see log_enqueue */
#define LOG_TEXT_MAX   (PATH_MAX + 1024)    /* one written at once: see log_vmsg */
#define LOG_QUEUE_LEN  1024
#define LOG_STOP_WAIT_S 2
#define LOG_FLUSH_WAIT_MS 1000
#define LOG_FORK_WAIT_MS 200
#define LOG_BATCH_LINES 64      /* lines written together at once */
#define LOG_BATCH_WAIT_MS 5     /* the longest a line waits for a batch */

struct log_line {
	int prio;
	char text[LOG_LINE_MAX];
};

static struct {
	int level;              /* atomic: lines above it are not formatted */
	int to_stderr;          /* atomic */
	int facility;           /* atomic: what syslog should be opened with */
	int opened_facility;    /* what it is open with; -1 = not open */
	int output_broken;      /* forked while the output was busy: see log_after_fork */
	int queue_early;        /* forked: lines wait in the queue for log_start() */
	pthread_mutex_t emit;   /* held while a line is written out */
	pthread_mutex_t lock;   /* guards everything below */
	pthread_cond_t wake;
	pthread_cond_t started_cond;
	pthread_cond_t drained;     /* the queue was written out */
	int started;            /* the logger thread runs its loop */
	pthread_t thread;
	int running;            /* the logger thread owns the output */
	int stopping;
	size_t head, count;
	unsigned long dropped;  /* since the last "dropped" line */
	unsigned long dropped_total;
	struct log_line queue[LOG_QUEUE_LEN];
} lg = {
	.level = LOG_INFO,
	.to_stderr = 1,
	.facility = -1,
	.opened_facility = -1,
	.emit = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.started_cond = PTHREAD_COND_INITIALIZER,
	.drained = PTHREAD_COND_INITIALIZER,
};

void
log_open(int facility, int level)
{
	__atomic_store_n(&lg.facility, facility, __ATOMIC_RELEASE);
	__atomic_store_n(&lg.level, level, __ATOMIC_RELAXED);
}

void
log_set_stderr(bool to_stderr)
{
	__atomic_store_n(&lg.to_stderr, to_stderr, __ATOMIC_RELAXED);
}

bool
log_stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (stream == NULL || sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

/* Opens syslog, or reopens it with a new facility, in the writing thread. */
static void
log_sync_facility(void)
{
	int facility = __atomic_load_n(&lg.facility, __ATOMIC_ACQUIRE);

	if (facility == lg.opened_facility || facility < 0)
		return;
	if (lg.opened_facility >= 0)
		closelog();
	openlog("echod", LOG_PID | LOG_NDELAY, facility);
	lg.opened_facility = facility;
}

/*
 * Writes a line to stderr. When stderr is the journal (only before syslog
 * is open: a config error, "echod -t"), a "<N>" prefix gives the journal
 * the line's priority, as sd-daemon(3) describes.
 */
static void
log_write_stderr(int prio, const char *text)
{
	static int journal = -1;

	if (journal < 0)
		journal = log_stderr_is_journal();
	if (journal)
		fprintf(stderr, "<%d>echod: %s\n", prio, text);
	else
		fprintf(stderr, "echod: %s\n", text);
	fflush(stderr);
}

/*
 * Writes one line to its destinations, in one thread at a time: the
 * caller before log_start(), the logger thread after. Holds lg.emit so
 * that a fork never copies syslog's or stderr's locks mid-write.
 */
static void
log_emit(int prio, const char *text)
{
	pthread_mutex_lock(&lg.emit);
	if (!lg.output_broken) {
		log_sync_facility();
		if (lg.opened_facility >= 0)
			syslog(prio, "%s", text);
		if (__atomic_load_n(&lg.to_stderr, __ATOMIC_RELAXED))
			log_write_stderr(prio, text);
	}
	pthread_mutex_unlock(&lg.emit);
}

/* The time ms milliseconds from now on clock. */
static struct timespec
log_deadline(clockid_t clock, long ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/*
 * Lets a first line wait LOG_BATCH_WAIT_MS for others, unless
 * LOG_BATCH_LINES are queued sooner or echod is stopping; the caller
 * holds the lock. Written in batches, lines cost a wakeup of this thread
 * and of the syslog daemon per batch instead of per line.
 */
static void
log_gather_batch(void)
{
	struct timespec until = log_deadline(CLOCK_MONOTONIC, LOG_BATCH_WAIT_MS);

	while (lg.count > 0 && lg.count < LOG_BATCH_LINES && !lg.stopping)
		if (pthread_cond_clockwait(&lg.wake, &lg.lock, CLOCK_MONOTONIC, &until) != 0)
			break;
}

/*
 * Writes the n lines from the head of the queue, without the lock: they
 * stay counted until written, so no caller writes to their slots.
 */
static void
log_emit_queued(size_t head, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct log_line *line = &lg.queue[(head + i) % LOG_QUEUE_LEN];
		log_emit(line->prio, line->text);
	}
}

/* Whether lines of priority prio are logged: log.level's, err always. */
static bool
log_wanted(int prio)
{
	return prio <= __atomic_load_n(&lg.level, __ATOMIC_RELAXED) || prio <= LOG_ERR;
}

/*
 * Says how many lines were dropped, once half the queue is free again: a
 * warning, so not with log.level err (the stats line still counts them).
 */
static void
log_report_dropped(void)
{
	char text[64];
	unsigned long n;

	pthread_mutex_lock(&lg.lock);
	n = lg.count <= LOG_QUEUE_LEN / 2 ? lg.dropped : 0;
	lg.dropped -= n;
	pthread_mutex_unlock(&lg.lock);
	if (n == 0 || !log_wanted(LOG_WARNING))
		return;
	snprintf(text, sizeof(text), "%lu log messages dropped", n);
	log_emit(LOG_WARNING, text);
}

static void *
log_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lg.lock);
	lg.started = 1;
	pthread_cond_signal(&lg.started_cond);
	for (;;) {
		while (lg.count == 0 && !lg.stopping)
			pthread_cond_wait(&lg.wake, &lg.lock);
		log_gather_batch();
		if (lg.count == 0)
			break;
		size_t head = lg.head, n = lg.count;
		pthread_mutex_unlock(&lg.lock);
		log_emit_queued(head, n);
		pthread_mutex_lock(&lg.lock);
		lg.head = (head + n) % LOG_QUEUE_LEN;
		lg.count -= n;
		if (lg.count == 0)
			pthread_cond_broadcast(&lg.drained);
		pthread_mutex_unlock(&lg.lock);
		log_report_dropped();
		pthread_mutex_lock(&lg.lock);
	}
	pthread_mutex_unlock(&lg.lock);
	log_report_dropped();
	return NULL;
}

/* Signals a thread raises itself by a fault: never blocked. */
static const int log_fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    SIGTRAP, SIGSYS, SIGABRT };

int
log_start(void)
{
	sigset_t all, old;
	int err;

	lg.stopping = 0;
	/* No signal for the logger thread: they are the caller's to take.
	 * Faults of its own still reach it, for a crash to be reported. */
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(log_fault_signals) / sizeof(log_fault_signals[0]); i++)
		sigdelset(&all, log_fault_signals[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&lg.thread, NULL, log_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		errno = err;
		return -1;
	}
	pthread_setname_np(lg.thread, "echod-log");
	/*
	 * Wait until the thread runs its loop: a thread still starting may be
	 * inside the allocator (its own set-up), and a fork then would copy
	 * that lock held (AddressSanitizer's allocator does not guard fork).
	 */
	pthread_mutex_lock(&lg.lock);
	while (!lg.started)
		pthread_cond_wait(&lg.started_cond, &lg.lock);
	pthread_mutex_unlock(&lg.lock);
	__atomic_store_n(&lg.running, 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Gives the logger thread LOG_STOP_WAIT_S to write what is queued; a
 * stalled syslog must not keep echod from exiting, so after that the
 * thread is left behind (the process is about to end) and the lines lost.
 */
void
log_stop(void)
{
	struct timespec deadline;

	/* Lines queued since a fork, and no thread to write them yet: one
	 * is started for them (the process is about to end). */
	if (!__atomic_load_n(&lg.running, __ATOMIC_ACQUIRE) &&
	    (!lg.queue_early || lg.count == 0 || log_start() < 0))
		return;
	pthread_mutex_lock(&lg.lock);
	lg.stopping = 1;
	pthread_cond_signal(&lg.wake);
	pthread_mutex_unlock(&lg.lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += LOG_STOP_WAIT_S;
	if (pthread_timedjoin_np(lg.thread, NULL, &deadline) != 0)
		return;     /* still running, and still owning the output */
	__atomic_store_n(&lg.running, 0, __ATOMIC_RELEASE);
}

void
log_flush(void)
{
	struct timespec until = log_deadline(CLOCK_MONOTONIC, LOG_FLUSH_WAIT_MS);

	if (!__atomic_load_n(&lg.running, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&lg.lock);
	while (lg.count > 0)
		if (pthread_cond_clockwait(&lg.drained, &lg.lock, CLOCK_MONOTONIC, &until) != 0)
			break;
	pthread_mutex_unlock(&lg.lock);
}

bool
log_before_fork(void)
{
	struct timespec deadline = log_deadline(CLOCK_REALTIME, LOG_FORK_WAIT_MS);

	return pthread_mutex_timedlock(&lg.emit, &deadline) == 0;
}

void
log_after_fork_parent(bool held)
{
	if (held)
		pthread_mutex_unlock(&lg.emit);
}

void
log_after_fork_child(bool held)
{
	pthread_mutex_init(&lg.emit, NULL);
	pthread_mutex_init(&lg.lock, NULL);
	pthread_cond_init(&lg.wake, NULL);
	pthread_cond_init(&lg.started_cond, NULL);
	pthread_cond_init(&lg.drained, NULL);
	lg.running = lg.stopping = lg.started = 0;
	lg.head = lg.count = 0;
	lg.dropped = lg.dropped_total = 0;
	if (!held)
		lg.output_broken = 1;
	lg.queue_early = 1;
}

unsigned long
log_dropped_total(void)
{
	unsigned long n;

	pthread_mutex_lock(&lg.lock);
	n = lg.dropped_total;
	pthread_mutex_unlock(&lg.lock);
	return n;
}

/*
 * Hands a line (len bytes) to the logger thread, or drops and counts it
 * when the queue is full. The thread is woken for the first line and for
 * a full batch: see log_gather_batch. A slot holds the longest line echod
 * makes in its work (the start line with 16 IPv6 addresses); a longer
 * one, a config error naming a path of many hundred bytes, ends in "...".
 */
static void
log_enqueue(int prio, const char *text, size_t len)
{
	pthread_mutex_lock(&lg.lock);
	if (lg.count == LOG_QUEUE_LEN) {
		lg.dropped++;
		lg.dropped_total++;
	} else {
		struct log_line *slot = &lg.queue[(lg.head + lg.count) % LOG_QUEUE_LEN];
		slot->prio = prio;
		if (len >= LOG_LINE_MAX) {
			memcpy(slot->text, text, LOG_LINE_MAX - 4);
			memcpy(slot->text + LOG_LINE_MAX - 4, "...", 4);
		} else
			memcpy(slot->text, text, len + 1);
		lg.count++;
		if (lg.count == 1 || lg.count == LOG_BATCH_LINES)
			pthread_cond_signal(&lg.wake);
	}
	pthread_mutex_unlock(&lg.lock);
}

/*
 * Formats a line and writes it, or queues it once the logger thread runs.
 * Before that (start-up, "echod -t") a line may be as long as a config
 * error naming its file by a path of PATH_MAX.
 */
static void
log_vmsg(int prio, int errnum, const char *fmt, va_list ap)
{
	char text[LOG_TEXT_MAX];
	int n;

	if (!log_wanted(prio))
		return;
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (errnum != 0 && n >= 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, ": %s", strerror(errnum));
	if (__atomic_load_n(&lg.running, __ATOMIC_ACQUIRE) || lg.queue_early)
		log_enqueue(prio, text, strlen(text));
	else
		log_emit(prio, text);
}

#define LOG_VARIADIC(prio, errnum)                \
	do {                                      \
		int saved_ = errno;               \
		va_list ap_;                      \
		va_start(ap_, fmt);               \
		log_vmsg((prio), (errnum), fmt, ap_); \
		va_end(ap_);                      \
		errno = saved_;                   \
	} while (0)

void log_msg(int prio, const char *fmt, ...) { LOG_VARIADIC(prio, 0); }
void log_err(const char *fmt, ...) { LOG_VARIADIC(LOG_ERR, errno); }
void log_errx(const char *fmt, ...) { LOG_VARIADIC(LOG_ERR, 0); }
void log_warn(const char *fmt, ...) { LOG_VARIADIC(LOG_WARNING, errno); }
void log_warnx(const char *fmt, ...) { LOG_VARIADIC(LOG_WARNING, 0); }
void log_notice(const char *fmt, ...) { LOG_VARIADIC(LOG_NOTICE, 0); }
void log_info(const char *fmt, ...) { LOG_VARIADIC(LOG_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_VARIADIC(LOG_DEBUG, 0); }

void
fatal(int status, const char *fmt, ...)
{
	LOG_VARIADIC(LOG_CRIT, errno);
	log_stop();
	exit(status);
}

