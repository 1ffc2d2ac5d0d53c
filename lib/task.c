/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "util.h"
#include "task.h"

/*
 * IPv4 /32 targets, the common case, also go into a flat table keyed by
 * the address itself, behind a filter of one bit per hash that fits in
 * cache: a packet whose addresses are not targets (nearly all of them) is
 * turned away by one or two bit tests, without a pointer to follow.  The
 * generic tables cost a cache miss per lookup at 100 000 tasks
 * (bench/README.md).
 */
struct v4slot {
	uint32_t addr;
	uint32_t used;
	const struct cl_matchlist *ml;
};

struct cl_taskset {
	struct cl_task *tasks;
	size_t ntasks;
	struct cl_htab byxid;
	struct cl_htab addr;         /* key: family, plen, masked address */
	struct cl_htab ids;          /* key: type, identifier bytes */
	uint8_t plens4[33], nplens4; /* distinct lengths, longest first */
	uint8_t plens6[129], nplens6;
	struct v4slot *v4; /* NULL if no IPv4 /32 target */
	size_t v4mask;
	uint64_t *v4filter;
	unsigned v4fshift; /* 64 - log2(filter bits) */
	uint64_t v4seed;
};

static inline uint64_t
v4hash(const struct cl_taskset *ts, uint32_t a)
{
	uint64_t h = ((uint64_t)a ^ ts->v4seed) * 0x9e3779b97f4a7c15ULL;

	return h ^ (h >> 29);
}

static bool
xid_eq(const void *v, const void *key, size_t len)
{
	const struct cl_task *t = v;

	return len == CL_UUID_LEN && memcmp(t->xid, key, CL_UUID_LEN) == 0;
}

static bool
ml_eq(const void *v, const void *key, size_t len)
{
	const struct cl_matchlist *ml = v;

	return ml->keylen == len && memcmp(ml->key, key, len) == 0;
}

static int
ml_add(struct cl_htab *t, const uint8_t *key, size_t keylen,
    struct cl_task *task, const struct cl_target *tgt)
{
	struct cl_matchlist *ml;
	struct cl_hit *nh;
	int r;

	uint64_t h = cl_htab_hash(t, key, keylen);

	if ((ml = cl_htab_get_h(t, h, key, keylen)) == NULL) {
		if ((ml = calloc(1, sizeof(*ml) + keylen)) == NULL)
			return CL_ERR_NOMEM;
		ml->keylen = (uint8_t)keylen;
		memcpy(ml->key, key, keylen);
		if ((r = cl_htab_put_h(t, h, ml)) != 0) {
			free(ml);
			return r;
		}
		ml->first.task = task;
		ml->first.target = tgt;
		ml->hits = &ml->first;
		ml->n = 1;
		return 0;
	}
	/* More than one task on a key (rare): an array, grown by one. */
	nh = reallocarray(
	    ml->hits == &ml->first ? NULL : ml->hits, ml->n + 1, sizeof(*nh));
	if (nh == NULL)
		return CL_ERR_NOMEM;
	if (ml->hits == &ml->first)
		nh[0] = ml->first;
	ml->hits = nh;
	ml->hits[ml->n].task = task;
	ml->hits[ml->n].target = tgt;
	ml->n++;
	return 0;
}

static void
add_plen(uint8_t *plens, uint8_t *n, unsigned plen)
{
	unsigned i, j;

	for (i = 0; i < *n; i++) {
		if (plens[i] == plen)
			return;
		if (plens[i] < plen)
			break;
	}
	for (j = *n; j > i; j--)
		plens[j] = plens[j - 1];
	plens[i] = (uint8_t)plen;
	(*n)++;
}

static void
free_task(struct cl_task *t)
{
	size_t i;

	for (i = 0; i < t->ntargets; i++) {
		free(t->targets[i].text);
		free(t->targets[i].id);
	}
	free(t->targets);
}

static void
free_mls(struct cl_htab *t)
{
	struct cl_matchlist *ml;
	size_t pos = 0;

	if (t->slots == NULL)
		return;
	while ((ml = cl_htab_next(t, &pos)) != NULL) {
		if (ml->hits != &ml->first)
			free(ml->hits);
		free(ml);
	}
	cl_htab_release(t);
}

void
cl_taskset_free(struct cl_taskset *ts)
{
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->ntasks; i++)
		free_task(&ts->tasks[i]);
	free(ts->tasks);
	if (ts->byxid.slots != NULL)
		cl_htab_release(&ts->byxid);
	free_mls(&ts->addr);
	free_mls(&ts->ids);
	free(ts->v4);
	free(ts->v4filter);
	free(ts);
}

static int
taskset_new(struct cl_taskset **out)
{
	struct cl_taskset *ts;
	int r;

	*out = NULL;
	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return CL_ERR_NOMEM;
	if ((r = cl_htab_init(&ts->byxid, CL_TASKS_MAX, xid_eq)) != 0 ||
	    (r = cl_htab_init(&ts->addr, SIZE_MAX, ml_eq)) != 0 ||
	    (r = cl_htab_init(&ts->ids, SIZE_MAX, ml_eq)) != 0) {
		cl_taskset_free(ts);
		return r;
	}
	*out = ts;
	return 0;
}

int
cl_taskset_empty(struct cl_taskset **out)
{
	return taskset_new(out);
}

/* Parser state for error messages. */
struct pctx {
	size_t line;
	char *err;
	size_t errlen;
};

static int perr(struct pctx *c, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct pctx *c, int r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "line %zu: %s", c->line, msg);
	return r;
}

/* Decodes %XX escapes of a user name; "%" must start a valid escape. */
static int
unescape(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (o == max)
			return CL_ERR_TOOBIG;
		if (s[i] != '%') {
			out[o++] = (uint8_t)s[i];
			continue;
		}
		if (n - i < 3)
			return CL_ERR_FORMAT;
		if ((hi = cl_hex_digit(s[i + 1])) < 0 ||
		    (lo = cl_hex_digit(s[i + 2])) < 0)
			return CL_ERR_FORMAT;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*outlen = o;
	return 0;
}

static int
parse_target(struct pctx *c, const char *v, struct cl_target *tgt)
{
	uint8_t id[CL_TARGET_ID_MAX];
	const char *colon = strchr(v, ':');
	const char *val;
	size_t tl, vl, n;
	unsigned plen;
	int r;

	memset(tgt, 0, sizeof(*tgt));
	if (colon == NULL)
		return perr(
		    c, CL_ERR_FORMAT, "target '%s' is not TYPE:VALUE", v);
	tl = (size_t)(colon - v);
	val = colon + 1;
	vl = strlen(val);
	if (vl == 0)
		return perr(c, CL_ERR_FORMAT, "target '%s' has no value", v);
	if (tl == 2 && memcmp(v, "ip", 2) == 0) {
		tgt->type = CL_TGT_IP;
		if ((r = cl_parse_prefix(val, &tgt->addr, &plen)) != 0)
			return perr(c, r,
			    "'%s' is not an address or prefix with zero "
			    "host bits",
			    val);
		tgt->plen = (uint8_t)plen;
	} else if (tl == 4 && memcmp(v, "user", 4) == 0) {
		tgt->type = CL_TGT_USER;
		if ((r = unescape(val, vl, id, CL_TARGET_ID_MAX, &n)) != 0)
			return perr(c, r, "bad user name '%s'", val);
		tgt->idlen = (uint8_t)n;
	} else if (tl == 3 && memcmp(v, "mac", 3) == 0) {
		tgt->type = CL_TGT_MAC;
		if ((r = cl_parse_mac(val, id)) != 0)
			return perr(c, r, "bad MAC address '%s'", val);
		tgt->idlen = CL_MAC_LEN;
	} else if (tl == 4 && memcmp(v, "duid", 4) == 0) {
		tgt->type = CL_TGT_DUID;
		if ((r = cl_parse_hex(val, id, 130, &n)) != 0 || n < 3)
			return perr(c, r ? r : CL_ERR_FORMAT,
			    "bad DUID '%s' (hex, 3 to 130 bytes)", val);
		tgt->idlen = (uint8_t)n;
	} else
		return perr(c, CL_ERR_FORMAT,
		    "unknown target type in '%s' (ip, user, mac, duid)", v);
	if (tgt->type != CL_TGT_IP) {
		if ((tgt->id = malloc(tgt->idlen)) == NULL)
			return CL_ERR_NOMEM;
		memcpy(tgt->id, id, tgt->idlen);
	}
	if ((tgt->text = strdup(val)) == NULL) {
		free(tgt->id);
		tgt->id = NULL;
		return CL_ERR_NOMEM;
	}
	tgt->textlen = vl;
	return 0;
}

static bool
liid_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CL_LIID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

/*
 * Parses one "task" line, already split into NUL-terminated words.
 */
static int
parse_task(struct pctx *c, char **w, size_t nw, struct cl_task *t)
{
	bool has_liid = false, has_deliver = false, has_start = false,
	     has_end = false;
	struct cl_target *nt;
	size_t i;
	int r;

	memset(t, 0, sizeof(*t));
	if (nw < 2)
		return perr(c, CL_ERR_FORMAT, "task without XID");
	if ((r = cl_parse_uuid(w[1], t->xid)) != 0)
		return perr(c, r, "'%s' is not a UUID", w[1]);
	for (i = 2; i < nw; i++) {
		char *eq = strchr(w[i], '=');
		const char *k = w[i], *v;

		if (eq == NULL)
			return perr(
			    c, CL_ERR_FORMAT, "'%s' is not key=value", w[i]);
		*eq = '\0';
		v = eq + 1;
		if (strcmp(k, "liid") == 0) {
			if (has_liid || !liid_ok(v))
				return perr(c, CL_ERR_FORMAT,
				    "bad or repeated liid (1 to %d visible "
				    "ASCII characters)",
				    CL_LIID_MAX);
			memcpy(t->liid, v, strlen(v) + 1);
			has_liid = true;
		} else if (strcmp(k, "deliver") == 0) {
			if (has_deliver)
				return perr(
				    c, CL_ERR_FORMAT, "repeated deliver");
			if (strcmp(v, "iri") == 0)
				t->deliver = CL_DELIVER_IRI;
			else if (strcmp(v, "cc") == 0)
				t->deliver = CL_DELIVER_CC;
			else if (strcmp(v, "iri+cc") == 0)
				t->deliver = CL_DELIVER_IRI | CL_DELIVER_CC;
			else
				return perr(c, CL_ERR_FORMAT,
				    "deliver must be iri, cc or iri+cc");
			has_deliver = true;
		} else if (strcmp(k, "start") == 0 || strcmp(k, "end") == 0) {
			bool is_start = k[0] == 's';
			int64_t tv;

			if (is_start ? has_start : has_end)
				return perr(c, CL_ERR_FORMAT, "repeated %s", k);
			if ((r = cl_parse_time(v, &tv)) != 0)
				return perr(c, r,
				    "%s '%s' is not YYYY-MM-DDTHH:MM:SSZ", k,
				    v);
			if (is_start) {
				t->start = tv;
				has_start = true;
			} else {
				t->end = tv;
				has_end = true;
			}
		} else if (strcmp(k, "dest") == 0) {
			if (t->has_dest || (r = cl_parse_uuid(v, t->dest)) != 0)
				return perr(c, CL_ERR_FORMAT,
				    "bad or repeated dest '%s'", v);
			t->has_dest = true;
		} else if (strcmp(k, "target") == 0) {
			if (t->ntargets == CL_TASK_TARGETS_MAX)
				return perr(c, CL_ERR_TOOBIG,
				    "more than %d targets",
				    CL_TASK_TARGETS_MAX);
			nt = reallocarray(
			    t->targets, t->ntargets + 1, sizeof(*nt));
			if (nt == NULL)
				return CL_ERR_NOMEM;
			t->targets = nt;
			if ((r = parse_target(c, v, &nt[t->ntargets])) != 0)
				return r;
			t->ntargets++;
		} else
			return perr(c, CL_ERR_FORMAT, "unknown key '%s'", k);
	}
	if (!has_liid || !has_deliver || !has_start || !has_end)
		return perr(c, CL_ERR_FORMAT,
		    "task needs liid, deliver, start and end");
	if (t->ntargets == 0)
		return perr(c, CL_ERR_FORMAT, "task has no target");
	if (t->start >= t->end)
		return perr(c, CL_ERR_RANGE, "start is not before end");
	return 0;
}

static int
build_v4(struct cl_taskset *ts)
{
	const struct cl_matchlist *ml;
	size_t pos = 0, n = 0, slots = 16, fbits = 4096, i;
	unsigned lg = 12;
	uint64_t h;

	while ((ml = cl_htab_next(&ts->addr, &pos)) != NULL)
		if (ml->key[0] == 4 && ml->key[1] == 32)
			n++;
	if (n == 0)
		return 0;
	while (slots < n * 2)
		slots *= 2;
	/* 16 filter bits per address: about 6 % of non-targets pass it. */
	while (fbits < n * 16) {
		fbits *= 2;
		lg++;
	}
	ts->v4 = calloc(slots, sizeof(*ts->v4));
	ts->v4filter = calloc(fbits / 64, sizeof(uint64_t));
	if (ts->v4 == NULL || ts->v4filter == NULL)
		return CL_ERR_NOMEM;
	ts->v4mask = slots - 1;
	ts->v4fshift = 64 - lg;
	ts->v4seed = cl_htab_hash(&ts->addr, "v4", 2);
	pos = 0;
	while ((ml = cl_htab_next(&ts->addr, &pos)) != NULL) {
		uint32_t a;

		if (ml->key[0] != 4 || ml->key[1] != 32)
			continue;
		a = cl_load_u32(ml->key + 2);
		h = v4hash(ts, a);
		ts->v4filter[(h >> ts->v4fshift) / 64] |= 1ULL
		    << ((h >> ts->v4fshift) % 64);
		for (i = (h >> 16) & ts->v4mask; ts->v4[i].used;
		     i = (i + 1) & ts->v4mask)
			;
		ts->v4[i].addr = a;
		ts->v4[i].used = 1;
		ts->v4[i].ml = ml;
	}
	return 0;
}

static const struct cl_matchlist *
lookup_v4(const struct cl_taskset *ts, const uint8_t *a4)
{
	uint32_t a = cl_load_u32(a4);
	uint64_t h = v4hash(ts, a), f = h >> ts->v4fshift;
	size_t i;

	if (!(ts->v4filter[f / 64] & (1ULL << (f % 64))))
		return NULL;
	for (i = (h >> 16) & ts->v4mask; ts->v4[i].used;
	     i = (i + 1) & ts->v4mask)
		if (ts->v4[i].addr == a)
			return ts->v4[i].ml;
	return NULL;
}

static int
build_tables(struct cl_taskset *ts, struct pctx *c)
{
	uint8_t key[2 + CL_TARGET_ID_MAX];
	size_t i, j, kl;
	int r;

	for (i = 0; i < ts->ntasks; i++) {
		struct cl_task *t = &ts->tasks[i];

		if ((r = cl_htab_put(&ts->byxid, t->xid, CL_UUID_LEN, t)) !=
		    0) {
			char u[CL_UUID_STRLEN + 1];

			if (r != CL_ERR_EXISTS)
				return r;
			cl_format_uuid(t->xid, u);
			snprintf(c->err, c->errlen,
			    "XID %s is used by more than one task", u);
			return r;
		}
		for (j = 0; j < t->ntargets; j++) {
			const struct cl_target *g = &t->targets[j];

			if (g->type == CL_TGT_IP) {
				kl = cl_addr_key(key, &g->addr, g->plen);
				r = ml_add(&ts->addr, key, kl, t, g);
				if (g->addr.family == 4)
					add_plen(
					    ts->plens4, &ts->nplens4, g->plen);
				else
					add_plen(
					    ts->plens6, &ts->nplens6, g->plen);
			} else {
				key[0] = (uint8_t)g->type;
				memcpy(key + 1, g->id, g->idlen);
				r = ml_add(&ts->ids, key, 1 + g->idlen, t, g);
			}
			if (r != 0)
				return r;
		}
	}
	return build_v4(ts);
}

int
cl_taskset_parse(const char *text, size_t len, struct cl_taskset **out,
    char *err, size_t errlen)
{
	struct pctx c = {0, err, errlen};
	struct cl_taskset *ts = NULL;
	struct cl_task *nt;
	char *copy = NULL, *line, *next, *w[4 + 4 * CL_TASK_TARGETS_MAX];
	size_t nw, alloc = 0;
	int r = CL_ERR_INTERNAL;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (len > CL_TASK_FILE_MAX)
		return perr(&c, CL_ERR_TOOBIG, "task file too large");
	if ((r = taskset_new(&ts)) != 0)
		goto out;
	if ((copy = malloc(len + 1)) == NULL) {
		r = CL_ERR_NOMEM;
		goto out;
	}
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	if (memchr(copy, '\0', len) != NULL) {
		r = perr(&c, CL_ERR_FORMAT, "NUL byte in task file");
		goto out;
	}
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		char *p;

		c.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (p = line; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				r = perr(&c, CL_ERR_FORMAT,
				    "control character 0x%02x",
				    (unsigned char)*p);
				goto out;
			}
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		nw = 0;
		for (p = line;;) {
			while (*p == ' ' || *p == '\t')
				*p++ = '\0';
			if (*p == '\0')
				break;
			if (nw == sizeof(w) / sizeof(w[0])) {
				r = perr(&c, CL_ERR_TOOBIG, "too many words");
				goto out;
			}
			w[nw++] = p;
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
		}
		if (nw == 0)
			continue;
		if (strcmp(w[0], "task") != 0) {
			r = perr(&c, CL_ERR_FORMAT,
			    "expected 'task', found '%s'", w[0]);
			goto out;
		}
		if (ts->ntasks == CL_TASKS_MAX) {
			r = perr(&c, CL_ERR_TOOBIG, "more than %d tasks",
			    CL_TASKS_MAX);
			goto out;
		}
		if (ts->ntasks == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			nt = reallocarray(ts->tasks, alloc, sizeof(*nt));
			if (nt == NULL) {
				r = CL_ERR_NOMEM;
				goto out;
			}
			ts->tasks = nt;
		}
		r = parse_task(&c, w, nw, &ts->tasks[ts->ntasks]);
		if (r != 0) {
			free_task(&ts->tasks[ts->ntasks]);
			goto out;
		}
		ts->ntasks++;
	}
	/* Tables hold pointers into tasks[]: build them once it no longer
	 * moves. */
	c.line = 0;
	if ((r = build_tables(ts, &c)) != 0)
		goto out;
	*out = ts;
	ts = NULL;
	r = 0;
out:
	free(copy);
	cl_taskset_free(ts);
	return r;
}

int
cl_taskset_load(
    const char *path, struct cl_taskset **out, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = CL_ERR_INTERNAL;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		r = CL_ERR_SYSTEM;
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		r = CL_ERR_FORMAT;
		goto out;
	}
	if ((uint64_t)st.st_size > CL_TASK_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", path,
		    CL_TASK_FILE_MAX);
		r = CL_ERR_TOOBIG;
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		r = CL_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: read failed", path);
			r = CL_ERR_SYSTEM;
			goto out;
		}
		got += (size_t)n;
	}
	r = cl_taskset_parse(text, got, out, err, errlen);
out:
	if (fd != -1)
		close(fd);
	free(text);
	return r;
}

size_t
cl_taskset_count(const struct cl_taskset *ts)
{
	return ts->ntasks;
}

struct cl_task *
cl_taskset_task(const struct cl_taskset *ts, size_t i)
{
	return i < ts->ntasks ? &ts->tasks[i] : NULL;
}

struct cl_task *
cl_taskset_find(
    const struct cl_taskset *ts, const uint8_t xid[static CL_UUID_LEN])
{
	return cl_htab_get(&ts->byxid, xid, CL_UUID_LEN);
}

bool
cl_taskset_has_identities(const struct cl_taskset *ts)
{
	return ts->ids.n > 0;
}

void
cl_taskset_inherit(struct cl_taskset *ts, const struct cl_taskset *old)
{
	struct cl_task *o;
	size_t i;

	if (old == NULL)
		return;
	for (i = 0; i < ts->ntasks; i++) {
		struct cl_task *t = &ts->tasks[i];

		if ((o = cl_taskset_find(old, t->xid)) == NULL)
			continue;
		t->seqno = o->seqno;
		t->pdus = o->pdus;
		t->bytes = o->bytes;
		t->was_active = o->was_active;
	}
}

size_t
cl_taskset_lookup_addr(const struct cl_taskset *ts, const struct cl_addr *a,
    unsigned max_plen, const struct cl_matchlist **out, size_t max)
{
	const uint8_t *plens;
	uint8_t key[18];
	size_t n = 0, np, i, kl;
	const struct cl_matchlist *ml;

	if (a->family == 4) {
		plens = ts->plens4;
		np = ts->nplens4;
	} else if (a->family == 6) {
		plens = ts->plens6;
		np = ts->nplens6;
	} else
		return 0;
	for (i = 0; i < np && n < max; i++) {
		if (plens[i] > max_plen)
			continue;
		if (plens[i] == 32 && a->family == 4) {
			if ((ml = lookup_v4(ts, a->a)) != NULL)
				out[n++] = ml;
			continue;
		}
		kl = cl_addr_key(key, a, plens[i]);
		if ((ml = cl_htab_get(&ts->addr, key, kl)) != NULL)
			out[n++] = ml;
	}
	return n;
}

const struct cl_matchlist *
cl_taskset_lookup_id(const struct cl_taskset *ts, enum cl_target_type type,
    const uint8_t *id, size_t len)
{
	uint8_t key[1 + CL_TARGET_ID_MAX];

	if (len == 0 || len > CL_TARGET_ID_MAX || ts->ids.n == 0)
		return NULL;
	key[0] = (uint8_t)type;
	memcpy(key + 1, id, len);
	return cl_htab_get(&ts->ids, key, 1 + len);
}
