/*
 * snapcut: the address pairs of packets whose transport header the capture cut
 * (a short snap length: tcpdump -s 64 of IPv6 under Linux cooked headers keeps the
 * addresses, not the ports).  Counted by the reading thread as packets come, handed
 * to the policy (sm_policy_snap_cut) when the run ends.  At most SM_SNAPCUT_MAX
 * pairs; more are counted in no pair.
 */
#ifndef SMAUDIT_SNAPCUT_H
#define SMAUDIT_SNAPCUT_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/addr.h"

#define SM_SNAPCUT_MAX 1024

struct sm_snapcut;

/* NULL when out of memory. */
struct sm_snapcut *sm_snapcut_new(void);
void sm_snapcut_free(struct sm_snapcut *c);
/* One more packet of proto between a and b (either way). */
void sm_snapcut_add(struct sm_snapcut *c, uint8_t proto, const struct sm_addr *a,
                    const struct sm_addr *b);
/* Calls fn for every pair, with its packets; stops at the first false, returned. */
bool sm_snapcut_each(const struct sm_snapcut *c,
                     bool (*fn)(void *ctx, uint8_t proto, const struct sm_addr *a,
                                const struct sm_addr *b, uint64_t n),
                     void *ctx);

#endif
