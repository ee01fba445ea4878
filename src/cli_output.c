/*
 * cli_output: what smaudit's command handlers share: where a report or listing goes
 * (stdout, or -o FILE written as FILE.tmp.PID and renamed once whole; a path that is
 * no regular file, /dev/null or a FIFO, written in place), rendering a
 * stored run with its exit status, opening the database of -d, the stop signals, and
 * turning an error into its message and exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "smaudit/store.h"

volatile sig_atomic_t cli_stop_requested;
static struct timespec first_stop; /* when the first stop signal came */

/* The first SIGINT, SIGTERM or SIGHUP ends the run in order: what was read is stored and
 * reported.  One more 2 s or later gives up at once (exit 130); sooner, it is the
 * same request again (Ctrl-C pressed twice, or a supervisor's SIGTERM beside the
 * terminal's SIGINT), and losing what the orderly end is storing would be no
 * answer to it. */
static void
on_signal(int sig)
{
	(void)sig;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!cli_stop_requested) {
		first_stop = now;
		cli_stop_requested = 1;
		return;
	}
	if (now.tv_sec - first_stop.tv_sec > 2 ||
	    (now.tv_sec - first_stop.tv_sec == 2 && now.tv_nsec >= first_stop.tv_nsec))
		_exit(130);
}

void
cli_catch_stop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* the terminal or ssh session closing: the same orderly end, unless the
	 * process was started to ignore it (nohup) */
	struct sigaction old;
	if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
}

enum sm_run_status
cli_run_status(struct sm_store *st, int64_t run)
{
	struct sm_run_row r;
	struct sm_errbuf eb = {""};
	if (sm_store_load_run(st, run, &r, &eb) != SM_OK)
		return RUN_COMPLETE;
	enum sm_run_status status = r.status;
	sm_run_row_free(&r);
	return status;
}

void
cli_print_warning(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "smaudit: warning: %s\n", msg);
}

int
cli_fail(enum sm_err e, const struct sm_errbuf *eb)
{
	fprintf(stderr, "smaudit: %s\n", eb->msg[0] ? eb->msg : sm_strerror(e));
	return sm_exit_status(e);
}

int
cli_out_open(const struct cli_args *a, struct cli_out *o, const char *what)
{
	o->what = what;
	if (a->output == NULL || strcmp(a->output, "-") == 0) {
		o->f = stdout;
		return -1;
	}
	/* A path that is no regular file (/dev/null, a FIFO, a terminal) is written in
	 * place: renaming over it would replace the device with a file. */
	struct stat st;
	if (stat(a->output, &st) == 0 && !S_ISREG(st.st_mode))
		o->tmp[0] = '\0';
	else
		snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%ld", a->output, (long)getpid());
	o->f = fopen(o->tmp[0] ? o->tmp : a->output, "w");
	if (o->f != NULL)
		return -1;
	fprintf(stderr, "smaudit: %s: %s: %s\n", a->output, what, strerror(errno));
	return SM_EXIT_RUNTIME;
}

/* Closes o; 0 when the output is whole (and renamed into place), else -1. */
static int
out_close(const struct cli_args *a, struct cli_out *o, bool ok)
{
	FILE *f = o->f;
	o->f = NULL;
	if (f == stdout) /* a write that failed before the last flush counts too */
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
	int rc = fclose(f);
	if (o->tmp[0] == '\0') /* written in place */
		return ok && rc == 0 ? 0 : -1;
	if (!ok || rc != 0 || rename(o->tmp, a->output) != 0) {
		unlink(o->tmp);
		return -1;
	}
	return 0;
}

void
cli_out_discard(const struct cli_args *a, struct cli_out *o)
{
	out_close(a, o, false);
}

int
cli_out_finish(const struct cli_args *a, struct cli_out *o, enum sm_err e, struct sm_errbuf *eb)
{
	if (e == SM_ERR_IO && o->f != NULL && ferror(o->f)) { /* the renderer's failed write */
		char why[sizeof(eb->msg)];
		sm_strlcpy(why, eb->msg, sizeof(why));
		sm_error(eb, e, "%s: %s", a->output ? a->output : "stdout", why);
	}
	if (out_close(a, o, e == SM_OK) != 0 && e == SM_OK)
		e = sm_error(eb, SM_ERR_IO, "%s: %s: %s", a->output ? a->output : "stdout", o->what,
		             strerror(errno));
	return e == SM_OK ? -1 : cli_fail(e, eb);
}

/* Colour only for people: on a terminal, unless NO_COLOR is set (https://no-color.org),
 * or when asked for with --color=always (e.g. for less -R). */
static bool
want_color(const struct cli_args *a, FILE *out)
{
	if (a->color != COLOR_AUTO)
		return a->color == COLOR_ALWAYS;
	const char *term = getenv("TERM");
	return out == stdout && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	       !(term != NULL && strcmp(term, "dumb") == 0);
}

int
cli_render(struct sm_store *st, int64_t run, const struct cli_args *a, struct cli_out *o)
{
	struct sm_errbuf eb = {""};
	struct sm_report_summary sum;
	struct sm_report_style style = {a->db, want_color(a, o->f), NULL};
	enum sm_err e = sm_report_check_site_seen(st, run, &eb);
	if (e == SM_OK)
		e = sm_report_render(st, run, a->format, &style, o->f, &sum, &eb);
	int rc = cli_out_finish(a, o, e, &eb);
	if (rc >= 0)
		return rc;
	if (sum.nothing_read)
		fprintf(stderr, "smaudit: run %lld stored no packet: the report is incomplete\n",
		        (long long)run);
	return sm_report_exit(&sum);
}

int
cli_open_db(const struct cli_args *a, struct sm_store **st, int64_t *run)
{
	struct sm_errbuf eb = {""};
	if (a->db == NULL)
		return cli_usage_error(a->cmd, "%s",
		                       "-d DB is required: the database written by "
		                       "'smaudit audit -d DB'");
	if (!sm_store_is_uri(a->db) && access(a->db, F_OK) != 0) {
		fprintf(stderr, "smaudit: %s: no such database\n", a->db);
		return SM_EXIT_RUNTIME;
	}
	enum sm_err e = sm_store_open(st, a->db, false, &eb);
	if (e == SM_OK) {
		*run = (int64_t)a->run;
		if (*run == 0)
			e = sm_store_latest_run(*st, run, &eb);
	}
	if (e != SM_OK) {
		sm_store_close(*st);
		*st = NULL;
		return e == SM_ERR_USAGE
		           ? (fprintf(stderr, "smaudit: %s\n", eb.msg), SM_EXIT_RUNTIME)
		           : cli_fail(e, &eb);
	}
	return -1;
}
