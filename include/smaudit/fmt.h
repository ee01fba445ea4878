/*
 * fmt: how values are written in every output.
 * JSON string literals, CSV fields, timestamps (UNIX with microseconds for
 * JSON, "2026-12-01 12:03:10.250Z" for people) and flow names, shared by
 * report, forensic, live and audit so each is spelled one way.  Writes only:
 * no output format knows another.
 */
#ifndef SMAUDIT_FMT_H
#define SMAUDIT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "smaudit/store.h"

/* The output formats; FMT_COUNT counts them.  A new one: its value here, its name in
 * the table of fmt.c, and the commands that write it in cli.c (ARCHITECTURE.md). */
enum sm_format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_HTML, FMT_COUNT };

/* A set of formats, one bit each: SM_FMT_BIT(FMT_TEXT) | SM_FMT_BIT(FMT_JSON). */
#define SM_FMT_BIT(f) (1u << (f))
#define SM_FMT_ALL    (SM_FMT_BIT(FMT_COUNT) - 1u)

/* A format by its name ("text", "json", "csv", "html"); false for anything else. */
bool sm_parse_format(const char *s, enum sm_format *out);
/* The name of f; NULL for FMT_COUNT or beyond. */
const char *sm_format_name(enum sm_format f);
/* The names of the formats in set, in the table's order, as people read a list:
 * "text, json or csv" (sep_last " or "), or one word apart (sep and sep_last " "). */
void sm_format_list(unsigned set, const char *sep, const char *sep_last, char *buf, size_t len);

/* Writes s as a JSON string literal (null for NULL).  The reports write JSON in one
 * pass with keys in a fixed order, so a small writer serves; a JSON library
 * (json-c, jansson) would build the whole document in memory first and parse
 * nothing. */
void sm_json_string(FILE *out, const char *s);
/* The same, with "" written as null too. */
void sm_json_opt(FILE *out, const char *s);
/* A port, VLAN or other count, null when negative (ICMP has no port). */
void sm_json_count(FILE *out, int port);
/* Writes a UNIX time with up to microsecond precision, or null for 0. */
void sm_json_ts(FILE *out, double ts);
/* How sm_json_members writes one member of a row. */
enum sm_json_type {
	SM_JSON_STR,       /* a char array as a string */
	SM_JSON_OPT,       /* the same, "" as null */
	SM_JSON_COUNT,     /* an int, null when negative (sm_json_count) */
	SM_JSON_U64,       /* a uint64_t */
	SM_JSON_TS,        /* a double UNIX time (sm_json_ts) */
	SM_JSON_ID,        /* an int64_t id; the whole member is left out when 0 */
	SM_JSON_RULE_KIND, /* an enum sm_rule_kind by its name */
	SM_JSON_VERDICT,   /* an enum sm_verdict by its name */
	SM_JSON_RAW,       /* a char array holding JSON text, written as it is; the whole
	                    * member is left out when "" */
	SM_JSON_STR_SOME,  /* a char array as a string; the whole member is left out when "" */
	SM_JSON_U64_SOME,  /* a uint64_t; the whole member is left out when 0 */
};
/* One member of a JSON object written from a row: its key, its type, where it is
 * in the row, and whether it starts a new line of the object. */
struct sm_json_member {
	const char *key;
	enum sm_json_type type;
	size_t off;
	bool new_line;
};
#define SM_JSON_MEMBER(key, type, row, field, new_line)                                            \
	{                                                                                          \
		(key), (type), offsetof(row, field), (new_line)                                    \
	}
/* Writes the n members m of row, in their order, as `"key": value` separated by ", "
 * (by new_line_sep before a member that starts a new line); no braces, so a caller
 * can add members of its own. */
void sm_json_members(FILE *out, const struct sm_json_member *m, size_t n, const void *row,
                     const char *new_line_sep);

/* Writes s as one CSV field (quoted when it holds a comma, quote or newline);
 * nothing for NULL or "". */
void sm_csv_field(FILE *out, const char *s);

/* s as one shell word a user can paste: as it is when every character is safe
 * (letters, digits, "@%+=:,./-_"), else in single quotes ("'" as '\''); cut to
 * fit len. */
void sm_fmt_shell_word(const char *s, char *buf, size_t len);

/* A UNIX time with up to microsecond precision and no trailing zeros ("" for 0). */
void sm_fmt_ts(double ts, char *buf, size_t len);
/* "2026-12-01 12:03:10.250Z" (UTC, milliseconds), or "-" for 0. */
void sm_fmt_time(double ts, char *buf, size_t len);
/* "tcp/11104  ic-a 10.10.1.11 -> ic-b 10.20.1.11" ("/echo" for ICMP; "*" for a side
 * the row names no address of, as its JSON says null). */
void sm_fmt_flow_name(const struct sm_expected_row *r, char *buf, size_t len);

#endif
