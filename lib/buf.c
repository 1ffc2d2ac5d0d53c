/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct cl_buf *
cl_buf_new(size_t max)
{
	struct cl_buf *b;

	if ((b = malloc(sizeof(*b))) == NULL)
		return NULL;
	cl_buf_init(b, max);
	return b;
}

void
cl_buf_init(struct cl_buf *b, size_t max)
{
	b->d = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max > CL_BUF_HARD_MAX ? CL_BUF_HARD_MAX : max;
}

void
cl_buf_release(struct cl_buf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		explicit_bzero(b->d, b->alloc);
		free(b->d);
	}
	b->d = NULL;
	b->len = b->alloc = 0;
}

void
cl_buf_free(struct cl_buf *b)
{
	if (b == NULL)
		return;
	cl_buf_release(b);
	free(b);
}

void
cl_buf_reset(struct cl_buf *b)
{
	b->len = 0;
}

int
cl_buf_reserve(struct cl_buf *b, size_t n, uint8_t **p)
{
	size_t need, na;
	uint8_t *nd;

	*p = NULL;
	if (n > b->max || b->len > b->max - n)
		return CL_ERR_TOOBIG;
	need = b->len + n;
	if (need > b->alloc) {
		na = b->alloc < 256 ? 256 : b->alloc;
		while (na < need)
			na = na > b->max / 2 ? b->max : na * 2;
		if (na > b->max) /* cl_buf_put() relies on alloc <= max */
			na = b->max;
		if ((nd = realloc(b->d, na)) == NULL)
			return CL_ERR_NOMEM;
		b->d = nd;
		b->alloc = na;
	}
	*p = b->d + b->len;
	b->len = need;
	return 0;
}

int
cl_buf_put_slow(struct cl_buf *b, const void *p, size_t n)
{
	uint8_t *w;
	int r;

	if ((r = cl_buf_reserve(b, n, &w)) != 0)
		return r;
	if (n > 0)
		memcpy(w, p, n);
	return 0;
}

int
cl_buf_put_u8(struct cl_buf *b, uint8_t v)
{
	return cl_buf_put(b, &v, 1);
}

int
cl_buf_put_u16(struct cl_buf *b, uint16_t v)
{
	uint8_t t[2];

	cl_store_u16(t, v);
	return cl_buf_put(b, t, sizeof(t));
}

int
cl_buf_put_u32(struct cl_buf *b, uint32_t v)
{
	uint8_t t[4];

	cl_store_u32(t, v);
	return cl_buf_put(b, t, sizeof(t));
}

int
cl_buf_put_u64(struct cl_buf *b, uint64_t v)
{
	uint8_t t[8];

	cl_store_u32(t, (uint32_t)(v >> 32));
	cl_store_u32(t + 4, (uint32_t)v);
	return cl_buf_put(b, t, sizeof(t));
}

int
cl_buf_consume(struct cl_buf *b, size_t n)
{
	if (n > b->len)
		return CL_ERR_INVALID_ARG;
	if (n < b->len)
		memmove(b->d, b->d + n, b->len - n);
	b->len -= n;
	return 0;
}
