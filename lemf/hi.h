/* SPDX-License-Identifier: ISC */
#ifndef LEMF_HI_H
#define LEMF_HI_H

/*
 * The LEMF's HI server on lib/loop: it listens, admits and authenticates
 * MDFs (lib/front), reads and decodes their PS-PDUs, hands each to the
 * receive state and the writer (lemf/recv, lemf/out), answers keep-alives
 * and acknowledgement requests, and sends each answer only after what
 * came before it is on disk: a sync of the output runs in a worker
 * (lib/loop's worker queue), one at a time, while reading goes on; the
 * answers queued before a sync began go out when it ends.
 *
 * If the output cannot be written the server stops the loop, and nothing
 * more is acknowledged (the MDF keeps and resends what was not).
 */

#include <stdbool.h>

#include <openssl/ssl.h>

#include "front.h"
#include "loop.h"
#include "out.h"
#include "recv.h"

/* Authenticated MDFs served at once; more are refused (logged). */
#define LEMF_HI_MAX_CONN 256

struct lemf_hi_opts {
	const char *listen;    /* ADDR:PORT (port 0: any) */
	const char *port_file; /* the bound port is written here; or NULL */
	SSL_CTX *ctx;          /* NULL: plain TCP */
	bool ack;              /* accept the pDUAcknowledgement option */
	struct cl_front_opts *front; /* what and ctx are set here */
};

struct lemf_hi;

/*
 * Listens on o->listen and serves connections on l from then on: records
 * go to rv and out (borrowed; they must outlive the server).  Returns 0
 * and *hp, or non-zero after logging why (a listener that cannot be
 * opened, out of memory).
 */
int lemf_hi_new(struct cl_loop *l, const struct lemf_hi_opts *o,
    struct lemf_recv *rv, struct lemf_out *out, struct lemf_hi **hp);

/* The port listened on. */
unsigned lemf_hi_port(const struct lemf_hi *h);

/* True once writing the output failed (the loop was stopped). */
bool lemf_hi_failed(const struct lemf_hi *h);

/*
 * Lets a sync in progress end (a failure is logged), closes every
 * connection and the listener and frees h.  Answers waiting for a sync
 * are dropped with their connections: the MDF sends those PDUs again.
 * Returns true if writing the output failed, now or before.  NULL ok.
 */
bool lemf_hi_free(struct lemf_hi *h);

#endif /* LEMF_HI_H */
