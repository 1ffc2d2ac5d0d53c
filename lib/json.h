/* SPDX-License-Identifier: ISC */
#ifndef CL_JSON_H
#define CL_JSON_H

/*
 * The one JSON reader of clearli, on jansson.  Input is a bounded buffer
 * (not NUL-terminated) holding exactly one object or array and nothing
 * after it but white space.  The reader is strict: duplicate keys, a NUL
 * in a string (raw or \u0000, unless CL_JSON_ALLOW_NUL), invalid UTF-8,
 * nesting deeper than CL_JSON_DEPTH_MAX and input longer than the caller's
 * limit are refused, each with a message naming line, column and cause.
 *
 * Values are borrowed pointers into the document: they stay valid until
 * cl_json_free() of the document that holds them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_JSON_DEPTH_MAX 512 /* arrays and objects nested, at most */
#define CL_JSON_ERR_MAX   200 /* room for a message, NUL included */

/* Flags for cl_json_parse(). */
#define CL_JSON_ALLOW_NUL 0x1 /* strings may hold \u0000 (see cl_json_str) */
/*
 * Integers beyond the int64 range do not make the document unreadable:
 * it is then read with every number as a double, and cl_json_u64() takes
 * a double that is exactly representable (below 2^53), provided no
 * number of the document has a fraction or an exponent (so 9.0 and 9e0
 * are never integers).
 */
#define CL_JSON_BIG_INT 0x2

struct cl_json;     /* a parsed document */
struct cl_json_val; /* a value inside it (a jansson json_t) */

/*
 * Parses p[0..len).  len above maxlen is refused before any parsing.
 * On success *out owns the document (free with cl_json_free()).  On
 * failure *out is NULL and err[errlen] says where and why ("line 3,
 * column 7: ...").  Returns 0, CL_ERR_TOOBIG (longer than maxlen or
 * nested too deep), CL_ERR_NOMEM or CL_ERR_FORMAT.
 */
int cl_json_parse(const uint8_t *p, size_t len, size_t maxlen, unsigned flags,
    struct cl_json **out, char *err, size_t errlen);
/* Frees the document and every value in it; NULL is allowed. */
void cl_json_free(struct cl_json *doc);
/* The top-level value (an object or an array). */
const struct cl_json_val *cl_json_root(const struct cl_json *doc);

/* Type predicates; NULL is no type. */
bool cl_json_is_object(const struct cl_json_val *v);
bool cl_json_is_array(const struct cl_json_val *v);
bool cl_json_is_string(const struct cl_json_val *v);
bool cl_json_is_null(const struct cl_json_val *v);

/* The member key of object o, or NULL if there is none (or o is no object). */
const struct cl_json_val *cl_json_get(
    const struct cl_json_val *o, const char *key);
/* Number of members of an object or elements of an array, else 0. */
size_t cl_json_size(const struct cl_json_val *v);
/* Element i of an array, or NULL. */
const struct cl_json_val *cl_json_at(const struct cl_json_val *a, size_t i);

/*
 * A string value: *s (NUL-terminated, valid UTF-8) and its length in bytes
 * *n, which counts any NUL inside when CL_JSON_ALLOW_NUL was given.
 * Returns 0, or CL_ERR_FORMAT if v is no string.
 */
int cl_json_str(const struct cl_json_val *v, const char **s, size_t *n);
/*
 * An integer value of doc in min..max (a JSON integer; a double only under
 * CL_JSON_BIG_INT, see above).  Returns 0, CL_ERR_FORMAT (no integer) or
 * CL_ERR_RANGE.  *out is set only on success.
 */
int cl_json_u64(const struct cl_json *doc, const struct cl_json_val *v,
    uint64_t min, uint64_t max, uint64_t *out);
/* A true or false value.  Returns 0 or CL_ERR_FORMAT. */
int cl_json_bool(const struct cl_json_val *v, bool *out);

#endif /* CL_JSON_H */
