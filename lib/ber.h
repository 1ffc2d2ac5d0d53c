/* SPDX-License-Identifier: ISC */
#ifndef CL_BER_H
#define CL_BER_H

/*
 * ASN.1 BER (X.690) encoding and a strict decoder, for the ETSI TS 102 232
 * handover (lib/psdu.c) and the reference LEMF.
 *
 * Encoder.  Everything is written into a struct cl_buf; no field allocates.
 * Definite lengths only, always in their minimal form, INTEGERs in minimal
 * two's complement, so what we write is also DER as far as the encoding of
 * each element goes.  Two ways to produce a constructed value:
 *
 *  - size first (the hot path): the caller computes the content length
 *    with the *_size() functions, writes the identifier and length with
 *    cl_ber_put_tl() and then the content.  Nothing is moved.  Fastest:
 *    reserve the whole PDU once and fill it with the cl_ber_w_*() raw
 *    writers (what cl_psdu_hi3_ipcc() does).
 *  - reserve and patch: cl_ber_open() writes the identifier and one
 *    placeholder length octet, cl_ber_close() fills in the length and, when
 *    the content turned out to be 128 octets or more, moves the content up
 *    by the extra length octets (a memmove of the content).  Convenient for
 *    rare PDUs; psdu.c uses size first for CC so that packet bytes are
 *    copied exactly once.
 *
 * Decoder.  cl_ber_get_tlv() reads one TLV from a struct cl_rd: definite
 * lengths only (the indefinite form 0x80 is rejected), lengths of at most
 * four octets, values that must lie inside the reader (so inside the
 * enclosing value), tag numbers in minimal base-128 form below 2^28.  By
 * default long-form lengths with leading zero octets are accepted, as BER
 * allows (libtrace/OpenLI writes 0x82 0x00 0x9d); with CL_BER_DER they and
 * long forms for lengths below 128 are rejected.  The value decoders
 * (cl_ber_get_int64() ...) reject what X.690 forbids in BER as well: empty
 * or non-minimal INTEGERs, OID subidentifiers starting with 0x80, and so on.
 * cl_ber_walk() visits a whole tree with a nesting limit.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Identifier octet: class and constructed bits. */
#define CL_BER_UNIVERSAL   0x00
#define CL_BER_APPLICATION 0x40
#define CL_BER_CONTEXT     0x80
#define CL_BER_PRIVATE     0xc0
#define CL_BER_CONSTRUCTED 0x20
#define CL_BER_CLASS_MASK  0xc0

/* Universal tag numbers used here. */
#define CL_BER_TAG_BOOLEAN     1
#define CL_BER_TAG_INTEGER     2
#define CL_BER_TAG_OCTETSTRING 4
#define CL_BER_TAG_NULL        5
#define CL_BER_TAG_OID         6
#define CL_BER_TAG_ENUMERATED  10
#define CL_BER_TAG_RELOID      13
#define CL_BER_TAG_SEQUENCE    16
#define CL_BER_TAG_PRINTABLE   19
#define CL_BER_TAG_GENTIME     24

/* Largest tag number we encode or accept (four base-128 octets). */
#define CL_BER_TAG_MAX ((1u << 28) - 1)
/* Most arcs an OID may have when decoded with cl_ber_get_oid(). */
#define CL_BER_OID_MAX_ARCS 32
/* Default nesting limit for cl_ber_walk(). */
#define CL_BER_DEPTH_MAX 32
/* Longest GeneralizedTime we write: YYYYMMDDhhmmss.uuuuuuZ */
#define CL_BER_GENTIME_MAX 22

/* Decoder flags. */
#define CL_BER_DER 0x01 /* reject non-minimal length encodings */

/* ---- encoder: sizes ---- */

/* Octets of an identifier with this tag number plus a length field for
 * len (i.e. the TLV header). */
size_t cl_ber_tl_size(uint32_t tag, size_t len);

/* Octets of a whole TLV with this tag and content length. */
size_t cl_ber_tlv_size(uint32_t tag, size_t len);

/* Content octets of an INTEGER (minimal two's complement). */
size_t cl_ber_int_size(int64_t v);
size_t cl_ber_uint_size(uint64_t v);

/*
 * Content octets of an OBJECT IDENTIFIER with n arcs (n >= 2, arc0 <= 2,
 * arc1 < 40 unless arc0 is 2), or 0 if the arcs are invalid.  For
 * RELATIVE-OID, cl_ber_reloid_size() (n >= 1, no combination of arcs).
 */
size_t cl_ber_oid_size(const uint32_t *arcs, size_t n);
size_t cl_ber_reloid_size(const uint32_t *arcs, size_t n);

/* Content octets of the GeneralizedTime cl_ber_put_gentime() writes. */
size_t cl_ber_gentime_size(uint32_t usec);

/* ---- encoder: writers ---- */

/*
 * Writes an identifier (cls: class | CL_BER_CONSTRUCTED, tag number up to
 * CL_BER_TAG_MAX) and a definite length in minimal form.  The caller then
 * writes exactly len content octets.  Fails with CL_ERR_INVALID_ARG for a
 * bad tag, or the cl_buf error.
 */
int cl_ber_put_tl(struct cl_buf *b, uint8_t cls, uint32_t tag, size_t len);

/* Whole primitive TLVs.  cls is a class (the constructed bit must be 0). */
int cl_ber_put_int(struct cl_buf *b, uint8_t cls, uint32_t tag, int64_t v);
int cl_ber_put_uint(struct cl_buf *b, uint8_t cls, uint32_t tag, uint64_t v);
/* ENUMERATED is an INTEGER with a different universal tag. */
#define cl_ber_put_enum cl_ber_put_int
int cl_ber_put_bool(struct cl_buf *b, uint8_t cls, uint32_t tag, bool v);
int cl_ber_put_null(struct cl_buf *b, uint8_t cls, uint32_t tag);
/* OCTET STRING, and the string types (PrintableString, UTF8String...). */
int cl_ber_put_octets(
    struct cl_buf *b, uint8_t cls, uint32_t tag, const void *p, size_t n);
/* Fails with CL_ERR_INVALID_ARG if the arcs are not a valid OID. */
int cl_ber_put_oid(struct cl_buf *b, uint8_t cls, uint32_t tag,
    const uint32_t *arcs, size_t n);
int cl_ber_put_reloid(struct cl_buf *b, uint8_t cls, uint32_t tag,
    const uint32_t *arcs, size_t n);

/*
 * Formats unix time sec.usec (0 <= sec, year at most 9999, usec < 10^6) as
 * GeneralizedTime in UTC, "YYYYMMDDhhmmss[.f]Z" with the fraction as DER
 * wants it: no trailing zeros, absent when zero.  out must hold
 * CL_BER_GENTIME_MAX octets; returns the length or CL_ERR_RANGE.
 */
int cl_ber_fmt_gentime(
    char out[static CL_BER_GENTIME_MAX], int64_t sec, uint32_t usec);
int cl_ber_put_gentime(
    struct cl_buf *b, uint8_t cls, uint32_t tag, int64_t sec, uint32_t usec);

/*
 * Raw writers for the size-first hot path: the caller reserves the whole
 * PDU once with cl_buf_reserve() and writes into it.  Each writes exactly
 * cl_ber_tl_size() (or cl_ber_tlv_size() of the content size) octets at q
 * and returns q past them.  They check nothing: tag numbers must be at
 * most CL_BER_TAG_MAX and, for cl_ber_w_gentime(), the time accepted by
 * cl_ber_fmt_gentime().
 */
uint8_t *cl_ber_w_tl(uint8_t *q, uint8_t cls, uint32_t tag, size_t len);
uint8_t *cl_ber_w_int(uint8_t *q, uint8_t cls, uint32_t tag, int64_t v);
uint8_t *cl_ber_w_uint(uint8_t *q, uint8_t cls, uint32_t tag, uint64_t v);
uint8_t *cl_ber_w_octets(
    uint8_t *q, uint8_t cls, uint32_t tag, const void *p, size_t n);
uint8_t *cl_ber_w_gentime(
    uint8_t *q, uint8_t cls, uint32_t tag, int64_t sec, uint32_t usec);

/*
 * Reserve and patch: cl_ber_open() writes the identifier and a placeholder
 * length octet and stores in *mark where the content starts;
 * cl_ber_close() sets the length to everything written since.  Opens and
 * closes nest like parentheses.
 */
int cl_ber_open(struct cl_buf *b, uint8_t cls, uint32_t tag, size_t *mark);
int cl_ber_close(struct cl_buf *b, size_t mark);

/* ---- decoder ---- */

struct cl_ber_tlv {
	uint8_t cls;      /* CL_BER_UNIVERSAL ... CL_BER_PRIVATE */
	bool cons;        /* constructed */
	uint32_t tag;     /* tag number */
	struct cl_span v; /* content octets, inside the reader */
	size_t hdrlen;    /* identifier and length octets */
};

/*
 * Reads one TLV from rd and consumes it; on failure consumes nothing and
 * clears *t.  CL_ERR_TRUNCATED if rd ends inside the TLV, CL_ERR_FORMAT for
 * an indefinite or reserved length, a non-minimal tag number (or, with
 * CL_BER_DER, length), CL_ERR_TOOBIG for a length field over four octets
 * or a tag number over CL_BER_TAG_MAX.
 */
int cl_ber_get_tlv(struct cl_rd *rd, unsigned flags, struct cl_ber_tlv *t);

/*
 * Reads one TLV that must have this class, constructed bit (in cls) and tag
 * number, else CL_ERR_FORMAT and nothing consumed.  *v gets the content.
 */
int cl_ber_expect(struct cl_rd *rd, unsigned flags, uint8_t cls, uint32_t tag,
    struct cl_span *v);

/*
 * Like cl_ber_expect() for an OPTIONAL element: if the next TLV is not
 * this one (or rd is empty), *present is false and nothing is consumed.
 */
int cl_ber_optional(struct cl_rd *rd, unsigned flags, uint8_t cls, uint32_t tag,
    struct cl_span *v, bool *present);

/*
 * Content decoders.  INTEGER: one to eight octets (int64) or, for
 * cl_ber_get_uint64(), a non-negative value of up to 64 bits (nine octets
 * with a leading zero); minimal form required.  BOOLEAN: one octet (with
 * CL_BER_DER, 0x00 or 0xff).  NULL: empty.  OID: arcs expanded into
 * arcs[0..*n), at most max; subidentifiers minimal and below 2^32.
 */
int cl_ber_get_int64(struct cl_span v, int64_t *out);
int cl_ber_get_uint64(struct cl_span v, uint64_t *out);
int cl_ber_get_bool(struct cl_span v, unsigned flags, bool *out);
int cl_ber_get_null(struct cl_span v);
int cl_ber_get_oid(struct cl_span v, uint32_t *arcs, size_t max, size_t *n);
int cl_ber_get_reloid(struct cl_span v, uint32_t *arcs, size_t max, size_t *n);

/*
 * Parses GeneralizedTime "YYYYMMDDhhmmss[.f{1,9}]Z" (UTC only; the local
 * and offset forms are CL_ERR_UNSUPPORTED) into unix seconds and
 * microseconds (digits beyond the sixth are dropped).
 */
int cl_ber_get_gentime(struct cl_span v, int64_t *sec, uint32_t *usec);

/*
 * Walks every TLV in bytes (a sequence of TLVs, all of which must fill it
 * exactly), descending into constructed values, at most max_depth levels
 * deep (CL_ERR_TOOBIG beyond).  fn, if not NULL, is called for each TLV
 * before its children, with its depth (0 at top level); a non-zero return
 * stops the walk and is returned.
 */
typedef int (*cl_ber_visit_fn)(
    const struct cl_ber_tlv *t, unsigned depth, void *arg);
int cl_ber_walk(const uint8_t *p, size_t len, unsigned flags,
    unsigned max_depth, cl_ber_visit_fn fn, void *arg);

#endif /* CL_BER_H */
