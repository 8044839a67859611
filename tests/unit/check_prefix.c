/*
 * check_prefix.c: unit tests of the line-prefix state machine (prefix.c).
 *
 * A reference written the obvious way (byte by byte) is compared with what
 * prefix_plan/prefix_render/prefix_advance produce when the input arrives
 * in pieces, the output buffer is small and the output leaves in partial
 * writes, as TCP may split either.
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
    size_t len, size_t max_iov, size_t write_max, char *out)
{
	size_t o = 0;

	while (len > 0) {
		struct iovec iov[64];
		struct prefix_state plan = *st;
		int cnt = 0;
		size_t covered = prefix_plan(p, &plan, in, len, iov, (int)max_iov, &cnt);
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

/* Echoes one piece of input, with a limit on each call's output. */
typedef size_t echo_fn(const struct prefix *p, struct prefix_state *st,
    const char *in, size_t len, size_t limit, size_t write_max, char *out);

/* Feeds input in pieces of piece bytes through echo and checks the whole echo. */
static void
check_pieces(echo_fn *echo, const char *pfx, const char *in, size_t len,
    size_t piece, size_t limit, size_t write_max)
{
	struct prefix p = { pfx, strlen(pfx) };
	struct prefix_state st;
	char *want = malloc(OUT_MAX), *got = malloc(OUT_MAX);
	size_t wlen = reference(pfx, in, len, want), glen = 0;

	prefix_state_init(&st);
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;
		glen += echo(&p, &st, in + off, n, limit, write_max, got + glen);
	}
	ck_assert_uint_eq(glen, wlen);
	ck_assert_mem_eq(got, want, wlen);
	free(want);
	free(got);
}

/* Through prefix_plan(), at most max_iov pieces a call. */
static void
check_echo(const char *pfx, const char *in, size_t len, size_t piece,
    size_t write_max, int max_iov)
{
	check_pieces(echo_piece, pfx, in, len, piece, (size_t)max_iov, write_max);
}

/*
 * Echoes one piece of input as echod's seed mode does: render at most room
 * bytes, send at most write_max (0 = all), follow a partial send with
 * prefix_advance from the state before the render.
 */
static size_t
render_piece(const struct prefix *p, struct prefix_state *st, const char *in,
    size_t len, size_t room, size_t write_max, char *out)
{
	size_t o = 0;

	while (len > 0) {
		struct prefix_state plan = *st;
		size_t left = room;
		size_t covered = prefix_render(p, &plan, in, len, out + o, &left);
		size_t total = room - left;
		size_t sent = write_max && write_max < total ? write_max : total;
		size_t done;

		ck_assert_uint_gt(total, 0);
		if (sent == total) {
			*st = plan;
			done = covered;
		} else {
			size_t w = sent;
			done = prefix_advance(p, st, in, len, &w);
			ck_assert_uint_eq(w, 0);
		}
		o += sent;
		in += done;
		len -= done;
	}
	return o;
}

/* Through prefix_render(), at most room bytes a call. */
static void
check_render(const char *pfx, const char *in, size_t len, size_t piece,
    size_t room, size_t write_max)
{
	check_pieces(render_piece, pfx, in, len, piece, room, write_max);
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

/* Random input, one byte in 8 a newline and one in 8 a NUL. */
static void
fill_random(char *in, size_t len, unsigned *seed)
{
	for (size_t i = 0; i < len; i++) {
		int r = rand_r(seed) % 8;
		in[i] = r == 0 ? '\n' : r == 1 ? '\0' : (char)('a' + r);
	}
}

START_TEST(random_splits_match_reference)
{
	char in[4096];
	unsigned seed = 862;

	fill_random(in, sizeof(in), &seed);
	for (int round = 0; round < 200; round++) {
		size_t piece = 1 + (size_t)rand_r(&seed) % 300;
		size_t write_max = (size_t)rand_r(&seed) % 50;
		int max_iov = 2 + rand_r(&seed) % 62;
		check_echo(round % 2 ? "OK..." : "x", in, sizeof(in), piece, write_max, max_iov);
	}
}
END_TEST

START_TEST(render_one_line_exact_bytes)
{
	struct prefix p = { "OK...", 5 };
	struct prefix_state st;
	char out[64];
	size_t room = sizeof(out);

	prefix_state_init(&st);
	ck_assert_uint_eq(prefix_render(&p, &st, "ab\ncd", 5, out, &room), 5);
	ck_assert_uint_eq(sizeof(out) - room, 15);
	ck_assert_mem_eq(out, "OK...ab\nOK...cd", 15);
	ck_assert(!st.line_start);
}
END_TEST

START_TEST(render_cuts_the_prefix_where_room_ends)
{
	struct prefix p = { "OK...", 5 };
	struct prefix_state st;
	char out[8];
	size_t room = 3;

	prefix_state_init(&st);
	ck_assert_uint_eq(prefix_render(&p, &st, "ab\n", 3, out, &room), 0);
	ck_assert_uint_eq(room, 0);
	ck_assert_mem_eq(out, "OK.", 3);
	ck_assert(st.line_start);
	ck_assert_uint_eq(st.sent, 3);
	room = 4;
	ck_assert_uint_eq(prefix_render(&p, &st, "ab\n", 3, out, &room), 2);
	ck_assert_mem_eq(out, "..ab", 4);
	ck_assert(!st.line_start);
}
END_TEST

START_TEST(render_small_rooms_match_reference)
{
	const char in[] = "ab\ncd\n\n\nef\0g\nlast";

	for (size_t room = 1; room <= 24; room++)
		for (size_t piece = 1; piece <= 6; piece++) {
			check_render("OK...", in, sizeof(in) - 1, piece, room, 0);
			check_render("OK...", in, sizeof(in) - 1, piece, room, 2);
		}
}
END_TEST

START_TEST(render_random_splits_match_reference)
{
	char in[4096];
	unsigned seed = 1;

	fill_random(in, sizeof(in), &seed);
	for (int round = 0; round < 200; round++) {
		size_t piece = 1 + (size_t)rand_r(&seed) % 300;
		size_t room = 1 + (size_t)rand_r(&seed) % 400;
		size_t write_max = (size_t)rand_r(&seed) % 50;
		check_render(round % 2 ? "OK..." : "x", in, sizeof(in), piece, room, write_max);
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
	tcase_add_test(tc, render_one_line_exact_bytes);
	tcase_add_test(tc, render_cuts_the_prefix_where_room_ends);
	tcase_add_test(tc, render_small_rooms_match_reference);
	tcase_add_test(tc, render_random_splits_match_reference);
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
