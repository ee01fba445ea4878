/*
 * session_sight: what each sensor saw of a session, when a run has several
 * (struct sm_sightings in session.h).  Knows a packet seen again at a second
 * sensor: the same packet (TCP sequence, acknowledgement, flags and length,
 * IPv4 ID, or the first payload bytes) within SM_SIGHT_WINDOW_NS of its first
 * copy at a sensor that had not seen it.  Internal to the session module.
 */
#ifndef SMAUDIT_SESSION_SIGHT_H
#define SMAUDIT_SESSION_SIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/session.h"

/* The longest time between two sensors' copies of one packet (transit and what
 * the clock correction left). */
#define SM_SIGHT_WINDOW_NS (1000 * 1000000LL)

/* NULL when out of memory; freed with free(). */
struct sm_sightings *sm_sight_new(uint8_t nsensors);
/* Accounts pkt (direction dir of its session) at sensor pkt->sensor.  True when
 * another sensor saw this packet already: the session must not count it again. */
bool sm_sight_packet(struct sm_sightings *g, int dir, const struct sm_packet *pkt);
/* An ICMP error about direction dir seen at pkt->sensor; true when no sensor has
 * seen as many yet (a new error, not the copy of one). */
bool sm_sight_icmp_error(struct sm_sightings *g, uint8_t nsensors, int dir,
                         const struct sm_packet *pkt);

#endif
