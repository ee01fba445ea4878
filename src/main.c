/*
 * smaudit: command line.  Parses argv, wires the modules, maps errors to
 * the exit statuses of SPEC section 3.  Nothing else knows about argv.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smaudit/audit.h"
#include "smaudit/extract.h"
#include "smaudit/forensic.h"
#include "smaudit/live.h"
#include "smaudit/policy.h"
#include "smaudit/report.h"
#include "smaudit/rules.h"
#include "smaudit/site.h"
#include "smaudit/sitegen.h"
#include "smaudit/store.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	if (stop_requested)
		_exit(130); /* a second Ctrl-C: give up at once */
	stop_requested = 1;
}

static void
print_warning(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "smaudit: warning: %s\n", msg);
}

static const char usage_text[] =
    "usage: smaudit COMMAND [options]\n"
    "\n"
    "Audits network traffic against the port policy of NetApp SnapMirror active sync:\n"
    "which expected flows are missing, unanswered or rejected, and what else talks to the\n"
    "intercluster LIFs.\n"
    "\n"
    "commands:\n"
    "  audit  -s SITE [-r RULES] [-d DB] [-f BPF] [--format text|json|csv|html] [-o OUT] "
    "CAPTURE|DIR...\n"
    "         read pcap/pcapng files (a directory = every file in it; - = stdin) as one\n"
    "         timeline, classify every session, store the run, print the report\n"
    "  live   -s SITE -i IFACE [-d DB] [-f BPF] [--duration SEC] [-Z USER] [-w DIR] ...\n"
    "         audit a span/mirror port or interface as traffic passes; problems are logged\n"
    "         as they show, the report is printed when the run ends (Ctrl-C or --duration)\n"
    "  check  -s SITE [-r RULES]\n"
    "         validate the site and rules files and print every flow the site must show\n"
    "  report -d DB [--run ID] [--format text|json|csv|html] [-o OUT]\n"
    "         re-render a stored run (default: the latest)\n"
    "  report -d DB --list [--format text|json]\n"
    "         list the stored runs, oldest first\n"
    "  query  -d DB [--run ID] [--host ADDR] [--port N] [--since T] [--until T] [--class C]\n"
    "         list stored sessions (T is UNIX seconds; C is expected, optional, allowed,\n"
    "         unexpected or unmonitored)\n"
    "\n"
    "after an incident:\n"
    "  timeline -d DB [--run ID] [--pair A B] [--port P] [--gap SEC] [--format text|json]\n"
    "         activity of each flow in 60 time buckets and every silence of SEC seconds or\n"
    "         more (default 30) with the attempts that failed in it; without --pair or\n"
    "         --port, the flows the policy expects (exit 1 when a silence is found)\n"
    "  diff   -d DB RUN_A RUN_B [--format text|json]\n"
    "         verdicts that changed, flows now failing or answered, flows that appeared or\n"
    "         disappeared between two runs, e.g. before and after a change window (exit 1\n"
    "         when they differ)\n"
    "  extract -d DB --finding N | --session N -o FILE [--from CAPTURE|DIR]...\n"
    "         write the packets behind a finding or session (and ICMP errors about them)\n"
    "         from the run's capture files to a pcap file, print its SHA-256 and record it\n"
    "         in the database's evidence table; --from if the captures moved\n"
    "\n"
    "making a site file:\n"
    "  site --from-ontap FILE... [-o SITE]\n"
    "         from the text of 'network interface show -fields address,role,service-policy,\n"
    "         vserver' (table or -instance) and 'snapmirror mediator show' of both clusters\n"
    "  site --guess CAPTURE... [-o SITE]\n"
    "         propose one from traffic (who talks 11104/11105/3260/31784 to whom): review it\n"
    "\n";

static const char usage_options[] =
    "audit options:\n"
    "  -s, --site FILE        who is who: 'role NAME ADDR|CIDR...' lines (required)\n"
    "  -r, --rules FILE       policy to use instead of the built-in rules/sm-as.rules\n"
    "  -d, --db FILE          append the run to this SQLite file (default: in memory)\n"
    "  -f, --filter BPF       only packets matching this tcpdump filter\n"
    "      --format FMT       text (default), json (SPEC section 5), csv or html (one\n"
    "                         self-contained page: flow matrix, findings, timelines)\n"
    "  -o, --output FILE      write the report there instead of stdout\n"
    "      --max-sessions N   bound of the session table (default 262144)\n"
    "      --tcp-timeout SEC  idle timeout of open TCP sessions (default 3600)\n"
    "      --udp-timeout SEC  idle timeout of UDP and ICMP sessions (default 60)\n"
    "      --no-payload       skip stream reassembly and protocol checks (faster; no\n"
    "                         protocol-mismatch findings, no capture-loss count)\n"
    "  -q, --quiet            no progress line\n"
    "\n"
    "live options (with -s -r -d -f -o --format and the table options above):\n"
    "  -i, --interface IFACE  where to capture ('any' = every interface)\n"
    "      --duration SEC     end the run after SEC seconds (default: until Ctrl-C/SIGTERM)\n"
    "      --snaplen BYTES    bytes kept per packet (default 262144)\n"
    "      --buffer MB        kernel capture buffer (default 32); raise it if drops appear\n"
    "      --immediate        hand over each packet at once (more CPU, less latency)\n"
    "      --no-promisc       do not put the interface in promiscuous mode\n"
    "      --alert-after SEC  log an expected SYN unanswered this long (default 5)\n"
    "      --checkpoint SEC   write open sessions to the database this often (default 10):\n"
    "                         a killed run loses at most that much\n"
    "      --report-every SEC rewrite the -o report this often while running\n"
    "      --json-lines       print each finding as one JSON line on stdout (for a SIEM);\n"
    "                         the report then goes only to -o\n"
    "  -Z, --user USER        parse packets as USER once the interface and files are open\n"
    "                         (default as root: $SUDO_USER, else tcpdump, else nobody;\n"
    "                         'root' keeps root)\n"
    "      --chroot DIR       also change root to DIR after opening everything\n"
    "  -w, --ring-dir DIR     keep the raw packets in rotating pcap files in DIR\n"
    "      --ring-size MB     size of one ring file (default 100)\n"
    "      --ring-files N     ring files kept (default 10; the oldest is deleted)\n"
    "\n"
    "exit status: 0 no finding, 1 findings (missing expected flow or unexpected traffic),\n"
    "             2 usage or configuration error, 3 runtime error (capture or database)\n"
    "\n"
    "examples:\n"
    "  smaudit check -s site.conf\n"
    "  smaudit audit -s site.conf -d incident.db /captures/span-*.pcapng\n"
    "  smaudit report -d incident.db --format json -o run.json\n"
    "  smaudit query -d incident.db --host 10.10.1.11 --port 11104\n"
    "  smaudit report -d incident.db --format html -o incident.html\n"
    "  smaudit timeline -d incident.db --pair 10.10.0.21 10.30.0.5 --gap 60\n"
    "  smaudit diff -d incident.db 1 2\n"
    "  smaudit extract -d incident.db --finding 3 -o finding3.pcap\n"
    "  smaudit live -s site.conf -i eth1 -d span.db -w /var/tmp/smaudit-ring "
    "--report-every 60 -o live.txt\n";

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("smaudit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'smaudit --help' for more information.\n", stderr);
	return SM_EXIT_USAGE;
}

static int
fail(enum sm_err e, const struct sm_errbuf *eb)
{
	fprintf(stderr, "smaudit: %s\n", eb->msg[0] ? eb->msg : sm_strerror(e));
	return sm_exit_status(e);
}

enum {
	OPT_FORMAT = 256,
	OPT_RUN,
	OPT_HOST,
	OPT_PORT,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_CLASS,
	OPT_MAX_SESSIONS,
	OPT_TCP_TIMEOUT,
	OPT_UDP_TIMEOUT,
	OPT_LIMIT,
	OPT_DURATION,
	OPT_SNAPLEN,
	OPT_BUFFER,
	OPT_IMMEDIATE,
	OPT_NO_PROMISC,
	OPT_ALERT_AFTER,
	OPT_CHECKPOINT,
	OPT_REPORT_EVERY,
	OPT_JSON_LINES,
	OPT_CHROOT,
	OPT_RING_SIZE,
	OPT_RING_FILES,
	OPT_NO_PAYLOAD,
	OPT_PAIR,
	OPT_GAP,
	OPT_FINDING,
	OPT_SESSION,
	OPT_FROM,
	OPT_FROM_ONTAP,
	OPT_GUESS,
	OPT_LIST,
};

static const struct option long_opts[] = {
    {"site", required_argument, NULL, 's'},
    {"rules", required_argument, NULL, 'r'},
    {"db", required_argument, NULL, 'd'},
    {"filter", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"run", required_argument, NULL, OPT_RUN},
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"class", required_argument, NULL, OPT_CLASS},
    {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
    {"tcp-timeout", required_argument, NULL, OPT_TCP_TIMEOUT},
    {"udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"interface", required_argument, NULL, 'i'},
    {"user", required_argument, NULL, 'Z'},
    {"ring-dir", required_argument, NULL, 'w'},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
    {"buffer", required_argument, NULL, OPT_BUFFER},
    {"immediate", no_argument, NULL, OPT_IMMEDIATE},
    {"no-promisc", no_argument, NULL, OPT_NO_PROMISC},
    {"alert-after", required_argument, NULL, OPT_ALERT_AFTER},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"report-every", required_argument, NULL, OPT_REPORT_EVERY},
    {"json-lines", no_argument, NULL, OPT_JSON_LINES},
    {"chroot", required_argument, NULL, OPT_CHROOT},
    {"ring-size", required_argument, NULL, OPT_RING_SIZE},
    {"ring-files", required_argument, NULL, OPT_RING_FILES},
    {"no-payload", no_argument, NULL, OPT_NO_PAYLOAD},
    {"pair", required_argument, NULL, OPT_PAIR},
    {"gap", required_argument, NULL, OPT_GAP},
    {"finding", required_argument, NULL, OPT_FINDING},
    {"session", required_argument, NULL, OPT_SESSION},
    {"from", required_argument, NULL, OPT_FROM},
    {"from-ontap", no_argument, NULL, OPT_FROM_ONTAP},
    {"guess", no_argument, NULL, OPT_GUESS},
    {"list", no_argument, NULL, OPT_LIST},
    {NULL, 0, NULL, 0},
};

struct args {
	const char *site, *rules, *db, *bpf, *output, *host, *class_name;
	enum sm_format format;
	int64_t run;
	int port;
	double since, until;
	uint64_t max_sessions, tcp_timeout, udp_timeout, limit;
	bool quiet;
	/* live */
	const char *iface, *user, *ring_dir, *chroot_dir;
	double duration;
	uint64_t snaplen, buffer_mb, alert_after, checkpoint, report_every, ring_mb, ring_files;
	bool immediate, no_promisc, json_lines, no_payload;
	/* forensics */
	char pair_a[SM_ADDRSTRLEN], pair_b[SM_ADDRSTRLEN];
	double gap;
	int64_t finding, session;
	const char *from[64];
	size_t nfrom;
	bool from_ontap, guess;
	bool list; /* report --list */
};

static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool
parse_time(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || v < 0)
		return false;
	*out = v;
	return true;
}

/* Parses options for cmd; returns -1 on success or an exit status. */
static int
parse_args(int argc, char **argv, const char *allowed, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->port = -1;
	int c;
	uint64_t v;
	optind = 1;
	a->alert_after = 5;
	a->checkpoint = 10;
	a->gap = 30;
	while ((c = getopt_long(argc, argv, "s:r:d:f:o:qhi:Z:w:", long_opts, NULL)) != -1) {
		const char *name = NULL;
		for (const struct option *o = long_opts; o->name; o++)
			if (o->val == c)
				name = o->name;
		if (c != '?' && c != 'h' && name != NULL && strstr(allowed, name) == NULL)
			return usage_error("option --%s does not apply to this command", name);
		switch (c) {
		case 's':
			a->site = optarg;
			break;
		case 'r':
			a->rules = optarg;
			break;
		case 'd':
			a->db = optarg;
			break;
		case 'f':
			a->bpf = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(usage_options, stdout);
			return SM_EXIT_CLEAN;
		case OPT_FORMAT:
			if (!sm_parse_format(optarg, &a->format))
				return usage_error(
				    "--format '%s': expected text, json, csv or html", optarg);
			break;
		case OPT_RUN:
			if (!parse_u64(optarg, INT64_MAX, &v) || v == 0)
				return usage_error("--run '%s': expected a run id (1, 2, ...)",
				                   optarg);
			a->run = (int64_t)v;
			break;
		case OPT_HOST:
			a->host = optarg;
			break;
		case OPT_PORT:
			if (!parse_u64(optarg, 65535, &v))
				return usage_error("--port '%s': expected 0-65535", optarg);
			a->port = (int)v;
			break;
		case OPT_SINCE:
			if (!parse_time(optarg, &a->since))
				return usage_error("--since '%s': expected UNIX seconds", optarg);
			break;
		case OPT_UNTIL:
			if (!parse_time(optarg, &a->until))
				return usage_error("--until '%s': expected UNIX seconds", optarg);
			break;
		case OPT_CLASS:
			a->class_name = optarg;
			break;
		case OPT_MAX_SESSIONS:
			if (!parse_u64(optarg, 50000000, &a->max_sessions) || a->max_sessions == 0)
				return usage_error("--max-sessions '%s': expected 1-50000000",
				                   optarg);
			break;
		case OPT_TCP_TIMEOUT:
			if (!parse_u64(optarg, 86400 * 30, &a->tcp_timeout) || !a->tcp_timeout)
				return usage_error("--tcp-timeout '%s': expected seconds", optarg);
			break;
		case OPT_UDP_TIMEOUT:
			if (!parse_u64(optarg, 86400 * 30, &a->udp_timeout) || !a->udp_timeout)
				return usage_error("--udp-timeout '%s': expected seconds", optarg);
			break;
		case OPT_LIMIT:
			if (!parse_u64(optarg, UINT32_MAX, &a->limit))
				return usage_error("--limit '%s': expected a number", optarg);
			break;
		case 'i':
			a->iface = optarg;
			break;
		case 'Z':
			a->user = optarg;
			break;
		case 'w':
			a->ring_dir = optarg;
			break;
		case OPT_CHROOT:
			a->chroot_dir = optarg;
			break;
		case OPT_DURATION:
			if (!parse_time(optarg, &a->duration) || a->duration <= 0)
				return usage_error("--duration '%s': expected seconds", optarg);
			break;
		case OPT_SNAPLEN:
			if (!parse_u64(optarg, 262144, &a->snaplen) || a->snaplen < 64)
				return usage_error("--snaplen '%s': expected 64-262144", optarg);
			break;
		case OPT_BUFFER:
			if (!parse_u64(optarg, 2047, &a->buffer_mb) || a->buffer_mb == 0)
				return usage_error("--buffer '%s': expected 1-2047 MB", optarg);
			break;
		case OPT_IMMEDIATE:
			a->immediate = true;
			break;
		case OPT_NO_PROMISC:
			a->no_promisc = true;
			break;
		case OPT_JSON_LINES:
			a->json_lines = true;
			break;
		case OPT_NO_PAYLOAD:
			a->no_payload = true;
			break;
		case OPT_PAIR: {
			/* --pair A B (or A,B) */
			char first[128];
			sm_strlcpy(first, optarg, sizeof(first));
			char *comma = strchr(first, ',');
			const char *second = comma ? comma + 1 : NULL;
			if (comma)
				*comma = '\0';
			else if (optind < argc && argv[optind][0] != '-')
				second = argv[optind++];
			struct sm_addr x, y;
			if (second == NULL || !sm_addr_parse(first, &x) ||
			    !sm_addr_parse(second, &y))
				return usage_error("%s", "--pair: expected two addresses, as in "
				                         "--pair 198.18.1.21 198.18.3.5");
			sm_addr_str(&x, a->pair_a, sizeof(a->pair_a));
			sm_addr_str(&y, a->pair_b, sizeof(a->pair_b));
			break;
		}
		case OPT_GAP:
			if (!parse_time(optarg, &a->gap) || a->gap <= 0)
				return usage_error("--gap '%s': expected seconds (e.g. 30 or 2.5)",
				                   optarg);
			break;
		case OPT_FINDING:
		case OPT_SESSION:
			if (!parse_u64(optarg, INT64_MAX, &v) || v == 0)
				return usage_error("--%s '%s': expected an id (1, 2, ...)", name,
				                   optarg);
			*(c == OPT_FINDING ? &a->finding : &a->session) = (int64_t)v;
			break;
		case OPT_FROM:
			if (a->nfrom == sizeof(a->from) / sizeof(a->from[0]))
				return usage_error("%s", "--from: at most 64 (give a directory)");
			a->from[a->nfrom++] = optarg;
			break;
		case OPT_FROM_ONTAP:
			a->from_ontap = true;
			break;
		case OPT_GUESS:
			a->guess = true;
			break;
		case OPT_LIST:
			a->list = true;
			break;
		case OPT_ALERT_AFTER:
			if (!parse_u64(optarg, 86400, &a->alert_after) || a->alert_after == 0)
				return usage_error("--alert-after '%s': expected seconds", optarg);
			break;
		case OPT_CHECKPOINT:
			if (!parse_u64(optarg, 86400, &a->checkpoint) || a->checkpoint == 0)
				return usage_error("--checkpoint '%s': expected seconds", optarg);
			break;
		case OPT_REPORT_EVERY:
			if (!parse_u64(optarg, 86400 * 30, &a->report_every) || !a->report_every)
				return usage_error("--report-every '%s': expected seconds", optarg);
			break;
		case OPT_RING_SIZE:
			if (!parse_u64(optarg, 1u << 20, &a->ring_mb) || a->ring_mb == 0)
				return usage_error("--ring-size '%s': expected MB", optarg);
			break;
		case OPT_RING_FILES:
			if (!parse_u64(optarg, 100000, &a->ring_files) || a->ring_files == 0)
				return usage_error("--ring-files '%s': expected a count", optarg);
			break;
		default:
			fputs("Try 'smaudit --help' for more information.\n", stderr);
			return SM_EXIT_USAGE;
		}
	}
	return -1;
}

/* Loads the site and rules (built-in rules without -r). */
static int
load_config(const struct args *a, struct sm_site *site, struct sm_rules *rules)
{
	struct sm_errbuf eb = {""};
	enum sm_err e;
	if (a->site == NULL)
		return usage_error("%s", "-s SITE is required: the file that says which "
		                         "addresses are the intercluster LIFs, Mediator, ...");
	if (a->rules != NULL)
		e = sm_rules_load(a->rules, rules, &eb);
	else
		e = sm_rules_parse(sm_default_rules, SM_DEFAULT_RULES_NAME, rules, &eb);
	if (e != SM_OK)
		return fail(e, &eb);
	e = sm_site_load(a->site, site, print_warning, NULL, &eb);
	if (e != SM_OK) {
		sm_rules_free(rules);
		return fail(e, &eb);
	}
	sm_rules_check_site(rules, site, print_warning, NULL);
	return -1;
}

/* Opens the report destination; with -o a temporary file renamed on success. */
static FILE *
open_output(const char *path, char *tmp, size_t len)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return stdout;
	snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
	return fopen(tmp, "w");
}

static int
close_output(FILE *f, const char *path, const char *tmp, bool ok)
{
	if (f == stdout)
		return fflush(stdout) == 0 ? 0 : -1;
	int rc = fclose(f);
	if (!ok || rc != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
render(struct sm_store *st, int64_t run, const struct args *a)
{
	char tmp[4096];
	struct sm_errbuf eb = {""};
	FILE *out = open_output(a->output, tmp, sizeof(tmp));
	if (out == NULL) {
		fprintf(stderr, "smaudit: %s: cannot write the report: %s\n", a->output,
		        strerror(errno));
		return SM_EXIT_RUNTIME;
	}
	struct sm_report_summary sum;
	enum sm_err e = sm_report_render(st, run, a->format, out, &sum, &eb);
	if (close_output(out, a->output, tmp, e == SM_OK) != 0 && e == SM_OK)
		e = sm_error(&eb, SM_ERR_IO, "%s: cannot write the report: %s",
		             a->output ? a->output : "stdout", strerror(errno));
	if (e != SM_OK)
		return fail(e, &eb);
	if (sum.nothing_read)
		fprintf(stderr, "smaudit: run %lld stored no packet: the report is incomplete\n",
		        (long long)run);
	return sm_report_exit(&sum);
}

static void
catch_stop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* What audit and live share: database, policy, table bounds, decoding. */
static void
pipeline_opts(const struct args *a, const struct sm_rules *rules, const struct sm_site *site,
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
}

static int
cmd_audit(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv,
	                    "site rules db filter output quiet format max-sessions tcp-timeout "
	                    "udp-timeout no-payload",
	                    &a);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return usage_error("%s", "audit needs at least one capture file or directory");
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = load_config(&a, &site, &rules)) >= 0)
		return rc;
	catch_stop_signals();

	struct sm_audit_opts o;
	memset(&o, 0, sizeof(o));
	o.inputs = (const char *const *)&argv[optind];
	o.ninputs = (size_t)(argc - optind);
	o.bpf = a.bpf;
	pipeline_opts(&a, &rules, &site, &o.pipeline);
	o.progress = !a.quiet && isatty(STDERR_FILENO);
	o.stop = &stop_requested;
	o.warn = print_warning;

	struct sm_errbuf eb = {""};
	struct sm_store *st = NULL;
	int64_t run = 0;
	enum sm_err e = sm_audit_run(&o, &st, &run, &eb);
	if (e != SM_OK) {
		rc = fail(e, &eb);
	} else {
		if (stop_requested)
			fprintf(stderr,
			        "smaudit: interrupted: run %lld stored with what was read\n",
			        (long long)run);
		rc = render(st, run, &a);
	}
	sm_store_close(st);
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

static int
cmd_live(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv,
	                    "site rules db filter output quiet format max-sessions tcp-timeout "
	                    "udp-timeout interface user ring-dir chroot duration snaplen buffer "
	                    "immediate no-promisc json-lines alert-after checkpoint report-every "
	                    "ring-size ring-files no-payload",
	                    &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("live reads an interface (-i), not files ('%s'); use 'smaudit "
		                   "audit' for captures",
		                   argv[optind]);
	if (a.iface == NULL)
		return usage_error("%s", "live needs -i IFACE (e.g. the span port; 'any' for all)");
	if (a.report_every && (a.output == NULL || strcmp(a.output, "-") == 0))
		return usage_error("%s", "--report-every needs -o FILE to rewrite");
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = load_config(&a, &site, &rules)) >= 0)
		return rc;
	catch_stop_signals();
	signal(SIGPIPE, SIG_IGN);
	if (a.db == NULL)
		fputs("smaudit: note: no -d DB: the run is kept in memory and lost when it ends\n",
		      stderr);

	struct sm_live_run_opts o;
	memset(&o, 0, sizeof(o));
	o.capture.iface = a.iface;
	o.capture.snaplen = (int)a.snaplen;
	o.capture.buffer_mb = (int)a.buffer_mb;
	o.capture.immediate = a.immediate;
	o.capture.no_promisc = a.no_promisc;
	o.capture.ring_dir = a.ring_dir;
	o.capture.ring_bytes = a.ring_mb << 20;
	o.capture.ring_files = (unsigned)a.ring_files;
	o.bpf = a.bpf;
	pipeline_opts(&a, &rules, &site, &o.pipeline);
	o.duration_s = a.duration;
	o.checkpoint_s = (unsigned)a.checkpoint;
	o.report_every_s = (unsigned)a.report_every;
	o.alert_after_s = (unsigned)a.alert_after;
	o.output = a.output;
	o.format = a.format;
	o.status = !a.quiet && isatty(STDERR_FILENO);
	o.json_lines = a.json_lines;
	o.user = a.user;
	o.chroot_dir = a.chroot_dir;
	o.stop = &stop_requested;
	o.warn = print_warning;

	struct sm_errbuf eb = {""};
	struct sm_report_summary sum;
	int64_t run = 0;
	enum sm_err e = sm_live_run(&o, &run, &sum, &eb);
	if (e != SM_OK)
		rc = fail(e, &eb);
	else
		rc = sm_report_exit(&sum);
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

static int
cmd_check(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "site rules", &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("check takes no capture ('%s')", argv[optind]);
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = load_config(&a, &site, &rules)) >= 0)
		return rc;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	if (p == NULL) {
		fputs("smaudit: out of memory\n", stderr);
		rc = SM_EXIT_RUNTIME;
		goto out;
	}
	sm_policy_finish(p);
	printf("site %s: %zu roles; rules %s: %zu directional rules; monitored:", site.path,
	       site.nroles, rules.name, rules.nrules);
	for (size_t i = 0; i < rules.nmonitor; i++)
		printf(" %s", rules.monitor[i]);
	printf("\n\n%-9s %-10s %-36s %-36s %s\n", "KIND", "FLOW", "INITIATOR", "RESPONDER",
	       "PURPOSE / RULE");
	size_t n = sm_policy_entry_count(p), na = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sm_expect_entry *e = sm_policy_entry(p, i);
		char flow[24], s[128], d[128], sa[64], da[64];
		if (e->rule->proto == 1)
			snprintf(flow, sizeof(flow), "icmp/echo");
		else
			snprintf(flow, sizeof(flow), "%s/%u", e->rule->proto == 6 ? "tcp" : "udp",
			         e->rule->port);
		sm_entry_src(e, sa, sizeof(sa));
		sm_entry_dst(e, da, sizeof(da));
		snprintf(s, sizeof(s), "%s %s", e->rule->src_role, sa[0] ? sa : "(any)");
		snprintf(d, sizeof(d), "%s %s", e->rule->dst_role, da[0] ? da : "(any)");
		if (e->verdict == V_NA) {
			na++;
			printf("%-9s %-10s %-36s %-36s n/a: %s\n", sm_rule_kind_name(e->rule->kind),
			       flow, e->rule->src_role, e->rule->dst_role, e->detail);
			continue;
		}
		printf("%-9s %-10s %-36s %-36s %s [%s]\n", sm_rule_kind_name(e->rule->kind), flow,
		       s, d, e->rule->purpose, e->rule->id);
	}
	printf("\n%zu flows to verify, %zu not applicable to this site\n", n - na, na);
	sm_policy_free(p);
	rc = SM_EXIT_CLEAN;
out:
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

static int
open_db(const struct args *a, struct sm_store **st, int64_t *run)
{
	struct sm_errbuf eb = {""};
	if (a->db == NULL)
		return usage_error("%s", "-d DB is required: the database written by "
		                         "'smaudit audit -d DB'");
	if (access(a->db, F_OK) != 0) {
		fprintf(stderr, "smaudit: %s: no such database\n", a->db);
		return SM_EXIT_RUNTIME;
	}
	enum sm_err e = sm_store_open(st, a->db, false, &eb);
	if (e == SM_OK) {
		*run = a->run;
		if (*run == 0)
			e = sm_store_latest_run(*st, run, &eb);
	}
	if (e != SM_OK) {
		sm_store_close(*st);
		*st = NULL;
		return e == SM_ERR_USAGE
		           ? (fprintf(stderr, "smaudit: %s\n", eb.msg), SM_EXIT_RUNTIME)
		           : fail(e, &eb);
	}
	return -1;
}

/* report --list: every run, one a line (or a JSON array). */
static int
list_runs(struct sm_store *st, const struct args *a)
{
	char tmp[4096];
	struct sm_errbuf eb = {""};
	FILE *out = open_output(a->output, tmp, sizeof(tmp));
	if (out == NULL) {
		fprintf(stderr, "smaudit: %s: cannot write the list: %s\n", a->output,
		        strerror(errno));
		return SM_EXIT_RUNTIME;
	}
	enum sm_err e = sm_report_list(st, a->format, out, &eb);
	if (close_output(out, a->output, tmp, e == SM_OK) != 0 && e == SM_OK)
		e = sm_error(&eb, SM_ERR_IO, "%s: cannot write the list: %s",
		             a->output ? a->output : "stdout", strerror(errno));
	return e == SM_OK ? SM_EXIT_CLEAN : fail(e, &eb);
}

static int
cmd_report(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "db run format output list", &a);
	if (rc >= 0)
		return rc;
	if (a.list && (a.run != 0 || (a.format != FMT_TEXT && a.format != FMT_JSON)))
		return usage_error("%s", "--list takes no --run and --format text or json");
	struct sm_store *st;
	int64_t run;
	if ((rc = open_db(&a, &st, &run)) >= 0)
		return rc;
	rc = a.list ? list_runs(st, &a) : render(st, run, &a);
	sm_store_close(st);
	return rc;
}

struct query_out {
	enum sm_format fmt;
	uint64_t n;
};

static bool
print_session(void *ctx, const struct sm_session_row *r)
{
	struct query_out *q = ctx;
	if (q->fmt == FMT_CSV)
		printf("%lld,%s,%s,%d,%s,%d,%.6f,%.6f,%s,%llu,%llu,%llu,%llu,%s,%s,%s\n",
		       (long long)r->id, r->proto, r->src, r->sport, r->dst, r->dport, r->first_ts,
		       r->last_ts, r->state, (unsigned long long)r->pkts_fwd,
		       (unsigned long long)r->pkts_rev, (unsigned long long)r->bytes_fwd,
		       (unsigned long long)r->bytes_rev, r->class_name, r->rule, r->history);
	else
		printf("%-7lld %-5s %39s %-5d -> %39s %-5d %-6s %-12s %6llu/%-6llu %s\n",
		       (long long)r->id, r->proto, r->src, r->sport, r->dst, r->dport, r->state,
		       r->class_name, (unsigned long long)r->pkts_fwd,
		       (unsigned long long)r->pkts_rev, r->history);
	q->n++;
	return true;
}

static int
cmd_query(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "db run host port since until class format limit", &a);
	if (rc >= 0)
		return rc;
	if (a.class_name != NULL && strcmp(a.class_name, "expected") &&
	    strcmp(a.class_name, "optional") && strcmp(a.class_name, "allowed") &&
	    strcmp(a.class_name, "unexpected") && strcmp(a.class_name, "unmonitored"))
		return usage_error("--class '%s': expected expected, optional, allowed, "
		                   "unexpected or unmonitored",
		                   a.class_name);
	struct sm_addr tmp;
	if (a.host != NULL && !sm_addr_parse(a.host, &tmp))
		return usage_error("--host '%s': expected an IPv4 or IPv6 address", a.host);
	char canon[SM_ADDRSTRLEN];
	if (a.host != NULL)
		a.host = sm_addr_str(&tmp, canon, sizeof(canon));
	struct sm_store *st;
	int64_t run;
	if ((rc = open_db(&a, &st, &run)) >= 0)
		return rc;
	struct sm_query q = {.run_id = run,
	                     .host = a.host,
	                     .port = a.port,
	                     .since = a.since,
	                     .until = a.until,
	                     .class_name = a.class_name,
	                     .limit = a.limit};
	struct query_out qo = {a.format, 0};
	if (a.format == FMT_CSV)
		puts("id,proto,src,sport,dst,dport,first_ts,last_ts,state,pkts_fwd,pkts_rev,"
		     "bytes_fwd,bytes_rev,class,rule,history");
	else
		printf("%-7s %-5s %39s %-5s    %39s %-5s %-6s %-12s %13s %s\n", "ID", "PROTO",
		       "SRC", "SPORT", "DST", "DPORT", "STATE", "CLASS", "PKTS FWD/REV", "HISTORY");
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_store_each_session(st, &q, print_session, &qo, &eb);
	sm_store_close(st);
	if (e != SM_OK)
		return fail(e, &eb);
	if (a.format != FMT_CSV)
		fprintf(stderr, "%llu session(s) in run %lld\n", (unsigned long long)qo.n,
		        (long long)run);
	return SM_EXIT_CLEAN;
}

/* The database and the text or JSON output (stdout or -o, written whole) of the
 * forensic commands; -1 when both are open, else the exit status. */
static int
forensic_open(const struct args *a, struct sm_store **st, int64_t *run, FILE **out, char *tmp,
              size_t len)
{
	if (a->format == FMT_CSV || a->format == FMT_HTML)
		return usage_error("%s", "--format: this command writes text or json");
	int rc = open_db(a, st, run);
	if (rc >= 0)
		return rc;
	*out = open_output(a->output, tmp, len);
	if (*out == NULL) {
		fprintf(stderr, "smaudit: %s: cannot write: %s\n", a->output, strerror(errno));
		sm_store_close(*st);
		return SM_EXIT_RUNTIME;
	}
	return -1;
}

static int
finish_output(const struct args *a, FILE *out, const char *tmp, enum sm_err e, struct sm_errbuf *eb)
{
	if (close_output(out, a->output, tmp, e == SM_OK) != 0 && e == SM_OK)
		e = sm_error(eb, SM_ERR_IO, "%s: cannot write: %s",
		             a->output ? a->output : "stdout", strerror(errno));
	return e == SM_OK ? -1 : fail(e, eb);
}

static int
cmd_timeline(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "db run pair port gap format output", &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("timeline: unexpected argument '%s'", argv[optind]);
	struct sm_store *st;
	int64_t run;
	char tmp[4096];
	FILE *out;
	if ((rc = forensic_open(&a, &st, &run, &out, tmp, sizeof(tmp))) >= 0)
		return rc;
	struct sm_timeline_opts o = {
	    run, a.pair_a[0] ? a.pair_a : NULL, a.pair_b[0] ? a.pair_b : NULL, a.port, a.gap, 0};
	struct sm_timeline tl;
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_timeline_build(st, &o, &tl, &eb);
	if (e == SM_OK && a.format == FMT_JSON)
		sm_timeline_json(out, &tl);
	else if (e == SM_OK)
		sm_timeline_text(out, &tl);
	size_t gaps = sm_timeline_gaps(&tl);
	sm_timeline_free(&tl);
	sm_store_close(st);
	if ((rc = finish_output(&a, out, tmp, e, &eb)) >= 0)
		return rc;
	return gaps > 0 ? SM_EXIT_FINDINGS : SM_EXIT_CLEAN;
}

static int
cmd_diff(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "db format output", &a);
	if (rc >= 0)
		return rc;
	uint64_t ids[2];
	if (argc - optind != 2)
		return usage_error("%s",
		                   "diff: expected two run ids: smaudit diff -d DB RUN_A RUN_B");
	for (int i = 0; i < 2; i++)
		if (!parse_u64(argv[optind + i], INT64_MAX, &ids[i]) || ids[i] == 0)
			return usage_error("diff: '%s' is not a run id (1, 2, ...)",
			                   argv[optind + i]);
	struct sm_store *st;
	int64_t run;
	char tmp[4096];
	FILE *out;
	if ((rc = forensic_open(&a, &st, &run, &out, tmp, sizeof(tmp))) >= 0)
		return rc;
	struct sm_errbuf eb = {""};
	uint64_t ndiff = 0;
	enum sm_err e = sm_diff_runs(st, (int64_t)ids[0], (int64_t)ids[1], a.format == FMT_JSON,
	                             out, &ndiff, &eb);
	sm_store_close(st);
	if ((rc = finish_output(&a, out, tmp, e, &eb)) >= 0)
		return rc;
	return ndiff > 0 ? SM_EXIT_FINDINGS : SM_EXIT_CLEAN;
}

static int
cmd_extract(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "db finding session from output", &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error("extract: unexpected argument '%s'", argv[optind]);
	if ((a.finding > 0) == (a.session > 0))
		return usage_error("%s", "extract: give one of --finding N (ids in the report) or "
		                         "--session N (ids from smaudit query)");
	if (a.output == NULL || strcmp(a.output, "-") == 0)
		return usage_error("%s", "extract: -o FILE is required (the evidence pcap)");
	struct sm_store *st;
	int64_t run;
	if ((rc = open_db(&a, &st, &run)) >= 0)
		return rc;
	struct sm_extract_opts o = {a.finding, a.session,     a.output, a.from,
	                            a.nfrom,   print_warning, NULL};
	struct sm_extract_result res;
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_extract(st, &o, &res, &eb);
	sm_store_close(st);
	if (e != SM_OK)
		return fail(e, &eb);
	if (res.sessions == 0) {
		fprintf(stderr, "smaudit: nothing to extract: %s\n", res.why_empty);
		return SM_EXIT_FINDINGS;
	}
	if (res.other_linktype)
		fprintf(stderr,
		        "smaudit: warning: %llu matching packet(s) of another link type were left "
		        "out (a pcap file holds one)\n",
		        (unsigned long long)res.other_linktype);
	printf("%s  %s\n", res.sha256, a.output);
	fprintf(stderr,
	        "%llu packet(s) of %llu session(s) from run %lld; SHA-256 recorded as evidence "
	        "%lld in %s\n",
	        (unsigned long long)res.packets, (unsigned long long)res.sessions,
	        (long long)res.run_id, (long long)res.evidence_id, a.db);
	return SM_EXIT_CLEAN;
}

static int
cmd_site(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, "from-ontap guess output", &a);
	if (rc >= 0)
		return rc;
	if (a.from_ontap == a.guess || optind >= argc)
		return usage_error("%s", "site: smaudit site --from-ontap FILE... or smaudit site "
		                         "--guess CAPTURE... [-o SITE]");
	const char *const *in = (const char *const *)argv + optind;
	size_t n = (size_t)(argc - optind);
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (mem == NULL)
		return fail(SM_ERR_NOMEM, &(struct sm_errbuf){""});
	struct sm_errbuf eb = {""};
	enum sm_err e = a.guess ? sm_site_guess(in, n, mem, print_warning, NULL, &eb)
	                        : sm_site_from_ontap(in, n, mem, &eb);
	fclose(mem);
	struct sm_site site;
	/* what we propose must be a valid site file */
	if (e == SM_OK && sm_site_parse(text, "generated site", &site, NULL, NULL, &eb) == SM_OK)
		sm_site_free(&site);
	else if (e == SM_OK)
		e = SM_ERR_INTERNAL;
	char tmp[4096];
	FILE *out = e == SM_OK ? open_output(a.output, tmp, sizeof(tmp)) : NULL;
	if (e == SM_OK && out == NULL)
		e = sm_error(&eb, SM_ERR_IO, "%s: cannot write: %s", a.output, strerror(errno));
	if (out != NULL) {
		fputs(text, out);
		if (close_output(out, a.output, tmp, true) != 0)
			e = sm_error(&eb, SM_ERR_IO, "%s: cannot write: %s",
			             a.output ? a.output : "stdout", strerror(errno));
	}
	free(text);
	return e == SM_OK ? SM_EXIT_CLEAN : fail(e, &eb);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "missing command (audit, live, check, report, query, "
		                         "timeline, diff, extract or site)");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		fputs(usage_options, stdout);
		return SM_EXIT_CLEAN;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("smaudit %s\n", SMAUDIT_VERSION);
		return SM_EXIT_CLEAN;
	}
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "query") == 0)
		return cmd_query(argc - 1, argv + 1);
	if (strcmp(cmd, "live") == 0)
		return cmd_live(argc - 1, argv + 1);
	if (strcmp(cmd, "timeline") == 0)
		return cmd_timeline(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "extract") == 0)
		return cmd_extract(argc - 1, argv + 1);
	if (strcmp(cmd, "site") == 0)
		return cmd_site(argc - 1, argv + 1);
	return usage_error("unknown command '%s' (expected audit, live, check, report, query, "
	                   "timeline, diff, extract or site)",
	                   cmd);
}
