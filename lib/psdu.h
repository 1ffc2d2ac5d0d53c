/* SPDX-License-Identifier: ISC */
#ifndef CL_PSDU_H
#define CL_PSDU_H

/*
 * ETSI TS 102 232-1 PS-PDUs in BER, with TS 102 232-3 IP access payloads
 * (LI-PS-PDU version43, IPAccessPDU version18; the ASN.1 is in
 * ../shared/standards).  Both modules use IMPLICIT TAGS, so a tagged
 * SEQUENCE or primitive replaces its universal tag, while a tagged CHOICE
 * (Payload, CCContents, IRIContents, IPCCContents, IP-value, TRIPayload)
 * keeps an explicit wrapper: payload [2] is A2 { A1 cCPayloadSequence }.
 *
 * A PS-PDU we write:
 *
 *   PS-PDU  30 { pSHeader A1 { 80 li-psDomainId 0.4.0.2.2.5.1.43,
 *                               81 LIID, [82 country], A3 { A0 { 80 operator,
 *                               [81 network element] }, 81 CIN },
 *                               84 sequenceNumber, 85 timeStamp,
 *                               [86 interceptionPointID],
 *                               A7 { 80 seconds, 81 microSeconds },
 *                               [88 timeStampQualifier] }
 *                payload A2 { ... } }
 *
 * The parts of the PSHeader that are fixed for a communication (domain
 * OID, LIID, country, communicationIdentifier, interceptionPointID) are
 * encoded once by cl_psheader_init() and copied per PDU; only the sequence
 * number and time stamps are encoded per PDU.  HI3 PDUs are written size
 * first (see ber.h): the packet is copied once and nothing moves.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* PayloadDirection */
#define CL_PSDU_DIR_FROM_TARGET   0
#define CL_PSDU_DIR_TO_TARGET     1
#define CL_PSDU_DIR_INDETERMINATE 2
#define CL_PSDU_DIR_COMBINED      3
#define CL_PSDU_DIR_NA            4

/* IRIType */
#define CL_PSDU_IRI_BEGIN    1
#define CL_PSDU_IRI_END      2
#define CL_PSDU_IRI_CONTINUE 3
#define CL_PSDU_IRI_REPORT   4

/* TimeStampQualifier; CL_PSDU_TSQ_NONE leaves it out. */
#define CL_PSDU_TSQ_NONE         (-1)
#define CL_PSDU_TSQ_UNKNOWN      0
#define CL_PSDU_TSQ_INTERCEPTION 1
#define CL_PSDU_TSQ_MEDIATION    2

/* TRIPayload alternatives of type NULL that cl_psdu_tri() writes. */
#define CL_PSDU_TRI_TEST           1
#define CL_PSDU_TRI_KEEPALIVE      3
#define CL_PSDU_TRI_KEEPALIVE_RESP 4
#define CL_PSDU_TRI_CIN_RESET      7
#define CL_PSDU_TRI_OPTION_DONE    11
#define CL_PSDU_TRI_ACK_REQUEST    12
#define CL_PSDU_TRI_ACK_RESPONSE   13

/* Size limits of the module. */
#define CL_PSDU_LIID_MAX  25 /* TS 103 280 LIID: OCTET STRING (SIZE (1..25)) */
#define CL_PSDU_NETID_MAX 16 /* operator/networkElementIdentifier */
#define CL_PSDU_IPID_MAX  8  /* interceptionPointID */

/* li-psDomainId and the TS 102 232-3 RELATIVE-OIDs, as written. */
extern const uint32_t cl_psdu_domain_oid[8];   /* 0.4.0.2.2.5.1.43 */
extern const uint32_t cl_psdu_ipcc_reloid[4];  /* 5.3.18.2 */
extern const uint32_t cl_psdu_ipiri_reloid[4]; /* 5.3.18.1 */

/* What identifies a communication; input of cl_psheader_init(). */
struct cl_psh_ids {
	const uint8_t *liid; /* 1..25 octets */
	size_t liid_len;
	const char *country;        /* authorizationCountryCode, 2 letters,
				       or NULL */
	const uint8_t *operator_id; /* 1..16 octets */
	size_t operator_id_len;
	const uint8_t *ne_id; /* 0 (absent) .. 16 octets */
	size_t ne_id_len;
	uint32_t cin;     /* communicationIdentityNumber */
	const char *ipid; /* interceptionPointID (1..8
			     PrintableString) or NULL */
};

#define CL_PSH_PRE_MAX  96
#define CL_PSH_POST_MAX 16

/*
 * A PSHeader.  The caller sets seq, sec/usec (time of interception, unix
 * time) and tsq for each PDU; the rest is private, set by
 * cl_psheader_init().
 */
struct cl_psheader {
	uint32_t seq;  /* sequenceNumber */
	int64_t sec;   /* timeStamp / microSecondTimeStamp */
	uint32_t usec; /* 0..999999 */
	int tsq;       /* CL_PSDU_TSQ_* */

	uint8_t pre[CL_PSH_PRE_MAX];   /* encoded [0] .. [3] */
	uint8_t post[CL_PSH_POST_MAX]; /* encoded [6] */
	uint16_t prelen;
	uint8_t postlen;
	bool ready;
};

/*
 * Checks ids against the module's constraints (sizes; country two
 * letters A-Z; interceptionPointID PrintableString) and pre-encodes them
 * into h; seq, sec and usec become 0 and tsq CL_PSDU_TSQ_INTERCEPTION.
 * Fails with CL_ERR_INVALID_ARG, leaving h not ready.
 */
int cl_psheader_init(struct cl_psheader *h, const struct cl_psh_ids *ids);

/*
 * Appends to b a PS-PDU with one CCPayload { payloadDirection,
 * cCContents iPCC { iPCCObjId, iPCCContents iPPackets <ip> } }.
 * direction is a CL_PSDU_DIR_* value.  On failure (CL_ERR_INVALID_ARG for
 * a header not ready, a bad direction or time; a cl_buf error) b->len is
 * restored.
 */
int cl_psdu_hi3_ipcc(struct cl_buf *b, const struct cl_psheader *h,
    const uint8_t *ip, size_t len, int direction);

/* An IP address for IPIRIContents (LI-PS-PDU IPAddress). */
struct cl_psdu_ipaddr {
	int family;         /* 0 (absent), 4 or 6 */
	uint8_t addr[16];   /* 4 or 16 octets used */
	uint8_t prefix_len; /* IPv6 only: iPv6PrefixLength, 1..128 (0 means
			       128) */
	int assignment;     /* -1 (absent), 1 static, 2 dynamic, 3 notKnown */
};

/* IPIRIContents: the fields clearli fills in. */
struct cl_psdu_ipiri {
	int access_event;        /* AccessEventType 0..10 */
	const uint8_t *username; /* targetUsername (may be empty) */
	size_t username_len;
	int access_type;              /* InternetAccessType 0..9 */
	int ip_version;               /* IPVersion 1..3 */
	struct cl_psdu_ipaddr target; /* targetIPAddress */
	bool has_start;               /* startTime */
	int64_t start_sec;
	uint32_t start_usec;
	bool has_end; /* endTime */
	int64_t end_sec;
	uint32_t end_usec;
	int end_reason;  /* EndReason 0..4, or -1 */
	bool has_octets; /* octetsReceived / octetsTransmitted */
	uint64_t octets_rx;
	uint64_t octets_tx;
	const uint8_t *raw_aaa; /* rawAAAData, if raw_aaa_len > 0 */
	size_t raw_aaa_len;
	int auth_type; /* AuthenticationType 0..4, or -1 */
};

/* Fills iri with "absent" for every optional field (and zeroes). */
void cl_psdu_ipiri_init(struct cl_psdu_ipiri *iri);

/*
 * Appends to b a PS-PDU with one IRIPayload { iRIType, iRIContents iPIRI
 * { iPIRIObjId, iPIRIContents } }; iri_type is a CL_PSDU_IRI_* value.
 * Values outside the enumerations of the module are CL_ERR_INVALID_ARG.  On
 * failure b->len is restored.
 */
int cl_psdu_hi2_ipiri(struct cl_buf *b, const struct cl_psheader *h,
    int iri_type, const struct cl_psdu_ipiri *iri);

/*
 * Appends to b a PS-PDU whose payload is tRIPayload with the NULL
 * alternative which (CL_PSDU_TRI_*: keep-alive, keep-aliveResponse, ...).
 */
int cl_psdu_tri(struct cl_buf *b, const struct cl_psheader *h, int which);

/* IntegrityCheck (TS 102 232-1 clause 7.2): CheckType, DataType,
 * HashAlgorithm, SignatureAlgorithm values. */
#define CL_PSDU_CHECK_HASH      1
#define CL_PSDU_CHECK_SIGNATURE 2
#define CL_PSDU_DATA_IRI        1
#define CL_PSDU_DATA_CC         2
#define CL_PSDU_HASH_SHA256     2
#define CL_PSDU_SIG_EDDSA       3
/* Most sequence numbers one IntegrityCheck covers (our limit). */
#define CL_PSDU_IC_MAX 4096

struct cl_psdu_icheck {
	const uint32_t *seqs; /* includedSequenceNumbers, 1..CL_PSDU_IC_MAX */
	size_t nseqs;
	int check_type;       /* CL_PSDU_CHECK_* */
	int data_type;        /* CL_PSDU_DATA_* */
	const uint8_t *value; /* checkValue, 1.. octets */
	size_t value_len;
	int hash_alg; /* CL_PSDU_HASH_*, or -1 (absent) */
	int sig_alg;  /* CL_PSDU_SIG_*, or -1 (absent) */
};

/*
 * Appends a PS-PDU whose payload is tRIPayload integrityCheck.  Values
 * outside the module's enumerations, no sequence numbers or more than
 * CL_PSDU_IC_MAX, or an empty check value are CL_ERR_INVALID_ARG.  On
 * failure b->len is restored.
 */
int cl_psdu_integrity(struct cl_buf *b, const struct cl_psheader *h,
    const struct cl_psdu_icheck *ic);

/*
 * Appends a PS-PDU with tRIPayload optionRequest { requestedOptions }:
 * { pDUAcknowledgement } if ack, else an empty list.
 */
int cl_psdu_option_request(
    struct cl_buf *b, const struct cl_psheader *h, bool ack);

/*
 * Appends a PS-PDU with tRIPayload optionResponse: pDUAcknowledgement in
 * acceptedOptions (accept) or declinedOptions (!accept); both lists empty
 * if requested is false.
 */
int cl_psdu_option_response(
    struct cl_buf *b, const struct cl_psheader *h, bool requested, bool accept);

#endif /* CL_PSDU_H */
