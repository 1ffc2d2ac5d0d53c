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
 * SO_REUSEADDR so that a restarted daemon gets its port back, and the
 * largest backlog the kernel allows (SOMAXCONN), so that a burst of
 * connections does not make a real peer's SYN wait for a retry.  *port gets
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

/*
 * The address of sa (AF_INET, or AF_INET6 with IPv4-mapped addresses
 * taken as IPv4) into *a, its numeric text "ADDR:PORT" ("[ADDR]:PORT"
 * for IPv6) into peer[peerlen].  Returns 0, or CL_ERR_UNSUPPORTED for
 * another family (a is then all zero, peer "?").
 */
struct sockaddr;
struct cl_addr;
int cl_net_addr(
    const struct sockaddr *sa, struct cl_addr *a, char *peer, size_t peerlen);

/*
 * Raises the soft RLIMIT_NOFILE to the hard limit (a daemon holds a
 * descriptor per connection, and a flood of them must meet the
 * connection limits, not EMFILE).  Returns the soft limit in force
 * afterwards.
 */
uint64_t cl_net_raise_nofile(void);

#endif /* CL_NET_H */
