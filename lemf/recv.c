/* SPDX-License-Identifier: ISC */
/*
 * Per-stream sequence tracking, duplicates and integrity verification for
 * clearli-lemf; see recv.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "err.h"
#include "htab.h"
#include "log.h"
#include "psdu.h"
#include "recv.h"

#define KEY_MAX (1 + 4 + CL_PSDU_LIID_MAX)

struct stream {
	uint8_t key[KEY_MAX]; /* kind, CIN (big-endian), LIID */
	uint8_t keylen;
	uint64_t next; /* expected sequence number (up to 2^32) */
	uint64_t lo;   /* oldest number the ring covers; window [lo, next) */
	uint8_t (*h)[32];
	uint8_t *present;              /* bitmap over ring slots */
	uint32_t cap;                  /* ring slots, a power of two (or 0) */
	struct stream *prev, *nextlru; /* LRU list, most recent first */
};

struct lemf_recv {
	struct cl_htab streams;
	struct stream *head, *tail;
	EVP_PKEY *key;
	size_t slots, slots_max;
	bool warned_slots;
	struct lemf_counts c;
};

static bool
stream_eq(const void *v, const void *k, size_t len)
{
	const struct stream *s = v;

	return s->keylen == len && memcmp(s->key, k, len) == 0;
}

static size_t
make_key(uint8_t key[static KEY_MAX], int kind, const uint8_t *liid,
    size_t liid_len, uint32_t cin)
{
	if (liid_len > CL_PSDU_LIID_MAX)
		liid_len = CL_PSDU_LIID_MAX; /* the decoder enforces this */
	key[0] = (uint8_t)kind;
	cl_store_u32(key + 1, cin);
	if (liid_len > 0)
		memcpy(key + 5, liid, liid_len);
	return 5 + liid_len;
}

int
lemf_recv_new(EVP_PKEY *key, size_t slots_max, struct lemf_recv **out)
{
	struct lemf_recv *rv;

	*out = NULL;
	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		return CL_ERR_NOMEM;
	if (cl_htab_init(&rv->streams, LEMF_STREAMS_MAX, stream_eq) != 0) {
		free(rv);
		return CL_ERR_NOMEM;
	}
	rv->key = key;
	rv->slots_max = slots_max == 0 ? LEMF_SLOTS_MAX : slots_max;
	*out = rv;
	return 0;
}

static void
stream_free(struct lemf_recv *rv, struct stream *s)
{
	rv->slots -= s->cap;
	free(s->h);
	free(s->present);
	free(s);
}

void
lemf_recv_free(struct lemf_recv *rv)
{
	struct stream *s, *n;

	if (rv == NULL)
		return;
	for (s = rv->head; s != NULL; s = n) {
		n = s->nextlru;
		stream_free(rv, s);
	}
	cl_htab_release(&rv->streams);
	free(rv);
}

struct lemf_counts *
lemf_recv_counts(struct lemf_recv *rv)
{
	return &rv->c;
}

size_t
lemf_recv_nstreams(const struct lemf_recv *rv)
{
	return rv->streams.n;
}

int
lemf_kind_of(const struct cl_psdu_info *in)
{
	switch (in->kind) {
	case CL_PSDU_KIND_IRI:
		return LEMF_KIND_IRI;
	case CL_PSDU_KIND_CC:
		return LEMF_KIND_CC;
	case CL_PSDU_KIND_TRI:
		return in->tri.which == CL_PSDU_TRI_INTEGRITY
		    ? LEMF_KIND_INTEGRITY
		    : -1;
	default:
		return -1;
	}
}

const char *
lemf_kind_name(int kind)
{
	switch (kind) {
	case LEMF_KIND_IRI:
		return "iri";
	case LEMF_KIND_CC:
		return "cc";
	case LEMF_KIND_INTEGRITY:
		return "integrity";
	default:
		return "other";
	}
}

static void
lru_unlink(struct lemf_recv *rv, struct stream *s)
{
	if (s->prev != NULL)
		s->prev->nextlru = s->nextlru;
	else
		rv->head = s->nextlru;
	if (s->nextlru != NULL)
		s->nextlru->prev = s->prev;
	else
		rv->tail = s->prev;
	s->prev = s->nextlru = NULL;
}

static void
lru_front(struct lemf_recv *rv, struct stream *s)
{
	if (rv->head == s)
		return;
	if (s->prev != NULL || s->nextlru != NULL || rv->tail == s)
		lru_unlink(rv, s);
	s->nextlru = rv->head;
	if (rv->head != NULL)
		rv->head->prev = s;
	rv->head = s;
	if (rv->tail == NULL)
		rv->tail = s;
}

static struct stream *
lookup(struct lemf_recv *rv, const uint8_t *key, size_t keylen)
{
	return cl_htab_get(&rv->streams, key, keylen);
}

/* Finds or creates the stream; NULL only when out of memory. */
static struct stream *
get_stream(struct lemf_recv *rv, const uint8_t *key, size_t keylen)
{
	struct stream *s, *old;

	if ((s = lookup(rv, key, keylen)) != NULL) {
		lru_front(rv, s);
		return s;
	}
	if (rv->streams.n >= LEMF_STREAMS_MAX && (old = rv->tail) != NULL) {
		cl_warn("stream table full (%u streams): forgetting the least "
			"recently used stream",
		    LEMF_STREAMS_MAX);
		lru_unlink(rv, old);
		(void)cl_htab_del(&rv->streams, old->key, old->keylen);
		stream_free(rv, old);
		rv->c.streams_evicted++;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->key, key, keylen);
	s->keylen = (uint8_t)keylen;
	if (cl_htab_put(&rv->streams, s->key, keylen, s) != 0) {
		free(s);
		return NULL;
	}
	lru_front(rv, s);
	return s;
}

static bool
slot_present(const struct stream *s, uint64_t seq)
{
	uint32_t i;

	if (s->cap == 0 || seq < s->lo || seq >= s->next)
		return false;
	i = (uint32_t)(seq & (s->cap - 1));
	return (s->present[i / 8] >> (i % 8)) & 1;
}

static const uint8_t *
slot_hash(const struct stream *s, uint64_t seq)
{
	return slot_present(s, seq) ? s->h[seq & (s->cap - 1)] : NULL;
}

/* Re-homes the ring into newcap slots (newcap >= the window). */
static int
ring_resize(struct lemf_recv *rv, struct stream *s, uint32_t newcap)
{
	uint8_t(*h)[32];
	uint8_t *pr;
	uint64_t q;

	if ((h = malloc((size_t)newcap * 32)) == NULL)
		return CL_ERR_NOMEM;
	if ((pr = calloc(newcap / 8 + 1, 1)) == NULL) {
		free(h);
		return CL_ERR_NOMEM;
	}
	for (q = s->lo; s->cap > 0 && q < s->next; q++) {
		uint32_t i = (uint32_t)(q & (newcap - 1));

		if (!slot_present(s, q))
			continue;
		memcpy(h[i], s->h[q & (s->cap - 1)], 32);
		pr[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	free(s->h);
	free(s->present);
	rv->slots += newcap - s->cap;
	s->h = h;
	s->present = pr;
	s->cap = newcap;
	return 0;
}

/*
 * Records hash for seq >= s->next and makes seq + 1 the next number.  The
 * ring grows while the budget allows, else the oldest entries go.
 */
static int
store(struct lemf_recv *rv, struct stream *s, uint64_t seq,
    const uint8_t hash[static 32])
{
	uint64_t need = seq + 1 - s->lo, q, newlo;
	uint32_t newcap, i;
	int r;

	if (s->cap < LEMF_WINDOW && need > s->cap) {
		newcap = s->cap == 0 ? LEMF_RING_MIN : s->cap;
		while (newcap < need && newcap < LEMF_WINDOW)
			newcap *= 2;
		if (rv->slots + (newcap - s->cap) <= rv->slots_max) {
			if ((r = ring_resize(rv, s, newcap)) != 0)
				return r;
		} else if (!rv->warned_slots) {
			rv->warned_slots = true;
			cl_warn("hash table budget of %zu slots reached: "
				"streams keep fewer hashes (duplicates may be "
				"unverifiable, integrity checks may fail)",
			    rv->slots_max);
		}
	}
	if (s->cap == 0) {
		/* No room at all: only the sequence number is tracked. */
		s->next = seq + 1;
		s->lo = s->next;
		return 0;
	}
	if (need > s->cap) {
		newlo = seq + 1 - s->cap;
		for (q = s->lo; q < newlo && q < s->lo + s->cap; q++) {
			i = (uint32_t)(q & (s->cap - 1));
			s->present[i / 8] &= (uint8_t) ~(1u << (i % 8));
		}
		s->lo = newlo;
	}
	/* Slots of numbers skipped by a gap hold nothing: everything older
	 * than the window was cleared above. */
	i = (uint32_t)(seq & (s->cap - 1));
	memcpy(s->h[i], hash, 32);
	s->present[i / 8] |= (uint8_t)(1u << (i % 8));
	s->next = seq + 1;
	return 0;
}

int
lemf_recv_restore(struct lemf_recv *rv, int kind, const uint8_t *liid,
    size_t liid_len, uint32_t cin, uint32_t seq, const uint8_t hash[static 32])
{
	uint8_t key[KEY_MAX];
	size_t kl = make_key(key, kind, liid, liid_len, cin);
	struct stream *s;

	if ((s = get_stream(rv, key, kl)) == NULL)
		return CL_ERR_NOMEM;
	if (seq < s->next)
		return 0; /* written twice (cannot happen): keep the first */
	return store(rv, s, seq, hash);
}

int64_t
lemf_recv_next(struct lemf_recv *rv, int kind, const uint8_t *liid,
    size_t liid_len, uint32_t cin)
{
	uint8_t key[KEY_MAX];
	size_t kl = make_key(key, kind, liid, liid_len, cin);
	struct stream *s = lookup(rv, key, kl);

	return s == NULL ? -1 : (int64_t)s->next;
}

static void why(struct lemf_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
why(struct lemf_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
}

/*
 * Verifies an IntegrityCheck: the Ed25519 signature (PureEdDSA) over the
 * SHA-256 of each covered PDU, in includedSequenceNumbers order, taken
 * from the hashes held for the covered stream.  Sets res->verified and,
 * on failure, res->why.
 */
static int
verify(struct lemf_recv *rv, const struct cl_psdu_info *in,
    struct lemf_result *res)
{
	const struct cl_psdu_tri_dec *x = &in->tri;
	uint8_t key[KEY_MAX], *buf = NULL;
	uint32_t *seqs = NULL;
	EVP_MD_CTX *md = NULL;
	struct stream *s;
	const uint8_t *h;
	size_t n = 0, i, kl;
	int r = CL_ERR_INTERNAL, kind;

	res->verified = -1;
	if (rv->key == NULL)
		return 0;
	res->verified = 0;
	if (x->check_type != CL_PSDU_CHECK_SIGNATURE ||
	    x->hash_alg != CL_PSDU_HASH_SHA256 ||
	    x->sig_alg != CL_PSDU_SIG_EDDSA || x->value.len != 64) {
		why(res,
		    "unsupported check (checkType %d, hashAlgorithm %d, "
		    "signatureAlgorithm %d, %zu-octet value; expected "
		    "signature, sHA-256, edDSA, 64 octets)",
		    x->check_type, x->hash_alg, x->sig_alg, x->value.len);
		r = 0;
		goto out;
	}
	if (x->data_type == CL_PSDU_DATA_IRI)
		kind = LEMF_KIND_IRI;
	else if (x->data_type == CL_PSDU_DATA_CC)
		kind = LEMF_KIND_CC;
	else {
		why(res, "unsupported dataType %d", x->data_type);
		r = 0;
		goto out;
	}
	if ((seqs = calloc(x->nseqs, sizeof(*seqs))) == NULL ||
	    (buf = malloc(x->nseqs * 32)) == NULL) {
		r = CL_ERR_NOMEM;
		goto out;
	}
	if ((r = cl_psdu_ic_seqs(in, seqs, x->nseqs, &n)) != 0)
		goto out;
	kl = make_key(key, kind, in->liid.p, in->liid.len, in->cin);
	s = lookup(rv, key, kl);
	for (i = 0; i < n; i++) {
		if (s == NULL || (h = slot_hash(s, seqs[i])) == NULL) {
			why(res, "covered %s PDU seq %u %s",
			    lemf_kind_name(kind), seqs[i],
			    s != NULL && seqs[i] < s->lo
				? "is no longer held (outside the hash window)"
				: "was never received");
			r = 0;
			goto out;
		}
		memcpy(buf + 32 * i, h, 32);
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = CL_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, rv->key) != 1) {
		why(res, "cannot initialise Ed25519 verification");
		ERR_clear_error();
		r = 0;
		goto out;
	}
	if (EVP_DigestVerify(md, x->value.p, x->value.len, buf, n * 32) != 1) {
		why(res,
		    "bad signature over %zu covered PDUs (a PDU differs from "
		    "what was signed, or the signature is wrong)",
		    n);
		ERR_clear_error();
		r = 0;
		goto out;
	}
	res->verified = 1;
	r = 0;
out:
	EVP_MD_CTX_free(md);
	free(seqs);
	free(buf);
	return r;
}

int
lemf_recv_pdu(struct lemf_recv *rv, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], struct lemf_result *res)
{
	uint8_t key[KEY_MAX];
	const uint8_t *old;
	struct stream *s;
	size_t kl;
	int kind, r;

	memset(res, 0, sizeof(*res));
	res->verified = -1;
	if ((kind = lemf_kind_of(in)) < 0)
		return CL_ERR_INVALID_ARG;
	res->kind = kind;
	kl = make_key(key, kind, in->liid.p, in->liid.len, in->cin);
	if ((s = get_stream(rv, key, kl)) == NULL)
		return CL_ERR_NOMEM;
	res->expected = s->next;
	if (in->seq < s->next) {
		if ((old = slot_hash(s, in->seq)) == NULL) {
			res->verdict = LEMF_DUP_UNVERIFIED;
			rv->c.dup_unverified++;
		} else if (memcmp(old, hash, 32) == 0) {
			res->verdict = LEMF_DUP;
			rv->c.duplicates++;
		} else {
			res->verdict = LEMF_CONFLICT;
			res->has_stored = true;
			memcpy(res->stored, old, 32);
			rv->c.conflicts++;
		}
		return 0;
	}
	if (in->seq > s->next) {
		res->verdict = LEMF_GAP;
		rv->c.gaps++;
	} else
		res->verdict = LEMF_NEW;
	if ((r = store(rv, s, in->seq, hash)) != 0)
		return r;
	rv->c.pdus++;
	if (kind == LEMF_KIND_IRI)
		rv->c.iri++;
	else if (kind == LEMF_KIND_CC)
		rv->c.cc++;
	else {
		rv->c.integrity++;
		if ((r = verify(rv, in, res)) != 0)
			return r;
		if (res->verified == 1)
			rv->c.integrity_ok++;
		else if (res->verified == 0)
			rv->c.integrity_failed++;
	}
	return 0;
}

void
lemf_recv_other(struct lemf_recv *rv)
{
	rv->c.pdus++;
	rv->c.other++;
}

EVP_PKEY *
lemf_load_pubkey(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL) {
		snprintf(err, errlen, "%s: not a PEM public key", path);
		ERR_clear_error();
		return NULL;
	}
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s: not an Ed25519 public key", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}
