#include "smaudit/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *
sm_strerror(enum sm_err e)
{
	switch (e) {
	case SM_OK:
		return "no error";
	case SM_ERR_USAGE:
		return "usage error";
	case SM_ERR_CONFIG:
		return "configuration error";
	case SM_ERR_IO:
		return "input/output error";
	case SM_ERR_DB:
		return "database error";
	case SM_ERR_NOMEM:
		return "out of memory";
	case SM_ERR_INTERNAL:
		return "internal error";
	}
	return "unknown error";
}

enum sm_err
sm_error(struct sm_errbuf *eb, enum sm_err e, const char *fmt, ...)
{
	if (eb != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
		va_end(ap);
	}
	return e;
}

int
sm_exit_status(enum sm_err e)
{
	switch (e) {
	case SM_OK:
		return SM_EXIT_CLEAN;
	case SM_ERR_USAGE:
	case SM_ERR_CONFIG:
		return SM_EXIT_USAGE;
	default:
		return SM_EXIT_RUNTIME;
	}
}

size_t
sm_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t
sm_strlcat(char *dst, const char *src, size_t size)
{
	size_t d = strnlen(dst, size);
	if (d == size)
		return d + strlen(src);
	return d + sm_strlcpy(dst + d, src, size - d);
}

double
sm_monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
sm_grow(void **arr, size_t *n, size_t *cap, size_t sz, const void *elem)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *na = realloc(*arr, ncap * sz);
		if (na == NULL)
			return false;
		*arr = na;
		*cap = ncap;
	}
	memcpy((char *)*arr + *n * sz, elem, sz);
	(*n)++;
	return true;
}
