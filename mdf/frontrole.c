/* SPDX-License-Identifier: ISC */
/*
 * The MDF's front role (front.h): the X2/X3 listener, TLS and the POIs'
 * connections in a process of their own, relaying valid PDUs to the MDF.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "front.h"
#include "imsg.h"
#include "log.h"
#include "loop.h"
#include "frontrole.h"
#include "privsep.h"
#include "sandbox.h"
#include "tls.h"
#include "util.h"
#include "x2x3.h"

#define PDU_MAX   (CL_X2X3_FIXED_LEN + CL_X2X3_MAX_HEADER + CL_X2X3_MAX_PAYLOAD)
#define READ_MAX  (256u * 1024)
#define OUT_MAX   (1024u * 1024)
#define STATS_MS  500
#define LISTEN_FD 4 /* where lib/privsep puts the listener */

/* What each side accepts. */
static const struct cl_imsg_type to_front[] = {
    {MDF_FRONT_CREDIT_MSG, "credit", sizeof(struct mdf_front_credit),
	sizeof(struct mdf_front_credit), 0, false, 0},
    {MDF_FRONT_WRITE, "write", 5, 4 + OUT_MAX, 1, false, 0},
    {MDF_FRONT_CLOSE, "close", 4, 4, 0, false, 0},
    {MDF_FRONT_STOP, "stop", 0, 0, 0, false, 0},
    {MDF_FRONT_CRL, "crl", 1, MDF_FRONT_CRL_MAX, 1, false, 0},
};
static const struct cl_imsg_type to_mdf[] = {
    {MDF_FRONT_READY, "ready", 0, 0, 0, false, CL_IMSG_T_ONCE},
    {MDF_FRONT_UP, "up", sizeof(struct mdf_front_up),
	sizeof(struct mdf_front_up), 0, false, 0},
    {MDF_FRONT_DATA, "data", 4 + CL_X2X3_FIXED_LEN, 4 + MDF_FRONT_CHUNK, 1,
	false, 0},
    {MDF_FRONT_GONE, "gone", sizeof(struct mdf_front_gone),
	sizeof(struct mdf_front_gone), 0, false, 0},
    {MDF_FRONT_STATS, "stats", sizeof(struct mdf_front_stats),
	sizeof(struct mdf_front_stats), 0, false, 0},
};

/* ---- the role ---- */

struct fpoi {
	uint32_t id; /* generation << 8 | slot */
	struct cl_conn c;
	char name[CL_CONN_NAME_MAX];
	struct cl_buf in, out;
	uint64_t outstanding; /* DATA octets sent, not credited yet */
	uint64_t consumed;    /* stream octets before in.d[0] */
	struct cl_loop_io *io;
	struct fr *f;
};

struct fr {
	const struct mdf_front_cfg *cfg;
	SSL_CTX *ctx;
	struct cl_front *front;
	struct cl_loop *l;
	struct cl_loop_timer *tick;
	struct cl_loop_pollset *ps;
	struct cl_loop_io *pio;
	struct cl_imsgbuf *ib;
	struct fpoi *pois[MDF_FRONT_POIS];
	uint32_t gen;
	struct cl_log_rl slot_rl;
	struct mdf_front_stats last;
	int status;
};

static void fr_end(struct fr *f, int status);

static void
fr_arm(struct fr *f)
{
	if (cl_imsg_pending(f->ib)) {
		int r = cl_imsg_flush(f->ib);

		if (r != 0 && r != CL_ERR_AGAIN) {
			/* The MDF is gone: nothing to do but end. */
			fr_end(f, 0);
			return;
		}
	}
	if (cl_loop_io_set(f->pio,
		CL_LOOP_READ | (cl_imsg_pending(f->ib) ? CL_LOOP_WRITE : 0)) !=
	    0)
		cl_fatal("front role: event loop: %s", strerror(errno));
}

static int
fr_send(struct fr *f, uint16_t type, uint32_t id, const void *p, size_t len)
{
	uint8_t *m;
	int r;

	if ((m = malloc(4 + len)) == NULL)
		return CL_ERR_NOMEM;
	memcpy(m, &id, 4);
	if (len > 0)
		memcpy(m + 4, p, len);
	r = cl_imsg_compose(f->ib, type, -1, m, 4 + len);
	free(m);
	return r;
}

static void
fpoi_free(struct fpoi *p)
{
	struct fr *f = p->f;

	f->pois[p->id & 0xff] = NULL;
	cl_loop_io_free(p->io);
	cl_conn_close(&p->c);
	cl_buf_release(&p->in);
	cl_buf_release(&p->out);
	free(p);
}

/* The front closes p: the MDF logs the line, with why. */
static void
fpoi_gone(struct fpoi *p, const char *why, bool malformed)
{
	struct mdf_front_gone g;

	memset(&g, 0, sizeof(g));
	g.id = p->id;
	g.malformed = malformed;
	snprintf(g.why, sizeof(g.why), "%s", why);
	if (cl_imsg_compose(p->f->ib, MDF_FRONT_GONE, -1, &g, sizeof(g)) != 0)
		cl_fatal("front role: out of memory");
	fpoi_free(p);
}

/*
 * Sends the whole valid PDUs at the start of p->in to the MDF, as far as
 * the credit goes.  Returns 0, or -1 if p was closed (malformed PDU).
 */
static int
fpoi_relay(struct fpoi *p)
{
	struct cl_x2x3_pdu pdu;
	const char *why = "";
	size_t used, off;
	int r;

	for (;;) {
		off = 0;
		while (off < p->in.len) {
			r = cl_x2x3_decode(
			    p->in.d + off, p->in.len - off, &pdu, &used, &why);
			if (r == CL_ERR_TRUNCATED)
				break;
			if (r != 0) {
				if (off > 0 &&
				    fr_send(p->f, MDF_FRONT_DATA, p->id,
					p->in.d, off) != 0)
					cl_fatal("front role: out of memory");
				cl_err("POI %s (%s): malformed X2/X3 PDU at "
				       "stream offset %llu: %s (%s); closing "
				       "the connection",
				    p->name, p->c.addrstr,
				    (unsigned long long)(p->consumed + off),
				    why, cl_err_str(r));
				fpoi_gone(
				    p, "closed after a malformed PDU", true);
				return -1;
			}
			if (off + used > MDF_FRONT_CHUNK ||
			    p->outstanding + off + used > MDF_FRONT_CREDIT)
				break;
			off += used;
		}
		if (off == 0)
			return 0;
		if (fr_send(p->f, MDF_FRONT_DATA, p->id, p->in.d, off) != 0)
			cl_fatal("front role: out of memory");
		p->outstanding += off;
		p->consumed += off;
		(void)cl_buf_consume(&p->in, off);
	}
}

/* Whether p may read more now: credit left and room for a whole PDU. */
static bool
fpoi_can_read(const struct fpoi *p)
{
	return p->outstanding < MDF_FRONT_CREDIT && p->in.len < PDU_MAX;
}

static void
fpoi_arm(struct fpoi *p)
{
	unsigned w = 0;

	if (fpoi_can_read(p)) {
		w = CL_LOOP_READ;
		/* Bytes TLS holds already: the descriptor does not show
		 * them. */
		if (cl_conn_pending(&p->c))
			cl_loop_io_kick(p->io, CL_LOOP_READ);
	}
	if (p->out.len > 0 || (cl_conn_events(&p->c) & POLLOUT))
		w |= CL_LOOP_WRITE;
	if (cl_loop_io_set(p->io, w) != 0)
		cl_fatal("front role: event loop: %s", strerror(errno));
}

/* Reads and relays while credit lasts.  Returns -1 if p was closed. */
static int
fpoi_pump(struct fpoi *p)
{
	enum cl_conn_res res;
	size_t k;

	for (;;) {
		if (fpoi_relay(p) != 0)
			return -1;
		if (!fpoi_can_read(p))
			break;
		res = cl_conn_read(&p->c, &p->in, READ_MAX, &k);
		if (res == CL_CONN_AGAIN)
			break;
		if (res != CL_CONN_DATA) {
			fpoi_gone(p,
			    cl_conn_why(&p->c)[0] != '\0' ? cl_conn_why(&p->c)
							  : "closed",
			    false);
			return -1;
		}
	}
	return 0;
}

static void
fpoi_io(void *arg, int fd, unsigned what)
{
	struct fpoi *p = arg;
	struct fr *f = p->f;

	(void)fd;
	if ((what & CL_LOOP_READ) && fpoi_pump(p) != 0)
		goto out;
	if ((what & CL_LOOP_WRITE) && p->out.len > 0 &&
	    cl_conn_flush(&p->c, &p->out) == CL_CONN_ERROR) {
		fpoi_gone(p, cl_conn_why(&p->c), false);
		goto out;
	}
	fpoi_arm(p);
out:
	fr_arm(f);
}

/* lib/front's up(): an authenticated POI. */
static int
fr_up(void *arg, struct cl_front_conn *fc)
{
	struct fr *f = arg;
	struct mdf_front_up up;
	struct fpoi *p = NULL;
	struct cl_conn c;
	size_t i;

	if (cl_conn_from_front(&c, fc, "POI") != 0) {
		cl_log_rl(&f->slot_rl, cl_mono_ms(), CL_LOG_WARN,
		    "POI %s: certificate without a common name; closing",
		    fc->peer);
		return -1;
	}
	memset(&up, 0, sizeof(up));
	if (c.ssl == NULL) {
		/* Named by its address, not its port: the name keys the
		 * duplicate filter, the CIN and the share, which must outlive
		 * a reconnection. */
		const char *colon = strrchr(c.addrstr, ':');
		int hl = colon != NULL ? (int)(colon - c.addrstr)
				       : (int)strlen(c.addrstr);

		snprintf(up.name, sizeof(up.name), "plain:%.*s", hl, c.addrstr);
	} else
		snprintf(up.name, sizeof(up.name), "%s", c.peer);
	for (i = 0; i < MDF_FRONT_POIS && f->pois[i] != NULL; i++)
		;
	if (i == MDF_FRONT_POIS || (p = calloc(1, sizeof(*p))) == NULL) {
		cl_log_rl(&f->slot_rl, cl_mono_ms(), CL_LOG_ERR,
		    "POI %s (%s) refused: %d POIs connected already", up.name,
		    c.addrstr, MDF_FRONT_POIS);
		/* Back to the front, which closes it. */
		fc->fd = c.fd;
		fc->ssl = c.ssl;
		return -1;
	}
	p->c = c;
	p->f = f;
	p->id = (++f->gen << 8) | (uint32_t)i;
	memcpy(p->name, up.name, sizeof(p->name));
	cl_buf_init(&p->in, PDU_MAX + READ_MAX);
	cl_buf_init(&p->out, OUT_MAX);
	if ((p->io = cl_loop_io_new(f->l, p->c.fd, fpoi_io, p)) == NULL)
		cl_fatal("front role: event loop: %s", strerror(errno));
	f->pois[i] = p;
	if (p->c.ssl != NULL)
		cl_info("POI %s (%s): connected (%s, %s; authenticated in "
			"%llu ms)",
		    p->name, p->c.addrstr, SSL_get_version(p->c.ssl),
		    SSL_get_cipher_name(p->c.ssl),
		    (unsigned long long)fc->elapsed_ms);
	else
		cl_info("POI %s: connected without TLS", p->c.addrstr);
	up.id = p->id;
	snprintf(up.addr, sizeof(up.addr), "%s", p->c.addrstr);
	if (cl_imsg_compose(f->ib, MDF_FRONT_UP, -1, &up, sizeof(up)) != 0)
		cl_fatal("front role: out of memory");
	fpoi_arm(p);
	return 0;
}

static struct fpoi *
fr_find(struct fr *f, uint32_t id)
{
	struct fpoi *p = f->pois[id & 0xff];

	return p != NULL && p->id == id ? p : NULL;
}

/* The MDF has ended (or failed us): write what it sent, close, end. */
static void
fr_end(struct fr *f, int status)
{
	size_t i;

	f->status = status;
	for (i = 0; i < MDF_FRONT_POIS; i++)
		if (f->pois[i] != NULL) {
			if (f->pois[i]->out.len > 0)
				(void)cl_conn_flush(
				    &f->pois[i]->c, &f->pois[i]->out);
			fpoi_free(f->pois[i]);
		}
	cl_loop_stop(f->l);
}

static void
fr_msg(struct fr *f, const struct cl_imsg *m)
{
	struct mdf_front_credit cr;
	struct fpoi *p;
	uint32_t id;
	char err[512];

	if (m->type == MDF_FRONT_STOP) {
		cl_front_stop(f->front);
		if (cl_loop_pollset_arm(f->ps) != 0)
			cl_fatal("front role: event loop: %s", strerror(errno));
		return;
	}
	if (m->type == MDF_FRONT_CRL) {
		if (cl_tls_crl_set(f->ctx, m->data, m->len, err, sizeof(err)) !=
		    0)
			cl_warn("CRL %s: %s; the lists read before stay in "
				"force",
			    f->cfg->crl, err);
		return;
	}
	if (m->type == MDF_FRONT_CREDIT_MSG) {
		memcpy(&cr, m->data, sizeof(cr));
		if ((p = fr_find(f, cr.id)) == NULL)
			return;
		p->outstanding -= cr.n < p->outstanding ? cr.n : p->outstanding;
		if (fpoi_pump(p) == 0)
			fpoi_arm(p);
		return;
	}
	memcpy(&id, m->data, 4);
	if ((p = fr_find(f, id)) == NULL)
		return; /* closed here meanwhile */
	if (m->type == MDF_FRONT_CLOSE) {
		fpoi_free(p);
		return;
	}
	/* MDF_FRONT_WRITE */
	if (cl_buf_put(&p->out, m->data + 4, m->len - 4) != 0) {
		fpoi_gone(p, "too much to write: it does not read", false);
		return;
	}
	if (cl_conn_flush(&p->c, &p->out) == CL_CONN_ERROR) {
		fpoi_gone(p, cl_conn_why(&p->c), false);
		return;
	}
	fpoi_arm(p);
}

static void
fr_pio(void *arg, int fd, unsigned what)
{
	struct fr *f = arg;
	struct cl_imsg m;
	char err[512];
	int r;

	(void)fd;
	if (what & CL_LOOP_READ) {
		r = cl_imsg_read(f->ib);
		if (r == CL_ERR_CLOSED) {
			fr_end(f, 0); /* the MDF ended */
			return;
		}
		if (r < 0 && r != CL_ERR_AGAIN) {
			cl_err("front role: reading from the MDF: %s",
			    r == CL_ERR_SYSTEM ? strerror(errno)
					       : cl_err_str(r));
			fr_end(f, 1);
			return;
		}
		while ((r = cl_imsg_get(f->ib, &m, err, sizeof(err))) == 1)
			fr_msg(f, &m);
		if (r != 0) {
			cl_err("front role: message from the MDF refused: %s",
			    err);
			fr_end(f, 1);
			return;
		}
	}
	fr_arm(f);
}

static void
fr_tick(void *arg)
{
	struct fr *f = arg;
	struct cl_front_stats fs;
	struct mdf_front_stats st;

	cl_front_stats(f->front, &fs);
	memset(&st, 0, sizeof(st));
	st.accepted = fs.accepted;
	st.refused = fs.refused;
	st.timeouts = fs.timeouts;
	st.failures = fs.failures;
	st.no_slot = fs.no_slot;
	st.authenticated = fs.authenticated;
	st.pending = cl_front_pending(f->front);
	if (memcmp(&st, &f->last, sizeof(st)) != 0) {
		f->last = st;
		if (cl_imsg_compose(
			f->ib, MDF_FRONT_STATS, -1, &st, sizeof(st)) != 0)
			cl_fatal("front role: out of memory");
		fr_arm(f);
	}
}

static size_t
fr_fill(void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next)
{
	struct fr *f = arg;

	return cl_front_pollfds(f->front, pfd, max, now, next);
}

static void
fr_handle(void *arg, struct pollfd *pfd, size_t n, uint64_t now)
{
	struct fr *f = arg;

	cl_front_handle(f->front, pfd, n, now);
	fr_arm(f);
}

/* With the file system still there: the TLS context (the key, the CA,
 * the CRL), the front and the event loop. */
static int
role_prepare(void *arg, int sock)
{
	struct fr *f = arg;
	const struct mdf_front_cfg *cfg = f->cfg;
	struct cl_front_opts fo = cfg->front;
	char err[1024];
	int r;

	if (cfg->cert != NULL) {
		struct cl_tls_cfg tc = {.cert = cfg->cert,
		    .key = cfg->key,
		    .ca = cfg->ca,
		    .crl = cfg->crl,
		    .self = CL_ROLE_MDF,
		    .peer = CL_ROLE_POI};

		if ((f->ctx = cl_tls_server_ctx(&tc, err, sizeof(err))) ==
		    NULL) {
			cl_err("TLS: %s", err);
			return -1;
		}
		/* The CRL comes from the MDF from now on: the front has
		 * no file system. */
		if (cfg->crl != NULL && !cl_tls_crl_freeze(f->ctx))
			return -1;
	}
	fo.what = "POI";
	fo.ctx = f->ctx;
	if (fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) != 0) {
		cl_err("front role: %s", strerror(errno));
		return -1;
	}
	if ((r = cl_front_new(LISTEN_FD, &fo, fr_up, f, &f->front)) != 0) {
		cl_err("X2/X3 listener: %s", cl_err_str(r));
		return -1;
	}
	if ((r = cl_loop_new(&f->l)) != 0 ||
	    (f->tick = cl_loop_timer_new(f->l, fr_tick, f)) == NULL ||
	    cl_loop_timer_every(f->tick, STATS_MS) != 0 ||
	    (f->ps = cl_loop_pollset_new(f->l, cl_front_npollfds(f->front),
		 fr_fill, fr_handle, f)) == NULL ||
	    cl_loop_pollset_arm(f->ps) != 0 ||
	    (f->pio = cl_loop_io_new(f->l, sock, fr_pio, f)) == NULL ||
	    cl_loop_io_set(f->pio, CL_LOOP_READ) != 0 ||
	    cl_imsg_new(sock, to_front, sizeof(to_front) / sizeof(to_front[0]),
		&f->ib) != 0) {
		cl_err("front role: event loop: %s", strerror(errno));
		return -1;
	}
	f->slot_rl = (struct cl_log_rl)CL_LOG_RL_INIT(10000, 5);
	return 0;
}

static int
role_main(void *arg, int sock)
{
	struct fr *f = arg;

	(void)sock;
	if (cl_imsg_compose(f->ib, MDF_FRONT_READY, -1, NULL, 0) != 0)
		return 1;
	fr_arm(f);
	if (cl_loop_run(f->l) != 0) {
		cl_err("front role: event loop: %s", strerror(errno));
		return 1;
	}
	return f->status;
}

static const struct cl_privsep_role front_role = {
    .name = "front",
    .flags = 0, /* it writes its log: stderr may be a file */
    .root = NULL,
    .prepare = role_prepare,
    .sandbox = mdf_front_sandbox,
    .main = role_main,
};

int
mdf_front_sandbox(char *err, size_t errlen)
{
	static const int any[] = {SCMP_SYS(read), SCMP_SYS(write),
	    SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg),
	    SCMP_SYS(sendmsg), SCMP_SYS(close), SCMP_SYS(shutdown),
	    SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getpeername),
	    SCMP_SYS(getsockname), SCMP_SYS(fcntl), SCMP_SYS(epoll_wait),
	    SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	    SCMP_SYS(timerfd_settime)};
	struct cl_sandbox *sb = NULL;
	size_t i;
	int r;

	if ((r = cl_sandbox_begin(&sb, err, errlen)) != 0)
		return r;
	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		(void)cl_sandbox_allow(sb, any[i], -1);
	(void)cl_sandbox_allow(sb, SCMP_SYS(accept4), LISTEN_FD);
	(void)cl_sandbox_allow(sb, SCMP_SYS(accept), LISTEN_FD);
	return cl_sandbox_load(sb, err, errlen);
}

/* ---- the MDF's side ---- */

struct mdf_front {
	pid_t pid;
	int fd;
	struct cl_imsgbuf *ib;
	const char *crl;
	struct cl_file_seen crl_seen; /* as last sent to the front */
	char crl_logged[256];         /* the last failure logged */
	uint64_t crl_checked_ms;
};

pid_t
mdf_front_pid(const struct mdf_front *f)
{
	return f->pid;
}

int
mdf_front_fd(const struct mdf_front *f)
{
	return f->fd;
}

struct cl_imsgbuf *
mdf_front_ibuf(struct mdf_front *f)
{
	return f->ib;
}

int
mdf_front_send(
    struct mdf_front *f, uint16_t type, uint32_t id, const void *p, size_t len)
{
	uint8_t buf[4 + 256], *m = buf;
	int r;

	if (len > sizeof(buf) - 4 && (m = malloc(4 + len)) == NULL)
		return CL_ERR_NOMEM;
	memcpy(m, &id, 4);
	if (len > 0)
		memcpy(m + 4, p, len);
	r = cl_imsg_compose(f->ib, type, -1, m, 4 + len);
	if (m != buf)
		free(m);
	return r;
}

void
mdf_front_crl_check(struct mdf_front *f, uint64_t now_ms)
{
	uint8_t *d = NULL;
	size_t len = 0;
	char err[256];
	int r;

	if (f->crl == NULL ||
	    (f->crl_checked_ms != 0 && now_ms < f->crl_checked_ms + 1000))
		return;
	f->crl_checked_ms = now_ms;
	r = cl_file_reread(f->crl, &f->crl_seen, MDF_FRONT_CRL_MAX, &d, &len,
	    err, sizeof(err));
	if (r < 0 || (r == 1 && len == 0)) {
		if (r == 1)
			snprintf(err, sizeof(err), "empty");
		/* Logged when the reason changes, not every second. */
		if (strcmp(err, f->crl_logged) != 0)
			cl_warn("CRL %s: %s; the lists read before stay in "
				"force",
			    f->crl, err);
		snprintf(f->crl_logged, sizeof(f->crl_logged), "%s", err);
	} else {
		f->crl_logged[0] = '\0';
		if (r == 1 &&
		    cl_imsg_compose(f->ib, MDF_FRONT_CRL, -1, d, len) != 0)
			cl_warn("CRL %s: out of memory; not sent to the front",
			    f->crl);
	}
	free(d);
}

int
mdf_front_start(const struct mdf_front_cfg *cfg, struct mdf_front **out,
    char *err, size_t errlen)
{
	struct fr fr;
	struct mdf_front *f;
	struct cl_imsg m;
	char e[256];
	int r, lfd = cfg->lfd;

	*out = NULL;
	memset(&fr, 0, sizeof(fr));
	fr.cfg = cfg;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		close(lfd);
		snprintf(err, errlen, "out of memory");
		return CL_ERR_NOMEM;
	}
	f->pid = -1;
	f->fd = -1;
	f->crl = cfg->crl;
	/* Looked at before the role reads it: a change after this is sent
	 * (perhaps once more than needed, never once too few). */
	if (f->crl != NULL) {
		uint8_t *d = NULL;
		size_t len;
		char why[256];

		(void)cl_file_reread(f->crl, &f->crl_seen, MDF_FRONT_CRL_MAX,
		    &d, &len, why, sizeof(why));
		free(d);
	}
	f->crl_checked_ms = cl_mono_ms();
	r = cl_privsep_start(
	    &front_role, &fr, &lfd, 1, cfg->user, &f->pid, &f->fd, err, errlen);
	close(lfd);
	if (r != 0)
		goto fail;
	if ((r = cl_imsg_new(f->fd, to_mdf, sizeof(to_mdf) / sizeof(to_mdf[0]),
		 &f->ib)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = cl_imsg_wait(f->ib, &m, e, sizeof(e))) != 1 ||
	    m.type != MDF_FRONT_READY) {
		snprintf(err, errlen, "X2/X3 front role did not start: %s",
		    r == 1 ? "no ready message"
			: r == CL_ERR_CLOSED
			? "it ended (its log line says why)"
			: e);
		r = CL_ERR_CLOSED;
		goto fail;
	}
	if (fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "front role socket: %s", strerror(errno));
		r = CL_ERR_SYSTEM;
		goto fail;
	}
	*out = f;
	return 0;
fail:
	mdf_front_free(f, true);
	return r;
}

void
mdf_front_free(struct mdf_front *f, bool kill_it)
{
	if (f == NULL)
		return;
	if (!kill_it && f->ib != NULL && f->fd >= 0) {
		/* What is queued (the last acknowledgements) goes first. */
		(void)fcntl(
		    f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK);
		(void)cl_imsg_flush(f->ib);
	}
	if (kill_it && f->pid > 0 && cl_privsep_alive(f->pid))
		(void)kill(f->pid, SIGKILL);
	cl_imsg_free(f->ib);
	if (f->fd >= 0)
		close(f->fd);
	/* At the end of its socket the front writes, closes and exits. */
	if (f->pid > 0)
		(void)cl_privsep_wait(f->pid);
	free(f);
}
