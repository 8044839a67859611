/*
 * check_cpushare.c: unit tests of a worker thread's turn on its core
 * (cpushare.c): the slice asked of the kernel, and when the core is
 * offered: after a slice run without a break, not within a slice, not
 * when the thread already slept, never with a slice of 0.
 */
#include <check.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cpushare.h"

#define SLICE      200      /* microseconds */
#define SPAN_START 1000     /* an arbitrary clock reading, microseconds */
#define ATTEMPTS   3        /* a clock tick may switch us out at any moment */

/* Sets up cs with an unbroken span so far; false if a tick broke it. */
static bool
span_start_unbroken(struct cpushare *cs, unsigned slice)
{
	ck_assert_int_eq(cpushare_init(cs, slice, SPAN_START), 0);
	return cpushare_switches() == cs->switches;
}

START_TEST(offers_the_core_after_a_slice_without_a_break)
{
	struct cpushare cs;
	bool offered = false;

	for (int i = 0; i < ATTEMPTS && !offered; i++) {
		if (!span_start_unbroken(&cs, SLICE))
			continue;
		cpushare_check(&cs, SPAN_START + SLICE);
		offered = cs.yields == 1;
	}
	ck_assert(offered);
	ck_assert_uint_eq(cs.since_us, SPAN_START + SLICE);
}
END_TEST

START_TEST(keeps_the_core_within_a_slice)
{
	struct cpushare cs;

	span_start_unbroken(&cs, SLICE);
	cpushare_check(&cs, SPAN_START + SLICE - 1);
	ck_assert_uint_eq(cs.yields, 0);
	ck_assert_uint_eq(cs.since_us, SPAN_START);
}
END_TEST

START_TEST(keeps_the_core_after_sleeping_in_the_span)
{
	struct cpushare cs;

	span_start_unbroken(&cs, SLICE);
	poll(NULL, 0, 1);       /* the stimulus: this thread leaves the core */
	ck_assert_int_gt(cpushare_switches(), cs.switches);
	cpushare_check(&cs, SPAN_START + SLICE);
	ck_assert_uint_eq(cs.yields, 0);
	ck_assert_uint_eq(cs.since_us, SPAN_START + SLICE);
	ck_assert_int_eq(cs.switches, cpushare_switches());
}
END_TEST

START_TEST(never_offers_with_a_zero_slice)
{
	struct cpushare cs;

	span_start_unbroken(&cs, 0);
	cpushare_check(&cs, SPAN_START + 1000000);
	ck_assert_uint_eq(cs.yields, 0);
}
END_TEST

/* Whether this kernel uses a thread's sched_runtime as its slice (6.12). */
static bool
kernel_has_custom_slices(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	ck_assert_int_eq(uname(&u), 0);
	sscanf(u.release, "%d.%d", &major, &minor);
	return major > 6 || (major == 6 && minor >= 12);
}

START_TEST(asks_the_kernel_for_the_slice)
{
	struct cpushare cs;
	uint32_t attr[14] = { 0 };  /* struct sched_attr: runtime at byte 24 */
	uint64_t runtime;

	ck_assert_int_eq(cpushare_init(&cs, 300, SPAN_START), 0);
	ck_assert_int_eq(syscall(SYS_sched_getattr, 0, attr, sizeof attr, 0), 0);
	memcpy(&runtime, (char *)attr + 24, sizeof runtime);
	if (kernel_has_custom_slices())
		ck_assert_uint_eq(runtime, 300000);
}
END_TEST

static Suite *
cpushare_suite(void)
{
	Suite *s = suite_create("cpushare");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, offers_the_core_after_a_slice_without_a_break);
	tcase_add_test(tc, keeps_the_core_within_a_slice);
	tcase_add_test(tc, keeps_the_core_after_sleeping_in_the_span);
	tcase_add_test(tc, never_offers_with_a_zero_slice);
	tcase_add_test(tc, asks_the_kernel_for_the_slice);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cpushare_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
