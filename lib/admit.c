/* SPDX-License-Identifier: ISC */
/* Admission of unauthenticated connections.  See admit.h. */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "err.h"
#include "util.h"

/* Distinct refused sources counted per interval, at most. */
#define REFUSED_MAX 1024

/* A source (netblock key: family then address bits) and its count. */
struct slot {
	uint8_t key[17]; /* key[0] = 0: empty */
	uint32_t n;
};

/* Open addressing, linear probing, backward-shift deletion. */
struct table {
	struct slot *s;
	size_t mask, n;
};

struct cl_admit {
	struct cl_admit_opts o;
	unsigned count;
	uint64_t rng, seed;
	struct table src;     /* admitted connections per source */
	struct table refused; /* sources refused in this interval */
	struct cl_admit_stats st;
};

static int
table_init(struct table *t, size_t want)
{
	size_t cap = 16;

	while (cap < want * 2)
		cap *= 2;
	if ((t->s = calloc(cap, sizeof(*t->s))) == NULL)
		return CL_ERR_NOMEM;
	t->mask = cap - 1;
	t->n = 0;
	return 0;
}

static size_t
hash(const struct cl_admit *a, const uint8_t key[17])
{
	/* Seeded per process, so that sources cannot be chosen to collide
	 * without knowing the seed; the table is bounded either way. */
	return (size_t)cl_hash_keyed(a->seed, key, 17);
}

static struct slot *
table_find(const struct cl_admit *a, const struct table *t,
    const uint8_t key[17], bool *found)
{
	size_t i = hash(a, key) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		if (t->s[i].key[0] == 0) {
			*found = false;
			return &t->s[i];
		}
		if (memcmp(t->s[i].key, key, 17) == 0) {
			*found = true;
			return &t->s[i];
		}
	}
}

static void
table_del(const struct cl_admit *a, struct table *t, struct slot *victim)
{
	size_t i = (size_t)(victim - t->s), j = i, k;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->s[j].key[0] == 0)
			break;
		k = hash(a, t->s[j].key) & t->mask;
		/* Move j into the hole at i unless its home lies in (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->s[i] = t->s[j];
		i = j;
	}
	memset(&t->s[i], 0, sizeof(t->s[i]));
	t->n--;
}

static void
make_key(const struct cl_admit *a, const struct cl_addr *addr, uint8_t k[17])
{
	unsigned bits, len, i;

	memset(k, 0, 17);
	if (addr->family == 4) {
		bits = a->o.v4_bits;
		len = 4;
	} else {
		bits = a->o.v6_bits;
		len = 16;
	}
	k[0] = addr->family == 4 ? 4 : 6;
	for (i = 0; i < len; i++) {
		if (bits >= 8)
			k[1 + i] = addr->a[i];
		else if (bits > 0)
			k[1 + i] = addr->a[i] & (uint8_t)(0xff << (8 - bits));
		bits = bits >= 8 ? bits - 8 : 0;
	}
}

/* xorshift64*: small, fast and good enough to spread refusals. */
static uint64_t
next_rand(struct cl_admit *a)
{
	uint64_t x = a->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	a->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

int
cl_admit_parse(const char *s, unsigned max, struct cl_admit_opts *o)
{
	char buf[64], *f[3], *p;
	uint64_t v[3];
	size_t n = 0, i;
	int r;

	if (strlen(s) >= sizeof(buf))
		return CL_ERR_FORMAT;
	memcpy(buf, s, strlen(s) + 1);
	for (p = buf, f[n++] = p; (p = strchr(p, ':')) != NULL; f[n++] = p) {
		if (n == 3)
			return CL_ERR_FORMAT;
		*p++ = '\0';
	}
	if (n != 1 && n != 3)
		return CL_ERR_FORMAT;
	for (i = 0; i < n; i++)
		if ((r = cl_parse_u64(f[i], 0, max, &v[i])) != 0)
			return r;
	if (n == 1) {
		v[2] = v[0];
		v[1] = 100;
	}
	if (v[0] < 1 || v[0] > v[2] || v[1] > 100)
		return CL_ERR_RANGE;
	o->start = (unsigned)v[0];
	o->rate = (unsigned)v[1];
	o->full = (unsigned)v[2];
	return 0;
}

int
cl_admit_new(const struct cl_admit_opts *o, struct cl_admit **out)
{
	struct cl_admit *a = NULL;
	int r = CL_ERR_INVALID_ARG;

	*out = NULL;
	if (o->full == 0 || o->start > o->full || o->rate > 100 ||
	    o->v4_bits > 32 || o->v6_bits > 128)
		goto out;
	r = CL_ERR_NOMEM;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto out;
	a->o = *o;
	if (a->o.v4_bits == 0)
		a->o.v4_bits = 32;
	if (a->o.v6_bits == 0)
		a->o.v6_bits = 128;
	if (table_init(&a->src, o->full) != 0 ||
	    table_init(&a->refused, REFUSED_MAX) != 0)
		goto out;
	a->rng = o->seed;
	if (a->rng == 0 &&
	    getrandom(&a->rng, sizeof(a->rng), 0) != (ssize_t)sizeof(a->rng))
		a->rng = (uint64_t)(uintptr_t)a ^ 0x5deece66dULL;
	if (a->rng == 0)
		a->rng = 1;
	a->seed = next_rand(a);
	*out = a;
	a = NULL;
	r = 0;
out:
	cl_admit_free(a);
	return r;
}

void
cl_admit_free(struct cl_admit *a)
{
	if (a == NULL)
		return;
	free(a->src.s);
	free(a->refused.s);
	free(a);
}

static enum cl_admit_verdict
refuse(struct cl_admit *a, const uint8_t key[17], enum cl_admit_verdict v)
{
	struct slot *s;
	bool found;

	if (v == CL_ADMIT_FULL)
		a->st.full++;
	else if (v == CL_ADMIT_SOURCE)
		a->st.source++;
	else
		a->st.early++;
	s = table_find(a, &a->refused, key, &found);
	if (!found) {
		if (a->refused.n < REFUSED_MAX) {
			memcpy(s->key, key, 17);
			a->refused.n++;
			a->st.sources++;
		} else
			a->st.sources_capped = true;
	}
	return v;
}

enum cl_admit_verdict
cl_admit(struct cl_admit *a, const struct cl_addr *addr)
{
	struct slot *s;
	uint8_t key[17];
	uint64_t p;
	bool found;

	make_key(a, addr, key);
	if (a->count >= a->o.full)
		return refuse(a, key, CL_ADMIT_FULL);
	s = table_find(a, &a->src, key, &found);
	if (found && a->o.per_source > 0 && s->n >= a->o.per_source)
		return refuse(a, key, CL_ADMIT_SOURCE);
	if (a->count >= a->o.start) {
		/* rate % at start, rising linearly to 100 % at full; in
		 * parts per 2^32 to keep it exact enough and fast. */
		p = (uint64_t)a->o.rate * 0x100000000ULL / 100;
		p += (0x100000000ULL - p) * (a->count - a->o.start) /
		    (a->o.full - a->o.start + 1);
		if ((next_rand(a) >> 32) < p)
			return refuse(a, key, CL_ADMIT_EARLY);
	}
	if (!found) {
		memcpy(s->key, key, 17);
		s->n = 0;
		a->src.n++;
	}
	s->n++;
	a->count++;
	return CL_ADMIT_OK;
}

void
cl_admit_release(struct cl_admit *a, const struct cl_addr *addr)
{
	struct slot *s;
	uint8_t key[17];
	bool found;

	make_key(a, addr, key);
	s = table_find(a, &a->src, key, &found);
	if (CL_NEVER(!found || s->n == 0 || a->count == 0))
		return;
	a->count--;
	if (--s->n == 0)
		table_del(a, &a->src, s);
}

unsigned
cl_admit_count(const struct cl_admit *a)
{
	return a->count;
}

void
cl_admit_take_stats(struct cl_admit *a, struct cl_admit_stats *st)
{
	*st = a->st;
	memset(&a->st, 0, sizeof(a->st));
	if (a->refused.n > 0) {
		memset(a->refused.s, 0,
		    (a->refused.mask + 1) * sizeof(*a->refused.s));
		a->refused.n = 0;
	}
}

const char *
cl_admit_verdict_str(enum cl_admit_verdict v)
{
	switch (v) {
	case CL_ADMIT_OK:
		return "ok";
	case CL_ADMIT_FULL:
		return "full";
	case CL_ADMIT_SOURCE:
		return "per-source";
	case CL_ADMIT_EARLY:
		return "early";
	}
	return "?";
}
