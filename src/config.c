/*
 * config.c: the configuration file, from libconfig text to struct config.
 *
 * Owns the built-in defaults, the validation of every setting (reporting
 * every error found as "file:line: key: text", not just the first) and the
 * reference count of a loaded config. It never prints anything: messages
 * go to the caller's report function. It does not decide what a reload
 * does with a new config; that is the master's business.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "conftext.h"

/* A message: a file's path, its line, a setting's name and the text. */
#define CONFIG_KEY_MAX 128
#define CONFIG_MSG_MAX (PATH_MAX + CONFIG_KEY_MAX + 512)

#define CONFIG_DEFAULT_PORT             8888
#define CONFIG_DEFAULT_BACKLOG          511
#define CONFIG_DEFAULT_CPU_SLICE        200
#define CONFIG_DEFAULT_MAX_CONNECTIONS  10000
#define CONFIG_DEFAULT_IDLE_TIMEOUT     300
#define CONFIG_DEFAULT_BUFFER_SIZE      65536
#define CONFIG_DEFAULT_SHUTDOWN_TIMEOUT 30
#define CONFIG_DEFAULT_GREETING \
	"Welcome to the server. Type something and hit enter\n"
#define CONFIG_DEFAULT_REPLY_PREFIX     "OK..."
#define CONFIG_DEFAULT_PIDFILE          "/run/echod/echod.pid"

#define CONFIG_HINT_MAX 32      /* longer names get no "did you mean" */

#define CONFIG_LISTEN_TYPE_ERROR "must be a list of numeric IPv4 or IPv6 addresses"

/* The state of one config_load(): the config being filled, where errors go. */
struct config_parse {
	struct config *cfg;
	const char *path;
	struct conftext text;            /* what libconfig parses, and its line map */
	config_report_fn *report;
	void *ctx;
	int errors;
};

/* Parses one setting into p->cfg, reporting what is wrong with it. */
typedef void config_parse_fn(struct config_parse *p, const config_setting_t *s);

/* A key allowed in a group, and how its value is parsed. */
struct config_key {
	const char *name;
	config_parse_fn *parse;
};

/* A word allowed as a value ("daemon", "info", ...), and what it means. */
struct config_word {
	const char *name;
	int value;
};

/* A parsed listen address, to find duplicates written differently. */
struct config_addr {
	int family;
	unsigned char bytes[16];
};

static const struct config_word config_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	{ NULL, 0 }
};

static const struct config_word config_levels[] = {
	{ "err", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	{ NULL, 0 }
};

/* ---- reporting ---- */

static void config_report(struct config_parse *p, const char *msg)
{
	p->errors++;
	if (p->report != NULL)
		p->report(p->ctx, msg);
}

/* The dotted name of s ("port", "log.level"); a list element takes its list's. */
static void config_key_name(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	const char *name = config_setting_name(s);
	size_t used;

	buf[0] = '\0';
	if (parent != NULL && (name == NULL || !config_setting_is_root(parent)))
		config_key_name(parent, buf, len);
	if (name == NULL)
		return;
	used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used > 0 ? "." : "", name);
}

/* The file and line setting s was written at. */
static struct conftext_origin config_setting_origin(const struct config_parse *p,
    const config_setting_t *s)
{
	return conftext_origin(&p->text, config_setting_source_line(s));
}

static void config_report_setting(struct config_parse *p,
    const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports "file:line: key: text" about setting s. */
static void config_report_setting(struct config_parse *p,
    const config_setting_t *s, const char *fmt, ...)
{
	struct conftext_origin at = config_setting_origin(p, s);
	char msg[CONFIG_MSG_MAX], key[CONFIG_KEY_MAX];
	va_list ap;
	int n;

	config_key_name(s, key, sizeof key);
	n = snprintf(msg, sizeof msg, "%s:%u: %s: ", at.file, at.line, key);
	if (n < 0 || (size_t)n >= sizeof msg)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	config_report(p, msg);
}

/* ---- values ---- */

/* Stores the integer value of s in *out when it is one from min to max. */
static int config_parse_int(struct config_parse *p, const config_setting_t *s,
    long long min, long long max, long long *out)
{
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
		*out = config_setting_get_int64(s);
		if (*out >= min && *out <= max)
			return 1;
	}
	config_report_setting(p, s, "must be an integer from %lld to %lld",
	    min, max);
	return 0;
}

static const char *config_string_value(const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return NULL;
	return config_setting_get_string(s);
}

/* Replaces *dst with a copy of value. */
static int config_store_string(struct config_parse *p,
    const config_setting_t *s, char **dst, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL) {
		config_report_setting(p, s, "out of memory");
		return 0;
	}
	free(*dst);
	*dst = copy;
	return 1;
}

/* A string of at most max bytes, stored in *dst with its length in *len. */
static void config_parse_text(struct config_parse *p, const config_setting_t *s,
    size_t max, char **dst, size_t *len)
{
	const char *value = config_string_value(s);

	if (value == NULL || strlen(value) > max) {
		config_report_setting(p, s, "must be a string of at most %zu bytes",
		    max);
		return;
	}
	if (config_store_string(p, s, dst, value))
		*len = strlen(value);
}

/* "a, b, c" from the names in words. */
static void config_word_list(const struct config_word *words, char *buf,
    size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; words->name != NULL && used < len; words++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? ", " : "", words->name);
}

/* One of the words, its value stored in *dst. */
static void config_parse_word(struct config_parse *p, const config_setting_t *s,
    const struct config_word *words, int *dst)
{
	const char *value = config_string_value(s);
	const struct config_word *w;
	char allowed[256];

	for (w = words; value != NULL && w->name != NULL; w++) {
		if (strcmp(value, w->name) == 0) {
			*dst = w->value;
			return;
		}
	}
	config_word_list(words, allowed, sizeof allowed);
	config_report_setting(p, s, "must be one of %s", allowed);
}

/* ---- groups ---- */

static const struct config_key *config_key_find(const struct config_key *keys,
    const char *name)
{
	for (; keys->name != NULL; keys++) {
		if (strcmp(keys->name, name) == 0)
			return keys;
	}
	return NULL;
}

static void config_report_unknown(struct config_parse *p,
    const config_setting_t *s, const struct config_key *keys);

/* Parses every setting of group in file order, so errors come in line order. */
static void config_parse_group(struct config_parse *p,
    const config_setting_t *group, const struct config_key *keys)
{
	const config_setting_t *s;
	const struct config_key *key;
	int i;

	for (i = 0; (s = config_setting_get_elem(group, (unsigned)i)) != NULL; i++) {
		key = config_key_find(keys, config_setting_name(s));
		if (key == NULL)
			config_report_unknown(p, s, keys);
		else
			key->parse(p, s);
	}
}

/* ---- listen ---- */

static int config_addr_parse(const char *text, struct config_addr *addr)
{
	memset(addr, 0, sizeof *addr);
	addr->family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	return inet_pton(addr->family, text, addr->bytes) == 1;
}

/* How many of the first n elements of list are addr (written any way). */
static int config_listen_count(const config_setting_t *list, int n,
    const struct config_addr *addr)
{
	const char *text;
	struct config_addr other;
	int i, count = 0;

	for (i = 0; i < n; i++) {
		text = config_setting_get_string_elem(list, i);
		if (text != NULL && config_addr_parse(text, &other) &&
		    memcmp(&other, addr, sizeof other) == 0)
			count++;
	}
	return count;
}

/*
 * Reports addr if it is an IPv4-mapped IPv6 address (::ffff:a.b.c.d): the
 * IPv6 listeners are IPv6-only, so binding one would fail at start-up.
 */
static int config_listen_mapped(struct config_parse *p,
    const config_setting_t *list, const char *text,
    const struct config_addr *addr)
{
	struct in6_addr in6;
	char v4[INET_ADDRSTRLEN];

	memcpy(&in6, addr->bytes, sizeof in6);
	if (addr->family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&in6))
		return 0;
	inet_ntop(AF_INET, addr->bytes + 12, v4, sizeof v4);
	config_report_setting(p, list,
	    "\"%s\" is an IPv4-mapped address: write %s", text, v4);
	return 1;
}

static void config_listen_clear(struct config *cfg)
{
	while (cfg->nlisten > 0) {
		cfg->nlisten--;
		free(cfg->listen[cfg->nlisten]);
		cfg->listen[cfg->nlisten] = NULL;
	}
}

/*
 * Element i of list. Errors carry the line of "listen" itself: libconfig
 * gives an element the line of the token after it, which can be the next.
 */
static void config_parse_listen_elem(struct config_parse *p,
    const config_setting_t *list, int i)
{
	const char *text = config_setting_get_string_elem(list, i);
	struct config_addr addr;
	struct config *cfg = p->cfg;
	int seen;

	if (text == NULL) {
		config_report_setting(p, list, CONFIG_LISTEN_TYPE_ERROR);
		return;
	}
	if (!config_addr_parse(text, &addr)) {
		config_report_setting(p, list,
		    "\"%s\" is not a numeric IPv4 or IPv6 address", text);
		return;
	}
	if (config_listen_mapped(p, list, text, &addr))
		return;
	seen = config_listen_count(list, i, &addr);
	if (seen == 1)
		config_report_setting(p, list, "\"%s\" is listed twice", text);
	if (seen == 0 && cfg->nlisten < CONFIG_MAX_LISTEN &&
	    config_store_string(p, list, &cfg->listen[cfg->nlisten], text))
		cfg->nlisten++;
}

/*
 * An array or list of addresses. Past CONFIG_MAX_LISTEN only the count is
 * reported: each element is checked against those before it, and a list
 * of thousands would block the master (a reload) for seconds.
 */
static void config_parse_listen(struct config_parse *p, const config_setting_t *s)
{
	int i, n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		config_report_setting(p, s, CONFIG_LISTEN_TYPE_ERROR);
		return;
	}
	n = config_setting_length(s);
	if (n < 1 || n > CONFIG_MAX_LISTEN)
		config_report_setting(p, s, "must list from 1 to %d addresses",
		    CONFIG_MAX_LISTEN);
	config_listen_clear(p->cfg);
	for (i = 0; i < n && i < CONFIG_MAX_LISTEN; i++)
		config_parse_listen_elem(p, s, i);
}

/* ---- the keys ---- */

static void config_parse_port(struct config_parse *p, const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 1, 65535, &v))
		p->cfg->port = (int)v;
}

static void config_parse_backlog(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 1, 65535, &v))
		p->cfg->backlog = (int)v;
}

static void config_parse_threads(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 0, CONFIG_MAX_THREADS, &v))
		p->cfg->threads = (int)v;
}

static void config_parse_cpu_slice(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 0, CONFIG_MAX_CPU_SLICE, &v))
		p->cfg->cpu_slice = (int)v;
}

static void config_parse_max_connections(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 1, 1000000, &v))
		p->cfg->max_connections = (long)v;
}

static void config_parse_idle_timeout(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 0, 86400LL * 365, &v))
		p->cfg->idle_timeout = (int)v;
}

static void config_parse_buffer_size(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 1024, 16777216, &v))
		p->cfg->buffer_size = (size_t)v;
}

static void config_parse_shutdown_timeout(struct config_parse *p,
    const config_setting_t *s)
{
	long long v;

	if (config_parse_int(p, s, 0, 86400, &v))
		p->cfg->shutdown_timeout = (int)v;
}

static void config_parse_greeting(struct config_parse *p,
    const config_setting_t *s)
{
	config_parse_text(p, s, CONFIG_MAX_GREETING, &p->cfg->greeting,
	    &p->cfg->greeting_len);
}

static void config_parse_reply_prefix(struct config_parse *p,
    const config_setting_t *s)
{
	config_parse_text(p, s, CONFIG_MAX_PREFIX, &p->cfg->reply_prefix,
	    &p->cfg->reply_prefix_len);
}

static void config_parse_pidfile(struct config_parse *p,
    const config_setting_t *s)
{
	const char *value = config_string_value(s);

	if (value == NULL || (value[0] != '\0' && value[0] != '/')) {
		config_report_setting(p, s, "must be \"\" or an absolute path");
		return;
	}
	config_store_string(p, s, &p->cfg->pidfile, value);
}

static void config_parse_user(struct config_parse *p, const config_setting_t *s)
{
	const char *value = config_string_value(s);
	struct passwd *pw = NULL;

	if (value == NULL) {
		config_report_setting(p, s, "must be a user name, or \"\"");
		return;
	}
	if (value[0] != '\0' && (pw = getpwnam(value)) == NULL) {
		config_report_setting(p, s, "no such user \"%s\"", value);
		return;
	}
	if (pw != NULL) {
		p->cfg->uid = pw->pw_uid;
		if (p->cfg->group[0] == '\0')
			p->cfg->gid = pw->pw_gid;
	}
	config_store_string(p, s, &p->cfg->user, value);
}

/*
 * Whether the group setting s has a user beside it: a "user" setting that
 * is not "". One of the wrong type or naming no user counts: its own error
 * is reported, and the group's would be wrong.
 */
static int config_user_given(const config_setting_t *s)
{
	const config_setting_t *user;
	const char *value;

	user = config_setting_get_member(config_setting_parent(s), "user");
	if (user == NULL)
		return 0;
	value = config_string_value(user);
	return value == NULL || value[0] != '\0';
}

static void config_parse_user_group(struct config_parse *p,
    const config_setting_t *s)
{
	const char *value = config_string_value(s);
	struct group *gr = NULL;

	if (value == NULL) {
		config_report_setting(p, s, "must be a group name, or \"\"");
		return;
	}
	if (value[0] != '\0' && (gr = getgrnam(value)) == NULL) {
		config_report_setting(p, s, "no such group \"%s\"", value);
		return;
	}
	if (gr != NULL && !config_user_given(s)) {
		config_report_setting(p, s, "needs user to be set too");
		return;
	}
	if (gr != NULL)
		p->cfg->gid = gr->gr_gid;
	config_store_string(p, s, &p->cfg->group, value);
}

static void config_parse_log_facility(struct config_parse *p,
    const config_setting_t *s)
{
	config_parse_word(p, s, config_facilities, &p->cfg->log_facility);
}

static void config_parse_log_level(struct config_parse *p,
    const config_setting_t *s)
{
	config_parse_word(p, s, config_levels, &p->cfg->log_level);
}

static void config_parse_log_connections(struct config_parse *p,
    const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		config_report_setting(p, s, "must be true or false");
		return;
	}
	p->cfg->log_connections = config_setting_get_bool(s) != 0;
}

static const struct config_key config_log_keys[] = {
	{ "facility", config_parse_log_facility },
	{ "level", config_parse_log_level },
	{ "connections", config_parse_log_connections },
	{ NULL, NULL }
};

static void config_parse_log(struct config_parse *p, const config_setting_t *s)
{
	if (!config_setting_is_group(s)) {
		config_report_setting(p, s, "must be a group { ... }");
		return;
	}
	config_parse_group(p, s, config_log_keys);
}

static const struct config_key config_keys[] = {
	{ "port", config_parse_port },
	{ "listen", config_parse_listen },
	{ "backlog", config_parse_backlog },
	{ "threads", config_parse_threads },
	{ "cpu_slice", config_parse_cpu_slice },
	{ "max_connections", config_parse_max_connections },
	{ "idle_timeout", config_parse_idle_timeout },
	{ "buffer_size", config_parse_buffer_size },
	{ "greeting", config_parse_greeting },
	{ "reply_prefix", config_parse_reply_prefix },
	{ "shutdown_timeout", config_parse_shutdown_timeout },
	{ "pidfile", config_parse_pidfile },
	{ "user", config_parse_user },
	{ "group", config_parse_user_group },
	{ "log", config_parse_log },
	{ NULL, NULL }
};

/* ---- hints for unknown settings ---- */

/* The tables of keys, each with the prefix that names its keys. */
static const struct config_key_group {
	const char *prefix;
	const struct config_key *keys;
} config_key_groups[] = {
	{ "", config_keys },
	{ "log.", config_log_keys },
	{ NULL, NULL }
};

static int config_min(int a, int b)
{
	return a < b ? a : b;
}

/*
 * The edits (a letter inserted, deleted or replaced, two neighbours
 * swapped) that make a into b; CONFIG_HINT_MAX if either is longer.
 */
static int config_distance(const char *a, const char *b)
{
	int d[CONFIG_HINT_MAX + 1][CONFIG_HINT_MAX + 1];
	int i, j, la = (int)strlen(a), lb = (int)strlen(b);

	if (la > CONFIG_HINT_MAX || lb > CONFIG_HINT_MAX)
		return CONFIG_HINT_MAX;
	for (i = 0; i <= la; i++) {
		for (j = 0; j <= lb; j++) {
			if (i == 0 || j == 0) {
				d[i][j] = i + j;
				continue;
			}
			d[i][j] = config_min(d[i - 1][j], d[i][j - 1]) + 1;
			d[i][j] = config_min(d[i][j],
			    d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				d[i][j] = config_min(d[i][j], d[i - 2][j - 2] + 1);
		}
	}
	return d[la][lb];
}

/* The key of keys that name misspells: 1 edit off, 2 for keys over 4 letters. */
static const char *config_key_near(const struct config_key *keys,
    const char *name)
{
	const char *near = NULL;
	int d, best = 3;

	for (; keys->name != NULL; keys++) {
		d = config_distance(name, keys->name);
		if (d < best && d <= (strlen(keys->name) > 4 ? 2 : 1)) {
			near = keys->name;
			best = d;
		}
	}
	return near;
}

/*
 * The dotted name in buf of the key that name, unknown among keys, was
 * likely meant as: name in another group ("level" for "log.level"), else
 * a near miss among keys. 0 when there is none.
 */
static int config_key_hint(const struct config_key *keys, const char *name,
    char *buf, size_t len)
{
	const struct config_key_group *g;
	const char *near = NULL, *prefix = "";

	for (g = config_key_groups; g->keys != NULL; g++) {
		if (g->keys != keys && config_key_find(g->keys, name) != NULL) {
			snprintf(buf, len, "%s%s", g->prefix, name);
			return 1;
		}
		if (g->keys == keys) {
			near = config_key_near(keys, name);
			prefix = g->prefix;
		}
	}
	if (near != NULL)
		snprintf(buf, len, "%s%s", prefix, near);
	return near != NULL;
}

/* Reports s, not among keys, as unknown, with the key likely meant. */
static void config_report_unknown(struct config_parse *p,
    const config_setting_t *s, const struct config_key *keys)
{
	char hint[CONFIG_KEY_MAX];

	if (config_key_hint(keys, config_setting_name(s), hint, sizeof hint))
		config_report_setting(p, s, "unknown setting (did you mean %s?)",
		    hint);
	else
		config_report_setting(p, s, "unknown setting");
}

/* ---- loading ---- */

static void config_report_errno(struct config_parse *p, const char *what)
{
	char msg[CONFIG_MSG_MAX];

	snprintf(msg, sizeof msg, "%s: %s: %s", p->path, what, strerror(errno));
	config_report(p, msg);
}

/* libconfig's syntax error, at the file and line it comes from. */
static void config_report_syntax(struct config_parse *p, const config_t *lc)
{
	struct conftext_origin at = conftext_origin(&p->text,
	    (unsigned)config_error_line(lc));
	const char *text = config_error_text(lc);
	char msg[CONFIG_MSG_MAX];

	if (text == NULL || strcmp(text, "syntax error") == 0)
		snprintf(msg, sizeof msg, "%s:%u: syntax error", at.file, at.line);
	else
		snprintf(msg, sizeof msg, "%s:%u: syntax error: %s", at.file,
		    at.line, text);
	config_report(p, msg);
}

static void config_report_text(void *ctx, const char *msg)
{
	config_report(ctx, msg);
}

/*
 * Reads p->path, with what it includes (conftext.c, not libconfig), and
 * parses it into lc; 0 (reported) if it cannot be read or parsed.
 */
static int config_read_path(struct config_parse *p, config_t *lc)
{
	if (conftext_read(&p->text, p->path, config_report_text, p) > 0)
		return 0;
	if (config_read_string(lc, p->text.text) == CONFIG_TRUE)
		return 1;
	config_report_syntax(p, lc);
	return 0;
}

/* The defaults, to be overwritten by what the file sets, named after it. */
static struct config *config_start(struct config_parse *p)
{
	struct config *cfg = config_defaults();
	char *path = strdup(p->path);

	if (cfg == NULL || path == NULL) {
		errno = ENOMEM;
		config_report_errno(p, "cannot load");
		free(path);
		config_unref(cfg);
		return NULL;
	}
	free(cfg->path);
	cfg->path = path;
	return cfg;
}

struct config *config_load(const char *path, config_report_fn *report, void *ctx)
{
	struct config_parse p = { .path = path, .report = report, .ctx = ctx };
	config_t lc;

	if ((p.cfg = config_start(&p)) == NULL)
		return NULL;
	config_init(&lc);
	if (config_read_path(&p, &lc))
		config_parse_group(&p, config_root_setting(&lc), config_keys);
	config_destroy(&lc);
	conftext_free(&p.text);
	if (p.errors > 0) {
		config_unref(p.cfg);
		return NULL;
	}
	return p.cfg;
}

/* ---- defaults and references ---- */

static int config_default_strings(struct config *cfg)
{
	cfg->path = strdup("");
	cfg->listen[cfg->nlisten++] = strdup("0.0.0.0");
	cfg->listen[cfg->nlisten++] = strdup("::");
	cfg->greeting = strdup(CONFIG_DEFAULT_GREETING);
	cfg->greeting_len = strlen(CONFIG_DEFAULT_GREETING);
	cfg->reply_prefix = strdup(CONFIG_DEFAULT_REPLY_PREFIX);
	cfg->reply_prefix_len = strlen(CONFIG_DEFAULT_REPLY_PREFIX);
	cfg->pidfile = strdup(CONFIG_DEFAULT_PIDFILE);
	cfg->user = strdup("");
	cfg->group = strdup("");
	return cfg->path != NULL && cfg->listen[0] != NULL &&
	    cfg->listen[1] != NULL && cfg->greeting != NULL &&
	    cfg->reply_prefix != NULL && cfg->pidfile != NULL &&
	    cfg->user != NULL && cfg->group != NULL;
}

struct config *config_defaults(void)
{
	struct config *cfg = calloc(1, sizeof *cfg);

	if (cfg == NULL)
		return NULL;
	cfg->refs = 1;
	cfg->port = CONFIG_DEFAULT_PORT;
	cfg->backlog = CONFIG_DEFAULT_BACKLOG;
	cfg->threads = 0;
	cfg->cpu_slice = CONFIG_DEFAULT_CPU_SLICE;
	cfg->max_connections = CONFIG_DEFAULT_MAX_CONNECTIONS;
	cfg->idle_timeout = CONFIG_DEFAULT_IDLE_TIMEOUT;
	cfg->buffer_size = CONFIG_DEFAULT_BUFFER_SIZE;
	cfg->shutdown_timeout = CONFIG_DEFAULT_SHUTDOWN_TIMEOUT;
	cfg->log_facility = LOG_DAEMON;
	cfg->log_level = LOG_INFO;
	cfg->log_connections = true;
	if (!config_default_strings(cfg)) {
		config_unref(cfg);
		return NULL;
	}
	return cfg;
}

struct config *config_ref(struct config *cfg)
{
	if (cfg != NULL)
		__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL);
	return cfg;
}

void config_unref(struct config *cfg)
{
	if (cfg == NULL || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(cfg->path);
	config_listen_clear(cfg);
	free(cfg->greeting);
	free(cfg->reply_prefix);
	free(cfg->pidfile);
	free(cfg->user);
	free(cfg->group);
	free(cfg);
}

int config_thread_count(const struct config *cfg)
{
	long cpus;

	if (cfg->threads > 0)
		return cfg->threads;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > CONFIG_MAX_THREADS ? CONFIG_MAX_THREADS : (int)cpus;
}
