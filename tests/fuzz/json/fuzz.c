/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for lib/json, the reader of JSON from disk (the LEMF's
 * pdus.jsonl) and, later, from the REST API.  The first byte picks the
 * flags; the rest is the document.  Checks:
 *
 *  - a refusal comes with a message, and a NUL result;
 *  - every string of an accepted document is valid UTF-8, and holds a
 *    NUL only under CL_JSON_ALLOW_NUL;
 *  - no accepted document nests deeper than CL_JSON_DEPTH_MAX;
 *  - an accepted document, written out by jansson and read again, is
 *    accepted and equal.
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const struct cl_json *doc, const struct cl_json_val *v, unsigned flags,
    size_t depth)
{
	const json_t *j = (const json_t *)(const void *)v;
	const char *s, *key;
	json_t *m;
	size_t n, i, k;
	uint64_t u;
	bool b;

	if (cl_json_is_object(v) || cl_json_is_array(v))
		if (++depth > CL_JSON_DEPTH_MAX)
			abort();
	if (cl_json_is_string(v)) {
		if (cl_json_str(v, &s, &n) != 0 || s[n] != '\0')
			abort();
		for (i = 0; i < n; i += k) {
			if (s[i] == '\0' && !(flags & CL_JSON_ALLOW_NUL))
				abort();
			if ((k = cl_utf8_seq((const uint8_t *)s + i, n - i)) ==
			    0)
				abort();
		}
	}
	(void)cl_json_u64(doc, v, 0, UINT64_MAX, &u);
	(void)cl_json_bool(v, &b);
	if (cl_json_is_array(v)) {
		for (i = 0; i < cl_json_size(v); i++)
			walk(doc, cl_json_at(v, i), flags, depth);
		if (cl_json_at(v, cl_json_size(v)) != NULL)
			abort();
	}
	if (cl_json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)j, key, m)
		{
			if (cl_json_get(v, key) !=
			    (const struct cl_json_val *)(const void *)m)
				abort();
			walk(doc, (const struct cl_json_val *)(const void *)m,
			    flags, depth);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_json *doc = NULL, *doc2 = NULL;
	char err[CL_JSON_ERR_MAX];
	unsigned flags;
	char *out;
	int r;

	if (size < 1)
		return 0;
	flags = data[0] & (CL_JSON_ALLOW_NUL | CL_JSON_BIG_INT);
	r = cl_json_parse(
	    data + 1, size - 1, 1u << 20, flags, &doc, err, sizeof(err));
	if (r != 0) {
		if (doc != NULL || err[0] == '\0' ||
		    (r != CL_ERR_FORMAT && r != CL_ERR_TOOBIG &&
			r != CL_ERR_NOMEM))
			abort();
		return 0;
	}
	walk(doc, cl_json_root(doc), flags, 0);
	out = json_dumps((const json_t *)(const void *)cl_json_root(doc),
	    JSON_COMPACT | JSON_ENCODE_ANY);
	if (out == NULL)
		abort();
	if (cl_json_parse((const uint8_t *)out, strlen(out), 1u << 22, flags,
		&doc2, err, sizeof(err)) != 0 ||
	    !json_equal((const json_t *)(const void *)cl_json_root(doc),
		(const json_t *)(const void *)cl_json_root(doc2)))
		abort();
	free(out);
	cl_json_free(doc2);
	cl_json_free(doc);
	return 0;
}
