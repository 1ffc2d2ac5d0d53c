/* SPDX-License-Identifier: ISC */
#ifndef CL_NET_H
#define CL_NET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Splits spec, "ADDR:PORT" or "[V6ADDR]:PORT", into the address (without
 * brackets, NUL-terminated in host[hostlen]) and the port (0..65535).
 * Returns 0, or CL_ERR_FORMAT; nothing else is checked about the address.
 */
int cl_net_split(const char *spec, char *host, size_t hostlen, uint64_t *port);

/*
 * Opens a non-blocking TCP listening socket on spec, "ADDR:PORT" or
 * "[V6ADDR]:PORT" (numeric; port 0 lets the kernel choose), with
 * SO_REUSEADDR so that a restarted daemon gets its port back.  *port gets
 * the port bound.  Returns the descriptor, or -1 after logging why.
 */
int cl_net_listen(const char *spec, unsigned *port);

/*
 * Writes port to path, whole (temporary file, then rename), so that a
 * script waiting for the file never reads half of it.  The temporary file
 * is opened relative to the directory with cl_openat_nofollow(): a planted
 * link is refused (ELOOP), never written through.  Returns 0, or -1 with
 * errno set.
 */
int cl_net_port_file(const char *path, unsigned port);

#endif /* CL_NET_H */
