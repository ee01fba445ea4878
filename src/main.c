/*
 * smaudit: command line.  Parses argv, wires the modules, maps errors to
 * the exit statuses of docs/exit-status.md.  Nothing else knows about argv.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- the command line: one table of options, one of commands ---- */

struct command;
static int cmd_audit(int argc, char **argv, const struct command *cmd);
static int cmd_live(int argc, char **argv, const struct command *cmd);
static int cmd_check(int argc, char **argv, const struct command *cmd);
static int cmd_report(int argc, char **argv, const struct command *cmd);
static int cmd_query(int argc, char **argv, const struct command *cmd);
static int cmd_timeline(int argc, char **argv, const struct command *cmd);
static int cmd_diff(int argc, char **argv, const struct command *cmd);
static int cmd_extract(int argc, char **argv, const struct command *cmd);
static int cmd_site(int argc, char **argv, const struct command *cmd);

enum opt_id {
	OPT_FORMAT = 256,
	OPT_RULES,
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
	OPT_STRICT,
	OPT_PAIR,
	OPT_GAP,
	OPT_FINDING,
	OPT_SESSION,
	OPT_FROM,
	OPT_FROM_ONTAP,
	OPT_GUESS,
	OPT_LIST,
	OPT_COLOR,
	OPT_WINDOW_FROM,
	OPT_WINDOW_UNTIL,
};

/* One option: its names, its argument and what it does (shown by COMMAND --help). */
struct opt_def {
	int id; /* the short letter, or an OPT_ value */
	const char *name;
	const char *arg; /* NULL: takes no argument */
	const char *help;
};

static const struct opt_def opt_defs[] = {
    {'s', "site", "FILE", "who is who: 'role NAME ADDR|CIDR...' lines (required)"},
    {OPT_RULES, "rules", "FILE", "policy to use instead of the built-in rules/sm-as.rules"},
    {'r', "read", "CAPTURE",
     "read this pcap/pcapng file (or .gz, .zst, .lz4: known by content)\n"
     "or directory ('-' = stdin); may be given more than once, bare\n"
     "arguments are captures too"},
    {'d', "db", "DB",
     "the SQLite database file (audit, live: the run is appended; without\n"
     "-d it is kept in memory)"},
    {'f', "filter", "BPF",
     "only packets matching this tcpdump filter; expected flows it\n"
     "excludes get the verdict 'filtered', never 'missing'"},
    {'o', "output", "FILE", "write there instead of stdout (written whole, then renamed)"},
    {OPT_FORMAT, "format", "FMT",
     "text (default), json (its fields: docs/json.md), csv or html\n"
     "(one self-contained page)"},
    {OPT_COLOR, "color", "WHEN",
     "colour the text report: auto (default: only on a terminal, not\n"
     "with NO_COLOR set), always or never"},
    {OPT_STRICT, "strict", NULL,
     "an intermittent failure (some attempts of a working flow\n"
     "failed) is a finding too: exit status 1"},
    {'q', "quiet", NULL, "no progress line (on a terminal: file k/n, %, rate, time left)"},
    {OPT_MAX_SESSIONS, "max-sessions", "N", "bound of the session table (default 262144)"},
    {OPT_TCP_TIMEOUT, "tcp-timeout", "SEC", "idle timeout of open TCP sessions (default 3600)"},
    {OPT_UDP_TIMEOUT, "udp-timeout", "SEC", "idle timeout of UDP and ICMP sessions (default 60)"},
    {OPT_NO_PAYLOAD, "no-payload", NULL,
     "skip stream reassembly and protocol checks (faster; no\n"
     "protocol-mismatch findings, no capture-loss count)"},
    {'i', "interface", "IFACE", "where to capture ('any' = every interface)"},
    {OPT_DURATION, "duration", "SEC", "end the run after SEC seconds (default: until Ctrl-C)"},
    {OPT_SNAPLEN, "snaplen", "BYTES", "bytes kept per packet (default 262144)"},
    {OPT_BUFFER, "buffer", "MB", "kernel capture buffer (default 128); raise it if drops appear"},
    {OPT_IMMEDIATE, "immediate", NULL, "hand over each packet at once (more CPU, less latency)"},
    {OPT_NO_PROMISC, "no-promisc", NULL, "do not put the interface in promiscuous mode"},
    {OPT_ALERT_AFTER, "alert-after", "SEC", "log an expected SYN unanswered this long (default 5)"},
    {OPT_CHECKPOINT, "checkpoint", "SEC",
     "write open sessions to the database this often\n"
     "(default 10): a killed run loses at most that much"},
    {OPT_REPORT_EVERY, "report-every", "SEC", "rewrite the -o report this often while running"},
    {OPT_JSON_LINES, "json-lines", NULL,
     "print each finding as one JSON line on stdout (for a\n"
     "SIEM); the report then goes only to -o"},
    {'Z', "user", "USER",
     "parse packets as USER once the interface and files are open\n"
     "(default as root: $SUDO_USER, else tcpdump, else nobody;\n"
     "'root' keeps root); every capability is dropped and a\n"
     "seccomp filter confines parsing in any case"},
    {OPT_CHROOT, "chroot", "DIR", "also change root to DIR after opening everything"},
    {'w', "ring-dir", "DIR", "keep the raw packets in rotating pcap files in DIR"},
    {OPT_RING_SIZE, "ring-size", "MB", "size of one ring file (default 100)"},
    {OPT_RING_FILES, "ring-files", "N", "ring files kept (default 10; the oldest is deleted)"},
    {OPT_RUN, "run", "ID", "the run to use (default: the latest)"},
    {OPT_LIST, "list", NULL,
     "list the stored runs instead (id, mode, status, time, counts,\n"
     "sources), oldest first; --format text or json"},
    {OPT_HOST, "host", "ADDR", "sessions from or to this address"},
    {OPT_PORT, "port", "N", "sessions to or from this port"},
    {OPT_SINCE, "since", "TIME",
     "sessions active at or after TIME: ISO 8601 with a zone\n"
     "(2026-12-02T04:17:00Z, 2026-12-02T05:17:00+01:00, fractions of\n"
     "a second; a space for the T, as reports print it) or UNIX seconds"},
    {OPT_UNTIL, "until", "TIME", "sessions active at or before TIME (as --since)"},
    {'c', "count", "N", "stop after N packets (as tcpdump -c); the report says so"},
    {OPT_WINDOW_FROM, "from", "TIME",
     "only packets at or after TIME: ISO 8601 with a zone, as in\n"
     "2026-12-02T05:17:00.5+01:00 or ...04:17:00Z, or UNIX seconds;\n"
     "packets outside count for nothing, the report shows the window"},
    {OPT_WINDOW_UNTIL, "until", "TIME", "only packets at or before TIME (as --from)"},
    {OPT_CLASS, "class", "C", "expected, optional, allowed, unexpected or unmonitored"},
    {OPT_LIMIT, "limit", "N", "at most N sessions"},
    {OPT_PAIR, "pair", "A B", "only the flows between addresses A and B (either way)"},
    {OPT_GAP, "gap", "SEC", "the shortest silence reported (default 30; e.g. 2.5)"},
    {OPT_FINDING, "finding", "N", "the packets behind finding N (the id in the report)"},
    {OPT_SESSION, "session", "N", "the packets of session N (the id from smaudit query)"},
    {OPT_FROM, "from", "CAPTURE|DIR", "where the run's capture files are now, if they moved"},
    {OPT_FROM_ONTAP, "from-ontap", NULL, "FILE... are ONTAP command output"},
    {OPT_GUESS, "guess", NULL, "FILE... are captures: propose roles from SM-as traffic"},
    {'h', "help", NULL, "this help"},
};

#define N_OPT_DEFS   (sizeof(opt_defs) / sizeof(opt_defs[0]))
#define MAX_CMD_OPTS 40

struct command {
	const char *name;
	int (*run)(int argc, char **argv, const struct command *cmd);
	const char *synopsis; /* after "smaudit NAME " */
	const char *summary;
	int opts[MAX_CMD_OPTS]; /* the options it takes (0 ends the list; -h is implied) */
	const char *examples;
	bool captures; /* takes captures: -r FILE and bare arguments */
};

static const struct command commands[] = {
    {"audit",
     cmd_audit,
     "-s SITE [--rules RULES] [-d DB] [-f BPF] [--strict] [--format FMT] [-o OUT] "
     "[-r] CAPTURE|DIR...",
     "Reads pcap/pcapng files, plain or compressed with gzip, zstd or lz4 (a directory =\n"
     "every capture in it; - = stdin) as one timeline, classifies every session against\n"
     "the policy, stores the run and prints the report: expected flows missing,\n"
     "unanswered or rejected, unexpected traffic on the intercluster LIFs, protocol\n"
     "mismatches.",
     {'s', OPT_RULES, 'r', 'd', 'f', OPT_STRICT, OPT_FORMAT, OPT_COLOR, 'o', 'q', 'c',
      OPT_WINDOW_FROM, OPT_WINDOW_UNTIL, OPT_MAX_SESSIONS, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT,
      OPT_NO_PAYLOAD},
     "  smaudit audit -s site.conf -r span.pcapng\n"
     "  smaudit audit -s site.conf -r span.pcap.gz --from 2026-12-02T04:17:00Z "
     "--until 2026-12-02T05:17:00+01:00\n"
     "  smaudit audit -s site.conf -d incident.db /captures/span-*.pcapng\n"
     "  smaudit audit -s site.conf -f 'vlan 20' --format json -o run.json -r span.pcap\n"
     "  smaudit audit -s site.conf --rules my-sm-as.rules --strict /captures/\n",
     true},
    {"live",
     cmd_live,
     "-s SITE [--rules RULES] -i IFACE [-d DB] [-f BPF] [--duration SEC] [-Z USER] ...",
     "Audits a span/mirror port or interface as traffic passes; problems are logged as\n"
     "they show, the report is printed when the run ends (Ctrl-C, SIGTERM or --duration).",
     {'s',
      OPT_RULES,
      'i',
      'd',
      'f',
      OPT_STRICT,
      OPT_FORMAT,
      'o',
      'q',
      OPT_DURATION,
      OPT_SNAPLEN,
      OPT_BUFFER,
      OPT_IMMEDIATE,
      OPT_NO_PROMISC,
      OPT_ALERT_AFTER,
      OPT_CHECKPOINT,
      OPT_REPORT_EVERY,
      OPT_JSON_LINES,
      'Z',
      OPT_CHROOT,
      'w',
      OPT_RING_SIZE,
      OPT_RING_FILES,
      OPT_MAX_SESSIONS,
      OPT_TCP_TIMEOUT,
      OPT_UDP_TIMEOUT,
      OPT_NO_PAYLOAD},
     "  smaudit live -s site.conf -i eth1 -d span.db --duration 600\n"
     "  smaudit live -s site.conf -i eth1 -d span.db -w /var/tmp/smaudit-ring "
     "--report-every 60 -o live.txt\n",
     false},
    {"check",
     cmd_check,
     "-s SITE [--rules RULES]",
     "Validates the site and rules files and prints every flow the site must show.",
     {'s', OPT_RULES, 'r'},
     "  smaudit check -s site.conf\n"
     "  smaudit check -s site.conf --rules my-sm-as.rules\n",
     false},
    {"report",
     cmd_report,
     "-d DB [--run ID] [--format FMT] [--color WHEN] [-o OUT]",
     "Renders a stored run again (default: the latest), with the same exit status;\n"
     "--list lists the runs of the database.",
     {'d', OPT_RUN, OPT_LIST, OPT_FORMAT, OPT_COLOR, 'o'},
     "  smaudit report -d incident.db --list\n"
     "  smaudit report -d incident.db\n"
     "  smaudit report -d incident.db --run 2 --format html -o incident.html\n",
     false},
    {"query",
     cmd_query,
     "-d DB [--run ID] [--host ADDR] [--port N] [--since TIME] [--until TIME] [--class C] "
     "[--format text|json|csv]",
     "Lists stored sessions.",
     {'d', OPT_RUN, OPT_HOST, OPT_PORT, OPT_SINCE, OPT_UNTIL, OPT_CLASS, OPT_FORMAT, OPT_LIMIT},
     "  smaudit query -d incident.db --host 10.10.1.11 --port 11104\n"
     "  smaudit query -d incident.db --class unexpected --format csv\n"
     "  smaudit query -d incident.db --since '2026-12-02 04:17:00Z' --format json\n",
     false},
    {"timeline",
     cmd_timeline,
     "-d DB [--run ID] [--pair A B] [--port P] [--gap SEC] [--format text|json]",
     "Activity of each flow in 60 time buckets and every silence of SEC seconds or more\n"
     "with the attempts that failed in it; without --pair or --port, the flows the policy\n"
     "expects (exit 1 when a silence is found).",
     {'d', OPT_RUN, OPT_PAIR, OPT_PORT, OPT_GAP, OPT_FORMAT, 'o'},
     "  smaudit timeline -d incident.db --pair 10.10.0.21 10.30.0.5 --gap 60\n"
     "  smaudit timeline -d incident.db --port 31784 --gap 3\n",
     false},
    {"diff",
     cmd_diff,
     "-d DB RUN_A RUN_B [--format text|json]",
     "Verdicts that changed, flows now failing or answered, flows that appeared or\n"
     "disappeared between two runs, e.g. before and after a change window (exit 1 when\n"
     "they differ).",
     {'d', OPT_FORMAT, 'o'},
     "  smaudit diff -d incident.db 1 2\n",
     false},
    {"extract",
     cmd_extract,
     "-d DB --finding N | --session N -o FILE [--from CAPTURE|DIR]...",
     "Writes the packets behind a finding or session (and ICMP errors about them) from the\n"
     "run's capture files to a pcap file, prints its SHA-256 and records it in the\n"
     "database's evidence table.",
     {'d', OPT_FINDING, OPT_SESSION, 'o', OPT_FROM},
     "  smaudit extract -d incident.db --finding 3 -o finding3.pcap\n"
     "  smaudit extract -d incident.db --session 812 -o s.pcap --from /archive/caps/\n",
     false},
    {"site",
     cmd_site,
     "--from-ontap FILE... | --guess CAPTURE... [-o SITE]",
     "Makes a site file: from the text of 'network interface show -fields\n"
     "address,role,service-policy,vserver' (table or -instance) and 'snapmirror mediator\n"
     "show' of both clusters, or proposed from traffic (who talks 11104/11105/3260/31784\n"
     "to whom): review it before use.",
     {OPT_FROM_ONTAP, OPT_GUESS, 'o'},
     "  smaudit site --from-ontap cluster-a.txt cluster-b.txt -o site.conf\n"
     "  smaudit site --guess span.pcapng\n",
     false},
    {NULL, NULL, NULL, NULL, {0}, NULL, false},
};

static const struct opt_def *
opt_def(int id)
{
	for (size_t i = 0; i < N_OPT_DEFS; i++)
		if (opt_defs[i].id == id)
			return &opt_defs[i];
	return NULL;
}

static bool
command_takes(const struct command *cmd, int id)
{
	if (id == 'h')
		return true;
	for (size_t i = 0; i < MAX_CMD_OPTS && cmd->opts[i] != 0; i++)
		if (cmd->opts[i] == id)
			return true;
	return false;
}

static const char exit_text[] =
    "exit status: 0 no finding, 1 findings, 2 usage or configuration error,\n"
    "             3 runtime error (capture or database, or no site address in the capture)\n";

static void
print_command_help(FILE *out, const struct command *cmd)
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
		const char *help = o->help;
		if (o->id == 'r' && !cmd->captures)
			help = "the same as --rules (check reads no capture)";
		if (o->id == OPT_FORMAT && strcmp(cmd->name, "query") == 0)
			help = "text (default), json (one document) or csv";
		fprintf(out, "  %-24s ", names);
		for (const char *p = help; *p; p++) {
			fputc(*p, out);
			if (*p == '\n')
				fprintf(out, "  %-24s ", "");
		}
		fputc('\n', out);
	}
	fprintf(out, "  %-24s %s\n\nexamples:\n%s\n%s", "-h, --help", "this help", cmd->examples,
	        exit_text);
}

static void
print_overview(FILE *out)
{
	fputs("usage: smaudit COMMAND [options]\n"
	      "\n"
	      "Audits network traffic against the port policy of NetApp SnapMirror active sync:\n"
	      "which expected flows are missing, unanswered or rejected, and what else talks to\n"
	      "the intercluster LIFs.\n\ncommands:\n",
	      out);
	for (const struct command *c = commands; c->name; c++)
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

static int __attribute__((format(printf, 2, 3)))
usage_error(const struct command *cmd, const char *fmt, ...)
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
 * short one or '-', and the argument's first word or '-' (FILE, DIR, FMT, ...).  Not
 * in --help: it is for scripts, and these tables are its only source. */
static int
print_completion(const char *name)
{
	if (name == NULL) {
		for (const struct command *c = commands; c->name; c++)
			printf("%s\n", c->name);
		return SM_EXIT_CLEAN;
	}
	for (const struct command *c = commands; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		for (size_t i = 0; i < MAX_CMD_OPTS && c->opts[i] != 0; i++) {
			const struct opt_def *o = opt_def(c->opts[i]);
			const char *arg = o->arg;
			if (o->id == 'r' && !c->captures)
				arg = "FILE"; /* check -r RULES */
			char shortname[3] = {'-', o->id < 256 ? (char)o->id : '\0', '\0'};
			printf("--%s %s %.*s\n", o->name, shortname,
			       arg ? (int)strcspn(arg, " ") : 1, arg ? arg : "-");
		}
		printf("--help -h -\n");
		return SM_EXIT_CLEAN;
	}
	return usage_error(NULL, "--complete: unknown command '%s'", name);
}

static int
fail(enum sm_err e, const struct sm_errbuf *eb)
{
	fprintf(stderr, "smaudit: %s\n", eb->msg[0] ? eb->msg : sm_strerror(e));
	return sm_exit_status(e);
}

#define MAX_INPUTS 4096

struct args {
	const struct command *cmd;
	const char *site, *rules, *db, *bpf, *output, *host, *class_name;
	enum sm_format format;
	int64_t run;
	int port;
	double since, until;
	uint64_t count;           /* audit -c */
	bool has_from, has_until; /* audit --from/--until */
	int64_t from_ns, until_ns;
	uint64_t max_sessions, tcp_timeout, udp_timeout, limit;
	bool quiet, strict;
	/* captures: -r FILE and the bare arguments */
	const char *inputs[MAX_INPUTS];
	size_t ninputs;
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
	enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color;
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

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil): no timegm(), no TZ. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n decimal digits at *p into *out, advancing *p; false if they are not there. */
static bool
take_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* ".123456789" at *p (or ",": ISO 8601 allows both) as nanoseconds; 0 without. */
static bool
take_fraction(const char **p, int64_t *ns)
{
	*ns = 0;
	if (**p != '.' && **p != ',')
		return true;
	(*p)++;
	int64_t scale = 100000000;
	int n = 0;
	for (; **p >= '0' && **p <= '9'; (*p)++, n++)
		if (n < 9) {
			*ns += (**p - '0') * scale;
			scale /= 10;
		}
	return n > 0;
}

#define WHEN_FORMS                                                                                 \
	"ISO 8601 with a zone such as 2026-12-02T04:17:00Z or 2026-12-02T05:17:00+01:00, or "      \
	"UNIX seconds"

/*
 * A point in time as people write it: UNIX seconds (1796170849, 1796170849.25) or
 * ISO 8601 with a zone: 2026-12-02T04:17:00Z, 2026-12-02T05:17:00+01:00 (+0100, +01),
 * seconds optional, fractions of a second, a space for the T as the reports print
 * times.  UNIX nanoseconds into *ns; false with the reason in why.  Own code, as
 * glibc's strptime neither reads fractions nor applies a %z offset to the time it
 * returns, and its errors do not say which field is wrong.
 */
static bool
parse_when(const char *s, int64_t *ns, char *why, size_t whylen)
{
	const char *p = s;
	int year, mon, day, hour, min, sec = 0, oh = 0, om = 0;
	int64_t frac;
	size_t lead = strspn(s, "0123456789");
	if (lead != 4 || s[4] != '-') { /* UNIX seconds */
		p += lead;
		if (lead == 0 || lead > 11 || !take_fraction(&p, &frac) || *p != '\0') {
			snprintf(why, whylen, "expected %s", WHEN_FORMS);
			return false;
		}
		*ns = strtoll(s, NULL, 10) * 1000000000 + frac;
		return true;
	}
	if (!take_digits(&p, 4, &year) || *p++ != '-' || !take_digits(&p, 2, &mon) || *p++ != '-' ||
	    !take_digits(&p, 2, &day)) {
		snprintf(why, whylen, "expected a date as YYYY-MM-DD (%s)", WHEN_FORMS);
		return false;
	}
	if (*p != 'T' && *p != 't' && *p != ' ') {
		snprintf(why, whylen, "expected a time after the date, as in %.10sT04:17:00Z", s);
		return false;
	}
	p++;
	if (!take_digits(&p, 2, &hour) || *p++ != ':' || !take_digits(&p, 2, &min) ||
	    (*p == ':' && (p++, !take_digits(&p, 2, &sec))) || !take_fraction(&p, &frac)) {
		snprintf(why, whylen, "expected the time as HH:MM[:SS[.fraction]] (%s)",
		         WHEN_FORMS);
		return false;
	}
	int sign = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		bool ok = take_digits(&p, 2, &oh);
		if (ok && *p == ':')
			p++;
		if (!ok || (*p != '\0' && !take_digits(&p, 2, &om))) {
			snprintf(why, whylen, "expected the zone offset as +HH:MM, +HHMM or +HH");
			return false;
		}
	} else if (*p == '\0') {
		snprintf(why, whylen,
		         "no time zone: add Z for UTC or the offset of the local time, as in "
		         "%s+01:00",
		         s);
		return false;
	}
	if (*p != '\0') {
		snprintf(why, whylen, "unexpected '%s' at the end (%s)", p, WHEN_FORMS);
		return false;
	}
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	const char *bad = mon < 1 || mon > 12 ? "month"
	                  : day < 1 || day > mdays[mon - 1] || (mon == 2 && day == 29 && !leap)
	                      ? "day"
	                  : hour > 23          ? "hour"
	                  : min > 59           ? "minute"
	                  : sec > 60           ? "second"
	                  : oh > 23 || om > 59 ? "zone offset"
	                                       : NULL;
	if (bad != NULL) {
		snprintf(why, whylen, "%s out of range", bad);
		return false;
	}
	int64_t t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec -
	            sign * (oh * 3600 + om * 60);
	if (t < 0) {
		snprintf(why, whylen, "before 1970 (UNIX time 0)");
		return false;
	}
	*ns = t * 1000000000 + frac;
	return true;
}

/* The commands that take option name; for the message about one that does not apply. */
static void
commands_taking(int id, char *buf, size_t len)
{
	buf[0] = '\0';
	for (const struct command *c = commands; c->name; c++)
		if (command_takes(c, id) && id != 'h') {
			if (buf[0])
				sm_strlcat(buf, ", ", len);
			sm_strlcat(buf, c->name, len);
		}
}

/* An option the command does not take: name it, and the commands that do. */
static int
unknown_option(const struct command *cmd, const char *arg)
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
		return usage_error(cmd, "option %s does not apply to '%s' (it is an option of: %s)",
		                   arg, cmd->name, users);
	return usage_error(cmd, "unknown option '%s'", arg);
}

/* Parses the options of cmd; returns -1 on success or an exit status. */
static int
parse_args(int argc, char **argv, const struct command *cmd, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->port = -1;
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

	int c;
	uint64_t v;
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
		const struct opt_def *od = opt_def(c);
		const char *name = od ? od->name : "?";
		switch (c) {
		case '?': {
			const char *tok = argv[optind - 1];
			if (optopt != 0 && strncmp(tok, "--", 2) == 0) /* --strict=1 */
				return usage_error(cmd, "option '%.*s' takes no argument",
				                   (int)strcspn(tok, "="), tok);
			char shortopt[3] = {'-', (char)optopt, '\0'};
			return unknown_option(cmd, optopt ? shortopt : tok);
		}
		case ':':
			return usage_error(cmd, "option %s needs an argument", argv[optind - 1]);
		case 'h':
			print_command_help(stdout, cmd);
			return SM_EXIT_CLEAN;
		case 's':
			a->site = optarg;
			break;
		case OPT_RULES:
			a->rules = optarg;
			break;
		case 'r':
			if (!cmd->captures) { /* check -r RULES, as smaudit(1) documents it */
				a->rules = optarg;
				break;
			}
			if (a->ninputs == MAX_INPUTS)
				return usage_error(cmd, "at most %d captures (give a directory)",
				                   MAX_INPUTS);
			a->inputs[a->ninputs++] = optarg;
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
		case OPT_STRICT:
			a->strict = true;
			break;
		case OPT_FORMAT:
			if (!sm_parse_format(optarg, &a->format))
				return usage_error(
				    cmd, "--format '%s': expected text, json, csv or html", optarg);
			break;
		case OPT_RUN:
			if (!parse_u64(optarg, INT64_MAX, &v) || v == 0)
				return usage_error(cmd, "--run '%s': expected a run id (1, 2, ...)",
				                   optarg);
			a->run = (int64_t)v;
			break;
		case OPT_HOST:
			a->host = optarg;
			break;
		case OPT_PORT:
			if (!parse_u64(optarg, 65535, &v))
				return usage_error(cmd, "--port '%s': expected 0-65535", optarg);
			a->port = (int)v;
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
		case OPT_WINDOW_FROM:
		case OPT_WINDOW_UNTIL: {
			char why[200];
			int64_t ns;
			if (!parse_when(optarg, &ns, why, sizeof(why)))
				return usage_error(cmd, "--%s '%s': %s", name, optarg, why);
			if (c == OPT_SINCE || c == OPT_UNTIL)
				*(c == OPT_SINCE ? &a->since : &a->until) = (double)ns / 1e9;
			else if (c == OPT_WINDOW_FROM)
				a->has_from = true, a->from_ns = ns;
			else
				a->has_until = true, a->until_ns = ns;
			break;
		}
		case 'c':
			if (!parse_u64(optarg, UINT64_MAX, &a->count) || a->count == 0)
				return usage_error(
				    cmd, "-c '%s': expected a number of packets (1, 2, ...)",
				    optarg);
			break;
		case OPT_CLASS:
			a->class_name = optarg;
			break;
		case OPT_MAX_SESSIONS:
			if (!parse_u64(optarg, 50000000, &a->max_sessions) || a->max_sessions == 0)
				return usage_error(cmd, "--max-sessions '%s': expected 1-50000000",
				                   optarg);
			break;
		case OPT_TCP_TIMEOUT:
		case OPT_UDP_TIMEOUT:
			if (!parse_u64(optarg, 86400 * 30, &v) || v == 0)
				return usage_error(cmd, "--%s '%s': expected seconds", name,
				                   optarg);
			*(c == OPT_TCP_TIMEOUT ? &a->tcp_timeout : &a->udp_timeout) = v;
			break;
		case OPT_LIMIT:
			if (!parse_u64(optarg, UINT32_MAX, &a->limit))
				return usage_error(cmd, "--limit '%s': expected a number", optarg);
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
				return usage_error(cmd, "--duration '%s': expected seconds",
				                   optarg);
			break;
		case OPT_SNAPLEN:
			if (!parse_u64(optarg, 262144, &a->snaplen) || a->snaplen < 64)
				return usage_error(cmd, "--snaplen '%s': expected 64-262144",
				                   optarg);
			break;
		case OPT_BUFFER:
			if (!parse_u64(optarg, 2047, &a->buffer_mb) || a->buffer_mb == 0)
				return usage_error(cmd, "--buffer '%s': expected 1-2047 MB",
				                   optarg);
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
				return usage_error(cmd, "%s",
				                   "--pair: expected two addresses, as in "
				                   "--pair 198.18.1.21 198.18.3.5");
			sm_addr_str(&x, a->pair_a, sizeof(a->pair_a));
			sm_addr_str(&y, a->pair_b, sizeof(a->pair_b));
			break;
		}
		case OPT_GAP:
			if (!parse_time(optarg, &a->gap) || a->gap <= 0)
				return usage_error(
				    cmd, "--gap '%s': expected seconds (e.g. 30 or 2.5)", optarg);
			break;
		case OPT_FINDING:
		case OPT_SESSION:
			if (!parse_u64(optarg, INT64_MAX, &v) || v == 0)
				return usage_error(cmd, "--%s '%s': expected an id (1, 2, ...)",
				                   name, optarg);
			*(c == OPT_FINDING ? &a->finding : &a->session) = (int64_t)v;
			break;
		case OPT_FROM:
			if (a->nfrom == sizeof(a->from) / sizeof(a->from[0]))
				return usage_error(cmd, "%s",
				                   "--from: at most 64 (give a directory)");
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
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0)
				a->color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				a->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				a->color = COLOR_NEVER;
			else
				return usage_error(
				    cmd, "--color '%s': expected auto, always or never", optarg);
			break;
		case OPT_ALERT_AFTER:
			if (!parse_u64(optarg, 86400, &a->alert_after) || a->alert_after == 0)
				return usage_error(cmd, "--alert-after '%s': expected seconds",
				                   optarg);
			break;
		case OPT_CHECKPOINT:
			if (!parse_u64(optarg, 86400, &a->checkpoint) || a->checkpoint == 0)
				return usage_error(cmd, "--checkpoint '%s': expected seconds",
				                   optarg);
			break;
		case OPT_REPORT_EVERY:
			if (!parse_u64(optarg, 86400 * 30, &a->report_every) || !a->report_every)
				return usage_error(cmd, "--report-every '%s': expected seconds",
				                   optarg);
			break;
		case OPT_RING_SIZE:
			if (!parse_u64(optarg, 1u << 20, &a->ring_mb) || a->ring_mb == 0)
				return usage_error(cmd, "--ring-size '%s': expected MB", optarg);
			break;
		case OPT_RING_FILES:
			if (!parse_u64(optarg, 100000, &a->ring_files) || a->ring_files == 0)
				return usage_error(cmd, "--ring-files '%s': expected a count",
				                   optarg);
			break;
		default:
			return usage_error(cmd, "option %s is not handled", argv[optind - 1]);
		}
	}
	if (cmd->captures)
		for (int i = optind; i < argc; i++) {
			if (a->ninputs == MAX_INPUTS)
				return usage_error(cmd, "at most %d captures (give a directory)",
				                   MAX_INPUTS);
			a->inputs[a->ninputs++] = argv[i];
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
		return usage_error(a->cmd, "%s",
		                   "-s SITE is required: the file that says which "
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
	e = sm_rules_check_site(rules, site, print_warning, NULL, &eb);
	if (e != SM_OK) {
		sm_site_free(site);
		sm_rules_free(rules);
		return fail(e, &eb);
	}
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

/* Where a report goes: stdout, or -o FILE written as FILE.tmp.PID and renamed at the end. */
struct report_out {
	FILE *f;
	char tmp[4096];
};

/* Opens the report destination (before any packet is read); -1 or an exit status. */
static int
report_out_open(const struct args *a, struct report_out *ro)
{
	ro->f = open_output(a->output, ro->tmp, sizeof(ro->tmp));
	if (ro->f != NULL)
		return -1;
	fprintf(stderr, "smaudit: %s: cannot write the report: %s\n", a->output, strerror(errno));
	return SM_EXIT_RUNTIME;
}

/* Colour only for people: on a terminal, unless NO_COLOR is set (https://no-color.org),
 * or when asked for with --color=always (e.g. for less -R). */
static bool
want_color(const struct args *a, FILE *out)
{
	if (a->color != COLOR_AUTO)
		return a->color == COLOR_ALWAYS;
	const char *term = getenv("TERM");
	return out == stdout && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	       !(term != NULL && strcmp(term, "dumb") == 0);
}

/* Renders run into ro and closes it (the file is kept only when all went well). */
static int
render(struct sm_store *st, int64_t run, const struct args *a, struct report_out *ro)
{
	struct sm_errbuf eb = {""};
	struct sm_report_summary sum;
	struct sm_report_style style = {a->db, want_color(a, ro->f), NULL};
	enum sm_err e = sm_report_check_site_seen(st, run, &eb);
	if (e == SM_OK)
		e = sm_report_render(st, run, a->format, &style, ro->f, &sum, &eb);
	if (close_output(ro->f, a->output, ro->tmp, e == SM_OK) != 0 && e == SM_OK)
		e = sm_error(&eb, SM_ERR_IO, "%s: cannot write the report: %s",
		             a->output ? a->output : "stdout", strerror(errno));
	ro->f = NULL;
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
	po->filter = a->bpf;
	po->strict = a->strict;
	po->has_from = a->has_from;
	po->has_until = a->has_until;
	po->from_ns = a->from_ns;
	po->until_ns = a->until_ns;
}

/* A capture named on the command line that is a rules or site file (given with -r,
 * as the rules were before -r meant a capture) is a usage error, not a capture
 * skipped with a warning while the built-in rules decide. */
static int
refuse_config_inputs(const struct command *cmd, const struct args *a)
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
			return usage_error(
			    cmd,
			    "%s is a rules or site file, not a capture (rules are given "
			    "with --rules FILE, the site with -s FILE)",
			    a->inputs[i]);
	}
	return -1;
}

static int
cmd_audit(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (a.ninputs == 0)
		return usage_error(
		    cmd, "%s", "audit needs at least one capture: -r FILE, a file or a directory");
	if (a.has_from && a.has_until && a.from_ns > a.until_ns)
		return usage_error(cmd, "%s", "--from is after --until: the window holds no time");
	if ((rc = refuse_config_inputs(cmd, &a)) >= 0)
		return rc;
	struct sm_site site;
	struct sm_rules rules;
	if ((rc = load_config(&a, &site, &rules)) >= 0)
		return rc;
	struct report_out ro;
	if ((rc = report_out_open(&a, &ro)) >= 0) {
		sm_rules_free(&rules);
		sm_site_free(&site);
		return rc;
	}
	catch_stop_signals();

	struct sm_audit_opts o;
	memset(&o, 0, sizeof(o));
	o.inputs = a.inputs;
	o.ninputs = a.ninputs;
	o.bpf = a.bpf;
	pipeline_opts(&a, &rules, &site, &o.pipeline);
	o.progress = !a.quiet && isatty(STDERR_FILENO);
	o.count = a.count;
	o.stop = &stop_requested;
	o.warn = print_warning;

	struct sm_errbuf eb = {""};
	struct sm_store *st = NULL;
	int64_t run = 0;
	enum sm_err e = sm_audit_run(&o, &st, &run, &eb);
	if (e != SM_OK) {
		close_output(ro.f, a.output, ro.tmp, false);
		rc = fail(e, &eb);
	} else {
		if (stop_requested)
			fprintf(stderr,
			        "smaudit: interrupted: run %lld stored with what was read\n",
			        (long long)run);
		rc = render(st, run, &a, &ro);
	}
	sm_store_close(st);
	sm_rules_free(&rules);
	sm_site_free(&site);
	return rc;
}

static int
cmd_live(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error(cmd,
		                   "live reads an interface (-i), not files ('%s'); use 'smaudit "
		                   "audit' for captures",
		                   argv[optind]);
	if (a.iface == NULL)
		return usage_error(cmd, "%s",
		                   "live needs -i IFACE (e.g. the span port; 'any' for all)");
	if (a.report_every && (a.output == NULL || strcmp(a.output, "-") == 0))
		return usage_error(cmd, "%s", "--report-every needs -o FILE to rewrite");
	if (a.chroot_dir != NULL) { /* checked before anything is opened or stored */
		struct stat sb;
		const char *why = stat(a.chroot_dir, &sb) != 0 ? strerror(errno)
		                  : !S_ISDIR(sb.st_mode)       ? "not a directory"
		                                               : NULL;
		if (why != NULL) {
			fprintf(stderr, "smaudit: --chroot %s: %s\n", a.chroot_dir, why);
			return SM_EXIT_RUNTIME;
		}
	}
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
cmd_check(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error(cmd, "check takes no capture ('%s')", argv[optind]);
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
		return usage_error(a->cmd, "%s",
		                   "-d DB is required: the database written by "
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

static int
finish_output(const struct args *a, FILE *out, const char *tmp, enum sm_err e, struct sm_errbuf *eb)
{
	if (close_output(out, a->output, tmp, e == SM_OK) != 0 && e == SM_OK)
		e = sm_error(eb, SM_ERR_IO, "%s: cannot write: %s",
		             a->output ? a->output : "stdout", strerror(errno));
	return e == SM_OK ? -1 : fail(e, eb);
}

/* report --list: every run, one a line (or a JSON array). */
static int
list_runs(struct sm_store *st, const struct args *a)
{
	struct report_out ro;
	int rc = report_out_open(a, &ro);
	if (rc >= 0)
		return rc;
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_report_list(st, a->format, ro.f, &eb);
	rc = finish_output(a, ro.f, ro.tmp, e, &eb);
	return rc >= 0 ? rc : SM_EXIT_CLEAN;
}

static int
cmd_report(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error(cmd, "report: unexpected argument '%s' (a run is --run ID)",
		                   argv[optind]);
	if (a.list && (a.run != 0 || (a.format != FMT_TEXT && a.format != FMT_JSON)))
		return usage_error(cmd, "%s", "--list takes no --run and --format text or json");
	struct sm_store *st;
	int64_t run;
	if ((rc = open_db(&a, &st, &run)) >= 0)
		return rc;
	if (a.list) {
		rc = list_runs(st, &a);
	} else {
		struct report_out ro;
		if ((rc = report_out_open(&a, &ro)) < 0)
			rc = render(st, run, &a, &ro);
	}
	sm_store_close(st);
	return rc;
}

static int
cmd_query(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error(
		    cmd, "query: unexpected argument '%s' (filters are --host, --port, ...)",
		    argv[optind]);
	if (a.format == FMT_HTML)
		return usage_error(cmd, "%s",
		                   "query writes text, json or csv (--format text|json|csv); the "
		                   "HTML page is 'smaudit report --format html'");
	if (a.class_name != NULL && strcmp(a.class_name, "expected") &&
	    strcmp(a.class_name, "optional") && strcmp(a.class_name, "allowed") &&
	    strcmp(a.class_name, "unexpected") && strcmp(a.class_name, "unmonitored"))
		return usage_error(cmd,
		                   "--class '%s': expected expected, optional, allowed, "
		                   "unexpected or unmonitored",
		                   a.class_name);
	struct sm_addr tmp;
	if (a.host != NULL && !sm_addr_parse(a.host, &tmp))
		return usage_error(cmd, "--host '%s': expected an IPv4 or IPv6 address", a.host);
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
	struct sm_session_list list = {.out = stdout, .format = a.format, .run_id = run};
	sm_session_list_begin(&list);
	struct sm_errbuf eb = {""};
	enum sm_err e = sm_store_each_session(st, &q, sm_session_list_row, &list, &eb);
	sm_store_close(st);
	if (e != SM_OK)
		return fail(e, &eb);
	sm_session_list_end(&list);
	if (a.format == FMT_TEXT)
		fprintf(stderr, "%llu session(s) in run %lld\n", (unsigned long long)list.n,
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
		return usage_error(a->cmd, "%s", "--format: this command writes text or json");
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
cmd_timeline(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error(cmd, "timeline: unexpected argument '%s'", argv[optind]);
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
cmd_diff(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	uint64_t ids[2];
	if (argc - optind != 2)
		return usage_error(cmd, "%s",
		                   "diff: expected two run ids: smaudit diff -d DB RUN_A RUN_B");
	for (int i = 0; i < 2; i++)
		if (!parse_u64(argv[optind + i], INT64_MAX, &ids[i]) || ids[i] == 0)
			return usage_error(cmd, "diff: '%s' is not a run id (1, 2, ...)",
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
cmd_extract(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return usage_error(cmd, "extract: unexpected argument '%s'", argv[optind]);
	if ((a.finding > 0) == (a.session > 0))
		return usage_error(cmd, "%s",
		                   "extract: give one of --finding N (ids in the report) or "
		                   "--session N (ids from smaudit query)");
	if (a.output == NULL || strcmp(a.output, "-") == 0)
		return usage_error(cmd, "%s", "extract: -o FILE is required (the evidence pcap)");
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
cmd_site(int argc, char **argv, const struct command *cmd)
{
	struct args a;
	int rc = parse_args(argc, argv, cmd, &a);
	if (rc >= 0)
		return rc;
	if (a.from_ontap == a.guess || optind >= argc)
		return usage_error(cmd, "%s",
		                   "site: smaudit site --from-ontap FILE... or smaudit site "
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
	                        : sm_site_from_ontap(in, n, mem, print_warning, NULL, &eb);
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
		return usage_error(NULL, "%s",
		                   "missing command (audit, live, check, report, query, timeline, "
		                   "diff, extract or site)");
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (argc > 2 && strcmp(name, "help") == 0)
			for (const struct command *c = commands; c->name; c++)
				if (strcmp(c->name, argv[2]) == 0) {
					print_command_help(stdout, c);
					return SM_EXIT_CLEAN;
				}
		print_overview(stdout);
		return SM_EXIT_CLEAN;
	}
	if (strcmp(name, "--complete") == 0)
		return print_completion(argc > 2 ? argv[2] : NULL);
	if (strcmp(name, "--version") == 0) {
		printf("smaudit %s\n", SMAUDIT_VERSION);
		return SM_EXIT_CLEAN;
	}
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c->run(argc - 1, argv + 1, c);
	return usage_error(NULL,
	                   "unknown command '%s' (expected audit, live, check, report, query, "
	                   "timeline, diff, extract or site)",
	                   name);
}
