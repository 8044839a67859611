/*
 * check_config.c: unit tests of config.c (Check).
 *
 * Covers every key (default, a valid value, wrong type, range limits),
 * unknown keys, syntax errors, several errors in one file, missing files,
 * listen addresses and reference counting. Files with one setting are
 * written to /tmp with mkstemp (and removed once loaded); tests/data holds
 * the few whole files.
 * Does not test what the daemon does with a config.
 */
#include <check.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must be defined as the path of tests/data"
#endif

#define TEST_MAX_MSGS 32
#define TEST_MSG_MAX  (PATH_MAX + 1024)

/* The messages passed to the report function. */
struct test_reports {
	int n;
	char msg[TEST_MAX_MSGS][TEST_MSG_MAX];
};

/* One test's state: its temporary file, its reports, its config. */
static struct {
	char path[64];
	struct test_reports r;
	struct config *cfg;
} t;

static void test_collect(void *ctx, const char *msg)
{
	struct test_reports *r = ctx;

	if (r->n < TEST_MAX_MSGS)
		snprintf(r->msg[r->n], TEST_MSG_MAX, "%s", msg);
	r->n++;
}

static void test_setup(void)
{
	memset(&t, 0, sizeof t);
}

static void test_teardown(void)
{
	config_unref(t.cfg);
	memset(&t, 0, sizeof t);
}

/* Loads path into t.cfg, collecting the reports in t.r. */
static struct config *test_load(const char *path)
{
	config_unref(t.cfg);
	memset(&t.r, 0, sizeof t.r);
	t.cfg = config_load(path, test_collect, &t.r);
	return t.cfg;
}

/*
 * Writes text to a fresh temporary file, loads it and removes the file at
 * once (t.path stays, for the messages), so a failing test leaves nothing.
 */
static struct config *test_load_text(const char *text)
{
	size_t len = strlen(text);
	ssize_t written;
	int fd;

	snprintf(t.path, sizeof t.path, "/tmp/check_config.XXXXXX");
	fd = mkstemp(t.path);
	ck_assert_int_ge(fd, 0);
	written = write(fd, text, len);
	close(fd);
	if (written == (ssize_t)len)
		test_load(t.path);
	unlink(t.path);
	ck_assert_int_eq(written, (ssize_t)len);
	return t.cfg;
}

/* Loads text and checks it is accepted without a message. */
static struct config *test_accept(const char *text)
{
	struct config *cfg = test_load_text(text);

	ck_assert_msg(cfg != NULL, "rejected: %s\nfirst message: %s", text,
	    t.r.n > 0 ? t.r.msg[0] : "(none)");
	ck_assert_int_eq(t.r.n, 0);
	return cfg;
}

/* Checks that the load failed with exactly one message, "FILE:" + want. */
static void test_expect_one(const char *file, const char *want)
{
	char full[TEST_MSG_MAX];

	snprintf(full, sizeof full, "%s:%s", file, want);
	ck_assert_msg(t.cfg == NULL, "accepted, wanted: %s", full);
	ck_assert_msg(t.r.n == 1, "%d messages, wanted 1: %s; first: %s",
	    t.r.n, full, t.r.n > 0 ? t.r.msg[0] : "(none)");
	ck_assert_str_eq(t.r.msg[0], full);
}

/* Loads text and checks it is rejected with one message, "TMPFILE:" + want. */
static void test_reject(const char *text, const char *want)
{
	test_load_text(text);
	test_expect_one(t.path, want);
}

static void test_check_defaults(const struct config *cfg)
{
	ck_assert_int_eq(cfg->refs, 1);
	ck_assert_int_eq(cfg->port, 8888);
	ck_assert_uint_eq(cfg->nlisten, 2);
	ck_assert_str_eq(cfg->listen[0], "0.0.0.0");
	ck_assert_str_eq(cfg->listen[1], "::");
	ck_assert_int_eq(cfg->backlog, 511);
	ck_assert_int_eq(cfg->threads, 0);
	ck_assert_int_eq(cfg->cpu_slice, 200);
	ck_assert_int_eq(cfg->max_connections, 10000);
	ck_assert_int_eq(cfg->idle_timeout, 300);
	ck_assert_uint_eq(cfg->buffer_size, 65536);
	ck_assert_str_eq(cfg->greeting,
	    "Welcome to the server. Type something and hit enter\n");
	ck_assert_uint_eq(cfg->greeting_len, strlen(cfg->greeting));
	ck_assert_str_eq(cfg->reply_prefix, "OK...");
	ck_assert_uint_eq(cfg->reply_prefix_len, 5);
	ck_assert_int_eq(cfg->shutdown_timeout, 30);
	ck_assert_str_eq(cfg->pidfile, "/run/echod/echod.pid");
	ck_assert_int_eq(cfg->log_facility, LOG_DAEMON);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert(cfg->log_connections);
}

/* ---- defaults ---- */

START_TEST(test_defaults_function)
{
	t.cfg = config_defaults();
	ck_assert_ptr_nonnull(t.cfg);
	test_check_defaults(t.cfg);
	ck_assert_str_eq(t.cfg->path, "");
}
END_TEST

START_TEST(test_empty_file_gives_defaults)
{
	struct config *cfg = test_accept("");

	test_check_defaults(cfg);
	ck_assert_str_eq(cfg->path, t.path);
}
END_TEST

START_TEST(test_comments_and_empty_log_give_defaults)
{
	test_check_defaults(test_accept("# nothing\n// at all\nlog = { };\n"));
}
END_TEST

/* ---- integers: every key x every kind of value ---- */

struct test_int_key {
	const char *key;
	long long min, max;
};

static const struct test_int_key test_int_keys[] = {
	{ "port", 1, 65535 },
	{ "backlog", 1, 65535 },
	{ "threads", 0, 1024 },
	{ "cpu_slice", 0, 100000 },
	{ "max_connections", 1, 1000000 },
	{ "idle_timeout", 0, 31536000 },
	{ "buffer_size", 1024, 16777216 },
	{ "shutdown_timeout", 0, 86400 },
};

#define TEST_NINT_KEYS (int)(sizeof test_int_keys / sizeof test_int_keys[0])

enum test_int_case {
	INT_MIN_OK, INT_MAX_OK, INT_INT64_OK, INT_BELOW, INT_ABOVE,
	INT_INT64_HUGE, INT_STRING, INT_FLOAT, INT_BOOL, INT_ARRAY, INT_GROUP,
	INT_NCASES
};

static long long test_int_field(const struct config *cfg, const char *key)
{
	if (strcmp(key, "port") == 0)
		return cfg->port;
	if (strcmp(key, "backlog") == 0)
		return cfg->backlog;
	if (strcmp(key, "threads") == 0)
		return cfg->threads;
	if (strcmp(key, "cpu_slice") == 0)
		return cfg->cpu_slice;
	if (strcmp(key, "max_connections") == 0)
		return cfg->max_connections;
	if (strcmp(key, "idle_timeout") == 0)
		return cfg->idle_timeout;
	if (strcmp(key, "buffer_size") == 0)
		return (long long)cfg->buffer_size;
	if (strcmp(key, "shutdown_timeout") == 0)
		return cfg->shutdown_timeout;
	ck_abort_msg("no such integer key: %s", key);
	return -1;
}

/* The value text for case c of key k; *ok and *value say what to expect. */
static void test_int_value(const struct test_int_key *k, int c, char *buf,
    size_t len, bool *ok, long long *value)
{
	*ok = c == INT_MIN_OK || c == INT_MAX_OK || c == INT_INT64_OK;
	*value = c == INT_MAX_OK ? k->max : k->min;
	switch (c) {
	case INT_MIN_OK: snprintf(buf, len, "%lld", k->min); break;
	case INT_MAX_OK: snprintf(buf, len, "%lld", k->max); break;
	case INT_INT64_OK: snprintf(buf, len, "%lldL", k->min); break;
	case INT_BELOW: snprintf(buf, len, "%lld", k->min - 1); break;
	case INT_ABOVE: snprintf(buf, len, "%lld", k->max + 1); break;
	case INT_INT64_HUGE: snprintf(buf, len, "1099511627776L"); break;
	case INT_STRING: snprintf(buf, len, "\"%lld\"", k->min); break;
	case INT_FLOAT: snprintf(buf, len, "%lld.0", k->min); break;
	case INT_BOOL: snprintf(buf, len, "true"); break;
	case INT_ARRAY: snprintf(buf, len, "[ %lld ]", k->min); break;
	default: snprintf(buf, len, "{ x = 1; }"); break;
	}
}

START_TEST(test_int_matrix)
{
	const struct test_int_key *k = &test_int_keys[_i / INT_NCASES];
	char value[64], text[256], want[256];
	long long expect;
	bool ok;

	test_int_value(k, _i % INT_NCASES, value, sizeof value, &ok, &expect);
	snprintf(text, sizeof text, "# %s\n\n%s = %s;\n", k->key, k->key, value);
	if (!ok) {
		snprintf(want, sizeof want,
		    "3: %s: must be an integer from %lld to %lld",
		    k->key, k->min, k->max);
		test_reject(text, want);
		return;
	}
	ck_assert_msg(test_int_field(test_accept(text), k->key) == expect,
	    "%s: loaded %lld, wanted %lld", text,
	    test_int_field(t.cfg, k->key), expect);
}
END_TEST

START_TEST(test_int_hex_accepted)
{
	ck_assert_uint_eq(test_accept("buffer_size = 0x10000;\n")->buffer_size,
	    65536);
}
END_TEST

/* ---- every other key: rejections, each with its exact message ---- */

struct test_bad {
	const char *line;       /* written as line 3 of the file */
	const char *want;       /* the message after "FILE:3: " */
};

#define FACILITY_ERR "log.facility: must be one of daemon, user, local0, " \
	"local1, local2, local3, local4, local5, local6, local7"
#define LEVEL_ERR "log.level: must be one of err, warning, notice, info, debug"
#define LISTEN_TYPE_ERR "listen: must be a list of numeric IPv4 or IPv6 addresses"
#define LISTEN_COUNT_ERR "listen: must list from 1 to 16 addresses"

static const struct test_bad test_bads[] = {
	{ "greeting = 5;", "greeting: must be a string of at most 8192 bytes" },
	{ "greeting = [ \"hi\" ];",
	    "greeting: must be a string of at most 8192 bytes" },
	{ "reply_prefix = 7;",
	    "reply_prefix: must be a string of at most 1024 bytes" },
	{ "reply_prefix = false;",
	    "reply_prefix: must be a string of at most 1024 bytes" },
	{ "pidfile = \"echod.pid\";", "pidfile: must be \"\" or an absolute path" },
	{ "pidfile = \"./echod.pid\";",
	    "pidfile: must be \"\" or an absolute path" },
	{ "pidfile = 1;", "pidfile: must be \"\" or an absolute path" },
	{ "log = { facility = \"kern\"; };", FACILITY_ERR },
	{ "log = { facility = \"DAEMON\"; };", FACILITY_ERR },
	{ "log = { facility = 3; };", FACILITY_ERR },
	{ "log = { level = \"warn\"; };", LEVEL_ERR },
	{ "log = { level = \"emerg\"; };", LEVEL_ERR },
	{ "log = { level = 6; };", LEVEL_ERR },
	{ "log = { connections = \"yes\"; };",
	    "log.connections: must be true or false" },
	{ "log = { connections = 1; };", "log.connections: must be true or false" },
	{ "log = 5;", "log: must be a group { ... }" },
	{ "log = [ \"daemon\" ];", "log: must be a group { ... }" },
	{ "log = { foo = 1; };", "log.foo: unknown setting" },
	{ "log = { level = \"info\"; facility = { x = 1; }; };", FACILITY_ERR },
	{ "frobnicate = 1;", "frobnicate: unknown setting" },
	{ "Port = 80;", "Port: unknown setting (did you mean port?)" },
	{ "foo = 1;", "foo: unknown setting" },
	{ "shutdown = 1;", "shutdown: unknown setting" },
	{ "level = \"debug\";", "level: unknown setting (did you mean log.level?)" },
	{ "facility = \"daemon\";",
	    "facility: unknown setting (did you mean log.facility?)" },
	{ "log = { port = 80; };", "log.port: unknown setting (did you mean port?)" },
	{ "treads = 4;", "treads: unknown setting (did you mean threads?)" },
	{ "backlgo = 4;", "backlgo: unknown setting (did you mean backlog?)" },
	{ "greting = \"hi\";", "greting: unknown setting (did you mean greeting?)" },
	{ "max_connection = 1;",
	    "max_connection: unknown setting (did you mean max_connections?)" },
	{ "usr = \"nobody\";", "usr: unknown setting (did you mean user?)" },
	{ "lgo = { };", "lgo: unknown setting (did you mean log?)" },
	{ "log = { levle = \"info\"; };",
	    "log.levle: unknown setting (did you mean log.level?)" },
	{ "listen = \"127.0.0.1\";", LISTEN_TYPE_ERR },
	{ "listen = 5;", LISTEN_TYPE_ERR },
	{ "listen = { a = \"::1\"; };", LISTEN_TYPE_ERR },
	{ "listen = ( 5 );", LISTEN_TYPE_ERR },
	{ "listen = ( \"::1\", ( \"::2\" ) );", LISTEN_TYPE_ERR },
	{ "listen = [ \"foo\" ];",
	    "listen: \"foo\" is not a numeric IPv4 or IPv6 address" },
	{ "listen = [ \"localhost\" ];",
	    "listen: \"localhost\" is not a numeric IPv4 or IPv6 address" },
	{ "listen = [ \"127.0.0.256\" ];",
	    "listen: \"127.0.0.256\" is not a numeric IPv4 or IPv6 address" },
	{ "listen = [ \"::1::2\" ];",
	    "listen: \"::1::2\" is not a numeric IPv4 or IPv6 address" },
	{ "listen = [ \"\" ];", "listen: \"\" is not a numeric IPv4 or IPv6 address" },
	{ "listen = [ \"127.0.0.1\", \"127.0.0.1\" ];",
	    "listen: \"127.0.0.1\" is listed twice" },
	{ "listen = ( \"::1\", \"0:0::1\" );", "listen: \"0:0::1\" is listed twice" },
	{ "listen = [ \"::1\", \"::1\", \"::1\" ];", "listen: \"::1\" is listed twice" },
	{ "listen = [ \"::ffff:127.0.0.1\" ];", "listen: \"::ffff:127.0.0.1\" "
	    "is an IPv4-mapped address: write 127.0.0.1" },
	{ "listen = [ \"::1\", \"::FFFF:7f00:1\" ];", "listen: \"::FFFF:7f00:1\" "
	    "is an IPv4-mapped address: write 127.0.0.1" },
	{ "listen = [ ];", LISTEN_COUNT_ERR },
	{ "listen = ( );", LISTEN_COUNT_ERR },
};

#define TEST_NBADS (int)(sizeof test_bads / sizeof test_bads[0])

START_TEST(test_bad_value)
{
	char text[512], want[512];

	snprintf(text, sizeof text, "# bad value\n\n%s\n", test_bads[_i].line);
	snprintf(want, sizeof want, "3: %s", test_bads[_i].want);
	test_reject(text, want);
}
END_TEST

/* ---- strings ---- */

START_TEST(test_greeting_with_escapes)
{
	struct config *cfg = test_accept("greeting = \"Hi\\tthere\\n\\\"you\\\"\\\\\\n\";\n");

	ck_assert_str_eq(cfg->greeting, "Hi\tthere\n\"you\"\\\n");
	ck_assert_uint_eq(cfg->greeting_len, 16);
}
END_TEST

START_TEST(test_greeting_empty)
{
	struct config *cfg = test_accept("greeting = \"\";\n");

	ck_assert_str_eq(cfg->greeting, "");
	ck_assert_uint_eq(cfg->greeting_len, 0);
}
END_TEST

/* Loads key = "<len x's>" on line 2. */
static struct config *test_load_long(const char *key, size_t len)
{
	size_t head = strlen(key) + 5;
	char *text = malloc(head + len + 4);
	struct config *cfg;

	ck_assert_ptr_nonnull(text);
	snprintf(text, head + 1, "\n%s = \"", key);
	memset(text + head, 'x', len);
	strcpy(text + head + len, "\";\n");
	cfg = test_load_text(text);
	free(text);
	return cfg;
}

START_TEST(test_greeting_longest)
{
	struct config *cfg = test_load_long("greeting", 8192);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->greeting_len, 8192);
	ck_assert_uint_eq(strlen(cfg->greeting), 8192);
}
END_TEST

START_TEST(test_greeting_too_long)
{
	test_load_long("greeting", 8193);
	test_expect_one(t.path, "2: greeting: must be a string of at most 8192 bytes");
}
END_TEST

START_TEST(test_reply_prefix_value)
{
	struct config *cfg = test_accept("reply_prefix = \"> \";\n");

	ck_assert_str_eq(cfg->reply_prefix, "> ");
	ck_assert_uint_eq(cfg->reply_prefix_len, 2);
}
END_TEST

START_TEST(test_reply_prefix_empty)
{
	struct config *cfg = test_accept("reply_prefix = \"\";\n");

	ck_assert_str_eq(cfg->reply_prefix, "");
	ck_assert_uint_eq(cfg->reply_prefix_len, 0);
}
END_TEST

START_TEST(test_reply_prefix_longest)
{
	struct config *cfg = test_load_long("reply_prefix", 1024);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->reply_prefix_len, 1024);
}
END_TEST

START_TEST(test_reply_prefix_too_long)
{
	test_load_long("reply_prefix", 1025);
	test_expect_one(t.path,
	    "2: reply_prefix: must be a string of at most 1024 bytes");
}
END_TEST

START_TEST(test_pidfile_value)
{
	ck_assert_str_eq(test_accept("pidfile = \"/tmp/e.pid\";\n")->pidfile,
	    "/tmp/e.pid");
}
END_TEST

START_TEST(test_pidfile_none)
{
	ck_assert_str_eq(test_accept("pidfile = \"\";\n")->pidfile, "");
}
END_TEST

/* ---- user and group ---- */

START_TEST(test_user_default_keeps_ids)
{
	struct config *cfg = test_accept("");

	ck_assert_str_eq(cfg->user, "");
	ck_assert_str_eq(cfg->group, "");
}
END_TEST

START_TEST(test_user_takes_its_primary_group)
{
	struct config *cfg = test_accept("user = \"nobody\";\n");
	struct passwd *pw = getpwnam("nobody");

	ck_assert_ptr_nonnull(pw);
	ck_assert_str_eq(cfg->user, "nobody");
	ck_assert_int_eq(cfg->uid, pw->pw_uid);
	ck_assert_int_eq(cfg->gid, pw->pw_gid);
}
END_TEST

START_TEST(test_group_overrides_primary_group)
{
	struct config *cfg = test_accept("group = \"root\";\nuser = \"nobody\";\n");

	ck_assert_str_eq(cfg->group, "root");
	ck_assert_int_eq(cfg->gid, 0);
}
END_TEST

START_TEST(test_user_unknown)
{
	test_reject("\nuser = \"no-such-user-echod\";\n",
	    "2: user: no such user \"no-such-user-echod\"");
}
END_TEST

START_TEST(test_user_wrong_type)
{
	test_reject("user = 0;\n", "1: user: must be a user name, or \"\"");
}
END_TEST

START_TEST(test_group_unknown)
{
	test_reject("user = \"nobody\";\ngroup = \"no-such-group-echod\";\n",
	    "2: group: no such group \"no-such-group-echod\"");
}
END_TEST

START_TEST(test_group_without_user)
{
	test_reject("group = \"root\";\n", "1: group: needs user to be set too");
}
END_TEST

START_TEST(test_group_with_empty_user)
{
	test_reject("user = \"\";\ngroup = \"root\";\n",
	    "2: group: needs user to be set too");
}
END_TEST

/* A user that is set but wrong is reported once, as such, not as missing. */
START_TEST(test_group_with_wrong_user)
{
	test_reject("user = \"no-such-user-echod\";\ngroup = \"root\";\n",
	    "1: user: no such user \"no-such-user-echod\"");
	test_reject("group = \"root\";\nuser = 0;\n",
	    "2: user: must be a user name, or \"\"");
}
END_TEST

/* "needs user" comes at the group's line, before the errors of later lines. */
START_TEST(test_group_without_user_in_line_order)
{
	char want[TEST_MSG_MAX];

	test_load_text("port = 0;\ngroup = \"root\";\nthreads = -1;\n");
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 3);
	snprintf(want, sizeof want, "%s:2: group: needs user to be set too",
	    t.path);
	ck_assert_str_eq(t.r.msg[1], want);
	ck_assert_ptr_nonnull(strstr(t.r.msg[2], ":3: threads: "));
}
END_TEST

/* ---- log ---- */

static const struct {
	const char *name;
	int value;
} test_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
}, test_levels[] = {
	{ "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

START_TEST(test_log_facility_value)
{
	char text[128];

	snprintf(text, sizeof text, "log = { facility = \"%s\"; };\n",
	    test_facilities[_i].name);
	ck_assert_int_eq(test_accept(text)->log_facility, test_facilities[_i].value);
}
END_TEST

START_TEST(test_log_level_value)
{
	char text[128];

	snprintf(text, sizeof text, "log = {\n  level = \"%s\";\n};\n",
	    test_levels[_i].name);
	ck_assert_int_eq(test_accept(text)->log_level, test_levels[_i].value);
}
END_TEST

START_TEST(test_log_connections_false)
{
	ck_assert(!test_accept("log = { connections = false; };\n")->log_connections);
}
END_TEST

START_TEST(test_log_connections_true)
{
	ck_assert(test_accept("log = { connections = true; };\n")->log_connections);
}
END_TEST

START_TEST(test_log_as_list_of_group_rejected)
{
	test_reject("\n\nlog = ( { level = \"debug\"; } );\n",
	    "3: log: must be a group { ... }");
}
END_TEST

/* ---- listen ---- */

START_TEST(test_listen_ipv6)
{
	struct config *cfg = test_accept("listen = [ \"::1\" ];\n");

	ck_assert_uint_eq(cfg->nlisten, 1);
	ck_assert_str_eq(cfg->listen[0], "::1");
}
END_TEST

START_TEST(test_listen_list_syntax)
{
	struct config *cfg = test_accept(
	    "listen = ( \"127.0.0.1\",\n  \"fe80::1\",\n  \"10.1.2.3\" );\n");

	ck_assert_uint_eq(cfg->nlisten, 3);
	ck_assert_str_eq(cfg->listen[0], "127.0.0.1");
	ck_assert_str_eq(cfg->listen[1], "fe80::1");
	ck_assert_str_eq(cfg->listen[2], "10.1.2.3");
}
END_TEST

/* "listen = [ "10.0.0.1", ... ];" with n addresses. */
static void test_listen_text(int n, char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "\nlisten = [");
	int i;

	for (i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\"10.0.0.%d\"",
		    i > 0 ? ", " : " ", i + 1);
	snprintf(buf + used, len - used, " ];\n");
}

START_TEST(test_listen_sixteen)
{
	char text[1024];
	struct config *cfg;

	test_listen_text(16, text, sizeof text);
	cfg = test_accept(text);
	ck_assert_uint_eq(cfg->nlisten, 16);
	ck_assert_str_eq(cfg->listen[0], "10.0.0.1");
	ck_assert_str_eq(cfg->listen[15], "10.0.0.16");
}
END_TEST

START_TEST(test_listen_seventeen)
{
	char text[1024];

	test_listen_text(17, text, sizeof text);
	test_reject(text, "2: " LISTEN_COUNT_ERR);
}
END_TEST

START_TEST(test_listen_too_many_still_checked)
{
	char text[1024], *bad;

	test_listen_text(17, text, sizeof text);
	bad = strstr(text, "10.0.0.9\"");
	ck_assert_ptr_nonnull(bad);
	memcpy(bad, "10.0.x.9", 8);
	test_load_text(text);
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 2);
	ck_assert_ptr_nonnull(strstr(t.r.msg[0], ":2: " LISTEN_COUNT_ERR));
	ck_assert_ptr_nonnull(strstr(t.r.msg[1],
	    ":2: listen: \"10.0.x.9\" is not a numeric IPv4 or IPv6 address"));
}
END_TEST

/*
 * 20000 addresses, the first 16 good and the rest not addresses at all:
 * one message, for the count, and none of the rest parsed (checking them
 * all against each other took seconds, a reload's master blocked).
 */
START_TEST(test_listen_far_too_many)
{
	size_t len = 32 + 20000 * 16, used;
	char *text = malloc(len);
	int i;

	ck_assert_ptr_nonnull(text);
	used = (size_t)snprintf(text, len, "\nlisten = [ \"10.0.0.1\"");
	for (i = 1; i < 20000; i++)
		used += (size_t)snprintf(text + used, len - used,
		    i < 16 ? ", \"10.0.0.%d\"" : ", \"10.0.x.%d\"", i + 1);
	snprintf(text + used, len - used, " ];\n");
	test_load_text(text);
	free(text);
	test_expect_one(t.path, "2: " LISTEN_COUNT_ERR);
}
END_TEST

START_TEST(test_listen_errors_all_reported)
{
	char want[256];

	test_load_text("\n\nlisten = [ \"a\", \"::1\", \"b\", \"::1\" ];\n");
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 3);
	snprintf(want, sizeof want,
	    "%s:3: listen: \"a\" is not a numeric IPv4 or IPv6 address", t.path);
	ck_assert_str_eq(t.r.msg[0], want);
	snprintf(want, sizeof want,
	    "%s:3: listen: \"b\" is not a numeric IPv4 or IPv6 address", t.path);
	ck_assert_str_eq(t.r.msg[1], want);
	snprintf(want, sizeof want, "%s:3: listen: \"::1\" is listed twice", t.path);
	ck_assert_str_eq(t.r.msg[2], want);
}
END_TEST

/* ---- whole files ---- */

START_TEST(test_good_full)
{
	struct config *cfg = test_load(TEST_DATA_DIR "/good-full.conf");

	ck_assert_msg(cfg != NULL, "%s", t.r.n > 0 ? t.r.msg[0] : "");
	ck_assert_int_eq(t.r.n, 0);
	ck_assert_int_eq(cfg->refs, 1);
	ck_assert_str_eq(cfg->path, TEST_DATA_DIR "/good-full.conf");
	ck_assert_int_eq(cfg->port, 7777);
	ck_assert_uint_eq(cfg->nlisten, 3);
	ck_assert_str_eq(cfg->listen[0], "127.0.0.1");
	ck_assert_str_eq(cfg->listen[1], "::1");
	ck_assert_str_eq(cfg->listen[2], "192.0.2.10");
	ck_assert_int_eq(cfg->backlog, 128);
	ck_assert_int_eq(cfg->threads, 4);
	ck_assert_int_eq(cfg->cpu_slice, 0);
	ck_assert_int_eq(cfg->max_connections, 500000);
	ck_assert_int_eq(cfg->idle_timeout, 0);
	ck_assert_uint_eq(cfg->buffer_size, 4096);
	ck_assert_str_eq(cfg->greeting, "Hello,\tfriend.\n\"Quoted\" \\ done\n");
	ck_assert_uint_eq(cfg->greeting_len, strlen(cfg->greeting));
	ck_assert_str_eq(cfg->reply_prefix, "");
	ck_assert_uint_eq(cfg->reply_prefix_len, 0);
	ck_assert_int_eq(cfg->shutdown_timeout, 86400);
	ck_assert_str_eq(cfg->pidfile, "/var/run/echod-test.pid");
	ck_assert_int_eq(cfg->log_facility, LOG_LOCAL3);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert(!cfg->log_connections);
}
END_TEST

START_TEST(test_bad_many_all_reported)
{
	static const char *const want[] = {
		"2: port: must be an integer from 1 to 65535",
		"3: listen: \"localhost\" is not a numeric IPv4 or IPv6 address",
		"3: listen: \"127.0.0.1\" is listed twice",
		"5: frobnicate: unknown setting",
		"6: pidfile: must be \"\" or an absolute path",
		("8: " LEVEL_ERR),
	};
	char full[TEST_MSG_MAX];
	size_t i;

	ck_assert_ptr_null(test_load(TEST_DATA_DIR "/bad-many.conf"));
	ck_assert_int_eq(t.r.n, 6);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		snprintf(full, sizeof full, TEST_DATA_DIR "/bad-many.conf:%s", want[i]);
		ck_assert_str_eq(t.r.msg[i], full);
	}
}
END_TEST

START_TEST(test_several_errors_counted)
{
	test_load_text("port = \"80\";\nthreads = 2000;\nlog = {\n  foo = 1;\n"
	    "  level = \"loud\";\n  connections = 0;\n};\nbar = true;\n");
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 6);
}
END_TEST

START_TEST(test_errors_without_report)
{
	ck_assert_ptr_null(config_load(TEST_DATA_DIR "/bad-many.conf", NULL, NULL));
	ck_assert_ptr_null(config_load("/nonexistent/echod.conf", NULL, NULL));
	t.cfg = config_load(TEST_DATA_DIR "/good-full.conf", NULL, NULL);
	ck_assert_ptr_nonnull(t.cfg);
}
END_TEST

START_TEST(test_syntax_error_data_file)
{
	test_load(TEST_DATA_DIR "/bad-syntax.conf");
	test_expect_one(TEST_DATA_DIR "/bad-syntax.conf", "4: syntax error");
}
END_TEST

START_TEST(test_syntax_error_line)
{
	test_reject("port = 1;\nbacklog = 2;\nthreads = ;\nbuffer_size = 4096;\n",
	    "3: syntax error");
}
END_TEST

START_TEST(test_syntax_error_duplicate)
{
	test_reject("port = 1;\n\nport = 2;\n",
	    "3: syntax error: duplicate setting name");
}
END_TEST

START_TEST(test_missing_file)
{
	test_load("/nonexistent/echod.conf");
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 1);
	ck_assert_str_eq(t.r.msg[0],
	    "/nonexistent/echod.conf: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_directory_rejected)
{
	test_load(TEST_DATA_DIR);
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 1);
	ck_assert_str_eq(t.r.msg[0], TEST_DATA_DIR ": cannot open: Is a directory");
}
END_TEST

/*
 * A file 3 directories of 200 characters down from a fresh one in /tmp:
 * its path, over 600 characters, goes in front of a message whole.
 */
START_TEST(test_long_path_in_messages)
{
	char top[] = "/tmp/check_config_long.XXXXXX", path[PATH_MAX];
	char name[201], file[PATH_MAX];
	size_t len;
	FILE *f;
	int i;

	ck_assert_ptr_nonnull(mkdtemp(top));
	memset(name, 'd', 200);
	name[200] = '\0';
	snprintf(path, sizeof path, "%s", top);
	for (i = 0; i < 3; i++) {
		len = strlen(path);
		snprintf(path + len, sizeof path - len, "/%s", name);
		ck_assert_int_eq(mkdir(path, 0700), 0);
	}
	len = strlen(path);
	snprintf(path + len, sizeof path - len, "/echod.conf");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# long\nthreads = 5000;\n", f);
	fclose(f);
	test_load(path);
	unlink(path);
	snprintf(file, sizeof file, "%s", path);
	for (i = 0; i < 4; i++)
		rmdir(dirname(path));
	ck_assert_uint_gt(strlen(file), 600);
	test_expect_one(file, "2: threads: must be an integer from 0 to 1024");
}
END_TEST

/* ---- references and threads ---- */

START_TEST(test_ref_unref)
{
	struct config *cfg = config_defaults();

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg->refs, 1);
	ck_assert_ptr_eq(config_ref(cfg), cfg);
	ck_assert_int_eq(cfg->refs, 2);
	config_unref(cfg);
	ck_assert_int_eq(cfg->refs, 1);
	config_unref(cfg);      /* freed: valgrind checks it */
	ck_assert_ptr_null(config_ref(NULL));
	config_unref(NULL);
}
END_TEST

START_TEST(test_loaded_config_refs)
{
	struct config *cfg = test_accept("port = 1;\n");

	ck_assert_int_eq(cfg->refs, 1);
	config_ref(cfg);
	config_unref(cfg);
	ck_assert_int_eq(cfg->refs, 1);
}
END_TEST

START_TEST(test_thread_count)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_int_eq(config_thread_count(test_accept("threads = 3;\n")), 3);
	ck_assert_int_eq(config_thread_count(test_accept("threads = 0;\n")),
	    cpus < 1 ? 1 : cpus > 1024 ? 1024 : cpus);
	ck_assert_int_ge(config_thread_count(t.cfg), 1);
}
END_TEST

/* ---- @include, and what echod reads before libconfig does ---- */

/* A temporary directory for the files of one test; removed at teardown. */
static struct {
	char dir[64];
	char names[16][32];
	int n;
} inc;

static void inc_setup(void)
{
	test_setup();
	memset(&inc, 0, sizeof inc);
	snprintf(inc.dir, sizeof inc.dir, "/tmp/check_config_inc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(inc.dir));
}

static void inc_teardown(void)
{
	char path[128];

	while (inc.n > 0) {
		snprintf(path, sizeof path, "%s/%s", inc.dir, inc.names[--inc.n]);
		if (unlink(path) < 0)
			rmdir(path);
	}
	rmdir(inc.dir);
	test_teardown();
}

/* The path of name in the test's directory (one of two static buffers). */
static const char *inc_path(const char *name)
{
	static char bufs[2][128];
	static int which;
	char *buf = bufs[which++ % 2];

	snprintf(buf, sizeof bufs[0], "%s/%s", inc.dir, name);
	return buf;
}

static void inc_note(const char *name)
{
	ck_assert_int_lt(inc.n, 16);
	snprintf(inc.names[inc.n++], sizeof inc.names[0], "%s", name);
}

/* Writes len bytes of text to name in the test's directory. */
static void inc_write_len(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(inc_path(name), "w");

	ck_assert_ptr_nonnull(f);
	inc_note(name);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void inc_write(const char *name, const char *text)
{
	inc_write_len(name, text, strlen(text));
}

/* Loads name from the test's directory, from "/" as the current directory. */
static struct config *inc_load(const char *name)
{
	char cwd[PATH_MAX];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(chdir("/"), 0);
	test_load(inc_path(name));
	ck_assert_int_eq(chdir(cwd), 0);
	return t.cfg;
}

/* Loads name and checks it is accepted without a message. */
static struct config *inc_accept(const char *name)
{
	inc_load(name);
	ck_assert_msg(t.cfg != NULL, "rejected: %s", t.r.n > 0 ? t.r.msg[0] : "(none)");
	ck_assert_int_eq(t.r.n, 0);
	return t.cfg;
}

/* Loads name and checks it is rejected with one message, "FILE:" + want. */
static void inc_reject(const char *name, const char *file, const char *want)
{
	inc_load(name);
	test_expect_one(file, want);
}

/* A relative @include is found next to the configuration file, wherever the
 * current directory is. */
START_TEST(test_include_is_relative_to_the_file)
{
	inc_write("threads.conf", "threads = 3;\n");
	inc_write("echod.conf", "port = 7;\n@include \"threads.conf\"\n");
	ck_assert_int_eq(inc_accept("echod.conf")->threads, 3);
	ck_assert_int_eq(t.cfg->port, 7);
}
END_TEST

START_TEST(test_include_absolute)
{
	char text[256];

	inc_write("threads.conf", "threads = 3;\n");
	snprintf(text, sizeof text, "@include \"%s\" # a comment may follow\n",
	    inc_path("threads.conf"));
	inc_write("echod.conf", text);
	ck_assert_int_eq(inc_accept("echod.conf")->threads, 3);
}
END_TEST

/* libconfig alone exited the process on a directory and hung on a FIFO. */
static const struct {
	const char *line, *want;
} test_bad_includes[] = {
	{ "@include \".\"", "2: @include \".\": cannot open: Is a directory" },
	{ "@include \"\"", "2: @include \"\": no file name" },
	{ "@include \"fifo\"", "2: @include \"fifo\": cannot open: not a regular file" },
	{ "@include \"none\"", "2: @include \"none\": cannot open: No such file or directory" },
	{ "@include \"sub\" port = 1;", "2: @include \"sub\": only a comment may follow it on its line" },
	{ "@include \"sub", "2: @include: the file name needs its closing quote on the same line" },
	{ "@include \"echod.conf\"", "2: @include \"echod.conf\": that file is being read already (an include loop)" },
};

START_TEST(test_include_refused)
{
	char text[128];

	ck_assert_int_eq(mkfifo(inc_path("fifo"), 0600), 0);
	inc_note("fifo");
	inc_write("sub", "threads = 3;\n");
	snprintf(text, sizeof text, "port = 7;\n%s\nthreads = 1;\n", test_bad_includes[_i].line);
	inc_write("echod.conf", text);
	inc_reject("echod.conf", inc_path("echod.conf"), test_bad_includes[_i].want);
}
END_TEST

/* Ten files deep (below the configuration file) are read; eleven are not. */
START_TEST(test_include_depth)
{
	char name[16], text[64];

	inc_write("c11", "threads = 3;\n");
	for (int i = 10; i >= 1; i--) {
		snprintf(name, sizeof name, "c%d", i);
		snprintf(text, sizeof text, "@include \"c%d\"\n", i + 1);
		inc_write(name, text);
	}
	inc_write("ok.conf", "@include \"c2\"\n");
	inc_write("deep.conf", "@include \"c1\"\n");
	ck_assert_int_eq(inc_accept("ok.conf")->threads, 3);
	inc_reject("deep.conf", "c10", "1: @include \"c11\": includes nested more than 10 deep");
}
END_TEST

START_TEST(test_include_loop_through_another_file)
{
	inc_write("a.inc", "port = 7;\n@include \"b.inc\"\n");
	inc_write("b.inc", "\n@include \"a.inc\"\n");
	inc_write("echod.conf", "@include \"a.inc\"\n");
	inc_reject("echod.conf", "b.inc",
	    "2: @include \"a.inc\": that file is being read already (an include loop)");
}
END_TEST

/* Every message names the file and line the setting was written at. */
START_TEST(test_include_lines_map_back)
{
	char want[256];

	inc_write("sub.inc", "backlog = 1;\n\nbuffer_size = 1;\n");
	inc_write("echod.conf", "port = 7;\n@include \"sub.inc\"\nthreads = -1;\n");
	inc_load("echod.conf");
	ck_assert_ptr_null(t.cfg);
	ck_assert_int_eq(t.r.n, 2);
	ck_assert_str_eq(t.r.msg[0],
	    "sub.inc:3: buffer_size: must be an integer from 1024 to 16777216");
	snprintf(want, sizeof want, "%s:3: threads: must be an integer from 0 to 1024",
	    inc_path("echod.conf"));
	ck_assert_str_eq(t.r.msg[1], want);
}
END_TEST

START_TEST(test_include_syntax_error_in_it)
{
	inc_write("sub.inc", "backlog = 1;\nport = ;\n");
	inc_write("echod.conf", "\n\n@include \"sub.inc\"\n");
	inc_reject("echod.conf", "sub.inc", "2: syntax error");
}
END_TEST

START_TEST(test_include_ending_inside_a_comment)
{
	inc_write("sub.inc", "threads = 3; /* not closed\n");
	inc_write("echod.conf", "@include \"sub.inc\"\nport = 7; /* */\n");
	inc_reject("echod.conf", "sub.inc", " ends inside a comment");
}
END_TEST

/* In a comment or a string, an @include line is text, as for libconfig. */
START_TEST(test_include_in_comment_or_string_is_text)
{
	inc_write("echod.conf", "/*\n@include \"none\"\n*/\n"
	    "greeting = \"a\n@include \\\"none\\\"\n\";\n");
	ck_assert_str_eq(inc_accept("echod.conf")->greeting, "a\n@include \"none\"\n");
}
END_TEST

START_TEST(test_nul_byte)
{
	inc_write_len("echod.conf", "port = 7;\nthreads\0 = 1;\n", 24);
	inc_reject("echod.conf", inc_path("echod.conf"), "2: syntax error: a NUL byte");
}
END_TEST

START_TEST(test_nul_escape_in_string)
{
	test_reject("port = 7;\ngreeting = \"a\\x00b\";\n",
	    "2: syntax error: \"\\x00\" in a string: a NUL byte cannot be part of a setting");
}
END_TEST

/* libconfig 1.5 cut an integer written without L to 32 bits. */
static const struct {
	const char *text, *want;
} test_wide_ints[] = {
	{ "port = 4295007297;", "1: port: must be an integer from 1 to 65535" },
	{ "port = 0x100001F90;", "1: port: must be an integer from 1 to 65535" },
	{ "port = 0x80001F90;", "1: port: must be an integer from 1 to 65535" },
	{ "idle_timeout = 4294967296;", "1: idle_timeout: must be an integer from 0 to 31536000" },
	{ "threads = -2147483649;", "1: threads: must be an integer from 0 to 1024" },
	{ "buffer_size = 99999999999999999999999;", "1: buffer_size: must be an integer from 1024 to 16777216" },
};

START_TEST(test_int_beyond_32_bits)
{
	test_reject(test_wide_ints[_i].text, test_wide_ints[_i].want);
}
END_TEST

/* Numbers in strings and comments are left as they are. */
START_TEST(test_int_scan_leaves_the_rest)
{
	struct config *cfg = test_accept("port = 0x1F90; # 99999999999\n"
	    "greeting = \"99999999999 /* x\"; // 99999999999\n"
	    "/* 99999999999 */ threads = 2 /* 99999999999 */ ;\n");

	ck_assert_int_eq(cfg->port, 8080);
	ck_assert_str_eq(cfg->greeting, "99999999999 /* x");
}
END_TEST

START_TEST(test_unreadable_file)
{
	test_load("/proc/self/mem");
	test_expect_one("/proc/self/mem", " cannot read: Input/output error");
}
END_TEST

START_TEST(test_fifo_refused)
{
	ck_assert_int_eq(mkfifo(inc_path("fifo"), 0600), 0);
	inc_note("fifo");
	inc_reject("fifo", inc_path("fifo"), " cannot open: not a regular file");
}
END_TEST

/* ---- the suite ---- */

static TCase *test_case(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	return tc;
}

static Suite *test_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = test_case("defaults");
	tcase_add_test(tc, test_defaults_function);
	tcase_add_test(tc, test_empty_file_gives_defaults);
	tcase_add_test(tc, test_comments_and_empty_log_give_defaults);
	suite_add_tcase(s, tc);

	tc = test_case("integers");
	tcase_add_loop_test(tc, test_int_matrix, 0, TEST_NINT_KEYS * INT_NCASES);
	tcase_add_test(tc, test_int_hex_accepted);
	suite_add_tcase(s, tc);

	tc = test_case("bad values");
	tcase_add_loop_test(tc, test_bad_value, 0, TEST_NBADS);
	suite_add_tcase(s, tc);

	tc = test_case("strings");
	tcase_add_test(tc, test_greeting_with_escapes);
	tcase_add_test(tc, test_greeting_empty);
	tcase_add_test(tc, test_greeting_longest);
	tcase_add_test(tc, test_greeting_too_long);
	tcase_add_test(tc, test_reply_prefix_value);
	tcase_add_test(tc, test_reply_prefix_empty);
	tcase_add_test(tc, test_reply_prefix_longest);
	tcase_add_test(tc, test_reply_prefix_too_long);
	tcase_add_test(tc, test_pidfile_value);
	tcase_add_test(tc, test_pidfile_none);
	tcase_add_test(tc, test_user_default_keeps_ids);
	tcase_add_test(tc, test_user_takes_its_primary_group);
	tcase_add_test(tc, test_group_overrides_primary_group);
	tcase_add_test(tc, test_user_unknown);
	tcase_add_test(tc, test_user_wrong_type);
	tcase_add_test(tc, test_group_unknown);
	tcase_add_test(tc, test_group_without_user);
	tcase_add_test(tc, test_group_with_empty_user);
	tcase_add_test(tc, test_group_with_wrong_user);
	tcase_add_test(tc, test_group_without_user_in_line_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_checked_fixture(tc, inc_setup, inc_teardown);
	tcase_add_test(tc, test_include_is_relative_to_the_file);
	tcase_add_test(tc, test_include_absolute);
	tcase_add_loop_test(tc, test_include_refused, 0,
	    (int)(sizeof test_bad_includes / sizeof test_bad_includes[0]));
	tcase_add_test(tc, test_include_depth);
	tcase_add_test(tc, test_include_loop_through_another_file);
	tcase_add_test(tc, test_include_lines_map_back);
	tcase_add_test(tc, test_include_syntax_error_in_it);
	tcase_add_test(tc, test_include_ending_inside_a_comment);
	tcase_add_test(tc, test_include_in_comment_or_string_is_text);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_fifo_refused);
	suite_add_tcase(s, tc);

	tc = test_case("text");
	tcase_add_test(tc, test_nul_escape_in_string);
	tcase_add_loop_test(tc, test_int_beyond_32_bits, 0,
	    (int)(sizeof test_wide_ints / sizeof test_wide_ints[0]));
	tcase_add_test(tc, test_int_scan_leaves_the_rest);
	tcase_add_test(tc, test_unreadable_file);
	suite_add_tcase(s, tc);

	tc = test_case("log");
	tcase_add_loop_test(tc, test_log_facility_value, 0,
	    (int)(sizeof test_facilities / sizeof test_facilities[0]));
	tcase_add_loop_test(tc, test_log_level_value, 0,
	    (int)(sizeof test_levels / sizeof test_levels[0]));
	tcase_add_test(tc, test_log_connections_false);
	tcase_add_test(tc, test_log_connections_true);
	tcase_add_test(tc, test_log_as_list_of_group_rejected);
	suite_add_tcase(s, tc);

	tc = test_case("listen");
	tcase_add_test(tc, test_listen_ipv6);
	tcase_add_test(tc, test_listen_list_syntax);
	tcase_add_test(tc, test_listen_sixteen);
	tcase_add_test(tc, test_listen_seventeen);
	tcase_add_test(tc, test_listen_too_many_still_checked);
	tcase_add_test(tc, test_listen_far_too_many);
	tcase_add_test(tc, test_listen_errors_all_reported);
	suite_add_tcase(s, tc);

	tc = test_case("files");
	tcase_add_test(tc, test_good_full);
	tcase_add_test(tc, test_bad_many_all_reported);
	tcase_add_test(tc, test_several_errors_counted);
	tcase_add_test(tc, test_errors_without_report);
	tcase_add_test(tc, test_syntax_error_data_file);
	tcase_add_test(tc, test_syntax_error_line);
	tcase_add_test(tc, test_syntax_error_duplicate);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_directory_rejected);
	tcase_add_test(tc, test_long_path_in_messages);
	suite_add_tcase(s, tc);

	tc = test_case("references");
	tcase_add_test(tc, test_ref_unref);
	tcase_add_test(tc, test_loaded_config_refs);
	tcase_add_test(tc, test_thread_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(test_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
