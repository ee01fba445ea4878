/*
 * reasm: the only user of libnids.  Follows IPv4 TCP streams through
 * libnids' reassembly (packets already decoded by us are fed through a
 * DLT_RAW descriptor, so every link type, tunnel and VLAN depth works) and
 * reports what the first bytes of each side are (app.h) to the session the
 * caller names with each packet.  libnids is global and not thread-safe: one
 * reassembler per process at a time; its state stays behind reasm.c.
 */
#ifndef SMAUDIT_REASM_H
#define SMAUDIT_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/app.h"
#include "smaudit/decode.h"
#include "smaudit/err.h"

/* One side of a stream recognised.  client: the side that sent the SYN. */
struct sm_reasm_result {
	struct sm_addr client, server;
	uint16_t client_port, server_port;
	bool from_client;
	enum sm_app app;
	const char *detail;
	/* the client, whose first bytes named no protocol, switched to TLS later
	 * (STARTTLS): detail is its ClientHello, app stays what it was */
	bool upgrade;
	/* libnids lets go of the stream, both sides decided: feed no more of it.
	 * watch: how many more of the client's segments to look at for a switch to
	 * TLS (SM_APP_SWITCH_WATCH at most; 0: the watch is over); app and detail
	 * are unset. */
	bool let_go;
	unsigned watch;
};

struct sm_session;

/* s: the session named by the sm_reasm_packet() or sm_reasm_end() call that
 * libnids called back from. */
typedef void (*sm_reasm_fn)(void *ctx, struct sm_session *s, const struct sm_reasm_result *r);

struct sm_reasm_stats {
	uint64_t packets;    /* IPv4 packets fed */
	uint64_t streams;    /* handshakes libnids followed */
	uint64_t table_full; /* streams libnids dropped because its table was full */
	uint64_t lost;       /* streams it dropped (full table, closing timed out) before
	                      * their sides were decided: their sessions end unverified */
	uint64_t finished;   /* streams let go once both sides were recognised */
};

struct sm_reasm;

/* max_streams bounds libnids' stream table (0 = 16384).  Fails with SM_ERR_USAGE
 * when another reassembler exists. */
enum sm_err sm_reasm_new(struct sm_reasm **out, uint32_t max_streams, sm_reasm_fn fn, void *ctx,
                         struct sm_errbuf *eb);
/* Feeds one decoded packet of session s (borrowed for the call: what libnids
 * reports meanwhile goes to s); only IPv4 with its header at pkt->l3 is used.
 * Once both sides of a stream are recognised libnids forgets it and says so
 * (a result with let_go): feed no more of it. */
void sm_reasm_packet(struct sm_reasm *r, const struct sm_packet *pkt, struct sm_session *s);
/* Session s of a stream ends (it leaves the session table while libnids may
 * still hold it): sides still waiting for bytes are decided and reported to s
 * now. */
void sm_reasm_end(struct sm_reasm *r, const struct sm_addr *client, uint16_t client_port,
                  const struct sm_addr *server, uint16_t server_port, struct sm_session *s);
void sm_reasm_stats(const struct sm_reasm *r, struct sm_reasm_stats *out);
void sm_reasm_free(struct sm_reasm *r);

#endif
