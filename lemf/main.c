/* SPDX-License-Identifier: ISC */
/*
 * clearli-lemf: the reference law-enforcement receiver.  Accepts TS 102
 * 232-1 PS-PDUs from MDFs over TLS 1.3 (mutual authentication) or, with
 * --insecure-plaintext, TCP; checks sequence numbers per stream, drops
 * exact repeats, verifies integrity PDUs, writes JSON lines and per-LIID
 * pcap files, and answers keep-alives and acknowledgement requests only
 * after what came before is on disk.  See clearli-lemf(8).
 */
#include <sys/mman.h>
#include <sys/stat.h>

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
#include "front.h"
#include "hi.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "out.h"
#include "psdu_dec.h"
#include "recv.h"
#include "tls.h"

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

static struct {
	struct opts *o;
	struct lemf_recv *rv;
	struct lemf_out *out;
	bool failed; /* output failed: stop without acknowledging */
} g;

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

static void
on_signal(void *arg, int sig)
{
	struct cl_loop *l = arg;

	if (sig == SIGUSR1)
		write_summary(false);
	else
		cl_loop_stop(l);
}

static int
run(struct opts *o, SSL_CTX *ctx, EVP_PKEY *pub)
{
	const struct lemf_restore_stats *rs;
	struct lemf_hi_opts ho = {
	    .listen = o->listen,
	    .port_file = o->port_file,
	    .ctx = ctx,
	    .ack = o->ack,
	    .front = &o->front,
	};
	struct cl_loop *l = NULL;
	struct lemf_hi *hi = NULL;
	char err[1024];
	int r, status = 1;

	if ((r = lemf_recv_new(pub, 0, &g.rv)) != 0)
		cl_fatal("out of memory");
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
	if ((r = cl_loop_new(&l)) != 0) {
		cl_err("event loop: %s: %s", cl_err_str(r), strerror(errno));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((r = cl_loop_signal(l, SIGTERM, on_signal, l)) != 0 ||
	    (r = cl_loop_signal(l, SIGINT, on_signal, l)) != 0 ||
	    (r = cl_loop_signal(l, SIGUSR1, on_signal, l)) != 0) {
		cl_err("signals: %s: %s", cl_err_str(r), strerror(errno));
		goto out;
	}
	if (lemf_hi_new(l, &ho, g.rv, g.out, &hi) != 0)
		goto out;
	cl_info("listening on %s (port %u, %s), writing to %s%s", o->listen,
	    lemf_hi_port(hi), ctx != NULL ? "TLS 1.3" : "PLAIN TCP", o->out_dir,
	    pub != NULL ? ", verifying integrity PDUs" : "");
	if ((r = cl_loop_run(l)) != 0) {
		cl_err("event loop: %s", strerror(errno));
		goto out;
	}
	status = 0;
out:
	if (lemf_hi_free(hi)) /* lets a sync in progress end */
		g.failed = true;
	cl_loop_free(l);
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
	if (g.failed)
		status = 1;
	lemf_recv_free(g.rv);
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
	else if ((ctx = tls_server_setup(&o, err, sizeof(err))) == NULL) {
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
