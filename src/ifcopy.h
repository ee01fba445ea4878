/*
 * ifcopy: the second copy of a packet in a Linux "any" capture (tcpdump -i any:
 * cooked headers, SLL or SLL2).  Such a capture sees every packet its host
 * forwards twice, arriving on one interface and leaving on another, and a packet
 * of a VLAN, bridge or bond interface on the interfaces under it too; each copy
 * would count in its session again (packets, bytes, SYNs sent).  A copy is the
 * same IP packet, its first 96 bytes byte for byte but the TTL (hop limit) and
 * the IP and transport checksums, at the same sensor (pkt->sensor: several capture points see
 * copies of their own, session_sight.h) within SM_IFCOPY_WINDOW_NS of the first:
 * on another interface (SLL2 names it), or at all (SLL names none; a sender's
 * own retransmission comes later, or with another IPv4 ID).  Bounded:
 * SM_IFCOPY_SLOTS recent packets; one forgotten is counted again, as before.
 * Used by the reading thread only.
 */
#ifndef SMAUDIT_IFCOPY_H
#define SMAUDIT_IFCOPY_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/capture.h"
#include "smaudit/decode.h"

#define SM_IFCOPY_SLOTS     4096
#define SM_IFCOPY_WINDOW_NS (50 * 1000000LL)

struct sm_ifcopy;

void sm_ifcopy_free(struct sm_ifcopy *c);
/* Whether raw (decoded into pkt) is a copy of a packet this capture point saw
 * already on another of its interfaces; false for every other link layer.  *c
 * is made at the first cooked packet (NULL before; without memory, no packet is
 * a copy). */
bool sm_ifcopy_packet(struct sm_ifcopy **c, const struct sm_raw_packet *raw,
                      const struct sm_packet *pkt);
/* The copies found so far. */
uint64_t sm_ifcopy_count(const struct sm_ifcopy *c);

#endif
