/*
 * policy_describe: the detail of an expected flow's verdict, as the report shows it
 * (docs/verdicts.md): how many attempts, who answered them and with what TTL, and
 * what the capture could not see.
 */
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

static const char *
icmp_reason(uint8_t type, uint8_t code, bool v6)
{
	if (!v6 && type == SM_ICMP_UNREACH) {
		static const char *const c[] = {"network unreachable",
		                                "host unreachable",
		                                "protocol unreachable",
		                                "port unreachable",
		                                "fragmentation needed",
		                                "source route failed",
		                                "network unknown",
		                                "host unknown",
		                                "source host isolated",
		                                "network administratively prohibited",
		                                "host administratively prohibited",
		                                "network unreachable for TOS",
		                                "host unreachable for TOS",
		                                "communication administratively prohibited",
		                                "host precedence violation",
		                                "precedence cutoff"};
		return code < 16 ? c[code] : "destination unreachable";
	}
	if (v6 && type == SM_ICMP6_UNREACH) {
		static const char *const c[] = {"no route to destination",
		                                "communication administratively prohibited",
		                                "beyond scope of source address",
		                                "address unreachable",
		                                "port unreachable",
		                                "source address failed policy",
		                                "reject route to destination"};
		return code < 7 ? c[code] : "destination unreachable";
	}
	if ((!v6 && type == SM_ICMP_TIME_EXCEEDED) || (v6 && type == SM_ICMP6_TIME_EXCEEDED))
		return "time exceeded (a routing loop or too many hops)";
	if (v6 && type == SM_ICMP6_PACKET_TOO_BIG)
		return "packet too big";
	return "ICMP error";
}

void
policy_describe(const struct sm_policy *p, struct sm_expect_entry *e)
{
	char a[SM_ADDRSTRLEN], b[SM_ADDRSTRLEN], x[SM_ADDRSTRLEN];
	uint64_t failed = e->rejected + e->no_answer + e->one_way + e->stalled;
	switch (e->verdict) {
	case V_OK: {
		char stalled[320] = "";
		if (e->stalled > 0)
			snprintf(
			    stalled, sizeof(stalled),
			    ", %llu stalled: data resent, never acknowledged, in segments of up "
			    "to %u bytes: a path MTU black hole drops segments that large (jumbo "
			    "frames through a smaller MTU, its 'fragmentation needed' or 'packet "
			    "too big' dropped), or the receiver stopped answering",
			    (unsigned long long)e->stalled, e->stall_len);
		if (e->rejected + e->no_answer + e->stalled > 0)
			snprintf(e->detail, sizeof(e->detail),
			         "intermittent: %llu of %llu sessions failed (%llu rejected, %llu "
			         "unanswered%s)",
			         (unsigned long long)failed, (unsigned long long)e->sessions,
			         (unsigned long long)e->rejected, (unsigned long long)e->no_answer,
			         stalled);
		break;
	}
	case V_REJECTED:
		sm_addr_str(&e->try_dst, b, sizeof(b));
		if (e->icmp_seen) {
			sm_addr_str(&e->icmp_from, x, sizeof(x));
			snprintf(e->detail, sizeof(e->detail),
			         "%llu attempt(s) rejected by ICMP %s from %s (TTL %u)%s",
			         (unsigned long long)e->rejected,
			         icmp_reason(e->icmp_type, e->icmp_code, e->icmp_from.family == 6),
			         x, e->icmp_ttl,
			         strcmp(x, b) ? ": sent by a device in the path, not by the "
			                        "destination"
			                      : "");
		} else {
			sm_addr_str(&e->rst_from, x, sizeof(x));
			uint16_t own = policy_ttl_of(p, &e->rst_from);
			char why[200];
			if (own == TTL_UNKNOWN || own == TTL_VARIES)
				snprintf(why, sizeof(why),
				         "nothing listens on the port, or a firewall resets in its "
				         "name");
			else if (own == e->rst_ttl + 1)
				snprintf(
				    why, sizeof(why),
				    "%s's own packets arrive with the same TTL: it reset them "
				    "itself (nothing listens on the port), or a device as many "
				    "hops away did",
				    x);
			else
				snprintf(
				    why, sizeof(why),
				    "but %s's own packets arrive with TTL %u: a device in the path "
				    "reset them in its name (a firewall's REJECT with a reset)",
				    x, own - 1);
			snprintf(e->detail, sizeof(e->detail),
			         "%llu attempt(s) answered by TCP RST from %s (TTL %u): %s",
			         (unsigned long long)e->rejected, x, e->rst_ttl, why);
		}
		break;
	case V_NO_ANSWER:
		sm_addr_str(&e->try_src, a, sizeof(a));
		sm_addr_str(&e->try_dst, b, sizeof(b));
		if (e->answer_lost == e->no_answer) {
			snprintf(e->detail, sizeof(e->detail),
			         "%llu attempt(s) from %s to %s answered with SYN-ACK, never "
			         "acknowledged (%llu SYN sent): the answer does not reach %s (a "
			         "firewall dropping the return traffic, or an asymmetric route)",
			         (unsigned long long)e->no_answer, a, b,
			         (unsigned long long)e->syns, a);
			break;
		}
		if (e->bare_acked == e->no_answer) {
			snprintf(
			    e->detail, sizeof(e->detail),
			    "%llu attempt(s) from %s to %s answered only by a bare ACK, never a "
			    "SYN-ACK (%llu SYN sent): %s, or a firewall in the path, still holds "
			    "an older connection between these ports (a challenge ACK, RFC 5961)",
			    (unsigned long long)e->no_answer, a, b, (unsigned long long)e->syns, b);
			break;
		}
		snprintf(e->detail, sizeof(e->detail),
		         "%llu attempt(s) from %s to %s never answered (%llu %s sent): typical "
		         "of a firewall that silently drops%s",
		         (unsigned long long)e->no_answer, a, b,
		         (unsigned long long)(e->rule->proto == 6 ? e->syns : e->requests),
		         e->rule->proto == 1    ? "echo request(s)"
		         : e->rule->proto == 17 ? "datagram(s)"
		                                : "SYN",
		         e->rst_ignored > 0   ? "; the resets that came back do not acknowledge "
		                                "the SYN, so the initiator ignores them (RFC 9293)"
		         : e->answer_late > 0 ? "; a SYN-ACK came only after the initiator had "
		                                "given up (it reset it): the answers were held "
		                                "back or dropped on their way"
		                              : "");
		if (p->visible != NULL) {
			bool icmp = !p->visible(p->visible_ctx, e->rule->proto, &e->try_src,
			                        &e->try_dst, e->rule->port, SM_VISIBLE_REFUSAL);
			bool rst = !p->visible(p->visible_ctx, e->rule->proto, &e->try_src,
			                       &e->try_dst, e->rule->port, SM_VISIBLE_RESET);
			size_t n = strlen(e->detail);
			if (icmp || rst)
				snprintf(
				    e->detail + n, sizeof(e->detail) - n,
				    "; but the capture filter (-f) drops %s: a refusal (rejected) "
				    "would look the same",
				    icmp && rst
				        ? "the TCP resets of this flow and ICMP errors about it"
				    : rst ? "the TCP resets of this flow"
				          : "ICMP errors about this flow");
		}
		break;
	case V_ONE_WAY:
		snprintf(e->detail, sizeof(e->detail),
		         "packets seen in one direction only (%llu session(s)): the capture "
		         "sees half of this path (asymmetric routing or a span of one direction)",
		         (unsigned long long)e->one_way);
		break;
	case V_NOT_SEEN: {
		if (e->under_way > 0) {
			char who[SM_ADDRSTRLEN];
			sm_addr_str(&e->under_way_rst, who, sizeof(who));
			snprintf(e->detail, sizeof(e->detail),
			         "no attempt of this flow was seen: only %llu connection(s) opened "
			         "before the capture (no SYN seen), ended by a reset from %s (the "
			         "%s, TTL %u): an established connection reset, not one refused; "
			         "if a device in the path sent it (a TTL other than the %s's), it "
			         "cuts established traffic",
			         (unsigned long long)e->under_way, who,
			         e->under_way_by_responder ? "responder" : "initiator",
			         e->under_way_ttl,
			         e->under_way_by_responder ? "responder" : "initiator");
			break;
		}
		bool s_seen = policy_member_seen(p, e->src_role, e->src_member);
		bool d_seen = policy_member_seen(p, e->dst_role, e->dst_member);
		if (!s_seen && !d_seen)
			snprintf(e->detail, sizeof(e->detail),
			         "no packet of this flow; neither side appears anywhere in the "
			         "capture: the span port may not see this path");
		else if (!s_seen || !d_seen)
			snprintf(e->detail, sizeof(e->detail),
			         "no packet of this flow; the %s never appears in the capture: the "
			         "span port may not see it",
			         !s_seen ? "initiator" : "responder");
		else
			snprintf(
			    e->detail, sizeof(e->detail),
			    "no packet of this flow although both sides appear in the "
			    "capture: the initiator never tried this port, or something between it "
			    "and the capture point stopped the attempt");
		break;
	}
	case V_NA:
		snprintf(e->detail, sizeof(e->detail), "role %s is not defined in the site file",
		         e->src_role == NULL ? e->rule->src_role : e->rule->dst_role);
		break;
	case V_FILTERED:
		if (e->snap_cut > 0) {
			snprintf(
			    e->detail, sizeof(e->detail),
			    "%llu packet(s) between these addresses were cut before their ports "
			    "by the capture's snap length: the capture cannot say whether this "
			    "flow works (capture again with a larger snap length: tcpdump -s 0)",
			    (unsigned long long)e->snap_cut);
			break;
		}
		snprintf(e->detail, sizeof(e->detail),
		         "%s: the capture filter (-f) would drop packets of this flow (%s -> %s), "
		         "so the capture cannot say whether it works",
		         e->tried ? "attempts seen, but their answers could be filtered"
		                  : "no packet of this flow",
		         e->hidden_src, e->hidden_dst);
		break;
	case V_NONE: /* never an entry's verdict */
		break;
	}
	if (e->cut_edges != 0 && e->verdict != V_OK && e->verdict != V_FILTERED) {
		size_t n = strlen(e->detail);
		snprintf(
		    e->detail + n, sizeof(e->detail) - n, "%s%s",
		    (e->cut_edges & SM_EDGE_END)
		        ? "; but the capture ended less than 1 s after these attempts began: "
		          "what followed them is unseen"
		        : "",
		    (e->cut_edges & SM_EDGE_START)
		        ? "; but these sessions were under way when the capture began (seen "
		          "first in its first second, without their opening): what opened them "
		          "is unseen"
		        : "");
	}
	if (e->verdict == V_OK && e->app_read == 0 && e->app_unverified > 0) {
		size_t n = strlen(e->detail);
		snprintf(e->detail + n, sizeof(e->detail) - n,
		         "%sits protocol (%s) was not verified: the first bytes of its %llu "
		         "session(s) with payload are not in the capture (picked up mid-way, "
		         "or lost by the capture)",
		         n ? "; " : "", sm_app_name(e->rule->app),
		         (unsigned long long)e->app_unverified);
	}
}
