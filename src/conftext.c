/*
 * conftext.c: a configuration file's text with its includes in place (see
 * conftext.h).
 *
 * Owns reading the files (a FIFO, device or directory is refused, never
 * waited on), @include with its depth and loop limits, the map from lines
 * of the text to files and lines, and a scanner that follows libconfig
 * 1.5's lexer as far as this needs: comments and strings, where
 * "@include" and digits mean nothing, names, and numbers. It parses no
 * setting: config.c hands the text to libconfig.
 */
#include "conftext.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFTEXT_MSG_MAX (3 * PATH_MAX)
#define CONFTEXT_READ_CHUNK 65536

/* Where libconfig's lexer would be at this point of the text. */
enum conftext_state { CT_CODE, CT_COMMENT, CT_STRING };

/* The state of one conftext_read(). */
struct conftext_reader {
	struct conftext *t;
	conftext_report_fn *report;
	void *ctx;
	int errors;
	bool stop;                      /* a reading error: read no further */
	char dir[PATH_MAX];             /* where a relative @include is found */
	enum conftext_state state;
	struct stat open[CONFTEXT_MAX_DEPTH + 1];   /* the files being read */
	int depth;
};

/* A line of a file, '\n' included (but for a last line without one). */
struct conftext_line {
	const char *s;
	size_t n;
	struct conftext_origin at;
};

static void conftext_file(struct conftext_reader *r, const char *path,
    const char *name, const char *where);

static void conftext_report(struct conftext_reader *r, bool fatal,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reports an error; a fatal one ends the reading. */
static void
conftext_report(struct conftext_reader *r, bool fatal, const char *fmt, ...)
{
	char msg[CONFTEXT_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->errors++;
	r->stop = r->stop || fatal;
	if (r->report != NULL)
		r->report(r->ctx, msg);
}

/* ---- the text and its line map ---- */

/* Makes room for n more bytes and the NUL; false (reported) if it cannot. */
static bool
conftext_reserve(struct conftext_reader *r, size_t n)
{
	struct conftext *t = r->t;
	size_t cap = t->cap ? t->cap : 4096;
	char *text;

	if (t->len + n >= CONFTEXT_MAX_BYTES) {
		conftext_report(r, true, "%s: larger than %d bytes with what it includes",
		    t->files[0], CONFTEXT_MAX_BYTES);
		return false;
	}
	while (cap < t->len + n + 1)
		cap *= 2;
	if (cap == t->cap)
		return true;
	if ((text = realloc(t->text, cap)) == NULL) {
		conftext_report(r, true, "%s: out of memory", t->files[0]);
		return false;
	}
	t->text = text;
	t->cap = cap;
	return true;
}

/* Appends n bytes of s to the text. */
static void
conftext_put(struct conftext_reader *r, const char *s, size_t n)
{
	struct conftext *t = r->t;

	if (r->stop || !conftext_reserve(r, n))
		return;
	memcpy(t->text + t->len, s, n);
	t->len += n;
	t->text[t->len] = '\0';
}

/* Notes that the next line of the text comes from at; false if it cannot. */
static bool
conftext_new_line(struct conftext_reader *r, struct conftext_origin at)
{
	struct conftext *t = r->t;
	struct conftext_origin *lines;

	if (t->nlines == t->lines_cap) {
		size_t cap = t->lines_cap ? 2 * t->lines_cap : 256;
		if ((lines = realloc(t->lines, cap * sizeof *lines)) == NULL) {
			conftext_report(r, true, "%s: out of memory", at.file);
			return false;
		}
		t->lines = lines;
		t->lines_cap = cap;
	}
	t->lines[t->nlines++] = at;
	return true;
}

/* A copy of name that the origins can point to; NULL (reported) if none. */
static const char *
conftext_keep_name(struct conftext_reader *r, const char *name)
{
	struct conftext *t = r->t;
	char **files = realloc(t->files, (t->nfiles + 1) * sizeof *files);
	char *copy = strdup(name);

	if (files != NULL)
		t->files = files;
	if (files == NULL || copy == NULL) {
		free(copy);
		conftext_report(r, true, "%s: out of memory", name);
		return NULL;
	}
	t->files[t->nfiles++] = copy;
	return copy;
}

/* ---- scanning, as libconfig's lexer would ---- */

/* Where a '#' or '//' comment ends: before the line's newline. */
static size_t
conftext_eol(const struct conftext_line *l)
{
	return l->n > 0 && l->s[l->n - 1] == '\n' ? l->n - 1 : l->n;
}

static size_t
conftext_skip_comment(struct conftext_reader *r, const struct conftext_line *l, size_t i)
{
	const char *end = memmem(l->s + i, l->n - i, "*/", 2);

	if (end == NULL)
		return l->n;
	r->state = CT_CODE;
	return (size_t)(end - l->s) + 2;
}

/* The rest of a string from i; a "\x00" in it is an error. */
static size_t
conftext_skip_string(struct conftext_reader *r, const struct conftext_line *l, size_t i)
{
	while (i < l->n) {
		if (l->s[i] == '"') {
			r->state = CT_CODE;
			return i + 1;
		}
		if (l->s[i] == '\\' && l->n - i >= 4 && (l->s[i + 1] | 0x20) == 'x' &&
		    l->s[i + 2] == '0' && l->s[i + 3] == '0')
			conftext_report(r, false, "%s:%u: syntax error: \"\\x00\" in a "
			    "string: a NUL byte cannot be part of a setting",
			    l->at.file, l->at.line);
		i += l->s[i] == '\\' ? 2 : 1;
	}
	return l->n;
}

static size_t
conftext_name_end(const struct conftext_line *l, size_t i)
{
	for (i++; i < l->n; i++) {
		unsigned char c = (unsigned char)l->s[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '*')
			break;
	}
	return i;
}

/* True if the digits ending at k go on as a float: ".", or an exponent. */
static bool
conftext_is_float(const struct conftext_line *l, size_t k)
{
	const char *s = l->s;

	if (k < l->n && s[k] == '.')
		return true;
	if (k + 1 >= l->n || (s[k] | 0x20) != 'e')
		return false;
	if (s[k + 1] == '-' || s[k + 1] == '+')
		k++;
	return k + 1 < l->n && isdigit((unsigned char)s[k + 1]);
}

static size_t
conftext_float_end(const struct conftext_line *l, size_t k)
{
	while (k < l->n && (isdigit((unsigned char)l->s[k]) || l->s[k] == '.'))
		k++;
	if (!conftext_is_float(l, k))
		return k;
	k += 1 + (l->s[k + 1] == '-' || l->s[k + 1] == '+');
	while (k < l->n && isdigit((unsigned char)l->s[k]))
		k++;
	return k;
}

/* Whether the decimal integer s[0..n) (sign and digits) fits in an int. */
static bool
conftext_fits_int(const char *s, size_t n)
{
	char buf[24];
	long long v;

	if (n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, NULL, 10);
	return errno == 0 && v >= INT_MIN && v <= INT_MAX;
}

/* Whether the hex digits s[0..n) make at most INT_MAX. */
static bool
conftext_hex_fits_int(const char *s, size_t n)
{
	while (n > 0 && *s == '0') {
		s++;
		n--;
	}
	return n < 8 || (n == 8 && *s <= '7');
}

/* Copies the text up to k and an L after it: libconfig reads a 64-bit integer. */
static void
conftext_widen(struct conftext_reader *r, const struct conftext_line *l,
    size_t k, size_t *done)
{
	conftext_put(r, l->s + *done, k - *done);
	conftext_put(r, "L", 1);
	*done = k;
}

/* A number from i, its sign included; returns where it ends. */
static size_t
conftext_number(struct conftext_reader *r, const struct conftext_line *l,
    size_t i, size_t *done)
{
	const char *s = l->s;
	size_t j = i + (s[i] == '-' || s[i] == '+'), k = j;
	bool hex = l->n - j > 2 && s[j] == '0' && (s[j + 1] | 0x20) == 'x' &&
	    isxdigit((unsigned char)s[j + 2]);

	for (k += hex ? 2 : 0; k < l->n; k++)
		if (!(hex ? isxdigit((unsigned char)s[k]) : isdigit((unsigned char)s[k])))
			break;
	if (!hex && conftext_is_float(l, k))
		return conftext_float_end(l, k);
	if (k < l->n && s[k] == 'L')
		return k + 1 + (k + 1 < l->n && s[k + 1] == 'L');
	if (hex ? j == i && !conftext_hex_fits_int(s + j + 2, k - j - 2)
	    : !conftext_fits_int(s + i, k - i))
		conftext_widen(r, l, k, done);
	return k;
}

/* One token outside comments and strings, from i; returns where it ends. */
static size_t
conftext_code(struct conftext_reader *r, const struct conftext_line *l,
    size_t i, size_t *done)
{
	unsigned char c = (unsigned char)l->s[i];
	char next = i + 1 < l->n ? l->s[i + 1] : '\0';

	if (c == '/' && next == '*') {
		r->state = CT_COMMENT;
		return i + 2;
	}
	if (c == '#' || (c == '/' && next == '/'))
		return conftext_eol(l);
	if (c == '"') {
		r->state = CT_STRING;
		return i + 1;
	}
	if (isalpha(c) || c == '*')
		return conftext_name_end(l, i);
	if (c == '.')
		return conftext_float_end(l, i + 1);
	if (isdigit(c) || ((c == '-' || c == '+') &&
	    (isdigit((unsigned char)next) || next == '.')))
		return conftext_number(r, l, i, done);
	return i + 1;
}

/* Copies a line into the text, scanning it: see conftext_widen. */
static void
conftext_scan(struct conftext_reader *r, const struct conftext_line *l)
{
	size_t i = 0, done = 0;

	while (i < l->n && !r->stop) {
		if (r->state == CT_COMMENT)
			i = conftext_skip_comment(r, l, i);
		else if (r->state == CT_STRING)
			i = conftext_skip_string(r, l, i);
		else
			i = conftext_code(r, l, i, &done);
	}
	conftext_put(r, l->s + done, l->n - done);
}

/* ---- @include ---- */

/* How many blanks (spaces, tabs) there are from i on. */
static size_t
conftext_blanks(const struct conftext_line *l, size_t i)
{
	size_t k = i;

	while (k < l->n && (l->s[k] == ' ' || l->s[k] == '\t'))
		k++;
	return k - i;
}

/* The index of the opening quote if l is an @include line, else 0. */
static size_t
conftext_include_quote(const struct conftext_line *l)
{
	size_t i = conftext_blanks(l, 0), blanks;

	if (l->n - i < 9 || memcmp(l->s + i, "@include", 8) != 0)
		return 0;
	i += 8;
	blanks = conftext_blanks(l, i);
	if (blanks == 0 || i + blanks >= l->n || l->s[i + blanks] != '"')
		return 0;
	return i + blanks;
}

/*
 * The file name of an @include line, from after its opening quote at i
 * (a backslash escapes a quote or a backslash). Returns the index after
 * the closing quote; 0 without one on the line or room for the name.
 */
static size_t
conftext_include_name(const struct conftext_line *l, size_t i, char *name, size_t cap)
{
	size_t k = 0;

	for (; i < l->n && l->s[i] != '\n'; i++) {
		char c = l->s[i];
		if (c == '"') {
			name[k] = '\0';
			return i + 1;
		}
		if (c == '\\' && i + 1 < l->n && (l->s[i + 1] == '\\' || l->s[i + 1] == '"'))
			c = l->s[++i];
		if (k + 1 >= cap)
			return 0;
		name[k++] = c;
	}
	return 0;
}

/* True if only blanks, perhaps then a comment, are left from i. */
static bool
conftext_rest_is_blank(const struct conftext_line *l, size_t i)
{
	while (i < l->n && (l->s[i] == ' ' || l->s[i] == '\t' || l->s[i] == '\r'))
		i++;
	if (i == l->n || l->s[i] == '\n' || l->s[i] == '#')
		return true;
	return i + 1 < l->n && l->s[i] == '/' && l->s[i + 1] == '/';
}

/* An included file must end as it began: outside comments and strings. */
static void
conftext_end_included(struct conftext_reader *r, const char *name)
{
	struct conftext *t = r->t;

	if (r->stop)
		return;
	if (r->state != CT_CODE)
		conftext_report(r, true, "%s: ends inside a %s", name,
		    r->state == CT_COMMENT ? "comment" : "string");
	else if (t->len > 0 && t->text[t->len - 1] != '\n')
		conftext_put(r, "\n", 1);
}

/* Reads the file an @include line names, its opening quote at quote. */
static void
conftext_include(struct conftext_reader *r, const struct conftext_line *l, size_t quote)
{
	char name[PATH_MAX], path[PATH_MAX], where[CONFTEXT_MSG_MAX];
	size_t end = conftext_include_name(l, quote + 1, name, sizeof name);

	if (end == 0) {
		conftext_report(r, true, "%s:%u: @include: the file name needs its "
		    "closing quote on the same line", l->at.file, l->at.line);
		return;
	}
	snprintf(where, sizeof where, "%s:%u: @include \"%s\"", l->at.file,
	    l->at.line, name);
	if (!conftext_rest_is_blank(l, end))
		conftext_report(r, true, "%s: only a comment may follow it on its line", where);
	else if (name[0] == '\0')
		conftext_report(r, true, "%s: no file name", where);
	else if (r->depth > CONFTEXT_MAX_DEPTH)
		conftext_report(r, true, "%s: includes nested more than %d deep",
		    where, CONFTEXT_MAX_DEPTH);
	else if (snprintf(path, sizeof path, "%s%s%s", name[0] == '/' ? "" : r->dir,
	    name[0] == '/' ? "" : "/", name) >= (int)sizeof path)
		conftext_report(r, true, "%s: cannot open: %s", where, strerror(ENAMETOOLONG));
	else {
		conftext_file(r, path, name, where);
		conftext_end_included(r, name);
	}
}

/* ---- files ---- */

/* One line of a file: an @include, or text to scan. */
static void
conftext_line(struct conftext_reader *r, const struct conftext_line *l)
{
	size_t quote = r->state == CT_CODE ? conftext_include_quote(l) : 0;

	if (memchr(l->s, '\0', l->n) != NULL)
		conftext_report(r, true, "%s:%u: syntax error: a NUL byte",
		    l->at.file, l->at.line);
	else if (quote > 0)
		conftext_include(r, l, quote);
	else if (conftext_new_line(r, l->at))
		conftext_scan(r, l);
}

/* Scans buf (len bytes of the file named file) line by line. */
static void
conftext_lines(struct conftext_reader *r, const char *buf, size_t len, const char *file)
{
	struct conftext_line l = { .at = { .file = file } };
	size_t i = 0;

	while (i < len && !r->stop) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		l.s = buf + i;
		l.n = end - i;
		l.at.line++;
		conftext_line(r, &l);
		i = end;
	}
}

/* Reads all of fd into *buf (malloc'd); 0, or an errno value. */
static int
conftext_read_fd(int fd, char **buf, size_t *len)
{
	size_t cap = 0;
	ssize_t n;

	*buf = NULL;
	*len = 0;
	do {
		if (*len + CONFTEXT_READ_CHUNK > cap) {
			char *more = realloc(*buf, cap + CONFTEXT_READ_CHUNK);
			if (more == NULL)
				return ENOMEM;
			*buf = more;
			cap += CONFTEXT_READ_CHUNK;
		}
		n = read(fd, *buf + *len, cap - *len);
		if (n > 0)
			*len += (size_t)n;
		if (*len >= CONFTEXT_MAX_BYTES)
			return EFBIG;
	} while (n > 0 || (n < 0 && errno == EINTR));
	return n < 0 ? errno : 0;
}

/*
 * Reads the regular file at path whole; false (reported as where) if it
 * cannot be. O_NONBLOCK: opening a FIFO with no writer does not wait.
 */
static bool
conftext_slurp(struct conftext_reader *r, const char *path, const char *where,
    struct stat *st, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), err;

	if (fd < 0 || fstat(fd, st) < 0) {
		conftext_report(r, true, "%s: cannot open: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (!S_ISREG(st->st_mode)) {
		conftext_report(r, true, "%s: cannot open: %s", where,
		    S_ISDIR(st->st_mode) ? strerror(EISDIR) : "not a regular file");
		close(fd);
		return false;
	}
	err = conftext_read_fd(fd, buf, len);
	close(fd);
	if (err != 0) {
		conftext_report(r, true, "%s: cannot read: %s", where, strerror(err));
		free(*buf);
	}
	return err == 0;
}

/* True if st is a file being read already: an include loop. */
static bool
conftext_is_open(const struct conftext_reader *r, const struct stat *st)
{
	for (int i = 0; i < r->depth; i++)
		if (r->open[i].st_dev == st->st_dev && r->open[i].st_ino == st->st_ino)
			return true;
	return false;
}

/* Reads the file at path, called name in the line map, into the text. */
static void
conftext_file(struct conftext_reader *r, const char *path, const char *name,
    const char *where)
{
	struct stat st;
	const char *kept;
	char *buf;
	size_t len;

	if (!conftext_slurp(r, path, where, &st, &buf, &len))
		return;
	if (conftext_is_open(r, &st))
		conftext_report(r, true, "%s: that file is being read already (an "
		    "include loop)", where);
	else if ((kept = conftext_keep_name(r, name)) != NULL) {
		r->open[r->depth++] = st;
		conftext_lines(r, buf, len, kept);
		r->depth--;
	}
	free(buf);
}

int
conftext_read(struct conftext *t, const char *path, conftext_report_fn *report,
    void *ctx)
{
	struct conftext_reader r = { .t = t, .report = report, .ctx = ctx };
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy) {
		conftext_report(&r, true, "%s: cannot open: %s", path, strerror(ENAMETOOLONG));
		return r.errors;
	}
	snprintf(r.dir, sizeof r.dir, "%s", dirname(copy));
	conftext_file(&r, path, path, path);
	conftext_put(&r, "", 0);        /* an empty file has a text too */
	return r.errors;
}

struct conftext_origin
conftext_origin(const struct conftext *t, unsigned line)
{
	size_t i = line > 0 ? line - 1 : 0;

	if (t->nlines == 0)
		return (struct conftext_origin){ t->nfiles > 0 ? t->files[0] : "", line };
	return t->lines[i < t->nlines ? i : t->nlines - 1];
}

void
conftext_free(struct conftext *t)
{
	free(t->text);
	free(t->lines);
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	free(t->files);
	memset(t, 0, sizeof *t);
}
