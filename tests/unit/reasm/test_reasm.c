/* SPDX-License-Identifier: ISC */
/*
 * Fragment reassembly tests.  Expected lengths come from tshark 4.0
 * (ip.reassembled.length / ipv6.reassembled.length on the frame with
 * ip.fragment.count / ipv6.fragment.count), ports from the reassembled
 * frame's tcp/udp fields.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "capfile.h"
#include "decode.h"
#include "err.h"
#include "harness.h"
#include "reasm.h"
#include "util.h"

#define SEC 1000000000ull

static const char *
pcap_path(const char *rel)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "pcaps/%s", rel);
	return cl_test_path(buf);
}

struct done {
	size_t payload; /* reassembled fragmentable part */
	uint16_t sport, dport;
};

struct run {
	struct done d[64];
	size_t n;
	uint64_t drops;
	struct cl_reasm_stats st;
};

/*
 * Reads a capture, offers every fragment to a fresh reassembler and
 * decodes each datagram it completes with cl_decode_ip().
 */
static void
run_file(const char *rel, struct run *out, void (*each)(const struct cl_pkt *))
{
	struct cl_cap_pkt pkt;
	struct cl_pkt d, rd;
	struct cl_reasm *ra;
	struct cl_cap *c;
	const uint8_t *dg;
	size_t dlen, hl;
	int r;

	memset(out, 0, sizeof(*out));
	CHECK_INT_EQ(cl_cap_open_file(pcap_path(rel), &c), 0);
	ra = cl_reasm_new(64, 30 * SEC);
	CHECK(ra != NULL);
	while ((r = cl_cap_next(c, &pkt)) == 1) {
		if (cl_decode_frame(pkt.linktype, pkt.data, pkt.caplen, &d) !=
			0 ||
		    !d.is_frag)
			continue;
		r = cl_reasm_add(ra, &d,
		    (uint64_t)pkt.ts_sec * SEC + pkt.ts_nsec, &dg, &dlen);
		if (r < 0) {
			CHECK(dg == NULL && dlen == 0);
			out->drops++;
			continue;
		}
		if (r == 0)
			continue;
		CHECK_INT_EQ(r, 1);
		CHECK_INT_EQ(cl_decode_ip(dg, dlen, &rd), 0);
		CHECK(!rd.is_frag && !rd.truncated);
		CHECK_INT_EQ(rd.gtpu ? rd.outer_ip_len : rd.ip_len, dlen);
		CHECK(rd.gtpu ? rd.outer_ip == dg : rd.ip == dg);
		/* Same source address as the fragments. */
		CHECK_MEM_EQ(dg + (d.ipver == 4 ? 12 : 8), d.src.a,
		    d.ipver == 4 ? 4 : 16);
		hl = d.ipver == 4 ? (size_t)(dg[0] & 0x0f) * 4 : 40;
		CHECK(out->n < 64);
		out->d[out->n].payload = dlen - hl;
		out->d[out->n].sport = rd.sport;
		out->d[out->n].dport = rd.dport;
		out->n++;
		if (each != NULL)
			each(&rd);
	}
	CHECK_INT_EQ(r, 0);
	cl_reasm_stats(ra, &out->st);
	CHECK_INT_EQ(out->st.completed, out->n);
	cl_reasm_free(ra);
	cl_cap_free(c);
}

CL_TEST(frag_files_match_tshark)
{
	static const struct {
		const char *path;
		size_t n;
		struct done d[4];
	} want[] = {
	    {"frag/pcapplusplus__frag_http_req.pcap", 1, {{1480, 64415, 80}}},
	    {"frag/pcapplusplus__ip6_fragments.pcap", 4,
		{{741, 5353, 5353}, {1452, 5353, 5353}, {1003, 60245, 3702},
		    {786, 60245, 3702}}},
	    {"frag/zeek__fragmented-2.pcap", 0, {{0}}},
	    {"frag/zeek__fragmented-3.pcap", 0, {{0}}},
	    {"frag/zeek__fragmented-syn.pcap", 1, {{40, 12345, 80}}},
	    {"frag/zeek__ipv6-fragmented-dns.pcap", 1, {{3238, 53, 51851}}},
	    {"sip/sngrep__ipv6frag.pcap", 2,
		{{1699, 15060, 5062}, {1879, 5062, 25060}}},
	    {"frag/tcpdump__ip6_frag_asan.pcap", 0, {{0}}},
	    {"frag/tcpdump__ipv6_frag6_negative_len.pcap", 0, {{0}}},
	};
	struct run run;
	size_t i, k;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		run_file(want[i].path, &run, NULL);
		if (run.n != want[i].n)
			cl_test_fail(__FILE__, __LINE__, "%s: %zu datagrams",
			    want[i].path, run.n);
		for (k = 0; k < run.n; k++) {
			CHECK_INT_EQ(run.d[k].payload, want[i].d[k].payload);
			CHECK_INT_EQ(run.d[k].sport, want[i].d[k].sport);
			CHECK_INT_EQ(run.d[k].dport, want[i].d[k].dport);
		}
	}
}

CL_TEST(conflicting_overlap_dropped)
{
	struct run run;

	/*
	 * fragmented-1: a 18-byte first fragment (not a multiple of 8: not
	 * a valid non-last fragment), a last fragment at 48 (UDP header of
	 * zeros), then a 304-byte first fragment of 'X's that runs past the
	 * end and disagrees with it.  tshark "reassembles" 164 bytes from
	 * this; we drop the datagram as an overlap attack.
	 */
	run_file("frag/zeek__fragmented-1.pcap", &run, NULL);
	CHECK_INT_EQ(run.n, 0);
	CHECK_INT_EQ(run.st.fragments, 3);
	CHECK_INT_EQ(run.st.overlaps, 1);
	CHECK_INT_EQ(run.drops, 2);

	/*
	 * fragmented-4: the IDS-evasion classic.  [0,24) "GET ", [48,72)
	 * ".%2f..%2f..winnt/system32/cm", [72,89) "d.exe?/c+dir+c:\", then
	 * [24,72) "/msadc/..%2f..%2f..%2f.RKNWUrdooM+..." which disagrees
	 * with [48,72).  tshark keeps the first copy and reports 89 bytes;
	 * we refuse to pick a winner and drop the datagram.
	 */
	run_file("frag/zeek__fragmented-4.pcap", &run, NULL);
	CHECK_INT_EQ(run.n, 0);
	CHECK_INT_EQ(run.st.fragments, 4);
	CHECK_INT_EQ(run.st.overlaps, 1);
	CHECK_INT_EQ(run.drops, 1);
}

static const uint8_t ue[4] = {10, 131, 47, 185};
static size_t n_up, n_down;

static void
gtp_inner(const struct cl_pkt *d)
{
	CHECK(d->gtpu);
	CHECK_INT_EQ(d->ipver, 4);
	CHECK_INT_EQ(d->proto, 6);
	if (d->gtpu_teid == 0x8c61be36) {
		CHECK_MEM_EQ(d->src.a, ue, 4);
		CHECK_INT_EQ(d->sport, 1923);
		n_up++;
	} else {
		CHECK_INT_EQ(d->gtpu_teid, 0x0000b2b7);
		CHECK_MEM_EQ(d->dst.a, ue, 4);
		CHECK_INT_EQ(d->sport, 80);
		n_down++;
	}
}

CL_TEST(gtp_outer_fragments)
{
	struct run run;
	size_t k;

	/* 36 datagrams of 1496 bytes (tshark ip.reassembled.length): one
	 * uplink (TEID 0x8c61be36), 35 downlink (TEID 0x0000b2b7). */
	n_up = n_down = 0;
	run_file("gtp/zeek__gtp1_gn_normal_incl_fragmentation.pcap", &run,
	    gtp_inner);
	CHECK_INT_EQ(run.n, 36);
	for (k = 0; k < run.n; k++)
		CHECK_INT_EQ(run.d[k].payload, 1496);
	CHECK_INT_EQ(n_up, 1);
	CHECK_INT_EQ(n_down, 35);
	CHECK_INT_EQ(run.st.overlaps, 0);
}

static void
gtp_ext_inner(const struct cl_pkt *d)
{
	static const uint8_t src[4] = {10, 155, 182, 202};
	static const uint8_t dst[4] = {10, 155, 186, 57};

	CHECK(d->gtpu);
	CHECK_INT_EQ(d->gtpu_teid, 0x00100657);
	CHECK_MEM_EQ(d->src.a, src, 4);
	CHECK_MEM_EQ(d->dst.a, dst, 4);
	n_up++;
}

CL_TEST(gtp_ext_header_after_reassembly)
{
	struct run run;

	n_up = 0;
	run_file("gtp/zeek__gtp_ext_header.pcap", &run, gtp_ext_inner);
	CHECK_INT_EQ(run.n, 1);
	CHECK_INT_EQ(run.d[0].payload, 1524);
	CHECK_INT_EQ(run.d[0].sport, 41511);
	CHECK_INT_EQ(run.d[0].dport, 6005);
	CHECK_INT_EQ(n_up, 1);
}

/* --- synthetic fragments --------------------------------------------- */

static uint8_t pay[4096];

static void
fill_payload(void)
{
	size_t i;

	/* A UDP header (ports 1000 -> 2000, length 1000) then a pattern. */
	for (i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7 + 3);
	cl_store_u16(pay, 1000);
	cl_store_u16(pay + 2, 2000);
	cl_store_u16(pay + 4, 1000);
	cl_store_u16(pay + 6, 0);
}

/* An IPv4 fragment of pay[off, off + n) into buf; returns its length. */
static size_t
v4_frag(
    uint8_t *buf, uint16_t id, size_t off, size_t n, bool more, size_t optlen)
{
	size_t hl = 20 + optlen;

	memset(buf, 0, hl);
	buf[0] = (uint8_t)(0x40 | hl / 4);
	cl_store_u16(buf + 2, (uint16_t)(hl + n));
	cl_store_u16(buf + 4, id);
	cl_store_u16(
	    buf + 6, (uint16_t)((more ? 0x2000 : 0) | 0x4000 * 0 | off / 8));
	buf[8] = 64;
	buf[9] = 17;
	memcpy(buf + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	memset(buf + 20, 1, optlen); /* NOPs */
	memcpy(buf + hl, pay + off, n);
	return hl + n;
}

/* An IPv6 fragment, optionally after a destination options header. */
static size_t
v6_frag(
    uint8_t *buf, uint32_t id, size_t off, size_t n, bool more, bool dstopts)
{
	size_t h = 40;

	memset(buf, 0, 40);
	buf[0] = 0x60;
	buf[6] = dstopts ? 60 : 44;
	buf[7] = 64;
	buf[8] = 0x20;
	buf[9] = 0x01;
	buf[23] = 1;
	buf[24] = 0x20;
	buf[25] = 0x01;
	buf[39] = 2;
	if (dstopts) {
		memset(buf + h, 0, 8);
		buf[h] = 44;
		buf[h + 2] = 1; /* PadN */
		buf[h + 3] = 4;
		h += 8;
	}
	buf[h] = 17;
	buf[h + 1] = 0;
	cl_store_u16(buf + h + 2, (uint16_t)(off | (more ? 1 : 0)));
	cl_store_u32(buf + h + 4, id);
	h += 8;
	memcpy(buf + h, pay + off, n);
	cl_store_u16(buf + 4, (uint16_t)(h - 40 + n));
	return h + n;
}

static int
offer(struct cl_reasm *ra, const uint8_t *b, size_t n, uint64_t now,
    const uint8_t **dg, size_t *dlen)
{
	struct cl_pkt d;

	CHECK_INT_EQ(cl_decode_ip(b, n, &d), 0);
	CHECK(d.is_frag);
	return cl_reasm_add(ra, &d, now, dg, dlen);
}

static uint16_t
csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += cl_load_u16(p + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

CL_TEST(v4_out_of_order_with_duplicates)
{
	struct cl_reasm_stats st;
	struct cl_reasm *ra;
	struct cl_pkt d;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;

	fill_payload();
	ra = cl_reasm_new(4, 10 * SEC);
	CHECK(ra != NULL);
	/* Last, middle, middle again (identical), first with options. */
	n = v4_frag(b, 7, 800, 200, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 7, 400, 400, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 2, &dg, &dlen), 0);
	n = v4_frag(b, 7, 400, 400, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 3, &dg, &dlen), 0);
	/* Overlapping [200, 600) with identical bytes is fine. */
	n = v4_frag(b, 7, 200, 400, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 3, &dg, &dlen), 0);
	n = v4_frag(b, 7, 0, 400, true, 4);
	CHECK_INT_EQ(offer(ra, b, n, 4, &dg, &dlen), 1);
	CHECK_INT_EQ(dlen, 24 + 1000);
	CHECK_MEM_EQ(dg + 24, pay, 1000);
	/* Header rewritten: total length, MF/offset cleared, checksum. */
	CHECK_INT_EQ(cl_load_u16(dg + 2), 1024);
	CHECK_INT_EQ(cl_load_u16(dg + 6), 0);
	CHECK_INT_EQ(csum(dg, 24), 0);
	CHECK_INT_EQ(cl_decode_ip(dg, dlen, &d), 0);
	CHECK(d.has_ports && !d.is_frag);
	CHECK_INT_EQ(d.sport, 1000);
	CHECK_INT_EQ(d.l4data_len, 992);
	cl_reasm_stats(ra, &st);
	CHECK_INT_EQ(st.fragments, 5);
	CHECK_INT_EQ(st.completed, 1);
	CHECK_INT_EQ(st.overlaps, 0);
	cl_reasm_free(ra);
}

CL_TEST(v4_conflicts)
{
	struct cl_reasm_stats st;
	struct cl_reasm *ra;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;

	fill_payload();
	ra = cl_reasm_new(4, 10 * SEC);
	CHECK(ra != NULL);
	/* Same range, different bytes: whole datagram dropped. */
	n = v4_frag(b, 1, 0, 16, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 1, 8, 16, true, 0);
	b[20 + 1] ^= 0xff; /* payload byte 9, held already */
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), CL_ERR_FORMAT);
	/* The rest no longer completes anything: the datagram is gone. */
	n = v4_frag(b, 1, 16, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);

	/* Two last fragments that disagree on the end. */
	n = v4_frag(b, 2, 16, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 2, 16, 9, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), CL_ERR_FORMAT);
	/* A fragment past the known end. */
	n = v4_frag(b, 3, 16, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 3, 24, 8, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), CL_ERR_FORMAT);
	/* A last fragment before data already held. */
	n = v4_frag(b, 4, 32, 8, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 4, 16, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), CL_ERR_FORMAT);
	cl_reasm_stats(ra, &st);
	CHECK_INT_EQ(st.overlaps, 4);
	CHECK_INT_EQ(st.completed, 0);

	/* Non-last fragment not a multiple of 8 bytes. */
	n = v4_frag(b, 5, 0, 12, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), CL_ERR_FORMAT);
	cl_reasm_free(ra);
}

CL_TEST(v4_size_limit)
{
	struct cl_reasm *ra;
	struct cl_pkt d;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;

	fill_payload();
	ra = cl_reasm_new(4, 10 * SEC);
	CHECK(ra != NULL);
	/* Offset 65528 + 16 bytes runs past 65535. */
	n = v4_frag(b, 9, 0, 8, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 9, 0, 16, false, 0);
	cl_store_u16(b + 6, 65528 / 8);
	CHECK_INT_EQ(cl_decode_ip(b, n, &d), 0);
	CHECK_INT_EQ(d.frag_off, 65528);
	CHECK_INT_EQ(cl_reasm_add(ra, &d, 1, &dg, &dlen), CL_ERR_TOOBIG);
	CHECK(dg == NULL && dlen == 0);
	cl_reasm_free(ra);
}

/* Two big IPv4 fragments [0, 32768) and [32768, end) of zeros. */
static int
two_halves(struct cl_reasm *ra, uint16_t id, size_t end, const uint8_t **dg,
    size_t *dlen)
{
	static uint8_t big[20 + 32768];
	struct cl_pkt d;
	int r;

	memset(big, 0, sizeof(big));
	big[0] = 0x45;
	cl_store_u16(big + 2, 20 + 32768);
	cl_store_u16(big + 4, id);
	cl_store_u16(big + 6, 0x2000);
	big[9] = 253; /* experimental: no header for the decoder to check */
	CHECK_INT_EQ(cl_decode_ip(big, sizeof(big), &d), 0);
	CHECK_INT_EQ(cl_reasm_add(ra, &d, 1, dg, dlen), 0);
	cl_store_u16(big + 2, (uint16_t)(20 + end - 32768));
	cl_store_u16(big + 6, 32768 / 8);
	CHECK_INT_EQ(cl_decode_ip(big, 20 + end - 32768, &d), 0);
	r = cl_reasm_add(ra, &d, 1, dg, dlen);
	return r;
}

CL_TEST(v4_datagram_size)
{
	struct cl_reasm *ra;
	const uint8_t *dg;
	size_t dlen;

	ra = cl_reasm_new(4, 10 * SEC);
	CHECK(ra != NULL);
	/* 20 + 65515 = 65535: the largest IPv4 datagram. */
	CHECK_INT_EQ(two_halves(ra, 1, 65515, &dg, &dlen), 1);
	CHECK_INT_EQ(dlen, 65535);
	CHECK_INT_EQ(cl_load_u16(dg + 2), 65535);
	/* One byte more does not fit a total length field. */
	CHECK_INT_EQ(two_halves(ra, 2, 65516, &dg, &dlen), CL_ERR_TOOBIG);
	CHECK(dg == NULL && dlen == 0);
	cl_reasm_free(ra);
}

CL_TEST(v4_truncated_and_not_fragments)
{
	struct cl_reasm *ra;
	struct cl_pkt d;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;

	fill_payload();
	ra = cl_reasm_new(4, 10 * SEC);
	CHECK(ra != NULL);
	n = v4_frag(b, 1, 0, 16, true, 0);
	CHECK_INT_EQ(cl_decode_ip(b, n - 1, &d), 0);
	CHECK(d.truncated);
	CHECK_INT_EQ(cl_reasm_add(ra, &d, 1, &dg, &dlen), CL_ERR_TRUNCATED);
	n = v4_frag(b, 1, 0, 16, false, 0);
	b[9] = 253;
	CHECK_INT_EQ(cl_decode_ip(b, n, &d), 0);
	CHECK(!d.is_frag);
	CHECK_INT_EQ(cl_reasm_add(ra, &d, 1, &dg, &dlen), CL_ERR_INVALID_ARG);
	cl_reasm_free(ra);
	CHECK(cl_reasm_new(0, 1) == NULL);
	cl_reasm_free(NULL);
}

CL_TEST(timeout_and_expire)
{
	struct cl_reasm_stats st;
	struct cl_reasm *ra;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;

	fill_payload();
	ra = cl_reasm_new(8, 5 * SEC);
	CHECK(ra != NULL);
	n = v4_frag(b, 1, 0, 16, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 100 * SEC, &dg, &dlen), 0);
	/* Past the timeout: the first fragment is gone. */
	n = v4_frag(b, 1, 16, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 106 * SEC, &dg, &dlen), 0);
	cl_reasm_stats(ra, &st);
	CHECK_INT_EQ(st.timed_out, 1);
	n = v4_frag(b, 1, 0, 16, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 107 * SEC, &dg, &dlen), 1);
	CHECK_INT_EQ(dlen, 20 + 24);

	/* cl_reasm_expire drops what is too old, keeps the rest; time
	 * going backwards expires nothing. */
	n = v4_frag(b, 2, 0, 16, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 200 * SEC, &dg, &dlen), 0);
	n = v4_frag(b, 3, 0, 16, true, 0);
	CHECK_INT_EQ(offer(ra, b, n, 203 * SEC, &dg, &dlen), 0);
	cl_reasm_expire(ra, 1);
	cl_reasm_expire(ra, 206 * SEC);
	cl_reasm_stats(ra, &st);
	CHECK_INT_EQ(st.timed_out, 2);
	n = v4_frag(b, 3, 16, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 207 * SEC, &dg, &dlen), 1);
	cl_reasm_free(ra);
}

CL_TEST(eviction_when_full)
{
	struct cl_reasm_stats st;
	struct cl_reasm *ra;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;
	uint16_t id;

	fill_payload();
	ra = cl_reasm_new(3, 60 * SEC);
	CHECK(ra != NULL);
	for (id = 1; id <= 5; id++) {
		n = v4_frag(b, id, 0, 16, true, 0);
		CHECK_INT_EQ(offer(ra, b, n, id, &dg, &dlen), 0);
	}
	cl_reasm_stats(ra, &st);
	CHECK_INT_EQ(st.evicted, 2);
	/* 1 and 2 were the oldest: gone.  3..5 complete. */
	for (id = 5; id >= 1; id--) {
		n = v4_frag(b, id, 16, 8, false, 0);
		CHECK_INT_EQ(offer(ra, b, n, 10, &dg, &dlen), id >= 3 ? 1 : 0);
	}
	cl_reasm_stats(ra, &st);
	CHECK_INT_EQ(st.completed, 3);
	CHECK_INT_EQ(st.fragments, 10);
	cl_reasm_free(ra);
}

CL_TEST(v6_with_unfragmentable_header)
{
	struct cl_reasm *ra;
	struct cl_pkt d;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen;
	int dst;

	fill_payload();
	ra = cl_reasm_new(4, 10 * SEC);
	CHECK(ra != NULL);
	for (dst = 0; dst < 2; dst++) {
		n = v6_frag(b, 0xdeadbeef, 504, 496, false, dst);
		CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
		n = v6_frag(b, 0xdeadbeef, 0, 504, true, dst);
		CHECK_INT_EQ(cl_decode_ip(b, n, &d), 0);
		CHECK_INT_EQ(d.proto, 17);
		CHECK(d.has_ports);
		CHECK_INT_EQ(d.frag_payload_off, dst ? 56 : 48);
		CHECK_INT_EQ(cl_reasm_add(ra, &d, 1, &dg, &dlen), 1);
		CHECK_INT_EQ(dlen, (dst ? 48 : 40) + 1000);
		/* Fragment header gone, next header patched, length set. */
		CHECK_INT_EQ(dg[6], dst ? 60 : 17);
		if (dst)
			CHECK_INT_EQ(dg[40], 17);
		CHECK_INT_EQ(cl_load_u16(dg + 4), dlen - 40);
		CHECK_MEM_EQ(dg + dlen - 1000, pay, 1000);
		CHECK_INT_EQ(cl_decode_ip(dg, dlen, &d), 0);
		CHECK(!d.is_frag && d.has_ports);
		CHECK_INT_EQ(d.dport, 2000);
	}
	/* IPv4 and IPv6 with the same id are different datagrams. */
	n = v6_frag(b, 7, 0, 8, true, false);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	n = v4_frag(b, 7, 8, 8, false, 0);
	CHECK_INT_EQ(offer(ra, b, n, 1, &dg, &dlen), 0);
	cl_reasm_free(ra);
}

CL_TEST(many_datagrams_interleaved)
{
	struct cl_reasm *ra;
	const uint8_t *dg;
	uint8_t b[2048];
	size_t n, dlen, done = 0;
	uint16_t id;
	int pass;

	fill_payload();
	ra = cl_reasm_new(300, 60 * SEC);
	CHECK(ra != NULL);
	for (pass = 0; pass < 3; pass++) {
		for (id = 0; id < 256; id++) {
			n = v4_frag(b, id, (size_t)(2 - pass) * 64,
			    pass == 0 ? 30 : 64, pass == 0 ? false : true, 0);
			if (offer(ra, b, n, 1, &dg, &dlen) == 1) {
				CHECK_INT_EQ(dlen, 20 + 128 + 30);
				CHECK_MEM_EQ(dg + 20, pay, 158);
				done++;
			}
		}
	}
	CHECK_INT_EQ(done, 256);
	cl_reasm_free(ra);
}

int
main(void)
{
	CL_RUN(frag_files_match_tshark);
	CL_RUN(conflicting_overlap_dropped);
	CL_RUN(gtp_outer_fragments);
	CL_RUN(gtp_ext_header_after_reassembly);
	CL_RUN(v4_out_of_order_with_duplicates);
	CL_RUN(v4_conflicts);
	CL_RUN(v4_size_limit);
	CL_RUN(v4_datagram_size);
	CL_RUN(v4_truncated_and_not_fragments);
	CL_RUN(timeout_and_expire);
	CL_RUN(eviction_when_full);
	CL_RUN(v6_with_unfragmentable_header);
	CL_RUN(many_datagrams_interleaved);
	return cl_test_done();
}
