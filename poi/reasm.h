/* SPDX-License-Identifier: ISC */
#ifndef POI_REASM_H
#define POI_REASM_H

/*
 * IPv4/IPv6 fragment reassembly in bounded memory, used only to look inside
 * fragmented datagrams for signalling (RADIUS, DHCP) and GTP-U tunnels.
 * Fragments of a target's own datagrams are intercepted one by one and do
 * not need this.
 *
 * Datagrams are keyed by (src, dst, protocol, id) for IPv4 and by
 * (src, dst, id) for IPv6 (RFC 8200: the first fragment may name the
 * protocol only after further extension headers).  A datagram not
 * complete within the timeout, or over the size limit, is dropped and
 * counted.  Overlapping fragments that disagree are dropped (the whole
 * datagram), as are fragments past 65535 bytes.
 */

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct cl_reasm;

struct cl_reasm_stats {
	uint64_t fragments; /* fragments offered */
	uint64_t completed; /* datagrams reassembled */
	uint64_t timed_out; /* datagrams dropped incomplete */
	uint64_t overlaps;  /* datagrams dropped for bad overlap */
	uint64_t evicted;   /* dropped because the table was full */
};

/*
 * max_datagrams bounds the table; timeout_ns is how long a datagram may
 * wait for its fragments (packet time, not wall time).
 */
struct cl_reasm *cl_reasm_new(size_t max_datagrams, uint64_t timeout_ns);
void cl_reasm_free(struct cl_reasm *r);

/*
 * Offers one fragment (pkt as decoded, pkt->is_frag set) seen at time
 * now_ns.  When this fragment completes its datagram, returns 1 and sets
 * *dgram / *dgram_len to the whole datagram with a rewritten IP header
 * (IPv4: MF and offset cleared, total length and checksum fixed; IPv6: the
 * fragment header removed and payload length fixed), valid until the next
 * call.  Returns 0 when more fragments are needed, or a negative CL_ERR_*
 * when the fragment was dropped.
 */
int cl_reasm_add(struct cl_reasm *r, const struct cl_pkt *pkt, uint64_t now_ns,
    const uint8_t **dgram, size_t *dgram_len);

/* Drops datagrams older than the timeout. */
void cl_reasm_expire(struct cl_reasm *r, uint64_t now_ns);

void cl_reasm_stats(const struct cl_reasm *r, struct cl_reasm_stats *st);

#endif /* POI_REASM_H */
