/* SPDX-License-Identifier: ISC */
/*
 * clearli-lemf: the reference law-enforcement receiver.  Accepts TS 102
 * 232-1 PS-PDUs from MDFs over TLS 1.3 (mutual authentication) or, with
 * --insecure-plaintext, TCP; checks sequence numbers per stream, drops
 * exact repeats, verifies integrity PDUs, writes JSON lines and per-LIID
 * pcap files, and answers keep-alives and acknowledgement requests only
 * after what came before is on disk.  See clearli-lemf(8).
 *
 * Three processes (link.h): this one, the parent, starts the front
 * (the TLS key, the listener, the MDFs' connections, the checks) and the
 * writer (the output directory) and watches them; main() is options,
 * setup, the roles and the parent's loop.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "digest.h"
#include "err.h"
#include "filters.h"
#include "front.h"
#include "fsutil.h"
#include "hi.h"
#include "imsg.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "out.h"
#include "privsep.h"
#include "psdu_dec.h"
#include "recv.h"
#include "tls.h"
#include "writer.h"

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
	char *user;
	struct cl_front_opts front;
};

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
	    "read at\n"
	    "                            start)\n" CL_FRONT_USAGE
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
	    "      --user NAME           user of the processes when started "
	    "as root\n"
	    "                            (default _clearli, else nobody)\n"
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
	if (strcmp(k, "user") == 0)
		return set_str(&o->user, v);
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

/* ---- the front role ---- */

struct front_arg {
	struct opts *o;
	SSL_CTX *ctx;
	EVP_PKEY *pub;
};

static struct {
	struct cl_loop *l;
	struct lemf_hi *hi;
	struct cl_imsgbuf *ib; /* to the parent */
	struct cl_loop_io *io;
	SSL_CTX *ctx; /* the listener's: its revocation lists */
} fr;

/* The parent: a summary asked for, or its end (stop). */
static void
on_parent(void *arg, int fd, unsigned what)
{
	struct cl_imsg m;
	char err[256];
	int r;

	(void)arg;
	(void)fd;
	(void)what;
	r = cl_imsg_read(fr.ib);
	if (r == CL_ERR_AGAIN)
		return;
	if (r < 0) {
		cl_loop_stop(fr.l); /* the parent closed its socket: stop */
		return;
	}
	while ((r = cl_imsg_get(fr.ib, &m, err, sizeof(err))) == 1) {
		if (m.type == LEMF_P_SUMMARY)
			(void)lemf_hi_summary(fr.hi);
		else if (m.type == LEMF_P_CRL && fr.ctx != NULL &&
		    cl_tls_crl_set(fr.ctx, m.data, m.len, err, sizeof(err)) !=
			0)
			cl_warn("CRL: %s; the lists read before stay in force",
			    err);
	}
	if (r < 0) {
		cl_err("front role: from the parent: %s", err);
		cl_loop_stop(fr.l);
	}
}

static int
front_main(void *varg, int sock)
{
	struct front_arg *a = varg;
	struct opts *o = a->o;
	struct lemf_restore_stats rs;
	struct lemf_recv *rv = NULL;
	struct lemf_hi_opts ho = {
	    .listen_fd = LEMF_FRONT_LISTEN,
	    .writer_fd = LEMF_FRONT_WRITER,
	    .ctx = a->ctx,
	    .ack = o->ack,
	    .front = &o->front,
	};
	uint32_t port;
	int r, status = 1;

	/* It opens no file: the parent hands it the revocation lists when
	 * their file changes. */
	fr.ctx = a->ctx;
	if (a->ctx != NULL)
		(void)cl_tls_crl_freeze(a->ctx);
	if (lemf_recv_new(a->pub, 0, &rv) != 0) {
		cl_err("front role: out of memory");
		return 1;
	}
	/* The state pdus.jsonl holds, from the writer, before any MDF is
	 * read: repeats of what was written are known as such. */
	if (lemf_link_restore(LEMF_FRONT_WRITER, rv, &rs) != 0)
		goto out;
	if (rs.lines > 0)
		cl_info(
		    "restart: %zu streams restored", lemf_recv_nstreams(rv));
	if (fcntl(LEMF_FRONT_WRITER, F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(sock, F_SETFL, O_NONBLOCK) != 0) {
		cl_err("front role: fcntl: %s", strerror(errno));
		goto out;
	}
	if ((r = cl_loop_new(&fr.l)) != 0) {
		cl_err("front role: event loop: %s", cl_err_str(r));
		goto out;
	}
	if (lemf_hi_new(fr.l, &ho, rv, &fr.hi) != 0)
		goto out;
	port = lemf_hi_port(fr.hi);
	if (cl_imsg_new(sock, lemf_to_front, lemf_to_front_n, &fr.ib) != 0 ||
	    (fr.io = cl_loop_io_new(fr.l, sock, on_parent, NULL)) == NULL ||
	    cl_loop_io_set(fr.io, CL_LOOP_READ) != 0 ||
	    cl_imsg_compose(fr.ib, LEMF_P_READY, -1, &port, sizeof(port)) !=
		0 ||
	    cl_imsg_flush(fr.ib) != 0) {
		cl_err("front role: cannot reach the parent");
		goto out;
	}
	if (cl_loop_run(fr.l) != 0) {
		cl_err("front role: event loop: %s", strerror(errno));
		goto out;
	}
	status = 0;
out:
	if (lemf_hi_free(fr.hi, true))
		status = 1;
	cl_loop_io_free(fr.io);
	cl_imsg_free(fr.ib);
	cl_loop_free(fr.l);
	lemf_recv_free(rv);
	return status;
}

static const struct cl_privsep_role front_role = {
    .name = "front",
    .flags = 0, /* it writes its log: stderr may be a file */
    .root = NULL,
    .prepare = NULL,
    .sandbox = lemf_filter_front,
    .main = front_main,
};

/* ---- the parent ---- */

static const struct cl_privsep_role parent_role = {
    .name = "parent",
    .flags = 0, /* it writes its log: stderr may be a file */
    .root = NULL,
    .prepare = NULL,
    .sandbox = lemf_filter_parent,
    .main = NULL,
};

/* With --tls-crl: it keeps its user to read the operator's file again. */
static const struct cl_privsep_role parent_crl_role = {
    .name = "parent",
    .flags = CL_PRIVSEP_KEEPID,
    .root = NULL,
    .prepare = NULL,
    .sandbox = lemf_filter_parent_crl,
    .main = NULL,
};

static struct {
	struct cl_loop *l;
	pid_t front, writer;
	int front_fd, writer_fd;
	struct cl_imsgbuf *ib; /* to the front */
	bool stopping;
	bool lost;       /* a role ended on its own */
	bool dropped;    /* under its filter: it ends with _exit() */
	const char *crl; /* --tls-crl, handed to the front */
	struct cl_file_seen crl_seen; /* as last handed over */
	struct cl_loop_timer *crl_timer;
	char crl_logged[256]; /* the last failure logged */
} pa;

/*
 * Once a second with --tls-crl: a changed file goes to the front, which
 * checks and applies it (the front opens no file).  A failure is logged
 * when its reason changes; the lists in force stay.
 */
static void
crl_check(void *arg)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[256];
	int r;

	(void)arg;
	if (pa.ib == NULL)
		return;
	r = cl_file_reread(
	    pa.crl, &pa.crl_seen, LEMF_CRL_MAX, &buf, &len, err, sizeof(err));
	if (r < 0) {
		if (strcmp(err, pa.crl_logged) != 0)
			cl_warn("CRL %s: %s; the lists read before stay in "
				"force",
			    pa.crl, err);
		snprintf(pa.crl_logged, sizeof(pa.crl_logged), "%s", err);
	} else {
		pa.crl_logged[0] = '\0';
		if (r == 1 && len == 0)
			cl_warn("CRL %s: empty; the lists read before stay in "
				"force",
			    pa.crl);
		else if (r == 1 &&
		    cl_imsg_compose(pa.ib, LEMF_P_CRL, -1, buf, len) != 0)
			cl_warn("CRL %s: cannot hand it to the front", pa.crl);
	}
	free(buf);
	if (cl_imsg_flush(pa.ib) != 0)
		cl_warn("CRL %s: cannot hand it to the front", pa.crl);
}

/*
 * Started as root: the output directory and the files in it are given to
 * the user the writer runs as (it creates files there); links are not
 * followed and other kinds of entries are left alone.
 */
static int
give_dir(int dfd, const char *dir, uid_t uid, gid_t gid)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if (fstat(dfd, &st) != 0 ||
	    ((st.st_uid != uid || st.st_gid != gid) &&
		fchown(dfd, uid, gid) != 0)) {
		cl_err("output: %s: chown to uid %u: %s", dir, (unsigned)uid,
		    strerror(errno));
		return -1;
	}
	if ((fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		cl_err("output: %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) ||
		    (st.st_uid == uid && st.st_gid == gid))
			continue;
		if (fchownat(dfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			cl_err("output: %s/%s: chown to uid %u: %s", dir,
			    de->d_name, (unsigned)uid, strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

/* A role ended (SIGCHLD): named in the log by cl_privsep_reap(). */
static void
reap(void)
{
	bool front, writer;

	if (cl_privsep_reap() == 0)
		return;
	front = pa.front > 0 && !cl_privsep_alive(pa.front);
	writer = pa.writer > 0 && !cl_privsep_alive(pa.writer);
	if ((front || writer) && !pa.stopping) {
		const char *who = front ? "front role" : "writer role";

		/* Both gone in one round: one ended because the other did
		 * (its socket closed); the cause is the one killed. */
		if (front && writer) {
			int fs = 0, ws = 0;
			bool fk =
			    cl_privsep_status(pa.front, &fs) && WIFSIGNALED(fs);
			bool wk = cl_privsep_status(pa.writer, &ws) &&
			    WIFSIGNALED(ws);

			who = fk == wk ? "front and writer roles"
			    : fk       ? "front role"
				       : "writer role";
		}
		pa.lost = true;
		cl_err("the %s ended: clearli-lemf stops (the MDF resends "
		       "what was not acknowledged)",
		    who);
		pa.stopping = true;
		if (writer && !front)
			(void)kill(pa.front, SIGKILL); /* holds nothing */
		/* Without its front the writer syncs what it has and ends at
		 * the end of its socket. */
		cl_imsg_free(pa.ib);
		pa.ib = NULL;
		close(pa.front_fd);
		pa.front_fd = -1;
	}
	if (front)
		pa.front = -1;
	if (writer)
		pa.writer = -1;
	if (pa.front < 0 && pa.writer < 0)
		cl_loop_stop(pa.l);
}

static void
on_signal(void *arg, int sig)
{
	(void)arg;
	if (sig == SIGCHLD) {
		reap();
		return;
	}
	if (sig == SIGUSR1) {
		if (pa.ib != NULL &&
		    (cl_imsg_compose(pa.ib, LEMF_P_SUMMARY, -1, NULL, 0) != 0 ||
			cl_imsg_flush(pa.ib) != 0))
			cl_warn("cannot ask the front for a summary");
		return;
	}
	if (pa.stopping)
		return;
	/* SIGTERM, SIGINT: the front ends at the end of its socket, after
	 * its last records; then the writer, after its last sync. */
	pa.stopping = true;
	cl_imsg_free(pa.ib);
	pa.ib = NULL;
	close(pa.front_fd);
	pa.front_fd = -1;
}

/* Whether role pid ended with status 0. */
static bool
ended_ok(pid_t pid)
{
	int st;

	return cl_privsep_status(pid, &st) && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0;
}

static int
run(struct opts *o, SSL_CTX **ctxp, EVP_PKEY **pubp)
{
	struct front_arg fa = {o, *ctxp, *pubp};
	struct lemf_writer_arg wa = {o->out_dir, o->raw};
	struct cl_imsg m;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	pid_t front = -1, writer = -1;
	int lfd = -1, dfd = -1, sv[2] = {-1, -1}, keep[2], r, status = 1;
	unsigned port;
	char err[1024];

	pa.front_fd = pa.writer_fd = -1;
	{
		/* One pcap file per LIID is kept open when the limit allows,
		 * and unauthenticated connections have their own limit. */
		uint64_t nofile = cl_net_raise_nofile();

		if (cl_front_fit(&o->front, nofile / 2, LEMF_HI_MAX_CONN + 64))
			cl_warn(
			    "RLIMIT_NOFILE %llu: at most %u unauthenticated "
			    "connections",
			    (unsigned long long)nofile, o->front.admit.full);
	}
	if (geteuid() == 0 &&
	    cl_privsep_user(o->user, &uid, &gid, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		goto out;
	}
	/* The output directory: checked here, handed to the writer. */
	if (mkdir(o->out_dir, 0750) != 0 && errno != EEXIST) {
		cl_err("output: %s: %s", o->out_dir, strerror(errno));
		goto out;
	}
	if (cl_dir_open_private_owner(
		o->out_dir, uid, &dfd, err, sizeof(err)) != 0) {
		cl_err("output: %s", err);
		goto out;
	}
	if (uid != (uid_t)-1 && give_dir(dfd, o->out_dir, uid, gid) != 0)
		goto out;
	if ((lfd = cl_net_listen(o->listen, &port)) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		cl_err("socketpair: %s", strerror(errno));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	keep[0] = sv[1];
	keep[1] = dfd;
	if (cl_privsep_start(&lemf_writer_role, &wa, keep, 2, o->user, &writer,
		&pa.writer_fd, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		goto out;
	}
	close(dfd);
	dfd = -1;
	close(sv[1]);
	sv[1] = -1;
	keep[0] = lfd;
	keep[1] = sv[0];
	if (cl_privsep_start(&front_role, &fa, keep, 2, o->user, &front,
		&pa.front_fd, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		goto out;
	}
	close(lfd);
	lfd = -1;
	close(sv[0]);
	sv[0] = -1;
	/* The key is the front's alone. */
	SSL_CTX_free(*ctxp);
	*ctxp = NULL;
	EVP_PKEY_free(*pubp);
	*pubp = NULL;
	pa.front = front;
	pa.writer = writer;
	if (cl_imsg_new(
		pa.front_fd, lemf_to_parent, lemf_to_parent_n, &pa.ib) != 0) {
		cl_err("out of memory");
		goto out;
	}
	if ((r = cl_imsg_wait(pa.ib, &m, err, sizeof(err))) != 1) {
		cl_err("the front role did not start: %s",
		    r == CL_ERR_CLOSED ? "it ended (its log line says why)"
				       : err);
		goto out;
	}
	if (o->port_file != NULL && cl_net_port_file(o->port_file, port) != 0) {
		cl_err("%s: %s", o->port_file, strerror(errno));
		goto out;
	}
	cl_info("listening on %s (port %u, %s), writing to %s%s", o->listen,
	    port, o->insecure ? "PLAIN TCP" : "TLS 1.3", o->out_dir,
	    o->integrity_key != NULL ? ", verifying integrity PDUs" : "");
	if ((r = cl_loop_new(&pa.l)) != 0 ||
	    (r = cl_loop_signal(pa.l, SIGTERM, on_signal, NULL)) != 0 ||
	    (r = cl_loop_signal(pa.l, SIGINT, on_signal, NULL)) != 0 ||
	    (r = cl_loop_signal(pa.l, SIGUSR1, on_signal, NULL)) != 0 ||
	    (r = cl_loop_signal(pa.l, SIGCHLD, on_signal, NULL)) != 0) {
		cl_err("event loop: %s: %s", cl_err_str(r), strerror(errno));
		goto out;
	}
	if (fcntl(pa.front_fd, F_SETFL, O_NONBLOCK) != 0) {
		cl_err("fcntl: %s", strerror(errno));
		goto out;
	}
	if (o->crl != NULL && !o->insecure) {
		pa.crl = o->crl;
		if ((pa.crl_timer = cl_loop_timer_new(pa.l, crl_check, NULL)) ==
			NULL ||
		    cl_loop_timer_every(pa.crl_timer, 1000) != 0) {
			cl_err("event loop: a timer: %s", strerror(errno));
			goto out;
		}
	}
	/* The parent keeps nothing it needs privileges for (with
	 * --tls-crl, its user, to read that file again). */
	pa.dropped = true; /* also when a step failed half-way */
	if (cl_privsep_drop(pa.crl != NULL ? &parent_crl_role : &parent_role,
		o->user, err, sizeof(err)) != 0) {
		cl_err("parent: %s", err);
		goto out;
	}
	reap(); /* a role that ended before the loop heard SIGCHLD */
	if (pa.front > 0 || pa.writer > 0) {
		if (cl_loop_run(pa.l) != 0) {
			cl_err("event loop: %s", strerror(errno));
			goto out;
		}
	}
	status = !pa.lost && ended_ok(front) && ended_ok(writer) ? 0 : 1;
out:
	cl_imsg_free(pa.ib);
	if (pa.front_fd >= 0)
		close(pa.front_fd);
	/* A role still running after a failure here: the front is stopped,
	 * the writer ends at the end of its socket. */
	if (front > 0 && cl_privsep_alive(front)) {
		(void)kill(front, SIGKILL);
		(void)cl_privsep_wait(front);
	}
	if (pa.writer_fd >= 0)
		close(pa.writer_fd);
	if (writer > 0 && cl_privsep_alive(writer))
		(void)cl_privsep_wait(writer);
	if (status == 0 && (!ended_ok(front) || !ended_ok(writer)))
		status = 1;
	cl_loop_timer_free(pa.crl_timer);
	cl_loop_free(pa.l);
	if (lfd >= 0)
		close(lfd);
	if (dfd >= 0)
		close(dfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return status;
}

/*
 * The TLS context of the HI listener: this daemon's certificate and key,
 * and the CA that signs the MDFs' certificates.  NULL with a reason in
 * err.
 */
static SSL_CTX *
tls_server_setup(const struct opts *o, char *err, size_t errlen)
{
	struct cl_tls_cfg tc = {.cert = o->cert,
	    .key = o->key,
	    .ca = o->ca,
	    .crl = o->crl,
	    .self = CL_ROLE_LEMF,
	    .peer = CL_ROLE_MDF};

	return cl_tls_server_ctx(&tc, err, errlen);
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
	    {"user", required_argument, NULL, 0},
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
		/* The CRL file as the context reads it now: a later change
		 * goes to the front (crl_check()). */
		if (o.crl != NULL) {
			uint8_t *b = NULL;
			size_t bl;

			(void)cl_file_reread(o.crl, &pa.crl_seen, LEMF_CRL_MAX,
			    &b, &bl, err, sizeof(err));
			free(b);
		}
		ctx = tls_server_setup(&o, err, sizeof(err));
	}
	if (!o.insecure && ctx == NULL) {
		cl_err("TLS: %s", err);
		goto out;
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
	status = run(&o, &ctx, &pub);
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
	free(o.user);
	/* Under the filter: no atexit handler (a leak checker would need
	 * calls the filter refuses), as the roles. */
	if (pa.dropped) {
		fflush(NULL);
		_exit(status);
	}
	return status;
}
