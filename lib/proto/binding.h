/* SPDX-License-Identifier: ISC */
#ifndef CL_PROTO_BINDING_H
#define CL_PROTO_BINDING_H

/*
 * A subscriber binding event, as extracted from one signalling message
 * (RADIUS, DHCPv4, DHCPv6) by its parser.  It says who (identities) is
 * behind which addresses, and whether a session starts, changes or ends.
 * Spans point into the message bytes and live as long as they do; the
 * subscriber table copies what it keeps.
 */

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

enum cl_bind_op {
	CL_BIND_NONE = 0, /* the message binds nothing */
	CL_BIND_START,    /* a session starts (or is confirmed) */
	CL_BIND_UPDATE,   /* interim update of a running session */
	CL_BIND_STOP,     /* the session ends */
};

enum cl_bind_src {
	CL_SRC_RADIUS = 1,
	CL_SRC_DHCP = 2,
	CL_SRC_DHCP6 = 3,
};

#define CL_BIND_MAX_ADDRS 8

struct cl_bind_addr {
	struct cl_addr addr;
	uint8_t plen; /* 32 or 128 for a single address */
};

struct cl_binding {
	enum cl_bind_op op;
	enum cl_bind_src src;

	/* Identities; a span with len 0 is absent. */
	struct cl_span username;           /* RADIUS User-Name */
	struct cl_span calling_station_id; /* RADIUS Calling-Station-Id */
	struct cl_span acct_session_id;    /* RADIUS Acct-Session-Id */
	struct cl_span nas;       /* RADIUS NAS-IP(v6)-Address or -Identifier */
	struct cl_span nas_port;  /* RADIUS NAS-Port (4 octets) */
	struct cl_span client_id; /* DHCPv4 option 61 */
	struct cl_span duid;      /* DHCPv6 client DUID */
	bool has_mac;
	uint8_t mac[CL_MAC_LEN]; /* DHCPv4 chaddr (Ethernet) */

	/* Addresses and prefixes bound (START/UPDATE) or released (STOP).
	 * A STOP with no address ends the sessions of the identity. */
	struct cl_bind_addr addrs[CL_BIND_MAX_ADDRS];
	unsigned naddrs;

	/* Lease or session lifetime in seconds; 0 = no expiry known. */
	uint32_t lifetime;
};

#endif /* CL_PROTO_BINDING_H */
