/* SPDX-License-Identifier: ISC */
#ifndef CL_HTAB_H
#define CL_HTAB_H

/*
 * Open-addressing hash table (linear probing, backward-shift deletion) that
 * maps a key to a value pointer.  The table stores only the 64-bit hash and
 * the value; the value owns its key, and the caller's eq() compares a
 * value's key with a lookup key.  Lookups cost one probe sequence and one
 * eq() call per hash match, whatever the number of entries.
 *
 * Hashes are keyed with a per-table random seed, so that input chosen by
 * a peer (addresses, user names) cannot be aimed at one bucket.
 * XXX the mixing function is fast, not a PRF: an attacker who can observe
 * timing may still find collisions.  SipHash would close this at some cost
 * on the per-packet path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef bool cl_htab_eq_fn(const void *value, const void *key, size_t keylen);

struct cl_htab_slot {
	uint64_t h; /* 0 = empty */
	void *v;
};

struct cl_htab {
	struct cl_htab_slot *slots;
	size_t mask; /* number of slots - 1 */
	size_t n;    /* entries */
	size_t max;  /* entries allowed (hard bound) */
	uint64_t seed;
	cl_htab_eq_fn *eq;
};

/*
 * Initialises an empty table holding at most max entries.  Returns
 * CL_ERR_NOMEM on failure.  Release with cl_htab_release().
 */
int cl_htab_init(struct cl_htab *t, size_t max, cl_htab_eq_fn *eq);
void cl_htab_release(struct cl_htab *t);

/* The hash of a key under this table's seed. */
uint64_t cl_htab_hash(const struct cl_htab *t, const void *key, size_t len);

/* Returns the value for key, or NULL. */
void *cl_htab_get(const struct cl_htab *t, const void *key, size_t len);
void *cl_htab_get_h(
    const struct cl_htab *t, uint64_t h, const void *key, size_t len);

/*
 * Inserts v under key.  Fails with CL_ERR_EXISTS if the key is present,
 * CL_ERR_FULL at the entry bound, CL_ERR_NOMEM if growing fails.
 */
int cl_htab_put(struct cl_htab *t, const void *key, size_t len, void *v);

/*
 * Inserts v under hash h (from cl_htab_hash) for a key the caller knows to
 * be absent (it just looked it up), saving the second lookup.
 */
int cl_htab_put_h(struct cl_htab *t, uint64_t h, void *v);

/* Removes and returns the value for key, or NULL if absent. */
void *cl_htab_del(struct cl_htab *t, const void *key, size_t len);

/*
 * Iteration: *pos starts at 0; returns the next value or NULL at the end.
 * The table must not change during iteration except through
 * cl_htab_del_at(), which removes the value last returned.
 */
void *cl_htab_next(const struct cl_htab *t, size_t *pos);
void cl_htab_del_at(struct cl_htab *t, size_t *pos);

#endif /* CL_HTAB_H */
