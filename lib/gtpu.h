/* SPDX-License-Identifier: ISC */
#ifndef CL_GTPU_H
#define CL_GTPU_H

/*
 * GTP-U (3GPP TS 29.281) T-PDU headers: version 1, protocol type GTP,
 * message type 255, the optional sequence number / N-PDU number / next
 * extension type octets and a chain of at most CL_GTPU_MAX_EXT extension
 * headers.  Shared by the POI's packet decoder (captured tunnels) and the
 * MDF (X3 payload format 12, a whole GTP-U message).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CL_GTPU_MAX_EXT 8
#define CL_GTPU_TPDU    0xff

/*
 * Parses the T-PDU header at the start of p, of which caplen octets are
 * at hand, in a message of msglen octets (the UDP payload length; caplen
 * may be less when a capture cut the packet).  On success *teid gets the
 * tunnel endpoint ID and *inner the T-PDU's content: what follows the
 * headers, up to the end the GTP length field gives, clipped to caplen.
 * Returns 0, CL_ERR_UNSUPPORTED for another GTP message type or version
 * (echo, error indication, GTP'), CL_ERR_FORMAT for a length field past
 * msglen or a broken extension chain, CL_ERR_TRUNCATED if caplen ends
 * inside the headers.
 */
int cl_gtpu_tpdu(const uint8_t *p, size_t caplen, size_t msglen, uint32_t *teid,
    struct cl_span *inner);

/*
 * Strict decapsulation of one whole GTP-U message (an X3 payload): a
 * T-PDU whose length field covers exactly len octets and whose content
 * is exactly one IPv4 or IPv6 packet (version nibble, header length and
 * total / payload length all consistent with the octets present).  On
 * success *inner is that packet and *ipver 4 or 6.  Returns 0 or
 * CL_ERR_FORMAT / CL_ERR_UNSUPPORTED / CL_ERR_TRUNCATED; *inner is
 * cleared on failure.
 */
int cl_gtpu_decap(
    const uint8_t *p, size_t len, struct cl_span *inner, int *ipver);

#endif /* CL_GTPU_H */
