/*
 * cli_time: the numbers and points in time that smaudit's options take.  Own code for
 * times (see cli_parse_when): the messages say which field of a date is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool
cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
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

bool
cli_parse_seconds(const char *s, double *out)
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
bool
cli_parse_when(const char *s, int64_t *ns, char *why, size_t whylen)
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
