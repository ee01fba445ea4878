/* libFuzzer target: one packet of any link type through the decoder, the
 * session table and the protocol recognisers.  Input: 2 bytes choosing the
 * link type, then the packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smaudit/app.h"
#include "smaudit/capture.h"
#include "smaudit/decode.h"
#include "smaudit/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	(void)ctx;
	(void)why;
	(void)sm_session_app(s);
}

/* Link types the decoder knows (DLT and LINKTYPE values), and some it does not. */
static const int linktypes[] = {1,   0,   9,   12,  14,  50,  51,  101, 104, 105, 108,
                                113, 119, 127, 192, 228, 229, 239, 276, 147, 999};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	struct sm_decoder_opts dopts = {16, 0, true};
	struct sm_decoder *dec = sm_decoder_new(&dopts);
	struct sm_session_opts sopts;
	memset(&sopts, 0, sizeof(sopts));
	sopts.max_sessions = 4;
	struct sm_session_table *tab = sm_session_table_new(&sopts, ignore, NULL);
	uint16_t sel = (uint16_t)(data[0] | data[1] << 8);
	/* the packet is copied so reads past its end hit ASan's redzone */
	uint8_t *pkt = malloc(size - 2 ? size - 2 : 1);
	memcpy(pkt, data + 2, size - 2);
	struct sm_raw_packet raw = {1000000000,
	                            (uint32_t)(size - 2),
	                            (uint32_t)(size - 2),
	                            linktypes[sel % (sizeof(linktypes) / sizeof(linktypes[0]))],
	                            0,
	                            pkt};
	struct sm_packet p;
	if (sm_decode(dec, &raw, &p) == DEC_OK) {
		sm_session_packet(tab, &p, NULL);
		if (p.payload_caplen > 0) {
			char detail[96];
			sm_app_detect(p.payload, p.payload_caplen, sel & 0x8000, detail,
			              sizeof(detail));
		}
	}
	sm_decoder_finish(dec);
	sm_session_flush(tab);
	sm_session_table_free(tab);
	sm_decoder_free(dec);
	free(pkt);
	return 0;
}
