/*
 * cli: the command line of the smaudit program (not a library module).  One table of
 * options and one of commands (cli.c) give each command its exact option set, its
 * --help, its completion list and its handler (cmd_*.c); the handlers share the
 * parsed arguments, the usage errors and the report outputs (cli_output.c) declared
 * here.  Nothing outside the program's own files knows about argv.
 */
#ifndef SMAUDIT_CLI_H
#define SMAUDIT_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "smaudit/addr.h"
#include "smaudit/err.h"
#include "smaudit/report.h"
#include "smaudit/session.h"

#define CLI_MAX_INPUTS 4096 /* captures of one audit (-r FILE and bare arguments) */
#define CLI_MAX_FROM   64   /* extract --from */
#define CLI_MAX_DEFS   64   /* entries of the option table (checked in cli.c) */

enum cli_color { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

/* Option ids: the short letter, or one of these for long-only options. */
enum cli_opt_id {
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
	OPT_SENSOR,
	OPT_COMBINE_RUN,
	OPT_SENSOR_NAME,
	OPT_THREADS,
};

/*
 * What the command line said.  Each command fills only the fields of the options its
 * table entry lists (any other option is a usage error before a handler runs); the
 * rest keep the defaults of cli_parse.
 */
struct cli_args {
	const struct cli_command *cmd;
	/* audit and live */
	const char *site, *rules, *db, *bpf, *output;
	enum sm_format format;
	enum cli_color color;
	bool quiet, strict, no_payload;
	uint64_t max_sessions, tcp_timeout, udp_timeout;
	uint64_t threads; /* --threads; 0 = not given: one */
	/* audit: captures, -c, --from/--until (UNIX ns; see cli_given) */
	const char *inputs[CLI_MAX_INPUTS];
	size_t ninputs;
	/* --sensor NAME=CAPTURE: the sensor of each input; captures given without
	 * belong to "default".  live --sensor NAME names its one sensor. */
	uint8_t input_sensor[CLI_MAX_INPUTS];
	const char *sensor_names[SM_SENSORS_MAX];
	size_t nsensors;
	/* combine: the runs, one a sensor */
	uint64_t combine[SM_SENSORS_MAX];
	size_t ncombine;
	uint64_t count;
	int64_t window_from_ns, window_until_ns;
	/* live */
	const char *iface, *user, *ring_dir, *chroot_dir;
	double duration;
	uint64_t snaplen, buffer_mb, alert_after, checkpoint, report_every, ring_mb, ring_files;
	bool immediate, no_promisc, json_lines;
	/* report, query, timeline, diff, extract */
	uint64_t run, port, limit, finding, session; /* run 0: the latest */
	const char *host, *class_name;
	int64_t since_ns, until_ns; /* query --since/--until (UNIX ns) */
	bool list;                  /* report --list */
	char pair_a[SM_ADDRSTRLEN], pair_b[SM_ADDRSTRLEN];
	double gap;
	const char *from[CLI_MAX_FROM];
	size_t nfrom;
	/* site */
	bool from_ontap, guess;
	/* the bare arguments of a command that takes them (diff: two run ids, site: files) */
	char **operands;
	size_t noperands;
	bool given[CLI_MAX_DEFS]; /* by index in the option table */
};

/* One command: its options, help and handler.  Handlers get the parsed arguments
 * (they may change them, e.g. to put an address in canonical form). */
struct cli_command {
	const char *name;
	int (*run)(struct cli_args *a);
	const char *synopsis; /* after "smaudit NAME " */
	const char *summary;
	int opts[40]; /* the options it takes (0 ends the list; -h is implied) */
	const char *examples;
	unsigned formats; /* with --format: the formats it writes (SM_FMT_BIT of each); any
	                   * other is refused before the handler runs */
	bool captures;    /* takes captures: -r FILE and bare arguments */
	bool operands;    /* takes other bare arguments (the handler checks them) */
	/* else a bare argument is refused as: before 'ARG' after */
	const char *stray_before, *stray_after;
	const char *exits; /* its exit statuses for --help (NULL: those of an audit) */
};

extern const struct cli_command cli_commands[]; /* ends with a NULL name */

/* Parses argv[0] = the command's name, argv[1...] its options into *a; -1 when the
 * handler may run, else the exit status (--help printed, or a usage error). */
int cli_parse(int argc, char **argv, const struct cli_command *cmd, struct cli_args *a);
/* The session classes of verdict.h's table, as a list: "expected, ... or unmonitored"
 * with sep ", " and sep_last " or ". */
void cli_class_list(const char *sep, const char *sep_last, char *buf, size_t len);
/* Whether the option with this id was on the command line. */
bool cli_given(const struct cli_args *a, int id);
void cli_print_command_help(FILE *out, const struct cli_command *cmd);
void cli_print_overview(FILE *out);
/* smaudit --complete [COMMAND]: the commands, or the options of one (for completions/). */
int cli_print_completion(const char *name);
/* "smaudit: MESSAGE" and where to find help; returns SM_EXIT_USAGE.  cmd may be NULL. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The handlers: cmd_capture.c (audit, live), cmd_config.c (check, site), cmd_db.c
 * (report, query, timeline, diff, extract); each returns the exit status. */
int cmd_audit(struct cli_args *a);
int cmd_live(struct cli_args *a);
int cmd_combine(struct cli_args *a);
int cmd_check(struct cli_args *a);
int cmd_site(struct cli_args *a);
int cmd_report(struct cli_args *a);
int cmd_query(struct cli_args *a);
int cmd_timeline(struct cli_args *a);
int cmd_diff(struct cli_args *a);
int cmd_extract(struct cli_args *a);
/* Loads -s SITE and --rules RULES (the built-in rules without); -1 or an exit status. */
struct sm_site;
struct sm_rules;
int cli_load_config(const struct cli_args *a, struct sm_site *site, struct sm_rules *rules);

/* cli_time.c: the numbers and times the options take. */
bool cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
bool cli_parse_seconds(const char *s, double *out);
/* UNIX seconds or ISO 8601 with a zone into UNIX ns; false with the reason in why. */
bool cli_parse_when(const char *s, int64_t *ns, char *why, size_t whylen);

/* cli_output.c: what the handlers share. */
extern volatile sig_atomic_t cli_stop_requested; /* set by SIGINT/SIGTERM/SIGHUP */
void cli_catch_stop_signals(void);
void cli_print_warning(void *ctx, const char *msg);
/* The stored status of run (RUN_COMPLETE when it cannot be read: nothing to warn of). */
enum sm_run_status cli_run_status(struct sm_store *st, int64_t run);
/* Prints the error (eb's message, else e's text); returns its exit status. */
int cli_fail(enum sm_err e, const struct sm_errbuf *eb);

/* Where output goes: stdout, or -o FILE written as FILE.tmp.PID and renamed at the end. */
struct cli_out {
	FILE *f;
	const char *what; /* the error's words: "cannot write[ the report]" */
	char tmp[4096];
};
/* Opens a->output (before any packet is read); -1, or the exit status after saying
 * "PATH: WHAT: why" (what: "cannot write the report" or "cannot write"). */
int cli_out_open(const struct cli_args *a, struct cli_out *o, const char *what);
/* Closes o; the file is kept only when e is SM_OK and all was written.  -1, or the
 * exit status of the error (a failed write becomes "PATH: WHAT: why"). */
int cli_out_finish(const struct cli_args *a, struct cli_out *o, enum sm_err e,
                   struct sm_errbuf *eb);
/* Drops o's temporary file (after an error already reported). */
void cli_out_discard(const struct cli_args *a, struct cli_out *o);
/* Renders a stored run into o and closes it; the exit status of the report. */
struct sm_store;
int cli_render(struct sm_store *st, int64_t run, const struct cli_args *a, struct cli_out *o);
/* Opens the database of -d for reading and picks --run (default: the latest). */
int cli_open_db(const struct cli_args *a, struct sm_store **st, int64_t *run);

#endif
