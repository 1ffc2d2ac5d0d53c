/* SPDX-License-Identifier: ISC */
#ifndef CL_PROTO_DHCP_H
#define CL_PROTO_DHCP_H

/*
 * DHCPv4 (RFC 2131/2132) message parser: BOOTP fixed header, magic cookie,
 * options (with option 52 overload into file/sname).  Strict framing: an
 * option running past the end rejects the message.
 */

#include <stddef.h>
#include <stdint.h>

#include "proto/binding.h"

#define CL_DHCP_SERVER_PORT 67
#define CL_DHCP_CLIENT_PORT 68

enum {
	CL_DHCP_DISCOVER = 1,
	CL_DHCP_OFFER = 2,
	CL_DHCP_REQUEST = 3,
	CL_DHCP_DECLINE = 4,
	CL_DHCP_ACK = 5,
	CL_DHCP_NAK = 6,
	CL_DHCP_RELEASE = 7,
	CL_DHCP_INFORM = 8,
};

struct cl_dhcp {
	uint8_t op;      /* 1 request, 2 reply */
	uint8_t msgtype; /* option 53, 0 if absent (plain BOOTP) */
	uint32_t xid;
	uint8_t ciaddr[4], yiaddr[4], siaddr[4], giaddr[4];
	bool has_mac; /* htype 1 and hlen 6 */
	uint8_t mac[6];
	struct cl_span client_id; /* option 61 */
	bool has_requested_ip;    /* option 50 */
	uint8_t requested_ip[4];
	uint32_t lease_time;     /* option 51, 0 if absent */
	struct cl_span hostname; /* option 12 */
};

bool cl_dhcp_port(uint16_t sport, uint16_t dport);

int cl_dhcp_parse(const uint8_t *p, size_t len, struct cl_dhcp *out);

/*
 * ACK with a non-zero yiaddr binds (MAC, client id) -> yiaddr for the
 * lease time; RELEASE unbinds ciaddr, DECLINE unbinds the requested
 * address; everything else binds nothing.
 */
void cl_dhcp_binding(const struct cl_dhcp *m, struct cl_binding *b);

#endif /* CL_PROTO_DHCP_H */
