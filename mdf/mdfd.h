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
#include "log.h"
#include "loop.h"
#include "mdf.h"
#include "metrics.h"
#include "signer.h"
#include "spool.h"
#include "stream.h"
#include "task.h"

#define MAX_DESTS      64
#define MAX_POIS       256
#define IN_MAX         (4u * 1024 * 1024)
#define READ_CHUNK     (256u * 1024)
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

struct poi {
	struct cl_conn c;            /* c.addrstr: "ADDR:PORT" */
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
	struct mdf *m;
	struct cl_loop_io *io; /* watcher; freed before fd is closed */
};

struct mdf {
	struct mdf_opts *o;
	struct mdf_core *core;
	struct cl_spool *sp;
	struct cl_taskset *tasks;
	SSL_CTX *srv, *cli;
	struct cl_front *front; /* X2/X3 listener, until POIs authenticate */
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
};

/* Wall-clock time in ns (the records' time stamps). */
uint64_t mdf_real_ns(void);

/* Asks the loop for a tick after this round (main.c). */
void mdf_wake(struct mdf *m);

/* x2x3srv.c */

/* The LIID of task xid, or NULL (arg: the struct mdf). */
const char *mdf_liid_of(void *arg, const uint8_t xid[16]);

/* lib/front's up(): an authenticated POI gets a slot of its own. */
int mdf_poi_up(void *arg, struct cl_front_conn *c);

/* Closes POI slot i, logging why unless why is NULL. */
void mdf_poi_close(struct mdf *m, size_t i, const char *why);

/* Writes what the POI's output buffer holds; -1 on a write error. */
int mdf_poi_flush(struct poi *p);

/* Queues the keepalive acks whose records are committed. */
void mdf_poi_acks(struct poi *p, uint64_t committed);

/* The loop's callback for a POI's socket (arg: the struct poi). */
void mdf_poi_io(void *arg, int fd, unsigned what);

/* What made a spool call fail, for a log line. */
const char *mdf_spool_why(const struct mdf *m, int r);

#endif /* MDFD_H */
