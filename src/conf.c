#define _GNU_SOURCE /* strcasestr */
#include "smaudit/conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char too_many_words[] = "too many words on one line";

/* Tokenizes line in place: the token count, or -1 with *err_col and *why set. */
static int
tokenize(char *line, struct sm_tok *toks, int max, int *err_col, const char **why)
{
	int n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max) {
			*err_col = (int)(p - line) + 1;
			*why = too_many_words;
			return -1;
		}
		struct sm_tok *t = &toks[n++];
		t->col = (int)(p - line) + 1;
		if (*p == '"') {
			t->quoted = true;
			t->s = ++p;
			while (*p != '\0' && *p != '"')
				p++;
			if (*p != '"') {
				*err_col = t->col;
				*why = "unterminated quoted string: expected a closing '\"'";
				return -1;
			}
			*p++ = '\0';
		} else {
			t->quoted = false;
			t->s = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
				p++;
			if (*p == '#') {
				*p = '\0';
				return n;
			}
			if (*p != '\0')
				*p++ = '\0';
		}
	}
}

enum sm_err
sm_conf_tokenize(char *line, const char *fname, int lineno, struct sm_tok *toks, int max,
                 const char *more_hint, int *n, struct sm_errbuf *eb)
{
	int col;
	const char *why;
	*n = tokenize(line, toks, max, &col, &why);
	if (*n >= 0)
		return SM_OK;
	*n = 0;
	if (why != too_many_words)
		return sm_error(eb, SM_ERR_CONFIG, "%s:%d:%d: %s", fname, lineno, col, why);
	return sm_error(eb, SM_ERR_CONFIG, "%s:%d:%d: %s (at most %d)%s%s", fname, lineno, col, why,
	                max, more_hint != NULL ? ": " : "", more_hint != NULL ? more_hint : "");
}

enum sm_err
sm_conf_read_file(const char *path, char **out, struct sm_errbuf *eb)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return sm_error(eb, SM_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
	char *buf = malloc(SM_CONF_MAX_FILE + 1);
	if (buf == NULL) {
		fclose(f);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory reading %s", path);
	}
	size_t n = fread(buf, 1, SM_CONF_MAX_FILE + 1, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad) {
		free(buf);
		return sm_error(eb, SM_ERR_CONFIG, "%s: read error", path);
	}
	if (n > SM_CONF_MAX_FILE) {
		free(buf);
		return sm_error(eb, SM_ERR_CONFIG, "%s: file is larger than %d bytes", path,
		                SM_CONF_MAX_FILE);
	}
	if (memchr(buf, '\0', n) != NULL) {
		free(buf);
		return sm_error(eb, SM_ERR_CONFIG, "%s: binary file (contains NUL bytes)", path);
	}
	buf[n] = '\0';
	/* Windows editors start a UTF-8 file with a byte-order mark: not a word of line 1 */
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		memmove(buf, buf + 3, n - 3 + 1);
	*out = buf;
	return SM_OK;
}

char *
sm_conf_next_line(char **text)
{
	char *line = *text;
	if (line == NULL || *line == '\0')
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*text = nl + 1;
	} else {
		*text = line + strlen(line);
	}
	return line;
}

int
sm_conf_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > SM_CONF_NAME_MAX || lb > SM_CONF_NAME_MAX)
		return INT_MAX;
	int d[SM_CONF_NAME_MAX + 1][SM_CONF_NAME_MAX + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			int best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

bool
sm_conf_near_miss(const char *typed, const char *meant)
{
	int allowed = strlen(meant) <= 4 ? 1 : 2;
	if (sm_conf_edit_distance(typed, meant) <= allowed)
		return true;
	/* "the-mediator", "mediator1": the name is there with something around it */
	return strlen(meant) >= 4 && strcasestr(typed, meant) != NULL;
}
