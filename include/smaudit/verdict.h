/*
 * verdict: the typed results model.
 * Owns the enums of what a run concludes (verdicts, finding kinds, severities,
 * session classes, rule kinds, run status), their names as the database,
 * reports and docs/json.md spell them, and the parsers back.  Nothing else
 * compares these names: code reads the enums.  Also the finding record policy
 * makes and the store persists.
 */
#ifndef SMAUDIT_VERDICT_H
#define SMAUDIT_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/addr.h"

/* What the capture shows of an expected flow (docs/verdicts.md).  V_NONE: a
 * finding that is not about a verdict (unexpected traffic, protocol mismatch). */
enum sm_verdict { V_OK, V_NO_ANSWER, V_REJECTED, V_ONE_WAY, V_NOT_SEEN, V_NA, V_FILTERED, V_NONE };

enum sm_finding_kind { FK_MISSING, FK_INTERMITTENT, FK_UNEXPECTED, FK_PROTOCOL_MISMATCH };

enum sm_severity { SEV_ERROR, SEV_WARNING, SEV_INFO };

/* How policy sees a session. */
enum sm_class { CL_EXPECTED, CL_OPTIONAL, CL_ALLOWED, CL_UNEXPECTED, CL_UNMONITORED };

/* What a rule says of its flow; lowest wins when several match. */
enum sm_rule_kind { RK_EXPECT, RK_OPTIONAL, RK_ALLOW };

/* A stored run: going on, ended, or stopped without its end. */
enum sm_run_status { RUN_RUNNING, RUN_COMPLETE, RUN_INTERRUPTED };

/* The names that SQL fixed at build time spells (the store's partial indexes and the
 * queries that repeat their WHERE word for word, as a planner needs): the tables of
 * verdict.c are made of these, so the SQL cannot say another name.  Every other
 * statement binds sm_X_name(). */
#define SM_CLASS_UNEXPECTED_NAME     "unexpected"
#define SM_FK_UNEXPECTED_NAME        "unexpected"
#define SM_FK_PROTOCOL_MISMATCH_NAME "protocol-mismatch"
#define SM_SQL_NAME(name)            "'" name "'" /* a name as an SQL literal */

/* Names ("ok", "no-answer", ...); sm_verdict_name(V_NONE) is NULL (no verdict). */
const char *sm_verdict_name(enum sm_verdict v);
const char *sm_finding_kind_name(enum sm_finding_kind k);
const char *sm_severity_name(enum sm_severity s);
const char *sm_class_name(enum sm_class c);
const char *sm_rule_kind_name(enum sm_rule_kind k);
const char *sm_run_status_name(enum sm_run_status s);

/* Parsers: false (out unchanged) for a name that is none of them.  A NULL or ""
 * verdict parses as V_NONE. */
bool sm_verdict_parse(const char *s, enum sm_verdict *out);
bool sm_finding_kind_parse(const char *s, enum sm_finding_kind *out);
bool sm_severity_parse(const char *s, enum sm_severity *out);
bool sm_class_parse(const char *s, enum sm_class *out);
bool sm_rule_kind_parse(const char *s, enum sm_rule_kind *out);
bool sm_run_status_parse(const char *s, enum sm_run_status *out);

/* A verdict that is a failure of the flow: not ok, n/a or filtered. */
bool sm_verdict_failed(enum sm_verdict v);

/* The longest detail of a verdict or finding, with its NUL. */
#define SM_DETAIL_MAX 1024
/* The longest JSON text of where a flow was seen, one entry per sensor. */
#define SM_PATH_JSON_MAX 1024
/* The longest rule id ("sm-as.rules:12"), with its NUL: rules.h makes them, the
 * finding record and the store's rows keep them.  Here, not in rules.h, which
 * includes this header for enum sm_rule_kind. */
#define SM_RULE_ID_MAX 96

/* One finding as policy decides it and the store keeps it (text "" = null). */
struct sm_finding_row {
	int64_t id, run_id; /* filled when read back */
	enum sm_finding_kind kind;
	enum sm_severity severity;
	char rule[SM_RULE_ID_MAX], proto[8], src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN];
	enum sm_verdict verdict;
	int port; /* -1 for ICMP */
	char detail[SM_DETAIL_MAX];
};

#endif
