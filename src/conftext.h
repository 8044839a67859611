/*
 * conftext.h: a configuration file's text, as libconfig is to parse it.
 *
 * echod reads the file and does @include itself: libconfig 1.5 exits the
 * process when an included file cannot be read (a directory, say), waits
 * for ever on a FIFO, and puts its include directory before absolute
 * paths too. The text handed to libconfig has every included file in
 * place of its @include line, and each of its lines maps back to the file
 * and line it came from. On the way, what libconfig 1.5 would silently
 * get wrong is mended or refused: an integer beyond 32 bits written
 * without L (libconfig would cut it to 32 bits) is read whole, and a NUL
 * byte, in the file or as "\x00" in a string (which libconfig would cut
 * the string at), is an error.
 */
#ifndef ECHOD_CONFTEXT_H
#define ECHOD_CONFTEXT_H

#include <stddef.h>

#define CONFTEXT_MAX_BYTES (1024 * 1024)   /* the whole text, includes too */
#define CONFTEXT_MAX_DEPTH 10              /* @include nesting */

/* Where a line of the text comes from. */
struct conftext_origin {
	const char *file;       /* as given to conftext_read, or as written after @include */
	unsigned line;
};

struct conftext {
	char *text;             /* NUL-terminated, with no NUL inside */
	size_t len, cap;
	struct conftext_origin *lines;  /* lines[i]: where line i + 1 comes from */
	size_t nlines, lines_cap;
	char **files;           /* the names the origins point to */
	size_t nfiles;
};

/* Receives one error, as "file:line: text" or "file: text". */
typedef void conftext_report_fn(void *ctx, const char *msg);

/*
 * Reads path and the files it includes into t (zeroed by the caller).
 * A relative @include is found in the directory of path. An error in
 * opening or reading a file ends the reading; a NUL in a string is
 * reported and the reading goes on. Returns how many errors were
 * reported; t is freed with conftext_free() either way.
 */
int conftext_read(struct conftext *t, const char *path,
    conftext_report_fn *report, void *ctx);

/* Where line (counted from 1, as libconfig does) of t's text comes from. */
struct conftext_origin conftext_origin(const struct conftext *t, unsigned line);

void conftext_free(struct conftext *t);

#endif
