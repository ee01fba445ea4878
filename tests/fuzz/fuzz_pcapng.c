/* libFuzzer target: our pcapng parser (sections, interfaces with their own link
 * types and clocks, enhanced, simple and obsolete packet blocks).  Input: a pcapng
 * file; anything not starting with a section header block is left to the others. */
#include "fuzz_capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t shb[4] = {0x0a, 0x0d, 0x0d, 0x0a};
	if (size < 4 || memcmp(data, shb, 4) != 0)
		return 0;
	return fuzz_capture(data, size);
}
