/* SPDX-License-Identifier: ISC */
/*
 * IP fragment reassembly.
 *
 * Each datagram being reassembled keeps its payload in a buffer that grows
 * to the highest offset seen (never past 65535 bytes) and a bitmap with
 * one bit per 8-byte block: fragment offsets are in 8-byte units and every
 * fragment but the last is a whole number of blocks, so only the last block
 * can be partial.  A fragment that covers blocks already held must carry
 * the same bytes there (a retransmission); different bytes are an attack on
 * whoever reassembles differently, and the whole datagram is dropped.
 *
 * Datagrams sit in a hash table (keyed with a per-table random seed, so a
 * sender cannot aim at one bucket) and on a list in order of arrival, which
 * gives both the timeout and the victim when the table is full.
 *
 * The key is (version, src, dst, protocol, id) for IPv4 and (src, dst, id)
 * for IPv6: RFC 8200 keys IPv6 fragments without the upper-layer protocol,
 * which the first fragment may only name after further extension headers.
 */
#include <sys/random.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "reasm.h"
#include "util.h"

#define DGRAM_MAX    65535u
#define BLK          8u
#define NBLK         ((DGRAM_MAX + BLK - 1) / BLK)
#define HDR_MAX      256u /* IPv4 header, or IPv6 unfragmentable part */
#define TABLE_MAX    (1u << 20)
#define OUT_MAX      (40u + DGRAM_MAX)
#define DATA_MIN     2048u
#define V6_FRAG_HLEN 8

struct dgram {
	struct dgram *hnext;         /* hash chain */
	struct dgram *older, *newer; /* arrival list */
	uint64_t first_ns;
	uint64_t hash;
	uint32_t id;
	uint8_t ver;
	uint8_t proto;
	uint8_t src[16], dst[16];

	bool have_first, have_last;
	uint8_t frag_nh;  /* IPv6: next header in the fragment header */
	uint16_t nh_pos;  /* IPv6: where in hdr the 44 to replace is */
	uint16_t hdr_len; /* bytes in hdr */
	uint32_t total;   /* payload length, once have_last */
	uint32_t max_end; /* highest payload end seen */
	uint32_t nblk;    /* blocks held */
	uint8_t hdr[HDR_MAX];
	uint8_t *data;
	size_t data_alloc;
	uint64_t bits[(NBLK + 63) / 64];
};

struct cl_reasm {
	struct dgram **bucket;
	size_t nbucket; /* power of two */
	struct dgram *oldest, *newest;
	size_t n, max;
	uint64_t timeout;
	uint64_t seed;
	struct cl_reasm_stats st;
	uint8_t *out;
};

struct key {
	uint8_t ver, proto;
	uint32_t id;
	uint8_t src[16], dst[16];
};

static uint64_t
key_hash(const struct cl_reasm *r, const struct key *k)
{
	uint8_t b[38];

	/* Keyed, so that the bucket of a datagram is unpredictable. */
	memcpy(b, k->src, 16);
	memcpy(b + 16, k->dst, 16);
	b[32] = k->ver;
	b[33] = k->proto;
	memcpy(b + 34, &k->id, 4);
	return cl_hash_keyed(r->seed, b, sizeof(b));
}

struct cl_reasm *
cl_reasm_new(size_t max_datagrams, uint64_t timeout_ns)
{
	struct cl_reasm *r = NULL;
	size_t nb = 16;

	if (max_datagrams == 0 || max_datagrams > TABLE_MAX)
		return NULL;
	while (nb < max_datagrams * 2)
		nb *= 2;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto fail;
	if ((r->bucket = calloc(nb, sizeof(*r->bucket))) == NULL)
		goto fail;
	r->nbucket = nb;
	r->max = max_datagrams;
	r->timeout = timeout_ns;
	if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(r->seed))
		r->seed = (uint64_t)(uintptr_t)r; /* weak, but no worse */
	return r;
fail:
	if (r != NULL) {
		free(r->bucket);
		free(r);
	}
	return NULL;
}

static void
dgram_drop(struct cl_reasm *r, struct dgram *d)
{
	struct dgram **pp;

	for (pp = &r->bucket[d->hash & (r->nbucket - 1)]; *pp != NULL;
	     pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	}
	if (d->older != NULL)
		d->older->newer = d->newer;
	else
		r->oldest = d->newer;
	if (d->newer != NULL)
		d->newer->older = d->older;
	else
		r->newest = d->older;
	r->n--;
	free(d->data);
	free(d);
}

void
cl_reasm_free(struct cl_reasm *r)
{
	if (r == NULL)
		return;
	while (r->oldest != NULL)
		dgram_drop(r, r->oldest);
	free(r->bucket);
	free(r->out);
	free(r);
}

static bool
expired(const struct cl_reasm *r, const struct dgram *d, uint64_t now_ns)
{
	/* Packet time may step back (merged captures): never expire on a
	 * clock that went backwards. */
	return now_ns > d->first_ns && now_ns - d->first_ns > r->timeout;
}

void
cl_reasm_expire(struct cl_reasm *r, uint64_t now_ns)
{
	while (r->oldest != NULL && expired(r, r->oldest, now_ns)) {
		dgram_drop(r, r->oldest);
		r->st.timed_out++;
	}
}

void
cl_reasm_stats(const struct cl_reasm *r, struct cl_reasm_stats *st)
{
	*st = r->st;
}

static struct dgram *
dgram_find(struct cl_reasm *r, const struct key *k, uint64_t h)
{
	struct dgram *d;

	for (d = r->bucket[h & (r->nbucket - 1)]; d != NULL; d = d->hnext) {
		if (d->hash == h && d->ver == k->ver && d->proto == k->proto &&
		    d->id == k->id && memcmp(d->src, k->src, 16) == 0 &&
		    memcmp(d->dst, k->dst, 16) == 0)
			return d;
	}
	return NULL;
}

static struct dgram *
dgram_new(struct cl_reasm *r, const struct key *k, uint64_t h, uint64_t now)
{
	struct dgram *d, **b;

	if (r->n == r->max) {
		dgram_drop(r, r->oldest);
		r->st.evicted++;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->hash = h;
	d->ver = k->ver;
	d->proto = k->proto;
	d->id = k->id;
	memcpy(d->src, k->src, 16);
	memcpy(d->dst, k->dst, 16);
	d->first_ns = now;
	b = &r->bucket[h & (r->nbucket - 1)];
	d->hnext = *b;
	*b = d;
	d->older = r->newest;
	if (r->newest != NULL)
		r->newest->newer = d;
	else
		r->oldest = d;
	r->newest = d;
	r->n++;
	return d;
}

/*
 * Keeps the first fragment's header for the reassembled datagram.  For
 * IPv6 that is everything before the fragment header, whose last "next
 * header" field (the one saying 44) is found now so that completion only
 * has to patch it.
 */
static int
keep_header(struct dgram *d, const struct cl_pkt *pkt)
{
	struct cl_rd rd;
	size_t hlen, pos;
	uint8_t nh, elen;

	if (d->ver == 4) {
		hlen = pkt->frag_payload_off;
		if (hlen < 20 || hlen > 60)
			return CL_ERR_FORMAT;
	} else {
		if (pkt->frag_payload_off < 40 + V6_FRAG_HLEN)
			return CL_ERR_FORMAT;
		hlen = pkt->frag_payload_off - V6_FRAG_HLEN;
		if (hlen > HDR_MAX)
			return CL_ERR_TOOBIG;
		cl_rd_init(&rd, pkt->ip, hlen);
		(void)cl_rd_skip(&rd, 40);
		pos = 6;
		nh = pkt->ip[6];
		while (cl_rd_left(&rd) > 0) {
			if (nh != 0 && nh != 43 && nh != 60 && nh != 51)
				return CL_ERR_FORMAT;
			pos = rd.off;
			if (cl_rd_u8(&rd, &nh) != 0 ||
			    cl_rd_u8(&rd, &elen) != 0 ||
			    cl_rd_skip(&rd,
				nh == 51 ? (size_t)elen * 4 + 6
					 : (size_t)elen * 8 + 6) != 0)
				return CL_ERR_FORMAT;
		}
		if (nh != 44)
			return CL_ERR_FORMAT;
		d->nh_pos = (uint16_t)pos;
		d->frag_nh = pkt->ip[hlen];
	}
	memcpy(d->hdr, pkt->ip, hlen);
	d->hdr_len = (uint16_t)hlen;
	d->have_first = true;
	return 0;
}

static uint16_t
ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += cl_load_u16(p + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int
complete(struct cl_reasm *r, struct dgram *d, size_t *len)
{
	uint8_t *o;
	size_t n;

	/* Allocated on first use: most tables never complete anything. */
	if (r->out == NULL && (r->out = malloc(OUT_MAX)) == NULL)
		return CL_ERR_NOMEM;
	o = r->out;

	if (d->ver == 4) {
		n = (size_t)d->hdr_len + d->total;
		if (n > DGRAM_MAX)
			return CL_ERR_TOOBIG;
		memcpy(o, d->hdr, d->hdr_len);
		memcpy(o + d->hdr_len, d->data, d->total);
		cl_store_u16(o + 2, (uint16_t)n);
		/* Keep DF, clear MF and the offset. */
		cl_store_u16(o + 6, cl_load_u16(o + 6) & 0x4000);
		cl_store_u16(o + 10, 0);
		cl_store_u16(o + 10, ip_csum(o, d->hdr_len));
	} else {
		n = (size_t)d->hdr_len + d->total;
		if (n - 40 > DGRAM_MAX)
			return CL_ERR_TOOBIG;
		memcpy(o, d->hdr, d->hdr_len);
		memcpy(o + d->hdr_len, d->data, d->total);
		o[d->nh_pos] = d->frag_nh;
		cl_store_u16(o + 4, (uint16_t)(n - 40));
	}
	*len = n;
	return 0;
}

static int
grow(struct dgram *d, size_t end)
{
	uint8_t *p;
	size_t n;

	if (end <= d->data_alloc)
		return 0;
	n = d->data_alloc < DATA_MIN ? DATA_MIN : d->data_alloc * 2;
	while (n < end)
		n *= 2;
	if (n > DGRAM_MAX)
		n = DGRAM_MAX;
	if ((p = realloc(d->data, n)) == NULL)
		return CL_ERR_NOMEM;
	d->data = p;
	d->data_alloc = n;
	return 0;
}

static bool
blk_isset(const struct dgram *d, size_t b)
{
	return (d->bits[b / 64] >> (b % 64)) & 1;
}

/* Stores [off, end); false if it contradicts bytes already held. */
static bool
store(struct dgram *d, const uint8_t *p, size_t off, size_t end)
{
	size_t b, lo, hi;

	if (end == off)
		return true; /* an empty last fragment only sets the length */
	for (b = off / BLK; b * BLK < end; b++) {
		if (!blk_isset(d, b))
			continue;
		lo = b * BLK > off ? b * BLK : off;
		hi = (b + 1) * BLK < end ? (b + 1) * BLK : end;
		if (memcmp(d->data + lo, p + (lo - off), hi - lo) != 0)
			return false;
	}
	memcpy(d->data + off, p, end - off);
	for (b = off / BLK; b * BLK < end; b++) {
		if (!blk_isset(d, b)) {
			d->bits[b / 64] |= UINT64_C(1) << (b % 64);
			d->nblk++;
		}
	}
	return true;
}

int
cl_reasm_add(struct cl_reasm *r, const struct cl_pkt *pkt, uint64_t now_ns,
    const uint8_t **dgram, size_t *dgram_len)
{
	struct dgram *d;
	struct key k;
	const uint8_t *fp;
	size_t flen, off, end;
	uint64_t h;
	int rv;

	*dgram = NULL;
	*dgram_len = 0;
	r->st.fragments++;
	if (!pkt->is_frag || pkt->ip == NULL ||
	    (pkt->ipver != 4 && pkt->ipver != 6) ||
	    pkt->frag_payload_off > pkt->ip_len || pkt->frag_off % BLK != 0)
		return CL_ERR_INVALID_ARG;
	/* Bytes the capture did not keep cannot be reassembled. */
	if (pkt->truncated)
		return CL_ERR_TRUNCATED;
	fp = pkt->ip + pkt->frag_payload_off;
	flen = pkt->ip_len - pkt->frag_payload_off;
	off = pkt->frag_off;
	end = off + flen;
	/* Every fragment but the last ends on a block boundary. */
	if (pkt->frag_more && (flen == 0 || flen % BLK != 0))
		return CL_ERR_FORMAT;

	memset(&k, 0, sizeof(k));
	k.ver = pkt->ipver;
	k.proto = pkt->ipver == 4 ? pkt->proto : 0;
	k.id = pkt->frag_id;
	memcpy(k.src, pkt->src.a, 16);
	memcpy(k.dst, pkt->dst.a, 16);
	h = key_hash(r, &k);

	cl_reasm_expire(r, now_ns);
	d = dgram_find(r, &k, h);
	if (d != NULL && expired(r, d, now_ns)) {
		dgram_drop(r, d);
		r->st.timed_out++;
		d = NULL;
	}
	if (end > DGRAM_MAX) {
		if (d != NULL)
			dgram_drop(r, d);
		return CL_ERR_TOOBIG;
	}
	if (d == NULL && (d = dgram_new(r, &k, h, now_ns)) == NULL)
		return CL_ERR_NOMEM;

	if (off == 0 && !d->have_first && (rv = keep_header(d, pkt)) != 0)
		return rv;
	if (!pkt->frag_more) {
		if ((d->have_last && end != d->total) || d->max_end > end)
			goto conflict;
		d->have_last = true;
		d->total = (uint32_t)end;
	} else if (d->have_last && end > d->total)
		goto conflict;
	if ((rv = grow(d, end)) != 0)
		return rv;
	if (!store(d, fp, off, end))
		goto conflict;
	if (end > d->max_end)
		d->max_end = (uint32_t)end;

	if (!d->have_first || !d->have_last ||
	    d->nblk != (d->total + BLK - 1) / BLK)
		return 0;
	rv = complete(r, d, dgram_len);
	dgram_drop(r, d);
	if (rv != 0)
		return rv;
	r->st.completed++;
	*dgram = r->out;
	return 1;

conflict:
	dgram_drop(r, d);
	r->st.overlaps++;
	return CL_ERR_FORMAT;
}
