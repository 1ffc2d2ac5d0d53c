/* SPDX-License-Identifier: ISC */
/*
 * clearli-poi: the point of interception.  Reads packets from a capture
 * file or a live interface, tracks subscriber sessions, matches packets
 * against the tasks and sends X2/X3 to the MDF.  See clearli-poi(8).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capfile.h"
#include "conf.h"
#include "decode.h"
#include "err.h"
#include "fsutil.h"
#include "imsg.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "net.h"
#include "out.h"
#include "pipeline.h"
#include "privsep.h"
#include "ring.h"
#include "roles.h"
#include "subscriber.h"
#include "task.h"
#include "tls.h"

struct opts {
	char *read_file;
	char *interface;
	char *tasks;
	char *mdf_host, *mdf_port;
	char *mdf_name;
	char *cert, *key, *ca, *crl;
	bool insecure;
	char *ipid;
	char *metrics;
	char *spool;
	uint64_t spool_max, mem_max, max_sessions;
	uint64_t keepalive_ms, flush_timeout;
	char *user;
	int verbose;
	bool check;
	bool print_summary;
	bool pace;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: clearli-poi [options]\n"
	    "\n"
	    "Point of interception: matches packets against the tasks and\n"
	    "sends ETSI TS 103 221-2 X2/X3 PDUs to the MDF.\n"
	    "\n"
	    "Packet source (one of):\n"
	    "  -r, --read FILE           read a pcap or pcapng file, then "
	    "exit (exit\n"
	    "                            status 1 if it cannot be read to "
	    "its end)\n"
	    "  -i, --interface IF        capture live on IF (libpcap, "
	    "TPACKET_V3)\n"
	    "Tasks and delivery:\n"
	    "  -t, --tasks FILE          task file (reloaded on SIGHUP); see "
	    "clearli-tasks(5)\n"
	    "  -m, --mdf HOST:PORT       MDF X2/X3 address ([v6addr]:port for "
	    "IPv6)\n"
	    "      --mdf-name NAME       name the MDF certificate must carry "
	    "(default HOST)\n"
	    "      --cert FILE           POI certificate (PEM) for mutual TLS\n"
	    "      --key FILE            POI private key (PEM, mode 0600)\n"
	    "      --ca FILE             CA certificates that sign the MDF's "
	    "certificate\n"
	    "      --crl FILE            revocation lists of those CAs (PEM; "
	    "read again\n"
	    "                            when the file changes, unless "
	    "started as root)\n"
	    "      --insecure-plaintext  send X2/X3 without TLS (command line "
	    "only; warns)\n"
	    "      --ipid NAME           interception point ID sent in every "
	    "PDU\n"
	    "                            (default: the host name)\n"
	    "Buffering:\n"
	    "      --mem-max BYTES       PDU bytes held in memory (default "
	    "67108864)\n"
	    "      --spool FILE          spill to this file when memory is "
	    "full\n"
	    "      --spool-max BYTES     largest spool file (default "
	    "1073741824)\n"
	    "      --keepalive-ms MS     keepalive interval (default 1000)\n"
	    "      --flush-timeout SECS  time to wait at exit for the MDF to "
	    "confirm\n"
	    "                            everything (default 10)\n"
	    "Operation:\n"
	    "  -c, --config FILE         read options from FILE (key = "
	    "value)\n"
	    "      --metrics ADDR:PORT   Prometheus text on a loopback "
	    "address\n"
	    "      --max-sessions N      subscriber sessions kept (default "
	    "2000000)\n"
	    "      --user USER           drop privileges to USER after opening "
	    "sockets\n"
	    "      --summary             print per-task counts at exit, and "
	    "the link\n"
	    "                            types that could not be decoded\n"
	    "      --pace                replay --read at the capture's own "
	    "pace\n"
	    "  -n, --check               check the configuration and tasks, "
	    "then exit\n"
	    "  -v, --verbose             more log detail (repeat for debug)\n"
	    "  -h, --help                this text\n"
	    "      --version             print the version\n");
}

static int
split_hostport(
    const char *s, char **host, char **port, char *err, size_t errlen)
{
	char h[256], p[6];
	uint16_t pn;
	int r;

	if ((r = cl_net_split(NULL, s, 0, h, sizeof(h), &pn, err, errlen)) != 0)
		return r;
	snprintf(p, sizeof(p), "%u", (unsigned)pn);
	free(*host);
	free(*port);
	*host = strdup(h);
	*port = strdup(p);
	return *host == NULL || *port == NULL ? CL_ERR_NOMEM : 0;
}

static int
set_str(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? CL_ERR_NOMEM : 0;
}

/* Sets one option by its long name; shared by the config file and argv. */
static int
set_opt(void *arg, const char *k, const char *v, char *err, size_t errlen)
{
	struct opts *o = arg;
	int r;

	if (strcmp(k, "read") == 0)
		return set_str(&o->read_file, v);
	if (strcmp(k, "interface") == 0)
		return set_str(&o->interface, v);
	if (strcmp(k, "tasks") == 0)
		return set_str(&o->tasks, v);
	if (strcmp(k, "mdf") == 0) {
		return split_hostport(
		    v, &o->mdf_host, &o->mdf_port, err, errlen);
	}
	if (strcmp(k, "mdf-name") == 0)
		return set_str(&o->mdf_name, v);
	if (strcmp(k, "cert") == 0)
		return set_str(&o->cert, v);
	if (strcmp(k, "key") == 0)
		return set_str(&o->key, v);
	if (strcmp(k, "ca") == 0)
		return set_str(&o->ca, v);
	if (strcmp(k, "crl") == 0)
		return set_str(&o->crl, v);
	if (strcmp(k, "ipid") == 0) {
		if (strlen(v) > CL_X2X3_MAX_STRATTR ||
		    !cl_utf8_clean((const uint8_t *)v, strlen(v))) {
			snprintf(err, errlen, "bad interception point ID");
			return CL_ERR_FORMAT;
		}
		return set_str(&o->ipid, v);
	}
	if (strcmp(k, "metrics") == 0)
		return set_str(&o->metrics, v);
	if (strcmp(k, "spool") == 0)
		return set_str(&o->spool, v);
	if (strcmp(k, "user") == 0)
		return set_str(&o->user, v);
	if (strcmp(k, "pace") == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
			snprintf(err, errlen, "pace must be yes or no");
			return CL_ERR_FORMAT;
		}
		o->pace = strcmp(v, "yes") == 0;
		return 0;
	}
#define NUM(name, field, lo, hi)                                               \
	if (strcmp(k, name) == 0) {                                            \
		if ((r = cl_parse_u64(v, lo, hi, &o->field)) != 0)             \
			snprintf(err, errlen,                                  \
			    "'%s' is not a number from %llu "                  \
			    "to %llu",                                         \
			    v, (unsigned long long)(lo),                       \
			    (unsigned long long)(hi));                         \
		return r;                                                      \
	}
	NUM("spool-max", spool_max, 1048576, 1ULL << 50)
	NUM("mem-max", mem_max, 4194304, 1ULL << 40)
	NUM("max-sessions", max_sessions, 1, 100000000)
	NUM("keepalive-ms", keepalive_ms, 10, 600000)
	NUM("flush-timeout", flush_timeout, 0, 3600)
#undef NUM
	snprintf(err, errlen, "unknown option");
	return CL_ERR_NOT_FOUND;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		cl_err("no such user %s", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		cl_err(
		    "cannot drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		cl_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* A change of user resets the dumpable flag to suid_dumpable. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		cl_err("PR_SET_DUMPABLE: %s", strerror(errno));
		return -1;
	}
	cl_info("running as %s", user);
	return 0;
}

struct ctx {
	struct opts *o;
	struct cl_loop *l;
	struct cl_ring *pkt_ring, *pdu_ring;
	pid_t cap_pid, match_pid, out_pid;
	int cap_fd, match_fd, out_fd;
	struct cl_imsgbuf *cib, *mib, *oib;
	struct cl_loop_io *cio, *mio, *oio;
	struct cl_loop_timer *stats_t, *crl_t;
	struct cl_file_seen crl_seen; /* --crl as last handed over */
	char crl_logged[256];         /* the last failure logged */
	struct cl_loop_pollset *metrics_ps;
	struct cl_metrics *metrics;
	bool stopping, finished;
	bool cap_done, match_done, out_done, lost;
	struct poi_capture_stats cs;
	struct poi_match_stats ms;
	struct cl_out_stats os;
	struct poi_out_done od;
	struct poi_task_stat *tstats;
	size_t ntstats;
	int status;
};

/* Per-task summary and totals, for --summary and the demo. */
static void
print_summary(struct ctx *c)
{
	const struct cl_pipeline_stats *ps = &c->ms.ps;
	const struct cl_subs_stats *ss = &c->ms.ss;
	const struct cl_out_stats *os = &c->os;
	char u[CL_UUID_STRLEN + 1];
	size_t i;

	printf("packets %llu, non-IP %llu, malformed %llu, intercepted "
	       "%llu\n",
	    (unsigned long long)ps->packets, (unsigned long long)ps->nonip,
	    (unsigned long long)ps->malformed, (unsigned long long)ps->matched);
	printf("malformed but intercepted %llu; PDUs without capture time "
	       "%llu\n",
	    (unsigned long long)ps->malformed_matched,
	    (unsigned long long)ps->ts_omitted);
	printf("records with a repaired timestamp %llu, without a usable "
	       "one %llu; capture file read %s\n",
	    (unsigned long long)c->cs.ts_normalised,
	    (unsigned long long)c->cs.ts_invalid,
	    c->cs.read_incomplete ? "only in part" : "to its end");
	printf("link types not decoded:");
	for (i = 0; i < ps->n_undecoded && i < CL_PIPELINE_MAX_LINKTYPES; i++)
		printf(" %u (%s) %llu packets%s", ps->undecoded[i].linktype,
		    cl_linktype_name(ps->undecoded[i].linktype),
		    (unsigned long long)ps->undecoded[i].packets,
		    i + 1 < ps->n_undecoded || ps->undecoded_other > 0 ? ","
								       : "");
	if (ps->undecoded_other > 0)
		printf(" others %llu packets",
		    (unsigned long long)ps->undecoded_other);
	if (ps->n_undecoded == 0)
		printf(" none");
	printf("\n");
	printf("signalling messages %llu (bad %llu); sessions started %llu, "
	       "updated %llu, ended %llu, expired %llu\n",
	    (unsigned long long)ps->signalling,
	    (unsigned long long)ps->signalling_bad,
	    (unsigned long long)ss->started, (unsigned long long)ss->updated,
	    (unsigned long long)ss->stopped, (unsigned long long)ss->expired);
	printf("X2 PDUs %llu, X3 PDUs %llu, dropped %llu\n",
	    (unsigned long long)ps->x2, (unsigned long long)ps->x3,
	    (unsigned long long)(ps->emit_drops + os->dropped));
	printf("bytes queued %llu, confirmed by the MDF %llu, unconfirmed "
	       "%llu\n",
	    (unsigned long long)os->bytes, (unsigned long long)os->acked_bytes,
	    (unsigned long long)os->unacked_bytes);
	for (i = 0; i < c->ntstats && i < 100; i++) {
		cl_format_uuid(c->tstats[i].xid, u);
		printf("task %s liid %s: %llu PDUs, %llu payload bytes\n", u,
		    c->tstats[i].liid, (unsigned long long)c->tstats[i].pdus,
		    (unsigned long long)c->tstats[i].bytes);
	}
	fflush(stdout);
}

static void
undecoded_metrics(struct cl_buf *b, const struct cl_pipeline_stats *ps)
{
	static const char head[] =
	    "# HELP clearli_poi_packets_undecoded_total Frames of a link "
	    "type the decoder does not know, per link type.\n"
	    "# TYPE clearli_poi_packets_undecoded_total counter\n";
	char line[160];
	size_t i;
	int n;

	(void)cl_buf_put(b, head, sizeof(head) - 1);
	for (i = 0; i < ps->n_undecoded; i++) {
		n = snprintf(line, sizeof(line),
		    "clearli_poi_packets_undecoded_total{linktype=\"%u\","
		    "name=\"%s\"} %llu\n",
		    ps->undecoded[i].linktype,
		    cl_linktype_name(ps->undecoded[i].linktype),
		    (unsigned long long)ps->undecoded[i].packets);
		if (n > 0 && (size_t)n < sizeof(line))
			(void)cl_buf_put(b, line, (size_t)n);
	}
	if (ps->undecoded_other > 0) {
		n = snprintf(line, sizeof(line),
		    "clearli_poi_packets_undecoded_total{linktype=\"other\"} "
		    "%llu\n",
		    (unsigned long long)ps->undecoded_other);
		if (n > 0 && (size_t)n < sizeof(line))
			(void)cl_buf_put(b, line, (size_t)n);
	}
}

/* From the figures the roles last sent: never a wait on a role. */
static void
render(void *arg, struct cl_buf *b)
{
	struct ctx *c = arg;
	const struct cl_pipeline_stats *ps = &c->ms.ps;
	const struct cl_subs_stats *ss = &c->ms.ss;
	const struct cl_out_stats *os = &c->os;

#define C(n, h, v) cl_metric(b, "clearli_poi_" n, "counter", h, v)
#define G(n, h, v) cl_metric(b, "clearli_poi_" n, "gauge", h, v)
	C("packets_total", "Packets seen.", ps->packets);
	C("bytes_total", "Bytes seen (captured length).", ps->bytes);
	C("packets_nonip_total", "Frames without IP.", ps->nonip);
	C("packets_malformed_total",
	    "Frames the decoder rejected, or whose IP header is sound but "
	    "the rest not.",
	    ps->malformed);
	C("packets_malformed_matched_total",
	    "Malformed packets intercepted all the same.",
	    ps->malformed_matched);
	C("pdus_no_timestamp_total",
	    "PDUs sent without a capture time X2/X3 could carry.",
	    ps->ts_omitted);
	undecoded_metrics(b, ps);
	C("packets_matched_total", "Packets intercepted (once per task).",
	    ps->matched);
	C("capture_dropped_total",
	    "Packets dropped live: the kernel's capture ring was full.",
	    c->cs.drops);
	C("pdus_x2_total", "X2 PDUs emitted.", ps->x2);
	C("pdus_x3_total", "X3 PDUs emitted.", ps->x3);
	C("pdus_dropped_total", "PDUs dropped because the output was full.",
	    ps->emit_drops + os->dropped);
	C("signalling_total", "RADIUS/DHCP/DHCPv6 messages parsed.",
	    ps->signalling);
	C("signalling_bad_total", "Signalling messages rejected as malformed.",
	    ps->signalling_bad);
	C("fragments_total", "IP fragments offered to reassembly.",
	    ps->frag_seen);
	C("fragments_dropped_total", "Fragmented datagrams given up.",
	    ps->frag_dropped);
	G("sessions", "Subscriber sessions known.", c->ms.sessions);
	C("sessions_started_total", "Sessions started.", ss->started);
	C("sessions_ended_total", "Sessions stopped or replaced.",
	    ss->stopped + ss->replaced);
	C("sessions_expired_total", "Sessions expired.", ss->expired);
	C("sessions_refused_total", "Sessions refused: table full.",
	    ss->refused_full);
	G("tasks", "Tasks loaded.", c->ms.tasks);
	G("ring_packet_bytes", "Octets in the packet ring.",
	    cl_ring_used(c->pkt_ring));
	G("ring_pdu_bytes", "Octets in the PDU ring.",
	    cl_ring_used(c->pdu_ring));
	C("out_bytes_total", "PDU bytes queued for the MDF.", os->bytes);
	C("out_sent_bytes_total", "PDU bytes written to the MDF.",
	    os->sent_bytes);
	C("out_acked_bytes_total", "PDU bytes confirmed by the MDF.",
	    os->acked_bytes);
	C("out_spilled_bytes_total", "PDU bytes spilled to the spool file.",
	    os->spilled_bytes);
	G("out_memory_bytes", "PDU bytes held in memory.", os->mem_bytes);
	G("out_spool_bytes", "PDU bytes held in the spool file.",
	    os->spool_bytes);
	G("out_unacked_bytes", "PDU bytes not yet confirmed.",
	    os->unacked_bytes);
	G("mdf_connected", "1 if connected to the MDF.", os->connected);
	C("mdf_connects_total", "Connections established.", os->connects);
	C("mdf_connect_failures_total", "Failed connection attempts.",
	    os->connect_failures);
	C("keepalives_total", "Keepalives sent.", os->keepalives);
	C("keepalive_acks_total", "Keepalive acknowledgements received.",
	    os->keepalive_acks);
#undef C
#undef G
}

/*
 * Reads the task file; on success *mfd is a memory file of its text for
 * the match role, which parses it (once) and answers.
 */
static int
read_tasks(const char *path, int *mfd, uint64_t *mlen, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = CL_ERR_SYSTEM;

	*mfd = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		r = CL_ERR_FORMAT;
		goto out;
	}
	if ((uint64_t)st.st_size > CL_TASK_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", path,
		    CL_TASK_FILE_MAX);
		r = CL_ERR_TOOBIG;
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		r = CL_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	if ((*mfd = memfd_create("clearli-tasks", MFD_CLOEXEC)) == -1 ||
	    (got > 0 && write(*mfd, text, got) != (ssize_t)got)) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		if (*mfd != -1)
			close(*mfd);
		*mfd = -1;
		goto out;
	}
	*mlen = got;
	r = 0;
out:
	free(text);
	close(fd);
	return r;
}

/*
 * Writes what is queued for a role without waiting (its socket is
 * non-blocking once the loop runs): the rest goes when the socket
 * takes it.  io is NULL before the loop.
 */
static void
flush_role(struct cl_imsgbuf *ib, struct cl_loop_io *io)
{
	int r = cl_imsg_flush(ib);

	if (io != NULL)
		(void)cl_loop_io_set(io,
		    r == CL_ERR_AGAIN ? CL_LOOP_READ | CL_LOOP_WRITE
				      : CL_LOOP_READ);
}

/* The match role's answer to a task file. */
static int
tasks_answer(struct ctx *c, const struct cl_imsg *im, bool initial)
{
	uint64_t n;

	if (im->type == POI_IMSG_TASKS_OK) {
		memcpy(&n, im->data, sizeof(n));
		cl_info("loaded %llu tasks from %s", (unsigned long long)n,
		    c->o->tasks);
		return 0;
	}
	cl_err("task file %s rejected: %.*s%s", c->o->tasks, (int)im->len,
	    (const char *)im->data,
	    initial ? "" : "; the previous tasks stay active");
	return CL_ERR_FORMAT;
}

/* Hands the task file to the match role; at start, waits for its
 * answer (a file with an error stops the start). */
static int
load_tasks(struct ctx *c, bool initial)
{
	struct cl_imsg im;
	char err[512];
	uint64_t len = 0;
	int fd, r;

	if ((r = read_tasks(c->o->tasks, &fd, &len, err, sizeof(err))) != 0) {
		cl_err("task file %s rejected: %s%s", c->o->tasks, err,
		    initial ? "" : "; the previous tasks stay active");
		return r;
	}
	if ((r = cl_imsg_compose(
		 c->mib, POI_IMSG_TASKS, fd, &len, sizeof(len))) != 0) {
		cl_err("task file %s: cannot hand it to the match role: %s",
		    c->o->tasks, cl_err_str(r));
		return r;
	}
	if (!initial) {
		flush_role(c->mib, c->mio);
		return 0; /* the answer comes to on_match() */
	}
	if ((r = cl_imsg_wait(c->mib, &im, err, sizeof(err))) != 1 ||
	    (im.type != POI_IMSG_TASKS_OK && im.type != POI_IMSG_TASKS_BAD)) {
		cl_err("task file %s: no answer from the match role: %s",
		    c->o->tasks, r == 1 ? "another message" : err);
		return CL_ERR_CLOSED;
	}
	return tasks_answer(c, &im, true);
}

static void
stop(struct ctx *c, int status)
{
	if (status > c->status)
		c->status = status;
	cl_loop_stop(c->l);
}

static void
on_stats(void *arg)
{
	struct ctx *c = arg;

	/* A role that has not taken the last request gets no other. */
	if (!c->cap_done && !cl_imsg_pending(c->cib)) {
		(void)cl_imsg_compose(c->cib, POI_IMSG_STATS_REQ, -1, NULL, 0);
		flush_role(c->cib, c->cio);
	}
	if (!c->match_done && !cl_imsg_pending(c->mib)) {
		(void)cl_imsg_compose(c->mib, POI_IMSG_STATS_REQ, -1, NULL, 0);
		flush_role(c->mib, c->mio);
	}
	if (!c->out_done && !cl_imsg_pending(c->oib)) {
		(void)cl_imsg_compose(c->oib, POI_IMSG_STATS_REQ, -1, NULL, 0);
		flush_role(c->oib, c->oio);
	}
}

/*
 * Once a second with --crl: a changed file goes to the output role,
 * which checks and applies it (it opens no file).  A failure is logged
 * when its reason changes; the lists in force stay.
 */
static void
on_crl(void *arg)
{
	struct ctx *c = arg;
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[256];
	int r;

	if (c->out_done)
		return;
	r = cl_file_reread(
	    c->o->crl, &c->crl_seen, POI_CRL_MAX, &buf, &len, err, sizeof(err));
	if (r < 0) {
		if (strcmp(err, c->crl_logged) != 0)
			cl_warn("CRL %s: %s; the lists read before stay in "
				"force",
			    c->o->crl, err);
		snprintf(c->crl_logged, sizeof(c->crl_logged), "%s", err);
	} else {
		c->crl_logged[0] = '\0';
		if (r == 1 && len == 0)
			cl_warn("CRL %s: empty; the lists read before stay in "
				"force",
			    c->o->crl);
		else if (r == 1)
			(void)cl_imsg_compose(
			    c->oib, POI_IMSG_CRL, -1, buf, len);
	}
	free(buf);
	flush_role(c->oib, c->oio);
}

static void
check_finish(struct ctx *c)
{
	if (!c->cap_done || !c->match_done || !c->out_done)
		return;
	c->finished = true;
	stop(c, c->od.pending > 0 ? 1 : 0);
}

/*
 * A role ended (reaped: cl_privsep_reap() named it), its socket closed
 * (why NULL: its end is waited for and named), or its message broke the
 * protocol (why).
 */
static void
role_lost(
    struct ctx *c, pid_t pid, const char *name, const char *why, bool reaped)
{
	if (c->lost)
		return;
	c->lost = true;
	if (why != NULL)
		cl_err("%s role: %s", name, why);
	else if (!reaped)
		(void)cl_privsep_wait(pid);
	cl_err("the %s role is gone: the packets and PDUs in the rings "
	       "between the roles are lost; the POI stops (started again "
	       "on the same input, it sends again what the MDF did not "
	       "confirm)",
	    name);
	stop(c, 1);
}

typedef void role_msg_fn(struct ctx *c, const struct cl_imsg *im);

/*
 * A role's socket: writes what waits, reads what came and hands each
 * message to fn; the socket's end or a message the table refuses ends
 * the POI, naming the role.
 */
static void
role_io(struct ctx *c, struct cl_imsgbuf *ib, struct cl_loop_io *io, pid_t pid,
    const char *name, unsigned what, role_msg_fn *fn)
{
	struct cl_imsg im;
	char err[256];
	int r;

	if ((what & CL_LOOP_WRITE) != 0)
		flush_role(ib, io);
	if ((what & CL_LOOP_READ) == 0)
		return;
	if ((r = cl_imsg_read(ib)) == CL_ERR_AGAIN)
		return;
	if (r < 0) {
		role_lost(c, pid, name, NULL, false);
		return;
	}
	while ((r = cl_imsg_get(ib, &im, err, sizeof(err))) == 1)
		fn(c, &im);
	if (r < 0) {
		role_lost(c, pid, name, err, false);
		return;
	}
	check_finish(c);
}

static void
capture_msg(struct ctx *c, const struct cl_imsg *im)
{
	memcpy(&c->cs, im->data, sizeof(c->cs));
	if (im->type == POI_IMSG_CAPTURE_DONE)
		c->cap_done = true;
}

static void
match_msg(struct ctx *c, const struct cl_imsg *im)
{
	switch (im->type) {
	case POI_IMSG_MATCH_STATS:
		memcpy(&c->ms, im->data, sizeof(c->ms));
		break;
	case POI_IMSG_TASK_STATS:
		free(c->tstats);
		c->ntstats = im->len / sizeof(*c->tstats);
		if ((c->tstats = malloc(im->len)) == NULL)
			c->ntstats = 0;
		else
			memcpy(c->tstats, im->data, im->len);
		break;
	case POI_IMSG_TASKS_OK:
	case POI_IMSG_TASKS_BAD:
		(void)tasks_answer(c, im, false);
		break;
	case POI_IMSG_MATCH_DONE:
		memcpy(&c->ms, im->data, sizeof(c->ms));
		c->match_done = true;
		break;
	}
}

static void
output_msg(struct ctx *c, const struct cl_imsg *im)
{
	switch (im->type) {
	case POI_IMSG_OUT_STATS:
		memcpy(&c->os, im->data, sizeof(c->os));
		break;
	case POI_IMSG_OUT_DONE:
		memcpy(&c->od, im->data, sizeof(c->od));
		c->os = c->od.os;
		c->out_done = true;
		break;
	}
}

static void
on_capture(void *arg, int fd, unsigned what)
{
	struct ctx *c = arg;

	(void)fd;
	role_io(c, c->cib, c->cio, c->cap_pid, "capture", what, capture_msg);
}

static void
on_match(void *arg, int fd, unsigned what)
{
	struct ctx *c = arg;

	(void)fd;
	role_io(c, c->mib, c->mio, c->match_pid, "match", what, match_msg);
}

static void
on_output(void *arg, int fd, unsigned what)
{
	struct ctx *c = arg;

	(void)fd;
	role_io(c, c->oib, c->oio, c->out_pid, "output", what, output_msg);
}

static void
on_signal(void *arg, int sig)
{
	struct ctx *c = arg;

	switch (sig) {
	case SIGHUP:
		cl_info("SIGHUP: reloading %s", c->o->tasks);
		(void)load_tasks(c, false);
		break;
	case SIGCHLD:
		if (cl_privsep_reap() == 0)
			break;
		if (!cl_privsep_alive(c->cap_pid))
			role_lost(c, c->cap_pid, "capture", NULL, true);
		else if (!cl_privsep_alive(c->match_pid))
			role_lost(c, c->match_pid, "match", NULL, true);
		else if (!cl_privsep_alive(c->out_pid))
			role_lost(c, c->out_pid, "output", NULL, true);
		break;
	default:
		if (c->stopping)
			break;
		c->stopping = true;
		cl_info("shutting down: flushing %llu bytes to the MDF",
		    (unsigned long long)c->os.unacked_bytes);
		/* The capture stops and sends the end through the rings. */
		(void)cl_imsg_compose(c->cib, POI_IMSG_STOP, -1, NULL, 0);
		flush_role(c->cib, c->cio);
		break;
	}
}

static size_t
metrics_fill(
    void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next)
{
	struct ctx *c = arg;

	return cl_metrics_pollfds(c->metrics, pfd, max, now, next);
}

static void
metrics_handle(void *arg, struct pollfd *pfd, size_t n, uint64_t now)
{
	struct ctx *c = arg;

	cl_metrics_handle(c->metrics, pfd, n, now);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"read", required_argument, NULL, 'r'},
	    {"interface", required_argument, NULL, 'i'},
	    {"tasks", required_argument, NULL, 't'},
	    {"mdf", required_argument, NULL, 'm'},
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"insecure-plaintext", no_argument, NULL, 1},
	    {"version", no_argument, NULL, 2},
	    {"summary", no_argument, NULL, 3},
	    {"pace", no_argument, NULL, 4},
	    {"mdf-name", required_argument, NULL, 0},
	    {"cert", required_argument, NULL, 0},
	    {"key", required_argument, NULL, 0},
	    {"ca", required_argument, NULL, 0},
	    {"crl", required_argument, NULL, 0},
	    {"ipid", required_argument, NULL, 0},
	    {"metrics", required_argument, NULL, 0},
	    {"spool", required_argument, NULL, 0},
	    {"spool-max", required_argument, NULL, 0},
	    {"mem-max", required_argument, NULL, 0},
	    {"max-sessions", required_argument, NULL, 0},
	    {"keepalive-ms", required_argument, NULL, 0},
	    {"flush-timeout", required_argument, NULL, 0},
	    {"user", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {0};
	struct ctx c = {0};
	struct poi_capture_cfg kcfg;
	struct poi_match_cfg mcfg;
	struct poi_output_cfg ocfg;
	struct addrinfo hints, *res = NULL;
	struct cl_imsg im;
	char err[1024], host[256], nhost[NI_MAXHOST];
	const char *conf = NULL;
	int ch, idx, r, metrics_fd = -1;
	unsigned metrics_port = 0;
	bool sandboxed = false;
	size_t i;

	o.max_sessions = 2000000;
	o.flush_timeout = 10;
	c.o = &o;
	c.status = 0;
	c.cap_fd = c.match_fd = c.out_fd = -1;
	c.cap_pid = c.match_pid = c.out_pid = -1;
	cl_log_init("clearli-poi", CL_LOG_INFO, false);

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
		return 2;
	}
	while ((ch = getopt_long(
		    argc, argv, "r:i:t:m:c:nvh", longopts, &idx)) != -1) {
		switch (ch) {
		case 'r':
		case 'i':
		case 't':
		case 'm':
			err[0] = '\0';
			if (set_opt(&o,
				ch == 'r'       ? "read"
				    : ch == 'i' ? "interface"
				    : ch == 't' ? "tasks"
						: "mdf",
				optarg, err, sizeof(err)) != 0) {
				cl_err("-%c: %s", ch, err);
				return 2;
			}
			break;
		case 'c':
			break;
		case 'n':
			o.check = true;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 1:
			o.insecure = true;
			break;
		case 2:
			printf("clearli-poi 0.1.0\n");
			return 0;
		case 3:
			o.print_summary = true;
			break;
		case 4:
			o.pace = true;
			break;
		case 0:
			err[0] = '\0';
			if (set_opt(&o, longopts[idx].name, optarg, err,
				sizeof(err)) != 0) {
				cl_err("--%s: %s", longopts[idx].name, err);
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		cl_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o.verbose > 0)
		cl_log_set_level(o.verbose > 1 ? CL_LOG_DEBUG : CL_LOG_INFO);
	if ((o.read_file == NULL) == (o.interface == NULL)) {
		cl_err("give exactly one packet source: --read FILE or "
		       "--interface IF");
		return 2;
	}
	if (o.tasks == NULL) {
		cl_err("--tasks FILE is required");
		return 2;
	}
	if (o.mdf_host == NULL && !o.check) {
		cl_err("--mdf HOST:PORT is required");
		return 2;
	}
	if (!o.insecure && !o.check &&
	    (o.cert == NULL || o.key == NULL || o.ca == NULL)) {
		cl_err("TLS to the MDF needs --cert, --key and --ca (or "
		       "--insecure-plaintext, which sends intercepted data in "
		       "clear)");
		return 2;
	}
	if (o.ipid == NULL) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "poi");
		host[sizeof(host) - 1] = '\0';
		o.ipid = strdup(host);
	}

	if (o.check) {
		struct cl_taskset *ts = NULL;

		if (cl_taskset_load(o.tasks, &ts, err, sizeof(err)) != 0) {
			cl_err("task file %s: %s", o.tasks, err);
			return 1;
		}
		printf("configuration ok; %zu tasks\n", cl_taskset_count(ts));
		cl_taskset_free(ts);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	/* No core dump, no ptrace or /proc/PID/mem by this user, for the
	 * parent as for the roles (which inherit it before their drop). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		cl_err("prctl(PR_SET_DUMPABLE, 0): %s", strerror(errno));
		return 1;
	}
	memset(&kcfg, 0, sizeof(kcfg));
	memset(&mcfg, 0, sizeof(mcfg));
	memset(&ocfg, 0, sizeof(ocfg));

	/* The output role connects to an address: name lookups need files
	 * it does not see.  The certificate is checked against the name. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(o.mdf_host, o.mdf_port, &hints, &res)) != 0 ||
	    getnameinfo(res->ai_addr, res->ai_addrlen, nhost, sizeof(nhost),
		NULL, 0, NI_NUMERICHOST) != 0) {
		cl_err("--mdf %s: %s", o.mdf_host,
		    r != 0 ? gai_strerror(r) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		c.status = 1;
		goto out;
	}
	freeaddrinfo(res);
	if (o.insecure)
		cl_warn("WARNING: --insecure-plaintext: X2/X3 goes to %s:%s "
			"WITHOUT TLS; intercepted traffic is readable and "
			"forgeable on the network",
		    o.mdf_host, o.mdf_port);

	if ((r = cl_ring_new(POI_RING_PKT_SIZE, &c.pkt_ring)) != 0 ||
	    (r = cl_ring_new(POI_RING_PDU_SIZE, &c.pdu_ring)) != 0) {
		cl_err("rings: %s", cl_err_str(r));
		c.status = 1;
		goto out;
	}

	/* The --crl file as the output role reads it now: a later change
	 * goes to it (on_crl()). */
	if (o.crl != NULL && !o.insecure) {
		uint8_t *b = NULL;
		size_t bl;

		(void)cl_file_reread(
		    o.crl, &c.crl_seen, POI_CRL_MAX, &b, &bl, err, sizeof(err));
		free(b);
	}
	/* The output role: the key is read in it, never here. */
	ocfg.ocfg.host = nhost;
	ocfg.ocfg.port = o.mdf_port;
	ocfg.ocfg.servername = o.mdf_name != NULL ? o.mdf_name : o.mdf_host;
	ocfg.ocfg.mem_max = (size_t)o.mem_max;
	ocfg.ocfg.spool_path = o.spool;
	ocfg.ocfg.spool_max = o.spool_max;
	ocfg.ocfg.keepalive_ms = (unsigned)o.keepalive_ms;
	ocfg.cert = o.cert;
	ocfg.key = o.key;
	ocfg.ca = o.ca;
	ocfg.crl = o.crl;
	ocfg.insecure = o.insecure;
	ocfg.flush_timeout = o.flush_timeout;
	cl_ring_fds(c.pdu_ring, ocfg.rfds);
	if (poi_output_start(
		&ocfg, o.user, &c.out_pid, &c.out_fd, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		c.status = 1;
		goto out;
	}
	if ((r = cl_imsg_new(
		 c.out_fd, poi_from_output, poi_from_output_n, &c.oib)) != 0 ||
	    (r = cl_imsg_wait(c.oib, &im, err, sizeof(err))) != 1 ||
	    im.type != POI_IMSG_READY) {
		(void)cl_privsep_wait(c.out_pid);
		cl_err("the output role did not start");
		c.status = 1;
		goto out;
	}

	/* The match role: forked from here, it never saw the key. */
	mcfg.pcfg.ipid = o.ipid;
	mcfg.pcfg.max_sessions = (size_t)o.max_sessions;
	mcfg.pcfg.max_frag_datagrams = 65536;
	cl_ring_fds(c.pkt_ring, mcfg.pkt_fds);
	cl_ring_fds(c.pdu_ring, mcfg.pdu_fds);
	if (poi_match_start(&mcfg, o.user, &c.match_pid, &c.match_fd, err,
		sizeof(err)) != 0) {
		cl_err("%s", err);
		c.status = 1;
		goto out;
	}
	if ((r = cl_imsg_new(
		 c.match_fd, poi_from_match, poi_from_match_n, &c.mib)) != 0 ||
	    (r = cl_imsg_wait(c.mib, &im, err, sizeof(err))) != 1 ||
	    im.type != POI_IMSG_READY) {
		(void)cl_privsep_wait(c.match_pid);
		cl_err("the match role did not start");
		c.status = 1;
		goto out;
	}
	if (load_tasks(&c, true) != 0) {
		c.status = 1;
		goto out;
	}

	if (o.metrics != NULL) {
		metrics_fd = cl_metrics_listen(
		    o.metrics, &metrics_port, err, sizeof(err));
		if (metrics_fd == -1) {
			cl_err("--metrics: %s", err);
			c.status = 1;
			goto out;
		}
		if (cl_metrics_new(metrics_fd, render, &c, &c.metrics) != 0) {
			cl_err("--metrics: out of memory");
			c.status = 1;
			goto out;
		}
		cl_info("metrics on %s (port %u)", o.metrics, metrics_port);
	}
	/* The capture role opens the interface or the file, with the
	 * privileges this process still has, and starts reading. */
	kcfg.read_file = o.read_file;
	kcfg.interface = o.interface;
	kcfg.pace = o.pace;
	cl_ring_fds(c.pkt_ring, kcfg.pkt_fds);
	if (poi_capture_start(
		&kcfg, o.user, &c.cap_pid, &c.cap_fd, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		c.status = 1;
		goto out;
	}
	if ((r = cl_imsg_new(c.cap_fd, poi_from_capture, poi_from_capture_n,
		 &c.cib)) != 0 ||
	    (r = cl_imsg_wait(c.cib, &im, err, sizeof(err))) != 1 ||
	    im.type != POI_IMSG_READY) {
		(void)cl_privsep_wait(c.cap_pid);
		cl_err("the capture role did not start");
		c.status = 1;
		goto out;
	}
	if (o.user != NULL && drop_privileges(o.user) != 0) {
		c.status = 1;
		goto out;
	}
	/* The capture is open: CAP_NET_RAW (all the unit grants) is not
	 * needed any more, whichever user this runs as. */
	if (cl_privsep_drop_caps(err, sizeof(err)) != 0) {
		cl_err("cannot drop capabilities: %s", err);
		c.status = 1;
		goto out;
	}

	if ((r = cl_loop_new(&c.l)) != 0 ||
	    cl_loop_signal(c.l, SIGTERM, on_signal, &c) != 0 ||
	    cl_loop_signal(c.l, SIGINT, on_signal, &c) != 0 ||
	    cl_loop_signal(c.l, SIGHUP, on_signal, &c) != 0 ||
	    cl_loop_signal(c.l, SIGCHLD, on_signal, &c) != 0 ||
	    (c.cio = cl_loop_io_new(c.l, c.cap_fd, on_capture, &c)) == NULL ||
	    (c.mio = cl_loop_io_new(c.l, c.match_fd, on_match, &c)) == NULL ||
	    (c.oio = cl_loop_io_new(c.l, c.out_fd, on_output, &c)) == NULL ||
	    (c.stats_t = cl_loop_timer_new(c.l, on_stats, &c)) == NULL ||
	    cl_loop_io_set(c.cio, CL_LOOP_READ) != 0 ||
	    cl_loop_io_set(c.mio, CL_LOOP_READ) != 0 ||
	    cl_loop_io_set(c.oio, CL_LOOP_READ) != 0 ||
	    cl_loop_timer_every(c.stats_t, 250) != 0 ||
	    (o.crl != NULL && !o.insecure &&
		((c.crl_t = cl_loop_timer_new(c.l, on_crl, &c)) == NULL ||
		    cl_loop_timer_every(c.crl_t, 1000) != 0)) ||
	    (c.metrics != NULL &&
		((c.metrics_ps = cl_loop_pollset_new(c.l, CL_METRICS_POLLFDS,
		      metrics_fill, metrics_handle, &c)) == NULL ||
		    cl_loop_pollset_arm(c.metrics_ps) != 0))) {
		cl_err("event loop: %s", cl_err_str(r != 0 ? r : CL_ERR_NOMEM));
		c.status = 1;
		goto out;
	}
	/* From here the parent never waits for a role. */
	if (fcntl(c.cap_fd, F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(c.match_fd, F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(c.out_fd, F_SETFL, O_NONBLOCK) != 0) {
		cl_err("role sockets: %s", strerror(errno));
		c.status = 1;
		goto out;
	}
	/* Everything is open: from here the parent reads the task file
	 * and its roles' messages and serves the metrics, nothing else. */
	if (poi_sandbox_parent(err, sizeof(err)) != 0) {
		cl_err("%s", err);
		c.status = 1;
		goto out;
	}
	sandboxed = true;
	if (cl_loop_run(c.l) != 0)
		c.status = 1;
	if (!c.finished && c.status == 0)
		c.status = 1;

out:
	/* The roles end at the end of their sockets. */
	cl_imsg_free(c.cib);
	cl_imsg_free(c.mib);
	cl_imsg_free(c.oib);
	if (c.cap_fd >= 0)
		close(c.cap_fd);
	if (c.match_fd >= 0)
		close(c.match_fd);
	if (c.out_fd >= 0)
		close(c.out_fd);
	if (c.cap_pid > 0)
		(void)cl_privsep_wait(c.cap_pid);
	if (c.match_pid > 0)
		(void)cl_privsep_wait(c.match_pid);
	if (c.out_pid > 0)
		(void)cl_privsep_wait(c.out_pid);
	if (c.match_done) {
		const struct cl_pipeline_stats *ps = &c.ms.ps;
		uint64_t drops = ps->emit_drops + c.os.dropped;

		cl_info("done: %llu packets, %llu intercepted, %llu X2 and "
			"%llu X3 PDUs, %llu dropped, %llu bytes confirmed by "
			"the MDF",
		    (unsigned long long)ps->packets,
		    (unsigned long long)ps->matched, (unsigned long long)ps->x2,
		    (unsigned long long)ps->x3, (unsigned long long)drops,
		    (unsigned long long)c.os.acked_bytes);
		if (drops > 0)
			c.status = 1;
		if (c.cs.read_incomplete)
			c.status = 1;
		if (o.print_summary)
			print_summary(&c);
	}
	cl_loop_io_free(c.mio);
	cl_loop_io_free(c.oio);
	cl_loop_io_free(c.cio);
	cl_loop_timer_free(c.stats_t);
	cl_loop_timer_free(c.crl_t);
	cl_loop_pollset_free(c.metrics_ps);
	cl_loop_free(c.l);
	cl_metrics_free(c.metrics);
	cl_ring_free(c.pkt_ring);
	cl_ring_free(c.pdu_ring);
	free(c.tstats);
	free(o.read_file);
	free(o.interface);
	free(o.tasks);
	free(o.mdf_host);
	free(o.mdf_port);
	free(o.mdf_name);
	free(o.cert);
	free(o.key);
	free(o.ca);
	free(o.crl);
	free(o.ipid);
	free(o.metrics);
	free(o.spool);
	free(o.user);
	if (sandboxed) {
		/* _exit: no atexit handler (a leak checker would need calls
		 * the filter refuses), as in the roles. */
		fflush(NULL);
		_exit(c.status);
	}
	return c.status;
}
