/* SPDX-License-Identifier: ISC */
#ifndef CL_FRONT_H
#define CL_FRONT_H

/*
 * The front of a TLS listener: connections from the moment they are
 * accepted until their peer has authenticated.  Until then a connection
 * holds none of the daemon's slots for authenticated peers; it is
 * admitted by cl_admit (limits in total and per source, random early
 * refusal), refused connections are closed at once without any TLS work,
 * the TLS state is created only once the peer sends something, and a
 * connection that has not completed the handshake by the deadline is
 * closed.  None of this writes a log line per connection: refusals,
 * handshake timeouts and failures are summed up in one line per interval
 * (a few handshake failures are named in full, rate-limited, so that an
 * operator sees why a real peer cannot get in).
 *
 * Authenticated connections are handed to the daemon's up() callback.
 * Like lib/metrics, the front knows no event loop: the caller polls the
 * descriptors cl_front_pollfds() gives and hands the results back.
 */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "admit.h"
#include "util.h"

struct cl_front_opts {
	const char *what;      /* peers' role in log lines: "POI", "MDF" */
	SSL_CTX *ctx;          /* NULL: plain TCP, handed over at once */
	unsigned handshake_ms; /* deadline for the TLS handshake */
	unsigned report_ms;    /* summary interval (0: 10 s) */
	struct cl_admit_opts admit;
};

/* An authenticated connection, handed to up(). */
struct cl_front_conn {
	int fd;   /* non-blocking */
	SSL *ssl; /* handshake done (NULL for plain TCP) */
	struct cl_addr addr;
	char peer[64];       /* "ADDR:PORT", numeric */
	uint64_t elapsed_ms; /* from accept to authentication */
};

/*
 * Takes over c->fd and c->ssl and returns 0, or returns non-zero and the
 * front closes them (counted as "no slot" in the summary line).
 */
typedef int cl_front_up_fn(void *arg, struct cl_front_conn *c);

struct cl_front;

/* Defaults: handshake-timeout 5 s, max-startups 2000:30:4000, 32 per source. */
#define CL_FRONT_HANDSHAKE_S 5
#define CL_FRONT_STARTUPS    "2000:30:4000"
#define CL_FRONT_PER_SOURCE  32
#define CL_FRONT_FULL_MAX    100000
void cl_front_defaults(struct cl_front_opts *o);

/* The --help lines of the options cl_front_option() takes. */
#define CL_FRONT_USAGE                                                         \
	"      --handshake-timeout SECS  close a connection not "              \
	"authenticated by then\n"                                              \
	"                            (default 5)\n"                            \
	"      --max-startups START:RATE:FULL  unauthenticated "               \
	"connections: refuse\n"                                                \
	"                            at random from START, all from FULL "     \
	"(default\n"                                                           \
	"                            2000:30:4000)\n"                          \
	"      --per-source-max-startups N  unauthenticated connections "      \
	"per address\n"                                                        \
	"                            (default 32; 0: no limit)\n"

/*
 * The daemons' options for the front: "handshake-timeout" (seconds, 1 to
 * 600), "max-startups" (START:RATE:FULL or FULL) and
 * "per-source-max-startups" (0: no limit).  Returns 0, CL_ERR_NOT_FOUND
 * for another key, or an error with a reason in err.
 */
int cl_front_option(struct cl_front_opts *o, const char *k, const char *v,
    char *err, size_t errlen);

/*
 * Lowers the limit of unauthenticated connections (full, and start with
 * it) so that they and reserve other descriptors fit in nofile; returns
 * true if it had to.
 */
bool cl_front_fit(struct cl_front_opts *o, uint64_t nofile, unsigned reserve);

/*
 * A front for the listening socket lfd (owned from then on, closed by
 * cl_front_free()).  Returns 0 and *out, or CL_ERR_INVALID_ARG (bad
 * admission options) or CL_ERR_NOMEM; lfd is closed on failure.
 */
int cl_front_new(int lfd, const struct cl_front_opts *o, cl_front_up_fn *up,
    void *arg, struct cl_front **out);

/* Closes the listener and every unauthenticated connection. */
void cl_front_free(struct cl_front *f);

/* Stops listening (the connections being authenticated are closed). */
void cl_front_stop(struct cl_front *f);

/* Entries cl_front_pollfds() fills at most. */
size_t cl_front_npollfds(const struct cl_front *f);

/*
 * Fills pfd[0..) (at most max entries) with the listener and the
 * connections being authenticated, returns how many, and lowers *next_ms
 * to the earliest deadline (monotonic ms).
 */
size_t cl_front_pollfds(struct cl_front *f, struct pollfd *pfd, size_t max,
    uint64_t now_ms, uint64_t *next_ms);

/*
 * Handles poll()'s results for the n entries cl_front_pollfds() filled
 * (call it after every poll(), events or not): handshakes advance,
 * deadlines close connections, new connections are admitted or refused,
 * authenticated ones go to up(), and the summary line is logged when an
 * interval with something to report has ended.
 */
void cl_front_handle(
    struct cl_front *f, const struct pollfd *pfd, size_t n, uint64_t now_ms);

/* Connections accepted and not yet authenticated. */
unsigned cl_front_pending(const struct cl_front *f);

/* Totals since the start, for the metrics. */
struct cl_front_stats {
	uint64_t accepted, refused, timeouts, failures, no_slot, authenticated;
};
void cl_front_stats(const struct cl_front *f, struct cl_front_stats *st);

#endif /* CL_FRONT_H */
