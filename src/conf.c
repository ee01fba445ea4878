#include "smaudit/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sm_conf_tokenize(char *line, struct sm_tok *toks, int max, int *err_col, const char **why)
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
			*why = "too many words on one line";
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
