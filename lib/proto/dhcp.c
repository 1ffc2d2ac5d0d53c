/* SPDX-License-Identifier: ISC */
/*
 * DHCPv4 parser.  The options we interpret must appear at most once and
 * have the length RFC 2132 gives them; anything else breaks the message,
 * because a binding built on an ambiguous message could name the wrong
 * subscriber.  Options we do not interpret are only checked for framing.
 */
#include <string.h>

#include "proto/dhcp.h"

#define BOOTP_HDR_LEN  236 /* op .. file, RFC 2131 figure 1 */
#define BOOTP_SNAME    44  /* offset of sname (64 bytes) */
#define BOOTP_FILE     108 /* offset of file (128 bytes) */
#define BOOTP_CHADDR   28
#define DHCP_MAGIC     0x63825363u /* 99.130.83.99 */
#define DHCP_MAX_LEN   65535u      /* option 57 is a u16 */
#define BOOTP_MAX_HLEN 16

#define OPT_PAD          0
#define OPT_HOSTNAME     12
#define OPT_REQUESTED_IP 50
#define OPT_LEASE_TIME   51
#define OPT_OVERLOAD     52
#define OPT_MSGTYPE      53
#define OPT_CLIENT_ID    61
#define OPT_END          255

/* Option 52 values (RFC 2132 9.3). */
#define OVERLOAD_FILE  1
#define OVERLOAD_SNAME 2

enum area {
	AREA_OPTIONS,
	AREA_FILE,
	AREA_SNAME,
};

bool
cl_dhcp_port(uint16_t sport, uint16_t dport)
{
	/* Clients use 68, servers and relays 67; RFC 8357 lets relays use
	 * other source ports, so one side on 67 is enough. */
	return sport == CL_DHCP_SERVER_PORT || dport == CL_DHCP_SERVER_PORT;
}

/* Per-message parse state: which options were seen. */
struct seen {
	bool msgtype, lease, overload, client_id, hostname;
	uint8_t overload_val;
};

static int
take_option(struct cl_dhcp *m, struct seen *s, enum area area, uint8_t code,
    struct cl_span v)
{
	switch (code) {
	case OPT_MSGTYPE:
		if (v.len != 1 || s->msgtype || v.p[0] == 0)
			return CL_ERR_FORMAT;
		s->msgtype = true;
		m->msgtype = v.p[0];
		break;
	case OPT_REQUESTED_IP:
		if (v.len != 4 || m->has_requested_ip)
			return CL_ERR_FORMAT;
		m->has_requested_ip = true;
		memcpy(m->requested_ip, v.p, 4);
		break;
	case OPT_LEASE_TIME:
		if (v.len != 4 || s->lease)
			return CL_ERR_FORMAT;
		s->lease = true;
		m->lease_time = cl_load_u32(v.p);
		break;
	case OPT_OVERLOAD:
		/* Only the options field may say where options continue. */
		if (v.len != 1 || s->overload || area != AREA_OPTIONS ||
		    v.p[0] < 1 || v.p[0] > 3)
			return CL_ERR_FORMAT;
		s->overload = true;
		s->overload_val = v.p[0];
		break;
	case OPT_CLIENT_ID:
		/* Type byte plus at least one byte (RFC 2132 9.14). */
		if (v.len < 2 || s->client_id)
			return CL_ERR_FORMAT;
		s->client_id = true;
		m->client_id = v;
		break;
	case OPT_HOSTNAME:
		if (v.len < 1 || s->hostname)
			return CL_ERR_FORMAT;
		s->hostname = true;
		m->hostname = v;
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Walks one option area.  It must hold an End option; what follows End is
 * not interpreted (RFC 2131 lets it be padding).  An option whose length
 * runs past the area breaks the message.
 */
static int
parse_area(struct cl_dhcp *m, struct seen *s, enum area area, const uint8_t *p,
    size_t len)
{
	struct cl_rd rd;
	struct cl_span v;
	uint8_t code, olen;
	int r;

	cl_rd_init(&rd, p, len);
	for (;;) {
		if ((r = cl_rd_u8(&rd, &code)) != 0)
			return r; /* no End option */
		if (code == OPT_END)
			return 0;
		if (code == OPT_PAD)
			continue;
		if ((r = cl_rd_u8(&rd, &olen)) != 0 ||
		    (r = cl_rd_span(&rd, olen, &v)) != 0)
			return r;
		if ((r = take_option(m, s, area, code, v)) != 0)
			return r;
	}
}

int
cl_dhcp_parse(const uint8_t *p, size_t len, struct cl_dhcp *out)
{
	struct cl_dhcp m;
	struct seen s;
	struct cl_rd rd;
	uint8_t htype, hlen;
	uint32_t magic;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	if (len > DHCP_MAX_LEN)
		return CL_ERR_TOOBIG;
	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_need(&rd, BOOTP_HDR_LEN)) != 0)
		return r;
	(void)cl_rd_u8(&rd, &m.op);
	(void)cl_rd_u8(&rd, &htype);
	(void)cl_rd_u8(&rd, &hlen);
	(void)cl_rd_skip(&rd, 1); /* hops */
	(void)cl_rd_u32(&rd, &m.xid);
	(void)cl_rd_skip(&rd, 4); /* secs, flags */
	(void)cl_rd_copy(&rd, m.ciaddr, 4);
	(void)cl_rd_copy(&rd, m.yiaddr, 4);
	(void)cl_rd_copy(&rd, m.siaddr, 4);
	(void)cl_rd_copy(&rd, m.giaddr, 4);
	if (m.op != 1 && m.op != 2)
		return CL_ERR_FORMAT;
	if (hlen > BOOTP_MAX_HLEN)
		return CL_ERR_FORMAT;
	if (htype == 1 && hlen == CL_MAC_LEN) {
		m.has_mac = true;
		memcpy(m.mac, p + BOOTP_CHADDR, CL_MAC_LEN);
	}
	(void)cl_rd_skip(&rd, BOOTP_HDR_LEN - 28);

	/*
	 * Without the magic cookie this is plain BOOTP (RFC 951): the vendor
	 * area is not RFC 2132 options, and no DHCP message type applies.
	 */
	if (cl_rd_u32(&rd, &magic) != 0 || magic != DHCP_MAGIC) {
		*out = m;
		return 0;
	}
	if ((r = parse_area(
		 &m, &s, AREA_OPTIONS, cl_rd_ptr(&rd), cl_rd_left(&rd))) != 0)
		return r;
	/* RFC 2131 4.1: options, then file, then sname. */
	if ((s.overload_val & OVERLOAD_FILE) != 0 &&
	    (r = parse_area(&m, &s, AREA_FILE, p + BOOTP_FILE, 128)) != 0)
		return r;
	if ((s.overload_val & OVERLOAD_SNAME) != 0 &&
	    (r = parse_area(&m, &s, AREA_SNAME, p + BOOTP_SNAME, 64)) != 0)
		return r;
	*out = m;
	return 0;
}

static void
add_v4(struct cl_binding *b, const uint8_t a[4])
{
	struct cl_bind_addr *ba = &b->addrs[0];

	memset(ba, 0, sizeof(*ba));
	ba->addr.family = 4;
	memcpy(ba->addr.a, a, 4);
	ba->plen = 32;
	b->naddrs = 1;
}

/* 0.0.0.0 names nobody and 255.255.255.255 everybody on the link. */
static bool
usable_v4(const uint8_t a[4])
{
	static const uint8_t any[4] = {0, 0, 0, 0};
	static const uint8_t bcast[4] = {255, 255, 255, 255};

	return memcmp(a, any, 4) != 0 && memcmp(a, bcast, 4) != 0;
}

void
cl_dhcp_binding(const struct cl_dhcp *m, struct cl_binding *b)
{
	memset(b, 0, sizeof(*b));
	b->src = CL_SRC_DHCP;
	b->op = CL_BIND_NONE;

	/*
	 * The op field must agree with the message type (RFC 2131 table 3):
	 * an ACK is a BOOTREPLY, a RELEASE or DECLINE a BOOTREQUEST.
	 */
	if (m->msgtype == CL_DHCP_ACK && m->op == 2 && usable_v4(m->yiaddr)) {
		b->op = CL_BIND_START;
		add_v4(b, m->yiaddr);
		/* 0xffffffff is an infinite lease: no expiry known. */
		if (m->lease_time != UINT32_MAX)
			b->lifetime = m->lease_time;
	} else if (m->msgtype == CL_DHCP_RELEASE && m->op == 1 &&
	    usable_v4(m->ciaddr)) {
		b->op = CL_BIND_STOP;
		add_v4(b, m->ciaddr);
	} else if (m->msgtype == CL_DHCP_DECLINE && m->op == 1 &&
	    m->has_requested_ip && usable_v4(m->requested_ip)) {
		b->op = CL_BIND_STOP;
		add_v4(b, m->requested_ip);
	} else
		return;

	b->client_id = m->client_id;
	if (m->has_mac) {
		b->has_mac = true;
		memcpy(b->mac, m->mac, CL_MAC_LEN);
	}
}
