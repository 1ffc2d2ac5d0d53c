/* SPDX-License-Identifier: ISC */
#ifndef LEMF_RECV_H
#define LEMF_RECV_H

/*
 * Receive-side state of clearli-lemf: per-stream sequence tracking,
 * duplicate detection and verification of IntegrityCheck PDUs.
 *
 * A stream is (LIID, CIN, kind) with kind iri, cc or integrity; each starts
 * at sequence number 0 and goes up by one.  For each stream we keep the
 * next expected number and the SHA-256 of the last PDUs accepted, in a ring
 * that grows on demand up to LEMF_WINDOW entries.  The hashes serve two
 * purposes: telling an exact repeat from a conflicting one, and
 * recomputing the signed data of an IntegrityCheck.
 *
 * Memory is bounded: at most LEMF_STREAMS_MAX streams (the least recently
 * used one is forgotten when a new one needs room; a later PDU of it then
 * starts a new stream, which reports a gap unless it is at 0) and at most
 * LEMF_SLOTS_MAX hash slots over all streams (a ring that cannot grow wraps
 * earlier, so older PDUs of that stream become "duplicate (unverified)"
 * and cannot be covered by an IntegrityCheck any more; both are reported,
 * never silent).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "psdu_dec.h"

#define LEMF_KIND_IRI       0
#define LEMF_KIND_CC        1
#define LEMF_KIND_INTEGRITY 2

#define LEMF_WINDOW      65536u     /* hashes kept per stream, at most */
#define LEMF_SLOTS_MAX   (1u << 21) /* hash slots over all streams (64 MiB) */
#define LEMF_STREAMS_MAX 100000u
#define LEMF_RING_MIN    16u /* first ring of a stream */

enum lemf_verdict {
	LEMF_NEW,            /* seq == expected: accepted */
	LEMF_GAP,            /* seq > expected: accepted after a gap */
	LEMF_DUP,            /* exact repeat: dropped */
	LEMF_DUP_UNVERIFIED, /* seq < expected, no hash held: dropped */
	LEMF_CONFLICT,       /* seq < expected, different bytes: dropped */
};

struct lemf_counts {
	uint64_t pdus; /* accepted data PDUs (iri + cc + integrity + other) */
	uint64_t iri, cc, integrity, other;
	uint64_t duplicates;     /* exact repeats dropped */
	uint64_t dup_unverified; /* repeats that could not be compared */
	uint64_t conflicts;
	uint64_t gaps;
	uint64_t bad;     /* malformed PDUs (connections closed) */
	uint64_t control; /* connection control PDUs */
	uint64_t integrity_ok, integrity_failed;
	uint64_t streams_evicted;
};

struct lemf_result {
	enum lemf_verdict verdict;
	int kind;          /* LEMF_KIND_* */
	uint64_t expected; /* the expected sequence number before this PDU */
	bool has_stored;
	uint8_t stored[32]; /* conflict: the hash held for that number */
	int verified;       /* integrity: 1 ok, 0 failed, -1 not checked */
	char why[200];      /* integrity: why it failed */
};

struct lemf_recv;

/*
 * Creates the state.  key (borrowed, may be NULL) is the Ed25519 public
 * key IntegrityCheck PDUs are verified with; without it they are not
 * verified.  slots_max bounds the hash slots (0: LEMF_SLOTS_MAX).
 */
int lemf_recv_new(EVP_PKEY *key, size_t slots_max, struct lemf_recv **out);
void lemf_recv_free(struct lemf_recv *rv);

/* The counters (the caller adds bad and control PDUs). */
struct lemf_counts *lemf_recv_counts(struct lemf_recv *rv);

/*
 * The stream kind of a decoded PDU: LEMF_KIND_IRI, _CC, _INTEGRITY, or -1
 * for anything that is not sequence-checked (connection control TRI,
 * payloads other than IRI/CC).
 */
int lemf_kind_of(const struct cl_psdu_info *in);
const char *lemf_kind_name(int kind);

/*
 * Classifies one data PDU (lemf_kind_of() >= 0) whose whole encoding
 * hashes to hash; updates the stream and the counters, and verifies
 * IntegrityCheck PDUs.  *res says what happened; the caller writes the
 * PDU for LEMF_NEW and LEMF_GAP only.  CL_ERR_INVALID_ARG for a PDU that
 * is not a data PDU, CL_ERR_NOMEM.
 */
int lemf_recv_pdu(struct lemf_recv *rv, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], struct lemf_result *res);

/*
 * Counts a PDU of no stream (other payloads) as accepted.
 */
void lemf_recv_other(struct lemf_recv *rv);

/*
 * Rebuilds state at start-up from one accepted PDU of the output file:
 * the stream's next number becomes at least seq + 1 and the hash is held.
 * Counters are not touched.
 */
int lemf_recv_restore(struct lemf_recv *rv, int kind, const uint8_t *liid,
    size_t liid_len, uint32_t cin, uint32_t seq, const uint8_t hash[static 32]);

/* Number of streams, and the next expected number of one (-1 unknown). */
size_t lemf_recv_nstreams(const struct lemf_recv *rv);
int64_t lemf_recv_next(struct lemf_recv *rv, int kind, const uint8_t *liid,
    size_t liid_len, uint32_t cin);

/*
 * Reads an Ed25519 public key (PEM).  Returns NULL and a reason in err on
 * failure, or if the key is not Ed25519.
 */
EVP_PKEY *lemf_load_pubkey(const char *path, char *err, size_t errlen);

#endif /* LEMF_RECV_H */
