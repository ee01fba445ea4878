/*
 * fmt: the writers of fmt.h.  Every output that shows a time, a JSON string
 * or a flow goes through here, so a change of spelling is made once.
 */
#include "smaudit/fmt.h"

#include <string.h>
#include <time.h>

bool
sm_parse_format(const char *s, enum sm_format *out)
{
	static const char *const names[] = {
	    [FMT_TEXT] = "text", [FMT_JSON] = "json", [FMT_CSV] = "csv", [FMT_HTML] = "html"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum sm_format)i;
			return true;
		}
	return false;
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
		if (m[i].type == SM_JSON_RAW && *(const char *)v == '\0')
			continue;
		if (!first)
			fputs(m[i].new_line ? new_line_sep : ", ", out);
		first = false;
		fprintf(out, "\"%s\": ", m[i].key);
		switch (m[i].type) {
		case SM_JSON_STR:
			sm_json_string(out, v);
			break;
		case SM_JSON_OPT:
			sm_json_opt(out, v);
			break;
		case SM_JSON_COUNT:
			sm_json_count(out, *(const int *)v);
			break;
		case SM_JSON_U64:
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
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)((ts - (double)t) * 1000));
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
