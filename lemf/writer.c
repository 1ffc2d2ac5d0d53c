/* SPDX-License-Identifier: ISC */
/*
 * The writer role (writer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "filters.h"
#include "imsg.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "out.h"
#include "psdu_dec.h"
#include "writer.h"

#define FLUSH_MS 100 /* buffered output waits at most about this */

/* A sync of the output, run by the worker: lemf_sync_run() touches only
 * the job (descriptors lemf_out_sync_begin() duplicated). */
struct sync_work {
	struct cl_work w; /* first: the container cast */
	struct lemf_sync_job job;
};

static struct {
	struct cl_loop *l;
	struct lemf_out *out;
	struct cl_imsgbuf *ib;
	struct cl_loop_io *io;
	struct cl_workq *wq; /* made in prepare(): no thread after the drop */
	struct cl_loop_timer *flush_t;
	struct sync_work sw;
	bool busy;          /* a sync pushed and not yet collected */
	uint64_t running;   /* its token */
	uint64_t asked;     /* the last token asked for */
	bool final, failed; /* LEMF_W_FINAL came; the output failed */
	struct lemf_counts counts;
	/* restore: records waiting to go to the front */
	struct lemf_m_restore batch[LEMF_RESTORE_BATCH];
	size_t nbatch;
} w;

static void
failed(const char *what, int r)
{
	if (w.failed)
		return;
	cl_err("writer role: cannot write the output (%s: %s%s%s): stopping; "
	       "nothing more is acknowledged, the MDF keeps and resends what "
	       "was not",
	    what, cl_err_str(r), r == CL_ERR_SYSTEM ? ": " : "",
	    r == CL_ERR_SYSTEM ? strerror(errno) : "");
	w.failed = true;
	cl_loop_stop(w.l);
}

/* ---- at start: the stream state of pdus.jsonl, to the front ---- */

static int
restore_send(void)
{
	int r;

	if (w.nbatch == 0)
		return 0;
	if ((r = cl_imsg_compose(w.ib, LEMF_F_RESTORE, -1, w.batch,
		 w.nbatch * sizeof(w.batch[0]))) != 0 ||
	    (r = cl_imsg_flush(w.ib)) != 0)
		return r;
	w.nbatch = 0;
	return 0;
}

static int
restore_one(void *arg, int kind, const uint8_t *liid, size_t liid_len,
    uint32_t cin, uint32_t seq, const uint8_t hash[static 32])
{
	struct lemf_m_restore *x;

	(void)arg;
	if (w.nbatch == LEMF_RESTORE_BATCH && restore_send() != 0)
		return CL_ERR_CLOSED;
	x = &w.batch[w.nbatch++];
	memset(x, 0, sizeof(*x));
	x->kind = (uint32_t)kind;
	x->cin = cin;
	x->seq = seq;
	x->liid_len = (uint32_t)liid_len;
	memcpy(x->liid, liid, liid_len);
	memcpy(x->hash, hash, 32);
	return 0;
}

/* ---- syncs ---- */

static int
sync_run(struct cl_work *cw)
{
	return lemf_sync_run(&((struct sync_work *)cw)->job);
}

static void sync_done(struct cl_work *cw, int r);

static void
sync_kick(void)
{
	int r;

	if (w.busy || w.failed || w.asked == w.running)
		return;
	if ((r = lemf_out_sync_begin(w.out, &w.sw.job)) != 0) {
		failed("sync", r);
		return;
	}
	w.running = w.asked;
	w.sw.w.run = sync_run;
	w.sw.w.done = sync_done;
	w.busy = true;
	cl_workq_push(w.wq, &w.sw.w);
}

static void
link_watch(void)
{
	if (cl_loop_io_set(w.io,
		CL_LOOP_READ | (cl_imsg_pending(w.ib) ? CL_LOOP_WRITE : 0)) !=
	    0)
		failed("watching the front's socket", CL_ERR_SYSTEM);
}

/* In the loop: everything sent before the sync asked for is on disk. */
static void
sync_done(struct cl_work *cw, int r)
{
	(void)cw;
	w.busy = false;
	if (r != 0) {
		errno = w.sw.job.err;
		failed("sync", r);
		return;
	}
	if ((r = cl_imsg_compose(w.ib, LEMF_F_SYNCED, -1, &w.running, 8)) !=
	    0) {
		failed("answer", r);
		return;
	}
	if ((r = cl_imsg_flush(w.ib)) != 0 && r != CL_ERR_AGAIN) {
		cl_loop_stop(w.l); /* the front is gone */
		return;
	}
	link_watch();
	sync_kick();
}

static void
on_flush_timer(void *arg)
{
	int r;

	(void)arg;
	if (!w.failed && (r = lemf_out_flush(w.out)) != 0)
		failed("flush", r);
}

/* ---- records ---- */

static void
rec(const struct cl_imsg *m)
{
	struct lemf_m_rec h;
	struct lemf_result res;
	struct cl_psdu_info in;
	struct timespec rx;
	const uint8_t *p;
	const char *why;
	size_t used, off, n;
	int r;

	memcpy(&h, m->data, sizeof(h));
	off = sizeof(h) + (h.has_stored ? 32 : 0) + h.why_len;
	if (h.why_len >= sizeof(res.why) || off > m->len) {
		cl_err("writer role: a record from the front that does not add "
		       "up");
		failed("record", CL_ERR_FORMAT);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.verdict = (enum lemf_verdict)h.verdict;
	res.kind = h.kind;
	res.verified = h.verified;
	res.expected = h.expected;
	res.has_stored = h.has_stored != 0;
	p = m->data + sizeof(h);
	if (res.has_stored) {
		memcpy(res.stored, p, 32);
		p += 32;
	}
	memcpy(res.why, p, h.why_len);
	res.why[h.why_len] = '\0';
	rx.tv_sec = (time_t)h.rx_sec;
	rx.tv_nsec = (long)h.rx_nsec;
	/* The front decoded and checked it: the same decoder must agree. */
	n = m->len - off;
	r = cl_psdu_decode(m->data + off, n, &in, &used, &why);
	if (r != 0 || used != n) {
		cl_err("writer role: a record from the front does not decode "
		       "(%s)",
		    r != 0 ? why : "trailing octets");
		failed("record", CL_ERR_FORMAT);
		return;
	}
	switch (h.op) {
	case LEMF_REC_GAP:
		if ((r = lemf_out_gap(w.out, &in, &res, &rx)) != 0)
			break;
		r = lemf_out_pdu(w.out, &in, h.hash, &res, &rx);
		break;
	case LEMF_REC_PDU:
		r = lemf_out_pdu(w.out, &in, h.hash, &res, &rx);
		break;
	case LEMF_REC_OTHER:
		r = lemf_out_pdu(w.out, &in, h.hash, NULL, &rx);
		break;
	case LEMF_REC_CONFLICT:
		r = lemf_out_conflict(w.out, &in, h.hash, &res, &rx);
		break;
	default:
		cl_err("writer role: a record of unknown kind %u from the "
		       "front",
		    (unsigned)h.op);
		r = CL_ERR_FORMAT;
	}
	if (r != 0)
		failed("pdus.jsonl", r);
}

static void
bad(const struct cl_imsg *m)
{
	struct lemf_m_bad b;
	struct timespec rx;
	int r;

	memcpy(&b, m->data, sizeof(b));
	b.peer[sizeof(b.peer) - 1] = '\0';
	b.why[sizeof(b.why) - 1] = '\0';
	rx.tv_sec = (time_t)b.rx_sec;
	rx.tv_nsec = (long)b.rx_nsec;
	if ((r = lemf_out_bad(w.out, b.peer, b.offset, b.err, b.why, &rx)) != 0)
		failed("pdus.jsonl", r);
}

static void
on_link(void *arg, int fd, unsigned what)
{
	struct cl_imsg m;
	char err[256];
	int r;

	(void)arg;
	(void)fd;
	if (what & CL_LOOP_WRITE) {
		r = cl_imsg_flush(w.ib);
		if (r != 0 && r != CL_ERR_AGAIN) {
			cl_loop_stop(w.l);
			return;
		}
	}
	if (what & CL_LOOP_READ) {
		r = cl_imsg_read(w.ib);
		if (r == CL_ERR_CLOSED) {
			/* The front ended: what it sent is written and
			 * synced, nothing is answered. */
			if (!w.final)
				cl_info("writer role: the front is gone; "
					"syncing what it sent");
			cl_loop_stop(w.l);
			return;
		}
		if (r < 0 && r != CL_ERR_AGAIN && r != CL_ERR_FULL) {
			cl_err("writer role: reading from the front: %s",
			    cl_err_str(r));
			failed("front", r);
			return;
		}
		while (!w.failed && !w.final &&
		    (r = cl_imsg_get(w.ib, &m, err, sizeof(err))) == 1) {
			switch (m.type) {
			case LEMF_W_REC:
				rec(&m);
				break;
			case LEMF_W_BAD:
				bad(&m);
				break;
			case LEMF_W_SYNC:
				memcpy(&w.asked, m.data, 8);
				sync_kick();
				break;
			case LEMF_W_SUMMARY:
			case LEMF_W_FINAL:
				memcpy(&w.counts, m.data, sizeof(w.counts));
				if (m.type == LEMF_W_FINAL) {
					w.final = true;
					cl_loop_stop(w.l);
				} else if ((r = lemf_out_summary(
						w.out, &w.counts)) != 0)
					cl_err("summary.json: %s: %s",
					    cl_err_str(r), strerror(errno));
				break;
			}
		}
		if (r < 0) {
			cl_err("writer role: from the front: %s", err);
			failed("front", r);
			return;
		}
	}
	link_watch();
}

/* ---- the role ---- */

/* Before the drop: the output directory becomes the working directory,
 * that the role's root "." names (the directory the parent checked,
 * not a path looked up again); and the sync worker's thread (no thread
 * can be made once RLIMIT_NPROC is 0; the seccomp filter covers it
 * too). */
static int
role_prepare(void *arg, int sock)
{
	int r;

	(void)arg;
	(void)sock;
	if (fchdir(LEMF_WRITER_DIR) != 0) {
		cl_err(
		    "writer role: the output directory: %s", strerror(errno));
		return -1;
	}
	{
		/* The JSON reader seeds its hash tables from /dev/urandom on
		 * first use: here, not under the filter. */
		static const char line[] = "{\"kind\":\"cc\"}";
		struct lemf_jline l;
		char e[256];

		(void)lemf_jline_parse(
		    (const uint8_t *)line, sizeof(line) - 1, &l, e, sizeof(e));
	}
	if ((r = cl_workq_new(1, &w.wq)) != 0) {
		w.wq = NULL;
		cl_err("writer role: cannot start the sync worker: %s",
		    cl_err_str(r));
		return -1;
	}
	return 0;
}

static int
role_main(void *varg, int sock)
{
	struct lemf_writer_arg *a = varg;
	const struct lemf_restore_stats *rs;
	char err[1024];
	int r, fd = LEMF_WRITER_LINK, status = 1;

	(void)sock;
	if (cl_imsg_new(fd, lemf_to_writer, lemf_to_writer_n, &w.ib) != 0) {
		cl_err("writer role: out of memory");
		goto out;
	}
	if (lemf_out_open_with(LEMF_WRITER_DIR, a->dir, restore_one, NULL,
		&w.out, err, sizeof(err)) != 0 ||
	    (a->raw &&
		lemf_out_keep_raw(w.out, a->dir, err, sizeof(err)) != 0)) {
		cl_err("output: %s", err);
		goto out;
	}
	rs = lemf_out_restored(w.out);
	if (restore_send() != 0 ||
	    cl_imsg_compose(w.ib, LEMF_F_READY, -1, rs, sizeof(*rs)) != 0 ||
	    cl_imsg_flush(w.ib) != 0) {
		cl_err("writer role: the front did not take the restored "
		       "state");
		goto out;
	}
	if (rs->lines > 0)
		cl_info("restart: %llu lines of pdus.jsonl read, %llu PDUs "
			"restored, %llu unreadable lines ignored",
		    (unsigned long long)rs->lines, (unsigned long long)rs->pdus,
		    (unsigned long long)rs->bad_lines);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		cl_err("writer role: fcntl: %s", strerror(errno));
		goto out;
	}
	if ((r = cl_loop_new(&w.l)) != 0 || cl_loop_workq(w.l, w.wq) != 0 ||
	    (w.flush_t = cl_loop_timer_new(w.l, on_flush_timer, NULL)) ==
		NULL ||
	    cl_loop_timer_every(w.flush_t, FLUSH_MS) != 0 ||
	    (w.io = cl_loop_io_new(w.l, fd, on_link, NULL)) == NULL ||
	    cl_loop_io_set(w.io, CL_LOOP_READ) != 0) {
		cl_err("writer role: event loop: %s", strerror(errno));
		goto out;
	}
	if (cl_loop_run(w.l) != 0) {
		cl_err("writer role: event loop: %s", strerror(errno));
		goto out;
	}
	status = 0;
out:
	cl_loop_io_free(w.io);
	cl_loop_timer_free(w.flush_t);
	if (w.wq != NULL) {
		if (w.l != NULL)
			cl_loop_workq_detach(w.l, w.wq);
		cl_workq_free(w.wq); /* a sync in progress ends first */
	}
	if (w.busy && w.sw.job.err != 0)
		w.failed = true;
	if (w.out != NULL) {
		if (!w.failed && (r = lemf_out_sync(w.out)) != 0) {
			cl_err("final sync: %s: %s", cl_err_str(r),
			    strerror(errno));
			w.failed = true;
		}
		if (w.final) {
			char line[512];

			lemf_summary_line(&w.counts, line, sizeof(line));
			cl_info("%s", line);
			if ((r = lemf_out_summary(w.out, &w.counts)) != 0)
				cl_err("summary.json: %s: %s", cl_err_str(r),
				    strerror(errno));
		}
		if (lemf_out_close(w.out) != 0)
			w.failed = true;
	}
	cl_loop_free(w.l);
	cl_imsg_free(w.ib);
	return w.failed ? 1 : status;
}

const struct cl_privsep_role lemf_writer_role = {
    .name = "writer",
    .flags = 0,
    .root = ".", /* the output directory (role_prepare()) */
    .prepare = role_prepare,
    .sandbox = lemf_filter_writer,
    .main = role_main,
};
