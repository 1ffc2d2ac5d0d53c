/* SPDX-License-Identifier: ISC */
/* Configuration-file parser: keys handed to set() are always well formed. */
#include <stdint.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
set(void *arg, const char *k, const char *v, char *err, size_t errlen)
{
	size_t i;

	(void)arg;
	(void)err;
	(void)errlen;
	if (*k == '\0' || *v == '\0')
		__builtin_trap();
	for (i = 0; k[i] != '\0'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
			(k[i] >= '0' && k[i] <= '9') || k[i] == '-'))
			__builtin_trap();
	return strcmp(k, "reject") == 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	(void)cl_conf_parse(
	    "fuzz", (const char *)data, size, set, NULL, err, sizeof(err));
	return 0;
}
