/* SPDX-License-Identifier: ISC */
#ifndef POI_PIPELINE_H
#define POI_PIPELINE_H

/*
 * The POI's per-packet work: decode the frame, learn subscriber sessions
 * from RADIUS / DHCP / DHCPv6, match the packet against the tasks (by
 * address, and by the identities of the session behind each address), and
 * emit X2 (signalling of a target's session) and X3 (the target's IP
 * packets) PDUs through the emit callback.
 *
 * Single-threaded: the caller feeds packets and calls cl_pipeline_tick()
 * about once a second with the wall clock, which is the POI's own clock
 * for task start and end times.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capfile.h"
#include "subscriber.h"
#include "task.h"
#include "x2x3.h"

/*
 * Receives each PDU to send.  Returns 0 if it was queued, or a CL_ERR_*
 * if it had to be dropped (the pipeline counts it).
 */
typedef int cl_emit_fn(void *arg, const struct cl_x2x3_pdu *pdu);

/* Link types counted one by one; more than this share one counter. */
#define CL_PIPELINE_MAX_LINKTYPES 16

struct cl_pipeline_stats {
	uint64_t packets, bytes;
	uint64_t nonip;             /* frames without IP (ARP...) */
	uint64_t malformed;         /* frames the decoder rejected, and packets
				       whose IP header is sound but the rest not */
	uint64_t malformed_matched; /* of those, intercepted */
	/* Frames of link types the decoder does not know, per type. */
	size_t n_undecoded;
	struct {
		uint32_t linktype;
		uint64_t packets;
	} undecoded[CL_PIPELINE_MAX_LINKTYPES];
	uint64_t undecoded_other; /* of further link types */
	uint64_t ts_omitted;      /* PDUs sent without the capture's timestamp,
				     which X2/X3 cannot carry */
	uint64_t truncated;  /* intercepted packets cut by the snap length */
	uint64_t matched;    /* packets intercepted (once per task) */
	uint64_t x2, x3;     /* PDUs emitted */
	uint64_t emit_drops; /* PDUs the output refused */
	uint64_t signalling; /* RADIUS/DHCP/DHCPv6 messages parsed */
	uint64_t signalling_bad;
	uint64_t inactive_hits; /* matched a task outside its time window */
	uint64_t frag_seen, frag_reassembled, frag_dropped;
};

struct cl_pipeline_cfg {
	const char *ipid; /* Interception Point ID, borrowed */
	size_t max_sessions;
	size_t max_frag_datagrams;
	cl_emit_fn *emit;
	void *emit_arg;
	/* Optional: told of every session change (tests, logging). */
	void (*on_session)(void *arg, const struct cl_binding *b,
	    const struct cl_subs_result *res);
	void *on_session_arg;
};

struct cl_pipeline;

int cl_pipeline_new(
    const struct cl_pipeline_cfg *cfg, struct cl_pipeline **out);
void cl_pipeline_free(struct cl_pipeline *pl);

/*
 * Replaces the task set (the pipeline takes ownership of ts and frees the
 * old one after carrying its sequence numbers over).
 */
void cl_pipeline_set_tasks(struct cl_pipeline *pl, struct cl_taskset *ts);
const struct cl_taskset *cl_pipeline_tasks(const struct cl_pipeline *pl);

/* Processes one captured frame. */
void cl_pipeline_packet(struct cl_pipeline *pl, const struct cl_cap_pkt *pkt);

/*
 * Sets the wall clock (seconds) used for task windows, logs task
 * activations and deactivations, and expires sessions.
 */
void cl_pipeline_tick(struct cl_pipeline *pl, int64_t wall_now);

void cl_pipeline_stats(
    const struct cl_pipeline *pl, struct cl_pipeline_stats *st);
struct cl_subs *cl_pipeline_subs(struct cl_pipeline *pl);

#endif /* POI_PIPELINE_H */
