/* SPDX-License-Identifier: ISC */
#ifndef POI_DECODE_H
#define POI_DECODE_H

/*
 * Packet decoder: link layer (Ethernet, Linux SLL v1/v2, raw IP, BSD/
 * OpenBSD loopback, PPP bare or in HDLC-like framing, Cisco HDLC, PPPoE,
 * Linux NFLOG, Endace ERF) -> 802.1Q / 802.1ad / QinQ VLAN tags -> MPLS
 * label stack (and Ethernet pseudowires with a control word in it) ->
 * PPPoE session -> IPv4 (with options) / IPv6 (with extension
 * headers) -> TCP / UDP -> GTP-U (UDP port 2152, message type 0xff T-PDU,
 * optional sequence/N-PDU/extension headers) -> the inner IP packet.
 *
 * The result describes one IP packet: the packet to match and to copy into
 * X3.  For GTP-U it is the inner packet (the tunnel is recorded in gtpu_*).
 * Nothing is copied: all pointers point into the caller's bytes.
 *
 * IP fragments are decoded as far as the fragment allows: every fragment
 * has its addresses and protocol; only a first fragment has ports.  The
 * decoder does not reassemble (see reasm.h) and does not look inside a
 * fragmented outer packet for GTP-U.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CL_GTPU_PORT 2152

struct cl_pkt {
	/* The IP packet: from its IP header to the end given by the IP
	 * length field (trailing link padding removed).  If the capture
	 * truncated it, ip_len < ip_total and truncated is true. */
	const uint8_t *ip;
	size_t ip_len;
	size_t ip_total; /* length the IP header claims */
	bool truncated;
	/* The IP header is sound but the rest is not: an extension header,
	 * TCP or UDP header that contradicts the IP length, or an IP length
	 * of zero (segmentation offload: ip_total is then what was
	 * captured).  Addresses and protocol are valid; ports only if their
	 * header was.  Deliver it if it is a target's, parse nothing in it. */
	bool malformed;

	uint8_t ipver; /* 4 or 6 */
	struct cl_addr src, dst;
	uint8_t proto; /* upper-layer protocol after IPv6 ext headers */

	/* Fragments: is_frag is set for any fragment (offset != 0 or more
	 * fragments follow).  frag_off is in bytes; frag_id is the IPv4 ID
	 * or the IPv6 fragment identification. */
	bool is_frag;
	bool frag_more;
	uint32_t frag_off;
	uint32_t frag_id;
	/* Offset in ip of the fragmentable part (the payload after the IPv4
	 * header, or after the IPv6 fragment header). */
	size_t frag_payload_off;

	/* Transport (valid only when has_ports: unfragmented or first
	 * fragment with the whole TCP/UDP header present). */
	bool has_ports;
	uint16_t sport, dport;
	/* UDP payload or TCP segment data, when has_ports; clipped to what
	 * was captured. */
	const uint8_t *l4data;
	size_t l4data_len;

	/* GTP-U tunnel, when the packet came out of one. */
	bool gtpu;
	uint32_t gtpu_teid;
	const uint8_t *outer_ip; /* the outer IP packet */
	size_t outer_ip_len;
};

/*
 * Decodes a frame of the given LINKTYPE_*.  Returns 0 when *out describes
 * an IP packet, CL_ERR_UNSUPPORTED for frames that carry no IP (ARP, LLDP,
 * unknown link types...), or CL_ERR_TRUNCATED / CL_ERR_FORMAT for malformed
 * frames.  *out is cleared on entry.
 */
int cl_decode_frame(
    uint32_t linktype, const uint8_t *p, size_t len, struct cl_pkt *out);

/*
 * Decodes bytes that start with an IPv4 or IPv6 header (also used on
 * reassembled datagrams).  Same returns as cl_decode_frame().
 */
int cl_decode_ip(const uint8_t *p, size_t len, struct cl_pkt *out);

/* True if cl_decode_frame() knows how to decode the link type. */
bool cl_decode_linktype_known(uint32_t linktype);

/* The LINKTYPE_ name of a link type without its prefix ("PPP",
 * "USER0"), or "unknown"; a static string. */
const char *cl_linktype_name(uint32_t linktype);

#endif /* POI_DECODE_H */
