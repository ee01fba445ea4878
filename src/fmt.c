/*
 * fmt: the writers of fmt.h.  Every output that shows a time, a JSON string
 * or a flow goes through here, so a change of spelling is made once.
 */
#include "smaudit/fmt.h"

#include "smaudit/err.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

/* The one table of format names: --format, its help, its errors and the completions
 * all read it. */
static const char *const format_names[] = {
    [FMT_TEXT] = "text", [FMT_JSON] = "json", [FMT_CSV] = "csv", [FMT_HTML] = "html"};
_Static_assert(sizeof(format_names) / sizeof(format_names[0]) == FMT_COUNT,
               "every format has a name");

bool
sm_parse_format(const char *s, enum sm_format *out)
{
	for (size_t i = 0; i < FMT_COUNT; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum sm_format)i;
			return true;
		}
	return false;
}

const char *
sm_format_name(enum sm_format f)
{
	return (unsigned)f < FMT_COUNT ? format_names[f] : NULL;
}

void
sm_format_list(unsigned set, const char *sep, const char *sep_last, char *buf, size_t len)
{
	size_t n = 0, k = 0;
	for (unsigned i = 0; i < FMT_COUNT; i++)
		n += (set & SM_FMT_BIT(i)) != 0;
	if (len > 0)
		buf[0] = '\0';
	for (unsigned i = 0; i < FMT_COUNT; i++) {
		if (!(set & SM_FMT_BIT(i)))
			continue;
		if (k > 0)
			sm_strlcat(buf, k + 1 == n ? sep_last : sep, len);
		sm_strlcat(buf, format_names[i], len);
		k++;
	}
}

void
sm_json_string(FILE *out, const char *s)
{
	if (s == NULL) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void
sm_json_opt(FILE *out, const char *s)
{
	sm_json_string(out, s && *s ? s : NULL);
}

void
sm_json_count(FILE *out, int port)
{
	if (port < 0)
		fputs("null", out);
	else
		fprintf(out, "%d", port);
}

void
sm_fmt_ts(double ts, char *buf, size_t len)
{
	buf[0] = '\0';
	if (ts <= 0)
		return;
	snprintf(buf, len, "%.6f", ts);
	size_t n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.' && n + 1 < len)
		buf[n++] = '0', buf[n] = '\0';
}

void
sm_json_ts(FILE *out, double ts)
{
	char buf[64];
	sm_fmt_ts(ts, buf, sizeof(buf));
	fputs(buf[0] ? buf : "null", out);
}

void
sm_json_members(FILE *out, const struct sm_json_member *m, size_t n, const void *row,
                const char *new_line_sep)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const void *v = (const char *)row + m[i].off;
		if (m[i].type == SM_JSON_ID && *(const int64_t *)v <= 0)
			continue;
		if ((m[i].type == SM_JSON_RAW || m[i].type == SM_JSON_STR_SOME) &&
		    *(const char *)v == '\0')
			continue;
		if (m[i].type == SM_JSON_U64_SOME && *(const uint64_t *)v == 0)
			continue;
		if (!first)
			fputs(m[i].new_line ? new_line_sep : ", ", out);
		first = false;
		fprintf(out, "\"%s\": ", m[i].key);
		switch (m[i].type) {
		case SM_JSON_STR:
		case SM_JSON_STR_SOME:
			sm_json_string(out, v);
			break;
		case SM_JSON_OPT:
			sm_json_opt(out, v);
			break;
		case SM_JSON_COUNT:
			sm_json_count(out, *(const int *)v);
			break;
		case SM_JSON_U64:
		case SM_JSON_U64_SOME:
			fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)v);
			break;
		case SM_JSON_TS:
			sm_json_ts(out, *(const double *)v);
			break;
		case SM_JSON_ID:
			fprintf(out, "%lld", (long long)*(const int64_t *)v);
			break;
		case SM_JSON_RULE_KIND:
			sm_json_string(out, sm_rule_kind_name(*(const enum sm_rule_kind *)v));
			break;
		case SM_JSON_VERDICT:
			sm_json_string(out, sm_verdict_name(*(const enum sm_verdict *)v));
			break;
		case SM_JSON_RAW:
			fputs(v, out);
			break;
		}
	}
}

void
sm_csv_field(FILE *out, const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void
sm_fmt_time(double ts, char *buf, size_t len)
{
	if (ts <= 0) {
		sm_strlcpy(buf, "-", len);
		return;
	}
	/* To the microsecond first: a capture's stamp, held in seconds by a double,
	 * is a fraction of a microsecond off (10.3 is 10.29999995), which cut to the
	 * millisecond would show 10.299. */
	long long us = (long long)(ts * 1e6 + 0.5); /* ts > 0: rounded */
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(us % 1000000 / 1000));
}

void
sm_fmt_flow_name(const struct sm_expected_row *r, char *buf, size_t len)
{
	char port[16] = "";
	if (r->port >= 0)
		snprintf(port, sizeof(port), "/%d", r->port);
	else
		sm_strlcpy(port, "/echo", sizeof(port));
	const char *src = r->src[0] ? r->src : "*";
	const char *dst = r->dst[0] ? r->dst : "*";
	snprintf(buf, len, "%s%s  %s %s -> %s %s", r->proto, port, r->src_role, src, r->dst_role,
	         dst);
}

void
sm_fmt_shell_word(const char *s, char *buf, size_t len)
{
	if (len == 0)
		return;
	bool safe = *s != '\0';
	for (const char *c = s; *c != '\0' && safe; c++)
		safe = isalnum((unsigned char)*c) || strchr("@%+=:,./-_", *c) != NULL;
	if (safe || len < 3) {
		sm_strlcpy(buf, s, len);
		return;
	}
	size_t n = 0;
	buf[n++] = '\'';
	for (const char *c = s; *c != '\0'; c++) {
		const char *piece = *c == '\'' ? "'\\''" : NULL; /* close, a quoted ', reopen */
		size_t plen = piece != NULL ? strlen(piece) : 1;
		if (n + plen + 2 > len) /* room for the closing quote and the NUL */
			break;
		if (piece != NULL)
			memcpy(buf + n, piece, plen);
		else
			buf[n] = *c;
		n += plen;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
}
