/* SPDX-License-Identifier: ISC */
/*
 * An X2/X3 PDU as a record of the PDU ring (roles.h): its fields and its
 * four strings, not yet encoded.  The output role encodes it once, with
 * the encoder that refuses what the strict decoder would.
 */
#include <string.h>

#include "err.h"
#include "roles.h"

#define F_SEQNO   0x01
#define F_TS      0x02
#define F_SPORT   0x04
#define F_DPORT   0x08
#define F_IPPROTO 0x10
#define F_DID     0x20

struct rec {
	uint16_t type, pformat, pdir;
	uint8_t flags, ipproto;
	uint8_t xid[CL_UUID_LEN], cid[8], did[CL_UUID_LEN];
	uint32_t seqno, ts_sec, ts_nsec;
	uint16_t sport, dport;
	uint8_t src_family, dst_family;
	uint8_t src[16], dst[16];
	uint32_t len[4]; /* mti, ipid, nfid, payload */
};

size_t
poi_pdurec_len(const struct cl_x2x3_pdu *pdu)
{
	return sizeof(struct rec) + pdu->mti.len + pdu->ipid.len +
	    pdu->nfid.len + pdu->payload.len;
}

void
poi_pdurec_put(const struct cl_x2x3_pdu *pdu, uint8_t *out)
{
	const struct cl_span *s[4] = {
	    &pdu->mti, &pdu->ipid, &pdu->nfid, &pdu->payload};
	struct rec r;
	size_t i, off = sizeof(r);

	memset(&r, 0, sizeof(r));
	r.type = pdu->type;
	r.pformat = pdu->pformat;
	r.pdir = pdu->pdir;
	r.flags = (pdu->has_seqno ? F_SEQNO : 0) | (pdu->has_ts ? F_TS : 0) |
	    (pdu->has_sport ? F_SPORT : 0) | (pdu->has_dport ? F_DPORT : 0) |
	    (pdu->has_ipproto ? F_IPPROTO : 0) | (pdu->has_did ? F_DID : 0);
	r.ipproto = pdu->ipproto;
	memcpy(r.xid, pdu->xid, sizeof(r.xid));
	memcpy(r.cid, pdu->cid, sizeof(r.cid));
	memcpy(r.did, pdu->did, sizeof(r.did));
	r.seqno = pdu->seqno;
	r.ts_sec = pdu->ts_sec;
	r.ts_nsec = pdu->ts_nsec;
	r.sport = pdu->sport;
	r.dport = pdu->dport;
	r.src_family = pdu->src.family;
	r.dst_family = pdu->dst.family;
	memcpy(r.src, pdu->src.a, sizeof(r.src));
	memcpy(r.dst, pdu->dst.a, sizeof(r.dst));
	for (i = 0; i < 4; i++) {
		r.len[i] = (uint32_t)s[i]->len;
		if (s[i]->len > 0)
			memcpy(out + off, s[i]->p, s[i]->len);
		off += s[i]->len;
	}
	memcpy(out, &r, sizeof(r));
}

int
poi_pdurec_get(const uint8_t *p, size_t len, struct cl_x2x3_pdu *pdu)
{
	struct cl_span *s[4] = {
	    &pdu->mti, &pdu->ipid, &pdu->nfid, &pdu->payload};
	struct rec r;
	size_t i, off = sizeof(r);

	if (len < sizeof(r))
		return CL_ERR_FORMAT;
	memcpy(&r, p, sizeof(r));
	memset(pdu, 0, sizeof(*pdu));
	for (i = 0; i < 4; i++) {
		if (r.len[i] > len - off)
			return CL_ERR_FORMAT;
		s[i]->p = r.len[i] > 0 ? p + off : NULL;
		s[i]->len = r.len[i];
		off += r.len[i];
	}
	if (off != len || (r.flags & ~0x3f) != 0)
		return CL_ERR_FORMAT;
	pdu->type = r.type;
	pdu->pformat = r.pformat;
	pdu->pdir = r.pdir;
	pdu->has_seqno = (r.flags & F_SEQNO) != 0;
	pdu->has_ts = (r.flags & F_TS) != 0;
	pdu->has_sport = (r.flags & F_SPORT) != 0;
	pdu->has_dport = (r.flags & F_DPORT) != 0;
	pdu->has_ipproto = (r.flags & F_IPPROTO) != 0;
	pdu->has_did = (r.flags & F_DID) != 0;
	pdu->ipproto = r.ipproto;
	memcpy(pdu->xid, r.xid, sizeof(r.xid));
	memcpy(pdu->cid, r.cid, sizeof(r.cid));
	memcpy(pdu->did, r.did, sizeof(r.did));
	pdu->seqno = r.seqno;
	pdu->ts_sec = r.ts_sec;
	pdu->ts_nsec = r.ts_nsec;
	pdu->sport = r.sport;
	pdu->dport = r.dport;
	pdu->src.family = r.src_family;
	pdu->dst.family = r.dst_family;
	memcpy(pdu->src.a, r.src, sizeof(r.src));
	memcpy(pdu->dst.a, r.dst, sizeof(r.dst));
	return 0;
}
