/* SPDX-License-Identifier: ISC */
/*
 * The whole per-packet path on real captures: capture file -> decoder ->
 * RADIUS/DHCP/DHCPv6 -> subscriber table -> task match -> PDUs.  Expected
 * bindings are those listed in ../shared/pcaps/README.md (checked there
 * with tshark).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capfile.h"
#include "decode.h"
#include "err.h"
#include "harness.h"
#include "pipeline.h"
#include "subscriber.h"

struct sink {
	int x2, x3;
	uint32_t last_seq;
	uint16_t x2_format;
	int starts, stops;
};

static int
emit(void *arg, const struct cl_x2x3_pdu *pdu)
{
	struct sink *s = arg;

	if (pdu->type == CL_X2X3_X2) {
		s->x2++;
		s->x2_format = pdu->pformat;
	} else
		s->x3++;
	s->last_seq = pdu->seqno;
	return 0;
}

static void
on_session(
    void *arg, const struct cl_binding *b, const struct cl_subs_result *res)
{
	struct sink *s = arg;

	(void)b;
	if (res->op == CL_BIND_START)
		s->starts++;
	else if (res->op == CL_BIND_STOP)
		s->stops++;
}

/* Runs a capture through a pipeline with the given tasks. */
static struct cl_pipeline *
run(const char *capture, const char *tasks, struct sink *s)
{
	struct cl_pipeline_cfg cfg = {0};
	struct cl_pipeline *pl = NULL;
	struct cl_taskset *ts = NULL;
	struct cl_cap *cap = NULL;
	struct cl_cap_pkt pkt;
	char err[256];
	int r;

	memset(s, 0, sizeof(*s));
	cfg.ipid = "test";
	cfg.max_sessions = 1000;
	cfg.max_frag_datagrams = 100;
	cfg.emit = emit;
	cfg.emit_arg = s;
	cfg.on_session = on_session;
	cfg.on_session_arg = s;
	CHECK_INT_EQ(cl_pipeline_new(&cfg, &pl), 0);
	CHECK_INT_EQ(
	    cl_taskset_parse(tasks, strlen(tasks), &ts, err, sizeof(err)), 0);
	cl_pipeline_set_tasks(pl, ts);
	cl_pipeline_tick(pl, (int64_t)time(NULL));
	CHECK_INT_EQ(cl_cap_open_file(cl_test_path(capture), &cap), 0);
	while ((r = cl_cap_next(cap, &pkt)) == 1)
		cl_pipeline_packet(pl, &pkt);
	CHECK_INT_EQ(r, 0);
	cl_cap_free(cap);
	return pl;
}

static const char *
who(struct cl_pipeline *pl, const char *addr, enum cl_id_type type)
{
	static char buf[300];
	struct cl_session *se;
	struct cl_addr a;
	const uint8_t *id;
	size_t len;

	if (cl_parse_addr(addr, &a) != 0)
		return "bad address";
	/* Packet time of these captures is long past; look up "then". */
	if ((se = cl_subs_lookup(cl_pipeline_subs(pl), &a, 1)) == NULL)
		return NULL;
	if (!cl_session_id(se, type, &id, &len))
		return "(none)";
	if (type == CL_ID_MAC || type == CL_ID_DUID)
		cl_format_hex(id, len, buf);
	else
		snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)id);
	return buf;
}

#define WIN " start=2020-01-01T00:00:00Z end=2099-01-01T00:00:00Z "

CL_TEST(radius_user_to_address)
{
	struct sink s;
	struct cl_pipeline *pl;

	pl = run("pcaps/radius/arkime__radius.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=user:xxxxxxxxx\n",
	    &s);
	CHECK_STR_EQ(who(pl, "10.0.0.3", CL_ID_USER), "xxxxxxxxx");
	CHECK_INT_EQ(s.x2, 1);
	CHECK_INT_EQ(s.x2_format, CL_X2X3_PF_RADIUS);
	cl_pipeline_free(pl);

	pl = run("pcaps/radius/zeek__radius_localhost.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=ip:172.16.3.33\n",
	    &s);
	CHECK_STR_EQ(who(pl, "172.16.3.33", CL_ID_USER), "steve");
	CHECK(s.x2 >= 1); /* the address target sees the session's IRI */
	cl_pipeline_free(pl);

	pl = run("pcaps/radius/libtrace__radius.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=user:test\n",
	    &s);
	/* Access-Accept binds; the accounting Stop then ends the session and
	 * a new Start (no address) begins another. */
	CHECK(s.starts >= 1 && s.stops >= 1);
	CHECK(s.x2 >= 3);
	cl_pipeline_free(pl);
}

CL_TEST(radius_never_binds_nas_selects)
{
	struct sink s;
	struct cl_pipeline *pl;

	pl = run("pcaps/radius/tcpdump__RADIUS.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=user:John.McGuirk\n",
	    &s);
	CHECK(who(pl, "255.255.255.254", CL_ID_USER) == NULL);
	cl_pipeline_free(pl);
}

CL_TEST(no_binding_files)
{
	static const char *files[] = {
	    "pcaps/radius/tcpdump__RADIUS-RFC5176.pcap",
	    "pcaps/radius/tcpdump__radius_attr_asan.pcap",
	    "pcaps/radius/tcpdump__radius_rfc5447_invalid_length.pcap",
	    "pcaps/dhcp/tcpdump__dhcp-option-108.pcapng",
	    "pcaps/dhcp/pcapplusplus__dhcpv6.pcap",
	};
	struct sink s;
	struct cl_pipeline *pl;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		pl = run(files[i],
		    "task 11111111-1111-4111-8111-111111111111 liid=L "
		    "deliver=iri" WIN "target=ip:0.0.0.0/0 target=ip:::/0\n",
		    &s);
		if (s.starts != 0 || cl_subs_count(cl_pipeline_subs(pl)) != 0)
			cl_test_fail(
			    __FILE__, __LINE__, "%s bound something", files[i]);
		CHECK_INT_EQ(s.x2, 0);
		cl_pipeline_free(pl);
	}
}

CL_TEST(dhcp_bindings)
{
	struct sink s;
	struct cl_pipeline *pl;

	pl = run("pcaps/dhcp/zeek__dhcp.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=mac:90:b1:1c:99:49:29\n",
	    &s);
	CHECK_STR_EQ(who(pl, "128.2.6.189", CL_ID_MAC), "90b11c994929");
	CHECK(who(pl, "192.168.211.194", CL_ID_MAC) == NULL); /* NAK */
	CHECK_INT_EQ(s.x2, 1);
	CHECK_INT_EQ(s.x2_format, CL_X2X3_PF_DHCP);
	cl_pipeline_free(pl);

	pl = run("pcaps/dhcp/arkime__wireshark-dhcp.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=ip:192.168.0.10\n",
	    &s);
	CHECK_STR_EQ(who(pl, "192.168.0.10", CL_ID_MAC), "000b8201fc42");
	cl_pipeline_free(pl);

	pl = run("pcaps/dhcp/suricata-verify__dhcp-option-52-overload.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=ip:10.100.0.50\n",
	    &s);
	CHECK_STR_EQ(who(pl, "10.100.0.50", CL_ID_MAC), "92dda48d5fde");
	cl_pipeline_free(pl);
}

CL_TEST(dhcpv6_prefixes)
{
	struct sink s;
	struct cl_pipeline *pl;

	pl = run("pcaps/dhcp/tcpdump__dhcpv6-ia-pd.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=duid:00030001000102030405\n",
	    &s);
	/* Any address inside the delegated /56 is the subscriber's. */
	CHECK_STR_EQ(
	    who(pl, "2a00:1:1:1ff::99", CL_ID_DUID), "00030001000102030405");
	CHECK(who(pl, "2a00:1:1:200::1", CL_ID_DUID) == NULL);
	CHECK(s.x2 >= 1);
	cl_pipeline_free(pl);

	pl = run("pcaps/dhcp/tcpdump__dhcpv6-ia-na.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=duid:00030001000102030405\n",
	    &s);
	CHECK_STR_EQ(who(pl, "2a00:1:1:200:38e6:b22e:c440:acdf", CL_ID_DUID),
	    "00030001000102030405");
	cl_pipeline_free(pl);

	/* Bound, then released: the session is gone at the end. */
	pl = run("pcaps/dhcp/arkime__wireshark-dhcpv6.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=iri" WIN
	    "target=duid:000100011c39cf88080027fe8f95\n",
	    &s);
	CHECK(s.starts >= 1);
	CHECK_INT_EQ(s.stops, 1);
	CHECK(who(pl, "2001:0:0:fe00::1", CL_ID_DUID) == NULL);
	CHECK(s.x2 >= 2);
	cl_pipeline_free(pl);
}

CL_TEST(inactive_task_intercepts_nothing)
{
	struct cl_pipeline_stats st;
	struct sink s;
	struct cl_pipeline *pl;

	pl = run("pcaps/ip/libtrace__100_packets.pcap",
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=cc "
	    "start=2020-01-01T00:00:00Z end=2020-01-02T00:00:00Z "
	    "target=ip:97.89.91.159\n",
	    &s);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(s.x3, 0);
	CHECK_INT_EQ(st.inactive_hits, 52);
	cl_pipeline_free(pl);
}

/* An output that refuses every third PDU. */
static uint32_t seen_seq[200];
static int nseen, ncalls;

static int
flaky_emit(void *arg, const struct cl_x2x3_pdu *pdu)
{
	(void)arg;
	if (++ncalls % 3 == 0)
		return CL_ERR_FULL;
	if (nseen < 200)
		seen_seq[nseen++] = pdu->seqno;
	return 0;
}

/* A dropped PDU is counted, and leaves a gap the receiver can see. */
CL_TEST(drops_leave_gaps)
{
	static const char tasks[] =
	    "task 11111111-1111-4111-8111-111111111111 liid=L deliver=cc" WIN
	    "target=ip:97.89.91.159\n";
	struct cl_pipeline_cfg cfg = {0};
	struct cl_pipeline_stats st;
	struct cl_pipeline *pl = NULL;
	struct cl_taskset *ts = NULL;
	struct cl_cap *cap = NULL;
	struct cl_cap_pkt pkt;
	char err[256];
	int i;

	nseen = ncalls = 0;
	cfg.ipid = "test";
	cfg.max_sessions = 10;
	cfg.max_frag_datagrams = 10;
	cfg.emit = flaky_emit;
	CHECK_INT_EQ(cl_pipeline_new(&cfg, &pl), 0);
	CHECK_INT_EQ(
	    cl_taskset_parse(tasks, strlen(tasks), &ts, err, sizeof(err)), 0);
	cl_pipeline_set_tasks(pl, ts);
	cl_pipeline_tick(pl, (int64_t)time(NULL));
	CHECK_INT_EQ(
	    cl_cap_open_file(
		cl_test_path("pcaps/ip/libtrace__100_packets.pcap"), &cap),
	    0);
	while (cl_cap_next(cap, &pkt) == 1)
		cl_pipeline_packet(pl, &pkt);
	cl_cap_free(cap);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(ncalls, 52);
	CHECK_INT_EQ(st.emit_drops, 17);
	CHECK_INT_EQ(st.x3, 35);
	CHECK_INT_EQ(nseen, 35);
	/* Sent: 0 1 _ 3 4 _ 6 ...: every third number is missing. */
	for (i = 0; i < nseen; i++)
		CHECK_INT_EQ(seen_seq[i], i + i / 2);
	cl_pipeline_free(pl);
}

/*
 * Every capture of the shared set goes through the whole pipeline, with
 * tasks that select everything (so every PDU path runs): nothing may
 * crash, and the sanitizer builds check every access.  Malformed files
 * end with an error from the reader, never a crash.
 */
CL_TEST(every_capture_survives)
{
	static const char *dirs[] = {"radius", "dhcp", "gtp", "encap", "frag",
	    "pcapng", "malformed", "ip", "sip", "smtp", "imap", "pop3",
	    "li_output"};
	static const char tasks[] =
	    "task 11111111-1111-4111-8111-111111111111 liid=ALL "
	    "deliver=iri+cc" WIN "target=ip:0.0.0.0/0 target=ip:::/0\n"
	    "task 22222222-2222-4222-8222-222222222222 liid=IDS "
	    "deliver=iri+cc" WIN
	    "target=user:test target=mac:90:b1:1c:99:49:29 "
	    "target=duid:00030001000102030405\n";
	struct cl_pipeline_cfg cfg = {0};
	struct cl_pipeline *pl = NULL;
	struct cl_taskset *ts = NULL;
	struct cl_cap *cap;
	struct cl_cap_pkt pkt;
	struct sink s;
	struct dirent *de;
	char path[512], err[256];
	size_t i, files = 0, packets = 0;
	DIR *d;
	int r;

	memset(&s, 0, sizeof(s));
	cfg.ipid = "test";
	cfg.max_sessions = 1000;
	cfg.max_frag_datagrams = 100;
	cfg.emit = emit;
	cfg.emit_arg = &s;
	CHECK_INT_EQ(cl_pipeline_new(&cfg, &pl), 0);
	CHECK_INT_EQ(
	    cl_taskset_parse(tasks, strlen(tasks), &ts, err, sizeof(err)), 0);
	cl_pipeline_set_tasks(pl, ts);
	cl_pipeline_tick(pl, (int64_t)time(NULL));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "pcaps/%s", dirs[i]);
		CHECK((d = opendir(cl_test_path(path))) != NULL);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strstr(de->d_name, ".pcap") == NULL)
				continue;
			snprintf(path, sizeof(path), "pcaps/%s/%s", dirs[i],
			    de->d_name);
			if (cl_cap_open_file(cl_test_path(path), &cap) != 0)
				continue; /* rejected at open: fine */
			while ((r = cl_cap_next(cap, &pkt)) == 1) {
				cl_pipeline_packet(pl, &pkt);
				packets++;
			}
			cl_cap_free(cap);
			files++;
		}
		closedir(d);
	}
	printf("     %zu captures, %zu packets, %d X2 and %d X3 PDUs\n", files,
	    packets, s.x2, s.x3);
	CHECK(files >= 100);
	CHECK(s.x3 > 0 && s.x2 > 0);
	cl_pipeline_free(pl);
}

/* Hand-made packets fed straight to a pipeline (no capture file). */
struct fpdu {
	int n;
	struct {
		uint16_t type, pformat;
		bool has_ts, has_sport;
		uint32_t ts_sec;
		uint16_t sport;
		size_t len;
		uint8_t cid[8];
	} p[16];
};

static int
femit(void *arg, const struct cl_x2x3_pdu *pdu)
{
	struct fpdu *f = arg;

	if (f->n < 16) {
		f->p[f->n].type = pdu->type;
		f->p[f->n].pformat = pdu->pformat;
		f->p[f->n].has_ts = pdu->has_ts;
		f->p[f->n].ts_sec = pdu->ts_sec;
		f->p[f->n].has_sport = pdu->has_sport;
		f->p[f->n].sport = pdu->sport;
		f->p[f->n].len = pdu->payload.len;
		memcpy(f->p[f->n].cid, pdu->cid, 8);
	}
	f->n++;
	return 0;
}

static struct cl_pipeline *
fpipe(const char *tasks, struct fpdu *f)
{
	struct cl_pipeline_cfg cfg = {0};
	struct cl_pipeline *pl = NULL;
	struct cl_taskset *ts = NULL;
	char err[256];

	memset(f, 0, sizeof(*f));
	cfg.ipid = "test";
	cfg.max_sessions = 100;
	cfg.max_frag_datagrams = 10;
	cfg.emit = femit;
	cfg.emit_arg = f;
	CHECK_INT_EQ(cl_pipeline_new(&cfg, &pl), 0);
	CHECK_INT_EQ(
	    cl_taskset_parse(tasks, strlen(tasks), &ts, err, sizeof(err)), 0);
	cl_pipeline_set_tasks(pl, ts);
	cl_pipeline_tick(pl, (int64_t)time(NULL));
	return pl;
}

static void
feed(struct cl_pipeline *pl, uint32_t lt, const uint8_t *b, size_t n,
    int64_t sec)
{
	struct cl_cap_pkt cp = {0};

	cp.data = b;
	cp.caplen = (uint32_t)n;
	cp.wirelen = (uint32_t)n;
	cp.ts_sec = sec;
	cp.linktype = lt;
	cl_pipeline_packet(pl, &cp);
}

/* Raw IPv4/UDP 10.0.0.1:1111 -> 10.0.0.2:2222 with 4 data bytes. */
static size_t
udp4(uint8_t *b)
{
	static const uint8_t pkt[] = {0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0,
	    10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0x57, 0x08, 0xae, 0, 12, 0, 0, 'd',
	    'a', 't', 'a'};

	memcpy(b, pkt, sizeof(pkt));
	return sizeof(pkt);
}

#define FTASK                                                                  \
	"task 11111111-1111-4111-8111-111111111111 liid=L "                    \
	"deliver=iri+cc" WIN

CL_TEST(malformed_target_packets_intercepted)
{
	struct cl_pipeline_stats st;
	struct cl_pipeline *pl;
	struct fpdu f;
	uint8_t b[64];
	size_t n;

	pl = fpipe(FTASK "target=ip:10.0.0.2\n", &f);
	/* UDP length beyond the IP payload. */
	n = udp4(b);
	b[24] = 0;
	b[25] = 200;
	feed(pl, CL_LINKTYPE_RAW, b, n, 1700000000);
	/* TCP with a data offset beyond the segment. */
	n = udp4(b);
	b[9] = 6;
	b[3] = 40;
	memset(b + 28, 0, 12);
	b[32] = 0xf0;
	feed(pl, CL_LINKTYPE_RAW, b, 40, 1700000000);
	/* Total length 0, as segmentation offload captures it. */
	n = udp4(b);
	b[3] = 0;
	feed(pl, CL_LINKTYPE_RAW, b, n, 1700000000);
	/* Not a target's: counted, not delivered. */
	n = udp4(b);
	b[19] = 9;
	b[25] = 200;
	feed(pl, CL_LINKTYPE_RAW, b, n, 1700000000);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(f.n, 3);
	CHECK_INT_EQ(st.malformed, 4);
	CHECK_INT_EQ(st.malformed_matched, 3);
	CHECK_INT_EQ(f.p[0].type, CL_X2X3_X3);
	CHECK_INT_EQ(f.p[0].len, 32); /* as captured */
	CHECK(f.p[0].has_sport && f.p[0].sport == 1111);
	CHECK_INT_EQ(f.p[1].len, 40);
	CHECK(f.p[1].has_sport && f.p[1].sport == 1111);
	CHECK_INT_EQ(f.p[2].len, 32); /* TSO: the captured length */
	CHECK(f.p[2].has_sport);
	cl_pipeline_free(pl);
}

CL_TEST(undecoded_link_types_counted)
{
	struct cl_pipeline_stats st;
	struct cl_pipeline *pl;
	struct fpdu f;
	uint8_t b[64], ppp[64];
	size_t n, i;

	pl = fpipe(FTASK "target=ip:10.0.0.2\n", &f);
	n = udp4(b);
	/* PPP (DLT 9) in HDLC-like framing: decoded and intercepted. */
	ppp[0] = 0xff;
	ppp[1] = 0x03;
	ppp[2] = 0x00;
	ppp[3] = 0x21;
	memcpy(ppp + 4, b, n);
	feed(pl, CL_LINKTYPE_PPP, ppp, n + 4, 1700000000);
	CHECK_INT_EQ(f.n, 1);
	/* USER0 twice and ATM once: counted per link type, not "non-IP". */
	feed(pl, 147, b, n, 1700000000);
	feed(pl, 147, b, n, 1700000000);
	feed(pl, 100, b, n, 1700000000);
	/* ARP on Ethernet is non-IP. */
	memset(ppp, 0, 14);
	ppp[12] = 0x08;
	ppp[13] = 0x06;
	feed(pl, CL_LINKTYPE_ETHERNET, ppp, 42, 1700000000);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(st.nonip, 1);
	CHECK_INT_EQ(st.n_undecoded, 2);
	CHECK_INT_EQ(st.undecoded[0].linktype, 147);
	CHECK_INT_EQ(st.undecoded[0].packets, 2);
	CHECK_INT_EQ(st.undecoded[1].linktype, 100);
	CHECK_INT_EQ(st.undecoded[1].packets, 1);
	/* Past the table: one shared counter. */
	for (i = 0; i < CL_PIPELINE_MAX_LINKTYPES + 3; i++)
		feed(pl, (uint32_t)(1000 + i), b, n, 1700000000);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(st.n_undecoded, CL_PIPELINE_MAX_LINKTYPES);
	CHECK_INT_EQ(st.undecoded_other, 5);
	CHECK_INT_EQ(f.n, 1);
	cl_pipeline_free(pl);
}

CL_TEST(timestamps_x2x3_cannot_carry)
{
	struct cl_pipeline_stats st;
	struct cl_pipeline *pl;
	struct fpdu f;
	uint8_t b[64];
	size_t n;

	pl = fpipe(FTASK "target=ip:10.0.0.2\n", &f);
	n = udp4(b);
	feed(pl, CL_LINKTYPE_RAW, b, n, 4294967295LL);
	feed(pl, CL_LINKTYPE_RAW, b, n, 4294967296LL);
	feed(pl, CL_LINKTYPE_RAW, b, n, -1);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(f.n, 3);
	CHECK(f.p[0].has_ts && f.p[0].ts_sec == 4294967295u);
	/* Not wrapped to 1970: left out. */
	CHECK(!f.p[1].has_ts);
	CHECK(!f.p[2].has_ts);
	CHECK_INT_EQ(st.ts_omitted, 2);
	cl_pipeline_free(pl);
}

/*
 * A DHCPv6 server answering from an ephemeral port to the client's 546:
 * REPLY binding DUID 000100011def69bd000c295e7744 to 2001:db8:1:2::1002.
 */
static size_t
dhcp6_reply(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t msgtype)
{
	static const uint8_t msg[] = {7, 0x12, 0x34, 0x56,
	    /* Client ID */
	    0, 1, 0, 14, 0, 1, 0, 1, 0x1d, 0xef, 0x69, 0xbd, 0x00, 0x0c, 0x29,
	    0x5e, 0x77, 0x44,
	    /* Server ID */
	    0, 2, 0, 10, 0, 3, 0, 1, 0, 1, 2, 3, 4, 5,
	    /* IA_NA: IAID, T1, T2, then IAADDR */
	    0, 3, 0, 40, 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x15, 0x18, 0, 5,
	    0, 24, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0x10,
	    0x02, 0, 0, 0x1c, 0x20, 0, 0, 0x1c, 0x20};
	size_t n = 40 + 8 + sizeof(msg);

	memset(b, 0, 48);
	b[0] = 0x60;
	b[4] = (uint8_t)((n - 40) >> 8);
	b[5] = (uint8_t)(n - 40);
	b[6] = 17;
	b[7] = 64;
	b[8] = 0xfe;
	b[9] = 0x80;
	b[23] = 1;
	b[24] = 0xfe;
	b[25] = 0x80;
	b[39] = 2;
	b[40] = (uint8_t)(sport >> 8);
	b[41] = (uint8_t)sport;
	b[42] = (uint8_t)(dport >> 8);
	b[43] = (uint8_t)dport;
	b[44] = (uint8_t)((n - 40) >> 8);
	b[45] = (uint8_t)(n - 40);
	memcpy(b + 48, msg, sizeof(msg));
	b[48] = msgtype;
	return n;
}

CL_TEST(dhcpv6_reply_from_ephemeral_port)
{
	struct cl_pipeline_stats st;
	struct cl_pipeline *pl;
	struct cl_session *se;
	struct cl_addr a;
	struct fpdu f;
	uint8_t b[256];
	size_t n;

	CHECK_INT_EQ(cl_parse_addr("2001:db8:1:2::1002", &a), 0);
	pl = fpipe(FTASK "target=duid:000100011def69bd000c295e7744\n", &f);
	n = dhcp6_reply(b, 49153, 546, 7);
	feed(pl, CL_LINKTYPE_RAW, b, n, 1700000000);
	CHECK((se = cl_subs_lookup(cl_pipeline_subs(pl), &a, 1)) != NULL);
	CHECK_INT_EQ(f.n, 1);
	CHECK_INT_EQ(f.p[0].type, CL_X2X3_X2);
	CHECK_INT_EQ(f.p[0].pformat, CL_X2X3_PF_DHCP);
	cl_pipeline_free(pl);

	/* A "REPLY" sent from the client port, or a client message to it:
	 * not DHCPv6 as it travels, no binding. */
	pl = fpipe(FTASK "target=duid:000100011def69bd000c295e7744\n", &f);
	n = dhcp6_reply(b, 546, 49153, 7);
	feed(pl, CL_LINKTYPE_RAW, b, n, 1700000000);
	n = dhcp6_reply(b, 49153, 546, 3);
	feed(pl, CL_LINKTYPE_RAW, b, n, 1700000000);
	CHECK(cl_subs_lookup(cl_pipeline_subs(pl), &a, 1) == NULL);
	cl_pipeline_stats(pl, &st);
	CHECK_INT_EQ(st.signalling_bad, 2);
	CHECK_INT_EQ(f.n, 0);
	cl_pipeline_free(pl);
}

/*
 * libtrace__radius.pcap (tshark): Access-Accept (10.1.40.34), Accounting
 * Start and Stop of 451859ED-00000005, Access-Accept, Start of
 * 451859ED-00000006.  Each Accept begins a session that its Accounting
 * Start continues: two correlation IDs, three and two PDUs.  (The
 * Accept-without-address case is in test_subscriber.c.)
 */
CL_TEST(radius_correlation_per_session)
{
	struct cl_pipeline *pl;
	struct cl_cap *cap = NULL;
	struct cl_cap_pkt pkt;
	struct fpdu f;
	int i, r;

	pl = fpipe("task 11111111-1111-4111-8111-111111111111 liid=L "
		   "deliver=iri" WIN "target=user:test\n",
	    &f);
	CHECK_INT_EQ(
	    cl_cap_open_file(
		cl_test_path("pcaps/radius/libtrace__radius.pcap"), &cap),
	    0);
	while ((r = cl_cap_next(cap, &pkt)) == 1)
		cl_pipeline_packet(pl, &pkt);
	CHECK_INT_EQ(r, 0);
	cl_cap_free(cap);
	CHECK_INT_EQ(f.n, 5);
	for (i = 1; i < 3; i++)
		CHECK_MEM_EQ(f.p[i].cid, f.p[0].cid, 8);
	CHECK_MEM_EQ(f.p[4].cid, f.p[3].cid, 8);
	CHECK(memcmp(f.p[3].cid, f.p[0].cid, 8) != 0);
	cl_pipeline_free(pl);
}

int
main(void)
{
	CL_RUN(malformed_target_packets_intercepted);
	CL_RUN(undecoded_link_types_counted);
	CL_RUN(timestamps_x2x3_cannot_carry);
	CL_RUN(dhcpv6_reply_from_ephemeral_port);
	CL_RUN(radius_correlation_per_session);
	CL_RUN(radius_user_to_address);
	CL_RUN(radius_never_binds_nas_selects);
	CL_RUN(no_binding_files);
	CL_RUN(dhcp_bindings);
	CL_RUN(dhcpv6_prefixes);
	CL_RUN(inactive_task_intercepts_nothing);
	CL_RUN(drops_leave_gaps);
	CL_RUN(every_capture_survives);
	return cl_test_done();
}
