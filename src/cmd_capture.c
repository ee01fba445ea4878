/*
 * cmd_capture: the commands that read packets, audit (capture files) and live (an
 * interface): options into the pipeline's, the site and rules loaded, the run and its
 * report.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "smaudit/audit.h"
#include "smaudit/live.h"
#include "smaudit/rules.h"
#include "smaudit/site.h"
#include "smaudit/store.h"

int
cli_load_config(const struct cli_args *a, struct sm_site *site, struct sm_rules *rules)
{
	struct sm_errbuf eb = {""};
	enum sm_err e;
	if (a->site == NULL)
		return cli_usage_error(a->cmd, "%s",
		                       "-s SITE is required: the file that says which "
		                       "addresses are the intercluster LIFs, Mediator, ...");
	if (a->rules != NULL)
		e = sm_rules_load(a->rules, rules, &eb);
	else
		e = sm_rules_parse(sm_default_rules, SM_DEFAULT_RULES_NAME, rules, &eb);
	if (e != SM_OK)
		return cli_fail(e, &eb);
	e = sm_site_load(a->site, site, cli_print_warning, NULL, &eb);
	if (e != SM_OK) {
		sm_rules_free(rules);
		return cli_fail(e, &eb);
	}
	e = sm_rules_check_site(rules, site, cli_print_warning, NULL, &eb);
	if (e != SM_OK) {
		sm_site_free(site);
		sm_rules_free(rules);
		return cli_fail(e, &eb);
	}
	return -1;
}

/* What audit and live share: database, policy, table bounds, decoding. */
static void
pipeline_opts(const struct cli_args *a, const struct sm_rules *rules, const struct sm_site *site,
              struct sm_pipeline_opts *po)
{
	memset(po, 0, sizeof(*po));
	po->db_path = a->db;
	po->rules = rules;
	po->site = site;
	po->rules_path = a->rules ? a->rules : "(built-in " SM_DEFAULT_RULES_NAME ")";
	po->sessions.max_sessions = (uint32_t)a->max_sessions;
	po->sessions.tcp_timeout_ns = (int64_t)a->tcp_timeout * 1000000000;
	po->sessions.udp_timeout_ns = (int64_t)a->udp_timeout * 1000000000;
	po->sessions.other_timeout_ns = (int64_t)a->udp_timeout * 1000000000;
	po->decoder.vxlan = true;
	po->no_payload = a->no_payload;
	po->filter = a->bpf;
	po->strict = a->strict;
	po->window = (struct sm_window){.has_from = cli_given(a, OPT_WINDOW_FROM),
	                                .has_until = cli_given(a, OPT_WINDOW_UNTIL),
	                                .from_ns = a->window_from_ns,
	                                .until_ns = a->window_until_ns};
	/* a sensor named (not only "default"): stored with the run, for combine */
	if (a->nsensors > 1 || (a->nsensors == 1 && strcmp(a->sensor_names[0], "default") != 0)) {
		po->sensor_names = a->sensor_names;
		po->nsensors = a->nsensors;
		po->sensor_of_input = a->input_sensor;
	}
}

/* How many cores this process may run on (its affinity: taskset, a container's
 * cpuset), 1 when that cannot be read: --threads' default. */
static unsigned
cores_allowed(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 1 ? (unsigned)n : 1;
}

/* A capture named on the command line that is a rules or site file (given with -r,
 * as the rules were before -r meant a capture) is a usage error, not a capture
 * skipped with a warning while the built-in rules decide. */
static int
refuse_config_inputs(const struct cli_args *a)
{
	static const char *const words[] = {"expect", "optional", "allow", "monitor", "role"};
	for (size_t i = 0; i < a->ninputs; i++) {
		struct stat sb;
		if (stat(a->inputs[i], &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		FILE *f = fopen(a->inputs[i], "r");
		if (f == NULL)
			continue;
		char line[512];
		bool config = false;
		for (int n = 0; n < 200 && !config && fgets(line, sizeof(line), f) != NULL; n++) {
			const char *w = line + strspn(line, " \t");
			for (size_t k = 0; k < sizeof(words) / sizeof(words[0]) && !config; k++) {
				size_t len = strlen(words[k]);
				config = strncmp(w, words[k], len) == 0 &&
				         (w[len] == ' ' || w[len] == '\t');
			}
		}
		fclose(f);
		if (config)
			return cli_usage_error(
			    a->cmd,
			    "%s is a rules or site file, not a capture (rules are given "
			    "with --rules FILE, the site with -s FILE)",
			    a->inputs[i]);
	}
	return -1;
}

/* Audits a->inputs (each of the sensor a->input_sensor names) into a run of mode
 * ("audit", "combine") and prints its report. */
static int
audit_inputs(struct cli_args *a, const char *mode)
{
	int rc;
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = cli_load_config(a, &site, &rules)) >= 0)
		return rc;
	struct cli_out ro;
	if ((rc = cli_out_open(a, &ro, "cannot write the report")) >= 0) {
		sm_rules_free(&rules);
		sm_site_free(&site);
		return rc;
	}
	cli_catch_stop_signals();

	struct sm_audit_opts o;
	memset(&o, 0, sizeof(o));
	o.inputs = a->inputs;
	o.ninputs = a->ninputs;
	o.bpf = a->bpf;
	pipeline_opts(a, &rules, &site, &o.pipeline);
	o.pipeline.threads = a->threads > 0 ? (unsigned)a->threads : cores_allowed();
	o.progress = !a->quiet && isatty(STDERR_FILENO);
	o.count = a->count;
	o.mode = mode;
	o.stop = &cli_stop_requested;
	o.warn = cli_print_warning;

	struct sm_errbuf eb = {""};
	struct sm_store *st = NULL;
	int64_t run = 0;
	enum sm_err e = sm_audit_run(&o, &st, &run, &eb);
	if (e != SM_OK) {
		cli_out_discard(a, &ro);
		rc = cli_fail(e, &eb);
	} else {
		/* a stop signal that came while the end was stored leaves the run complete */
		if (cli_stop_requested && cli_run_status(st, run) == RUN_INTERRUPTED)
			fprintf(stderr,
			        "smaudit: interrupted: run %lld stored with what was read\n",
			        (long long)run);
		rc = cli_render(st, run, a, &ro);
	}
	sm_store_close(st);
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

/* A capture (file or directory) given to two sensors: one would see the other's
 * packets as copies of its own, and the second report its clock matched to itself. */
static int
refuse_shared_captures(const struct cli_args *a)
{
	if (a->nsensors < 2)
		return -1;
	static struct stat st[CLI_MAX_INPUTS]; /* each input's, read once */
	bool known[CLI_MAX_INPUTS];
	for (size_t i = 0; i < a->ninputs; i++)
		known[i] = stat(a->inputs[i], &st[i]) == 0;
	for (size_t i = 0; i < a->ninputs; i++)
		for (size_t j = i + 1; known[i] && j < a->ninputs; j++)
			if (a->input_sensor[i] != a->input_sensor[j] && known[j] &&
			    st[i].st_dev == st[j].st_dev && st[i].st_ino == st[j].st_ino)
				return cli_usage_error(
				    a->cmd,
				    "%s is the capture of sensor %s and of sensor %s: each sensor "
				    "reads its own",
				    a->inputs[j], a->sensor_names[a->input_sensor[i]],
				    a->sensor_names[a->input_sensor[j]]);
	return -1;
}

int
cmd_audit(struct cli_args *a)
{
	int rc;
	if (a->ninputs == 0)
		return cli_usage_error(
		    a->cmd, "%s",
		    "audit needs at least one capture: -r FILE, a file or a directory");
	if (cli_given(a, OPT_WINDOW_FROM) && cli_given(a, OPT_WINDOW_UNTIL) &&
	    a->window_from_ns > a->window_until_ns)
		return cli_usage_error(a->cmd, "%s",
		                       "--from is after --until: the window holds no time");
	if ((rc = refuse_config_inputs(a)) >= 0)
		return rc;
	for (size_t i = 0; a->nsensors > 1 && i < a->ninputs; i++)
		if (strcmp(a->inputs[i], "-") == 0)
			return cli_usage_error(
			    a->cmd, "%s",
			    "stdin (-) cannot be a sensor's capture: the sensors' "
			    "clocks are matched before the audit reads, so every "
			    "capture is read twice");
	if ((rc = refuse_shared_captures(a)) >= 0)
		return rc;
	return audit_inputs(a, "audit");
}

int
cmd_live(struct cli_args *a)
{
	int rc;
	if (a->iface == NULL)
		return cli_usage_error(a->cmd, "%s",
		                       "live needs -i IFACE (e.g. the span port; 'any' for all)");
	if (a->report_every && (a->output == NULL || strcmp(a->output, "-") == 0))
		return cli_usage_error(a->cmd, "%s", "--report-every needs -o FILE to rewrite");
	if (a->chroot_dir != NULL) { /* checked before anything is opened or stored */
		struct stat sb;
		const char *why = stat(a->chroot_dir, &sb) != 0 ? strerror(errno)
		                  : !S_ISDIR(sb.st_mode)        ? "not a directory"
		                                                : NULL;
		if (why != NULL) {
			fprintf(stderr, "smaudit: --chroot %s: %s\n", a->chroot_dir, why);
			return SM_EXIT_RUNTIME;
		}
	}
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = cli_load_config(a, &site, &rules)) >= 0)
		return rc;
	cli_catch_stop_signals();
	signal(SIGPIPE, SIG_IGN);
	if (a->db == NULL)
		fputs("smaudit: note: no -d DB: the run is kept in memory and lost when it ends\n",
		      stderr);

	struct sm_live_run_opts o;
	memset(&o, 0, sizeof(o));
	o.capture.iface = a->iface;
	o.capture.snaplen = (int)a->snaplen;
	o.capture.buffer_mb = (int)a->buffer_mb;
	o.capture.immediate = a->immediate;
	o.capture.no_promisc = a->no_promisc;
	o.capture.ring_dir = a->ring_dir;
	o.capture.ring_bytes = a->ring_mb << 20;
	o.capture.ring_files = (unsigned)a->ring_files;
	o.bpf = a->bpf;
	pipeline_opts(a, &rules, &site, &o.pipeline);
	o.duration_s = a->duration;
	o.checkpoint_s = (unsigned)a->checkpoint;
	o.report_every_s = (unsigned)a->report_every;
	o.alert_after_s = (unsigned)a->alert_after;
	o.output = a->output;
	o.format = a->format;
	o.status = !a->quiet && isatty(STDERR_FILENO);
	o.json_lines = a->json_lines;
	o.user = a->user;
	o.chroot_dir = a->chroot_dir;
	o.stop = &cli_stop_requested;
	o.warn = cli_print_warning;

	struct sm_errbuf eb = {""};
	struct sm_report_summary sum;
	int64_t run = 0;
	enum sm_err e = sm_live_run(&o, &run, &sum, &eb);
	if (e != SM_OK)
		rc = cli_fail(e, &eb);
	else
		rc = sm_report_exit(&sum);
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

/* A capture file of a run that combine reads again (a sensor's), or why it cannot. */
static const char *
combine_unreadable(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		return NULL;
	return strcmp(path, "-") == 0 ? "was standard input"
	       : strncmp(path, "live:", 5) == 0
	           ? "is a live interface (a live run keeps its packets with -w DIR)"
	           : "can no longer be read";
}

/* Run id's sensor (its name when the run had one, else "run-ID") and its files. */
static int
combine_gather(struct cli_args *a, struct sm_store *st, int64_t id)
{
	struct sm_errbuf eb = {""};
	struct sm_run_row run;
	enum sm_err e = sm_store_load_run(st, id, &run, &eb);
	if (e != SM_OK)
		return cli_fail(e, &eb);
	/* what limited the run is not applied again: its files are read whole */
	if (run.filter != NULL)
		fprintf(
		    stderr,
		    "smaudit: warning: run %lld was audited with -f '%s': combine reads every "
		    "packet of its files, so flows that run called 'filtered' are judged here\n",
		    (long long)id, run.filter);
	sm_run_row_free(&run);
	struct sm_counter_row *ctr = NULL;
	size_t nctr = 0;
	if ((e = sm_store_load_counters(st, id, &ctr, &nctr, &eb)) != SM_OK) {
		free(ctr);
		return cli_fail(e, &eb);
	}
	for (size_t i = 0; i < nctr; i++)
		if (strcmp(ctr[i].name, SM_COUNTER_WINDOW_FROM) == 0 ||
		    strcmp(ctr[i].name, SM_COUNTER_WINDOW_UNTIL) == 0 ||
		    strcmp(ctr[i].name, SM_COUNTER_STOPPED_AT) == 0) {
			fprintf(
			    stderr,
			    "smaudit: warning: run %lld read part of its files (--from, --until "
			    "or -c): combine reads them whole\n",
			    (long long)id);
			break;
		}
	free(ctr);
	struct sm_sensor_row *sensors = NULL;
	size_t ns = 0;
	if ((e = sm_store_load_sensors(st, id, &sensors, &ns, &eb)) != SM_OK) {
		free(sensors);
		return cli_fail(e, &eb);
	}
	char name[64];
	if (ns == 1)
		snprintf(name, sizeof(name), "%s", sensors[0].name);
	else
		snprintf(name, sizeof(name), "run-%lld", (long long)id);
	free(sensors);
	if (ns > 1) {
		fprintf(
		    stderr,
		    "smaudit: run %lld already combines %zu sensors: combine the runs of single "
		    "sensors\n",
		    (long long)id, ns);
		return SM_EXIT_USAGE;
	}
	for (size_t i = 0; i < a->nsensors; i++)
		if (strcmp(a->sensor_names[i], name) == 0) {
			fprintf(
			    stderr,
			    "smaudit: runs name the sensor '%s' twice: each run combined is one "
			    "sensor's\n",
			    name);
			return SM_EXIT_USAGE;
		}
	char *copy = strdup(name);
	if (copy == NULL || a->nsensors == SM_SENSORS_MAX) {
		free(copy);
		fprintf(stderr, "smaudit: at most %d runs are combined\n", SM_SENSORS_MAX);
		return SM_EXIT_USAGE;
	}
	uint8_t sensor = (uint8_t)a->nsensors;
	a->sensor_names[a->nsensors++] = copy;
	struct sm_source_row *src = NULL;
	size_t nsrc = 0, files = 0;
	if ((e = sm_store_load_sources(st, id, false, &src, &nsrc, &eb)) != SM_OK) {
		sm_source_rows_free(src, nsrc);
		return cli_fail(e, &eb);
	}
	for (size_t i = 0; i < nsrc; i++) {
		const char *why = combine_unreadable(src[i].path);
		if (why != NULL) {
			fprintf(stderr,
			        "smaudit: warning: run %lld: %s %s: its packets are not combined\n",
			        (long long)id, src[i].path, why);
		} else if (a->ninputs < CLI_MAX_INPUTS) { /* the path changes owner: argv's life */
			a->input_sensor[a->ninputs] = sensor;
			a->inputs[a->ninputs++] = src[i].path;
			src[i].path = NULL;
			files++;
		} else {
			fprintf(stderr, "smaudit: more than %d capture files to combine\n",
			        CLI_MAX_INPUTS);
			sm_source_rows_free(src, nsrc);
			return SM_EXIT_USAGE;
		}
	}
	sm_source_rows_free(src, nsrc);
	if (files == 0) {
		fprintf(stderr,
		        "smaudit: run %lld kept no capture file that can be read (a live run keeps "
		        "its packets with -w DIR): nothing of sensor %s to combine\n",
		        (long long)id, name);
		return SM_EXIT_RUNTIME;
	}
	return -1;
}

int
cmd_combine(struct cli_args *a)
{
	if (a->ncombine < 2)
		return cli_usage_error(a->cmd, "%s",
		                       "combine needs two runs or more: --run A --run B (smaudit "
		                       "report -d DB --list lists them)");
	struct sm_store *st;
	int64_t latest;
	int rc;
	if ((rc = cli_open_db(a, &st, &latest)) >= 0)
		return rc;
	a->ninputs = 0;
	a->nsensors = 0;
	for (size_t i = 0; rc < 0 && i < a->ncombine; i++)
		rc = combine_gather(a, st, (int64_t)a->combine[i]);
	sm_store_close(st);
	if (rc >= 0)
		return rc;
	return audit_inputs(a, "combine");
}
