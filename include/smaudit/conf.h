/*
 * conf: the line tokenizer shared by the site and rules files.
 * Splits a line into words and "quoted strings" with their 1-based
 * columns, drops '#' comments, and reads whole files with a size bound.
 * Also says when a name looks like a mistyped other one ("did you mean").
 */
#ifndef SMAUDIT_CONF_H
#define SMAUDIT_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "smaudit/err.h"

#define SM_CONF_MAX_TOKENS 1024 /* words a line; a site role continues on more lines */
#define SM_CONF_MAX_FILE   (1024 * 1024)

struct sm_tok {
	char *s; /* NUL-terminated, inside the caller's line buffer */
	int col;
	bool quoted;
};

/* Tokenizes line lineno of file fname in place into toks (at most max), *n of
 * them; SM_ERR_CONFIG with "FILE:LINE:COL: why" in eb on a syntax error.  A line
 * of more than max words names max and then more_hint (the way out; may be NULL). */
enum sm_err sm_conf_tokenize(char *line, const char *fname, int lineno, struct sm_tok *toks,
                             int max, const char *more_hint, int *n, struct sm_errbuf *eb);

/* Reads a whole text file; *out is malloc'd and NUL-terminated, owned by the caller.
 * A leading UTF-8 byte-order mark is left out (columns count from the text after it). */
enum sm_err sm_conf_read_file(const char *path, char **out, struct sm_errbuf *eb);

/* The next line of *text (which advances); NULL at the end.  Modifies the text. */
char *sm_conf_next_line(char **text);

/* Damerau-Levenshtein distance (optimal string alignment), ignoring ASCII case.
 * Names longer than SM_CONF_NAME_MAX count as far from everything. */
#define SM_CONF_NAME_MAX 64
int sm_conf_edit_distance(const char *a, const char *b);

/* True if typed is probably a mistyped meant: at most one edit from a name of up
 * to 4 characters (ic-a vs ic-b is a real difference), two from a longer one, or
 * meant (4 characters or more) inside it ("the-mediator"). */
bool sm_conf_near_miss(const char *typed, const char *meant);

#endif
