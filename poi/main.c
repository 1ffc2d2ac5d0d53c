/* SPDX-License-Identifier: ISC */
/*
 * clearli-poi: the point of interception.  Reads packets from a capture
 * file or a live interface, tracks subscriber sessions, matches packets
 * against the tasks and sends X2/X3 to the MDF.  See clearli-poi(8).
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capfile.h"
#include "conf.h"
#include "decode.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "out.h"
#include "pipeline.h"
#include "privsep.h"
#include "subscriber.h"
#include "task.h"
#include "tls.h"

#define BATCH 256

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

static volatile sig_atomic_t got_term, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

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
	    "                            when the file changes)\n"
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

/* Per-task summary and totals, for --summary and the demo. */
static void
print_summary(struct cl_pipeline *pl, struct cl_out *out,
    uint64_t ts_normalised, uint64_t ts_invalid, bool read_incomplete)
{
	const struct cl_taskset *ts = cl_pipeline_tasks(pl);
	struct cl_pipeline_stats ps;
	struct cl_out_stats os;
	struct cl_subs_stats ss;
	char u[CL_UUID_STRLEN + 1];
	size_t i, n = cl_taskset_count(ts);

	cl_pipeline_stats(pl, &ps);
	cl_subs_stats(cl_pipeline_subs(pl), &ss);
	printf("packets %llu, non-IP %llu, malformed %llu, intercepted "
	       "%llu\n",
	    (unsigned long long)ps.packets, (unsigned long long)ps.nonip,
	    (unsigned long long)ps.malformed, (unsigned long long)ps.matched);
	printf("malformed but intercepted %llu; PDUs without capture time "
	       "%llu\n",
	    (unsigned long long)ps.malformed_matched,
	    (unsigned long long)ps.ts_omitted);
	printf("records with a repaired timestamp %llu, without a usable "
	       "one %llu; capture file read %s\n",
	    (unsigned long long)ts_normalised, (unsigned long long)ts_invalid,
	    read_incomplete ? "only in part" : "to its end");
	printf("link types not decoded:");
	for (i = 0; i < ps.n_undecoded; i++)
		printf(" %u (%s) %llu packets%s", ps.undecoded[i].linktype,
		    cl_linktype_name(ps.undecoded[i].linktype),
		    (unsigned long long)ps.undecoded[i].packets,
		    i + 1 < ps.n_undecoded || ps.undecoded_other > 0 ? ","
								     : "");
	if (ps.undecoded_other > 0)
		printf(" others %llu packets",
		    (unsigned long long)ps.undecoded_other);
	if (ps.n_undecoded == 0)
		printf(" none");
	printf("\n");
	printf("signalling messages %llu (bad %llu); sessions started %llu, "
	       "updated %llu, ended %llu, expired %llu\n",
	    (unsigned long long)ps.signalling,
	    (unsigned long long)ps.signalling_bad,
	    (unsigned long long)ss.started, (unsigned long long)ss.updated,
	    (unsigned long long)ss.stopped, (unsigned long long)ss.expired);
	printf("X2 PDUs %llu, X3 PDUs %llu, dropped %llu\n",
	    (unsigned long long)ps.x2, (unsigned long long)ps.x3,
	    (unsigned long long)ps.emit_drops);
	if (out != NULL) {
		cl_out_stats(out, &os);
		printf("bytes queued %llu, confirmed by the MDF %llu, "
		       "unconfirmed %llu\n",
		    (unsigned long long)os.bytes,
		    (unsigned long long)os.acked_bytes,
		    (unsigned long long)os.unacked_bytes);
	}
	for (i = 0; i < n && i < 100; i++) {
		struct cl_task *t = cl_taskset_task(ts, i);

		cl_format_uuid(t->xid, u);
		printf("task %s liid %s: %llu PDUs, %llu payload bytes\n", u,
		    t->liid, (unsigned long long)t->pdus,
		    (unsigned long long)t->bytes);
	}
	fflush(stdout);
}

struct ctx {
	struct opts *o;
	struct cl_pipeline *pl;
	struct cl_out *out;
	pcap_t *pcap;
	int64_t started;
	bool read_incomplete; /* --read stopped before the file's end */
	uint64_t ts_normalised, ts_invalid;
};

/* A record returned with a repaired timestamp: warned about once. */
static void
cap_flags(struct ctx *c, const struct cl_cap *cap, const struct cl_cap_pkt *p)
{
	if ((p->flags & CL_CAP_F_TS_NORMALISED) != 0 && c->ts_normalised++ == 0)
		cl_warn("%s: record at offset %llu has a fraction of a second "
			"of 1 s or more; the whole seconds were carried "
			"(warned once; the count is in the summary)",
		    c->o->read_file, (unsigned long long)cl_cap_offset(cap));
	if ((p->flags & CL_CAP_F_TS_INVALID) != 0 && c->ts_invalid++ == 0)
		cl_warn("%s: record at offset %llu has a timestamp beyond "
			"64-bit seconds; it is read without one (warned "
			"once; the count is in the summary)",
		    c->o->read_file, (unsigned long long)cl_cap_offset(cap));
}

/* clearli_poi_packets_undecoded_total{linktype="N",name="..."}. */
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

static void
render(void *arg, struct cl_buf *b)
{
	struct ctx *c = arg;
	struct cl_pipeline_stats ps;
	struct cl_out_stats os;
	struct cl_subs_stats ss;

	cl_pipeline_stats(c->pl, &ps);
	cl_out_stats(c->out, &os);
	cl_subs_stats(cl_pipeline_subs(c->pl), &ss);
#define C(n, h, v) cl_metric(b, "clearli_poi_" n, "counter", h, v)
#define G(n, h, v) cl_metric(b, "clearli_poi_" n, "gauge", h, v)
	C("packets_total", "Packets seen.", ps.packets);
	C("bytes_total", "Bytes seen (captured length).", ps.bytes);
	C("packets_nonip_total", "Frames without IP.", ps.nonip);
	C("packets_malformed_total",
	    "Frames the decoder rejected, or whose IP header is sound but "
	    "the rest not.",
	    ps.malformed);
	C("packets_malformed_matched_total",
	    "Malformed packets intercepted all the same.",
	    ps.malformed_matched);
	C("pdus_no_timestamp_total",
	    "PDUs sent without a capture time X2/X3 could carry.",
	    ps.ts_omitted);
	undecoded_metrics(b, &ps);
	C("packets_matched_total", "Packets intercepted (once per task).",
	    ps.matched);
	C("pdus_x2_total", "X2 PDUs emitted.", ps.x2);
	C("pdus_x3_total", "X3 PDUs emitted.", ps.x3);
	C("pdus_dropped_total", "PDUs dropped because the output was full.",
	    ps.emit_drops);
	C("signalling_total", "RADIUS/DHCP/DHCPv6 messages parsed.",
	    ps.signalling);
	C("signalling_bad_total", "Signalling messages rejected as malformed.",
	    ps.signalling_bad);
	C("fragments_total", "IP fragments offered to reassembly.",
	    ps.frag_seen);
	C("fragments_dropped_total", "Fragmented datagrams given up.",
	    ps.frag_dropped);
	G("sessions", "Subscriber sessions known.",
	    cl_subs_count(cl_pipeline_subs(c->pl)));
	C("sessions_started_total", "Sessions started.", ss.started);
	C("sessions_ended_total", "Sessions stopped or replaced.",
	    ss.stopped + ss.replaced);
	C("sessions_expired_total", "Sessions expired.", ss.expired);
	C("sessions_refused_total", "Sessions refused: table full.",
	    ss.refused_full);
	G("tasks", "Tasks loaded.", cl_taskset_count(cl_pipeline_tasks(c->pl)));
	C("out_bytes_total", "PDU bytes queued for the MDF.", os.bytes);
	C("out_sent_bytes_total", "PDU bytes written to the MDF.",
	    os.sent_bytes);
	C("out_acked_bytes_total", "PDU bytes confirmed by the MDF.",
	    os.acked_bytes);
	C("out_spilled_bytes_total", "PDU bytes spilled to the spool file.",
	    os.spilled_bytes);
	G("out_memory_bytes", "PDU bytes held in memory.", os.mem_bytes);
	G("out_spool_bytes", "PDU bytes held in the spool file.",
	    os.spool_bytes);
	G("out_unacked_bytes", "PDU bytes not yet confirmed.",
	    os.unacked_bytes);
	G("mdf_connected", "1 if connected to the MDF.", os.connected);
	C("mdf_connects_total", "Connections established.", os.connects);
	C("mdf_connect_failures_total", "Failed connection attempts.",
	    os.connect_failures);
	C("keepalives_total", "Keepalives sent.", os.keepalives);
	C("keepalive_acks_total", "Keepalive acknowledgements received.",
	    os.keepalive_acks);
#undef C
#undef G
}

static int
load_tasks(struct ctx *c, bool initial)
{
	struct cl_taskset *ts = NULL;
	char err[512];
	int r;

	if ((r = cl_taskset_load(c->o->tasks, &ts, err, sizeof(err))) != 0) {
		cl_err("task file %s rejected: %s%s", c->o->tasks, err,
		    initial ? "" : "; the previous tasks stay active");
		return r;
	}
	cl_info("loaded %zu tasks from %s", cl_taskset_count(ts), c->o->tasks);
	if (c->pl != NULL)
		cl_pipeline_set_tasks(c->pl, ts);
	else
		cl_taskset_free(ts);
	return 0;
}

static void
pcap_cb(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct ctx *c = (struct ctx *)arg;
	struct cl_cap_pkt p;

	p.data = bytes;
	p.caplen = h->caplen;
	p.wirelen = h->len;
	p.ts_sec = h->ts.tv_sec;
	p.ts_nsec = (uint32_t)h->ts.tv_usec * 1000;
	p.linktype = (uint32_t)pcap_datalink(c->pcap);
	p.ifindex = 0;
	cl_pipeline_packet(c->pl, &p);
}

static pcap_t *
open_live(const char *ifname)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	if ((p = pcap_create(ifname, eb)) == NULL) {
		cl_err("interface %s: %s", ifname, eb);
		return NULL;
	}
	/* libpcap on Linux uses AF_PACKET with a TPACKET_V3 memory-mapped
	 * ring; a large ring rides out bursts while the POI is busy. */
	(void)pcap_set_snaplen(p, 65535);
	(void)pcap_set_promisc(p, 1);
	(void)pcap_set_buffer_size(p, 256 * 1024 * 1024);
	(void)pcap_set_timeout(p, 100);
	(void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
	if (pcap_activate(p) < 0) {
		cl_err("interface %s: %s", ifname, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (pcap_setnonblock(p, 1, eb) != 0) {
		cl_err("interface %s: %s", ifname, eb);
		pcap_close(p);
		return NULL;
	}
	return p;
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

static int64_t
wall_now(void)
{
	return (int64_t)time(NULL);
}

/*
 * --pace: a packet of the capture file is handled no earlier than
 * start + (its time stamp - the first one's), start being when the first
 * packet was read, or the first time stamp if that lies in the future (a
 * capture made for a later moment replays on its own clock; the
 * benchmark measures latency that way).
 */
struct pace {
	bool started, held;
	int64_t ts0, start; /* ns */
};

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* 0 if pkt is due now, else the ms to wait (pkt is then held). */
static int
pace_wait(struct pace *p, const struct cl_cap_pkt *pkt)
{
	int64_t t = (int64_t)pkt->ts_sec * 1000000000 + pkt->ts_nsec;
	int64_t now = real_ns(), due;

	if (!p->started) {
		p->started = true;
		p->ts0 = t;
		p->start = t > now ? t : now;
	}
	due = p->start + (t - p->ts0);
	p->held = due > now;
	if (!p->held)
		return 0;
	return (int)((due - now + 999999) / 1000000);
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
	struct cl_pipeline_cfg pcfg = {0};
	struct cl_out_cfg ocfg = {0};
	struct cl_cap *cap = NULL;
	struct cl_cap_pkt pkt;
	struct pace pace = {0};
	SSL_CTX *tls = NULL;
	struct pollfd pfd[2 + CL_METRICS_POLLFDS];
	struct cl_metrics *metrics = NULL;
	char err[1024], host[256];
	const char *conf = NULL;
	int ch, idx, r, status = 1, metrics_fd = -1;
	size_t mn = 0;
	unsigned metrics_port = 0;
	bool eof = false, flushing = false;
	int64_t now_ms, last_tick = 0, flush_deadline = 0;
	struct sigaction sa;
	size_t i;

	o.max_sessions = 2000000;
	o.flush_timeout = 10;
	c.o = &o;
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

	/* Before any key is read: no core dump holds it. */
	if (cl_tls_secure_init(err, sizeof(err)) != 0) {
		cl_err("%s", err);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pcfg.ipid = o.ipid;
	pcfg.max_sessions = (size_t)o.max_sessions;
	pcfg.max_frag_datagrams = 65536;
	if (!o.insecure) {
		struct cl_tls_cfg tc = {.cert = o.cert,
		    .key = o.key,
		    .ca = o.ca,
		    .crl = o.crl,
		    .self = CL_ROLE_POI,
		    .peer = CL_ROLE_MDF};

		if ((tls = cl_tls_client_ctx(&tc, err, sizeof(err))) == NULL) {
			cl_err("TLS: %s", err);
			goto out;
		}
	} else
		cl_warn("WARNING: --insecure-plaintext: X2/X3 goes to %s:%s "
			"WITHOUT TLS; intercepted traffic is readable and "
			"forgeable on the network",
		    o.mdf_host, o.mdf_port);
	ocfg.host = o.mdf_host;
	ocfg.port = o.mdf_port;
	ocfg.tls = tls;
	ocfg.servername = o.mdf_name;
	ocfg.mem_max = (size_t)o.mem_max;
	ocfg.spool_path = o.spool;
	ocfg.spool_max = o.spool_max;
	ocfg.keepalive_ms = (unsigned)o.keepalive_ms;
	if ((r = cl_out_new(&ocfg, &c.out)) != 0) {
		cl_err("X2/X3 output: %s", cl_err_str(r));
		goto out;
	}
	pcfg.emit = cl_out_emit;
	pcfg.emit_arg = c.out;
	if ((r = cl_pipeline_new(&pcfg, &c.pl)) != 0) {
		cl_err("pipeline: %s", cl_err_str(r));
		goto out;
	}
	if (load_tasks(&c, true) != 0)
		goto out;
	if (o.metrics != NULL) {
		metrics_fd = cl_metrics_listen(
		    o.metrics, &metrics_port, err, sizeof(err));
		if (metrics_fd == -1) {
			cl_err("--metrics: %s", err);
			goto out;
		}
		if (cl_metrics_new(metrics_fd, render, &c, &metrics) != 0) {
			cl_err("--metrics: out of memory");
			goto out;
		}
		cl_info("metrics on %s (port %u)", o.metrics, metrics_port);
	}
	if (o.read_file != NULL) {
		if ((r = cl_cap_open_path(
			 o.read_file, &cap, err, sizeof(err))) != 0) {
			cl_err("--read: %s", err);
			goto out;
		}
		cl_info("reading %s (%s)", o.read_file,
		    cl_cap_format(cap) == CL_CAP_PCAPNG ? "pcapng" : "pcap");
	} else if ((c.pcap = open_live(o.interface)) == NULL)
		goto out;
	else
		cl_info("capturing on %s", o.interface);
	if (o.user != NULL && drop_privileges(o.user) != 0)
		goto out;
	/* The capture is open: CAP_NET_RAW (all the unit grants) is not
	 * needed any more, whichever user this runs as. */
	if (cl_privsep_drop_caps(err, sizeof(err)) != 0) {
		cl_err("cannot drop capabilities: %s", err);
		goto out;
	}

	cl_pipeline_tick(c.pl, wall_now());
	for (;;) {
		int n = 0, timeout, ofd = -1, mfd = -1, pfdi = -1;

		now_ms = cl_out_now_ms();
		if (now_ms - last_tick >= 1000) {
			cl_pipeline_tick(c.pl, wall_now());
			last_tick = now_ms;
		}
		if (got_hup) {
			got_hup = 0;
			cl_info("SIGHUP: reloading %s", o.tasks);
			(void)load_tasks(&c, false);
			cl_pipeline_tick(c.pl, wall_now());
		}
		if (got_term && !flushing) {
			cl_info("shutting down: flushing %llu bytes to the MDF",
			    (unsigned long long)cl_out_pending(c.out));
			flushing = true;
			flush_deadline =
			    now_ms + (int64_t)o.flush_timeout * 1000;
			cl_out_barrier(c.out, now_ms);
		}
		if (eof && !flushing) {
			flushing = true;
			flush_deadline =
			    now_ms + (int64_t)o.flush_timeout * 1000;
			cl_out_barrier(c.out, now_ms);
		}
		if (flushing) {
			if (cl_out_pending(c.out) == 0)
				break;
			if (now_ms >= flush_deadline) {
				cl_err("the MDF did not confirm %llu bytes "
				       "within %llu s; they are lost",
				    (unsigned long long)cl_out_pending(c.out),
				    (unsigned long long)o.flush_timeout);
				goto out;
			}
		}

		/* Read a batch from the file unless the output is full. */
		timeout = cl_out_timeout(c.out, now_ms);
		if (cap != NULL && !eof && !flushing) {
			if (!cl_out_full(c.out)) {
				for (i = 0; i < BATCH; i++) {
					int wait;

					r = pace.held ? 1
						      : cl_cap_next(cap, &pkt);
					if (r == 1 && o.pace &&
					    (wait = pace_wait(&pace, &pkt)) >
						0) {
						if (timeout < 0 ||
						    wait < timeout)
							timeout = wait;
						break;
					}
					if (r == 1) {
						if (pkt.flags != 0)
							cap_flags(
							    &c, cap, &pkt);
						cl_pipeline_packet(c.pl, &pkt);
						continue;
					}
					if (r < 0) {
						cl_err("%s: bad record at "
						       "offset %llu: %s; "
						       "the rest of the file "
						       "is not read",
						    o.read_file,
						    (unsigned long long)
							cl_cap_error_offset(
							    cap),
						    cl_err_str(r));
						c.read_incomplete = true;
					}
					eof = true;
					break;
				}
				if (!pace.held)
					timeout = 0;
			}
		}
		if (flushing && timeout > 100)
			timeout = 100;
		if (timeout < 0 || timeout > 1000)
			timeout = 1000;
		if (cl_out_pollfd(c.out, &pfd[n])) {
			pfd[n].revents = 0;
			ofd = n++;
		}
		if (metrics != NULL) {
			uint64_t next = UINT64_MAX;

			/* Served a step at a time: never a wait in the loop. */
			mfd = n;
			mn = cl_metrics_pollfds(metrics, &pfd[n],
			    CL_METRICS_POLLFDS, (uint64_t)now_ms, &next);
			n += (int)mn;
			if (next != UINT64_MAX &&
			    (timeout < 0 ||
				next < (uint64_t)now_ms + (uint64_t)timeout))
				timeout = next <= (uint64_t)now_ms
				    ? 0
				    : (int)(next - (uint64_t)now_ms);
		}
		if (c.pcap != NULL && !flushing) {
			pfd[n].fd = pcap_get_selectable_fd(c.pcap);
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			pfdi = n++;
		}
		if (poll(pfd, (nfds_t)n, timeout) == -1 && errno != EINTR) {
			cl_err("poll: %s", strerror(errno));
			goto out;
		}
		now_ms = cl_out_now_ms();
		cl_out_run(c.out, ofd >= 0 ? pfd[ofd].revents : 0, now_ms);
		if (mfd >= 0)
			cl_metrics_handle(
			    metrics, &pfd[mfd], mn, (uint64_t)now_ms);
		if (pfdi >= 0 && (pfd[pfdi].revents & POLLIN)) {
			if (pcap_dispatch(c.pcap, 4096, pcap_cb, (u_char *)&c) <
			    0) {
				cl_err("capture: %s", pcap_geterr(c.pcap));
				goto out;
			}
		}
	}
	status = 0;
out:
	if (c.pl != NULL) {
		struct cl_pipeline_stats ps;
		struct cl_out_stats os;

		cl_pipeline_stats(c.pl, &ps);
		cl_out_stats(c.out, &os);
		cl_info("done: %llu packets, %llu intercepted, %llu X2 and "
			"%llu X3 PDUs, %llu dropped, %llu bytes confirmed by "
			"the MDF",
		    (unsigned long long)ps.packets,
		    (unsigned long long)ps.matched, (unsigned long long)ps.x2,
		    (unsigned long long)ps.x3,
		    (unsigned long long)(ps.emit_drops),
		    (unsigned long long)os.acked_bytes);
		if (ps.emit_drops > 0)
			status = 1;
		if (c.read_incomplete)
			status = 1;
		if (o.print_summary)
			print_summary(c.pl, c.out, c.ts_normalised,
			    c.ts_invalid, c.read_incomplete);
	}
	cl_pipeline_free(c.pl);
	cl_out_free(c.out);
	cl_cap_free(cap);
	if (c.pcap != NULL)
		pcap_close(c.pcap);
	cl_metrics_free(metrics);
	SSL_CTX_free(tls);
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
	return status;
}
