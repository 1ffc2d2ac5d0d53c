/* SPDX-License-Identifier: ISC */
#ifndef MDF_FRONTROLE_H
#define MDF_FRONTROLE_H

/*
 * The MDF's front role: a process of its own (lib/privsep) that holds the
 * X2/X3 listening socket, the X2/X3 server's TLS context (its key), lib/front
 * (admission, handshakes) and the POIs' connections.  It frames and parses
 * what each POI sends strictly (cl_x2x3_decode) and closes a POI on a
 * malformed PDU itself, so that the MDF's own process never sees a byte
 * from the network that is not a valid PDU.
 *
 * It relays each POI's stream of valid PDUs to the MDF over their
 * socketpair, many PDUs in one message, tagged with a connection id.
 * Flow control is by credit: the front has at most MDF_FRONT_CREDIT octets
 * of a POI outstanding, and the MDF returns credit as it takes PDUs into
 * the spool; a POI the MDF pauses gets no credit, and the front stops
 * reading its socket.  The MDF answers with the octets to write to a POI
 * (keepalive acknowledgements) and with "close this POI".
 *
 * Messages (lib/imsg), front to MDF:
 *   READY  once, when it listens
 *   UP     struct mdf_front_up: a POI authenticated
 *   DATA   u32 id, then whole valid X2/X3 PDUs (at most MDF_FRONT_CHUNK)
 *   GONE   struct mdf_front_gone: the front closed a POI (and why)
 *   STATS  struct mdf_front_stats: lib/front's counters, for the metrics
 * MDF to front:
 *   CREDIT struct mdf_front_credit: octets of DATA taken
 *   WRITE  u32 id, then octets to write to that POI
 *   CLOSE  u32 id: close that POI (the MDF logged why)
 *   STOP   stop listening (the MDF is terminating)
 *   CRL    the CRL file's new contents (the front reads no file)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "front.h"

#define MDF_FRONT_CREDIT  (4u * 1024 * 1024) /* octets outstanding per POI */
#define MDF_FRONT_CHUNK   (512u * 1024)      /* most PDU octets in a DATA */
#define MDF_FRONT_CRL_MAX (8u * 1024 * 1024)
#define MDF_FRONT_WHY     256
#define MDF_FRONT_POIS    256 /* authenticated POIs at most */

enum {
	MDF_FRONT_READY = 1,
	MDF_FRONT_UP,
	MDF_FRONT_DATA,
	MDF_FRONT_GONE,
	MDF_FRONT_STATS,
	MDF_FRONT_CREDIT_MSG,
	MDF_FRONT_WRITE,
	MDF_FRONT_CLOSE,
	MDF_FRONT_STOP,
	MDF_FRONT_CRL,
};

struct mdf_front_up {
	uint32_t id;
	char name[CL_CONN_NAME_MAX]; /* CN, or "plain:<address>" */
	char addr[64];               /* "ADDR:PORT" */
};

struct mdf_front_gone {
	uint32_t id;
	uint32_t malformed; /* closed for a malformed PDU */
	char why[MDF_FRONT_WHY];
};

struct mdf_front_credit {
	uint32_t id;
	uint32_t n;
};

struct mdf_front_stats {
	uint64_t accepted, refused, timeouts, failures, no_slot, authenticated;
	uint64_t pending;
};

/* What the front is started with. */
struct mdf_front_cfg {
	int lfd;                    /* the listening socket (taken over) */
	struct cl_front_opts front; /* its ctx is made by the role */
	const char *cert, *key, *ca, *crl; /* NULL cert: plain TCP */
	const char *user;
};

struct mdf_front;
struct cl_imsgbuf;

/*
 * Starts the front role and waits until it listens; lfd is closed here.
 * Returns 0 and *out, or an error described in err (the role's own log
 * line says why it ended).
 */
int mdf_front_start(const struct mdf_front_cfg *cfg, struct mdf_front **out,
    char *err, size_t errlen);

/* The role's process, its socket (non-blocking) and message buffer. */
pid_t mdf_front_pid(const struct mdf_front *f);
int mdf_front_fd(const struct mdf_front *f);
struct cl_imsgbuf *mdf_front_ibuf(struct mdf_front *f);

/*
 * Queues a message with payload id (u32) and p[0..len).  Returns 0 or
 * an error.
 */
int mdf_front_send(
    struct mdf_front *f, uint16_t type, uint32_t id, const void *p, size_t len);

/* The CRL file: read and sent to the front when it changed (at most once
 * a second).  Logs a warning when it cannot be read. */
void mdf_front_crl_check(struct mdf_front *f, uint64_t now_ms);

/*
 * Kills the role if it still runs and waits for it (its end is logged);
 * then frees.  With kill false, closes its socket and waits for it to
 * end by itself (it writes what it was sent, then exits).  f may be NULL.
 */
void mdf_front_free(struct mdf_front *f, bool kill);

/*
 * The front's seccomp filter: its socket to the MDF (descriptor 3), its
 * listener (4: accept4), its POI connections (read, write, send, recv,
 * close, shutdown, socket options), the event loop (epoll_wait, epoll_ctl);
 * no open, no socket, no connect, no process.  Returns 0 or an error
 * described in err.
 */
int mdf_front_sandbox(char *err, size_t errlen);

#endif /* MDF_FRONTROLE_H */
