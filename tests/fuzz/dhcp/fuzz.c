/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the DHCPv4 parser.  Input: one UDP payload.  Checks
 * that whatever parses yields a binding whose spans stay inside the input
 * and whose addresses are well-formed.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(struct cl_span s, const uint8_t *data, size_t size)
{
	if (s.len == 0)
		return;
	if (s.p < data || s.len > size ||
	    s.p - data > (ptrdiff_t)(size - s.len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[4];
	struct cl_dhcp m;
	struct cl_binding b;
	int r;

	r = cl_dhcp_parse(data, size, &m);
	if (r != 0) {
		if (m.op != 0 || m.msgtype != 0 || m.client_id.len != 0 ||
		    m.has_mac)
			abort();
		return 0;
	}
	if (size < 236 || (m.op != 1 && m.op != 2))
		abort();
	check_span(m.client_id, data, size);
	check_span(m.hostname, data, size);
	if (m.client_id.len == 1)
		abort();

	cl_dhcp_binding(&m, &b);
	if (b.src != CL_SRC_DHCP || b.naddrs > CL_BIND_MAX_ADDRS)
		abort();
	check_span(b.client_id, data, size);
	switch (b.op) {
	case CL_BIND_NONE:
		if (b.naddrs != 0 || b.has_mac || b.client_id.len != 0)
			abort();
		break;
	case CL_BIND_START:
		if (m.msgtype != CL_DHCP_ACK || b.naddrs != 1 ||
		    memcmp(b.addrs[0].addr.a, m.yiaddr, 4) != 0)
			abort();
		break;
	case CL_BIND_STOP:
		if ((m.msgtype != CL_DHCP_RELEASE &&
			m.msgtype != CL_DHCP_DECLINE) ||
		    b.naddrs != 1)
			abort();
		break;
	default:
		abort();
	}
	if (b.naddrs == 1 &&
	    (b.addrs[0].addr.family != 4 || b.addrs[0].plen != 32 ||
		memcmp(b.addrs[0].addr.a, zero, 4) == 0))
		abort();
	if (b.has_mac != (b.op != CL_BIND_NONE && m.has_mac))
		abort();
	return 0;
}
