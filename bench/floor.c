/* The pcap-read floor: a minimal libpcap loop that only counts packets and
 * bytes.  smaudit's time on the same file is reported as a ratio of this. */
#include <pcap/pcap.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	unsigned long long pkts = 0, bytes = 0;
	for (int i = 1; i < argc; i++) {
		pcap_t *p = pcap_open_offline(argv[i], err);
		if (p == NULL) {
			fprintf(stderr, "floor: %s\n", err);
			return 3;
		}
		struct pcap_pkthdr *h;
		const u_char *d;
		while (pcap_next_ex(p, &h, &d) == 1) {
			pkts++;
			bytes += h->len;
		}
		pcap_close(p);
	}
	printf("%llu packets %llu bytes\n", pkts, bytes);
	return 0;
}
