/*
 * check_cpushare.c: unit tests of a worker thread's turn on its core
 * (cpushare.c): the slice asked of the kernel, and when the core is
 * offered: after a slice run without sleeping, not within a slice, a
 * slice counted from the last epoll_wait that slept, never with 0.
 */
#include <check.h>
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
#define T0         1000     /* an arbitrary clock reading, microseconds */

START_TEST(offers_the_core_after_a_slice_without_a_wait)
{
	struct cpushare cs;

	ck_assert_int_eq(cpushare_init(&cs, SLICE, T0), 0);
	cpushare_waited(&cs, T0 + 10, T0 + 10 + CPUSHARE_SLEPT_US); /* at once */
	cpushare_check(&cs, T0 + SLICE);
	ck_assert_uint_eq(cs.yields, 1);
	ck_assert_uint_eq(cs.since_us, T0 + SLICE);
	cpushare_check(&cs, T0 + 2 * SLICE - 1);
	ck_assert_uint_eq(cs.yields, 1);
	cpushare_check(&cs, T0 + 2 * SLICE);
	ck_assert_uint_eq(cs.yields, 2);
}
END_TEST

START_TEST(keeps_the_core_within_a_slice)
{
	struct cpushare cs;

	cpushare_init(&cs, SLICE, T0);
	cpushare_check(&cs, T0 + SLICE - 1);
	ck_assert_uint_eq(cs.yields, 0);
	ck_assert_uint_eq(cs.since_us, T0);
}
END_TEST

START_TEST(a_slice_counts_from_the_last_sleep)
{
	struct cpushare cs;
	uint64_t woke = T0 + 150;

	cpushare_init(&cs, SLICE, T0);
	cpushare_waited(&cs, woke - CPUSHARE_SLEPT_US - 1, woke);
	ck_assert_uint_eq(cs.since_us, woke);
	cpushare_check(&cs, T0 + SLICE);
	ck_assert_uint_eq(cs.yields, 0);
	cpushare_check(&cs, woke + SLICE);
	ck_assert_uint_eq(cs.yields, 1);
}
END_TEST

START_TEST(never_offers_with_a_zero_slice)
{
	struct cpushare cs;

	cpushare_init(&cs, 0, T0);
	cpushare_check(&cs, T0 + 1000000);
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

	ck_assert_int_eq(cpushare_init(&cs, 300, T0), 0);
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

	tcase_add_test(tc, offers_the_core_after_a_slice_without_a_wait);
	tcase_add_test(tc, keeps_the_core_within_a_slice);
	tcase_add_test(tc, a_slice_counts_from_the_last_sleep);
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
