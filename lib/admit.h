/* SPDX-License-Identifier: ISC */
#ifndef CL_ADMIT_H
#define CL_ADMIT_H

/*
 * Admission of connections that have not authenticated yet, as OpenSSH's
 * MaxStartups and PerSourceMaxStartups do it: a connection is admitted
 * while fewer than "start" are unauthenticated; between start and "full"
 * it is refused at random with a probability that rises linearly from
 * rate % to 100 %; from full on every one is refused; and no source
 * address (or its netblock) may hold more than per_source at a time.
 *
 * The module knows nothing of sockets or event loops: the caller asks
 * cl_admit() when a connection arrives, and calls cl_admit_release() with
 * the same address once that connection has authenticated or is closed.
 * It also counts the refusals and the distinct sources refused, for one
 * summary log line per interval instead of one line per refusal.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct cl_admit_opts {
	unsigned start;            /* random early refusal from here on */
	unsigned rate;             /* ... with this probability (%) at start */
	unsigned full;             /* every connection refused from here on */
	unsigned per_source;       /* per address (netblock); 0: no limit */
	unsigned v4_bits, v6_bits; /* netblock sizes (default 32 and 128) */
	uint64_t seed;             /* random generator; 0: from the kernel */
};

enum cl_admit_verdict {
	CL_ADMIT_OK = 0,
	CL_ADMIT_FULL,   /* "full" unauthenticated connections already */
	CL_ADMIT_SOURCE, /* per_source from this source already */
	CL_ADMIT_EARLY,  /* random early refusal between start and full */
};

/* Refusals since the last cl_admit_take_stats(). */
struct cl_admit_stats {
	uint64_t full, source, early; /* refusals by reason */
	uint64_t sources;             /* distinct sources among them */
	bool sources_capped;          /* more sources than could be counted */
};

struct cl_admit;

/*
 * Parses "START:RATE:FULL" or "FULL" (OpenSSH's syntax: a single number
 * is full and start at once) into o->start, o->rate, o->full; requires
 * 1 <= start <= full, rate <= 100, full <= max.  Returns 0, or
 * CL_ERR_FORMAT / CL_ERR_RANGE and leaves o unchanged.
 */
int cl_admit_parse(const char *s, unsigned max, struct cl_admit_opts *o);

/*
 * Creates an admission state for o (copied).  Returns 0 and *out, or
 * CL_ERR_INVALID_ARG (start > full, full 0, rate > 100, bad netblock
 * size) or CL_ERR_NOMEM.
 */
int cl_admit_new(const struct cl_admit_opts *o, struct cl_admit **out);
void cl_admit_free(struct cl_admit *a);

/*
 * Decides on a new unauthenticated connection from addr.  On CL_ADMIT_OK
 * the connection is counted (in total and for its source) until
 * cl_admit_release(); on a refusal nothing is held, and the refusal is
 * counted for cl_admit_take_stats().
 */
enum cl_admit_verdict cl_admit(struct cl_admit *a, const struct cl_addr *addr);

/* Ends the count of an admitted connection from addr. */
void cl_admit_release(struct cl_admit *a, const struct cl_addr *addr);

/* Unauthenticated connections admitted and not released. */
unsigned cl_admit_count(const struct cl_admit *a);

/* Copies the refusal counts into *st and starts new ones. */
void cl_admit_take_stats(struct cl_admit *a, struct cl_admit_stats *st);

/* A short name of a verdict ("ok", "full", "per-source", "early"). */
const char *cl_admit_verdict_str(enum cl_admit_verdict v);

#endif /* CL_ADMIT_H */
