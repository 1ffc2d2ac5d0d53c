/* SPDX-License-Identifier: ISC */
#ifndef POI_OUT_H
#define POI_OUT_H

/*
 * The POI's X2/X3 output to one MDF: an ordered queue of encoded PDUs and
 * the connection that drains it.
 *
 * Queue.  PDUs are encoded straight into 256 KiB chunks.  Up to mem_max
 * bytes stay in memory; past that, chunks are written to a spool file
 * (spool_path) up to spool_max bytes and read back in order when the
 * connection catches up.  Only when both are full is a PDU dropped, and
 * every drop is counted and logged.  The caller that must not drop (reading
 * a capture file) checks cl_out_full() and waits instead.
 *
 * Delivery.  A PDU leaves the queue only when the MDF has confirmed it: the
 * POI sends a keepalive (with a sequence number) after every burst of data
 * and at least every keepalive_ms, and the MDF's keepalive acknowledgement
 * for it confirms every byte sent before that keepalive.  After a
 * reconnect, everything not yet confirmed is sent again, so the receiver
 * must drop exact repeats (by XID and sequence number).  A keepalive left
 * unacknowledged for ack_timeout_ms closes the connection.
 *
 * Connection.  TLS 1.3 with mutual authentication when tls is set, plain
 * TCP otherwise (the caller warns).  Reconnects back off exponentially
 * from 100 ms to 30 s, with jitter.  The socket is non-blocking and driven
 * by the caller's poll loop.
 */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "x2x3.h"

struct cl_out_cfg {
	const char *host;
	const char *port;
	SSL_CTX *tls;            /* NULL: plain TCP */
	const char *servername;  /* name the MDF certificate must carry;
				    default: host */
	size_t mem_max;          /* default 64 MiB */
	const char *spool_path;  /* NULL: no spill to disk */
	uint64_t spool_max;      /* default 1 GiB */
	unsigned keepalive_ms;   /* default 1000 */
	unsigned ack_timeout_ms; /* default 15000 */
};

struct cl_out_stats {
	uint64_t pdus, bytes; /* queued */
	uint64_t sent_bytes;  /* written to the connection */
	uint64_t acked_bytes; /* confirmed by the MDF */
	uint64_t dropped, dropped_bytes;
	uint64_t spilled_bytes; /* written to the spool file */
	uint64_t connects, connect_failures, disconnects;
	uint64_t keepalives, keepalive_acks;
	uint64_t mem_bytes;   /* held in memory now */
	uint64_t spool_bytes; /* held on disk now */
	uint64_t unacked_bytes;
	bool connected;
};

struct cl_out;

int cl_out_new(const struct cl_out_cfg *cfg, struct cl_out **out);

/* Frees everything; unconfirmed PDUs are lost (see cl_out_pending()). */
void cl_out_free(struct cl_out *o);

/*
 * Encodes and queues one PDU.  Returns 0, or CL_ERR_FULL when memory and
 * spool are full (the PDU is dropped and counted), or the encoder's error.
 * Matches cl_emit_fn (pipeline.h).
 */
int cl_out_emit(void *o, const struct cl_x2x3_pdu *pdu);

/*
 * Queues one PDU encoded already (by the match role), p[0..len), as it
 * is, once its framing is checked on the output's own copy
 * (cl_x2x3_frame(): a data PDU whose lengths fill the record exactly),
 * so that the stream stays framed by PDUs whatever p held; nothing else
 * of it is parsed here (the MDF decodes it strictly).  Returns 0,
 * CL_ERR_FULL (dropped and counted) or CL_ERR_FORMAT (not queued; *why
 * says what is wrong).
 */
int cl_out_emit_encoded(
    struct cl_out *o, const uint8_t *p, size_t len, const char **why);

/* True when less than one maximum-size PDU still fits in memory + spool. */
bool cl_out_full(const struct cl_out *o);

/*
 * Poll integration: cl_out_pollfd() fills pfd and returns true if there is
 * a socket to watch; cl_out_timeout() gives the milliseconds until the
 * next timer (reconnect, keepalive), or -1; cl_out_run() does whatever
 * I/O and timer work is due, given the socket's revents (0 on timeout).
 */
bool cl_out_pollfd(struct cl_out *o, struct pollfd *pfd);
int cl_out_timeout(struct cl_out *o, int64_t now_ms);
void cl_out_run(struct cl_out *o, short revents, int64_t now_ms);

/* Bytes queued and not yet confirmed by the MDF. */
uint64_t cl_out_pending(const struct cl_out *o);

/* Sends a keepalive now (so that the next ack confirms everything). */
void cl_out_barrier(struct cl_out *o, int64_t now_ms);

void cl_out_stats(const struct cl_out *o, struct cl_out_stats *st);

/* Monotonic milliseconds. */
int64_t cl_out_now_ms(void);

#endif /* POI_OUT_H */
