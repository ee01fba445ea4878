/* libFuzzer target: a sequence of Ethernet frames through the decoder and a small
 * session table (evictions, port reuse, timeouts, ICMP errors, fragments).
 * Input: records of [u16 length][u16 time step in ms][frame]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smaudit/capture.h"
#include "smaudit/decode.h"
#include "smaudit/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	(void)why;
	uint64_t *n = ctx;
	(*n)++;
	(void)sm_session_state(s);
	(void)sm_session_established(s);
	(void)sm_session_app(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sm_decoder_opts dopts = {8, 2000000000, true};
	struct sm_decoder *dec = sm_decoder_new(&dopts);
	struct sm_session_opts sopts;
	memset(&sopts, 0, sizeof(sopts));
	sopts.max_sessions = 8;
	sopts.tcp_timeout_ns = 5000000000;
	uint64_t emitted = 0;
	struct sm_session_table *tab = sm_session_table_new(&sopts, check, &emitted);
	int64_t t = 1000000000;
	size_t off = 0;
	while (off + 4 <= size) {
		size_t len = (size_t)(data[off] | data[off + 1] << 8) % 2048;
		t += (int64_t)(data[off + 2] | data[off + 3] << 8) * 1000000;
		off += 4;
		if (len > size - off)
			len = size - off;
		uint8_t *frame = malloc(len ? len : 1);
		memcpy(frame, data + off, len);
		off += len;
		struct sm_raw_packet raw = {t, (uint32_t)len, (uint32_t)len, 1, 0, frame};
		struct sm_packet p;
		if (sm_decode(dec, &raw, &p) == DEC_OK)
			sm_session_packet(tab, &p, NULL);
		free(frame);
	}
	sm_decoder_finish(dec);
	sm_session_flush(tab);
	struct sm_session_stats st;
	sm_session_stats(tab, &st);
	if (st.emitted != emitted || st.active != 0)
		abort(); /* every session leaves the table exactly once */
	sm_session_table_free(tab);
	sm_decoder_free(dec);
	return 0;
}
