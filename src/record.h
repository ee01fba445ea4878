/*
 * record: a session as the store writes it, every field formatted (struct
 * sm_session_record of store.h): the store reads no session, decoder or policy
 * structure.  Called by the thread that stores (audit.c's store_one).
 */
#ifndef SMAUDIT_RECORD_H
#define SMAUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "smaudit/policy.h"
#include "smaudit/session.h"
#include "smaudit/store.h"

/* The row of s, with how the policy saw it (c), its capture file (source, kept
 * by pointer), whether it is still open, and what each of the run's nsensors
 * sensors saw of it (none with one sensor). */
void sm_session_record(const struct sm_session *s, const struct sm_classification *c,
                       const char *source, bool open, const char *const *sensor_names,
                       size_t nsensors, struct sm_session_record *r);

#endif
