/*
 * extract: the packets behind a finding or a session, cut from the run's
 * original capture files (or files the user names) into one pcap file,
 * with its SHA-256 recorded in the database as evidence.  Reads captures
 * with capture and decode, like audit, and writes only the packets of the
 * selected sessions and the ICMP errors that quote them.
 */
#ifndef SMAUDIT_EXTRACT_H
#define SMAUDIT_EXTRACT_H

#include <stdint.h>

#include "smaudit/err.h"
#include "smaudit/store.h"

struct sm_extract_opts {
	int64_t finding_id, session_id; /* exactly one is set */
	const char *output;             /* the evidence file */
	const char *const *from;        /* captures to read instead of the run's sources */
	size_t nfrom;
	sm_warn_fn warn;
	void *warn_ctx;
};

struct sm_extract_result {
	int64_t run_id, evidence_id;
	uint64_t sessions; /* 0: nothing to extract, no file written */
	uint64_t packets, bytes;
	uint64_t other_linktype; /* matching packets left out: pcap holds one link type */
	char sha256[65];
	char why_empty[256]; /* when sessions == 0 */
};

enum sm_err sm_extract(struct sm_store *st, const struct sm_extract_opts *o,
                       struct sm_extract_result *res, struct sm_errbuf *eb);

#endif
