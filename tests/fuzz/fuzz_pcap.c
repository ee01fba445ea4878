/* libFuzzer target: the classic-pcap reader (our in-place reader, and libpcap
 * where it hands over).  Input: a pcap file; anything not starting with a classic
 * pcap magic is left to the other targets. */
#include "fuzz_capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magics[][4] = {{0xd4, 0xc3, 0xb2, 0xa1},
	                                    {0x4d, 0x3c, 0xb2, 0xa1},
	                                    {0xa1, 0xb2, 0xc3, 0xd4},
	                                    {0xa1, 0xb2, 0x3c, 0x4d}};
	if (size < 4)
		return 0;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (memcmp(data, magics[i], 4) == 0)
			return fuzz_capture(data, size);
	return 0;
}
