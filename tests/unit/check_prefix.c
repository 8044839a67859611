/*
 * check_prefix.c: unit tests of the line-prefix state machine (prefix.c).
 *
 * A reference written the obvious way (byte by byte) is compared with what
 * prefix_plan/prefix_advance produce when the input arrives in pieces and
 * the output leaves in partial writes, as TCP may split either.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "prefix.h"

#define OUT_MAX (1 << 20)

/* The reference: the prefix before the first byte of every line. */
static size_t
reference(const char *pfx, const char *in, size_t len, char *out)
{
	size_t o = 0, plen = strlen(pfx);
	int line_start = 1;

	for (size_t i = 0; i < len; i++) {
		if (line_start) {
			memcpy(out + o, pfx, plen);
			o += plen;
		}
		out[o++] = in[i];
		line_start = in[i] == '\n';
	}
	return o;
}

/*
 * Echoes one piece of input through the machine, sending at most
 * write_max bytes a call (0 = all) with at most max_iov iovecs.
 */
static size_t
echo_piece(const struct prefix *p, struct prefix_state *st, const char *in,
    size_t len, size_t write_max, int max_iov, char *out)
{
	size_t o = 0;

	while (len > 0) {
		struct iovec iov[64];
		struct prefix_state plan = *st;
		int cnt = 0;
		size_t covered = prefix_plan(p, &plan, in, len, iov, max_iov, &cnt);
		size_t total = iov_gather(iov, cnt, out + o, OUT_MAX);
		size_t sent = write_max && write_max < total ? write_max : total;
		size_t w = sent;
		size_t done = prefix_advance(p, st, in, covered, &w);

		ck_assert_uint_gt(covered, 0);
		ck_assert_uint_eq(w, 0);
		if (sent == total) {
			ck_assert_uint_eq(done, covered);
			ck_assert_int_eq(st->line_start, plan.line_start);
			ck_assert_uint_eq(st->sent, plan.sent);
		}
		o += sent;
		in += done;
		len -= done;
	}
	return o;
}

/* Feeds input in pieces of piece bytes and checks the whole echo. */
static void
check_echo(const char *pfx, const char *in, size_t len, size_t piece,
    size_t write_max, int max_iov)
{
	struct prefix p = { pfx, strlen(pfx) };
	struct prefix_state st;
	char *want = malloc(OUT_MAX), *got = malloc(OUT_MAX);
	size_t wlen = reference(pfx, in, len, want), glen = 0;

	prefix_state_init(&st);
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;
		glen += echo_piece(&p, &st, in + off, n, write_max, max_iov, got + glen);
	}
	ck_assert_uint_eq(glen, wlen);
	ck_assert_mem_eq(got, want, wlen);
	free(want);
	free(got);
}

START_TEST(one_line)
{
	check_echo("OK...", "hello\n", 6, 6, 0, 64);
}
END_TEST

START_TEST(one_line_exact_bytes)
{
	struct prefix p = { "OK...", 5 };
	struct prefix_state st;
	struct iovec iov[8];
	int cnt = 0;
	char out[64];

	prefix_state_init(&st);
	ck_assert_uint_eq(prefix_plan(&p, &st, "ab\ncd", 5, iov, 8, &cnt), 5);
	ck_assert_uint_eq(iov_gather(iov, cnt, out, sizeof(out)), 15);
	ck_assert_mem_eq(out, "OK...ab\nOK...cd", 15);
	ck_assert(!st.line_start);
}
END_TEST

START_TEST(line_in_pieces_gets_one_prefix)
{
	const char *in = "a line that comes in many pieces\n";

	for (size_t piece = 1; piece <= strlen(in); piece++)
		check_echo("OK...", in, strlen(in), piece, 0, 64);
}
END_TEST

START_TEST(many_lines_in_one_chunk)
{
	const char *in = "one\ntwo\nthree\nfour\n";

	check_echo("OK...", in, strlen(in), strlen(in), 0, 64);
}
END_TEST

START_TEST(empty_lines)
{
	check_echo("> ", "\n\n\n", 3, 3, 0, 64);
	check_echo("> ", "\n\n\n", 3, 1, 0, 64);
}
END_TEST

START_TEST(no_final_newline)
{
	struct prefix p = { "OK...", 5 };
	struct prefix_state st;
	struct iovec iov[8];
	int cnt = 0;
	char out[64];

	check_echo("OK...", "a\nb", 3, 1, 0, 64);
	prefix_state_init(&st);
	prefix_plan(&p, &st, "a\n", 2, iov, 8, &cnt);
	ck_assert_uint_eq(iov_gather(iov, cnt, out, sizeof(out)), 7);
	ck_assert(st.line_start);   /* the next prefix waits for the next byte */
}
END_TEST

START_TEST(nul_bytes)
{
	const char in[] = { 'a', '\0', 'b', '\n', '\0', '\0', '\n', '\0' };

	check_echo("OK...", in, sizeof(in), 1, 0, 64);
	check_echo("OK...", in, sizeof(in), sizeof(in), 0, 64);
}
END_TEST

START_TEST(empty_prefix_is_plain_echo)
{
	struct prefix p = { "", 0 };
	struct prefix_state st;
	struct iovec iov[4];
	int cnt = 0;
	const char in[] = "binary\0\n\xff data";

	prefix_state_init(&st);
	ck_assert_uint_eq(prefix_plan(&p, &st, in, sizeof(in), iov, 4, &cnt), sizeof(in));
	ck_assert_int_eq(cnt, 1);
	ck_assert_ptr_eq(iov[0].iov_base, in);
	check_echo("", in, sizeof(in), 3, 2, 64);
}
END_TEST

START_TEST(empty_input_sends_nothing)
{
	struct prefix p = { "OK...", 5 };
	struct prefix_state st;
	struct iovec iov[4];
	int cnt = 0;

	prefix_state_init(&st);
	ck_assert_uint_eq(prefix_plan(&p, &st, "", 0, iov, 4, &cnt), 0);
	ck_assert_int_eq(cnt, 0);
}
END_TEST

START_TEST(partial_writes_split_the_prefix)
{
	const char *in = "ab\ncd\n\nef";

	for (size_t w = 1; w <= 8; w++)
		check_echo("OK...", in, strlen(in), 4, w, 64);
}
END_TEST

START_TEST(iov_limit_covers_less)
{
	struct prefix p = { "OK...", 5 };
	struct prefix_state st;
	struct iovec iov[4];
	int cnt = 0;

	prefix_state_init(&st);
	/* Four iovecs hold two lines: prefix + line, twice. */
	ck_assert_uint_eq(prefix_plan(&p, &st, "a\nb\nc\n", 6, iov, 4, &cnt), 4);
	ck_assert_int_eq(cnt, 4);
	check_echo("OK...", "a\nb\nc\nd\ne\n", 10, 10, 0, 3);
}
END_TEST

START_TEST(random_splits_match_reference)
{
	char in[4096];
	unsigned seed = 862;

	for (size_t i = 0; i < sizeof(in); i++) {
		int r = rand_r(&seed) % 8;
		in[i] = r == 0 ? '\n' : r == 1 ? '\0' : (char)('a' + r);
	}
	for (int round = 0; round < 200; round++) {
		size_t piece = 1 + (size_t)rand_r(&seed) % 300;
		size_t write_max = (size_t)rand_r(&seed) % 50;
		int max_iov = 2 + rand_r(&seed) % 62;
		check_echo(round % 2 ? "OK..." : "x", in, sizeof(in), piece, write_max, max_iov);
	}
}
END_TEST

static Suite *
prefix_suite(void)
{
	Suite *s = suite_create("prefix");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, one_line);
	tcase_add_test(tc, one_line_exact_bytes);
	tcase_add_test(tc, line_in_pieces_gets_one_prefix);
	tcase_add_test(tc, many_lines_in_one_chunk);
	tcase_add_test(tc, empty_lines);
	tcase_add_test(tc, no_final_newline);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, empty_prefix_is_plain_echo);
	tcase_add_test(tc, empty_input_sends_nothing);
	tcase_add_test(tc, partial_writes_split_the_prefix);
	tcase_add_test(tc, iov_limit_covers_less);
	tcase_add_test(tc, random_splits_match_reference);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(prefix_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
