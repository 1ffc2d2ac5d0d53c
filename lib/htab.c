/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"
#include "htab.h"
#include "util.h"

#define MIN_SLOTS 16

uint64_t
cl_htab_hash(const struct cl_htab *t, const void *key, size_t len)
{
	uint64_t h = cl_hash_keyed(t->seed, key, len);

	return h == 0 ? 1 : h; /* 0 marks an empty slot */
}

int
cl_htab_init(struct cl_htab *t, size_t max, cl_htab_eq_fn *eq)
{
	memset(t, 0, sizeof(*t));
	if ((t->slots = calloc(MIN_SLOTS, sizeof(*t->slots))) == NULL)
		return CL_ERR_NOMEM;
	t->mask = MIN_SLOTS - 1;
	t->max = max;
	t->eq = eq;
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x2545f4914f6cdd1dULL;
	return 0;
}

void
cl_htab_release(struct cl_htab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->n = 0;
	t->mask = 0;
}

void *
cl_htab_get_h(const struct cl_htab *t, uint64_t h, const void *key, size_t len)
{
	size_t i = h & t->mask;

	for (;;) {
		const struct cl_htab_slot *s = &t->slots[i];

		if (s->h == 0)
			return NULL;
		if (s->h == h && t->eq(s->v, key, len))
			return s->v;
		i = (i + 1) & t->mask;
	}
}

void *
cl_htab_get(const struct cl_htab *t, const void *key, size_t len)
{
	return cl_htab_get_h(t, cl_htab_hash(t, key, len), key, len);
}

static int
grow(struct cl_htab *t)
{
	struct cl_htab_slot *old = t->slots, *ns;
	size_t oldn = t->mask + 1, nn = oldn * 2, i, j;

	if ((ns = calloc(nn, sizeof(*ns))) == NULL)
		return CL_ERR_NOMEM;
	for (i = 0; i < oldn; i++) {
		if (old[i].h == 0)
			continue;
		for (j = old[i].h & (nn - 1); ns[j].h != 0;
		     j = (j + 1) & (nn - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	t->slots = ns;
	t->mask = nn - 1;
	return 0;
}

int
cl_htab_put(struct cl_htab *t, const void *key, size_t len, void *v)
{
	uint64_t h = cl_htab_hash(t, key, len);

	if (cl_htab_get_h(t, h, key, len) != NULL)
		return CL_ERR_EXISTS;
	return cl_htab_put_h(t, h, v);
}

int
cl_htab_put_h(struct cl_htab *t, uint64_t h, void *v)
{
	size_t i;
	int r;

	if (t->n >= t->max)
		return CL_ERR_FULL;
	/* Keep the load factor under 1/2: short probe sequences. */
	if ((t->n + 1) * 2 > t->mask + 1 && (r = grow(t)) != 0)
		return r;
	for (i = h & t->mask; t->slots[i].h != 0; i = (i + 1) & t->mask)
		;
	t->slots[i].h = h;
	t->slots[i].v = v;
	t->n++;
	return 0;
}

/* Removes slot i and shifts later members of its cluster back. */
static void
remove_slot(struct cl_htab *t, size_t i)
{
	size_t j = i, k;

	for (;;) {
		t->slots[i].h = 0;
		t->slots[i].v = NULL;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->slots[j].h == 0)
				return;
			k = t->slots[j].h & t->mask;
			/* Move j back to i unless its home k lies cyclically
			 * in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

void *
cl_htab_del(struct cl_htab *t, const void *key, size_t len)
{
	uint64_t h = cl_htab_hash(t, key, len);
	size_t i = h & t->mask;
	void *v;

	for (;;) {
		struct cl_htab_slot *s = &t->slots[i];

		if (s->h == 0)
			return NULL;
		if (s->h == h && t->eq(s->v, key, len))
			break;
		i = (i + 1) & t->mask;
	}
	v = t->slots[i].v;
	remove_slot(t, i);
	t->n--;
	return v;
}

void *
cl_htab_next(const struct cl_htab *t, size_t *pos)
{
	while (*pos <= t->mask) {
		size_t i = (*pos)++;

		if (t->slots[i].h != 0)
			return t->slots[i].v;
	}
	return NULL;
}

void
cl_htab_del_at(struct cl_htab *t, size_t *pos)
{
	size_t i;

	if (*pos == 0)
		return;
	i = *pos - 1;
	if (t->slots[i].h == 0)
		return;
	remove_slot(t, i);
	t->n--;
	/* Backward shift may have moved an unvisited entry into slot i:
	 * visit i again. */
	*pos = i;
}
