/*
 * check_ring.c: unit tests of the connection buffer (ring.c): the bound,
 * wrap-around, lazy allocation and release when empty.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

/* Reads everything held into out, oldest first, without consuming. */
static size_t
ring_peek(const struct ring *r, char *out)
{
	struct iovec iov[2];
	int n = ring_data_iov(r, iov);
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		memcpy(out + o, iov[i].iov_base, iov[i].iov_len);
		o += iov[i].iov_len;
	}
	return o;
}

START_TEST(empty_ring_holds_no_memory)
{
	struct ring r;
	struct iovec iov[2];

	ring_init(&r, 1024);
	ck_assert_ptr_null(r.data);
	ck_assert_uint_eq(ring_len(&r), 0);
	ck_assert_uint_eq(ring_space(&r), 1024);
	ck_assert_int_eq(ring_data_iov(&r, iov), 0);
}
END_TEST

START_TEST(append_is_bounded_by_capacity)
{
	struct ring r;
	char big[3000];

	memset(big, 'x', sizeof(big));
	ring_init(&r, 1024);
	ck_assert_int_eq(ring_append(&r, big, sizeof(big)), 1024);
	ck_assert_uint_eq(ring_len(&r), 1024);
	ck_assert_uint_eq(ring_space(&r), 0);
	ck_assert_int_eq(ring_append(&r, big, 1), 0);
	ring_release(&r);
}
END_TEST

START_TEST(consume_to_empty_frees)
{
	struct ring r;

	ring_init(&r, 1024);
	ck_assert_int_eq(ring_append(&r, "hello", 5), 5);
	ck_assert_ptr_nonnull(r.data);
	ring_consume(&r, 3);
	ck_assert_ptr_nonnull(r.data);
	ring_consume(&r, 2);
	ck_assert_ptr_null(r.data);
	ck_assert_uint_eq(ring_len(&r), 0);
}
END_TEST

/* Byte k of an endless test stream. */
static char
stream_byte(size_t k)
{
	return (char)(k * 7 + k / 251);
}

START_TEST(wraps_around_in_order)
{
	struct ring r;
	char chunk[400], out[1000];
	size_t written = 0, read = 0;

	ring_init(&r, 1000);
	/* Keep the ring part full while its window slides past the end. */
	for (int round = 0; round < 50; round++) {
		size_t want = 300 + (size_t)round % 7;
		for (size_t i = 0; i < want; i++)
			chunk[i] = stream_byte(written + i);
		long n = ring_append(&r, chunk, want);
		ck_assert_int_ge(n, 0);
		written += (size_t)n;
		size_t held = ring_peek(&r, out);
		ck_assert_uint_eq(held, written - read);
		for (size_t i = 0; i < held; i++)
			ck_assert_int_eq(out[i], stream_byte(read + i));
		ring_consume(&r, held / 2 + 1);
		read += held / 2 + 1;
	}
	ck_assert_uint_gt(written, 3 * 1000);
	ring_release(&r);
}
END_TEST

START_TEST(space_iov_then_commit)
{
	struct ring r;
	struct iovec iov[2];
	char out[16];

	ring_init(&r, 1024);
	ck_assert_int_eq(ring_append(&r, "0123456789", 10), 10);
	ring_consume(&r, 8);             /* head at 8, 2 bytes held */
	ck_assert_int_eq(ring_append(&r, "x", 1), 1);
	int n = ring_space_iov(&r, iov);
	ck_assert_int_eq(n, 2);          /* tail to end, then start to head */
	ck_assert_uint_eq(iov[0].iov_len + iov[1].iov_len, 1024 - 3);
	memcpy(iov[0].iov_base, "AB", 2);
	ring_commit(&r, 2);
	ck_assert_uint_eq(ring_peek(&r, out), 5);
	ck_assert_mem_eq(out, "89xAB", 5);
	ring_release(&r);
}
END_TEST

static Suite *
ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, empty_ring_holds_no_memory);
	tcase_add_test(tc, append_is_bounded_by_capacity);
	tcase_add_test(tc, consume_to_empty_frees);
	tcase_add_test(tc, wraps_around_in_order);
	tcase_add_test(tc, space_iov_then_commit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
