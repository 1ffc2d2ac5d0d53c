/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "ber.h"

/* ---- encoder ---- */

static size_t
tag_size(uint32_t tag)
{
	size_t n = 1;

	if (tag < 31)
		return 1;
	while (tag > 0) {
		n++;
		tag >>= 7;
	}
	return n;
}

static size_t
len_size(size_t len)
{
	size_t n = 1;

	if (len < 128)
		return 1;
	while (len > 0) {
		n++;
		len >>= 8;
	}
	return n;
}

size_t
cl_ber_tl_size(uint32_t tag, size_t len)
{
	return tag_size(tag) + len_size(len);
}

size_t
cl_ber_tlv_size(uint32_t tag, size_t len)
{
	return tag_size(tag) + len_size(len) + len;
}

size_t
cl_ber_int_size(int64_t v)
{
	size_t n = 1;

	/* Drop an octet while the top nine bits would all be equal. */
	while (n < 8 &&
	    (v >= (int64_t)1 << (8 * n - 1) ||
		v < -((int64_t)1 << (8 * n - 1))))
		n++;
	return n;
}

size_t
cl_ber_uint_size(uint64_t v)
{
	size_t n = 1;

	/* One more octet than the magnitude needs when its top bit is set. */
	while (n < 9 && v >> (8 * n - 1) != 0)
		n++;
	return n;
}

/* Octets of one base-128 subidentifier. */
static size_t
subid_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 128) {
		n++;
		v >>= 7;
	}
	return n;
}

static uint8_t *
put_subid(uint8_t *q, uint64_t v)
{
	size_t n = subid_size(v), i;

	for (i = n; i > 0; i--) {
		q[i - 1] = (uint8_t)((v & 0x7f) | (i == n ? 0 : 0x80));
		v >>= 7;
	}
	return q + n;
}

size_t
cl_ber_oid_size(const uint32_t *arcs, size_t n)
{
	size_t i, sz;

	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
		return 0;
	sz = subid_size((uint64_t)arcs[0] * 40 + arcs[1]);
	for (i = 2; i < n; i++)
		sz += subid_size(arcs[i]);
	return sz;
}

size_t
cl_ber_reloid_size(const uint32_t *arcs, size_t n)
{
	size_t i, sz = 0;

	for (i = 0; i < n; i++)
		sz += subid_size(arcs[i]);
	return sz;
}

size_t
cl_ber_gentime_size(uint32_t usec)
{
	size_t n = 15; /* YYYYMMDDhhmmssZ */

	if (usec == 0 || usec >= 1000000)
		return n;
	n += 7; /* .uuuuuu */
	while (usec % 10 == 0) {
		usec /= 10;
		n--;
	}
	return n;
}

static int
put_tag(uint8_t *q, uint8_t cls, uint32_t tag)
{
	size_t n, i;

	if (tag < 31) {
		q[0] = (uint8_t)(cls | tag);
		return 1;
	}
	n = tag_size(tag);
	q[0] = (uint8_t)(cls | 0x1f);
	for (i = n - 1; i > 0; i--) {
		q[i] = (uint8_t)((tag & 0x7f) | (i == n - 1 ? 0 : 0x80));
		tag >>= 7;
	}
	return (int)n;
}

static void
put_len(uint8_t *q, size_t len, size_t n)
{
	size_t i;

	if (n == 1) {
		q[0] = (uint8_t)len;
		return;
	}
	q[0] = (uint8_t)(0x80 | (n - 1));
	for (i = n - 1; i > 0; i--) {
		q[i] = (uint8_t)len;
		len >>= 8;
	}
}

uint8_t *
cl_ber_w_tl(uint8_t *q, uint8_t cls, uint32_t tag, size_t len)
{
	size_t ln = len_size(len);

	q += put_tag(q, cls, tag);
	put_len(q, len, ln);
	return q + ln;
}

uint8_t *
cl_ber_w_int(uint8_t *q, uint8_t cls, uint32_t tag, int64_t v)
{
	size_t n = cl_ber_int_size(v), i;
	uint64_t u = (uint64_t)v;

	q = cl_ber_w_tl(q, cls, tag, n);
	for (i = n; i > 0; i--) {
		q[i - 1] = (uint8_t)u;
		u >>= 8;
	}
	return q + n;
}

uint8_t *
cl_ber_w_uint(uint8_t *q, uint8_t cls, uint32_t tag, uint64_t v)
{
	size_t n = cl_ber_uint_size(v), i;

	q = cl_ber_w_tl(q, cls, tag, n);
	for (i = n; i > 0; i--) {
		q[i - 1] = (uint8_t)v;
		v >>= 8; /* with nine octets the first becomes 0 */
	}
	return q + n;
}

uint8_t *
cl_ber_w_octets(uint8_t *q, uint8_t cls, uint32_t tag, const void *p, size_t n)
{
	q = cl_ber_w_tl(q, cls, tag, n);
	if (n > 0)
		memcpy(q, p, n);
	return q + n;
}

int
cl_ber_put_tl(struct cl_buf *b, uint8_t cls, uint32_t tag, size_t len)
{
	uint8_t *q;
	size_t tn, ln;
	int r;

	if (tag > CL_BER_TAG_MAX || (cls & 0x1f) != 0)
		return CL_ERR_INVALID_ARG;
	tn = tag_size(tag);
	ln = len_size(len);
	if ((r = cl_buf_reserve(b, tn + ln, &q)) != 0)
		return r;
	put_tag(q, cls, tag);
	put_len(q + tn, len, ln);
	return 0;
}

/* Reserves a whole primitive TLV and returns where its content goes. */
static int
prim(struct cl_buf *b, uint8_t cls, uint32_t tag, size_t len, uint8_t **q)
{
	size_t tn, ln;
	int r;

	*q = NULL;
	if (tag > CL_BER_TAG_MAX || (cls & ~CL_BER_CLASS_MASK) != 0)
		return CL_ERR_INVALID_ARG;
	tn = tag_size(tag);
	ln = len_size(len);
	if ((r = cl_buf_reserve(b, tn + ln + len, q)) != 0)
		return r;
	put_tag(*q, cls, tag);
	put_len(*q + tn, len, ln);
	*q += tn + ln;
	return 0;
}

int
cl_ber_put_int(struct cl_buf *b, uint8_t cls, uint32_t tag, int64_t v)
{
	size_t n = cl_ber_int_size(v);
	uint8_t *q;
	int r;

	if ((r = prim(b, cls, tag, n, &q)) != 0)
		return r;
	(void)cl_ber_w_int(q - cl_ber_tl_size(tag, n), cls, tag, v);
	return 0;
}

int
cl_ber_put_uint(struct cl_buf *b, uint8_t cls, uint32_t tag, uint64_t v)
{
	size_t n = cl_ber_uint_size(v);
	uint8_t *q;
	int r;

	if ((r = prim(b, cls, tag, n, &q)) != 0)
		return r;
	(void)cl_ber_w_uint(q - cl_ber_tl_size(tag, n), cls, tag, v);
	return 0;
}

int
cl_ber_put_bool(struct cl_buf *b, uint8_t cls, uint32_t tag, bool v)
{
	uint8_t *q;
	int r;

	if ((r = prim(b, cls, tag, 1, &q)) != 0)
		return r;
	q[0] = v ? 0xff : 0x00;
	return 0;
}

int
cl_ber_put_null(struct cl_buf *b, uint8_t cls, uint32_t tag)
{
	uint8_t *q;

	return prim(b, cls, tag, 0, &q);
}

int
cl_ber_put_octets(
    struct cl_buf *b, uint8_t cls, uint32_t tag, const void *p, size_t n)
{
	uint8_t *q;
	int r;

	if (p == NULL && n > 0)
		return CL_ERR_INVALID_ARG;
	if ((r = prim(b, cls, tag, n, &q)) != 0)
		return r;
	if (n > 0)
		memcpy(q, p, n);
	return 0;
}

int
cl_ber_put_oid(
    struct cl_buf *b, uint8_t cls, uint32_t tag, const uint32_t *arcs, size_t n)
{
	size_t sz = cl_ber_oid_size(arcs, n), i;
	uint8_t *q;
	int r;

	if (sz == 0)
		return CL_ERR_INVALID_ARG;
	if ((r = prim(b, cls, tag, sz, &q)) != 0)
		return r;
	q = put_subid(q, (uint64_t)arcs[0] * 40 + arcs[1]);
	for (i = 2; i < n; i++)
		q = put_subid(q, arcs[i]);
	return 0;
}

int
cl_ber_put_reloid(
    struct cl_buf *b, uint8_t cls, uint32_t tag, const uint32_t *arcs, size_t n)
{
	size_t sz = cl_ber_reloid_size(arcs, n), i;
	uint8_t *q;
	int r;

	if (n == 0)
		return CL_ERR_INVALID_ARG;
	if ((r = prim(b, cls, tag, sz, &q)) != 0)
		return r;
	for (i = 0; i < n; i++)
		q = put_subid(q, arcs[i]);
	return 0;
}

static int fmt_gentime(char *out, int64_t sec, uint32_t usec);

/* 9999-12-31T23:59:59Z */
#define GENTIME_SEC_MAX 253402300799LL

/*
 * Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): pure
 * arithmetic, no gmtime_r() and no locale or time zone on the hot path.
 */
static void
civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static int64_t
days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static char *
digits(char *q, unsigned v, int n)
{
	int i;

	for (i = n; i > 0; i--) {
		q[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return q + n;
}

int
cl_ber_fmt_gentime(
    char out[static CL_BER_GENTIME_MAX], int64_t sec, uint32_t usec)
{
	return fmt_gentime(out, sec, usec);
}

/* Writes cl_ber_gentime_size(usec) octets at out, no more. */
static int
fmt_gentime(char *out, int64_t sec, uint32_t usec)
{
	unsigned mo, d, secs;
	char *q = out;
	int y, nd = 6;

	if (sec < 0 || sec > GENTIME_SEC_MAX || usec >= 1000000)
		return CL_ERR_RANGE;
	civil_from_days(sec / 86400, &y, &mo, &d);
	secs = (unsigned)(sec % 86400);
	q = digits(q, (unsigned)y, 4);
	q = digits(q, mo, 2);
	q = digits(q, d, 2);
	q = digits(q, secs / 3600, 2);
	q = digits(q, secs / 60 % 60, 2);
	q = digits(q, secs % 60, 2);
	if (usec != 0) {
		while (usec % 10 == 0) {
			usec /= 10;
			nd--;
		}
		*q++ = '.';
		q = digits(q, usec, nd);
	}
	*q++ = 'Z';
	return (int)(q - out);
}

uint8_t *
cl_ber_w_gentime(
    uint8_t *q, uint8_t cls, uint32_t tag, int64_t sec, uint32_t usec)
{
	size_t n = cl_ber_gentime_size(usec);

	q = cl_ber_w_tl(q, cls, tag, n);
	(void)fmt_gentime((char *)q, sec, usec);
	return q + n;
}

int
cl_ber_put_gentime(
    struct cl_buf *b, uint8_t cls, uint32_t tag, int64_t sec, uint32_t usec)
{
	char s[CL_BER_GENTIME_MAX];
	int n;

	if ((n = cl_ber_fmt_gentime(s, sec, usec)) < 0)
		return n;
	return cl_ber_put_octets(b, cls, tag, s, (size_t)n);
}

int
cl_ber_open(struct cl_buf *b, uint8_t cls, uint32_t tag, size_t *mark)
{
	uint8_t *q;
	size_t tn;
	int r;

	*mark = 0;
	if (tag > CL_BER_TAG_MAX || (cls & 0x1f) != 0)
		return CL_ERR_INVALID_ARG;
	tn = tag_size(tag);
	if ((r = cl_buf_reserve(b, tn + 1, &q)) != 0)
		return r;
	put_tag(q, cls, tag);
	q[tn] = 0;
	*mark = b->len;
	return 0;
}

int
cl_ber_close(struct cl_buf *b, size_t mark)
{
	size_t len, ln;
	uint8_t *q;
	int r;

	if (mark == 0 || mark > b->len)
		return CL_ERR_INVALID_ARG;
	len = b->len - mark;
	ln = len_size(len);
	if (ln > 1) {
		/* The placeholder was one octet: make room and shift. */
		if ((r = cl_buf_reserve(b, ln - 1, &q)) != 0)
			return r;
		memmove(b->d + mark + ln - 1, b->d + mark, len);
	}
	put_len(b->d + mark - 1, len, ln);
	return 0;
}

/* ---- decoder ---- */

int
cl_ber_get_tlv(struct cl_rd *rd, unsigned flags, struct cl_ber_tlv *t)
{
	struct cl_rd r = *rd;
	struct cl_ber_tlv x;
	uint8_t c, nlen;
	uint32_t tag;
	size_t len = 0, left = rd->len - rd->off;
	const uint8_t *p = left >= 2 ? rd->p + rd->off : NULL;
	int i, e;

	/* Fast path for the usual case (a third of the LEMF's decoding
	 * time was here): low tag number and short definite length, whole
	 * TLV present.  Same checks and results as the general path. */
	if (p != NULL && (p[0] & 0x1f) != 0x1f && p[1] < 0x80 &&
	    p[1] <= left - 2) {
		t->cls = p[0] & CL_BER_CLASS_MASK;
		t->cons = (p[0] & CL_BER_CONSTRUCTED) != 0;
		t->tag = p[0] & 0x1f;
		t->v.p = p + 2;
		t->v.len = p[1];
		t->hdrlen = 2;
		rd->off += 2 + (size_t)p[1];
		return 0;
	}
	memset(t, 0, sizeof(*t));
	memset(&x, 0, sizeof(x));
	if ((e = cl_rd_u8(&r, &c)) != 0)
		return e;
	x.cls = c & CL_BER_CLASS_MASK;
	x.cons = (c & CL_BER_CONSTRUCTED) != 0;
	tag = c & 0x1f;
	if (tag == 0x1f) {
		tag = 0;
		for (i = 0;; i++) {
			if ((e = cl_rd_u8(&r, &c)) != 0)
				return e;
			/* X.690 8.1.2.4.2: no leading 0x80 octet. */
			if (i == 0 && c == 0x80)
				return CL_ERR_FORMAT;
			if (i == 4)
				return CL_ERR_TOOBIG;
			tag = tag << 7 | (c & 0x7f);
			if ((c & 0x80) == 0)
				break;
		}
		if (tag > CL_BER_TAG_MAX)
			return CL_ERR_TOOBIG;
		/* Numbers below 31 must use the one-octet form. */
		if (tag < 31)
			return CL_ERR_FORMAT;
	}
	x.tag = tag;
	if ((e = cl_rd_u8(&r, &c)) != 0)
		return e;
	if (c < 0x80)
		len = c;
	else if (c == 0x80 || c == 0xff)
		return CL_ERR_FORMAT; /* indefinite; reserved */
	else {
		nlen = c & 0x7f;
		if (nlen > 4)
			return CL_ERR_TOOBIG;
		for (i = 0; i < nlen; i++) {
			if ((e = cl_rd_u8(&r, &c)) != 0)
				return e;
			if ((flags & CL_BER_DER) && i == 0 && c == 0)
				return CL_ERR_FORMAT;
			len = len << 8 | c;
		}
		if ((flags & CL_BER_DER) && len < 128)
			return CL_ERR_FORMAT;
	}
	x.hdrlen = r.off - rd->off;
	if ((e = cl_rd_span(&r, len, &x.v)) != 0)
		return e;
	*rd = r;
	*t = x;
	return 0;
}

int
cl_ber_expect(struct cl_rd *rd, unsigned flags, uint8_t cls, uint32_t tag,
    struct cl_span *v)
{
	struct cl_rd r = *rd;
	struct cl_ber_tlv t;
	int e;

	v->p = NULL;
	v->len = 0;
	if ((e = cl_ber_get_tlv(&r, flags, &t)) != 0)
		return e;
	if (t.cls != (cls & CL_BER_CLASS_MASK) ||
	    t.cons != ((cls & CL_BER_CONSTRUCTED) != 0) || t.tag != tag)
		return CL_ERR_FORMAT;
	*rd = r;
	*v = t.v;
	return 0;
}

int
cl_ber_optional(struct cl_rd *rd, unsigned flags, uint8_t cls, uint32_t tag,
    struct cl_span *v, bool *present)
{
	struct cl_rd r = *rd;
	struct cl_ber_tlv t;
	int e;

	*present = false;
	v->p = NULL;
	v->len = 0;
	if (cl_rd_left(rd) == 0)
		return 0;
	if ((e = cl_ber_get_tlv(&r, flags, &t)) != 0)
		return e;
	if (t.cls != (cls & CL_BER_CLASS_MASK) ||
	    t.cons != ((cls & CL_BER_CONSTRUCTED) != 0) || t.tag != tag)
		return 0;
	*rd = r;
	*v = t.v;
	*present = true;
	return 0;
}

int
cl_ber_get_int64(struct cl_span v, int64_t *out)
{
	uint64_t u;
	size_t i;

	*out = 0;
	if (v.len == 0)
		return CL_ERR_FORMAT;
	if (v.len > 1 &&
	    ((v.p[0] == 0x00 && (v.p[1] & 0x80) == 0) ||
		(v.p[0] == 0xff && (v.p[1] & 0x80) != 0)))
		return CL_ERR_FORMAT;
	if (v.len > 8)
		return CL_ERR_RANGE;
	u = (v.p[0] & 0x80) ? UINT64_MAX : 0;
	for (i = 0; i < v.len; i++)
		u = u << 8 | v.p[i];
	*out = (int64_t)u;
	return 0;
}

int
cl_ber_get_uint64(struct cl_span v, uint64_t *out)
{
	uint64_t u = 0;
	size_t i;

	*out = 0;
	if (v.len == 0)
		return CL_ERR_FORMAT;
	if (v.len > 1 &&
	    ((v.p[0] == 0x00 && (v.p[1] & 0x80) == 0) ||
		(v.p[0] == 0xff && (v.p[1] & 0x80) != 0)))
		return CL_ERR_FORMAT;
	if (v.p[0] & 0x80)
		return CL_ERR_RANGE; /* negative */
	if (v.len > 9 || (v.len == 9 && v.p[0] != 0))
		return CL_ERR_RANGE;
	for (i = 0; i < v.len; i++)
		u = u << 8 | v.p[i];
	*out = u;
	return 0;
}

int
cl_ber_get_bool(struct cl_span v, unsigned flags, bool *out)
{
	*out = false;
	if (v.len != 1)
		return CL_ERR_FORMAT;
	if ((flags & CL_BER_DER) && v.p[0] != 0 && v.p[0] != 0xff)
		return CL_ERR_FORMAT;
	*out = v.p[0] != 0;
	return 0;
}

int
cl_ber_get_null(struct cl_span v)
{
	return v.len == 0 ? 0 : CL_ERR_FORMAT;
}

/* Reads one subidentifier (minimal, below 2^32 unless wide). */
static int
get_subid(struct cl_rd *rd, bool wide, uint64_t *out)
{
	uint64_t v = 0;
	uint8_t c;
	int i, e;

	*out = 0;
	for (i = 0;; i++) {
		if ((e = cl_rd_u8(rd, &c)) != 0)
			return e == CL_ERR_TRUNCATED ? CL_ERR_FORMAT : e;
		if (i == 0 && c == 0x80)
			return CL_ERR_FORMAT;
		v = v << 7 | (c & 0x7f);
		if (v > (wide ? (uint64_t)UINT32_MAX + 80 : UINT32_MAX))
			return CL_ERR_RANGE;
		if ((c & 0x80) == 0)
			break;
	}
	*out = v;
	return 0;
}

static int
get_arcs(struct cl_span v, bool rel, uint32_t *arcs, size_t max, size_t *n)
{
	struct cl_rd rd;
	uint64_t s;
	size_t k = 0;
	int e;

	*n = 0;
	if (v.len == 0)
		return CL_ERR_FORMAT;
	cl_rd_init(&rd, v.p, v.len);
	while (cl_rd_left(&rd) > 0) {
		if ((e = get_subid(&rd, !rel && k == 0, &s)) != 0)
			return e;
		if (!rel && k == 0) {
			if (max < 2)
				return CL_ERR_TOOBIG;
			arcs[0] = s < 40 ? 0 : s < 80 ? 1 : 2;
			arcs[1] = (uint32_t)(s - 40 * (uint64_t)arcs[0]);
			k = 2;
			continue;
		}
		if (k == max)
			return CL_ERR_TOOBIG;
		arcs[k++] = (uint32_t)s;
	}
	*n = k;
	return 0;
}

int
cl_ber_get_oid(struct cl_span v, uint32_t *arcs, size_t max, size_t *n)
{
	return get_arcs(v, false, arcs, max, n);
}

int
cl_ber_get_reloid(struct cl_span v, uint32_t *arcs, size_t max, size_t *n)
{
	return get_arcs(v, true, arcs, max, n);
}

static int
num(const uint8_t *p, int n, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return CL_ERR_FORMAT;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*out = v;
	return 0;
}

int
cl_ber_get_gentime(struct cl_span v, int64_t *sec, uint32_t *usec)
{
	static const uint8_t mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, s, frac = 0, scale = 100000;
	size_t i = 14;
	bool leap;

	*sec = 0;
	*usec = 0;
	if (v.len < 14)
		return CL_ERR_FORMAT;
	if (num(v.p, 4, &y) != 0 || num(v.p + 4, 2, &mo) != 0 ||
	    num(v.p + 6, 2, &d) != 0 || num(v.p + 8, 2, &h) != 0 ||
	    num(v.p + 10, 2, &mi) != 0 || num(v.p + 12, 2, &s) != 0)
		return CL_ERR_FORMAT;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 59)
		return CL_ERR_RANGE;
	if (i < v.len && (v.p[i] == '.' || v.p[i] == ',')) {
		i++;
		if (i == v.len || v.p[i] < '0' || v.p[i] > '9')
			return CL_ERR_FORMAT;
		for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
			if (i >= 24)
				return CL_ERR_FORMAT; /* more than 9 digits */
			frac += (unsigned)(v.p[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i == v.len)
		return CL_ERR_UNSUPPORTED; /* local time */
	if (v.p[i] != 'Z')
		return v.p[i] == '+' || v.p[i] == '-' ? CL_ERR_UNSUPPORTED
						      : CL_ERR_FORMAT;
	if (i + 1 != v.len)
		return CL_ERR_TRAILING;
	*sec = days_from_civil((int)y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	*usec = frac;
	return 0;
}

static int
walk(struct cl_rd *rd, unsigned flags, unsigned depth, unsigned max_depth,
    cl_ber_visit_fn fn, void *arg)
{
	struct cl_ber_tlv t;
	struct cl_rd sub;
	int e;

	while (cl_rd_left(rd) > 0) {
		if (depth >= max_depth)
			return CL_ERR_TOOBIG;
		if ((e = cl_ber_get_tlv(rd, flags, &t)) != 0)
			return e;
		if (fn != NULL && (e = fn(&t, depth, arg)) != 0)
			return e;
		if (t.cons) {
			cl_rd_init(&sub, t.v.p, t.v.len);
			if ((e = walk(&sub, flags, depth + 1, max_depth, fn,
				 arg)) != 0)
				return e;
		}
	}
	return 0;
}

int
cl_ber_walk(const uint8_t *p, size_t len, unsigned flags, unsigned max_depth,
    cl_ber_visit_fn fn, void *arg)
{
	struct cl_rd rd;

	cl_rd_init(&rd, p, len);
	return walk(&rd, flags, 0, max_depth, fn, arg);
}
