/* SPDX-License-Identifier: ISC */
/*
 * Tests of the PS-PDU decoder (lib/psdu_dec.c): round trips through every
 * encoder of lib/psdu.h, the real libtrace/OpenLI records of
 * li_output/libtrace__etsi_10_pings.pcap, and malformed input
 * (truncation at every length, every single-octet change, bad lengths,
 * OIDs, ranges, trailing bytes, indefinite lengths).
 */
#include <stdlib.h>
#include <string.h>

#include "ber.h"
#include "buf.h"
#include "capfile.h"
#include "decode.h"
#include "err.h"
#include "harness.h"
#include "psdu.h"
#include "psdu_dec.h"

#define CTX  CL_BER_CONTEXT
#define CTXC (CL_BER_CONTEXT | CL_BER_CONSTRUCTED)
#define SEQ  (CL_BER_UNIVERSAL | CL_BER_CONSTRUCTED)

static const uint8_t LIID[] = "LIID-0001";

static void
header(struct cl_psheader *h, uint32_t cin)
{
	struct cl_psh_ids ids = {
	    .liid = LIID,
	    .liid_len = sizeof(LIID) - 1,
	    .country = "DE",
	    .operator_id = (const uint8_t *)"clearli",
	    .operator_id_len = 7,
	    .ne_id = (const uint8_t *)"mdf-1",
	    .ne_id_len = 5,
	    .cin = cin,
	    .ipid = "poi01",
	};

	CHECK_INT_EQ(cl_psheader_init(h, &ids), 0);
	h->sec = 1700000000;
	h->usec = 123456;
}

static void
check_header(const struct cl_psdu_info *in, uint32_t cin, uint32_t seq)
{
	CHECK_INT_EQ(in->version, 43);
	CHECK(!in->oid_extra_arc);
	CHECK_INT_EQ(in->liid.len, sizeof(LIID) - 1);
	CHECK_MEM_EQ(in->liid.p, LIID, in->liid.len);
	CHECK_INT_EQ(in->country.len, 2);
	CHECK_MEM_EQ(in->country.p, "DE", 2);
	CHECK_INT_EQ(in->operator_id.len, 7);
	CHECK_MEM_EQ(in->operator_id.p, "clearli", 7);
	CHECK_INT_EQ(in->ne_id.len, 5);
	CHECK_MEM_EQ(in->ne_id.p, "mdf-1", 5);
	CHECK(in->has_cin);
	CHECK_INT_EQ(in->cin, cin);
	CHECK_INT_EQ(in->seq, seq);
	CHECK(in->has_ts);
	CHECK_INT_EQ(in->ts_sec, 1700000000);
	CHECK_INT_EQ(in->ts_usec, 123456);
	CHECK(in->has_msts);
	CHECK_INT_EQ(in->msts_sec, 1700000000);
	CHECK_INT_EQ(in->msts_usec, 123456);
	CHECK_INT_EQ(in->tsq, CL_PSDU_TSQ_INTERCEPTION);
	CHECK_INT_EQ(in->ipid.len, 5);
	CHECK_MEM_EQ(in->ipid.p, "poi01", 5);
	CHECK_INT_EQ(in->hdr_skipped, 0);
}

/* Decodes exactly one PDU filling b. */
static void
decode_one(const struct cl_buf *b, struct cl_psdu_info *in)
{
	const char *why = NULL;
	size_t used = 0;
	int r;

	r = cl_psdu_decode(b->d, b->len, in, &used, &why);
	if (r != 0)
		cl_test_fail(
		    __FILE__, __LINE__, "decode: %s (%s)", cl_err_str(r), why);
	CHECK_INT_EQ(used, b->len);
	CHECK(in->pdu.p == b->d);
	CHECK_INT_EQ(in->pdu.len, b->len);
	CHECK_STR_EQ(why, "");
}

CL_TEST(hi3_ipcc_all_sizes)
{
	static uint8_t pkt[1500];
	struct cl_psdu_info in;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(1u << 16);
	size_t n, i;

	CHECK(b != NULL);
	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	header(&h, 4242);
	for (n = 0; n <= sizeof(pkt); n++) {
		cl_buf_reset(b);
		h.seq = (uint32_t)n * 2654435761u; /* all integer sizes */
		CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, pkt, n, (int)(n % 5)), 0);
		decode_one(b, &in);
		check_header(&in, 4242, h.seq);
		CHECK_INT_EQ(in.kind, CL_PSDU_KIND_CC);
		CHECK_INT_EQ(in.tag, 1);
		CHECK_INT_EQ(in.npayloads, 1);
		CHECK_INT_EQ(in.cc.sub, CL_PSDU_SUB_IPCC);
		CHECK_INT_EQ(in.cc.dir, (int)(n % 5));
		CHECK_INT_EQ(in.cc.objid_version, 18);
		CHECK_INT_EQ(in.cc.ip.len, n);
		if (n > 0)
			CHECK_MEM_EQ(in.cc.ip.p, pkt, n);
	}
	cl_buf_free(b);
}

CL_TEST(hi3_edge_values)
{
	struct cl_psdu_info in;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(1u << 16);
	static const uint32_t seqs[] = {0, 127, 128, 255, 256, 65535,
	    2147483647u, 2147483648u, 4294967295u};
	size_t i;

	header(&h, 4294967295u);
	h.tsq = CL_PSDU_TSQ_NONE;
	h.usec = 0;
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		cl_buf_reset(b);
		h.seq = seqs[i];
		CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, (const uint8_t *)"x", 1,
				 CL_PSDU_DIR_TO_TARGET),
		    0);
		decode_one(b, &in);
		CHECK_INT_EQ(in.seq, seqs[i]);
		CHECK_INT_EQ(in.cin, 4294967295u);
		CHECK_INT_EQ(in.tsq, -1);
		CHECK_INT_EQ(in.msts_usec, 0);
		CHECK_INT_EQ(in.ts_usec, 0);
	}
	cl_buf_free(b);
}

CL_TEST(hi2_ipiri_v4_v6_all_options)
{
	static const uint8_t v6[16] = {
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct cl_psdu_info in;
	struct cl_psdu_ipiri iri;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(1u << 16);
	int t;

	header(&h, 7);
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 1;
	iri.username = (const uint8_t *)"alice@example.net";
	iri.username_len = 17;
	iri.access_type = 2;
	iri.ip_version = 1;
	iri.target.family = 4;
	memcpy(iri.target.addr, "\x0a\x01\x02\x03", 4);
	iri.target.assignment = 2;
	iri.has_start = true;
	iri.start_sec = 1700000000;
	iri.start_usec = 5;
	iri.has_end = true;
	iri.end_sec = 1700003600;
	iri.end_usec = 500000;
	iri.end_reason = 1;
	iri.has_octets = true;
	iri.octets_rx = 18446744073709551615u;
	iri.octets_tx = 1000;
	iri.raw_aaa = (const uint8_t *)"raw-radius";
	iri.raw_aaa_len = 10;
	iri.auth_type = 2;
	for (t = CL_PSDU_IRI_BEGIN; t <= CL_PSDU_IRI_REPORT; t++) {
		cl_buf_reset(b);
		h.seq = (uint32_t)t;
		CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, t, &iri), 0);
		decode_one(b, &in);
		check_header(&in, 7, (uint32_t)t);
		CHECK_INT_EQ(in.kind, CL_PSDU_KIND_IRI);
		CHECK_INT_EQ(in.npayloads, 1);
		CHECK_INT_EQ(in.iri.type, t);
		CHECK_INT_EQ(in.iri.sub, CL_PSDU_SUB_IPIRI);
		CHECK_INT_EQ(in.iri.objid_version, 18);
		CHECK_INT_EQ(in.iri.access_event, 1);
		CHECK_INT_EQ(in.iri.user.len, 17);
		CHECK_MEM_EQ(in.iri.user.p, "alice@example.net", 17);
		CHECK_INT_EQ(in.iri.access_type, 2);
		CHECK_INT_EQ(in.iri.ip_version, 1);
		CHECK(in.iri.target.present);
		CHECK_INT_EQ(in.iri.target.type, 0);
		CHECK(!in.iri.target.text);
		CHECK_INT_EQ(in.iri.target.value.len, 4);
		CHECK_MEM_EQ(in.iri.target.value.p, "\x0a\x01\x02\x03", 4);
		CHECK_INT_EQ(in.iri.target.assignment, 2);
		CHECK_INT_EQ(in.iri.target.prefix_len, -1);
		CHECK(in.iri.has_start);
		CHECK_INT_EQ(in.iri.start_sec, 1700000000);
		CHECK_INT_EQ(in.iri.start_usec, 5);
		CHECK(in.iri.has_end);
		CHECK_INT_EQ(in.iri.end_sec, 1700003600);
		CHECK_INT_EQ(in.iri.end_usec, 500000);
		CHECK_INT_EQ(in.iri.end_reason, 1);
		CHECK(in.iri.has_octets_rx && in.iri.has_octets_tx);
		CHECK(in.iri.octets_rx == 18446744073709551615u);
		CHECK_INT_EQ(in.iri.octets_tx, 1000);
		CHECK(in.iri.has_aaa);
		CHECK_INT_EQ(in.iri.aaa.len, 10);
		CHECK_MEM_EQ(in.iri.aaa.p, "raw-radius", 10);
		CHECK_INT_EQ(in.iri.auth_type, 2);
		CHECK_INT_EQ(in.iri.skipped, 0);
	}

	/* IPv6, no options at all, empty user name. */
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 10;
	iri.access_type = 9;
	iri.ip_version = 2;
	iri.target.family = 6;
	memcpy(iri.target.addr, v6, 16);
	iri.target.prefix_len = 64;
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_END, &iri), 0);
	decode_one(b, &in);
	CHECK_INT_EQ(in.iri.user.len, 0);
	CHECK_INT_EQ(in.iri.target.type, 1);
	CHECK_INT_EQ(in.iri.target.value.len, 16);
	CHECK_MEM_EQ(in.iri.target.value.p, v6, 16);
	CHECK_INT_EQ(in.iri.target.prefix_len, 64);
	CHECK_INT_EQ(in.iri.target.assignment, -1);
	CHECK(!in.iri.has_start && !in.iri.has_end && !in.iri.has_aaa);
	CHECK(!in.iri.has_octets_rx);
	CHECK_INT_EQ(in.iri.end_reason, -1);
	CHECK_INT_EQ(in.iri.auth_type, -1);

	/* No target address. */
	iri.target.family = 0;
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_REPORT, &iri), 0);
	decode_one(b, &in);
	CHECK(!in.iri.target.present);
	cl_buf_free(b);
}

CL_TEST(every_tri)
{
	static const int which[] = {CL_PSDU_TRI_TEST, CL_PSDU_TRI_KEEPALIVE,
	    CL_PSDU_TRI_KEEPALIVE_RESP, 5, 6, CL_PSDU_TRI_CIN_RESET,
	    CL_PSDU_TRI_OPTION_DONE, CL_PSDU_TRI_ACK_REQUEST,
	    CL_PSDU_TRI_ACK_RESPONSE};
	struct cl_psdu_info in;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(4096);
	size_t i;

	header(&h, 0);
	for (i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		cl_buf_reset(b);
		CHECK_INT_EQ(cl_psdu_tri(b, &h, which[i]), 0);
		decode_one(b, &in);
		CHECK_INT_EQ(in.kind, CL_PSDU_KIND_TRI);
		CHECK_INT_EQ(in.tri.which, which[i]);
		CHECK(cl_psdu_tri_name(which[i]) != NULL);
	}
	CHECK_STR_EQ(cl_psdu_tri_name(3), "keep-alive");
	CHECK_STR_EQ(cl_psdu_tri_name(12), "pDUAcknowledgementRequest");
	cl_buf_free(b);
}

CL_TEST(integrity)
{
	uint32_t seqs[CL_PSDU_IC_MAX], got[CL_PSDU_IC_MAX];
	uint8_t sig[64];
	struct cl_psdu_icheck ic = {seqs, 0, CL_PSDU_CHECK_SIGNATURE,
	    CL_PSDU_DATA_CC, sig, sizeof(sig), CL_PSDU_HASH_SHA256,
	    CL_PSDU_SIG_EDDSA};
	struct cl_psdu_info in;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(1u << 20);
	static const size_t counts[] = {1, 2, 127, 128, CL_PSDU_IC_MAX};
	size_t i, k, n;

	for (i = 0; i < 64; i++)
		sig[i] = (uint8_t)(0xa0 + i);
	header(&h, 9);
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		for (i = 0; i < counts[k]; i++)
			seqs[i] =
			    (uint32_t)(i * 1000003u + 4294000000u * (i & 1));
		ic.nseqs = counts[k];
		ic.data_type = k % 2 ? CL_PSDU_DATA_IRI : CL_PSDU_DATA_CC;
		cl_buf_reset(b);
		CHECK_INT_EQ(cl_psdu_integrity(b, &h, &ic), 0);
		decode_one(b, &in);
		CHECK_INT_EQ(in.kind, CL_PSDU_KIND_TRI);
		CHECK_INT_EQ(in.tri.which, CL_PSDU_TRI_INTEGRITY);
		CHECK_INT_EQ(in.tri.nseqs, counts[k]);
		CHECK_INT_EQ(in.tri.check_type, CL_PSDU_CHECK_SIGNATURE);
		CHECK_INT_EQ(in.tri.data_type, ic.data_type);
		CHECK_INT_EQ(in.tri.hash_alg, CL_PSDU_HASH_SHA256);
		CHECK_INT_EQ(in.tri.sig_alg, CL_PSDU_SIG_EDDSA);
		CHECK_INT_EQ(in.tri.value.len, 64);
		CHECK_MEM_EQ(in.tri.value.p, sig, 64);
		CHECK_INT_EQ(cl_psdu_ic_seqs(&in, got, CL_PSDU_IC_MAX, &n), 0);
		CHECK_INT_EQ(n, counts[k]);
		CHECK_MEM_EQ(got, seqs, n * sizeof(uint32_t));
		if (counts[k] > 1)
			CHECK_INT_EQ(
			    cl_psdu_ic_seqs(&in, got, counts[k] - 1, &n),
			    CL_ERR_TOOBIG);
	}
	/* Optional algorithms absent; hash check. */
	ic.nseqs = 1;
	ic.hash_alg = ic.sig_alg = -1;
	ic.check_type = CL_PSDU_CHECK_HASH;
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_psdu_integrity(b, &h, &ic), 0);
	decode_one(b, &in);
	CHECK_INT_EQ(in.tri.hash_alg, -1);
	CHECK_INT_EQ(in.tri.sig_alg, -1);
	CHECK_INT_EQ(in.tri.check_type, CL_PSDU_CHECK_HASH);
	/* Not an integrity PDU. */
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_psdu_tri(b, &h, CL_PSDU_TRI_KEEPALIVE), 0);
	decode_one(b, &in);
	CHECK_INT_EQ(cl_psdu_ic_seqs(&in, got, 10, &n), CL_ERR_INVALID_ARG);
	cl_buf_free(b);
}

CL_TEST(options)
{
	struct cl_psdu_info in;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(4096);
	int ack, req, acc;

	header(&h, 0);
	for (ack = 0; ack < 2; ack++) {
		cl_buf_reset(b);
		CHECK_INT_EQ(cl_psdu_option_request(b, &h, ack), 0);
		decode_one(b, &in);
		CHECK_INT_EQ(in.tri.which, CL_PSDU_TRI_OPTION_REQ);
		CHECK_INT_EQ(in.tri.ack_requested, ack);
	}
	for (req = 0; req < 2; req++)
		for (acc = 0; acc < 2; acc++) {
			cl_buf_reset(b);
			CHECK_INT_EQ(
			    cl_psdu_option_response(b, &h, req, acc), 0);
			decode_one(b, &in);
			CHECK_INT_EQ(in.tri.which, CL_PSDU_TRI_OPTION_RESP);
			CHECK_INT_EQ(in.tri.ack_accepted, req && acc);
			CHECK_INT_EQ(in.tri.ack_declined, req && !acc);
		}
	cl_buf_free(b);
}

/* A stream of mixed PDUs, decoded back to back and fed in pieces. */
CL_TEST(stream)
{
	struct cl_psdu_info in;
	struct cl_psdu_ipiri iri;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(1u << 16);
	size_t off = 0, used, have, n = 0, ends[8];
	const char *why;
	int r;

	header(&h, 1);
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 4;
	iri.access_type = 1;
	iri.ip_version = 1;
	CHECK_INT_EQ(cl_psdu_tri(b, &h, CL_PSDU_TRI_KEEPALIVE), 0);
	ends[n++] = b->len;
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, (const uint8_t *)"abc", 3, 0), 0);
	ends[n++] = b->len;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_BEGIN, &iri), 0);
	ends[n++] = b->len;
	CHECK_INT_EQ(cl_psdu_option_request(b, &h, true), 0);
	ends[n++] = b->len;
	/* Byte by byte, as a slow TCP stream would deliver it. */
	n = 0;
	for (have = 1; have <= b->len; have++) {
		r = cl_psdu_decode(b->d + off, have - off, &in, &used, &why);
		if (have < ends[n]) {
			CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
			CHECK_INT_EQ(used, 0);
			continue;
		}
		CHECK_INT_EQ(r, 0);
		CHECK_INT_EQ(off + used, ends[n]);
		off += used;
		n++;
	}
	CHECK_INT_EQ(n, 4);
	cl_buf_free(b);
}

/* Several CCPayloads in one PDU: every one decoded, the first kept. */
CL_TEST(several_payloads)
{
	struct cl_psdu_info in, one;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(4096), *x = cl_buf_new(4096);
	size_t m0, m1, m2, k;

	header(&h, 3);
	/* Take a one-payload PDU and duplicate its CCPayload with another
	 * packet. */
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(x, &h, (const uint8_t *)"AAAA", 4, 0), 0);
	decode_one(x, &in);
	CHECK_INT_EQ(cl_ber_open(b, SEQ, 16, &m0), 0);
	/* pSHeader: from after the outer header to the payload */
	{
		struct cl_rd rd;
		struct cl_span v, hd;

		cl_rd_init(&rd, x->d, x->len);
		CHECK_INT_EQ(cl_ber_expect(&rd, 0, SEQ, 16, &v), 0);
		cl_rd_init(&rd, v.p, v.len);
		CHECK_INT_EQ(cl_ber_expect(&rd, 0, CTXC, 1, &hd), 0);
		CHECK_INT_EQ(cl_ber_put_tl(b, CTXC, 1, hd.len), 0);
		CHECK_INT_EQ(cl_buf_put(b, hd.p, hd.len), 0);
	}
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 2, &m1), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 1, &m2), 0);
	for (k = 0; k < 3; k++) {
		size_t a, c, d, e;
		uint8_t pk[2] = {(uint8_t)('0' + k), 'z'};

		CHECK_INT_EQ(cl_ber_open(b, SEQ, 16, &a), 0);
		CHECK_INT_EQ(cl_ber_put_enum(b, CTX, 0, (int64_t)k), 0);
		CHECK_INT_EQ(cl_ber_open(b, CTXC, 2, &c), 0);
		CHECK_INT_EQ(cl_ber_open(b, CTXC, 2, &d), 0);
		CHECK_INT_EQ(
		    cl_ber_put_reloid(b, CTX, 0, cl_psdu_ipcc_reloid, 4), 0);
		CHECK_INT_EQ(cl_ber_open(b, CTXC, 1, &e), 0);
		CHECK_INT_EQ(cl_ber_put_octets(b, CTX, 0, pk, 2), 0);
		CHECK_INT_EQ(cl_ber_close(b, e), 0);
		CHECK_INT_EQ(cl_ber_close(b, d), 0);
		CHECK_INT_EQ(cl_ber_close(b, c), 0);
		CHECK_INT_EQ(cl_ber_close(b, a), 0);
	}
	CHECK_INT_EQ(cl_ber_close(b, m2), 0);
	CHECK_INT_EQ(cl_ber_close(b, m1), 0);
	CHECK_INT_EQ(cl_ber_close(b, m0), 0);
	decode_one(b, &in);
	CHECK_INT_EQ(in.npayloads, 3);
	CHECK_MEM_EQ(in.cc.ip.p, "0z", 2);
	for (k = 0; k < 3; k++) {
		CHECK_INT_EQ(cl_psdu_payload_at(&in, k, &one), 0);
		CHECK_INT_EQ(one.cc.dir, (int)k);
		CHECK_INT_EQ(one.cc.ip.len, 2);
		CHECK_INT_EQ(one.cc.ip.p[0], '0' + (int)k);
	}
	CHECK_INT_EQ(cl_psdu_payload_at(&in, 3, &one), CL_ERR_INVALID_ARG);
	cl_buf_free(b);
	cl_buf_free(x);
}

/* ---- the libtrace / OpenLI capture ---- */

struct flow {
	uint16_t sport;
	struct cl_buf *b;
};

/*
 * Concatenates the TCP payloads per source port in capture order.  tshark
 * flags no retransmission, out-of-order or lost segment in this capture
 * (tcp.analysis.*), so capture order is stream order.
 */
static size_t
libtrace_flows(struct flow *f, size_t max)
{
	struct cl_cap *cap = NULL;
	struct cl_cap_pkt cp;
	struct cl_pkt pkt;
	size_t n = 0, i;
	int r;

	CHECK_INT_EQ(cl_cap_open_file(cl_test_path("pcaps/li_output/"
						   "libtrace__etsi_10_pings."
						   "pcap"),
			 &cap),
	    0);
	while ((r = cl_cap_next(cap, &cp)) == 1) {
		if (cl_decode_frame(cp.linktype, cp.data, cp.caplen, &pkt) !=
			0 ||
		    pkt.proto != 6 || !pkt.has_ports || pkt.l4data_len == 0)
			continue;
		for (i = 0; i < n && f[i].sport != pkt.sport; i++)
			;
		if (i == n) {
			CHECK(n < max);
			f[n].sport = pkt.sport;
			f[n].b = cl_buf_new(1u << 20);
			n++;
		}
		CHECK_INT_EQ(cl_buf_put(f[i].b, pkt.l4data, pkt.l4data_len), 0);
	}
	CHECK_INT_EQ(r, 0);
	cl_cap_free(cap);
	return n;
}

CL_TEST(libtrace_records)
{
	struct flow f[8];
	struct cl_psdu_info in;
	const char *why;
	size_t n, i, off, used, cc = 0, iri = 0, ka = 0, total = 0;
	int r;

	n = libtrace_flows(f, 8);
	/* tshark: two connections, ports 44444 and 44445 on the LEA side. */
	CHECK_INT_EQ(n, 4);
	for (i = 0; i < n; i++) {
		if (f[i].sport == 44444 || f[i].sport == 44445) {
			/*
			 * The LEA side (libtrace's test receiver) answers
			 * with keep-aliveResponses whose timeStamp is
			 * "210526012853.615Z" (tshark tcp.payload, octets
			 * 0x44..0x55 of the first record): a two-digit year,
			 * not a GeneralizedTime.  We reject it.
			 */
			r = cl_psdu_decode(
			    f[i].b->d, f[i].b->len, &in, &used, &why);
			CHECK_INT_EQ(r, CL_ERR_FORMAT);
			CHECK(strstr(why, "timeStamp") != NULL);
			cl_buf_free(f[i].b);
			continue;
		}
		for (off = 0; off < f[i].b->len; off += used) {
			r = cl_psdu_decode(f[i].b->d + off, f[i].b->len - off,
			    &in, &used, &why);
			if (r != 0)
				cl_test_fail(__FILE__, __LINE__,
				    "port %u offset %zu: %s (%s)", f[i].sport,
				    off, cl_err_str(r), why);
			total++;
			/* libtrace writes version17 plus a 0 arc */
			CHECK_INT_EQ(in.version, 17);
			CHECK(in.oid_extra_arc);
			if (in.kind == CL_PSDU_KIND_TRI) {
				CHECK_INT_EQ(
				    in.tri.which, CL_PSDU_TRI_KEEPALIVE);
				ka++;
				continue;
			}
			/* tcp.payload of frame 47: 81 0a "XP45NN710T", CIN
			 * 81 01 07. */
			CHECK_INT_EQ(in.liid.len, 10);
			CHECK_MEM_EQ(in.liid.p, "XP45NN710T", 10);
			CHECK_INT_EQ(in.cin, 7);
			if (in.kind == CL_PSDU_KIND_IRI) {
				/* frame 47: 81 0b "unknownuser", target
				 * a2 06 81 04 ac 11 00 02 */
				CHECK_INT_EQ(in.iri.sub, CL_PSDU_SUB_IPIRI);
				CHECK_INT_EQ(in.iri.type, CL_PSDU_IRI_BEGIN);
				CHECK_INT_EQ(in.iri.user.len, 11);
				CHECK_MEM_EQ(in.iri.user.p, "unknownuser", 11);
				CHECK_MEM_EQ(in.iri.target.value.p,
				    "\xac\x11\x00\x02", 4);
				iri++;
				continue;
			}
			CHECK_INT_EQ(in.kind, CL_PSDU_KIND_CC);
			CHECK_INT_EQ(in.cc.sub, CL_PSDU_SUB_IPCC);
			/* README: 10 intercepted pings, IPv4 ICMP */
			CHECK(in.cc.ip.len >= 28);
			CHECK_INT_EQ(in.cc.ip.p[0], 0x45);
			CHECK_INT_EQ(in.cc.ip.p[9], 1);
			CHECK(in.cc.ip.p[20] == 8 || in.cc.ip.p[20] == 0);
			cc++;
		}
		cl_buf_free(f[i].b);
	}
	CHECK_INT_EQ(cc, 20);
	CHECK_INT_EQ(iri, 1);
	CHECK(ka > 0);
	CHECK_INT_EQ(total, cc + iri + ka);
}

/* ---- malformed input ---- */

/* A valid PDU of each kind, back to back in one buffer. */
static struct cl_buf *
samples(size_t *ends, size_t *n)
{
	struct cl_buf *b = cl_buf_new(1u << 16);
	struct cl_psdu_ipiri iri;
	struct cl_psheader h;
	uint32_t seqs[3] = {0, 1, 2};
	uint8_t sig[64] = {1};
	struct cl_psdu_icheck ic = {seqs, 3, 2, 2, sig, 64, 2, 3};
	static const uint8_t v6[16] = {0x20, 1, 0xd, 0xb8};

	*n = 0;
	header(&h, 5);
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 1;
	iri.username = (const uint8_t *)"bob";
	iri.username_len = 3;
	iri.access_type = 2;
	iri.ip_version = 2;
	iri.target.family = 6;
	memcpy(iri.target.addr, v6, 16);
	iri.has_start = true;
	iri.start_sec = 1;
	iri.raw_aaa = (const uint8_t *)"x";
	iri.raw_aaa_len = 1;
	CHECK_INT_EQ(
	    cl_psdu_hi3_ipcc(b, &h, (const uint8_t *)"\x45\0\0\x14", 4, 0), 0);
	ends[(*n)++] = b->len;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_BEGIN, &iri), 0);
	ends[(*n)++] = b->len;
	CHECK_INT_EQ(cl_psdu_integrity(b, &h, &ic), 0);
	ends[(*n)++] = b->len;
	CHECK_INT_EQ(cl_psdu_option_response(b, &h, true, true), 0);
	ends[(*n)++] = b->len;
	CHECK_INT_EQ(cl_psdu_tri(b, &h, CL_PSDU_TRI_ACK_REQUEST), 0);
	ends[(*n)++] = b->len;
	return b;
}

CL_TEST(truncated_every_length)
{
	struct cl_psdu_info in;
	const char *why;
	size_t ends[8], n, k, start = 0, len, used;
	struct cl_buf *b = samples(ends, &n);
	uint8_t *copy;

	for (k = 0; k < n; start = ends[k], k++) {
		for (len = 0; len < ends[k] - start; len++) {
			/* exact-size heap copy so ASan sees over-reads */
			copy = malloc(len + 1);
			CHECK(copy != NULL);
			memcpy(copy, b->d + start, len);
			CHECK_INT_EQ(
			    cl_psdu_decode(copy, len, &in, &used, &why),
			    CL_ERR_TRUNCATED);
			CHECK_INT_EQ(used, 0);
			CHECK_INT_EQ(in.kind, 0);
			free(copy);
		}
	}
	cl_buf_free(b);
}

CL_TEST(every_byte_changed)
{
	struct cl_psdu_info in;
	const char *why;
	size_t ends[8], n, k, start = 0, i, used, len;
	struct cl_buf *b = samples(ends, &n);
	static const uint8_t xors[] = {0x01, 0x80, 0xff, 0x20, 0x7f};
	uint8_t *copy;
	unsigned ok = 0, bad = 0, x;
	int r;

	for (k = 0; k < n; start = ends[k], k++) {
		len = ends[k] - start;
		copy = malloc(len);
		CHECK(copy != NULL);
		for (i = 0; i < len; i++) {
			for (x = 0; x < sizeof(xors); x++) {
				memcpy(copy, b->d + start, len);
				copy[i] ^= xors[x];
				r = cl_psdu_decode(copy, len, &in, &used, &why);
				if (r == 0) {
					CHECK(used <= len);
					ok++;
				} else {
					CHECK(why != NULL && why[0] != '\0');
					CHECK_INT_EQ(used, 0);
					bad++;
				}
			}
		}
		free(copy);
	}
	/* Both outcomes occur: e.g. a changed packet octet decodes, a
	 * changed tag does not. */
	CHECK(ok > 0 && bad > 0);
	cl_buf_free(b);
}

static int
dec(const uint8_t *p, size_t len, const char **why)
{
	struct cl_psdu_info in;
	size_t used;

	return cl_psdu_decode(p, len, &in, &used, why);
}

CL_TEST(outer_header)
{
	static const uint8_t big[] = {0x30, 0x83, 0x10, 0x00, 0x01};
	static const uint8_t max_ok[] = {0x30, 0x83, 0x0f, 0xff, 0xfb};
	static const uint8_t huge[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t five[] = {0x30, 0x85, 0, 0, 0, 0, 1};
	static const uint8_t indef[] = {0x30, 0x80, 0xa1, 0x00, 0x00, 0x00};
	static const uint8_t notseq[] = {0x31, 0x00};
	static const uint8_t partial_len[] = {0x30, 0x82, 0x01};
	const char *why;

	/* Over 1 MiB: refused as soon as the header is in. */
	CHECK_INT_EQ(dec(big, sizeof(big), &why), CL_ERR_TOOBIG);
	CHECK(strstr(why, "1 MiB") != NULL);
	CHECK_INT_EQ(dec(huge, sizeof(huge), &why), CL_ERR_TOOBIG);
	CHECK_INT_EQ(dec(five, sizeof(five), &why), CL_ERR_TOOBIG);
	/* Exactly 1 MiB in total: read on. */
	CHECK_INT_EQ(dec(max_ok, sizeof(max_ok), &why), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(dec(indef, sizeof(indef), &why), CL_ERR_FORMAT);
	CHECK(strstr(why, "indefinite") != NULL);
	CHECK_INT_EQ(dec(notseq, sizeof(notseq), &why), CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    dec(partial_len, sizeof(partial_len), &why), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(dec(NULL, 0, &why), CL_ERR_TRUNCATED);
}

/* Hand-built PS-PDUs with a keep-alive payload for header tests. */
struct mk {
	const uint32_t *oid;
	size_t noid;
	const uint8_t *liid;
	size_t liid_len;
	int64_t seq; /* written as INTEGER, any value */
	bool no_seq; /* leave sequenceNumber out */
	bool swap;   /* sequenceNumber before communicationIdentifier */
	bool ext;    /* [9], [10] and [11] extensions */
	const uint8_t *hdr_tail; /* raw bytes at the end of the PSHeader */
	size_t hdr_tail_len;
	const uint8_t *pdu_tail; /* raw bytes at the end of the PS-PDU */
	size_t pdu_tail_len;
	int64_t usec; /* microSeconds */
};

static const uint32_t OID43[8] = {0, 4, 0, 2, 2, 5, 1, 43};

static void
mk_default(struct mk *m)
{
	memset(m, 0, sizeof(*m));
	m->oid = OID43;
	m->noid = 8;
	m->liid = (const uint8_t *)"L1";
	m->liid_len = 2;
	m->seq = 5;
}

static struct cl_buf *
build(const struct mk *m)
{
	struct cl_buf *b = cl_buf_new(4096);
	size_t m0, m1, m2, m3, m4, m5;

	CHECK_INT_EQ(cl_ber_open(b, SEQ, 16, &m0), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 1, &m1), 0);
	CHECK_INT_EQ(cl_ber_put_oid(b, CTX, 0, m->oid, m->noid), 0);
	CHECK_INT_EQ(cl_ber_put_octets(b, CTX, 1, m->liid, m->liid_len), 0);
	if (m->swap)
		CHECK_INT_EQ(cl_ber_put_int(b, CTX, 4, m->seq), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 3, &m2), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 0, &m3), 0);
	CHECK_INT_EQ(cl_ber_put_octets(b, CTX, 0, "op", 2), 0);
	CHECK_INT_EQ(cl_ber_close(b, m3), 0);
	CHECK_INT_EQ(cl_ber_put_uint(b, CTX, 1, 3), 0);
	CHECK_INT_EQ(cl_ber_close(b, m2), 0);
	if (!m->no_seq && !m->swap)
		CHECK_INT_EQ(cl_ber_put_int(b, CTX, 4, m->seq), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 7, &m4), 0);
	CHECK_INT_EQ(cl_ber_put_uint(b, CTX, 0, 1700000000), 0);
	CHECK_INT_EQ(cl_ber_put_int(b, CTX, 1, m->usec), 0);
	CHECK_INT_EQ(cl_ber_close(b, m4), 0);
	if (m->ext) {
		CHECK_INT_EQ(cl_ber_put_octets(b, CTX, 9, "ext-ipid", 8), 0);
		CHECK_INT_EQ(cl_ber_open(b, CTXC, 10, &m5), 0);
		CHECK_INT_EQ(cl_ber_put_null(b, CTX, 0), 0);
		CHECK_INT_EQ(cl_ber_close(b, m5), 0);
		CHECK_INT_EQ(cl_ber_put_octets(b, CTX, 11, "future", 6), 0);
	}
	if (m->hdr_tail_len > 0)
		CHECK_INT_EQ(cl_buf_put(b, m->hdr_tail, m->hdr_tail_len), 0);
	CHECK_INT_EQ(cl_ber_close(b, m1), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 2, &m1), 0);
	CHECK_INT_EQ(cl_ber_open(b, CTXC, 2, &m2), 0);
	CHECK_INT_EQ(cl_ber_put_null(b, CTX, 3), 0);
	CHECK_INT_EQ(cl_ber_close(b, m2), 0);
	CHECK_INT_EQ(cl_ber_close(b, m1), 0);
	if (m->pdu_tail_len > 0)
		CHECK_INT_EQ(cl_buf_put(b, m->pdu_tail, m->pdu_tail_len), 0);
	CHECK_INT_EQ(cl_ber_close(b, m0), 0);
	return b;
}

static int
try_mk(const struct mk *m, struct cl_psdu_info *in, const char **why)
{
	struct cl_buf *b = build(m);
	size_t used;
	int r;

	r = cl_psdu_decode(b->d, b->len, in, &used, why);
	if (r == 0)
		CHECK_INT_EQ(used, b->len);
	cl_buf_free(b);
	return r;
}

CL_TEST(header_checks)
{
	static const uint32_t v0[8] = {0, 4, 0, 2, 2, 5, 1, 0};
	static const uint32_t wrong[8] = {0, 4, 0, 2, 2, 5, 2, 43};
	static const uint32_t lt[9] = {0, 4, 0, 2, 2, 5, 1, 17, 0};
	static const uint32_t lt1[9] = {0, 4, 0, 2, 2, 5, 1, 17, 1};
	static const uint32_t v99[8] = {0, 4, 0, 2, 2, 5, 1, 99};
	static const uint8_t liid26[26] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const uint8_t garbage[] = {0x00};
	static const uint8_t lowtag[] = {0x82, 0x02, 'D', 'E'};
	static const uint8_t univ[] = {0x04, 0x01, 'x'};
	struct cl_psdu_info in;
	const char *why;
	struct mk m;

	mk_default(&m);
	CHECK_INT_EQ(try_mk(&m, &in, &why), 0);
	CHECK_INT_EQ(in.seq, 5);
	CHECK_INT_EQ(in.cin, 3);
	CHECK_INT_EQ(in.version, 43);
	CHECK(!in.has_ts);
	CHECK_INT_EQ(in.country.len, 0);
	CHECK_INT_EQ(in.tri.which, CL_PSDU_TRI_KEEPALIVE);

	m.oid = v99;
	CHECK_INT_EQ(try_mk(&m, &in, &why), 0);
	CHECK_INT_EQ(in.version, 99);
	m.oid = lt;
	m.noid = 9;
	CHECK_INT_EQ(try_mk(&m, &in, &why), 0);
	CHECK(in.oid_extra_arc);
	CHECK_INT_EQ(in.version, 17);
	m.oid = lt1;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	CHECK(strstr(why, "li-psDomainId") != NULL);
	m.noid = 8;
	m.oid = v0;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	m.oid = wrong;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	CHECK(strstr(why, "li-psDomainId") != NULL);
	CHECK_INT_EQ(in.kind, 0); /* out cleared on failure */

	mk_default(&m);
	m.liid = liid26;
	m.liid_len = 26;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	CHECK(strstr(why, "lawfulInterceptionIdentifier") != NULL);
	m.liid_len = 25;
	CHECK_INT_EQ(try_mk(&m, &in, &why), 0);
	m.liid_len = 0;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);

	mk_default(&m);
	m.seq = 4294967295LL;
	CHECK_INT_EQ(try_mk(&m, &in, &why), 0);
	CHECK_INT_EQ(in.seq, 4294967295u);
	m.seq = 4294967296LL;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_RANGE);
	CHECK(strstr(why, "sequenceNumber") != NULL);
	m.seq = -1;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_RANGE);

	mk_default(&m);
	m.no_seq = true;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	CHECK(strstr(why, "missing") != NULL);
	mk_default(&m);
	m.swap = true;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	CHECK(strstr(why, "order") != NULL);

	mk_default(&m);
	m.usec = 1000000;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_RANGE);
	m.usec = -1;
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_RANGE);

	/* Unknown extensions are skipped. */
	mk_default(&m);
	m.ext = true;
	CHECK_INT_EQ(try_mk(&m, &in, &why), 0);
	CHECK_INT_EQ(in.hdr_skipped, 3);

	/* Trailing garbage inside the PSHeader and the PS-PDU. */
	mk_default(&m);
	m.hdr_tail = garbage;
	m.hdr_tail_len = 1;
	CHECK(try_mk(&m, &in, &why) < 0);
	CHECK(strstr(why, "pSHeader") != NULL);
	m.hdr_tail = lowtag; /* a whole element, but out of order */
	m.hdr_tail_len = sizeof(lowtag);
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	m.hdr_tail = univ; /* a whole element, not context-tagged */
	m.hdr_tail_len = sizeof(univ);
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	mk_default(&m);
	m.pdu_tail = univ;
	m.pdu_tail_len = sizeof(univ);
	CHECK_INT_EQ(try_mk(&m, &in, &why), CL_ERR_FORMAT);
	m.pdu_tail = garbage;
	m.pdu_tail_len = 1;
	CHECK(try_mk(&m, &in, &why) < 0);
}

/* Inner lengths that disagree with the outer one are malformed, never
 * "read more". */
CL_TEST(inner_lengths)
{
	struct cl_psdu_info in;
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(4096);
	const char *why;
	size_t used;
	int r;

	header(&h, 1);
	CHECK_INT_EQ(cl_psdu_tri(b, &h, CL_PSDU_TRI_KEEPALIVE), 0);
	/* b->d[1] is the outer length (short form); b->d[3] the PSHeader's */
	CHECK(b->d[1] < 0x80 && b->d[2] == 0xa1 && b->d[3] < 0x80);
	b->d[3]++;
	r = cl_psdu_decode(b->d, b->len, &in, &used, &why);
	CHECK(r != 0 && r != CL_ERR_TRUNCATED);
	b->d[3] -= 2;
	r = cl_psdu_decode(b->d, b->len, &in, &used, &why);
	CHECK(r != 0 && r != CL_ERR_TRUNCATED);
	b->d[3]++;
	/* Indefinite inner length. */
	b->d[3] = 0x80;
	r = cl_psdu_decode(b->d, b->len, &in, &used, &why);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	cl_buf_free(b);
}

static int
decode_once(void *arg)
{
	const struct cl_buf *b = arg;
	struct cl_psdu_info in;
	const char *why;
	size_t used;
	int r;

	if ((r = cl_psdu_decode(b->d, b->len, &in, &used, &why)) != 0)
		return r;
	return used == b->len && in.kind == CL_PSDU_KIND_CC && in.cc.ip.len == 3
	    ? 0
	    : CL_ERR_INTERNAL;
}

/* With each allocation failing in turn (it makes none), the decode is the
 * same. */
CL_TEST(alloc_failures)
{
	struct cl_psheader h;
	struct cl_buf *b = cl_buf_new(1u << 16);

	CHECK(b != NULL);
	header(&h, 7);
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, (const uint8_t *)"abc", 3, 0), 0);
	CHECK_INT_EQ(cl_test_alloc_loop("cl_psdu_decode", decode_once, b), 1);
	cl_buf_free(b);
}

int
main(void)
{
	CL_RUN(hi3_ipcc_all_sizes);
	CL_RUN(hi3_edge_values);
	CL_RUN(hi2_ipiri_v4_v6_all_options);
	CL_RUN(every_tri);
	CL_RUN(integrity);
	CL_RUN(options);
	CL_RUN(stream);
	CL_RUN(several_payloads);
	CL_RUN(libtrace_records);
	CL_RUN(truncated_every_length);
	CL_RUN(every_byte_changed);
	CL_RUN(outer_header);
	CL_RUN(header_checks);
	CL_RUN(inner_lengths);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
