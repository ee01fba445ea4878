/*
 * cli: the tables of smaudit's command line and what reads them.  Each option is
 * described once (names, argument, help, where its value goes and what range it
 * takes); each command lists the options it takes, so its parser, its --help, its
 * completion list and the error for an option of another command all come from here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* How an option's argument is read and where it is stored (in struct cli_args). */
enum opt_kind {
	KIND_SPECIAL, /* read by parse_special */
	KIND_FLAG,    /* bool, set */
	KIND_STRING,  /* const char *, the argument itself */
	KIND_U64,     /* uint64_t in [min, max] */
	KIND_SECONDS, /* double > 0 */
	KIND_WHEN,    /* int64_t UNIX ns (cli_parse_when) */
};

/* One option: its names, its argument and what it does (shown by COMMAND --help). */
struct opt_def {
	int id; /* the short letter, or an OPT_ value */
	const char *name;
	const char *arg; /* NULL: takes no argument */
	const char *help;
	enum opt_kind kind;
	size_t field; /* offsetof(struct cli_args, ...) */
	uint64_t min, max;
	const char *expect; /* the usage error's "expected ..." for a bad value */
};

/* The offset of field f, which must be of type t: comparing pointers of two types is
 * an error under -Werror, so a field of the wrong type does not build. */
#define FIELD(f, t)                                                                                \
	(offsetof(struct cli_args, f) + 0 * sizeof(&((struct cli_args *)0)->f == (t *)0))
#define SPECIAL             KIND_SPECIAL, 0, 0, 0, NULL
#define FLAG(f)             KIND_FLAG, FIELD(f, bool), 0, 0, NULL
#define STR(f)              KIND_STRING, FIELD(f, const char *), 0, 0, NULL
#define U64(f, lo, hi, exp) KIND_U64, FIELD(f, uint64_t), lo, hi, exp
#define SECONDS(f, exp)     KIND_SECONDS, FIELD(f, double), 0, 0, exp
#define WHEN(f)             KIND_WHEN, FIELD(f, int64_t), 0, 0, NULL

static const struct opt_def opt_defs[] = {
    {'s', "site", "FILE", "who is who: 'role NAME ADDR|CIDR...' lines (required)", STR(site)},
    {OPT_RULES, "rules", "FILE", "policy to use instead of the built-in rules/sm-as.rules",
     STR(rules)},
    {'r', "read", "CAPTURE",
     "read this pcap/pcapng file (or .gz, .zst, .lz4: known by content)\n"
     "or directory ('-' = stdin); may be given more than once, bare\n"
     "arguments are captures too",
     SPECIAL},
    {'d', "db", "DB",
     "the SQLite database file (audit, live: the run is appended; without\n"
     "-d it is kept in memory)",
     STR(db)},
    {'f', "filter", "BPF",
     "only packets matching this tcpdump filter; expected flows it\n"
     "excludes get the verdict 'filtered', never 'missing'",
     STR(bpf)},
    {'o', "output", "FILE", "write there instead of stdout (written whole, then renamed)",
     STR(output)},
    {OPT_FORMAT, "format", "FMT", NULL /* the command's formats: opt_help */, SPECIAL},
    {OPT_COLOR, "color", "WHEN",
     "colour the text report: auto (default: only on a terminal, not\n"
     "with NO_COLOR set), always or never",
     SPECIAL},
    {OPT_STRICT, "strict", NULL,
     "an intermittent failure (some attempts of a working flow\n"
     "failed) is a finding too: exit status 1",
     FLAG(strict)},
    {'q', "quiet", NULL, "no progress line (on a terminal: file k/n, %, rate, time left)",
     FLAG(quiet)},
    {OPT_MAX_SESSIONS, "max-sessions", "N", "bound of the session table (default 262144)",
     U64(max_sessions, 1, 50000000, "1-50000000")},
    {OPT_TCP_TIMEOUT, "tcp-timeout", "SEC", "idle timeout of open TCP sessions (default 3600)",
     U64(tcp_timeout, 1, 86400 * 30, "seconds")},
    {OPT_UDP_TIMEOUT, "udp-timeout", "SEC", "idle timeout of UDP and ICMP sessions (default 60)",
     U64(udp_timeout, 1, 86400 * 30, "seconds")},
    {OPT_THREADS, "threads", "N", "1 or 2 (policy and storing on a 2nd thread; 2 on 2+ cores)",
     U64(threads, 1, 1024, "1-1024")},
    {OPT_NO_PAYLOAD, "no-payload", NULL,
     "skip stream reassembly and protocol checks (faster; protocols\n"
     "reported 'not checked', no capture-loss count)",
     FLAG(no_payload)},
    {'i', "interface", "IFACE", "where to capture ('any' = every interface)", STR(iface)},
    {OPT_DURATION, "duration", "SEC", "end the run after SEC seconds (default: until Ctrl-C)",
     SECONDS(duration, "seconds")},
    {OPT_SNAPLEN, "snaplen", "BYTES", "bytes kept per packet (default 262144)",
     U64(snaplen, 64, 262144, "64-262144")},
    {OPT_BUFFER, "buffer", "MB", "kernel capture buffer (default 128); raise it if drops appear",
     U64(buffer_mb, 1, 2047, "1-2047 MB")},
    {OPT_IMMEDIATE, "immediate", NULL, "hand over each packet at once (more CPU, less latency)",
     FLAG(immediate)},
    {OPT_NO_PROMISC, "no-promisc", NULL, "do not put the interface in promiscuous mode",
     FLAG(no_promisc)},
    {OPT_ALERT_AFTER, "alert-after", "SEC", "log an expected SYN unanswered this long (default 5)",
     U64(alert_after, 1, 86400, "seconds")},
    {OPT_CHECKPOINT, "checkpoint", "SEC",
     "write open sessions to the database this often\n"
     "(default 10): a killed run loses at most that much",
     U64(checkpoint, 1, 86400, "seconds")},
    {OPT_REPORT_EVERY, "report-every", "SEC", "rewrite the -o report this often while running",
     U64(report_every, 1, 86400 * 30, "seconds")},
    {OPT_JSON_LINES, "json-lines", NULL,
     "print each finding as one JSON line on stdout (for a\n"
     "SIEM); the report then goes only to -o",
     FLAG(json_lines)},
    {'Z', "user", "USER",
     "parse packets as USER once the interface and files are open\n"
     "(default as root: $SUDO_USER, else tcpdump, else nobody;\n"
     "'root' keeps root); every capability is dropped and a\n"
     "seccomp filter confines parsing in any case",
     STR(user)},
    {OPT_CHROOT, "chroot", "DIR", "also change root to DIR after opening everything",
     STR(chroot_dir)},
    {'w', "ring-dir", "DIR", "keep the raw packets in rotating pcap files in DIR", STR(ring_dir)},
    {OPT_RING_SIZE, "ring-size", "MB", "size of one ring file (default 100)",
     U64(ring_mb, 1, 1u << 20, "MB")},
    {OPT_RING_FILES, "ring-files", "N", "ring files kept (default 10; the oldest is deleted)",
     U64(ring_files, 1, 100000, "a count")},
    {OPT_RUN, "run", "ID", "the run to use (default: the latest)",
     U64(run, 1, INT64_MAX, "a run id (1, 2, ...)")},
    {OPT_LIST, "list", NULL,
     "list the stored runs instead (id, mode, status, time, counts,\n"
     "sources), oldest first; --format text or json",
     FLAG(list)},
    {OPT_HOST, "host", "ADDR", "sessions from or to this address", STR(host)},
    {OPT_PORT, "port", "N", "sessions to or from this port", U64(port, 0, 65535, "0-65535")},
    {OPT_SINCE, "since", "TIME",
     "sessions active at or after TIME: ISO 8601 with a zone\n"
     "(2026-12-02T04:17:00Z, 2026-12-02T05:17:00+01:00, fractions of\n"
     "a second; a space for the T, as reports print it) or UNIX seconds",
     WHEN(since_ns)},
    {OPT_UNTIL, "until", "TIME", "sessions active at or before TIME (as --since)", WHEN(until_ns)},
    {'c', "count", "N", "stop after N packets (as tcpdump -c); the report says so",
     U64(count, 1, UINT64_MAX, "a number of packets (1, 2, ...)")},
    {OPT_WINDOW_FROM, "from", "TIME",
     "only packets at or after TIME: ISO 8601 with a zone, as in\n"
     "2026-12-02T05:17:00.5+01:00 or ...04:17:00Z, or UNIX seconds;\n"
     "packets outside count for nothing, the report shows the window",
     WHEN(window_from_ns)},
    {OPT_WINDOW_UNTIL, "until", "TIME", "only packets at or before TIME (as --from)",
     WHEN(window_until_ns)},
    {OPT_SENSOR, "sensor", "NAME=CAPTURE",
     "a capture point's captures (again for more): several sensors say\n"
     "where packets stopped; captures without it are sensor 'default'",
     SPECIAL},
    {OPT_SENSOR_NAME, "sensor", "NAME",
     "this capture point's name, kept with the run: smaudit combine\n"
     "joins the runs of several sensors into one verdict",
     SPECIAL},
    {OPT_COMBINE_RUN, "run", "ID", "a stored run of one sensor (again for each)", SPECIAL},
    {OPT_CLASS, "class", "C", NULL /* verdict.h's classes: opt_help */, STR(class_name)},
    {OPT_LIMIT, "limit", "N", "at most N sessions", U64(limit, 0, UINT32_MAX, "a number")},
    {OPT_PAIR, "pair", "A B", "only the flows between addresses A and B (either way)", SPECIAL},
    {OPT_GAP, "gap", "SEC", "the shortest silence reported (default 30; e.g. 2.5)",
     SECONDS(gap, "seconds (e.g. 30 or 2.5)")},
    {OPT_FINDING, "finding", "N", "the packets behind finding N (the id in the report)",
     U64(finding, 1, INT64_MAX, "an id (1, 2, ...)")},
    {OPT_SESSION, "session", "N", "the packets of session N (the id from smaudit query)",
     U64(session, 1, INT64_MAX, "an id (1, 2, ...)")},
    {OPT_FROM, "from", "CAPTURE|DIR", "where the run's capture files are now, if they moved",
     SPECIAL},
    {OPT_FROM_ONTAP, "from-ontap", NULL, "FILE... are ONTAP command output", FLAG(from_ontap)},
    {OPT_GUESS, "guess", NULL, "FILE... are captures: propose roles from SM-as traffic",
     FLAG(guess)},
    {'h', "help", NULL, "this help", SPECIAL},
};

/* Laid out by hand: one field a line, the option lists packed. */
// clang-format off
/* Commands that report no finding: they are done, or fail. */
#define EXITS_DONE                                                                             \
	"exit status: 0 done, 2 usage or configuration error, 3 runtime error (a file or the\n"      \
	"             database)\n"

const struct cli_command cli_commands[] = {
    {.name = "audit",
     .run = cmd_audit,
     .synopsis = "-s SITE [--rules RULES] [-d DB] [-f BPF] [--strict] [--format FMT] [-o OUT] "
                 "[-r] CAPTURE|DIR... | --sensor NAME=CAPTURE|DIR...",
     .summary =
         "Reads pcap/pcapng files, plain or compressed with gzip, zstd or lz4 (a directory =\n"
         "every capture in it; - = stdin) as one timeline, classifies every session against\n"
         "the policy, stores the run and prints the report: expected flows missing,\n"
         "unanswered or rejected, unexpected traffic on the intercluster LIFs, protocol\n"
         "mismatches.",
     .opts = {'s', OPT_RULES, 'r', 'd', 'f', OPT_STRICT, OPT_FORMAT, OPT_COLOR, 'o', 'q', 'c',
              OPT_WINDOW_FROM, OPT_WINDOW_UNTIL, OPT_MAX_SESSIONS, OPT_TCP_TIMEOUT,
              OPT_UDP_TIMEOUT, OPT_NO_PAYLOAD, OPT_THREADS, OPT_SENSOR},
     .formats = SM_FMT_ALL,
     .examples =
         "  smaudit audit -s site.conf -r span.pcapng\n"
         "  smaudit audit -s site.conf -r span.pcap.gz --from 2026-12-02T04:17:00Z "
         "--until 2026-12-02T05:17:00+01:00\n"
         "  smaudit audit -s site.conf -d incident.db /captures/span-*.pcapng\n"
         "  smaudit audit -s site.conf -f 'vlan 20' --format json -o run.json -r span.pcap\n"
         "  smaudit audit -s site.conf --rules my-sm-as.rules --strict /captures/\n"
         "  smaudit audit -s site.conf --sensor site-a=/caps/a/ --sensor site-b=b.pcapng\n",
     .captures = true},
    {.name = "live",
     .run = cmd_live,
     .synopsis = "-s SITE [--rules RULES] -i IFACE [-d DB] [-f BPF] [--duration SEC] [-Z USER] ...",
     .summary =
         "Audits a span/mirror port or interface as traffic passes; problems are logged as\n"
         "they show, the report is printed when the run ends (Ctrl-C, SIGTERM or --duration).",
     .opts = {'s', OPT_RULES, 'i', 'd', 'f', OPT_STRICT, OPT_FORMAT, 'o', 'q', OPT_DURATION,
              OPT_SNAPLEN, OPT_BUFFER, OPT_IMMEDIATE, OPT_NO_PROMISC, OPT_ALERT_AFTER,
              OPT_CHECKPOINT, OPT_REPORT_EVERY, OPT_JSON_LINES, 'Z', OPT_CHROOT, 'w',
              OPT_RING_SIZE, OPT_RING_FILES, OPT_MAX_SESSIONS, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT,
              OPT_NO_PAYLOAD, OPT_SENSOR_NAME},
     .formats = SM_FMT_ALL,
     .examples = "  smaudit live -s site.conf -i eth1 -d span.db --duration 600\n"
                 "  smaudit live -s site.conf -i eth1 -d span.db -w /var/tmp/smaudit-ring "
                 "--report-every 60 -o live.txt\n"
                 "  smaudit live -s site.conf -i eth1 --sensor site-a -w /var/tmp/ring -d a.db\n",
     .stray_before = "live reads an interface (-i), not files (",
     .stray_after = "); use 'smaudit audit' for captures"},
    {.name = "check",
     .exits = EXITS_DONE,
     .run = cmd_check,
     .synopsis = "-s SITE [--rules RULES]",
     .summary = "Validates the site and rules files and prints every flow the site must show.",
     .opts = {'s', OPT_RULES, 'r'},
     .examples = "  smaudit check -s site.conf\n"
                 "  smaudit check -s site.conf --rules my-sm-as.rules\n",
     .stray_before = "check takes no capture (",
     .stray_after = ")"},
    {.name = "combine",
     .run = cmd_combine,
     .synopsis = "-s SITE -d DB --run A --run B [--run C ...] [--strict] [--format FMT] [-o OUT]",
     .summary =
         "Combines stored runs of single sensors (live --sensor NAME at each site, or audits)\n"
         "into one run whose verdicts say where packets stopped: their capture files are\n"
         "read again as one sensor each, clocks matched (a live run keeps them with -w DIR).",
     .opts = {'s', OPT_RULES, 'd', OPT_COMBINE_RUN, OPT_STRICT, OPT_FORMAT, OPT_COLOR, 'o', 'q',
              OPT_MAX_SESSIONS, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT, OPT_NO_PAYLOAD, OPT_THREADS},
     .formats = SM_FMT_ALL,
     .examples = "  smaudit combine -s site.conf -d central.db --run 4 --run 5\n"
                 "  smaudit combine -s site.conf -d central.db --run 4 --run 5 --run 6 "
                 "--format json\n",
     .stray_before = "combine: unexpected argument ",
     .stray_after = " (runs are --run ID)"},
    {.name = "report",
     .run = cmd_report,
     .synopsis = "-d DB [--run ID] [--format FMT] [--color WHEN] [-o OUT]",
     .summary = "Renders a stored run again (default: the latest), with the same exit status;\n"
                "--list lists the runs of the database.",
     .opts = {'d', OPT_RUN, OPT_LIST, OPT_FORMAT, OPT_COLOR, 'o'},
     .formats = SM_FMT_ALL,
     .examples = "  smaudit report -d incident.db --list\n"
                 "  smaudit report -d incident.db\n"
                 "  smaudit report -d incident.db --run 2 --format html -o incident.html\n",
     .stray_before = "report: unexpected argument ",
     .stray_after = " (a run is --run ID)"},
    {.name = "query",
     .exits = EXITS_DONE,
     .run = cmd_query,
     .synopsis =
         "-d DB [--run ID] [--host ADDR] [--port N] [--since TIME] [--until TIME] [--class C] "
         "[--format FMT]",
     .summary = "Lists stored sessions.",
     .opts = {'d', OPT_RUN, OPT_HOST, OPT_PORT, OPT_SINCE, OPT_UNTIL, OPT_CLASS, OPT_FORMAT,
              OPT_LIMIT},
     .formats = SM_FMT_BIT(FMT_TEXT) | SM_FMT_BIT(FMT_JSON) | SM_FMT_BIT(FMT_CSV),
     .examples = "  smaudit query -d incident.db --host 10.10.1.11 --port 11104\n"
                 "  smaudit query -d incident.db --class unexpected --format csv\n"
                 "  smaudit query -d incident.db --since '2026-12-02 04:17:00Z' --format json\n",
     .stray_before = "query: unexpected argument ",
     .stray_after = " (filters are --host, --port, ...)"},
    {.name = "timeline",
     .exits = "exit status: 0 no silence, 1 a silence of --gap seconds or more, 2 usage error,\n"
              "             3 database error or a run that stored nothing to draw (killed, or\n"
              "             still running)\n",
     .run = cmd_timeline,
     .synopsis = "-d DB [--run ID] [--pair A B] [--port P] [--gap SEC] [--format FMT]",
     .summary =
         "Activity of each flow in 60 time buckets and its silences of SEC seconds or more\n"
         "(one side sending nothing, the other perhaps retransmitting; in one session, its\n"
         "longest) with the attempts that failed in them; without --pair or --port, the flows\n"
         "the policy expects (exit 1 when a silence is found).",
     .opts = {'d', OPT_RUN, OPT_PAIR, OPT_PORT, OPT_GAP, OPT_FORMAT, 'o'},
     .formats = SM_FMT_BIT(FMT_TEXT) | SM_FMT_BIT(FMT_JSON),
     .examples = "  smaudit timeline -d incident.db --pair 10.10.0.21 10.30.0.5 --gap 60\n"
                 "  smaudit timeline -d incident.db --port 31784 --gap 3\n",
     .stray_before = "timeline: unexpected argument ",
     .stray_after = ""},
    {.name = "diff",
     .exits = "exit status: 0 the runs agree, 1 they differ, 2 usage error, 3 database error\n"
              "             or a run that stored no verdict (killed, or still running)\n",
     .run = cmd_diff,
     .synopsis = "-d DB RUN_A RUN_B [--format FMT]",
     .summary = "Verdicts that changed, flows now failing or answered, flows that appeared or\n"
                "disappeared between two runs, e.g. before and after a change window (exit 1 when\n"
                "they differ).",
     .opts = {'d', OPT_FORMAT, 'o'},
     .formats = SM_FMT_BIT(FMT_TEXT) | SM_FMT_BIT(FMT_JSON),
     .examples = "  smaudit diff -d incident.db 1 2\n",
     .operands = true},
    {.name = "extract",
     .exits = "exit status: 0 done, 1 nothing to extract (a not-seen finding has no packet),\n"
              "             2 usage or configuration error, 3 runtime error\n",
     .run = cmd_extract,
     .synopsis = "-d DB --finding N | --session N -o FILE [--from CAPTURE|DIR]...",
     .summary =
         "Writes the packets behind a finding or session (and ICMP errors about them) from the\n"
         "run's capture files to a pcap file, prints its SHA-256 and records it in the\n"
         "database's evidence table.",
     .opts = {'d', OPT_FINDING, OPT_SESSION, 'o', OPT_FROM},
     .examples = "  smaudit extract -d incident.db --finding 3 -o finding3.pcap\n"
                 "  smaudit extract -d incident.db --session 812 -o s.pcap --from /archive/caps/\n",
     .stray_before = "extract: unexpected argument ",
     .stray_after = ""},
    {.name = "site",
     .exits = EXITS_DONE,
     .run = cmd_site,
     .synopsis = "--from-ontap FILE... | --guess CAPTURE... [-o SITE]",
     .summary =
         "Makes a site file: from the text of 'network interface show -fields\n"
         "address,role,service-policy,vserver' (table or -instance) and 'snapmirror mediator\n"
         "show' of both clusters, or proposed from traffic (who talks 11104/11105/3260/31784\n"
         "to whom): review it before use.",
     .opts = {OPT_FROM_ONTAP, OPT_GUESS, 'o'},
     .examples = "  smaudit site --from-ontap cluster-a.txt cluster-b.txt -o site.conf\n"
                 "  smaudit site --guess span.pcapng\n",
     .operands = true},
    {NULL},
};
// clang-format on

#define N_OPT_DEFS (sizeof(opt_defs) / sizeof(opt_defs[0]))
_Static_assert(sizeof(opt_defs) / sizeof(opt_defs[0]) <= CLI_MAX_DEFS, "raise CLI_MAX_DEFS");
#define MAX_CMD_OPTS (sizeof(cli_commands[0].opts) / sizeof(cli_commands[0].opts[0]))

static const struct opt_def *
opt_def(int id)
{
	for (size_t i = 0; i < N_OPT_DEFS; i++)
		if (opt_defs[i].id == id)
			return &opt_defs[i];
	return NULL;
}

static bool
command_takes(const struct cli_command *cmd, int id)
{
	if (id == 'h')
		return true;
	for (size_t i = 0; i < MAX_CMD_OPTS && cmd->opts[i] != 0; i++)
		if (cmd->opts[i] == id)
			return true;
	return false;
}

bool
cli_given(const struct cli_args *a, int id)
{
	const struct opt_def *o = opt_def(id);
	return o != NULL && a->given[o - opt_defs];
}

/* What --help says after a format's name (none for most). */
static const char *const format_notes[FMT_COUNT] = {
    [FMT_TEXT] = " (default)", [FMT_JSON] = " (its fields: docs/json.md)"};

/* "text (default), json (its fields: docs/json.md) or csv": the formats cmd writes, by
 * the names of fmt.c's table. */
static void
format_help(const struct cli_command *cmd, char *buf, size_t len)
{
	unsigned n = 0, k = 0;
	for (unsigned f = 0; f < FMT_COUNT; f++)
		n += (cmd->formats & SM_FMT_BIT(f)) != 0;
	buf[0] = '\0';
	for (unsigned f = 0; f < FMT_COUNT; f++) {
		if (!(cmd->formats & SM_FMT_BIT(f)))
			continue;
		if (k++ > 0)
			sm_strlcat(buf, k == n ? " or " : ", ", len);
		sm_strlcat(buf, sm_format_name((enum sm_format)f), len);
		if (format_notes[f] != NULL)
			sm_strlcat(buf, format_notes[f], len);
	}
}

void
cli_class_list(const char *sep, const char *sep_last, char *buf, size_t len)
{
	unsigned n = 0;
	while (sm_class_name((enum sm_class)n) != NULL)
		n++;
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			sm_strlcat(buf, i + 1 == n ? sep_last : sep, len);
		sm_strlcat(buf, sm_class_name((enum sm_class)i), len);
	}
}

/* The help of o as cmd shows it (into buf when made): check's -r names the rules,
 * --format the formats of the command. */
static const char *
opt_help(const struct cli_command *cmd, const struct opt_def *o, char *buf, size_t len)
{
	if (o->id == 'r' && !cmd->captures)
		return "the same as --rules (check reads no capture)";
	if (o->id == OPT_FORMAT) {
		format_help(cmd, buf, len);
		return buf;
	}
	if (o->id == OPT_CLASS) {
		cli_class_list(", ", " or ", buf, len);
		return buf;
	}
	return o->help;
}

static const char exit_text[] =
    "exit status: 0 no finding, 1 findings, 2 usage or configuration error,\n"
    "             3 runtime error (capture or database, or no site address in the capture)\n";

void
cli_print_command_help(FILE *out, const struct cli_command *cmd)
{
	fprintf(out, "usage: smaudit %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis,
	        cmd->summary);
	for (size_t i = 0; i < MAX_CMD_OPTS && cmd->opts[i] != 0; i++) {
		const struct opt_def *o = opt_def(cmd->opts[i]);
		char names[64];
		if (o->id < 256)
			snprintf(names, sizeof(names), "-%c, --%s%s%s", o->id, o->name,
			         o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(names, sizeof(names), "    --%s%s%s", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		fprintf(out, "  %-24s ", names);
		char help[256];
		for (const char *p = opt_help(cmd, o, help, sizeof(help)); *p; p++) {
			fputc(*p, out);
			if (*p == '\n')
				fprintf(out, "  %-24s ", "");
		}
		fputc('\n', out);
	}
	fprintf(out, "  %-24s %s\n\nexamples:\n%s\n%s", "-h, --help", "this help", cmd->examples,
	        cmd->exits != NULL ? cmd->exits : exit_text);
}

void
cli_print_overview(FILE *out)
{
	fputs("usage: smaudit COMMAND [options]\n"
	      "\n"
	      "Audits network traffic against the port policy of NetApp SnapMirror active sync:\n"
	      "which expected flows are missing, unanswered or rejected, and what else talks to\n"
	      "the intercluster LIFs.\n\ncommands:\n",
	      out);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->synopsis);
	fputs("\n'smaudit COMMAND --help' shows a command's options and examples; 'man smaudit'\n"
	      "all of them. Verdicts, JSON fields, database schema and exit statuses are in\n"
	      "docs/ (installed in share/doc/smaudit).\n\n"
	      "a first audit:\n"
	      "  smaudit check -s site.conf                  # the flows the site must show\n"
	      "  smaudit audit -s site.conf -d incident.db -r span.pcapng\n"
	      "  smaudit report -d incident.db --format html -o incident.html\n\n",
	      out);
	fputs(exit_text, out);
}

int
cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("smaudit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'smaudit %s%s--help' for more information.\n", cmd ? cmd->name : "",
	        cmd ? " " : "");
	return SM_EXIT_USAGE;
}

/* For the shell completions (completions/): `smaudit --complete` lists the commands,
 * `smaudit --complete COMMAND` the options of one, a line each: the long name, the
 * short one or '-', the argument's first word or '-' (FILE, DIR, FMT, ...), then the
 * words the argument may be when they are few (--format: the command's formats,
 * --class: the session classes).  Not
 * in --help: it is for scripts, and these tables are its only source. */
int
cli_print_completion(const char *name)
{
	if (name == NULL) {
		for (const struct cli_command *c = cli_commands; c->name; c++)
			printf("%s\n", c->name);
		return SM_EXIT_CLEAN;
	}
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		for (size_t i = 0; i < MAX_CMD_OPTS && c->opts[i] != 0; i++) {
			const struct opt_def *o = opt_def(c->opts[i]);
			const char *arg = o->arg;
			if (o->id == 'r' && !c->captures)
				arg = "FILE"; /* check -r RULES */
			char shortname[3] = {'-', o->id < 256 ? (char)o->id : '\0', '\0'};
			char values[128] = ""; /* the words the argument may be */
			if (o->id == OPT_FORMAT)
				sm_format_list(c->formats, " ", " ", values, sizeof(values));
			else if (o->id == OPT_CLASS)
				cli_class_list(" ", " ", values, sizeof(values));
			printf("--%s %s %.*s%s%s\n", o->name, shortname,
			       arg ? (int)strcspn(arg, " ") : 1, arg ? arg : "-",
			       values[0] ? " " : "", values);
		}
		printf("--help -h -\n");
		return SM_EXIT_CLEAN;
	}
	return cli_usage_error(NULL, "--complete: unknown command '%s'", name);
}

/* The commands that take option name; for the message about one that does not apply. */
static void
commands_taking(int id, char *buf, size_t len)
{
	buf[0] = '\0';
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (command_takes(c, id) && id != 'h') {
			if (buf[0])
				sm_strlcat(buf, ", ", len);
			sm_strlcat(buf, c->name, len);
		}
}

/* An option the command does not take: name it, and the commands that do. */
static int
unknown_option(const struct cli_command *cmd, const char *arg)
{
	const char *name = arg;
	while (*name == '-')
		name++;
	size_t n = strcspn(name, "=");
	char users[256] = "", some[256];
	for (size_t i = 0; i < N_OPT_DEFS; i++) { /* one name may mean one thing per command */
		const struct opt_def *o = &opt_defs[i];
		bool match = arg[1] == '-' ? strlen(o->name) == n && strncmp(o->name, name, n) == 0
		                           : o->id < 256 && o->id == (unsigned char)name[0];
		if (!match)
			continue;
		commands_taking(o->id, some, sizeof(some));
		if (users[0] && some[0])
			sm_strlcat(users, ", ", sizeof(users));
		sm_strlcat(users, some, sizeof(users));
	}
	if (users[0])
		return cli_usage_error(cmd,
		                       "option %s does not apply to '%s' (it is an option of: %s)",
		                       arg, cmd->name, users);
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

/* The number of sensor name (n bytes of it), made if new; -1 when there are too many. */
static int
sensor_index(struct cli_args *a, const char *name, size_t n)
{
	for (size_t i = 0; i < a->nsensors; i++)
		if (strlen(a->sensor_names[i]) == n && strncmp(a->sensor_names[i], name, n) == 0)
			return (int)i;
	if (a->nsensors == SM_SENSORS_MAX)
		return -1;
	char *copy = strndup(name, n); /* lives as long as the process */
	if (copy == NULL)
		return -1;
	a->sensor_names[a->nsensors] = copy;
	return (int)a->nsensors++;
}

static int
add_sensor_input(const struct cli_command *cmd, struct cli_args *a, const char *name, size_t n,
                 const char *path)
{
	if (a->ninputs == CLI_MAX_INPUTS)
		return cli_usage_error(cmd, "at most %d captures (give a directory)",
		                       CLI_MAX_INPUTS);
	int k = sensor_index(a, name, n);
	if (k < 0)
		return cli_usage_error(cmd, "at most %d sensors", SM_SENSORS_MAX);
	a->input_sensor[a->ninputs] = (uint8_t)k;
	a->inputs[a->ninputs++] = path;
	return -1;
}

static int
add_input(const struct cli_command *cmd, struct cli_args *a, const char *path)
{
	return add_sensor_input(cmd, a, "default", strlen("default"), path);
}

/* --sensor NAME=CAPTURE (audit) or NAME (live). */
static int
parse_sensor(const struct cli_command *cmd, struct cli_args *a)
{
	const char *eq = strchr(optarg, '=');
	size_t n = eq ? (size_t)(eq - optarg) : strlen(optarg);
	bool ok = n > 0 && n < SM_SENSOR_NAME_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (optarg[i] >= 'a' && optarg[i] <= 'z') ||
		     (optarg[i] >= 'A' && optarg[i] <= 'Z') ||
		     (optarg[i] >= '0' && optarg[i] <= '9') || strchr("._-", optarg[i]) != NULL;
	if (!ok)
		return cli_usage_error(cmd,
		                       "--sensor '%s': a sensor's name is 1 to %d letters, digits, "
		                       "'.', '_' or '-'",
		                       optarg, SM_SENSOR_NAME_MAX - 1);
	if (!cmd->captures) {
		if (eq != NULL)
			return cli_usage_error(cmd,
			                       "--sensor '%s': %s takes only the sensor's name",
			                       optarg, cmd->name);
		if (sensor_index(a, optarg, n) < 0 || a->nsensors > 1)
			return cli_usage_error(cmd, "%s", "--sensor: one sensor per live run");
		return -1;
	}
	if (eq == NULL || eq[1] == '\0')
		return cli_usage_error(cmd,
		                       "--sensor '%s': expected NAME=CAPTURE, as in "
		                       "--sensor site-a=/captures/a/",
		                       optarg);
	return add_sensor_input(cmd, a, optarg, n, eq + 1);
}

/* --pair A B (or A,B): the second address is the next argument. */
static int
parse_pair(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a)
{
	char first[128];
	sm_strlcpy(first, optarg, sizeof(first));
	char *comma = strchr(first, ',');
	const char *second = comma ? comma + 1 : NULL;
	if (comma)
		*comma = '\0';
	else if (optind < argc && argv[optind][0] != '-')
		second = argv[optind++];
	struct sm_addr x, y;
	if (second == NULL || !sm_addr_parse(first, &x) || !sm_addr_parse(second, &y))
		return cli_usage_error(cmd, "%s",
		                       "--pair: expected two addresses, as in "
		                       "--pair 198.18.1.21 198.18.3.5");
	sm_addr_str(&x, a->pair_a, sizeof(a->pair_a));
	sm_addr_str(&y, a->pair_b, sizeof(a->pair_b));
	return -1;
}

/* --format NAME: a format of fmt.c's table that cmd writes; any other is refused here,
 * so no handler renders a format it does not know as another. */
static int
parse_format(const struct cli_command *cmd, struct cli_args *a)
{
	char names[128];
	sm_format_list(cmd->formats, ", ", " or ", names, sizeof(names));
	enum sm_format f;
	if (!sm_parse_format(optarg, &f))
		return cli_usage_error(cmd, "--format '%s': expected %s", optarg, names);
	if (!(cmd->formats & SM_FMT_BIT(f))) {
		char writers[256] = "";
		for (const struct cli_command *c = cli_commands; c->name; c++)
			if (c->formats & SM_FMT_BIT(f)) {
				if (writers[0])
					sm_strlcat(writers, ", ", sizeof(writers));
				sm_strlcat(writers, c->name, sizeof(writers));
			}
		return cli_usage_error(cmd, "--format %s: %s does not write %s; it writes %s%s%s%s",
		                       optarg, cmd->name, optarg, names, writers[0] ? " (" : "",
		                       writers, writers[0] ? " do)" : "");
	}
	a->format = f;
	return -1;
}

/* The options whose argument is not one value in one field; -1 or an exit status. */
static int
parse_special(const struct cli_command *cmd, int id, int argc, char **argv, struct cli_args *a)
{
	static const char *const colors[] = {"auto", "always", "never"};
	switch (id) {
	case 'h':
		cli_print_command_help(stdout, cmd);
		return SM_EXIT_CLEAN;
	case 'r':
		if (!cmd->captures) { /* check -r RULES, as smaudit(1) documents it */
			a->rules = optarg;
			return -1;
		}
		return add_input(cmd, a, optarg);
	case OPT_FORMAT:
		return parse_format(cmd, a);
	case OPT_COLOR:
		for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
			if (strcmp(optarg, colors[i]) == 0) {
				a->color = (enum cli_color)i;
				return -1;
			}
		return cli_usage_error(cmd, "--color '%s': expected auto, always or never", optarg);
	case OPT_PAIR:
		return parse_pair(cmd, argc, argv, a);
	case OPT_SENSOR:
	case OPT_SENSOR_NAME:
		return parse_sensor(cmd, a);
	case OPT_COMBINE_RUN: {
		char *end;
		errno = 0;
		unsigned long long num = strtoull(optarg, &end, 10);
		if (errno || *end || end == optarg || num == 0 || num > INT64_MAX)
			return cli_usage_error(cmd, "--run '%s': expected a run id (1, 2, ...)",
			                       optarg);
		if (a->ncombine == SM_SENSORS_MAX)
			return cli_usage_error(cmd, "at most %d runs are combined", SM_SENSORS_MAX);
		a->combine[a->ncombine++] = num;
		return -1;
	}
	case OPT_FROM:
		if (a->nfrom == CLI_MAX_FROM)
			return cli_usage_error(cmd, "%s", "--from: at most 64 (give a directory)");
		a->from[a->nfrom++] = optarg;
		return -1;
	default:
		return cli_usage_error(cmd, "option %s is not handled", argv[optind - 1]);
	}
}

/* Stores the argument of option o in its field; -1 or the exit status of a usage error. */
static int
store_value(const struct cli_command *cmd, const struct opt_def *o, int argc, char **argv,
            struct cli_args *a)
{
	char *field = (char *)a + o->field;
	char label[40], why[200];
	if (o->id < 256)
		snprintf(label, sizeof(label), "-%c", o->id);
	else
		snprintf(label, sizeof(label), "--%s", o->name);
	switch (o->kind) {
	case KIND_SPECIAL:
		return parse_special(cmd, o->id, argc, argv, a);
	case KIND_FLAG:
		*(bool *)(void *)field = true;
		return -1;
	case KIND_STRING:
		*(const char **)(void *)field = optarg;
		return -1;
	case KIND_U64: {
		uint64_t v;
		if (!cli_parse_u64(optarg, o->max, &v) || v < o->min)
			return cli_usage_error(cmd, "%s '%s': expected %s", label, optarg,
			                       o->expect);
		*(uint64_t *)(void *)field = v;
		return -1;
	}
	case KIND_SECONDS: {
		double v;
		if (!cli_parse_seconds(optarg, &v) || v <= 0)
			return cli_usage_error(cmd, "%s '%s': expected %s", label, optarg,
			                       o->expect);
		*(double *)(void *)field = v;
		return -1;
	}
	case KIND_WHEN:
		if (!cli_parse_when(optarg, (int64_t *)(void *)field, why, sizeof(why)))
			return cli_usage_error(cmd, "%s '%s': %s", label, optarg, why);
		return -1;
	}
	return -1;
}

int
cli_parse(int argc, char **argv, const struct cli_command *cmd, struct cli_args *a)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->alert_after = 5;
	a->checkpoint = 10;
	a->gap = 30;

	struct option longs[MAX_CMD_OPTS + 2];
	/* ':' first: a missing argument is reported here, not by getopt */
	char shorts[2 * MAX_CMD_OPTS + 4] = ":h";
	size_t nl = 0;
	for (size_t i = 0; i < MAX_CMD_OPTS && cmd->opts[i] != 0; i++) {
		const struct opt_def *o = opt_def(cmd->opts[i]);
		longs[nl++] =
		    (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->id};
		if (o->id < 256) {
			char s[3] = {(char)o->id, o->arg ? ':' : '\0', '\0'};
			sm_strlcat(shorts, s, sizeof(shorts));
		}
	}
	longs[nl++] = (struct option){"help", no_argument, NULL, 'h'};
	longs[nl] = (struct option){NULL, 0, NULL, 0};

	int c, rc;
	optind = 1;
	opterr = 0;
	int li = -1;
	while ((c = getopt_long(argc, argv, shorts, longs, &li)) != -1) {
		if (li >= 0) {
			/* getopt_long takes abbreviations ('--from' for '--from-ontap'):
			 * an option is accepted only by its whole name */
			const char *tok = argv[optind - 1];
			if (longs[li].has_arg && optarg == tok && optind >= 2)
				tok = argv[optind - 2];
			size_t n = strcspn(tok + 2, "=");
			if (strncmp(tok, "--", 2) != 0 || strlen(longs[li].name) != n ||
			    strncmp(tok + 2, longs[li].name, n) != 0)
				return unknown_option(cmd, tok);
			li = -1;
		}
		if (c == '?') {
			const char *tok = argv[optind - 1];
			if (optopt != 0 && strncmp(tok, "--", 2) == 0) /* --strict=1 */
				return cli_usage_error(cmd, "option '%.*s' takes no argument",
				                       (int)strcspn(tok, "="), tok);
			char shortopt[3] = {'-', (char)optopt, '\0'};
			return unknown_option(cmd, optopt ? shortopt : tok);
		}
		if (c == ':')
			return cli_usage_error(cmd, "option %s needs an argument",
			                       argv[optind - 1]);
		const struct opt_def *o = opt_def(c);
		if (o == NULL)
			return cli_usage_error(cmd, "option %s is not handled", argv[optind - 1]);
		if ((rc = store_value(cmd, o, argc, argv, a)) >= 0)
			return rc;
		a->given[o - opt_defs] = true;
	}
	for (int i = optind; i < argc; i++) {
		if (cmd->captures) {
			if ((rc = add_input(cmd, a, argv[i])) >= 0)
				return rc;
		} else if (!cmd->operands) {
			return cli_usage_error(cmd, "%s'%s'%s", cmd->stray_before, argv[i],
			                       cmd->stray_after);
		}
	}
	a->operands = argv + optind;
	a->noperands = (size_t)(argc - optind);
	return -1;
}
