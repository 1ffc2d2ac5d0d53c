/* SPDX-License-Identifier: ISC */
/*
 * ETSI TS 103 221-2 X2/X3 PDU codec.  What is emitted and accepted is
 * described in docs/PROTOCOL.x2x3; the field layout is in
 * ../shared/standards/ts103221-2/X2X3-PDU-format.md.
 */
#include <string.h>

#include "x2x3.h"

/* Attribute types clearli reads or skips; 0 and above 22 are unknown. */
#define ATTR_MAX 22

#define NSEC_PER_SEC 1000000000u

/* Wire size of one TLV carrying n value octets. */
#define TLV(n) (4 + (size_t)(n))

static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static bool
is_keepalive(uint16_t type)
{
	return type == CL_X2X3_KEEPALIVE || type == CL_X2X3_KEEPALIVE_ACK;
}

/*
 * The checks on the 16 first octets, shared by the encoder and the decoder
 * so that clearli never sends what it would refuse.  Each takes only the
 * fields known so far, which lets the decoder fail as early as it can.
 */
static int
check_type(uint16_t type, const char **why)
{
	if (type < CL_X2X3_X2 || type > CL_X2X3_KEEPALIVE_ACK) {
		*why = "unknown PDU type";
		return CL_ERR_FORMAT;
	}
	return 0;
}

static int
check_plen(uint16_t type, uint32_t plen, const char **why)
{
	if (plen > CL_X2X3_MAX_PAYLOAD) {
		*why = "payload length over limit";
		return CL_ERR_TOOBIG;
	}
	if (is_keepalive(type) && plen != 0) {
		*why = "keepalive with a payload";
		return CL_ERR_FORMAT;
	}
	return 0;
}

static int
check_pf_pd(uint16_t type, uint16_t pf, uint16_t pd, const char **why)
{
	if (pf > CL_X2X3_PF_MAX) {
		*why = "unknown payload format";
		return CL_ERR_FORMAT;
	}
	if (pd > CL_X2X3_DIR_NA) {
		*why = "unknown payload direction";
		return CL_ERR_FORMAT;
	}
	if (is_keepalive(type)) {
		if (pf != CL_X2X3_PF_KEEPALIVE || pd != CL_X2X3_DIR_NONE) {
			*why = "keepalive with a payload format or direction";
			return CL_ERR_FORMAT;
		}
	} else if (pf == CL_X2X3_PF_KEEPALIVE || pd == CL_X2X3_DIR_NONE) {
		*why = "X2/X3 PDU with keepalive format or direction";
		return CL_ERR_FORMAT;
	}
	return 0;
}

static int
check_ids(
    uint16_t type, const uint8_t *xid, const uint8_t *cid, const char **why)
{
	if (is_keepalive(type) &&
	    (!all_zero(xid, CL_UUID_LEN) || !all_zero(cid, 8))) {
		*why = "keepalive with an XID or correlation ID";
		return CL_ERR_FORMAT;
	}
	return 0;
}

/* String attributes: 1 to CL_X2X3_MAX_STRATTR octets of clean UTF-8. */
static bool
str_ok(const uint8_t *p, size_t len)
{
	return len >= 1 && len <= CL_X2X3_MAX_STRATTR && p != NULL &&
	    cl_utf8_clean(p, len);
}

static size_t
addr_tlv_len(const struct cl_addr *a)
{
	switch (a->family) {
	case 4:
		return TLV(4);
	case 6:
		return TLV(16);
	default:
		return 0;
	}
}

static size_t
header_len(const struct cl_x2x3_pdu *pdu)
{
	size_t n = CL_X2X3_FIXED_LEN;

	if (pdu->has_did)
		n += TLV(CL_UUID_LEN);
	if (pdu->nfid.len > 0)
		n += TLV(pdu->nfid.len);
	if (pdu->ipid.len > 0)
		n += TLV(pdu->ipid.len);
	if (pdu->has_seqno)
		n += TLV(4);
	if (pdu->has_ts)
		n += TLV(8);
	n += addr_tlv_len(&pdu->src) + addr_tlv_len(&pdu->dst);
	if (pdu->has_sport)
		n += TLV(2);
	if (pdu->has_dport)
		n += TLV(2);
	if (pdu->has_ipproto)
		n += TLV(1);
	if (pdu->mti.len > 0)
		n += TLV(pdu->mti.len);
	return n;
}

size_t
cl_x2x3_encoded_len(const struct cl_x2x3_pdu *pdu)
{
	return header_len(pdu) + pdu->payload.len;
}

/* Everything the decoder would check, on the caller's structure. */
static int
check_pdu(const struct cl_x2x3_pdu *pdu)
{
	const char *why = NULL;

	if (check_type(pdu->type, &why) != 0 ||
	    pdu->payload.len > CL_X2X3_MAX_PAYLOAD ||
	    check_plen(pdu->type, (uint32_t)pdu->payload.len, &why) != 0 ||
	    check_pf_pd(pdu->type, pdu->pformat, pdu->pdir, &why) != 0 ||
	    check_ids(pdu->type, pdu->xid, pdu->cid, &why) != 0)
		return CL_ERR_INVALID_ARG;
	if (pdu->payload.len > 0 && pdu->payload.p == NULL)
		return CL_ERR_INVALID_ARG;
	if ((pdu->nfid.len > 0 && !str_ok(pdu->nfid.p, pdu->nfid.len)) ||
	    (pdu->ipid.len > 0 && !str_ok(pdu->ipid.p, pdu->ipid.len)) ||
	    (pdu->mti.len > 0 && !str_ok(pdu->mti.p, pdu->mti.len)))
		return CL_ERR_INVALID_ARG;
	if ((pdu->src.family != 0 && pdu->src.family != 4 &&
		pdu->src.family != 6) ||
	    (pdu->dst.family != 0 && pdu->dst.family != 4 &&
		pdu->dst.family != 6))
		return CL_ERR_INVALID_ARG;
	if (pdu->has_ts && pdu->ts_nsec >= NSEC_PER_SEC)
		return CL_ERR_INVALID_ARG;
	/* Cannot fail with the limits above; kept in case they change. */
	if (CL_NEVER(header_len(pdu) > CL_X2X3_MAX_HEADER))
		return CL_ERR_INVALID_ARG;
	return 0;
}

static uint8_t *
put_tlv(uint8_t *w, uint16_t type, const void *v, size_t n)
{
	cl_store_u16(w, type);
	cl_store_u16(w + 2, (uint16_t)n);
	memcpy(w + 4, v, n);
	return w + 4 + n;
}

static uint8_t *
put_tlv_u16(uint8_t *w, uint16_t type, uint16_t v)
{
	cl_store_u16(w, type);
	cl_store_u16(w + 2, 2);
	cl_store_u16(w + 4, v);
	return w + 6;
}

static uint8_t *
put_tlv_u32(uint8_t *w, uint16_t type, uint32_t v)
{
	cl_store_u16(w, type);
	cl_store_u16(w + 2, 4);
	cl_store_u32(w + 4, v);
	return w + 8;
}

int
cl_x2x3_encode(struct cl_buf *b, const struct cl_x2x3_pdu *pdu)
{
	size_t hlen, total;
	uint8_t *w, *start;
	int r;

	if ((r = check_pdu(pdu)) != 0)
		return r;
	hlen = header_len(pdu);
	total = hlen + pdu->payload.len;
	if ((r = cl_buf_reserve(b, total, &w)) != 0)
		return r;
	start = w;

	cl_store_u16(w, CL_X2X3_VERSION);
	cl_store_u16(w + 2, pdu->type);
	cl_store_u32(w + 4, (uint32_t)hlen);
	cl_store_u32(w + 8, (uint32_t)pdu->payload.len);
	cl_store_u16(w + 12, pdu->pformat);
	cl_store_u16(w + 14, pdu->pdir);
	memcpy(w + 16, pdu->xid, CL_UUID_LEN);
	memcpy(w + 32, pdu->cid, 8);
	w += CL_X2X3_FIXED_LEN;

	/* In increasing type order: the one canonical encoding. */
	if (pdu->has_did)
		w = put_tlv(w, CL_X2X3_ATTR_DID, pdu->did, CL_UUID_LEN);
	if (pdu->nfid.len > 0)
		w = put_tlv(w, CL_X2X3_ATTR_NFID, pdu->nfid.p, pdu->nfid.len);
	if (pdu->ipid.len > 0)
		w = put_tlv(w, CL_X2X3_ATTR_IPID, pdu->ipid.p, pdu->ipid.len);
	if (pdu->has_seqno)
		w = put_tlv_u32(w, CL_X2X3_ATTR_SEQNO, pdu->seqno);
	if (pdu->has_ts) {
		cl_store_u16(w, CL_X2X3_ATTR_TIMESTAMP);
		cl_store_u16(w + 2, 8);
		cl_store_u32(w + 4, pdu->ts_sec);
		cl_store_u32(w + 8, pdu->ts_nsec);
		w += TLV(8);
	}
	if (pdu->src.family == 4)
		w = put_tlv(w, CL_X2X3_ATTR_SRC_IPV4, pdu->src.a, 4);
	if (pdu->dst.family == 4)
		w = put_tlv(w, CL_X2X3_ATTR_DST_IPV4, pdu->dst.a, 4);
	if (pdu->src.family == 6)
		w = put_tlv(w, CL_X2X3_ATTR_SRC_IPV6, pdu->src.a, 16);
	if (pdu->dst.family == 6)
		w = put_tlv(w, CL_X2X3_ATTR_DST_IPV6, pdu->dst.a, 16);
	if (pdu->has_sport)
		w = put_tlv_u16(w, CL_X2X3_ATTR_SRC_PORT, pdu->sport);
	if (pdu->has_dport)
		w = put_tlv_u16(w, CL_X2X3_ATTR_DST_PORT, pdu->dport);
	if (pdu->has_ipproto)
		w = put_tlv(w, CL_X2X3_ATTR_IPPROTO, &pdu->ipproto, 1);
	if (pdu->mti.len > 0)
		w = put_tlv(w, CL_X2X3_ATTR_MTI, pdu->mti.p, pdu->mti.len);

	if (CL_NEVER((size_t)(w - start) != hlen)) {
		/* Give the reservation back so that b is unchanged. */
		b->len -= total;
		return CL_ERR_INTERNAL;
	}
	if (pdu->payload.len > 0)
		memcpy(w, pdu->payload.p, pdu->payload.len);
	return 0;
}

void
cl_x2x3_keepalive(struct cl_x2x3_pdu *pdu, bool ack, uint32_t seqno)
{
	memset(pdu, 0, sizeof(*pdu));
	pdu->type = ack ? CL_X2X3_KEEPALIVE_ACK : CL_X2X3_KEEPALIVE;
	pdu->pformat = CL_X2X3_PF_KEEPALIVE;
	pdu->pdir = CL_X2X3_DIR_NONE;
	pdu->has_seqno = true;
	pdu->seqno = seqno;
}

/* Value size each attribute type must have; 0 = variable. */
static const uint8_t attr_size[ATTR_MAX + 1] = {
    [CL_X2X3_ATTR_DID] = CL_UUID_LEN,
    [CL_X2X3_ATTR_SEQNO] = 4,
    [CL_X2X3_ATTR_TIMESTAMP] = 8,
    [CL_X2X3_ATTR_SRC_IPV4] = 4,
    [CL_X2X3_ATTR_DST_IPV4] = 4,
    [CL_X2X3_ATTR_SRC_IPV6] = 16,
    [CL_X2X3_ATTR_DST_IPV6] = 16,
    [CL_X2X3_ATTR_SRC_PORT] = 2,
    [CL_X2X3_ATTR_DST_PORT] = 2,
    [CL_X2X3_ATTR_IPPROTO] = 1,
};

static int
decode_addr(struct cl_addr *a, uint8_t family, const struct cl_span *v,
    const char **why)
{
	/* SRC_IPV4 and SRC_IPV6 both present would be two sources. */
	if (a->family != 0) {
		*why = "duplicated address attribute";
		return CL_ERR_FORMAT;
	}
	a->family = family;
	memcpy(a->a, v->p, v->len);
	return 0;
}

/* Decodes the TLVs that fill rd exactly into pdu. */
static int
decode_attrs(struct cl_rd *rd, struct cl_x2x3_pdu *pdu, const char **why)
{
	uint32_t seen = 0;
	uint16_t type, len;
	struct cl_span v;

	while (cl_rd_left(rd) > 0) {
		if (cl_rd_u16(rd, &type) != 0 || cl_rd_u16(rd, &len) != 0 ||
		    cl_rd_span(rd, len, &v) != 0) {
			*why = "attributes do not fill the header";
			return CL_ERR_FORMAT;
		}
		if (type == 0 || type > ATTR_MAX) {
			*why = "unknown attribute type";
			return CL_ERR_FORMAT;
		}
		if (attr_size[type] != 0 && len != attr_size[type]) {
			*why = "attribute of wrong size";
			return CL_ERR_FORMAT;
		}
		/* 5 to 17 map to single fields and may appear once. */
		if (type >= CL_X2X3_ATTR_DID && type <= CL_X2X3_ATTR_MTI) {
			if (seen & (UINT32_C(1) << type)) {
				*why = "duplicated attribute";
				return CL_ERR_FORMAT;
			}
			seen |= UINT32_C(1) << type;
		}
		switch (type) {
		case CL_X2X3_ATTR_NFID:
		case CL_X2X3_ATTR_IPID:
		case CL_X2X3_ATTR_MTI:
		case CL_X2X3_ATTR_OTI:
			if (!str_ok(v.p, v.len)) {
				*why = "string attribute empty, too long or "
				       "not clean UTF-8";
				return CL_ERR_FORMAT;
			}
			break;
		default:
			break;
		}
		switch (type) {
		case CL_X2X3_ATTR_DID:
			pdu->has_did = true;
			memcpy(pdu->did, v.p, CL_UUID_LEN);
			break;
		case CL_X2X3_ATTR_NFID:
			pdu->nfid = v;
			break;
		case CL_X2X3_ATTR_IPID:
			pdu->ipid = v;
			break;
		case CL_X2X3_ATTR_SEQNO:
			pdu->has_seqno = true;
			pdu->seqno = cl_load_u32(v.p);
			break;
		case CL_X2X3_ATTR_TIMESTAMP:
			pdu->has_ts = true;
			pdu->ts_sec = cl_load_u32(v.p);
			pdu->ts_nsec = cl_load_u32(v.p + 4);
			if (pdu->ts_nsec >= NSEC_PER_SEC) {
				*why = "timestamp nanoseconds out of range";
				return CL_ERR_FORMAT;
			}
			break;
		case CL_X2X3_ATTR_SRC_IPV4:
			if (decode_addr(&pdu->src, 4, &v, why) != 0)
				return CL_ERR_FORMAT;
			break;
		case CL_X2X3_ATTR_DST_IPV4:
			if (decode_addr(&pdu->dst, 4, &v, why) != 0)
				return CL_ERR_FORMAT;
			break;
		case CL_X2X3_ATTR_SRC_IPV6:
			if (decode_addr(&pdu->src, 6, &v, why) != 0)
				return CL_ERR_FORMAT;
			break;
		case CL_X2X3_ATTR_DST_IPV6:
			if (decode_addr(&pdu->dst, 6, &v, why) != 0)
				return CL_ERR_FORMAT;
			break;
		case CL_X2X3_ATTR_SRC_PORT:
			pdu->has_sport = true;
			pdu->sport = cl_load_u16(v.p);
			break;
		case CL_X2X3_ATTR_DST_PORT:
			pdu->has_dport = true;
			pdu->dport = cl_load_u16(v.p);
			break;
		case CL_X2X3_ATTR_IPPROTO:
			pdu->has_ipproto = true;
			pdu->ipproto = v.p[0];
			break;
		case CL_X2X3_ATTR_MTI:
			pdu->mti = v;
			break;
		default:
			/* 1-4 and 18-22: opaque to clearli. */
			pdu->other_attrs++;
			break;
		}
	}
	return 0;
}

int
cl_x2x3_frame(const uint8_t *p, size_t len, uint32_t *plen, const char **why)
{
	uint32_t hlen, pl;
	uint16_t type;

	*plen = 0;
	if (len < CL_X2X3_FIXED_LEN) {
		*why = "shorter than a header";
		return CL_ERR_FORMAT;
	}
	type = (uint16_t)(p[2] << 8 | p[3]);
	hlen = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	    (uint32_t)p[6] << 8 | p[7];
	pl = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
	    (uint32_t)p[10] << 8 | p[11];
	if ((p[0] << 8 | p[1]) != CL_X2X3_VERSION)
		*why = "unsupported version";
	else if (type != CL_X2X3_X2 && type != CL_X2X3_X3)
		*why = "not an X2 or X3 PDU";
	else if (hlen < CL_X2X3_FIXED_LEN || hlen > CL_X2X3_MAX_HEADER)
		*why = "header length out of range";
	else if (pl > CL_X2X3_MAX_PAYLOAD)
		*why = "payload length over limit";
	else if ((uint64_t)hlen + pl != len)
		*why = "lengths do not add up to the record";
	else {
		*plen = pl;
		return 0;
	}
	return CL_ERR_FORMAT;
}

int
cl_x2x3_decode(const uint8_t *p, size_t len, struct cl_x2x3_pdu *out,
    size_t *consumed, const char **why)
{
	struct cl_x2x3_pdu pdu;
	struct cl_rd rd, attrs;
	uint16_t version;
	uint32_t hlen, plen;
	const char *dummy;
	int r = CL_ERR_TRUNCATED;

	memset(out, 0, sizeof(*out));
	*consumed = 0;
	if (why == NULL)
		why = &dummy;
	*why = "truncated";
	memset(&pdu, 0, sizeof(pdu));
	cl_rd_init(&rd, p, len);

	/*
	 * Each field of the 16 first octets is checked as soon as it is in,
	 * so that a stream reader learns of an impossible PDU without
	 * waiting for bytes that may never come.
	 */
	if (cl_rd_u16(&rd, &version) != 0)
		goto out;
	if (version != CL_X2X3_VERSION) {
		*why = "unsupported version";
		r = CL_ERR_UNSUPPORTED;
		goto out;
	}
	if (cl_rd_u16(&rd, &pdu.type) != 0)
		goto out;
	if ((r = check_type(pdu.type, why)) != 0)
		goto out;
	r = CL_ERR_TRUNCATED;
	if (cl_rd_u32(&rd, &hlen) != 0)
		goto out;
	if (hlen < CL_X2X3_FIXED_LEN) {
		*why = "header length below 40";
		r = CL_ERR_FORMAT;
		goto out;
	}
	if (hlen > CL_X2X3_MAX_HEADER) {
		*why = "header length over limit";
		r = CL_ERR_TOOBIG;
		goto out;
	}
	if (cl_rd_u32(&rd, &plen) != 0)
		goto out;
	if ((r = check_plen(pdu.type, plen, why)) != 0)
		goto out;
	r = CL_ERR_TRUNCATED;
	if (cl_rd_u16(&rd, &pdu.pformat) != 0 || cl_rd_u16(&rd, &pdu.pdir) != 0)
		goto out;
	if ((r = check_pf_pd(pdu.type, pdu.pformat, pdu.pdir, why)) != 0)
		goto out;

	/* The header is checked before the payload is waited for. */
	r = CL_ERR_TRUNCATED;
	if (cl_rd_copy(&rd, pdu.xid, CL_UUID_LEN) != 0 ||
	    cl_rd_copy(&rd, pdu.cid, sizeof(pdu.cid)) != 0)
		goto out;
	if ((r = check_ids(pdu.type, pdu.xid, pdu.cid, why)) != 0)
		goto out;
	r = CL_ERR_TRUNCATED;
	if (cl_rd_sub(&rd, hlen - CL_X2X3_FIXED_LEN, &attrs) != 0)
		goto out;
	if ((r = decode_attrs(&attrs, &pdu, why)) != 0)
		goto out;
	r = CL_ERR_TRUNCATED;
	if (cl_rd_span(&rd, plen, &pdu.payload) != 0)
		goto out;

	*why = NULL;
	*out = pdu;
	*consumed = rd.off;
	r = 0;
out:
	return r;
}
