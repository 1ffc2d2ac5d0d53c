/* SPDX-License-Identifier: ISC */
#ifndef CL_SEQWIN_H
#define CL_SEQWIN_H

/*
 * A bounded window of recent (sequence number -> content hash) pairs, for
 * telling a true repeat (the same sequence number with the same content,
 * as a sender resends after a reconnect) from a conflict (the same
 * number with other content, as after a sender's restart) and from a
 * number not seen recently.
 *
 * Slots are indexed by the sequence number modulo the table size, so a
 * lookup is one probe and memory is bounded by max slots: a window over a
 * run of consecutive numbers holds the last max of them.  The table
 * starts small and doubles, up to max, as entries arrive.  A number whose
 * slot holds another number is "not seen": callers must then keep the
 * data (a repeat delivered twice is visible downstream, a drop is not).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_SEQWIN_HASH_LEN 16
#define CL_SEQWIN_MIN      64
#define CL_SEQWIN_MAX      (1u << 20)

struct cl_seqwin_ent {
	uint32_t seq;
	bool used;
	uint8_t h[CL_SEQWIN_HASH_LEN];
};

struct cl_seqwin {
	struct cl_seqwin_ent *v;
	uint32_t cap; /* slots allocated (0 or a power of two) */
	uint32_t max; /* slots at most (a power of two) */
	uint32_t n;   /* slots used */
};

enum cl_seqwin_verdict {
	CL_SEQWIN_NEW = 0, /* not in the window */
	CL_SEQWIN_REPEAT,  /* the same number with the same hash */
	CL_SEQWIN_CONFLICT /* the same number with another hash */
};

/* Sets up an empty window of at most max slots (rounded up to a power of
 * two within CL_SEQWIN_MIN..CL_SEQWIN_MAX); allocates nothing yet. */
void cl_seqwin_init(struct cl_seqwin *w, uint32_t max);

/* Frees the slots; w may be reused after cl_seqwin_init(). */
void cl_seqwin_release(struct cl_seqwin *w);

/* What the window says about (seq, h). */
enum cl_seqwin_verdict cl_seqwin_check(
    const struct cl_seqwin *w, uint32_t seq, const uint8_t h[static 16]);

/*
 * Records (seq, h), replacing whatever the slot held.  Returns 0, or
 * CL_ERR_NOMEM if the table could not grow (it is then unchanged but still
 * usable).
 */
int cl_seqwin_put(
    struct cl_seqwin *w, uint32_t seq, const uint8_t h[static 16]);

/* Iteration over the used slots: *pos starts at 0; returns NULL at the
 * end.  The window must not change meanwhile. */
const struct cl_seqwin_ent *cl_seqwin_next(
    const struct cl_seqwin *w, uint32_t *pos);

#endif /* CL_SEQWIN_H */
