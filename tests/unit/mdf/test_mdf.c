/* SPDX-License-Identifier: ISC */
/*
 * Tests for the MDF's mediation core (mdf/ingest.c) and mdf_tri_peek()
 * (mdf/stream.c).  X2/X3 PDUs go in through mdf_core_ingest(); what the
 * core wrote is read back from the spool with a cursor, split with
 * mdf_meta_parse() and checked with this file's own walk over the BER
 * (lib/ber.h's TLV reader only), so the encoder's claims are not trusted:
 * LIID, CIN and sequence numbers per (LIID, CIN) and kind, packet bytes,
 * payload direction, IRI types and IPIRI fields, duplicates and POI
 * restarts, state after a restart (with and without released segments),
 * IntegrityCheck PDUs verified with the public key, a full spool, and
 * malformed input to the parsers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ber.h"
#include "proto/binding.h"
#include "buf.h"
#include "err.h"
#include "harness.h"
#include "mdf.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "spool.h"
#include "stream.h"
#include "x2x3.h"

#define CTX  CL_BER_CONTEXT
#define CTXC (CL_BER_CONTEXT | CL_BER_CONSTRUCTED)
#define SEQC (CL_BER_UNIVERSAL | CL_BER_CONSTRUCTED)

#define POI     "poi-a.example"
#define TS_SEC  1700000000u /* 2023-11-14 22:13:20 UTC */
#define TS_NSEC 123456789u
#define NOW_MS  1000u
#define REAL_NS UINT64_C(1800000000000000000)

#define TASK_A   1 /* XID starting with 1: LIID-A */
#define TASK_B   2 /* LIID-B */
#define TASK_UNK 0xee
#define LIID_A   "LIID-A"
#define LIID_B   "LIID-B"

/* One test's world: a spool directory and the core over it. */
static struct {
	char root[256];
	char dir[300];
	struct mdf_core *c;
	struct mdf_core_opts o;
	EVP_PKEY *key;
	bool sign_fail;
	unsigned sign_calls;
} g;

/* A spool record as read back. */
struct trec {
	uint64_t sseq; /* spool sequence number */
	uint16_t type;
	struct mdf_meta m;
	uint8_t *pdu;
	size_t len;
};

struct trecs {
	struct trec *v;
	size_t n;
};

static void
rm_tree(const char *dir)
{
	char path[600];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Undoes whatever the previous test left (a failed CHECK skips its own
 * clean-up). */
static void
env_clear(void)
{
	if (g.c != NULL)
		(void)mdf_core_close(g.c);
	g.c = NULL;
	if (g.root[0] != '\0')
		rm_tree(g.root);
	EVP_PKEY_free(g.key);
	memset(&g, 0, sizeof(g));
}

/* A fresh directory and default options (core not yet open). */
static void
env_new(void)
{
	const char *base = getenv("TMPDIR");

	env_clear();
	snprintf(g.root, sizeof(g.root), "%s/mdf-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(g.root) == NULL)
		cl_test_fail(
		    __FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	snprintf(g.dir, sizeof(g.dir), "%s/spool", g.root);
	g.o.spool_dir = g.dir;
	g.o.spool.fsync = CL_SPOOL_FSYNC_NEVER; /* tests sync explicitly */
	g.o.operator_id = "clearli-op";
	g.o.ne_id = "mdf1";
	g.o.country = "DE";
}

static void
core_open(struct cl_spool_report *rep)
{
	char err[256] = "";
	int r;

	r = mdf_core_open(&g.o, &g.c, rep, err, sizeof(err));
	if (r != 0)
		cl_test_fail(__FILE__, __LINE__, "mdf_core_open: %s: %s",
		    cl_err_str(r), err);
}

static void
core_reopen(struct cl_spool_report *rep)
{
	uint64_t d;

	CHECK_INT_EQ(cl_spool_sync(mdf_core_spool(g.c), &d), 0);
	CHECK_INT_EQ(mdf_core_close(g.c), 0);
	g.c = NULL;
	core_open(rep);
}

static const char *
liid_of(void *arg, const uint8_t xid[16])
{
	(void)arg;
	switch (xid[0]) {
	case TASK_A:
		return LIID_A;
	case TASK_B:
		return LIID_B;
	default:
		return NULL;
	}
}

/* An X2 or X3 PDU for task, correlation cid, POI sequence seqno. */
static struct cl_x2x3_pdu
mkpdu(uint16_t type, uint8_t task, uint8_t cid, uint32_t seqno, uint32_t ts_sec,
    uint16_t pformat, uint16_t pdir, const uint8_t *pl, size_t len)
{
	struct cl_x2x3_pdu p;
	unsigned i;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.pformat = pformat;
	p.pdir = pdir;
	for (i = 0; i < 16; i++)
		p.xid[i] = (uint8_t)(task + i * 17);
	p.xid[0] = task;
	p.cid[7] = cid;
	p.has_seqno = true;
	p.seqno = seqno;
	p.has_ts = true;
	p.ts_sec = ts_sec;
	p.ts_nsec = TS_NSEC;
	p.ipid.p = (const uint8_t *)"poi-1";
	p.ipid.len = 5;
	p.payload.p = pl;
	p.payload.len = len;
	return p;
}

/* 64 KiB segments (records then must stay below them). */
static void
small_segments(void)
{
	g.o.spool.seg_max = CL_SPOOL_SEG_MIN;
	g.o.spool.rec_max = 16384;
}

static int
ingest(const struct cl_x2x3_pdu *p, enum mdf_verdict *v)
{
	return mdf_core_ingest(g.c, POI, p, liid_of, NULL, NOW_MS, REAL_NS, v);
}

/* Ingests p and requires verdict want. */
#define INGEST(p, want)                                                        \
	do {                                                                   \
		enum mdf_verdict v_;                                           \
		int r_ = ingest((p), &v_);                                     \
		if (r_ != 0)                                                   \
			cl_test_fail(                                          \
			    __FILE__, __LINE__, "ingest: %s", cl_err_str(r_)); \
		CHECK_INT_EQ(v_, (want));                                      \
	} while (0)

/* A fake IPv4 packet of len octets whose bytes depend on tag. */
static uint8_t *
mkpacket(size_t len, unsigned tag)
{
	uint8_t *p = malloc(len);
	size_t i;

	if (p == NULL)
		cl_test_fail(__FILE__, __LINE__, "malloc");
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + tag * 31);
	p[0] = 0x45;
	return p;
}

static void
trecs_free(struct trecs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->v[i].pdu);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

/* The records the core wrote: every record with spool seq > after. */
static struct trecs g_rs;

static void
read_all(uint64_t after)
{
	struct cl_spool *sp = mdf_core_spool(g.c);
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	struct cl_span pdu;
	uint64_t d;
	int r;

	trecs_free(&g_rs);
	CHECK_INT_EQ(cl_spool_sync(sp, &d), 0);
	(void)cl_spool_cursor_remove(sp, "tread");
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "tread", &cur), 0);
	while ((r = cl_spool_cursor_next(cur, &rec)) == 0) {
		struct trec *t;
		void *nv;

		if (rec.seq <= after)
			continue;
		if ((nv = realloc(g_rs.v, (g_rs.n + 1) * sizeof(*t))) == NULL)
			cl_test_fail(__FILE__, __LINE__, "realloc");
		g_rs.v = nv;
		t = &g_rs.v[g_rs.n];
		memset(t, 0, sizeof(*t));
		t->sseq = rec.seq;
		t->type = rec.type;
		if (mdf_meta_parse(
			rec.payload.p, rec.payload.len, &t->m, &pdu) != 0)
			cl_test_fail(__FILE__, __LINE__,
			    "record %llu: mdf_meta_parse failed",
			    (unsigned long long)rec.seq);
		if ((t->pdu = malloc(pdu.len)) == NULL)
			cl_test_fail(__FILE__, __LINE__, "malloc");
		memcpy(t->pdu, pdu.p, pdu.len);
		t->len = pdu.len;
		g_rs.n++;
	}
	CHECK_INT_EQ(r, CL_ERR_AGAIN);
	CHECK_INT_EQ(cl_spool_cursor_remove(sp, "tread"), 0);
}

/* ---- a BER walk of our own ---- */

/* The first child of in with this identifier (class | constructed) and
 * tag number; every child must be a well-formed TLV and fill in. */
static bool
ber_find(struct cl_span in, uint8_t id, uint32_t tag, struct cl_span *out)
{
	struct cl_rd rd;
	struct cl_ber_tlv t;
	bool found = false;

	cl_rd_init(&rd, in.p, in.len);
	while (cl_rd_left(&rd) > 0) {
		if (cl_ber_get_tlv(&rd, CL_BER_DER, &t) != 0)
			return false;
		if (!found &&
		    (t.cls | (t.cons ? CL_BER_CONSTRUCTED : 0)) == id &&
		    t.tag == tag) {
			*out = t.v;
			found = true;
		}
	}
	return found;
}

static struct cl_span
get_(struct cl_span in, uint8_t id, uint32_t tag, int line)
{
	struct cl_span v = {NULL, 0};

	if (!ber_find(in, id, tag, &v))
		cl_test_fail(__FILE__, line, "no element %02x/[%u]",
		    (unsigned)id, (unsigned)tag);
	return v;
}
#define GET(in, id, tag) get_((in), (id), (tag), __LINE__)

static uint64_t
uint_(struct cl_span v, int line)
{
	uint64_t u;

	if (cl_ber_get_uint64(v, &u) != 0)
		cl_test_fail(__FILE__, line, "bad INTEGER");
	return u;
}
#define UINT(v) uint_((v), __LINE__)

/* A PS-PDU opened: header fields and the payload [2] content. */
struct dpdu {
	struct cl_span hdr, payload;
	struct cl_span liid;
	uint64_t cin, seq;
};

static void
psdu_open_(const uint8_t *p, size_t len, struct dpdu *d, int line)
{
	static const uint32_t dom[] = {0, 4, 0, 2, 2, 5, 1, 43};
	struct cl_rd rd;
	struct cl_ber_tlv t;
	struct cl_span top, comm, v;
	uint32_t arcs[CL_BER_OID_MAX_ARCS];
	size_t n;

	memset(d, 0, sizeof(*d));
	cl_rd_init(&rd, p, len);
	if (cl_ber_get_tlv(&rd, CL_BER_DER, &t) != 0 || cl_rd_left(&rd) != 0 ||
	    t.cls != CL_BER_UNIVERSAL || !t.cons ||
	    t.tag != CL_BER_TAG_SEQUENCE)
		cl_test_fail(__FILE__, line, "not one PS-PDU SEQUENCE");
	top = t.v;
	if (cl_ber_walk(p, len, CL_BER_DER, CL_BER_DEPTH_MAX, NULL, NULL) != 0)
		cl_test_fail(__FILE__, line, "BER walk failed");
	d->hdr = get_(top, CTXC, 1, line);
	d->payload = get_(top, CTXC, 2, line);
	v = get_(d->hdr, CTX, 0, line);
	if (cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n) != 0 || n != 8 ||
	    memcmp(arcs, dom, sizeof(dom)) != 0)
		cl_test_fail(__FILE__, line, "li-psDomainId wrong");
	d->liid = get_(d->hdr, CTX, 1, line);
	comm = get_(d->hdr, CTXC, 3, line);
	d->cin = uint_(get_(comm, CTX, 1, line), line);
	d->seq = uint_(get_(d->hdr, CTX, 4, line), line);
}
#define PSDU_OPEN(p, len, d) psdu_open_((p), (len), (d), __LINE__)

static bool
span_is(struct cl_span s, const char *str)
{
	return s.len == strlen(str) && memcmp(s.p, str, s.len) == 0;
}

/* CC: the IPCC packet and payloadDirection of a PS-PDU. */
static struct cl_span
cc_packet(const struct dpdu *d, uint64_t *dir)
{
	struct cl_span seq, ccp, cont, ipcc, ipc;

	seq = GET(d->payload, CTXC, 1); /* cCPayloadSequence */
	ccp = GET(seq, SEQC, CL_BER_TAG_SEQUENCE);
	*dir = UINT(GET(ccp, CTX, 0));
	cont = GET(ccp, CTXC, 2); /* cCContents */
	ipcc = GET(cont, CTXC, 2);
	ipc = GET(ipcc, CTXC, 1); /* iPCCContents */
	return GET(ipc, CTX, 0);  /* iPPackets */
}

/* IRI: iRIType and the IPIRIContents of a PS-PDU. */
static struct cl_span
iri_contents(const struct dpdu *d, uint64_t *type)
{
	struct cl_span seq, ip, cont, ipiri;

	seq = GET(d->payload, CTXC, 0); /* iRIPayloadSequence */
	ip = GET(seq, SEQC, CL_BER_TAG_SEQUENCE);
	*type = UINT(GET(ip, CTX, 0));
	cont = GET(ip, CTXC, 2); /* iRIContents */
	ipiri = GET(cont, CTXC, 2);
	return GET(ipiri, CTXC, 1); /* iPIRIContents */
}

/* ---- RADIUS messages ---- */

#define RAD_ACCESS_REQUEST 1
#define RAD_ACCT_REQUEST   4
#define ACCT_START         1
#define ACCT_STOP          2
#define ACCT_INTERIM       3

/* Builds a RADIUS message in out (at least 64 octets); returns length.
 * acct 0: no Acct-Status-Type. */
static size_t
mkradius(uint8_t *out, uint8_t code, uint8_t id, const char *user,
    const uint8_t ip[4], uint32_t acct)
{
	size_t n = 20, ul = strlen(user);
	unsigned i;

	out[0] = code;
	out[1] = id;
	for (i = 0; i < 16; i++)
		out[4 + i] = (uint8_t)(0xa0 + i + id);
	out[n++] = 1; /* User-Name */
	out[n++] = (uint8_t)(2 + ul);
	memcpy(out + n, user, ul);
	n += ul;
	if (ip != NULL) {
		out[n++] = 8; /* Framed-IP-Address */
		out[n++] = 6;
		memcpy(out + n, ip, 4);
		n += 4;
	}
	if (acct != 0) {
		out[n++] = 40; /* Acct-Status-Type */
		out[n++] = 6;
		cl_store_u32(out + n, acct);
		n += 4;
	}
	cl_store_u16(out + 2, (uint16_t)n);
	return n;
}

/* ---- 1. CC ---- */

CL_TEST(cc_numbering)
{
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span pkt, v;
	uint8_t *pk[4];
	size_t plen[4] = {60, 1500, 20, 300};
	uint8_t rad[64];
	size_t rl, i;
	uint64_t dir, cin1 = 0, cin2 = 0;

	env_new();
	core_open(NULL);
	for (i = 0; i < 4; i++)
		pk[i] = mkpacket(plen[i], (unsigned)i);
	/* cid 1: three CC PDUs, alternating directions, one IRI between */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 0, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_FROM_TARGET, pk[0], plen[0]);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 1, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pk[1], plen[1]);
	INGEST(&p, MDF_STORED);
	rl = mkradius(rad, RAD_ACCESS_REQUEST, 1, "alice", NULL, 0);
	p = mkpdu(CL_X2X3_X2, TASK_A, 1, 2, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad, rl);
	INGEST(&p, MDF_STORED);
	/* cid 2 in between */
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 3, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pk[2], plen[2]);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 4, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_FROM_TARGET, pk[3], plen[3]);
	INGEST(&p, MDF_STORED);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_cc, 4);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_iri, 1);

	read_all(0);
	CHECK_INT_EQ(g_rs.n, 5);
	{
		/* record i: type, sequence number, packet, direction */
		static const uint16_t type[5] = {MDF_REC_CC, MDF_REC_CC,
		    MDF_REC_IRI, MDF_REC_CC, MDF_REC_CC};
		static const uint32_t seq[5] = {0, 1, 0, 0, 2};
		static const int pki[5] = {0, 1, -1, 2, 3};
		static const uint64_t wdir[5] = {0, 1, 0, 1, 0};
		static const uint8_t cid[5] = {1, 1, 1, 2, 1};

		for (i = 0; i < 5; i++) {
			struct trec *t = &g_rs.v[i];

			CHECK_INT_EQ(t->type, type[i]);
			CHECK_STR_EQ(t->m.liid, LIID_A);
			CHECK_INT_EQ(t->m.liid_len, 6);
			CHECK_INT_EQ(t->m.seq, seq[i]);
			CHECK_INT_EQ(t->m.x2seq, i);
			CHECK(t->m.flags & MDF_REC_F_X2SEQ);
			CHECK_INT_EQ(t->m.x2ts_ns,
			    (uint64_t)TS_SEC * 1000000000u + TS_NSEC);
			PSDU_OPEN(t->pdu, t->len, &d);
			CHECK(span_is(d.liid, LIID_A));
			CHECK_INT_EQ(d.seq, seq[i]);
			CHECK_INT_EQ(d.cin, t->m.cin);
			if (cid[i] == 1) {
				if (i == 0)
					cin1 = d.cin;
				CHECK_INT_EQ(d.cin, cin1);
			} else {
				cin2 = d.cin;
			}
			/* header: country, operator, NE, IPID, time */
			CHECK(span_is(GET(d.hdr, CTX, 2), "DE"));
			v = GET(GET(GET(d.hdr, CTXC, 3), CTXC, 0), CTX, 0);
			CHECK(span_is(v, "clearli-op"));
			v = GET(GET(GET(d.hdr, CTXC, 3), CTXC, 0), CTX, 1);
			CHECK(span_is(v, "mdf1"));
			CHECK(span_is(GET(d.hdr, CTX, 6), "poi-1"));
			v = GET(d.hdr, CTXC, 7);
			CHECK_INT_EQ(UINT(GET(v, CTX, 0)), TS_SEC);
			CHECK_INT_EQ(UINT(GET(v, CTX, 1)), TS_NSEC / 1000);
			CHECK_INT_EQ(UINT(GET(d.hdr, CTX, 8)), 1);
			{
				int64_t sec;
				uint32_t usec;

				CHECK_INT_EQ(
				    cl_ber_get_gentime(
					GET(d.hdr, CTX, 5), &sec, &usec),
				    0);
				CHECK_INT_EQ(sec, TS_SEC);
				CHECK_INT_EQ(usec, TS_NSEC / 1000);
			}
			if (pki[i] < 0)
				continue;
			pkt = cc_packet(&d, &dir);
			CHECK_INT_EQ(pkt.len, plen[pki[i]]);
			CHECK_MEM_EQ(pkt.p, pk[pki[i]], pkt.len);
			CHECK_INT_EQ(dir, wdir[i]);
		}
	}
	CHECK(cin1 != cin2);
	for (i = 0; i < 4; i++)
		free(pk[i]);
	trecs_free(&g_rs);
	env_clear();
}

/* Every X3 payload direction maps to its PayloadDirection. */
CL_TEST(cc_directions)
{
	static const uint16_t in[] = {CL_X2X3_DIR_FROM_TARGET,
	    CL_X2X3_DIR_TO_TARGET, CL_X2X3_DIR_NA, CL_X2X3_DIR_UNKNOWN,
	    CL_X2X3_DIR_MULTIPLE};
	static const uint64_t out[] = {0, 1, 4, 2, 2};
	struct cl_x2x3_pdu p;
	struct dpdu d;
	uint8_t pkt[40];
	uint64_t dir;
	size_t i;

	env_new();
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < 5; i++) {
		p = mkpdu(CL_X2X3_X3, TASK_B, 9, (uint32_t)i, TS_SEC,
		    i == 4 ? CL_X2X3_PF_IPV6 : CL_X2X3_PF_IPV4, in[i], pkt,
		    sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 5);
	for (i = 0; i < 5; i++) {
		PSDU_OPEN(g_rs.v[i].pdu, g_rs.v[i].len, &d);
		CHECK(span_is(d.liid, LIID_B));
		CHECK_INT_EQ(d.seq, i);
		(void)cc_packet(&d, &dir);
		CHECK_INT_EQ(dir, out[i]);
	}
	trecs_free(&g_rs);
	env_clear();
}

/* An X3 PDU that is not an IP packet is counted as undeliverable and
 * changes nothing else. */
CL_TEST(cc_unsupported_format)
{
	struct cl_x2x3_pdu p;
	uint8_t pkt[40];

	env_new();
	core_open(NULL);
	memset(pkt, 0x11, sizeof(pkt));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 0, TS_SEC, CL_X2X3_PF_ETHERNET,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_UNDELIVERABLE);
	p.pformat = 16; /* 3GPP unstructured PDU */
	INGEST(&p, MDF_UNDELIVERABLE);
	CHECK_INT_EQ(mdf_core_stats(g.c)->undeliverable[MDF_UND_FORMAT], 2);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_cc, 0);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 0, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED); /* the same seqno is no duplicate */
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 1);
	CHECK_INT_EQ(g_rs.v[0].m.seq, 0);
	trecs_free(&g_rs);
	env_clear();
}

/* A PDU without a time stamp gets the MDF's clock, timeOfMediation. */
CL_TEST(cc_no_timestamp)
{
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span v;
	uint8_t pkt[30];

	env_new();
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 0, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	p.has_ts = false;
	INGEST(&p, MDF_STORED);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 1);
	CHECK_INT_EQ(g_rs.v[0].m.x2ts_ns, REAL_NS);
	PSDU_OPEN(g_rs.v[0].pdu, g_rs.v[0].len, &d);
	CHECK_INT_EQ(UINT(GET(d.hdr, CTX, 8)), 2);
	v = GET(d.hdr, CTXC, 7);
	CHECK_INT_EQ(UINT(GET(v, CTX, 0)), REAL_NS / 1000000000u);
	CHECK_INT_EQ(UINT(GET(v, CTX, 1)), 0);
	trecs_free(&g_rs);
	env_clear();
}

/*
 * interceptionPointID only if the IPID is a PrintableString of 1 to 8
 * characters; otherwise the PDU is stored without it.
 */
CL_TEST(cc_ipid)
{
	static const struct {
		const char *ipid;
		size_t len;
		const char *want; /* NULL: absent */
	} ex[] = {
	    {"abcdefgh", 8, "abcdefgh"},
	    {"abcdefghi", 9, NULL},
	    {"a_b", 3, NULL},
	    {"a\0b", 3, NULL},
	    {"\0", 1, NULL},
	};
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span v;
	uint8_t pkt[30];
	size_t i;

	env_new();
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, (uint8_t)(10 + i), (uint32_t)i,
		    TS_SEC, CL_X2X3_PF_IPV4, CL_X2X3_DIR_TO_TARGET, pkt,
		    sizeof(pkt));
		p.ipid.p = (const uint8_t *)ex[i].ipid;
		p.ipid.len = ex[i].len;
		INGEST(&p, MDF_STORED);
	}
	read_all(0);
	CHECK_INT_EQ(g_rs.n, sizeof(ex) / sizeof(ex[0]));
	for (i = 0; i < g_rs.n; i++) {
		PSDU_OPEN(g_rs.v[i].pdu, g_rs.v[i].len, &d);
		if (ex[i].want == NULL)
			CHECK(!ber_find(d.hdr, CTX, 6, &v));
		else
			CHECK(ber_find(d.hdr, CTX, 6, &v) &&
			    span_is(v, ex[i].want));
	}
	trecs_free(&g_rs);
	env_clear();
}

/* At the flow limit a new communication is refused (counted, not an
 * error); old ones go on. */
CL_TEST(flow_limit)
{
	struct cl_x2x3_pdu p;
	enum mdf_verdict v;
	uint8_t pkt[30];

	env_new();
	g.o.max_flows = 2;
	g.o.max_flows_poi = 2;
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 0, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 1, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 3, 2, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	CHECK_INT_EQ(ingest(&p, &v), 0);
	CHECK_INT_EQ(v, MDF_REFUSED);
	CHECK_INT_EQ(mdf_core_stats(g.c)->refused, 1);
	CHECK_INT_EQ(mdf_core_stats(g.c)->flows, 2);
	/* refused is no repeat: the same PDU is refused again, not dropped */
	CHECK_INT_EQ(ingest(&p, &v), 0);
	CHECK_INT_EQ(v, MDF_REFUSED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 3, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 3);
	CHECK_INT_EQ(g_rs.v[2].m.seq, 1);
	trecs_free(&g_rs);
	env_clear();
}

/* ---- 2. IRI ---- */

CL_TEST(iri_radius_session)
{
	static const uint8_t ip[4] = {100, 64, 1, 42};
	/* code, acct status, IRI type, accessEventType */
	static const struct {
		uint8_t code;
		uint32_t acct;
		uint64_t type, event;
		bool addr;
	} ex[] = {
	    {RAD_ACCESS_REQUEST, 0, CL_PSDU_IRI_BEGIN, 0, false},
	    {RAD_ACCT_REQUEST, ACCT_START, CL_PSDU_IRI_CONTINUE, 1, true},
	    {RAD_ACCT_REQUEST, ACCT_INTERIM, CL_PSDU_IRI_CONTINUE, 6, true},
	    {RAD_ACCT_REQUEST, ACCT_STOP, CL_PSDU_IRI_END, 8, true},
	    {RAD_ACCT_REQUEST, ACCT_INTERIM, CL_PSDU_IRI_REPORT, 6, true},
	};
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span c, a, raw, s;
	uint8_t rad[5][64];
	size_t rl[5], i;
	uint64_t type;
	bool has;

	env_new();
	core_open(NULL);
	for (i = 0; i < 5; i++) {
		rl[i] = mkradius(rad[i], ex[i].code, (uint8_t)(i + 1), "alice",
		    ip, ex[i].acct);
		p = mkpdu(CL_X2X3_X2, TASK_A, 3, (uint32_t)i, TS_SEC,
		    CL_X2X3_PF_RADIUS, CL_X2X3_DIR_UNKNOWN, rad[i], rl[i]);
		INGEST(&p, MDF_STORED);
	}
	CHECK_INT_EQ(mdf_core_stats(g.c)->x2_unparsed, 0);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 5);
	for (i = 0; i < 5; i++) {
		struct trec *t = &g_rs.v[i];

		CHECK_INT_EQ(t->type, MDF_REC_IRI);
		CHECK_INT_EQ(t->m.seq, i);
		CHECK_INT_EQ(!!(t->m.flags & MDF_REC_F_IRI_END), i == 3);
		PSDU_OPEN(t->pdu, t->len, &d);
		CHECK_INT_EQ(d.seq, i);
		c = iri_contents(&d, &type);
		CHECK_INT_EQ(type, ex[i].type);
		CHECK_INT_EQ(UINT(GET(c, CTX, 0)), ex[i].event);
		CHECK(span_is(GET(c, CTX, 1), "alice"));
		CHECK_INT_EQ(UINT(GET(c, CTX, 3)), 1); /* iPV4 */
		has = ber_find(c, CTXC, 4, &a);
		CHECK_INT_EQ(has, ex[i].addr);
		if (has) {
			CHECK_INT_EQ(UINT(GET(a, CTX, 1)), 0); /* iPV4 */
			s = GET(GET(a, CTXC, 2), CTX, 1);
			CHECK_INT_EQ(s.len, 4);
			CHECK_MEM_EQ(s.p, ip, 4);
		}
		raw = GET(c, CTX, 15); /* rawAAAData */
		CHECK_INT_EQ(raw.len, rl[i]);
		CHECK_MEM_EQ(raw.p, rad[i], rl[i]);
		/* endTime on the END only; startTime on the BEGIN and the
		 * session start */
		CHECK_INT_EQ(ber_find(c, CTX, 11, &s), i == 3);
		CHECK_INT_EQ(ber_find(c, CTX, 10, &s), i <= 1);
		if (i <= 1) {
			int64_t sec;
			uint32_t usec;

			CHECK_INT_EQ(cl_ber_get_gentime(s, &sec, &usec), 0);
			CHECK_INT_EQ(sec, TS_SEC);
			CHECK_INT_EQ(usec, TS_NSEC / 1000);
		}
	}
	trecs_free(&g_rs);
	env_clear();
}

/* An Access-Reject as the first IRI is a REPORT; one after a start an END. */
CL_TEST(iri_reject)
{
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span c;
	uint8_t rad[2][64];
	size_t rl;
	uint64_t type;

	env_new();
	core_open(NULL);
	rl = mkradius(rad[0], 3, 1, "bob", NULL, 0);
	p = mkpdu(CL_X2X3_X2, TASK_A, 4, 0, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad[0], rl);
	INGEST(&p, MDF_STORED);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 1);
	PSDU_OPEN(g_rs.v[0].pdu, g_rs.v[0].len, &d);
	c = iri_contents(&d, &type);
	CHECK_INT_EQ(type, CL_PSDU_IRI_REPORT);
	CHECK_INT_EQ(UINT(GET(c, CTX, 0)), 2); /* accessReject */
	trecs_free(&g_rs);
	env_clear();
}

/* Payloads clearli cannot parse still give an IRI. */
CL_TEST(iri_unparsed)
{
	static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span c;
	uint64_t type;

	env_new();
	core_open(NULL);
	p = mkpdu(CL_X2X3_X2, TASK_B, 5, 0, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, junk, sizeof(junk));
	p.mti.p = (const uint8_t *)"carol";
	p.mti.len = 5;
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X2, TASK_B, 5, 1, TS_SEC, CL_X2X3_PF_SIP,
	    CL_X2X3_DIR_UNKNOWN, junk, sizeof(junk));
	INGEST(&p, MDF_STORED);
	CHECK_INT_EQ(mdf_core_stats(g.c)->x2_unparsed, 2);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_iri, 2);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 2);
	PSDU_OPEN(g_rs.v[0].pdu, g_rs.v[0].len, &d);
	CHECK(span_is(d.liid, LIID_B));
	c = iri_contents(&d, &type);
	CHECK_INT_EQ(type, CL_PSDU_IRI_REPORT);  /* begins nothing */
	CHECK_INT_EQ(UINT(GET(c, CTX, 0)), 10);  /* unknown */
	CHECK(span_is(GET(c, CTX, 1), "carol")); /* from the MTI */
	{
		struct cl_span raw = GET(c, CTX, 15); /* rawAAAData */

		CHECK(raw.len == sizeof(junk) &&
		    memcmp(raw.p, junk, sizeof(junk)) == 0);
	}
	PSDU_OPEN(g_rs.v[1].pdu, g_rs.v[1].len, &d);
	CHECK_INT_EQ(d.seq, 1);
	c = iri_contents(&d, &type);
	CHECK_INT_EQ(type, CL_PSDU_IRI_REPORT);
	trecs_free(&g_rs);
	env_clear();
}

/*
 * DHCPv6 from an IPv6 source: an IRI with no address bound (a Solicit)
 * must still say iPVersion iPV6(2); mdf_x2_ipiri() starts from the source
 * family but iri_addr() then overwrites it.
 */
CL_TEST(iri_dhcp6_ipversion)
{
	static const uint8_t solicit[] = {0x01, 0x12, 0x34, 0x56};
	struct cl_x2x3_pdu p;
	struct cl_psdu_ipiri iri;
	int op;
	bool rej;

	memset(&p, 0, sizeof(p));
	p.type = CL_X2X3_X2;
	p.pformat = CL_X2X3_PF_DHCP;
	p.src.family = 6;
	p.src.a[0] = 0xfe;
	p.src.a[1] = 0x80;
	p.src.a[15] = 1;
	p.payload.p = solicit;
	p.payload.len = sizeof(solicit);
	CHECK_INT_EQ(mdf_x2_ipiri(&p, &iri, &op, &rej), 0);
	CHECK_INT_EQ(iri.access_event, 0); /* accessAttempt */
	CHECK_INT_EQ(iri.target.family, 0);
	CHECK_INT_EQ(iri.ip_version, 2);
}

/* ---- 3, 4. duplicates, POI restart, unknown task ---- */

CL_TEST(dedup_and_unknown)
{
	struct cl_x2x3_pdu p;
	uint8_t pkt[30];

	env_new();
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 7, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	INGEST(&p, MDF_DUPLICATE);
	CHECK_INT_EQ(mdf_core_stats(g.c)->duplicates, 1);
	/* a lower seq never seen, same time: new, whatever the numbers */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 6, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	INGEST(&p, MDF_DUPLICATE);
	/* the same seq from another POI is its own */
	{
		enum mdf_verdict v;

		CHECK_INT_EQ(mdf_core_ingest(g.c, "poi-b", &p, liid_of, NULL,
				 NOW_MS, REAL_NS, &v),
		    0);
		CHECK_INT_EQ(v, MDF_STORED);
	}
	/* the seq again, with a later time stamp: other content */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 6, TS_SEC + 60, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_CONFLICT);
	CHECK_INT_EQ(mdf_core_stats(g.c)->conflicts, 1);
	INGEST(&p, MDF_DUPLICATE);
	CHECK_INT_EQ(mdf_core_stats(g.c)->duplicates, 3);
	/* unknown task: counted, nothing stored */
	p = mkpdu(CL_X2X3_X3, TASK_UNK, 1, 100, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_UNKNOWN_TASK);
	CHECK_INT_EQ(mdf_core_stats(g.c)->unknown_task, 1);
	/* keepalives are ignored */
	cl_x2x3_keepalive(&p, false, 3);
	INGEST(&p, MDF_IGNORED);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 4);
	CHECK_INT_EQ(g_rs.v[0].m.seq, 0);
	CHECK_INT_EQ(g_rs.v[1].m.seq, 1); /* same POI and CID: same flow */
	CHECK(g_rs.v[2].m.cin != g_rs.v[0].m.cin); /* poi-b: another CIN */
	CHECK_INT_EQ(g_rs.v[2].m.seq, 0);
	CHECK_INT_EQ(g_rs.v[3].m.seq, 2);
	trecs_free(&g_rs);
	env_clear();
}

static void fill_cc(uint8_t cid, uint32_t first, uint32_t n, size_t len);

/*
 * A POI restarts with its clock stepped back: it numbers from 0 again
 * with time stamps below the ones stored.  Every one of those PDUs is new
 * data and must be stored (counted as conflicts), not dropped as repeats;
 * their exact resends are then repeats.  The same holds after an MDF
 * restart, from the spool records alone.
 */
CL_TEST(dedup_clock_back)
{
	struct cl_x2x3_pdu p;
	uint8_t *old, *new;
	uint32_t i;

	env_new();
	core_open(NULL);
	old = mkpacket(60, 1);
	new = mkpacket(60, 2);
	for (i = 0; i < 10; i++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC + 3600,
		    CL_X2X3_PF_IPV4, CL_X2X3_DIR_TO_TARGET, old, 60);
		INGEST(&p, MDF_STORED);
	}
	/* the restarted POI: same numbers, an hour earlier, other bytes */
	for (i = 0; i < 5; i++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, new, 60);
		INGEST(&p, MDF_CONFLICT);
		INGEST(&p, MDF_DUPLICATE); /* its resend */
	}
	CHECK_INT_EQ(mdf_core_stats(g.c)->conflicts, 5);
	CHECK_INT_EQ(mdf_core_stats(g.c)->duplicates, 5);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_cc, 15);
	/* same number and bytes, another time stamp: other content too */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 7, TS_SEC + 3601, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, old, 60);
	INGEST(&p, MDF_CONFLICT);

	/* after a restart, rebuilt from the spool records */
	core_reopen(NULL);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 3, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, new, 60);
	INGEST(&p, MDF_DUPLICATE); /* the newest content of seq 3 */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 8, TS_SEC + 3600, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, old, 60);
	INGEST(&p, MDF_DUPLICATE);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 8, TS_SEC + 1, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, new, 60);
	INGEST(&p, MDF_CONFLICT);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 5, TS_SEC + 1, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, new, 60);
	INGEST(&p, MDF_CONFLICT);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 18);
	CHECK_INT_EQ(g_rs.v[17].m.seq, 17); /* numbered on, no gap */
	free(old);
	free(new);
	trecs_free(&g_rs);
	env_clear();
}

/*
 * The window is bounded: a resend older than the last dedup_window
 * numbers of that (POI, task) is stored again (a visible duplicate,
 * never a silent drop); newer ones are still recognised.
 */
CL_TEST(dedup_window_bounded)
{
	struct cl_x2x3_pdu p;
	uint8_t *pkt;

	env_new();
	g.o.dedup_window = 64;
	core_open(NULL);
	fill_cc(1, 0, 200, 40);
	pkt = mkpacket(40, 1);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 199, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 40);
	INGEST(&p, MDF_DUPLICATE);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 136, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 40);
	INGEST(&p, MDF_DUPLICATE);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 10, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 40);
	INGEST(&p, MDF_STORED);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_cc, 201);
	free(pkt);
	env_clear();
}

/*
 * Each POI has its own share of communications: one that used its share
 * is refused new ones (nothing stored, nothing changed, so the caller can
 * leave them unacknowledged), while another POI still opens new ones.
 * The shares survive a restart.
 */
CL_TEST(flow_limit_per_poi)
{
	struct cl_x2x3_pdu p;
	enum mdf_verdict v;
	uint8_t pkt[30];
	uint8_t cid;

	env_new();
	g.o.max_flows = 10;
	g.o.max_flows_poi = 3;
	core_open(NULL);
	CHECK_INT_EQ(mdf_core_stats(g.c)->max_flows_poi, 3);
	memset(pkt, 0x45, sizeof(pkt));
	for (cid = 1; cid <= 3; cid++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, cid, cid, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	p = mkpdu(CL_X2X3_X3, TASK_A, 4, 4, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	CHECK_INT_EQ(ingest(&p, &v), 0);
	CHECK_INT_EQ(v, MDF_REFUSED);
	/* another POI: its own share */
	for (cid = 1; cid <= 3; cid++) {
		p = mkpdu(CL_X2X3_X3, TASK_B, cid, cid, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		CHECK_INT_EQ(mdf_core_ingest(g.c, "poi-b", &p, liid_of, NULL,
				 NOW_MS, REAL_NS, &v),
		    0);
		CHECK_INT_EQ(v, MDF_STORED);
	}
	CHECK_INT_EQ(mdf_core_stats(g.c)->flows, 6);
	/* the first POI's old communications go on */
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 5, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	core_reopen(NULL);
	p = mkpdu(CL_X2X3_X3, TASK_A, 4, 4, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	CHECK_INT_EQ(ingest(&p, &v), 0);
	CHECK_INT_EQ(v, MDF_REFUSED);
	p = mkpdu(CL_X2X3_X3, TASK_B, 9, 9, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	CHECK_INT_EQ(mdf_core_ingest(
			 g.c, "poi-c", &p, liid_of, NULL, NOW_MS, REAL_NS, &v),
	    0);
	CHECK_INT_EQ(v, MDF_STORED);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 8);
	trecs_free(&g_rs);
	env_clear();
}

/* A GTP-U header of 8 octets (plus options) before body. */
static size_t
mkgtpu(uint8_t *out, uint8_t flags, uint8_t type, const uint8_t *opt,
    size_t optlen, const uint8_t *body, size_t len)
{
	out[0] = flags;
	out[1] = type;
	cl_store_u16(out + 2, (uint16_t)(optlen + len));
	cl_store_u32(out + 4, 0x00c0ffee);
	if (optlen > 0)
		memcpy(out + 8, opt, optlen);
	if (len > 0)
		memcpy(out + 8 + optlen, body, len);
	return 8 + optlen + len;
}

/*
 * X3 payload format 12: the IP packet inside the GTP-U T-PDU is
 * delivered as IPCC; anything else in format 12 (an echo, a length that
 * does not match, an inner packet that is not one whole IP packet) is
 * counted as undeliverable, nothing stored.
 */
CL_TEST(cc_gtpu)
{
	static const uint8_t ext[] = {0, 0, 0, 0x85, 1, 0x09, 0, 0};
	struct cl_x2x3_pdu p;
	struct dpdu d;
	struct cl_span c;
	uint64_t dir;
	uint8_t ip[48], g1[128];
	size_t n;

	env_new();
	core_open(NULL);
	memset(ip, 0x77, sizeof(ip));
	ip[0] = 0x45;
	cl_store_u16(ip + 2, sizeof(ip));
	n = mkgtpu(g1, 0x30, 0xff, NULL, 0, ip, sizeof(ip));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 0, TS_SEC, CL_X2X3_PF_GTPU,
	    CL_X2X3_DIR_FROM_TARGET, g1, n);
	INGEST(&p, MDF_STORED);
	n = mkgtpu(g1, 0x34, 0xff, ext, sizeof(ext), ip, sizeof(ip));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 1, TS_SEC, CL_X2X3_PF_GTPU,
	    CL_X2X3_DIR_FROM_TARGET, g1, n);
	INGEST(&p, MDF_STORED);
	/* not deliverable: echo request, trailing octets, a short inner
	 * packet, an IPv4 total length that disagrees */
	n = mkgtpu(g1, 0x30, 0x01, NULL, 0, NULL, 0);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 2, TS_SEC, CL_X2X3_PF_GTPU,
	    CL_X2X3_DIR_FROM_TARGET, g1, n);
	INGEST(&p, MDF_UNDELIVERABLE);
	n = mkgtpu(g1, 0x30, 0xff, NULL, 0, ip, sizeof(ip));
	g1[n] = 0;
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 3, TS_SEC, CL_X2X3_PF_GTPU,
	    CL_X2X3_DIR_FROM_TARGET, g1, n + 1);
	INGEST(&p, MDF_UNDELIVERABLE);
	n = mkgtpu(g1, 0x30, 0xff, NULL, 0, ip, 19);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 4, TS_SEC, CL_X2X3_PF_GTPU,
	    CL_X2X3_DIR_FROM_TARGET, g1, n);
	INGEST(&p, MDF_UNDELIVERABLE);
	n = mkgtpu(g1, 0x30, 0xff, NULL, 0, ip, sizeof(ip) - 4);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 5, TS_SEC, CL_X2X3_PF_GTPU,
	    CL_X2X3_DIR_FROM_TARGET, g1, n);
	INGEST(&p, MDF_UNDELIVERABLE);
	CHECK_INT_EQ(mdf_core_stats(g.c)->undeliverable[MDF_UND_GTPU], 4);
	CHECK_INT_EQ(mdf_core_stats(g.c)->undeliverable[MDF_UND_FORMAT], 0);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 2);
	for (n = 0; n < 2; n++) {
		PSDU_OPEN(g_rs.v[n].pdu, g_rs.v[n].len, &d);
		CHECK_INT_EQ(d.seq, n);
		c = cc_packet(&d, &dir);
		CHECK(c.len == sizeof(ip) && memcmp(c.p, ip, sizeof(ip)) == 0);
	}
	trecs_free(&g_rs);
	env_clear();
}

/*
 * A RADIUS payload whose Length field says 1028 octets in a 30-octet
 * message, or whose attribute runs past the message, must not become an
 * IRI that looks valid: an IRI-REPORT with the raw message and no parsed
 * field (no user name from it, no address), counted in x2_unparsed; it
 * opens no communication, so the next valid Accounting-Start is the
 * IRI-BEGIN.
 */
CL_TEST(iri_radius_malformed)
{
	static const uint8_t len1028[30] = {0x04, 0x07, 0x04, 0x04, 0xa0, 0xa1,
	    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
	    0xad, 0xae, 0xaf, 0x01, 0x08, 'm', 'a', 'l', 'l', 'o', 'r', 0x00,
	    0x00};
	static const uint8_t attr_past[32] = {0x04, 0x07, 0x00, 0x20, 0xa0,
	    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	    0xac, 0xad, 0xae, 0xaf, 0x01, 0x09, 'm', 'a', 'l', 'l', 'o', 'r',
	    'y', 0x08, 0xc8, 'x'};
	const uint8_t *bad[2] = {len1028, attr_past};
	size_t badlen[2] = {sizeof(len1028), sizeof(attr_past)};
	struct cl_x2x3_pdu p;
	struct cl_psdu_ipiri iri;
	struct dpdu d;
	struct cl_span c, v;
	uint64_t type;
	int op, i;
	bool rej;

	env_new();
	core_open(NULL);
	for (i = 0; i < 2; i++) {
		p = mkpdu(CL_X2X3_X2, TASK_A, 1, (uint32_t)i, TS_SEC,
		    CL_X2X3_PF_RADIUS, CL_X2X3_DIR_UNKNOWN, bad[i], badlen[i]);
		CHECK_INT_EQ(mdf_x2_ipiri(&p, &iri, &op, &rej), CL_ERR_FORMAT);
		CHECK(iri.username == NULL);
		CHECK_INT_EQ(iri.target.family, 0);
		CHECK_INT_EQ(op, CL_BIND_NONE);
		CHECK(iri.raw_aaa == bad[i] && iri.raw_aaa_len == badlen[i]);
		INGEST(&p, MDF_STORED);
	}
	CHECK_INT_EQ(mdf_core_stats(g.c)->x2_unparsed, 2);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 2);
	for (i = 0; i < 2; i++) {
		CHECK(!(g_rs.v[i].m.flags & MDF_REC_F_IRI_END));
		PSDU_OPEN(g_rs.v[i].pdu, g_rs.v[i].len, &d);
		c = iri_contents(&d, &type);
		CHECK_INT_EQ(type, CL_PSDU_IRI_REPORT);
		CHECK_INT_EQ(UINT(GET(c, CTX, 0)), 10); /* unknown */
		CHECK_INT_EQ(GET(c, CTX, 1).len, 0);    /* no user name */
		CHECK(!ber_find(c, CTXC, 3, &v));       /* no address */
		v = GET(c, CTX, 15);
		CHECK(v.len == badlen[i] && memcmp(v.p, bad[i], v.len) == 0);
	}
	trecs_free(&g_rs);
	env_clear();
}

/* ---- 5. restart ---- */

CL_TEST(restart_continues)
{
	struct cl_x2x3_pdu p;
	struct cl_spool_report rep;
	uint8_t pkt[50], rad[2][64];
	size_t rl[2];
	uint32_t i;
	uint64_t type, cin;
	struct dpdu d;

	env_new();
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < 5; i++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	rl[0] = mkradius(rad[0], RAD_ACCT_REQUEST, 1, "u", NULL, ACCT_START);
	rl[1] = mkradius(rad[1], RAD_ACCT_REQUEST, 2, "u", NULL, ACCT_STOP);
	p = mkpdu(CL_X2X3_X2, TASK_A, 1, 5, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad[0], rl[0]);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X2, TASK_A, 1, 6, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad[1], rl[1]);
	INGEST(&p, MDF_STORED);
	read_all(0);
	cin = g_rs.v[0].m.cin;

	core_reopen(&rep);
	CHECK_INT_EQ(rep.next_seq, 8);
	/* numbering continues */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 7, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	/* stored PDUs are duplicates */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 3, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_DUPLICATE);
	p = mkpdu(CL_X2X3_X2, TASK_A, 1, 6, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad[1], rl[1]);
	INGEST(&p, MDF_DUPLICATE);
	/* the communication ended before the restart: REPORT */
	p = mkpdu(CL_X2X3_X2, TASK_A, 1, 8, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad[0], rl[0]);
	INGEST(&p, MDF_STORED);
	read_all(7);
	CHECK_INT_EQ(g_rs.n, 2);
	CHECK_INT_EQ(g_rs.v[0].type, MDF_REC_CC);
	CHECK_INT_EQ(g_rs.v[0].m.cin, cin); /* the CIN needs no state */
	CHECK_INT_EQ(g_rs.v[0].m.seq, 5);
	PSDU_OPEN(g_rs.v[0].pdu, g_rs.v[0].len, &d);
	CHECK_INT_EQ(d.seq, 5);
	CHECK_INT_EQ(d.cin, cin);
	CHECK_INT_EQ(g_rs.v[1].type, MDF_REC_IRI);
	CHECK_INT_EQ(g_rs.v[1].m.seq, 2);
	PSDU_OPEN(g_rs.v[1].pdu, g_rs.v[1].len, &d);
	CHECK_INT_EQ(d.seq, 2);
	(void)iri_contents(&d, &type);
	CHECK_INT_EQ(type, CL_PSDU_IRI_REPORT);
	trecs_free(&g_rs);
	env_clear();
}

/* Ingests n CC PDUs of len octets for (TASK_A, cid) from x2seq first. */
static void
fill_cc(uint8_t cid, uint32_t first, uint32_t n, size_t len)
{
	struct cl_x2x3_pdu p;
	uint8_t *pkt = mkpacket(len, cid);
	uint32_t i;

	for (i = first; i < first + n; i++) {
		enum mdf_verdict v;
		int r;

		p = mkpdu(CL_X2X3_X3, TASK_A, cid, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, len);
		if ((r = ingest(&p, &v)) != 0 || v != MDF_STORED) {
			free(pkt);
			cl_test_fail(__FILE__, __LINE__, "ingest %u: %s %d", i,
			    cl_err_str(r), (int)v);
		}
	}
	free(pkt);
}

/* Confirms everything through a consumer cursor and releases. */
static unsigned
confirm_release(void)
{
	struct cl_spool *sp = mdf_core_spool(g.c);
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	uint64_t last = 0, d;
	unsigned nfreed = 0;
	int r;

	CHECK_INT_EQ(cl_spool_sync(sp, &d), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf", &cur), 0);
	while ((r = cl_spool_cursor_next(cur, &rec)) == 0)
		last = rec.seq;
	CHECK_INT_EQ(r, CL_ERR_AGAIN);
	CHECK(last > 0);
	CHECK_INT_EQ(cl_spool_cursor_confirm(cur, last), 0);
	CHECK_INT_EQ(mdf_core_release(g.c, &nfreed), 0);
	return nfreed;
}

CL_TEST(restart_after_release)
{
	struct cl_x2x3_pdu p;
	struct cl_spool_report rep;
	struct stat st;
	char path[400];
	uint8_t *pkt;
	unsigned nfreed;
	struct dpdu d;

	env_new();
	small_segments();
	core_open(NULL);
	/* X2/X3 sequence numbers are per task: cid 2 goes on from 150 */
	fill_cc(1, 0, 150, 1000); /* about 160 KB: three segments */
	fill_cc(2, 150, 3, 100);  /* a second flow, in the last segment */
	nfreed = confirm_release();
	CHECK(nfreed >= 1);
	snprintf(path, sizeof(path), "%s/mdf-state", g.dir);
	CHECK(stat(path, &st) == 0);

	core_reopen(&rep);
	CHECK(rep.first_seq > 1);
	CHECK_INT_EQ(rep.next_seq, 154);
	pkt = mkpacket(100, 9);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 153, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 154, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_STORED);
	free(pkt);
	/* PDUs whose records were released are still duplicates (the
	 * window is in the state file) */
	pkt = mkpacket(1000, 1);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 5, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 1000);
	INGEST(&p, MDF_DUPLICATE);
	free(pkt);
	read_all(153);
	CHECK_INT_EQ(g_rs.n, 2);
	CHECK_INT_EQ(g_rs.v[0].m.seq, 150);
	PSDU_OPEN(g_rs.v[0].pdu, g_rs.v[0].len, &d);
	CHECK_INT_EQ(d.seq, 150);
	CHECK_INT_EQ(g_rs.v[1].m.seq, 3);

	/* once more: release again, restart with only the state file for
	 * cid 2 (its records are all released) */
	fill_cc(1, 155, 120, 1000);
	CHECK(confirm_release() >= 1);
	core_reopen(&rep);
	CHECK(rep.first_seq > 155); /* cid 2's records are gone */
	pkt = mkpacket(100, 9);
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 275, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 154, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_DUPLICATE);
	free(pkt);
	read_all(rep.next_seq - 1);
	CHECK_INT_EQ(g_rs.n, 1);
	CHECK_INT_EQ(g_rs.v[0].m.seq, 4);
	trecs_free(&g_rs);
	env_clear();
}

/* A damaged state file stops the open (nothing is guessed). */
CL_TEST(restart_bad_state)
{
	char path[400], err[256];
	FILE *f;
	struct mdf_core *c = NULL;

	env_new();
	small_segments();
	core_open(NULL);
	fill_cc(1, 0, 150, 1000);
	CHECK(confirm_release() >= 1);
	CHECK_INT_EQ(mdf_core_close(g.c), 0);
	g.c = NULL;
	snprintf(path, sizeof(path), "%s/mdf-state", g.dir);
	CHECK((f = fopen(path, "r+b")) != NULL);
	fseek(f, 20, SEEK_SET);
	fputc(0x5a, f);
	fclose(f);
	CHECK(mdf_core_open(&g.o, &c, NULL, err, sizeof(err)) != 0);
	CHECK(c == NULL);
	CHECK(err[0] != '\0');
	env_clear();
}

/* ---- 6. IntegrityCheck ---- */

/* The IntegrityCheck callback: signs with g.key, as the signer role
 * does; with g.sign_fail set it fails as a lost signer does. */
static int
sign_cb(void *arg, const uint8_t *hashes, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *md;
	size_t sl = 64;
	int r = CL_ERR_SYSTEM;

	CHECK(arg == &g);
	CHECK(len > 0 && len % 32 == 0 && len <= 32 * CL_PSDU_IC_MAX);
	g.sign_calls++;
	if (g.sign_fail)
		return CL_ERR_CLOSED;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return CL_ERR_NOMEM;
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, g.key) == 1 &&
	    EVP_DigestSign(md, sig, &sl, hashes, len) == 1 && sl == 64)
		r = 0;
	EVP_MD_CTX_free(md);
	return r;
}

/* The public half of g.key, as a key of its own. */
static EVP_PKEY *
pubkey(void)
{
	uint8_t raw[32];
	size_t rl = sizeof(raw);
	EVP_PKEY *k;

	CHECK(EVP_PKEY_get_raw_public_key(g.key, raw, &rl) == 1);
	CHECK_INT_EQ(rl, 32);
	k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rl);
	CHECK(k != NULL);
	return k;
}

static bool
verify(EVP_PKEY *pub, const uint8_t *msg, size_t mlen, struct cl_span sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	if (md == NULL)
		return false;
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1 &&
	    EVP_DigestVerify(md, sig.p, sig.len, msg, mlen) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* The record of kind type for (liid, cin) with sequence number seq. */
/*
 * Flips a payload byte of spool records first..last (spool numbers) in
 * the only segment.
 */
static void
corrupt_records(uint64_t first, uint64_t last)
{
	struct cl_spool_rec rec;
	char path[600];
	uint8_t *img;
	size_t len, off = CL_SPOOL_SEG_HDR_LEN, used;
	uint64_t s = 1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/seg-0000000000000001.spool", g.dir);
	cl_test_read_file(path, &img, &len);
	while (off < len &&
	    cl_spool_parse_record(img + off, len - off, s, &rec, &used) == 0) {
		if (s >= first && s <= last)
			img[off + used - 1] ^= 0x20;
		off += used;
		s++;
	}
	CHECK(s > last);
	CHECK((f = fopen(path, "wb")) != NULL);
	CHECK_INT_EQ(fwrite(img, 1, len, f), len);
	CHECK_INT_EQ(fclose(f), 0);
	free(img);
}

/*
 * Records lost to corruption never give their numbers again: the last
 * three of communication X (spool records 3..5), followed by five of Y.
 * A plain start refuses; with recover, X's next number skips the three
 * numbers the lost records had, Y (unknown before them) goes on as it
 * was; a second restart neither skips again nor goes back.
 */
CL_TEST(recover_never_reuses_numbers)
{
	struct cl_spool_report rep;
	struct cl_x2x3_pdu p;
	char err[1024] = "";
	uint8_t *pkt;
	size_t i;

	env_new();
	core_open(NULL);
	fill_cc(1, 0, 5, 200); /* X: CC 0..4, spool 1..5 */
	fill_cc(2, 5, 5, 200); /* Y: CC 0..4, spool 6..10 */
	CHECK_INT_EQ(mdf_core_close(g.c), 0);
	g.c = NULL;
	corrupt_records(3, 5);

	CHECK_INT_EQ(
	    mdf_core_open(&g.o, &g.c, &rep, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(g.c == NULL);
	CHECK(strstr(err, "seg-0000000000000001.spool offset ") != NULL);
	CHECK(strstr(err, "record 3 is bad and 5 CRC-valid records follow") !=
	    NULL);

	g.o.spool.recover = true;
	core_open(&rep);
	CHECK_INT_EQ(rep.lost_records, 3);
	CHECK_INT_EQ(mdf_core_stats(g.c)->spool_lost_records, 3);
	pkt = mkpacket(100, 9);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 10, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 11, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_STORED);
	read_all(10);
	CHECK_INT_EQ(g_rs.n, 2);
	CHECK_INT_EQ(g_rs.v[0].m.seq, 5); /* X: 2, 3 and 4 were lost */
	CHECK_INT_EQ(g_rs.v[1].m.seq, 5); /* Y: no loss possible */

	g.o.spool.recover = false;
	core_reopen(&rep);
	CHECK_INT_EQ(rep.lost_records, 0);
	CHECK_INT_EQ(rep.nlost_held, 1);
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 12, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, 100);
	INGEST(&p, MDF_STORED);
	read_all(12);
	CHECK_INT_EQ(g_rs.n, 1);
	CHECK_INT_EQ(g_rs.v[0].m.seq, 6);
	/* The spool as a LEMF gets it: X 0, 1, 5, 6; Y 0..5. */
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 10);
	for (i = 0; i < g_rs.n; i++)
		CHECK(g_rs.v[i].m.seq < 2 || g_rs.v[i].m.seq > 4 ||
		    g_rs.v[i].m.cin != g_rs.v[0].m.cin);
	free(pkt);
	env_clear();
}

static const struct trec *
find_rec(const struct trecs *rs, uint16_t type, const char *liid, uint32_t cin,
    uint32_t seq)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].type == type &&
		    strcmp(rs->v[i].m.liid, liid) == 0 &&
		    rs->v[i].m.cin == cin && rs->v[i].m.seq == seq)
			return &rs->v[i];
	return NULL;
}

/*
 * Checks IntegrityCheck record ic against the PDUs in all: its header,
 * dataType, and the signature over the SHA-256 of each covered PDU.
 * Returns the number of sequence numbers it covers, *first the first.
 */
static size_t
check_ic(EVP_PKEY *pub, const struct trec *ic, const struct trecs *all,
    uint32_t *first, uint32_t ic_seq)
{
	struct dpdu d;
	struct cl_span tri, icv, seqs, sig;
	struct cl_rd rd;
	struct cl_ber_tlv t;
	uint8_t *msg = NULL;
	size_t n = 0;
	uint16_t kind = ic->type == MDF_REC_IC_IRI ? MDF_REC_IRI : MDF_REC_CC;
	bool ok;

	CHECK_INT_EQ(ic->m.seq, ic_seq);
	PSDU_OPEN(ic->pdu, ic->len, &d);
	CHECK_INT_EQ(d.seq, ic_seq);
	CHECK_INT_EQ(d.cin, ic->m.cin);
	CHECK_INT_EQ(UINT(GET(d.hdr, CTX, 8)), 2); /* timeOfMediation */
	tri = GET(d.payload, CTXC, 2);
	icv = GET(tri, CTXC, 0);
	CHECK_INT_EQ(UINT(GET(icv, CTX, 1)), 2); /* signature */
	CHECK_INT_EQ(UINT(GET(icv, CTX, 2)), kind == MDF_REC_IRI ? 1 : 2);
	CHECK_INT_EQ(UINT(GET(icv, CTX, 4)), 2); /* sHA-256 */
	CHECK_INT_EQ(UINT(GET(icv, CTX, 5)), 3); /* eDDSA */
	sig = GET(icv, CTX, 3);
	CHECK_INT_EQ(sig.len, 64);
	seqs = GET(icv, CTXC, 0);
	cl_rd_init(&rd, seqs.p, seqs.len);
	while (cl_rd_left(&rd) > 0) {
		const struct trec *r;
		uint64_t s;
		uint8_t *nm;

		CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
		CHECK(t.cls == CL_BER_UNIVERSAL && !t.cons &&
		    t.tag == CL_BER_TAG_INTEGER);
		s = UINT(t.v);
		if (n == 0)
			*first = (uint32_t)s;
		r = find_rec(all, kind, ic->m.liid, ic->m.cin, (uint32_t)s);
		if (r == NULL) {
			free(msg);
			cl_test_fail(__FILE__, __LINE__,
			    "IC covers seq %llu, not in the spool",
			    (unsigned long long)s);
		}
		if ((nm = realloc(msg, (n + 1) * 32)) == NULL) {
			free(msg);
			cl_test_fail(__FILE__, __LINE__, "realloc");
		}
		msg = nm;
		SHA256(r->pdu, r->len, msg + n * 32);
		n++;
	}
	ok = n > 0 && verify(pub, msg, n * 32, sig);
	if (ok && n > 0) {
		/* a changed byte in a covered PDU breaks it */
		msg[n * 32 - 1] ^= 1;
		ok = !verify(pub, msg, n * 32, sig);
	}
	free(msg);
	CHECK(ok);
	return n;
}

CL_TEST(integrity)
{
	struct cl_x2x3_pdu p;
	EVP_PKEY *pub = NULL;
	uint8_t rad[64], pkt[70];
	size_t rl, i, nic;
	uint64_t at;
	uint32_t first, cin1, cin2;
	const struct trec *ics[8];
	struct trecs all;

	env_new();
	g.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CHECK(g.key != NULL);
	g.o.ic_sign = sign_cb;
	g.o.ic_sign_arg = &g;
	g.o.ic_interval_ms = 1;
	core_open(NULL);
	CHECK(!mdf_core_integrity_due(g.c, &at));
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < 3; i++) {
		pkt[1] = (uint8_t)i;
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, (uint32_t)i, TS_SEC,
		    CL_X2X3_PF_IPV4, CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	rl = mkradius(rad, RAD_ACCESS_REQUEST, 1, "dave", NULL, 0);
	p = mkpdu(CL_X2X3_X2, TASK_A, 1, 3, TS_SEC, CL_X2X3_PF_RADIUS,
	    CL_X2X3_DIR_UNKNOWN, rad, rl);
	INGEST(&p, MDF_STORED);
	p = mkpdu(CL_X2X3_X3, TASK_A, 2, 4, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	CHECK(mdf_core_integrity_due(g.c, &at));
	CHECK_INT_EQ(at, NOW_MS + 1);
	/* not due yet */
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS, false), 0);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 0);
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS + 10, false), 0);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 3);
	CHECK(!mdf_core_integrity_due(g.c, &at));
	/* two more CC for cid 1, then a forced check */
	for (i = 5; i < 7; i++) {
		pkt[1] = (uint8_t)i;
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, (uint32_t)i, TS_SEC,
		    CL_X2X3_PF_IPV4, CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS, true), 0);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 4);

	read_all(0);
	CHECK_INT_EQ(g_rs.n, 11);
	all = g_rs;
	cin1 = all.v[0].m.cin;
	cin2 = all.v[4].m.cin;
	nic = 0;
	for (i = 0; i < all.n; i++)
		if (all.v[i].type == MDF_REC_IC_CC ||
		    all.v[i].type == MDF_REC_IC_IRI)
			ics[nic++] = &all.v[i];
	CHECK_INT_EQ(nic, 4);
	pub = pubkey();
	/* the first round: one IC per (flow, kind), IC numbers per flow */
	{
		int seen_iri = 0, seen_cc1 = 0, seen_cc2 = 0;
		uint32_t next1 = 0;

		for (i = 0; i < 3; i++) {
			const struct trec *ic = ics[i];

			if (ic->m.cin == cin2) {
				CHECK_INT_EQ(ic->type, MDF_REC_IC_CC);
				CHECK_INT_EQ(
				    check_ic(pub, ic, &all, &first, 0), 1);
				CHECK_INT_EQ(first, 0);
				seen_cc2++;
				continue;
			}
			CHECK_INT_EQ(ic->m.cin, cin1);
			if (ic->type == MDF_REC_IC_IRI) {
				CHECK_INT_EQ(
				    check_ic(pub, ic, &all, &first, next1), 1);
				seen_iri++;
			} else {
				CHECK_INT_EQ(
				    check_ic(pub, ic, &all, &first, next1), 3);
				CHECK_INT_EQ(first, 0);
				seen_cc1++;
			}
			next1++;
		}
		CHECK(seen_iri == 1 && seen_cc1 == 1 && seen_cc2 == 1);
	}
	CHECK_INT_EQ(ics[3]->type, MDF_REC_IC_CC);
	CHECK_INT_EQ(ics[3]->m.cin, cin1);
	CHECK_INT_EQ(check_ic(pub, ics[3], &all, &first, 2), 2);
	CHECK_INT_EQ(first, 3);
	EVP_PKEY_free(pub);
	trecs_free(&g_rs);
	env_clear();
}

/* Coverage not yet signed when the MDF stopped is signed after it. */
CL_TEST(integrity_after_restart)
{
	struct cl_x2x3_pdu p;
	EVP_PKEY *pub;
	uint8_t pkt[70];
	uint32_t i, first;
	size_t n;
	struct dpdu d;
	struct cl_span v = {NULL, 0};

	env_new();
	g.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CHECK(g.key != NULL);
	g.o.ic_sign = sign_cb;
	g.o.ic_sign_arg = &g;
	g.o.ic_interval_ms = 1;
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < 2; i++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS, true), 0);
	for (i = 2; i < 5; i++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	core_reopen(NULL);
	CHECK_INT_EQ(mdf_core_integrity(g.c, 0, true), 0);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 1);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 7);
	CHECK_INT_EQ(g_rs.v[6].type, MDF_REC_IC_CC);
	pub = pubkey();
	n = check_ic(pub, &g_rs.v[6], &g_rs, &first, 1);
	EVP_PKEY_free(pub);
	CHECK_INT_EQ(n, 3);
	CHECK_INT_EQ(first, 2);
	/* the communication keeps its PSHeader: the next PDU still has the
	 * POI's interceptionPointID, as before the restart */
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 5, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	read_all(7);
	CHECK_INT_EQ(g_rs.n, 1);
	PSDU_OPEN(g_rs.v[0].pdu, g_rs.v[0].len, &d);
	CHECK_INT_EQ(d.seq, 5);
	CHECK(ber_find(d.hdr, CTX, 6, &v) && span_is(v, "poi-1"));
	trecs_free(&g_rs);
	env_clear();
}

/* One IntegrityCheck covers at most 4096 PDUs: the 4097th triggers it. */
CL_TEST(integrity_limit)
{
	struct cl_x2x3_pdu p;
	EVP_PKEY *pub;
	uint8_t pkt[24];
	uint32_t i, first;
	size_t n, nic = 0, at = 0;

	env_new();
	g.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CHECK(g.key != NULL);
	g.o.ic_sign = sign_cb;
	g.o.ic_sign_arg = &g;
	g.o.ic_interval_ms = 3600 * 1000;
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < CL_PSDU_IC_MAX + 1; i++) {
		cl_store_u32(pkt + 4, i);
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS + 10, false), 0);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 1);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, CL_PSDU_IC_MAX + 2);
	for (n = 0; n < g_rs.n; n++)
		if (g_rs.v[n].type == MDF_REC_IC_CC) {
			nic++;
			at = n;
		}
	CHECK_INT_EQ(nic, 1);
	CHECK_INT_EQ(at, CL_PSDU_IC_MAX); /* before the 4097th PDU */
	pub = pubkey();
	n = check_ic(pub, &g_rs.v[at], &g_rs, &first, 0);
	EVP_PKEY_free(pub);
	CHECK_INT_EQ(n, CL_PSDU_IC_MAX);
	CHECK_INT_EQ(first, 0);
	trecs_free(&g_rs);
	env_clear();
}

/* A signer that fails: integrity passes its error on, writes nothing
 * and keeps the coverage, which the next working call signs whole. */
CL_TEST(integrity_sign_fails)
{
	struct cl_x2x3_pdu p;
	EVP_PKEY *pub;
	uint8_t pkt[24];
	uint32_t i, first;
	size_t n;

	env_new();
	g.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CHECK(g.key != NULL);
	g.o.ic_sign = sign_cb;
	g.o.ic_sign_arg = &g;
	g.o.ic_interval_ms = 1;
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	for (i = 0; i < 2; i++) {
		pkt[3] = (uint8_t)i;
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, i, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
		INGEST(&p, MDF_STORED);
	}
	g.sign_fail = true;
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS + 10, true), CL_ERR_CLOSED);
	CHECK_INT_EQ(g.sign_calls, 1);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 0);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 2);
	trecs_free(&g_rs);
	g.sign_fail = false;
	CHECK_INT_EQ(mdf_core_integrity(g.c, NOW_MS + 20, true), 0);
	CHECK_INT_EQ(g.sign_calls, 2);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_ic, 1);
	read_all(0);
	CHECK_INT_EQ(g_rs.n, 3);
	CHECK_INT_EQ(g_rs.v[2].type, MDF_REC_IC_CC);
	pub = pubkey();
	n = check_ic(pub, &g_rs.v[2], &g_rs, &first, 0);
	EVP_PKEY_free(pub);
	CHECK_INT_EQ(n, 2);
	CHECK_INT_EQ(first, 0);
	trecs_free(&g_rs);
	env_clear();
}

/* ---- 7. a full spool ---- */

CL_TEST(spool_full)
{
	struct cl_x2x3_pdu p;
	enum mdf_verdict v;
	uint8_t *pkt;
	uint32_t n = 0;
	int r = 0;

	env_new();
	small_segments();
	g.o.spool.capacity = 3 * CL_SPOOL_SEG_MIN;
	core_open(NULL);
	pkt = mkpacket(1000, 1);
	for (n = 0; n < 1000; n++) {
		p = mkpdu(CL_X2X3_X3, TASK_A, 1, n, TS_SEC, CL_X2X3_PF_IPV4,
		    CL_X2X3_DIR_TO_TARGET, pkt, 1000);
		if ((r = ingest(&p, &v)) != 0)
			break;
		if (v != MDF_STORED)
			break;
	}
	CHECK_INT_EQ(r, CL_ERR_FULL);
	CHECK(n > 100);
	CHECK_INT_EQ(mdf_core_stats(g.c)->stored_cc, n);
	/* still full: the same answer, nothing moves */
	CHECK_INT_EQ(ingest(&p, &v), CL_ERR_FULL);
	CHECK(v != MDF_STORED && v != MDF_DUPLICATE);
	CHECK(confirm_release() >= 1);
	/* the refused PDU is accepted now, with the next number */
	INGEST(&p, MDF_STORED);
	free(pkt);
	read_all(n);
	CHECK_INT_EQ(g_rs.n, 1);
	CHECK_INT_EQ(g_rs.v[0].m.seq, n);
	CHECK_INT_EQ(g_rs.v[0].m.x2seq, n);
	trecs_free(&g_rs);
	env_clear();
}

/* ---- 8. malformed input to the parsers ---- */

CL_TEST(meta_parse_malformed)
{
	struct cl_x2x3_pdu p;
	struct mdf_meta m;
	struct cl_span pdu;
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	uint8_t pkt[40], *rb, *q;
	size_t rlen, hlen, i;
	uint64_t d;
	int r;

	env_new();
	core_open(NULL);
	memset(pkt, 0x45, sizeof(pkt));
	p = mkpdu(CL_X2X3_X3, TASK_A, 1, 77, TS_SEC, CL_X2X3_PF_IPV4,
	    CL_X2X3_DIR_TO_TARGET, pkt, sizeof(pkt));
	INGEST(&p, MDF_STORED);
	CHECK_INT_EQ(cl_spool_sync(mdf_core_spool(g.c), &d), 0);
	CHECK_INT_EQ(
	    cl_spool_cursor_open(mdf_core_spool(g.c), "tread", &cur), 0);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	rlen = rec.payload.len;
	rb = malloc(rlen);
	CHECK(rb != NULL);
	memcpy(rb, rec.payload.p, rlen);
	env_clear(); /* the record is in rb */

	/* the header layout of mdf.h, checked octet by octet */
	hlen = 2 + strlen(LIID_A) + 4 + 4 + 8 + 16 + 4 + 8 + 1 + MDF_HASH_LEN;
	CHECK(rlen > hlen);
	CHECK_INT_EQ(mdf_meta_parse(rb, rlen, &m, &pdu), 0);
	CHECK_INT_EQ(rb[0], 2);
	CHECK_INT_EQ(rb[1], 6);
	CHECK_MEM_EQ(rb + 2, LIID_A, 6);
	CHECK_INT_EQ(cl_load_u32(rb + 8), m.cin);
	CHECK_INT_EQ(cl_load_u32(rb + 12), 0);
	CHECK_MEM_EQ(rb + 24, p.xid, 16);
	CHECK_INT_EQ(cl_load_u32(rb + 40), 77);
	CHECK_INT_EQ(
	    (uint64_t)cl_load_u32(rb + 44) << 32 | cl_load_u32(rb + 48),
	    (uint64_t)TS_SEC * 1000000000u + TS_NSEC);
	CHECK_INT_EQ(rb[52], MDF_REC_F_X2SEQ | MDF_REC_F_X2HASH);
	{
		uint8_t h[MDF_HASH_LEN];

		CHECK_INT_EQ(mdf_pdu_hash(&p, h), 0);
		CHECK_MEM_EQ(rb + 53, h, MDF_HASH_LEN);
		CHECK_MEM_EQ(m.x2hash, h, MDF_HASH_LEN);
	}
	CHECK(pdu.p == rb + hlen);
	CHECK_INT_EQ(pdu.len, rlen - hlen);
	CHECK_INT_EQ(m.x2seq, 77);
	CHECK(memcmp(m.xid, p.xid, 16) == 0);

	/* every truncation, in a buffer of exactly that size */
	for (i = 0; i < rlen; i++) {
		q = malloc(i > 0 ? i : 1);
		CHECK(q != NULL);
		memcpy(q, rb, i);
		r = mdf_meta_parse(i > 0 ? q : NULL, i, &m, &pdu);
		free(q);
		if (i <= hlen)
			CHECK(r != 0);
		else
			CHECK(r == 0 && pdu.len == i - hlen);
	}
	/* bad version, LIID length 0 and 26 */
	q = malloc(rlen + 40);
	CHECK(q != NULL);
	memset(q, 0x41, rlen + 40);
	memcpy(q, rb, rlen);
	q[0] = 0;
	CHECK(mdf_meta_parse(q, rlen, &m, &pdu) != 0);
	q[0] = 3;
	CHECK(mdf_meta_parse(q, rlen, &m, &pdu) != 0);
	/* version 1 (no hash): the hash octets are then PS-PDU octets, and
	 * the hash flag is not believed */
	q[0] = 1;
	CHECK_INT_EQ(mdf_meta_parse(q, rlen, &m, &pdu), 0);
	CHECK(pdu.p == q + hlen - MDF_HASH_LEN);
	CHECK_INT_EQ(m.flags, MDF_REC_F_X2SEQ);
	q[0] = 2;
	q[1] = 0;
	CHECK(mdf_meta_parse(q, rlen, &m, &pdu) != 0);
	q[1] = 26;
	CHECK(mdf_meta_parse(q, rlen + 40, &m, &pdu) != 0);
	q[1] = 25;
	CHECK_INT_EQ(mdf_meta_parse(q, rlen + 40, &m, &pdu), 0);
	CHECK_INT_EQ(m.liid_len, 25);
	CHECK_MEM_EQ(m.liid, q + 2, 25);
	CHECK_INT_EQ(m.liid[25], '\0');
	free(q);
	free(rb);
}

static void
psh_test(struct cl_psheader *h)
{
	struct cl_psh_ids ids;

	memset(&ids, 0, sizeof(ids));
	ids.liid = (const uint8_t *)"X";
	ids.liid_len = 1;
	ids.operator_id = (const uint8_t *)"op";
	ids.operator_id_len = 2;
	ids.cin = 1;
	CHECK_INT_EQ(cl_psheader_init(h, &ids), 0);
	h->seq = 3;
	h->sec = TS_SEC;
}

/* Every prefix is "read more"; the whole answers; no overreads. */
static void
peek_truncations(const uint8_t *pdu, size_t len)
{
	int alt;
	bool acc;
	size_t used, i;
	uint8_t *q;

	for (i = 0; i < len; i++) {
		q = malloc(i > 0 ? i : 1);
		CHECK(q != NULL);
		memcpy(q, pdu, i);
		CHECK_INT_EQ(
		    mdf_tri_peek(i > 0 ? q : NULL, i, &alt, &acc, &used),
		    CL_ERR_TRUNCATED);
		free(q);
	}
}

CL_TEST(tri_peek)
{
	static const int which[] = {CL_PSDU_TRI_KEEPALIVE,
	    CL_PSDU_TRI_KEEPALIVE_RESP, CL_PSDU_TRI_ACK_REQUEST,
	    CL_PSDU_TRI_ACK_RESPONSE, CL_PSDU_TRI_TEST};
	struct cl_psheader h;
	struct cl_buf b;
	uint8_t ippkt[20];
	int alt;
	bool acc;
	size_t used, i, l1;

	psh_test(&h);
	cl_buf_init(&b, 1 << 20);
	for (i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
		cl_buf_reset(&b);
		CHECK_INT_EQ(cl_psdu_tri(&b, &h, which[i]), 0);
		l1 = b.len;
		CHECK_INT_EQ(mdf_tri_peek(b.d, b.len, &alt, &acc, &used), 0);
		CHECK_INT_EQ(alt, which[i]);
		CHECK(!acc);
		CHECK_INT_EQ(used, l1);
		peek_truncations(b.d, b.len);
		/* a second PDU behind it: only the first is used */
		CHECK_INT_EQ(cl_psdu_tri(&b, &h, CL_PSDU_TRI_KEEPALIVE), 0);
		CHECK_INT_EQ(mdf_tri_peek(b.d, b.len, &alt, &acc, &used), 0);
		CHECK_INT_EQ(alt, which[i]);
		CHECK_INT_EQ(used, l1);
	}
	/* optionResponse: accepted, declined, nothing requested */
	cl_buf_reset(&b);
	CHECK_INT_EQ(cl_psdu_option_response(&b, &h, true, true), 0);
	CHECK_INT_EQ(mdf_tri_peek(b.d, b.len, &alt, &acc, &used), 0);
	CHECK_INT_EQ(alt, CL_PSDU_TRI_OPTION_RESP);
	CHECK(acc);
	CHECK_INT_EQ(used, b.len);
	peek_truncations(b.d, b.len);
	cl_buf_reset(&b);
	CHECK_INT_EQ(cl_psdu_option_response(&b, &h, true, false), 0);
	CHECK_INT_EQ(mdf_tri_peek(b.d, b.len, &alt, &acc, &used), 0);
	CHECK_INT_EQ(alt, CL_PSDU_TRI_OPTION_RESP);
	CHECK(!acc);
	cl_buf_reset(&b);
	CHECK_INT_EQ(cl_psdu_option_response(&b, &h, false, false), 0);
	CHECK_INT_EQ(mdf_tri_peek(b.d, b.len, &alt, &acc, &used), 0);
	CHECK_INT_EQ(alt, CL_PSDU_TRI_OPTION_RESP);
	CHECK(!acc);
	/* an HI3 PDU: no TRIPayload */
	cl_buf_reset(&b);
	memset(ippkt, 0x45, sizeof(ippkt));
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(
			 &b, &h, ippkt, sizeof(ippkt), CL_PSDU_DIR_TO_TARGET),
	    0);
	CHECK_INT_EQ(mdf_tri_peek(b.d, b.len, &alt, &acc, &used), 0);
	CHECK_INT_EQ(alt, -1);
	CHECK_INT_EQ(used, b.len);
	peek_truncations(b.d, b.len);
	cl_buf_release(&b);
}

CL_TEST(tri_peek_malformed)
{
	struct cl_psheader h;
	struct cl_buf b;
	uint8_t *q;
	int alt, r;
	bool acc;
	size_t used, i, n;
	unsigned bit;

	psh_test(&h);
	cl_buf_init(&b, 1 << 20);
	CHECK_INT_EQ(cl_psdu_tri(&b, &h, CL_PSDU_TRI_KEEPALIVE), 0);
	n = b.len;
	q = malloc(n);
	CHECK(q != NULL);
	/* not a SEQUENCE */
	memcpy(q, b.d, n);
	q[0] = 0x31;
	CHECK_INT_EQ(mdf_tri_peek(q, n, &alt, &acc, &used), CL_ERR_FORMAT);
	/* indefinite length */
	memcpy(q, b.d, n);
	q[1] = 0x80;
	CHECK_INT_EQ(mdf_tri_peek(q, n, &alt, &acc, &used), CL_ERR_FORMAT);
	/* a TRIPayload alternative past the module's (tag 14): TRIPayload
	 * is extensible, so it decodes, and the MDF ignores it */
	memcpy(q, b.d, n);
	CHECK_INT_EQ(q[n - 2], CL_BER_CONTEXT | 3);
	q[n - 2] = CL_BER_CONTEXT | 14;
	CHECK_INT_EQ(mdf_tri_peek(q, n, &alt, &acc, &used), 0);
	CHECK_INT_EQ(alt, 14);
	/* every bit flipped: an answer or an error, never a crash */
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(q, b.d, n);
			q[i] ^= (uint8_t)(1u << bit);
			r = mdf_tri_peek(q, n, &alt, &acc, &used);
			CHECK(r == 0 || r == CL_ERR_FORMAT ||
			    r == CL_ERR_TRUNCATED);
			CHECK(used <= n);
			if (r == 0) /* an alternative, or an extension tag */
				CHECK(alt >= -1);
		}
	free(q);
	/* an outer length past what is there: read more; past the
	 * decoder's limit (CL_PSDU_DEC_MAX): malformed */
	{
		static const uint8_t big[] = {
		    0x30, 0x83, 0x01, 0x00, 0x00, 0xa1, 0x00};
		static const uint8_t huge[] = {
		    0x30, 0x84, 0x40, 0x00, 0x00, 0x00, 0xa1, 0x00};

		CHECK_INT_EQ(mdf_tri_peek(big, sizeof(big), &alt, &acc, &used),
		    CL_ERR_TRUNCATED);
		CHECK_INT_EQ(
		    mdf_tri_peek(huge, sizeof(huge), &alt, &acc, &used),
		    CL_ERR_FORMAT);
	}
	/* PS-PDU with a payload but no header */
	{
		static const uint8_t nohdr[] = {
		    0x30, 0x06, 0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00};

		CHECK_INT_EQ(
		    mdf_tri_peek(nohdr, sizeof(nohdr), &alt, &acc, &used),
		    CL_ERR_FORMAT);
	}
	cl_buf_release(&b);
}

int
main(void)
{
	CL_RUN(cc_numbering);
	CL_RUN(cc_directions);
	CL_RUN(cc_unsupported_format);
	CL_RUN(cc_no_timestamp);
	CL_RUN(cc_ipid);
	CL_RUN(flow_limit);
	CL_RUN(iri_radius_session);
	CL_RUN(iri_reject);
	CL_RUN(iri_unparsed);
	CL_RUN(iri_dhcp6_ipversion);
	CL_RUN(dedup_and_unknown);
	CL_RUN(dedup_clock_back);
	CL_RUN(dedup_window_bounded);
	CL_RUN(flow_limit_per_poi);
	CL_RUN(cc_gtpu);
	CL_RUN(iri_radius_malformed);
	CL_RUN(restart_continues);
	CL_RUN(restart_after_release);
	CL_RUN(restart_bad_state);
	CL_RUN(recover_never_reuses_numbers);
	CL_RUN(integrity);
	CL_RUN(integrity_after_restart);
	CL_RUN(integrity_limit);
	CL_RUN(integrity_sign_fails);
	CL_RUN(spool_full);
	CL_RUN(meta_parse_malformed);
	CL_RUN(tri_peek);
	CL_RUN(tri_peek_malformed);
	env_clear();
	trecs_free(&g_rs);
	return cl_test_done();
}
