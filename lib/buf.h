/* SPDX-License-Identifier: ISC */
#ifndef CL_BUF_H
#define CL_BUF_H

/*
 * Safe access to untrusted bytes, on the model of OpenSSH's sshbuf.
 *
 * struct cl_rd is a read cursor over borrowed bytes.  Every getter either
 * consumes exactly what it returns or fails without consuming anything, so
 * parsers chain them:
 *
 *	if ((r = cl_rd_u8(&rd, &type)) != 0 ||
 *	    (r = cl_rd_u16(&rd, &len)) != 0 ||
 *	    (r = cl_rd_span(&rd, len, &value)) != 0)
 *		goto out;
 *
 * Multi-byte integers are big-endian unless the name ends in "le".  Spans
 * point into the reader's bytes and live as long as those bytes do.  The
 * getters are inline because the packet decoder calls them per packet.
 *
 * struct cl_buf is a growable output buffer with a hard maximum fixed at
 * creation (curl's "toobig"): appending past it fails with CL_ERR_TOOBIG.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

/* Absolute cap on any cl_buf, whatever its creator asked for. */
#define CL_BUF_HARD_MAX (256u * 1024 * 1024)

struct cl_span {
	const uint8_t *p;
	size_t len;
};

struct cl_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void
cl_rd_init(struct cl_rd *rd, const void *p, size_t len)
{
	rd->p = p;
	rd->len = p == NULL ? 0 : len;
	rd->off = 0;
}

/* Bytes not yet consumed. */
static inline size_t
cl_rd_left(const struct cl_rd *rd)
{
	return rd->len - rd->off;
}

/* Pointer to the first unconsumed byte (valid for cl_rd_left() bytes). */
static inline const uint8_t *
cl_rd_ptr(const struct cl_rd *rd)
{
	return rd->p + rd->off;
}

/* Fails with CL_ERR_TRUNCATED unless n more bytes are available. */
static inline int
cl_rd_need(const struct cl_rd *rd, size_t n)
{
	return n > rd->len - rd->off ? CL_ERR_TRUNCATED : 0;
}

static inline int
cl_rd_skip(struct cl_rd *rd, size_t n)
{
	if (cl_rd_need(rd, n) != 0)
		return CL_ERR_TRUNCATED;
	rd->off += n;
	return 0;
}

static inline int
cl_rd_u8(struct cl_rd *rd, uint8_t *v)
{
	if (cl_rd_need(rd, 1) != 0)
		return CL_ERR_TRUNCATED;
	*v = rd->p[rd->off++];
	return 0;
}

static inline int
cl_rd_u16(struct cl_rd *rd, uint16_t *v)
{
	const uint8_t *q;

	if (cl_rd_need(rd, 2) != 0)
		return CL_ERR_TRUNCATED;
	q = rd->p + rd->off;
	*v = (uint16_t)(q[0] << 8 | q[1]);
	rd->off += 2;
	return 0;
}

static inline int
cl_rd_u32(struct cl_rd *rd, uint32_t *v)
{
	const uint8_t *q;

	if (cl_rd_need(rd, 4) != 0)
		return CL_ERR_TRUNCATED;
	q = rd->p + rd->off;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 |
	    q[3];
	rd->off += 4;
	return 0;
}

static inline int
cl_rd_u64(struct cl_rd *rd, uint64_t *v)
{
	uint32_t hi, lo;

	if (cl_rd_need(rd, 8) != 0)
		return CL_ERR_TRUNCATED;
	(void)cl_rd_u32(rd, &hi);
	(void)cl_rd_u32(rd, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static inline int
cl_rd_u16le(struct cl_rd *rd, uint16_t *v)
{
	const uint8_t *q;

	if (cl_rd_need(rd, 2) != 0)
		return CL_ERR_TRUNCATED;
	q = rd->p + rd->off;
	*v = (uint16_t)(q[1] << 8 | q[0]);
	rd->off += 2;
	return 0;
}

static inline int
cl_rd_u32le(struct cl_rd *rd, uint32_t *v)
{
	const uint8_t *q;

	if (cl_rd_need(rd, 4) != 0)
		return CL_ERR_TRUNCATED;
	q = rd->p + rd->off;
	*v = (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 |
	    q[0];
	rd->off += 4;
	return 0;
}

/* Borrows the next n bytes as a span. */
static inline int
cl_rd_span(struct cl_rd *rd, size_t n, struct cl_span *s)
{
	if (cl_rd_need(rd, n) != 0)
		return CL_ERR_TRUNCATED;
	s->p = rd->p + rd->off;
	s->len = n;
	rd->off += n;
	return 0;
}

/* Copies the next n bytes into out. */
static inline int
cl_rd_copy(struct cl_rd *rd, void *out, size_t n)
{
	if (cl_rd_need(rd, n) != 0)
		return CL_ERR_TRUNCATED;
	if (n > 0)
		memcpy(out, rd->p + rd->off, n);
	rd->off += n;
	return 0;
}

/* Makes sub a reader over the next n bytes and consumes them from rd. */
static inline int
cl_rd_sub(struct cl_rd *rd, size_t n, struct cl_rd *sub)
{
	if (cl_rd_need(rd, n) != 0)
		return CL_ERR_TRUNCATED;
	cl_rd_init(sub, rd->p + rd->off, n);
	rd->off += n;
	return 0;
}

/* Succeeds only if everything was consumed (rejects trailing bytes). */
static inline int
cl_rd_end(const struct cl_rd *rd)
{
	return rd->off == rd->len ? 0 : CL_ERR_TRAILING;
}

struct cl_buf {
	uint8_t *d;
	size_t len;   /* bytes held */
	size_t alloc; /* bytes allocated */
	size_t max;   /* len never exceeds this */
};

/*
 * Allocates an empty buffer that may grow to max bytes (at most
 * CL_BUF_HARD_MAX).  Returns NULL on allocation failure.
 */
struct cl_buf *cl_buf_new(size_t max);

/* Frees b and wipes its contents; b may be NULL. */
void cl_buf_free(struct cl_buf *b);

/* Initialises a buffer embedded in another object; release with
 * cl_buf_release(). */
void cl_buf_init(struct cl_buf *b, size_t max);
void cl_buf_release(struct cl_buf *b);

/* Empties b, keeping its allocation. */
void cl_buf_reset(struct cl_buf *b);

/*
 * Makes room for n more bytes and returns in *p where to write them; the
 * bytes count as held from then on.  Fails with CL_ERR_TOOBIG or
 * CL_ERR_NOMEM; *p is then NULL.
 */
int cl_buf_reserve(struct cl_buf *b, size_t n, uint8_t **p);

int cl_buf_put_slow(struct cl_buf *b, const void *p, size_t n);

/* Appends n bytes.  Inline for the common case of room left: encoders
 * and the LEMF's JSON writer put many short pieces. */
static inline int
cl_buf_put(struct cl_buf *b, const void *p, size_t n)
{
	if (n <= b->alloc - b->len) { /* alloc never exceeds max */
		if (n > 0)
			memcpy(b->d + b->len, p, n);
		b->len += n;
		return 0;
	}
	return cl_buf_put_slow(b, p, n);
}
int cl_buf_put_u8(struct cl_buf *b, uint8_t v);
int cl_buf_put_u16(struct cl_buf *b, uint16_t v);
int cl_buf_put_u32(struct cl_buf *b, uint32_t v);
int cl_buf_put_u64(struct cl_buf *b, uint64_t v);

/* Drops the first n bytes (n must be at most b->len). */
int cl_buf_consume(struct cl_buf *b, size_t n);

/* Big-endian stores into caller memory. */
static inline void
cl_store_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
cl_store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t
cl_load_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
cl_load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#endif /* CL_BUF_H */
