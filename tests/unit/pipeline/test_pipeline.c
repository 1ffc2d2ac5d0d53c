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

int
main(void)
{
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
