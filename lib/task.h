/* SPDX-License-Identifier: ISC */
#ifndef CL_TASK_H
#define CL_TASK_H

/*
 * The task and target model: the POI matches traffic against it, the MDF
 * looks tasks up by XID.  A task set is built whole (from a task file now,
 * from X1 later) and is immutable once built; a reload builds a new set and
 * swaps it in, so a bad file never leaves a half-loaded table.
 *
 * Matching cost does not depend on the number of tasks: addresses are
 * looked up in one hash table per family, once per distinct prefix length
 * present (typically one or two), and identities (user name, MAC, DUID) in
 * one hash table.  Every hit names the task and the target that matched.
 *
 * Task file format: docs/tasks.5.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"
#include "util.h"

#define CL_LIID_MAX         25
#define CL_TASKS_MAX        1000000
#define CL_TASK_TARGETS_MAX 256
#define CL_TARGET_ID_MAX    253 /* longest user name or DUID, bytes */
#define CL_TASK_FILE_MAX    (256u * 1024 * 1024)

#define CL_DELIVER_IRI 0x1
#define CL_DELIVER_CC  0x2

enum cl_target_type {
	CL_TGT_IP = 1, /* IPv4/IPv6 address or prefix */
	CL_TGT_USER,   /* RADIUS User-Name */
	CL_TGT_MAC,    /* DHCP client hardware address */
	CL_TGT_DUID,   /* DHCPv6 client DUID */
};

struct cl_target {
	enum cl_target_type type;
	struct cl_addr addr; /* CL_TGT_IP */
	uint8_t plen;
	uint8_t *id; /* other types: the identifier (heap) */
	uint8_t idlen;
	/* The identifier as written in the task, sent as the X2/X3 Matched
	 * Target Identifier. */
	char *text;
	size_t textlen;
};

struct cl_task {
	uint8_t xid[CL_UUID_LEN];
	char liid[CL_LIID_MAX + 1];
	unsigned deliver;   /* CL_DELIVER_* */
	int64_t start, end; /* seconds since the epoch, [start, end) */
	bool has_dest;
	uint8_t dest[CL_UUID_LEN];
	struct cl_target *targets;
	size_t ntargets;

	/* Mutable state, carried over to the task of the same XID when a
	 * new set replaces this one (cl_taskset_inherit). */
	uint32_t seqno; /* next X2/X3 sequence number */
	uint64_t pdus, bytes;
	bool was_active; /* last seen state, for activation logging */
};

struct cl_hit {
	struct cl_task *task;
	const struct cl_target *target;
};

/* All hits of one lookup key. */
struct cl_matchlist {
	size_t n;
	struct cl_hit *hits; /* &first while n == 1 */
	struct cl_hit first; /* inline: one hit per key is the rule */
	/* key follows (private) */
	uint8_t keylen;
	uint8_t key[]; /* keylen bytes */
};

struct cl_taskset;

/*
 * Parses a task file held in memory.  On failure returns a CL_ERR_* and
 * writes "line N: reason" into err; *out is set only on success.
 */
int cl_taskset_parse(const char *text, size_t len, struct cl_taskset **out,
    char *err, size_t errlen);

/* Reads and parses a task file (at most CL_TASK_FILE_MAX bytes). */
int cl_taskset_load(
    const char *path, struct cl_taskset **out, char *err, size_t errlen);

/* An empty task set (for a POI started before any task exists). */
int cl_taskset_empty(struct cl_taskset **out);

void cl_taskset_free(struct cl_taskset *ts);

size_t cl_taskset_count(const struct cl_taskset *ts);
struct cl_task *cl_taskset_task(const struct cl_taskset *ts, size_t i);
struct cl_task *cl_taskset_find(
    const struct cl_taskset *ts, const uint8_t xid[static CL_UUID_LEN]);

/* True if any task targets an identity (then sessions matter). */
bool cl_taskset_has_identities(const struct cl_taskset *ts);

/*
 * Copies per-task state (sequence numbers, counters) from the tasks of
 * old to the tasks of the same XID in ts.
 */
void cl_taskset_inherit(struct cl_taskset *ts, const struct cl_taskset *old);

/*
 * Finds the task targets covering address a with a prefix length of at
 * most max_plen (pass 128 for a single address).  Fills out with up to max
 * match lists, longest prefix first, and returns how many.
 */
size_t cl_taskset_lookup_addr(const struct cl_taskset *ts,
    const struct cl_addr *a, unsigned max_plen, const struct cl_matchlist **out,
    size_t max);

/* Finds the task targets for an identity, or NULL. */
const struct cl_matchlist *cl_taskset_lookup_id(const struct cl_taskset *ts,
    enum cl_target_type type, const uint8_t *id, size_t len);

/* True if the task is active at time now (seconds since the epoch). */
static inline bool
cl_task_active(const struct cl_task *t, int64_t now)
{
	return t->start <= now && now < t->end;
}

#endif /* CL_TASK_H */
