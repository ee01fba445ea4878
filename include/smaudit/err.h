/*
 * err: the one error type of smaudit.
 * Every fallible function returns an enum sm_err and, where the caller may
 * show it to a user, writes a one-line message into a struct sm_errbuf.
 * Config errors carry "FILE:LINE:COL: " in front of the message.
 */
#ifndef SMAUDIT_ERR_H
#define SMAUDIT_ERR_H

#include <stdbool.h>
#include <stddef.h>

enum sm_err {
	SM_OK = 0,
	SM_ERR_USAGE,  /* bad command line */
	SM_ERR_CONFIG, /* bad site or rules file */
	SM_ERR_IO,     /* capture or file cannot be read or written */
	SM_ERR_DB,     /* SQLite failure */
	SM_ERR_NOMEM,
	SM_ERR_INTERNAL,
};

struct sm_errbuf {
	char msg[512];
};

const char *sm_strerror(enum sm_err e);

/* Formats a message into eb (if not NULL) and returns e. */
enum sm_err sm_error(struct sm_errbuf *eb, enum sm_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit status of docs/exit-status.md for an error. */
int sm_exit_status(enum sm_err e);

/* Bounded string helpers: always NUL-terminate, never overflow.  Own code: glibc has
 * strlcpy only from 2.38 (Debian 12 ships 2.36), and libbsd for two functions is a
 * dependency for nothing. */
size_t sm_strlcpy(char *dst, const char *src, size_t size);
size_t sm_strlcat(char *dst, const char *src, size_t size);
/* Appends one element of size sz to *arr (n used of cap), doubling it as needed;
 * false when out of memory (the array is then unchanged). */
bool sm_grow(void **arr, size_t *n, size_t *cap, size_t sz, const void *elem);
/* Seconds on the monotonic clock, for progress lines and intervals. */
double sm_monotonic_s(void);

/* Receives a non-fatal warning (one line, already prefixed with its place). */
typedef void (*sm_warn_fn)(void *ctx, const char *msg);

/* Exit statuses of docs/exit-status.md. */
enum sm_exit {
	SM_EXIT_CLEAN = 0,
	SM_EXIT_FINDINGS = 1,
	SM_EXIT_USAGE = 2,
	SM_EXIT_RUNTIME = 3,
};

#endif
