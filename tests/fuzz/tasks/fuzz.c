/* SPDX-License-Identifier: ISC */
/* Task-file parser: any input is parsed or rejected with a message; a
 * parsed set answers lookups for every target it holds. */
#include <stdint.h>
#include <string.h>

#include "task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_taskset *ts = NULL;
	const struct cl_matchlist *ml[8];
	char err[256];
	size_t i, j;

	if (cl_taskset_parse((const char *)data, size, &ts, err, sizeof(err)) !=
	    0) {
		if (ts != NULL || err[0] == '\0')
			__builtin_trap();
		return 0;
	}
	for (i = 0; i < cl_taskset_count(ts); i++) {
		struct cl_task *t = cl_taskset_task(ts, i);

		if (cl_taskset_find(ts, t->xid) != t)
			__builtin_trap();
		for (j = 0; j < t->ntargets; j++) {
			const struct cl_target *g = &t->targets[j];

			if (g->type == CL_TGT_IP) {
				if (cl_taskset_lookup_addr(
					ts, &g->addr, 128, ml, 8) == 0)
					__builtin_trap();
			} else if (cl_taskset_lookup_id(
				       ts, g->type, g->id, g->idlen) == NULL)
				__builtin_trap();
		}
	}
	cl_taskset_free(ts);
	return 0;
}
