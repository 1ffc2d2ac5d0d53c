/* SPDX-License-Identifier: ISC */
/*
 * The POI's output role (roles.h): the only process with the X2/X3 TLS
 * key.  It reads PDUs from the PDU ring, checks their lengths, encodes
 * each with the encoder that refuses what the strict decoder would (the
 * ring's writer parses untrusted packets), and queues it on the
 * connection to the MDF (out.h), which spills to the
 * spool file when memory is full.  While the output is full it stops
 * reading the ring: the match role waits, and so does the capture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "imsg.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "roles.h"
#include "sandbox.h"
#include "tls.h"
#include "x2x3.h"

static const struct cl_imsg_type to_output[] = {
    {POI_IMSG_STATS_REQ, "stats request", 0, 0, 0, false, 0},
    {POI_IMSG_CRL, "revocation lists", 1, POI_CRL_MAX, 1, false, 0},
};

const struct cl_imsg_type poi_from_output[] = {
    {POI_IMSG_READY, "ready", 0, 0, 0, false, CL_IMSG_T_ONCE},
    {POI_IMSG_OUT_STATS, "output stats", sizeof(struct cl_out_stats),
	sizeof(struct cl_out_stats), 0, false, 0},
    {POI_IMSG_OUT_DONE, "output done", sizeof(struct poi_out_done),
	sizeof(struct poi_out_done), 0, false, CL_IMSG_T_ONCE},
};
const size_t poi_from_output_n =
    sizeof(poi_from_output) / sizeof(poi_from_output[0]);

#define DRAIN_MAX 4096

struct output {
	struct poi_output_cfg *cfg;
	struct cl_loop *l;
	struct cl_imsgbuf *ib;
	struct cl_ring *in;
	struct cl_out *o;
	SSL_CTX *tls;
	struct cl_loop_io *sock_io, *in_io;
	struct cl_loop_pollset *ps;
	struct cl_loop_timer *soon, *deadline;
	bool ended, done;
	int status;
};

static struct output O;

static void
fatal(struct output *w, const char *what)
{
	cl_err("output role: %s; stopping", what);
	w->status = 1;
	cl_loop_stop(w->l);
}

static void
flush_sock(struct output *w)
{
	if (cl_imsg_flush(w->ib) == CL_ERR_AGAIN)
		(void)cl_loop_io_set(w->sock_io, CL_LOOP_READ | CL_LOOP_WRITE);
	else
		(void)cl_loop_io_set(w->sock_io, CL_LOOP_READ);
}

static void
send_done(struct output *w)
{
	struct poi_out_done d;

	memset(&d, 0, sizeof(d));
	cl_out_stats(w->o, &d.os);
	d.pending = cl_out_pending(w->o);
	(void)cl_imsg_compose(w->ib, POI_IMSG_OUT_DONE, -1, &d, sizeof(d));
	flush_sock(w);
	w->done = true;
	(void)cl_loop_timer_cancel(w->deadline);
}

static void
check_done(struct output *w)
{
	if (w->ended && !w->done && cl_out_pending(w->o) == 0)
		send_done(w);
}

static void
drain(void *arg)
{
	struct output *w = arg;
	const char *why = "";
	const uint8_t *p;
	uint32_t type;
	size_t len, n;
	int r = 0;

	if (w->ended)
		return;
	for (n = 0; n < DRAIN_MAX && !cl_out_full(w->o); n++) {
		if ((r = cl_ring_peek(w->in, &type, &p, &len)) <= 0)
			break;
		if (type == POI_REC_END) {
			cl_ring_consume(w->in);
			w->ended = true;
			cl_out_barrier(w->o, cl_out_now_ms());
			(void)cl_loop_timer_after(
			    w->deadline, w->cfg->flush_timeout * 1000);
			break;
		}
		if (type != POI_REC_PDU || len > POI_PDUREC_MAX) {
			r = CL_ERR_FORMAT;
			break;
		}
		/* The match role encoded it; the output checks its framing
		 * on its own copy and sends it as it is (the MDF decodes it
		 * strictly).  A drop (memory and spool full) is counted and
		 * logged by the output. */
		r = cl_out_emit_encoded(w->o, p, len, &why);
		cl_ring_consume(w->in);
		if (r == CL_ERR_FORMAT) {
			cl_err("output role: a PDU from the match role is "
			       "malformed (%s)",
			    why);
			break;
		}
		r = 0;
	}
	cl_ring_release(w->in);
	if (r < 0) {
		fatal(w, "the PDU ring is broken");
		return;
	}
	(void)cl_loop_pollset_arm(w->ps);
	if (w->ended) {
		check_done(w);
		return;
	}
	if (cl_out_full(w->o))
		return; /* handle() drains again when there is room */
	if (n == DRAIN_MAX || !cl_ring_sleep(w->in))
		cl_loop_timer_soon(w->soon);
}

static void
on_in(void *arg, int fd, unsigned what)
{
	(void)what;
	cl_ring_clear(fd);
	drain(arg);
}

static size_t
out_fill(
    void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next)
{
	struct output *w = arg;
	int t;

	(void)max;
	if ((t = cl_out_timeout(w->o, (int64_t)now)) >= 0 &&
	    now + (uint64_t)t < *next)
		*next = now + (uint64_t)t;
	return cl_out_pollfd(w->o, pfd) ? 1 : 0;
}

static void
out_handle(void *arg, struct pollfd *pfd, size_t n, uint64_t now)
{
	struct output *w = arg;
	bool was_full = cl_out_full(w->o);

	(void)now;
	cl_out_run(w->o, n > 0 ? pfd[0].revents : 0, cl_out_now_ms());
	if (was_full && !cl_out_full(w->o) && !w->ended)
		cl_loop_timer_soon(w->soon);
	check_done(w);
}

static void
on_deadline(void *arg)
{
	struct output *w = arg;

	if (w->done)
		return;
	cl_err("the MDF did not confirm %llu bytes within %llu s; they are "
	       "lost",
	    (unsigned long long)cl_out_pending(w->o),
	    (unsigned long long)w->cfg->flush_timeout);
	send_done(w);
}

static void
on_sock(void *arg, int fd, unsigned what)
{
	struct output *w = arg;
	struct cl_out_stats st;
	struct cl_imsg im;
	char err[256];
	int r;

	(void)fd;
	if ((what & CL_LOOP_WRITE) != 0)
		flush_sock(w);
	if ((what & CL_LOOP_READ) == 0)
		return;
	if ((r = cl_imsg_read(w->ib)) == CL_ERR_AGAIN)
		return;
	if (r < 0) {
		cl_loop_stop(w->l); /* the parent closed: the end */
		return;
	}
	while ((r = cl_imsg_get(w->ib, &im, err, sizeof(err))) == 1) {
		if (im.type == POI_IMSG_STATS_REQ) {
			cl_out_stats(w->o, &st);
			(void)cl_imsg_compose(
			    w->ib, POI_IMSG_OUT_STATS, -1, &st, sizeof(st));
		} else if (im.type == POI_IMSG_CRL && w->tls != NULL &&
		    cl_tls_crl_set(w->tls, im.data, im.len, err, sizeof(err)) !=
			0)
			cl_warn("CRL: %s; the lists read before stay in force",
			    err);
	}
	if (r < 0) {
		cl_err("output role: from the parent: %s", err);
		w->status = 1;
		cl_loop_stop(w->l);
		return;
	}
	flush_sock(w);
}

/* Before the privileges go: the key, the spool file, the ring. */
static int
output_prepare(void *arg, int sock)
{
	struct output *w = &O;
	int fds[CL_RING_FDS];
	char err[1024];
	int r;

	w->cfg = arg;
	if (cl_tls_secure_init(err, sizeof(err)) != 0) {
		cl_err("%s", err);
		return CL_ERR_SYSTEM;
	}
	if (!w->cfg->insecure) {
		struct cl_tls_cfg tc = {.cert = w->cfg->cert,
		    .key = w->cfg->key,
		    .ca = w->cfg->ca,
		    .crl = w->cfg->crl,
		    .self = CL_ROLE_POI,
		    .peer = CL_ROLE_MDF};

		if ((w->tls = cl_tls_client_ctx(&tc, err, sizeof(err))) ==
		    NULL) {
			cl_err("TLS: %s", err);
			return CL_ERR_SYSTEM;
		}
		/* It opens no file: the parent hands it the lists when the
		 * file changes (POI_IMSG_CRL). */
		(void)cl_tls_crl_freeze(w->tls);
	}
	w->cfg->ocfg.tls = w->tls;
	if ((r = cl_out_new(&w->cfg->ocfg, &w->o)) != 0) {
		cl_err("X2/X3 output: %s", cl_err_str(r));
		return r;
	}
	fds[0] = POI_OUTPUT_PDU_FD;
	fds[1] = POI_OUTPUT_PDU_FD + 1;
	fds[2] = POI_OUTPUT_PDU_FD + 2;
	if ((r = cl_ring_attach(fds, &w->in)) != 0) {
		cl_err("output role: PDU ring: %s", cl_err_str(r));
		return r;
	}
	if ((r = cl_imsg_new(sock, to_output,
		 sizeof(to_output) / sizeof(to_output[0]), &w->ib)) != 0 ||
	    (r = cl_loop_new(&w->l)) != 0 ||
	    (w->sock_io = cl_loop_io_new(w->l, sock, on_sock, w)) == NULL ||
	    (w->in_io = cl_loop_io_new(
		 w->l, cl_ring_data_fd(w->in), on_in, w)) == NULL ||
	    (w->soon = cl_loop_timer_new(w->l, drain, w)) == NULL ||
	    (w->deadline = cl_loop_timer_new(w->l, on_deadline, w)) == NULL ||
	    (w->ps = cl_loop_pollset_new(w->l, 1, out_fill, out_handle, w)) ==
		NULL ||
	    cl_loop_io_set(w->sock_io, CL_LOOP_READ) != 0 ||
	    cl_loop_io_set(w->in_io, CL_LOOP_READ) != 0 ||
	    cl_loop_pollset_arm(w->ps) != 0) {
		cl_err("output role: event loop: %s",
		    cl_err_str(r != 0 ? r : CL_ERR_NOMEM));
		return r != 0 ? r : CL_ERR_NOMEM;
	}
	return 0;
}

static int
output_main(void *arg, int sock)
{
	struct output *w = &O;

	(void)arg;
	(void)sock;
	(void)cl_imsg_compose(w->ib, POI_IMSG_READY, -1, NULL, 0);
	flush_sock(w);
	cl_loop_timer_soon(w->soon);
	if (cl_loop_run(w->l) != 0 && w->status == 0)
		w->status = 1;
	return w->status;
}

static const struct cl_privsep_role output_role = {
    .name = "output",
    .flags = 0, /* the spool file */
    .root = NULL,
    .prepare = output_prepare,
    .sandbox = poi_sandbox_output,
    .main = output_main,
};

int
poi_output_start(struct poi_output_cfg *cfg, const char *user, pid_t *pid,
    int *sock, char *err, size_t errlen)
{
	return cl_privsep_start(&output_role, cfg, cfg->rfds, CL_RING_FDS, user,
	    pid, sock, err, errlen);
}
