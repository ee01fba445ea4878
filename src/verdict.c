/*
 * verdict: one name table per enum of verdict.h, read both ways.  The names
 * are the stored and reported text (docs/json.md, docs/schema.md): changing
 * one changes every report and database.
 */
#include "smaudit/verdict.h"

#include <stddef.h>
#include <string.h>

static const char *const verdict_names[] = {[V_OK] = "ok",
                                            [V_NO_ANSWER] = "no-answer",
                                            [V_REJECTED] = "rejected",
                                            [V_ONE_WAY] = "one-way",
                                            [V_NOT_SEEN] = "not-seen",
                                            [V_NA] = "n/a",
                                            [V_FILTERED] = "filtered",
                                            [V_NONE] = NULL};
static const char *const finding_kind_names[] = {[FK_MISSING] = "missing",
                                                 [FK_INTERMITTENT] = "intermittent",
                                                 [FK_UNEXPECTED] = SM_FK_UNEXPECTED_NAME,
                                                 [FK_PROTOCOL_MISMATCH] =
                                                     SM_FK_PROTOCOL_MISMATCH_NAME};
static const char *const severity_names[] = {
    [SEV_ERROR] = "error", [SEV_WARNING] = "warning", [SEV_INFO] = "info"};
static const char *const class_names[] = {[CL_EXPECTED] = "expected",
                                          [CL_OPTIONAL] = "optional",
                                          [CL_ALLOWED] = "allowed",
                                          [CL_UNEXPECTED] = SM_CLASS_UNEXPECTED_NAME,
                                          [CL_UNMONITORED] = "unmonitored"};
static const char *const rule_kind_names[] = {
    [RK_EXPECT] = "expect", [RK_OPTIONAL] = "optional", [RK_ALLOW] = "allow"};
static const char *const run_status_names[] = {
    [RUN_RUNNING] = "running", [RUN_COMPLETE] = "complete", [RUN_INTERRUPTED] = "interrupted"};

#define NNAMES(t) (sizeof(t) / sizeof((t)[0]))

/* The index of s in names, or -1. */
static int
lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* Defines sm_X_name and sm_X_parse over the table X_names. */
#define NAME_TABLE(fn, type, table)                                                                \
	const char *sm_##fn##_name(type v)                                                         \
	{                                                                                          \
		return (size_t)v < NNAMES(table) ? table[v] : NULL;                                \
	}                                                                                          \
	bool sm_##fn##_parse(const char *s, type *out)                                             \
	{                                                                                          \
		int i = lookup(table, NNAMES(table), s);                                           \
		if (i < 0)                                                                         \
			return false;                                                              \
		*out = (type)i;                                                                    \
		return true;                                                                       \
	}

NAME_TABLE(finding_kind, enum sm_finding_kind, finding_kind_names)
NAME_TABLE(severity, enum sm_severity, severity_names)
NAME_TABLE(class, enum sm_class, class_names)
NAME_TABLE(rule_kind, enum sm_rule_kind, rule_kind_names)
NAME_TABLE(run_status, enum sm_run_status, run_status_names)

const char *
sm_verdict_name(enum sm_verdict v)
{
	return (size_t)v < NNAMES(verdict_names) ? verdict_names[v] : NULL;
}

bool
sm_verdict_parse(const char *s, enum sm_verdict *out)
{
	if (s == NULL || *s == '\0') {
		*out = V_NONE;
		return true;
	}
	int i = lookup(verdict_names, NNAMES(verdict_names), s);
	if (i < 0)
		return false;
	*out = (enum sm_verdict)i;
	return true;
}

bool
sm_verdict_failed(enum sm_verdict v)
{
	return v != V_OK && v != V_NA && v != V_FILTERED;
}
