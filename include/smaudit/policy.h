/*
 * policy: the rules applied to a site.
 * Expands the rules into the expected flows of the site (one entry per
 * rule direction and, for each-pair/each-member coverage, per address),
 * classifies every session that leaves the session table, and turns the
 * evidence into one verdict per expected flow (docs/verdicts.md).  It also
 * records which role addresses the capture ever showed (coverage).
 */
#ifndef SMAUDIT_POLICY_H
#define SMAUDIT_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/rules.h"
#include "smaudit/session.h"
#include "smaudit/site.h"
#include "smaudit/store.h"
#include "smaudit/verdict.h"

struct sm_expect_entry {
	const struct sm_rule *rule;
	const struct sm_role *src_role, *dst_role; /* NULL when the site lacks the role */
	int src_member, dst_member;                /* -1 = any member */
	enum sm_verdict verdict;
	uint64_t sessions, ok, rejected, no_answer, one_way;
	uint64_t answer_lost; /* of no_answer: a SYN-ACK the initiator never acknowledged */
	uint64_t bare_acked;  /* of no_answer: only bare ACKs answered the SYN (no SYN-ACK) */
	uint64_t answer_late; /* SYN-ACKs after the initiator gave up (^hR sessions, reset) */
	uint64_t stalled;     /* of ok: sessions whose data did not get through (stalled) */
	uint32_t stall_len;   /* the longest segment they resent */
	uint64_t rst_ignored; /* sessions whose resets the initiator ignored (rst_ignored) */
	/* of rejected, no_answer, one_way: sessions cut by an edge of the capture
	 * (SM_EDGE_* in session.h).  They fail no working flow; a verdict resting
	 * on them alone says so. */
	uint64_t cut_rejected, cut_no_answer, cut_one_way;
	uint8_t cut_edges; /* the SM_EDGE_* bits of those */
	int64_t first_ns, last_ns;
	bool satisfied, tried;
	/* sat: the first pair that worked; try: the first pair whose outcome is the
	 * worst seen, i.e. the pair a failing verdict is about */
	struct sm_addr sat_src, sat_dst, try_src, try_dst;
	uint8_t try_rank;
	uint64_t syns;     /* SYNs the unanswered attempts sent (TCP) */
	uint64_t requests; /* echo requests (ICMP) or datagrams (UDP) they sent */
	bool rst_seen, icmp_seen;
	struct sm_addr rst_from, icmp_from;
	uint8_t rst_ttl, icmp_type, icmp_code, icmp_ttl;
	/* sessions whose payload is not the protocol the rule names (app=) */
	uint64_t mismatched;
	enum sm_app mismatch_app; /* what the first of them spoke */
	struct sm_addr mismatch_src, mismatch_dst;
	char mismatch_detail[96];
	/* of those: between other addresses than the first's, speaking another
	 * protocol than the first's (the finding names the first only) */
	uint64_t mismatch_elsewhere, mismatch_other_app;
	/* of the rule's (app=) sessions whose payload was checked: read, whatever
	 * they spoke; and not verified (their first bytes not in the capture) */
	uint64_t app_read, app_unverified;
	char hidden_src[64], hidden_dst[64]; /* the pair a filtered verdict is about */
	/* packets of the entry's protocol between its addresses whose transport header
	 * the capture's snap length cut (their ports unknown): a flow not seen so is
	 * 'filtered', not missing */
	uint64_t snap_cut;
	/* sessions of conversations opened before the capture that a reset ended
	 * (sm_outcome_under_way): no attempt; the first reset's sender and TTL */
	uint64_t under_way;
	struct sm_addr under_way_rst;
	uint8_t under_way_ttl;
	bool under_way_by_responder;
	/* the last unanswered attempts, by pair, port and initial sequence number:
	 * a session that goes on with the same SYN (retransmitted after the
	 * session table ended the attempt, as Zeek does after 5 s), or that opened
	 * with the answer to it (its session pushed out of a full table), is the
	 * same attempt, counted once with the outcome of its last part.  Sixteen:
	 * an iSCSI initiator opens several connections to a target at once. */
	struct sm_attempt {
		struct sm_addr src, dst;
		uint16_t sport;
		uint32_t isn;
		bool answer_lost; /* counted in answer_lost */
		bool bare_acked;  /* counted in bare_acked */
	} unanswered[16];
	uint8_t nunanswered;
	char detail[SM_DETAIL_MAX];
	/* several sensors: what each saw of the failing attempts the verdict is about
	 * (those of its worst outcome), and where they stopped (sm_policy_finish) */
	struct sm_entry_sensor {
		uint64_t fwd, rev;        /* packets from the initiator, from the responder */
		uint32_t syns, synacks;   /* the initiator's SYNs, the responder's SYN-ACKs */
		uint32_t rsts, icmp;      /* resets and ICMP errors from the responder's side */
		uint8_t ttl_fwd, rst_ttl; /* highest TTL of the initiator's packets; of a reset */
	} at[SM_SENSORS_MAX];
	int64_t fail_first_ns, fail_last_ns; /* when those attempts were seen */
	char path[SM_PATH_JSON_MAX], lost_between[160];
};

/* How one session was classified; pointers stay valid while the policy lives. */
struct sm_classification {
	enum sm_class cls;
	const char *class_name; /* sm_class_name(cls) */
	const char *rule;
	const char *src_role, *dst_role;
};

struct sm_policy;

/* rules and site must outlive the policy.  NULL when out of memory. */
struct sm_policy *sm_policy_new(const struct sm_rules *rules, const struct sm_site *site);
void sm_policy_free(struct sm_policy *p);
void sm_policy_classify(struct sm_policy *p, const struct sm_session *s,
                        struct sm_classification *out);
/* Classifies without counting the session as evidence (a look at an open session). */
void sm_policy_peek(const struct sm_policy *p, const struct sm_session *s,
                    struct sm_classification *out);
/* A copy with the evidence so far, to finish early without ending p (a checkpoint). */
struct sm_policy *sm_policy_clone(const struct sm_policy *p);
/* What a visibility question is about. */
enum sm_visible {
	SM_VISIBLE_FLOW,      /* both directions, all its packets, wherever it may travel */
	SM_VISIBLE_HANDSHAKE, /* some of its packets were read: only where those pass does
	                       * the answer to its first packet matter */
	SM_VISIBLE_REFUSAL,   /* an ICMP error refusing its first packet */
	SM_VISIBLE_RESET,     /* TCP: the responder's reset refusing its first packet */
};
/* Whether the capture shows what of a flow `what` says (the -f filter keeps those
 * packets); proto is 6, 17 or 1 (ICMP echo), src the initiator. */
typedef bool (*sm_flow_visible_fn)(void *ctx, uint8_t proto, const struct sm_addr *src,
                                   const struct sm_addr *dst, uint16_t dport, enum sm_visible what);
/* With fn set, an entry the capture cannot judge gets the verdict filtered (never a
 * finding): unanswered or one-way attempts whose answers the filter would drop (for a
 * SYN-ACK never acknowledged: the acknowledgement), or no packet at all where the
 * filter drops the flow of some address pair.  A reset or ICMP error seen is
 * evidence and stays rejected; unanswered attempts whose ICMP refusal the filter
 * would drop stay no-answer, and say that they could be refusals.  Clones keep fn. */
void sm_policy_set_visibility(struct sm_policy *p, sm_flow_visible_fn fn, void *ctx);
/* The run's sensors (names borrowed; n > 1): failing verdicts say where their
 * packets stopped (SPEC section 7).  NULL when out of memory; false then. */
bool sm_policy_set_sensors(struct sm_policy *p, const char *const *names, size_t n);
/* When sensor k's captures began and ended (on the common clock): an attempt
 * outside that time says nothing about the sensor.  Before sm_policy_finish. */
void sm_policy_sensor_span(struct sm_policy *p, size_t k, int64_t first_ns, int64_t last_ns);
/* What one session says about its path: ok, rejected, no-answer or one-way (a
 * SYN-ACK the initiator never acknowledged is no answer here; whether a capture
 * filter may have hidden the acknowledgement is judged per flow, by
 * sm_policy_finish); not-seen for a connection opened before the capture that a
 * reset ended (no attempt of it was seen). */
enum sm_verdict sm_policy_session_verdict(const struct sm_session *s);
/* n packets of protocol proto between a and b (either way) whose transport header
 * the capture cut (a short snap length): their addresses count as seen, and an
 * expected flow of the pair seen no other way cannot be judged.  Before
 * sm_policy_finish; false when out of memory. */
bool sm_policy_snap_cut(struct sm_policy *p, uint8_t proto, const struct sm_addr *a,
                        const struct sm_addr *b, uint64_t n);
/* Computes verdicts and their details; call once after the last session. */
void sm_policy_finish(struct sm_policy *p);
size_t sm_policy_entry_count(const struct sm_policy *p);
const struct sm_expect_entry *sm_policy_entry(const struct sm_policy *p, size_t i);
/* Whether member m of role r was seen in any session. */
bool sm_policy_member_seen(const struct sm_policy *p, const struct sm_role *r, size_t m);
/* Ports that rules name as responder ports, one bit a port (8192 bytes). */
const uint8_t *sm_policy_service_ports(const struct sm_policy *p);
/* Text of an entry's source/destination for reports ("" = null): the pair that
 * satisfied it, else the attempts its verdict is about, else the member it names
 * or the role's only address; "" only when nothing was seen and the role has
 * several addresses, or the rule is n/a (docs/verdicts.md). */
void sm_entry_src(const struct sm_expect_entry *e, char *buf, size_t len);
void sm_entry_dst(const struct sm_expect_entry *e, char *buf, size_t len);
/* Sessions of an ok entry that failed while others worked (0 for other verdicts). */
uint64_t sm_entry_failed(const struct sm_expect_entry *e);

/* The findings policy makes (docs/json.md), as records for the store.  Each
 * returns false when there is none. */
/* A failing entry is missing (error for expect, info for optional); an ok one
 * with failed sessions is intermittent (warning, about the pair that failed).
 * allow rules make none. */
bool sm_policy_entry_finding(const struct sm_expect_entry *e, struct sm_finding_row *out);
/* Sessions of the entry speak another protocol than its rule's app= (error). */
bool sm_policy_mismatch_finding(const struct sm_expect_entry *e, struct sm_finding_row *out);
/* A group of unexpected sessions is an error; ctx unused (an sm_store_unexpected_findings
 * decide function). */
bool sm_policy_unexpected_finding(void *ctx, const struct sm_unexpected_row *g,
                                  struct sm_finding_row *out);

#endif
