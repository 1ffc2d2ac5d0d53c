/* SPDX-License-Identifier: ISC */
#ifndef CL_PSDU_DEC_H
#define CL_PSDU_DEC_H

/*
 * Strict decoder for ETSI TS 102 232-1 PS-PDUs in BER (LI-PS-PDU, IMPLICIT
 * TAGS) with TS 102 232-3 IP access payloads: the receiving side of
 * lib/psdu.c, used by the reference LEMF.
 *
 * PDUs arrive concatenated on a TCP/TLS stream, framed by the definite
 * length of the outer SEQUENCE.  cl_psdu_decode() looks at the start of what
 * has been received so far: CL_ERR_TRUNCATED means "read more"; any other
 * error means the stream is malformed and must be closed.
 *
 * Strict on structure: well-formed BER with definite lengths, every
 * length exact, components of every SEQUENCE in the module's order (all of
 * them are context-tagged with increasing numbers), required components
 * present, values within the module's ranges, primitive encodings of
 * strings (constructed OCTET STRINGs are rejected), nothing left over
 * inside a SEQUENCE but whole elements.  Tolerant of what it does not
 * interpret: optional components and extension additions it does not know
 * are skipped (their BER must still be well-formed), enumerations marked
 * extensible accept any value from 0 to INT32_MAX, and payloads other than
 * IRI, CC and TRI are kept as a raw span.
 *
 * Interoperability: li-psDomainId must be 0.4.0.2.2.5.1.<version> with
 * version >= 1; libtrace/OpenLI writes 0.4.0.2.2.5.1.17.0 (one extra 0
 * arc), which is accepted and flagged in oid_extra_arc.  Long-form lengths
 * with leading zero octets are accepted, as BER allows.
 *
 * Every element of an iRIPayloadSequence / cCPayloadSequence is decoded
 * and checked; cl_psdu_info describes the first, npayloads counts them and
 * cl_psdu_payload_at() decodes any one of them.  An empty sequence is
 * rejected (it would carry a sequence number and nothing else).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Largest PS-PDU accepted (the whole TLV). */
#define CL_PSDU_DEC_MAX (1024u * 1024)

/* Payload kinds. */
#define CL_PSDU_KIND_IRI   1 /* iRIPayloadSequence */
#define CL_PSDU_KIND_CC    2 /* cCPayloadSequence */
#define CL_PSDU_KIND_TRI   3 /* tRIPayload */
#define CL_PSDU_KIND_OTHER 4 /* hI1-Operation, encryptionContainer, ... */

/* Sub-kinds of IRI and CC payloads. */
#define CL_PSDU_SUB_OTHER                                                      \
	0                   /* another IRIContents / CCContents / IPCC         \
			       alternative: raw span in other */
#define CL_PSDU_SUB_IPIRI 1 /* iRIContents iPIRI */
#define CL_PSDU_SUB_IPCC  2 /* cCContents iPCC with iPPackets */

/* TRIPayload alternatives not named in psdu.h. */
#define CL_PSDU_TRI_INTEGRITY   0
#define CL_PSDU_TRI_PADDING     2
#define CL_PSDU_TRI_LEA_MESSAGE 8
#define CL_PSDU_TRI_OPTION_REQ  9
#define CL_PSDU_TRI_OPTION_RESP 10

/* An IPAddress (LI-PS-PDU) as decoded. */
struct cl_psdu_ipaddr_dec {
	bool present;
	int type;             /* iP-type: 0 iPV4, 1 iPV6, or an extension */
	bool text;            /* iP-value is iPTextAddress (IA5String) */
	struct cl_span value; /* 4 or 16 octets (binary), or the text */
	int assignment;       /* iP-assignment, -1 absent */
	int prefix_len;       /* iPv6PrefixLength 1..128, -1 absent */
};

struct cl_psdu_iri_dec {
	int type; /* iRIType CL_PSDU_IRI_*, -1 absent */
	int sub;  /* CL_PSDU_SUB_IPIRI or CL_PSDU_SUB_OTHER */
	/* sub == CL_PSDU_SUB_IPIRI: */
	uint32_t objid_version;           /* iPIRIObjId 5.3.<v>.1 */
	int access_event;                 /* accessEventType */
	struct cl_span user;              /* targetUsername (may be empty) */
	int access_type;                  /* internetAccessType */
	int ip_version;                   /* iPVersion */
	struct cl_psdu_ipaddr_dec target; /* targetIPAddress */
	bool has_start, has_end;
	int64_t start_sec, end_sec;
	uint32_t start_usec, end_usec;
	int end_reason; /* -1 absent */
	bool has_octets_rx, has_octets_tx;
	uint64_t octets_rx, octets_tx;
	bool has_aaa;
	struct cl_span aaa; /* rawAAAData */
	int auth_type;      /* authenticationType, -1 absent */
	unsigned skipped;   /* IPIRIContents components not interpreted */
};

struct cl_psdu_cc_dec {
	int dir; /* payloadDirection CL_PSDU_DIR_* (or extension), -1 absent */
	int sub; /* CL_PSDU_SUB_IPCC or CL_PSDU_SUB_OTHER */
	uint32_t objid_version; /* iPCCObjId 5.3.<v>.2 */
	struct cl_span ip;      /* iPPackets */
};

struct cl_psdu_tri_dec {
	int which; /* TRIPayload alternative: 0..13, or an extension tag */
	/* which == CL_PSDU_TRI_INTEGRITY: */
	struct cl_span seqs; /* content of includedSequenceNumbers */
	size_t nseqs;
	int check_type;       /* CL_PSDU_CHECK_* or extension */
	int data_type;        /* CL_PSDU_DATA_*, -1 absent */
	struct cl_span value; /* checkValue */
	int hash_alg;         /* -1 absent */
	int sig_alg;          /* -1 absent */
	/* which == CL_PSDU_TRI_OPTION_REQ / _RESP: pDUAcknowledgement */
	bool ack_requested, ack_accepted, ack_declined;
	/* anything else: the alternative's content */
	struct cl_span raw;
};

struct cl_psdu_info {
	struct cl_span pdu; /* the whole PS-PDU TLV */

	/* PSHeader */
	uint32_t version;   /* last arc of li-psDomainId */
	bool oid_extra_arc; /* libtrace's trailing 0 arc */
	struct cl_span liid;
	struct cl_span country; /* authorizationCountryCode, len 0 absent */
	struct cl_span operator_id;
	struct cl_span ne_id; /* len 0 absent */
	bool has_cin;
	uint32_t cin; /* 0 when absent */
	uint32_t seq;
	bool has_ts; /* timeStamp */
	int64_t ts_sec;
	uint32_t ts_usec;
	bool has_msts; /* microSecondTimeStamp */
	uint64_t msts_sec;
	uint32_t msts_usec;
	int tsq;              /* timeStampQualifier, -1 absent */
	struct cl_span ipid;  /* interceptionPointID, len 0 absent */
	unsigned hdr_skipped; /* PSHeader components not interpreted */

	/* Payload */
	int kind;             /* CL_PSDU_KIND_* */
	uint32_t tag;         /* Payload alternative tag; for sub-kind other,
				 the IRIContents / CCContents / IPCCContents
				 tag */
	struct cl_span other; /* KIND_OTHER / SUB_OTHER: alternative content */
	size_t npayloads;     /* IRI/CC: elements of the SEQUENCE OF */
	struct cl_span seqof; /* IRI/CC: content of the SEQUENCE OF */
	struct cl_psdu_iri_dec iri;
	struct cl_psdu_cc_dec cc;
	struct cl_psdu_tri_dec tri;
};

/*
 * Decodes one PS-PDU from the start of p[0..len).  On success *out
 * describes it (spans point into p), *consumed is its length and 0 is
 * returned.  CL_ERR_TRUNCATED: p holds only the beginning of a PDU (the
 * caller reads more); the outer header is checked as soon as it is in,
 * so an impossible length (over CL_PSDU_DEC_MAX) fails at once with
 * CL_ERR_TOOBIG.  Any other error: malformed, close the stream.  *why (if
 * why is not NULL) names the check that failed, a static string; on
 * success it is "".  *out and *consumed are cleared on failure.
 */
int cl_psdu_decode(const uint8_t *p, size_t len, struct cl_psdu_info *out,
    size_t *consumed, const char **why);

/*
 * Writes the includedSequenceNumbers of an integrity PDU (in order) into
 * out[0..*n).  CL_ERR_TOOBIG if there are more than max;
 * CL_ERR_INVALID_ARG if info is not an integrityCheck.
 */
int cl_psdu_ic_seqs(
    const struct cl_psdu_info *info, uint32_t *out, size_t max, size_t *n);

/*
 * For IRI and CC PDUs with several payloads: *out becomes a copy of *info
 * whose iri or cc part describes payload i (0 <= i < info->npayloads).
 * CL_ERR_INVALID_ARG for a bad index or kind.
 */
int cl_psdu_payload_at(
    const struct cl_psdu_info *info, size_t i, struct cl_psdu_info *out);

/* Static names: "begin", "from-target", "keep-alive", "sessionStart"...
 * or NULL for a value without a name. */
const char *cl_psdu_iri_type_name(int type);
const char *cl_psdu_dir_name(int dir);
const char *cl_psdu_tri_name(int which);
const char *cl_psdu_access_event_name(int ev);

#endif /* CL_PSDU_DEC_H */
