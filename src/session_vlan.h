/*
 * session_vlan: a conversation seen under other VLAN tags than its first
 * packet's (docs/verdicts.md "Sessions").  The session table remembers the tags
 * its sessions were created with; a packet whose own tags hold no session is
 * looked for under those, and joins a session there when an alias of it says
 * so, or when it brings a side or a sensor the session has not seen (struct
 * sm_vlan_alias in session.h).  Internal to the session module.
 */
#ifndef SMAUDIT_SESSION_VLAN_H
#define SMAUDIT_SESSION_VLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/session.h"

/* The tags a packet's conversation is looked for under when its own hold none. */
#define SM_VLAN_KEYS 16

/* The VLAN tags (outer, inner) sessions were created with, the first SM_VLAN_KEYS. */
struct sm_vlan_keys {
	struct {
		int32_t vlan, inner_vlan;
	} key[SM_VLAN_KEYS];
	uint8_t n;
};

/* Adds the tags vlan/inner_vlan to v unless there, or v is full. */
void sm_vlan_keys_note(struct sm_vlan_keys *v, int32_t vlan, int32_t inner_vlan);
/* Whether s, a session under other tags, takes a packet of its side dir tagged
 * vlan/inner_vlan at sensor: an alias of s says so, or one can be made (s has
 * room for it and has seen nothing of that side: the two directions of a routed
 * hop, each on the VLAN it came in on; or nothing at that sensor: another capture
 * point, on its site's VLAN).  add: make that alias. */
bool sm_vlan_takes(struct sm_session *s, int dir, int32_t vlan, int32_t inner_vlan, uint8_t sensor,
                   bool add);

#endif
