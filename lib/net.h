/* SPDX-License-Identifier: ISC */
#ifndef CL_NET_H
#define CL_NET_H

/*
 * Opens a non-blocking TCP listening socket on spec, "ADDR:PORT" or
 * "[V6ADDR]:PORT" (numeric; port 0 lets the kernel choose), with
 * SO_REUSEADDR so that a restarted daemon gets its port back.  *port gets
 * the port bound.  Returns the descriptor, or -1 after logging why.
 */
int cl_net_listen(const char *spec, unsigned *port);

/*
 * Writes port to path, whole (temporary file, then rename), so that a
 * script waiting for the file never reads half of it.  Returns 0, or -1
 * with errno set.
 */
int cl_net_port_file(const char *path, unsigned port);

#endif /* CL_NET_H */
