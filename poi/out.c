/* SPDX-License-Identifier: ISC */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "err.h"
#include "fsutil.h"
#include "log.h"
#include "out.h"
#include "tls.h"
#include "util.h"

#define CHUNK_SIZE (256u * 1024)
#define KA_MAX     4096
/* A keepalive follows at most this much data, so confirmations (and the
 * memory they release) keep pace with the stream. */
#define KA_EVERY_BYTES (256u * 1024)
#define WRITE_MAX      (1u * 1024 * 1024)
#define READ_CHUNK     16384
#define HEADROOM       (CL_X2X3_MAX_PAYLOAD + CL_X2X3_MAX_HEADER)

struct chunk {
	struct chunk *next;
	uint64_t base; /* stream offset of the first byte */
	size_t len;
	size_t cap;
	uint8_t *data; /* NULL while on disk */
	bool spill;    /* to be written to disk when closed */
	bool on_disk;
	uint64_t disk_off;
};

struct ka {
	uint64_t end; /* stream offset just after this keepalive */
	uint32_t seq;
	int64_t sent_ms; /* 0 until written */
};

struct cl_out {
	struct cl_out_cfg cfg;
	struct chunk *head, *tail;
	uint64_t q_end; /* stream offset after the last queued byte */
	uint64_t sent;  /* written on the current connection */
	uint64_t acked; /* confirmed by the MDF */
	size_t mem;
	int spool_fd;
	int spool_dfd;                 /* the spool file's directory */
	char spool_base[NAME_MAX + 1]; /* the spool file's name in it */
	uint64_t spool_end, spool_used;
	size_t disk_chunks;

	struct cl_client *cl; /* the connection to the MDF (lib/conn) */
	bool want_write;      /* TLS must write before it can read */
	char peer[300];       /* "HOST:PORT" */

	uint32_t ka_seq;
	struct ka kas[KA_MAX];
	size_t ka_head, ka_n;
	int64_t last_ka_ms;
	uint64_t last_ka_off;

	/* Released chunk buffers kept for reuse, so the steady state does
	 * not fault in and zero fresh pages for every 256 KiB. */
	uint8_t *spare[32];
	size_t nspare;

	struct cl_buf rbuf;
	struct cl_out_stats st;
	int64_t last_drop_log_ms;
};

int64_t
cl_out_now_ms(void)
{
	return (int64_t)cl_mono_ms();
}

/*
 * Opens the spill file: its directory must be private (owner, mode, every
 * parent), and the file itself is opened in it without following a link
 * and emptied only once it is known to be a plain file of its own.
 */
static int
spool_open(struct cl_out *o)
{
	const char *path = o->cfg.spool_path;
	char dir[PATH_MAX], err[1024];
	int r;

	if (cl_path_split(path, dir, sizeof(dir), o->spool_base,
		sizeof(o->spool_base)) != 0) {
		cl_err("spool %s: not a file name: %s", path, strerror(errno));
		return CL_ERR_INVALID_ARG;
	}
	if ((r = cl_dir_open_private(dir, &o->spool_dfd, err, sizeof(err))) !=
	    0) {
		cl_err("spool %s: %s", path, err);
		return r;
	}
	o->spool_fd = cl_openat_nofollow(
	    o->spool_dfd, o->spool_base, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (o->spool_fd == -1) {
		cl_err(
		    "spool %s: cannot open: %s", path, cl_fs_strerror(errno));
		return CL_ERR_SYSTEM;
	}
	return 0;
}

/* The connection to the MDF: a lib/conn client, reconnecting with
 * back-off. */
static int
client_new(struct cl_out *o)
{
	struct cl_client_cfg cc;
	char label[320];

	snprintf(label, sizeof(label), "MDF %s", o->peer);
	memset(&cc, 0, sizeof(cc));
	cc.label = label;
	cc.what = "MDF";
	cc.host = o->cfg.host;
	cc.port = o->cfg.port;
	cc.ctx = o->cfg.tls;
	cc.name = o->cfg.servername;
	return cl_client_new(&cc, &o->cl);
}

int
cl_out_new(const struct cl_out_cfg *cfg, struct cl_out **out)
{
	struct cl_out *o;
	int r;

	*out = NULL;
	if (cfg->host == NULL || cfg->port == NULL)
		return CL_ERR_INVALID_ARG;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return CL_ERR_NOMEM;
	o->cfg = *cfg;
	if (o->cfg.mem_max == 0)
		o->cfg.mem_max = 64u * 1024 * 1024;
	if (o->cfg.spool_max == 0)
		o->cfg.spool_max = 1024ULL * 1024 * 1024;
	if (o->cfg.keepalive_ms == 0)
		o->cfg.keepalive_ms = 1000;
	if (o->cfg.ack_timeout_ms == 0)
		o->cfg.ack_timeout_ms = 15000;
	if (o->cfg.servername == NULL)
		o->cfg.servername = o->cfg.host;
	o->spool_fd = -1;
	o->spool_dfd = -1;
	cl_buf_init(&o->rbuf, 64 * 1024);
	snprintf(o->peer, sizeof(o->peer), "%s:%s", o->cfg.host, o->cfg.port);
	if ((r = client_new(o)) != 0) {
		cl_out_free(o);
		return r;
	}
	if (cfg->spool_path != NULL && (r = spool_open(o)) != 0) {
		cl_out_free(o);
		return r;
	}
	*out = o;
	return 0;
}

static bool
is_up(const struct cl_out *o)
{
	return o->cl != NULL && cl_client_state(o->cl) == CL_CLIENT_UP;
}

void
cl_out_free(struct cl_out *o)
{
	struct chunk *c, *n;

	if (o == NULL)
		return;
	cl_client_free(o->cl);
	for (c = o->head; c != NULL; c = n) {
		n = c->next;
		free(c->data);
		free(c);
	}
	if (o->spool_fd != -1) {
		close(o->spool_fd);
		(void)unlinkat(o->spool_dfd, o->spool_base, 0);
	}
	if (o->spool_dfd != -1)
		close(o->spool_dfd);
	while (o->nspare > 0)
		free(o->spare[--o->nspare]);
	cl_buf_release(&o->rbuf);
	free(o);
}

/* Writes a closed spill chunk to the spool file and frees its memory. */
static int
spill(struct cl_out *o, struct chunk *c)
{
	size_t done = 0;
	ssize_t n;

	while (done < c->len) {
		n = pwrite(o->spool_fd, c->data + done, c->len - done,
		    (off_t)(o->spool_end + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			cl_err("spool write: %s", strerror(errno));
			return CL_ERR_SYSTEM;
		}
		done += (size_t)n;
	}
	c->disk_off = o->spool_end;
	c->on_disk = true;
	o->spool_end += c->len;
	o->st.spilled_bytes += c->len;
	free(c->data);
	c->data = NULL;
	o->spool_used -= c->cap - c->len;
	o->disk_chunks++;
	return 0;
}

/* Reads a chunk back from the spool file. */
static int
unspill(struct cl_out *o, struct chunk *c)
{
	size_t done = 0;
	ssize_t n;

	if ((c->data = malloc(c->cap)) == NULL)
		return CL_ERR_NOMEM;
	while (done < c->len) {
		n = pread(o->spool_fd, c->data + done, c->len - done,
		    (off_t)(c->disk_off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			cl_err("spool read: %s", strerror(errno));
			free(c->data);
			c->data = NULL;
			return CL_ERR_SYSTEM;
		}
		done += (size_t)n;
	}
	c->on_disk = false;
	c->spill = false;
	o->mem += c->cap;
	o->spool_used -= c->len;
	if (--o->disk_chunks == 0) {
		/* Spool drained: start the file again from zero. */
		if (ftruncate(o->spool_fd, 0) == -1)
			cl_warn("spool truncate: %s", strerror(errno));
		o->spool_end = 0;
	}
	return 0;
}

/*
 * A spill chunk the sender has reached stays in memory: it becomes an
 * ordinary chunk.
 */
static void
keep_in_memory(struct cl_out *o, struct chunk *c)
{
	if (!c->spill || c->on_disk || c->data == NULL)
		return;
	c->spill = false;
	o->spool_used -= c->cap;
	o->mem += c->cap;
}

/*
 * Returns a chunk at the tail with room for len bytes, or NULL if memory
 * and spool are both full.  force ignores the limits (keepalives).
 */
static struct chunk *
room(struct cl_out *o, size_t len, bool force)
{
	struct chunk *c = o->tail;
	size_t cap;
	bool to_spool = false;

	if (c != NULL && c->data != NULL && c->cap - c->len >= len)
		return c;
	cap = len > CHUNK_SIZE ? len : CHUNK_SIZE;
	if (!force && o->mem + cap > o->cfg.mem_max) {
		if (o->spool_fd == -1 || o->spool_used + cap > o->cfg.spool_max)
			return NULL;
		to_spool = true;
	}
	/* The old tail is closed: a spill chunk goes to disk now unless the
	 * sender is already in it. */
	if (c != NULL && c->spill && c->data != NULL) {
		if (o->sent > c->base || spill(o, c) != 0)
			keep_in_memory(o, c);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (cap == CHUNK_SIZE && o->nspare > 0)
		c->data = o->spare[--o->nspare];
	else if ((c->data = malloc(cap)) == NULL) {
		free(c);
		return NULL;
	}
	c->cap = cap;
	c->base = o->q_end;
	c->spill = to_spool;
	if (to_spool)
		o->spool_used += cap; /* reserved until written */
	else
		o->mem += cap;
	if (o->tail != NULL)
		o->tail->next = c;
	else
		o->head = c;
	o->tail = c;
	return c;
}

static int
enqueue(struct cl_out *o, const struct cl_x2x3_pdu *pdu, bool force)
{
	struct cl_buf b;
	struct chunk *c;
	size_t len = cl_x2x3_encoded_len(pdu), before;
	int r;

	if ((c = room(o, len, force)) == NULL)
		return CL_ERR_FULL;
	/* Encode in place: a cl_buf over the chunk's free space. */
	b.d = c->data;
	b.len = c->len;
	b.alloc = c->cap;
	b.max = c->cap;
	before = b.len;
	if ((r = cl_x2x3_encode(&b, pdu)) != 0)
		return r;
	c->len = b.len;
	o->q_end += b.len - before;
	o->st.pdus++;
	o->st.bytes += b.len - before;
	return 0;
}

static void
send_keepalive(struct cl_out *o, int64_t now_ms)
{
	struct cl_x2x3_pdu ka;
	struct ka *k;

	/* Even when no keepalive can be queued (every slot awaits its ack),
	 * the next try is one interval away, not due at once. */
	o->last_ka_ms = now_ms;
	if (o->ka_n == KA_MAX)
		return;
	cl_x2x3_keepalive(&ka, false, ++o->ka_seq);
	if (enqueue(o, &ka, true) != 0)
		return;
	k = &o->kas[(o->ka_head + o->ka_n) % KA_MAX];
	k->end = o->q_end;
	k->seq = o->ka_seq;
	k->sent_ms = 0;
	o->ka_n++;
	o->last_ka_off = o->q_end;
	o->st.keepalives++;
}

static int emitted(struct cl_out *o, int r, size_t payload_len);

int
cl_out_emit(void *arg, const struct cl_x2x3_pdu *pdu)
{
	return emitted(arg, enqueue(arg, pdu, false), pdu->payload.len);
}

int
cl_out_emit_encoded(
    struct cl_out *o, const uint8_t *p, size_t len, const char **why)
{
	struct chunk *c;
	uint32_t plen;

	*why = "";
	if ((c = room(o, len, false)) == NULL) {
		/* The payload length, for the counters, from a copy. */
		uint8_t h[CL_X2X3_FIXED_LEN];

		plen = 0;
		if (len >= sizeof(h)) {
			memcpy(h, p, sizeof(h));
			plen = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 |
			    (uint32_t)h[10] << 8 | h[11];
		}
		return emitted(o, CL_ERR_FULL, plen);
	}
	/* Checked on our own copy, which the writer of p cannot change,
	 * and queued only if it is sound. */
	memcpy(c->data + c->len, p, len);
	if (cl_x2x3_frame(c->data + c->len, len, &plen, why) != 0)
		return CL_ERR_FORMAT;
	c->len += len;
	o->q_end += len;
	o->st.pdus++;
	o->st.bytes += len;
	return emitted(o, 0, plen);
}

/* After a PDU was queued (r 0) or not: the drop is counted and logged,
 * a keepalive follows every KA_EVERY_BYTES. */
static int
emitted(struct cl_out *o, int r, size_t payload_len)
{
	int64_t now;

	if (r != 0) {
		o->st.dropped++;
		o->st.dropped_bytes += payload_len;
		now = cl_out_now_ms();
		/* Another error (the encoder's) is the caller's to log. */
		if (r == CL_ERR_FULL && now - o->last_drop_log_ms >= 1000) {
			cl_err("X2/X3 output full (memory %zu bytes, spool "
			       "%llu bytes): dropping PDUs, %llu so far",
			    o->mem, (unsigned long long)o->spool_used,
			    (unsigned long long)o->st.dropped);
			o->last_drop_log_ms = now;
		}
		return r;
	}
	if (o->q_end - o->last_ka_off >= KA_EVERY_BYTES)
		send_keepalive(o, cl_out_now_ms());
	return 0;
}

bool
cl_out_full(const struct cl_out *o)
{
	if (o->mem + HEADROOM + CHUNK_SIZE <= o->cfg.mem_max)
		return false;
	return o->spool_fd == -1 ||
	    o->spool_used + HEADROOM + CHUNK_SIZE > o->cfg.spool_max;
}

uint64_t
cl_out_pending(const struct cl_out *o)
{
	return o->q_end - o->acked;
}

void
cl_out_barrier(struct cl_out *o, int64_t now_ms)
{
	if (o->q_end != o->last_ka_off)
		send_keepalive(o, now_ms);
}

static void
release_acked(struct cl_out *o)
{
	struct chunk *c;

	while ((c = o->head) != NULL && c->base + c->len <= o->acked) {
		if (c == o->tail && c->len < c->cap)
			break; /* keep the open tail for more PDUs */
		o->head = c->next;
		if (o->tail == c)
			o->tail = NULL;
		if (c->data != NULL)
			o->mem -= c->cap;
		if (c->data != NULL && c->cap == CHUNK_SIZE &&
		    o->nspare < sizeof(o->spare) / sizeof(o->spare[0]))
			o->spare[o->nspare++] = c->data;
		else
			free(c->data);
		free(c);
	}
}

/*
 * An ack confirms its keepalive and everything before it.  It must name a
 * keepalive written on this connection: an ack of one not yet written, or
 * never queued, would confirm bytes the MDF cannot have received (and free
 * the chunk being written); it is refused and the caller closes the
 * connection.  Returns NULL, or why the ack is refused.
 */
static const char *
on_ack(struct cl_out *o, uint32_t seq)
{
	struct ka *k = NULL;
	size_t i;

	for (i = 0; i < o->ka_n; i++) {
		k = &o->kas[(o->ka_head + i) % KA_MAX];
		if (k->seq == seq)
			break;
	}
	if (i == o->ka_n) {
		/* An ack for a keepalive already confirmed changes nothing. */
		if ((int32_t)((o->ka_n > 0 ? o->kas[o->ka_head].seq
					   : o->ka_seq + 1) -
			seq) > 0)
			return NULL;
		return "MDF acknowledged a keepalive never sent";
	}
	if (k->end > o->sent)
		return "MDF acknowledged a keepalive not yet sent";
	if (k->end > o->acked)
		o->acked = k->end;
	o->ka_head = (o->ka_head + i + 1) % KA_MAX;
	o->ka_n -= i + 1;
	o->st.keepalive_acks++;
	o->st.acked_bytes = o->acked;
	release_acked(o);
	return NULL;
}

/* The connection is lost: what the MDF did not confirm is sent again on
 * the next one. */
static void
fail(struct cl_out *o, int64_t now_ms, const char *what)
{
	if (!is_up(o))
		return;
	cl_warn("MDF %s: connection lost: %s; %llu bytes to resend", o->peer,
	    what, (unsigned long long)(o->q_end - o->acked));
	o->st.disconnects++;
	cl_client_drop(o->cl, (uint64_t)now_ms);
	o->want_write = false;
	cl_buf_reset(&o->rbuf);
}

static void
up(struct cl_out *o, int64_t now_ms)
{
	size_t i;

	o->st.connects++;
	o->want_write = false;
	cl_buf_reset(&o->rbuf);
	/* Resend everything the MDF has not confirmed. */
	o->sent = o->acked;
	for (i = 0; i < o->ka_n; i++)
		o->kas[(o->ka_head + i) % KA_MAX].sent_ms = 0;
	send_keepalive(o, now_ms);
}

/* Reads what the MDF sent: keepalive acks, and its own keepalives. */
static void
do_read(struct cl_out *o, int64_t now_ms)
{
	struct cl_conn *conn = cl_client_conn(o->cl);
	struct cl_x2x3_pdu pdu;
	enum cl_conn_res res;
	const char *why;
	uint8_t *w;
	size_t consumed, n;
	int r;

	for (;;) {
		if (cl_buf_reserve(&o->rbuf, READ_CHUNK, &w) != 0) {
			fail(o, now_ms, "MDF sent an oversized PDU");
			return;
		}
		o->rbuf.len -= READ_CHUNK;
		res = cl_conn_read(conn, &o->rbuf, READ_CHUNK, &n);
		if (res == CL_CONN_AGAIN) {
			if (cl_conn_events(conn) & POLLOUT)
				o->want_write = true;
			break;
		}
		if (res != CL_CONN_DATA) {
			fail(o, now_ms, cl_conn_why(conn));
			return;
		}
		while (o->rbuf.len > 0) {
			r = cl_x2x3_decode(
			    o->rbuf.d, o->rbuf.len, &pdu, &consumed, &why);
			if (r == CL_ERR_TRUNCATED)
				break;
			if (r != 0) {
				char msg[200];

				snprintf(msg, sizeof(msg),
				    "MDF sent a malformed PDU (%s)", why);
				fail(o, now_ms, msg);
				return;
			}
			if (pdu.type == CL_X2X3_KEEPALIVE_ACK) {
				if (!pdu.has_seqno)
					why = "MDF sent a keepalive "
					      "acknowledgement without a "
					      "sequence number";
				else
					why = on_ack(o, pdu.seqno);
				if (why != NULL) {
					fail(o, now_ms, why);
					return;
				}
			} else if (pdu.type == CL_X2X3_KEEPALIVE) {
				struct cl_x2x3_pdu ack;

				cl_x2x3_keepalive(&ack, true, pdu.seqno);
				ack.has_seqno = pdu.has_seqno;
				(void)enqueue(o, &ack, true);
			} else {
				fail(o, now_ms,
				    "MDF sent an unexpected PDU type");
				return;
			}
			(void)cl_buf_consume(&o->rbuf, consumed);
		}
	}
}

static struct chunk *
chunk_at(struct cl_out *o, uint64_t off)
{
	struct chunk *c;

	for (c = o->head; c != NULL; c = c->next)
		if (off >= c->base && off < c->base + c->len)
			return c;
	return NULL;
}

static void
do_write(struct cl_out *o, int64_t now_ms)
{
	struct cl_conn *conn = cl_client_conn(o->cl);
	struct chunk *c = NULL;
	enum cl_conn_res res;
	size_t off, n, i, w;

	o->want_write = false;
	while (o->sent < o->q_end) {
		if (c == NULL || o->sent >= c->base + c->len)
			c = chunk_at(o, o->sent);
		if (CL_NEVER(c == NULL))
			return;
		keep_in_memory(o, c);
		if (c->on_disk && unspill(o, c) != 0) {
			/* XXX a spool read error stalls the stream: it is
			 * logged by unspill() and retried on the next write
			 * opportunity, nothing after it is sent out of
			 * order, but nothing tells the operator more than the
			 * log and the growing out_unacked_bytes gauge. */
			return;
		}
		off = (size_t)(o->sent - c->base);
		n = c->len - off;
		if (n > WRITE_MAX)
			n = WRITE_MAX;
		res = cl_conn_write(conn, c->data + off, n, &w);
		if (res == CL_CONN_AGAIN) {
			if (cl_conn_events(conn) & POLLOUT)
				o->want_write = true;
			break;
		}
		if (res != CL_CONN_DATA) {
			fail(o, now_ms, cl_conn_why(conn));
			return;
		}
		o->sent += (uint64_t)w;
		if (o->sent > o->st.sent_bytes)
			o->st.sent_bytes = o->sent;
	}
	for (i = 0; i < o->ka_n; i++) {
		struct ka *k = &o->kas[(o->ka_head + i) % KA_MAX];

		if (k->end > o->sent)
			break;
		if (k->sent_ms == 0)
			k->sent_ms = now_ms;
	}
}

bool
cl_out_pollfd(struct cl_out *o, struct pollfd *pfd)
{
	struct cl_conn *conn = cl_client_conn(o->cl);

	if (conn == NULL)
		return cl_client_pollfd(o->cl, pfd);
	pfd->fd = conn->fd;
	pfd->events = POLLIN;
	pfd->revents = 0;
	if (o->sent < o->q_end || o->want_write)
		pfd->events |= POLLOUT;
	return true;
}

int
cl_out_timeout(struct cl_out *o, int64_t now_ms)
{
	int64_t t;

	if (is_up(o))
		t = o->last_ka_ms + o->cfg.keepalive_ms - now_ms;
	else
		t = (int64_t)cl_client_next_ms(o->cl) - now_ms;
	if (is_up(o) && cl_conn_pending(cl_client_conn(o->cl)))
		t = 0; /* decrypted bytes the socket does not show */
	return t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
}

void
cl_out_run(struct cl_out *o, short revents, int64_t now_ms)
{
	struct ka *k;

	if (!is_up(o)) {
		switch (cl_client_run(o->cl, revents, (uint64_t)now_ms)) {
		case CL_CLIENT_FAILED:
			o->st.connect_failures++;
			return;
		case CL_CLIENT_WENT_UP:
			up(o, now_ms);
			break;
		case CL_CLIENT_NONE:
			return;
		}
		revents = 0;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP) ||
	    cl_conn_pending(cl_client_conn(o->cl)))
		do_read(o, now_ms);
	if (!is_up(o))
		return;
	if (now_ms - o->last_ka_ms >= (int64_t)o->cfg.keepalive_ms)
		send_keepalive(o, now_ms);
	do_write(o, now_ms);
	if (!is_up(o))
		return;
	if (o->ka_n > 0) {
		k = &o->kas[o->ka_head];
		if (k->sent_ms != 0 &&
		    now_ms - k->sent_ms > (int64_t)o->cfg.ack_timeout_ms)
			fail(o, now_ms, "keepalive not acknowledged in time");
	}
}

void
cl_out_stats(const struct cl_out *o, struct cl_out_stats *st)
{
	*st = o->st;
	st->mem_bytes = o->mem;
	st->spool_bytes = o->spool_used;
	st->unacked_bytes = o->q_end - o->acked;
	st->connected = is_up(o);
}
