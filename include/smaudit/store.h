/*
 * store: the only user of SQLite.
 * Owns the schema of docs/schema.md (versioned with PRAGMA user_version),
 * writes runs, sessions, expected-flow verdicts and findings with prepared
 * statements in batched transactions (WAL), and reads them back for the
 * report, query and re-render commands.  A run is marked "running" when it
 * starts, so one that never finished is recognisable later.
 */
#ifndef SMAUDIT_STORE_H
#define SMAUDIT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/addr.h"
#include "smaudit/app.h"
#include "smaudit/err.h"
#include "smaudit/session.h"
#include "smaudit/site.h"
#include "smaudit/verdict.h"

#define SM_SCHEMA_VERSION 8

struct sm_store;

/* What one sensor saw of one direction of a session (runs with several sensors). */
struct sm_sighting_row {
	const char *sensor; /* borrowed: the sensor's name lives as long as the run */
	bool rev;           /* from the responder */
	uint64_t pkts, bytes;
	double first_ts, last_ts;
	int ttl_min, ttl_max;
};

/* One row of the sessions table as written (docs/schema.md): made by the
 * caller (audit) from the session and how policy saw it, every text already
 * formatted; "" is stored as NULL. */
struct sm_session_record {
	char proto[8]; /* "tcp", "udp", "icmp", "icmp6" or the number */
	char src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN];
	int sport, dport;     /* ICMP: type and code */
	int vlan, inner_vlan; /* -1: none */
	double first_ts, last_ts;
	char state[8]; /* Zeek's conn_state */
	uint64_t pkts_fwd, pkts_rev, bytes_fwd, bytes_rev;
	char class_name[16]; /* expected, optional, allowed, unexpected, unmonitored */
	char rule[SM_RULE_ID_MAX];
	char history[SM_HISTORY_MAX];
	bool established;
	uint32_t syn_count;
	char rst_from[4]; /* "src", "dst", "" */
	int rst_ttl;      /* -1: no RST */
	uint32_t icmp_errors;
	int icmp_err_type, icmp_err_code, icmp_err_ttl; /* of the first, with icmp_errors */
	char icmp_err_from[SM_ADDRSTRLEN];
	int ttl_fwd, ttl_rev; /* -1: no packet that way */
	char tunnel[16], outer_src[SM_ADDRSTRLEN], outer_dst[SM_ADDRSTRLEN];
	const char *source; /* borrowed: a capture path that lives as long as the run */
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX];
	bool open; /* still open at a checkpoint: replaced by the next one */
	char app[SM_APP_NAME_MAX];
	char app_detail[SM_APP_DETAIL_MAX];
	uint64_t missed_bytes;
	double idle_from, idle_max;  /* idle_max 0: no silence (both NULL) */
	uint64_t uid, tunnel_parent; /* tunnel_parent 0: NULL */
	uint8_t nsight;              /* rows of table sightings: none with one sensor */
	struct sm_sighting_row sight[SM_SENSORS_MAX * 2];
};

/* A capture point of a run and its clock against the first sensor's. */
struct sm_sensor_row {
	int idx;
	char name[SM_SENSOR_NAME_MAX];
	double clock_offset, clock_spread; /* seconds added to its timestamps; their spread */
	uint64_t clock_matched;            /* packets that placed it */
	bool clock_known;                  /* false: no packet matched, clock left as it was */
	uint64_t packets;
};

struct sm_run_row {
	int64_t id;
	char started[32], finished[32];
	char mode[16];
	enum sm_run_status status; /* stored by its name (verdict.h); read back, a run
	                            * marked running whose process is gone is interrupted */
	char *sources;             /* JSON array text; owned */
	char *site, *rules;
	uint64_t packets, bytes, dropped, sessions, undecoded, evicted, read_errors;
	double first_ts, last_ts;            /* 0 when no packet */
	uint64_t missed_bytes, gap_sessions; /* capture loss inside TCP streams */
	char *filter;                        /* the -f filter (owned), NULL without */
	bool strict;                         /* --strict: intermittent failures are findings */
};

struct sm_expected_row {
	char rule[SM_RULE_ID_MAX];
	enum sm_rule_kind kind; /* expect or optional */
	char proto[8];
	int port; /* -1 for ICMP */
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX];
	char src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN]; /* "" = null */
	enum sm_verdict verdict;
	uint64_t sessions;
	uint64_t failed;          /* sessions that failed while others succeeded */
	double first_ts, last_ts; /* 0 = none */
	char purpose[160];
	char detail[SM_DETAIL_MAX];
	int64_t finding_id; /* the finding this entry is, 0 = none */
	/* several sensors: JSON arrays of where a failing flow's packets were seen
	 * ([{"sensor", "seen", "ttl", ...}]) and of the two places it was lost
	 * between; "" = not located */
	char path[SM_PATH_JSON_MAX], lost_between[160];
};

struct sm_unexpected_row {
	char proto[8];
	char src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN];
	int port;                                                    /* -1 for ICMP */
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX]; /* "" = null */
	uint64_t sessions, packets, bytes;
	double first_ts, last_ts;
	char state[8];
	int64_t finding_id; /* its finding, 0 = none (an interim report) */
};

struct sm_coverage_row {
	char role[SM_ROLE_NAME_MAX];
	char member[64]; /* as the site file wrote it (an address or a prefix) */
	bool seen;
};

/* The run counter of sessions whose protocol libnids could not follow (table full);
 * written by the pipeline, shown as a warning by the report. */
#define SM_COUNTER_REASM_FULL "reassembly-table-full"
/* What the run was limited to (audit --from/--until, -c): the window's ends in UNIX
 * nanoseconds, and the packet count the run stopped at with more to read. */
#define SM_COUNTER_WINDOW_FROM  "window-from-ns"
#define SM_COUNTER_WINDOW_UNTIL "window-until-ns"
#define SM_COUNTER_STOPPED_AT   "stopped-at-count"
/* Database errors a live run waited out: how many, how long in all (ms), and the
 * closed sessions that could not wait in memory (more than --max-sessions). */
#define SM_COUNTER_DB_FAULTS         "database-faults"
#define SM_COUNTER_DB_UNAVAILABLE_MS "database-unavailable-ms"
#define SM_COUNTER_NOT_STORED        "sessions-not-stored"
/* Packets of the capture files out of time order (all of them), and those of them
 * read after packets taken later had been judged (not put back in place). */
#define SM_COUNTER_OUT_OF_ORDER "packets-out-of-order"
#define SM_COUNTER_LATE         "packets-read-late"
/* Packets a Linux "any" capture saw again on another interface (not counted again). */
#define SM_COUNTER_IFACE_COPIES "packets-seen-on-two-interfaces"
/* 1 when the run read no payload (--no-payload): no protocol was checked, and the
 * reports say so instead of "no protocol mismatch". */
#define SM_COUNTER_PROTOCOLS_UNCHECKED "protocols-not-checked"

struct sm_counter_row {
	char name[48];
	uint64_t value;
};

struct sm_query {
	int64_t run_id; /* 0 = latest */
	const char *host;
	int port;            /* -1 = any */
	double since, until; /* 0 = open */
	const char *class_name;
	uint64_t limit;
	/* narrower selections (zero = any) */
	int64_t session_id;
	const char *peer;  /* with host: sessions between host and peer, either way */
	const char *proto; /* tcp, udp, icmp, ... */
	int dport;         /* -1 or 0 = any; the responder port only */
	bool policy_only;  /* class expected or optional */
	/* last_ts: the last copy any sensor saw (table sightings), not the first
	 * sensor's of the last packet: every packet of it, for extract */
	bool last_copy;
};

struct sm_session_row {
	int64_t id;
	char proto[8], src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN], state[8], class_name[16],
	    rule[SM_RULE_ID_MAX], history[SM_HISTORY_MAX];
	int sport, dport, vlan;
	double first_ts, last_ts;
	uint64_t pkts_fwd, pkts_rev, bytes_fwd, bytes_rev;
	int64_t run_id;
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX];
	bool established;
	double idle_from, idle_max; /* longest silence inside the session (0 = none) */
	char source[512];           /* capture file of its first packet */
};

/* path NULL = in-memory database; a postgresql:// or postgres:// URI (as libpq
 * takes it) = that PostgreSQL database, else an SQLite file.  *out owned by
 * caller, freed by sm_store_close. */
enum sm_err sm_store_open(struct sm_store **out, const char *path, bool create,
                          struct sm_errbuf *eb);
void sm_store_close(struct sm_store *st);
/* path names a PostgreSQL database (a URI), not a file. */
bool sm_store_is_uri(const char *path);

/* From now on sm_store_session() queues the row for a writer thread (the other
 * calls wait for it), so SQLite works beside the caller.  A row is kept until
 * the transaction holding it commits.  backlog 0: a database error of queued
 * rows is returned by the next call and every later one.  backlog N: after a
 * database error sm_store_session() keeps queueing (up to N rows waiting, the
 * rest counted as not stored) and the next call that waits for the writer
 * tries the waiting rows again; its error says whether they got in. */
enum sm_err sm_store_write_behind(struct sm_store *st, size_t backlog, struct sm_errbuf *eb);
/* After a database error in a transaction (e of eb): rolls it back; with a
 * backlog the waiting rows are tried again by the next call that waits. */
void sm_store_abort(struct sm_store *st, enum sm_err e, const struct sm_errbuf *eb);
struct sm_store_backlog {
	uint64_t waiting;    /* session rows not committed yet */
	uint64_t not_stored; /* rows dropped: the backlog was full during an error */
	uint64_t limit;      /* rows that may wait (the backlog, at least the ring) */
	bool failing;        /* the last try failed */
};
void sm_store_backlog(struct sm_store *st, struct sm_store_backlog *out);
/* The database did not come back: the waiting rows are dropped so the store can
 * be read; returns them with the ones not stored before. */
uint64_t sm_store_give_up(struct sm_store *st);
/* How long a statement waits for another process's lock (default 5000 ms). */
void sm_store_busy_timeout(struct sm_store *st, int ms);

/* Writing a run. */
enum sm_err sm_store_run_begin(struct sm_store *st, const char *mode, const char *sources_json,
                               const char *site, const char *rules, int64_t *run_id,
                               struct sm_errbuf *eb);
/* Copies rec (with write-behind, into the writer's ring) and writes it. */
enum sm_err sm_store_session(struct sm_store *st, int64_t run_id,
                             const struct sm_session_record *rec, struct sm_errbuf *eb);
/* path: absolute (or "-", "live:IFACE"), what extract opens later; given: as the
 * user wrote it, what reports show. */
enum sm_err sm_store_source(struct sm_store *st, int64_t run_id, int idx, const char *path,
                            const char *given, uint64_t packets, uint64_t bytes, const char *error,
                            struct sm_errbuf *eb);
enum sm_err sm_store_sensor(struct sm_store *st, int64_t run_id, const struct sm_sensor_row *r,
                            struct sm_errbuf *eb);
enum sm_err sm_store_counter(struct sm_store *st, int64_t run_id, const char *name, uint64_t value,
                             struct sm_errbuf *eb);
enum sm_err sm_store_expected(struct sm_store *st, int64_t run_id,
                              const struct sm_expected_row *row, struct sm_errbuf *eb);
/* *id (may be NULL) receives the finding's id, the one `extract --finding` takes. */
enum sm_err sm_store_finding(struct sm_store *st, int64_t run_id, const struct sm_finding_row *f,
                             int64_t *id, struct sm_errbuf *eb);
enum sm_err sm_store_coverage(struct sm_store *st, int64_t run_id, const struct sm_coverage_row *c,
                              struct sm_errbuf *eb);
/* Makes what decide says of each group of the run's unexpected sessions (aggregated
 * per docs/json.md) a finding; decide returns false for none.  Streams the groups:
 * memory does not grow with their number. */
typedef bool (*sm_unexpected_decide_fn)(void *ctx, const struct sm_unexpected_row *group,
                                        struct sm_finding_row *out);
enum sm_err sm_store_unexpected_findings(struct sm_store *st, int64_t run_id,
                                         sm_unexpected_decide_fn decide, void *ctx,
                                         struct sm_errbuf *eb);
/* Deletes what a checkpoint wrote for the run (open sessions, verdicts, findings,
 * coverage, counters, sources) so the next checkpoint or the end replaces it. */
enum sm_err sm_store_run_reset(struct sm_store *st, int64_t run_id, struct sm_errbuf *eb);
/* Records the run's -f filter (NULL or "" for none) and --strict. */
enum sm_err sm_store_run_options(struct sm_store *st, int64_t run_id, const char *filter,
                                 bool strict, struct sm_errbuf *eb);
/* Commits everything and records totals; status "complete" or "interrupted",
 * or "running" for a checkpoint of a run that goes on. */
enum sm_err sm_store_run_end(struct sm_store *st, const struct sm_run_row *totals,
                             struct sm_errbuf *eb);
/* Commits the current batch (durability point). */
enum sm_err sm_store_commit(struct sm_store *st, struct sm_errbuf *eb);

/* Reading. Callbacks return false to stop. */
enum sm_err sm_store_latest_run(struct sm_store *st, int64_t *run_id, struct sm_errbuf *eb);
enum sm_err sm_store_load_run(struct sm_store *st, int64_t run_id, struct sm_run_row *out,
                              struct sm_errbuf *eb);
void sm_run_row_free(struct sm_run_row *r);
/* Rows of a run all at once, in stored order: *rows (owned by the caller, who
 * free()s it, also after an error) holds *n of them. */
enum sm_err sm_store_load_expected(struct sm_store *st, int64_t run_id,
                                   struct sm_expected_row **rows, size_t *n, struct sm_errbuf *eb);
/* The run's unexpected sessions aggregated as sm_store_unexpected_findings does, each
 * with the id of its finding, ordered by (proto, src, dst, port); *total of them.
 * At most max (0: all) are loaded: when there are more, the max with the most
 * sessions, so memory stays bounded by max whatever the run (a scan from a million
 * sources is a million aggregates). */
enum sm_err sm_store_load_unexpected(struct sm_store *st, int64_t run_id, size_t max,
                                     struct sm_unexpected_row **rows, size_t *n, size_t *total,
                                     struct sm_errbuf *eb);
enum sm_err sm_store_load_coverage(struct sm_store *st, int64_t run_id,
                                   struct sm_coverage_row **rows, size_t *n, struct sm_errbuf *eb);
/* The run's sensors (none with one capture point), by index. */
enum sm_err sm_store_load_sensors(struct sm_store *st, int64_t run_id, struct sm_sensor_row **rows,
                                  size_t *n, struct sm_errbuf *eb);
enum sm_err sm_store_load_counters(struct sm_store *st, int64_t run_id,
                                   struct sm_counter_row **rows, size_t *n, struct sm_errbuf *eb);
/* Findings of kind protocol-mismatch, in the order they were stored. */
enum sm_err sm_store_load_mismatches(struct sm_store *st, int64_t run_id,
                                     struct sm_finding_row **rows, size_t *n, struct sm_errbuf *eb);
/* The five addresses with the most packets in the run's sessions, busiest first
 * (fn gets the address, its packets and ""). */
enum sm_err sm_store_each_busiest(struct sm_store *st, int64_t run_id,
                                  bool (*fn)(void *, const char *addr, uint64_t packets,
                                             const char *unused),
                                  void *ctx, struct sm_errbuf *eb);
/* A capture file of a run, as recorded. */
struct sm_source_row {
	char *path; /* owned */
	uint64_t packets;
	char *error; /* why it could not be read to the end, "" if fine; owned */
};
/* The run's capture files in order: as_given, paths as the user wrote them (reports),
 * else absolute (extract, combine).  Free with sm_source_rows_free (after an error too). */
enum sm_err sm_store_load_sources(struct sm_store *st, int64_t run_id, bool as_given,
                                  struct sm_source_row **rows, size_t *n, struct sm_errbuf *eb);
void sm_source_rows_free(struct sm_source_row *rows, size_t n);
enum sm_err sm_store_each_session(struct sm_store *st, const struct sm_query *q,
                                  bool (*fn)(void *, const struct sm_session_row *), void *ctx,
                                  struct sm_errbuf *eb);
/* Every finding of the run, in the order they were stored. */
enum sm_err sm_store_each_finding(struct sm_store *st, int64_t run_id,
                                  bool (*fn)(void *, const struct sm_finding_row *), void *ctx,
                                  struct sm_errbuf *eb);
/* Sessions of a run aggregated per (proto, initiator, responder, responder port;
 * -1 for ICMP), ordered by that key (byte order of the text). */
struct sm_flow_row {
	char proto[8], src[SM_ADDRSTRLEN], dst[SM_ADDRSTRLEN];
	int port;
	enum sm_class cls; /* the highest class name of its sessions */
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX];
	uint64_t sessions, established, packets;
	double first_ts, last_ts;
};
enum sm_err sm_store_load_flows(struct sm_store *st, int64_t run_id, struct sm_flow_row **rows,
                                size_t *n, struct sm_errbuf *eb);
/* One finding by id (any run); SM_ERR_USAGE when there is none. */
enum sm_err sm_store_load_finding(struct sm_store *st, int64_t id, struct sm_finding_row *out,
                                  struct sm_errbuf *eb);
/* Every run id, oldest first. */
enum sm_err sm_store_each_run(struct sm_store *st, bool (*fn)(void *, int64_t), void *ctx,
                              struct sm_errbuf *eb);

/* An evidence file cut from the captures (smaudit extract); ids 0 = none. */
struct sm_evidence_row {
	int64_t run_id, finding_id, session_id;
	const char *path;
	char sha256[65];
	uint64_t packets, bytes;
};
enum sm_err sm_store_evidence(struct sm_store *st, const struct sm_evidence_row *ev, int64_t *id,
                              struct sm_errbuf *eb);

#endif
