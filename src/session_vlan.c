/*
 * session_vlan: the VLAN tags a conversation is seen under (session_vlan.h).
 */
#include "session_vlan.h"

void
sm_vlan_keys_note(struct sm_vlan_keys *v, int32_t vlan, int32_t inner_vlan)
{
	for (uint8_t i = 0; i < v->n; i++)
		if (v->key[i].vlan == vlan && v->key[i].inner_vlan == inner_vlan)
			return;
	if (v->n < SM_VLAN_KEYS) {
		v->key[v->n].vlan = vlan;
		v->key[v->n++].inner_vlan = inner_vlan;
	}
}

bool
sm_vlan_takes(struct sm_session *s, int dir, int32_t vlan, int32_t inner_vlan, uint8_t sensor,
              bool add)
{
	for (uint8_t i = 0; i < s->nalias; i++) {
		const struct sm_vlan_alias *a = &s->alias[i];
		if (a->vlan == vlan && a->inner_vlan == inner_vlan && (a->dirs & (1u << dir)) &&
		    (a->sensor == SM_ALIAS_ANY_SENSOR || a->sensor == sensor))
			return true;
	}
	if (s->nalias == SM_SESSION_ALIASES || vlan != (int16_t)vlan ||
	    inner_vlan != (int16_t)inner_vlan)
		return false;
	struct sm_vlan_alias a = {.vlan = (int16_t)vlan, .inner_vlan = (int16_t)inner_vlan};
	if (s->pkts[dir] == 0) { /* a side it has not seen */
		a.dirs = (uint8_t)(1u << dir);
		a.sensor = SM_ALIAS_ANY_SENSOR;
	} else if (s->sight != NULL &&
	           s->sight->at[sensor * 2].pkts + s->sight->at[sensor * 2 + 1].pkts == 0) {
		a.dirs = 3; /* a sensor that has not seen it */
		a.sensor = sensor;
	} else {
		return false;
	}
	if (add)
		s->alias[s->nalias++] = a;
	return true;
}
