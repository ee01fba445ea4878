/*
 * record: a session as the store writes it (record.h).
 */
#include "record.h"

#include "smaudit/addr.h"
#include "smaudit/decode.h"
#include "smaudit/err.h"

/* What each sensor saw of s, as rows of sightings. */
static void
sighting_records(const struct sm_session *s, const char *const *sensor_names, size_t nsensors,
                 struct sm_session_record *r)
{
	r->nsight = 0;
	for (size_t i = 0; s->sight != NULL && i < nsensors * 2; i++) {
		const struct sm_sighting *g = &s->sight->at[i];
		if (g->pkts == 0)
			continue;
		struct sm_sighting_row *w = &r->sight[r->nsight++];
		w->sensor = sensor_names[i / 2];
		w->rev = i % 2;
		w->pkts = g->pkts;
		w->bytes = g->bytes;
		w->first_ts = (double)g->first_ns / 1e9;
		w->last_ts = (double)g->last_ns / 1e9;
		w->ttl_min = g->ttl_min;
		w->ttl_max = g->ttl_max;
	}
}

/* Copies src (NULL = none) into a record's text field. */
static void
record_text(char *dst, size_t len, const char *src)
{
	sm_strlcpy(dst, src != NULL ? src : "", len);
}

static void
record_addr(char *dst, const struct sm_addr *a)
{
	if (a->family == 0)
		dst[0] = '\0';
	else
		sm_addr_str(a, dst, SM_ADDRSTRLEN);
}

void
sm_session_record(const struct sm_session *s, const struct sm_classification *c, const char *source,
                  bool open, const char *const *sensor_names, size_t nsensors,
                  struct sm_session_record *r)
{
	char pbuf[8];
	bool icmp = s->proto == SM_PROTO_ICMP || s->proto == SM_PROTO_ICMP6;
	record_text(r->proto, sizeof(r->proto), sm_proto_name(s->proto, pbuf, sizeof(pbuf)));
	sm_addr_str(&s->src, r->src, sizeof(r->src));
	sm_addr_str(&s->dst, r->dst, sizeof(r->dst));
	r->sport = icmp ? s->icmp_type : s->sport;
	r->dport = icmp ? s->icmp_code : s->dport;
	r->vlan = s->vlan;
	r->inner_vlan = s->inner_vlan;
	r->first_ts = (double)s->first_ns / 1e9;
	r->last_ts = (double)s->last_ns / 1e9;
	record_text(r->state, sizeof(r->state), sm_session_state(s));
	r->pkts_fwd = s->pkts[0];
	r->pkts_rev = s->pkts[1];
	r->bytes_fwd = s->bytes[0];
	r->bytes_rev = s->bytes[1];
	record_text(r->class_name, sizeof(r->class_name), c->class_name);
	record_text(r->rule, sizeof(r->rule), c->rule);
	record_text(r->history, sizeof(r->history), s->history);
	r->established = sm_session_established(s);
	r->syn_count = s->syn_count;
	record_text(r->rst_from, sizeof(r->rst_from),
	            s->rst_from == 0   ? NULL
	            : s->rst_from == 1 ? "src"
	                               : "dst");
	r->rst_ttl = s->rst_from ? s->rst_ttl : -1;
	r->icmp_errors = s->icmp_errors;
	r->icmp_err_type = s->icmp_err_type;
	r->icmp_err_code = s->icmp_err_code;
	r->icmp_err_ttl = s->icmp_err_ttl;
	sm_addr_str(&s->icmp_err_from, r->icmp_err_from, sizeof(r->icmp_err_from));
	r->ttl_fwd = s->pkts[0] ? s->ttl[0] : -1;
	r->ttl_rev = s->pkts[1] ? s->ttl[1] : -1;
	record_text(r->tunnel, sizeof(r->tunnel), sm_tunnel_name(s->tunnel));
	r->outer_src[0] = r->outer_dst[0] = '\0';
	if (s->tunnel) {
		record_addr(r->outer_src, &s->outer_src);
		record_addr(r->outer_dst, &s->outer_dst);
	}
	r->source = source;
	record_text(r->src_role, sizeof(r->src_role), c->src_role);
	record_text(r->dst_role, sizeof(r->dst_role), c->dst_role);
	r->open = open;
	record_text(r->app, sizeof(r->app), sm_session_app(s));
	record_text(r->app_detail, sizeof(r->app_detail), s->app_detail);
	r->missed_bytes = s->missed[0] + s->missed[1];
	int64_t idle_from, idle = sm_session_silence(s, &idle_from);
	r->idle_from = (double)idle_from / 1e9;
	r->idle_max = idle > 0 ? (double)idle / 1e9 : 0;
	r->uid = s->uid;
	r->tunnel_parent = s->tunnel_parent;
	sighting_records(s, sensor_names, nsensors, r);
}
