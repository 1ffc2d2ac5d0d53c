/* SPDX-License-Identifier: ISC */
/*
 * The mediation core: X2/X3 in, numbered PS-PDUs into the spool.  See
 * mdf.h and docs/PROTOCOL.hi.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "proto/binding.h"
#include "proto/dhcp.h"
#include "proto/dhcp6.h"
#include "digest.h"
#include "fsutil.h"
#include "gtpu.h"
#include "log.h"
#include "mdf.h"
#include "proto/radius.h"
#include "seqwin.h"
#include "util.h"

#define STATE_MAGIC   "CLMS"
#define STATE_VERSION 2           /* 1: no POI per flow, no dedup windows */
#define STATE_FILE    "mdf-state" /* in the spool directory */
#define STATE_MAX     (1u << 30)
#define META_VERSION  2 /* 1: no content hash */
#define META_FIXED    (4u + 4 + 8 + 16 + 4 + 8 + 1)
#define REBUILD_CUR   "mdf-rebuild"
#define LOST_MAGIC    "CLML"
#define LOST_FILE_LEN 16
#define LOST_FILE     "mdf-lost" /* in the spool directory */
#define FLOWKEY_MAX   (1 + CL_PSDU_LIID_MAX + 4)
#define DDKEY_LEN     24

/* Pending IntegrityCheck coverage of one (LIID, CIN, IRI or CC). */
struct icacc {
	size_t n, cap;
	uint32_t *seqs;
	uint8_t *hashes; /* n * 32 */
	uint64_t since_ms;
};

/* A (LIID, CIN): its sequence numbers and pre-encoded PSHeader. */
struct flow {
	uint8_t key[FLOWKEY_MAX];
	uint8_t keylen;
	uint8_t liid_len;
	char liid[CL_PSDU_LIID_MAX + 1];
	uint32_t cin;
	uint64_t poi;     /* the POI key whose PDUs opened it (0: unknown) */
	uint32_t next[3]; /* MDF_SEQ_* */
	bool ended;       /* an IRI-END was sent */
	bool psh_ready;
	struct cl_psheader psh;
	struct icacc ic[2]; /* IRI, CC */
	struct flow *ic_next;
	bool ic_listed;
};

/* Recent X2/X3 sequence numbers and content hashes of a (POI, XID). */
struct dd {
	uint8_t key[DDKEY_LEN];
	struct cl_seqwin win;
};

/* Communications opened by one POI, for its share of --max-flows. */
struct pshare {
	uint64_t poi;
	uint64_t flows;
};

struct mdf_core {
	struct mdf_core_opts o;
	struct cl_spool *sp;
	struct cl_htab flows, dds, shares;
	uint64_t state_covers; /* spool records below it are in the state */
	struct flow *ic_list;  /* flows with pending coverage */
	struct cl_buf rec;     /* scratch: one record */
	struct mdf_stats st;
	char state_path[4096];
	char lost_path[4096];
};

static bool
flow_eq(const void *v, const void *k, size_t len)
{
	const struct flow *f = v;

	return f->keylen == len && memcmp(f->key, k, len) == 0;
}

static bool
dd_eq(const void *v, const void *k, size_t len)
{
	return len == DDKEY_LEN &&
	    memcmp(((const struct dd *)v)->key, k, len) == 0;
}

static bool
share_eq(const void *v, const void *k, size_t len)
{
	return len == sizeof(uint64_t) &&
	    memcmp(&((const struct pshare *)v)->poi, k, len) == 0;
}

static size_t
flow_key(uint8_t *k, const char *liid, size_t liid_len, uint32_t cin)
{
	k[0] = (uint8_t)liid_len;
	memcpy(k + 1, liid, liid_len);
	cl_store_u32(k + 1 + liid_len, cin);
	return 1 + liid_len + 4;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	cl_store_u32(p, (uint32_t)(v >> 32));
	cl_store_u32(p + 4, (uint32_t)v);
}

static uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)cl_load_u32(p) << 32 | cl_load_u32(p + 4);
}

int
mdf_meta_parse(
    const uint8_t *p, size_t len, struct mdf_meta *m, struct cl_span *pdu)
{
	struct cl_rd rd;
	uint8_t v;
	const uint8_t *q;

	size_t fixed;

	memset(m, 0, sizeof(*m));
	memset(pdu, 0, sizeof(*pdu));
	cl_rd_init(&rd, p, len);
	if (cl_rd_u8(&rd, &v) != 0 || v < 1 || v > META_VERSION ||
	    cl_rd_u8(&rd, &m->liid_len) != 0 || m->liid_len < 1 ||
	    m->liid_len > CL_PSDU_LIID_MAX)
		return CL_ERR_FORMAT;
	fixed = META_FIXED + (v >= 2 ? MDF_HASH_LEN : 0);
	if (cl_rd_need(&rd, m->liid_len + fixed) != 0)
		return CL_ERR_FORMAT;
	q = cl_rd_ptr(&rd);
	memcpy(m->liid, q, m->liid_len);
	q += m->liid_len;
	m->cin = cl_load_u32(q);
	m->seq = cl_load_u32(q + 4);
	m->poi = get_u64(q + 8);
	memcpy(m->xid, q + 16, 16);
	m->x2seq = cl_load_u32(q + 32);
	m->x2ts_ns = get_u64(q + 36);
	m->flags = q[44];
	if (v >= 2)
		memcpy(m->x2hash, q + 45, MDF_HASH_LEN);
	else
		m->flags &= (uint8_t)~MDF_REC_F_X2HASH;
	(void)cl_rd_skip(&rd, m->liid_len + fixed);
	pdu->p = cl_rd_ptr(&rd);
	pdu->len = cl_rd_left(&rd);
	if (pdu->len == 0)
		return CL_ERR_FORMAT;
	return 0;
}

/* Appends the record header for m to b. */
static int
meta_put(struct cl_buf *b, const struct mdf_meta *m)
{
	uint8_t *q;
	int r;

	if ((r = cl_buf_reserve(
		 b, 2u + m->liid_len + META_FIXED + MDF_HASH_LEN, &q)) != 0)
		return r;
	q[0] = META_VERSION;
	q[1] = m->liid_len;
	memcpy(q + 2, m->liid, m->liid_len);
	q += 2 + m->liid_len;
	cl_store_u32(q, m->cin);
	cl_store_u32(q + 4, m->seq);
	put_u64(q + 8, m->poi);
	memcpy(q + 16, m->xid, 16);
	cl_store_u32(q + 32, m->x2seq);
	put_u64(q + 36, m->x2ts_ns);
	q[44] = m->flags;
	memcpy(q + 45, m->x2hash, MDF_HASH_LEN);
	return 0;
}

/* The share of POI key poi (created with create). */
static struct pshare *
share_get(struct mdf_core *c, uint64_t poi, bool create)
{
	struct pshare *s;

	if ((s = cl_htab_get(&c->shares, &poi, sizeof(poi))) != NULL || !create)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->poi = poi;
	if (cl_htab_put(&c->shares, &poi, sizeof(poi), s) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The communication (liid, cin) in *out, created for POI key poi if it is
 * new.  With limit, a new one must fit in --max-flows and in that POI's
 * share (--max-flows-per-poi); without (rebuilding what was stored) only
 * the global bound applies.  Returns 0, CL_ERR_FULL at a limit or
 * CL_ERR_NOMEM; nothing changes on failure.
 */
static int
flow_get(struct mdf_core *c, const char *liid, size_t liid_len, uint32_t cin,
    uint64_t poi, bool limit, struct flow **out)
{
	uint8_t k[FLOWKEY_MAX];
	size_t kl = flow_key(k, liid, liid_len, cin);
	struct pshare *s;
	struct flow *f;

	*out = NULL;
	if ((f = cl_htab_get(&c->flows, k, kl)) != NULL) {
		*out = f;
		return 0;
	}
	if (c->st.flows >= c->o.max_flows)
		return CL_ERR_FULL;
	if ((s = share_get(c, poi, true)) == NULL)
		return CL_ERR_NOMEM;
	if (limit && s->flows >= c->o.max_flows_poi)
		return CL_ERR_FULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return CL_ERR_NOMEM;
	memcpy(f->key, k, kl);
	f->keylen = (uint8_t)kl;
	memcpy(f->liid, liid, liid_len);
	f->liid_len = (uint8_t)liid_len;
	f->cin = cin;
	f->poi = poi;
	if (cl_htab_put(&c->flows, k, kl, f) != 0) {
		free(f);
		return CL_ERR_NOMEM;
	}
	s->flows++;
	c->st.flows++;
	*out = f;
	return 0;
}

/* The dedup window of ddk, created if create. */
static struct dd *
dd_get(struct mdf_core *c, const uint8_t ddk[DDKEY_LEN], bool create)
{
	struct dd *d;

	if ((d = cl_htab_get(&c->dds, ddk, DDKEY_LEN)) != NULL || !create)
		return d;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	memcpy(d->key, ddk, DDKEY_LEN);
	cl_seqwin_init(&d->win, c->o.dedup_window);
	if (cl_htab_put(&c->dds, ddk, DDKEY_LEN, d) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

static void
dd_free(struct dd *d)
{
	cl_seqwin_release(&d->win);
	free(d);
}

const char *
mdf_undeliverable_name(int why)
{
	switch (why) {
	case MDF_UND_FORMAT:
		return "format";
	case MDF_UND_GTPU:
		return "gtpu";
	default:
		return "?";
	}
}

/* Appends a length-prefixed span to the hash input. */
static int
hash_span(struct cl_buf *b, struct cl_span s)
{
	int r;

	if ((r = cl_buf_put_u32(b, (uint32_t)s.len)) != 0)
		return r;
	return s.len > 0 ? cl_buf_put(b, s.p, s.len) : 0;
}

static int
hash_addr(struct cl_buf *b, const struct cl_addr *a)
{
	int r;

	if ((r = cl_buf_put_u8(b, a->family)) != 0)
		return r;
	return a->family == 0 ? 0
			      : cl_buf_put(b, a->a, a->family == 4 ? 4 : 16);
}

int
mdf_pdu_hash(const struct cl_x2x3_pdu *pdu, uint8_t out[MDF_HASH_LEN])
{
	uint8_t hdr[3 * (4 + CL_X2X3_MAX_STRATTR) + 160], ph[32], h[32];
	struct cl_buf b;
	int r = CL_ERR_INTERNAL;

	memset(out, 0, MDF_HASH_LEN);
	/* A fixed buffer: the attributes are bounded by the decoder. */
	b.d = hdr;
	b.len = 0;
	b.alloc = sizeof(hdr);
	b.max = sizeof(hdr);
	if (cl_sha256(pdu->payload.p, pdu->payload.len, ph) != 0 ||
	    cl_buf_put_u16(&b, pdu->type) != 0 ||
	    cl_buf_put_u16(&b, pdu->pformat) != 0 ||
	    cl_buf_put_u16(&b, pdu->pdir) != 0 ||
	    cl_buf_put(&b, pdu->xid, sizeof(pdu->xid)) != 0 ||
	    cl_buf_put(&b, pdu->cid, sizeof(pdu->cid)) != 0 ||
	    cl_buf_put_u8(&b, pdu->has_seqno) != 0 ||
	    cl_buf_put_u32(&b, pdu->seqno) != 0 ||
	    cl_buf_put_u8(&b, pdu->has_ts) != 0 ||
	    cl_buf_put_u32(&b, pdu->ts_sec) != 0 ||
	    cl_buf_put_u32(&b, pdu->ts_nsec) != 0 ||
	    hash_addr(&b, &pdu->src) != 0 || hash_addr(&b, &pdu->dst) != 0 ||
	    cl_buf_put_u8(&b, pdu->has_sport) != 0 ||
	    cl_buf_put_u16(&b, pdu->sport) != 0 ||
	    cl_buf_put_u8(&b, pdu->has_dport) != 0 ||
	    cl_buf_put_u16(&b, pdu->dport) != 0 ||
	    cl_buf_put_u8(&b, pdu->has_ipproto) != 0 ||
	    cl_buf_put_u8(&b, pdu->ipproto) != 0 ||
	    hash_span(&b, pdu->mti) != 0 || hash_span(&b, pdu->ipid) != 0 ||
	    hash_span(&b, pdu->nfid) != 0 ||
	    cl_buf_put_u8(&b, pdu->has_did) != 0 ||
	    cl_buf_put(&b, pdu->did, sizeof(pdu->did)) != 0 ||
	    cl_buf_put(&b, ph, sizeof(ph)) != 0)
		goto out;
	if (cl_sha256(hdr, b.len, h) != 0)
		goto out;
	memcpy(out, h, MDF_HASH_LEN);
	r = 0;
out:
	return r;
}

static void
flow_free(struct flow *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		free(f->ic[i].seqs);
		free(f->ic[i].hashes);
	}
	free(f);
}

static bool
printable_ipid(struct cl_span s)
{
	size_t i;

	if (s.len < 1 || s.len > CL_PSDU_IPID_MAX)
		return false;
	for (i = 0; i < s.len; i++) {
		uint8_t ch = s.p[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			(ch >= '0' && ch <= '9') ||
			(ch != 0 && strchr(" '()+,-./:=?", ch) != NULL)))
			return false;
	}
	return true;
}

/* Builds a PSHeader for f; ipid is used if it is a PrintableString of at
 * most 8 characters. */
static int
build_header(const struct mdf_core *c, const struct flow *f,
    struct cl_span ipid, struct cl_psheader *h)
{
	struct cl_psh_ids ids;
	char ip[CL_PSDU_IPID_MAX + 1];

	memset(&ids, 0, sizeof(ids));
	ids.liid = (const uint8_t *)f->liid;
	ids.liid_len = f->liid_len;
	ids.country = c->o.country;
	ids.operator_id = (const uint8_t *)c->o.operator_id;
	ids.operator_id_len = strlen(c->o.operator_id);
	if (c->o.ne_id != NULL) {
		ids.ne_id = (const uint8_t *)c->o.ne_id;
		ids.ne_id_len = strlen(c->o.ne_id);
	}
	ids.cin = f->cin;
	if (printable_ipid(ipid)) {
		memcpy(ip, ipid.p, ipid.len);
		ip[ipid.len] = '\0';
		ids.ipid = ip;
	}
	if (cl_psheader_init(h, &ids) != 0)
		return CL_ERR_INVALID_ARG;
	return 0;
}

/* f's PSHeader, built once from the first PDU of the communication this
 * process sees (IntegrityCheck PDUs of communications rebuilt from the
 * spool use a header of their own until then). */
static int
flow_header(struct mdf_core *c, struct flow *f, struct cl_span ipid)
{
	int r;

	if (f->psh_ready)
		return 0;
	if ((r = build_header(c, f, ipid, &f->psh)) != 0)
		return r;
	f->psh_ready = true;
	return 0;
}

static int
ic_add(struct mdf_core *c, struct flow *f, int k, uint32_t seq,
    const uint8_t *pdu, size_t len, uint64_t now_ms)
{
	struct icacc *a = &f->ic[k];

	if (c->o.ic_sign == NULL || c->o.ic_interval_ms == 0)
		return 0;
	if (a->n == a->cap) {
		size_t nc = a->cap == 0 ? 16 : a->cap * 2;
		uint32_t *s;
		uint8_t *h;

		if (nc > CL_PSDU_IC_MAX)
			nc = CL_PSDU_IC_MAX;
		if ((s = reallocarray(a->seqs, nc, sizeof(*s))) == NULL)
			return CL_ERR_NOMEM;
		a->seqs = s;
		if ((h = reallocarray(a->hashes, nc, 32)) == NULL)
			return CL_ERR_NOMEM;
		a->hashes = h;
		a->cap = nc;
	}
	if (a->n == 0)
		a->since_ms = now_ms;
	a->seqs[a->n] = seq;
	if (cl_sha256(pdu, len, a->hashes + a->n * 32) != 0)
		return CL_ERR_INTERNAL;
	a->n++;
	if (!f->ic_listed) {
		f->ic_listed = true;
		f->ic_next = c->ic_list;
		c->ic_list = f;
	}
	return 0;
}

/* Appends rec (header + PDU in c->rec) to the spool. */
static int
append(struct mdf_core *c, uint16_t type)
{
	uint64_t seq;

	return cl_spool_append(c->sp, type, c->rec.d, c->rec.len, &seq);
}

/* Writes the IntegrityCheck PDU for f's pending coverage of kind k
 * (0 IRI, 1 CC) and clears it. */
static int
ic_emit(struct mdf_core *c, struct flow *f, int k)
{
	struct icacc *a = &f->ic[k];
	struct cl_psdu_icheck ic;
	struct mdf_meta m;
	uint8_t sig[64];
	struct cl_span none = {NULL, 0};
	struct cl_psheader tmp, *h = &tmp;
	int r;

	if (a->n == 0)
		return 0;
	if (f->psh_ready)
		h = &f->psh;
	else if ((r = build_header(c, f, none, &tmp)) != 0)
		return r;
	/* PureEdDSA over the concatenated SHA-256 hashes, in the order of
	 * includedSequenceNumbers (docs/PROTOCOL.hi). */
	if ((r = c->o.ic_sign(c->o.ic_sign_arg, a->hashes, a->n * 32, sig)) !=
	    0)
		return r;
	memset(&ic, 0, sizeof(ic));
	ic.seqs = a->seqs;
	ic.nseqs = a->n;
	ic.check_type = CL_PSDU_CHECK_SIGNATURE;
	ic.data_type = k == 0 ? CL_PSDU_DATA_IRI : CL_PSDU_DATA_CC;
	ic.value = sig;
	ic.value_len = sizeof(sig);
	ic.hash_alg = CL_PSDU_HASH_SHA256;
	ic.sig_alg = CL_PSDU_SIG_EDDSA;

	memset(&m, 0, sizeof(m));
	m.liid_len = f->liid_len;
	memcpy(m.liid, f->liid, f->liid_len);
	m.cin = f->cin;
	m.seq = f->next[MDF_SEQ_IC];
	cl_buf_reset(&c->rec);
	if ((r = meta_put(&c->rec, &m)) != 0)
		return r;
	h->seq = m.seq;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		h->sec = ts.tv_sec;
		h->usec = (uint32_t)(ts.tv_nsec / 1000);
		h->tsq = CL_PSDU_TSQ_MEDIATION;
	}
	if ((r = cl_psdu_integrity(&c->rec, h, &ic)) != 0)
		return r;
	if ((r = append(c, k == 0 ? MDF_REC_IC_IRI : MDF_REC_IC_CC)) != 0)
		return r;
	f->next[MDF_SEQ_IC]++;
	c->st.stored_ic++;
	a->n = 0;
	return 0;
}

int
mdf_core_integrity(struct mdf_core *c, uint64_t now_ms, bool force)
{
	struct flow *f, **pp;
	int k, r;

	pp = &c->ic_list;
	while ((f = *pp) != NULL) {
		for (k = 0; k < 2; k++) {
			struct icacc *a = &f->ic[k];

			if (a->n > 0 &&
			    (force ||
				now_ms >= a->since_ms + c->o.ic_interval_ms) &&
			    (r = ic_emit(c, f, k)) != 0)
				return r;
		}
		if (f->ic[0].n == 0 && f->ic[1].n == 0) {
			f->ic_listed = false;
			*pp = f->ic_next;
		} else {
			pp = &f->ic_next;
		}
	}
	return 0;
}

bool
mdf_core_integrity_due(const struct mdf_core *c, uint64_t *at_ms)
{
	const struct flow *f;
	uint64_t at = UINT64_MAX;
	int k;

	for (f = c->ic_list; f != NULL; f = f->ic_next)
		for (k = 0; k < 2; k++)
			if (f->ic[k].n > 0 &&
			    f->ic[k].since_ms + c->o.ic_interval_ms < at)
				at = f->ic[k].since_ms + c->o.ic_interval_ms;
	*at_ms = at;
	return at != UINT64_MAX;
}

/* X3 payload direction to TS 102 232-1 PayloadDirection. */
static int
cc_direction(uint16_t pdir)
{
	switch (pdir) {
	case CL_X2X3_DIR_FROM_TARGET:
		return CL_PSDU_DIR_FROM_TARGET;
	case CL_X2X3_DIR_TO_TARGET:
		return CL_PSDU_DIR_TO_TARGET;
	case CL_X2X3_DIR_NA:
		return CL_PSDU_DIR_NA;
	default: /* unknown, or both ends are targets */
		return CL_PSDU_DIR_INDETERMINATE;
	}
}

static void
iri_addr(struct cl_psdu_ipiri *iri, const struct cl_binding *b)
{
	bool v4 = false, v6 = false;
	unsigned i;

	for (i = 0; i < b->naddrs; i++) {
		const struct cl_bind_addr *a = &b->addrs[i];

		if (a->addr.family == 4)
			v4 = true;
		else if (a->addr.family == 6)
			v6 = true;
		if (iri->target.family == 0) {
			iri->target.family = a->addr.family;
			memcpy(iri->target.addr, a->addr.a, 16);
			iri->target.prefix_len =
			    a->addr.family == 6 ? a->plen : 0;
			iri->target.assignment = 2; /* dynamic */
		}
	}
	if (v4 || v6) /* else the default from the X2 addresses stands */
		iri->ip_version = v4 && v6 ? 3 : v6 ? 2 : 1;
}

int
mdf_x2_ipiri(const struct cl_x2x3_pdu *pdu, struct cl_psdu_ipiri *iri, int *op,
    bool *reject)
{
	struct cl_binding b;
	struct cl_radius rad;
	struct cl_dhcp d4;
	struct cl_dhcp6 d6;

	cl_psdu_ipiri_init(iri);
	iri->access_event = 10; /* unknown */
	iri->access_type = 0;   /* undefined */
	iri->ip_version = pdu->src.family == 6 ? 2 : 1;
	*op = CL_BIND_NONE;
	*reject = false;
	memset(&b, 0, sizeof(b));
	if (pdu->mti.len > 0) {
		iri->username = pdu->mti.p;
		iri->username_len = pdu->mti.len;
	}
	if (pdu->pformat == CL_X2X3_PF_RADIUS &&
	    cl_radius_parse(pdu->payload.p, pdu->payload.len, &rad) == 0) {
		cl_radius_binding(&rad, &b);
		switch (rad.code) {
		case 1:
			iri->access_event = 0; /* accessAttempt */
			break;
		case CL_RADIUS_ACCESS_ACCEPT:
			iri->access_event = 1;
			break;
		case 3:
			iri->access_event = 2; /* accessReject */
			*reject = true;
			break;
		case CL_RADIUS_ACCOUNTING_REQUEST:
			iri->access_event =
			    rad.acct_status == CL_RADIUS_ACCT_START
			    ? 1 /* accessAccept: the session begins */
			    : rad.acct_status == CL_RADIUS_ACCT_STOP    ? 8
			    : rad.acct_status == CL_RADIUS_ACCT_INTERIM ? 6
									: 10;
			break;
		}
		if (rad.user_name.len > 0) {
			iri->username = rad.user_name.p;
			iri->username_len = rad.user_name.len;
		}
		iri->raw_aaa = pdu->payload.p;
		iri->raw_aaa_len = pdu->payload.len;
	} else if (pdu->pformat == CL_X2X3_PF_DHCP && pdu->src.family != 6 &&
	    cl_dhcp_parse(pdu->payload.p, pdu->payload.len, &d4) == 0) {
		cl_dhcp_binding(&d4, &b);
		switch (d4.msgtype) {
		case CL_DHCP_DISCOVER:
		case CL_DHCP_REQUEST:
			iri->access_event = 0;
			break;
		case CL_DHCP_ACK:
			iri->access_event = 1;
			break;
		case CL_DHCP_NAK:
			iri->access_event = 2;
			*reject = true;
			break;
		case CL_DHCP_RELEASE:
			iri->access_event = 8;
			break;
		}
	} else if (pdu->pformat == CL_X2X3_PF_DHCP &&
	    cl_dhcp6_parse(pdu->payload.p, pdu->payload.len, &d6) == 0) {
		cl_dhcp6_binding(&d6, &b);
		switch (d6.msgtype) {
		case CL_DHCP6_SOLICIT:
		case CL_DHCP6_REQUEST:
		case CL_DHCP6_RENEW:
		case CL_DHCP6_REBIND:
			iri->access_event = 0;
			break;
		case CL_DHCP6_REPLY:
			iri->access_event = b.op == CL_BIND_NONE ? 10 : 1;
			break;
		case CL_DHCP6_RELEASE:
			iri->access_event = 8;
			break;
		}
	} else {
		/* Nothing parsed is used: the raw message goes along for
		 * RADIUS, the only AAA format (rawAAAData). */
		if (pdu->pformat == CL_X2X3_PF_RADIUS) {
			iri->raw_aaa = pdu->payload.p;
			iri->raw_aaa_len = pdu->payload.len;
		}
		return CL_ERR_FORMAT;
	}
	*op = b.op;
	if (b.op == CL_BIND_UPDATE && iri->access_event == 1)
		iri->access_event = 6;
	iri_addr(iri, &b);
	return 0;
}

/* The IRI type for the next IRI of f (TS 102 232-3: BEGIN opens the
 * communication, END closes it, CONTINUE in between, REPORT outside). */
static int
iri_type(const struct flow *f, int op, bool reject, bool *ends)
{
	bool first = f->next[MDF_SEQ_IRI] == 0;

	*ends = false;
	if (f->ended)
		return CL_PSDU_IRI_REPORT;
	if (op == CL_BIND_STOP || reject) {
		*ends = true;
		return first ? CL_PSDU_IRI_REPORT : CL_PSDU_IRI_END;
	}
	return first ? CL_PSDU_IRI_BEGIN : CL_PSDU_IRI_CONTINUE;
}

/* Whether X3 has an IPCC form: *pkt gets the IP packet to deliver, or
 * false with *why (enum mdf_undeliverable). */
static bool
x3_packet(const struct cl_x2x3_pdu *pdu, struct cl_span *pkt, int *why)
{
	int ipver;

	*pkt = pdu->payload;
	*why = MDF_UND_FORMAT;
	if (pdu->pformat == CL_X2X3_PF_IPV4 || pdu->pformat == CL_X2X3_PF_IPV6)
		return true;
	if (pdu->pformat != CL_X2X3_PF_GTPU)
		return false;
	/* The tunnel is the POI's view of the network, not the target's
	 * communication: TS 102 232-3 IPCC carries the inner packet. */
	*why = MDF_UND_GTPU;
	return cl_gtpu_decap(pdu->payload.p, pdu->payload.len, pkt, &ipver) ==
	    0;
}

int
mdf_core_ingest(struct mdf_core *c, const char *poi,
    const struct cl_x2x3_pdu *pdu, mdf_liid_fn *liid_of, void *arg,
    uint64_t now_ms, uint64_t now_real_ns, enum mdf_verdict *verdict)
{
	uint8_t ddk[DDKEY_LEN], hash[MDF_HASH_LEN];
	struct dd *d = NULL;
	struct flow *f;
	struct mdf_meta m;
	struct cl_span pkt = {NULL, 0};
	const char *liid;
	uint64_t pk, ts_ns, h;
	size_t liid_len, mlen;
	int k, r, why;
	bool ends = false, conflict = false;

	*verdict = MDF_IGNORED;
	if (pdu->type != CL_X2X3_X2 && pdu->type != CL_X2X3_X3)
		return 0;
	pk = cl_fnv1a64(CL_FNV1A64_INIT, poi, strlen(poi));
	ts_ns = pdu->has_ts ? (uint64_t)pdu->ts_sec * 1000000000u + pdu->ts_nsec
			    : now_real_ns;

	/*
	 * Only a true repeat is dropped: the same (POI, XID, sequence
	 * number) stored before with the same content, as a POI resends
	 * what it had no acknowledgement for.  The same number with other
	 * content (a POI that restarted and numbers from 0 again, whatever
	 * its clock says) is stored and counted; a number the window no
	 * longer holds is stored (docs/PROTOCOL.hi).
	 */
	if (pdu->has_seqno) {
		if ((r = mdf_pdu_hash(pdu, hash)) != 0)
			return r;
		put_u64(ddk, pk);
		memcpy(ddk + 8, pdu->xid, 16);
		if ((d = dd_get(c, ddk, false)) != NULL) {
			switch (cl_seqwin_check(&d->win, pdu->seqno, hash)) {
			case CL_SEQWIN_REPEAT:
				c->st.duplicates++;
				*verdict = MDF_DUPLICATE;
				return 0;
			case CL_SEQWIN_CONFLICT:
				conflict = true;
				break;
			case CL_SEQWIN_NEW:
				break;
			}
		}
	}
	if ((liid = liid_of(arg, pdu->xid)) == NULL) {
		c->st.unknown_task++;
		*verdict = MDF_UNKNOWN_TASK;
		return 0;
	}
	liid_len = strlen(liid);
	if (liid_len < 1 || liid_len > CL_PSDU_LIID_MAX)
		return CL_ERR_INVALID_ARG;
	k = pdu->type == CL_X2X3_X2 ? MDF_SEQ_IRI : MDF_SEQ_CC;
	if (k == MDF_SEQ_CC && !x3_packet(pdu, &pkt, &why)) {
		c->st.undeliverable[why]++;
		*verdict = MDF_UNDELIVERABLE;
		return 0;
	}

	/* CIN: per POI session (correlation ID), so that it needs no state
	 * to be the same after a restart. */
	h = cl_fnv1a64(
	    cl_fnv1a64(CL_FNV1A64_INIT, &pk, sizeof(pk)), pdu->cid, 8);
	r = flow_get(
	    c, liid, liid_len, (uint32_t)(h ^ (h >> 32)), pk, true, &f);
	if (r == CL_ERR_FULL) {
		c->st.refused++;
		*verdict = MDF_REFUSED;
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = flow_header(c, f, pdu->ipid)) != 0)
		return r;
	/* Coverage is bounded: a full list is signed before it grows. */
	if (f->ic[k].n == CL_PSDU_IC_MAX && (r = ic_emit(c, f, k)) != 0)
		return r;

	memset(&m, 0, sizeof(m));
	m.liid_len = f->liid_len;
	memcpy(m.liid, f->liid, f->liid_len);
	m.cin = f->cin;
	m.seq = f->next[k];
	m.poi = pk;
	memcpy(m.xid, pdu->xid, 16);
	m.x2seq = pdu->seqno;
	m.x2ts_ns = ts_ns;
	m.flags = pdu->has_seqno ? MDF_REC_F_X2SEQ | MDF_REC_F_X2HASH : 0;
	if (pdu->has_seqno)
		memcpy(m.x2hash, hash, MDF_HASH_LEN);

	f->psh.seq = m.seq;
	f->psh.sec = (int64_t)(ts_ns / 1000000000u);
	f->psh.usec = (uint32_t)(ts_ns % 1000000000u / 1000);
	f->psh.tsq =
	    pdu->has_ts ? CL_PSDU_TSQ_INTERCEPTION : CL_PSDU_TSQ_MEDIATION;
	if (k == MDF_SEQ_IRI) {
		struct cl_psdu_ipiri iri;
		int op, type;
		bool reject;

		if (mdf_x2_ipiri(pdu, &iri, &op, &reject) != 0) {
			/* Say only what is known: a REPORT with the X2
			 * attributes and, for RADIUS, the raw message; it
			 * neither begins nor ends the communication. */
			c->st.x2_unparsed++;
			type = CL_PSDU_IRI_REPORT;
		} else {
			type = iri_type(f, op, reject, &ends);
			if (op == CL_BIND_START || type == CL_PSDU_IRI_BEGIN) {
				iri.has_start = true;
				iri.start_sec = f->psh.sec;
				iri.start_usec = f->psh.usec;
			}
		}
		if (ends) {
			iri.has_end = true;
			iri.end_sec = f->psh.sec;
			iri.end_usec = f->psh.usec;
			m.flags |= MDF_REC_F_IRI_END;
		}
		cl_buf_reset(&c->rec);
		if ((r = meta_put(&c->rec, &m)) != 0)
			return r;
		mlen = c->rec.len;
		if ((r = cl_psdu_hi2_ipiri(&c->rec, &f->psh, type, &iri)) != 0)
			return r;
	} else {
		cl_buf_reset(&c->rec);
		if ((r = meta_put(&c->rec, &m)) != 0)
			return r;
		mlen = c->rec.len;
		if ((r = cl_psdu_hi3_ipcc(&c->rec, &f->psh, pkt.p, pkt.len,
			 cc_direction(pdu->pdir))) != 0)
			return r;
	}
	if ((r = append(c, k == MDF_SEQ_IRI ? MDF_REC_IRI : MDF_REC_CC)) != 0)
		return r;

	/* Stored: now the state moves. */
	f->next[k]++;
	if (ends)
		f->ended = true;
	if (k == MDF_SEQ_IRI)
		c->st.stored_iri++;
	else
		c->st.stored_cc++;
	*verdict = MDF_STORED;
	if (conflict) {
		c->st.conflicts++;
		*verdict = MDF_CONFLICT;
	}
	if (pdu->has_seqno) {
		/* Without memory for the window a later repeat is stored
		 * again: visible, not lost. */
		if (d == NULL)
			d = dd_get(c, ddk, true);
		if (d != NULL)
			(void)cl_seqwin_put(&d->win, pdu->seqno, hash);
	}
	return ic_add(c, f, k == MDF_SEQ_IRI ? 0 : 1, m.seq, c->rec.d + mlen,
	    c->rec.len - mlen, now_ms);
}

/* ---- state file and rebuild ---- */

static int
state_save(struct mdf_core *c)
{
	struct cl_buf b;
	struct flow *f;
	struct dd *d;
	size_t pos;
	uint32_t crc;
	int fd = -1, dfd, r;

	cl_buf_init(&b, STATE_MAX);
	if ((r = cl_buf_put(&b, STATE_MAGIC, 4)) != 0 ||
	    (r = cl_buf_put_u32(&b, STATE_VERSION)) != 0 ||
	    (r = cl_buf_put_u64(&b, cl_spool_next_seq(c->sp))) != 0 ||
	    (r = cl_buf_put_u64(&b, c->flows.n)) != 0)
		goto out;
	pos = 0;
	while ((f = cl_htab_next(&c->flows, &pos)) != NULL)
		if ((r = cl_buf_put_u8(&b, f->liid_len)) != 0 ||
		    (r = cl_buf_put(&b, f->liid, f->liid_len)) != 0 ||
		    (r = cl_buf_put_u32(&b, f->cin)) != 0 ||
		    (r = cl_buf_put_u32(&b, f->next[0])) != 0 ||
		    (r = cl_buf_put_u32(&b, f->next[1])) != 0 ||
		    (r = cl_buf_put_u32(&b, f->next[2])) != 0 ||
		    (r = cl_buf_put_u8(&b, f->ended)) != 0 ||
		    (r = cl_buf_put_u64(&b, f->poi)) != 0)
			goto out;
	if ((r = cl_buf_put_u64(&b, c->dds.n)) != 0)
		goto out;
	pos = 0;
	while ((d = cl_htab_next(&c->dds, &pos)) != NULL) {
		const struct cl_seqwin_ent *e;
		uint32_t wp = 0;

		if ((r = cl_buf_put(&b, d->key, DDKEY_LEN)) != 0 ||
		    (r = cl_buf_put_u32(&b, d->win.n)) != 0)
			goto out;
		while ((e = cl_seqwin_next(&d->win, &wp)) != NULL)
			if ((r = cl_buf_put_u32(&b, e->seq)) != 0 ||
			    (r = cl_buf_put(&b, e->h, MDF_HASH_LEN)) != 0)
				goto out;
	}
	crc = cl_crc32c(0, b.d, b.len);
	if ((r = cl_buf_put_u32(&b, crc)) != 0)
		goto out;

	/* In the spool directory, relative to its (checked) descriptor. */
	r = CL_ERR_SYSTEM;
	dfd = cl_spool_dirfd(c->sp);
	if ((fd = cl_openat_nofollow(dfd, STATE_FILE ".tmp",
		 O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		goto out;
	if (write(fd, b.d, b.len) != (ssize_t)b.len || fsync(fd) != 0 ||
	    renameat(dfd, STATE_FILE ".tmp", dfd, STATE_FILE) != 0 ||
	    fsync(dfd) != 0)
		goto out;
	r = 0;
out:
	if (r == CL_ERR_SYSTEM)
		cl_err(
		    "mdf: saving %s: %s", c->state_path, cl_fs_strerror(errno));
	if (fd != -1)
		close(fd);
	cl_buf_release(&b);
	return r;
}

static int
state_load(struct mdf_core *c, char *err, size_t errlen)
{
	uint8_t *p = NULL;
	struct cl_rd rd;
	struct stat st;
	uint64_t n, i;
	uint32_t v, crc;
	int fd, r = CL_ERR_FORMAT;

	if ((fd = cl_openat_nofollow(
		 cl_spool_dirfd(c->sp), STATE_FILE, O_RDONLY, 0)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", c->state_path,
		    cl_fs_strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 24 || st.st_size > STATE_MAX ||
	    (p = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, p, (size_t)st.st_size) != st.st_size) {
		snprintf(
		    err, errlen, "%s: unreadable or wrong size", c->state_path);
		goto out;
	}
	crc = cl_load_u32(p + st.st_size - 4);
	if (memcmp(p, STATE_MAGIC, 4) != 0 ||
	    cl_crc32c(0, p, (size_t)st.st_size - 4) != crc) {
		snprintf(
		    err, errlen, "%s: bad magic or checksum", c->state_path);
		goto out;
	}
	cl_rd_init(&rd, p + 4, (size_t)st.st_size - 8);
	if (cl_rd_u32(&rd, &v) != 0 || v < 1 || v > STATE_VERSION ||
	    (v >= 2 && cl_rd_u64(&rd, &c->state_covers) != 0) ||
	    cl_rd_u64(&rd, &n) != 0)
		goto bad;
	for (i = 0; i < n; i++) {
		uint8_t ll, ended;
		const uint8_t *liid;
		uint32_t cin, nx[3];
		uint64_t fpoi = 0;
		struct flow *f;

		if (cl_rd_u8(&rd, &ll) != 0 || ll < 1 ||
		    ll > CL_PSDU_LIID_MAX || cl_rd_need(&rd, ll) != 0)
			goto bad;
		liid = cl_rd_ptr(&rd);
		(void)cl_rd_skip(&rd, ll);
		if (cl_rd_u32(&rd, &cin) != 0 || cl_rd_u32(&rd, &nx[0]) != 0 ||
		    cl_rd_u32(&rd, &nx[1]) != 0 ||
		    cl_rd_u32(&rd, &nx[2]) != 0 || cl_rd_u8(&rd, &ended) != 0 ||
		    ended > 1 || (v >= 2 && cl_rd_u64(&rd, &fpoi) != 0))
			goto bad;
		if ((r = flow_get(c, (const char *)liid, ll, cin, fpoi, false,
			 &f)) != 0) {
			snprintf(err, errlen, "%s",
			    r == CL_ERR_FULL ? "more communications than "
					       "--max-flows allows"
					     : "out of memory");
			goto out;
		}
		memcpy(f->next, nx, sizeof(nx));
		f->ended = ended;
	}
	if (cl_rd_u64(&rd, &n) != 0)
		goto bad;
	for (i = 0; i < n; i++) {
		const uint8_t *key;
		struct dd *d;
		uint32_t ne, j, seq = 0;

		if (v < 2) {
			/* Only the last number, no content: an empty window
			 * stores what comes (repeats visible, nothing lost). */
			if (cl_rd_skip(&rd, DDKEY_LEN + 12) != 0)
				goto bad;
			continue;
		}
		if (cl_rd_need(&rd, DDKEY_LEN) != 0)
			goto bad;
		key = cl_rd_ptr(&rd);
		(void)cl_rd_skip(&rd, DDKEY_LEN);
		if (cl_rd_u32(&rd, &ne) != 0 || ne > CL_SEQWIN_MAX ||
		    cl_rd_need(&rd, (size_t)ne * (4 + MDF_HASH_LEN)) != 0)
			goto bad;
		if ((d = dd_get(c, key, true)) == NULL) {
			r = CL_ERR_NOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (j = 0; j < ne; j++) {
			(void)cl_rd_u32(&rd, &seq);
			(void)cl_seqwin_put(&d->win, seq, cl_rd_ptr(&rd));
			(void)cl_rd_skip(&rd, MDF_HASH_LEN);
		}
	}
	if (cl_rd_left(&rd) != 0)
		goto bad;
	r = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s: malformed state", c->state_path);
	r = CL_ERR_FORMAT;
out:
	free(p);
	close(fd);
	return r;
}

/*
 * "mdf-lost": the first sequence number of the last LOST spool record
 * whose loss the saved state already includes (u64 after the magic, then
 * a CRC32C of the 12 octets before it).  No file: none.
 */
static int
lost_load(struct mdf_core *c, uint64_t *applied, char *err, size_t errlen)
{
	uint8_t b[LOST_FILE_LEN + 1];
	ssize_t n;
	int fd;

	*applied = 0;
	if ((fd = cl_openat_nofollow(
		 cl_spool_dirfd(c->sp), LOST_FILE, O_RDONLY, 0)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "open %s: %s", c->lost_path,
		    cl_fs_strerror(errno));
		return CL_ERR_SYSTEM;
	}
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n != LOST_FILE_LEN || memcmp(b, LOST_MAGIC, 4) != 0 ||
	    cl_crc32c(0, b, 12) != cl_load_u32(b + 12)) {
		snprintf(
		    err, errlen, "%s: malformed (%zd octets)", c->lost_path, n);
		return CL_ERR_FORMAT;
	}
	*applied = get_u64(b + 4);
	return 0;
}

static int
lost_save(struct mdf_core *c, uint64_t applied, char *err, size_t errlen)
{
	uint8_t b[LOST_FILE_LEN];
	int fd = -1, dfd = cl_spool_dirfd(c->sp), r = CL_ERR_SYSTEM;
	const char *what = "create";

	memcpy(b, LOST_MAGIC, 4);
	put_u64(b + 4, applied);
	cl_store_u32(b + 12, cl_crc32c(0, b, 12));
	/* In the spool directory, relative to its (checked) descriptor. */
	if ((fd = cl_openat_nofollow(dfd, LOST_FILE ".tmp",
		 O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		goto out;
	what = "write";
	if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b) || fsync(fd) != 0)
		goto out;
	what = "rename";
	if (renameat(dfd, LOST_FILE ".tmp", dfd, LOST_FILE) != 0)
		goto out;
	what = "fsync the directory of";
	if (fsync(dfd) != 0)
		goto out;
	r = 0;
out:
	if (r != 0)
		snprintf(err, errlen, "%s %s.tmp: %s", what, c->lost_path,
		    cl_fs_strerror(errno));
	if (fd != -1)
		close(fd);
	return r;
}

/*
 * n records, of any stream, were lost here: a stream known now may have
 * had up to n of them, numbered from its next number on.  Skips them.
 */
static void
advance_all(struct mdf_core *c, uint64_t n)
{
	struct flow *f;
	size_t pos = 0;
	int k;

	while ((f = cl_htab_next(&c->flows, &pos)) != NULL) {
		for (k = 0; k < 3; k++)
			f->next[k] = n >= UINT32_MAX - f->next[k]
			    ? UINT32_MAX
			    : f->next[k] + (uint32_t)n;
		c->st.seq_advanced++;
	}
}

/* Folds one spool record into the state (after a restart). */
static int
rebuild_one(struct mdf_core *c, const struct cl_spool_rec *rec, uint64_t now)
{
	struct mdf_meta m;
	struct cl_span pdu;
	struct flow *f;
	int k, r;

	if (rec->type < MDF_REC_IRI || rec->type > MDF_REC_IC_CC ||
	    mdf_meta_parse(rec->payload.p, rec->payload.len, &m, &pdu) != 0)
		return CL_ERR_FORMAT;
	if ((r = flow_get(c, m.liid, m.liid_len, m.cin, m.poi, false, &f)) != 0)
		return r;
	k = rec->type == MDF_REC_IRI  ? MDF_SEQ_IRI
	    : rec->type == MDF_REC_CC ? MDF_SEQ_CC
				      : MDF_SEQ_IC;
	if (m.seq >= f->next[k])
		f->next[k] = m.seq + 1;
	if (m.flags & MDF_REC_F_IRI_END)
		f->ended = true;
	if (k == MDF_SEQ_IC) {
		/* Everything pending before it is covered. */
		f->ic[rec->type == MDF_REC_IC_IRI ? 0 : 1].n = 0;
		return 0;
	}
	/* Records older than the state file are in its windows already;
	 * the newer ones go in, in arrival order.  A record without a
	 * content hash (version 1) cannot prove a repeat. */
	if ((m.flags & MDF_REC_F_X2SEQ) && (m.flags & MDF_REC_F_X2HASH) &&
	    rec->seq >= c->state_covers) {
		uint8_t ddk[DDKEY_LEN];
		struct dd *d;

		put_u64(ddk, m.poi);
		memcpy(ddk + 8, m.xid, 16);
		if ((d = dd_get(c, ddk, true)) == NULL ||
		    cl_seqwin_put(&d->win, m.x2seq, m.x2hash) != 0)
			return CL_ERR_NOMEM;
	}
	if (f->ic[k].n == CL_PSDU_IC_MAX)
		f->ic[k].n = 0; /* it was signed before this one came */
	return ic_add(c, f, k, m.seq, pdu.p, pdu.len, now);
}

int
mdf_core_open(const struct mdf_core_opts *o, struct mdf_core **out,
    struct cl_spool_report *report, char *err, size_t errlen)
{
	struct cl_spool_report rep_local;
	struct mdf_core *c;
	struct cl_spool_cursor *cur = NULL;
	struct cl_spool_rec rec;
	uint64_t n = 0, now = cl_mono_ms(), applied, lseq, ln;
	bool advanced = false;
	size_t li;
	int r;

	*out = NULL;
	if (o->operator_id == NULL || strlen(o->operator_id) < 1 ||
	    strlen(o->operator_id) > CL_PSDU_NETID_MAX ||
	    (o->ne_id != NULL &&
		(strlen(o->ne_id) < 1 ||
		    strlen(o->ne_id) > CL_PSDU_NETID_MAX))) {
		snprintf(err, errlen,
		    "operator-id (and network-element-id) must have 1 to 16 "
		    "octets");
		return CL_ERR_INVALID_ARG;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CL_ERR_NOMEM;
	c->o = *o;
	if (c->o.max_flows == 0)
		c->o.max_flows = 1000000;
	if (c->o.max_flows_poi == 0)
		c->o.max_flows_poi =
		    c->o.max_flows > 1 ? c->o.max_flows / 2 : 1;
	if (c->o.max_flows_poi > c->o.max_flows)
		c->o.max_flows_poi = c->o.max_flows;
	if (c->o.dedup_window == 0)
		c->o.dedup_window = MDF_DEDUP_WINDOW;
	c->st.max_flows = c->o.max_flows;
	c->st.max_flows_poi = c->o.max_flows_poi;
	cl_buf_init(&c->rec, CL_SPOOL_REC_HARD_MAX);
	if ((r = cl_htab_init(&c->flows, c->o.max_flows, flow_eq)) != 0 ||
	    (r = cl_htab_init(&c->dds, SIZE_MAX, dd_eq)) != 0 ||
	    (r = cl_htab_init(&c->shares, SIZE_MAX, share_eq)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	{
		/* A trial header checks operator-id and country once. */
		struct cl_psheader h;
		struct cl_psh_ids ids;

		memset(&ids, 0, sizeof(ids));
		ids.liid = (const uint8_t *)"x";
		ids.liid_len = 1;
		ids.country = o->country;
		ids.operator_id = (const uint8_t *)o->operator_id;
		ids.operator_id_len = strlen(o->operator_id);
		ids.ne_id = (const uint8_t *)o->ne_id;
		ids.ne_id_len = o->ne_id ? strlen(o->ne_id) : 0;
		if ((r = cl_psheader_init(&h, &ids)) != 0) {
			snprintf(
			    err, errlen, "country must be two letters A-Z");
			goto fail;
		}
	}
	if (mkdir(o->spool_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", o->spool_dir, strerror(errno));
		r = CL_ERR_SYSTEM;
		goto fail;
	}
	snprintf(c->state_path, sizeof(c->state_path), "%s/" STATE_FILE,
	    o->spool_dir);
	/* Checked here for a message naming the path; again by the spool. */
	if ((r = cl_dir_check_private(o->spool_dir, err, errlen)) != 0)
		goto fail;
	snprintf(
	    c->lost_path, sizeof(c->lost_path), "%s/" LOST_FILE, o->spool_dir);
	if (report == NULL)
		report = &rep_local;
	memset(report, 0, sizeof(*report));
	if ((r = cl_spool_open(o->spool_dir, &o->spool, &c->sp, report)) != 0) {
		if (r == CL_ERR_FORMAT && report->valid_after > 0)
			snprintf(err, errlen,
			    "spool %s is corrupt: %s offset %llu: record %llu "
			    "is bad and %llu CRC-valid records follow it (bit "
			    "rot or tampering, not a crash); the MDF will not "
			    "start on it.  Keep a copy of the directory; "
			    "--spool-recover starts anyway, discarding the bad "
			    "bytes (see clearli-mdf(8))",
			    o->spool_dir, report->segpath,
			    (unsigned long long)report->off,
			    (unsigned long long)report->bad_seq,
			    (unsigned long long)report->valid_after);
		else if (r == CL_ERR_FORMAT)
			snprintf(err, errlen,
			    "spool %s is corrupt: %s offset %llu: %s",
			    o->spool_dir,
			    report->segpath[0] != '\0' ? report->segpath
						       : "(no segment)",
			    (unsigned long long)report->off, report->why);
		else
			snprintf(err, errlen, "spool %s: %s", o->spool_dir,
			    report->why[0] != '\0' ? report->why
						   : cl_err_str(r));
		goto fail;
	}
	if ((r = state_load(c, err, errlen)) != 0 ||
	    (r = lost_load(c, &applied, err, errlen)) != 0)
		goto fail;
	/* Everything still in the spool is newer than (or as new as) the
	 * saved state: fold it in, and skip the numbers that records lost
	 * in a recovery may have had (LOST records, in spool order). */
	(void)cl_spool_cursor_remove(c->sp, REBUILD_CUR);
	if ((r = cl_spool_cursor_open(c->sp, REBUILD_CUR, &cur)) != 0) {
		snprintf(err, errlen, "spool %s: rebuild cursor: %s",
		    o->spool_dir,
		    r == CL_ERR_SYSTEM ? cl_spool_error(c->sp) : cl_err_str(r));
		goto fail;
	}
	li = 0;
	for (;;) {
		r = cl_spool_cursor_next(cur, &rec);
		while (cl_spool_lost_at(c->sp, li, &lseq, &ln) &&
		    (r != 0 || lseq < rec.seq)) {
			li++;
			if (lseq <= applied)
				continue; /* the saved state has it */
			advance_all(c, ln);
			applied = lseq;
			advanced = true;
		}
		if (r != 0)
			break;
		if ((r = rebuild_one(c, &rec, now)) != 0) {
			snprintf(err, errlen, "spool record %llu: %s",
			    (unsigned long long)rec.seq,
			    r == CL_ERR_FULL ? "more communications than "
					       "--max-flows allows"
				: r == CL_ERR_FORMAT ? "not an MDF record"
						     : cl_err_str(r));
			goto fail;
		}
		n++;
	}
	if (r != CL_ERR_AGAIN) {
		snprintf(err, errlen, "spool %s: reading it back: %s",
		    o->spool_dir,
		    r == CL_ERR_SYSTEM ? cl_spool_error(c->sp) : cl_err_str(r));
		goto fail;
	}
	if ((r = cl_spool_cursor_remove(c->sp, REBUILD_CUR)) != 0) {
		snprintf(err, errlen, "spool %s: %s", o->spool_dir,
		    r == CL_ERR_SYSTEM ? cl_spool_error(c->sp) : cl_err_str(r));
		goto fail;
	}
	/* The advanced numbers must outlive this process before anything
	 * new is numbered: state first, then the mark that it has them. */
	if (advanced) {
		if ((r = state_save(c)) != 0) {
			snprintf(err, errlen, "saving %s: %s", c->state_path,
			    strerror(errno));
			goto fail;
		}
		if ((r = lost_save(c, applied, err, errlen)) != 0)
			goto fail;
	}
	if (report != NULL)
		c->st.spool_lost_records = report->lost_records;
	cl_info("mdf: state rebuilt: %llu records in the spool, %zu "
		"communications, %zu POI tasks",
	    (unsigned long long)n, c->flows.n, c->dds.n);
	*out = c;
	return 0;
fail:
	mdf_core_close(c);
	return r;
}

int
mdf_core_close(struct mdf_core *c)
{
	void *v;
	size_t pos;
	int r = 0;

	if (c == NULL)
		return 0;
	if (c->sp != NULL)
		r = cl_spool_close(c->sp);
	pos = 0;
	while ((v = cl_htab_next(&c->flows, &pos)) != NULL)
		flow_free(v);
	pos = 0;
	while ((v = cl_htab_next(&c->dds, &pos)) != NULL)
		dd_free(v);
	pos = 0;
	while ((v = cl_htab_next(&c->shares, &pos)) != NULL)
		free(v);
	cl_htab_release(&c->flows);
	cl_htab_release(&c->dds);
	cl_htab_release(&c->shares);
	cl_buf_release(&c->rec);
	free(c);
	return r;
}

struct cl_spool *
mdf_core_spool(struct mdf_core *c)
{
	return c->sp;
}

const struct mdf_stats *
mdf_core_stats(const struct mdf_core *c)
{
	return &c->st;
}

int
mdf_core_release(struct mdf_core *c, unsigned *nfreed)
{
	uint64_t durable;
	int r;

	if (nfreed != NULL)
		*nfreed = 0;
	if (!cl_spool_releasable(c->sp))
		return 0;
	/* The records about to go are the only other place the state is
	 * written: save it first.  It must hold nothing that a crash could
	 * still take from the spool (a window entry for a record never
	 * acknowledged would turn the POI's resend into a "repeat"): make
	 * every appended record durable first. */
	if ((r = cl_spool_sync(c->sp, &durable)) != 0 ||
	    (r = state_save(c)) != 0)
		return r;
	return cl_spool_release(c->sp, nfreed);
}
