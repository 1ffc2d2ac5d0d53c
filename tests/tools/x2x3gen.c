/* SPDX-License-Identifier: ISC */
/*
 * x2x3gen: writes a deterministic stream of X2/X3 PDUs made with
 * cl_x2x3_encode() and prints what an independent decoder should see.
 *
 *	x2x3gen [-s seed] [-n count] out.bin
 *
 * The stream mixes X2 PDUs carrying RADIUS packets (payload format 11,
 * a random subset of the attributes), X3 PDUs carrying IPv4 and IPv6
 * UDP packets (formats 5 and 6, every attribute clearli writes),
 * keepalives and keepalive acknowledgements that echo the last keepalive's
 * sequence number.  The first five PDUs are one of each kind; the rest are
 * drawn at random.  The same seed always gives the same bytes.
 *
 * Standard output starts with a line "#" followed by the names of the
 * Wireshark 4.0 5gli fields, tab-separated; then comes one line per PDU
 * with the value tshark -T fields should print for each (empty when the
 * field is absent).  The last two columns, li5g.attrType and li5g.attrLen,
 * list every attribute in order, comma-separated; the others are the
 * first occurrence only (the 4.0 dissector adds each attribute value
 * twice).  Integers are decimal, byte fields lower-case hex, as tshark
 * prints them (an empty payload is "<MISSING>", as tshark 4.0 prints it).
 *
 * Payloads are well-formed (lengths and checksums right) so that the
 * sub-dissectors Wireshark calls on them flag nothing.  Payload formats 15
 * and 16 are never used: Wireshark 4.0 indexes a 14-entry table with the
 * format.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "util.h"
#include "x2x3.h"

#define MAX_COUNT 100000

static const char *const fields[] = {"li5g.ver", "li5g.type", "li5g.hl",
    "li5g.pl", "li5g.pf", "li5g.pd", "li5g.xid", "li5g.cid", "li5g.did",
    "li5g.nfid", "li5g.ipid", "li5g.sq", "li5g.ts", "li5g.srcip", "li5g.dstip",
    "li5g.srcipv6", "li5g.dstipv6", "li5g.srcport", "li5g.dstport",
    "li5g.ipproto", "li5g.mti", "li5g.pld", "li5g.attrType", "li5g.attrLen"};

enum kind { K_X2_RADIUS, K_X3_V4, K_X3_V6, K_KEEPALIVE, K_ACK, K_NKINDS };

static uint64_t rng;

/* xorshift64*: small, deterministic, good enough for test data. */
static uint32_t
rnd(uint32_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * UINT64_C(2685821657736338717)) >> 32) % n;
}

static void
rnd_bytes(uint8_t *p, size_t n)
{
	while (n-- > 0)
		*p++ = (uint8_t)rnd(256);
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Printable filler for UDP payloads, so no heuristic dissector bites. */
static void
text(uint8_t *p, size_t n)
{
	static const char words[] = "clearli x2x3 test payload ";
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)words[(i + rnd(2)) % (sizeof(words) - 1)];
}

/* UDP header + data at p, checksum over the given pseudo-header sum. */
static size_t
udp(uint8_t *p, uint16_t sport, uint16_t dport, size_t dlen, uint32_t ph)
{
	size_t n = 8 + dlen;
	uint16_t c;

	cl_store_u16(p, sport);
	cl_store_u16(p + 2, dport);
	cl_store_u16(p + 4, (uint16_t)n);
	cl_store_u16(p + 6, 0);
	text(p + 8, dlen);
	c = fold(sum16(p, n, ph + 17 + (uint32_t)n));
	cl_store_u16(p + 6, c == 0 ? 0xffff : c);
	return n;
}

static size_t
ipv4_udp(uint8_t *p, const struct cl_x2x3_pdu *x, size_t dlen)
{
	uint32_t ph = sum16(x->src.a, 4, sum16(x->dst.a, 4, 0));
	size_t n = 20 + udp(p + 20, x->sport, x->dport, dlen, ph);

	p[0] = 0x45;
	p[1] = 0;
	cl_store_u16(p + 2, (uint16_t)n);
	cl_store_u16(p + 4, (uint16_t)rnd(65536));
	cl_store_u16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 17;
	cl_store_u16(p + 10, 0);
	memcpy(p + 12, x->src.a, 4);
	memcpy(p + 16, x->dst.a, 4);
	cl_store_u16(p + 10, fold(sum16(p, 20, 0)));
	return n;
}

static size_t
ipv6_udp(uint8_t *p, const struct cl_x2x3_pdu *x, size_t dlen)
{
	uint32_t ph = sum16(x->src.a, 16, sum16(x->dst.a, 16, 0));
	size_t ulen = udp(p + 40, x->sport, x->dport, dlen, ph);

	cl_store_u32(p, 0x60000000);
	cl_store_u16(p + 4, (uint16_t)ulen);
	p[6] = 17;
	p[7] = 64;
	memcpy(p + 8, x->src.a, 16);
	memcpy(p + 24, x->dst.a, 16);
	return 40 + ulen;
}

static size_t
radius_attr(uint8_t *p, uint8_t type, const void *v, size_t n)
{
	p[0] = type;
	p[1] = (uint8_t)(2 + n);
	memcpy(p + 2, v, n);
	return 2 + n;
}

/* An Accounting-Request (RFC 2866) for subscriber number id. */
static size_t
radius(uint8_t *p, unsigned id)
{
	char s[64];
	uint8_t v[4];
	size_t n = 20;
	int l;

	p[0] = 4;
	p[1] = (uint8_t)rnd(256);
	rnd_bytes(p + 4, 16);
	l = snprintf(s, sizeof(s), "user%u@example.net", id);
	n += radius_attr(p + n, 1, s, (size_t)l);
	cl_store_u32(v, 1 + rnd(3)); /* Start, Stop, Interim-Update */
	n += radius_attr(p + n, 40, v, 4);
	v[0] = 100;
	v[1] = 64;
	v[2] = (uint8_t)rnd(256);
	v[3] = (uint8_t)(1 + rnd(254));
	n += radius_attr(p + n, 8, v, 4);
	l = snprintf(s, sizeof(s), "%08x", rnd(~0u));
	n += radius_attr(p + n, 44, s, (size_t)l);
	cl_store_u16(p + 2, (uint16_t)n);
	return n;
}

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void
put_addr(FILE *f, const struct cl_addr *a, int family)
{
	char s[INET6_ADDRSTRLEN];

	if (a->family == family &&
	    inet_ntop(family == 4 ? AF_INET : AF_INET6, a->a, s, sizeof(s)))
		fputs(s, f);
}

/* tshark's text for an FT_ABSOLUTE_TIME shown in UTC. */
static void
put_time(FILE *f, uint32_t sec, uint32_t nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char s[64];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%b %e, %Y %H:%M:%S", &tm) == 0)
		return;
	fprintf(f, "%s.%09u UTC", s, nsec);
}

/* Appends "t" or ",t" for each attribute, in the order they are written. */
static void
put_list(FILE *f, const unsigned *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", v[i]);
}

static void
print_expected(FILE *f, const struct cl_x2x3_pdu *x)
{
	unsigned types[16], lens[16];
	size_t na = 0;
	char xid[CL_UUID_STRLEN + 1];

#define ATTR(t, l)                                                             \
	do {                                                                   \
		types[na] = (t);                                               \
		lens[na++] = (unsigned)(l);                                    \
	} while (0)
	if (x->has_did)
		ATTR(CL_X2X3_ATTR_DID, 16);
	if (x->nfid.len > 0)
		ATTR(CL_X2X3_ATTR_NFID, x->nfid.len);
	if (x->ipid.len > 0)
		ATTR(CL_X2X3_ATTR_IPID, x->ipid.len);
	if (x->has_seqno)
		ATTR(CL_X2X3_ATTR_SEQNO, 4);
	if (x->has_ts)
		ATTR(CL_X2X3_ATTR_TIMESTAMP, 8);
	if (x->src.family == 4)
		ATTR(CL_X2X3_ATTR_SRC_IPV4, 4);
	if (x->dst.family == 4)
		ATTR(CL_X2X3_ATTR_DST_IPV4, 4);
	if (x->src.family == 6)
		ATTR(CL_X2X3_ATTR_SRC_IPV6, 16);
	if (x->dst.family == 6)
		ATTR(CL_X2X3_ATTR_DST_IPV6, 16);
	if (x->has_sport)
		ATTR(CL_X2X3_ATTR_SRC_PORT, 2);
	if (x->has_dport)
		ATTR(CL_X2X3_ATTR_DST_PORT, 2);
	if (x->has_ipproto)
		ATTR(CL_X2X3_ATTR_IPPROTO, 1);
	if (x->mti.len > 0)
		ATTR(CL_X2X3_ATTR_MTI, x->mti.len);
#undef ATTR
	{
		size_t hl = CL_X2X3_FIXED_LEN, i;

		for (i = 0; i < na; i++)
			hl += 4 + lens[i];
		fprintf(f, "%u\t%u\t%zu\t%zu\t%u\t%u\t", CL_X2X3_VERSION,
		    x->type, hl, x->payload.len, x->pformat, x->pdir);
	}
	cl_format_uuid(x->xid, xid);
	fprintf(f, "%s\t", xid);
	put_hex(f, x->cid, 8);
	fputc('\t', f);
	if (x->has_did)
		put_hex(f, x->did, 16);
	fputc('\t', f);
	put_hex(f, x->nfid.p, x->nfid.len);
	fputc('\t', f);
	put_hex(f, x->ipid.p, x->ipid.len);
	fputc('\t', f);
	if (x->has_seqno)
		fprintf(f, "%u", x->seqno);
	fputc('\t', f);
	if (x->has_ts)
		put_time(f, x->ts_sec, x->ts_nsec);
	fputc('\t', f);
	put_addr(f, &x->src, 4);
	fputc('\t', f);
	put_addr(f, &x->dst, 4);
	fputc('\t', f);
	put_addr(f, &x->src, 6);
	fputc('\t', f);
	put_addr(f, &x->dst, 6);
	fputc('\t', f);
	if (x->has_sport)
		fprintf(f, "%u", x->sport);
	fputc('\t', f);
	if (x->has_dport)
		fprintf(f, "%u", x->dport);
	fputc('\t', f);
	if (x->has_ipproto)
		fprintf(f, "%u", x->ipproto);
	fputc('\t', f);
	put_hex(f, x->mti.p, x->mti.len);
	fputc('\t', f);
	/* tshark 4.0 prints an empty byte field as "<MISSING>". */
	if (x->payload.len == 0)
		fputs("<MISSING>", f);
	put_hex(f, x->payload.p, x->payload.len);
	fputc('\t', f);
	put_list(f, types, na);
	fputc('\t', f);
	put_list(f, lens, na);
	fputc('\n', f);
}

struct gen {
	uint8_t xids[3][CL_UUID_LEN];
	uint8_t did[CL_UUID_LEN];
	uint32_t seq;    /* X2/X3 sequence number */
	uint32_t ka_seq; /* keepalive sequence number */
	bool have_ka;
	/* storage the current PDU's spans point into */
	char nfid[32], ipid[32], mti[64];
	uint8_t payload[4096];
};

static struct cl_span
span(const char *s)
{
	struct cl_span sp = {(const uint8_t *)s, strlen(s)};

	return sp;
}

static void
make(struct gen *g, enum kind k, struct cl_x2x3_pdu *x)
{
	unsigned sub = rnd(1000);
	size_t i;

	memset(x, 0, sizeof(*x));
	if (k == K_KEEPALIVE) {
		cl_x2x3_keepalive(x, false, ++g->ka_seq);
		g->have_ka = true;
		return;
	}
	if (k == K_ACK) {
		/* Echoes the last keepalive, or 0 before any. */
		cl_x2x3_keepalive(x, true, g->have_ka ? g->ka_seq : 0);
		return;
	}
	x->type = k == K_X2_RADIUS ? CL_X2X3_X2 : CL_X2X3_X3;
	x->pdir = (uint16_t)(1 + rnd(5));
	memcpy(x->xid, g->xids[rnd(3)], CL_UUID_LEN);
	/* Correlation ID: one value per subscriber session. */
	cl_store_u32(x->cid, 0x00c1ea00 | (sub >> 8));
	cl_store_u32(x->cid + 4, sub * 2654435761u);
	snprintf(g->nfid, sizeof(g->nfid), "clearli-poi-%u", rnd(4));
	snprintf(g->ipid, sizeof(g->ipid), "eth%u", rnd(8));
	snprintf(g->mti, sizeof(g->mti), "user%u-\xc3\xa9@example.org", sub);

	/* X3 carries every attribute; X2 a random subset of them. */
	if (x->type == CL_X2X3_X3 || rnd(2)) {
		x->has_did = true;
		memcpy(x->did, g->did, CL_UUID_LEN);
	}
	if (x->type == CL_X2X3_X3 || rnd(2))
		x->nfid = span(g->nfid);
	if (x->type == CL_X2X3_X3 || rnd(2))
		x->ipid = span(g->ipid);
	if (x->type == CL_X2X3_X3 || rnd(2)) {
		x->has_seqno = true;
		x->seqno = g->seq++;
	}
	if (x->type == CL_X2X3_X3 || rnd(2)) {
		x->has_ts = true;
		x->ts_sec = 1600000000 + rnd(400000000);
		x->ts_nsec = rnd(1000000000);
	}
	if (k == K_X3_V6) {
		x->src.family = x->dst.family = 6;
		x->src.a[0] = x->dst.a[0] = 0x20;
		x->src.a[1] = x->dst.a[1] = 0x01;
		x->src.a[2] = x->dst.a[2] = 0x0d;
		x->src.a[3] = x->dst.a[3] = 0xb8;
		for (i = 4; i < 16; i++) {
			/* Some zero runs, so that "::" is exercised. */
			x->src.a[i] = i < 12 ? 0 : (uint8_t)rnd(256);
			x->dst.a[i] = (uint8_t)(rnd(3) ? 0 : rnd(256));
		}
		x->dst.a[15] |= 1;
	} else if (k == K_X3_V4 || rnd(2)) {
		x->src.family = x->dst.family = 4;
		cl_store_u32(x->src.a, 0x64400000 | rnd(1 << 16));
		cl_store_u32(x->dst.a, 0xc6336400 | rnd(256));
	}
	if (x->type == CL_X2X3_X3 || rnd(2)) {
		x->has_sport = x->has_dport = true;
		x->sport = (uint16_t)(40000 + rnd(1000));
		x->dport = (uint16_t)(41000 + rnd(1000));
	}
	if (x->type == CL_X2X3_X3 || rnd(2)) {
		x->has_ipproto = true;
		x->ipproto = 17;
	}
	if (x->type == CL_X2X3_X3 || rnd(2))
		x->mti = span(g->mti);

	switch (k) {
	case K_X2_RADIUS:
		x->pformat = CL_X2X3_PF_RADIUS;
		x->payload.len = radius(g->payload, sub);
		break;
	case K_X3_V4:
		x->pformat = CL_X2X3_PF_IPV4;
		x->payload.len = ipv4_udp(g->payload, x, rnd(3000));
		break;
	default:
		x->pformat = CL_X2X3_PF_IPV6;
		x->payload.len = ipv6_udp(g->payload, x, rnd(3000));
		break;
	}
	x->payload.p = g->payload;
}

static void
usage(void)
{
	fprintf(stderr, "usage: x2x3gen [-s seed] [-n count] out.bin\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct cl_x2x3_pdu x;
	struct cl_buf b;
	struct gen g;
	uint64_t seed = 1, count = 50;
	FILE *out;
	size_t i;
	int c, r;

	while ((c = getopt(argc, argv, "s:n:")) != -1) {
		switch (c) {
		case 's':
			if (cl_parse_u64(optarg, 0, UINT64_MAX, &seed) != 0)
				usage();
			break;
		case 'n':
			if (cl_parse_u64(optarg, 1, MAX_COUNT, &count) != 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();

	/* Never let the state be 0, which xorshift cannot leave. */
	rng = seed ^ UINT64_C(0x9e3779b97f4a7c15);
	if (rng == 0)
		rng = 1;
	memset(&g, 0, sizeof(g));
	for (i = 0; i < 3; i++) {
		rnd_bytes(g.xids[i], CL_UUID_LEN);
		g.xids[i][6] = (uint8_t)((g.xids[i][6] & 0x0f) | 0x40);
		g.xids[i][8] = (uint8_t)((g.xids[i][8] & 0x3f) | 0x80);
	}
	rnd_bytes(g.did, CL_UUID_LEN);
	g.seq = rnd(~0u);
	g.ka_seq = rnd(1000);

	cl_buf_init(&b, 64u * 1024 * 1024);
	putchar('#');
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		printf("%s%s", i ? "\t" : "", fields[i]);
	putchar('\n');
	for (i = 0; i < count; i++) {
		enum kind k =
		    i < K_NKINDS ? (enum kind)i : (enum kind)rnd(K_NKINDS);

		make(&g, k, &x);
		if ((r = cl_x2x3_encode(&b, &x)) != 0) {
			fprintf(stderr, "x2x3gen: encode: %s\n", cl_err_str(r));
			return 1;
		}
		print_expected(stdout, &x);
	}
	if ((out = fopen(argv[optind], "wb")) == NULL ||
	    fwrite(b.d, 1, b.len, out) != b.len || fclose(out) != 0) {
		perror(argv[optind]);
		return 1;
	}
	cl_buf_release(&b);
	return fflush(stdout) == 0 ? 0 : 1;
}
