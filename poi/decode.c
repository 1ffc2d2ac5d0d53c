/* SPDX-License-Identifier: ISC */
/*
 * Packet decoder.  This runs once per captured packet, so it allocates
 * nothing and copies nothing but the result: every field is read through a
 * struct cl_rd over the caller's bytes, and the result points into them.
 *
 * Lengths: the IP header's own length (IPv4 total length, IPv6 payload
 * length) is the truth about the datagram; the captured length only says
 * how much of it we have.  A header that claims less than its own fixed
 * part, or an upper layer that claims more than the IP layer carries, is
 * malformed (CL_ERR_FORMAT).  A capture that cut the packet short is not
 * an error as long as the IP header is whole: the result says truncated,
 * and ports are only given when the whole TCP/UDP header was captured.
 */
#include <string.h>

#include "buf.h"
#include "capfile.h"
#include "decode.h"
#include "err.h"
#include "gtpu.h"

#define ETH_P_IPV4      0x0800
#define ETH_P_IPV6      0x86dd
#define ETH_P_8021Q     0x8100
#define ETH_P_8021AD    0x88a8
#define ETH_P_QINQ_OLD  0x9100
#define ETH_P_MPLS_UC   0x8847
#define ETH_P_MPLS_MC   0x8848
#define ETH_P_PPPOE_SES 0x8864
#define PPP_IPV4        0x0021
#define PPP_IPV6        0x0057
#define PPP_MPLS_UC     0x0281
#define PPP_MPLS_MC     0x0283

/* HDLC-like framing (RFC 1662) and Cisco HDLC address/control octets. */
#define HDLC_PPP_ADDR 0xff
#define HDLC_PPP_CTRL 0x03
#define CHDLC_UNICAST 0x0f
#define CHDLC_BCAST   0x8f

/* NFLOG (Linux nfnetlink_log): TLV types, host byte order. */
#define NFULA_PAYLOAD  9
#define NLA_TYPE_MASK  0x3fff
#define LINUX_AF_INET  2
#define LINUX_AF_INET6 10

/* ERF record types (Endace) this decoder reads. */
#define ERF_HDLC_POS       1
#define ERF_ETH            2
#define ERF_COLOR_HDLC_POS 10
#define ERF_COLOR_ETH      11
#define ERF_DSM_COLOR_HDLC 15
#define ERF_DSM_COLOR_ETH  16
#define ERF_COLOR_HASH_POS 19
#define ERF_COLOR_HASH_ETH 20
#define ERF_IPV4           22
#define ERF_IPV6           23
#define ERF_HDR_LEN        16
#define ERF_EXT_LEN        8
#define MAX_ERF_EXT        16

#define PROTO_HOPOPTS  0
#define PROTO_TCP      6
#define PROTO_UDP      17
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_AH       51
#define PROTO_NONE     59
#define PROTO_DSTOPTS  60

/* BSD AF_INET6 differs by system: NetBSD/OpenBSD 24, FreeBSD 28, macOS 30. */
#define BSD_AF_INET      2
#define BSD_AF_INET6_BSD 24
#define BSD_AF_INET6_FBS 28
#define BSD_AF_INET6_OSX 30

/* Depth limits: real traffic stays far below them, hostile input may not. */
#define MAX_VLAN_TAGS   8
#define MAX_MPLS_LABELS 16
#define MAX_IPV6_EXT    8
#define MAX_NFLOG_TLVS  64
/* Ethernet inside an MPLS pseudowire may carry MPLS again, once. */
#define MAX_PW_DEPTH 1

static int decode_ip(
    const uint8_t *p, size_t len, int want, int depth, struct cl_pkt *t);

static inline size_t
min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static int decode_ethertype(
    struct cl_rd *rd, uint16_t type, int depth, int *ver);

/*
 * After the MPLS bottom of stack there is no type field.  The first nibble
 * tells: 4 or 6 is an IP header (as every router guesses); 0 is the
 * control word of a pseudowire (RFC 4385), here taken to carry Ethernet
 * (RFC 4448), whose frame follows the four-octet word.  A 1 is a
 * pseudowire's associated channel (OAM, no user data); anything else is a
 * pseudowire without control word, which cannot be told apart from other
 * payloads and is left undecoded.
 */
static int
decode_mpls(struct cl_rd *rd, int depth, int *ver)
{
	uint32_t lse;
	uint16_t type;
	unsigned n;
	int r;

	for (n = 0;; n++) {
		if (n == MAX_MPLS_LABELS)
			return CL_ERR_FORMAT;
		if ((r = cl_rd_u32(rd, &lse)) != 0)
			return r;
		if ((lse & 0x100) != 0)
			break;
	}
	if (cl_rd_left(rd) == 0)
		return CL_ERR_TRUNCATED;
	switch (cl_rd_ptr(rd)[0] >> 4) {
	case 4:
		*ver = 4;
		return 0;
	case 6:
		*ver = 6;
		return 0;
	case 0:
		if (depth >= MAX_PW_DEPTH)
			return CL_ERR_FORMAT;
		/* Control word, destination and source MAC, type. */
		if ((r = cl_rd_skip(rd, 4 + 12)) != 0 ||
		    (r = cl_rd_u16(rd, &type)) != 0)
			return r;
		return decode_ethertype(rd, type, depth + 1, ver);
	default:
		return CL_ERR_UNSUPPORTED;
	}
}

/* What a PPP frame with protocol proto carries (RFC 1661, 1332, 5072,
 * 3032). */
static int
ppp_payload(struct cl_rd *rd, uint16_t proto, int depth, int *ver)
{
	switch (proto) {
	case PPP_IPV4:
		*ver = 4;
		return 0;
	case PPP_IPV6:
		*ver = 6;
		return 0;
	case PPP_MPLS_UC:
	case PPP_MPLS_MC:
		return decode_mpls(rd, depth, ver);
	default:
		return CL_ERR_UNSUPPORTED; /* LCP, IPCP, ... */
	}
}

/*
 * The PPP protocol field (RFC 1661), two octets or one when compressed
 * (an odd first octet, RFC 1661 6.5), and what it carries.
 */
static int
decode_ppp_proto(struct cl_rd *rd, int depth, int *ver)
{
	uint16_t proto;
	uint8_t b;
	int r;

	if ((r = cl_rd_u8(rd, &b)) != 0)
		return r;
	proto = b;
	if ((b & 1) == 0) {
		if ((r = cl_rd_u8(rd, &b)) != 0)
			return r;
		proto = (uint16_t)(proto << 8 | b);
	}
	return ppp_payload(rd, proto, depth, ver);
}

/*
 * PPP in HDLC-like framing (RFC 1662: address 0xff, control 0x03) or Cisco
 * HDLC (address 0x0f or 0x8f, control 0, then an Ethernet type), told
 * apart by the address octet.  The FCS, if the capture kept it, lies after
 * the IP packet and is cut off with the rest of the padding.
 */
static int
decode_hdlc(struct cl_rd *rd, int *ver)
{
	uint8_t addr, ctrl;
	uint16_t type;
	int r;

	if ((r = cl_rd_u8(rd, &addr)) != 0 || (r = cl_rd_u8(rd, &ctrl)) != 0)
		return r;
	if (addr == HDLC_PPP_ADDR && ctrl == HDLC_PPP_CTRL)
		return decode_ppp_proto(rd, 0, ver);
	if ((addr == CHDLC_UNICAST || addr == CHDLC_BCAST) && ctrl == 0) {
		if ((r = cl_rd_u16(rd, &type)) != 0)
			return r;
		return decode_ethertype(rd, type, 0, ver);
	}
	return CL_ERR_FORMAT;
}

static int
decode_pppoe(struct cl_rd *rd, int depth, int *ver)
{
	struct cl_rd sub;
	uint8_t vt, code;
	uint16_t sid, plen, proto;
	int r;

	if ((r = cl_rd_u8(rd, &vt)) != 0 || (r = cl_rd_u8(rd, &code)) != 0 ||
	    (r = cl_rd_u16(rd, &sid)) != 0 || (r = cl_rd_u16(rd, &plen)) != 0)
		return r;
	(void)sid;
	/* Version 1, type 1, code 0 (session data) is all RFC 2516 allows
	 * on the session ethertype. */
	if (vt != 0x11 || code != 0 || plen < 2)
		return CL_ERR_FORMAT;
	/* The PPPoE length bounds the PPP frame (and drops Ethernet
	 * padding); a capture may hold less. */
	(void)cl_rd_sub(rd, min_sz(plen, cl_rd_left(rd)), &sub);
	*rd = sub;
	if ((r = cl_rd_u16(rd, &proto)) != 0)
		return r;
	return ppp_payload(rd, proto, depth, ver);
}

/*
 * Follows ethertypes through VLAN tags, MPLS (and Ethernet pseudowires in
 * it, depth counting those) and PPPoE to an IP header.
 */
static int
decode_ethertype(struct cl_rd *rd, uint16_t type, int depth, int *ver)
{
	unsigned tags = 0;
	int r;

	for (;;) {
		switch (type) {
		case ETH_P_IPV4:
			*ver = 4;
			return 0;
		case ETH_P_IPV6:
			*ver = 6;
			return 0;
		case ETH_P_8021Q:
		case ETH_P_8021AD:
		case ETH_P_QINQ_OLD:
			if (++tags > MAX_VLAN_TAGS)
				return CL_ERR_FORMAT;
			/* TCI, then the inner type. */
			if ((r = cl_rd_skip(rd, 2)) != 0 ||
			    (r = cl_rd_u16(rd, &type)) != 0)
				return r;
			break;
		case ETH_P_MPLS_UC:
		case ETH_P_MPLS_MC:
			return decode_mpls(rd, depth, ver);
		case ETH_P_PPPOE_SES:
			return decode_pppoe(rd, depth, ver);
		default:
			return CL_ERR_UNSUPPORTED;
		}
	}
}

/*
 * GTP-U (3GPP TS 29.281).  Anything but a well-formed T-PDU carrying an IP
 * packet leaves *t as the outer UDP packet: echo, error indication and
 * non-GTP traffic on port 2152 are not errors of the outer packet.
 */
static void
decode_gtpu(struct cl_pkt *t, size_t udp_payload_len)
{
	struct cl_pkt in;
	struct cl_span tpdu;
	uint32_t teid;

	if (cl_gtpu_tpdu(
		t->l4data, t->l4data_len, udp_payload_len, &teid, &tpdu) != 0)
		return;
	if (decode_ip(tpdu.p, tpdu.len, 0, 1, &in) != 0)
		return;
	in.gtpu = true;
	in.gtpu_teid = teid;
	in.outer_ip = t->ip;
	in.outer_ip_len = t->ip_len;
	*t = in;
}

/*
 * The IP header is sound but what it carries is not: the packet is still
 * described (addresses, protocol; no ports), marked malformed, and not
 * looked into any further.  Its addresses may be a target's.
 */
static int
l4_malformed(struct cl_pkt *t)
{
	t->malformed = true;
	return 0;
}

/* Same, with the ports that were read: the header around them is bad,
 * so nothing after it is offered. */
static int
l4_malformed_ports(struct cl_pkt *t, uint16_t sport, uint16_t dport)
{
	t->has_ports = true;
	t->sport = sport;
	t->dport = dport;
	t->l4data = t->ip + t->ip_len;
	t->l4data_len = 0;
	return l4_malformed(t);
}

/*
 * TCP or UDP at offset off of the IP packet.  claimed is what the IP layer
 * says the upper layer is; only t->ip_len - off of it may be captured.
 */
static int
decode_l4(struct cl_pkt *t, size_t off, int depth)
{
	struct cl_rd rd;
	uint16_t sport, dport, ulen;
	uint8_t doff;
	size_t claimed = t->ip_total - off, hl;

	cl_rd_init(&rd, t->ip + off, t->ip_len - off);
	switch (t->proto) {
	case PROTO_TCP:
		/* In a first fragment the rest of the header may follow in
		 * the next one (the tiny-fragment case). */
		if (!t->is_frag && claimed < 20)
			return l4_malformed(t);
		if (cl_rd_u16(&rd, &sport) != 0 ||
		    cl_rd_u16(&rd, &dport) != 0 || cl_rd_skip(&rd, 8) != 0 ||
		    cl_rd_u8(&rd, &doff) != 0 || cl_rd_skip(&rd, 7) != 0)
			return 0;
		hl = (size_t)(doff >> 4) * 4;
		if (hl < 20 || (!t->is_frag && hl > claimed))
			return l4_malformed_ports(t, sport, dport);
		hl = min_sz(hl, t->ip_len - off);
		t->has_ports = true;
		t->sport = sport;
		t->dport = dport;
		t->l4data = t->ip + off + hl;
		t->l4data_len = t->ip_len - off - hl;
		return 0;
	case PROTO_UDP:
		if (!t->is_frag && claimed < 8)
			return l4_malformed(t);
		if (cl_rd_u16(&rd, &sport) != 0 ||
		    cl_rd_u16(&rd, &dport) != 0 || cl_rd_u16(&rd, &ulen) != 0 ||
		    cl_rd_skip(&rd, 2) != 0)
			return 0;
		/* In a first fragment the UDP length covers the whole
		 * datagram, so only its minimum can be checked. */
		if (ulen < 8 || (!t->is_frag && ulen > claimed))
			return l4_malformed_ports(t, sport, dport);
		t->has_ports = true;
		t->sport = sport;
		t->dport = dport;
		t->l4data = t->ip + off + 8;
		t->l4data_len = min_sz(ulen, t->ip_len - off) - 8;
		if (depth == 0 && !t->is_frag &&
		    (sport == CL_GTPU_PORT || dport == CL_GTPU_PORT))
			decode_gtpu(t, (size_t)ulen - 8);
		return 0;
	default:
		return 0;
	}
}

static int
decode_v4(const uint8_t *p, size_t len, int depth, struct cl_pkt *t)
{
	struct cl_rd rd;
	uint8_t vihl, proto;
	uint16_t total, id, fo;
	size_t hl;
	int r;

	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_u8(&rd, &vihl)) != 0 || (r = cl_rd_skip(&rd, 1)) != 0 ||
	    (r = cl_rd_u16(&rd, &total)) != 0 ||
	    (r = cl_rd_u16(&rd, &id)) != 0 || (r = cl_rd_u16(&rd, &fo)) != 0 ||
	    (r = cl_rd_skip(&rd, 1)) != 0 || (r = cl_rd_u8(&rd, &proto)) != 0 ||
	    (r = cl_rd_skip(&rd, 2)) != 0 ||
	    (r = cl_rd_copy(&rd, t->src.a, 4)) != 0 ||
	    (r = cl_rd_copy(&rd, t->dst.a, 4)) != 0)
		return r;
	if (vihl >> 4 != 4)
		return CL_ERR_FORMAT;
	hl = (size_t)(vihl & 0x0f) * 4;
	if (hl < 20 || (total != 0 && total < hl))
		return CL_ERR_FORMAT;
	/* Options are skipped, never interpreted. */
	if (hl > len)
		return CL_ERR_TRUNCATED;
	t->ip = p;
	if (total == 0) {
		/* Segmentation offload: the stack handed the NIC one large
		 * segment and the capture saw it before the NIC set the
		 * length.  The captured bytes are all there is. */
		t->ip_total = len;
		t->malformed = true;
	} else
		t->ip_total = total;
	t->ip_len = min_sz(t->ip_total, len);
	t->truncated = t->ip_len < t->ip_total;
	t->ipver = 4;
	t->src.family = 4;
	t->dst.family = 4;
	t->proto = proto;
	t->frag_more = (fo & 0x2000) != 0;
	t->frag_off = (uint32_t)(fo & 0x1fff) * 8;
	if (t->frag_more || t->frag_off != 0) {
		t->is_frag = true;
		t->frag_id = id;
		t->frag_payload_off = hl;
		if (t->frag_off != 0)
			return 0;
	}
	return decode_l4(t, hl, depth);
}

static int
decode_v6(const uint8_t *p, size_t len, int depth, struct cl_pkt *t)
{
	struct cl_rd rd;
	uint8_t vtc, nh, hlen;
	uint16_t plen, fo = 0;
	uint32_t id = 0;
	size_t off, hl;
	unsigned n = 0;
	bool seen_frag = false;
	int r;

	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_u8(&rd, &vtc)) != 0 || (r = cl_rd_skip(&rd, 3)) != 0 ||
	    (r = cl_rd_u16(&rd, &plen)) != 0 || (r = cl_rd_u8(&rd, &nh)) != 0 ||
	    (r = cl_rd_skip(&rd, 1)) != 0 ||
	    (r = cl_rd_copy(&rd, t->src.a, 16)) != 0 ||
	    (r = cl_rd_copy(&rd, t->dst.a, 16)) != 0)
		return r;
	if (vtc >> 4 != 6)
		return CL_ERR_FORMAT;
	t->ip = p;
	if (plen == 0 && nh != PROTO_NONE && len > 40) {
		/* Segmentation offload (or a jumbogram, RFC 2675): the
		 * captured bytes are the packet.  Only "no next header"
		 * may really be empty (and be followed by link padding). */
		t->ip_total = len;
		t->malformed = true;
	} else
		t->ip_total = 40 + (size_t)plen;
	t->ip_len = min_sz(t->ip_total, len);
	t->truncated = t->ip_len < t->ip_total;
	t->ipver = 6;
	t->src.family = 6;
	t->dst.family = 6;

	/* Extension headers, read only within the IP packet. */
	cl_rd_init(&rd, p, t->ip_len);
	(void)cl_rd_skip(&rd, 40);
	off = 40;
	for (;;) {
		switch (nh) {
		case PROTO_HOPOPTS:
			/* RFC 8200: only right after the IPv6 header. */
			if (off != 40)
				goto bad;
			__attribute__((fallthrough));
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_AH:
			if (++n > MAX_IPV6_EXT)
				goto bad;
			if (cl_rd_need(&rd, 2) != 0)
				goto cut;
			hlen = cl_rd_ptr(&rd)[1];
			hl = nh == PROTO_AH ? ((size_t)hlen + 2) * 4
					    : ((size_t)hlen + 1) * 8;
			if (cl_rd_need(&rd, hl) != 0)
				goto cut;
			nh = cl_rd_ptr(&rd)[0];
			(void)cl_rd_skip(&rd, hl);
			off += hl;
			break;
		case PROTO_FRAGMENT:
			if (seen_frag || ++n > MAX_IPV6_EXT)
				goto bad;
			seen_frag = true;
			if (cl_rd_need(&rd, 8) != 0)
				goto cut;
			nh = cl_rd_ptr(&rd)[0];
			(void)cl_rd_skip(&rd, 2);
			(void)cl_rd_u16(&rd, &fo);
			(void)cl_rd_u32(&rd, &id);
			off += 8;
			/* An atomic fragment (offset 0, M clear, RFC 6946)
			 * is a whole datagram. */
			if ((fo & 0xfff9) == 0)
				break;
			t->is_frag = true;
			t->frag_more = (fo & 1) != 0;
			t->frag_off = fo & 0xfff8;
			t->frag_id = id;
			t->frag_payload_off = off;
			if (t->frag_off != 0) {
				/* The rest is payload, not headers. */
				t->proto = nh;
				return 0;
			}
			break;
		default:
			t->proto = nh;
			return decode_l4(t, off, depth);
		}
	}
cut:
	/* The header chain runs past what we have.  Fine if the capture
	 * cut it or it goes on in the next fragment; otherwise the
	 * datagram contradicts its own length. */
	t->proto = nh;
	if (!t->truncated && !t->is_frag)
		return l4_malformed(t);
	return 0;
bad:
	/* An extension header chain no sender may build. */
	t->proto = nh;
	return l4_malformed(t);
}

static int
decode_ip(const uint8_t *p, size_t len, int want, int depth, struct cl_pkt *t)
{
	int ver;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return CL_ERR_TRUNCATED;
	ver = p[0] >> 4;
	if (want != 0 && ver != want)
		return CL_ERR_FORMAT;
	switch (ver) {
	case 4:
		return decode_v4(p, len, depth, t);
	case 6:
		return decode_v6(p, len, depth, t);
	default:
		return CL_ERR_FORMAT;
	}
}

/*
 * The public entry points decode straight into *out and clear it again on
 * failure, rather than decoding into a temporary and copying: this runs
 * for every packet, and each copy or clear of struct cl_pkt showed in the
 * benchmark's profile (bench/README.md).
 */
int
cl_decode_ip(const uint8_t *p, size_t len, struct cl_pkt *out)
{
	int r;

	if (p == NULL) {
		memset(out, 0, sizeof(*out));
		return CL_ERR_TRUNCATED;
	}
	if ((r = decode_ip(p, len, 0, 0, out)) != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/*
 * NFLOG (LINKTYPE_NFLOG): family, version 0, resource id, then netlink
 * attributes whose length and type are in the byte order of the host that
 * captured (which the file does not record).  Types are small numbers, so
 * the first attribute's type octets tell the order: a zero high octet
 * marks where the value is.  The packet is the NFULA_PAYLOAD attribute;
 * the family says which IP version it is.
 */
static int
decode_nflog(struct cl_rd *rd, int *ver)
{
	const uint8_t *a;
	uint8_t family, version;
	uint16_t alen, atype;
	size_t pad;
	unsigned n;
	bool le;
	int r;

	if ((r = cl_rd_u8(rd, &family)) != 0 ||
	    (r = cl_rd_u8(rd, &version)) != 0 || (r = cl_rd_skip(rd, 2)) != 0)
		return r;
	if (version != 0)
		return CL_ERR_FORMAT;
	if (cl_rd_need(rd, 4) != 0)
		return CL_ERR_TRUNCATED;
	a = cl_rd_ptr(rd);
	le = a[3] == 0 && a[2] != 0;
	for (n = 0;; n++) {
		if (n == MAX_NFLOG_TLVS)
			return CL_ERR_FORMAT;
		if (cl_rd_left(rd) == 0)
			return CL_ERR_UNSUPPORTED; /* no payload logged */
		if ((r = le ? cl_rd_u16le(rd, &alen) : cl_rd_u16(rd, &alen)) !=
			0 ||
		    (r = le ? cl_rd_u16le(rd, &atype)
			    : cl_rd_u16(rd, &atype)) != 0)
			return r;
		if (alen < 4)
			return CL_ERR_FORMAT;
		if ((atype & NLA_TYPE_MASK) == NFULA_PAYLOAD) {
			struct cl_rd sub;

			if ((r = cl_rd_sub(rd,
				 min_sz((size_t)alen - 4, cl_rd_left(rd)),
				 &sub)) != 0)
				return r;
			*rd = sub;
			break;
		}
		/* Attributes are padded to four octets; the last one's
		 * padding may be missing. */
		pad = ((size_t)alen + 3) / 4 * 4 - 4;
		if ((r = cl_rd_skip(rd, (size_t)alen - 4)) != 0)
			return r;
		(void)cl_rd_skip(
		    rd, min_sz(pad - ((size_t)alen - 4), cl_rd_left(rd)));
	}
	switch (family) {
	case LINUX_AF_INET:
		*ver = 4;
		return 0;
	case LINUX_AF_INET6:
		*ver = 6;
		return 0;
	default:
		return CL_ERR_UNSUPPORTED; /* bridge, ARP... */
	}
}

/*
 * ERF (LINKTYPE_ERF): one Endace record per packet.  A 16-octet header
 * (timestamp, type, flags, record length, loss counter or colour, wire
 * length), extension headers while the type's top bit and then each
 * extension's top bit say so, then the payload: Ethernet behind two
 * octets of offset and pad, PoS (PPP or Cisco HDLC), or a bare IPv4 or
 * IPv6 packet.  The record length bounds the payload; the capture may
 * hold less.
 */
static int
decode_erf(struct cl_rd *rd, int *ver)
{
	struct cl_rd sub;
	uint8_t type, ext;
	uint16_t rlen, etype;
	unsigned n;
	int r;

	if ((r = cl_rd_skip(rd, 8)) != 0 || (r = cl_rd_u8(rd, &type)) != 0 ||
	    (r = cl_rd_skip(rd, 1)) != 0 || (r = cl_rd_u16(rd, &rlen)) != 0 ||
	    (r = cl_rd_skip(rd, 4)) != 0)
		return r;
	if (rlen < ERF_HDR_LEN)
		return CL_ERR_FORMAT;
	(void)cl_rd_sub(
	    rd, min_sz((size_t)rlen - ERF_HDR_LEN, cl_rd_left(rd)), &sub);
	*rd = sub;
	if ((type & 0x80) != 0) {
		for (n = 0;; n++) {
			if (n == MAX_ERF_EXT)
				return CL_ERR_FORMAT;
			if ((r = cl_rd_u8(rd, &ext)) != 0 ||
			    (r = cl_rd_skip(rd, ERF_EXT_LEN - 1)) != 0)
				return r;
			if ((ext & 0x80) == 0)
				break;
		}
	}
	switch (type & 0x7f) {
	case ERF_ETH:
	case ERF_COLOR_ETH:
	case ERF_DSM_COLOR_ETH:
	case ERF_COLOR_HASH_ETH:
		if ((r = cl_rd_skip(rd, 2 + 12)) != 0 ||
		    (r = cl_rd_u16(rd, &etype)) != 0)
			return r;
		return decode_ethertype(rd, etype, 0, ver);
	case ERF_HDLC_POS:
	case ERF_COLOR_HDLC_POS:
	case ERF_DSM_COLOR_HDLC:
	case ERF_COLOR_HASH_POS:
		return decode_hdlc(rd, ver);
	case ERF_IPV4:
		*ver = 4;
		return 0;
	case ERF_IPV6:
		*ver = 6;
		return 0;
	default:
		return CL_ERR_UNSUPPORTED; /* ATM, InfiniBand, meta... */
	}
}

static int
decode_frame(
    uint32_t linktype, const uint8_t *p, size_t len, struct cl_pkt *out)
{
	struct cl_rd rd;
	uint32_t af;
	uint16_t type;
	int ver = 0, r;

	cl_rd_init(&rd, p, len);
	switch (linktype) {
	case CL_LINKTYPE_ETHERNET:
		/* Destination and source MAC, then the type.  Values below
		 * 0x0600 are 802.3 lengths (LLC, no IP we handle). */
		if ((r = cl_rd_skip(&rd, 12)) != 0 ||
		    (r = cl_rd_u16(&rd, &type)) != 0 ||
		    (r = decode_ethertype(&rd, type, 0, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_LINUX_SLL:
		/* Packet type, ARPHRD, address length, 8 address bytes. */
		if ((r = cl_rd_skip(&rd, 14)) != 0 ||
		    (r = cl_rd_u16(&rd, &type)) != 0 ||
		    (r = decode_ethertype(&rd, type, 0, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_LINUX_SLL2:
		/* Protocol first, then reserved, ifindex, ARPHRD, packet
		 * type, address length and 8 address bytes. */
		if ((r = cl_rd_u16(&rd, &type)) != 0 ||
		    (r = cl_rd_skip(&rd, 18)) != 0 ||
		    (r = decode_ethertype(&rd, type, 0, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_NULL:
	case CL_LINKTYPE_LOOP:
		/* NULL has the AF in the capturing host's byte order, which
		 * the file does not record; every AF value fits in 16 bits,
		 * so the order is the one that gives a small number. */
		if ((r = cl_rd_u32(&rd, &af)) != 0)
			return r;
		if (linktype == CL_LINKTYPE_NULL && af > 0xffff)
			af = __builtin_bswap32(af);
		switch (af) {
		case BSD_AF_INET:
			ver = 4;
			break;
		case BSD_AF_INET6_BSD:
		case BSD_AF_INET6_FBS:
		case BSD_AF_INET6_OSX:
			ver = 6;
			break;
		default:
			return CL_ERR_UNSUPPORTED;
		}
		break;
	case CL_LINKTYPE_PPP:
		/* PPP, in HDLC-like framing when it starts with 0xff 0x03
		 * (no PPP protocol number starts that way). */
		if (len >= 2 && p[0] == HDLC_PPP_ADDR && p[1] == HDLC_PPP_CTRL)
			(void)cl_rd_skip(&rd, 2);
		if ((r = decode_ppp_proto(&rd, 0, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_PPP_HDLC:
	case CL_LINKTYPE_C_HDLC:
		if ((r = decode_hdlc(&rd, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_PPP_ETHER:
		/* Discovery (a non-zero code) carries no IP. */
		if (len >= 2 && p[1] != 0)
			return CL_ERR_UNSUPPORTED;
		if ((r = decode_pppoe(&rd, 0, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_NFLOG:
		if ((r = decode_nflog(&rd, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_ERF:
		if ((r = decode_erf(&rd, &ver)) != 0)
			return r;
		break;
	case CL_LINKTYPE_RAW:
		break;
	case CL_LINKTYPE_IPV4:
		ver = 4;
		break;
	case CL_LINKTYPE_IPV6:
		ver = 6;
		break;
	default:
		return CL_ERR_UNSUPPORTED;
	}
	return decode_ip(cl_rd_ptr(&rd), cl_rd_left(&rd), ver, 0, out);
}

int
cl_decode_frame(
    uint32_t linktype, const uint8_t *p, size_t len, struct cl_pkt *out)
{
	int r;

	if ((r = decode_frame(linktype, p, len, out)) != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

bool
cl_decode_linktype_known(uint32_t linktype)
{
	switch (linktype) {
	case CL_LINKTYPE_NULL:
	case CL_LINKTYPE_ETHERNET:
	case CL_LINKTYPE_PPP:
	case CL_LINKTYPE_PPP_HDLC:
	case CL_LINKTYPE_PPP_ETHER:
	case CL_LINKTYPE_RAW:
	case CL_LINKTYPE_C_HDLC:
	case CL_LINKTYPE_LOOP:
	case CL_LINKTYPE_LINUX_SLL:
	case CL_LINKTYPE_ERF:
	case CL_LINKTYPE_IPV4:
	case CL_LINKTYPE_IPV6:
	case CL_LINKTYPE_NFLOG:
	case CL_LINKTYPE_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

const char *
cl_linktype_name(uint32_t linktype)
{
	/* The decoded ones, and those a capture is likely to bring. */
	static const struct {
		uint32_t lt;
		const char *name;
	} names[] = {
	    {0, "NULL"},
	    {1, "ETHERNET"},
	    {6, "IEEE802_5"},
	    {8, "SLIP"},
	    {9, "PPP"},
	    {10, "FDDI"},
	    {50, "PPP_HDLC"},
	    {51, "PPP_ETHER"},
	    {100, "ATM_RFC1483"},
	    {101, "RAW"},
	    {104, "C_HDLC"},
	    {105, "IEEE802_11"},
	    {107, "FRELAY"},
	    {108, "LOOP"},
	    {113, "LINUX_SLL"},
	    {119, "PRISM_HEADER"},
	    {127, "IEEE802_11_RADIOTAP"},
	    {139, "MTP2_WITH_PHDR"},
	    {140, "MTP2"},
	    {141, "MTP3"},
	    {142, "SCCP"},
	    {143, "DOCSIS"},
	    {147, "USER0"},
	    {187, "BLUETOOTH_HCI_H4"},
	    {189, "USB_LINUX"},
	    {192, "PPI"},
	    {195, "IEEE802_15_4_WITHFCS"},
	    {197, "ERF"},
	    {201, "BLUETOOTH_HCI_H4_WITH_PHDR"},
	    {204, "PPP_WITH_DIR"},
	    {215, "IEEE802_15_4_NONASK_PHY"},
	    {220, "USB_LINUX_MMAPPED"},
	    {227, "CAN_SOCKETCAN"},
	    {228, "IPV4"},
	    {229, "IPV6"},
	    {239, "NFLOG"},
	    {240, "NETANALYZER"},
	    {249, "USBPCAP"},
	    {252, "WIRESHARK_UPPER_PDU"},
	    {253, "NETLINK"},
	    {263, "IPOIB"},
	    {274, "VSOCK"},
	    {276, "LINUX_SLL2"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].lt == linktype)
			return names[i].name;
	return "unknown";
}
