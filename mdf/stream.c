/* SPDX-License-Identifier: ISC */
/*
 * Delivery of the spool to one LEMF.  See stream.h and docs/PROTOCOL.hi.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "log.h"
#include "mdf.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "stream.h"
#include "tls.h"

#define READ_CHUNK 16384
#define OUT_HIGH   (1024u * 1024) /* stop filling above this */
#define REQ_BYTES  (256u * 1024)  /* a request after this much */
#define REQ_MS     20             /* or after this long */
#define FIFO_MAX   4096
#define RBUF_MAX   (64u * 1024)
#define WRITE_MAX  (256u * 1024)
/* A confirmed position is saved (a file write, two fsyncs) at most this
 * often while answers keep coming; see save_confirmed(). */
#define CONFIRM_SAVE_MS 200

/* IDLE: the client (lib/conn) is connecting or waiting to. */
enum state { IDLE, OPTIONS, UP };

struct mdf_stream {
	struct mdf_dest d;
	struct mdf_stream_opts o;
	struct cl_spool *sp;
	struct cl_spool_cursor *cur;
	struct cl_htab liids;
	struct cl_client *cl;

	enum state state;
	bool want_write; /* TLS must write before it can read */
	uint64_t opt_deadline;
	bool acked; /* the LEMF accepted pDUAcknowledgement */

	struct cl_buf out;  /* PDUs to write */
	struct cl_buf rbuf; /* answers read */
	uint64_t read_seq;  /* last spool record read on this connection */
	uint64_t req_seq;   /* last spool record covered by a request */
	size_t since_req;   /* bytes queued since the last request */
	uint64_t last_req_ms, last_send_ms;
	/* Requests not answered yet: the record each one covers, in the
	 * order sent (answers come in that order). */
	uint64_t fifo[FIFO_MAX];
	uint64_t fifo_ms[FIFO_MAX];
	size_t fifo_head, fifo_n;
	/* Confirmed by the LEMF, not yet saved in the cursor file. */
	bool confirm_pending;
	uint64_t confirm_seq, confirm_saved_ms;
	struct cl_psheader ctl; /* header of control PDUs */
	uint32_t ctl_seq;

	struct mdf_stream_stats st;
};

static bool
liid_eq(const void *v, const void *k, size_t len)
{
	const char *s = v;

	return strlen(s) == len && memcmp(s, k, len) == 0;
}

/* The connection to the LEMF: a lib/conn client, reconnecting with
 * back-off. */
static int
client_new(struct mdf_stream *s, SSL_CTX *ctx)
{
	struct cl_client_cfg cc;
	char label[320];

	snprintf(label, sizeof(label), "LEMF %s (%s:%s)", s->d.name, s->d.host,
	    s->d.port);
	memset(&cc, 0, sizeof(cc));
	cc.label = label;
	cc.what = "LEMF";
	cc.host = s->d.host;
	cc.port = s->d.port;
	cc.ctx = ctx;
	cc.name = s->d.servername[0] != '\0' ? s->d.servername : s->d.host;
	return cl_client_new(&cc, &s->cl);
}

int
mdf_stream_new(const struct mdf_dest *d, struct cl_spool *sp, SSL_CTX *ctx,
    const struct mdf_stream_opts *o, struct mdf_stream **out)
{
	struct mdf_stream *s;
	struct cl_psh_ids ids;
	char cname[CL_SPOOL_NAME_MAX + 1];
	size_t i;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CL_ERR_NOMEM;
	s->d = *d;
	s->o = *o;
	if (s->o.keepalive_ms == 0)
		s->o.keepalive_ms = 5000;
	if (s->o.ack_timeout_ms == 0)
		s->o.ack_timeout_ms = 30000;
	if (s->o.option_wait_ms == 0)
		s->o.option_wait_ms = 5000;
	s->sp = sp;
	cl_buf_init(&s->out, OUT_HIGH + CL_SPOOL_REC_HARD_MAX + 4096);
	cl_buf_init(&s->rbuf, RBUF_MAX);
	if (d->tls && ctx == NULL) {
		r = CL_ERR_INVALID_ARG;
		goto fail;
	}
	if ((r = client_new(s, d->tls ? ctx : NULL)) != 0)
		goto fail;
	if ((r = cl_htab_init(&s->liids, SIZE_MAX, liid_eq)) != 0)
		goto fail;
	for (i = 0; i < d->nliids; i++)
		if ((r = cl_htab_put(&s->liids, d->liids[i],
			 strlen(d->liids[i]), d->liids[i])) != 0 &&
		    r != CL_ERR_EXISTS)
			goto fail;
	memset(&ids, 0, sizeof(ids));
	ids.liid = (const uint8_t *)"-";
	ids.liid_len = 1;
	ids.operator_id = (const uint8_t *)o->operator_id;
	ids.operator_id_len = strlen(o->operator_id);
	if ((r = cl_psheader_init(&s->ctl, &ids)) != 0)
		goto fail;
	snprintf(cname, sizeof(cname), "dest-%s", d->name);
	if ((r = cl_spool_cursor_open(sp, cname, &s->cur)) != 0)
		goto fail;
	s->st.confirmed = cl_spool_cursor_confirmed(s->cur);
	*out = s;
	return 0;
fail:
	cl_client_free(s->cl);
	cl_htab_release(&s->liids);
	cl_buf_release(&s->out);
	cl_buf_release(&s->rbuf);
	free(s);
	return r;
}

/* The first record not confirmed by the LEMF, saved or not yet. */
static uint64_t
confirmed(const struct mdf_stream *s)
{
	uint64_t c = cl_spool_cursor_confirmed(s->cur);

	return s->confirm_pending && s->confirm_seq >= c ? s->confirm_seq + 1
							 : c;
}

/*
 * Saves the LEMF's latest confirmation in the cursor file.  Saving after
 * every answer cost two fsyncs on the event loop every few milliseconds;
 * saving at most every CONFIRM_SAVE_MS means that after a crash the MDF
 * may send again what the LEMF confirmed in that last moment (exact
 * repeats, which a receiver drops by their sequence numbers), never that
 * it skips anything: the cursor file only ever lags.  Segments are
 * released only behind the saved position.
 */
static int
save_confirmed(struct mdf_stream *s, uint64_t now_ms)
{
	int r;

	if (!s->confirm_pending)
		return 0;
	s->confirm_pending = false;
	s->confirm_saved_ms = now_ms;
	if (s->confirm_seq < cl_spool_cursor_confirmed(s->cur))
		return 0;
	if ((r = cl_spool_cursor_confirm(s->cur, s->confirm_seq)) != 0) {
		cl_err("LEMF %s: saving the confirmed position %llu: %s",
		    s->d.name, (unsigned long long)s->confirm_seq,
		    cl_err_str(r));
		return r;
	}
	return 0;
}

/* Forgets the connection's buffers and requests. */
static void
conn_reset(struct mdf_stream *s)
{
	s->state = IDLE;
	s->want_write = false;
	cl_buf_reset(&s->out);
	cl_buf_reset(&s->rbuf);
	s->fifo_n = 0;
	s->fifo_head = 0;
}

void
mdf_stream_free(struct mdf_stream *s)
{
	if (s == NULL)
		return;
	(void)save_confirmed(s, 0);
	cl_client_free(s->cl);
	cl_htab_release(&s->liids);
	cl_buf_release(&s->out);
	cl_buf_release(&s->rbuf);
	free(s);
}

const char *
mdf_stream_name(const struct mdf_stream *s)
{
	return s->d.name;
}

void
mdf_stream_stats(const struct mdf_stream *s, struct mdf_stream_stats *st)
{
	*st = s->st;
	st->up = s->state == UP;
	st->acked = s->acked;
	st->confirmed = confirmed(s);
	st->backlog = cl_spool_next_seq(s->sp) - confirmed(s);
}

/* The connection is lost: delivery restarts at the first record not
 * confirmed on the next one. */
static void
fail(struct mdf_stream *s, uint64_t now_ms, const char *what)
{
	(void)save_confirmed(s, now_ms); /* an error is logged; go on */
	if (s->state == IDLE)
		return;
	s->st.disconnects++;
	cl_warn("LEMF %s (%s:%s): connection lost: %s; %llu records "
		"not confirmed will be sent again",
	    s->d.name, s->d.host, s->d.port, what,
	    (unsigned long long)(cl_spool_next_seq(s->sp) - confirmed(s)));
	conn_reset(s);
	cl_client_drop(s->cl, now_ms);
}

static void
ctl_header(struct mdf_stream *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	s->ctl.seq = s->ctl_seq++;
	s->ctl.sec = ts.tv_sec;
	s->ctl.usec = (uint32_t)(ts.tv_nsec / 1000);
	s->ctl.tsq = CL_PSDU_TSQ_MEDIATION;
}

static int
queue_tri(struct mdf_stream *s, int which)
{
	ctl_header(s);
	return cl_psdu_tri(&s->out, &s->ctl, which);
}

/* Queues a request that covers everything read so far. */
static int
queue_request(struct mdf_stream *s, uint64_t now_ms, int which)
{
	int r;

	if (s->fifo_n == FIFO_MAX)
		return 0; /* the next answer makes room; the one after covers
			     these records too */
	if ((r = queue_tri(s, which)) != 0)
		return r;
	s->fifo[(s->fifo_head + s->fifo_n) % FIFO_MAX] = s->read_seq;
	s->fifo_ms[(s->fifo_head + s->fifo_n) % FIFO_MAX] = now_ms;
	s->fifo_n++;
	s->req_seq = s->read_seq;
	s->since_req = 0;
	s->last_req_ms = now_ms;
	return 0;
}

static void
up(struct mdf_stream *s, uint64_t now_ms)
{
	conn_reset(s);
	ctl_header(s);
	s->state = OPTIONS;
	s->opt_deadline = now_ms + s->o.option_wait_ms;
	s->acked = false;
	s->st.connects++;
	if (cl_psdu_option_request(&s->out, &s->ctl, s->o.want_ack) != 0)
		fail(s, now_ms, "cannot encode optionRequest");
}

/* Options settled (answered or timed out): stream from the first record
 * not confirmed. */
static void
streaming(struct mdf_stream *s, uint64_t now_ms)
{
	if (save_confirmed(s, now_ms) != 0) {
		fail(s, now_ms, "cursor not saved");
		return;
	}
	s->state = UP;
	cl_spool_cursor_rewind(s->cur);
	s->read_seq = s->req_seq = cl_spool_cursor_confirmed(s->cur) - 1;
	s->since_req = 0;
	s->last_req_ms = s->last_send_ms = now_ms;
	if (s->acked)
		(void)queue_tri(s, CL_PSDU_TRI_OPTION_DONE);
	cl_info("LEMF %s: delivering from record %llu (%s)", s->d.name,
	    (unsigned long long)cl_spool_cursor_confirmed(s->cur),
	    s->acked ? "PDU acknowledgement"
		     : "no PDU acknowledgement: at least once, confirmed by "
		       "keep-alives");
}

int
mdf_tri_peek(
    const uint8_t *p, size_t len, int *alt, bool *ack_accepted, size_t *used)
{
	struct cl_psdu_info in;
	int r;

	*alt = -1;
	*ack_accepted = false;
	*used = 0;
	if ((r = cl_psdu_decode(p, len, &in, used, NULL)) != 0)
		return r == CL_ERR_TRUNCATED ? r : CL_ERR_FORMAT;
	if (in.kind == CL_PSDU_KIND_TRI) {
		*alt = in.tri.which;
		*ack_accepted = in.tri.ack_accepted;
	}
	return 0;
}

static void
on_answer(struct mdf_stream *s, uint64_t now_ms)
{
	uint64_t seq;

	if (s->fifo_n == 0) {
		cl_warn("LEMF %s: an answer to no request; ignored", s->d.name);
		return;
	}
	seq = s->fifo[s->fifo_head];
	s->fifo_head = (s->fifo_head + 1) % FIFO_MAX;
	s->fifo_n--;
	if (seq + 1 > confirmed(s)) {
		s->confirm_seq = seq;
		s->confirm_pending = true;
	}
	if (now_ms >= s->confirm_saved_ms + CONFIRM_SAVE_MS &&
	    save_confirmed(s, now_ms) != 0)
		fail(s, now_ms, "cursor not saved");
}

static void
do_read(struct mdf_stream *s, uint64_t now_ms)
{
	struct cl_conn *conn = cl_client_conn(s->cl);
	enum cl_conn_res res;
	uint8_t *w;
	size_t used, n;
	int alt, r;
	bool acc;

	for (;;) {
		if (cl_buf_reserve(&s->rbuf, READ_CHUNK, &w) != 0) {
			fail(s, now_ms, "LEMF sent an oversized PDU");
			return;
		}
		s->rbuf.len -= READ_CHUNK;
		res = cl_conn_read(conn, &s->rbuf, READ_CHUNK, &n);
		if (res == CL_CONN_AGAIN) {
			if (cl_conn_events(conn) & POLLOUT)
				s->want_write = true;
			break;
		}
		if (res != CL_CONN_DATA) {
			fail(s, now_ms, cl_conn_why(conn));
			return;
		}
		while (s->rbuf.len > 0) {
			r = mdf_tri_peek(
			    s->rbuf.d, s->rbuf.len, &alt, &acc, &used);
			if (r == CL_ERR_TRUNCATED)
				break;
			if (r != 0) {
				fail(s, now_ms, "LEMF sent a malformed PS-PDU");
				return;
			}
			switch (alt) {
			case CL_PSDU_TRI_KEEPALIVE_RESP:
			case CL_PSDU_TRI_ACK_RESPONSE:
				if (s->state == UP)
					on_answer(s, now_ms);
				break;
			case CL_PSDU_TRI_KEEPALIVE:
				(void)queue_tri(s, CL_PSDU_TRI_KEEPALIVE_RESP);
				break;
			case CL_PSDU_TRI_OPTION_RESP:
				if (s->state == OPTIONS) {
					s->acked = acc && s->o.want_ack;
					streaming(s, now_ms);
				}
				break;
			default:
				cl_warn("LEMF %s: unexpected PDU (TRI %d) "
					"ignored",
				    s->d.name, alt);
				break;
			}
			if (s->state == IDLE)
				return;
			(void)cl_buf_consume(&s->rbuf, used);
		}
	}
}

static void
do_write(struct mdf_stream *s, uint64_t now_ms)
{
	struct cl_conn *conn = cl_client_conn(s->cl);
	enum cl_conn_res res;
	size_t n, w, off = 0;

	/* What was written is removed once at the end: removing it after
	 * every write moved the rest of the buffer each time. */
	s->want_write = false;
	while (off < s->out.len) {
		n = s->out.len - off > WRITE_MAX ? WRITE_MAX : s->out.len - off;
		res = cl_conn_write(conn, s->out.d + off, n, &w);
		if (res == CL_CONN_AGAIN) {
			if (cl_conn_events(conn) & POLLOUT)
				s->want_write = true;
			break;
		}
		if (res != CL_CONN_DATA) {
			(void)cl_buf_consume(&s->out, off);
			fail(s, now_ms, cl_conn_why(conn));
			return;
		}
		off += (size_t)w;
		s->last_send_ms = now_ms;
	}
	(void)cl_buf_consume(&s->out, off);
}

/* Moves committed records of this destination into the output buffer. */
static int
fill(struct mdf_stream *s, uint64_t now_ms)
{
	struct cl_spool_rec rec;
	struct mdf_meta m;
	struct cl_span pdu;
	int r;

	while (s->out.len < OUT_HIGH) {
		r = cl_spool_cursor_next(s->cur, &rec);
		if (r == CL_ERR_AGAIN)
			break;
		if (r != 0) {
			cl_err("LEMF %s: spool record after %llu unreadable: "
			       "%s; delivery stops here",
			    s->d.name, (unsigned long long)s->read_seq,
			    cl_err_str(r));
			return r;
		}
		if (mdf_meta_parse(rec.payload.p, rec.payload.len, &m, &pdu) !=
		    0) {
			cl_err("LEMF %s: spool record %llu is not an MDF "
			       "record; delivery stops here",
			    s->d.name, (unsigned long long)rec.seq);
			return CL_ERR_FORMAT;
		}
		s->read_seq = rec.seq;
		if (!s->d.all &&
		    cl_htab_get(&s->liids, m.liid, m.liid_len) == NULL)
			continue;
		if ((r = cl_buf_put(&s->out, pdu.p, pdu.len)) != 0)
			return r;
		s->since_req += pdu.len;
		s->st.pdus++;
		s->st.bytes += pdu.len;
	}
	/* Ask for confirmation often enough that the spool can be freed
	 * and an outage costs little to resend, rarely enough to be cheap. */
	if (s->read_seq > s->req_seq &&
	    (s->since_req >= REQ_BYTES || now_ms >= s->last_req_ms + REQ_MS ||
		s->out.len < OUT_HIGH))
		return queue_request(s, now_ms,
		    s->acked ? CL_PSDU_TRI_ACK_REQUEST : CL_PSDU_TRI_KEEPALIVE);
	return 0;
}

void
mdf_stream_pollfd(const struct mdf_stream *s, struct pollfd *p)
{
	p->revents = 0;
	if (s->state == IDLE) {
		(void)cl_client_pollfd(s->cl, p);
		return;
	}
	p->fd = cl_client_conn(s->cl)->fd;
	p->events =
	    (short)(POLLIN | (s->out.len > 0 || s->want_write ? POLLOUT : 0));
}

uint64_t
mdf_stream_run(struct mdf_stream *s, short revents, uint64_t now_ms)
{
	uint64_t next = now_ms + 1000;

	if (s->state == IDLE) {
		if (cl_client_run(s->cl, revents, now_ms) != CL_CLIENT_WENT_UP)
			return cl_client_next_ms(s->cl);
		up(s, now_ms);
		revents = 0;
	}
	if (s->state == IDLE)
		return cl_client_next_ms(s->cl);
	if (revents & (POLLIN | POLLHUP | POLLERR) ||
	    cl_conn_pending(cl_client_conn(s->cl))) {
		do_read(s, now_ms);
		if (s->state == IDLE)
			return cl_client_next_ms(s->cl);
	}
	if (s->state == OPTIONS && now_ms >= s->opt_deadline) {
		cl_warn("LEMF %s: no optionResponse within %llu ms; "
			"delivering without PDU acknowledgement",
		    s->d.name, (unsigned long long)s->o.option_wait_ms);
		s->acked = false;
		streaming(s, now_ms);
	}
	if (s->state == UP) {
		if (fill(s, now_ms) != 0) {
			fail(s, now_ms, "spool read error");
			return cl_client_next_ms(s->cl);
		}
		if (s->confirm_pending &&
		    now_ms >= s->confirm_saved_ms + CONFIRM_SAVE_MS &&
		    save_confirmed(s, now_ms) != 0) {
			fail(s, now_ms, "cursor not saved");
			return cl_client_next_ms(s->cl);
		}
		if (s->fifo_n > 0 &&
		    now_ms >= s->fifo_ms[s->fifo_head] + s->o.ack_timeout_ms) {
			fail(s, now_ms, "no answer to a request in time");
			return cl_client_next_ms(s->cl);
		}
		if (s->out.len == 0 && s->fifo_n == 0 &&
		    now_ms >= s->last_send_ms + s->o.keepalive_ms &&
		    queue_request(s, now_ms, CL_PSDU_TRI_KEEPALIVE) != 0) {
			fail(s, now_ms, "cannot encode keep-alive");
			return cl_client_next_ms(s->cl);
		}
	}
	if (s->out.len > 0 && (revents & POLLOUT || !s->want_write))
		do_write(s, now_ms);
	if (s->state == IDLE)
		return cl_client_next_ms(s->cl);
	if (s->state == OPTIONS && s->opt_deadline < next)
		next = s->opt_deadline;
	if (s->state == UP) {
		if (s->confirm_pending &&
		    s->confirm_saved_ms + CONFIRM_SAVE_MS < next)
			next = s->confirm_saved_ms + CONFIRM_SAVE_MS;
		if (s->fifo_n > 0 &&
		    s->fifo_ms[s->fifo_head] + s->o.ack_timeout_ms < next)
			next = s->fifo_ms[s->fifo_head] + s->o.ack_timeout_ms;
		if (s->out.len == 0 && s->fifo_n == 0 &&
		    s->last_send_ms + s->o.keepalive_ms < next)
			next = s->last_send_ms + s->o.keepalive_ms;
		/* A request is due, unless there is no room for it: then
		 * POLLOUT or an answer brings us back, not the clock. */
		if (s->read_seq > s->req_seq && s->out.len < OUT_HIGH &&
		    s->fifo_n < FIFO_MAX && s->last_req_ms + REQ_MS < next)
			next = s->last_req_ms + REQ_MS;
	}
	return next;
}
