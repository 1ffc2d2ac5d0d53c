/* SPDX-License-Identifier: ISC */
/* The JSON reader on jansson; see json.h. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "json.h"

struct cl_json {
	json_t *root;
	bool ints_as_real; /* read with JSON_DECODE_INT_AS_REAL */
	bool frac;         /* a number with a fraction or an exponent */
};

/*
 * jansson reports some failed allocations (of a string token) as a syntax
 * error, and ignores others (growing its token buffer), reading a cut
 * token.  Its allocations go through here, so that a parse during which
 * one failed is refused as CL_ERR_NOMEM: a line we could not read for
 * want of memory is neither a corrupt line nor a different one.
 */
static _Thread_local bool nomem;
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void *
json_alloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		nomem = true;
	return p;
}

static void
alloc_init(void)
{
	json_set_alloc_funcs(json_alloc, free);
}

_Static_assert(CL_JSON_DEPTH_MAX <= JSON_PARSER_MAX_DEPTH,
    "jansson refuses less deep nesting than we allow");

/*
 * jansson recurses once per nesting level, up to its compile-time
 * JSON_PARSER_MAX_DEPTH (2048 in Debian 12).  Our own limit is checked
 * first, by a scan that recurses on nothing: it counts brackets outside
 * strings.  On input that is not JSON it may count differently from the
 * parser, which then refuses that input anyway.
 */
static int
check_depth(const uint8_t *p, size_t len, bool *frac, char *err, size_t errlen)
{
	size_t i, depth = 0, line = 1, col = 0;
	bool instr = false, esc = false, innum = false;

	for (i = 0; i < len; i++) {
		uint8_t c = p[i];

		col++;
		if (c == '\n') {
			line++;
			col = 0;
		}
		if (instr) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				instr = false;
			continue;
		}
		/* Numbers, for CL_JSON_BIG_INT: a document read as doubles
		 * tells 9 from 9.0 only by this. */
		if (innum && (c == '.' || c == 'e' || c == 'E'))
			*frac = true;
		else if (c == '-' || (c >= '0' && c <= '9'))
			innum = true;
		else if (c != '+')
			innum = false;
		if (c == '"')
			instr = true;
		else if (c == '[' || c == '{') {
			if (++depth > CL_JSON_DEPTH_MAX) {
				snprintf(err, errlen,
				    "line %zu, column %zu: nested deeper than "
				    "%d",
				    line, col, CL_JSON_DEPTH_MAX);
				return CL_ERR_TOOBIG;
			}
		} else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return 0;
}

int
cl_json_parse(const uint8_t *p, size_t len, size_t maxlen, unsigned flags,
    struct cl_json **out, char *err, size_t errlen)
{
	struct cl_json *doc = NULL;
	json_error_t je;
	size_t jf;
	bool frac = false;
	int r;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if (len > maxlen) {
		snprintf(err, errlen, "%zu bytes, more than the %zu allowed",
		    len, maxlen);
		return CL_ERR_TOOBIG;
	}
	if ((r = check_depth(p, len, &frac, err, errlen)) != 0)
		return r;
	if ((doc = calloc(1, sizeof(*doc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return CL_ERR_NOMEM;
	}
	doc->frac = frac;
	(void)pthread_once(&alloc_once, alloc_init);
	nomem = false;
	jf = JSON_REJECT_DUPLICATES;
	if (flags & CL_JSON_ALLOW_NUL)
		jf |= JSON_ALLOW_NUL;
	doc->root = json_loadb((const char *)p, len, jf, &je);
	if (doc->root == NULL && (flags & CL_JSON_BIG_INT) &&
	    json_error_code(&je) == json_error_numeric_overflow) {
		doc->ints_as_real = true;
		doc->root = json_loadb(
		    (const char *)p, len, jf | JSON_DECODE_INT_AS_REAL, &je);
	}
	if (doc->root != NULL && nomem) {
		/* jansson ignores a failed growth of its token buffer and
		 * reads a cut token: a document read while an allocation
		 * failed is not trusted. */
		json_decref(doc->root);
		doc->root = NULL;
	}
	if (doc->root == NULL) {
		/* jansson fails without a position or a text only where its
		 * lexer cannot allocate its buffer; see json_alloc(). */
		if (nomem || json_error_code(&je) == json_error_out_of_memory ||
		    (je.line < 0 && je.text[0] == '\0')) {
			r = CL_ERR_NOMEM;
			snprintf(err, errlen, "out of memory");
		} else {
			r = CL_ERR_FORMAT;
			snprintf(err, errlen, "line %d, column %d: %s", je.line,
			    je.column, je.text);
		}
		free(doc);
		return r;
	}
	*out = doc;
	return 0;
}

void
cl_json_free(struct cl_json *doc)
{
	if (doc == NULL)
		return;
	json_decref(doc->root);
	free(doc);
}

/* Values are jansson's json_t; the cast only changes the name. */
static const json_t *
J(const struct cl_json_val *v)
{
	return (const json_t *)(const void *)v;
}

static const struct cl_json_val *
V(const json_t *j)
{
	return (const struct cl_json_val *)(const void *)j;
}

const struct cl_json_val *
cl_json_root(const struct cl_json *doc)
{
	return V(doc->root);
}

bool
cl_json_is_object(const struct cl_json_val *v)
{
	return v != NULL && json_is_object(J(v));
}

bool
cl_json_is_array(const struct cl_json_val *v)
{
	return v != NULL && json_is_array(J(v));
}

bool
cl_json_is_string(const struct cl_json_val *v)
{
	return v != NULL && json_is_string(J(v));
}

bool
cl_json_is_null(const struct cl_json_val *v)
{
	return v != NULL && json_is_null(J(v));
}

const struct cl_json_val *
cl_json_get(const struct cl_json_val *o, const char *key)
{
	if (!cl_json_is_object(o))
		return NULL;
	return V(json_object_get(J(o), key));
}

size_t
cl_json_size(const struct cl_json_val *v)
{
	if (cl_json_is_object(v))
		return json_object_size(J(v));
	if (cl_json_is_array(v))
		return json_array_size(J(v));
	return 0;
}

const struct cl_json_val *
cl_json_at(const struct cl_json_val *a, size_t i)
{
	if (!cl_json_is_array(a))
		return NULL;
	return V(json_array_get(J(a), i));
}

int
cl_json_str(const struct cl_json_val *v, const char **s, size_t *n)
{
	if (!cl_json_is_string(v))
		return CL_ERR_FORMAT;
	*s = json_string_value(J(v));
	*n = json_string_length(J(v));
	return 0;
}

int
cl_json_u64(const struct cl_json *doc, const struct cl_json_val *v,
    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t u;

	if (v == NULL)
		return CL_ERR_FORMAT;
	if (json_is_integer(J(v))) {
		json_int_t i = json_integer_value(J(v));

		if (i < 0)
			return CL_ERR_RANGE;
		u = (uint64_t)i;
	} else if (json_is_real(J(v)) && doc->ints_as_real && !doc->frac) {
		/* Only in a document read under CL_JSON_BIG_INT (json.h)
		 * whose numbers are all written as integers: elsewhere a
		 * double is no integer. */
		double d = json_real_value(J(v));

		if (!(d >= 0 && d < 9007199254740992.0)) /* 2^53 */
			return CL_ERR_RANGE;
		u = (uint64_t)d;
		if ((double)u != d)
			return CL_ERR_FORMAT;
	} else
		return CL_ERR_FORMAT;
	if (u < min || u > max)
		return CL_ERR_RANGE;
	*out = u;
	return 0;
}

int
cl_json_bool(const struct cl_json_val *v, bool *out)
{
	if (v == NULL || !json_is_boolean(J(v)))
		return CL_ERR_FORMAT;
	*out = json_is_true(J(v));
	return 0;
}
