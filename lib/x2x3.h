/* SPDX-License-Identifier: ISC */
#ifndef CL_X2X3_H
#define CL_X2X3_H

/*
 * ETSI TS 103 221-2 X2/X3 PDUs: encoder and strict decoder.  Layout in
 * ../shared/standards/ts103221-2/X2X3-PDU-format.md and docs/PROTOCOL.x2x3.
 *
 * The encoder appends one PDU to a cl_buf; it is on the POI's hot path, so
 * it writes the whole PDU into one reservation with no allocation.
 *
 * The decoder is for the MDF and the tests.  It accepts only what the
 * format allows: version 5, a known PDU type, header length >= 40 and
 * covering exactly the attribute TLVs, known payload formats and
 * directions, attributes of the exact size for their type, no repeated
 * singleton attribute, keepalives with zero payload, zero XID and zero
 * correlation ID.  Payloads are limited to CL_X2X3_MAX_PAYLOAD and headers
 * to CL_X2X3_MAX_HEADER.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

#define CL_X2X3_VERSION     5
#define CL_X2X3_FIXED_LEN   40
#define CL_X2X3_MAX_HEADER  4096
#define CL_X2X3_MAX_PAYLOAD (256u * 1024)

/* PDU types */
#define CL_X2X3_X2            1
#define CL_X2X3_X3            2
#define CL_X2X3_KEEPALIVE     3
#define CL_X2X3_KEEPALIVE_ACK 4

/* Payload formats (those clearli emits or accepts) */
#define CL_X2X3_PF_KEEPALIVE  0
#define CL_X2X3_PF_ETSI102232 1
#define CL_X2X3_PF_3GPP33128  2
#define CL_X2X3_PF_IPV4       5
#define CL_X2X3_PF_IPV6       6
#define CL_X2X3_PF_ETHERNET   7
#define CL_X2X3_PF_RTP        8
#define CL_X2X3_PF_SIP        9
#define CL_X2X3_PF_DHCP       10
#define CL_X2X3_PF_RADIUS     11
#define CL_X2X3_PF_GTPU       12
#define CL_X2X3_PF_MAX        16

/* Payload directions */
#define CL_X2X3_DIR_NONE        0 /* keepalives only */
#define CL_X2X3_DIR_UNKNOWN     1
#define CL_X2X3_DIR_TO_TARGET   2
#define CL_X2X3_DIR_FROM_TARGET 3
#define CL_X2X3_DIR_MULTIPLE    4
#define CL_X2X3_DIR_NA          5

/* Conditional attribute types */
#define CL_X2X3_ATTR_DID       5
#define CL_X2X3_ATTR_NFID      6
#define CL_X2X3_ATTR_IPID      7
#define CL_X2X3_ATTR_SEQNO     8
#define CL_X2X3_ATTR_TIMESTAMP 9
#define CL_X2X3_ATTR_SRC_IPV4  10
#define CL_X2X3_ATTR_DST_IPV4  11
#define CL_X2X3_ATTR_SRC_IPV6  12
#define CL_X2X3_ATTR_DST_IPV6  13
#define CL_X2X3_ATTR_SRC_PORT  14
#define CL_X2X3_ATTR_DST_PORT  15
#define CL_X2X3_ATTR_IPPROTO   16
#define CL_X2X3_ATTR_MTI       17
#define CL_X2X3_ATTR_OTI       18

/* Longest string attribute clearli writes or accepts (MTI, IPID, NFID). */
#define CL_X2X3_MAX_STRATTR 256

struct cl_x2x3_pdu {
	uint16_t type;
	uint16_t pformat;
	uint16_t pdir;
	uint8_t xid[CL_UUID_LEN];
	uint8_t cid[8];

	/* Conditional attributes; absent unless has_* / non-empty span. */
	bool has_seqno;
	uint32_t seqno;
	bool has_ts;
	uint32_t ts_sec, ts_nsec;
	struct cl_addr src, dst; /* family 0 = absent */
	bool has_sport, has_dport;
	uint16_t sport, dport;
	bool has_ipproto;
	uint8_t ipproto;
	struct cl_span mti;  /* Matched Target Identifier (UTF-8) */
	struct cl_span ipid; /* Interception Point ID (UTF-8) */
	struct cl_span nfid; /* Network Function ID (UTF-8) */
	bool has_did;
	uint8_t did[CL_UUID_LEN];
	/* Decoder only: count of attributes of types it skips (1-4, 18-22,
	 * which are opaque octets to clearli). */
	unsigned other_attrs;

	struct cl_span payload;
};

/*
 * Appends the encoding of pdu to b.  Fails with CL_ERR_INVALID_ARG for a
 * PDU the decoder would reject (so clearli never sends what it would not
 * accept), CL_ERR_TOOBIG or CL_ERR_NOMEM; b is unchanged on failure.
 */
int cl_x2x3_encode(struct cl_buf *b, const struct cl_x2x3_pdu *pdu);

/* Length of the encoding of pdu (header plus payload). */
size_t cl_x2x3_encoded_len(const struct cl_x2x3_pdu *pdu);

/*
 * Decodes one PDU from the start of p.  Returns 0 and sets *consumed to
 * its length; CL_ERR_TRUNCATED if p holds only part of a PDU (read more
 * and retry: the fixed header is checked first, so an impossible length is
 * reported as soon as the 12 first bytes are in); any other CL_ERR_* means
 * the stream is malformed and must be closed.  Spans in *out point into p.
 * *why, if not NULL, gets a static text naming the check that failed.
 */
int cl_x2x3_decode(const uint8_t *p, size_t len, struct cl_x2x3_pdu *out,
    size_t *consumed, const char **why);

/*
 * The framing of one PDU that must fill p[0..len) exactly: version, a
 * data PDU type (X2 or X3, never a keepalive), header and payload
 * lengths within their limits and adding up to len.  Returns 0 and the
 * payload length in *plen, or CL_ERR_FORMAT with *why.  No attribute is
 * parsed: for a process that forwards PDUs another one encoded, without
 * a parser in its address space (the POI's output role).
 */
int cl_x2x3_frame(
    const uint8_t *p, size_t len, uint32_t *plen, const char **why);

/* Convenience for keepalives: fills pdu for a keepalive (or ack when
 * ack is true) carrying seqno. */
void cl_x2x3_keepalive(struct cl_x2x3_pdu *pdu, bool ack, uint32_t seqno);

#endif /* CL_X2X3_H */
