/* SPDX-License-Identifier: ISC */
/*
 * clearli-mdf: the mediation and delivery function.  Accepts X2/X3 from
 * POIs, writes every accepted PDU as a TS 102 232 PS-PDU to a durable
 * spool before acknowledging it, and delivers HI2/HI3 to each LEMF.  The
 * X2/X3 server is x2x3srv.c, the delivery mdf/stream.c.  See
 * clearli-mdf(8) and docs/PROTOCOL.hi.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf.h"
#include "err.h"
#include "front.h"
#include "log.h"
#include "loop.h"
#include "mdf.h"
#include "mdfd.h"
#include "mdfsandbox.h"
#include "metrics.h"
#include "net.h"
#include "privsep.h"
#include "seqwin.h"
#include "signer.h"
#include "stream.h"
#include "task.h"
#include "tls.h"
#include "util.h"

static volatile sig_atomic_t got_term, got_hup, got_chld;

uint64_t
mdf_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: clearli-mdf [options]\n"
	    "\n"
	    "Mediation and delivery: receives X2/X3 from POIs, stores every\n"
	    "PDU durably, and delivers ETSI TS 102 232 HI2/HI3 to the LEMFs.\n"
	    "\n"
	    "X2/X3 from the POIs:\n"
	    "  -l, --listen ADDR:PORT    X2/X3 listening address (required)\n"
	    "      --port-file FILE      write the bound port here once "
	    "listening\n"
	    "      --cert FILE           MDF certificate (PEM), for POIs and "
	    "LEMFs\n"
	    "      --key FILE            MDF private key (PEM, mode 0600)\n"
	    "      --ca FILE             CA certificates that sign POI "
	    "certificates\n"
	    "      --lemf-ca FILE        CA certificates that sign LEMF "
	    "certificates\n"
	    "                            (default: --ca)\n"
	    "      --crl FILE            revocation lists of the POIs' CAs "
	    "(PEM; read\n"
	    "                            again when the file changes)\n"
	    "      --lemf-crl FILE       revocation lists of the LEMFs' CAs\n"
	    "                            (default: --crl without "
	    "--lemf-ca)\n" CL_FRONT_USAGE
	    "      --insecure-plaintext  accept X2/X3 without TLS (command "
	    "line "
	    "only)\n"
	    "  -t, --tasks FILE          task file (XID to LIID; see "
	    "clearli-tasks(5));\n"
	    "                            reloaded on SIGHUP\n"
	    "Spool:\n"
	    "      --spool-dir DIR       spool directory (required)\n"
	    "      --fsync POLICY        always | group | never (default "
	    "group)\n"
	    "      --fsync-interval-ms N group commit interval (default 10)\n"
	    "      --spool-capacity BYTES  largest spool (default 0: the "
	    "disk)\n"
	    "      --spool-segment BYTES segment size (default 67108864)\n"
	    "      --spool-alarm PCT[,PCT...]  alarm thresholds (default "
	    "80,95)\n"
	    "      --spool-recover       start on a corrupt spool, discarding "
	    "its bad\n"
	    "                            bytes and skipping the numbers they "
	    "held\n"
	    "                            (command line only; see "
	    "clearli-mdf(8))\n"
	    "HI2/HI3 (ETSI TS 102 232):\n"
	    "      --operator-id ID      operatorIdentifier (required, 1-16 "
	    "octets)\n"
	    "      --network-element-id ID  networkElementIdentifier\n"
	    "      --country CC          authorizationCountryCode\n"
	    "      --destination SPEC    NAME HOST:PORT tls|tcp "
	    "LIID[,LIID..]|* "
	    "[name=TLSNAME]\n"
	    "                            (repeat for each LEMF)\n"
	    "      --integrity-key FILE  Ed25519 private key (PEM) signing "
	    "IntegrityCheck PDUs (mode 0600),\n"
	    "                            held by the signer process only\n"
	    "      --user NAME           user of the signer and the front "
	    "when started\n"
	    "                            as root\n"
	    "                            (default _clearli, else nobody)\n"
	    "      --integrity-interval SECS  interval (default 10; 0 = "
	    "none)\n"
	    "      --keepalive SECS      idle keep-alive to LEMFs (default 5)\n"
	    "      --ack-timeout SECS    LEMF answer timeout (default 30)\n"
	    "Operation:\n"
	    "  -c, --config FILE         read options from FILE (key = "
	    "value)\n"
	    "      --metrics ADDR:PORT   Prometheus text on a loopback "
	    "address\n"
	    "      --max-flows N         communications tracked (default "
	    "1000000)\n"
	    "      --max-flows-per-poi N communications one POI may open "
	    "(default:\n"
	    "                            half of --max-flows)\n"
	    "      --dedup-window N      X2/X3 sequence numbers remembered "
	    "per POI and\n"
	    "                            task to recognise repeats (default "
	    "8192)\n"
	    "      --flush-timeout SECS  at exit, time to deliver what is "
	    "left (default 5)\n"
	    "  -n, --check               check the configuration, then exit\n"
	    "  -v, --verbose             more log detail (repeat for debug)\n"
	    "  -h, --help                this text\n"
	    "      --version             print the version\n");
}

static int
set_str(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? CL_ERR_NOMEM : 0;
}

static bool
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > MDF_DEST_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
			s[i] == '_'))
			return false;
	return true;
}

/* "NAME HOST:PORT tls|tcp LIID[,LIID...]|* [name=TLSNAME]" */
static int
parse_dest(struct mdf_opts *o, const char *v, char *err, size_t errlen)
{
	char buf[4096], *w[6], *p, *save = NULL, *l;
	struct mdf_dest *d;
	size_t n = 0, i;
	int r;

	if (o->ndests == MAX_DESTS) {
		snprintf(err, errlen, "at most %d destinations", MAX_DESTS);
		return CL_ERR_FULL;
	}
	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "destination too long");
		return CL_ERR_TOOBIG;
	}
	memcpy(buf, v, strlen(v) + 1);
	for (p = strtok_r(buf, " \t", &save); p != NULL && n < 6;
	     p = strtok_r(NULL, " \t", &save))
		w[n++] = p;
	if (n < 4 || n > 5 || p != NULL) {
		snprintf(err, errlen,
		    "expected NAME HOST:PORT tls|tcp LIIDS [name=TLSNAME]");
		return CL_ERR_FORMAT;
	}
	d = &o->dests[o->ndests];
	memset(d, 0, sizeof(*d));
	if (!name_ok(w[0])) {
		snprintf(
		    err, errlen, "destination name must be 1-32 of [a-z0-9_-]");
		return CL_ERR_FORMAT;
	}
	for (i = 0; i < o->ndests; i++)
		if (strcmp(o->dests[i].name, w[0]) == 0) {
			snprintf(
			    err, errlen, "destination %s given twice", w[0]);
			return CL_ERR_EXISTS;
		}
	memcpy(d->name, w[0], strlen(w[0]) + 1);
	{
		uint16_t port;

		if ((r = cl_net_split(NULL, w[1], 0, d->host, sizeof(d->host),
			 &port, err, errlen)) != 0)
			return r;
		snprintf(d->port, sizeof(d->port), "%u", (unsigned)port);
	}
	if (strcmp(w[2], "tls") == 0)
		d->tls = true;
	else if (strcmp(w[2], "tcp") != 0) {
		snprintf(err, errlen, "transport must be tls or tcp");
		return CL_ERR_FORMAT;
	}
	if (strcmp(w[3], "*") == 0) {
		d->all = true;
	} else {
		char *s2 = NULL;

		for (l = strtok_r(w[3], ",", &s2); l != NULL;
		     l = strtok_r(NULL, ",", &s2)) {
			char **nl;

			if (strlen(l) < 1 || strlen(l) > CL_PSDU_LIID_MAX) {
				snprintf(err, errlen,
				    "LIID '%s' must have 1 to 25 characters",
				    l);
				return CL_ERR_FORMAT;
			}
			nl = reallocarray(d->liids, d->nliids + 1, sizeof(*nl));
			if (nl == NULL)
				return CL_ERR_NOMEM;
			d->liids = nl;
			if ((d->liids[d->nliids] = strdup(l)) == NULL)
				return CL_ERR_NOMEM;
			d->nliids++;
		}
		if (d->nliids == 0) {
			snprintf(err, errlen, "no LIID");
			return CL_ERR_FORMAT;
		}
	}
	memcpy(d->servername, d->host, sizeof(d->host));
	if (n == 5) {
		if (strncmp(w[4], "name=", 5) != 0 || strlen(w[4]) == 5 ||
		    strlen(w[4] + 5) >= sizeof(d->servername)) {
			snprintf(err, errlen, "expected name=TLSNAME");
			return CL_ERR_FORMAT;
		}
		snprintf(d->servername, sizeof(d->servername), "%s", w[4] + 5);
	}
	o->ndests++;
	return 0;
}

static int
set_opt(void *arg, const char *k, const char *v, char *err, size_t errlen)
{
	struct mdf_opts *o = arg;
	int r;

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
	if (strcmp(k, "cert") == 0)
		return set_str(&o->cert, v);
	if (strcmp(k, "key") == 0)
		return set_str(&o->key, v);
	if (strcmp(k, "ca") == 0)
		return set_str(&o->ca, v);
	if (strcmp(k, "lemf-ca") == 0)
		return set_str(&o->lemf_ca, v);
	if (strcmp(k, "crl") == 0)
		return set_str(&o->crl, v);
	if (strcmp(k, "lemf-crl") == 0)
		return set_str(&o->lemf_crl, v);
	if (strcmp(k, "tasks") == 0)
		return set_str(&o->tasks, v);
	if (strcmp(k, "spool-dir") == 0)
		return set_str(&o->spool_dir, v);
	if (strcmp(k, "fsync") == 0) {
		if (strcmp(v, "always") != 0 && strcmp(v, "group") != 0 &&
		    strcmp(v, "never") != 0) {
			snprintf(err, errlen,
			    "fsync must be always, group or never");
			return CL_ERR_FORMAT;
		}
		return set_str(&o->fsync, v);
	}
	if (strcmp(k, "spool-alarm") == 0) {
		char buf[64], *p, *save = NULL;
		uint64_t pct;

		if (strlen(v) >= sizeof(buf))
			goto bad_alarm;
		memcpy(buf, v, strlen(v) + 1);
		o->nalarms = 0;
		for (p = strtok_r(buf, ",", &save); p != NULL;
		     p = strtok_r(NULL, ",", &save)) {
			if (o->nalarms == 4 ||
			    cl_parse_u64(p, 1, 100, &pct) != 0 ||
			    (o->nalarms > 0 &&
				pct <= o->alarms[o->nalarms - 1]))
				goto bad_alarm;
			o->alarms[o->nalarms++] = (unsigned)pct;
		}
		if (o->nalarms > 0)
			return 0;
bad_alarm:
		snprintf(err, errlen,
		    "spool-alarm: up to 4 increasing percentages, e.g. 80,95");
		return CL_ERR_FORMAT;
	}
	if (strcmp(k, "operator-id") == 0)
		return set_str(&o->operator_id, v);
	if (strcmp(k, "network-element-id") == 0)
		return set_str(&o->ne_id, v);
	if (strcmp(k, "country") == 0)
		return set_str(&o->country, v);
	if (strcmp(k, "destination") == 0)
		return parse_dest(o, v, err, errlen);
	if (strcmp(k, "integrity-key") == 0)
		return set_str(&o->ic_key, v);
	if (strcmp(k, "metrics") == 0)
		return set_str(&o->metrics, v);
	if (strcmp(k, "user") == 0)
		return set_str(&o->user, v);
	if ((r = cl_front_option(&o->front, k, v, err, errlen)) !=
	    CL_ERR_NOT_FOUND)
		return r;
#define NUM(name, field, lo, hi)                                               \
	if (strcmp(k, name) == 0) {                                            \
		if ((r = cl_parse_u64(v, lo, hi, &o->field)) != 0)             \
			snprintf(err, errlen,                                  \
			    "'%s' is not a number from %llu to %llu", v,       \
			    (unsigned long long)(lo),                          \
			    (unsigned long long)(hi));                         \
		return r;                                                      \
	}
	NUM("fsync-interval-ms", fsync_ms, 1, 10000)
	NUM("spool-capacity", spool_capacity, 0, 1ULL << 50)
	NUM("spool-segment", spool_segment, 1048576, 1ULL << 32)
	NUM("integrity-interval", ic_interval, 0, 86400)
	NUM("keepalive", keepalive, 1, 3600)
	NUM("ack-timeout", ack_timeout, 1, 3600)
	NUM("flush-timeout", flush_timeout, 0, 3600)
	NUM("max-flows", max_flows, 1, 100000000)
	NUM("max-flows-per-poi", max_flows_poi, 1, 100000000)
	NUM("dedup-window", dedup_window, CL_SEQWIN_MIN, CL_SEQWIN_MAX)
#undef NUM
	if (strcmp(k, "spool-recover") == 0) {
		/* An operator's decision for one start, never a setting. */
		snprintf(err, errlen,
		    "allowed on the command line only (--spool-recover)");
		return CL_ERR_INVALID_ARG;
	}
	snprintf(err, errlen, "unknown option");
	return CL_ERR_NOT_FOUND;
}

static int
load_tasks(struct mdf *m, bool initial)
{
	struct cl_taskset *ts = NULL;
	char err[512];
	int r;

	if ((r = cl_taskset_load(m->o->tasks, &ts, err, sizeof(err))) != 0) {
		cl_err("task file %s rejected: %s%s", m->o->tasks, err,
		    initial ? "" : "; the previous tasks stay active");
		return r;
	}
	cl_info("loaded %zu tasks from %s", cl_taskset_count(ts), m->o->tasks);
	cl_taskset_free(m->tasks);
	m->tasks = ts;
	m->unknown_logged = 0;
	return 0;
}

static void
check_alarms(struct mdf *m)
{
	static const unsigned flow_pct[] = {80, 95, 100};
	const struct mdf_stats *st = mdf_core_stats(m->core);
	struct cl_spool_usage u;
	unsigned lvl = 0, pct;
	size_t i;

	/* Communications are kept for the life of the process (BUGS in the
	 * man page): warn well before new ones are refused. */
	pct = st->max_flows == 0 ? 0
				 : (unsigned)(st->flows * 100 / st->max_flows);
	for (i = 0; i < sizeof(flow_pct) / sizeof(flow_pct[0]); i++)
		if (pct >= flow_pct[i])
			lvl = (unsigned)i + 1;
	if (lvl > m->flow_alarm) {
		cl_err("ALARM %llu communications tracked, %u%% of "
		       "--max-flows %llu: at 100%% POIs that open new "
		       "communications are no longer read nor acknowledged; "
		       "raise --max-flows and restart",
		    (unsigned long long)st->flows, pct,
		    (unsigned long long)st->max_flows);
		m->flow_alarm = lvl;
	}

	lvl = 0;
	cl_spool_usage(m->sp, &u);
	if (u.capacity == 0)
		return;
	for (i = 0; i < m->o->nalarms; i++)
		if (u.pct >= m->o->alarms[i])
			lvl = (unsigned)i + 1;
	for (i = m->alarm_level; i < lvl; i++)
		cl_err("ALARM spool at %u%% of %llu bytes (threshold %u%%): "
		       "LEMFs are not confirming fast enough",
		    u.pct, (unsigned long long)u.capacity, m->o->alarms[i]);
	if (lvl < m->alarm_level)
		cl_info("spool back to %u%% of its capacity", u.pct);
	m->alarm_level = lvl;
	if (u.level != CL_SPOOL_LEVEL_FULL)
		m->full_logged = false;
}

static void
render(void *arg, struct cl_buf *b)
{
	struct mdf *m = arg;
	const struct mdf_stats *st = mdf_core_stats(m->core);
	struct cl_spool_usage u;
	size_t i, npoi = 0, nlimited = 0;

	cl_spool_usage(m->sp, &u);
	for (i = 0; i < MAX_POIS; i++) {
		npoi += m->pois[i] != NULL;
		nlimited += m->pois[i] != NULL && m->pois[i]->limited;
	}
#define C(n, h, v) cl_metric(b, "clearli_mdf_" n, "counter", h, v)
#define G(n, h, v) cl_metric(b, "clearli_mdf_" n, "gauge", h, v)
	C("iri_total", "HI2 IRI PDUs stored.", st->stored_iri);
	C("cc_total", "HI3 CC PDUs stored.", st->stored_cc);
	C("integrity_total", "IntegrityCheck PDUs stored.", st->stored_ic);
	C("duplicates_total",
	    "X2/X3 true repeats dropped (same POI, task, sequence number and "
	    "content).",
	    st->duplicates);
	C("conflicts_total",
	    "X2/X3 PDUs stored whose (POI, task, sequence number) was stored "
	    "before with other content.",
	    st->conflicts);
	C("x2_unparsed_total",
	    "X2 payloads not understood: sent as IRI-REPORT with the raw "
	    "message.",
	    st->x2_unparsed);
	{
		uint64_t n = 0;
		int k;

		for (k = 0; k < MDF_UND_N; k++)
			n += st->undeliverable[k];
		C("undeliverable_total",
		    "X3 PDUs acknowledged but not delivered: no IPCC form "
		    "(also by reason below).",
		    n);
		for (k = 0; k < MDF_UND_N; k++) {
			static const char und_type[] =
			    "# TYPE clearli_mdf_undeliverable_by_reason_total "
			    "counter\n";
			char line[160];
			int len = snprintf(line, sizeof(line),
			    "clearli_mdf_undeliverable_by_reason_total{reason="
			    "\"%s\"} %llu\n",
			    mdf_undeliverable_name(k),
			    (unsigned long long)st->undeliverable[k]);

			if (k == 0)
				(void)cl_buf_put(b, und_type, strlen(und_type));
			if (len > 0 && (size_t)len < sizeof(line))
				(void)cl_buf_put(b, line, (size_t)len);
		}
	}
	C("unknown_task_total", "X2/X3 PDUs of unknown tasks.",
	    st->unknown_task);
	C("malformed_total", "Connections closed for a malformed PDU.",
	    m->malformed);
	G("pois", "POI connections.", npoi);
	if (m->front != NULL) {
		const struct mdf_front_stats fs = m->fstats;

		G("unauthenticated", "Connections not authenticated yet.",
		    fs.pending);
		C("connections_refused_total",
		    "Connections refused before TLS: --max-startups, "
		    "--per-source-max-startups.",
		    fs.refused);
		C("handshake_timeouts_total",
		    "Connections closed: no TLS authentication within "
		    "--handshake-timeout.",
		    fs.timeouts);
		C("handshake_failures_total", "TLS handshakes that failed.",
		    fs.failures);
	}
	G("flows", "Communications (LIID, CIN) tracked.", st->flows);
	G("flows_max", "Communications tracked at most (--max-flows).",
	    st->max_flows);
	G("flows_per_poi_max",
	    "Communications one POI may open (--max-flows-per-poi).",
	    st->max_flows_poi);
	C("refused_total",
	    "Attempts to open a communication past a POI's share or "
	    "--max-flows: the POI is then not read nor acknowledged.",
	    st->refused);
	G("pois_limited", "POI connections stopped at their flow share.",
	    nlimited);
	C("not_stored_total",
	    "Connections closed without acknowledging a PDU that could not "
	    "be stored.",
	    m->not_stored);
	G("spool_bytes", "Spool size.", u.bytes);
	G("spool_capacity_bytes", "Spool capacity (0: unlimited).", u.capacity);
	G("spool_records", "Records in the spool.", u.records);
	C("spool_refused_total", "Appends refused: spool full.", u.refused);
	C("spool_lost_records_total",
	    "Records lost to spool corruption, discarded at start "
	    "(--spool-recover).",
	    mdf_core_stats(m->core)->spool_lost_records);
#undef C
#undef G
	for (i = 0; i < m->nstreams; i++) {
		struct mdf_stream_stats ss;
		char n[160];

		mdf_stream_stats(m->streams[i], &ss);
		snprintf(n, sizeof(n), "clearli_mdf_lemf_%s_backlog",
		    mdf_stream_name(m->streams[i]));
		for (char *q = n; *q; q++)
			if (*q == '-')
				*q = '_';
		cl_metric(b, n, "gauge", "Records not confirmed by this LEMF.",
		    ss.backlog);
	}
}

static void
summary(struct mdf *m)
{
	const struct mdf_stats *st = mdf_core_stats(m->core);
	size_t i;

	cl_info("summary: iri=%llu cc=%llu integrity=%llu duplicates=%llu "
		"conflicts=%llu unknown-task=%llu malformed=%llu "
		"undeliverable=%llu x2-unparsed=%llu refused=%llu",
	    (unsigned long long)st->stored_iri,
	    (unsigned long long)st->stored_cc,
	    (unsigned long long)st->stored_ic,
	    (unsigned long long)st->duplicates,
	    (unsigned long long)st->conflicts,
	    (unsigned long long)st->unknown_task,
	    (unsigned long long)m->malformed,
	    (unsigned long long)(st->undeliverable[MDF_UND_FORMAT] +
		st->undeliverable[MDF_UND_GTPU]),
	    (unsigned long long)st->x2_unparsed,
	    (unsigned long long)st->refused);
	for (i = 0; i < m->nstreams; i++) {
		struct mdf_stream_stats ss;

		mdf_stream_stats(m->streams[i], &ss);
		cl_info("LEMF %s: %llu PDUs sent, %llu connections, backlog "
			"%llu records",
		    mdf_stream_name(m->streams[i]), (unsigned long long)ss.pdus,
		    (unsigned long long)ss.connects,
		    (unsigned long long)ss.backlog);
	}
}

/* The IntegrityCheck signature, from the signer role.  Without it the
 * MDF cannot go on: it exits, and a restart starts a new signer and
 * delivers what the spool holds. */
static int
ic_sign(void *arg, const uint8_t *hashes, size_t len, uint8_t sig[64])
{
	struct mdf *m = arg;

	if (mdf_signer_sign(m->signer, hashes, len, sig) != 0)
		cl_fatal("no IntegrityCheck signer: exiting");
	return 0;
}

/*
 * The front role: the X2/X3 listener, the server's TLS context (its key)
 * and the POIs' connections, in a process of its own started before any
 * task, spool or LEMF context is loaded here; its port in *port.  Returns
 * 0, or 1 (logged).
 */
static int
start_front(struct mdf *m, unsigned *port)
{
	struct mdf_opts *o = m->o;
	struct mdf_front_cfg fc;
	uint64_t nofile = cl_net_raise_nofile();
	char err[1024];
	int lfd;

	/* Unauthenticated connections have their own limit, and it must be
	 * reached before the descriptors run out. */
	if (cl_front_fit(&o->front, nofile, MAX_POIS + 2 * MAX_DESTS + 256))
		cl_warn("RLIMIT_NOFILE %llu: at most %u unauthenticated POI "
			"connections",
		    (unsigned long long)nofile, o->front.admit.full);
	if ((lfd = cl_net_listen(o->listen, port)) == -1)
		return 1;
	memset(&fc, 0, sizeof(fc));
	fc.lfd = lfd;
	fc.front = o->front;
	if (!o->insecure) {
		fc.cert = o->cert;
		fc.key = o->key;
		fc.ca = o->ca;
		fc.crl = o->crl;
	}
	fc.user = o->user;
	if (mdf_front_start(&fc, &m->front, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		return 1;
	}
	return 0;
}

/* Everything but the event loop; returns the process exit code. */
static int
setup(struct mdf *m, struct mdf_core_opts *co)
{
	struct mdf_opts *o = m->o;
	struct cl_spool_report rep;
	char err[1024];
	unsigned port = 0;
	size_t i;
	int r;

	if (o->listen == NULL || o->spool_dir == NULL ||
	    o->operator_id == NULL || o->tasks == NULL) {
		cl_err("--listen, --tasks, --spool-dir and --operator-id are "
		       "required (see --help)");
		return 2;
	}
	if (o->ndests == 0)
		cl_warn("no destination configured: PDUs are stored but not "
			"delivered");
	if (!o->insecure &&
	    (o->cert == NULL || o->key == NULL || o->ca == NULL)) {
		cl_err("--cert, --key and --ca are required for TLS (or "
		       "--insecure-plaintext on the command line)");
		return 2;
	}
	if (o->insecure)
		cl_warn("accepting X2/X3 WITHOUT TLS (--insecure-plaintext): "
			"anyone who can reach the port can inject "
			"intercepts");
	for (i = 0; i < o->ndests; i++) {
		if (o->dests[i].tls &&
		    (o->cert == NULL || o->key == NULL ||
			(o->ca == NULL && o->lemf_ca == NULL))) {
			cl_err("destination %s uses TLS: --cert, --key and "
			       "--lemf-ca (or --ca) are required",
			    o->dests[i].name);
			return 2;
		}
		if (!o->dests[i].tls)
			cl_warn("destination %s: HI2/HI3 over TCP WITHOUT TLS; "
				"use only on a protected line",
			    o->dests[i].name);
	}
	if (!o->check && start_front(m, &port) != 0)
		return 1;
	if (load_tasks(m, true) != 0)
		return 1;
	if (o->check && !o->insecure) {
		/* What the front role loads, checked here. */
		SSL_CTX *srv;
		struct cl_tls_cfg tc = {.cert = o->cert,
		    .key = o->key,
		    .ca = o->ca,
		    .crl = o->crl,
		    .self = CL_ROLE_MDF,
		    .peer = CL_ROLE_POI};

		if ((srv = cl_tls_server_ctx(&tc, err, sizeof(err))) == NULL) {
			cl_err("TLS: %s", err);
			return 1;
		}
		SSL_CTX_free(srv);
	}
	if (o->lemf_ca != NULL && o->lemf_crl == NULL && o->crl != NULL)
		cl_warn("--lemf-ca without --lemf-crl: the LEMFs' "
			"certificates are NOT checked for revocation (--crl "
			"covers the POIs' CA only)");
	for (i = 0; i < o->ndests && m->cli == NULL; i++) {
		/* The POIs' CRL serves the LEMFs too when one CA signs
		 * both. */
		struct cl_tls_cfg tc = {.cert = o->cert,
		    .key = o->key,
		    .ca = o->lemf_ca ? o->lemf_ca : o->ca,
		    .crl = o->lemf_crl ? o->lemf_crl
				       : (o->lemf_ca ? NULL : o->crl),
		    .self = CL_ROLE_MDF,
		    .peer = CL_ROLE_LEMF};

		if (o->dests[i].tls &&
		    (m->cli = cl_tls_client_ctx(&tc, err, sizeof(err))) ==
			NULL) {
			cl_err("TLS: %s", err);
			return 1;
		}
	}

	memset(co, 0, sizeof(*co));
	co->spool_dir = o->spool_dir;
	co->spool.capacity = o->spool_capacity;
	co->spool.seg_max = o->spool_segment;
	co->spool.warn_pct = o->alarms[0];
	co->spool.fsync = strcmp(o->fsync, "always") == 0
	    ? CL_SPOOL_FSYNC_ALWAYS
	    : strcmp(o->fsync, "never") == 0 ? CL_SPOOL_FSYNC_NEVER
					     : CL_SPOOL_FSYNC_INTERVAL;
	co->spool.interval_ms = o->fsync_ms;
	/* POIs and LEMFs are served while the disk syncs. */
	co->spool.sync_thread = true;
	co->spool.rec_max = CL_X2X3_MAX_PAYLOAD + 4096;
	co->spool.recover = o->spool_recover;
	co->operator_id = o->operator_id;
	co->ne_id = o->ne_id;
	co->country = o->country;
	co->ic_interval_ms = o->ic_interval * 1000;
	co->max_flows = o->max_flows;
	co->max_flows_poi = o->max_flows_poi;
	co->dedup_window = (uint32_t)o->dedup_window;
	if (m->signer != NULL) {
		co->ic_sign = ic_sign;
		co->ic_sign_arg = m;
	}
	if (o->ic_key == NULL && o->ic_interval > 0)
		cl_warn("no integrity-key: HI2/HI3 go out without "
			"IntegrityCheck PDUs");
	if (co->spool.fsync == CL_SPOOL_FSYNC_NEVER)
		cl_warn("fsync never: POIs are acknowledged before the spool "
			"is on disk; a power loss can lose intercepts");
	if (o->check) {
		printf("configuration OK: %zu destinations, %zu tasks\n",
		    o->ndests, cl_taskset_count(m->tasks));
		return 0;
	}
	memset(&rep, 0, sizeof(rep));
	if ((r = mdf_core_open(co, &m->core, &rep, err, sizeof(err))) != 0) {
		cl_err("%s", err);
		return 1;
	}
	for (i = 0; i < rep.lost_nranges && i < CL_SPOOL_LOST_SHOW; i++)
		cl_err("ALARM spool %s: --spool-recover discarded octets "
		       "%llu..%llu of %s (%llu octets): %llu records lost, "
		       "numbers %llu..%llu of the spool",
		    o->spool_dir, (unsigned long long)rep.lost[i].off,
		    (unsigned long long)(rep.lost[i].off + rep.lost[i].bytes -
			1),
		    rep.segpath, (unsigned long long)rep.lost[i].bytes,
		    (unsigned long long)rep.lost[i].nrecs,
		    (unsigned long long)rep.lost[i].first_seq,
		    (unsigned long long)(rep.lost[i].first_seq +
			rep.lost[i].nrecs - 1));
	if (rep.lost_nranges > 0)
		cl_err("ALARM spool %s: recovered from corruption: %llu "
		       "acknowledged records lost (%llu octets in %u ranges), "
		       "%llu valid records after them kept; %llu "
		       "communications known at the loss skip %llu numbers "
		       "there, so that the LEMF sees a gap and no number is "
		       "given twice (clearli_mdf_spool_lost_records_total "
		       "%llu)",
		    o->spool_dir, (unsigned long long)rep.lost_records,
		    (unsigned long long)rep.lost_bytes, rep.lost_nranges,
		    (unsigned long long)rep.lost_kept,
		    (unsigned long long)mdf_core_stats(m->core)->seq_advanced,
		    (unsigned long long)rep.lost_records,
		    (unsigned long long)rep.lost_records);
	else if (o->spool_recover)
		cl_info("spool %s: --spool-recover: nothing to recover",
		    o->spool_dir);
	if (rep.tail_truncated)
		cl_warn("spool %s: torn tail cut off in %s at offset %llu "
			"(%llu octets from record %llu on, no valid record "
			"after them): a write that never completed, so "
			"never committed nor acknowledged (unless --fsync "
			"never and the machine crashed)",
		    o->spool_dir, rep.segpath, (unsigned long long)rep.tail_off,
		    (unsigned long long)rep.tail_dropped_bytes,
		    (unsigned long long)rep.tail_first_seq);
	m->sp = mdf_core_spool(m->core);
	for (i = 0; i < o->ndests; i++) {
		struct mdf_stream_opts so;

		memset(&so, 0, sizeof(so));
		so.operator_id = o->operator_id;
		so.keepalive_ms = o->keepalive * 1000;
		so.ack_timeout_ms = o->ack_timeout * 1000;
		so.want_ack = true;
		if ((r = mdf_stream_new(&o->dests[i], m->sp, m->cli, &so,
			 &m->streams[i])) != 0) {
			cl_err("destination %s: %s", o->dests[i].name,
			    cl_err_str(r));
			return 1;
		}
		m->nstreams++;
	}
	/* The port file says that the MDF is up: written once all is. */
	cl_info("listening for X2/X3 on %s (port %u, %s)", o->listen, port,
	    o->insecure ? "plain TCP" : "TLS 1.3");
	if (o->port_file != NULL && cl_net_port_file(o->port_file, port) != 0) {
		cl_err("%s: %s", o->port_file, strerror(errno));
		return 1;
	}
	if (o->metrics != NULL) {
		unsigned mp;

		int mfd;

		if ((mfd = cl_metrics_listen(
			 o->metrics, &mp, err, sizeof(err))) < 0) {
			cl_err("metrics: %s", err);
			return 1;
		}
		if (cl_metrics_new(mfd, render, m, &m->metrics) != 0) {
			cl_err("metrics: out of memory");
			return 1;
		}
		cl_info("metrics on %s (port %u)", o->metrics, mp);
	}
	return -1;
}

/*
 * The loop (lib/loop).  One tick does what one round of events leaves to
 * do, in this order: a reload or the end asked by a signal, the
 * IntegrityCheck PDUs, the group commit, the POIs' acknowledgements, the
 * release of confirmed segments, the alarms and the delivery; then it
 * says which descriptors to watch and arms itself for the earliest time
 * anything wants to run.  Every event callback asks for a tick after
 * its round (cl_loop_timer_soon()).
 */
struct mdf_loop {
	struct mdf *m;
	struct cl_loop *l;
	struct cl_loop_timer *tick;
	struct cl_loop_pollset *metrics_ps;
	struct cl_loop_io *spool_io, *front_io;
	struct cl_loop_io *sio[MAX_DESTS];
	int sfd[MAX_DESTS];
	short srev[MAX_DESTS];
	uint64_t last_slow, deadline, ic_retry;
	int status; /* run()'s result: 1 once a role is gone */
};

void
mdf_wake(struct mdf *m)
{
	if (m->ml != NULL)
		cl_loop_timer_soon(m->ml->tick);
}

static void
on_signal_loop(void *arg, int sig)
{
	struct mdf_loop *ml = arg;

	on_signal(sig);
	cl_loop_timer_soon(ml->tick);
}

struct stream_ev {
	struct mdf_loop *ml;
	size_t i;
};
static struct stream_ev stream_evs[MAX_DESTS];

static void
on_stream(void *arg, int fd, unsigned what)
{
	struct stream_ev *se = arg;

	(void)fd;
	if (what & CL_LOOP_READ)
		se->ml->srev[se->i] |= POLLIN;
	if (what & CL_LOOP_WRITE)
		se->ml->srev[se->i] |= POLLOUT;
	cl_loop_timer_soon(se->ml->tick);
}

static void
on_spool(void *arg, int fd, unsigned what)
{
	struct mdf_loop *ml = arg;

	(void)fd;
	(void)what;
	/* A group commit ended: the tick's commit collects it. */
	cl_loop_timer_soon(ml->tick);
}

/* Without its front the MDF cannot go on: it exits, and a restart
 * starts a new one; the POIs send again what was not acknowledged. */
static void
front_lost(struct mdf_loop *ml)
{
	mdf_front_free(ml->m->front, true);
	ml->m->front = NULL;
	cl_err("no X2/X3 front: exiting");
	ml->status = 1;
	cl_loop_stop(ml->l);
}

static void
on_front(void *arg, int fd, unsigned what)
{
	struct mdf_loop *ml = arg;

	(void)fd;
	if (ml->m->front == NULL)
		return;
	if (mdf_front_io(ml->m, what) != 0) {
		cl_loop_io_free(ml->front_io);
		ml->front_io = NULL;
		front_lost(ml);
		return;
	}
	cl_loop_timer_soon(ml->tick);
}

static size_t
metrics_fill(
    void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next)
{
	struct mdf_loop *ml = arg;

	return cl_metrics_pollfds(ml->m->metrics, pfd, max, now, next);
}

static void
metrics_handle(void *arg, struct pollfd *pfd, size_t n, uint64_t now)
{
	struct mdf_loop *ml = arg;

	cl_metrics_handle(ml->m->metrics, pfd, n, now);
}

static void
watch_fail(const char *what)
{
	cl_fatal("event loop: cannot watch %s: %s", what, strerror(errno));
}

static void
tick(void *arg)
{
	struct mdf_loop *ml = arg;
	struct mdf *m = ml->m;
	uint64_t now, next, committed;
	size_t i;
	int r;

	now = cl_mono_ms();
	if (got_chld) {
		got_chld = 0;
		if (cl_privsep_reap() > 0 && m->signer != NULL &&
		    !cl_privsep_alive(mdf_signer_pid(m->signer))) {
			cl_err("no IntegrityCheck signer: exiting");
			ml->status = 1;
			cl_loop_stop(ml->l);
			return;
		}
		if (m->front != NULL &&
		    !cl_privsep_alive(mdf_front_pid(m->front))) {
			cl_loop_io_free(ml->front_io);
			ml->front_io = NULL;
			front_lost(ml);
			return;
		}
	}
	if (got_hup) {
		got_hup = 0;
		(void)load_tasks(m, false);
	}
	if (got_term && ml->deadline == 0) {
		cl_info("terminating: storing what is buffered, "
			"delivering for up to %llu s",
		    (unsigned long long)m->o->flush_timeout);
		ml->deadline = now + m->o->flush_timeout * 1000;
		/* The front stops listening; the POIs stay until the
		 * end, for their last acknowledgements. */
		if (cl_imsg_compose(mdf_front_ibuf(m->front), MDF_FRONT_STOP,
			-1, NULL, 0) != 0)
			cl_fatal("out of memory");
		for (i = 0; i < MAX_POIS; i++)
			if (m->pois[i] != NULL)
				mdf_poi_flush(m, m->pois[i]);
		r = mdf_core_integrity(m->core, now, true);
		if (r == CL_ERR_FULL)
			cl_warn("spool full: the last IntegrityCheck "
				"PDUs are not written");
		else if (r != 0)
			cl_fatal("spool %s: writing the last "
				 "IntegrityCheck PDUs at exit: %s",
			    m->o->spool_dir, mdf_spool_why(m, r));
		if ((r = cl_spool_sync(m->sp, &committed)) != 0)
			cl_fatal("spool %s: syncing at exit: %s",
			    m->o->spool_dir, mdf_spool_why(m, r));
	}
	if (ml->deadline != 0) {
		bool done = true;

		for (i = 0; i < m->nstreams; i++) {
			struct mdf_stream_stats ss;

			mdf_stream_stats(m->streams[i], &ss);
			if (ss.backlog > 0)
				done = false;
		}
		if (done || now >= ml->deadline) {
			cl_loop_stop(ml->l);
			return;
		}
	}

	/* Commit (group commit when due), then answer keepalives. */
	r = now >= ml->ic_retry ? mdf_core_integrity(m->core, now, false) : 0;
	if (r == CL_ERR_FULL) {
		/* Written once the LEMFs make room. */
		ml->ic_retry = now + PAUSE_MS;
		r = 0;
	}
	if (r != 0 || (r = cl_spool_commit(m->sp, now, &committed)) != 0)
		cl_fatal("spool %s: writing or syncing records failed: "
			 "%s; exiting so that a restart recovers it",
		    m->o->spool_dir, mdf_spool_why(m, r));
	for (i = 0; i < MAX_POIS; i++)
		if (m->pois[i] != NULL) {
			mdf_poi_acks(m->pois[i], committed);
			mdf_poi_flush(m, m->pois[i]);
		}
	if (m->front != NULL)
		mdf_front_crl_check(m->front, now);
	if (now >= ml->last_slow + 1000) {
		unsigned nf;

		ml->last_slow = now;
		if ((r = mdf_core_release(m->core, &nf)) != 0)
			cl_err("spool %s: releasing confirmed segments: "
			       "%s",
			    m->o->spool_dir, mdf_spool_why(m, r));
		else if (nf > 0)
			cl_log(CL_LOG_DEBUG, "spool: %u segments released", nf);
	}
	check_alarms(m);

	/* Delivery, and when each stream wants to run again.  A stream
	 * may close its descriptor and open another: not watched while it
	 * runs. */
	next = now + 1000;
	for (i = 0; i < m->nstreams; i++) {
		uint64_t t;

		if (ml->sio[i] != NULL && cl_loop_io_set(ml->sio[i], 0) != 0)
			watch_fail("a LEMF connection");
		t = mdf_stream_run(m->streams[i], ml->srev[i], now);
		ml->srev[i] = 0;
		if (t < next)
			next = t;
	}
	if (cl_spool_commit_due(m->sp, &committed) && committed < next)
		next = committed;
	if (mdf_core_integrity_due(m->core, &committed)) {
		if (committed < ml->ic_retry)
			committed = ml->ic_retry;
		if (committed < next)
			next = committed;
	}

	for (i = 0; i < m->nstreams; i++) {
		struct pollfd pf;
		unsigned w;

		mdf_stream_pollfd(m->streams[i], &pf);
		if (pf.fd != ml->sfd[i]) {
			cl_loop_io_free(ml->sio[i]);
			ml->sio[i] = NULL;
			ml->sfd[i] = -1;
			if (pf.fd >= 0) {
				stream_evs[i].ml = ml;
				stream_evs[i].i = i;
				if ((ml->sio[i] = cl_loop_io_new(ml->l, pf.fd,
					 on_stream, &stream_evs[i])) == NULL)
					watch_fail("a LEMF connection");
				ml->sfd[i] = pf.fd;
			}
		}
		w = ((pf.events & POLLIN) ? CL_LOOP_READ : 0) |
		    ((pf.events & POLLOUT) ? CL_LOOP_WRITE : 0);
		if (ml->sio[i] != NULL && cl_loop_io_set(ml->sio[i], w) != 0)
			watch_fail("a LEMF connection");
	}
	/* POIs paused (spool full, flow share) are handled again once
	 * the pause is over. */
	for (i = 0; i < MAX_POIS; i++) {
		if (m->pois[i] == NULL)
			continue;
		mdf_poi_resume(m, i, now);
		if (m->pois[i] != NULL && m->pois[i]->paused_until != 0 &&
		    m->pois[i]->paused_until < next)
			next = m->pois[i]->paused_until;
	}
	/* What this tick queued for the front (credit, acknowledgements,
	 * a CRL) goes out now; the rest when its socket takes it. */
	if (mdf_front_io(m, 0) != 0) {
		cl_loop_io_free(ml->front_io);
		ml->front_io = NULL;
		front_lost(ml);
		return;
	}
	if (cl_loop_io_set(ml->front_io,
		CL_LOOP_READ |
		    (cl_imsg_pending(mdf_front_ibuf(m->front)) ? CL_LOOP_WRITE
							       : 0)) != 0)
		watch_fail("the front role");
	if (ml->deadline != 0 && ml->deadline < next)
		next = ml->deadline;
	now = cl_mono_ms();
	if (cl_loop_timer_after(ml->tick, next <= now ? 0 : next - now) != 0)
		watch_fail("the timer");
}

static int
run(struct mdf *m)
{
	struct mdf_loop ml;
	size_t i;
	int r;

	memset(&ml, 0, sizeof(ml));
	ml.m = m;
	m->ml = &ml;
	for (i = 0; i < MAX_DESTS; i++)
		ml.sfd[i] = -1;
	if ((r = cl_loop_new(&ml.l)) != 0)
		cl_fatal("event loop: %s: %s", cl_err_str(r), strerror(errno));
	if ((ml.tick = cl_loop_timer_new(ml.l, tick, &ml)) == NULL)
		cl_fatal("out of memory");
	if (cl_loop_signal(ml.l, SIGTERM, on_signal_loop, &ml) != 0 ||
	    cl_loop_signal(ml.l, SIGINT, on_signal_loop, &ml) != 0 ||
	    cl_loop_signal(ml.l, SIGHUP, on_signal_loop, &ml) != 0 ||
	    cl_loop_signal(ml.l, SIGCHLD, on_signal_loop, &ml) != 0)
		watch_fail("signals");
	if (cl_spool_event_fd(m->sp) >= 0 &&
	    ((ml.spool_io = cl_loop_io_new(
		  ml.l, cl_spool_event_fd(m->sp), on_spool, &ml)) == NULL ||
		cl_loop_io_set(ml.spool_io, CL_LOOP_READ) != 0))
		watch_fail("the spool's sync worker");
	if ((ml.front_io = cl_loop_io_new(
		 ml.l, mdf_front_fd(m->front), on_front, &ml)) == NULL ||
	    cl_loop_io_set(ml.front_io, CL_LOOP_READ) != 0)
		watch_fail("the front role");
	if (m->metrics != NULL &&
	    ((ml.metrics_ps = cl_loop_pollset_new(ml.l, CL_METRICS_POLLFDS,
		  metrics_fill, metrics_handle, &ml)) == NULL ||
		cl_loop_pollset_arm(ml.metrics_ps) != 0))
		watch_fail("the metrics listener");
	/* Set up: from here the process needs no privilege.  Every
	 * capability goes, and its seccomp filter (mdf/sandbox.c) holds it,
	 * and the spool's worker thread, to what mediation and delivery
	 * call. */
	{
		char err[256];

		if (cl_privsep_drop_caps(err, sizeof(err)) != 0 ||
		    mdf_sandbox_parent(err, sizeof(err)) != 0)
			cl_fatal("privileges: %s", err);
		m->sandboxed = true;
	}
	/* A signal that came before the loop watched it. */
	cl_loop_timer_soon(ml.tick);
	if (cl_loop_run(ml.l) != 0)
		cl_fatal("event loop: %s", strerror(errno));
	/* The watchers go before their descriptors (closed after this). */
	cl_loop_io_free(ml.front_io);
	for (i = 0; i < MAX_DESTS; i++)
		cl_loop_io_free(ml.sio[i]);
	cl_loop_io_free(ml.spool_io);
	cl_loop_pollset_free(ml.metrics_ps);
	cl_loop_timer_free(ml.tick);
	cl_loop_free(ml.l);
	m->ml = NULL;
	return ml.status;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {{"listen", 1, NULL, 'l'},
	    {"port-file", 1, NULL, 0}, {"cert", 1, NULL, 0},
	    {"key", 1, NULL, 0}, {"ca", 1, NULL, 0}, {"lemf-ca", 1, NULL, 0},
	    {"crl", 1, NULL, 0}, {"lemf-crl", 1, NULL, 0},
	    {"insecure-plaintext", 0, NULL, 'I'}, {"tasks", 1, NULL, 't'},
	    {"spool-recover", 0, NULL, 'R'}, {"spool-dir", 1, NULL, 0},
	    {"fsync", 1, NULL, 0}, {"fsync-interval-ms", 1, NULL, 0},
	    {"spool-capacity", 1, NULL, 0}, {"spool-segment", 1, NULL, 0},
	    {"spool-alarm", 1, NULL, 0}, {"operator-id", 1, NULL, 0},
	    {"network-element-id", 1, NULL, 0}, {"country", 1, NULL, 0},
	    {"destination", 1, NULL, 0}, {"integrity-key", 1, NULL, 0},
	    {"integrity-interval", 1, NULL, 0}, {"keepalive", 1, NULL, 0},
	    {"ack-timeout", 1, NULL, 0}, {"flush-timeout", 1, NULL, 0},
	    {"max-flows", 1, NULL, 0}, {"max-flows-per-poi", 1, NULL, 0},
	    {"dedup-window", 1, NULL, 0}, {"metrics", 1, NULL, 0},
	    {"user", 1, NULL, 0}, {"handshake-timeout", 1, NULL, 0},
	    {"max-startups", 1, NULL, 0},
	    {"per-source-max-startups", 1, NULL, 0}, {"config", 1, NULL, 'c'},
	    {"check", 0, NULL, 'n'}, {"verbose", 0, NULL, 'v'},
	    {"help", 0, NULL, 'h'}, {"version", 0, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	static struct mdf_opts o;
	static struct mdf m;
	struct mdf_core_opts co;
	struct sigaction sa;
	char err[1024];
	const char *key;
	int ch, idx, r;
	size_t i;

	cl_log_init("clearli-mdf", CL_LOG_INFO, false);
	o.fsync = strdup("group");
	o.fsync_ms = 10;
	o.alarms[0] = 80;
	o.alarms[1] = 95;
	o.nalarms = 2;
	o.ic_interval = 10;
	o.keepalive = 5;
	o.ack_timeout = 30;
	o.flush_timeout = 5;
	m.o = &o;
	cl_front_defaults(&o.front);
	m.slot_rl = (struct cl_log_rl)CL_LOG_RL_INIT(10000, 5);
	/* A config file first, so that the command line overrides it. */
	for (i = 1; i + 1 < (size_t)argc; i++)
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (cl_conf_load(argv[i + 1], set_opt, &o, err,
				sizeof(err)) != 0) {
				cl_err("%s", err);
				return 2;
			}
		}
	while ((ch = getopt_long(argc, argv, "l:t:c:nvh", lo, &idx)) != -1) {
		switch (ch) {
		case 'c':
			break;
		case 'I':
			o.insecure = true;
			break;
		case 'R':
			o.spool_recover = true;
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
		case 'V':
			printf("clearli-mdf 0.1.0\n");
			return 0;
		case 'l':
		case 't':
		case 0:
			key = ch == 'l' ? "listen"
			    : ch == 't' ? "tasks"
					: lo[idx].name;
			if ((r = set_opt(&o, key, optarg, err, sizeof(err))) !=
			    0) {
				cl_err("--%s: %s", key, err);
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
		return 2;
	}
	if (o.verbose > 0)
		cl_log_set_level(o.verbose > 1 ? CL_LOG_DEBUG : CL_LOG_INFO);
	/* Before any key is read: no core dump holds it. */
	if (cl_tls_secure_init(err, sizeof(err)) != 0) {
		cl_err("%s", err);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The key goes into a process of its own before any input is
	 * read; this one never opens it. */
	if (o.ic_key != NULL &&
	    mdf_signer_start(o.ic_key, o.user, &m.signer, err, sizeof(err)) !=
		0) {
		cl_err("%s", err);
		return 1;
	}

	if ((r = setup(&m, &co)) < 0)
		r = run(&m);
	if (m.core != NULL)
		summary(&m);
	/* The last acknowledgements go to the front, which writes them
	 * and closes the POIs when its socket ends. */
	for (i = 0; i < MAX_POIS; i++)
		if (m.pois[i] != NULL) {
			mdf_poi_acks(m.pois[i], cl_spool_durable(m.sp));
			mdf_poi_flush(&m, m.pois[i]);
			mdf_poi_close(&m, i, NULL);
		}
	mdf_front_free(m.front, false);
	for (i = 0; i < m.nstreams; i++)
		mdf_stream_free(m.streams[i]);
	if (mdf_core_close(m.core) != 0 && r == 0)
		r = 1;
	mdf_signer_free(m.signer);
	SSL_CTX_free(m.cli);
	cl_taskset_free(m.tasks);
	cl_metrics_free(m.metrics);
	if (m.sandboxed) {
		/* _exit: no atexit handler (a leak checker would need calls
		 * the filter refuses). */
		fflush(NULL);
		_exit(r);
	}
	return r;
}
