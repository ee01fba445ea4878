/*
 * locate: where a failing flow's packets stopped, from several sensors (SPEC
 * section 7).  Learns, for every pair of site addresses, which sensors saw
 * packets between them and with what TTL (the sensor that sees a higher TTL of
 * the same sender is nearer it), then reads an entry's per-sensor evidence along
 * that path.  Internal to the policy module.
 */
#ifndef SMAUDIT_LOCATE_H
#define SMAUDIT_LOCATE_H

#include <stddef.h>

#include "smaudit/policy.h"
#include "smaudit/session.h"
#include "smaudit/site.h"

struct sm_locate;

/* NULL when out of memory, or when the site names too many addresses to keep
 * every pair (then nothing is located). */
struct sm_locate *sm_locate_new(const struct sm_site *site, const char *const *names,
                                size_t nsensors);
struct sm_locate *sm_locate_clone(const struct sm_locate *l);
void sm_locate_free(struct sm_locate *l);
/* Sensor k captured from first_ns to last_ns (none: 0, 0); l may be NULL. */
void sm_locate_span(struct sm_locate *l, size_t k, int64_t first_ns, int64_t last_ns);
/* Learns the path of s's addresses from what each sensor saw of it (an
 * established session only: what a forger sends must not teach the path). */
void sm_locate_session(struct sm_locate *l, const struct sm_session *s);
/* Adds s (a failing attempt of e, of the outcome its verdict is about) to e's
 * per-sensor evidence. */
void sm_locate_evidence(const struct sm_locate *l, struct sm_expect_entry *e,
                        const struct sm_session *s);
/* Fills e->path and e->lost_between and appends what they say to e->detail
 * (verdicts no-answer and rejected, the pair e->try_src -> e->try_dst). */
void sm_locate_entry(const struct sm_locate *l, struct sm_expect_entry *e);

#endif
