/* SPDX-License-Identifier: ISC */
/*
 * DHCPv6 parser.  Every option list, top-level or nested in an IA, must
 * be framed exactly: an option running past its container breaks the whole
 * message.  Options we interpret must have their RFC 8415 sizes; the
 * identity options (client and server DUID) and the top-level status code
 * must appear at most once, since two of them would make the message name
 * two subscribers.
 */
#include <string.h>

#include "proto/dhcp6.h"

#define DHCP6_RELAY_LEN 34 /* msg-type, hop-count, link, peer */
#define DHCP6_MAX_RELAY 8  /* nesting we follow (RFC 8415 HOP_COUNT_LIMIT) */
#define DHCP6_DUID_MIN  3  /* type code and at least one byte */
#define DHCP6_DUID_MAX  130
#define DHCP6_IA_LEN    12 /* IA_NA, IA_PD: IAID, T1, T2 */
#define DHCP6_IA_TA_LEN 4  /* IAID */

#define OPT_CLIENTID  1
#define OPT_SERVERID  2
#define OPT_IA_NA     3
#define OPT_IA_TA     4
#define OPT_IAADDR    5
#define OPT_RELAY_MSG 9
#define OPT_STATUS    13
#define OPT_IA_PD     25
#define OPT_IAPREFIX  26

#define STATUS_SUCCESS 0

bool
cl_dhcp6_port(uint16_t sport, uint16_t dport)
{
	/* Clients use 546, servers and relays 547; RFC 8357 lets relays use
	 * other source ports, and servers answer from wherever they like,
	 * so one side on 547 or on 546 is enough.  cl_dhcp6_direction_ok()
	 * then checks the message against the side it came from. */
	return sport == CL_DHCP6_SERVER_PORT || dport == CL_DHCP6_SERVER_PORT ||
	    sport == CL_DHCP6_CLIENT_PORT || dport == CL_DHCP6_CLIENT_PORT;
}

bool
cl_dhcp6_direction_ok(uint16_t sport, uint16_t dport, uint8_t msgtype)
{
	bool to_client;

	if (sport == CL_DHCP6_SERVER_PORT || dport == CL_DHCP6_SERVER_PORT)
		return true;
	/* Neither side is a server or relay port: only a client talking,
	 * or a server answering the client's port, makes sense. */
	switch (msgtype) {
	case CL_DHCP6_ADVERTISE:
	case CL_DHCP6_REPLY:
	case CL_DHCP6_RECONFIGURE:
		to_client = true;
		break;
	case CL_DHCP6_SOLICIT:
	case CL_DHCP6_REQUEST:
	case CL_DHCP6_CONFIRM:
	case CL_DHCP6_RENEW:
	case CL_DHCP6_REBIND:
	case CL_DHCP6_RELEASE:
	case CL_DHCP6_DECLINE:
	case CL_DHCP6_INFORMATION_REQUEST:
		to_client = false;
		break;
	default:
		return false; /* relay messages go between 547s */
	}
	return to_client
	    ? dport == CL_DHCP6_CLIENT_PORT && sport != CL_DHCP6_CLIENT_PORT
	    : sport == CL_DHCP6_CLIENT_PORT && dport != CL_DHCP6_CLIENT_PORT;
}

/* Reads one option header and borrows its body. */
static int
next_option(struct cl_rd *rd, uint16_t *code, struct cl_rd *body)
{
	uint16_t len;
	int r;

	if ((r = cl_rd_u16(rd, code)) != 0 || (r = cl_rd_u16(rd, &len)) != 0 ||
	    (r = cl_rd_sub(rd, len, body)) != 0)
		return r;
	return 0;
}

/* Reads a Status Code option body: code(2) then a UTF-8 message. */
static int
parse_status(struct cl_rd *body, uint16_t *status)
{
	return cl_rd_u16(body, status);
}

/*
 * Parses the options after an IAADDR or IAPREFIX's fixed part: only a
 * Status Code is interpreted.  *ok is false if the lease carries a failure
 * status.
 */
static int
parse_lease_options(struct cl_rd *rd, bool *ok)
{
	struct cl_rd body;
	uint16_t code, status;
	bool seen = false;
	int r;

	*ok = true;
	while (cl_rd_left(rd) > 0) {
		if ((r = next_option(rd, &code, &body)) != 0)
			return r;
		if (code != OPT_STATUS)
			continue;
		if (seen)
			return CL_ERR_FORMAT;
		seen = true;
		if ((r = parse_status(&body, &status)) != 0)
			return r;
		if (status != STATUS_SUCCESS)
			*ok = false;
	}
	return 0;
}

/* Lease candidates of one IA, kept until the IA's own status is known. */
struct ia_leases {
	struct cl_dhcp6_lease l[CL_DHCP6_MAX_LEASES];
	unsigned n;
};

static void
add_lease(struct ia_leases *ia, const uint8_t a[16], uint8_t plen,
    uint32_t valid, bool pd)
{
	struct cl_dhcp6_lease *l;

	/* XXX Leases past CL_DHCP6_MAX_LEASES are dropped. */
	if (ia->n >= CL_DHCP6_MAX_LEASES)
		return;
	l = &ia->l[ia->n++];
	memset(l, 0, sizeof(*l));
	l->a.addr.family = 6;
	memcpy(l->a.addr.a, a, 16);
	l->a.plen = plen;
	l->valid_lifetime = valid;
	l->pd = pd;
}

static int
parse_iaaddr(struct cl_rd *body, struct ia_leases *ia)
{
	uint8_t addr[16];
	uint32_t pref, valid;
	bool ok;
	int r;

	if ((r = cl_rd_copy(body, addr, 16)) != 0 ||
	    (r = cl_rd_u32(body, &pref)) != 0 ||
	    (r = cl_rd_u32(body, &valid)) != 0 ||
	    (r = parse_lease_options(body, &ok)) != 0)
		return r;
	/* RFC 8415 21.6: a client discards preferred > valid. */
	if (ok && pref <= valid)
		add_lease(ia, addr, 128, valid, false);
	return 0;
}

static int
parse_iaprefix(struct cl_rd *body, struct ia_leases *ia)
{
	uint8_t prefix[16];
	uint32_t pref, valid;
	uint8_t plen;
	unsigned i, bits;
	bool ok;
	int r;

	if ((r = cl_rd_u32(body, &pref)) != 0 ||
	    (r = cl_rd_u32(body, &valid)) != 0 ||
	    (r = cl_rd_u8(body, &plen)) != 0 ||
	    (r = cl_rd_copy(body, prefix, 16)) != 0 ||
	    (r = parse_lease_options(body, &ok)) != 0)
		return r;
	if (plen > 128)
		return CL_ERR_FORMAT;
	/* Bits past the prefix length make the prefix ambiguous. */
	for (i = plen / 8u; i < 16; i++) {
		bits = plen > i * 8 ? plen - i * 8 : 0;
		if ((prefix[i] & (0xffu >> bits)) != 0)
			return CL_ERR_FORMAT;
	}
	if (ok && pref <= valid)
		add_lease(ia, prefix, plen, valid, true);
	return 0;
}

/*
 * Parses an IA_NA, IA_TA or IA_PD body and appends its leases to m unless
 * the IA carries a failure status.
 */
static int
parse_ia(struct cl_rd *rd, uint16_t type, struct cl_dhcp6 *m)
{
	struct ia_leases ia;
	struct cl_rd body;
	uint16_t code, status;
	bool failed = false, seen_status = false;
	unsigned i;
	int r;

	memset(&ia, 0, sizeof(ia));
	if ((r = cl_rd_skip(
		 rd, type == OPT_IA_TA ? DHCP6_IA_TA_LEN : DHCP6_IA_LEN)) != 0)
		return r;
	while (cl_rd_left(rd) > 0) {
		if ((r = next_option(rd, &code, &body)) != 0)
			return r;
		switch (code) {
		case OPT_IAADDR:
			if (type == OPT_IA_PD)
				return CL_ERR_FORMAT;
			if ((r = parse_iaaddr(&body, &ia)) != 0)
				return r;
			break;
		case OPT_IAPREFIX:
			if (type != OPT_IA_PD)
				return CL_ERR_FORMAT;
			if ((r = parse_iaprefix(&body, &ia)) != 0)
				return r;
			break;
		case OPT_STATUS:
			if (seen_status)
				return CL_ERR_FORMAT;
			seen_status = true;
			if ((r = parse_status(&body, &status)) != 0)
				return r;
			failed = status != STATUS_SUCCESS;
			break;
		default:
			break;
		}
	}
	if (failed)
		return 0;
	for (i = 0; i < ia.n && m->nleases < CL_DHCP6_MAX_LEASES; i++)
		m->leases[m->nleases++] = ia.l[i];
	return 0;
}

static int
parse_duid(struct cl_rd *body, struct cl_span *dst)
{
	size_t n = cl_rd_left(body);

	if (dst->len != 0 || n < DHCP6_DUID_MIN || n > DHCP6_DUID_MAX)
		return CL_ERR_FORMAT;
	return cl_rd_span(body, n, dst);
}

/* Parses the options of a client/server (non-relay) message. */
static int
parse_options(struct cl_rd *rd, struct cl_dhcp6 *m)
{
	struct cl_rd body;
	uint16_t code;
	bool seen_status = false;
	int r;

	while (cl_rd_left(rd) > 0) {
		if ((r = next_option(rd, &code, &body)) != 0)
			return r;
		switch (code) {
		case OPT_CLIENTID:
			if ((r = parse_duid(&body, &m->client_duid)) != 0)
				return r;
			break;
		case OPT_SERVERID:
			if ((r = parse_duid(&body, &m->server_duid)) != 0)
				return r;
			break;
		case OPT_IA_NA:
		case OPT_IA_TA:
		case OPT_IA_PD:
			if ((r = parse_ia(&body, code, m)) != 0)
				return r;
			break;
		case OPT_STATUS:
			if (seen_status)
				return CL_ERR_FORMAT;
			seen_status = true;
			if ((r = parse_status(&body, &m->status)) != 0)
				return r;
			break;
		case OPT_RELAY_MSG:
			/* Only relay messages carry one. */
			return CL_ERR_FORMAT;
		default:
			break;
		}
	}
	return 0;
}

/*
 * Finds the Relay Message option among a relay message's options and
 * makes *inner a reader over it.  Exactly one must be present.
 */
static int
find_relay_msg(struct cl_rd *rd, struct cl_rd *inner)
{
	struct cl_rd body;
	uint16_t code;
	bool found = false;
	int r;

	while (cl_rd_left(rd) > 0) {
		if ((r = next_option(rd, &code, &body)) != 0)
			return r;
		if (code != OPT_RELAY_MSG)
			continue;
		if (found)
			return CL_ERR_FORMAT;
		found = true;
		*inner = body;
	}
	return found ? 0 : CL_ERR_FORMAT;
}

int
cl_dhcp6_parse(const uint8_t *p, size_t len, struct cl_dhcp6 *out)
{
	struct cl_dhcp6 m;
	struct cl_rd rd, inner;
	uint8_t type, x[3];
	unsigned depth;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	cl_rd_init(&rd, p, len);
	for (depth = 0;; depth++) {
		if ((r = cl_rd_u8(&rd, &type)) != 0)
			return r;
		if (type != CL_DHCP6_RELAY_FORW && type != CL_DHCP6_RELAY_REPL)
			break;
		if (depth == DHCP6_MAX_RELAY)
			return CL_ERR_TOOBIG;
		/* hop-count, link-address, peer-address */
		if ((r = cl_rd_skip(&rd, DHCP6_RELAY_LEN - 1)) != 0 ||
		    (r = find_relay_msg(&rd, &inner)) != 0)
			return r;
		rd = inner;
	}
	if (type == 0)
		return CL_ERR_FORMAT;
	m.msgtype = type;
	if ((r = cl_rd_copy(&rd, x, 3)) != 0)
		return r;
	m.xid = (uint32_t)x[0] << 16 | (uint32_t)x[1] << 8 | x[2];
	if ((r = parse_options(&rd, &m)) != 0)
		return r;
	*out = m;
	return 0;
}

static void
add_addr(struct cl_binding *b, const struct cl_dhcp6_lease *l)
{
	if (b->naddrs < CL_BIND_MAX_ADDRS)
		b->addrs[b->naddrs++] = l->a;
}

/* ::/0 would be every IPv6 address and :: is none. */
static bool
usable(const struct cl_dhcp6_lease *l)
{
	static const uint8_t zero[16];

	return l->a.plen != 0 && memcmp(l->a.addr.a, zero, 16) != 0;
}

void
cl_dhcp6_binding(const struct cl_dhcp6 *m, struct cl_binding *b)
{
	uint32_t life = 0;
	unsigned i, nzero = 0;

	memset(b, 0, sizeof(*b));
	b->src = CL_SRC_DHCP6;
	b->op = CL_BIND_NONE;
	if (m->client_duid.len == 0)
		return;

	switch (m->msgtype) {
	case CL_DHCP6_REPLY:
		/* A failure at the top (e.g. UseMulticast) assigns nothing. */
		if (m->status != STATUS_SUCCESS)
			return;
		for (i = 0; i < m->nleases; i++) {
			if (!usable(&m->leases[i]))
				continue;
			if (m->leases[i].valid_lifetime == 0) {
				nzero++;
				continue;
			}
			add_addr(b, &m->leases[i]);
			/*
			 * The binding has one lifetime: the shortest, so that
			 * no address stays bound past its own lease.  Infinity
			 * (0xffffffff) is "no expiry".
			 */
			if (m->leases[i].valid_lifetime != UINT32_MAX &&
			    (life == 0 || m->leases[i].valid_lifetime < life))
				life = m->leases[i].valid_lifetime;
		}
		if (b->naddrs > 0) {
			/* XXX Leases withdrawn (valid 0) in the same REPLY
			 * cannot be expressed in the same event; they are
			 * left to expire. */
			b->op = CL_BIND_START;
			b->lifetime = life;
		} else if (nzero > 0) {
			b->op = CL_BIND_STOP;
			for (i = 0; i < m->nleases; i++)
				if (usable(&m->leases[i]))
					add_addr(b, &m->leases[i]);
		}
		break;
	case CL_DHCP6_RELEASE:
	case CL_DHCP6_DECLINE:
		for (i = 0; i < m->nleases; i++)
			if (usable(&m->leases[i]))
				add_addr(b, &m->leases[i]);
		/* An empty RELEASE names no lease; it ends nothing. */
		if (b->naddrs > 0)
			b->op = CL_BIND_STOP;
		break;
	default:
		break;
	}
	if (b->op == CL_BIND_NONE) {
		b->naddrs = 0;
		memset(b->addrs, 0, sizeof(b->addrs));
		return;
	}
	b->duid = m->client_duid;
}
