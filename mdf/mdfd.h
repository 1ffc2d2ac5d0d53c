/* SPDX-License-Identifier: ISC */
#ifndef MDFD_H
#define MDFD_H

/*
 * The daemon's own state, shared by main.c (options, setup, the loop,
 * delivery, metrics) and x2x3srv.c (the X2/X3 server: POIs from the
 * moment lib/front hands them over).  The mediation core is mdf.h.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "conn.h"
#include "front.h"
#include "frontrole.h"
#include "imsg.h"
#include "log.h"
#include "loop.h"
#include "mdf.h"
#include "metrics.h"
#include "signer.h"
#include "spool.h"
#include "stream.h"
#include "task.h"

#define MAX_DESTS      64
#define MAX_POIS       MDF_FRONT_POIS
#define IN_MAX         MDF_FRONT_CREDIT
#define ACKQ_MAX       1024
#define PAUSE_MS       100   /* retry after the spool was full */
#define LIMIT_MS       1000  /* retry after a POI's flow share was used up */
#define LIMIT_CLOSE_MS 5000  /* then close it, unacknowledged */
#define LOG_GAP_MS     10000 /* rate limit of repeated ALARM lines */

struct mdf_opts {
	char *listen;
	char *port_file;
	char *cert, *key, *ca, *lemf_ca, *crl, *lemf_crl;
	bool insecure;
	bool spool_recover; /* command line only */
	char *tasks;
	char *spool_dir;
	char *fsync;
	uint64_t fsync_ms, spool_capacity, spool_segment;
	unsigned alarms[4];
	size_t nalarms;
	char *operator_id, *ne_id, *country;
	char *ic_key;
	char *user; /* of the roles, when started as root */
	uint64_t ic_interval;
	uint64_t keepalive, ack_timeout, flush_timeout, max_flows;
	uint64_t max_flows_poi, dedup_window;
	char *metrics;
	struct cl_front_opts front;
	struct mdf_dest dests[MAX_DESTS];
	size_t ndests;
	int verbose;
	bool check;
};

/* A keep-alive from a POI waiting for the spool: acknowledged once the
 * records appended before it are committed. */
struct ackw {
	uint32_t seqno;
	uint64_t need; /* spool record that must be committed */
};

struct mdf;
struct mdf_loop;

/*
 * A POI as the MDF's own process sees it: a connection the front role
 * holds (frontrole.h), known by its id; in holds the valid PDUs the front
 * relayed and not handled yet, out the octets to send back.
 */
struct poi {
	uint32_t id;                 /* the front's connection id */
	char addr[64];               /* "ADDR:PORT" */
	char name[CL_CONN_NAME_MAX]; /* certificate CN (escaped), or
					"plain:<address>" */
	struct cl_buf in, out;
	struct ackw acks[ACKQ_MAX];
	size_t nacks;
	uint64_t last_appended; /* highest spool record this POI added */
	uint64_t paused_until;  /* spool full: stop reading until then */
	uint64_t pdus, dups;
	uint64_t consumed; /* stream octets handled before in.d[0] */
	bool limited;      /* stopped at its share of --max-flows */
	uint64_t limited_since;
};

struct mdf {
	struct mdf_opts *o;
	struct mdf_core *core;
	struct cl_spool *sp;
	struct cl_taskset *tasks;
	SSL_CTX *cli;            /* HI client context (LEMFs) */
	struct mdf_front *front; /* the front role: X2/X3 listener, TLS, POIs */
	struct mdf_front_stats fstats; /* its counters, as last sent */
	struct cl_metrics *metrics;
	struct mdf_signer *signer; /* holds the IntegrityCheck key */
	struct cl_log_rl slot_rl;
	struct poi *pois[MAX_POIS];
	struct mdf_stream *streams[MAX_DESTS];
	size_t nstreams;
	uint64_t malformed, unknown_logged, not_stored;
	uint64_t und_logged_ms, conflict_logged_ms;
	uint64_t und_seen, conflicts_seen; /* at the last such log line */
	uint64_t limit_logged_ms, limit_seen;
	unsigned alarm_level; /* index of the highest alarm crossed, +1 */
	unsigned flow_alarm;  /* the same for communications tracked */
	bool full_logged;
	struct mdf_loop *ml; /* while run() runs */
	bool sandboxed;      /* under its filter: it ends with _exit() */
};

/* Wall-clock time in ns (the records' time stamps). */
uint64_t mdf_real_ns(void);

/* Asks the loop for a tick after this round (main.c). */
void mdf_wake(struct mdf *m);

/* x2x3srv.c */

/* The LIID of task xid, or NULL (arg: the struct mdf). */
const char *mdf_liid_of(void *arg, const uint8_t xid[16]);

/* Closes POI slot i: logs why and has the front close its connection;
 * without why (at exit), forgets it only: the front writes what it was
 * sent before it closes the connection at the end of its socket. */
void mdf_poi_close(struct mdf *m, size_t i, const char *why);

/* Sends what the POI's output buffer holds to the front, to write. */
void mdf_poi_flush(struct mdf *m, struct poi *p);

/* Queues the keepalive acks whose records are committed. */
void mdf_poi_acks(struct poi *p, uint64_t committed);

/* Handles what a POI left when it was paused, once the pause is over. */
void mdf_poi_resume(struct mdf *m, size_t i, uint64_t now);

/*
 * The front role's socket is readable (what & CL_LOOP_READ) or writable:
 * reads and handles its messages, writes what is queued.  Returns 0, or
 * -1 when the front is gone or broke the protocol (logged).
 */
int mdf_front_io(struct mdf *m, unsigned what);

/* What made a spool call fail, for a log line. */
const char *mdf_spool_why(const struct mdf *m, int r);

#endif /* MDFD_H */
