/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "proto/dhcp.h"
#include "proto/dhcp6.h"
#include "err.h"
#include "log.h"
#include "pipeline.h"
#include "proto/radius.h"
#include "reasm.h"
#include "subscriber.h"

/* Most tasks one packet can be delivered to; more are counted, not sent. */
#define MAX_PKT_TASKS   16
#define FRAG_TIMEOUT_NS (30ULL * 1000000000ULL)

/* The tasks a packet goes to, with what matched each. */
struct hitset {
	size_t n;
	struct {
		struct cl_task *task;
		const struct cl_target *target;
		bool src, dst; /* which side of the packet matched */
		const struct cl_session *sess;
	} h[MAX_PKT_TASKS];
	size_t overflow;
};

/*
 * Per-packet scratch lives here, not on the stack: the build zeroes every
 * local variable (-ftrivial-auto-var-init=zero), and clearing a hit set, a
 * PDU and two decoded packets for every packet was a measured share of the
 * per-packet cost (bench/README.md).
 */
struct cl_pipeline {
	struct cl_pipeline_cfg cfg;
	struct cl_taskset *ts;
	uint64_t ts_gen;
	struct cl_subs *subs;
	struct cl_reasm *reasm;
	int64_t now; /* wall clock, seconds */
	int64_t pkt_ns;
	struct cl_pipeline_stats st;
	size_t ipidlen;
	struct cl_pkt pkt, inner;
	struct hitset hs;
	struct cl_x2x3_pdu pdu;
	bool warned_ts;
	bool warned_lt_other;
};

int
cl_pipeline_new(const struct cl_pipeline_cfg *cfg, struct cl_pipeline **out)
{
	struct cl_pipeline *pl;
	int r = CL_ERR_NOMEM;

	*out = NULL;
	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return CL_ERR_NOMEM;
	pl->cfg = *cfg;
	pl->ipidlen = cfg->ipid != NULL ? strlen(cfg->ipid) : 0;
	if ((pl->subs = cl_subs_new(cfg->max_sessions)) == NULL)
		goto fail;
	if ((pl->reasm = cl_reasm_new(
		 cfg->max_frag_datagrams, FRAG_TIMEOUT_NS)) == NULL)
		goto fail;
	if ((r = cl_taskset_empty(&pl->ts)) != 0)
		goto fail;
	pl->ts_gen = 1;
	*out = pl;
	return 0;
fail:
	cl_pipeline_free(pl);
	return r;
}

void
cl_pipeline_free(struct cl_pipeline *pl)
{
	if (pl == NULL)
		return;
	cl_taskset_free(pl->ts);
	cl_subs_free(pl->subs);
	cl_reasm_free(pl->reasm);
	free(pl);
}

void
cl_pipeline_set_tasks(struct cl_pipeline *pl, struct cl_taskset *ts)
{
	cl_taskset_inherit(ts, pl->ts);
	cl_taskset_free(pl->ts);
	pl->ts = ts;
	/* Sessions re-check their identities against the new tasks. */
	pl->ts_gen++;
}

const struct cl_taskset *
cl_pipeline_tasks(const struct cl_pipeline *pl)
{
	return pl->ts;
}

struct cl_subs *
cl_pipeline_subs(struct cl_pipeline *pl)
{
	return pl->subs;
}

void
cl_pipeline_stats(const struct cl_pipeline *pl, struct cl_pipeline_stats *st)
{
	struct cl_reasm_stats rs;

	*st = pl->st;
	cl_reasm_stats(pl->reasm, &rs);
	st->frag_seen = rs.fragments;
	st->frag_reassembled = rs.completed;
	st->frag_dropped = rs.timed_out + rs.overlaps + rs.evicted;
}

static void
hit_add(struct hitset *hs, struct cl_task *task, const struct cl_target *tgt,
    bool is_src, const struct cl_session *sess)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		if (hs->h[i].task == task) {
			hs->h[i].src |= is_src;
			hs->h[i].dst |= !is_src;
			return;
		}
	}
	if (hs->n == MAX_PKT_TASKS) {
		hs->overflow++;
		return;
	}
	hs->h[hs->n].task = task;
	hs->h[hs->n].target = tgt;
	hs->h[hs->n].src = is_src;
	hs->h[hs->n].dst = !is_src;
	hs->h[hs->n].sess = sess;
	hs->n++;
}

static void
hits_from_list(struct hitset *hs, const struct cl_matchlist *ml, bool is_src,
    const struct cl_session *sess)
{
	size_t i;

	for (i = 0; i < ml->n; i++)
		hit_add(hs, ml->hits[i].task, ml->hits[i].target, is_src, sess);
}

/* Adds the tasks that target any identity of the session. */
static bool
hits_from_session(struct cl_pipeline *pl, struct hitset *hs,
    struct cl_session *se, bool is_src)
{
	const struct cl_matchlist *ml;
	enum cl_id_type t;
	const uint8_t *id;
	size_t pos = 0, len;
	bool any = false;

	if (se->match_gen == pl->ts_gen && !se->match_any)
		return false;
	while (cl_session_next_id(se, &pos, &t, &id, &len)) {
		if (t != CL_ID_USER && t != CL_ID_MAC && t != CL_ID_DUID)
			continue;
		ml = cl_taskset_lookup_id(
		    pl->ts, (enum cl_target_type)t, id, len);
		if (ml == NULL)
			continue;
		any = true;
		if (hs != NULL)
			hits_from_list(hs, ml, is_src, se);
	}
	se->match_gen = pl->ts_gen;
	se->match_any = any;
	return any;
}

static void
fill_l3(struct cl_x2x3_pdu *pdu, const struct cl_pkt *p)
{
	pdu->src = p->src;
	pdu->dst = p->dst;
	pdu->has_ipproto = true;
	pdu->ipproto = p->proto;
	if (p->has_ports) {
		pdu->has_sport = pdu->has_dport = true;
		pdu->sport = p->sport;
		pdu->dport = p->dport;
	}
}

static void
fill_common(struct cl_pipeline *pl, struct cl_x2x3_pdu *pdu,
    struct cl_task *task, const struct cl_target *tgt,
    const struct cl_cap_pkt *cp)
{
	memcpy(pdu->xid, task->xid, CL_UUID_LEN);
	pdu->has_seqno = true;
	pdu->seqno = task->seqno;
	/* The X2/X3 timestamp is 32-bit seconds: a capture time outside it
	 * (or none) is left out, and the MDF stamps the time of mediation
	 * instead, saying so, rather than a wrapped-around time. */
	if ((cp->flags & CL_CAP_F_TS_INVALID) == 0 && cp->ts_sec >= 0 &&
	    cp->ts_sec <= (int64_t)UINT32_MAX) {
		pdu->has_ts = true;
		pdu->ts_sec = (uint32_t)cp->ts_sec;
		pdu->ts_nsec = cp->ts_nsec;
	} else {
		pl->st.ts_omitted++;
		if (!pl->warned_ts) {
			pl->warned_ts = true;
			cl_warn("a packet's capture time (%lld s) does not fit "
				"the X2/X3 timestamp (32-bit seconds): its "
				"PDUs go without one and the MDF stamps them "
				"with the time of mediation (warned once; "
				"counted as ts_omitted)",
			    (long long)cp->ts_sec);
		}
	}
	pdu->mti.p = (const uint8_t *)tgt->text;
	pdu->mti.len = tgt->textlen;
	pdu->ipid.p = (const uint8_t *)pl->cfg.ipid;
	pdu->ipid.len = pl->ipidlen;
	if (task->has_dest) {
		pdu->has_did = true;
		memcpy(pdu->did, task->dest, CL_UUID_LEN);
	}
}

static void
set_cid(struct cl_x2x3_pdu *pdu, uint64_t cid)
{
	int i;

	for (i = 7; i >= 0; i--) {
		pdu->cid[i] = (uint8_t)cid;
		cid >>= 8;
	}
}

static void
emit(
    struct cl_pipeline *pl, struct cl_task *task, const struct cl_x2x3_pdu *pdu)
{
	int r;

	/* The sequence number advances for a dropped PDU too: the gap it
	 * leaves is how the MDF, the LEMF and an auditor see the loss. */
	task->seqno++;
	if ((r = pl->cfg.emit(pl->cfg.emit_arg, pdu)) != 0) {
		pl->st.emit_drops++;
		return;
	}
	task->pdus++;
	task->bytes += pdu->payload.len;
	if (pdu->type == CL_X2X3_X2)
		pl->st.x2++;
	else
		pl->st.x3++;
}

#define MAX_LISTS 8

static void
intercept(
    struct cl_pipeline *pl, const struct cl_pkt *p, const struct cl_cap_pkt *cp)
{
	const struct cl_matchlist *ms[MAX_LISTS], *md[MAX_LISTS];
	struct cl_session *ss, *sd;
	struct hitset *hs = &pl->hs;
	struct cl_x2x3_pdu *pdu = &pl->pdu;
	bool ids;
	size_t ns, nd, i;

	/* The common case, no target on either side, decides here. */
	ns = cl_taskset_lookup_addr(pl->ts, &p->src, 128, ms, MAX_LISTS);
	nd = cl_taskset_lookup_addr(pl->ts, &p->dst, 128, md, MAX_LISTS);
	/* The session gives the correlation ID even for address targets;
	 * the lookup returns at once while no session exists. */
	ss = cl_subs_lookup(pl->subs, &p->src, pl->pkt_ns);
	sd = cl_subs_lookup(pl->subs, &p->dst, pl->pkt_ns);
	if (ns == 0 && nd == 0 && ss == NULL && sd == NULL)
		return;
	ids = cl_taskset_has_identities(pl->ts);
	hs->n = 0;
	hs->overflow = 0;
	for (i = 0; i < ns; i++)
		hits_from_list(hs, ms[i], true, ss);
	if (ss != NULL && ids)
		(void)hits_from_session(pl, hs, ss, true);
	for (i = 0; i < nd; i++)
		hits_from_list(hs, md[i], false, sd);
	if (sd != NULL && ids)
		(void)hits_from_session(pl, hs, sd, false);
	for (i = 0; i < hs->n; i++) {
		struct cl_task *task = hs->h[i].task;

		if (!cl_task_active(task, pl->now)) {
			pl->st.inactive_hits++;
			continue;
		}
		if (!(task->deliver & CL_DELIVER_CC))
			continue;
		memset(pdu, 0, sizeof(*pdu));
		pdu->type = CL_X2X3_X3;
		pdu->pformat =
		    p->ipver == 4 ? CL_X2X3_PF_IPV4 : CL_X2X3_PF_IPV6;
		pdu->pdir = hs->h[i].src && hs->h[i].dst ? CL_X2X3_DIR_MULTIPLE
		    : hs->h[i].src ? CL_X2X3_DIR_FROM_TARGET
				   : CL_X2X3_DIR_TO_TARGET;
		fill_common(pl, pdu, task, hs->h[i].target, cp);
		if (hs->h[i].sess != NULL)
			set_cid(pdu, hs->h[i].sess->cid);
		fill_l3(pdu, p);
		pdu->payload.p = p->ip;
		pdu->payload.len = p->ip_len;
		if (p->truncated)
			pl->st.truncated++;
		pl->st.matched++;
		emit(pl, task, pdu);
	}
}

/* X2: the signalling message of a target's session. */
static void
report_session(struct cl_pipeline *pl, const struct cl_pkt *p,
    const struct cl_cap_pkt *cp, const struct cl_binding *b,
    struct cl_session *se, uint16_t pformat, uint16_t pdir)
{
	const struct cl_matchlist *ml[8];
	struct cl_x2x3_pdu pdu;
	struct hitset hs;
	size_t i, j, n;

	hs.n = 0;
	hs.overflow = 0;
	(void)hits_from_session(pl, &hs, se, true);
	for (i = 0; i < b->naddrs; i++) {
		n = cl_taskset_lookup_addr(
		    pl->ts, &b->addrs[i].addr, b->addrs[i].plen, ml, 8);
		for (j = 0; j < n; j++)
			hits_from_list(&hs, ml[j], true, se);
	}
	for (i = 0; i < hs.n; i++) {
		struct cl_task *task = hs.h[i].task;

		if (!cl_task_active(task, pl->now)) {
			pl->st.inactive_hits++;
			continue;
		}
		if (!(task->deliver & CL_DELIVER_IRI))
			continue;
		memset(&pdu, 0, sizeof(pdu));
		pdu.type = CL_X2X3_X2;
		pdu.pformat = pformat;
		pdu.pdir = pdir;
		fill_common(pl, &pdu, task, hs.h[i].target, cp);
		set_cid(&pdu, se->cid);
		fill_l3(&pdu, p);
		pdu.payload.p = p->l4data;
		pdu.payload.len = p->l4data_len;
		emit(pl, task, &pdu);
	}
}

static void
apply_binding(struct cl_pipeline *pl, const struct cl_pkt *p,
    const struct cl_cap_pkt *cp, const struct cl_binding *b, uint16_t pformat,
    uint16_t pdir)
{
	struct cl_subs_result res;
	int r;

	if (b->op == CL_BIND_NONE)
		return;
	if ((r = cl_subs_apply(pl->subs, b, pl->pkt_ns, &res)) != 0) {
		if (r != CL_ERR_FULL)
			cl_warn("subscriber table: %s", cl_err_str(r));
		return;
	}
	if (pl->cfg.on_session != NULL)
		pl->cfg.on_session(pl->cfg.on_session_arg, b, &res);
	if (res.op == CL_BIND_NONE || res.sess == NULL)
		return;
	report_session(pl, p, cp, b, res.sess, pformat, pdir);
}

static void
signalling(
    struct cl_pipeline *pl, const struct cl_pkt *p, const struct cl_cap_pkt *cp)
{
	if (p->proto != 17 || !p->has_ports || p->truncated || p->malformed)
		return;
	/* Locals only inside the branches: most packets take none. */
	if (cl_radius_port(p->sport, p->dport)) {
		struct cl_binding b;
		struct cl_radius m;

		pl->st.signalling++;
		if (cl_radius_parse(p->l4data, p->l4data_len, &m) != 0) {
			pl->st.signalling_bad++;
			return;
		}
		cl_radius_binding(&m, &b);
		apply_binding(pl, p, cp, &b, CL_X2X3_PF_RADIUS, CL_X2X3_DIR_NA);
	} else if (cl_dhcp_port(p->sport, p->dport)) {
		struct cl_binding b;
		struct cl_dhcp m;

		pl->st.signalling++;
		if (cl_dhcp_parse(p->l4data, p->l4data_len, &m) != 0) {
			pl->st.signalling_bad++;
			return;
		}
		cl_dhcp_binding(&m, &b);
		apply_binding(pl, p, cp, &b, CL_X2X3_PF_DHCP,
		    p->dport == CL_DHCP_SERVER_PORT ? CL_X2X3_DIR_FROM_TARGET
						    : CL_X2X3_DIR_TO_TARGET);
	} else if (cl_dhcp6_port(p->sport, p->dport)) {
		struct cl_binding b;
		struct cl_dhcp6 m;

		pl->st.signalling++;
		if (cl_dhcp6_parse(p->l4data, p->l4data_len, &m) != 0 ||
		    !cl_dhcp6_direction_ok(p->sport, p->dport, m.msgtype)) {
			pl->st.signalling_bad++;
			return;
		}
		cl_dhcp6_binding(&m, &b);
		apply_binding(pl, p, cp, &b, CL_X2X3_PF_DHCP,
		    p->dport == CL_DHCP6_SERVER_PORT ? CL_X2X3_DIR_FROM_TARGET
						     : CL_X2X3_DIR_TO_TARGET);
	}
}

/*
 * A frame of a link type the decoder does not know: counted per type, and
 * each type named once in the log, so that nothing passes as "non-IP"
 * that was never looked at.
 */
static void
count_undecoded(struct cl_pipeline *pl, uint32_t linktype)
{
	struct cl_pipeline_stats *st = &pl->st;
	size_t i;

	for (i = 0; i < st->n_undecoded; i++) {
		if (st->undecoded[i].linktype == linktype) {
			st->undecoded[i].packets++;
			return;
		}
	}
	if (st->n_undecoded == CL_PIPELINE_MAX_LINKTYPES) {
		st->undecoded_other++;
		if (!pl->warned_lt_other) {
			pl->warned_lt_other = true;
			cl_warn("more than %d link types not decoded; link "
				"type %u (%s) and further ones are counted "
				"together",
			    CL_PIPELINE_MAX_LINKTYPES, linktype,
			    cl_linktype_name(linktype));
		}
		return;
	}
	st->undecoded[i].linktype = linktype;
	st->undecoded[i].packets = 1;
	st->n_undecoded++;
	cl_warn("link type %u (%s) is not decoded: its packets are counted, "
		"not intercepted",
	    linktype, cl_linktype_name(linktype));
}

void
cl_pipeline_packet(struct cl_pipeline *pl, const struct cl_cap_pkt *cp)
{
	struct cl_pkt *p = &pl->pkt, *q = &pl->inner;
	const uint8_t *dg;
	size_t dglen;
	int r;

	pl->st.packets++;
	pl->st.bytes += cp->caplen;
	/* Capture files may carry any timestamp (negative, far future):
	 * clamp rather than overflow. */
	if (cp->ts_sec < 0)
		pl->pkt_ns = 0;
	else if (cp->ts_sec > INT64_MAX / 1000000000LL - 1)
		pl->pkt_ns = INT64_MAX - 1000000000LL;
	else
		pl->pkt_ns = cp->ts_sec * 1000000000LL + cp->ts_nsec;
	r = cl_decode_frame(cp->linktype, cp->data, cp->caplen, p);
	if (r == CL_ERR_UNSUPPORTED) {
		if (cl_decode_linktype_known(cp->linktype))
			pl->st.nonip++;
		else
			count_undecoded(pl, cp->linktype);
		return;
	}
	if (r != 0) {
		pl->st.malformed++;
		return;
	}
	if (p->malformed) {
		/* Its addresses are sound and may be a target's: deliver it
		 * as captured, look no further into it. */
		uint64_t before = pl->st.matched;

		pl->st.malformed++;
		intercept(pl, p, cp);
		if (pl->st.matched != before)
			pl->st.malformed_matched++;
		return;
	}
	/* Every packet, fragment or not, is matched on its own addresses:
	 * all fragments of a target's datagram are intercepted as they
	 * come, including those that carry no ports. */
	intercept(pl, p, cp);
	if (!p->is_frag) {
		signalling(pl, p, cp);
		return;
	}
	/* A fragmented UDP datagram may hide signalling or a GTP-U tunnel:
	 * reassemble it only to look inside. */
	if (p->proto != 17 || p->gtpu)
		return;
	if (cl_reasm_add(pl->reasm, p, (uint64_t)pl->pkt_ns, &dg, &dglen) != 1)
		return;
	if (cl_decode_ip(dg, dglen, q) != 0)
		return;
	if (q->gtpu) {
		/* The tunnelled packet: match and copy it like any other. */
		intercept(pl, q, cp);
		signalling(pl, q, cp);
	} else
		signalling(pl, q, cp);
}

void
cl_pipeline_tick(struct cl_pipeline *pl, int64_t wall_now)
{
	char u[CL_UUID_STRLEN + 1], ts1[21], ts2[21];
	size_t i, n = cl_taskset_count(pl->ts), on = 0, off = 0;

	pl->now = wall_now;
	for (i = 0; i < n; i++) {
		struct cl_task *t = cl_taskset_task(pl->ts, i);
		bool act = cl_task_active(t, wall_now);

		if (act == t->was_active)
			continue;
		t->was_active = act;
		act ? on++ : off++;
		/* One line per task, but not 100 000 lines at start-up. */
		if (on + off > 100)
			continue;
		cl_format_uuid(t->xid, u);
		cl_format_time(t->start, ts1);
		cl_format_time(t->end, ts2);
		cl_info("task %s liid %s %s (window %s to %s)", u, t->liid,
		    act ? "activated" : "deactivated", ts1, ts2);
	}
	if (on + off > 100)
		cl_info("%zu tasks activated, %zu deactivated (first 100 "
			"logged)",
		    on, off);
	cl_subs_expire(pl->subs, pl->pkt_ns, 4096, NULL, NULL);
	cl_reasm_expire(pl->reasm, (uint64_t)pl->pkt_ns);
}
