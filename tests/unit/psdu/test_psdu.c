/* SPDX-License-Identifier: ISC */
/*
 * TS 102 232 PS-PDU builder.  The known-answer PDUs are assembled by hand
 * from LI-PS-PDU / IPAccessPDU (IMPLICIT TAGS; tagged CHOICEs explicit);
 * the libtrace record is frame 47 of
 * li_output/libtrace__etsi_10_pings.pcap as printed by
 * `tshark -T fields -e tcp.payload`.  tests/integration/0100-psdu-asn1c.sh
 * checks the same encoder against asn1c's decoder.
 */
#include <stdlib.h>

#include "ber.h"
#include "buf.h"
#include "harness.h"
#include "util.h"
#include "psdu.h"

static struct cl_buf *
newbuf(void)
{
	struct cl_buf *b = cl_buf_new(1u << 20);

	CHECK(b != NULL);
	return b;
}

/* LIID "L1", operator "op", CIN 1, nothing optional, time 0. */
static void
small_header(struct cl_psheader *h)
{
	struct cl_psh_ids ids = {
	    .liid = (const uint8_t *)"L1",
	    .liid_len = 2,
	    .operator_id = (const uint8_t *)"op",
	    .operator_id_len = 2,
	    .cin = 1,
	};

	CHECK_INT_EQ(cl_psheader_init(h, &ids), 0);
	h->tsq = CL_PSDU_TSQ_NONE;
}

/* 52-octet PSHeader content of small_header() with seq 0. */
#define SMALL_HEADER                                                           \
	0xa1, 0x34, 0x80, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x2b,      \
	    0x81, 0x02, 'L', '1', 0xa3, 0x09, 0xa0, 0x04, 0x80, 0x02, 'o',     \
	    'p', 0x81, 0x01, 0x01, 0x84, 0x01, 0x00, 0x85, 0x0f, '1', '9',     \
	    '7', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z',   \
	    0xa7, 0x06, 0x80, 0x01, 0x00, 0x81, 0x01, 0x00

CL_TEST(hi3_known_answer)
{
	static const uint8_t want[] = {0x30, 0x50, SMALL_HEADER,
	    /* payload [2] { cCPayloadSequence [1] { CCPayload } } */
	    0xa2, 0x18, 0xa1, 0x16, 0x30, 0x14,
	    /* payloadDirection toTarget */
	    0x80, 0x01, 0x01,
	    /* cCContents [2] { iPCC [2] { iPCCObjId, iPCCContents [1] {
	     * iPPackets [0] } } } */
	    0xa2, 0x0f, 0xa2, 0x0d, 0x80, 0x04, 0x05, 0x03, 0x12, 0x02, 0xa1,
	    0x05, 0x80, 0x03, 0x01, 0x02, 0x03};
	static const uint8_t ip[] = {1, 2, 3};
	struct cl_buf *b = newbuf();
	struct cl_psheader h;

	small_header(&h);
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, 3, CL_PSDU_DIR_TO_TARGET), 0);
	CHECK_INT_EQ(b->len, sizeof(want));
	CHECK_MEM_EQ(b->d, want, sizeof(want));
	cl_buf_free(b);
}

CL_TEST(keepalive_known_answer)
{
	/* The payload bytes equal libtrace's keep-alive (a2 04 a2 02 83 00,
	 * tshark frame 56 of libtrace__etsi_10_pings.pcap). */
	static const uint8_t want[] = {
	    0x30, 0x3c, SMALL_HEADER, 0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00};
	struct cl_buf *b = newbuf();
	struct cl_psheader h;

	small_header(&h);
	CHECK_INT_EQ(cl_psdu_tri(b, &h, CL_PSDU_TRI_KEEPALIVE), 0);
	CHECK_INT_EQ(b->len, sizeof(want));
	CHECK_MEM_EQ(b->d, want, sizeof(want));
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_psdu_tri(b, &h, CL_PSDU_TRI_KEEPALIVE_RESP), 0);
	CHECK_INT_EQ(b->d[b->len - 2], 0x84);
	CHECK_INT_EQ(cl_psdu_tri(b, &h, 2), CL_ERR_INVALID_ARG); /* padding */
	CHECK_INT_EQ(cl_psdu_tri(b, &h, 0), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_psdu_tri(b, &h, 14), CL_ERR_INVALID_ARG);
	cl_buf_free(b);
}

static void
full_header(struct cl_psheader *h)
{
	struct cl_psh_ids ids = {
	    .liid = (const uint8_t *)"LIID-0123456789-ABCDEFGHI", /* 25 */
	    .liid_len = 25,
	    .country = "DE",
	    .operator_id = (const uint8_t *)"0123456789abcdef",
	    .operator_id_len = 16,
	    .ne_id = (const uint8_t *)"fedcba9876543210",
	    .ne_id_len = 16,
	    .cin = 4294967295u,
	    .ipid = "poi-0001",
	};

	CHECK_INT_EQ(cl_psheader_init(h, &ids), 0);
	h->seq = 4294967295u;
	h->sec = 253402300799;
	h->usec = 999999;
}

/* Descends: expect a TLV and make rd its content.  BER, not DER, so that
 * libtrace's records pass; our own PDUs are walked with CL_BER_DER. */
static void
enter(struct cl_rd *rd, uint8_t cls, uint32_t tag)
{
	struct cl_span v;

	CHECK_INT_EQ(cl_ber_expect(rd, 0, cls, tag, &v), 0);
	cl_rd_init(rd, v.p, v.len);
}

static void
check_header(struct cl_rd *rd, uint32_t seq)
{
	struct cl_rd h = *rd;
	struct cl_span v;
	uint32_t arcs[CL_BER_OID_MAX_ARCS];
	uint64_t u;
	size_t n;

	enter(&h, 0xa0, 1);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 0, &v), 0);
	CHECK_INT_EQ(cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), 0);
	CHECK_INT_EQ(n, 8);
	CHECK_INT_EQ(arcs[7], 43);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 1, &v), 0);
	CHECK_INT_EQ(v.len, 25);
	CHECK_MEM_EQ(v.p, "LIID-0123456789-ABCDEFGHI", 25);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 2, &v), 0);
	CHECK_MEM_EQ(v.p, "DE", 2);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0xa0, 3, &v), 0);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 4, &v), 0);
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), 0);
	CHECK(u == seq);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 5, &v), 0);
	CHECK_INT_EQ(v.len, 22);
	CHECK_MEM_EQ(v.p, "99991231235959.999999Z", 22);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 6, &v), 0);
	CHECK_MEM_EQ(v.p, "poi-0001", 8);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0xa0, 7, &v), 0);
	CHECK_INT_EQ(cl_ber_expect(&h, CL_BER_DER, 0x80, 8, &v), 0);
	CHECK_INT_EQ(cl_rd_end(&h), 0);
	CHECK_INT_EQ(cl_ber_expect(rd, CL_BER_DER, 0xa0, 1, &v), 0);
}

CL_TEST(hi3_large_packet)
{
	struct cl_buf *b = newbuf();
	struct cl_psheader h;
	struct cl_rd rd;
	struct cl_span v;
	uint8_t *ip;
	size_t sizes[] = {0, 1, 100, 127, 128, 255, 256, 1500, 65535, 65536};
	size_t i, k;

	CHECK((ip = malloc(65536)) != NULL);
	for (k = 0; k < 65536; k++)
		ip[k] = (uint8_t)(k * 7 + 3);
	full_header(&h);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cl_buf_reset(b);
		CHECK_INT_EQ(cl_psdu_hi3_ipcc(
				 b, &h, ip, sizes[i], CL_PSDU_DIR_FROM_TARGET),
		    0);
		/* Our output is DER as far as lengths go. */
		CHECK_INT_EQ(cl_ber_walk(b->d, b->len, CL_BER_DER,
				 CL_BER_DEPTH_MAX, NULL, NULL),
		    0);
		cl_rd_init(&rd, b->d, b->len);
		enter(&rd, 0x20, 16);
		check_header(&rd, 4294967295u);
		enter(&rd, 0xa0, 2);
		enter(&rd, 0xa0, 1);
		enter(&rd, 0x20, 16);
		CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 0, &v), 0);
		CHECK_INT_EQ(v.len, 1);
		CHECK_INT_EQ(v.p[0], 0);
		enter(&rd, 0xa0, 2);
		enter(&rd, 0xa0, 2);
		CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 0, &v), 0);
		CHECK_INT_EQ(v.len, 4);
		CHECK_MEM_EQ(v.p, "\x05\x03\x12\x02", 4);
		enter(&rd, 0xa0, 1);
		CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 0, &v), 0);
		CHECK_INT_EQ(v.len, sizes[i]);
		if (sizes[i] > 0)
			CHECK_MEM_EQ(v.p, ip, sizes[i]);
		CHECK_INT_EQ(cl_rd_end(&rd), 0);
	}
	free(ip);
	cl_buf_free(b);
}

CL_TEST(truncation_every_length)
{
	struct cl_buf *b = newbuf();
	struct cl_psheader h;
	struct cl_psdu_ipiri iri;
	uint8_t ip[300];
	size_t n, first;

	memset(ip, 0x45, sizeof(ip));
	full_header(&h);
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, sizeof(ip), 1), 0);
	first = b->len;
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 1;
	iri.access_type = 2;
	iri.ip_version = 1;
	iri.target.family = 4;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_BEGIN, &iri), 0);
	CHECK_INT_EQ(
	    cl_ber_walk(b->d, b->len, CL_BER_DER, CL_BER_DEPTH_MAX, NULL, NULL),
	    0);
	/* Every cut is truncated except the one between the two PDUs. */
	for (n = 1; n < b->len; n++)
		CHECK_INT_EQ(
		    cl_ber_walk(b->d, n, 0, CL_BER_DEPTH_MAX, NULL, NULL),
		    n == first ? 0 : CL_ERR_TRUNCATED);
	cl_buf_free(b);
}

CL_TEST(hi2_ipiri)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	struct cl_buf *b = newbuf();
	struct cl_psheader h;
	struct cl_psdu_ipiri iri;
	struct cl_rd rd, a, val;
	struct cl_span v;
	int64_t i64;
	uint64_t u;
	bool present;

	full_header(&h);
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 8;
	iri.username = (const uint8_t *)"bob";
	iri.username_len = 3;
	iri.access_type = 6;
	iri.ip_version = 2;
	iri.target.family = 6;
	memcpy(iri.target.addr, v6, 16);
	iri.target.prefix_len = 56;
	iri.target.assignment = 1;
	iri.has_end = true;
	iri.end_sec = 1700003600;
	iri.end_usec = 500000;
	iri.end_reason = 2;
	iri.has_octets = true;
	iri.octets_rx = UINT64_MAX;
	iri.octets_tx = 0;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_END, &iri), 0);

	cl_rd_init(&rd, b->d, b->len);
	enter(&rd, 0x20, 16);
	check_header(&rd, 4294967295u);
	enter(&rd, 0xa0, 2);
	enter(&rd, 0xa0, 0); /* iRIPayloadSequence */
	enter(&rd, 0x20, 16);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 0, &v), 0);
	CHECK_INT_EQ(cl_ber_get_int64(v, &i64), 0);
	CHECK_INT_EQ(i64, CL_PSDU_IRI_END);
	enter(&rd, 0xa0, 2);
	enter(&rd, 0xa0, 2);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 0, &v), 0);
	CHECK_MEM_EQ(v.p, "\x05\x03\x12\x01", 4);
	enter(&rd, 0xa0, 1);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 0, &v), 0);
	CHECK_INT_EQ(v.p[0], 8);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 1, &v), 0);
	CHECK_INT_EQ(v.len, 3);
	CHECK_MEM_EQ(v.p, "bob", 3);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 2, &v), 0);
	CHECK_INT_EQ(v.p[0], 6);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 3, &v), 0);
	CHECK_INT_EQ(v.p[0], 2);
	/* targetIPAddress [4] { iP-type [1] iPV6(1), iP-value [2] {
	 * iPBinaryAddress [1] }, iP-assignment [3], iPv6PrefixLength [4] } */
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0xa0, 4, &v), 0);
	cl_rd_init(&a, v.p, v.len);
	CHECK_INT_EQ(cl_ber_expect(&a, CL_BER_DER, 0x80, 1, &v), 0);
	CHECK_INT_EQ(v.p[0], 1);
	CHECK_INT_EQ(cl_ber_expect(&a, CL_BER_DER, 0xa0, 2, &v), 0);
	cl_rd_init(&val, v.p, v.len);
	CHECK_INT_EQ(cl_ber_expect(&val, CL_BER_DER, 0x80, 1, &v), 0);
	CHECK_INT_EQ(v.len, 16);
	CHECK_MEM_EQ(v.p, v6, 16);
	CHECK_INT_EQ(cl_rd_end(&val), 0);
	CHECK_INT_EQ(cl_ber_expect(&a, CL_BER_DER, 0x80, 3, &v), 0);
	CHECK_INT_EQ(v.p[0], 1);
	CHECK_INT_EQ(cl_ber_expect(&a, CL_BER_DER, 0x80, 4, &v), 0);
	CHECK_INT_EQ(v.p[0], 56);
	CHECK_INT_EQ(cl_rd_end(&a), 0);
	CHECK_INT_EQ(
	    cl_ber_optional(&rd, CL_BER_DER, 0x80, 10, &v, &present), 0);
	CHECK(!present); /* no startTime */
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 11, &v), 0);
	CHECK_INT_EQ(v.len, 17);
	CHECK_MEM_EQ(v.p, "20231114231320.5Z", 17);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 12, &v), 0);
	CHECK_INT_EQ(v.p[0], 2);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 13, &v), 0);
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), 0);
	CHECK(u == UINT64_MAX);
	CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0x80, 14, &v), 0);
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), 0);
	CHECK(u == 0);
	CHECK_INT_EQ(cl_rd_end(&rd), 0);
	cl_buf_free(b);
}

CL_TEST(ipaddr_known_answer)
{
	/* The tail of an IRI with an IPv4 target, static: targetIPAddress
	 * [4] { [1] iPV4(0), [2] { [1] 0a 01 02 03 }, [3] static(1) } */
	static const uint8_t want[] = {0xa4, 0x0e, 0x81, 0x01, 0x00, 0xa2, 0x06,
	    0x81, 0x04, 0x0a, 0x01, 0x02, 0x03, 0x83, 0x01, 0x01};
	struct cl_buf *b = newbuf();
	struct cl_psheader h;
	struct cl_psdu_ipiri iri;

	small_header(&h);
	cl_psdu_ipiri_init(&iri);
	iri.access_event = 1;
	iri.access_type = 2;
	iri.ip_version = 1;
	iri.target.family = 4;
	memcpy(iri.target.addr, "\x0a\x01\x02\x03", 4);
	iri.target.assignment = 1;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_BEGIN, &iri), 0);
	CHECK(b->len > sizeof(want));
	CHECK_MEM_EQ(b->d + b->len - sizeof(want), want, sizeof(want));
	cl_buf_free(b);
}

CL_TEST(bad_arguments)
{
	struct cl_buf *b = newbuf(), *small;
	struct cl_psheader h, unready;
	struct cl_psdu_ipiri iri;
	struct cl_psh_ids ids = {
	    .liid = (const uint8_t *)"L",
	    .liid_len = 1,
	    .operator_id = (const uint8_t *)"op",
	    .operator_id_len = 2,
	};
	uint8_t ip[200] = {0};

	memset(&unready, 0, sizeof(unready));
	CHECK_INT_EQ(
	    cl_psdu_hi3_ipcc(b, &unready, ip, 1, 0), CL_ERR_INVALID_ARG);
	ids.liid_len = 26;
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	CHECK(!h.ready);
	ids.liid_len = 0;
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.liid_len = 1;
	ids.operator_id_len = 17;
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.operator_id_len = 2;
	ids.country = "de";
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.country = "DEU";
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.country = NULL;
	ids.ipid = "123456789";
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.ipid = "poi_1"; /* '_' is not PrintableString */
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.ipid = "";
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), CL_ERR_INVALID_ARG);
	ids.ipid = NULL;
	CHECK_INT_EQ(cl_psheader_init(&h, &ids), 0);

	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, 1, 5), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, 1, -1), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, NULL, 1, 0), CL_ERR_INVALID_ARG);
	h.usec = 1000000;
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, 1, 0), CL_ERR_INVALID_ARG);
	h.usec = 0;
	h.sec = -1;
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, 1, 0), CL_ERR_INVALID_ARG);
	h.sec = 253402300800;
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(b, &h, ip, 1, 0), CL_ERR_INVALID_ARG);
	h.sec = 0;
	CHECK_INT_EQ(b->len, 0);

	cl_psdu_ipiri_init(&iri);
	iri.access_event = 1;
	iri.access_type = 2;
	iri.ip_version = 1;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 0, &iri), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 5, &iri), CL_ERR_INVALID_ARG);
	iri.ip_version = 4;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 1, &iri), CL_ERR_INVALID_ARG);
	iri.ip_version = 1;
	iri.access_event = 11;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 1, &iri), CL_ERR_INVALID_ARG);
	iri.access_event = 1;
	iri.target.family = 5;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 1, &iri), CL_ERR_INVALID_ARG);
	iri.target.family = 4;
	iri.target.assignment = 0;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 1, &iri), CL_ERR_INVALID_ARG);
	iri.target.assignment = -1;
	iri.has_start = true;
	iri.start_sec = -5;
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(b, &h, 1, &iri), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(b->len, 0);

	/* A full buffer: the error, and nothing left behind. */
	CHECK((small = cl_buf_new(150)) != NULL);
	CHECK_INT_EQ(cl_buf_put(small, "xyz", 3), 0);
	CHECK_INT_EQ(
	    cl_psdu_hi3_ipcc(small, &h, ip, sizeof(ip), 0), CL_ERR_TOOBIG);
	CHECK_INT_EQ(small->len, 3);
	iri.has_start = false;
	iri.raw_aaa = ip;
	iri.raw_aaa_len = sizeof(ip);
	CHECK_INT_EQ(cl_psdu_hi2_ipiri(small, &h, 1, &iri), CL_ERR_TOOBIG);
	CHECK_INT_EQ(small->len, 3);
	cl_buf_free(small);
	cl_buf_free(b);
}

CL_TEST(libtrace_record)
{
	/* tshark frame 47 tcp.payload: an IRI-Begin PS-PDU from libtrace,
	 * whose outer length is the non-minimal 0x82 0x00 0x9d. */
	static const char hex[] =
	    "3082009da15a80080400020205011100810a585034354e4e3731305482024e5a"
	    "a323a01a80084c69627472616365810e4c696274726163656465766c61628101"
	    "0782024e5a8401008606746573743031a70b800460ada441810304a64c880101"
	    "a23fa03d303b800101a236a234800405030a01a12c800107810b756e6b6e6f77"
	    "6e75736572820104830101a414810100a2068104ac11000283010185"
	    "04ffffffff";
	uint8_t rec[sizeof(hex) / 2];
	struct cl_rd rd;
	struct cl_span v;
	size_t i;

	CHECK_INT_EQ(cl_parse_hex(hex, rec, sizeof(rec), &i), 0);
	CHECK_INT_EQ(i, sizeof(rec));
	CHECK_INT_EQ(
	    cl_ber_walk(rec, sizeof(rec), 0, CL_BER_DEPTH_MAX, NULL, NULL), 0);
	CHECK_INT_EQ(cl_ber_walk(rec, sizeof(rec), CL_BER_DER, CL_BER_DEPTH_MAX,
			 NULL, NULL),
	    CL_ERR_FORMAT);
	cl_rd_init(&rd, rec, sizeof(rec));
	enter(&rd, 0x20, 16);
	enter(&rd, 0xa0, 1);
	CHECK_INT_EQ(cl_ber_expect(&rd, 0, 0x80, 0, &v), 0);
	CHECK_INT_EQ(cl_ber_expect(&rd, 0, 0x80, 1, &v), 0);
	CHECK_INT_EQ(v.len, 10);
	CHECK_MEM_EQ(v.p, "XP45NN710T", 10);
	for (i = 1; i < sizeof(rec); i++)
		CHECK_INT_EQ(
		    cl_ber_walk(rec, i, 0, CL_BER_DEPTH_MAX, NULL, NULL),
		    CL_ERR_TRUNCATED);
}

int
main(void)
{
	CL_RUN(hi3_known_answer);
	CL_RUN(keepalive_known_answer);
	CL_RUN(hi3_large_packet);
	CL_RUN(truncation_every_length);
	CL_RUN(hi2_ipiri);
	CL_RUN(ipaddr_known_answer);
	CL_RUN(bad_arguments);
	CL_RUN(libtrace_record);
	return cl_test_done();
}
