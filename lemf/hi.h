/* SPDX-License-Identifier: ISC */
#ifndef LEMF_HI_H
#define LEMF_HI_H

/*
 * The LEMF's HI server on lib/loop, in the front role (link.h): it
 * admits and authenticates MDFs (lib/front) on its listener, reads and
 * decodes their PS-PDUs, checks each against the receive state
 * (lemf/recv) and sends the records to the writer role (lemf/link),
 * answers keep-alives and acknowledgement requests, and sends each
 * answer only after what came before it is on disk: the writer syncs
 * when asked, one sync at a time, while reading goes on; the answers
 * queued before a sync was asked for go out when the writer says it
 * ended.
 *
 * If the writer is gone the server stops the loop, and nothing more is
 * acknowledged (the MDF keeps and resends what was not).
 */

#include <stdbool.h>

#include <openssl/ssl.h>

#include "front.h"
#include "loop.h"
#include "recv.h"

/* Authenticated MDFs served at once; more are refused (logged). */
#define LEMF_HI_MAX_CONN 256

struct lemf_hi_opts {
	int listen_fd;               /* the listener (taken over) */
	int writer_fd;               /* the socket to the writer (taken over) */
	SSL_CTX *ctx;                /* NULL: plain TCP */
	bool ack;                    /* accept the pDUAcknowledgement option */
	struct cl_front_opts *front; /* what and ctx are set here */
};

struct lemf_hi;

/*
 * Serves connections on o->listen_fd on l from then on: PDUs are checked
 * against rv (borrowed; it must outlive the server) and go to the writer
 * on o->writer_fd.  Returns 0 and *hp, or non-zero after logging why.
 */
int lemf_hi_new(struct cl_loop *l, const struct lemf_hi_opts *o,
    struct lemf_recv *rv, struct lemf_hi **hp);

/* Sends the counters to the writer, for summary.json. */
int lemf_hi_summary(struct lemf_hi *h);

/* The port listened on. */
unsigned lemf_hi_port(const struct lemf_hi *h);

/* True once writing the output failed (the loop was stopped). */
bool lemf_hi_failed(const struct lemf_hi *h);

/*
 * Closes every connection and the listener and, with final, sends the
 * counters that end the writer (it syncs, writes summary.json and
 * exits), then frees h.  Answers waiting for a sync are dropped with
 * their connections: the MDF sends those PDUs again.  Returns true if
 * the writer failed, now or before.  NULL ok.
 */
bool lemf_hi_free(struct lemf_hi *h, bool final);

#endif /* LEMF_HI_H */
