/* SPDX-License-Identifier: ISC */
/* Window of recent sequence numbers and content hashes: see seqwin.h. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "seqwin.h"

void
cl_seqwin_init(struct cl_seqwin *w, uint32_t max)
{
	uint32_t m = CL_SEQWIN_MIN;

	memset(w, 0, sizeof(*w));
	while (m < max && m < CL_SEQWIN_MAX)
		m *= 2;
	w->max = m;
}

void
cl_seqwin_release(struct cl_seqwin *w)
{
	free(w->v);
	w->v = NULL;
	w->cap = w->n = 0;
}

enum cl_seqwin_verdict
cl_seqwin_check(
    const struct cl_seqwin *w, uint32_t seq, const uint8_t h[static 16])
{
	const struct cl_seqwin_ent *e;

	if (w->cap == 0)
		return CL_SEQWIN_NEW;
	e = &w->v[seq & (w->cap - 1)];
	if (!e->used || e->seq != seq)
		return CL_SEQWIN_NEW;
	return memcmp(e->h, h, CL_SEQWIN_HASH_LEN) == 0 ? CL_SEQWIN_REPEAT
							: CL_SEQWIN_CONFLICT;
}

/* Doubles the table.  Entries that had distinct slots modulo cap keep
 * distinct slots modulo 2 * cap, so nothing is lost. */
static int
grow(struct cl_seqwin *w)
{
	uint32_t nc = w->cap == 0 ? CL_SEQWIN_MIN : w->cap * 2, i;
	struct cl_seqwin_ent *nv;

	if ((nv = calloc(nc, sizeof(*nv))) == NULL)
		return CL_ERR_NOMEM;
	for (i = 0; i < w->cap; i++)
		if (w->v[i].used)
			nv[w->v[i].seq & (nc - 1)] = w->v[i];
	free(w->v);
	w->v = nv;
	w->cap = nc;
	return 0;
}

int
cl_seqwin_put(struct cl_seqwin *w, uint32_t seq, const uint8_t h[static 16])
{
	struct cl_seqwin_ent *e;
	int r;

	/* Grow while the table is half full, so that a run of consecutive
	 * numbers is not cut short before max. */
	if ((w->cap == 0 || (w->n >= w->cap / 2 && w->cap < w->max)) &&
	    (r = grow(w)) != 0 && w->cap == 0)
		return r;
	e = &w->v[seq & (w->cap - 1)];
	if (!e->used)
		w->n++;
	e->used = true;
	e->seq = seq;
	memcpy(e->h, h, CL_SEQWIN_HASH_LEN);
	return 0;
}

const struct cl_seqwin_ent *
cl_seqwin_next(const struct cl_seqwin *w, uint32_t *pos)
{
	while (*pos < w->cap) {
		const struct cl_seqwin_ent *e = &w->v[(*pos)++];

		if (e->used)
			return e;
	}
	return NULL;
}
