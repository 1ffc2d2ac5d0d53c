/* SPDX-License-Identifier: ISC */
#ifndef POI_METRICS_H
#define POI_METRICS_H

/*
 * A Prometheus text-format endpoint (HTTP/1.0 GET /metrics) on a loopback
 * address only: counters are for the operator's monitoring on the same
 * host, never for the network.  One request per connection.
 */

#include <stddef.h>

#include "buf.h"

/*
 * Listens on "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), which must be a
 * loopback address; port 0 picks a free port.  Returns the socket, or -1
 * with a reason in err.  *port_out gets the port actually bound.
 */
int cl_metrics_listen(
    const char *spec, unsigned *port_out, char *err, size_t errlen);

/*
 * Accepts one connection on lfd and answers it with the text render()
 * writes into the buffer.  Never blocks for more than about 200 ms.
 */
void cl_metrics_serve(
    int lfd, void (*render)(void *, struct cl_buf *), void *arg);

/* Appends one "name value" line (with HELP and TYPE lines). */
void cl_metric(struct cl_buf *b, const char *name, const char *type,
    const char *help, unsigned long long value);

#endif /* POI_METRICS_H */
