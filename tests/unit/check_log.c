/*
 * check_log.c: unit tests for log.c, the logger thread and its queue.
 *
 * Each test points stderr at a pipe of one page that nobody reads while it
 * floods the log, so the logger thread blocks and the queue overflows;
 * then a reader drains the pipe while log_stop() lets the thread finish.
 * Every line must then be written or counted as dropped, and the
 * "N log messages dropped" line follow log.level like any other.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define FLOOD_LINES 3000
#define OUTPUT_MAX (1024 * 1024)

/* What the logger wrote to stderr, read by a thread of the test. */
static struct {
	int fd;
	char buf[OUTPUT_MAX];
	size_t len;
	pthread_t thread;
} out;

/* Points stderr at a one-page pipe; the read end is out.fd. */
static void stderr_to_small_pipe(void)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ge(fcntl(fds[1], F_SETPIPE_SZ, 4096), 4096);
	ck_assert_int_eq(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
	close(fds[1]);
	out.fd = fds[0];
	out.len = 0;
}

static void *read_output(void *arg)
{
	ssize_t n;

	(void)arg;
	while ((n = read(out.fd, out.buf + out.len, sizeof out.buf - 1 - out.len)) > 0)
		out.len += (size_t)n;
	out.buf[out.len] = '\0';
	return NULL;
}

/* Drains the pipe while the logger thread finishes; out.buf has it all. */
static void stop_and_read(void)
{
	ck_assert_int_eq(pthread_create(&out.thread, NULL, read_output, NULL), 0);
	log_stop();
	close(STDERR_FILENO);
	pthread_join(out.thread, NULL);
	close(out.fd);
}

static unsigned long count_lines(const char *needle)
{
	unsigned long n = 0;

	for (const char *p = out.buf; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The sum of N over the "N log messages dropped" lines. */
static unsigned long reported_dropped(void)
{
	unsigned long sum = 0;
	const char *p = out.buf;

	while ((p = strstr(p, "echod: ")) != NULL) {
		unsigned long n;
		char rest[32];
		p += strlen("echod: ");
		if (sscanf(p, "%lu log messages %31s", &n, rest) == 2 &&
		    strcmp(rest, "dropped") == 0)
			sum += n;
	}
	return sum;
}

/* Floods the log at prio with level as log.level; returns the lines written. */
static unsigned long flood(int level, int prio)
{
	stderr_to_small_pipe();
	log_open(-1, level);
	ck_assert_int_eq(log_start(), 0);
	for (int i = 0; i < FLOOD_LINES; i++)
		log_msg(prio, "flood line %d", i);
	stop_and_read();
	return count_lines("echod: flood line ");
}

/* Every line is written or counted; the count is logged at warning. */
START_TEST(test_every_line_written_or_counted)
{
	unsigned long written = flood(LOG_INFO, LOG_INFO);

	ck_assert_uint_gt(log_dropped_total(), 0);
	ck_assert_uint_eq(written + log_dropped_total(), FLOOD_LINES);
	ck_assert_uint_eq(reported_dropped(), log_dropped_total());
}
END_TEST

/* With log.level err, the warning that lines were dropped is not logged. */
START_TEST(test_dropped_line_follows_the_level)
{
	unsigned long written = flood(LOG_ERR, LOG_ERR);

	ck_assert_uint_gt(log_dropped_total(), 0);
	ck_assert_uint_eq(written + log_dropped_total(), FLOOD_LINES);
	ck_assert_msg(count_lines("log messages dropped") == 0,
	    "a warning was logged at log.level err");
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("queue");

	tcase_add_test(tc, test_every_line_written_or_counted);
	tcase_add_test(tc, test_dropped_line_follows_the_level);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
