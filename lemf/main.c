/* SPDX-License-Identifier: ISC */
/*
 * clearli-lemf: the reference law-enforcement receiver.  Accepts TS 102
 * 232-1 PS-PDUs from MDFs over TLS 1.3 (mutual authentication) or, with
 * --insecure-plaintext, TCP; checks sequence numbers per stream, drops
 * exact repeats, verifies integrity PDUs, writes JSON lines and per-LIID
 * pcap files, and answers keep-alives and acknowledgement requests only
 * after what came before is on disk.  See clearli-lemf(8).
 */
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "conf.h"
#include "digest.h"
#include "err.h"
#include "front.h"
#include "log.h"
#include "net.h"
#include "out.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "recv.h"
#include "tls.h"
#include "util.h"

#define MAX_CONN   256
#define READ_CHUNK 65536
#define IN_MAX     (CL_PSDU_DEC_MAX + 2 * READ_CHUNK)
#define OUTQ_MAX   (1024u * 1024)
#define FLUSH_MS   100 /* buffered output waits at most about this */

struct opts {
	char *listen;
	char *port_file;
	char *cert, *key, *ca, *crl;
	char *out_dir;
	char *integrity_key;
	bool ack;
	int level;
	bool insecure;
	bool check;
	char *decode;
	bool raw; /* keep the raw PS-PDUs in pdus.ber */
	struct cl_front_opts front;
};

struct conn {
	int fd;
	SSL *ssl;
	bool up; /* TLS handshake done (or plain TCP): always, in g.cl */
	char peer[80];
	uint64_t offset; /* stream bytes consumed */
	struct cl_buf in;
	struct cl_buf answers; /* waiting for a sync to end */
	size_t covered;        /* answers.d[0..covered): by the sync running */
	struct cl_buf outq;
	bool closing;
};

static volatile sig_atomic_t got_term, got_usr1;

static struct {
	struct opts *o;
	struct lemf_recv *rv;
	struct lemf_out *out;
	struct cl_psheader ans;
	bool failed; /* output failed: stop without acknowledging */
	struct conn cl[MAX_CONN];
	int64_t flushed_ms;
} g;

/*
 * Syncing runs in a thread of its own, so that reading and decoding go on
 * while the disk works: an fdatasync() of a busy output takes
 * milliseconds, and a syncfs() with many LIIDs tens of them, during which
 * the receiver used to stop reading (the latency of everything behind it
 * grew, and so did the sender's backlog).  One job at a time: the
 * answers queued before a job began (their data written before it) go
 * out when it ends; answers queued meanwhile wait for the next job,
 * which begins as soon as this one ends.  Only the job crosses between
 * the threads, under the mutex; the thread touches nothing else.
 */
static struct {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lemf_sync_job job;
	bool queued; /* job handed over, not finished (under mu) */
	bool stop;   /* (under mu) */
	int result;  /* of the last job (under mu) */
	int err;
	bool running; /* thread started */
	bool busy;    /* main thread: a job begun and not yet collected */
	int efd;      /* eventfd: the thread counts finished jobs */
} sy = {.efd = -1};

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: clearli-lemf [options]\n"
	    "       clearli-lemf --decode FILE\n"
	    "\n"
	    "Reference law-enforcement receiver for ETSI TS 102 232 PS-PDUs "
	    "from\n"
	    "clearli-mdf: checks sequence numbers, removes repeats, verifies "
	    "integrity\n"
	    "PDUs and writes JSON lines and per-LIID pcap files.\n"
	    "\n"
	    "  -l, --listen ADDR:PORT    address to listen on (port 0: any)\n"
	    "      --port-file PATH      write the bound port here once "
	    "listening\n"
	    "      --tls-cert FILE       LEMF certificate (PEM)\n"
	    "      --tls-key FILE        LEMF private key (PEM, mode 0600)\n"
	    "      --tls-ca FILE         CA certificates that sign the MDFs' "
	    "certificates\n"
	    "      --tls-crl FILE        revocation lists of those CAs (PEM; "
	    "read again\n"
	    "                            when the file "
	    "changes)\n" CL_FRONT_USAGE
	    "      --insecure-plaintext  accept TCP without TLS (command line "
	    "only; warns)\n"
	    "  -o, --out-dir DIR         output directory (required)\n"
	    "      --integrity-key PEM   Ed25519 public key: verify "
	    "integrity PDUs\n"
	    "      --ack yes|no          accept the pDUAcknowledgement option "
	    "(default yes)\n"
	    "      --log-level LEVEL     error, warning, info (default) or "
	    "debug\n"
	    "  -c, --config FILE         read options from FILE (key = "
	    "value)\n"
	    "  -n, --check               check the configuration, then exit\n"
	    "      --decode FILE         print the PS-PDUs in FILE as JSON "
	    "lines, then exit\n"
	    "      --raw                 also keep every accepted PS-PDU, as "
	    "received,\n"
	    "                            in OUT-DIR/pdus.ber\n"
	    "  -v, --verbose             debug logging\n"
	    "  -h, --help                this text\n"
	    "      --version             print the version\n");
}

static int
set_str(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? CL_ERR_NOMEM : 0;
}

static int
set_opt(void *arg, const char *k, const char *v, char *err, size_t errlen)
{
	struct opts *o = arg;
	int r;

	if ((r = cl_front_option(&o->front, k, v, err, errlen)) !=
	    CL_ERR_NOT_FOUND)
		return r;
	if (strcmp(k, "listen") == 0) {
		char h[256];
		uint16_t p;

		if ((r = cl_net_split(NULL, v, CL_NET_PORT_ANY, h, sizeof(h),
			 &p, err, errlen)) != 0)
			return r;
		return set_str(&o->listen, v);
	}
	if (strcmp(k, "port-file") == 0)
		return set_str(&o->port_file, v);
	if (strcmp(k, "tls-cert") == 0)
		return set_str(&o->cert, v);
	if (strcmp(k, "tls-key") == 0)
		return set_str(&o->key, v);
	if (strcmp(k, "tls-ca") == 0)
		return set_str(&o->ca, v);
	if (strcmp(k, "tls-crl") == 0)
		return set_str(&o->crl, v);
	if (strcmp(k, "out-dir") == 0)
		return set_str(&o->out_dir, v);
	if (strcmp(k, "integrity-key") == 0)
		return set_str(&o->integrity_key, v);
	if (strcmp(k, "ack") == 0) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
			o->ack = strcmp(v, "yes") == 0;
			return 0;
		}
		snprintf(err, errlen, "'%s' is not yes or no", v);
		return CL_ERR_FORMAT;
	}
	if (strcmp(k, "log-level") == 0) {
		static const char *const lv[] = {
		    "error", "warning", "info", "debug"};
		int i;

		for (i = 0; i < 4; i++)
			if (strcmp(v, lv[i]) == 0) {
				o->level = i;
				return 0;
			}
		snprintf(err, errlen,
		    "'%s' is not error, warning, info or "
		    "debug",
		    v);
		return CL_ERR_FORMAT;
	}
	snprintf(err, errlen, "unknown option");
	return CL_ERR_NOT_FOUND;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	if (cl_sha256(p, n, out) != 0)
		cl_fatal("SHA-256 failed");
}

/* ---- --decode ---- */

static int
decode_file(const char *path)
{
	struct cl_psdu_info in;
	struct cl_buf line;
	struct stat st;
	const uint8_t *p = NULL;
	const char *why;
	uint8_t h[32];
	size_t off = 0, used, size = 0;
	int fd, r, rc = 1;

	cl_buf_init(&line, 4 * CL_PSDU_DEC_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		cl_err("%s: %s", path, strerror(errno));
		goto out;
	}
	size = (size_t)st.st_size;
	if (size > 0 &&
	    (p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)) ==
		MAP_FAILED) {
		p = NULL;
		cl_err("%s: %s", path, strerror(errno));
		goto out;
	}
	while (off < size) {
		r = cl_psdu_decode(p + off, size - off, &in, &used, &why);
		if (r != 0) {
			cl_err("%s: %s PS-PDU at offset %zu: %s (%s)", path,
			    r == CL_ERR_TRUNCATED ? "truncated" : "malformed",
			    off, why, cl_err_str(r));
			goto out;
		}
		sha256(in.pdu.p, in.pdu.len, h);
		cl_buf_reset(&line);
		if ((r = lemf_json_pdu(&line, &in, h, NULL, true, NULL)) != 0) {
			cl_err("%s: PDU at offset %zu: %s", path, off,
			    cl_err_str(r));
			goto out;
		}
		if (fwrite(line.d, 1, line.len, stdout) != line.len) {
			cl_err("stdout: write failed");
			goto out;
		}
		off += used;
	}
	if (fflush(stdout) != 0) {
		cl_err("stdout: write failed");
		goto out;
	}
	rc = 0;
out:
	if (p != NULL)
		munmap((void *)(uintptr_t)p, size);
	if (fd >= 0)
		close(fd);
	cl_buf_release(&line);
	return rc;
}

/* ---- connections ---- */

static void
conn_free(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	cl_buf_release(&c->in);
	cl_buf_release(&c->answers);
	cl_buf_release(&c->outq);
	c->fd = -1;
	c->ssl = NULL;
}

static void
out_failed(const char *what, int r)
{
	if (g.failed)
		return;
	cl_err("cannot write the output (%s: %s%s%s): stopping; nothing more "
	       "is acknowledged, the MDF keeps and resends what was not",
	    what, cl_err_str(r), r == CL_ERR_SYSTEM ? ": " : "",
	    r == CL_ERR_SYSTEM ? strerror(errno) : "");
	g.failed = true;
}

/* Queues an answer PDU (sent after the next sync). */
static void
answer(struct conn *c, int which, bool opt_requested)
{
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	g.ans.sec = ts.tv_sec;
	g.ans.usec = (uint32_t)(ts.tv_nsec / 1000);
	if (which == CL_PSDU_TRI_OPTION_RESP)
		r = cl_psdu_option_response(
		    &c->answers, &g.ans, opt_requested, g.o->ack);
	else
		r = cl_psdu_tri(&c->answers, &g.ans, which);
	if (r != 0) {
		cl_warn("%s: cannot queue an answer (%s); closing", c->peer,
		    cl_err_str(r));
		c->closing = true;
		return;
	}
	g.ans.seq++;
}

static void
control(struct conn *c, const struct cl_psdu_info *in)
{
	const struct cl_psdu_tri_dec *x = &in->tri;
	const char *name = cl_psdu_tri_name(x->which);

	lemf_recv_counts(g.rv)->control++;
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
			: g.o->ack    ? "accepted"
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
	struct lemf_result res;
	uint8_t h[32];
	char liid[3 * CL_PSDU_LIID_MAX + 8];
	int r;

	sha256(in->pdu.p, in->pdu.len, h);
	lemf_liid_text(in->liid.p, in->liid.len, liid, sizeof(liid));
	if (lemf_kind_of(in) < 0) {
		lemf_recv_other(g.rv);
		if ((r = lemf_out_pdu(g.out, in, h, NULL, rx)) != 0)
			out_failed("pdus.jsonl", r);
		return;
	}
	if ((r = lemf_recv_pdu(g.rv, in, h, &res)) != 0)
		cl_fatal("receive state: %s", cl_err_str(r));
	/* LIIDs are untrusted: logged in their file-name form. */
	switch (res.verdict) {
	case LEMF_GAP:
		cl_err("GAP in %s stream LIID %s CIN %u from %s: expected "
		       "seq %llu, got %u (%llu missing)",
		    lemf_kind_name(res.kind), liid, in->cin, c->peer,
		    (unsigned long long)res.expected, in->seq,
		    (unsigned long long)(in->seq - res.expected));
		if ((r = lemf_out_gap(g.out, in, &res, rx)) != 0)
			out_failed("pdus.jsonl", r);
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
		if ((r = lemf_out_pdu(g.out, in, h, &res, rx)) != 0)
			out_failed("output", r);
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
		if ((r = lemf_out_conflict(g.out, in, h, &res, rx)) != 0)
			out_failed("pdus.jsonl", r);
		break;
	}
}

/* Decodes what is buffered; sets c->closing on a malformed PDU. */
static void
handle(struct conn *c)
{
	struct cl_psdu_info in;
	struct timespec rx;
	const char *why;
	size_t used, off = 0;
	int r;

	clock_gettime(CLOCK_REALTIME, &rx);
	while (!c->closing && !g.failed && off < c->in.len) {
		r = cl_psdu_decode(
		    c->in.d + off, c->in.len - off, &in, &used, &why);
		if (r == CL_ERR_TRUNCATED)
			break;
		if (r != 0) {
			cl_err("malformed PDU from %s at stream offset %llu: "
			       "%s (%s); closing this connection",
			    c->peer, (unsigned long long)(c->offset + off), why,
			    cl_err_str(r));
			lemf_recv_counts(g.rv)->bad++;
			if ((r = lemf_out_bad(g.out, c->peer, c->offset + off,
				 r, why, &rx)) != 0)
				out_failed("pdus.jsonl", r);
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

static void *
sync_main(void *arg)
{
	int r;
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&sy.mu);
	for (;;) {
		while (!sy.queued && !sy.stop)
			pthread_cond_wait(&sy.cv, &sy.mu);
		if (!sy.queued)
			break;
		pthread_mutex_unlock(&sy.mu);
		r = lemf_sync_run(&sy.job);
		pthread_mutex_lock(&sy.mu);
		sy.result = r;
		sy.err = sy.job.err;
		sy.queued = false;
		if (write(sy.efd, &one, sizeof(one)) != sizeof(one))
			cl_fatal("eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&sy.mu);
	return NULL;
}

static void
sync_start(void)
{
	sigset_t all, old;
	int r;

	if ((sy.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		cl_fatal("eventfd: %s", strerror(errno));
	if (pthread_mutex_init(&sy.mu, NULL) != 0 ||
	    pthread_cond_init(&sy.cv, NULL) != 0)
		cl_fatal("cannot set up the sync thread");
	/* Signals are for the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&sy.th, NULL, sync_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		cl_fatal("cannot start the sync thread: %s", strerror(r));
	sy.running = true;
}

/* Lets a job in progress finish and ends the thread. */
static void
sync_stop(void)
{
	if (!sy.running)
		return;
	pthread_mutex_lock(&sy.mu);
	sy.stop = true;
	pthread_cond_signal(&sy.cv);
	pthread_mutex_unlock(&sy.mu);
	pthread_join(sy.th, NULL);
	sy.running = false;
	if (sy.busy && sy.result != 0) { /* the thread has ended: no lock */
		errno = sy.err;
		out_failed("sync", sy.result);
	}
	sy.busy = false;
	close(sy.efd);
	sy.efd = -1;
}

/* Begins a sync job if none is running and answers wait for one. */
static void
sync_kick(void)
{
	struct lemf_sync_job j;
	bool want = false;
	int i, r;

	if (sy.busy || g.failed)
		return;
	for (i = 0; i < MAX_CONN; i++)
		if (g.cl[i].fd != -1 && g.cl[i].answers.len > g.cl[i].covered)
			want = true;
	if (!want)
		return;
	if ((r = lemf_out_sync_begin(g.out, &j)) != 0) {
		out_failed("sync", r);
		return;
	}
	for (i = 0; i < MAX_CONN; i++)
		if (g.cl[i].fd != -1)
			g.cl[i].covered = g.cl[i].answers.len;
	pthread_mutex_lock(&sy.mu);
	sy.job = j;
	sy.queued = true;
	pthread_cond_signal(&sy.cv);
	pthread_mutex_unlock(&sy.mu);
	sy.busy = true;
}

static int conn_flush(struct conn *c);

/* A job ended: its answers go out; the next job begins if needed. */
static void
sync_done(void)
{
	uint64_t n;
	int i, r, err;

	if (read(sy.efd, &n, sizeof(n)) != sizeof(n) || !sy.busy)
		return;
	pthread_mutex_lock(&sy.mu);
	if (sy.queued) { /* cannot happen: one job at a time */
		pthread_mutex_unlock(&sy.mu);
		return;
	}
	r = sy.result;
	err = sy.err;
	pthread_mutex_unlock(&sy.mu);
	sy.busy = false;
	if (r != 0) {
		errno = err;
		out_failed("sync", r);
		return;
	}
	for (i = 0; i < MAX_CONN; i++) {
		struct conn *c = &g.cl[i];

		if (c->fd == -1 || c->covered == 0)
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
	}
	sync_kick();
}

/* Buffered records go to the kernel at least every FLUSH_MS. */
static void
idle_flush(int64_t now)
{
	int r;

	if (g.failed || now - g.flushed_ms < FLUSH_MS)
		return;
	g.flushed_ms = now;
	if ((r = lemf_out_flush(g.out)) != 0)
		out_failed("flush", r);
}

/* Reads what is available; -1 when the connection is finished. */
static int
conn_read(struct conn *c)
{
	uint8_t *w;
	int k, e, rounds;

	/* A bounded number of reads, so that the answers to what was read
	 * go out (conn_flush() after this) even while the sender keeps the
	 * socket full; poll() brings us back at once for the rest. */
	for (rounds = 0; rounds < 16; rounds++) {
		if (cl_buf_reserve(&c->in, READ_CHUNK, &w) != 0)
			return -1; /* cannot happen: a PDU is at most 1 MiB */
		c->in.len -= READ_CHUNK;
		if (c->ssl == NULL) {
			ssize_t n = read(c->fd, w, READ_CHUNK);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (n == 0) {
				if (c->in.len > 0)
					cl_warn("%s closed the connection "
						"inside a PDU (%zu bytes "
						"discarded)",
					    c->peer, c->in.len);
				else
					cl_info("%s closed the connection",
					    c->peer);
				return -1;
			}
			if (n < 0) {
				cl_warn(
				    "%s: read: %s", c->peer, strerror(errno));
				return -1;
			}
			k = (int)n;
		} else {
			ERR_clear_error(); /* for SSL_get_error() */
			k = SSL_read(c->ssl, w, READ_CHUNK);
			if (k <= 0) {
				char err[512] = "";

				e = SSL_get_error(c->ssl, k);
				if (e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE)
					return 0;
				/* A peer that closes without close_notify
				 * loses nothing we did not see. */
				if (e == SSL_ERROR_ZERO_RETURN ||
				    (e == SSL_ERROR_SYSCALL &&
					ERR_peek_error() == 0) ||
				    (e == SSL_ERROR_SSL &&
					ERR_GET_REASON(ERR_peek_error()) ==
					    SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
					if (c->in.len > 0)
						cl_warn("%s closed the "
							"connection inside a "
							"PDU (%zu bytes "
							"discarded)",
						    c->peer, c->in.len);
					else
						cl_info("%s closed the "
							"connection",
						    c->peer);
				} else {
					cl_tls_errors(err, sizeof(err));
					cl_warn("%s: TLS %s failed: %s",
					    c->peer,
					    c->up ? "read" : "handshake",
					    err[0] != '\0' ? err
							   : "connection lost");
				}
				ERR_clear_error();
				return -1;
			}
		}
		c->in.len += (size_t)k;
		handle(c);
		/* A sync begins if answers wait (it hands what was written to
		 * the kernel first).  Otherwise records stay buffered, up to a
		 * size lemf_out bounds or until idle_flush(): a write after
		 * every read meant a write() per record with many LIIDs. */
		sync_kick();
		if (c->closing || g.failed)
			return -1;
	}
	return 0;
}

static int
conn_flush(struct conn *c)
{
	ssize_t k;
	int r;

	while (c->outq.len > 0) {
		if (c->ssl == NULL) {
			k = write(c->fd, c->outq.d, c->outq.len);
			if (k < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (k <= 0)
				return -1;
		} else {
			ERR_clear_error(); /* for SSL_get_error() */
			r = SSL_write(c->ssl, c->outq.d, (int)c->outq.len);
			if (r <= 0) {
				r = SSL_get_error(c->ssl, r);
				ERR_clear_error();
				return r == SSL_ERROR_WANT_WRITE ||
					r == SSL_ERROR_WANT_READ
				    ? 0
				    : -1;
			}
			k = r;
		}
		(void)cl_buf_consume(&c->outq, (size_t)k);
	}
	return 0;
}

/* An MDF has authenticated (lib/front): it gets a connection slot. */
static int
conn_up(void *arg, struct cl_front_conn *fc)
{
	static struct cl_log_rl rl = CL_LOG_RL_INIT(10000, 5);
	struct conn *cl = g.cl;
	char subj[512];
	int i;

	(void)arg;
	for (i = 0; i < MAX_CONN && cl[i].fd != -1; i++)
		;
	if (i == MAX_CONN) {
		cl_log_rl(&rl, (uint64_t)now_ms(), CL_LOG_WARN,
		    "%s: %d connections open: refusing another", fc->peer,
		    MAX_CONN);
		return -1;
	}
	memset(&cl[i], 0, sizeof(cl[i]));
	cl[i].fd = fc->fd;
	cl[i].ssl = fc->ssl;
	cl[i].up = true;
	snprintf(cl[i].peer, sizeof(cl[i].peer), "%s", fc->peer);
	cl_buf_init(&cl[i].in, IN_MAX);
	cl_buf_init(&cl[i].answers, OUTQ_MAX);
	cl_buf_init(&cl[i].outq, OUTQ_MAX);
	if (fc->ssl == NULL) {
		cl_info("connection from %s (plain TCP)", cl[i].peer);
		return 0;
	}
	/* The name is the peer's to choose: escaped. */
	if (cl_tls_peer_cn(fc->ssl, subj, sizeof(subj)) != 0)
		snprintf(subj, sizeof(subj), "without a common name");
	cl_info("%s: TLS established, peer %s (authenticated in %llu ms)",
	    cl[i].peer, subj, (unsigned long long)fc->elapsed_ms);
	return 0;
}

static void
write_summary(bool log)
{
	char line[512];
	int r;

	lemf_summary_line(lemf_recv_counts(g.rv), line, sizeof(line));
	if (log)
		cl_info("%s", line);
	if ((r = lemf_out_summary(g.out, lemf_recv_counts(g.rv))) != 0)
		cl_err("summary.json: %s: %s", cl_err_str(r), strerror(errno));
}

static int
run(struct opts *o, SSL_CTX *ctx, EVP_PKEY *pub)
{
	struct pollfd *pfd = NULL;
	int *map = NULL;
	struct cl_front *front = NULL;
	size_t fbase, fn;
	struct conn *cl = g.cl;
	struct cl_psh_ids ids = {
	    .liid = (const uint8_t *)"-",
	    .liid_len = 1,
	    .operator_id = (const uint8_t *)"lemf",
	    .operator_id_len = 4,
	    .cin = 0,
	};
	const struct lemf_restore_stats *rs;
	struct sigaction sa;
	char err[1024];
	unsigned port;
	int lfd = -1, i, n, r, status = 1, timeout;

	if (cl_psheader_init(&g.ans, &ids) != 0)
		cl_fatal("cannot build the answer header");
	g.ans.tsq = CL_PSDU_TSQ_MEDIATION;
	if ((r = lemf_recv_new(pub, 0, &g.rv)) != 0)
		cl_fatal("out of memory");
	{
		/* One pcap file per LIID is kept open when the limit allows,
		 * and unauthenticated connections have their own limit. */
		uint64_t nofile = cl_net_raise_nofile();

		if (cl_front_fit(&o->front, nofile / 2, MAX_CONN + 64))
			cl_warn(
			    "RLIMIT_NOFILE %llu: at most %u unauthenticated "
			    "connections",
			    (unsigned long long)nofile, o->front.admit.full);
	}
	if (lemf_out_open(o->out_dir, g.rv, &g.out, err, sizeof(err)) != 0 ||
	    (o->raw &&
		lemf_out_keep_raw(g.out, o->out_dir, err, sizeof(err)) != 0)) {
		cl_err("output: %s", err);
		goto out;
	}
	rs = lemf_out_restored(g.out);
	if (rs->lines > 0)
		cl_info("restart: %llu lines of pdus.jsonl read, %llu PDUs in "
			"%zu streams restored, %llu unreadable lines ignored",
		    (unsigned long long)rs->lines, (unsigned long long)rs->pdus,
		    lemf_recv_nstreams(g.rv),
		    (unsigned long long)rs->bad_lines);
	if ((lfd = cl_net_listen(o->listen, &port)) < 0)
		goto out;
	o->front.what = "MDF";
	o->front.ctx = ctx;
	r = cl_front_new(lfd, &o->front, conn_up, NULL, &front);
	lfd = -1; /* the front's now */
	if (r != 0) {
		cl_err("listener: %s", cl_err_str(r));
		goto out;
	}
	if ((pfd = calloc(2 + MAX_CONN + cl_front_npollfds(front),
		 sizeof(*pfd))) == NULL ||
	    (map = calloc(2 + MAX_CONN + cl_front_npollfds(front),
		 sizeof(*map))) == NULL)
		cl_fatal("out of memory");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o->port_file != NULL && cl_net_port_file(o->port_file, port) != 0) {
		cl_err("%s: %s", o->port_file, strerror(errno));
		goto out;
	}
	cl_info("listening on %s (port %u, %s), writing to %s%s", o->listen,
	    port, ctx != NULL ? "TLS 1.3" : "PLAIN TCP", o->out_dir,
	    pub != NULL ? ", verifying integrity PDUs" : "");
	for (i = 0; i < MAX_CONN; i++)
		cl[i].fd = -1;
	sync_start();

	while (!got_term && !g.failed) {
		int64_t t = now_ms();

		if (got_usr1) {
			got_usr1 = 0;
			write_summary(false);
		}
		n = 0;
		pfd[n].fd = -1; /* was the listener: lib/front has it */
		pfd[n].events = 0;
		pfd[n].revents = 0;
		map[n++] = -1;
		pfd[n].fd = sy.efd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		map[n++] = -1;
		for (i = 0; i < MAX_CONN; i++) {
			if (cl[i].fd == -1)
				continue;
			pfd[n].fd = cl[i].fd;
			pfd[n].events = (short)(POLLIN |
			    (cl[i].outq.len > 0 ? POLLOUT : 0));
			pfd[n].revents = 0;
			map[n++] = i;
		}
		/* conn_read() stops after some rounds: TLS may hold decrypted
		 * bytes that poll() cannot see. */
		timeout = FLUSH_MS;
		for (i = 2; i < n; i++)
			if (cl[map[i]].ssl != NULL &&
			    SSL_has_pending(cl[map[i]].ssl))
				timeout = 0;
		fbase = (size_t)n;
		{
			uint64_t next = (uint64_t)t + (uint64_t)timeout;

			fn = cl_front_pollfds(front, &pfd[n],
			    cl_front_npollfds(front), (uint64_t)t, &next);
			if (next < (uint64_t)t + (uint64_t)timeout)
				timeout = next <= (uint64_t)t
				    ? 0
				    : (int)(next - (uint64_t)t);
		}
		if (poll(pfd, (nfds_t)n + fn, timeout) < 0 && errno != EINTR) {
			cl_err("poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[1].revents & POLLIN)
			sync_done();
		idle_flush(now_ms());
		for (i = 2; i < n; i++) {
			struct conn *c = &cl[map[i]];
			int done = 0;

			if (c->fd == -1) /* closed by sync_done() */
				continue;

			if (c->ssl != NULL && c->up && SSL_has_pending(c->ssl))
				pfd[i].revents |= POLLIN;
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				done = conn_read(c);
			/* Answers released by a sync still go out before a
			 * close; those waiting for one are dropped with the
			 * connection (the MDF sends those PDUs again). */
			if (g.failed)
				cl_buf_reset(&c->outq);
			if (conn_flush(c) != 0 || done < 0) {
				if (c->closing)
					cl_info(
					    "%s: connection closed", c->peer);
				conn_free(c);
			}
		}
		/* New connections last: their slots were not polled. */
		cl_front_handle(front, &pfd[fbase], fn, (uint64_t)now_ms());
	}
	status = g.failed ? 1 : 0;
out:
	cl_front_free(front);
	free(pfd);
	free(map);
	sync_stop();
	for (i = 0; i < MAX_CONN; i++)
		if (cl[i].fd != -1)
			conn_free(&cl[i]);
	if (lfd >= 0)
		close(lfd);
	if (g.out != NULL) {
		if (!g.failed && (r = lemf_out_sync(g.out)) != 0) {
			cl_err("final sync: %s: %s", cl_err_str(r),
			    strerror(errno));
			status = 1;
		}
		write_summary(true);
		if (lemf_out_close(g.out) != 0 && !g.failed)
			status = 1;
	}
	lemf_recv_free(g.rv);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"out-dir", required_argument, NULL, 'o'},
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"insecure-plaintext", no_argument, NULL, 1},
	    {"version", no_argument, NULL, 2},
	    {"decode", required_argument, NULL, 3},
	    {"raw", no_argument, NULL, 4},
	    {"port-file", required_argument, NULL, 0},
	    {"tls-cert", required_argument, NULL, 0},
	    {"tls-key", required_argument, NULL, 0},
	    {"tls-ca", required_argument, NULL, 0},
	    {"tls-crl", required_argument, NULL, 0},
	    {"integrity-key", required_argument, NULL, 0},
	    {"ack", required_argument, NULL, 0},
	    {"log-level", required_argument, NULL, 0},
	    {"handshake-timeout", required_argument, NULL, 0},
	    {"max-startups", required_argument, NULL, 0},
	    {"per-source-max-startups", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {0};
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pub = NULL;
	const char *conf = NULL;
	char err[1024];
	int ch, idx, status = 2;
	size_t i;

	o.ack = true;
	o.level = CL_LOG_INFO;
	cl_front_defaults(&o.front);
	cl_log_init("clearli-lemf", CL_LOG_INFO, false);
	g.o = &o;

	/* The config file first, so the command line overrides it. */
	for (i = 1; i < (size_t)argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 ||
			strcmp(argv[i], "--config") == 0) &&
		    i + 1 < (size_t)argc)
			conf = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			conf = argv[i] + 9;
	}
	if (conf != NULL &&
	    cl_conf_load(conf, set_opt, &o, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		goto out;
	}
	while (
	    (ch = getopt_long(argc, argv, "l:o:c:nvh", longopts, &idx)) != -1) {
		switch (ch) {
		case 'l':
		case 'o':
			err[0] = '\0';
			if (set_opt(&o, ch == 'l' ? "listen" : "out-dir",
				optarg, err, sizeof(err)) != 0) {
				cl_err("-%c: %s", ch, err);
				goto out;
			}
			break;
		case 'c':
			break;
		case 'n':
			o.check = true;
			break;
		case 'v':
			o.level = CL_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		case 1:
			o.insecure = true;
			break;
		case 2:
			printf("clearli-lemf 0.1.0\n");
			status = 0;
			goto out;
		case 3:
			if (set_str(&o.decode, optarg) != 0)
				goto out;
			break;
		case 4:
			o.raw = true;
			break;
		case 0:
			err[0] = '\0';
			if (set_opt(&o, longopts[idx].name, optarg, err,
				sizeof(err)) != 0) {
				cl_err("--%s: %s", longopts[idx].name, err);
				goto out;
			}
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc) {
		cl_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		goto out;
	}
	cl_log_set_level((enum cl_log_level)o.level);
	if (o.decode != NULL) {
		status = decode_file(o.decode);
		goto out;
	}
	if (o.out_dir == NULL) {
		cl_err("--out-dir DIR is required");
		goto out;
	}
	if (o.listen == NULL) {
		cl_err("--listen ADDR:PORT is required");
		goto out;
	}
	if (!o.insecure && (o.cert == NULL || o.key == NULL || o.ca == NULL)) {
		cl_err("TLS needs --tls-cert, --tls-key and --tls-ca (or "
		       "--insecure-plaintext, which receives intercepted data "
		       "in clear)");
		goto out;
	}
	status = 1;
	/* Before any key is read: no core dump holds it. */
	if (cl_tls_secure_init(err, sizeof(err)) != 0) {
		cl_err("%s", err);
		goto out;
	}
	if (o.insecure)
		cl_warn("WARNING: --insecure-plaintext: accepting PS-PDUs "
			"WITHOUT TLS on %s; intercepted traffic is readable "
			"and forgeable on the network, and any host can "
			"connect",
		    o.listen);
	else {
		struct cl_tls_cfg tc = {.cert = o.cert,
		    .key = o.key,
		    .ca = o.ca,
		    .crl = o.crl,
		    .self = CL_ROLE_LEMF,
		    .peer = CL_ROLE_MDF};

		if ((ctx = cl_tls_server_ctx(&tc, err, sizeof(err))) == NULL) {
			cl_err("TLS: %s", err);
			goto out;
		}
	}
	if (o.integrity_key != NULL &&
	    (pub = lemf_load_pubkey(o.integrity_key, err, sizeof(err))) ==
		NULL) {
		cl_err("integrity-key: %s", err);
		goto out;
	}
	if (o.integrity_key == NULL)
		cl_warn("no integrity-key: integrity PDUs are recorded but NOT "
			"verified");
	if (o.check) {
		printf("configuration ok\n");
		status = 0;
		goto out;
	}
	status = run(&o, ctx, pub);
out:
	SSL_CTX_free(ctx);
	EVP_PKEY_free(pub);
	free(o.listen);
	free(o.port_file);
	free(o.cert);
	free(o.key);
	free(o.ca);
	free(o.crl);
	free(o.out_dir);
	free(o.integrity_key);
	free(o.decode);
	return status;
}
