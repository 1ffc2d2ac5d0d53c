/* SPDX-License-Identifier: ISC */
/*
 * TS 102 232-1 PS-PDU decoder; see psdu_dec.h for what is accepted.
 *
 * Every SEQUENCE of LI-PS-PDU and IPAccessPDU that we read has only
 * context-tagged components with increasing tag numbers, so one iterator
 * (struct seq) enforces order, uniqueness and "nothing but whole elements"
 * for all of them; each decoder then checks which components are required
 * and decodes the ones it interprets.  Errors inside the outer PDU are
 * never CL_ERR_TRUNCATED: once the outer TLV is complete, a short inner
 * element is malformed, not "read more".
 */
#include <string.h>

#include "ber.h"
#include "psdu.h"
#include "psdu_dec.h"

#define CTX CL_BER_CONTEXT

struct dec {
	const char *why;
};

static int
fail(struct dec *d, int r, const char *why)
{
	d->why = why;
	return r == CL_ERR_TRUNCATED || r == 0 ? CL_ERR_FORMAT : r;
}

/* Components of a SEQUENCE, in order. */
struct seq {
	struct cl_rd rd;
	int64_t last;
};

static void
seq_init(struct seq *s, struct cl_span v)
{
	cl_rd_init(&s->rd, v.p, v.len);
	s->last = -1;
}

/* 1 and *t for the next component, 0 at the end, < 0 on error. */
static int
seq_next(struct dec *d, struct seq *s, struct cl_ber_tlv *t,
    const char *bad_tlv, const char *bad_class, const char *bad_order)
{
	int r;

	if (cl_rd_left(&s->rd) == 0)
		return 0;
	if ((r = cl_ber_get_tlv(&s->rd, 0, t)) != 0)
		return fail(d, r, bad_tlv);
	if (t->cls != CTX)
		return fail(d, CL_ERR_FORMAT, bad_class);
	if ((int64_t)t->tag <= s->last)
		return fail(d, CL_ERR_FORMAT, bad_order);
	s->last = t->tag;
	return 1;
}

#define SEQ_NEXT(d, s, t, name)                                                \
	seq_next(d, s, t, name ": malformed element",                          \
	    name ": element not context-tagged",                               \
	    name ": elements out of order or repeated")

/* The single TLV that fills v (the content of a tagged CHOICE). */
static int
only_one(struct dec *d, struct cl_span v, struct cl_ber_tlv *t,
    const char *bad_tlv, const char *bad_more)
{
	struct cl_rd rd;
	int r;

	cl_rd_init(&rd, v.p, v.len);
	if ((r = cl_ber_get_tlv(&rd, 0, t)) != 0)
		return fail(d, r, bad_tlv);
	if (cl_rd_end(&rd) != 0)
		return fail(d, CL_ERR_TRAILING, bad_more);
	if (t->cls != CTX)
		return fail(d, CL_ERR_FORMAT, bad_tlv);
	return 0;
}

/* A component we do not interpret: its BER must still be well-formed. */
static int
skip(struct dec *d, const struct cl_ber_tlv *t, const char *why)
{
	int r;

	if (t->cons &&
	    (r = cl_ber_walk(
		 t->v.p, t->v.len, 0, CL_BER_DEPTH_MAX, NULL, NULL)) != 0)
		return fail(d, r, why);
	return 0;
}

static int
prim(struct dec *d, const struct cl_ber_tlv *t, const char *why)
{
	return t->cons ? fail(d, CL_ERR_FORMAT, why) : 0;
}

static int
cons(struct dec *d, const struct cl_ber_tlv *t, const char *why)
{
	return t->cons ? 0 : fail(d, CL_ERR_FORMAT, why);
}

static int
get_u32(struct dec *d, struct cl_span v, uint32_t *out, const char *why)
{
	uint64_t u;
	int r;

	if ((r = cl_ber_get_uint64(v, &u)) != 0)
		return fail(d, r, why);
	if (u > UINT32_MAX)
		return fail(d, CL_ERR_RANGE, why);
	*out = (uint32_t)u;
	return 0;
}

static int
get_u64(struct dec *d, struct cl_span v, uint64_t *out, const char *why)
{
	int r;

	if ((r = cl_ber_get_uint64(v, out)) != 0)
		return fail(d, r, why);
	return 0;
}

/* An ENUMERATED or INTEGER in lo..hi (extensible enumerations: 0 to
 * INT32_MAX). */
static int
get_int(struct dec *d, struct cl_span v, int64_t lo, int64_t hi, int *out,
    const char *why)
{
	int64_t i;
	int r;

	if ((r = cl_ber_get_int64(v, &i)) != 0)
		return fail(d, r, why);
	if (i < lo || i > hi)
		return fail(d, CL_ERR_RANGE, why);
	*out = (int)i;
	return 0;
}

#define EXT_MAX INT32_MAX

static int
get_time(struct dec *d, struct cl_span v, int64_t *sec, uint32_t *usec,
    const char *why)
{
	int r;

	if ((r = cl_ber_get_gentime(v, sec, usec)) != 0)
		return fail(d, r, why);
	return 0;
}

static bool
printable(struct cl_span v)
{
	static const char extra[] = " '()+,-./:=?";
	size_t i;

	for (i = 0; i < v.len; i++) {
		unsigned char c = v.p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') ||
			(c != 0 && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

/* RELATIVE-OID 5.3.<version>.<leaf> of TS 102 232-3. */
static int
ipaccess_objid(struct dec *d, struct cl_span v, uint32_t leaf, uint32_t *ver,
    const char *why)
{
	uint32_t arcs[CL_BER_OID_MAX_ARCS];
	size_t n;
	int r;

	if ((r = cl_ber_get_reloid(v, arcs, CL_BER_OID_MAX_ARCS, &n)) != 0)
		return fail(d, r, why);
	if (n != 4 || arcs[0] != 5 || arcs[1] != 3 || arcs[3] != leaf)
		return fail(d, CL_ERR_FORMAT, why);
	*ver = arcs[2];
	return 0;
}

/* ---- PSHeader ---- */

static int
dec_domain(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	static const uint32_t pfx[7] = {0, 4, 0, 2, 2, 5, 1};
	uint32_t arcs[CL_BER_OID_MAX_ARCS];
	size_t n;
	int r;

	if ((r = cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n)) != 0)
		return fail(d, r, "li-psDomainId: bad OBJECT IDENTIFIER");
	if (n < 8 || n > 9 || memcmp(arcs, pfx, sizeof(pfx)) != 0 ||
	    arcs[7] < 1 || (n == 9 && arcs[8] != 0))
		return fail(d, CL_ERR_FORMAT,
		    "li-psDomainId: not 0.4.0.2.2.5.1.<version>");
	o->version = arcs[7];
	o->oid_extra_arc = n == 9;
	return 0;
}

static int
dec_netid(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_ber_tlv t;
	struct seq s;
	bool op = false;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "networkIdentifier")) > 0) {
		switch (t.tag) {
		case 0:
			if (t.cons || t.v.len < 1 ||
			    t.v.len > CL_PSDU_NETID_MAX)
				return fail(d, CL_ERR_FORMAT,
				    "operatorIdentifier: not 1..16 octets");
			o->operator_id = t.v;
			op = true;
			break;
		case 1:
			if (t.cons || t.v.len < 1 ||
			    t.v.len > CL_PSDU_NETID_MAX)
				return fail(d, CL_ERR_FORMAT,
				    "networkElementIdentifier: not 1..16 "
				    "octets");
			o->ne_id = t.v;
			break;
		default:
			if ((r = skip(d, &t,
				 "networkIdentifier: bad "
				 "extension")) != 0)
				return r;
			o->hdr_skipped++;
		}
	}
	if (r < 0)
		return r;
	if (!op)
		return fail(d, CL_ERR_FORMAT,
		    "networkIdentifier: operatorIdentifier missing");
	return 0;
}

static int
dec_commid(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_ber_tlv t;
	struct seq s;
	bool net = false;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "communicationIdentifier")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = cons(d, &t,
				 "networkIdentifier: not constructed")) != 0 ||
			    (r = dec_netid(d, t.v, o)) != 0)
				return r;
			net = true;
			break;
		case 1:
			if ((r = prim(d, &t,
				 "communicationIdentityNumber: "
				 "constructed")) != 0 ||
			    (r = get_u32(d, t.v, &o->cin,
				 "communicationIdentityNumber: not in "
				 "0..4294967295")) != 0)
				return r;
			o->has_cin = true;
			break;
		case 2:
			if (t.cons || t.v.len != 2 || !printable(t.v))
				return fail(d, CL_ERR_FORMAT,
				    "deliveryCountryCode: not 2 printable "
				    "characters");
			break;
		default:
			if ((r = skip(d, &t,
				 "communicationIdentifier: bad "
				 "extension")) != 0)
				return r;
			o->hdr_skipped++;
		}
	}
	if (r < 0)
		return r;
	if (!net)
		return fail(d, CL_ERR_FORMAT,
		    "communicationIdentifier: networkIdentifier missing");
	return 0;
}

static int
dec_msts(struct dec *d, struct cl_span v, uint64_t *sec, uint32_t *usec)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r, us;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "microSecondTimeStamp")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t,
				 "microSecondTimeStamp.seconds: "
				 "constructed")) != 0 ||
			    (r = get_u64(d, t.v, sec,
				 "microSecondTimeStamp.seconds: not in "
				 "0..18446744073709551615")) != 0)
				return r;
			break;
		case 1:
			if ((r = prim(d, &t,
				 "microSecondTimeStamp."
				 "microSeconds: constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, 999999, &us,
				 "microSecondTimeStamp.microSeconds: not in "
				 "0..999999")) != 0)
				return r;
			*usec = (uint32_t)us;
			break;
		default:
			if ((r = skip(d, &t,
				 "microSecondTimeStamp: bad "
				 "extension")) != 0)
				return r;
		}
		if (t.tag < 2)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if (seen != 3)
		return fail(d, CL_ERR_FORMAT,
		    "microSecondTimeStamp: seconds or microSeconds missing");
	return 0;
}

static int
dec_header(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "pSHeader")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t, "li-psDomainId: constructed")) !=
				0 ||
			    (r = dec_domain(d, t.v, o)) != 0)
				return r;
			break;
		case 1:
			if (t.cons || t.v.len < 1 || t.v.len > CL_PSDU_LIID_MAX)
				return fail(d, CL_ERR_FORMAT,
				    "lawfulInterceptionIdentifier: not 1..25 "
				    "octets");
			o->liid = t.v;
			break;
		case 2:
			if (t.cons || t.v.len != 2 || !printable(t.v))
				return fail(d, CL_ERR_FORMAT,
				    "authorizationCountryCode: not 2 "
				    "printable characters");
			o->country = t.v;
			break;
		case 3:
			if ((r = cons(d, &t,
				 "communicationIdentifier: not "
				 "constructed")) != 0 ||
			    (r = dec_commid(d, t.v, o)) != 0)
				return r;
			break;
		case 4:
			if ((r = prim(d, &t, "sequenceNumber: constructed")) !=
				0 ||
			    (r = get_u32(d, t.v, &o->seq,
				 "sequenceNumber: not in 0..4294967295")) != 0)
				return r;
			break;
		case 5:
			if ((r = prim(d, &t, "timeStamp: constructed")) != 0 ||
			    (r = get_time(d, t.v, &o->ts_sec, &o->ts_usec,
				 "timeStamp: not a UTC GeneralizedTime")) != 0)
				return r;
			o->has_ts = true;
			break;
		case 6:
			if (t.cons || t.v.len < 1 ||
			    t.v.len > CL_PSDU_IPID_MAX || !printable(t.v))
				return fail(d, CL_ERR_FORMAT,
				    "interceptionPointID: not 1..8 printable "
				    "characters");
			o->ipid = t.v;
			break;
		case 7:
			if ((r = cons(d, &t,
				 "microSecondTimeStamp: not "
				 "constructed")) != 0 ||
			    (r = dec_msts(
				 d, t.v, &o->msts_sec, &o->msts_usec)) != 0)
				return r;
			o->has_msts = true;
			break;
		case 8:
			if ((r = prim(d, &t,
				 "timeStampQualifier: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &o->tsq,
				 "timeStampQualifier: out of range")) != 0)
				return r;
			break;
		default:
			/* extendedInterceptionPointID [9],
			 * networkFunctionIdentifier [10], later additions */
			if ((r = skip(d, &t, "pSHeader: bad extension")) != 0)
				return r;
			o->hdr_skipped++;
		}
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 0x1b) != 0x1b)
		return fail(d, CL_ERR_FORMAT,
		    "pSHeader: li-psDomainId, lawfulInterceptionIdentifier, "
		    "communicationIdentifier or sequenceNumber missing");
	return 0;
}

/* ---- IRI ---- */

static int
dec_ipvalue(struct dec *d, struct cl_span v, struct cl_psdu_ipaddr_dec *a)
{
	struct cl_ber_tlv t;
	size_t i;
	int r;

	if ((r = only_one(d, v, &t, "iP-value: malformed",
		 "iP-value: more than one alternative")) != 0)
		return r;
	if (t.cons)
		return fail(d, CL_ERR_FORMAT, "iP-value: constructed");
	if (t.tag == 1) {
		if (t.v.len < 4 || t.v.len > 16)
			return fail(d, CL_ERR_FORMAT,
			    "iPBinaryAddress: not 4..16 octets");
	} else if (t.tag == 2) {
		if (t.v.len < 7 || t.v.len > 45)
			return fail(d, CL_ERR_FORMAT,
			    "iPTextAddress: not 7..45 characters");
		for (i = 0; i < t.v.len; i++)
			if (t.v.p[i] >= 0x80)
				return fail(d, CL_ERR_FORMAT,
				    "iPTextAddress: not IA5String");
		a->text = true;
	} else
		return fail(
		    d, CL_ERR_UNSUPPORTED, "iP-value: unknown alternative");
	a->value = t.v;
	return 0;
}

static int
dec_ipaddr(struct dec *d, struct cl_span v, struct cl_psdu_ipaddr_dec *a)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "IPAddress")) > 0) {
		switch (t.tag) {
		case 1:
			if ((r = prim(d, &t, "iP-type: constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &a->type,
				 "iP-type: out of range")) != 0)
				return r;
			break;
		case 2:
			if ((r = cons(d, &t, "iP-value: not constructed")) !=
				0 ||
			    (r = dec_ipvalue(d, t.v, a)) != 0)
				return r;
			break;
		case 3:
			if ((r = prim(d, &t, "iP-assignment: constructed")) !=
				0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &a->assignment,
				 "iP-assignment: out of range")) != 0)
				return r;
			break;
		case 4:
			if ((r = prim(d, &t,
				 "iPv6PrefixLength: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 1, 128, &a->prefix_len,
				 "iPv6PrefixLength: not in 1..128")) != 0)
				return r;
			break;
		default:
			if ((r = skip(d, &t, "IPAddress: bad element")) != 0)
				return r;
		}
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 6) != 6)
		return fail(
		    d, CL_ERR_FORMAT, "IPAddress: iP-type or iP-value missing");
	if (!a->text &&
	    ((a->type == 0 && a->value.len != 4) ||
		(a->type == 1 && a->value.len != 16)))
		return fail(d, CL_ERR_FORMAT,
		    "IPAddress: iPBinaryAddress length does not match "
		    "iP-type");
	a->present = true;
	return 0;
}

static int
dec_ipiri_contents(struct dec *d, struct cl_span v, struct cl_psdu_iri_dec *i)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r = 0;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "iPIRIContents")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t, "accessEventType: constructed")) !=
				0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &i->access_event,
				 "accessEventType: out of range")) != 0)
				return r;
			break;
		case 1:
			if ((r = prim(d, &t, "targetUsername: constructed")) !=
			    0)
				return r;
			i->user = t.v;
			break;
		case 2:
			if ((r = prim(d, &t,
				 "internetAccessType: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &i->access_type,
				 "internetAccessType: out of range")) != 0)
				return r;
			break;
		case 3:
			if ((r = prim(d, &t, "iPVersion: constructed")) != 0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &i->ip_version,
				 "iPVersion: out of range")) != 0)
				return r;
			break;
		case 4:
			if ((r = cons(d, &t,
				 "targetIPAddress: not "
				 "constructed")) != 0 ||
			    (r = dec_ipaddr(d, t.v, &i->target)) != 0)
				return r;
			break;
		case 10:
			if ((r = prim(d, &t, "startTime: constructed")) != 0 ||
			    (r = get_time(d, t.v, &i->start_sec, &i->start_usec,
				 "startTime: not a UTC GeneralizedTime")) != 0)
				return r;
			i->has_start = true;
			break;
		case 11:
			if ((r = prim(d, &t, "endTime: constructed")) != 0 ||
			    (r = get_time(d, t.v, &i->end_sec, &i->end_usec,
				 "endTime: not a UTC GeneralizedTime")) != 0)
				return r;
			i->has_end = true;
			break;
		case 12:
			if ((r = prim(d, &t, "endReason: constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &i->end_reason,
				 "endReason: out of range")) != 0)
				return r;
			break;
		case 13:
			if ((r = prim(d, &t, "octetsReceived: constructed")) !=
				0 ||
			    (r = get_u64(d, t.v, &i->octets_rx,
				 "octetsReceived: out of range")) != 0)
				return r;
			i->has_octets_rx = true;
			break;
		case 14:
			if ((r = prim(d, &t,
				 "octetsTransmitted: "
				 "constructed")) != 0 ||
			    (r = get_u64(d, t.v, &i->octets_tx,
				 "octetsTransmitted: out of range")) != 0)
				return r;
			i->has_octets_tx = true;
			break;
		case 15:
			if ((r = prim(d, &t, "rawAAAData: constructed")) != 0)
				return r;
			i->aaa = t.v;
			i->has_aaa = true;
			break;
		case 22:
			if ((r = prim(d, &t,
				 "authenticationType: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &i->auth_type,
				 "authenticationType: out of range")) != 0)
				return r;
			break;
		default:
			if ((r = skip(d, &t, "iPIRIContents: bad element")) !=
			    0)
				return r;
			i->skipped++;
		}
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 0xf) != 0xf)
		return fail(d, CL_ERR_FORMAT,
		    "iPIRIContents: accessEventType, targetUsername, "
		    "internetAccessType or iPVersion missing");
	return 0;
}

static int
dec_ipiri(struct dec *d, struct cl_span v, struct cl_psdu_iri_dec *i)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "iPIRI")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t, "iPIRIObjId: constructed")) != 0 ||
			    (r = ipaccess_objid(d, t.v, 1, &i->objid_version,
				 "iPIRIObjId: not 5.3.<version>.1")) != 0)
				return r;
			break;
		case 1:
			if ((r = cons(d, &t,
				 "iPIRIContents: not "
				 "constructed")) != 0 ||
			    (r = dec_ipiri_contents(d, t.v, i)) != 0)
				return r;
			break;
		default:
			if ((r = skip(d, &t, "iPIRI: bad extension")) != 0)
				return r;
		}
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 3) != 3)
		return fail(d, CL_ERR_FORMAT,
		    "iPIRI: iPIRIObjId or iPIRIContents missing");
	i->sub = CL_PSDU_SUB_IPIRI;
	return 0;
}

static int
dec_iripayload(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_psdu_iri_dec *i = &o->iri;
	struct cl_ber_tlv t, c;
	struct seq s;
	bool contents = false;
	int r;

	memset(i, 0, sizeof(*i));
	i->type = -1;
	i->end_reason = -1;
	i->auth_type = -1;
	i->target.assignment = -1;
	i->target.prefix_len = -1;
	i->target.type = -1;
	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "IRIPayload")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t, "iRIType: constructed")) != 0 ||
			    (r = get_int(d, t.v, CL_PSDU_IRI_BEGIN,
				 CL_PSDU_IRI_REPORT, &i->type,
				 "iRIType: not in 1..4")) != 0)
				return r;
			break;
		case 2:
			if ((r = cons(d, &t,
				 "iRIContents: not "
				 "constructed")) != 0 ||
			    (r = only_one(d, t.v, &c, "iRIContents: malformed",
				 "iRIContents: more than one alternative")) !=
				0)
				return r;
			if (c.tag == 2) {
				if ((r = cons(d, &c,
					 "iPIRI: not "
					 "constructed")) != 0 ||
				    (r = dec_ipiri(d, c.v, i)) != 0)
					return r;
			} else {
				if ((r = skip(d, &c,
					 "iRIContents: bad "
					 "alternative")) != 0)
					return r;
				i->sub = CL_PSDU_SUB_OTHER;
				o->tag = c.tag;
				o->other = c.v;
			}
			contents = true;
			break;
		default:
			if ((r = skip(d, &t, "IRIPayload: bad element")) != 0)
				return r;
		}
	}
	if (r < 0)
		return r;
	if (!contents)
		return fail(
		    d, CL_ERR_FORMAT, "IRIPayload: iRIContents missing");
	return 0;
}

/* ---- CC ---- */

static int
dec_ipcc(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_psdu_cc_dec *c = &o->cc;
	struct cl_ber_tlv t, a;
	struct seq s;
	unsigned seen = 0;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "iPCC")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t, "iPCCObjId: constructed")) != 0 ||
			    (r = ipaccess_objid(d, t.v, 2, &c->objid_version,
				 "iPCCObjId: not 5.3.<version>.2")) != 0)
				return r;
			break;
		case 1:
			if ((r = cons(d, &t,
				 "iPCCContents: not "
				 "constructed")) != 0 ||
			    (r = only_one(d, t.v, &a, "iPCCContents: malformed",
				 "iPCCContents: more than one "
				 "alternative")) != 0)
				return r;
			if (a.tag == 0) {
				if ((r = prim(d, &a,
					 "iPPackets: "
					 "constructed")) != 0)
					return r;
				c->ip = a.v;
				c->sub = CL_PSDU_SUB_IPCC;
			} else {
				/* iPTruncatedPacket and later additions */
				if ((r = skip(d, &a,
					 "iPCCContents: bad "
					 "alternative")) != 0)
					return r;
				c->sub = CL_PSDU_SUB_OTHER;
				o->tag = 2;
				o->other = a.v;
			}
			break;
		default:
			if ((r = skip(d, &t, "iPCC: bad extension")) != 0)
				return r;
		}
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 3) != 3)
		return fail(d, CL_ERR_FORMAT,
		    "iPCC: iPCCObjId or iPCCContents missing");
	return 0;
}

static int
dec_ccpayload(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_psdu_cc_dec *c = &o->cc;
	struct cl_ber_tlv t, a;
	struct seq s;
	bool contents = false;
	int r;

	memset(c, 0, sizeof(*c));
	c->dir = -1;
	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "CCPayload")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = prim(d, &t,
				 "payloadDirection: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 0, EXT_MAX, &c->dir,
				 "payloadDirection: out of range")) != 0)
				return r;
			break;
		case 2:
			if ((r = cons(d, &t, "cCContents: not constructed")) !=
				0 ||
			    (r = only_one(d, t.v, &a, "cCContents: malformed",
				 "cCContents: more than one alternative")) != 0)
				return r;
			if (a.tag == 2) {
				if ((r = cons(d, &a,
					 "iPCC: not "
					 "constructed")) != 0 ||
				    (r = dec_ipcc(d, a.v, o)) != 0)
					return r;
			} else {
				if ((r = skip(d, &a,
					 "cCContents: bad "
					 "alternative")) != 0)
					return r;
				c->sub = CL_PSDU_SUB_OTHER;
				o->tag = a.tag;
				o->other = a.v;
			}
			contents = true;
			break;
		default:
			if ((r = skip(d, &t, "CCPayload: bad element")) != 0)
				return r;
		}
	}
	if (r < 0)
		return r;
	if (!contents)
		return fail(d, CL_ERR_FORMAT, "CCPayload: cCContents missing");
	return 0;
}

/*
 * The elements of an iRIPayloadSequence or cCPayloadSequence: each is
 * decoded and checked, o keeps the first.
 */
static int
dec_seqof(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_psdu_info tmp;
	struct cl_ber_tlv t;
	struct cl_rd rd;
	size_t n = 0;
	int r;

	cl_rd_init(&rd, v.p, v.len);
	while (cl_rd_left(&rd) > 0) {
		struct cl_psdu_info *x = n == 0 ? o : &tmp;

		if ((r = cl_ber_get_tlv(&rd, 0, &t)) != 0)
			return fail(
			    d, r, "payload sequence: malformed element");
		if (t.cls != CL_BER_UNIVERSAL || !t.cons ||
		    t.tag != CL_BER_TAG_SEQUENCE)
			return fail(d, CL_ERR_FORMAT,
			    "payload sequence: element is not a SEQUENCE");
		if (n > 0)
			tmp = *o;
		r = o->kind == CL_PSDU_KIND_IRI ? dec_iripayload(d, t.v, x)
						: dec_ccpayload(d, t.v, x);
		if (r != 0)
			return r;
		n++;
	}
	if (n == 0)
		return fail(d, CL_ERR_FORMAT, "payload sequence: empty");
	o->npayloads = n;
	o->seqof = v;
	return 0;
}

/* ---- TRI ---- */

static int
dec_integrity(struct dec *d, struct cl_span v, struct cl_psdu_tri_dec *x)
{
	struct cl_ber_tlv t, e;
	struct cl_rd rd;
	struct seq s;
	unsigned seen = 0;
	uint32_t u;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "integrityCheck")) > 0) {
		switch (t.tag) {
		case 0:
			if ((r = cons(d, &t,
				 "includedSequenceNumbers: not "
				 "constructed")) != 0)
				return r;
			cl_rd_init(&rd, t.v.p, t.v.len);
			while (cl_rd_left(&rd) > 0) {
				if ((r = cl_ber_expect(&rd, 0, CL_BER_UNIVERSAL,
					 CL_BER_TAG_INTEGER, &e.v)) != 0)
					return fail(d, r,
					    "includedSequenceNumbers: element "
					    "is not an INTEGER");
				if ((r = get_u32(d, e.v, &u,
					 "includedSequenceNumbers: not in "
					 "0..4294967295")) != 0)
					return r;
				x->nseqs++;
			}
			if (x->nseqs == 0)
				return fail(d, CL_ERR_FORMAT,
				    "includedSequenceNumbers: empty");
			x->seqs = t.v;
			break;
		case 1:
			if ((r = prim(d, &t, "checkType: constructed")) != 0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &x->check_type,
				 "checkType: out of range")) != 0)
				return r;
			break;
		case 2:
			if ((r = prim(d, &t, "dataType: constructed")) != 0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &x->data_type,
				 "dataType: out of range")) != 0)
				return r;
			break;
		case 3:
			if ((r = prim(d, &t, "checkValue: constructed")) != 0)
				return r;
			x->value = t.v;
			break;
		case 4:
			if ((r = prim(d, &t, "hashAlgorithm: constructed")) !=
				0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &x->hash_alg,
				 "hashAlgorithm: out of range")) != 0)
				return r;
			break;
		case 5:
			if ((r = prim(d, &t,
				 "signatureAlgorithm: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &x->sig_alg,
				 "signatureAlgorithm: out of range")) != 0)
				return r;
			break;
		default:
			if ((r = skip(d, &t,
				 "integrityCheck: bad "
				 "extension")) != 0)
				return r;
		}
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 0xb) != 0xb)
		return fail(d, CL_ERR_FORMAT,
		    "integrityCheck: includedSequenceNumbers, checkType or "
		    "checkValue missing");
	return 0;
}

/* SEQUENCE OF Option: is pDUAcknowledgement in it? */
static int
dec_options(struct dec *d, struct cl_span v, bool *ack)
{
	struct cl_ber_tlv t;
	struct cl_rd rd;
	int r;

	cl_rd_init(&rd, v.p, v.len);
	while (cl_rd_left(&rd) > 0) {
		if ((r = cl_ber_get_tlv(&rd, 0, &t)) != 0)
			return fail(d, r, "Option: malformed");
		if (t.cls != CTX)
			return fail(
			    d, CL_ERR_FORMAT, "Option: not context-tagged");
		if (t.tag == 0) {
			if (t.cons || t.v.len != 0)
				return fail(d, CL_ERR_FORMAT,
				    "pDUAcknowledgement: not NULL");
			*ack = true;
		} else if ((r = skip(d, &t, "Option: bad extension")) != 0)
			return r;
	}
	return 0;
}

static int
dec_option_msg(
    struct dec *d, struct cl_span v, struct cl_psdu_tri_dec *x, bool response)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "option message")) > 0) {
		if (t.tag == 0 || (response && t.tag == 1)) {
			if ((r = cons(d, &t,
				 "option list: not "
				 "constructed")) != 0 ||
			    (r = dec_options(d, t.v,
				 !response        ? &x->ack_requested
				     : t.tag == 0 ? &x->ack_accepted
						  : &x->ack_declined)) != 0)
				return r;
			seen |= 1u << t.tag;
		} else if ((r = skip(d, &t,
				"option message: bad "
				"extension")) != 0)
			return r;
	}
	if (r < 0)
		return r;
	if (seen != (response ? 3u : 1u))
		return fail(d, CL_ERR_FORMAT,
		    response ? "optionResponse: acceptedOptions or "
			       "declinedOptions missing"
			     : "optionRequest: requestedOptions missing");
	if (x->ack_accepted && x->ack_declined)
		return fail(d, CL_ERR_FORMAT,
		    "optionResponse: pDUAcknowledgement both accepted and "
		    "declined");
	return 0;
}

static int
dec_lea_message(struct dec *d, struct cl_span v)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r, prio;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "operatorLeaMessage")) > 0) {
		if (t.tag == 0) {
			if ((r = prim(d, &t,
				 "messagePriority: "
				 "constructed")) != 0 ||
			    (r = get_int(d, t.v, 1, EXT_MAX, &prio,
				 "messagePriority: out of range")) != 0)
				return r;
		} else if (t.tag == 1) {
			if (t.cons || t.v.len < 1 || t.v.len > 255)
				return fail(d, CL_ERR_FORMAT,
				    "operatorLeaMessage.message: not 1..255 "
				    "octets");
		} else if ((r = skip(d, &t,
				"operatorLeaMessage: bad "
				"extension")) != 0)
			return r;
		if (t.tag < 32)
			seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if ((seen & 3) != 3)
		return fail(d, CL_ERR_FORMAT,
		    "operatorLeaMessage: messagePriority or message missing");
	return 0;
}

static int
dec_tri(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_psdu_tri_dec *x = &o->tri;
	struct cl_ber_tlv t;
	int r;

	if ((r = only_one(d, v, &t, "tRIPayload: malformed",
		 "tRIPayload: more than one alternative")) != 0)
		return r;
	x->which = (int)t.tag;
	x->raw = t.v;
	switch (t.tag) {
	case CL_PSDU_TRI_INTEGRITY:
		if ((r = cons(d, &t, "integrityCheck: not constructed")) != 0)
			return r;
		return dec_integrity(d, t.v, x);
	case CL_PSDU_TRI_PADDING:
		return prim(d, &t, "paddingPDU: constructed");
	case CL_PSDU_TRI_LEA_MESSAGE:
		if ((r = cons(d, &t,
			 "operatorLeaMessage: not "
			 "constructed")) != 0)
			return r;
		return dec_lea_message(d, t.v);
	case CL_PSDU_TRI_OPTION_REQ:
	case CL_PSDU_TRI_OPTION_RESP:
		if ((r = cons(d, &t, "option message: not constructed")) != 0)
			return r;
		return dec_option_msg(
		    d, t.v, x, t.tag == CL_PSDU_TRI_OPTION_RESP);
	case CL_PSDU_TRI_TEST:
	case CL_PSDU_TRI_KEEPALIVE:
	case CL_PSDU_TRI_KEEPALIVE_RESP:
	case 5:
	case 6:
	case CL_PSDU_TRI_CIN_RESET:
	case CL_PSDU_TRI_OPTION_DONE:
	case CL_PSDU_TRI_ACK_REQUEST:
	case CL_PSDU_TRI_ACK_RESPONSE:
		if (t.cons || t.v.len != 0)
			return fail(d, CL_ERR_FORMAT,
			    "tRIPayload: NULL alternative not empty");
		return 0;
	default:
		return skip(d, &t, "tRIPayload: bad extension");
	}
}

/* ---- PS-PDU ---- */

static int
dec_payload(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_ber_tlv t;
	int r;

	if ((r = only_one(d, v, &t, "payload: malformed",
		 "payload: more than one alternative")) != 0)
		return r;
	o->tag = t.tag;
	switch (t.tag) {
	case 0:
	case 1:
		if ((r = cons(d, &t, "payload sequence: not constructed")) != 0)
			return r;
		o->kind = t.tag == 0 ? CL_PSDU_KIND_IRI : CL_PSDU_KIND_CC;
		return dec_seqof(d, t.v, o);
	case 2:
		if ((r = cons(d, &t, "tRIPayload: not constructed")) != 0)
			return r;
		o->kind = CL_PSDU_KIND_TRI;
		return dec_tri(d, t.v, o);
	default:
		if ((r = skip(d, &t, "payload: bad alternative")) != 0)
			return r;
		o->kind = CL_PSDU_KIND_OTHER;
		o->other = t.v;
		return 0;
	}
}

static void
info_init(struct cl_psdu_info *o)
{
	memset(o, 0, sizeof(*o));
	o->tsq = -1;
	o->iri.type = -1;
	o->iri.end_reason = -1;
	o->iri.auth_type = -1;
	o->iri.target.type = -1;
	o->iri.target.assignment = -1;
	o->iri.target.prefix_len = -1;
	o->cc.dir = -1;
	o->tri.which = -1;
	o->tri.data_type = -1;
	o->tri.hash_alg = -1;
	o->tri.sig_alg = -1;
}

static int
dec_body(struct dec *d, struct cl_span v, struct cl_psdu_info *o)
{
	struct cl_ber_tlv t;
	struct seq s;
	unsigned seen = 0;
	int r;

	seq_init(&s, v);
	while ((r = SEQ_NEXT(d, &s, &t, "PS-PDU")) > 0) {
		if (t.tag == 1) {
			if ((r = cons(d, &t, "pSHeader: not constructed")) !=
				0 ||
			    (r = dec_header(d, t.v, o)) != 0)
				return r;
		} else if (t.tag == 2) {
			if ((r = cons(d, &t, "payload: not constructed")) !=
				0 ||
			    (r = dec_payload(d, t.v, o)) != 0)
				return r;
		} else
			/* PS-PDU has no extension marker. */
			return fail(d, CL_ERR_FORMAT,
			    "PS-PDU: element other than pSHeader, payload");
		seen |= 1u << t.tag;
	}
	if (r < 0)
		return r;
	if (seen != 6)
		return fail(d, CL_ERR_FORMAT,
		    "PS-PDU: pSHeader or payload "
		    "missing");
	return 0;
}

int
cl_psdu_decode(const uint8_t *p, size_t len, struct cl_psdu_info *out,
    size_t *consumed, const char **why)
{
	struct dec d = {""};
	struct cl_psdu_info o;
	struct cl_span body;
	size_t hl, n = 0, nl, i;
	int r;

	info_init(out);
	*consumed = 0;
	info_init(&o);
	/* The outer header by hand: its length must be judged before the
	 * whole PDU is in. */
	if (len == 0) {
		d.why = "PS-PDU: no data";
		r = CL_ERR_TRUNCATED;
		goto out;
	}
	if (p[0] != 0x30) {
		d.why = "PS-PDU: not a SEQUENCE (first octet is not 0x30)";
		r = CL_ERR_FORMAT;
		goto out;
	}
	if (len < 2) {
		d.why = "PS-PDU: header incomplete";
		r = CL_ERR_TRUNCATED;
		goto out;
	}
	if (p[1] < 0x80) {
		n = p[1];
		hl = 2;
	} else if (p[1] == 0x80 || p[1] == 0xff) {
		d.why = "PS-PDU: indefinite or reserved length";
		r = CL_ERR_FORMAT;
		goto out;
	} else {
		nl = p[1] & 0x7fu;
		if (nl > 4) {
			d.why = "PS-PDU: length field over four octets";
			r = CL_ERR_TOOBIG;
			goto out;
		}
		if (len < 2 + nl) {
			d.why = "PS-PDU: header incomplete";
			r = CL_ERR_TRUNCATED;
			goto out;
		}
		for (i = 0; i < nl; i++)
			n = n << 8 | p[2 + i];
		hl = 2 + nl;
	}
	if (n > CL_PSDU_DEC_MAX - hl) {
		d.why = "PS-PDU: length over CL_PSDU_DEC_MAX (1 MiB)";
		r = CL_ERR_TOOBIG;
		goto out;
	}
	if (len - hl < n) {
		d.why = "PS-PDU: incomplete";
		r = CL_ERR_TRUNCATED;
		goto out;
	}
	body.p = p + hl;
	body.len = n;
	if ((r = dec_body(&d, body, &o)) != 0)
		goto out;
	o.pdu.p = p;
	o.pdu.len = hl + n;
	*out = o;
	*consumed = hl + n;
	d.why = "";
out:
	if (why != NULL)
		*why = d.why;
	return r;
}

int
cl_psdu_ic_seqs(
    const struct cl_psdu_info *info, uint32_t *out, size_t max, size_t *n)
{
	struct cl_rd rd;
	struct cl_span v;
	uint64_t u;
	size_t k = 0;

	*n = 0;
	if (info->kind != CL_PSDU_KIND_TRI ||
	    info->tri.which != CL_PSDU_TRI_INTEGRITY)
		return CL_ERR_INVALID_ARG;
	if (info->tri.nseqs > max)
		return CL_ERR_TOOBIG;
	/* Checked by cl_psdu_decode(): these cannot fail. */
	cl_rd_init(&rd, info->tri.seqs.p, info->tri.seqs.len);
	while (cl_rd_left(&rd) > 0) {
		if (CL_NEVER(k == max) ||
		    CL_NEVER(cl_ber_expect(&rd, 0, CL_BER_UNIVERSAL,
				 CL_BER_TAG_INTEGER, &v) != 0) ||
		    CL_NEVER(cl_ber_get_uint64(v, &u) != 0 || u > UINT32_MAX))
			return CL_ERR_INTERNAL;
		out[k++] = (uint32_t)u;
	}
	*n = k;
	return 0;
}

int
cl_psdu_payload_at(
    const struct cl_psdu_info *info, size_t i, struct cl_psdu_info *out)
{
	struct dec d = {""};
	struct cl_ber_tlv t;
	struct cl_rd rd;
	size_t k;

	*out = *info;
	if ((info->kind != CL_PSDU_KIND_IRI && info->kind != CL_PSDU_KIND_CC) ||
	    i >= info->npayloads)
		return CL_ERR_INVALID_ARG;
	cl_rd_init(&rd, info->seqof.p, info->seqof.len);
	for (k = 0; k <= i; k++)
		if (CL_NEVER(cl_ber_get_tlv(&rd, 0, &t) != 0))
			return CL_ERR_INTERNAL;
	if (info->kind == CL_PSDU_KIND_IRI) {
		if (CL_NEVER(dec_iripayload(&d, t.v, out) != 0))
			return CL_ERR_INTERNAL;
	} else if (CL_NEVER(dec_ccpayload(&d, t.v, out) != 0))
		return CL_ERR_INTERNAL;
	return 0;
}

const char *
cl_psdu_iri_type_name(int type)
{
	static const char *const n[] = {
	    NULL, "begin", "end", "continue", "report"};

	return type >= 1 && type <= 4 ? n[type] : NULL;
}

const char *
cl_psdu_dir_name(int dir)
{
	static const char *const n[] = {"from-target", "to-target",
	    "indeterminate", "combined", "not-applicable"};

	return dir >= 0 && dir <= 4 ? n[dir] : NULL;
}

const char *
cl_psdu_tri_name(int which)
{
	static const char *const n[] = {"integrityCheck", "testPDU",
	    "paddingPDU", "keep-alive", "keep-aliveResponse",
	    "firstSegmentFlag", "lastSegmentFlag", "cINReset",
	    "operatorLeaMessage", "optionRequest", "optionResponse",
	    "optionComplete", "pDUAcknowledgementRequest",
	    "pDUAcknowledgementResponse"};

	return which >= 0 && which <= 13 ? n[which] : NULL;
}

const char *
cl_psdu_access_event_name(int ev)
{
	static const char *const n[] = {"accessAttempt", "accessAccept",
	    "accessReject", "accessFailed", "sessionStart", "sessionEnd",
	    "interimUpdate", "startOfInterceptionWithSessionActive",
	    "accessEnd", "endOfInterceptionWithSessionActive", "unknown"};

	return ev >= 0 && ev <= 10 ? n[ev] : NULL;
}
