/*
 * cmd_db: the commands that read a stored database (-d DB): report (a run again, or
 * the list of runs), query (sessions), timeline (activity and silences), diff (two
 * runs) and extract (a finding's packets as evidence).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "smaudit/extract.h"
#include "smaudit/forensic.h"
#include "smaudit/report.h"
#include "smaudit/store.h"

/* report --list: every run, one a line (or a JSON array). */
static int
list_runs(struct sm_store *st, const struct cli_args *a)
{
	struct cli_out ro;
	int rc = cli_out_open(a, &ro, "cannot write the report");
	if (rc >= 0)
		return rc;
	ro.what = "cannot write"; /* what a failed write has always said here */
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_report_list(st, a->format, ro.f, &eb);
	rc = cli_out_finish(a, &ro, e, &eb);
	return rc >= 0 ? rc : SM_EXIT_CLEAN;
}

int
cmd_report(struct cli_args *a)
{
	int rc;
	/* the formats sm_report_list writes */
	const unsigned list_formats = SM_FMT_BIT(FMT_TEXT) | SM_FMT_BIT(FMT_JSON);
	if (a->list && (a->run != 0 || !(list_formats & SM_FMT_BIT(a->format)))) {
		char names[64];
		sm_format_list(list_formats, ", ", " or ", names, sizeof(names));
		return cli_usage_error(a->cmd, "--list takes no --run and --format %s", names);
	}
	struct sm_store *st;
	int64_t run;
	if ((rc = cli_open_db(a, &st, &run)) >= 0)
		return rc;
	if (a->list) {
		rc = list_runs(st, a);
	} else {
		struct cli_out ro;
		if ((rc = cli_out_open(a, &ro, "cannot write the report")) < 0)
			rc = cli_render(st, run, a, &ro);
	}
	sm_store_close(st);
	return rc;
}

int
cmd_query(struct cli_args *a)
{
	int rc;
	enum sm_class cls;
	char classes[128];
	cli_class_list(", ", " or ", classes, sizeof(classes));
	if (a->class_name != NULL && !sm_class_parse(a->class_name, &cls))
		return cli_usage_error(a->cmd, "--class '%s': the classes are %s", a->class_name,
		                       classes);
	struct sm_addr tmp;
	if (a->host != NULL && !sm_addr_parse(a->host, &tmp))
		return cli_usage_error(a->cmd, "--host '%s': expected an IPv4 or IPv6 address",
		                       a->host);
	char canon[SM_ADDRSTRLEN];
	if (a->host != NULL)
		a->host = sm_addr_str(&tmp, canon, sizeof(canon));
	struct sm_store *st;
	int64_t run;
	if ((rc = cli_open_db(a, &st, &run)) >= 0)
		return rc;
	struct sm_query q = {.run_id = run,
	                     .host = a->host,
	                     .port = cli_given(a, OPT_PORT) ? (int)a->port : -1,
	                     .since = (double)a->since_ns / 1e9,
	                     .until = (double)a->until_ns / 1e9,
	                     .class_name = a->class_name,
	                     .limit = a->limit};
	/* written as report, timeline and diff write: a failed write is exit 3 naming
	 * the output and why, not an export that looks done */
	struct cli_out out;
	if ((rc = cli_out_open(a, &out, "cannot write")) >= 0) {
		sm_store_close(st);
		return rc;
	}
	struct sm_errbuf eb = {""};
	enum sm_run_status status = cli_run_status(st, run);
	if (status != RUN_COMPLETE)
		fprintf(stderr,
		        "smaudit: warning: run %lld did not finish (%s): its sessions are those "
		        "stored before it stopped\n",
		        (long long)run, sm_run_status_name(status));
	struct sm_session_list list = {.out = out.f, .format = a->format, .run_id = run};
	sm_session_list_begin(&list);
	enum sm_err e = sm_store_each_session(st, &q, sm_session_list_row, &list, &eb);
	sm_store_close(st);
	if (e == SM_OK)
		sm_session_list_end(&list);
	if ((rc = cli_out_finish(a, &out, e, &eb)) >= 0)
		return rc;
	if (a->format == FMT_TEXT)
		fprintf(stderr, "%llu session(s) in run %lld\n", (unsigned long long)list.n,
		        (long long)run);
	return SM_EXIT_CLEAN;
}

/* The database and the output (stdout or -o, written whole) of timeline and diff, in
 * the formats of their entries in cli.c (cli_parse refused any other); -1 when both are
 * open, else the exit status. */
static int
forensic_open(const struct cli_args *a, struct sm_store **st, int64_t *run, struct cli_out *out)
{
	int rc = cli_open_db(a, st, run);
	if (rc >= 0)
		return rc;
	if ((rc = cli_out_open(a, out, "cannot write")) >= 0)
		sm_store_close(*st);
	return rc;
}

/* Closes what forensic_open opened; the exit status: e's, else 1 when something was
 * found (a silence, a difference), else 0. */
static int
forensic_close(const struct cli_args *a, struct sm_store *st, struct cli_out *out, enum sm_err e,
               struct sm_errbuf *eb, uint64_t found)
{
	sm_store_close(st);
	int rc = cli_out_finish(a, out, e, eb);
	if (rc >= 0)
		return rc;
	return found > 0 ? SM_EXIT_FINDINGS : SM_EXIT_CLEAN;
}

int
cmd_timeline(struct cli_args *a)
{
	int rc;
	struct sm_store *st;
	int64_t run;
	struct cli_out out;
	if ((rc = forensic_open(a, &st, &run, &out)) >= 0)
		return rc;
	struct sm_timeline_opts o = {run,
	                             a->pair_a[0] ? a->pair_a : NULL,
	                             a->pair_b[0] ? a->pair_b : NULL,
	                             cli_given(a, OPT_PORT) ? (int)a->port : -1,
	                             a->gap,
	                             0};
	struct sm_timeline tl;
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_timeline_build(st, &o, &tl, &eb);
	if (e == SM_OK && a->format == FMT_JSON)
		sm_timeline_json(out.f, &tl);
	else if (e == SM_OK)
		sm_timeline_text(out.f, &tl);
	size_t gaps = sm_timeline_gaps(&tl);
	sm_timeline_free(&tl);
	return forensic_close(a, st, &out, e, &eb, gaps);
}

int
cmd_diff(struct cli_args *a)
{
	int rc;
	uint64_t ids[2];
	if (a->noperands != 2)
		return cli_usage_error(
		    a->cmd, "%s", "diff: expected two run ids: smaudit diff -d DB RUN_A RUN_B");
	for (int i = 0; i < 2; i++)
		if (!cli_parse_u64(a->operands[i], INT64_MAX, &ids[i]) || ids[i] == 0)
			return cli_usage_error(a->cmd, "diff: '%s' is not a run id (1, 2, ...)",
			                       a->operands[i]);
	struct sm_store *st;
	int64_t run;
	struct cli_out out;
	if ((rc = forensic_open(a, &st, &run, &out)) >= 0)
		return rc;
	struct sm_errbuf eb = {""};
	uint64_t ndiff = 0;
	/* a run of a capture that holds no site address judged nothing: its verdicts
	 * (all not-seen) are no change to report */
	enum sm_err e = sm_report_check_site_seen(st, (int64_t)ids[0], &eb);
	if (e == SM_OK)
		e = sm_report_check_site_seen(st, (int64_t)ids[1], &eb);
	if (e == SM_OK)
		e = sm_diff_runs(st, (int64_t)ids[0], (int64_t)ids[1], a->format == FMT_JSON, out.f,
		                 &ndiff, &eb);
	return forensic_close(a, st, &out, e, &eb, ndiff);
}

int
cmd_extract(struct cli_args *a)
{
	int rc;
	if ((a->finding > 0) == (a->session > 0))
		return cli_usage_error(a->cmd, "%s",
		                       "extract: give one of --finding N (ids in the report) or "
		                       "--session N (ids from smaudit query)");
	if (a->output == NULL || strcmp(a->output, "-") == 0)
		return cli_usage_error(a->cmd, "%s",
		                       "extract: -o FILE is required (the evidence pcap)");
	struct sm_store *st;
	int64_t run;
	if ((rc = cli_open_db(a, &st, &run)) >= 0)
		return rc;
	struct sm_extract_opts o = {(int64_t)a->finding,
	                            (int64_t)a->session,
	                            a->output,
	                            a->from,
	                            a->nfrom,
	                            cli_print_warning,
	                            NULL};
	struct sm_extract_result res;
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_extract(st, &o, &res, &eb);
	sm_store_close(st);
	if (e != SM_OK)
		return cli_fail(e, &eb);
	if (res.sessions == 0) {
		fprintf(stderr, "smaudit: nothing to extract: %s\n", res.why_empty);
		return SM_EXIT_FINDINGS;
	}
	if (res.other_linktype)
		fprintf(stderr,
		        "smaudit: warning: %llu matching packet(s) of another link type were left "
		        "out (a pcap file holds one)\n",
		        (unsigned long long)res.other_linktype);
	printf("%s  %s\n", res.sha256, a->output);
	fprintf(stderr,
	        "%llu packet(s) of %llu session(s) from run %lld; SHA-256 recorded as evidence "
	        "%lld in %s\n",
	        (unsigned long long)res.packets, (unsigned long long)res.sessions,
	        (long long)res.run_id, (long long)res.evidence_id, a->db);
	return SM_EXIT_CLEAN;
}
