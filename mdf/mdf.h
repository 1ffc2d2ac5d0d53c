/* SPDX-License-Identifier: ISC */
#ifndef MDF_MDF_H
#define MDF_MDF_H

/*
 * The mediation core of clearli-mdf, without sockets: it turns accepted
 * X2/X3 PDUs into TS 102 232 PS-PDUs (HI2 IRI, HI3 CC), numbers them per
 * (LIID, CIN), writes them to the spool, adds IntegrityCheck PDUs, and
 * rebuilds its state from the spool after a restart.  Delivery to the
 * LEMFs (stream.c) reads the spool through one cursor per destination.
 *
 * A spool record is the PS-PDU as it goes on the wire, preceded by a small
 * header the MDF needs to rebuild its state (docs/PROTOCOL.hi):
 *
 *   u8  version (2; version 1 lacks the content hash)
 *   u8  LIID length, LIID octets
 *   u32 CIN, u32 sequence number
 *   u64 POI key, 16 octets XID, u32 X2/X3 sequence number,
 *   u64 X2/X3 time stamp (ns), u8 flags,
 *   16 octets X2/X3 content hash (mdf_pdu_hash(); zero if none)
 *
 * The record type says what the PS-PDU is (MDF_REC_*).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"
#include "htab.h"
#include "psdu.h"
#include "spool.h"
#include "x2x3.h"

/* Record types; the first three are also the sequence number spaces of a
 * (LIID, CIN): IRI, CC and IntegrityCheck PDUs are numbered apart. */
#define MDF_REC_IRI    1
#define MDF_REC_CC     2
#define MDF_REC_IC_IRI 3 /* IntegrityCheck over IRI PDUs */
#define MDF_REC_IC_CC  4 /* IntegrityCheck over CC PDUs */

#define MDF_SEQ_IRI 0
#define MDF_SEQ_CC  1
#define MDF_SEQ_IC  2

#define MDF_REC_F_X2SEQ   0x01 /* the record has an X2/X3 sequence number */
#define MDF_REC_F_IRI_END 0x02 /* an IRI-END: the communication is over */
#define MDF_REC_F_X2HASH  0x04 /* the record has the X2/X3 content hash */

#define MDF_HASH_LEN 16
#define MDF_META_MAX                                                           \
	(2 + CL_PSDU_LIID_MAX + 8 + 8 + 16 + 4 + 8 + 1 + MDF_HASH_LEN)

/* A spool record's header, decoded. */
struct mdf_meta {
	uint8_t liid_len;
	char liid[CL_PSDU_LIID_MAX + 1];
	uint32_t cin, seq;
	uint64_t poi;
	uint8_t xid[16];
	uint32_t x2seq;
	uint64_t x2ts_ns;
	uint8_t flags;
	uint8_t x2hash[MDF_HASH_LEN]; /* if flags & MDF_REC_F_X2HASH */
};

/* Splits a spool record (version 1 or 2) into its header and the
 * PS-PDU. */
int mdf_meta_parse(
    const uint8_t *p, size_t len, struct mdf_meta *m, struct cl_span *pdu);

/*
 * Signs an IntegrityCheck: the PureEdDSA (Ed25519) signature over
 * hashes[0..len), len a multiple of 32, into sig.  The key is not in the
 * core: clearli-mdf asks its signer role (signer.h).  Returns 0 or an
 * error, which ingest and integrity pass on.
 */
typedef int mdf_ic_sign_fn(
    void *arg, const uint8_t *hashes, size_t len, uint8_t sig[64]);

/* Maps an X2/X3 task (XID) to its LIID. */
typedef const char *mdf_liid_fn(void *arg, const uint8_t xid[16]);

struct mdf_core_opts {
	const char *spool_dir;
	struct cl_spool_opts spool;
	const char *operator_id; /* 1..16 octets */
	const char *ne_id;       /* NULL or 1..16 octets */
	const char *country;     /* NULL or 2 letters */
	mdf_ic_sign_fn *ic_sign; /* NULL: no IntegrityCheck PDUs */
	void *ic_sign_arg;
	uint64_t ic_interval_ms; /* 0: no IntegrityCheck PDUs */
	size_t max_flows;        /* 0 = 1000000 */
	size_t max_flows_poi;    /* per POI; 0 = max_flows / 2 */
	uint32_t dedup_window;   /* per (POI, XID); 0 = MDF_DEDUP_WINDOW */
};

#define MDF_DEDUP_WINDOW 8192

/* What ingest did with a PDU. */
enum mdf_verdict {
	MDF_STORED = 0,    /* written to the spool */
	MDF_DUPLICATE,     /* a true repeat: (POI, XID, seq) stored with the
			      same content; counted, not stored again */
	MDF_UNKNOWN_TASK,  /* no task with this XID: counted, not stored */
	MDF_IGNORED,       /* keepalives and the like */
	MDF_REFUSED,       /* a new communication past the POI's share or
			      --max-flows: nothing changed; the caller must
			      not acknowledge it (keep it, retry later) */
	MDF_CONFLICT,      /* stored, but (POI, XID, seq) was stored before
			      with other content (a POI restart): counted */
	MDF_UNDELIVERABLE, /* no HI form for it (mdf_undeliverable_why()):
			      counted, not stored */
};

/* Why an X3 PDU cannot be delivered (index into undeliverable[]). */
enum mdf_undeliverable {
	MDF_UND_FORMAT = 0, /* a payload format with no IPCC form */
	MDF_UND_GTPU,       /* format 12 that is not a GTP-U T-PDU carrying
			       exactly one IP packet */
	MDF_UND_N
};

/* Short name of an enum mdf_undeliverable, for logs and metric labels. */
const char *mdf_undeliverable_name(int why);

struct mdf_stats {
	uint64_t stored_iri, stored_cc, stored_ic;
	uint64_t duplicates, conflicts, unknown_task, x2_unparsed;
	uint64_t undeliverable[MDF_UND_N];
	uint64_t refused; /* ingest calls answered MDF_REFUSED */
	uint64_t flows;
	uint64_t max_flows;     /* the limit in force */
	uint64_t max_flows_poi; /* the per-POI limit in force */
	/* Spool records lost to corruption and discarded at this start
	 * (--spool-recover), and the numbers skipped for them. */
	uint64_t spool_lost_records;
	uint64_t seq_advanced; /* streams whose next number was advanced */
};

struct mdf_core;

/*
 * Opens the spool and rebuilds the state: the saved state file (written
 * before segments are released) and then every record still in the
 * spool.  *report (may be NULL) gets the spool's recovery report; errors
 * are described in err.
 *
 * Records lost to corruption (LOST records of the spool, left by a
 * recovery with o->spool.recover) may have used sequence numbers of any
 * stream: for every (LIID, CIN) known at that point of the rebuild, the
 * next IRI, CC and IntegrityCheck numbers are advanced by the number of
 * records lost, so that none is given twice and the LEMF sees a gap.
 * The advanced numbers are saved (state file, then "mdf-lost" in the
 * spool directory: the last LOST record applied) before open returns,
 * so a later start does not advance them again (docs/PROTOCOL.hi).
 */
int mdf_core_open(const struct mdf_core_opts *o, struct mdf_core **out,
    struct cl_spool_report *report, char *err, size_t errlen);

/* Syncs and closes; c may be NULL. */
int mdf_core_close(struct mdf_core *c);

struct cl_spool *mdf_core_spool(struct mdf_core *c);
const struct mdf_stats *mdf_core_stats(const struct mdf_core *c);

/*
 * Ingests one decoded X2/X3 PDU from the POI identified by poi (its
 * certificate name); liid_of maps the XID.  The PS-PDU is appended to the
 * spool (not yet committed: see cl_spool_commit()).  now_ms is the caller's
 * monotonic clock; now_real the wall clock in ns, used only when the PDU
 * has no time stamp.  Returns 0 with *verdict, CL_ERR_FULL if the spool is
 * full (nothing changed: retry later), or another error (the spool is
 * then unusable).
 *
 * Repeats: a PDU with a sequence number is dropped (MDF_DUPLICATE) only if
 * the window of that (POI, XID) holds its number with the same content
 * hash; the same number with another hash is stored (MDF_CONFLICT); a
 * number outside the window is stored.  With *verdict MDF_REFUSED nothing
 * changed and the PDU must stay unacknowledged.
 */
int mdf_core_ingest(struct mdf_core *c, const char *poi,
    const struct cl_x2x3_pdu *pdu, mdf_liid_fn *liid_of, void *arg,
    uint64_t now_ms, uint64_t now_real_ns, enum mdf_verdict *verdict);

/*
 * Writes the IntegrityCheck PDUs that are due (interval passed, or all if
 * force), each covering what its (LIID, CIN, IRI or CC) received since the
 * last one.  Returns 0 or an error as for ingest.
 */
int mdf_core_integrity(struct mdf_core *c, uint64_t now_ms, bool force);

/* When mdf_core_integrity() next has work (false: none pending). */
bool mdf_core_integrity_due(const struct mdf_core *c, uint64_t *at_ms);

/*
 * If confirmed records can be deleted: saves the state (flows and
 * duplicate filter) durably, then releases the spool segments.
 */
int mdf_core_release(struct mdf_core *c, unsigned *nfreed);

/*
 * Builds the IPIRI of an X2 payload (RADIUS or DHCP) for iri_type
 * selection; exposed for the fuzzer.  Returns 0, or CL_ERR_FORMAT if the
 * payload is not a message clearli understands (the IRI then carries only
 * what the X2 attributes say and, for RADIUS, the raw message in
 * rawAAAData; the core sends it as an IRI-REPORT and counts it in
 * x2_unparsed).  *op gets the binding operation
 * (CL_BIND_*), *reject true for Access-Reject / DHCP NAK.
 */
int mdf_x2_ipiri(const struct cl_x2x3_pdu *pdu, struct cl_psdu_ipiri *iri,
    int *op, bool *reject);

/*
 * The content hash that tells a repeat from a conflict: SHA-256, cut to
 * MDF_HASH_LEN octets, over the PDU's type, payload format and direction,
 * XID, correlation ID, every attribute clearli decodes, and the payload.
 * Returns 0 or CL_ERR_INTERNAL.
 */
int mdf_pdu_hash(const struct cl_x2x3_pdu *pdu, uint8_t out[MDF_HASH_LEN]);

#endif /* MDF_MDF_H */
