/* SPDX-License-Identifier: ISC */
#ifndef CL_METRICS_H
#define CL_METRICS_H

/*
 * A Prometheus text-format endpoint (HTTP/1.0 GET /metrics) on a loopback
 * address only: counters are for the operator's monitoring on the same
 * host, never for the network.  One request per connection.
 *
 * It never blocks the daemon's loop: every client is a small state
 * machine (reading the request, then writing the answer) driven by
 * non-blocking reads and writes when its socket is ready, with a bounded
 * request (CL_METRICS_REQ_MAX bytes), a deadline for the whole exchange
 * (CL_METRICS_DEADLINE_MS) and at most CL_METRICS_CLIENTS clients at a
 * time (a client past that is closed at once).  The endpoint knows no
 * event loop: the caller adds the descriptors cl_metrics_pollfds() gives
 * to its poll() and hands the results to cl_metrics_handle().
 */

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CL_METRICS_CLIENTS     8
#define CL_METRICS_REQ_MAX     2048
#define CL_METRICS_DEADLINE_MS 2000
/* Descriptors cl_metrics_pollfds() may fill: the listener and clients. */
#define CL_METRICS_POLLFDS (1 + CL_METRICS_CLIENTS)

struct cl_metrics;
typedef void cl_metrics_render_fn(void *arg, struct cl_buf *b);

/*
 * Listens on "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), which must be a
 * loopback address; port 0 picks a free port.  Returns the socket, or -1
 * with a reason in err.  *port_out gets the port actually bound.
 */
int cl_metrics_listen(
    const char *spec, unsigned *port_out, char *err, size_t errlen);

/*
 * Serves the listening socket lfd (from cl_metrics_listen(); owned by the
 * endpoint from then on) with the text render(arg, buffer) writes for each
 * request.  Returns 0 and *out, or CL_ERR_NOMEM (lfd is closed).
 */
int cl_metrics_new(
    int lfd, cl_metrics_render_fn *render, void *arg, struct cl_metrics **out);
/* Closes the listener and every client.  NULL is allowed. */
void cl_metrics_free(struct cl_metrics *m);

/*
 * Fills pfd[0..) with what the endpoint waits for (at most
 * CL_METRICS_POLLFDS entries, never more than max) and returns how many;
 * lowers *next_ms to the earliest client deadline (monotonic ms).
 */
size_t cl_metrics_pollfds(struct cl_metrics *m, struct pollfd *pfd, size_t max,
    uint64_t now_ms, uint64_t *next_ms);

/*
 * Handles the results of poll() for the n entries cl_metrics_pollfds()
 * filled (revents may all be 0) and closes the clients past their
 * deadline.  Call it after every poll() that included them.  Never blocks.
 */
void cl_metrics_handle(
    struct cl_metrics *m, const struct pollfd *pfd, size_t n, uint64_t now_ms);

/* Clients being served (for tests). */
size_t cl_metrics_clients(const struct cl_metrics *m);

/* Appends one "name value" line (with HELP and TYPE lines). */
void cl_metric(struct cl_buf *b, const char *name, const char *type,
    const char *help, unsigned long long value);

#endif /* CL_METRICS_H */
