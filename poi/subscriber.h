/* SPDX-License-Identifier: ISC */
#ifndef POI_SUBSCRIBER_H
#define POI_SUBSCRIBER_H

/*
 * Who is behind an address: subscriber sessions learnt from RADIUS, DHCPv4
 * and DHCPv6 binding events (proto/binding.h).
 *
 * A session has one primary identity (RADIUS: the session, i.e.
 * Acct-Session-Id, else User-Name + NAS + NAS-Port, else User-Name;
 * DHCPv4: MAC, else client id; DHCPv6: client DUID), any
 * number of other identities, and up to CL_SESSION_ADDRS addresses or
 * prefixes.  A session ends on STOP/RELEASE, on expiry of its lease or
 * Session-Timeout (packet time), or when a new session takes all of its
 * addresses.  Packet addresses are looked up by longest prefix among the
 * prefix lengths in use.
 *
 * Memory is bounded by max_sessions.  A session costs about
 * sizeof(struct cl_session) + its identity bytes + 4 hash slots (see
 * cl_subs_bytes_per_session()); a full table refuses new sessions and
 * counts them, it never evicts a live one.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/binding.h"
#include "htab.h"
#include "task.h"

#define CL_SESSION_ADDRS 4

/* Identity types stored with a session; the first three are the target
 * types they match. */
enum cl_id_type {
	CL_ID_USER = CL_TGT_USER,
	CL_ID_MAC = CL_TGT_MAC,
	CL_ID_DUID = CL_TGT_DUID,
	CL_ID_ACCT_SESSION = 10,
	CL_ID_CALLING_STATION = 11,
	CL_ID_CLIENT_ID = 12,
	/* RADIUS without Acct-Session-Id: User-Name, NAS and NAS-Port,
	 * each followed by a NUL octet except the port. */
	CL_ID_NAS_PORT = 13,
};

struct cl_session;

/* Where a session's address sits in the address table (private). */
struct cl_sess_addr {
	struct cl_session *sess;
	uint8_t keylen;
	uint8_t key[18]; /* family, plen, masked address */
};

struct cl_session {
	uint64_t cid; /* X2/X3 correlation ID */
	int64_t start_ns;
	int64_t expire_ns; /* 0 = no expiry */
	enum cl_bind_src src;
	uint8_t naddrs;
	struct cl_bind_addr addrs[CL_SESSION_ADDRS];
	struct cl_sess_addr akeys[CL_SESSION_ADDRS];
	/* Identities: (type u8, len u8, bytes) records; the first is the
	 * primary identity, the session's key. */
	uint8_t *ids;
	uint16_t idslen;
	/* Cache of the task match, owned by the pipeline. */
	uint64_t match_gen;
	bool match_any;
	bool ended;
};

struct cl_subs_stats {
	uint64_t started, updated, stopped, expired, replaced;
	uint64_t refused_full; /* sessions not created: table full */
	uint64_t ignored;      /* bindings with nothing to bind */
};

struct cl_subs;

struct cl_subs *cl_subs_new(size_t max_sessions);
void cl_subs_free(struct cl_subs *s);

/*
 * The outcome of one binding: which session started, changed or ended.
 * Sessions returned here stay valid until the next cl_subs_apply() or
 * cl_subs_expire() call.
 */
struct cl_subs_result {
	enum cl_bind_op op; /* CL_BIND_NONE if nothing changed */
	struct cl_session *sess;
};

/* Applies a binding seen at packet time now_ns. */
int cl_subs_apply(struct cl_subs *s, const struct cl_binding *b, int64_t now_ns,
    struct cl_subs_result *res);

/*
 * Returns the live session whose address or prefix covers a (longest
 * prefix), or NULL.  An expired session found here is ended on the spot.
 */
struct cl_session *cl_subs_lookup(
    struct cl_subs *s, const struct cl_addr *a, int64_t now_ns);

/*
 * Ends sessions whose expiry is before now_ns, looking at no more than
 * budget sessions per call (so it can run between packets).  Calls
 * ended(arg, session) for each before freeing it.
 */
void cl_subs_expire(struct cl_subs *s, int64_t now_ns, size_t budget,
    void (*ended)(void *, struct cl_session *), void *arg);

/*
 * Iterates the identities of a session: *pos starts at 0; returns false at
 * the end.
 */
bool cl_session_next_id(const struct cl_session *se, size_t *pos,
    enum cl_id_type *type, const uint8_t **id, size_t *len);

/* Finds the identity of a type, or returns false. */
bool cl_session_id(const struct cl_session *se, enum cl_id_type type,
    const uint8_t **id, size_t *len);

size_t cl_subs_count(const struct cl_subs *s);
void cl_subs_stats(const struct cl_subs *s, struct cl_subs_stats *st);

/* Average bytes held per session, measured over the live sessions. */
size_t cl_subs_bytes_per_session(const struct cl_subs *s);

#endif /* POI_SUBSCRIBER_H */
