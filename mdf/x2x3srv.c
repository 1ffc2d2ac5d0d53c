/* SPDX-License-Identifier: ISC */
/*
 * The MDF's X2/X3 server: a POI's connection from the moment lib/front
 * hands it over authenticated.  Reads X2/X3 PDUs, parses them strictly
 * (lib/x2x3), hands each to the mediation core, and acknowledges a
 * POI's keepalive once every record it sent before it is committed to
 * the spool.  Pauses a POI while the spool is full or its share of
 * communications is used up, and closes it on a malformed PDU.
 */
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
	cl_loop_io_free(p->io);
	cl_conn_close(&p->c);
	cl_buf_release(&p->in);
	cl_buf_release(&p->out);
	free(p);
}

void
mdf_poi_close(struct mdf *m, size_t i, const char *why)
{
	struct poi *p = m->pois[i];

	if (why != NULL)
		cl_info("POI %s (%s): connection closed: %s (%llu PDUs, %llu "
			"repeats dropped)",
		    p->name[0] ? p->name : "?", p->c.addrstr, why,
		    (unsigned long long)p->pdus, (unsigned long long)p->dups);
	poi_free(p);
	m->pois[i] = NULL;
}

/* A POI has authenticated (lib/front): it gets a slot of its own. */
int
mdf_poi_up(void *arg, struct cl_front_conn *fc)
{
	struct mdf *m = arg;
	struct poi *p = NULL;
	struct cl_conn c;
	char name[sizeof(p->name)];
	size_t i;

	if (cl_conn_from_front(&c, fc, "POI") != 0) {
		cl_log_rl(&m->slot_rl, cl_mono_ms(), CL_LOG_WARN,
		    "POI %s: certificate without a common name; closing",
		    fc->peer);
		return -1;
	}
	if (c.ssl == NULL) {
		/* Named by its address, not its port: the name keys the
		 * duplicate filter, the CIN and the share, which must outlive
		 * a reconnection. */
		const char *colon = strrchr(c.addrstr, ':');
		int hl = colon != NULL ? (int)(colon - c.addrstr)
				       : (int)strlen(c.addrstr);

		snprintf(name, sizeof(name), "plain:%.*s", hl, c.addrstr);
	} else
		snprintf(name, sizeof(name), "%s", c.peer);
	for (i = 0; i < MAX_POIS && m->pois[i] != NULL; i++)
		;
	if (i == MAX_POIS || (p = calloc(1, sizeof(*p))) == NULL) {
		cl_log_rl(&m->slot_rl, cl_mono_ms(), CL_LOG_ERR,
		    "POI %s (%s) refused: %d POIs connected already", name,
		    c.addrstr, MAX_POIS);
		/* Back to the front, which closes it. */
		fc->fd = c.fd;
		fc->ssl = c.ssl;
		return -1;
	}
	p->c = c;
	memcpy(p->name, name, sizeof(p->name));
	cl_buf_init(&p->in, IN_MAX);
	cl_buf_init(&p->out, 1024 * 1024);
	if (p->c.ssl != NULL)
		cl_info("POI %s (%s): connected (%s, %s; authenticated in "
			"%llu ms)",
		    p->name, p->c.addrstr, SSL_get_version(p->c.ssl),
		    SSL_get_cipher_name(p->c.ssl),
		    (unsigned long long)fc->elapsed_ms);
	else
		cl_info("POI %s: connected without TLS", p->c.addrstr);
	m->pois[i] = p;
	return 0;
}

int
mdf_poi_flush(struct poi *p)
{
	if (p->out.len == 0)
		return 0;
	return cl_conn_flush(&p->c, &p->out) == CL_CONN_ERROR ? -1 : 0;
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
		    p->name, p->c.addrstr,
		    (unsigned long long)st->max_flows_poi,
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
			    p->name, p->c.addrstr,
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
				    p->name, p->c.addrstr, pdu.seqno,
				    cl_err_str(r));
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

static int
poi_read(struct mdf *m, struct poi *p, uint64_t now)
{
	int r;

	if (p->paused_until > now)
		return 0;
	/* Leftovers from a pause first. */
	if ((r = poi_handle(m, p, now)) != 0)
		goto paused;
	for (;;) {
		enum cl_conn_res res;
		size_t k;

		res = cl_conn_read(&p->c, &p->in, READ_CHUNK, &k);
		if (res == CL_CONN_AGAIN)
			return 0;
		if (res != CL_CONN_DATA)
			return -1;
		if ((r = poi_handle(m, p, now)) != 0)
			goto paused;
	}
paused:
	if (r < 0)
		return -1;
	p->paused_until = now + (r == 2 ? LIMIT_MS : PAUSE_MS);
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

void
mdf_poi_io(void *arg, int fd, unsigned what)
{
	struct poi *p = arg;
	struct mdf *m = p->m;
	uint64_t now = cl_mono_ms();
	size_t i;

	(void)fd;
	for (i = 0; i < MAX_POIS && m->pois[i] != p; i++)
		;
	if (i == MAX_POIS)
		return;
	mdf_wake(m);
	if (what & CL_LOOP_READ) {
		if (poi_read(m, p, now) != 0) {
			mdf_poi_close(m, i,
			    p->limited ? "at its flow share; nothing from the "
					 "refused PDU on acknowledged"
				: cl_conn_why(&p->c)[0] != '\0'
				? cl_conn_why(&p->c)
				: "closed");
			return;
		}
	}
	if ((what & CL_LOOP_WRITE) && mdf_poi_flush(p) != 0)
		mdf_poi_close(m, i, cl_conn_why(&p->c));
}
