/* SPDX-License-Identifier: ISC */
#ifndef CL_CONN_H
#define CL_CONN_H

/*
 * One connection layer for clearli's internal links, TLS or plain TCP.
 *
 * struct cl_conn is an established connection: a non-blocking socket, the
 * TLS session over it (NULL for plain TCP), the peer's name and address.
 * Servers make one from an authenticated struct cl_front_conn; clients get
 * one from a struct cl_client below.  Reads go into a cl_buf, writes come
 * from the caller's bytes; each says whether it moved data, would block
 * (and then which poll events it waits for: TLS may need to write to read
 * and read to write), or found the connection ended, with the reason.
 *
 * Close policy, the same in every daemon.  A connection ends in one way
 * whatever the cause: the caller closes it (and a client reconnects).
 * Our protocols confirm delivery themselves (keepalive and PDU
 * acknowledgements), so the sender keeps, and sends again, whatever was
 * not confirmed; nothing acknowledged is lost by an abrupt end.  What is
 * reported:
 *   - CL_CONN_CLOSED, "closed by the MDF": the peer ended the stream, by
 *     TLS close_notify or, for plain TCP, by a FIN;
 *   - CL_CONN_CLOSED, "closed by the MDF without close_notify": the TCP
 *     stream of a TLS connection ended without close_notify (a peer that
 *     died, or a truncation: the caller treats it as the loss of the
 *     connection, and its protocol resends what was not confirmed);
 *   - CL_CONN_ERROR, with the system's or TLS's reason ("Connection reset
 *     by peer", "TLS read error: ...sslv3 alert certificate revoked").
 * ("the MDF" is the what given to the connection.)  A caller logs the
 * reason once, in its own words around it: "MDF 127.0.0.1:4000:
 * connection lost: closed by the MDF; 1234 bytes to resend".
 * cl_conn_close() sends close_notify when the session is still sound,
 * without waiting for it to be written, and closes the socket.
 *
 * Peer names: the common name of the peer's certificate, escaped
 * (cl_tls_peer_cn()), for TLS; "ADDR:PORT" (numeric) for plain TCP.
 */

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "front.h"
#include "util.h"

#define CL_CONN_NAME_MAX 256

struct cl_conn {
	int fd;   /* non-blocking; -1 when closed */
	SSL *ssl; /* NULL: plain TCP */
	struct cl_addr addr;
	char addrstr[64];            /* "ADDR:PORT", numeric */
	char peer[CL_CONN_NAME_MAX]; /* CN (TLS) or "ADDR:PORT" */
	char what[16];               /* the peer's role in reasons: "MDF" */
	char why[512];               /* the reason of the last end */
	short events;                /* what the last would-block waits for */
	bool broken;                 /* no close_notify on close */
	uint64_t nread;              /* octets read since it was made */
};

enum cl_conn_res {
	CL_CONN_DATA,   /* *n bytes moved */
	CL_CONN_AGAIN,  /* would block: poll for cl_conn_events() */
	CL_CONN_CLOSED, /* the peer ended the stream; cl_conn_why() says how */
	CL_CONN_ERROR,  /* cl_conn_why() says what failed */
};

/*
 * Takes over an authenticated connection from lib/front: fc->fd and
 * fc->ssl belong to c from then on (fc's are set to -1 and NULL).  what
 * names the peer's role in reasons ("POI").  The peer name is the
 * certificate's common name; a TLS certificate without one is refused
 * (returns CL_ERR_PERM and fc keeps its descriptor and session, for the
 * front to close).  Returns 0.
 */
int cl_conn_from_front(
    struct cl_conn *c, struct cl_front_conn *fc, const char *what);

/*
 * Reads once, at most max bytes, appended to b.  CL_CONN_DATA with *n > 0;
 * CL_CONN_AGAIN; CL_CONN_CLOSED or CL_CONN_ERROR (see above).  When b
 * cannot take max more bytes (its maximum), CL_CONN_ERROR "buffer full".
 */
enum cl_conn_res cl_conn_read(
    struct cl_conn *c, struct cl_buf *b, size_t max, size_t *n);

/*
 * Writes from p[0..len) (len > 0); CL_CONN_DATA with *n > 0 bytes written
 * (perhaps fewer than len), CL_CONN_AGAIN, or CL_CONN_ERROR.  A TLS write
 * that would block must be repeated with the same bytes (at least as
 * many), as OpenSSL requires.  Plain writes never raise SIGPIPE; TLS
 * writes (and close_notify) go through OpenSSL's socket BIO, so a caller
 * ignores SIGPIPE, as every daemon does.
 */
enum cl_conn_res cl_conn_write(
    struct cl_conn *c, const void *p, size_t len, size_t *n);

/* Writes b from its start while it can, consuming what was written. */
enum cl_conn_res cl_conn_flush(struct cl_conn *c, struct cl_buf *b);

/* Poll events the last CL_CONN_AGAIN waits for (POLLIN and/or POLLOUT). */
short cl_conn_events(const struct cl_conn *c);

/* True if TLS holds decrypted bytes that poll() on the socket won't show. */
bool cl_conn_pending(const struct cl_conn *c);

/* Why the connection ended ("" while it has not). */
const char *cl_conn_why(const struct cl_conn *c);

/* Sends close_notify if sound (without blocking), frees, closes; idempotent. */
void cl_conn_close(struct cl_conn *c);

/*
 * A reconnecting client: one target HOST:PORT, reached again after every
 * failure or loss, with exponential back-off and jitter.
 *
 * An attempt is a non-blocking connect and, with TLS, the handshake, both
 * within timeout_ms; the server's certificate must hold the role the
 * context was made for (struct cl_tls_cfg.peer) and name name.  A failed
 * attempt waits backoff_min_ms, doubled after each failure up to
 * backoff_max_ms, each wait drawn at random within +-25 %.  The back-off
 * starts again from its minimum when an up connection that has received
 * data from the peer is dropped: a connection the peer ends later is
 * retried promptly.  One dropped before the peer sent a byte (a client
 * certificate the server refuses after the TLS 1.3 handshake, a server
 * that closes at once) counts as a failed attempt: its retries back off.
 *
 * Log lines, one per change, never one per retry: the first failure
 * ("MDF 127.0.0.1:4000: Connection refused; retrying with back-off"), a
 * failure for another reason than the last one logged, and the success
 * ("MDF 127.0.0.1:4000: up after 7 attempts (TLSv1.3, ...; connect and
 * handshake in 3 ms)").  The loss of an up connection is the caller's to
 * log (it knows what will be sent again); it then calls
 * cl_client_drop().
 *
 * Times are monotonic milliseconds (cl_mono_ms(), or a test's clock),
 * given by the caller.
 */
struct cl_client_cfg {
	const char *label; /* the target in log lines: "MDF 127.0.0.1:4000" */
	const char *what;  /* the peer's role in reasons: "MDF" */
	const char *host, *port;
	SSL_CTX *ctx;        /* NULL: plain TCP */
	const char *name;    /* the name the server's certificate must carry;
				NULL: host */
	uint64_t timeout_ms; /* connect and handshake; default 10000 */
	uint64_t backoff_min_ms; /* default 100 */
	uint64_t backoff_max_ms; /* default 30000 */
};

enum cl_client_state {
	CL_CLIENT_DOWN,       /* waiting for the next attempt */
	CL_CLIENT_CONNECTING, /* TCP connect in progress */
	CL_CLIENT_HANDSHAKE,  /* TLS handshake in progress */
	CL_CLIENT_UP,         /* cl_client_conn() is the connection */
};

/* What cl_client_run() did. */
enum cl_client_event {
	CL_CLIENT_NONE,
	CL_CLIENT_FAILED, /* an attempt failed; the next is scheduled */
	CL_CLIENT_WENT_UP /* the connection is up now */
};

struct cl_client;

/* Copies cfg (and its strings).  Returns 0, or CL_ERR_INVALID_ARG/NOMEM. */
int cl_client_new(const struct cl_client_cfg *cfg, struct cl_client **out);
void cl_client_free(struct cl_client *c);

enum cl_client_state cl_client_state(const struct cl_client *c);

/* The connection while up, else NULL. */
struct cl_conn *cl_client_conn(struct cl_client *c);

/*
 * The socket to poll while connecting or handshaking (fd -1 and no events
 * otherwise: once up, the caller polls the connection itself).  Returns
 * true if there is one.
 */
bool cl_client_pollfd(const struct cl_client *c, struct pollfd *p);

/*
 * When the client wants to run again without events: the next attempt,
 * or the attempt's deadline; UINT64_MAX while up.
 */
uint64_t cl_client_next_ms(const struct cl_client *c);

/*
 * Advances the attempt with poll()'s revents (0 if not polled): starts
 * one when due, completes the connect and the handshake, fails it at its
 * deadline.  Does nothing while up.
 */
enum cl_client_event cl_client_run(
    struct cl_client *c, short revents, uint64_t now_ms);

/*
 * Closes the up connection (the caller has logged why) and schedules the
 * next attempt after the back-off.
 */
void cl_client_drop(struct cl_client *c, uint64_t now_ms);

/* Milliseconds of the back-off the next failure will wait (tests). */
uint64_t cl_client_backoff_ms(const struct cl_client *c);

/* Attempts since the last connection was up (or since the start). */
unsigned cl_client_attempts(const struct cl_client *c);

/* When the current connection came up (cl_client_run()'s now_ms). */
uint64_t cl_client_up_ms(const struct cl_client *c);

#endif /* CL_CONN_H */
