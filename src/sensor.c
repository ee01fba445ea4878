/*
 * sensor: clock offsets of capture points.  Each sensor's first packets are read
 * (capture, decode), and each packet's identity (addresses, ports, IP ID, TCP
 * numbers, payload length and first bytes) is hashed into one bounded table that
 * keeps, per sensor, when it was seen, its TTL and how often.  A pair of sensors
 * that saw the same packet once each gives one estimate of their offset; the
 * sensors are then placed one by one, each through the placed sensor it shares
 * most packets with (Prim's maximum spanning tree from sensor 0).
 */
#include "smaudit/sensor.h"

#include <stdlib.h>
#include <string.h>

#include "smaudit/capture.h"
#include "smaudit/decode.h"

/* Packets read of one sensor before the next one's turn. */
#define SCAN_SLICE 1024

/* Bytes of payload that take part in a packet's identity. */
#define ID_PAYLOAD_BYTES 16

/* The bounded table: entries in arrival order, an open-addressing index over them.
 * An entry is a 64-bit hash of the packet's identity (two packets colliding give one
 * stray estimate, which the medians ignore) and, per sensor, its time, TTL and count. */
struct seen {
	int64_t ts_ns;
	uint8_t ttl;
	uint8_t count; /* 0 not seen, 1 once, 2 more than once (ambiguous) */
};

struct packet_table {
	size_t nsensors;
	uint64_t *key;     /* [cap] */
	struct seen *seen; /* [cap * nsensors] */
	size_t n, cap;
	uint32_t *index; /* [nindex]: entry + 1, 0 = empty */
	size_t nindex;
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
	/* splitmix64's finalizer over the running value */
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static uint64_t
mix_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = 0;
		memcpy(&v, p + i, n - i < 8 ? n - i : 8);
		h = mix(h, v);
	}
	return h;
}

/* The identity of a decoded packet, or false when it has none that is reliable
 * (a fragment, a payload cut before the bytes compared). */
static bool
packet_identity(const struct sm_packet *p, uint64_t *out)
{
	if (p->fragment || !p->l4_header)
		return false;
	uint32_t want = p->payload_len < ID_PAYLOAD_BYTES ? p->payload_len : ID_PAYLOAD_BYTES;
	if (p->payload_caplen < want)
		return false;
	uint64_t h = mix(0, p->src.family);
	h = mix_bytes(h, p->src.a, sizeof(p->src.a));
	h = mix_bytes(h, p->dst.a, sizeof(p->dst.a));
	uint16_t ip_id = 0;
	if (p->l3 != NULL &&
	    p->l3_caplen >= 6) /* IPv4: the ID; 0 (atomic datagrams) adds nothing */
		ip_id = (uint16_t)(p->l3[4] << 8 | p->l3[5]);
	h = mix(h, (uint64_t)p->proto << 56 | (uint64_t)p->sport << 40 | (uint64_t)p->dport << 24 |
	               (uint64_t)ip_id << 8 | p->tcp_flags);
	h = mix(h, (uint64_t)p->seq << 32 | p->ack);
	h = mix(h, (uint64_t)p->payload_len << 24 | (uint64_t)p->icmp_type << 16 |
	               (uint64_t)p->icmp_code << 8);
	h = mix(h, p->icmp_id);
	*out = mix_bytes(h, p->payload, want);
	return true;
}

static enum sm_err
table_init(struct packet_table *t, size_t nsensors, size_t cap, struct sm_errbuf *eb)
{
	memset(t, 0, sizeof(*t));
	t->nsensors = nsensors;
	t->cap = cap;
	t->nindex = 1;
	while (t->nindex < cap * 2)
		t->nindex *= 2;
	t->key = malloc(cap * sizeof(*t->key));
	t->seen = calloc(cap * nsensors, sizeof(*t->seen));
	t->index = calloc(t->nindex, sizeof(*t->index));
	if (t->key == NULL || t->seen == NULL || t->index == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory matching the sensors' packets");
	return SM_OK;
}

static void
table_free(struct packet_table *t)
{
	free(t->key);
	free(t->seen);
	free(t->index);
}

/* One sensor being read. */
struct sensor_scan {
	struct sm_capture *cap; /* NULL: nothing (more) to read */
	struct sm_decoder *dec;
	uint64_t read;    /* packets read */
	uint64_t matched; /* its packets another sensor saw too */
	size_t budget;    /* table entries it may still create */
};

/* Notes that sensor saw the packet key at ts with ttl, and counts the packets it
 * shares with another sensor.  A new packet takes an entry only while the sensor has
 * not used its share of the table, so that no sensor can fill it alone. */
static void
table_note(struct packet_table *t, struct sensor_scan *scan, uint64_t key, size_t sensor,
           int64_t ts, uint8_t ttl)
{
	size_t mask = t->nindex - 1;
	for (size_t i = (size_t)key & mask;; i = (i + 1) & mask) {
		uint32_t e = t->index[i];
		if (e == 0) {
			if (scan[sensor].budget == 0 || t->n == t->cap)
				return;
			scan[sensor].budget--;
			e = (uint32_t)++t->n;
			t->index[i] = e;
			t->key[e - 1] = key;
		} else if (t->key[e - 1] != key) {
			continue;
		}
		struct seen *row = &t->seen[(size_t)(e - 1) * t->nsensors];
		if (row[sensor].count == 0) {
			row[sensor].ts_ns = ts;
			row[sensor].ttl = ttl;
			size_t others = 0, other = 0;
			for (size_t o = 0; o < t->nsensors; o++)
				if (o != sensor && row[o].count > 0) {
					others++;
					other = o;
				}
			if (others > 0)
				scan[sensor].matched++;
			if (others == 1) /* the first sensor that saw it has its first match too */
				scan[other].matched++;
		}
		if (row[sensor].count < 2)
			row[sensor].count++;
		return;
	}
}

/* Opens sensor's captures; captures that cannot be read leave the sensor without
 * packets (the audit says why). */
static enum sm_err
scan_open(struct sensor_scan *sc, const char *const *inputs, const uint32_t *sensor_of,
          size_t ninputs, size_t sensor, struct sm_errbuf *eb)
{
	const char **mine = malloc((ninputs ? ninputs : 1) * sizeof(*mine));
	if (mine == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory matching the sensors' packets");
	size_t n = 0;
	for (size_t i = 0; i < ninputs; i++)
		if (sensor_of[i] == sensor)
			mine[n++] = inputs[i];
	struct sm_errbuf ignored;
	if (n > 0 && sm_capture_open(&sc->cap, mine, n, NULL, NULL, NULL, &ignored) != SM_OK)
		sc->cap = NULL;
	free(mine);
	if (sc->cap == NULL)
		return SM_OK;
	struct sm_decoder_opts dopts = {.vxlan = true}; /* as the audit decodes */
	sc->dec = sm_decoder_new(&dopts);
	if (sc->dec == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory matching the sensors' packets");
	return SM_OK;
}

static void
scan_close(struct sensor_scan *sc)
{
	sm_decoder_free(sc->dec);
	sc->dec = NULL;
	sm_capture_close(sc->cap);
	sc->cap = NULL;
}

/* Reads up to n more packets of sensor into the table; false when it is done. */
static bool
scan_some(struct packet_table *t, struct sensor_scan *scan, size_t sensor, size_t n)
{
	struct sensor_scan *sc = &scan[sensor];
	struct sm_raw_packet raw;
	struct sm_packet p;
	for (size_t k = 0; k < n; k++) {
		if (sc->cap == NULL || sc->read == SM_CLOCK_SCAN_PACKETS ||
		    sm_capture_next(sc->cap, &raw) != SM_CAPTURE_PACKET) {
			scan_close(sc);
			return false;
		}
		sc->read++;
		uint64_t key;
		if (sm_decode(sc->dec, &raw, &p) == DEC_OK && packet_identity(&p, &key))
			table_note(t, scan, key, sensor, raw.ts_ns, p.ttl);
	}
	return true;
}

/* Reads the sensors in turn, a slice of each, until each has matched
 * SM_CLOCK_ENOUGH_MATCHES packets or none can read more (all read to their end or to
 * the bound): sensors that see the same traffic are placed after a few thousand
 * packets; while one still lacks matches, all read on (its packets may be further
 * on in another's capture). */
static enum sm_err
scan_sensors(struct packet_table *t, const char *const *inputs, const uint32_t *sensor_of,
             size_t ninputs, size_t nsensors, struct sm_errbuf *eb)
{
	struct sensor_scan scan[SM_SENSORS_MAX];
	memset(scan, 0, sizeof(scan));
	enum sm_err err = SM_OK;
	for (size_t s = 0; s < nsensors && err == SM_OK; s++) {
		scan[s].budget = t->cap / nsensors;
		err = scan_open(&scan[s], inputs, sensor_of, ninputs, s, eb);
	}
	bool more = err == SM_OK;
	while (more) {
		bool needed = false;
		for (size_t s = 0; s < nsensors; s++)
			needed = needed || scan[s].matched < SM_CLOCK_ENOUGH_MATCHES;
		more = false;
		for (size_t s = 0; s < nsensors && needed; s++)
			if (scan_some(t, scan, s, SCAN_SLICE))
				more = true;
	}
	for (size_t s = 0; s < nsensors; s++)
		scan_close(&scan[s]);
	return err;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts v[n] (n > 0) and returns its median. */
static int64_t
median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	return n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

/* How sensor j's clock relates to sensor i's, from the packets both saw once. */
struct pair_clock {
	uint64_t matched;
	int64_t offset_ns; /* added to j's times puts them on i's clock */
	int64_t spread_ns;
};

/* est[] holds room for the table's entries, three times: the estimates of packets
 * going i to j, j to i, and of all of them. */
static struct pair_clock
pair_estimate(const struct packet_table *t, size_t i, size_t j, int64_t *est)
{
	int64_t *fwd = est, *bwd = est + t->n, *all = est + 2 * t->n;
	size_t nf = 0, nb = 0, na = 0;
	for (size_t e = 0; e < t->n; e++) {
		const struct seen *si = &t->seen[e * t->nsensors + i];
		const struct seen *sj = &t->seen[e * t->nsensors + j];
		if (si->count != 1 || sj->count != 1)
			continue;
		int64_t d = si->ts_ns - sj->ts_ns;
		all[na++] = d;
		if (si->ttl > sj->ttl) /* i nearer the sender: d = offset - transit */
			fwd[nf++] = d;
		else if (si->ttl < sj->ttl) /* d = offset + transit */
			bwd[nb++] = d;
	}
	struct pair_clock pc = {na, 0, 0};
	if (na == 0)
		return pc;
	if (nf > 0 && nb > 0) {
		int64_t mf = median(fwd, nf), mb = median(bwd, nb);
		pc.offset_ns = mf + (mb - mf) / 2;
	}
	int64_t m = median(all, na); /* also sorts all, for the quartiles */
	if (nf == 0 || nb == 0)
		pc.offset_ns = m;
	pc.spread_ns = all[(3 * (na - 1)) / 4] - all[(na - 1) / 4];
	return pc;
}

enum sm_err
sm_sensor_clocks(const char *const *inputs, const uint32_t *sensor_of, size_t ninputs,
                 size_t nsensors, struct sm_sensor_clock *out, struct sm_errbuf *eb)
{
	if (nsensors == 0 || nsensors > SM_SENSORS_MAX)
		return sm_error(eb, SM_ERR_USAGE, "%zu sensors: between 1 and %d can be combined",
		                nsensors, SM_SENSORS_MAX);
	for (size_t i = 0; i < ninputs; i++)
		if (sensor_of[i] >= nsensors)
			return sm_error(eb, SM_ERR_USAGE, "%s: sensor %u of only %zu sensors",
			                inputs[i], sensor_of[i], nsensors);
	for (size_t s = 0; s < nsensors; s++)
		out[s] = (struct sm_sensor_clock){0, 0, 0, -1, s == 0};
	if (nsensors == 1)
		return SM_OK;
	struct packet_table t;
	enum sm_err err = table_init(&t, nsensors, SM_CLOCK_SCAN_PACKETS, eb);
	if (err == SM_OK)
		err = scan_sensors(&t, inputs, sensor_of, ninputs, nsensors, eb);
	int64_t *est = NULL;
	if (err == SM_OK && t.n > 0 && (est = malloc(3 * t.n * sizeof(*est))) == NULL)
		err = sm_error(eb, SM_ERR_NOMEM, "out of memory matching the sensors' packets");
	struct pair_clock pc[SM_SENSORS_MAX][SM_SENSORS_MAX];
	memset(pc, 0, sizeof(pc));
	for (size_t i = 0; i < nsensors && err == SM_OK && est != NULL; i++)
		for (size_t j = i + 1; j < nsensors; j++) {
			pc[i][j] = pair_estimate(&t, i, j, est);
			pc[j][i] = (struct pair_clock){pc[i][j].matched, -pc[i][j].offset_ns,
			                               pc[i][j].spread_ns};
		}
	free(est);
	table_free(&t);
	if (err != SM_OK)
		return err;
	/* place the sensor sharing most packets with a placed one, until none does */
	for (;;) {
		size_t best_i = 0, best_j = 0;
		uint64_t best = 0;
		for (size_t i = 0; i < nsensors; i++)
			for (size_t j = 0; j < nsensors; j++)
				if (out[i].known && !out[j].known && pc[i][j].matched > best) {
					best = pc[i][j].matched;
					best_i = i;
					best_j = j;
				}
		if (best == 0)
			return SM_OK;
		struct sm_sensor_clock *o = &out[best_j];
		o->known = true;
		o->matched = best;
		o->placed_via = (int)best_i;
		o->offset_ns = out[best_i].offset_ns + pc[best_i][best_j].offset_ns;
		o->spread_ns = out[best_i].spread_ns + pc[best_i][best_j].spread_ns;
	}
}
