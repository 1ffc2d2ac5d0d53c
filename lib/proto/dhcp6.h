/* SPDX-License-Identifier: ISC */
#ifndef CL_PROTO_DHCP6_H
#define CL_PROTO_DHCP6_H

/*
 * DHCPv6 (RFC 8415) message parser: client/server messages and relay
 * messages (RELAY-FORW/RELAY-REPL, the Relay Message option followed
 * inwards, at most 8 levels).  Collects the client DUID, IA_NA addresses
 * and IA_PD prefixes with their lifetimes and status codes.
 */

#include <stddef.h>
#include <stdint.h>

#include "proto/binding.h"

#define CL_DHCP6_CLIENT_PORT 546
#define CL_DHCP6_SERVER_PORT 547

enum {
	CL_DHCP6_SOLICIT = 1,
	CL_DHCP6_ADVERTISE = 2,
	CL_DHCP6_REQUEST = 3,
	CL_DHCP6_CONFIRM = 4,
	CL_DHCP6_RENEW = 5,
	CL_DHCP6_REBIND = 6,
	CL_DHCP6_REPLY = 7,
	CL_DHCP6_RELEASE = 8,
	CL_DHCP6_DECLINE = 9,
	CL_DHCP6_RECONFIGURE = 10,
	CL_DHCP6_INFORMATION_REQUEST = 11,
	CL_DHCP6_RELAY_FORW = 12,
	CL_DHCP6_RELAY_REPL = 13,
};

#define CL_DHCP6_MAX_LEASES CL_BIND_MAX_ADDRS

struct cl_dhcp6_lease {
	struct cl_bind_addr a; /* IA_NA: plen 128; IA_PD: the prefix */
	uint32_t valid_lifetime;
	bool pd; /* from IA_PD */
};

struct cl_dhcp6 {
	uint8_t msgtype; /* of the innermost (non-relay) message */
	uint32_t xid;
	struct cl_span client_duid;
	struct cl_span server_duid;
	struct cl_dhcp6_lease leases[CL_DHCP6_MAX_LEASES];
	unsigned nleases;
	uint16_t status; /* top-level Status Code option, 0 if absent */
};

/* True if one side is port 546 or 547. */
bool cl_dhcp6_port(uint16_t sport, uint16_t dport);

/*
 * True if a message of msgtype may travel between these ports: anything
 * to or from 547 (servers, relays); without 547, only a client message
 * from 546 or a server message (ADVERTISE, REPLY, RECONFIGURE) to 546.
 */
bool cl_dhcp6_direction_ok(uint16_t sport, uint16_t dport, uint8_t msgtype);

int cl_dhcp6_parse(const uint8_t *p, size_t len, struct cl_dhcp6 *out);

/*
 * REPLY with leases of non-zero valid lifetime (and no error status on
 * their IA) binds the client DUID to them; RELEASE and DECLINE unbind the
 * leases they list; a REPLY lease with valid lifetime 0 unbinds it.
 */
void cl_dhcp6_binding(const struct cl_dhcp6 *m, struct cl_binding *b);

#endif /* CL_PROTO_DHCP6_H */
