/* SPDX-License-Identifier: ISC */
/*
 * The MDF's X2/X3 server: a POI from the moment the front role
 * (frontrole.h) has it authenticated.  Takes the valid X2/X3 PDUs the
 * front relays, hands each to the mediation core, and acknowledges a
 * POI's keepalive once every record it sent before it is committed to
 * the spool.  Pauses a POI while the spool is full or its share of
 * communications is used up: it then gets no credit, and the front stops
 * reading from it.  The front closes a POI that sends a malformed PDU.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "err.h"
#include "log.h"
#include "mdfd.h"
#include "tls.h"
#include "util.h"
#include "x2x3.h"

const char *
mdf_liid_of(void *arg, const uint8_t xid[16])
{
	struct mdf *m = arg;
	struct cl_task *t = cl_taskset_find(m->tasks, xid);

	return t == NULL ? NULL : t->liid;
}

static void
poi_free(struct poi *p)
{
	if (p == NULL)
		return;
	cl_buf_release(&p->in);
	cl_buf_release(&p->out);
	free(p);
}

/* Forgets POI slot i; tell: the front must close its connection. */
static void
poi_drop(struct mdf *m, size_t i, const char *why, bool tell)
{
	struct poi *p = m->pois[i];

	if (why != NULL)
		cl_info("POI %s (%s): connection closed: %s (%llu PDUs, %llu "
			"repeats dropped)",
		    p->name[0] ? p->name : "?", p->addr, why,
		    (unsigned long long)p->pdus, (unsigned long long)p->dups);
	if (tell && m->front != NULL &&
	    mdf_front_send(m->front, MDF_FRONT_CLOSE, p->id, NULL, 0) != 0)
		cl_fatal("out of memory");
	poi_free(p);
	m->pois[i] = NULL;
}

void
mdf_poi_close(struct mdf *m, size_t i, const char *why)
{
	poi_drop(m, i, why, why != NULL);
}

/* The front has a POI authenticated: it gets a slot of its own. */
static int
poi_up(struct mdf *m, const struct mdf_front_up *up)
{
	struct poi *p;
	size_t i;

	for (i = 0; i < MAX_POIS && m->pois[i] != NULL; i++)
		;
	if (i == MAX_POIS || (p = calloc(1, sizeof(*p))) == NULL) {
		/* The front holds as many: not reached. */
		cl_log_rl(&m->slot_rl, cl_mono_ms(), CL_LOG_ERR,
		    "POI %.*s refused: %d POIs connected already",
		    (int)strnlen(up->name, sizeof(up->name)), up->name,
		    MAX_POIS);
		return mdf_front_send(
		    m->front, MDF_FRONT_CLOSE, up->id, NULL, 0);
	}
	p->id = up->id;
	memcpy(p->addr, up->addr, sizeof(p->addr));
	p->addr[sizeof(p->addr) - 1] = '\0';
	memcpy(p->name, up->name, sizeof(p->name));
	p->name[sizeof(p->name) - 1] = '\0';
	/* The front sends at most its credit: in never overflows. */
	cl_buf_init(&p->in, IN_MAX);
	cl_buf_init(&p->out, 1024 * 1024);
	m->pois[i] = p;
	return 0;
}

void
mdf_poi_flush(struct mdf *m, struct poi *p)
{
	if (p->out.len == 0 || m->front == NULL)
		return;
	if (mdf_front_send(
		m->front, MDF_FRONT_WRITE, p->id, p->out.d, p->out.len) != 0)
		cl_fatal("out of memory");
	cl_buf_reset(&p->out);
}

/* What made a spool call fail: the call, the path and the errno text
 * for a system error, else the error's name. */
const char *
mdf_spool_why(const struct mdf *m, int r)
{
	const char *e = cl_spool_error(m->sp);

	return r == CL_ERR_SYSTEM && e[0] != '\0' ? e : cl_err_str(r);
}

/*
 * A PDU of p would open a communication past a limit.  The POI is paused
 * (not read, nothing from that PDU on acknowledged) and retried every
 * LIMIT_MS; after LIMIT_CLOSE_MS the connection is closed, still without
 * acknowledging, so that a POI that gave up on it (its acknowledgement
 * timeout) does not hold a connection slot: it reconnects and resends.
 * Returns 2 (pause) or -1 (close).  The ALARM is logged at most once per
 * LOG_GAP_MS, with the number of refusals since the last line.
 */
static int
limit_refused(struct mdf *m, struct poi *p, uint64_t now)
{
	const struct mdf_stats *st = mdf_core_stats(m->core);

	if (!p->limited) {
		p->limited = true;
		p->limited_since = now;
	}
	if (m->limit_logged_ms == 0 || now >= m->limit_logged_ms + LOG_GAP_MS) {
		cl_err("ALARM POI %s (%s): a new communication would pass its "
		       "share of --max-flows (%llu per POI, %llu in all): not "
		       "reading from this POI nor acknowledging its PDUs; "
		       "they stay on the POI. Raise --max-flows-per-poi / "
		       "--max-flows and restart (%llu refusals since the last "
		       "line)",
		    p->name, p->addr, (unsigned long long)st->max_flows_poi,
		    (unsigned long long)st->max_flows,
		    (unsigned long long)(st->refused - m->limit_seen));
		m->limit_logged_ms = now;
		m->limit_seen = st->refused;
	}
	return now >= p->limited_since + LIMIT_CLOSE_MS ? -1 : 2;
}

/* ALARM, at most once per LOG_GAP_MS: X3 that has no HI form. */
static void
log_undeliverable(
    struct mdf *m, struct poi *p, const struct cl_x2x3_pdu *pdu, uint64_t now)
{
	const struct mdf_stats *st = mdf_core_stats(m->core);
	uint64_t n = 0;
	int i;

	for (i = 0; i < MDF_UND_N; i++)
		n += st->undeliverable[i];
	if (m->und_logged_ms != 0 && now < m->und_logged_ms + LOG_GAP_MS)
		return;
	cl_err("ALARM POI %s: X3 PDU with payload format %u (task sequence "
	       "number %u) cannot be delivered as IPCC (%s): counted in "
	       "clearli_mdf_undeliverable_total, not stored; %llu such PDUs "
	       "(%llu since the last line)",
	    p->name, pdu->pformat, pdu->seqno,
	    pdu->pformat == CL_X2X3_PF_GTPU
		? "not a GTP-U T-PDU carrying one IP packet"
		: "no IPCC form for this format",
	    (unsigned long long)n, (unsigned long long)(n - m->und_seen));
	m->und_seen = n;
	m->und_logged_ms = now;
}

/* A sequence number reused with other content, at most once per
 * LOG_GAP_MS. */
static void
log_conflict(
    struct mdf *m, struct poi *p, const struct cl_x2x3_pdu *pdu, uint64_t now)
{
	uint64_t n = mdf_core_stats(m->core)->conflicts;
	char u[CL_UUID_STRLEN + 1];

	if (m->conflict_logged_ms != 0 &&
	    now < m->conflict_logged_ms + LOG_GAP_MS)
		return;
	cl_format_uuid(pdu->xid, u);
	cl_warn("POI %s: task %s sequence number %u came again with other "
		"content (a POI restart?): stored as new; %llu such PDUs (%llu "
		"since the last line)",
	    p->name, u, pdu->seqno, (unsigned long long)n,
	    (unsigned long long)(n - m->conflicts_seen));
	m->conflicts_seen = n;
	m->conflict_logged_ms = now;
}

/*
 * Handles the complete PDUs in p->in.  Returns 0, 1 to pause (spool
 * full), 2 to pause longer (the POI's share of communications is used
 * up), -1 to close the connection (reason logged), or exits the process
 * on a spool failure (durability can no longer be promised).  A pause
 * leaves the PDU that caused it, and everything after it, unacknowledged.
 */
static int
poi_handle(struct mdf *m, struct poi *p, uint64_t now)
{
	struct cl_x2x3_pdu pdu;
	enum mdf_verdict v;
	const char *why = "";
	size_t used, off = 0;
	int r, ret = 0;

	while (off < p->in.len) {
		r = cl_x2x3_decode(
		    p->in.d + off, p->in.len - off, &pdu, &used, &why);
		if (r == CL_ERR_TRUNCATED)
			break;
		if (r != 0) {
			m->malformed++;
			cl_err("POI %s (%s): malformed X2/X3 PDU at stream "
			       "offset %llu: %s (%s); closing the connection",
			    p->name, p->addr,
			    (unsigned long long)(p->consumed + off), why,
			    cl_err_str(r));
			ret = -1;
			break;
		}
		if (pdu.type == CL_X2X3_KEEPALIVE) {
			if (p->nacks == ACKQ_MAX) {
				cl_err("POI %s: too many keepalives waiting",
				    p->name);
				ret = -1;
				break;
			}
			p->acks[p->nacks].seqno = pdu.seqno;
			p->acks[p->nacks].need = p->last_appended;
			p->nacks++;
		} else if (pdu.type == CL_X2X3_KEEPALIVE_ACK) {
			/* The MDF sends no keepalives of its own. */
		} else {
			r = mdf_core_ingest(m->core, p->name, &pdu, mdf_liid_of,
			    m, now, mdf_real_ns(), &v);
			if (r == CL_ERR_FULL) {
				if (!m->full_logged)
					cl_err("spool full: not reading from "
					       "POIs until LEMFs confirm "
					       "records");
				m->full_logged = true;
				ret = 1;
				break;
			}
			if (r == CL_ERR_SYSTEM || r == CL_ERR_RANGE) {
				cl_fatal("spool %s: appending a record failed: "
					 "%s; exiting so that a restart "
					 "recovers it",
				    m->o->spool_dir, mdf_spool_why(m, r));
			} else if (r != 0) {
				/* Not acknowledged: the POI keeps it and
				 * sends it again on its next connection. */
				m->not_stored++;
				cl_err("ALARM POI %s (%s): X2/X3 PDU (task "
				       "sequence number %u) cannot be stored: "
				       "%s; closing the connection without "
				       "acknowledging it",
				    p->name, p->addr, pdu.seqno, cl_err_str(r));
				ret = -1;
				break;
			}
			if (v == MDF_REFUSED) {
				/* Its share is used up: stop reading from
				 * this POI, acknowledging nothing from this
				 * PDU on; it keeps them and resends. */
				ret = limit_refused(m, p, now);
				break;
			}
			if (v == MDF_STORED || v == MDF_CONFLICT) {
				p->pdus++;
				p->last_appended = cl_spool_next_seq(m->sp) - 1;
				if (v == MDF_CONFLICT)
					log_conflict(m, p, &pdu, now);
			} else if (v == MDF_DUPLICATE) {
				/* Its original may not be committed yet: what
				 * follows is acknowledged only after it is. */
				p->dups++;
				p->last_appended = cl_spool_next_seq(m->sp) - 1;
			} else if (v == MDF_UNDELIVERABLE) {
				log_undeliverable(m, p, &pdu, now);
			} else if (v == MDF_UNKNOWN_TASK &&
			    m->unknown_logged++ < 20) {
				char u[CL_UUID_STRLEN + 1];

				cl_format_uuid(pdu.xid, u);
				cl_err("POI %s: PDU for task %s, which is not "
				       "in the task file: not stored",
				    p->name, u);
			}
		}
		off += used;
	}
	if (off > 0)
		(void)cl_buf_consume(&p->in, off);
	p->consumed += off;
	return ret;
}

/*
 * Handles what p->in holds and returns the octets taken to the front as
 * credit; a pause leaves the rest in p->in, without credit, so that the
 * front stops reading from the POI.  Returns -1 if p must be closed.
 */
static int
poi_feed(struct mdf *m, struct poi *p, uint64_t now)
{
	struct mdf_front_credit cr;
	uint64_t before = p->consumed;
	int r;

	r = poi_handle(m, p, now);
	if (p->consumed > before) {
		cr.id = p->id;
		cr.n = (uint32_t)(p->consumed - before);
		if (cl_imsg_compose(mdf_front_ibuf(m->front),
			MDF_FRONT_CREDIT_MSG, -1, &cr, sizeof(cr)) != 0)
			cl_fatal("out of memory");
	}
	if (r < 0)
		return -1;
	if (r > 0)
		p->paused_until = now + (r == 2 ? LIMIT_MS : PAUSE_MS);
	return 0;
}

static const char *
poi_why(const struct poi *p)
{
	return p->limited ? "at its flow share; nothing from the refused PDU "
			    "on acknowledged"
			  : "a PDU cannot be taken";
}

void
mdf_poi_resume(struct mdf *m, size_t i, uint64_t now)
{
	struct poi *p = m->pois[i];

	if (p->paused_until == 0 || p->paused_until > now)
		return;
	p->paused_until = 0;
	if (poi_feed(m, p, now) != 0)
		mdf_poi_close(m, i, poi_why(p));
}

static size_t
poi_slot(struct mdf *m, uint32_t id)
{
	size_t i;

	for (i = 0; i < MAX_POIS; i++)
		if (m->pois[i] != NULL && m->pois[i]->id == id)
			return i;
	return MAX_POIS;
}

/* One message from the front.  Returns 0, or -1 on a protocol breach. */
static int
front_msg(struct mdf *m, const struct cl_imsg *msg, uint64_t now)
{
	struct mdf_front_gone g;
	struct mdf_front_up up;
	struct poi *p;
	uint32_t id;
	size_t i;

	switch (msg->type) {
	case MDF_FRONT_UP:
		memcpy(&up, msg->data, sizeof(up));
		if (poi_slot(m, up.id) != MAX_POIS) {
			cl_err("front role: POI connection id %u given twice",
			    up.id);
			return -1;
		}
		if (poi_up(m, &up) != 0)
			cl_fatal("out of memory");
		return 0;
	case MDF_FRONT_STATS:
		memcpy(&m->fstats, msg->data, sizeof(m->fstats));
		return 0;
	case MDF_FRONT_GONE:
		memcpy(&g, msg->data, sizeof(g));
		g.why[sizeof(g.why) - 1] = '\0';
		if ((i = poi_slot(m, g.id)) == MAX_POIS)
			return 0; /* closed here meanwhile */
		if (g.malformed)
			m->malformed++;
		poi_drop(m, i, g.why, false);
		return 0;
	case MDF_FRONT_DATA:
		memcpy(&id, msg->data, 4);
		if ((i = poi_slot(m, id)) == MAX_POIS)
			return 0; /* closed here meanwhile */
		p = m->pois[i];
		if (cl_buf_put(&p->in, msg->data + 4, msg->len - 4) != 0) {
			cl_err("front role: POI %s: more than its credit "
			       "sent",
			    p->name);
			return -1;
		}
		if (p->paused_until == 0 && poi_feed(m, p, now) != 0)
			mdf_poi_close(m, i, poi_why(p));
		return 0;
	}
	return -1; /* not in the table */
}

int
mdf_front_io(struct mdf *m, unsigned what)
{
	struct cl_imsgbuf *ib = mdf_front_ibuf(m->front);
	uint64_t now = cl_mono_ms();
	struct cl_imsg msg;
	char err[512];
	int r;

	if (what & CL_LOOP_READ) {
		r = cl_imsg_read(ib);
		if (r == CL_ERR_CLOSED) {
			cl_err("front role (pid %ld): its socket closed",
			    (long)mdf_front_pid(m->front));
			return -1;
		}
		if (r < 0 && r != CL_ERR_AGAIN) {
			cl_err("front role (pid %ld): reading: %s",
			    (long)mdf_front_pid(m->front),
			    r == CL_ERR_SYSTEM ? strerror(errno)
					       : cl_err_str(r));
			return -1;
		}
		while ((r = cl_imsg_get(ib, &msg, err, sizeof(err))) == 1)
			if (front_msg(m, &msg, now) != 0) {
				snprintf(err, sizeof(err),
				    "message %u out of "
				    "turn",
				    msg.type);
				r = CL_ERR_FORMAT;
				break;
			}
		if (r != 0) {
			cl_err("front role (pid %ld): protocol violation: %s",
			    (long)mdf_front_pid(m->front), err);
			return -1;
		}
	}
	r = cl_imsg_flush(ib);
	if (r != 0 && r != CL_ERR_AGAIN) {
		cl_err("front role (pid %ld): writing: %s",
		    (long)mdf_front_pid(m->front),
		    r == CL_ERR_SYSTEM ? strerror(errno) : cl_err_str(r));
		return -1;
	}
	return 0;
}

/* Sends the keepalive acks whose records are committed. */
void
mdf_poi_acks(struct poi *p, uint64_t committed)
{
	struct cl_x2x3_pdu ack;
	size_t i = 0;

	while (i < p->nacks && p->acks[i].need <= committed) {
		cl_x2x3_keepalive(&ack, true, p->acks[i].seqno);
		if (cl_x2x3_encode(&p->out, &ack) != 0)
			break;
		i++;
	}
	if (i > 0) {
		memmove(
		    p->acks, p->acks + i, (p->nacks - i) * sizeof(*p->acks));
		p->nacks -= i;
	}
}
