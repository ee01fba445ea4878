/*
 * sensor: each capture point's clock put on one common clock.
 * Several sensors capture the same packets at different places; their clocks
 * disagree.  This module reads the first packets of each sensor, matches the
 * same packet seen at two sensors and estimates each sensor's clock offset from
 * sensor 0's, cancelling the transit time with packets going both ways.
 * Memory is bounded by SM_CLOCK_SCAN_PACKETS entries, whatever the captures hold.
 */
#ifndef SMAUDIT_SENSOR_H
#define SMAUDIT_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smaudit/err.h"

#define SM_SENSORS_MAX 8
/* The longest sensor name (--sensor, a site's `sensor NAME near ROLE`), with its NUL. */
#define SM_SENSOR_NAME_MAX 64

/* Packets read of each sensor, at most; also the bound of the packet table. */
#define SM_CLOCK_SCAN_PACKETS 200000
/* A sensor that shares this many packets with the others is read no further. */
#define SM_CLOCK_ENOUGH_MATCHES 20000

struct sm_sensor_clock {
	int64_t offset_ns; /* added to this sensor's timestamps puts them on sensor 0's clock */
	int64_t spread_ns; /* interquartile range of the per-packet estimates (both directions
	                    * together, so it includes the transit time each way); through a
	                    * chain, the spreads of its links added up */
	uint64_t matched;  /* packets seen once by this sensor and once by the sensor it was
	                    * placed through (sensor 0, or another one already placed) */
	int placed_via;    /* that sensor; -1 for sensor 0 and for a sensor not known */
	bool known;        /* false: no packet matched, the sensor cannot be put on the
	                    * common clock */
};

/*
 * inputs[i] belongs to sensor sensor_of[i] (0..nsensors-1).  Reads the sensors' first
 * packets in turn (sm_capture_open on each sensor's inputs, sm_decode; tunnels and
 * VLAN tags decoded, the innermost IP packet counts), each until it shares
 * SM_CLOCK_ENOUGH_MATCHES packets with the others, at most SM_CLOCK_SCAN_PACKETS,
 * and fills out[nsensors].  The same packet is: same addresses, protocol, ports
 * (ICMP type, code and id), IPv4 ID, TCP sequence, acknowledgement and flags,
 * payload length and its first 16 bytes; a packet seen more than once by one sensor
 * (a retransmission, a capture on two interfaces) is ambiguous there and not used.
 * The sensor seeing the higher TTL is nearer the sender: the offset is the mean of
 * the median estimate of each direction (transit time cancels), or the median of all
 * when only one direction (or only equal TTLs) was matched.  Sensor 0 is the
 * reference (offset 0, known); a sensor is placed through the placed sensor it
 * shares most packets with, so one matched only through another non-reference
 * sensor is placed through it (a chain).  A sensor whose captures cannot be read
 * or share no packet is not known: never an error.  Fails only with SM_ERR_USAGE
 * (no sensor, more than SM_SENSORS_MAX, sensor_of out of range) or SM_ERR_NOMEM.
 */
enum sm_err sm_sensor_clocks(const char *const *inputs, const uint32_t *sensor_of, size_t ninputs,
                             size_t nsensors, struct sm_sensor_clock *out, struct sm_errbuf *eb);

#endif
