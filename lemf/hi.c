/* SPDX-License-Identifier: ISC */
/*
 * The LEMF's HI server on lib/loop: see hi.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "digest.h"
#include "err.h"
#include "conn.h"
#include "front.h"
#include "hi.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "out.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "recv.h"
#include "tls.h"
#include "util.h"

#define MAX_CONN   LEMF_HI_MAX_CONN
#define READ_CHUNK 65536
#define IN_MAX     (CL_PSDU_DEC_MAX + 2 * READ_CHUNK)
#define OUTQ_MAX   (1024u * 1024)
/* Records queued for the writer: above HIGH no connection is read until
 * the queue is down to LOW (the writer is slower than the network). */
#define LINK_HIGH (8u * 1024 * 1024)
#define LINK_LOW  (1024u * 1024)

struct lemf_hi;

struct conn {
	struct lemf_hi *h;
	struct cl_conn cn; /* cn.fd -1: the slot is free */
	struct cl_loop_io *io;
	char peer[80];   /* "ADDR:PORT" */
	uint64_t offset; /* stream bytes consumed */
	struct cl_buf in;
	struct cl_buf answers; /* waiting for a sync to end */
	size_t covered;        /* answers.d[0..covered): by the sync running */
	struct cl_buf outq;
	bool closing;
};

struct lemf_hi {
	struct cl_loop *l;
	struct lemf_recv *rv;
	struct lemf_link *k; /* to the writer */
	bool ack;
	struct cl_psheader ans;
	bool failed;   /* output failed: stop without acknowledging */
	bool stopping; /* lemf_hi_free(): no further sync */
	struct cl_front *front;
	struct cl_loop_pollset *ps;
	bool busy;      /* a sync asked for and not yet answered */
	bool throttled; /* connections are not read (LINK_HIGH) */
	unsigned port;
	unsigned nconn;
	struct conn cl[MAX_CONN];
};

static void
sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	if (cl_sha256(p, n, out) != 0)
		cl_fatal("SHA-256 failed");
}

unsigned
lemf_hi_port(const struct lemf_hi *h)
{
	return h->port;
}

bool
lemf_hi_failed(const struct lemf_hi *h)
{
	return h->failed;
}

/* ---- connections ---- */

static void
conn_free(struct conn *c)
{
	/* The watcher goes before the descriptor (see loop.h). */
	cl_loop_io_free(c->io);
	c->io = NULL;
	if (c->cn.fd >= 0)
		c->h->nconn--;
	cl_conn_close(&c->cn);
	cl_buf_release(&c->in);
	cl_buf_release(&c->answers);
	cl_buf_release(&c->outq);
}

static void
out_failed(struct lemf_hi *h, const char *what, int r)
{
	if (h->failed)
		return;
	cl_err("cannot hand the output to the writer (%s: %s): stopping; "
	       "nothing more is acknowledged, the MDF keeps and resends what "
	       "was not",
	    what, cl_err_str(r));
	h->failed = true;
	cl_loop_stop(h->l);
}

/* Queues an answer PDU (sent after the next sync). */
static void
answer(struct conn *c, int which, bool opt_requested)
{
	struct lemf_hi *h = c->h;
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	h->ans.sec = ts.tv_sec;
	h->ans.usec = (uint32_t)(ts.tv_nsec / 1000);
	if (which == CL_PSDU_TRI_OPTION_RESP)
		r = cl_psdu_option_response(
		    &c->answers, &h->ans, opt_requested, h->ack);
	else
		r = cl_psdu_tri(&c->answers, &h->ans, which);
	if (r != 0) {
		cl_warn("%s: cannot queue an answer (%s); closing", c->peer,
		    cl_err_str(r));
		c->closing = true;
		return;
	}
	h->ans.seq++;
}

static void
control(struct conn *c, const struct cl_psdu_info *in)
{
	const struct cl_psdu_tri_dec *x = &in->tri;
	const char *name = cl_psdu_tri_name(x->which);

	lemf_recv_counts(c->h->rv)->control++;
	if (in->liid.len != 1 || in->liid.p[0] != '-' || in->cin != 0)
		cl_debug("%s: %s with LIID/CIN of a communication", c->peer,
		    name != NULL ? name : "TRI");
	switch (x->which) {
	case CL_PSDU_TRI_KEEPALIVE:
		answer(c, CL_PSDU_TRI_KEEPALIVE_RESP, false);
		break;
	case CL_PSDU_TRI_ACK_REQUEST:
		answer(c, CL_PSDU_TRI_ACK_RESPONSE, false);
		break;
	case CL_PSDU_TRI_OPTION_REQ:
		cl_info("%s: option request (pDUAcknowledgement %s): %s",
		    c->peer, x->ack_requested ? "requested" : "not requested",
		    !x->ack_requested ? "nothing to accept"
			: c->h->ack   ? "accepted"
				      : "declined");
		answer(c, CL_PSDU_TRI_OPTION_RESP, x->ack_requested);
		break;
	case CL_PSDU_TRI_OPTION_DONE:
		cl_info("%s: option negotiation complete", c->peer);
		break;
	default:
		cl_debug("%s: %s ignored", c->peer,
		    name != NULL ? name : "unknown TRI alternative");
	}
}

static void
data(struct conn *c, const struct cl_psdu_info *in, const struct timespec *rx)
{
	struct lemf_hi *h = c->h;
	struct lemf_result res;
	uint8_t hash[32];
	char liid[3 * CL_PSDU_LIID_MAX + 8];
	int r;

	sha256(in->pdu.p, in->pdu.len, hash);
	lemf_liid_text(in->liid.p, in->liid.len, liid, sizeof(liid));
	if (lemf_kind_of(in) < 0) {
		lemf_recv_other(h->rv);
		if ((r = lemf_link_rec(
			 h->k, LEMF_REC_OTHER, in, hash, NULL, rx)) != 0)
			out_failed(h, "record", r);
		return;
	}
	if ((r = lemf_recv_pdu(h->rv, in, hash, &res)) != 0)
		cl_fatal("receive state: %s", cl_err_str(r));
	/* LIIDs are untrusted: logged in their file-name form. */
	switch (res.verdict) {
	case LEMF_GAP:
		cl_err("GAP in %s stream LIID %s CIN %u from %s: expected "
		       "seq %llu, got %u (%llu missing)",
		    lemf_kind_name(res.kind), liid, in->cin, c->peer,
		    (unsigned long long)res.expected, in->seq,
		    (unsigned long long)(in->seq - res.expected));
		__attribute__((fallthrough));
	case LEMF_NEW:
		if (res.verified == 0)
			cl_err("integrity FAILED: LIID %s CIN %u integrity seq "
			       "%u: %s",
			    liid, in->cin, in->seq, res.why);
		else if (res.verified == 1)
			cl_debug("integrity ok: LIID %s CIN %u integrity seq "
				 "%u covers %zu PDUs",
			    liid, in->cin, in->seq, in->tri.nseqs);
		if ((r = lemf_link_rec(h->k,
			 res.verdict == LEMF_GAP ? LEMF_REC_GAP : LEMF_REC_PDU,
			 in, hash, &res, rx)) != 0)
			out_failed(h, "record", r);
		break;
	case LEMF_DUP:
		cl_debug("exact repeat dropped: %s LIID %s CIN %u seq %u",
		    lemf_kind_name(res.kind), liid, in->cin, in->seq);
		break;
	case LEMF_DUP_UNVERIFIED:
		cl_warn("duplicate (unverified) dropped: %s LIID %s CIN %u seq "
			"%u is below the expected %llu and its hash is no "
			"longer held",
		    lemf_kind_name(res.kind), liid, in->cin, in->seq,
		    (unsigned long long)res.expected);
		break;
	case LEMF_CONFLICT:
		cl_err("CONFLICTING DUPLICATE from %s: %s LIID %s CIN %u seq "
		       "%u differs from the PDU received before; the first is "
		       "kept",
		    c->peer, lemf_kind_name(res.kind), liid, in->cin, in->seq);
		if ((r = lemf_link_rec(
			 h->k, LEMF_REC_CONFLICT, in, hash, &res, rx)) != 0)
			out_failed(h, "record", r);
		break;
	}
}

/* Decodes what is buffered; sets c->closing on a malformed PDU. */
static void
handle(struct conn *c)
{
	struct lemf_hi *h = c->h;
	struct cl_psdu_info in;
	struct timespec rx;
	const char *why;
	size_t used, off = 0;
	int r;

	clock_gettime(CLOCK_REALTIME, &rx);
	while (!c->closing && !h->failed && off < c->in.len) {
		r = cl_psdu_decode(
		    c->in.d + off, c->in.len - off, &in, &used, &why);
		if (r == CL_ERR_TRUNCATED)
			break;
		if (r != 0) {
			cl_err("malformed PDU from %s at stream offset %llu: "
			       "%s (%s); closing this connection",
			    c->peer, (unsigned long long)(c->offset + off), why,
			    cl_err_str(r));
			lemf_recv_counts(h->rv)->bad++;
			if ((r = lemf_link_bad(h->k, c->peer, c->offset + off,
				 r, why, &rx)) != 0)
				out_failed(h, "record", r);
			c->closing = true;
			break;
		}
		if (in.kind == CL_PSDU_KIND_TRI &&
		    in.tri.which != CL_PSDU_TRI_INTEGRITY)
			control(c, &in);
		else
			data(c, &in, &rx);
		off += used;
	}
	(void)cl_buf_consume(&c->in, off);
	c->offset += off;
}

/* ---- syncs (in the writer) ---- */

static int conn_flush(struct conn *c);
static void conn_watch(struct conn *c);

/* Asks the writer for a sync if none is running and answers wait for
 * one. */
static void
sync_kick(struct lemf_hi *h)
{
	unsigned i, seen;
	bool want = false;
	int r;

	if (h->busy || h->failed || h->stopping)
		return;
	for (i = 0, seen = 0; i < MAX_CONN && seen < h->nconn; i++)
		if (h->cl[i].cn.fd != -1) {
			seen++;
			if (h->cl[i].answers.len > h->cl[i].covered) {
				want = true;
				break;
			}
		}
	if (!want)
		return;
	if ((r = lemf_link_sync(h->k)) != 0) {
		out_failed(h, "sync", r);
		return;
	}
	for (i = 0, seen = 0; i < MAX_CONN && seen < h->nconn; i++)
		if (h->cl[i].cn.fd != -1) {
			seen++;
			h->cl[i].covered = h->cl[i].answers.len;
		}
	h->busy = true;
}

/* In the loop: the writer synced what was sent before the sync asked
 * for (ok), its answers go out and the next sync is asked for if answers
 * wait; or the writer is gone (!ok). */
static void
synced(void *arg, bool ok)
{
	struct lemf_hi *h = arg;
	unsigned i;

	h->busy = false;
	if (!ok) {
		out_failed(h, "writer", CL_ERR_CLOSED);
		return;
	}
	if (h->stopping)
		return;
	for (i = 0; i < MAX_CONN; i++) {
		struct conn *c = &h->cl[i];

		if (c->cn.fd == -1 || c->covered == 0)
			continue;
		if (c->outq.len + c->covered > OUTQ_MAX ||
		    cl_buf_put(&c->outq, c->answers.d, c->covered) != 0) {
			cl_warn(
			    "%s does not read our answers; closing", c->peer);
			conn_free(c);
			continue;
		}
		(void)cl_buf_consume(&c->answers, c->covered);
		c->covered = 0;
		if (conn_flush(c) != 0)
			conn_free(c);
		else
			conn_watch(c);
	}
	sync_kick(h);
}

/* ---- reading and writing ---- */

static void resume(void *arg);

/* Too much waits for the writer: no connection is read until it took
 * most of it. */
static void
throttle(struct lemf_hi *h)
{
	unsigned i;

	if (h->throttled || lemf_link_queued(h->k) <= LINK_HIGH)
		return;
	h->throttled = true;
	for (i = 0; i < MAX_CONN; i++)
		if (h->cl[i].cn.fd != -1)
			conn_watch(&h->cl[i]);
	lemf_link_when_below(h->k, LINK_LOW, resume, h);
}

static void
resume(void *arg)
{
	struct lemf_hi *h = arg;
	unsigned i;

	h->throttled = false;
	for (i = 0; i < MAX_CONN; i++)
		if (h->cl[i].cn.fd != -1) {
			conn_watch(&h->cl[i]);
			if (h->cl[i].cn.fd != -1)
				cl_loop_io_kick(h->cl[i].io, CL_LOOP_READ);
		}
}

/* Reads what is available; -1 when the connection is finished. */
static int
conn_read(struct conn *c)
{
	struct lemf_hi *h = c->h;
	int rounds;

	/* A bounded number of reads, so that the answers to what was read
	 * go out (conn_flush() after this) and other connections get their
	 * turn even while the sender keeps the socket full; the loop brings
	 * us back for the rest. */
	for (rounds = 0; rounds < 16 && !h->throttled; rounds++) {
		enum cl_conn_res r;
		size_t n;

		r = cl_conn_read(&c->cn, &c->in, READ_CHUNK, &n);
		if (r == CL_CONN_AGAIN)
			return 0;
		if (r != CL_CONN_DATA) {
			/* A peer that closes, with or without close_notify,
			 * loses nothing we did not acknowledge. */
			if (r == CL_CONN_CLOSED && c->in.len == 0)
				cl_info("%s: connection ended: %s", c->peer,
				    cl_conn_why(&c->cn));
			else
				cl_warn("%s: connection ended: %s%s", c->peer,
				    cl_conn_why(&c->cn),
				    c->in.len > 0 ? " (inside a PDU; its "
						    "bytes discarded)"
						  : "");
			return -1;
		}
		handle(c);
		/* A sync is asked for if answers wait.  Records go to the
		 * writer in batches: the link writes what was queued when the
		 * loop finds its socket writable. */
		sync_kick(h);
		throttle(h);
		if (c->closing || h->failed)
			return -1;
	}
	return 0;
}

static int
conn_flush(struct conn *c)
{
	if (c->outq.len == 0)
		return 0;
	return cl_conn_flush(&c->cn, &c->outq) == CL_CONN_ERROR ? -1 : 0;
}

/* Reads unless the writer has too much to do; writes while answers wait
 * in outq. */
static void
conn_watch(struct conn *c)
{
	unsigned what = (c->h->throttled ? 0 : CL_LOOP_READ) |
	    (c->outq.len > 0 || (cl_conn_events(&c->cn) & POLLOUT)
		    ? CL_LOOP_WRITE
		    : 0);

	if (cl_loop_io_set(c->io, what) != 0) {
		cl_warn("%s: cannot watch the connection: %s; closing", c->peer,
		    strerror(errno));
		conn_free(c);
	}
}

static void
on_conn(void *arg, int fd, unsigned what)
{
	struct conn *c = arg;
	int done = 0;

	(void)fd;
	if (what & CL_LOOP_READ)
		done = conn_read(c);
	if (c->cn.fd == -1) /* closed by a sync that ended meanwhile */
		return;
	/* Answers released by a sync still go out before a close; those
	 * waiting for one are dropped with the connection (the MDF sends
	 * those PDUs again). */
	if (c->h->failed)
		cl_buf_reset(&c->outq);
	if (conn_flush(c) != 0 || done < 0) {
		if (c->closing)
			cl_info("%s: connection closed", c->peer);
		conn_free(c);
		return;
	}
	conn_watch(c);
	/* conn_read() stops after some rounds: TLS may hold decrypted bytes
	 * that the descriptor does not show. */
	if (c->cn.fd != -1 && !c->h->throttled && cl_conn_pending(&c->cn))
		cl_loop_io_kick(c->io, CL_LOOP_READ);
}

/* An MDF has authenticated (lib/front): it gets a connection slot. */
static int
conn_up(void *arg, struct cl_front_conn *fc)
{
	static struct cl_log_rl rl = CL_LOG_RL_INIT(10000, 5);
	struct lemf_hi *h = arg;
	struct conn *c;
	int i;

	for (i = 0; i < MAX_CONN && h->cl[i].cn.fd != -1; i++)
		;
	if (i == MAX_CONN) {
		cl_log_rl(&rl, cl_loop_now_ms(), CL_LOG_WARN,
		    "%s: %d connections open: refusing another", fc->peer,
		    MAX_CONN);
		return -1;
	}
	c = &h->cl[i];
	memset(c, 0, sizeof(*c));
	c->h = h;
	c->cn.fd = -1;
	snprintf(c->peer, sizeof(c->peer), "%s", fc->peer);
	if (cl_conn_from_front(&c->cn, fc, "MDF") != 0) {
		cl_log_rl(&rl, cl_loop_now_ms(), CL_LOG_WARN,
		    "%s: certificate without a common name: refusing it",
		    fc->peer);
		return -1;
	}
	if ((c->io = cl_loop_io_new(h->l, c->cn.fd, on_conn, c)) == NULL ||
	    cl_loop_io_set(c->io, CL_LOOP_READ) != 0) {
		cl_loop_io_free(c->io);
		c->io = NULL;
		cl_log_rl(&rl, cl_loop_now_ms(), CL_LOG_WARN,
		    "%s: cannot watch the connection: refusing it", fc->peer);
		/* Back to the front, which closes it. */
		fc->fd = c->cn.fd;
		fc->ssl = c->cn.ssl;
		c->cn.fd = -1;
		c->cn.ssl = NULL;
		return -1;
	}
	h->nconn++;
	cl_buf_init(&c->in, IN_MAX);
	cl_buf_init(&c->answers, OUTQ_MAX);
	cl_buf_init(&c->outq, OUTQ_MAX);
	if (c->cn.ssl == NULL)
		cl_info("connection from %s (plain TCP)", c->peer);
	else
		cl_info("%s: TLS established, peer %s (authenticated in %llu "
			"ms)",
		    c->peer, c->cn.peer, (unsigned long long)fc->elapsed_ms);
	return 0;
}

/* ---- the front (accept, admission, TLS handshake) ---- */

static size_t
front_fill(
    void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next_ms)
{
	struct lemf_hi *h = arg;

	return cl_front_pollfds(h->front, pfd, max, now, next_ms);
}

static void
front_handle(void *arg, struct pollfd *pfd, size_t n, uint64_t now)
{
	struct lemf_hi *h = arg;

	cl_front_handle(h->front, pfd, n, now);
}

/* ---- setup ---- */

int
lemf_hi_new(struct cl_loop *l, const struct lemf_hi_opts *o,
    struct lemf_recv *rv, struct lemf_hi **hp)
{
	struct cl_psh_ids ids = {
	    .liid = (const uint8_t *)"-",
	    .liid_len = 1,
	    .operator_id = (const uint8_t *)"lemf",
	    .operator_id_len = 4,
	    .cin = 0,
	};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct lemf_hi *h;
	unsigned port = 0;
	int lfd = o->listen_fd, r, i;

	*hp = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		cl_err("out of memory");
		close(o->writer_fd);
		close(lfd);
		return -1;
	}
	h->l = l;
	h->rv = rv;
	h->ack = o->ack;
	for (i = 0; i < MAX_CONN; i++)
		h->cl[i].cn.fd = -1;
	if (cl_psheader_init(&h->ans, &ids) != 0)
		cl_fatal("cannot build the answer header");
	h->ans.tsq = CL_PSDU_TSQ_MEDIATION;
	if (lemf_link_new(l, o->writer_fd, synced, h, &h->k) != 0) {
		close(lfd);
		goto fail;
	}
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	o->front->what = "MDF";
	o->front->ctx = o->ctx;
	r = cl_front_new(lfd, o->front, conn_up, h, &h->front);
	if (r != 0) { /* lfd closed by cl_front_new() */
		h->front = NULL;
		cl_err("listener: %s", cl_err_str(r));
		goto fail;
	}
	if ((h->ps = cl_loop_pollset_new(l, cl_front_npollfds(h->front),
		 front_fill, front_handle, h)) == NULL ||
	    cl_loop_pollset_arm(h->ps) != 0) {
		cl_err("cannot watch the listener: %s", strerror(errno));
		goto fail;
	}
	h->port = port;
	*hp = h;
	return 0;
fail:
	lemf_hi_free(h, false);
	return -1;
}

int
lemf_hi_summary(struct lemf_hi *h)
{
	int r;

	if (h->failed)
		return CL_ERR_CLOSED;
	if ((r = lemf_link_summary(h->k, lemf_recv_counts(h->rv), false)) != 0)
		out_failed(h, "summary", r);
	return r;
}

bool
lemf_hi_free(struct lemf_hi *h, bool final)
{
	bool failed;
	int i;

	if (h == NULL)
		return false;
	h->stopping = true;
	cl_loop_pollset_free(h->ps);
	cl_front_free(h->front);
	for (i = 0; i < MAX_CONN; i++)
		if (h->cl[i].cn.fd != -1)
			conn_free(&h->cl[i]);
	/* The counters end the writer: it syncs what it has, writes
	 * summary.json and exits. */
	if (final && !h->failed && h->k != NULL &&
	    (lemf_link_summary(h->k, lemf_recv_counts(h->rv), true) != 0 ||
		lemf_link_drain(h->k) != 0)) {
		cl_err("front role: the writer did not take the last records");
		h->failed = true;
	}
	lemf_link_free(h->k);
	failed = h->failed;
	free(h);
	return failed;
}
