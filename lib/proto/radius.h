/* SPDX-License-Identifier: ISC */
#ifndef CL_PROTO_RADIUS_H
#define CL_PROTO_RADIUS_H

/*
 * RADIUS (RFC 2865, 2866, 3162, 4818) message parser.  Strict: the length
 * field must be 20..4096 and within the UDP payload, attributes must fill
 * the message exactly, each at least 2 bytes long.  A message that breaks
 * the attribute structure is rejected whole.  A well-framed attribute whose
 * value is malformed (wrong length for its type, prefix length over 128)
 * is ignored and counted in bad_attrs.
 */

#include <stddef.h>
#include <stdint.h>

#include "proto/binding.h"

#define CL_RADIUS_ACCESS_ACCEPT      2
#define CL_RADIUS_ACCOUNTING_REQUEST 4

#define CL_RADIUS_ACCT_START   1
#define CL_RADIUS_ACCT_STOP    2
#define CL_RADIUS_ACCT_INTERIM 3

#define CL_RADIUS_AUTH_PORT     1812
#define CL_RADIUS_ACCT_PORT     1813
#define CL_RADIUS_AUTH_PORT_OLD 1645
#define CL_RADIUS_ACCT_PORT_OLD 1646

struct cl_radius {
	uint8_t code;
	uint8_t id;
	uint16_t length;
	uint32_t acct_status; /* Acct-Status-Type, 0 if absent */
	struct cl_span user_name;
	struct cl_span acct_session_id;
	struct cl_span calling_station_id;
	/* The first of NAS-IP-Address, NAS-IPv6-Address and
	 * NAS-Identifier: which NAS this is. */
	struct cl_span nas;
	struct cl_span nas_port; /* NAS-Port, 4 octets */
	bool has_framed_ip;
	uint8_t framed_ip[4];
	bool has_framed_prefix; /* Framed-IPv6-Prefix (97) */
	struct cl_bind_addr framed_prefix;
	bool has_delegated_prefix; /* Delegated-IPv6-Prefix (123) */
	struct cl_bind_addr delegated_prefix;
	bool has_framed_ipv6; /* Framed-IPv6-Address (168) */
	uint8_t framed_ipv6[16];
	uint32_t session_timeout; /* Session-Timeout, 0 if absent */
	unsigned bad_attrs;
};

/* True if a UDP port pair looks like RADIUS auth or accounting. */
bool cl_radius_port(uint16_t sport, uint16_t dport);

/*
 * Parses one RADIUS message.  *out is cleared on entry and set only on
 * success.  Returns 0; CL_ERR_TRUNCATED if the Length field runs past len
 * (a datagram cut short); CL_ERR_FORMAT for a Length below 20 or above
 * 4096 and for any attribute whose length is below 2 or runs past Length.
 */
int cl_radius_parse(const uint8_t *p, size_t len, struct cl_radius *out);

/*
 * Derives the binding event: Access-Accept and Accounting Start bind,
 * Interim-Update updates, Stop unbinds; anything else binds nothing.  The
 * RFC 2865 "NAS selects" / "user may choose" addresses 255.255.255.254 and
 * 255.255.255.255 are never bound.
 */
void cl_radius_binding(const struct cl_radius *m, struct cl_binding *b);

#endif /* CL_PROTO_RADIUS_H */
