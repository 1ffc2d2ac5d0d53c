/* SPDX-License-Identifier: ISC */
#ifndef LEMF_LINK_H
#define LEMF_LINK_H

/*
 * The processes of clearli-lemf and what passes between them (lib/imsg,
 * over socketpairs the parent makes):
 *
 *   parent  holds no key and no output; starts the roles, forwards
 *           SIGUSR1 and SIGTERM, names a role that dies and exits.
 *   front   the HI TLS key and the listener: admits, authenticates and
 *           reads the MDFs, decodes and checks their PS-PDUs (lemf/hi.c,
 *           lemf/recv.c) and sends the records to the writer; answers
 *           the MDFs once the writer says they are synced.
 *   writer  the output directory (lemf/out.c): writes what the front
 *           sends, syncs when asked (in its sync worker) and says so.
 *
 * front -> writer: LEMF_W_REC (a record and the PS-PDU it is about),
 * LEMF_W_BAD (a malformed PDU), LEMF_W_SYNC (a token: sync everything
 * sent before it), LEMF_W_SUMMARY and LEMF_W_FINAL (the counters: write
 * summary.json; FINAL also ends the writer after its last sync).
 *
 * writer -> front: at start LEMF_F_RESTORE (the streams that pdus.jsonl
 * holds, as lists of struct lemf_m_restore) and LEMF_F_READY once; then
 * LEMF_F_SYNCED (the token of the last sync ended).
 *
 * parent -> front: LEMF_P_SUMMARY (SIGUSR1 came), LEMF_P_CRL (the
 * --tls-crl file's new contents, which the front checks and applies);
 * the parent closing its
 * socket stops the front.  front -> parent: LEMF_P_READY once, when the
 * restored state is in and connections are served.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "imsg.h"
#include "loop.h"
#include "out.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "recv.h"

enum {
	LEMF_W_REC = 1,
	LEMF_W_BAD,
	LEMF_W_SYNC,
	LEMF_W_SUMMARY,
	LEMF_W_FINAL,
	LEMF_F_RESTORE = 20,
	LEMF_F_READY,
	LEMF_F_SYNCED,
	LEMF_P_SUMMARY = 40,
	LEMF_P_READY,
	LEMF_P_CRL,
};

/* Largest --tls-crl file the parent hands to the front. */
#define LEMF_CRL_MAX (4u * 1024 * 1024)

/* What the writer does with a LEMF_W_REC. */
#define LEMF_REC_PDU      1 /* lemf_out_pdu() (res NULL: of no stream) */
#define LEMF_REC_GAP      2 /* lemf_out_gap(), then lemf_out_pdu() */
#define LEMF_REC_CONFLICT 3 /* lemf_out_conflict() */
#define LEMF_REC_OTHER    4 /* lemf_out_pdu() without a result */

/* The head of a LEMF_W_REC, the fields of struct lemf_result that every
 * PDU has; then the hash held for a conflict (stored, 32 octets, if
 * has_stored), why an IntegrityCheck failed (why_len octets, no NUL) and
 * the PS-PDU's encoding. */
struct lemf_m_rec {
	uint32_t op;
	uint32_t verdict;
	int32_t kind;
	int32_t verified;
	uint64_t expected;
	int64_t rx_sec, rx_nsec;
	uint8_t hash[32];
	uint16_t why_len;
	uint8_t has_stored;
	uint8_t pad[5];
};

struct lemf_m_bad {
	int64_t rx_sec, rx_nsec;
	uint64_t offset;
	int32_t err;
	char peer[80];
	char why[200];
};

struct lemf_m_restore {
	uint32_t kind, cin, seq;
	uint32_t liid_len;
	uint8_t liid[CL_PSDU_LIID_MAX];
	uint8_t hash[32];
};

#define LEMF_RESTORE_BATCH 4096 /* records in one LEMF_F_RESTORE */

/* What the front accepts from the parent, the writer from the front, the
 * parent from the front. */
extern const struct cl_imsg_type lemf_to_front[];
extern const size_t lemf_to_front_n;
extern const struct cl_imsg_type lemf_to_writer[];
extern const size_t lemf_to_writer_n;
extern const struct cl_imsg_type lemf_to_parent[];
extern const size_t lemf_to_parent_n;

/*
 * The front's end of its link to the writer, on lib/loop.  Records are
 * queued (one message each, written in batches: whatever the socket
 * takes, when the loop finds it writable or at lemf_link_flush()).
 */
struct lemf_link;

/* Called in the loop: the sync asked for last has ended (ok), or the
 * writer is gone or broke the protocol (!ok, logged). */
typedef void lemf_link_fn(void *arg, bool ok);

/*
 * Wraps descriptor fd (taken over), which must have delivered
 * LEMF_F_READY already through lemf_link_restore().  Returns 0 or non-zero
 * (logged).
 */
int lemf_link_new(struct cl_loop *l, int fd, lemf_link_fn *fn, void *arg,
    struct lemf_link **out);
void lemf_link_free(struct lemf_link *k);

/*
 * At start, before the loop: reads the writer's restored streams into rv
 * until LEMF_F_READY (blocking), and its figures into *rs.  Returns 0 or
 * non-zero (logged: the writer ended or broke the protocol).
 */
int lemf_link_restore(
    int fd, struct lemf_recv *rv, struct lemf_restore_stats *rs);

int lemf_link_rec(struct lemf_link *k, unsigned op,
    const struct cl_psdu_info *in, const uint8_t hash[static 32],
    const struct lemf_result *res, const struct timespec *rx);
int lemf_link_bad(struct lemf_link *k, const char *peer, uint64_t offset,
    int err, const char *why, const struct timespec *rx);
/* Asks for a sync of everything sent so far; the callback says when it
 * ended.  One at a time. */
int lemf_link_sync(struct lemf_link *k);
int lemf_link_summary(
    struct lemf_link *k, const struct lemf_counts *c, bool final);
/* Octets queued for the writer and not yet written. */
size_t lemf_link_queued(const struct lemf_link *k);
/* Calls fn(arg) once, in the loop, when no more than low octets are
 * queued (at once if that is so now). */
void lemf_link_when_below(
    struct lemf_link *k, size_t low, void (*fn)(void *), void *arg);
/* Writes what is queued, as far as the socket takes it (0), or
 * CL_ERR_CLOSED / CL_ERR_SYSTEM. */
int lemf_link_flush(struct lemf_link *k);
/* Writes everything queued, waiting for the socket (at the end). */
int lemf_link_drain(struct lemf_link *k);

#endif /* LEMF_LINK_H */
