/* SPDX-License-Identifier: ISC */
#ifndef MDF_STREAM_H
#define MDF_STREAM_H

/*
 * Delivery of the spool to one LEMF: one TCP or TLS connection, one
 * ordered stream of PS-PDUs, read from the spool through the cursor
 * "dest-<name>".  The cursor is confirmed (and the records may be
 * released) only when the LEMF answered a pDUAcknowledgementRequest sent
 * after them, or, if the LEMF declined that option, a keep-alive sent
 * after them.  After a reconnect delivery restarts at the first record
 * not confirmed, so the LEMF sees the backlog in order and, at worst,
 * exact repeats.  See docs/PROTOCOL.hi.
 */

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "htab.h"
#include "spool.h"

#define MDF_DEST_NAME_MAX 32

struct mdf_dest {
	char name[MDF_DEST_NAME_MAX + 1]; /* [a-z0-9_-] */
	char host[256], port[8];
	bool tls;
	char servername[256]; /* name the LEMF certificate must carry */
	bool all;             /* every LIID */
	char **liids;
	size_t nliids;
};

struct mdf_stream_opts {
	const char *operator_id;
	uint64_t keepalive_ms;   /* idle keep-alive; default 5000 */
	uint64_t ack_timeout_ms; /* answer to a request; default 30000 */
	uint64_t option_wait_ms; /* optionResponse; default 5000 */
	bool want_ack;           /* ask for pDUAcknowledgement; default true */
};

struct mdf_stream_stats {
	uint64_t pdus, bytes, connects, disconnects, confirmed;
	bool up, acked;   /* connected; LEMF accepted pDUAcknowledgement */
	uint64_t backlog; /* records not yet confirmed */
};

struct mdf_stream;

/*
 * Creates the stream for d (copied) over sp (cursor "dest-<name>").  ctx
 * is the TLS client context (NULL only if d->tls is false).
 */
int mdf_stream_new(const struct mdf_dest *d, struct cl_spool *sp, SSL_CTX *ctx,
    const struct mdf_stream_opts *o, struct mdf_stream **out);
void mdf_stream_free(struct mdf_stream *s);

/* The descriptor and events to poll (fd -1 if none). */
void mdf_stream_pollfd(const struct mdf_stream *s, struct pollfd *p);

/*
 * Does what can be done now: connection steps, reading answers, sending
 * committed records; revents from poll (0 if not polled).  Returns the
 * time (ms) at which it wants to run again.
 */
uint64_t mdf_stream_run(struct mdf_stream *s, short revents, uint64_t now_ms);

void mdf_stream_stats(const struct mdf_stream *s, struct mdf_stream_stats *st);
const char *mdf_stream_name(const struct mdf_stream *s);

/*
 * Decodes one PS-PDU at the start of p (strictly, lib/psdu_dec.h) and
 * says which TRIPayload alternative it carries (-1 if its payload is not
 * tRIPayload; an alternative added after version 5.x comes back as its
 * context tag, which may be above 13) and, for an optionResponse, whether
 * pDUAcknowledgement was accepted.  Returns 0, CL_ERR_TRUNCATED (read
 * more) or CL_ERR_FORMAT.  *used gets its length.
 */
int mdf_tri_peek(
    const uint8_t *p, size_t len, int *alt, bool *ack_accepted, size_t *used);

#endif /* MDF_STREAM_H */
