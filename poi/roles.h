/* SPDX-License-Identifier: ISC */
#ifndef POI_ROLES_H
#define POI_ROLES_H

/*
 * The POI's roles (clearli-poi(8), PRIVILEGE SEPARATION):
 *
 *   parent  options, the task file, the metrics endpoint, the roles;
 *   capture the interface or the capture file; writes packets into the
 *           packet ring;
 *   match   the parser: decodes packets, tracks sessions, matches tasks
 *           and writes encoded X2/X3 PDUs into the PDU ring; no file,
 *           no network, no key;
 *   output  the X2/X3 TLS key, the one connection to the MDF and the
 *           spool file; reads the PDU ring.
 *
 * The rings (ring.h) carry the data; the socketpairs (imsg.h) carry the
 * task file, statistics and the end.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "imsg.h"
#include "out.h"
#include "pipeline.h"
#include "ring.h"
#include "subscriber.h"
#include "x2x3.h"

#define POI_RING_PKT_SIZE (512u * 1024)
#define POI_RING_PDU_SIZE (1024u * 1024)

/* Largest --crl file the parent hands to the output role. */
#define POI_CRL_MAX (4u * 1024 * 1024)

/* Ring record types. */
#define POI_REC_PKT 1 /* struct poi_rec_pkt, then the packet's octets */
#define POI_REC_PDU 1 /* one X2/X3 PDU, encoded */
#define POI_REC_END 2 /* nothing follows: finish */

struct poi_rec_pkt {
	int64_t ts_sec;
	uint32_t ts_nsec, caplen, wirelen, linktype, ifindex, flags;
};

/*
 * A PDU in the PDU ring: encoded by the match role (cl_x2x3_encode()),
 * checked by the output role with the strict decoder on its own copy
 * and queued as it is (cl_out_emit_encoded()).
 */
#define POI_PDUREC_MAX (256 + 3 * CL_X2X3_MAX_STRATTR + CL_X2X3_MAX_PAYLOAD)

/* imsg types. */
enum {
	POI_IMSG_TASKS = 1, /* parent -> match: a memfd of the task file */
	POI_IMSG_STATS_REQ, /* parent -> role: send statistics */
	POI_IMSG_READY,     /* role -> parent: set up */
	POI_IMSG_MATCH_STATS,
	POI_IMSG_TASK_STATS, /* match -> parent at the end: per task */
	POI_IMSG_MATCH_DONE, /* match -> parent: the end record passed on */
	POI_IMSG_OUT_STATS,
	POI_IMSG_OUT_DONE, /* output -> parent: everything confirmed, or not */
	POI_IMSG_STOP,     /* parent -> capture: SIGTERM, no more packets */
	POI_IMSG_CAPTURE_STATS,
	POI_IMSG_CAPTURE_DONE, /* capture -> parent: the end record is in */
	POI_IMSG_TASKS_OK,     /* match -> parent: u64 tasks now in force */
	POI_IMSG_TASKS_BAD,    /* match -> parent: why the file was refused */
	POI_IMSG_CRL, /* parent -> output: the --crl file, changed on disk */
};

struct poi_capture_stats {
	uint64_t drops;           /* live packets the full ring refused */
	uint64_t ts_normalised;   /* records with a repaired timestamp */
	uint64_t ts_invalid;      /* records without a usable one */
	uint64_t read_incomplete; /* 1: the file was not read to its end */
};

struct poi_match_stats {
	struct cl_pipeline_stats ps;
	struct cl_subs_stats ss;
	uint64_t sessions, tasks;
};

struct poi_task_stat {
	uint8_t xid[16];
	char liid[32];
	uint64_t pdus, bytes;
};

struct poi_out_done {
	struct cl_out_stats os;
	uint64_t pending; /* bytes the MDF did not confirm (lost) */
};

/* What the output role needs (read before the fork). */
struct poi_output_cfg {
	struct cl_out_cfg ocfg;
	const char *cert, *key, *ca, *crl;
	bool insecure;
	uint64_t flush_timeout; /* seconds */
	int rfds[CL_RING_FDS];  /* the PDU ring */
};

struct poi_capture_cfg {
	const char *read_file, *interface;
	bool pace;
	int pkt_fds[CL_RING_FDS];
};

struct poi_match_cfg {
	struct cl_pipeline_cfg pcfg;
	int pkt_fds[CL_RING_FDS], pdu_fds[CL_RING_FDS];
};

int poi_output_start(struct poi_output_cfg *cfg, const char *user, pid_t *pid,
    int *sock, char *err, size_t errlen);
int poi_capture_start(struct poi_capture_cfg *cfg, const char *user, pid_t *pid,
    int *sock, char *err, size_t errlen);
int poi_match_start(struct poi_match_cfg *cfg, const char *user, pid_t *pid,
    int *sock, char *err, size_t errlen);

/* imsg tables: what the parent accepts from each role. */
extern const struct cl_imsg_type poi_from_match[];
extern const size_t poi_from_match_n;
extern const struct cl_imsg_type poi_from_output[];
extern const size_t poi_from_output_n;
extern const struct cl_imsg_type poi_from_capture[];
extern const size_t poi_from_capture_n;

/* The seccomp filters of the roles (sandbox.c). */
int poi_sandbox_capture(char *err, size_t errlen);
int poi_sandbox_match(char *err, size_t errlen);
int poi_sandbox_output(char *err, size_t errlen);
int poi_sandbox_parent(char *err, size_t errlen);

/* Descriptors of the roles (cl_privsep_start() puts them there). */
#define POI_MATCH_PKT_FD   4 /* memory 4, data 5, space 6 */
#define POI_MATCH_PDU_FD   7 /* memory 7, data 8, space 9 */
#define POI_OUTPUT_PDU_FD  4 /* memory 4, data 5, space 6 */
#define POI_CAPTURE_PKT_FD 4 /* memory 4, data 5, space 6 */

#endif /* POI_ROLES_H */
