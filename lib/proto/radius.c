/* SPDX-License-Identifier: ISC */
/*
 * RADIUS parser.  Only the attributes that say who is behind which address
 * are interpreted; everything else is checked for framing and skipped.
 * There is no shared secret here, so authenticators are not verified: the
 * POI sees the traffic passively and trusts the network path, as the NAS
 * and the server do.
 */
#include <string.h>

#include "proto/radius.h"

#define RADIUS_HDR_LEN 20
#define RADIUS_MAX_LEN 4096 /* RFC 2865 section 3 */

#define ATTR_USER_NAME          1
#define ATTR_NAS_IP_ADDRESS     4
#define ATTR_NAS_PORT           5
#define ATTR_NAS_IDENTIFIER     32
#define ATTR_NAS_IPV6_ADDRESS   95
#define ATTR_FRAMED_IP_ADDRESS  8
#define ATTR_SESSION_TIMEOUT    27
#define ATTR_CALLING_STATION_ID 31
#define ATTR_ACCT_STATUS_TYPE   40
#define ATTR_ACCT_SESSION_ID    44
#define ATTR_FRAMED_IPV6_PREFIX 97
#define ATTR_DELEGATED_PREFIX   123
#define ATTR_FRAMED_IPV6_ADDR   168

bool
cl_radius_port(uint16_t sport, uint16_t dport)
{
	static const uint16_t ports[] = {CL_RADIUS_AUTH_PORT,
	    CL_RADIUS_ACCT_PORT, CL_RADIUS_AUTH_PORT_OLD,
	    CL_RADIUS_ACCT_PORT_OLD};
	size_t i;

	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (sport == ports[i] || dport == ports[i])
			return true;
	return false;
}

/*
 * Decodes the value of a Framed-IPv6-Prefix or Delegated-IPv6-Prefix
 * (RFC 3162 2.3, RFC 4818): reserved(1), prefix-length(1), then as many
 * prefix bytes as the sender chose, at least enough to cover the prefix
 * length and at most 16.  Bits past the prefix length must be zero: a
 * prefix with host bits set is ambiguous, so we do not guess what was meant.
 */
static bool
parse_prefix(struct cl_span v, struct cl_bind_addr *out)
{
	struct cl_bind_addr a;
	size_t nbytes, i;
	unsigned plen, bits;

	if (v.len < 2 || v.len > 18)
		return false;
	plen = v.p[1];
	nbytes = v.len - 2;
	if (plen > 128 || nbytes * 8 < plen)
		return false;
	memset(&a, 0, sizeof(a));
	a.addr.family = 6;
	a.plen = (uint8_t)plen;
	if (nbytes > 0)
		memcpy(a.addr.a, v.p + 2, nbytes);
	for (i = plen / 8; i < 16; i++) {
		bits = plen > i * 8 ? plen - (unsigned)i * 8 : 0;
		/* bits < 8 here: the byte holds bits past the prefix. */
		if ((a.addr.a[i] & (0xffu >> bits)) != 0)
			return false;
	}
	*out = a;
	return true;
}

/* Text and string attributes are 1..253 bytes (RFC 2865 section 5). */
static void
take_string(struct cl_span v, struct cl_span *dst, struct cl_radius *m)
{
	if (v.len == 0 || dst->len != 0)
		m->bad_attrs++;
	else
		*dst = v;
}

static void
take_u32(struct cl_span v, bool *seen, uint32_t *dst, struct cl_radius *m)
{
	if (v.len != 4 || *seen) {
		m->bad_attrs++;
		return;
	}
	*seen = true;
	*dst = cl_load_u32(v.p);
}

/* A fixed-length attribute; the first of its kind is kept. */
static void
take_fixed(
    struct cl_span v, size_t want, struct cl_span *dst, struct cl_radius *m)
{
	if (v.len != want) {
		m->bad_attrs++;
		return;
	}
	if (dst->len == 0)
		*dst = v;
}

int
cl_radius_parse(const uint8_t *p, size_t len, struct cl_radius *out)
{
	struct cl_radius m;
	struct cl_rd rd, attrs;
	struct cl_span v;
	struct cl_bind_addr pfx;
	bool seen_timeout = false, seen_status = false;
	uint8_t type, alen;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_u8(&rd, &m.code)) != 0 ||
	    (r = cl_rd_u8(&rd, &m.id)) != 0 ||
	    (r = cl_rd_u16(&rd, &m.length)) != 0)
		return r;
	if (m.length < RADIUS_HDR_LEN || m.length > RADIUS_MAX_LEN)
		return CL_ERR_FORMAT;
	/*
	 * Bytes past the Length field are padding and ignored (RFC 2865
	 * section 3); a Length past the datagram is a truncated message.
	 */
	if (m.length > len)
		return CL_ERR_TRUNCATED;
	if ((r = cl_rd_skip(&rd, 16)) != 0 ||
	    (r = cl_rd_sub(&rd, m.length - RADIUS_HDR_LEN, &attrs)) != 0)
		return r;

	/*
	 * The message is whole (Length is within the datagram), so an
	 * attribute that cannot hold its own header or runs past Length is
	 * a malformed message, not a short capture: the parse fails as a
	 * whole and nothing of it is used.
	 */
	while (cl_rd_left(&attrs) > 0) {
		if (cl_rd_u8(&attrs, &type) != 0 ||
		    cl_rd_u8(&attrs, &alen) != 0 || alen < 2 ||
		    cl_rd_span(&attrs, alen - 2u, &v) != 0)
			return CL_ERR_FORMAT;
		switch (type) {
		case ATTR_USER_NAME:
			take_string(v, &m.user_name, &m);
			break;
		case ATTR_CALLING_STATION_ID:
			take_string(v, &m.calling_station_id, &m);
			break;
		case ATTR_ACCT_SESSION_ID:
			take_string(v, &m.acct_session_id, &m);
			break;
		case ATTR_NAS_IP_ADDRESS:
		case ATTR_NAS_IPV6_ADDRESS:
		case ATTR_NAS_PORT:
			/* Which NAS and which of its ports: with the user,
			 * they name a session that has no Acct-Session-Id. */
			take_fixed(v, type == ATTR_NAS_IPV6_ADDRESS ? 16u : 4u,
			    type == ATTR_NAS_PORT ? &m.nas_port : &m.nas, &m);
			break;
		case ATTR_NAS_IDENTIFIER:
			if (m.nas.len == 0)
				take_string(v, &m.nas, &m);
			break;
		case ATTR_SESSION_TIMEOUT:
			take_u32(v, &seen_timeout, &m.session_timeout, &m);
			break;
		case ATTR_ACCT_STATUS_TYPE:
			take_u32(v, &seen_status, &m.acct_status, &m);
			break;
		case ATTR_FRAMED_IP_ADDRESS:
			if (v.len != 4 || m.has_framed_ip) {
				m.bad_attrs++;
				break;
			}
			m.has_framed_ip = true;
			memcpy(m.framed_ip, v.p, 4);
			break;
		case ATTR_FRAMED_IPV6_ADDR:
			if (v.len != 16) {
				m.bad_attrs++;
				break;
			}
			/* May repeat (RFC 6911); the first one is kept. */
			if (!m.has_framed_ipv6) {
				m.has_framed_ipv6 = true;
				memcpy(m.framed_ipv6, v.p, 16);
			}
			break;
		case ATTR_FRAMED_IPV6_PREFIX:
		case ATTR_DELEGATED_PREFIX:
			if (!parse_prefix(v, &pfx)) {
				m.bad_attrs++;
				break;
			}
			/*
			 * XXX Both may repeat (RFC 3162, RFC 4818) but
			 * struct cl_radius holds one of each: the first
			 * well-formed one is kept.
			 */
			if (type == ATTR_FRAMED_IPV6_PREFIX &&
			    !m.has_framed_prefix) {
				m.has_framed_prefix = true;
				m.framed_prefix = pfx;
			} else if (type == ATTR_DELEGATED_PREFIX &&
			    !m.has_delegated_prefix) {
				m.has_delegated_prefix = true;
				m.delegated_prefix = pfx;
			}
			break;
		default:
			break;
		}
	}
	*out = m;
	return 0;
}

static void
add_addr(struct cl_binding *b, uint8_t family, const uint8_t *a, uint8_t plen)
{
	struct cl_bind_addr *ba;

	if (b->naddrs >= CL_BIND_MAX_ADDRS)
		return;
	ba = &b->addrs[b->naddrs++];
	memset(ba, 0, sizeof(*ba));
	ba->addr.family = family;
	memcpy(ba->addr.a, a, family == 4 ? 4 : 16);
	ba->plen = plen;
}

/*
 * Addresses that do not name one subscriber are never bound: binding them
 * would put other people's traffic under interception.
 */
static bool
usable_v4(const uint8_t a[4])
{
	static const uint8_t any[4] = {0, 0, 0, 0};
	static const uint8_t nas_selects[4] = {255, 255, 255, 254};
	static const uint8_t user_chooses[4] = {255, 255, 255, 255};

	return memcmp(a, any, 4) != 0 && memcmp(a, nas_selects, 4) != 0 &&
	    memcmp(a, user_chooses, 4) != 0;
}

static bool
usable_v6(const uint8_t a[16], uint8_t plen)
{
	static const uint8_t zero[16];

	/* ::/0 would be every IPv6 address; :: alone is no address. */
	return plen != 0 && memcmp(a, zero, 16) != 0;
}

void
cl_radius_binding(const struct cl_radius *m, struct cl_binding *b)
{
	memset(b, 0, sizeof(*b));
	b->src = CL_SRC_RADIUS;
	b->op = CL_BIND_NONE;
	if (m->code == CL_RADIUS_ACCESS_ACCEPT)
		b->op = CL_BIND_START;
	else if (m->code == CL_RADIUS_ACCOUNTING_REQUEST) {
		switch (m->acct_status) {
		case CL_RADIUS_ACCT_START:
			b->op = CL_BIND_START;
			break;
		case CL_RADIUS_ACCT_INTERIM:
			b->op = CL_BIND_UPDATE;
			break;
		case CL_RADIUS_ACCT_STOP:
			b->op = CL_BIND_STOP;
			break;
		default:
			/* Accounting-On/Off and the rest name no session. */
			break;
		}
	}
	if (b->op == CL_BIND_NONE)
		return;

	b->username = m->user_name;
	b->calling_station_id = m->calling_station_id;
	b->acct_session_id = m->acct_session_id;
	b->nas = m->nas;
	b->nas_port = m->nas_port;
	b->lifetime = m->session_timeout;
	if (m->has_framed_ip && usable_v4(m->framed_ip))
		add_addr(b, 4, m->framed_ip, 32);
	if (m->has_framed_prefix &&
	    usable_v6(m->framed_prefix.addr.a, m->framed_prefix.plen))
		add_addr(b, 6, m->framed_prefix.addr.a, m->framed_prefix.plen);
	if (m->has_delegated_prefix &&
	    usable_v6(m->delegated_prefix.addr.a, m->delegated_prefix.plen))
		add_addr(
		    b, 6, m->delegated_prefix.addr.a, m->delegated_prefix.plen);
	if (m->has_framed_ipv6 && usable_v6(m->framed_ipv6, 128))
		add_addr(b, 6, m->framed_ipv6, 128);
}
