/*
 * forensic: what a stored run says after an incident.
 * Builds the timeline of flows (activity per time bucket and every silence
 * longer than a gap) and the difference between two runs (flows that
 * appeared, disappeared or changed verdict), from the store only, and renders
 * both as text or JSON.  The HTML report draws the same timeline.  Lists
 * stored sessions (smaudit query) as text, CSV or JSON.
 */
#ifndef SMAUDIT_FORENSIC_H
#define SMAUDIT_FORENSIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "smaudit/err.h"
#include "smaudit/fmt.h"
#include "smaudit/store.h"

/* Activity of one bucket of a flow. */
enum sm_tl_mark {
	TL_NONE = 0,    /* no packet */
	TL_FAILED = 1,  /* attempts only: unanswered or refused */
	TL_ANSWERED = 2 /* an established session was active */
};

struct sm_tl_gap {
	double from, to;   /* last answered activity before, first after (or run edges) */
	uint64_t attempts; /* failed sessions that started inside the silence */
	bool edge;         /* the silence touches the start or end of the capture */
};

struct sm_tl_flow {
	char proto[8], src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN];
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX];
	int port; /* responder port, -1 for ICMP */
	uint64_t sessions, failed;
	double first_ts, last_ts;
	uint8_t *marks; /* enum sm_tl_mark per bucket; owned */
	struct sm_tl_gap *gaps;
	size_t ngaps, capgaps;
	/* while building, owned: answered intervals, start times of failed sessions */
	double (*iv)[2];
	size_t niv, capiv;
	double *fails;
	size_t nfails, capfails;
};

struct sm_timeline_opts {
	int64_t run_id;
	const char *pair_a, *pair_b; /* both or neither: only sessions between them */
	int port;                    /* -1 = any responder port */
	double gap;                  /* silences at least this long are reported */
	size_t buckets;              /* 0 = 60 */
};

struct sm_timeline {
	int64_t run_id;
	enum sm_run_status status; /* of the run: one not complete is said to be */
	double t0, t1, bucket, gap;
	size_t nbuckets;
	struct sm_tl_flow *flows;
	size_t nflows, capflows;
	bool truncated; /* more flows than SM_TL_MAX_FLOWS */
};

#define SM_TL_MAX_FLOWS 2000

/* Without a pair or port only the flows the policy expects are shown.
 * tl is freed with sm_timeline_free, also after an error. */
enum sm_err sm_timeline_build(struct sm_store *st, const struct sm_timeline_opts *o,
                              struct sm_timeline *tl, struct sm_errbuf *eb);
void sm_timeline_free(struct sm_timeline *tl);
size_t sm_timeline_gaps(const struct sm_timeline *tl);
void sm_timeline_text(FILE *out, const struct sm_timeline *tl);
void sm_timeline_json(FILE *out, const struct sm_timeline *tl);

/* Differences between two runs; returns the number of differences in *ndiff. */
enum sm_err sm_diff_runs(struct sm_store *st, int64_t run_a, int64_t run_b, bool json, FILE *out,
                         uint64_t *ndiff, struct sm_errbuf *eb);

/* Sessions as smaudit query lists them: aligned text columns, CSV with a header
 * row, or one JSON document {"run": ID, "sessions": [...]}.  begin, then
 * sm_session_list_row for each session (a store callback), then end. */
struct sm_session_list {
	FILE *out;             /* borrowed */
	enum sm_format format; /* FMT_TEXT, FMT_CSV or FMT_JSON */
	int64_t run_id;
	uint64_t n; /* sessions written */
};
void sm_session_list_begin(struct sm_session_list *l);
bool sm_session_list_row(void *list, const struct sm_session_row *r);
void sm_session_list_end(struct sm_session_list *l);

#endif
