/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "ber.h"
#include "psdu.h"

#define CTX  CL_BER_CONTEXT
#define CTXC (CL_BER_CONTEXT | CL_BER_CONSTRUCTED)
#define SEQ  (CL_BER_UNIVERSAL | CL_BER_CONSTRUCTED)

/* LI-PS-PDU: li-psDomainId ::= {lawfulInterceptDomainId li-ps(5)
 * genHeader(1) version43(43)} */
const uint32_t cl_psdu_domain_oid[8] = {0, 4, 0, 2, 2, 5, 1, 43};
/* IPAccessPDU: iPAccessPDUObjId ::= {li-ps(5) iPAccess(3) version18(18)} */
const uint32_t cl_psdu_ipcc_reloid[4] = {5, 3, 18, 2};
const uint32_t cl_psdu_ipiri_reloid[4] = {5, 3, 18, 1};

static bool
printable(const char *s, size_t n)
{
	static const char extra[] = " '()+,-./:=?";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') ||
			(c != 0 && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

int
cl_psheader_init(struct cl_psheader *h, const struct cl_psh_ids *ids)
{
	struct cl_buf b;
	size_t net, com, ipid_len = 0;
	int r;

	memset(h, 0, sizeof(*h));
	h->tsq = CL_PSDU_TSQ_INTERCEPTION;
	if (ids->liid == NULL || ids->liid_len < 1 ||
	    ids->liid_len > CL_PSDU_LIID_MAX || ids->operator_id == NULL ||
	    ids->operator_id_len < 1 ||
	    ids->operator_id_len > CL_PSDU_NETID_MAX ||
	    ids->ne_id_len > CL_PSDU_NETID_MAX ||
	    (ids->ne_id_len > 0 && ids->ne_id == NULL))
		return CL_ERR_INVALID_ARG;
	if (ids->country != NULL &&
	    (strlen(ids->country) != 2 || ids->country[0] < 'A' ||
		ids->country[0] > 'Z' || ids->country[1] < 'A' ||
		ids->country[1] > 'Z'))
		return CL_ERR_INVALID_ARG;
	if (ids->ipid != NULL) {
		ipid_len = strlen(ids->ipid);
		if (ipid_len < 1 || ipid_len > CL_PSDU_IPID_MAX ||
		    !printable(ids->ipid, ipid_len))
			return CL_ERR_INVALID_ARG;
	}

	net = cl_ber_tlv_size(0, ids->operator_id_len);
	if (ids->ne_id_len > 0)
		net += cl_ber_tlv_size(1, ids->ne_id_len);
	com = cl_ber_tlv_size(0, net) +
	    cl_ber_tlv_size(1, cl_ber_uint_size(ids->cin));

	/* Sizes are bounded by the checks above, far below the max. */
	cl_buf_init(&b, CL_PSH_PRE_MAX);
	if ((r = cl_ber_put_oid(&b, CTX, 0, cl_psdu_domain_oid, 8)) != 0 ||
	    (r = cl_ber_put_octets(&b, CTX, 1, ids->liid, ids->liid_len)) != 0)
		goto out;
	if (ids->country != NULL &&
	    (r = cl_ber_put_octets(&b, CTX, 2, ids->country, 2)) != 0)
		goto out;
	if ((r = cl_ber_put_tl(&b, CTXC, 3, com)) != 0 ||
	    (r = cl_ber_put_tl(&b, CTXC, 0, net)) != 0 ||
	    (r = cl_ber_put_octets(
		 &b, CTX, 0, ids->operator_id, ids->operator_id_len)) != 0)
		goto out;
	if (ids->ne_id_len > 0 &&
	    (r = cl_ber_put_octets(&b, CTX, 1, ids->ne_id, ids->ne_id_len)) !=
		0)
		goto out;
	if ((r = cl_ber_put_uint(&b, CTX, 1, ids->cin)) != 0)
		goto out;
	if (CL_NEVER(b.len > sizeof(h->pre))) {
		r = CL_ERR_INTERNAL;
		goto out;
	}
	memcpy(h->pre, b.d, b.len);
	h->prelen = (uint16_t)b.len;

	cl_buf_reset(&b);
	if (ids->ipid != NULL &&
	    (r = cl_ber_put_octets(&b, CTX, 6, ids->ipid, ipid_len)) != 0)
		goto out;
	if (CL_NEVER(b.len > sizeof(h->post))) {
		r = CL_ERR_INTERNAL;
		goto out;
	}
	if (b.len > 0)
		memcpy(h->post, b.d, b.len);
	h->postlen = (uint8_t)b.len;
	h->ready = true;
	r = 0;
out:
	cl_buf_release(&b);
	return r;
}

/* Content length of the microSecondTimeStamp SEQUENCE. */
static size_t
msts_size(const struct cl_psheader *h)
{
	return cl_ber_tlv_size(0, cl_ber_uint_size((uint64_t)h->sec)) +
	    cl_ber_tlv_size(1, cl_ber_uint_size(h->usec));
}

/*
 * Content length of the PSHeader, or 0 if h cannot be encoded (not ready,
 * time out of range).
 */
static size_t
header_size(const struct cl_psheader *h)
{
	size_t n;

	/* GeneralizedTime has four year digits: 9999-12-31T23:59:59Z. */
	if (!h->ready || h->sec < 0 || h->sec > 253402300799LL ||
	    h->usec > 999999 || h->tsq < CL_PSDU_TSQ_NONE ||
	    h->tsq > CL_PSDU_TSQ_MEDIATION)
		return 0;
	n = h->prelen + h->postlen;
	n += cl_ber_tlv_size(4, cl_ber_uint_size(h->seq));
	n += cl_ber_tlv_size(5, cl_ber_gentime_size(h->usec));
	n += cl_ber_tlv_size(7, msts_size(h));
	if (h->tsq != CL_PSDU_TSQ_NONE)
		n += cl_ber_tlv_size(8, 1);
	return n;
}

/* Writes the PSHeader TLV (cl_ber_tlv_size(1, hlen) octets) at q. */
static uint8_t *
w_header(uint8_t *q, const struct cl_psheader *h, size_t hlen)
{
	q = cl_ber_w_tl(q, CTXC, 1, hlen);
	memcpy(q, h->pre, h->prelen);
	q += h->prelen;
	q = cl_ber_w_uint(q, CTX, 4, h->seq);
	q = cl_ber_w_gentime(q, CTX, 5, h->sec, h->usec);
	if (h->postlen > 0)
		memcpy(q, h->post, h->postlen);
	q += h->postlen;
	q = cl_ber_w_tl(q, CTXC, 7, msts_size(h));
	q = cl_ber_w_uint(q, CTX, 0, (uint64_t)h->sec);
	q = cl_ber_w_uint(q, CTX, 1, h->usec);
	if (h->tsq != CL_PSDU_TSQ_NONE)
		q = cl_ber_w_int(q, CTX, 8, h->tsq);
	return q;
}

static int
put_header(struct cl_buf *b, const struct cl_psheader *h, size_t hlen)
{
	size_t n = cl_ber_tlv_size(1, hlen);
	uint8_t *q;
	int r;

	if ((r = cl_buf_reserve(b, n, &q)) != 0)
		return r;
	if (CL_NEVER(w_header(q, h, hlen) != q + n))
		return CL_ERR_INTERNAL;
	return 0;
}

/* iPCCObjId [0] RELATIVE-OID 5.3.18.2, encoded. */
static const uint8_t ipcc_objid[] = {0x80, 0x04, 5, 3, 18, 2};

int
cl_psdu_hi3_ipcc(struct cl_buf *b, const struct cl_psheader *h,
    const uint8_t *ip, size_t len, int direction)
{
	size_t start = b->len, hlen, pk, ipcc, ccc, ccp, seq, pay, pdu, total;
	uint8_t *q, *q0;
	int r;

	if ((hlen = header_size(h)) == 0 || direction < 0 ||
	    direction > CL_PSDU_DIR_NA || (ip == NULL && len > 0))
		return CL_ERR_INVALID_ARG;
	/*
	 * Inside out: the length of every level before writing any byte,
	 * then one reservation for the whole PDU and straight writes into
	 * it.  The packet is copied once and nothing is moved.
	 */
	pk = cl_ber_tlv_size(0, len); /* iPPackets */
	ipcc = sizeof(ipcc_objid) + cl_ber_tlv_size(1, pk);
	ccc = cl_ber_tlv_size(2, ipcc); /* iPCC */
	ccp = cl_ber_tlv_size(0, 1) + cl_ber_tlv_size(2, ccc);
	seq = cl_ber_tlv_size(16, ccp); /* CCPayload */
	pay = cl_ber_tlv_size(1, seq);  /* cCPayloadSequence */
	pdu = cl_ber_tlv_size(1, hlen) + cl_ber_tlv_size(2, pay);
	total = cl_ber_tlv_size(16, pdu);
	if ((r = cl_buf_reserve(b, total, &q0)) != 0)
		return r;
	q = cl_ber_w_tl(q0, SEQ, 16, pdu);
	q = w_header(q, h, hlen);
	q = cl_ber_w_tl(q, CTXC, 2, pay);
	q = cl_ber_w_tl(q, CTXC, 1, seq);
	q = cl_ber_w_tl(q, SEQ, 16, ccp);
	q = cl_ber_w_int(q, CTX, 0, direction);
	q = cl_ber_w_tl(q, CTXC, 2, ccc);
	q = cl_ber_w_tl(q, CTXC, 2, ipcc);
	memcpy(q, ipcc_objid, sizeof(ipcc_objid));
	q += sizeof(ipcc_objid);
	q = cl_ber_w_tl(q, CTXC, 1, pk);
	q = cl_ber_w_octets(q, CTX, 0, ip, len);
	if (CL_NEVER((size_t)(q - q0) != total)) {
		b->len = start;
		return CL_ERR_INTERNAL;
	}
	return 0;
}

void
cl_psdu_ipiri_init(struct cl_psdu_ipiri *iri)
{
	memset(iri, 0, sizeof(*iri));
	iri->target.assignment = -1;
	iri->end_reason = -1;
	iri->auth_type = -1;
}

static int
put_ipaddr(struct cl_buf *b, uint32_t tag, const struct cl_psdu_ipaddr *a)
{
	size_t m1, m2, alen = a->family == 4 ? 4 : 16;
	int r;

	if ((r = cl_ber_open(b, CTXC, tag, &m1)) != 0 ||
	    (r = cl_ber_put_enum(b, CTX, 1, a->family == 4 ? 0 : 1)) != 0 ||
	    (r = cl_ber_open(b, CTXC, 2, &m2)) != 0 ||
	    (r = cl_ber_put_octets(b, CTX, 1, a->addr, alen)) != 0 ||
	    (r = cl_ber_close(b, m2)) != 0)
		return r;
	if (a->assignment >= 0 &&
	    (r = cl_ber_put_enum(b, CTX, 3, a->assignment)) != 0)
		return r;
	/* "Mandatory in case where the iP-value contains an IPv6 binary
	 * value" (LI-PS-PDU IPAddress). */
	if (a->family == 6 &&
	    (r = cl_ber_put_int(
		 b, CTX, 4, a->prefix_len == 0 ? 128 : a->prefix_len)) != 0)
		return r;
	return cl_ber_close(b, m1);
}

static bool
ipiri_valid(int iri_type, const struct cl_psdu_ipiri *iri)
{
	const struct cl_psdu_ipaddr *a = &iri->target;

	if (iri_type < CL_PSDU_IRI_BEGIN || iri_type > CL_PSDU_IRI_REPORT ||
	    iri->access_event < 0 || iri->access_event > 10 ||
	    iri->access_type < 0 || iri->access_type > 9 ||
	    iri->ip_version < 1 || iri->ip_version > 3 ||
	    (iri->username == NULL && iri->username_len > 0) ||
	    (iri->raw_aaa == NULL && iri->raw_aaa_len > 0) ||
	    iri->end_reason < -1 || iri->end_reason > 4 ||
	    iri->auth_type < -1 || iri->auth_type > 4)
		return false;
	if (a->family != 0 && a->family != 4 && a->family != 6)
		return false;
	if (a->family != 0 &&
	    (a->assignment < -1 || a->assignment == 0 || a->assignment > 3 ||
		a->prefix_len > 128))
		return false;
	return true;
}

int
cl_psdu_hi2_ipiri(struct cl_buf *b, const struct cl_psheader *h, int iri_type,
    const struct cl_psdu_ipiri *iri)
{
	size_t start = b->len, hlen, m[7];
	int r, i;

	if ((hlen = header_size(h)) == 0 || !ipiri_valid(iri_type, iri))
		return CL_ERR_INVALID_ARG;
	/* IRI is rare next to CC: reserve and patch keeps this readable. */
	if ((r = cl_ber_open(b, SEQ, 16, &m[0])) != 0 ||
	    (r = put_header(b, h, hlen)) != 0 ||
	    (r = cl_ber_open(b, CTXC, 2, &m[1])) != 0 || /* payload */
	    (r = cl_ber_open(b, CTXC, 0, &m[2])) != 0 || /* iRIPayloadSeq. */
	    (r = cl_ber_open(b, SEQ, 16, &m[3])) != 0 || /* IRIPayload */
	    (r = cl_ber_put_enum(b, CTX, 0, iri_type)) != 0 ||
	    (r = cl_ber_open(b, CTXC, 2, &m[4])) != 0 || /* iRIContents */
	    (r = cl_ber_open(b, CTXC, 2, &m[5])) != 0 || /* iPIRI */
	    (r = cl_ber_put_reloid(b, CTX, 0, cl_psdu_ipiri_reloid, 4)) != 0 ||
	    (r = cl_ber_open(b, CTXC, 1, &m[6])) != 0 || /* iPIRIContents */
	    (r = cl_ber_put_enum(b, CTX, 0, iri->access_event)) != 0 ||
	    (r = cl_ber_put_octets(
		 b, CTX, 1, iri->username, iri->username_len)) != 0 ||
	    (r = cl_ber_put_enum(b, CTX, 2, iri->access_type)) != 0 ||
	    (r = cl_ber_put_enum(b, CTX, 3, iri->ip_version)) != 0)
		goto fail;
	if (iri->target.family != 0 &&
	    (r = put_ipaddr(b, 4, &iri->target)) != 0)
		goto fail;
	if (iri->has_start &&
	    (r = cl_ber_put_gentime(
		 b, CTX, 10, iri->start_sec, iri->start_usec)) != 0)
		goto fail;
	if (iri->has_end &&
	    (r = cl_ber_put_gentime(b, CTX, 11, iri->end_sec, iri->end_usec)) !=
		0)
		goto fail;
	if (iri->end_reason >= 0 &&
	    (r = cl_ber_put_enum(b, CTX, 12, iri->end_reason)) != 0)
		goto fail;
	if (iri->has_octets &&
	    ((r = cl_ber_put_uint(b, CTX, 13, iri->octets_rx)) != 0 ||
		(r = cl_ber_put_uint(b, CTX, 14, iri->octets_tx)) != 0))
		goto fail;
	if (iri->raw_aaa_len > 0 &&
	    (r = cl_ber_put_octets(
		 b, CTX, 15, iri->raw_aaa, iri->raw_aaa_len)) != 0)
		goto fail;
	if (iri->auth_type >= 0 &&
	    (r = cl_ber_put_enum(b, CTX, 22, iri->auth_type)) != 0)
		goto fail;
	for (i = 6; i >= 0; i--)
		if ((r = cl_ber_close(b, m[i])) != 0)
			goto fail;
	return 0;
fail:
	/* cl_ber_put_gentime() reports a bad time as CL_ERR_RANGE. */
	if (r == CL_ERR_RANGE)
		r = CL_ERR_INVALID_ARG;
	b->len = start;
	return r;
}

int
cl_psdu_tri(struct cl_buf *b, const struct cl_psheader *h, int which)
{
	size_t start = b->len, hlen, tri, pay, pdu;
	int r;

	if ((hlen = header_size(h)) == 0)
		return CL_ERR_INVALID_ARG;
	switch (which) {
	case CL_PSDU_TRI_TEST:
	case CL_PSDU_TRI_KEEPALIVE:
	case CL_PSDU_TRI_KEEPALIVE_RESP:
	case 5: /* firstSegmentFlag */
	case 6: /* lastSegmentFlag */
	case CL_PSDU_TRI_CIN_RESET:
	case CL_PSDU_TRI_OPTION_DONE:
	case CL_PSDU_TRI_ACK_REQUEST:
	case CL_PSDU_TRI_ACK_RESPONSE:
		break;
	default:
		return CL_ERR_INVALID_ARG;
	}
	tri = cl_ber_tlv_size((uint32_t)which, 0);
	pay = cl_ber_tlv_size(2, tri); /* tRIPayload, a tagged CHOICE */
	pdu = cl_ber_tlv_size(1, hlen) + cl_ber_tlv_size(2, pay);
	if ((r = cl_ber_put_tl(b, SEQ, 16, pdu)) != 0 ||
	    (r = put_header(b, h, hlen)) != 0 ||
	    (r = cl_ber_put_tl(b, CTXC, 2, pay)) != 0 ||
	    (r = cl_ber_put_tl(b, CTXC, 2, tri)) != 0 ||
	    (r = cl_ber_put_null(b, CTX, (uint32_t)which)) != 0) {
		b->len = start;
		return r;
	}
	return 0;
}

/* Opens PS-PDU { pSHeader, payload [2] { tRIPayload [2] { ... } } } up to
 * the TRIPayload alternative's content; m[0..3) get the marks to close. */
static int
open_tri(struct cl_buf *b, const struct cl_psheader *h, size_t hlen,
    uint32_t alt, size_t m[4])
{
	int r;

	if ((r = cl_ber_open(b, SEQ, 16, &m[0])) != 0 ||
	    (r = put_header(b, h, hlen)) != 0 ||
	    (r = cl_ber_open(b, CTXC, 2, &m[1])) != 0 ||
	    (r = cl_ber_open(b, CTXC, 2, &m[2])) != 0 ||
	    (r = cl_ber_open(b, CTXC, alt, &m[3])) != 0)
		return r;
	return 0;
}

static int
close_marks(struct cl_buf *b, const size_t *m, int n)
{
	int i, r;

	for (i = n - 1; i >= 0; i--)
		if ((r = cl_ber_close(b, m[i])) != 0)
			return r;
	return 0;
}

int
cl_psdu_integrity(struct cl_buf *b, const struct cl_psheader *h,
    const struct cl_psdu_icheck *ic)
{
	size_t start = b->len, hlen, m[5], i;
	int r;

	if ((hlen = header_size(h)) == 0 || ic->seqs == NULL ||
	    ic->nseqs == 0 || ic->nseqs > CL_PSDU_IC_MAX ||
	    ic->check_type < CL_PSDU_CHECK_HASH ||
	    ic->check_type > CL_PSDU_CHECK_SIGNATURE || ic->data_type < 1 ||
	    ic->data_type > 3 || ic->value == NULL || ic->value_len == 0 ||
	    (ic->hash_alg != -1 && (ic->hash_alg < 1 || ic->hash_alg > 4)) ||
	    (ic->sig_alg != -1 && (ic->sig_alg < 1 || ic->sig_alg > 3)))
		return CL_ERR_INVALID_ARG;
	if ((r = open_tri(b, h, hlen, 0, m)) != 0 ||
	    (r = cl_ber_open(b, CTXC, 0, &m[4])) != 0)
		goto fail;
	for (i = 0; i < ic->nseqs; i++)
		if ((r = cl_ber_put_uint(b, CL_BER_UNIVERSAL,
			 CL_BER_TAG_INTEGER, ic->seqs[i])) != 0)
			goto fail;
	if ((r = cl_ber_close(b, m[4])) != 0 ||
	    (r = cl_ber_put_enum(b, CTX, 1, ic->check_type)) != 0 ||
	    (r = cl_ber_put_enum(b, CTX, 2, ic->data_type)) != 0 ||
	    (r = cl_ber_put_octets(b, CTX, 3, ic->value, ic->value_len)) != 0)
		goto fail;
	if (ic->hash_alg != -1 &&
	    (r = cl_ber_put_enum(b, CTX, 4, ic->hash_alg)) != 0)
		goto fail;
	if (ic->sig_alg != -1 &&
	    (r = cl_ber_put_enum(b, CTX, 5, ic->sig_alg)) != 0)
		goto fail;
	if ((r = close_marks(b, m, 4)) != 0)
		goto fail;
	return 0;
fail:
	b->len = start;
	return r;
}

/* Option ::= CHOICE { pDUAcknowledgement [0] NULL } inside [tag]
 * SEQUENCE OF Option. */
static int
put_options(struct cl_buf *b, uint32_t tag, bool ack)
{
	size_t m;
	int r;

	if ((r = cl_ber_open(b, CTXC, tag, &m)) != 0)
		return r;
	if (ack && (r = cl_ber_put_null(b, CTX, 0)) != 0)
		return r;
	return cl_ber_close(b, m);
}

int
cl_psdu_option_request(struct cl_buf *b, const struct cl_psheader *h, bool ack)
{
	size_t start = b->len, hlen, m[4];
	int r;

	if ((hlen = header_size(h)) == 0)
		return CL_ERR_INVALID_ARG;
	if ((r = open_tri(b, h, hlen, 9, m)) != 0 ||
	    (r = put_options(b, 0, ack)) != 0 ||
	    (r = close_marks(b, m, 4)) != 0) {
		b->len = start;
		return r;
	}
	return 0;
}

int
cl_psdu_option_response(
    struct cl_buf *b, const struct cl_psheader *h, bool requested, bool accept)
{
	size_t start = b->len, hlen, m[4];
	int r;

	if ((hlen = header_size(h)) == 0)
		return CL_ERR_INVALID_ARG;
	if ((r = open_tri(b, h, hlen, 10, m)) != 0 ||
	    (r = put_options(b, 0, requested && accept)) != 0 ||
	    (r = put_options(b, 1, requested && !accept)) != 0 ||
	    (r = close_marks(b, m, 4)) != 0) {
		b->len = start;
		return r;
	}
	return 0;
}
