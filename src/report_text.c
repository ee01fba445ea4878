/*
 * report_text: the text report, with ANSI colours on a terminal, and the
 * notes under an expected flow that the HTML report shows too.
 */
#include "report_impl.h"

#include <stdlib.h>
#include <string.h>

/* ANSI colours of the text report on a terminal; "" when off, so the text is the same. */
enum tone { TONE_HEAD, TONE_BAD, TONE_WARN, TONE_GOOD, TONE_DIM };

static const char *
tone(bool color, enum tone t)
{
	static const char *const sgr[] = {"\033[1m", "\033[1;31m", "\033[33m", "\033[32m",
	                                  "\033[2m"};
	return color ? sgr[t] : "";
}

static const char *
tone_end(bool color)
{
	return color ? "\033[0m" : "";
}

/* A heading: red when it counts something wrong, else bold. */
static const char *
tone_head(bool color, uint64_t bad)
{
	return tone(color, bad ? TONE_BAD : TONE_HEAD);
}

static enum tone
verdict_tone(enum sm_verdict v)
{
	if (v == V_OK)
		return TONE_GOOD;
	if (v == V_NO_ANSWER || v == V_REJECTED)
		return TONE_BAD;
	if (v == V_FILTERED || v == V_NA)
		return TONE_DIM;
	return TONE_WARN;
}

static void
text_coverage(FILE *out, const struct sm_run_row *run, const struct rows *w, bool color)
{
	size_t unseen = report_unseen_count(w);
	fprintf(out, "\n%sCOVERAGE: %zu of %zu site addresses seen in the capture%s\n",
	        tone_head(color, unseen), w->ncov - unseen, w->ncov, tone_end(color));
	for (size_t i = 0; i < w->ncov; i++)
		if (!w->cov[i].seen)
			fprintf(out, "  never seen: %s %s\n", w->cov[i].role, w->cov[i].member);
	if (unseen && run->filter != NULL)
		fputs("  (the capture filter may be what hides them: their flows are 'filtered' "
		      "where it excludes them, else 'not-seen', not proof that they are blocked)\n",
		      out);
	else if (unseen)
		fputs("  (flows of addresses never seen are 'not-seen' because the span port may "
		      "not see them, not proof that they are blocked)\n",
		      out);
}

/* The lines of the text report about database errors the run met. */
static void
text_db_fault(FILE *out, const struct rows *w, const char *warn, const char *end)
{
	if (!w->has_db)
		return;
	if (w->db.never_back)
		fprintf(out,
		        "  %sERROR%s    the database failed and did not come back: %s\n"
		        "           the run is not stored complete: this report is its last "
		        "checkpoint; %llu session(s) closed since are lost\n",
		        warn, end, w->db.error, (unsigned long long)w->db.not_stored);
	else if (w->db.faults > 0)
		fprintf(out,
		        "  %sWARNING%s  the database was unavailable %llu time(s), %.1f s in all: "
		        "capture went on, the sessions of that time waited in memory and were "
		        "stored when it came back\n",
		        warn, end, (unsigned long long)w->db.faults, w->db.unavailable_s);
	if (!w->db.never_back && w->db.not_stored > 0)
		fprintf(
		    out,
		    "  %sWARNING%s  %llu session(s) closed while the database was unavailable "
		    "could not wait in memory (--max-sessions) and are not stored: the sessions "
		    "table and the unexpected traffic miss them; expected-flow verdicts count "
		    "them\n",
		    warn, end, (unsigned long long)w->db.not_stored);
}
/* ---- text ---- */

/* What to check and which ONTAP command tests the path, per flow and verdict. */
static void
advice(FILE *out, const struct sm_expected_row *r)
{
	const char *dst = r->dst[0] ? r->dst : "<peer LIF>";
	const char *src = r->src[0] ? r->src : "<LIF>";
	char what[64];
	if (r->port >= 0)
		snprintf(what, sizeof(what), "%s/%d", r->proto, r->port);
	else
		sm_strlcpy(what, "ICMP echo", sizeof(what));
	if (r->verdict == V_NO_ANSWER)
		fprintf(out,
		        "      check: a firewall or ACL between %s and %s that drops %s (no "
		        "permit, or an explicit DROP)\n",
		        src, dst, what);
	else if (r->verdict == V_REJECTED)
		fprintf(out,
		        "      check: a REJECT rule for %s on the device named above; if the "
		        "destination itself answered, the service is not listening there "
		        "(network interface service-policy show)\n",
		        what);
	else if (r->verdict == V_ONE_WAY)
		fprintf(out, "      check: the span/mirror session: it must copy both directions "
		             "(and every VLAN) of this path before this verdict can be trusted\n");
	else if (r->verdict == V_NOT_SEEN)
		fprintf(out, "      check: that the capture point sees this path at all, then "
		             "whether the initiator was configured to use it\n");
	else
		return;
	bool mediator = strcmp(r->dst_role, "mediator") == 0;
	if (mediator)
		fprintf(out,
		        "      test:  snapmirror mediator show; network interface "
		        "service-policy show; network connections active show -remote-ip "
		        "%s\n",
		        dst);
	else if (r->port < 0)
		fprintf(out, "      test:  cluster peer ping; cluster peer health show\n");
	else if (strncmp(r->src_role, "ic-", 3) == 0)
		fprintf(out,
		        "      test:  cluster peer ping; network test-path -source-node <node> "
		        "-destination-cluster <peer> -destination-network-address %s; network "
		        "connections active show -remote-ip %s\n",
		        dst, dst);
	else
		fprintf(out,
		        "      test:  network connections active show -remote-ip %s; network "
		        "interface service-policy show\n",
		        dst);
}

/* "  [finding N]" after the line of an entry that is a finding, else "". */
static const char *
finding_tag(int64_t id, char *buf, size_t len)
{
	if (id <= 0)
		return "";
	snprintf(buf, len, "  [finding %lld]", (long long)id);
	return buf;
}

/* The lines under an expected flow's line: sessions, detail, capture loss and, with
 * advice, what to check; each indented by 6 spaces (the HTML report lists them). */
void
report_expected_notes(FILE *out, const struct sm_run_row *run, const struct sm_expected_row *r,
                      bool with_advice)
{
	char t0[40], t1[40];
	if (r->sessions > 0) {
		sm_fmt_time(r->first_ts, t0, sizeof(t0));
		sm_fmt_time(r->last_ts, t1, sizeof(t1));
		fprintf(out, "      %llu session(s), %s .. %s\n", (unsigned long long)r->sessions,
		        t0, t1);
	}
	if (r->detail[0])
		fprintf(out, "      %s\n", r->detail);
	bool loss_sensitive =
	    r->verdict == V_NO_ANSWER || r->verdict == V_ONE_WAY || r->verdict == V_NOT_SEEN;
	if (run->dropped > 0 && loss_sensitive)
		fprintf(out,
		        "      CAUTION: the capture dropped %llu packet(s) in this run; what is "
		        "missing here may be capture loss\n",
		        (unsigned long long)run->dropped);
	else if (run->missed_bytes > 0 && loss_sensitive)
		fprintf(out,
		        "      CAUTION: the capture missed %llu bytes inside TCP streams in this "
		        "run; what is missing here may be capture loss\n",
		        (unsigned long long)run->missed_bytes);
	if (run->evicted > 0 && loss_sensitive)
		fprintf(
		    out,
		    "      CAUTION: %llu session(s) were evicted from the full session table in "
		    "this run; if this verdict rests on attempts they split, audit again with "
		    "a larger --max-sessions\n",
		    (unsigned long long)run->evicted);
	if (with_advice)
		advice(out, r);
}

static void
text_expected(FILE *out, const struct sm_run_row *run, const struct sm_expected_row *r,
              bool with_advice, bool color)
{
	char name[256], id[32];
	sm_fmt_flow_name(r, name, sizeof(name));
	fprintf(out, "  %s%-9s%s %s  (%s)%s\n", tone(color, verdict_tone(r->verdict)),
	        sm_verdict_name(r->verdict), tone_end(color), name, r->purpose,
	        finding_tag(r->finding_id, id, sizeof(id)));
	report_expected_notes(out, run, r, with_advice);
}

static bool
is_missing(const struct sm_expected_row *r)
{
	return r->kind == RK_EXPECT && report_is_missing(r);
}

static bool
is_intermittent(const struct sm_expected_row *r)
{
	return r->kind == RK_EXPECT && r->failed > 0;
}

static bool
is_optional_missing(const struct sm_expected_row *r)
{
	return r->kind == RK_OPTIONAL && report_is_missing(r);
}

/* A section of expected flows: its title with count (red when a finding is counted;
 * optional flows are never findings), every flow `pick` keeps, or "none". */
static void
text_expected_section(FILE *out, const struct sm_run_row *run, const struct rows *w,
                      const char *title, uint64_t count,
                      bool (*pick)(const struct sm_expected_row *), bool findings, bool color)
{
	fprintf(out, "\n%s%s (%llu)%s\n",
	        findings ? tone_head(color, count) : tone(color, TONE_HEAD), title,
	        (unsigned long long)count, tone_end(color));
	for (size_t i = 0; i < w->nexp; i++)
		if (pick(&w->exp[i]))
			text_expected(out, run, &w->exp[i], findings, color);
	if (count == 0)
		fputs("  none\n", out);
}

void
report_render_text(FILE *out, const struct sm_run_row *run, const struct rows *w,
                   const struct sm_report_summary *sum, bool color)
{
	const char *end = tone_end(color), *warn = tone(color, TONE_WARN);
	/* --no-payload: "(0) none" would read as verified */
	bool unchecked = report_counter(w, SM_COUNTER_PROTOCOLS_UNCHECKED) != NULL;
	char t0[40], t1[40];
	sm_fmt_time(run->first_ts, t0, sizeof(t0));
	sm_fmt_time(run->last_ts, t1, sizeof(t1));
	fprintf(out, "%ssmaudit report, run %lld (%s, %s)%s\n", tone(color, TONE_HEAD),
	        (long long)run->id, run->mode, sm_run_status_name(run->status), end);
	for (size_t i = 0; i < w->nsrc; i++)
		fprintf(out, "  source   %s (%llu packets)%s%s\n", w->src[i].path,
		        (unsigned long long)w->src[i].packets, w->src[i].error[0] ? ": " : "",
		        w->src[i].error);
	for (size_t i = 0; i < w->nsensors; i++)
		report_sensor_line(out, &w->sensors[i], "  sensor   ");
	fprintf(out, "  time     %s .. %s\n", t0, t1);
	if (report_counter(w, SM_COUNTER_WINDOW_FROM) ||
	    report_counter(w, SM_COUNTER_WINDOW_UNTIL)) {
		char w0[40] = "(start)", w1[40] = "(end)";
		if (report_counter(w, SM_COUNTER_WINDOW_FROM))
			sm_fmt_time(report_counter_ts(w, SM_COUNTER_WINDOW_FROM), w0, sizeof(w0));
		if (report_counter(w, SM_COUNTER_WINDOW_UNTIL))
			sm_fmt_time(report_counter_ts(w, SM_COUNTER_WINDOW_UNTIL), w1, sizeof(w1));
		fprintf(out,
		        "  window   %s .. %s (--from/--until: packets outside were not "
		        "counted)\n",
		        w0, w1);
	}
	fprintf(out, "  traffic  %llu packets, %llu bytes, %llu sessions, %llu undecoded",
	        (unsigned long long)run->packets, (unsigned long long)run->bytes,
	        (unsigned long long)run->sessions, (unsigned long long)run->undecoded);
	if (run->dropped)
		fprintf(out, ", %llu DROPPED by the capture", (unsigned long long)run->dropped);
	if (run->evicted)
		fprintf(out, ", %llu evicted (table full)", (unsigned long long)run->evicted);
	if (run->missed_bytes)
		fprintf(out, ", %llu bytes MISSED by the capture in %llu TCP session(s)",
		        (unsigned long long)run->missed_bytes,
		        (unsigned long long)run->gap_sessions);
	fputc('\n', out);
	if (run->filter != NULL)
		fprintf(out,
		        "  filter   %s (only matching packets were read: flows it excludes are "
		        "'filtered', not missing)\n",
		        run->filter);
	if (run->strict)
		fputs("  strict   intermittent failures of expected flows are findings\n", out);
	if (unchecked)
		fputs("  payload  not checked (--no-payload): no protocol-mismatch finding could "
		      "be made\n",
		      out);
	if (!report_run_is(run, RUN_COMPLETE))
		fprintf(out,
		        "  %sWARNING%s  this run did not finish (%s): verdicts cover only what "
		        "was read\n",
		        warn, end, sm_run_status_name(run->status));
	const struct sm_counter_row *stop = report_counter(w, SM_COUNTER_STOPPED_AT);
	if (stop != NULL)
		fprintf(out,
		        "  %sWARNING%s  stopped after %llu packets (-c): the capture holds more; "
		        "verdicts cover only what was read\n",
		        warn, end, (unsigned long long)stop->value);
	for (size_t i = 0; i < w->nctr; i++)
		if (strcmp(w->ctr[i].name, SM_COUNTER_REASM_FULL) == 0)
			fprintf(out,
			        "  %sWARNING%s  the stream reassembly table was full %llu time(s): "
			        "some sessions' protocols were not checked (unverified)\n",
			        warn, end, (unsigned long long)w->ctr[i].value);
	const struct sm_counter_row *disorder = report_counter(w, SM_COUNTER_OUT_OF_ORDER),
	                            *late = report_counter(w, SM_COUNTER_LATE);
	if (disorder != NULL)
		fprintf(
		    out,
		    "  note     %llu packet(s) were out of time order in the capture files (as a "
		    "capture of several NICs writes them): read in time order\n",
		    (unsigned long long)disorder->value);
	if (late != NULL)
		fprintf(
		    out,
		    "           but %llu came after packets taken later had been read: each "
		    "still counts in its conversation, its stream's protocol may go unchecked\n",
		    (unsigned long long)late->value);
	const struct sm_counter_row *copies = report_counter(w, SM_COUNTER_IFACE_COPIES);
	if (copies != NULL)
		fprintf(out,
		        "  note     %llu packet(s) were seen again on another interface of the "
		        "capturing host (a Linux 'any' capture of a host that forwards, bridges or "
		        "bonds them): counted once. Where that host filters, what its firewall "
		        "sends (a RST, an ICMP error) reads as sent by the far end: audit each "
		        "interface as a --sensor (docs/verdicts.md)\n",
		        (unsigned long long)copies->value);
	text_db_fault(out, w, warn, end);
	if (run->read_errors)
		fprintf(out,
		        "  %sWARNING%s  %llu capture file(s) could not be read to the end: "
		        "flows after the damage may show as not-seen\n",
		        warn, end, (unsigned long long)run->read_errors);
	if (report_unseen_count(w) > 0)
		text_coverage(out, run, w,
		              color); /* before any 'missing': the capture did not see it all */
	if (sum->nothing_read) {
		if (report_run_is(run, RUN_RUNNING))
			fprintf(out,
			        "\nINCOMPLETE: run %lld is still running and has stored no packet "
			        "yet: nothing is judged so far\n",
			        (long long)run->id);
		else
			fprintf(out,
			        "\nINCOMPLETE: run %lld stored no packet before it stopped (killed "
			        "before its first checkpoint, or it failed to start): nothing was "
			        "judged\n",
			        (long long)run->id);
		return;
	}

	text_expected_section(out, run, w, "MISSING EXPECTED FLOWS", sum->missing, is_missing, true,
	                      color);
	if (run->strict)
		text_expected_section(out, run, w, "INTERMITTENT FAILURES OF EXPECTED FLOWS",
		                      sum->intermittent, is_intermittent, true, color);

	fprintf(out, "\n%sUNEXPECTED TRAFFIC ON MONITORED ROLES (%llu)%s\n",
	        tone_head(color, sum->unexpected), (unsigned long long)sum->unexpected, end);
	for (size_t i = 0; i < w->nunx; i++) {
		const struct sm_unexpected_row *u = &w->unx[i];
		char port[16] = "";
		if (u->port >= 0)
			snprintf(port, sizeof(port), "/%d", u->port);
		sm_fmt_time(u->first_ts, t0, sizeof(t0));
		char id[32];
		fprintf(out,
		        "  %s%s  %s (%s) -> %s (%s)  %llu session(s), %llu packets, state %s, "
		        "first %s%s\n",
		        u->proto, port, u->src, u->src_role[0] ? u->src_role : "no role", u->dst,
		        u->dst_role[0] ? u->dst_role : "no role", (unsigned long long)u->sessions,
		        (unsigned long long)u->packets, u->state, t0,
		        finding_tag(u->finding_id, id, sizeof(id)));
	}
	if (w->unx_total > w->nunx) {
		fprintf(out,
		        "  ... and %zu more not listed here (these are the %zu with the most "
		        "sessions); each is a finding in the database: smaudit query --class "
		        "unexpected lists their sessions\n",
		        w->unx_total - w->nunx, w->nunx);
	}
	if (sum->unexpected == 0)
		fputs("  none\n", out);

	if (unchecked)
		fprintf(out,
		        "\n%sPROTOCOL MISMATCHES (not checked)%s\n  not checked (--no-payload): "
		        "what each port carries was not verified\n",
		        tone(color, TONE_HEAD), end);
	else
		fprintf(out, "\n%sPROTOCOL MISMATCHES (%zu)%s\n", tone_head(color, w->nmis),
		        w->nmis, end);
	for (size_t i = 0; i < w->nmis; i++) {
		const struct sm_finding_row *f = &w->mis[i];
		char id[32];
		fprintf(out, "  %s/%d  %s -> %s  [%s]%s\n      %s\n", f->proto, f->port, f->src,
		        f->dst, f->rule, finding_tag(f->id, id, sizeof(id)), f->detail);
	}
	if (w->nmis == 0 && !unchecked)
		fputs("  none\n", out);

	text_expected_section(out, run, w, "OPTIONAL FLOWS NOT SEEN WORKING", sum->optional_missing,
	                      is_optional_missing, false, color);

	/* hidden by -f, or cut before their ports by the snap length */
	if (run->filter != NULL || sum->filtered > 0) {
		fprintf(out, "\n%sHIDDEN %s (%llu)%s: the capture cannot say\n",
		        tone(color, TONE_HEAD),
		        run->filter != NULL ? "BY THE CAPTURE FILTER" : "FROM THE CAPTURE",
		        (unsigned long long)sum->filtered, end);
		for (size_t i = 0; i < w->nexp; i++)
			if (w->exp[i].verdict == V_FILTERED) {
				char name[256];
				sm_fmt_flow_name(&w->exp[i], name, sizeof(name));
				fprintf(out, "  filtered  %s  (%s)\n", name,
				        sm_rule_kind_name(w->exp[i].kind));
				if (run->filter == NULL)
					fprintf(out, "      %s\n", w->exp[i].detail);
			}
		if (sum->filtered == 0)
			fputs("  none\n", out);
	}

	fprintf(out, "\n%sWORKING%s\n", tone(color, TONE_HEAD), end);
	size_t nok = 0;
	for (size_t i = 0; i < w->nexp; i++)
		if (w->exp[i].verdict == V_OK) {
			char name[256], id[32];
			sm_fmt_flow_name(&w->exp[i], name, sizeof(name));
			fprintf(out, "  %sok%s  %s  %llu session(s)%s%s%s\n",
			        tone(color, TONE_GOOD), end, name,
			        (unsigned long long)w->exp[i].sessions,
			        w->exp[i].detail[0] ? "; " : "", w->exp[i].detail,
			        finding_tag(w->exp[i].finding_id, id, sizeof(id)));
			nok++;
		}
	if (nok == 0)
		fputs("  none\n", out);

	if (sum->not_applicable) {
		fprintf(out, "\n%sNOT APPLICABLE (role not in the site file)%s\n",
		        tone(color, TONE_HEAD), end);
		for (size_t i = 0; i < w->nexp; i++)
			if (w->exp[i].verdict == V_NA)
				fprintf(out, "  %s %s/%d %s -> %s: %s\n", w->exp[i].rule,
				        w->exp[i].proto, w->exp[i].port, w->exp[i].src_role,
				        w->exp[i].dst_role, w->exp[i].detail);
	}

	if (report_unseen_count(w) == 0)
		text_coverage(out, run, w, color);

	size_t nundecoded = 0;
	for (size_t i = 0; i < w->nctr; i++)
		nundecoded += report_counter_is_reason(w->ctr[i].name);
	if (nundecoded) {
		fprintf(out, "\n%sUNDECODED PACKETS BY REASON%s\n", tone(color, TONE_HEAD), end);
		for (size_t i = 0; i < w->nctr; i++)
			if (report_counter_is_reason(w->ctr[i].name))
				fprintf(out, "  %-26s %llu\n", w->ctr[i].name,
				        (unsigned long long)w->ctr[i].value);
	}
	/* red whenever the exit status is 1: with --strict an intermittent flow too */
	bool findings = sm_report_exit(sum) == SM_EXIT_FINDINGS;
	fprintf(out, "\n%sSUMMARY%s: ", tone(color, findings ? TONE_BAD : TONE_GOOD), end);
	report_summary_line(out, sum, false);
	if (run->filter != NULL)
		fprintf(out, ", %llu filtered", (unsigned long long)sum->filtered);
	if (run->strict)
		fprintf(out, ", %llu intermittent", (unsigned long long)sum->intermittent);
	if (unchecked)
		fputs(", protocols not checked (--no-payload)", out);
	fputc('\n', out);
}
