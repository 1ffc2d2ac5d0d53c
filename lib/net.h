/* SPDX-License-Identifier: ISC */
#ifndef CL_NET_H
#define CL_NET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Splits spec, the value of option opt, into the host and the port.  The
 * forms are "HOST:PORT" (a name or an IPv4 address) and "[V6ADDR]:PORT";
 * an IPv6 address is accepted only in brackets, and the brackets hold
 * only a numeric IPv6 address.  PORT is a canonical decimal number in
 * 1..65535, or 0..65535 with CL_NET_PORT_ANY (a listener's "any port").
 * The host, without brackets, goes into host[hostlen].  Returns 0, or
 * CL_ERR_FORMAT with err[errlen] naming opt (unless NULL: a caller that
 * names the option itself) and the cause; host and *port are set only on
 * success.
 */
#define CL_NET_PORT_ANY 0x1
int cl_net_split(const char *opt, const char *spec, unsigned flags, char *host,
    size_t hostlen, uint16_t *port, char *err, size_t errlen);

/*
 * Opens a non-blocking TCP listening socket on spec, "ADDR:PORT" or
 * "[V6ADDR]:PORT" (numeric; port 0 lets the kernel choose), with
 * SO_REUSEADDR so that a restarted daemon gets its port back, and the
 * largest backlog the kernel allows (SOMAXCONN), so that a burst of
 * connections does not make a real peer's SYN wait for a retry.  *port gets
 * the port bound.  Returns the descriptor, or -1 after logging why.  The
 * caller checked spec with cl_net_split() when it read the option.
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
