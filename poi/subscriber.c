/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "subscriber.h"

struct cl_subs {
	struct cl_htab byaddr; /* values: struct cl_sess_addr * */
	struct cl_htab byid;   /* values: struct cl_session * */
	/* RADIUS sessions by User-Name, whatever their primary identity
	 * (the first session of a user holds the slot). */
	struct cl_htab byuser; /* values: struct cl_session * */
	size_t max;
	uint32_t count4[33], count6[129];
	uint8_t plens4[33], n4, plens6[129], n6;
	bool plens_dirty;
	struct cl_session **grave; /* ended, freed on the next call */
	size_t ngrave, gravecap;
	uint64_t next_cid;
	size_t expire_pos;
	size_t idbytes;
	struct cl_subs_stats st;
};

/* byid key: src, then the primary identity record (type, len, bytes). */
static bool
id_eq(const void *v, const void *key, size_t len)
{
	const struct cl_session *se = v;
	const uint8_t *k = key;

	return len >= 3 && k[0] == (uint8_t)se->src &&
	    len - 1 == (size_t)2 + se->ids[1] &&
	    memcmp(k + 1, se->ids, len - 1) == 0;
}

/* byuser key: the User-Name bytes. */
static bool
user_eq(const void *v, const void *key, size_t len)
{
	const uint8_t *u;
	size_t ul;

	return cl_session_id(v, CL_ID_USER, &u, &ul) && ul == len &&
	    memcmp(u, key, len) == 0;
}

static bool
addr_eq(const void *v, const void *key, size_t len)
{
	const struct cl_sess_addr *sa = v;

	return sa->keylen == len && memcmp(sa->key, key, len) == 0;
}

struct cl_subs *
cl_subs_new(size_t max_sessions)
{
	struct cl_subs *s;
	struct timespec ts;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->max = max_sessions;
	if (cl_htab_init(
		&s->byaddr, max_sessions * CL_SESSION_ADDRS, addr_eq) != 0 ||
	    cl_htab_init(&s->byid, max_sessions, id_eq) != 0 ||
	    cl_htab_init(&s->byuser, max_sessions, user_eq) != 0) {
		cl_subs_free(s);
		return NULL;
	}
	/* Correlation IDs: start time in the high bits, so IDs stay unique
	 * across restarts of the POI. */
	clock_gettime(CLOCK_REALTIME, &ts);
	s->next_cid = (uint64_t)ts.tv_sec << 24;
	return s;
}

static void
free_session(struct cl_session *se)
{
	if (se == NULL)
		return;
	free(se->ids);
	free(se);
}

static void
bury(struct cl_subs *s)
{
	size_t i;

	for (i = 0; i < s->ngrave; i++)
		free_session(s->grave[i]);
	s->ngrave = 0;
}

void
cl_subs_free(struct cl_subs *s)
{
	struct cl_session *se;
	size_t pos = 0;

	if (s == NULL)
		return;
	bury(s);
	free(s->grave);
	if (s->byid.slots != NULL) {
		while ((se = cl_htab_next(&s->byid, &pos)) != NULL)
			free_session(se);
		cl_htab_release(&s->byid);
	}
	if (s->byaddr.slots != NULL)
		cl_htab_release(&s->byaddr);
	if (s->byuser.slots != NULL)
		cl_htab_release(&s->byuser);
	free(s);
}

static void
plen_count(struct cl_subs *s, const struct cl_addr *a, unsigned plen, int d)
{
	if (a->family == 4)
		s->count4[plen] = (uint32_t)((int64_t)s->count4[plen] + d);
	else
		s->count6[plen] = (uint32_t)((int64_t)s->count6[plen] + d);
	s->plens_dirty = true;
}

static void
refresh_plens(struct cl_subs *s)
{
	int i;

	s->n4 = s->n6 = 0;
	for (i = 32; i >= 0; i--)
		if (s->count4[i] > 0)
			s->plens4[s->n4++] = (uint8_t)i;
	for (i = 128; i >= 0; i--)
		if (s->count6[i] > 0)
			s->plens6[s->n6++] = (uint8_t)i;
	s->plens_dirty = false;
}

static void
unbind_addr(struct cl_subs *s, struct cl_session *se, unsigned i)
{
	struct cl_sess_addr *sa = &se->akeys[i];
	unsigned j;

	if (cl_htab_get(&s->byaddr, sa->key, sa->keylen) == sa) {
		cl_htab_del(&s->byaddr, sa->key, sa->keylen);
		plen_count(s, &se->addrs[i].addr, se->addrs[i].plen, -1);
	}
	for (j = i; j + 1 < se->naddrs; j++) {
		se->addrs[j] = se->addrs[j + 1];
		se->akeys[j] = se->akeys[j + 1];
		/* The table points at akeys[]: moved entries are re-put. */
		if (cl_htab_get(&s->byaddr, se->akeys[j].key,
			se->akeys[j].keylen) == &se->akeys[j + 1]) {
			cl_htab_del(
			    &s->byaddr, se->akeys[j].key, se->akeys[j].keylen);
			(void)cl_htab_put(&s->byaddr, se->akeys[j].key,
			    se->akeys[j].keylen, &se->akeys[j]);
		}
	}
	se->naddrs--;
}

static int
grave_add(struct cl_subs *s, struct cl_session *se)
{
	struct cl_session **ng;
	size_t nc;

	if (s->ngrave == s->gravecap) {
		nc = s->gravecap == 0 ? 16 : s->gravecap * 2;
		if ((ng = reallocarray(s->grave, nc, sizeof(*ng))) == NULL) {
			/* Cannot defer: free now (no caller holds it yet
			 * in this path, see callers). */
			free_session(se);
			return CL_ERR_NOMEM;
		}
		s->grave = ng;
		s->gravecap = nc;
	}
	s->grave[s->ngrave++] = se;
	return 0;
}

static void
user_del(struct cl_subs *s, struct cl_session *se)
{
	const uint8_t *u;
	size_t ul;

	if (se->src == CL_SRC_RADIUS &&
	    cl_session_id(se, CL_ID_USER, &u, &ul) &&
	    cl_htab_get(&s->byuser, u, ul) == se)
		cl_htab_del(&s->byuser, u, ul);
}

/* Registers a RADIUS session under its User-Name if no other holds it. */
static void
user_put(struct cl_subs *s, struct cl_session *se)
{
	const uint8_t *u;
	size_t ul;

	if (se->src == CL_SRC_RADIUS &&
	    cl_session_id(se, CL_ID_USER, &u, &ul) &&
	    cl_htab_get(&s->byuser, u, ul) == NULL)
		(void)cl_htab_put(&s->byuser, u, ul, se);
}

static void
end_session(struct cl_subs *s, struct cl_session *se)
{
	uint8_t key[3 + CL_TARGET_ID_MAX];

	if (se->ended)
		return;
	user_del(s, se);
	while (se->naddrs > 0)
		unbind_addr(s, se, se->naddrs - 1);
	key[0] = (uint8_t)se->src;
	memcpy(key + 1, se->ids, 2 + (size_t)se->ids[1]);
	if (cl_htab_get(&s->byid, key, 3 + (size_t)se->ids[1]) == se)
		cl_htab_del(&s->byid, key, 3 + (size_t)se->ids[1]);
	s->idbytes -= se->idslen;
	se->ended = true;
	(void)grave_add(s, se);
}

#define ID_SLOTS 14 /* enum cl_id_type values are below this */

/* Collected identities of a binding or session, by type. */
struct idset {
	const uint8_t *p[ID_SLOTS];
	size_t len[ID_SLOTS];
	uint8_t nas_port[CL_TARGET_ID_MAX]; /* CL_ID_NAS_PORT's bytes */
};

static const enum cl_id_type id_order[] = {CL_ID_USER, CL_ID_MAC, CL_ID_DUID,
    CL_ID_ACCT_SESSION, CL_ID_CALLING_STATION, CL_ID_CLIENT_ID, CL_ID_NAS_PORT};

static void
idset_from_binding(struct idset *is, const struct cl_binding *b)
{
	memset(is, 0, sizeof(*is));
#define SET(t, sp)                                                             \
	if ((sp).len > 0 && (sp).len <= CL_TARGET_ID_MAX) {                    \
		is->p[t] = (sp).p;                                             \
		is->len[t] = (sp).len;                                         \
	}
	SET(CL_ID_USER, b->username);
	SET(CL_ID_ACCT_SESSION, b->acct_session_id);
	SET(CL_ID_CALLING_STATION, b->calling_station_id);
	SET(CL_ID_CLIENT_ID, b->client_id);
	SET(CL_ID_DUID, b->duid);
#undef SET
	if (b->has_mac) {
		is->p[CL_ID_MAC] = b->mac;
		is->len[CL_ID_MAC] = CL_MAC_LEN;
	}
	if (is->len[CL_ID_USER] > 0 && b->nas.len > 0 && b->nas_port.len > 0 &&
	    is->len[CL_ID_USER] + b->nas.len + b->nas_port.len + 2 <=
		CL_TARGET_ID_MAX) {
		size_t o = 0;

		memcpy(is->nas_port, is->p[CL_ID_USER], is->len[CL_ID_USER]);
		o += is->len[CL_ID_USER];
		is->nas_port[o++] = 0;
		memcpy(is->nas_port + o, b->nas.p, b->nas.len);
		o += b->nas.len;
		is->nas_port[o++] = 0;
		memcpy(is->nas_port + o, b->nas_port.p, b->nas_port.len);
		o += b->nas_port.len;
		is->p[CL_ID_NAS_PORT] = is->nas_port;
		is->len[CL_ID_NAS_PORT] = o;
	}
}

/*
 * How well a RADIUS identity names one session: Acct-Session-Id does (RFC
 * 2866), User-Name on a NAS port nearly, User-Name alone less (one user
 * may have several sessions), Calling-Station-Id least.
 */
static int
radius_rank(enum cl_id_type t)
{
	switch (t) {
	case CL_ID_ACCT_SESSION:
		return 0;
	case CL_ID_NAS_PORT:
		return 1;
	case CL_ID_USER:
		return 2;
	case CL_ID_CALLING_STATION:
		return 3;
	default:
		return 4;
	}
}

/* The primary identity type for a binding's source, or 0 if none. */
static enum cl_id_type
primary_type(enum cl_bind_src src, const struct idset *is)
{
	switch (src) {
	case CL_SRC_RADIUS:
		/* The session, not the user: one user may hold several,
		 * and one session is reported under one correlation ID
		 * from Access-Accept to Accounting-Stop. */
		if (is->len[CL_ID_ACCT_SESSION] > 0)
			return CL_ID_ACCT_SESSION;
		if (is->len[CL_ID_NAS_PORT] > 0)
			return CL_ID_NAS_PORT;
		if (is->len[CL_ID_USER] > 0)
			return CL_ID_USER;
		if (is->len[CL_ID_CALLING_STATION] > 0)
			return CL_ID_CALLING_STATION;
		break;
	case CL_SRC_DHCP:
		if (is->len[CL_ID_MAC] > 0)
			return CL_ID_MAC;
		if (is->len[CL_ID_CLIENT_ID] > 0)
			return CL_ID_CLIENT_ID;
		break;
	case CL_SRC_DHCP6:
		if (is->len[CL_ID_DUID] > 0)
			return CL_ID_DUID;
		break;
	}
	return 0;
}

/* Builds the identity blob, primary first. */
static int
make_ids(const struct idset *is, enum cl_id_type prim, uint8_t **out,
    uint16_t *outlen)
{
	size_t n = 2 + is->len[prim], i, o;
	uint8_t *p;

	for (i = 0; i < sizeof(id_order) / sizeof(id_order[0]); i++)
		if (id_order[i] != prim && is->len[id_order[i]] > 0)
			n += 2 + is->len[id_order[i]];
	if ((p = malloc(n)) == NULL)
		return CL_ERR_NOMEM;
	p[0] = (uint8_t)prim;
	p[1] = (uint8_t)is->len[prim];
	memcpy(p + 2, is->p[prim], is->len[prim]);
	o = 2 + is->len[prim];
	for (i = 0; i < sizeof(id_order) / sizeof(id_order[0]); i++) {
		enum cl_id_type t = id_order[i];

		if (t == prim || is->len[t] == 0)
			continue;
		p[o] = (uint8_t)t;
		p[o + 1] = (uint8_t)is->len[t];
		memcpy(p + o + 2, is->p[t], is->len[t]);
		o += 2 + is->len[t];
	}
	*out = p;
	*outlen = (uint16_t)n;
	return 0;
}

bool
cl_session_next_id(const struct cl_session *se, size_t *pos,
    enum cl_id_type *type, const uint8_t **id, size_t *len)
{
	size_t o = *pos;

	if (o + 2 > se->idslen)
		return false;
	*type = (enum cl_id_type)se->ids[o];
	*len = se->ids[o + 1];
	*id = se->ids + o + 2;
	*pos = o + 2 + se->ids[o + 1];
	return true;
}

bool
cl_session_id(const struct cl_session *se, enum cl_id_type type,
    const uint8_t **id, size_t *len)
{
	enum cl_id_type t;
	size_t pos = 0;

	while (cl_session_next_id(se, &pos, &t, id, len))
		if (t == type)
			return true;
	return false;
}

static bool
same_addrs(const struct cl_session *se, const struct cl_binding *b)
{
	unsigned i, j;

	if (se->naddrs != b->naddrs)
		return false;
	for (i = 0; i < b->naddrs; i++) {
		for (j = 0; j < se->naddrs; j++)
			if (se->addrs[j].plen == b->addrs[i].plen &&
			    memcmp(&se->addrs[j].addr, &b->addrs[i].addr,
				sizeof(struct cl_addr)) == 0)
				break;
		if (j == se->naddrs)
			return false;
	}
	return true;
}

/* Binds address i of b to se, taking it from any other session. */
static void
bind_addr(
    struct cl_subs *s, struct cl_session *se, const struct cl_bind_addr *ba)
{
	struct cl_sess_addr *sa, *old;
	unsigned i;

	if (se->naddrs == CL_SESSION_ADDRS)
		return;
	if (ba->addr.family != 4 && ba->addr.family != 6)
		return;
	if (ba->plen > (ba->addr.family == 4 ? 32 : 128))
		return;
	i = se->naddrs;
	sa = &se->akeys[i];
	sa->sess = se;
	sa->keylen = (uint8_t)cl_addr_key(sa->key, &ba->addr, ba->plen);
	if ((old = cl_htab_get(&s->byaddr, sa->key, sa->keylen)) != NULL) {
		struct cl_session *o = old->sess;
		unsigned k;

		if (o == se)
			return; /* already ours */
		for (k = 0; k < o->naddrs; k++)
			if (&o->akeys[k] == old)
				break;
		unbind_addr(s, o, k);
		/* A new session on the same address ends the old one. */
		if (o->naddrs == 0) {
			end_session(s, o);
			s->st.replaced++;
		}
	}
	if (cl_htab_put(&s->byaddr, sa->key, sa->keylen, sa) != 0)
		return;
	se->addrs[i] = *ba;
	memcpy(se->addrs[i].addr.a, sa->key + 2, sa->keylen - 2);
	se->naddrs++;
	plen_count(s, &ba->addr, ba->plen, +1);
}

static struct cl_session *
find_by_id(struct cl_subs *s, enum cl_bind_src src, enum cl_id_type t,
    const uint8_t *id, size_t len)
{
	uint8_t key[3 + CL_TARGET_ID_MAX];

	if (len == 0 || len > CL_TARGET_ID_MAX)
		return NULL;
	key[0] = (uint8_t)src;
	key[1] = (uint8_t)t;
	key[2] = (uint8_t)len;
	memcpy(key + 3, id, len);
	return cl_htab_get(&s->byid, key, 3 + len);
}

static struct cl_session *
lookup_exact(struct cl_subs *s, const struct cl_bind_addr *ba)
{
	struct cl_sess_addr *sa;
	uint8_t key[18];
	size_t kl;

	kl = cl_addr_key(key, &ba->addr, ba->plen);
	sa = cl_htab_get(&s->byaddr, key, kl);
	return sa == NULL ? NULL : sa->sess;
}

static void
set_expiry(struct cl_session *se, const struct cl_binding *b, int64_t now)
{
	se->expire_ns =
	    b->lifetime > 0 ? now + (int64_t)b->lifetime * 1000000000LL : 0;
}

static void
byid_del(struct cl_subs *s, struct cl_session *se)
{
	uint8_t key[3 + CL_TARGET_ID_MAX];

	user_del(s, se);
	key[0] = (uint8_t)se->src;
	memcpy(key + 1, se->ids, 2 + (size_t)se->ids[1]);
	if (cl_htab_get(&s->byid, key, 3 + (size_t)se->ids[1]) == se)
		cl_htab_del(&s->byid, key, 3 + (size_t)se->ids[1]);
}

static int
byid_put(struct cl_subs *s, struct cl_session *se)
{
	uint8_t key[3 + CL_TARGET_ID_MAX];

	int r;

	key[0] = (uint8_t)se->src;
	memcpy(key + 1, se->ids, 2 + (size_t)se->ids[1]);
	if ((r = cl_htab_put(&s->byid, key, 3 + (size_t)se->ids[1], se)) != 0)
		return r;
	user_put(s, se);
	return 0;
}

/*
 * A RADIUS message whose own session name finds nothing may still be of a
 * session known under a weaker name: the Accounting-Start (with its
 * Acct-Session-Id) of the session an Access-Accept (User-Name only)
 * began, or an Access-Accept for the address a session of the same user
 * already holds (re-authentication).  One session, one correlation ID.
 */
static struct cl_session *
radius_same_session(struct cl_subs *s, const struct cl_binding *b,
    const struct idset *is, enum cl_id_type prim)
{
	struct cl_session *se;
	const uint8_t *v;
	size_t i, vl;

	if (prim != CL_ID_NAS_PORT && is->len[CL_ID_NAS_PORT] > 0 &&
	    (se = find_by_id(s, CL_SRC_RADIUS, CL_ID_NAS_PORT,
		 is->p[CL_ID_NAS_PORT], is->len[CL_ID_NAS_PORT])) != NULL)
		return se;
	if (is->len[CL_ID_USER] == 0)
		return NULL;
	se = cl_htab_get(&s->byuser, is->p[CL_ID_USER], is->len[CL_ID_USER]);
	for (i = 0; se == NULL && i < b->naddrs; i++) {
		se = lookup_exact(s, &b->addrs[i]);
		if (se != NULL &&
		    (se->src != CL_SRC_RADIUS ||
			!cl_session_id(se, CL_ID_USER, &v, &vl) ||
			vl != is->len[CL_ID_USER] ||
			memcmp(v, is->p[CL_ID_USER], vl) != 0))
			se = NULL;
	}
	if (se == NULL)
		return NULL;
	/* A session of the same user at another address is another session
	 * (a second concurrent login), never this one moved. */
	if (b->naddrs > 0 && se->naddrs > 0 && !same_addrs(se, b))
		return NULL;
	/* The user's session under another name is another session. */
	if (is->len[CL_ID_ACCT_SESSION] > 0 &&
	    cl_session_id(se, CL_ID_ACCT_SESSION, &v, &vl) &&
	    (vl != is->len[CL_ID_ACCT_SESSION] ||
		memcmp(v, is->p[CL_ID_ACCT_SESSION], vl) != 0))
		return NULL;
	if (is->len[CL_ID_NAS_PORT] > 0 &&
	    cl_session_id(se, CL_ID_NAS_PORT, &v, &vl) &&
	    (vl != is->len[CL_ID_NAS_PORT] ||
		memcmp(v, is->p[CL_ID_NAS_PORT], vl) != 0))
		return NULL;
	return se;
}

int
cl_subs_apply(struct cl_subs *s, const struct cl_binding *b, int64_t now_ns,
    struct cl_subs_result *res)
{
	struct cl_session *se = NULL, *ex;
	struct idset is, old;
	enum cl_id_type prim, t;
	const uint8_t *idp;
	size_t idl, pos;
	unsigned i;
	int r;

	memset(res, 0, sizeof(*res));
	bury(s);
	if (s->plens_dirty)
		refresh_plens(s);
	idset_from_binding(&is, b);
	prim = primary_type(b->src, &is);
	ex = prim != 0 ? find_by_id(s, b->src, prim, is.p[prim], is.len[prim])
		       : NULL;
	if (ex == NULL && b->src == CL_SRC_RADIUS && prim != 0)
		ex = radius_same_session(s, b, &is, prim);
	if (ex != NULL && ex->expire_ns != 0 && ex->expire_ns <= now_ns) {
		end_session(s, ex);
		s->st.expired++;
		ex = NULL;
	}

	if (b->op == CL_BIND_STOP) {
		for (i = 0; i < b->naddrs && se == NULL; i++)
			se = lookup_exact(s, &b->addrs[i]);
		if (se == NULL)
			se = ex;
		if (se == NULL) {
			s->st.ignored++;
			return 0;
		}
		end_session(s, se);
		s->st.stopped++;
		res->op = CL_BIND_STOP;
		res->sess = se;
		return 0;
	}
	if (b->op != CL_BIND_START && b->op != CL_BIND_UPDATE)
		return 0;
	if (prim == 0) {
		s->st.ignored++;
		return 0;
	}

	if (ex != NULL &&
	    (b->naddrs == 0 || ex->naddrs == 0 || same_addrs(ex, b) ||
		b->op == CL_BIND_UPDATE || ex->src == CL_SRC_RADIUS)) {
		/* The same session goes on: merge identities, refresh the
		 * expiry, take the addresses it learns or moves to.  (A
		 * RADIUS session found here is the same session by its own
		 * name: new addresses are its own too.) */
		memset(&old, 0, sizeof(old));
		pos = 0;
		while (cl_session_next_id(ex, &pos, &t, &idp, &idl))
			if ((size_t)t < ID_SLOTS) {
				old.p[t] = idp;
				old.len[t] = idl;
			}
		for (i = 0; i < ID_SLOTS; i++)
			if (is.len[i] == 0 && old.len[i] > 0) {
				is.p[i] = old.p[i];
				is.len[i] = old.len[i];
			}
		/* The session keeps the best name it has had. */
		if (b->src == CL_SRC_RADIUS &&
		    radius_rank((enum cl_id_type)ex->ids[0]) <
			radius_rank(prim))
			prim = (enum cl_id_type)ex->ids[0];
		{
			uint8_t *nids;
			uint16_t nlen;

			if ((r = make_ids(&is, prim, &nids, &nlen)) != 0)
				return r;
			/* The byid key lives in ids: re-key around the
			 * swap (the primary record may change: a session
			 * begun by an Access-Accept gets its
			 * Acct-Session-Id). */
			byid_del(s, ex);
			s->idbytes = s->idbytes - ex->idslen + nlen;
			free(ex->ids);
			ex->ids = nids;
			ex->idslen = nlen;
			if ((r = byid_put(s, ex)) != 0) {
				end_session(s, ex);
				return r;
			}
		}
		if (b->naddrs > 0 && !same_addrs(ex, b)) {
			while (ex->naddrs > 0)
				unbind_addr(s, ex, ex->naddrs - 1);
			for (i = 0; i < b->naddrs; i++)
				bind_addr(s, ex, &b->addrs[i]);
		}
		if (b->lifetime > 0 || ex->src != CL_SRC_RADIUS)
			set_expiry(ex, b, now_ns);
		s->st.updated++;
		res->op = CL_BIND_UPDATE;
		res->sess = ex;
		return 0;
	}
	if (ex != NULL) {
		/* A new session for the identity, on other addresses. */
		end_session(s, ex);
		s->st.replaced++;
	}
	if (s->byid.n >= s->max) {
		s->st.refused_full++;
		return CL_ERR_FULL;
	}
	if ((se = calloc(1, sizeof(*se))) == NULL)
		return CL_ERR_NOMEM;
	if ((r = make_ids(&is, prim, &se->ids, &se->idslen)) != 0) {
		free(se);
		return r;
	}
	se->src = b->src;
	se->cid = ++s->next_cid;
	se->start_ns = now_ns;
	set_expiry(se, b, now_ns);
	{
		uint8_t key[3 + CL_TARGET_ID_MAX];

		key[0] = (uint8_t)se->src;
		memcpy(key + 1, se->ids, 2 + (size_t)se->ids[1]);
		if ((r = cl_htab_put(
			 &s->byid, key, 3 + (size_t)se->ids[1], se)) != 0) {
			free_session(se);
			if (r == CL_ERR_FULL)
				s->st.refused_full++;
			return r;
		}
	}
	s->idbytes += se->idslen;
	user_put(s, se);
	for (i = 0; i < b->naddrs; i++)
		bind_addr(s, se, &b->addrs[i]);
	s->st.started++;
	res->op = CL_BIND_START;
	res->sess = se;
	return 0;
}

struct cl_session *
cl_subs_lookup(struct cl_subs *s, const struct cl_addr *a, int64_t now_ns)
{
	const uint8_t *plens;
	struct cl_sess_addr *sa;
	uint8_t key[18];
	size_t np, i, kl;

	if (s->byaddr.n == 0)
		return NULL;
	if (s->plens_dirty)
		refresh_plens(s);
	if (a->family == 4) {
		plens = s->plens4;
		np = s->n4;
	} else {
		plens = s->plens6;
		np = s->n6;
	}
	for (i = 0; i < np; i++) {
		kl = cl_addr_key(key, a, plens[i]);
		if ((sa = cl_htab_get(&s->byaddr, key, kl)) == NULL)
			continue;
		if (sa->sess->expire_ns != 0 && sa->sess->expire_ns <= now_ns) {
			end_session(s, sa->sess);
			s->st.expired++;
			return NULL;
		}
		return sa->sess;
	}
	return NULL;
}

void
cl_subs_expire(struct cl_subs *s, int64_t now_ns, size_t budget,
    void (*ended)(void *, struct cl_session *), void *arg)
{
	struct cl_session *se;
	size_t n;

	bury(s);
	for (n = 0; n < budget; n++) {
		if ((se = cl_htab_next(&s->byid, &s->expire_pos)) == NULL) {
			s->expire_pos = 0;
			break;
		}
		if (se->expire_ns == 0 || se->expire_ns > now_ns)
			continue;
		if (ended != NULL)
			ended(arg, se);
		end_session(s, se);
		s->st.expired++;
		/* end_session removed the entry: look at this slot again. */
		if (s->expire_pos > 0)
			s->expire_pos--;
	}
}

size_t
cl_subs_count(const struct cl_subs *s)
{
	return s->byid.n;
}

void
cl_subs_stats(const struct cl_subs *s, struct cl_subs_stats *st)
{
	*st = s->st;
}

size_t
cl_subs_bytes_per_session(const struct cl_subs *s)
{
	size_t n = s->byid.n, slots;

	if (n == 0)
		return 0;
	slots = (s->byid.mask + 1 + s->byaddr.mask + 1) *
	    sizeof(struct cl_htab_slot);
	/* 16 bytes of allocator overhead per malloc (two per session). */
	return sizeof(struct cl_session) + 32 + (s->idbytes + slots) / n;
}
