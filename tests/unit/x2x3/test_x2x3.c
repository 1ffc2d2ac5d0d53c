/* SPDX-License-Identifier: ISC */
/*
 * X2/X3 codec tests.  Expected bytes are written by hand from
 * ../shared/standards/ts103221-2/X2X3-PDU-format.md, and the values of the
 * sipgate X2 PDU come from tshark's 5gli dissector and the pcaps README,
 * never from this codec.  The comparison with an independent decoder over
 * a whole stream is tests/integration/0001-x2x3-tshark.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "buf.h"
#include "err.h"
#include "util.h"
#include "x2x3.h"

static const uint8_t XID[16] = {0x8c, 0x29, 0x2f, 0xa1, 0x58, 0x31, 0x46, 0xec,
    0x86, 0xbe, 0xbd, 0x85, 0xf2, 0x08, 0x32, 0x99};

/* clang-format off */
/*
 * An X3 PDU carrying an IPv4/UDP packet with every attribute clearli
 * writes for IPv4, byte by byte from the format document.
 */
static const uint8_t KAT_X3_V4[] = {
	/* version 5, PDU type 2 (X3) */
	0x00, 0x05, 0x00, 0x02,
	/* header length 151 = 40 + 111 octets of attributes */
	0x00, 0x00, 0x00, 0x97,
	/* payload length 28 */
	0x00, 0x00, 0x00, 0x1c,
	/* payload format 5 (IPv4), direction 3 (from target) */
	0x00, 0x05, 0x00, 0x03,
	/* XID 8c292fa1-5831-46ec-86be-bd85f2083299 */
	0x8c, 0x29, 0x2f, 0xa1, 0x58, 0x31, 0x46, 0xec,
	0x86, 0xbe, 0xbd, 0x85, 0xf2, 0x08, 0x32, 0x99,
	/* correlation ID 12345 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x39,
	/* 5 DID, 16 octets */
	0x00, 0x05, 0x00, 0x10,
	0x6f, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x4f, 0x60,
	0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8,
	/* 6 NFID "poi-1" */
	0x00, 0x06, 0x00, 0x05, 'p', 'o', 'i', '-', '1',
	/* 7 IPID "eth0" */
	0x00, 0x07, 0x00, 0x04, 'e', 't', 'h', '0',
	/* 8 sequence number 42 */
	0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2a,
	/* 9 timestamp 1704067200 s (2024-01-01T00:00:00Z) + 123456789 ns */
	0x00, 0x09, 0x00, 0x08, 0x65, 0x92, 0x00, 0x80, 0x07, 0x5b, 0xcd, 0x15,
	/* 10 source IPv4 192.0.2.1 */
	0x00, 0x0a, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x01,
	/* 11 destination IPv4 198.51.100.2 */
	0x00, 0x0b, 0x00, 0x04, 0xc6, 0x33, 0x64, 0x02,
	/* 14 source port 5060 */
	0x00, 0x0e, 0x00, 0x02, 0x13, 0xc4,
	/* 15 destination port 53 */
	0x00, 0x0f, 0x00, 0x02, 0x00, 0x35,
	/* 16 IP protocol 17 (UDP) */
	0x00, 0x10, 0x00, 0x01, 0x11,
	/* 17 MTI "alice@example.org" */
	0x00, 0x11, 0x00, 0x11, 'a', 'l', 'i', 'c', 'e', '@', 'e', 'x', 'a',
	'm', 'p', 'l', 'e', '.', 'o', 'r', 'g',
	/* payload: IPv4 192.0.2.1 -> 198.51.100.2, UDP 5060 -> 53, empty */
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x8e, 0x99,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02,
	0x13, 0xc4, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};
/* clang-format on */
#define KAT_HLEN 151
#define KAT_PLEN 28

/* TCP payload of the one frame of
 * pcaps/li_output/sipgate-li-lib__x2-demo-01.pcap (tshark -e tcp.payload). */
static const char SIPGATE_HEX[] =
    "00050001000000510000021b000900038c292fa1583146ec86bebd85f2083299"
    "0000000000000001001100253c453136344e756d6265723e3439343031323334"
    "353637383c2f453136344e756d6265723e5245474953544552207369703a7369"
    "70676174652e6465205349502f322e300a5669613a205349502f322e302f5544"
    "50203137322e31372e302e323a33393339343b72706f72743b6272616e63683d"
    "7a39684734624b506a2d34523938693452766f436234712d565347536858764b"
    "514742517457496b610a526f7574653a203c7369703a70726f78792e6465762e"
    "736970676174652e64653b6c723e0a4d61782d466f7277617264733a2037300a"
    "46726f6d3a203c7369703a31313234333439653340736970676174652e64653e"
    "3b7461673d456b486b4c537159574d62386e4533717747596d6f6a2e434a464d"
    "74784655740a546f3a203c7369703a3131323433343965334073697067617465"
    "2e64653e0a43616c6c2d49443a2071306e593454476b6d315139385234305144"
    "6e6d56724637314258496d5567750a435365713a203339313534205245474953"
    "5445520a557365722d4167656e743a20706a73697020707974686f6e0a436f6e"
    "746163743a203c7369703a313132343334396533403137322e31372e302e323a"
    "33393339343b6f623e0a457870697265733a203330300a416c6c6f773a205052"
    "41434b2c20494e564954452c2041434b2c204259452c2043414e43454c2c2055"
    "50444154452c20494e464f2c205355425343524942452c204e4f544946592c20"
    "52454645522c204d4553534147452c204f5054494f4e530a436f6e74656e742d"
    "4c656e6774683a2020300a0a";
#define SIPGATE_LEN 620

/* clang-format off */
/* An X3 PDU with an IPv6 payload and the IPv6 address attributes. */
static const uint8_t KAT_X3_V6[] = {
	0x00, 0x05, 0x00, 0x02,	/* version 5, X3 */
	0x00, 0x00, 0x00, 0x50,	/* header length 80 = 40 + 2 * 20 */
	0x00, 0x00, 0x00, 0x28,	/* payload length 40 */
	0x00, 0x06, 0x00, 0x02,	/* format 6 (IPv6), direction 2 (to target) */
	0x8c, 0x29, 0x2f, 0xa1, 0x58, 0x31, 0x46, 0xec,
	0x86, 0xbe, 0xbd, 0x85, 0xf2, 0x08, 0x32, 0x99,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* correlation ID 1 */
	/* 12 source IPv6 2001:db8::1 */
	0x00, 0x0c, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	/* 13 destination IPv6 2001:db8::2 */
	0x00, 0x0d, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	/* payload: IPv6 header, no next header, payload length 0 */
	0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
};

/* A keepalive acknowledgement echoing sequence number 0x01020304. */
static const uint8_t KAT_ACK[48] = {
	0x00, 0x05, 0x00, 0x04,	/* version 5, keepalive ack */
	0x00, 0x00, 0x00, 0x30,	/* header length 48 */
	0x00, 0x00, 0x00, 0x00,	/* no payload */
	0x00, 0x00, 0x00, 0x00,	/* format 0, direction 0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* XID zero */
	0, 0, 0, 0, 0, 0, 0, 0,				/* CID zero */
	0x00, 0x08, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, /* 8 sequence number */
};
/* clang-format on */

/* Decodes from an exact-size heap copy, so that ASan and valgrind catch
 * any read past the end.  Only for results whose spans are not used. */
static int
decode_copy(const uint8_t *p, size_t n, struct cl_x2x3_pdu *out,
    size_t *consumed, const char **why)
{
	uint8_t *c;
	int r;

	if ((c = malloc(n > 0 ? n : 1)) == NULL)
		cl_test_fail(__FILE__, __LINE__, "malloc");
	if (n > 0)
		memcpy(c, p, n);
	r = cl_x2x3_decode(c, n, out, consumed, why);
	free(c);
	return r;
}

/*
 * Returns the decoder's result on p[0..n).  A failure must leave the
 * out-params cleared and name the check; if not, returns 1000 so that the
 * caller's comparison fails.
 */
static int
dec(const uint8_t *p, size_t n)
{
	static const struct cl_x2x3_pdu zero;
	struct cl_x2x3_pdu out;
	size_t consumed = 12345;
	const char *why = NULL;
	int r;

	memset(&out, 0xa5, sizeof(out));
	r = decode_copy(p, n, &out, &consumed, &why);
	if (r == 0)
		return why == NULL && consumed <= n ? 0 : 1000;
	if (consumed != 0 || why == NULL || why[0] == '\0' ||
	    memcmp(&out, &zero, sizeof(out)) != 0)
		return 1000;
	return r;
}

static size_t
tlv(uint8_t *p, uint16_t type, uint16_t len, const void *v)
{
	cl_store_u16(p, type);
	cl_store_u16(p + 2, len);
	if (len > 0)
		memcpy(p + 4, v, len);
	return 4 + (size_t)len;
}

/*
 * Writes a PDU byte by byte, independently of the encoder: header length
 * 40 + alen, XID and correlation ID set for X2/X3 and zero for keepalives.
 */
static size_t
build(uint8_t *out, uint16_t ver, uint16_t type, uint16_t pf, uint16_t pd,
    const uint8_t *attrs, size_t alen, const void *pl, size_t plen)
{
	cl_store_u16(out, ver);
	cl_store_u16(out + 2, type);
	cl_store_u32(out + 4, (uint32_t)(40 + alen));
	cl_store_u32(out + 8, (uint32_t)plen);
	cl_store_u16(out + 12, pf);
	cl_store_u16(out + 14, pd);
	memset(out + 16, 0, 24);
	if (type == CL_X2X3_X2 || type == CL_X2X3_X3) {
		memcpy(out + 16, XID, 16);
		out[39] = 7;
	}
	if (alen > 0)
		memcpy(out + 40, attrs, alen);
	if (plen > 0)
		memcpy(out + 40 + alen, pl, plen);
	return 40 + alen + plen;
}

/* An X2 SIP PDU with the given attributes and payload "hello". */
static size_t
build_x2(uint8_t *out, const uint8_t *attrs, size_t alen)
{
	return build(out, CL_X2X3_VERSION, CL_X2X3_X2, CL_X2X3_PF_SIP,
	    CL_X2X3_DIR_TO_TARGET, attrs, alen, "hello", 5);
}

static bool
span_eq(struct cl_span a, struct cl_span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool
addr_eq(const struct cl_addr *a, const struct cl_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == 4)
		return memcmp(a->a, b->a, 4) == 0;
	if (a->family == 6)
		return memcmp(a->a, b->a, 16) == 0;
	return true;
}

/* Compares every field but other_attrs (decoder only). */
static bool
pdu_eq(const struct cl_x2x3_pdu *a, const struct cl_x2x3_pdu *b)
{
	return a->type == b->type && a->pformat == b->pformat &&
	    a->pdir == b->pdir && memcmp(a->xid, b->xid, 16) == 0 &&
	    memcmp(a->cid, b->cid, 8) == 0 && a->has_seqno == b->has_seqno &&
	    (!a->has_seqno || a->seqno == b->seqno) && a->has_ts == b->has_ts &&
	    (!a->has_ts ||
		(a->ts_sec == b->ts_sec && a->ts_nsec == b->ts_nsec)) &&
	    addr_eq(&a->src, &b->src) && addr_eq(&a->dst, &b->dst) &&
	    a->has_sport == b->has_sport &&
	    (!a->has_sport || a->sport == b->sport) &&
	    a->has_dport == b->has_dport &&
	    (!a->has_dport || a->dport == b->dport) &&
	    a->has_ipproto == b->has_ipproto &&
	    (!a->has_ipproto || a->ipproto == b->ipproto) &&
	    span_eq(a->mti, b->mti) && span_eq(a->ipid, b->ipid) &&
	    span_eq(a->nfid, b->nfid) && a->has_did == b->has_did &&
	    (!a->has_did || memcmp(a->did, b->did, 16) == 0) &&
	    span_eq(a->payload, b->payload);
}

/* Every proper prefix of a valid PDU is CL_ERR_TRUNCATED. */
static void
check_truncations(const uint8_t *p, size_t len)
{
	size_t n;

	for (n = 0; n < len; n++) {
		if (dec(p, n) != CL_ERR_TRUNCATED)
			cl_test_fail(__FILE__, __LINE__,
			    "prefix %zu of %zu: %d", n, len, dec(p, n));
	}
	CHECK_INT_EQ(dec(p, len), 0);
}

/* Prefixes shorter than k are truncated; from k on the error is known. */
static void
check_early(const uint8_t *p, size_t len, size_t k, int want)
{
	size_t n;

	for (n = 0; n <= len; n++) {
		int r = dec(p, n), exp = n < k ? CL_ERR_TRUNCATED : want;

		if (r != exp)
			cl_test_fail(__FILE__, __LINE__,
			    "prefix %zu of %zu: %d, want %d", n, len, r, exp);
	}
}

static struct cl_span
str(const char *s)
{
	struct cl_span sp = {(const uint8_t *)s, strlen(s)};

	return sp;
}

static void
kat_v4_pdu(struct cl_x2x3_pdu *p)
{
	static const uint8_t did[16] = {0x6f, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e,
	    0x4f, 0x60, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8};

	memset(p, 0, sizeof(*p));
	p->type = CL_X2X3_X3;
	p->pformat = CL_X2X3_PF_IPV4;
	p->pdir = CL_X2X3_DIR_FROM_TARGET;
	memcpy(p->xid, XID, 16);
	p->cid[6] = 0x30;
	p->cid[7] = 0x39;
	p->has_did = true;
	memcpy(p->did, did, 16);
	p->nfid = str("poi-1");
	p->ipid = str("eth0");
	p->has_seqno = true;
	p->seqno = 42;
	p->has_ts = true;
	p->ts_sec = 1704067200;
	p->ts_nsec = 123456789;
	p->src.family = 4;
	memcpy(p->src.a, "\xc0\x00\x02\x01", 4);
	p->dst.family = 4;
	memcpy(p->dst.a, "\xc6\x33\x64\x02", 4);
	p->has_sport = true;
	p->sport = 5060;
	p->has_dport = true;
	p->dport = 53;
	p->has_ipproto = true;
	p->ipproto = 17;
	p->mti = str("alice@example.org");
	p->payload.p = KAT_X3_V4 + KAT_HLEN;
	p->payload.len = KAT_PLEN;
}

CL_TEST(known_answer_x3_ipv4_all_attributes)
{
	struct cl_x2x3_pdu p, d;
	struct cl_buf b;
	size_t consumed;
	const char *why = "x";

	CHECK_INT_EQ(sizeof(KAT_X3_V4), KAT_HLEN + KAT_PLEN);
	kat_v4_pdu(&p);
	CHECK_INT_EQ(cl_x2x3_encoded_len(&p), sizeof(KAT_X3_V4));
	cl_buf_init(&b, 65536);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	CHECK_INT_EQ(b.len, sizeof(KAT_X3_V4));
	CHECK_MEM_EQ(b.d, KAT_X3_V4, sizeof(KAT_X3_V4));
	cl_buf_release(&b);

	CHECK_INT_EQ(
	    cl_x2x3_decode(KAT_X3_V4, sizeof(KAT_X3_V4), &d, &consumed, &why),
	    0);
	CHECK(why == NULL);
	CHECK_INT_EQ(consumed, sizeof(KAT_X3_V4));
	CHECK_INT_EQ(d.type, 2);
	CHECK_INT_EQ(d.pformat, 5);
	CHECK_INT_EQ(d.pdir, 3);
	CHECK_MEM_EQ(d.xid, XID, 16);
	CHECK_MEM_EQ(d.cid, "\0\0\0\0\0\0\x30\x39", 8);
	CHECK(d.has_did && d.did[0] == 0x6f && d.did[15] == 0xf8);
	CHECK(d.nfid.len == 5 && memcmp(d.nfid.p, "poi-1", 5) == 0);
	CHECK(d.ipid.len == 4 && memcmp(d.ipid.p, "eth0", 4) == 0);
	CHECK(d.has_seqno && d.seqno == 42);
	CHECK(d.has_ts && d.ts_sec == 1704067200 && d.ts_nsec == 123456789);
	CHECK(d.src.family == 4 && memcmp(d.src.a, "\xc0\x00\x02\x01", 4) == 0);
	CHECK(d.dst.family == 4 && memcmp(d.dst.a, "\xc6\x33\x64\x02", 4) == 0);
	CHECK(d.has_sport && d.sport == 5060);
	CHECK(d.has_dport && d.dport == 53);
	CHECK(d.has_ipproto && d.ipproto == 17);
	CHECK(d.mti.len == 17 && memcmp(d.mti.p, "alice@example.org", 17) == 0);
	CHECK_INT_EQ(d.other_attrs, 0);
	CHECK(d.payload.p == KAT_X3_V4 + KAT_HLEN);
	CHECK_INT_EQ(d.payload.len, KAT_PLEN);
	CHECK(pdu_eq(&p, &d));
}

CL_TEST(known_answer_x3_ipv6)
{
	struct cl_x2x3_pdu p, d;
	struct cl_buf b;
	size_t consumed;

	memset(&p, 0, sizeof(p));
	p.type = CL_X2X3_X3;
	p.pformat = CL_X2X3_PF_IPV6;
	p.pdir = CL_X2X3_DIR_TO_TARGET;
	memcpy(p.xid, XID, 16);
	p.cid[7] = 1;
	CHECK_INT_EQ(cl_parse_addr("2001:db8::1", &p.src), 0);
	CHECK_INT_EQ(cl_parse_addr("2001:db8::2", &p.dst), 0);
	p.payload.p = KAT_X3_V6 + 80;
	p.payload.len = 40;
	cl_buf_init(&b, 65536);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	CHECK_INT_EQ(b.len, sizeof(KAT_X3_V6));
	CHECK_MEM_EQ(b.d, KAT_X3_V6, sizeof(KAT_X3_V6));
	cl_buf_release(&b);
	CHECK_INT_EQ(
	    cl_x2x3_decode(KAT_X3_V6, sizeof(KAT_X3_V6), &d, &consumed, NULL),
	    0);
	CHECK_INT_EQ(consumed, sizeof(KAT_X3_V6));
	CHECK(pdu_eq(&p, &d));
	CHECK_INT_EQ(d.src.family, 6);
	CHECK_INT_EQ(d.dst.family, 6);
}

CL_TEST(keepalive_ack_is_48_octets)
{
	struct cl_x2x3_pdu p, d;
	struct cl_buf b;
	size_t consumed;
	uint8_t ka[48];

	cl_x2x3_keepalive(&p, true, 0x01020304);
	CHECK_INT_EQ(p.type, CL_X2X3_KEEPALIVE_ACK);
	CHECK_INT_EQ(cl_x2x3_encoded_len(&p), 48);
	cl_buf_init(&b, 1024);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	CHECK_INT_EQ(b.len, 48);
	CHECK_MEM_EQ(b.d, KAT_ACK, 48);

	/* The keepalive differs only in its PDU type. */
	cl_buf_reset(&b);
	cl_x2x3_keepalive(&p, false, 0x01020304);
	CHECK_INT_EQ(p.type, CL_X2X3_KEEPALIVE);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	memcpy(ka, KAT_ACK, 48);
	ka[3] = 3;
	CHECK_INT_EQ(b.len, 48);
	CHECK_MEM_EQ(b.d, ka, 48);
	cl_buf_release(&b);

	CHECK_INT_EQ(cl_x2x3_decode(KAT_ACK, 48, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(consumed, 48);
	CHECK_INT_EQ(d.type, CL_X2X3_KEEPALIVE_ACK);
	CHECK(d.has_seqno && d.seqno == 0x01020304);
	CHECK_INT_EQ(d.payload.len, 0);
	CHECK_INT_EQ(cl_x2x3_decode(ka, 48, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(d.type, CL_X2X3_KEEPALIVE);
	CHECK(d.has_seqno && d.seqno == 0x01020304);
}

static void
sipgate_bytes(uint8_t *p)
{
	size_t n = 0;

	CHECK_INT_EQ(cl_parse_hex(SIPGATE_HEX, p, SIPGATE_LEN, &n), 0);
	CHECK_INT_EQ(n, SIPGATE_LEN);
}

CL_TEST(sipgate_hex_is_the_pcap_payload)
{
	uint8_t pdu[SIPGATE_LEN], *f = NULL;
	size_t flen = 0;

	sipgate_bytes(pdu);
	/* One frame, TCP payload last (tshark: tcp.len 620, 726-octet file). */
	cl_test_read_file(
	    cl_test_path("pcaps/li_output/sipgate-li-lib__x2-demo-01.pcap"), &f,
	    &flen);
	if (flen != 726 || memcmp(f + flen - SIPGATE_LEN, pdu, SIPGATE_LEN)) {
		free(f);
		cl_test_fail(__FILE__, __LINE__, "pcap payload differs");
	}
	free(f);
}

CL_TEST(sipgate_x2_pdu)
{
	static const char mti[] = "<E164Number>494012345678</E164Number>";
	static const char callid[] =
	    "Call-ID: q0nY4TGkm1Q98R40QDnmVrF71BXImUgu\n";
	uint8_t pdu[SIPGATE_LEN];
	struct cl_x2x3_pdu d;
	struct cl_buf b;
	size_t consumed;

	sipgate_bytes(pdu);
	/* Values from tshark -d tcp.port==9999,5gli (see pcaps/README.md). */
	CHECK_INT_EQ(cl_x2x3_decode(pdu, sizeof(pdu), &d, &consumed, NULL), 0);
	CHECK_INT_EQ(consumed, 620);
	CHECK_INT_EQ(d.type, CL_X2X3_X2);
	CHECK_INT_EQ(d.pformat, CL_X2X3_PF_SIP);
	CHECK_INT_EQ(d.pdir, CL_X2X3_DIR_FROM_TARGET);
	CHECK_MEM_EQ(d.xid, XID, 16);
	CHECK_MEM_EQ(d.cid, "\0\0\0\0\0\0\0\x01", 8);
	CHECK_INT_EQ(d.mti.len, 37);
	CHECK_MEM_EQ(d.mti.p, mti, 37);
	CHECK(!d.has_seqno && !d.has_ts && !d.has_did && !d.has_sport);
	CHECK(d.src.family == 0 && d.dst.family == 0);
	CHECK(d.nfid.len == 0 && d.ipid.len == 0);
	CHECK_INT_EQ(d.other_attrs, 0);
	CHECK_INT_EQ(d.payload.len, 539);
	CHECK(d.payload.p == pdu + 81);
	CHECK_MEM_EQ(d.payload.p, "REGISTER sip:sipgate.de SIP/2.0\n", 32);
	CHECK(
	    memmem(d.payload.p, d.payload.len, callid, strlen(callid)) != NULL);

	/* Only an MTI: the encoding is canonical, so it re-encodes exactly. */
	cl_buf_init(&b, 4096);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &d), 0);
	CHECK_INT_EQ(b.len, sizeof(pdu));
	CHECK_MEM_EQ(b.d, pdu, sizeof(pdu));
	cl_buf_release(&b);
}

CL_TEST(truncation_at_every_length)
{
	uint8_t pdu[SIPGATE_LEN], buf[256];
	uint8_t attrs[CL_X2X3_MAX_HEADER], big[CL_X2X3_MAX_HEADER + 1];
	size_t n;

	check_truncations(KAT_X3_V4, sizeof(KAT_X3_V4));
	check_truncations(KAT_X3_V6, sizeof(KAT_X3_V6));
	check_truncations(KAT_ACK, sizeof(KAT_ACK));
	sipgate_bytes(pdu);
	check_truncations(pdu, sizeof(pdu));
	/* No attributes, no payload: the smallest X2 PDU. */
	n = build(buf, 5, CL_X2X3_X2, CL_X2X3_PF_RADIUS, CL_X2X3_DIR_NA, NULL,
	    0, NULL, 0);
	CHECK_INT_EQ(n, 40);
	check_truncations(buf, n);
	/* Header of exactly CL_X2X3_MAX_HEADER filled by an opaque TLV. */
	memset(attrs, 0x5a, sizeof(attrs));
	cl_store_u16(attrs, 4);
	cl_store_u16(attrs + 2, CL_X2X3_MAX_HEADER - 44);
	n = build(big, 5, CL_X2X3_X3, CL_X2X3_PF_GTPU, CL_X2X3_DIR_UNKNOWN,
	    attrs, CL_X2X3_MAX_HEADER - 40, "x", 1);
	CHECK_INT_EQ(n, CL_X2X3_MAX_HEADER + 1);
	check_truncations(big, n);
}

CL_TEST(impossible_lengths_rejected_early)
{
	uint8_t buf[256];
	size_t n;

	/* Version: known from 2 octets on. */
	n = build_x2(buf, NULL, 0);
	cl_store_u16(buf, 1);
	check_early(buf, n, 2, CL_ERR_UNSUPPORTED);
	/* PDU type: from 4. */
	n = build_x2(buf, NULL, 0);
	cl_store_u16(buf + 2, 9);
	check_early(buf, n, 4, CL_ERR_FORMAT);
	/* Header length: from 8. */
	cl_store_u16(buf + 2, 1);
	cl_store_u32(buf + 4, 39);
	check_early(buf, n, 8, CL_ERR_FORMAT);
	cl_store_u32(buf + 4, CL_X2X3_MAX_HEADER + 1);
	check_early(buf, n, 8, CL_ERR_TOOBIG);
	/* Payload length: from 12. */
	cl_store_u32(buf + 4, 40);
	cl_store_u32(buf + 8, CL_X2X3_MAX_PAYLOAD + 1);
	check_early(buf, n, 12, CL_ERR_TOOBIG);
	n = build(buf, 5, CL_X2X3_KEEPALIVE, 0, 0, NULL, 0, "x", 1);
	check_early(buf, n, 12, CL_ERR_FORMAT);
	/* Format and direction: from 16. */
	n = build(buf, 5, CL_X2X3_X3, 17, 1, NULL, 0, "x", 1);
	check_early(buf, n, 16, CL_ERR_FORMAT);
	/* A keepalive's XID and correlation ID: from 40. */
	n = build(buf, 5, CL_X2X3_KEEPALIVE_ACK, 0, 0, NULL, 0, NULL, 0);
	buf[20] = 1;
	check_early(buf, n, 40, CL_ERR_FORMAT);
	/* Attributes: once the header is in, before the payload. */
	{
		uint8_t a[8];
		size_t alen = tlv(a, 23, 0, NULL);

		n = build_x2(buf, a, alen);
		check_early(buf, n, 44, CL_ERR_FORMAT);
	}
}

CL_TEST(bad_fixed_header)
{
	static const uint16_t bad_versions[] = {0, 1, 4, 6, 0x0500, 0xffff};
	static const uint16_t bad_types[] = {0, 5, 0x100, 0xffff};
	uint8_t buf[256];
	size_t n, i;

	for (i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		n = build(buf, bad_versions[i], 1, 9, 2, NULL, 0, "x", 1);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_UNSUPPORTED);
	}
	for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
		n = build(buf, 5, bad_types[i], 9, 2, NULL, 0, "x", 1);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	}
	n = build_x2(buf, NULL, 0);
	CHECK_INT_EQ(dec(buf, n), 0);
	cl_store_u32(buf + 4, 0);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	cl_store_u32(buf + 4, 39);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	cl_store_u32(buf + 4, 4097);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_TOOBIG);
	cl_store_u32(buf + 4, 0xffffffff);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_TOOBIG);
	cl_store_u32(buf + 4, 40);
	cl_store_u32(buf + 8, CL_X2X3_MAX_PAYLOAD + 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_TOOBIG);
	cl_store_u32(buf + 8, 0xffffffff);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_TOOBIG);

	/* Payload formats above 16, directions above 5. */
	n = build(buf, 5, CL_X2X3_X2, 17, 2, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build(buf, 5, CL_X2X3_X2, 0xffff, 2, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build(buf, 5, CL_X2X3_X2, 16, 6, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build(buf, 5, CL_X2X3_X3, 16, 5, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), 0);
	/* Format 0 and direction 0 are for keepalives only. */
	n = build(buf, 5, CL_X2X3_X2, 0, 2, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build(buf, 5, CL_X2X3_X3, 5, 0, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build(buf, 5, CL_X2X3_X3, 0, 0, NULL, 0, "x", 1);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
}

CL_TEST(bad_keepalives)
{
	uint8_t buf[256];
	uint16_t t;
	size_t n;

	for (t = CL_X2X3_KEEPALIVE; t <= CL_X2X3_KEEPALIVE_ACK; t++) {
		n = build(buf, 5, t, 0, 0, NULL, 0, NULL, 0);
		CHECK_INT_EQ(dec(buf, n), 0);
		/* a payload */
		n = build(buf, 5, t, 0, 0, NULL, 0, "x", 1);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		/* a payload format or direction */
		n = build(buf, 5, t, 1, 0, NULL, 0, NULL, 0);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		n = build(buf, 5, t, 0, 5, NULL, 0, NULL, 0);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		/* an XID (first and last octet) or correlation ID */
		n = build(buf, 5, t, 0, 0, NULL, 0, NULL, 0);
		buf[16] = 1;
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		buf[16] = 0;
		buf[31] = 0x80;
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		buf[31] = 0;
		buf[32] = 1;
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		buf[32] = 0;
		buf[39] = 1;
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	}
}

CL_TEST(attributes_must_fill_header)
{
	uint8_t a[64], buf[256];
	size_t alen, n;

	alen = tlv(a, CL_X2X3_ATTR_SEQNO, 4, "\0\0\0\1");
	n = build_x2(buf, a, alen);
	CHECK_INT_EQ(dec(buf, n), 0);
	/* 1 to 3 octets left over: too short for a TLV header. */
	for (size_t extra = 1; extra <= 3; extra++) {
		memset(a + alen, 0, extra);
		n = build_x2(buf, a, alen + extra);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	}
	/* A TLV header with no room for its value. */
	cl_store_u16(a + alen, 4);
	cl_store_u16(a + alen + 2, 1);
	n = build_x2(buf, a, alen + 4);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	/* The last TLV runs past the header into the payload. */
	n = build_x2(buf, a, alen);
	cl_store_u32(buf + 4, (uint32_t)(40 + alen - 1));
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	/* A length that would run past the end of the whole buffer. */
	alen = tlv(a, 4, 0, NULL);
	cl_store_u16(a + 2, 0xffff);
	n = build_x2(buf, a, alen);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
}

CL_TEST(attribute_sizes)
{
	static const struct {
		uint16_t type, size;
	} fixed[] = {{5, 16}, {8, 4}, {9, 8}, {10, 4}, {11, 4}, {12, 16},
	    {13, 16}, {14, 2}, {15, 2}, {16, 1}};
	uint8_t a[64], buf[256], v[32];
	size_t i, n;

	memset(v, 0x11, sizeof(v));
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint16_t t = fixed[i].type, s = fixed[i].size;

		n = build_x2(buf, a, tlv(a, t, s, v));
		CHECK_INT_EQ(dec(buf, n), 0);
		n = build_x2(buf, a, tlv(a, t, s - 1, v));
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		n = build_x2(buf, a, tlv(a, t, s + 1, v));
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		n = build_x2(buf, a, tlv(a, t, 0, v));
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	}
	/* Timestamp nanoseconds must be below one second. */
	n = build_x2(buf, a, tlv(a, 9, 8, "\0\0\0\1\x3b\x9a\xc9\xff"));
	CHECK_INT_EQ(dec(buf, n), 0);
	n = build_x2(buf, a, tlv(a, 9, 8, "\0\0\0\1\x3b\x9a\xca\x00"));
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
}

CL_TEST(duplicated_attributes)
{
	uint8_t a[600], buf[800], v[16];
	uint16_t t;
	size_t alen, n;

	/* '0' octets: clean UTF-8, and a timestamp with valid nanoseconds */
	memset(v, '0', sizeof(v));
	for (t = 5; t <= 17; t++) {
		static const uint8_t sz[18] = {[5] = 16,
		    [6] = 3,
		    [7] = 3,
		    [8] = 4,
		    [9] = 8,
		    [10] = 4,
		    [11] = 4,
		    [12] = 16,
		    [13] = 16,
		    [14] = 2,
		    [15] = 2,
		    [16] = 1,
		    [17] = 3};

		alen = tlv(a, t, sz[t], v);
		n = build_x2(buf, a, alen);
		CHECK_INT_EQ(dec(buf, n), 0);
		alen += tlv(a + alen, t, sz[t], v);
		n = build_x2(buf, a, alen);
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	}
	/* An IPv4 and an IPv6 source (or destination) are two of them. */
	alen = tlv(a, 10, 4, v);
	alen += tlv(a + alen, 12, 16, v);
	n = build_x2(buf, a, alen);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	alen = tlv(a, 11, 4, v);
	alen += tlv(a + alen, 13, 16, v);
	n = build_x2(buf, a, alen);
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	/* An IPv4 source and an IPv6 destination are fine. */
	alen = tlv(a, 10, 4, v);
	alen += tlv(a + alen, 13, 16, v);
	n = build_x2(buf, a, alen);
	CHECK_INT_EQ(dec(buf, n), 0);
	/* Opaque types and OTI (18) may repeat. */
	for (t = 1; t <= 22; t++) {
		if (t >= 5 && t <= 17)
			continue;
		alen = tlv(a, t, 3, v);
		alen += tlv(a + alen, t, 3, v);
		n = build_x2(buf, a, alen);
		CHECK_INT_EQ(dec(buf, n), 0);
	}
}

CL_TEST(string_attributes)
{
	static const uint16_t types[] = {6, 7, 17, 18};
	static const char *bad[] = {
	    "a\x00"
	    "b", /* NUL */
	    "a\x1f"
	    "b",                /* C0 control */
	    "a\x7f",            /* DEL */
	    "\xff",             /* never valid */
	    "\xc3",             /* truncated sequence */
	    "\xc0\xaf",         /* overlong */
	    "\xed\xa0\x80",     /* surrogate */
	    "\xc2\x85",         /* C1 control */
	    "\xf4\x90\x80\x80", /* above U+10FFFF */
	};
	static const size_t badlen[] = {3, 3, 2, 1, 1, 2, 3, 2, 4};
	uint8_t a[600], buf[800], v[300];
	struct cl_x2x3_pdu d;
	size_t consumed, i, k, n;

	memset(v, 'a', sizeof(v));
	for (k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
		uint16_t t = types[k];

		/* 1 to 256 octets of clean UTF-8 */
		n = build_x2(buf, a, tlv(a, t, 1, v));
		CHECK_INT_EQ(dec(buf, n), 0);
		n = build_x2(buf, a, tlv(a, t, CL_X2X3_MAX_STRATTR, v));
		CHECK_INT_EQ(dec(buf, n), 0);
		n = build_x2(buf, a,
		    tlv(a, t, 9, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
		CHECK_INT_EQ(dec(buf, n), 0);
		n = build_x2(buf, a, tlv(a, t, 0, v));
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		n = build_x2(buf, a, tlv(a, t, CL_X2X3_MAX_STRATTR + 1, v));
		CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			n = build_x2(
			    buf, a, tlv(a, t, (uint16_t)badlen[i], bad[i]));
			if (dec(buf, n) != CL_ERR_FORMAT)
				cl_test_fail(__FILE__, __LINE__,
				    "type %u bad string %zu accepted", t, i);
		}
	}
	/* 18 is validated but opaque to clearli: it only counts. */
	n = build_x2(buf, a, tlv(a, 18, 3, "bob"));
	CHECK_INT_EQ(cl_x2x3_decode(buf, n, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(d.other_attrs, 1);
	CHECK(d.mti.len == 0 && d.nfid.len == 0 && d.ipid.len == 0);
}

CL_TEST(attribute_types)
{
	uint8_t a[600], buf[800];
	struct cl_x2x3_pdu d;
	size_t alen, consumed, n;
	uint16_t t;

	/* 0 and above 22 are unknown. */
	n = build_x2(buf, a, tlv(a, 0, 0, NULL));
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build_x2(buf, a, tlv(a, 23, 1, "x"));
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	n = build_x2(buf, a, tlv(a, 0xffff, 1, "x"));
	CHECK_INT_EQ(dec(buf, n), CL_ERR_FORMAT);
	/* 1-4 and 19-22 are opaque octets, any length, even binary. */
	alen = 0;
	for (t = 1; t <= 4; t++)
		alen += tlv(a + alen, t, t - 1, "\0\xff\x01");
	for (t = 19; t <= 22; t++)
		alen += tlv(a + alen, t, 2, "\xff\0");
	alen += tlv(a + alen, CL_X2X3_ATTR_SEQNO, 4, "\0\0\0\x09");
	n = build_x2(buf, a, alen);
	CHECK_INT_EQ(cl_x2x3_decode(buf, n, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(consumed, n);
	CHECK_INT_EQ(d.other_attrs, 8);
	CHECK(d.has_seqno && d.seqno == 9);
	CHECK(d.payload.len == 5 && memcmp(d.payload.p, "hello", 5) == 0);
}

CL_TEST(payload_limit)
{
	uint8_t *buf;
	size_t n = 40 + CL_X2X3_MAX_PAYLOAD + 1;

	if ((buf = calloc(1, n)) == NULL)
		cl_test_fail(__FILE__, __LINE__, "calloc");
	build(buf, 5, CL_X2X3_X3, CL_X2X3_PF_ETHERNET, 1, NULL, 0, NULL, 0);
	cl_store_u32(buf + 8, CL_X2X3_MAX_PAYLOAD);
	if (dec(buf, n - 1) != 0 || dec(buf, n) != 0) {
		free(buf);
		cl_test_fail(__FILE__, __LINE__, "maximum payload refused");
	}
	cl_store_u32(buf + 8, CL_X2X3_MAX_PAYLOAD + 1);
	if (dec(buf, n) != CL_ERR_TOOBIG) {
		free(buf);
		cl_test_fail(__FILE__, __LINE__, "payload over limit accepted");
	}
	free(buf);
}

CL_TEST(stream_of_pdus)
{
	uint8_t sip[SIPGATE_LEN];
	struct cl_x2x3_pdu d;
	struct cl_buf b;
	size_t consumed, off = 0;

	sipgate_bytes(sip);
	cl_buf_init(&b, 65536);
	CHECK_INT_EQ(cl_buf_put(&b, sip, sizeof(sip)), 0);
	CHECK_INT_EQ(cl_buf_put(&b, KAT_ACK, sizeof(KAT_ACK)), 0);
	CHECK_INT_EQ(cl_buf_put(&b, KAT_X3_V4, sizeof(KAT_X3_V4)), 0);
	CHECK_INT_EQ(cl_buf_put(&b, KAT_X3_V4, 10), 0);

	CHECK_INT_EQ(cl_x2x3_decode(b.d, b.len, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(consumed, SIPGATE_LEN);
	off += consumed;
	CHECK_INT_EQ(
	    cl_x2x3_decode(b.d + off, b.len - off, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(consumed, 48);
	CHECK_INT_EQ(d.type, CL_X2X3_KEEPALIVE_ACK);
	off += consumed;
	CHECK_INT_EQ(
	    cl_x2x3_decode(b.d + off, b.len - off, &d, &consumed, NULL), 0);
	CHECK_INT_EQ(consumed, sizeof(KAT_X3_V4));
	off += consumed;
	CHECK_INT_EQ(
	    cl_x2x3_decode(b.d + off, b.len - off, &d, &consumed, NULL),
	    CL_ERR_TRUNCATED);
	CHECK_INT_EQ(consumed, 0);
	cl_buf_release(&b);
}

CL_TEST(encoder_refuses_what_decoder_rejects)
{
	struct cl_x2x3_pdu p, ok;
	struct cl_buf b;
	uint8_t *big;
	char longs[CL_X2X3_MAX_STRATTR + 2];

	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	cl_buf_init(&b, 1 << 20);
	CHECK_INT_EQ(cl_buf_put(&b, "pre", 3), 0);
	kat_v4_pdu(&ok);
#define REFUSE(stmt)                                                           \
	do {                                                                   \
		p = ok;                                                        \
		stmt;                                                          \
		CHECK_INT_EQ(cl_x2x3_encode(&b, &p), CL_ERR_INVALID_ARG);      \
		CHECK_INT_EQ(b.len, 3);                                        \
	} while (0)
	REFUSE(p.type = 0);
	REFUSE(p.type = 5);
	REFUSE(p.pformat = 0);
	REFUSE(p.pformat = 17);
	REFUSE(p.pdir = 0);
	REFUSE(p.pdir = 6);
	REFUSE(p.mti = str("a\x01"));
	REFUSE(p.nfid = str("\xff"));
	REFUSE(p.ipid = str(longs));
	REFUSE(p.mti.p = NULL);
	REFUSE(p.payload.p = NULL);
	REFUSE(p.src.family = 5);
	REFUSE(p.dst.family = 1);
	REFUSE(p.ts_nsec = 1000000000);
	REFUSE((p.type = CL_X2X3_KEEPALIVE, p.pformat = 0, p.pdir = 0,
	    memset(p.xid, 0, 16), memset(p.cid, 0, 8)));
	REFUSE((cl_x2x3_keepalive(&p, false, 1), p.pformat = 1));
	REFUSE((cl_x2x3_keepalive(&p, true, 1), p.pdir = 1));
	REFUSE((cl_x2x3_keepalive(&p, true, 1), p.xid[15] = 1));
	REFUSE((cl_x2x3_keepalive(&p, false, 1), p.cid[0] = 1));
	REFUSE((cl_x2x3_keepalive(&p, false, 1), p.payload = str("x")));
	/* One octet over the payload limit; the bytes are never read. */
	if ((big = calloc(1, CL_X2X3_MAX_PAYLOAD + 1)) == NULL)
		cl_test_fail(__FILE__, __LINE__, "calloc");
	p = ok;
	p.payload.p = big;
	p.payload.len = CL_X2X3_MAX_PAYLOAD + 1;
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(b.len, 3);
	p.payload.len = CL_X2X3_MAX_PAYLOAD;
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	CHECK_INT_EQ(b.len, 3 + KAT_HLEN + CL_X2X3_MAX_PAYLOAD);
	free(big);
	/* The longest strings are fine. */
	b.len = 3;
	p = ok;
	p.ipid.p = (const uint8_t *)longs;
	p.ipid.len = CL_X2X3_MAX_STRATTR;
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	cl_buf_release(&b);
#undef REFUSE
}

CL_TEST(encoder_buffer_limit)
{
	struct cl_x2x3_pdu p;
	struct cl_buf b;

	cl_x2x3_keepalive(&p, true, 7);
	cl_buf_init(&b, 47);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), CL_ERR_TOOBIG);
	CHECK_INT_EQ(b.len, 0);
	cl_buf_release(&b);
	cl_buf_init(&b, 48);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	CHECK_INT_EQ(b.len, 48);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), CL_ERR_TOOBIG);
	CHECK_INT_EQ(b.len, 48);
	cl_buf_release(&b);
}

CL_TEST(mixed_families_in_type_order)
{
	struct cl_x2x3_pdu p, d;
	struct cl_buf b;
	size_t consumed;

	memset(&p, 0, sizeof(p));
	p.type = CL_X2X3_X2;
	p.pformat = CL_X2X3_PF_DHCP;
	p.pdir = CL_X2X3_DIR_MULTIPLE;
	CHECK_INT_EQ(cl_parse_addr("2001:db8::7", &p.src), 0);
	CHECK_INT_EQ(cl_parse_addr("10.1.2.3", &p.dst), 0);
	cl_buf_init(&b, 4096);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &p), 0);
	CHECK_INT_EQ(b.len, 40 + 8 + 20);
	/* destination IPv4 (11) before source IPv6 (12) */
	CHECK_MEM_EQ(b.d + 40, "\x00\x0b\x00\x04\x0a\x01\x02\x03", 8);
	CHECK_MEM_EQ(b.d + 48, "\x00\x0c\x00\x10\x20\x01\x0d\xb8", 8);
	CHECK_INT_EQ(cl_x2x3_decode(b.d, b.len, &d, &consumed, NULL), 0);
	CHECK(pdu_eq(&p, &d));
	cl_buf_release(&b);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32) % n;
}

/* Random clean UTF-8 of 1..max octets made of whole characters. */
static size_t
rnd_str(uint8_t *s, size_t max)
{
	static const char *chars[] = {"a", "Z", "0", "@", " ", "\xc3\xa9",
	    "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	size_t want = 1 + rnd((uint32_t)max), n = 0;

	for (;;) {
		const char *c = chars[rnd(8)];
		size_t l = strlen(c);

		if (n + l > want)
			break;
		memcpy(s + n, c, l);
		n += l;
	}
	if (n == 0)
		s[n++] = 'x';
	return n;
}

static void
rnd_addr(struct cl_addr *a)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->family = rnd(3) == 0 ? 0 : rnd(2) ? 4 : 6;
	for (i = 0; i < (a->family == 4 ? 4u : 16u); i++)
		a->a[i] = (uint8_t)rnd(256);
}

CL_TEST(random_round_trips)
{
	static uint8_t strs[8][3][CL_X2X3_MAX_STRATTR], pl[3000];
	struct cl_x2x3_pdu src[8], d;
	struct cl_buf b, re;
	size_t i, k, off, consumed, lens[8];
	int iter;

	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)rnd(256);
	cl_buf_init(&b, 1 << 20);
	cl_buf_init(&re, 1 << 20);
	for (iter = 0; iter < 300; iter++) {
		cl_buf_reset(&b);
		for (k = 0; k < 8; k++) {
			struct cl_x2x3_pdu *p = &src[k];

			memset(p, 0, sizeof(*p));
			p->type = (uint16_t)(1 + rnd(4));
			if (p->type == CL_X2X3_KEEPALIVE ||
			    p->type == CL_X2X3_KEEPALIVE_ACK) {
				cl_x2x3_keepalive(p,
				    p->type == CL_X2X3_KEEPALIVE_ACK, rnd(~0u));
			} else {
				p->pformat = (uint16_t)(1 + rnd(16));
				p->pdir = (uint16_t)(1 + rnd(5));
				for (i = 0; i < 16; i++)
					p->xid[i] = (uint8_t)rnd(256);
				for (i = 0; i < 8; i++)
					p->cid[i] = (uint8_t)rnd(256);
				p->payload.p = pl + rnd(100);
				p->payload.len = rnd(2800);
				p->has_seqno = rnd(2);
				p->seqno = rnd(~0u);
			}
			if ((p->has_did = rnd(2)))
				for (i = 0; i < 16; i++)
					p->did[i] = (uint8_t)rnd(256);
			if ((p->has_ts = rnd(2))) {
				p->ts_sec = rnd(~0u);
				p->ts_nsec = rnd(1000000000);
			}
			rnd_addr(&p->src);
			rnd_addr(&p->dst);
			if ((p->has_sport = rnd(2)))
				p->sport = (uint16_t)rnd(65536);
			if ((p->has_dport = rnd(2)))
				p->dport = (uint16_t)rnd(65536);
			if ((p->has_ipproto = rnd(2)))
				p->ipproto = (uint8_t)rnd(256);
			if (rnd(2)) {
				p->mti.p = strs[k][0];
				p->mti.len =
				    rnd_str(strs[k][0], sizeof(strs[k][0]));
			}
			if (rnd(2)) {
				p->nfid.p = strs[k][1];
				p->nfid.len =
				    rnd_str(strs[k][1], sizeof(strs[k][1]));
			}
			if (rnd(2)) {
				p->ipid.p = strs[k][2];
				p->ipid.len =
				    rnd_str(strs[k][2], sizeof(strs[k][2]));
			}
			lens[k] = cl_x2x3_encoded_len(p);
			off = b.len;
			CHECK_INT_EQ(cl_x2x3_encode(&b, p), 0);
			CHECK_INT_EQ(b.len - off, lens[k]);
		}
		off = 0;
		for (k = 0; k < 8; k++) {
			CHECK_INT_EQ(cl_x2x3_decode(b.d + off, b.len - off, &d,
					 &consumed, NULL),
			    0);
			CHECK_INT_EQ(consumed, lens[k]);
			CHECK(pdu_eq(&src[k], &d));
			CHECK_INT_EQ(d.other_attrs, 0);
			cl_buf_reset(&re);
			CHECK_INT_EQ(cl_x2x3_encode(&re, &d), 0);
			CHECK_INT_EQ(re.len, consumed);
			CHECK_MEM_EQ(re.d, b.d + off, consumed);
			if (iter < 10)
				check_truncations(b.d + off, consumed);
			off += consumed;
		}
		CHECK_INT_EQ(off, b.len);
	}
	cl_buf_release(&b);
	cl_buf_release(&re);
}

static int
x2x3_once(void *arg)
{
	struct cl_x2x3_pdu d;
	size_t consumed;
	const char *why;
	int r;

	(void)arg;
	if ((r = cl_x2x3_decode(
		 KAT_X3_V4, sizeof(KAT_X3_V4), &d, &consumed, &why)) != 0)
		return r;
	return consumed == sizeof(KAT_X3_V4) ? 0 : CL_ERR_INTERNAL;
}

/* With each allocation failing in turn (it makes none), the decode is the
 * same. */
CL_TEST(alloc_failures)
{
	CHECK_INT_EQ(cl_test_alloc_loop("cl_x2x3_decode", x2x3_once, NULL), 1);
}

int
main(void)
{
	CL_RUN(known_answer_x3_ipv4_all_attributes);
	CL_RUN(known_answer_x3_ipv6);
	CL_RUN(keepalive_ack_is_48_octets);
	CL_RUN(sipgate_hex_is_the_pcap_payload);
	CL_RUN(sipgate_x2_pdu);
	CL_RUN(truncation_at_every_length);
	CL_RUN(impossible_lengths_rejected_early);
	CL_RUN(bad_fixed_header);
	CL_RUN(bad_keepalives);
	CL_RUN(attributes_must_fill_header);
	CL_RUN(attribute_sizes);
	CL_RUN(duplicated_attributes);
	CL_RUN(string_attributes);
	CL_RUN(attribute_types);
	CL_RUN(payload_limit);
	CL_RUN(stream_of_pdus);
	CL_RUN(encoder_refuses_what_decoder_rejects);
	CL_RUN(encoder_buffer_limit);
	CL_RUN(mixed_families_in_type_order);
	CL_RUN(random_round_trips);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
