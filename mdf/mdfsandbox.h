/* SPDX-License-Identifier: ISC */
#ifndef MDF_SANDBOX_H
#define MDF_SANDBOX_H

#include <stddef.h>

/*
 * Installs the seccomp filter of clearli-mdf's own process (every thread
 * of it); 0, or an error described in err.  See mdf/sandbox.c.
 */
int mdf_sandbox_parent(char *err, size_t errlen);

#endif /* MDF_SANDBOX_H */
