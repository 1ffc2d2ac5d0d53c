/* SPDX-License-Identifier: ISC */
/*
 * Capture-file reader tests.  Expected values for the shared captures come
 * from capinfos / tshark 4.0 (see shared/pcaps/README.md); synthetic files
 * are built here byte by byte to hit each framing check.
 */
#include <sys/stat.h>

#include <stdbool.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "capfile.h"
#include "err.h"
#include "harness.h"

/* --- shared captures ------------------------------------------------ */

struct cap_count {
	const char *path;
	int count; /* capinfos -c */
	enum cl_cap_format fmt;
};

/* Every capture of the categories the POI reads, with capinfos' count. */
static const struct cap_count counts[] = {
    {"radius/arkime__radius.pcap", 2, CL_CAP_PCAP},
    {"radius/libtrace__radius.pcap", 34, CL_CAP_PCAP},
    {"radius/ndpi__radius_false_positive.pcapng", 10, CL_CAP_PCAPNG},
    {"radius/pcapplusplus__radius_wrong.pcap", 1, CL_CAP_PCAP},
    {"radius/tcpdump__RADIUS-RFC3162.pcap", 1, CL_CAP_PCAP},
    {"radius/tcpdump__RADIUS-RFC5176.pcap", 6, CL_CAP_PCAP},
    {"radius/tcpdump__RADIUS.pcap", 4, CL_CAP_PCAP},
    {"radius/tcpdump__radius_attr_asan.pcap", 1, CL_CAP_PCAP},
    {"radius/tcpdump__radius_rfc5447_invalid_length.pcap", 1, CL_CAP_PCAP},
    {"radius/zeek__radius_localhost.pcap", 19, CL_CAP_PCAP},
    {"dhcp/arkime__wireshark-dhcp.pcap", 4, CL_CAP_PCAP},
    {"dhcp/arkime__wireshark-dhcpv6.pcap", 12, CL_CAP_PCAP},
    {"dhcp/pcapplusplus__dhcpv6.pcap", 2, CL_CAP_PCAP},
    {"dhcp/suricata-verify__dhcp-option-52-overload.pcap", 8, CL_CAP_PCAP},
    {"dhcp/tcpdump__bootp_asan.pcap", 1, CL_CAP_PCAP},
    {"dhcp/tcpdump__dhcp-option-108.pcapng", 2, CL_CAP_PCAPNG},
    {"dhcp/tcpdump__dhcp-rfc3004.pcap", 4, CL_CAP_PCAP},
    {"dhcp/tcpdump__dhcp6_reconf_asan.pcap", 1, CL_CAP_PCAP},
    {"dhcp/tcpdump__dhcpv4v6-rfc5970-rfc8572.pcap", 14, CL_CAP_PCAP},
    {"dhcp/tcpdump__dhcpv6-ia-na.pcap", 4, CL_CAP_PCAP},
    {"dhcp/tcpdump__dhcpv6-ia-pd.pcap", 4, CL_CAP_PCAP},
    {"dhcp/zeek__dhcp.pcap", 9, CL_CAP_PCAP},
    {"dhcp/zeek__dhcp_ack_subscriber_id_and_agent_remote_id.pcap", 1,
	CL_CAP_PCAP},
    {"dhcp/zeek__dhcp_bad_cookie_option_retention.pcap", 5, CL_CAP_PCAP},
    {"gtp/ndpi__gtp_c.pcap", 4, CL_CAP_PCAP},
    {"gtp/orion-belt-tempo__OppoSPGWC.pcap", 90, CL_CAP_PCAPNG},
    {"gtp/pcapplusplus__gtp-u.pcap", 102, CL_CAP_PCAP},
    {"gtp/pcapplusplus__gtpv2.pcap", 6, CL_CAP_PCAPNG},
    {"gtp/trex__tcp2_http_simple_gtpu_ipv6_c.pcap", 34, CL_CAP_PCAP},
    {"gtp/zeek__gtp10_not_0xff.pcap", 3, CL_CAP_PCAP},
    {"gtp/zeek__gtp1_gn_normal_incl_fragmentation.pcap", 108, CL_CAP_PCAP},
    {"gtp/zeek__gtp3_false_gtp.pcap", 1, CL_CAP_PCAP},
    {"gtp/zeek__gtp7_ipv6.pcap", 2, CL_CAP_PCAP},
    {"gtp/zeek__gtp_control_prime.pcap", 10, CL_CAP_PCAP},
    {"gtp/zeek__gtp_create_pdp_ctx.pcap", 4, CL_CAP_PCAP},
    {"gtp/zeek__gtp_ext_header.pcap", 2, CL_CAP_PCAP},
    {"encap/libtrace__mpls.pcap", 10, CL_CAP_PCAP},
    {"encap/tcpdump__802.1ad_QinQ.pcap", 2, CL_CAP_PCAP},
    {"encap/tcpdump__mpls-over-udp.pcap", 2, CL_CAP_PCAP},
    {"encap/tcpdump__vxlan.pcap", 10, CL_CAP_PCAP},
    {"encap/zeek__gre-sample.pcap", 40, CL_CAP_PCAP},
    {"encap/zeek__http-qinq-0.pcap", 14, CL_CAP_PCAP},
    {"encap/zeek__http-vlan-0.pcap", 14, CL_CAP_PCAP},
    {"encap/zeek__mixed-vlan-mpls.pcap", 47, CL_CAP_PCAP},
    {"encap/zeek__mpls-in-vlan.pcap", 3, CL_CAP_PCAP},
    {"encap/zeek__pppoe-over-qinq.pcap", 86, CL_CAP_PCAP},
    {"encap/zeek__vlan-qinqinq.pcap", 14, CL_CAP_PCAP},
    {"frag/pcapplusplus__frag_http_req.pcap", 11, CL_CAP_PCAP},
    {"frag/pcapplusplus__ip6_fragments.pcap", 36, CL_CAP_PCAP},
    {"frag/tcpdump__ip6_frag_asan.pcap", 1, CL_CAP_PCAP},
    {"frag/tcpdump__ipv6_frag6_negative_len.pcap", 1, CL_CAP_PCAP},
    {"frag/zeek__fragmented-1.pcap", 3, CL_CAP_PCAP},
    {"frag/zeek__fragmented-2.pcap", 3, CL_CAP_PCAP},
    {"frag/zeek__fragmented-3.pcap", 5, CL_CAP_PCAP},
    {"frag/zeek__fragmented-4.pcap", 6, CL_CAP_PCAP},
    {"frag/zeek__fragmented-syn.pcap", 2, CL_CAP_PCAP},
    {"frag/zeek__ipv6-fragmented-dns.pcap", 8, CL_CAP_PCAP},
    {"pcapng/libtrace__complex.pcapng", 5, CL_CAP_PCAPNG},
    {"pcapng/pcapplusplus__pcapng-example.pcapng", 159, CL_CAP_PCAPNG},
    {"pcapng/tcpdump__empty.pcapng", 0, CL_CAP_PCAPNG},
    {"pcapng/zeek__pcapng-multi-interface.pcapng", 6, CL_CAP_PCAPNG},
    {"malformed/pcapplusplus__ipv4-malformed.pcap", 2, CL_CAP_PCAPNG},
    {"malformed/tcpdump__empty.pcap", 0, CL_CAP_PCAP},
    {"malformed/tcpdump__ipv4_invalid_hdr_length.pcap", 1, CL_CAP_PCAP},
    {"malformed/tcpdump__ipv4_invalid_total_length.pcap", 1, CL_CAP_PCAP},
    {"malformed/tcpdump__mpls-label-heapoverflow.pcap", 1, CL_CAP_PCAP},
    {"malformed/tcpdump__tcp_header_heapoverflow.pcap", 1, CL_CAP_PCAP},
    {"malformed/tcpdump__udp-length-heapoverflow.pcap", 1, CL_CAP_PCAP},
    {"malformed/zeek__ipv4-truncated-broken-header.pcap", 1, CL_CAP_PCAP},
    {"malformed/zeek__tcp-truncated-header.pcap", 24, CL_CAP_PCAP},
    {"malformed/zeek__udp-contents-truncated-oob.pcap", 1, CL_CAP_PCAP},
    {"ip/arkime__v6.pcap", 161, CL_CAP_PCAP},
    {"ip/libtrace__100_packets.pcap", 100, CL_CAP_PCAP},
    {"ip/npm-pcap-parser__be.pcap", 5, CL_CAP_PCAP},
    {"ip/packetnet__LinuxCookedCapture.pcap", 3, CL_CAP_PCAP},
    {"ip/packetnet__LinuxCookedCapturev2.pcap", 3, CL_CAP_PCAP},
    {"ip/packetnet__ipv6_http.pcap", 10, CL_CAP_PCAP},
    {"ip/packetnet__linktype_null_capture.pcap", 2, CL_CAP_PCAP},
    {"ip/packetnet__udp.pcap", 10, CL_CAP_PCAP},
    {"ip/tcpdump__LINKTYPE_RAW_ipv4.pcap", 1, CL_CAP_PCAP},
    {"ip/tcpdump__LINKTYPE_RAW_ipv6.pcap", 1, CL_CAP_PCAP},
    {"ip/tcpdump__dns_tcp.pcap", 11, CL_CAP_PCAP},
    {"ip/tcpdump__dns_udp.pcap", 2, CL_CAP_PCAP},
    {"ip/tcpdump__tcp-handshake-nano.pcap", 3, CL_CAP_PCAP},
    {"sip/michalcab-isa__sip.pcap", 175, CL_CAP_PCAP},
    {"sip/ndpi__FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", 1552, CL_CAP_PCAP},
    {"sip/ndpi__fuzz-2006-06-26-2594.pcap", 691, CL_CAP_PCAP},
    {"sip/ndpi__rtcp_multiple_pkts_in_the_same_datagram.pcap", 5, CL_CAP_PCAP},
    {"sip/packetnet__ipv6_rtp.pcap", 1, CL_CAP_PCAP},
    {"sip/pcapplusplus__sdp.pcap", 1, CL_CAP_PCAP},
    {"sip/sipp__g711a.pcap", 236, CL_CAP_PCAP},
    {"sip/sngrep__aaa.pcap", 691, CL_CAP_PCAP},
    {"sip/sngrep__ipv6frag.pcap", 34, CL_CAP_PCAP},
    {"sip/suricata-verify__sip-tcp.pcap", 11, CL_CAP_PCAP},
    {"sip/zeek__invalid-content-length.pcap", 2, CL_CAP_PCAP},
};

static const char *
pcap_path(const char *rel)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "pcaps/%s", rel);
	return cl_test_path(buf);
}

static struct cl_cap *
open_shared(const char *rel)
{
	struct cl_cap *c = NULL;
	int r;

	r = cl_cap_open_file(pcap_path(rel), &c);
	if (r != 0)
		cl_test_fail(
		    __FILE__, __LINE__, "%s: open: %s", rel, cl_err_str(r));
	return c;
}

CL_TEST(shared_captures_read_to_end)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	size_t i;
	int n, r;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		c = open_shared(counts[i].path);
		CHECK_INT_EQ(cl_cap_format(c), counts[i].fmt);
		n = 0;
		while ((r = cl_cap_next(c, &pkt)) == 1) {
			n++;
			CHECK(pkt.data != NULL || pkt.caplen == 0);
			CHECK(pkt.caplen <= CL_CAP_MAX_SNAPLEN);
			CHECK(pkt.ts_nsec < 1000000000u);
		}
		if (r != 0 || n != counts[i].count)
			cl_test_fail(__FILE__, __LINE__,
			    "%s: r=%d n=%d want %d", counts[i].path, r, n,
			    counts[i].count);
		/* The end is sticky. */
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
		cl_cap_free(c);
	}
}

CL_TEST(not_a_capture_rejected_at_open)
{
	struct cl_cap *c = (struct cl_cap *)1;

	/* 30 bytes of text: "this is not a valid pcap file." */
	CHECK_INT_EQ(
	    cl_cap_open_file(
		pcap_path("malformed/npm-pcap-parser__malformed.pcap"), &c),
	    CL_ERR_FORMAT);
	CHECK(c == NULL);
}

CL_TEST(pcapng_named_pcap_detected)
{
	static const char *const names[] = {
	    "gtp/pcapplusplus__gtpv2.pcap",
	    "gtp/orion-belt-tempo__OppoSPGWC.pcap",
	    "malformed/pcapplusplus__ipv4-malformed.pcap",
	};
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	size_t i;

	for (i = 0; i < 3; i++) {
		c = open_shared(names[i]);
		CHECK_INT_EQ(cl_cap_format(c), CL_CAP_PCAPNG);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		cl_cap_free(c);
	}
	/* OppoSPGWC is Linux SLL on its only interface. */
	c = open_shared("gtp/orion-belt-tempo__OppoSPGWC.pcap");
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.linktype, CL_LINKTYPE_LINUX_SLL);
	cl_cap_free(c);
}

struct ts {
	int64_t sec;
	uint32_t nsec;
	uint32_t caplen, wirelen;
};

static void
check_ts(const char *rel, const struct ts *want, int n)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	int i;

	c = open_shared(rel);
	for (i = 0; i < n; i++) {
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ts_sec, want[i].sec);
		CHECK_INT_EQ(pkt.ts_nsec, want[i].nsec);
		CHECK_INT_EQ(pkt.caplen, want[i].caplen);
		CHECK_INT_EQ(pkt.wirelen, want[i].wirelen);
	}
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
	cl_cap_free(c);
}

CL_TEST(nanosecond_timestamps)
{
	/* tshark -e frame.time_epoch -e frame.cap_len -e frame.len */
	static const struct ts want[] = {
	    {1418145369, 924505488, 76, 76},
	    {1418145370, 52027262, 76, 76},
	    {1418145370, 52115157, 68, 68},
	};
	struct cl_cap_pkt pkt;
	struct cl_cap *c;

	check_ts("ip/tcpdump__tcp-handshake-nano.pcap", want, 3);
	c = open_shared("ip/tcpdump__tcp-handshake-nano.pcap");
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.linktype, CL_LINKTYPE_LINUX_SLL);
	cl_cap_free(c);
}

CL_TEST(big_endian_timestamps)
{
	static const struct ts want[] = {
	    {3064, 714590000, 42, 60},
	    {3064, 714654000, 60, 60},
	    {3064, 737944000, 87, 87},
	    {3064, 896798000, 86, 86},
	    {3064, 896929000, 87, 87},
	};

	check_ts("ip/npm-pcap-parser__be.pcap", want, 5);
}

CL_TEST(pcapng_multi_interface)
{
	/* tshark -e frame.interface_id -e frame.time_epoch: interface 0 has
	 * if_tsresol 9 (ns), interface 1 if_tsresol 6. */
	static const struct {
		uint32_t ifx;
		int64_t sec;
		uint32_t nsec;
	} want[] = {
	    {0, 1767663089, 500330493},
	    {0, 1767663089, 514291940},
	    {1, 1767663437, 111897000},
	    {1, 1767663437, 126460000},
	    {1, 1767663437, 128303000},
	    {1, 1767663437, 140942000},
	};
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	size_t i;

	c = open_shared("pcapng/zeek__pcapng-multi-interface.pcapng");
	for (i = 0; i < 6; i++) {
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ifindex, want[i].ifx);
		CHECK_INT_EQ(pkt.linktype, CL_LINKTYPE_ETHERNET);
		CHECK_INT_EQ(pkt.ts_sec, want[i].sec);
		CHECK_INT_EQ(pkt.ts_nsec, want[i].nsec);
	}
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
	cl_cap_free(c);
}

CL_TEST(pcapng_per_packet_linktypes)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	int i;

	/* frame.encap_type: 59 x Ethernet on interface 0 (ns), then
	 * 100 x Linux SLL on interface 1 (us). */
	c = open_shared("pcapng/pcapplusplus__pcapng-example.pcapng");
	for (i = 0; i < 159; i++) {
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ifindex, i < 59 ? 0 : 1);
		CHECK_INT_EQ(pkt.linktype,
		    i < 59 ? CL_LINKTYPE_ETHERNET : CL_LINKTYPE_LINUX_SLL);
		if (i == 0) {
			CHECK_INT_EQ(pkt.ts_sec, 1422527998);
			CHECK_INT_EQ(pkt.ts_nsec, 578402281);
		}
		if (i == 59) { /* odd but valid: 18446744073204.126329 */
			CHECK_INT_EQ(pkt.ts_sec, 18446744073204);
			CHECK_INT_EQ(pkt.ts_nsec, 126329000);
			CHECK_INT_EQ(pkt.caplen, 68);
		}
	}
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
	cl_cap_free(c);

	/* Big-endian section; Ethernet, NULL, Ethernet interfaces; a
	 * Simple Packet Block (no timestamp, clipped to snaplen 96);
	 * custom and name-resolution blocks skipped. */
	static const struct {
		uint32_t ifx, lt, caplen, wirelen;
		int64_t sec;
	} want[] = {
	    {0, CL_LINKTYPE_ETHERNET, 96, 314, 1340954905},
	    {2, CL_LINKTYPE_ETHERNET, 342, 342, 1340954905},
	    {0, CL_LINKTYPE_ETHERNET, 96, 314, 0},
	    {0, CL_LINKTYPE_ETHERNET, 96, 342, 1340954905},
	    {1, CL_LINKTYPE_NULL, 168, 168, 1340954905},
	};
	c = open_shared("pcapng/libtrace__complex.pcapng");
	for (i = 0; i < 5; i++) {
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ifindex, want[i].ifx);
		CHECK_INT_EQ(pkt.linktype, want[i].lt);
		CHECK_INT_EQ(pkt.caplen, want[i].caplen);
		CHECK_INT_EQ(pkt.wirelen, want[i].wirelen);
		CHECK_INT_EQ(pkt.ts_sec, want[i].sec);
	}
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
	cl_cap_free(c);
}

/* --- open_file edge cases -------------------------------------------- */

static void
write_tmp(char *path, const void *p, size_t n)
{
	int fd;

	if ((fd = mkstemp(path)) == -1)
		cl_test_fail(__FILE__, __LINE__, "mkstemp");
	if (n > 0 && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		cl_test_fail(__FILE__, __LINE__, "write");
	}
	close(fd);
}

CL_TEST(open_file_errors)
{
	static const uint8_t hdr3[] = {0xd4, 0xc3, 0xb2};
	static const uint8_t hdr10[] = {
	    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0};
	char p0[] = "/tmp/h1capXXXXXX", p3[] = "/tmp/h1capXXXXXX";
	char p10[] = "/tmp/h1capXXXXXX";
	struct cl_cap *c = NULL;

	write_tmp(p0, NULL, 0);
	write_tmp(p3, hdr3, sizeof(hdr3));
	write_tmp(p10, hdr10, sizeof(hdr10));
	CHECK_INT_EQ(cl_cap_open_file(p0, &c), CL_ERR_TRUNCATED);
	CHECK(c == NULL);
	CHECK_INT_EQ(cl_cap_open_file(p3, &c), CL_ERR_TRUNCATED);
	CHECK(c == NULL);
	CHECK_INT_EQ(cl_cap_open_file(p10, &c), CL_ERR_TRUNCATED);
	CHECK(c == NULL);
	unlink(p0);
	unlink(p3);
	unlink(p10);
	CHECK_INT_EQ(
	    cl_cap_open_file("/nonexistent/x.pcap", &c), CL_ERR_SYSTEM);
	CHECK(c == NULL);
	CHECK_INT_EQ(cl_cap_open_file("/tmp", &c), CL_ERR_INVALID_ARG);
	CHECK(c == NULL);
	cl_cap_free(NULL);
}

/* The reason for a failed open names the step, the path and the errno. */
CL_TEST(open_errors_say_why)
{
	static const uint8_t text[] = "this is not a valid pcap file.";
	char p[] = "/tmp/h1capXXXXXX";
	char err[512];
	struct cl_cap *c = NULL;

	CHECK_INT_EQ(
	    cl_cap_open_path("/nonexistent/x.pcap", &c, err, sizeof(err)),
	    CL_ERR_SYSTEM);
	CHECK_STR_EQ(err,
	    "cannot open /nonexistent/x.pcap for reading: No "
	    "such file or directory");
	CHECK_INT_EQ(
	    cl_cap_open_path("/tmp", &c, err, sizeof(err)), CL_ERR_INVALID_ARG);
	CHECK_STR_EQ(err, "/tmp is not a regular file");
	write_tmp(p, text, sizeof(text) - 1);
	CHECK_INT_EQ(cl_cap_open_path(p, &c, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(strstr(err, p) != NULL);
	CHECK(strstr(err, "not a pcap or pcapng file") != NULL);
	CHECK(c == NULL);
	/* No buffer: the same result. */
	CHECK_INT_EQ(cl_cap_open_path(p, &c, NULL, 0), CL_ERR_FORMAT);
	unlink(p);
}

/* --- synthetic files --------------------------------------------------- */

struct tb {
	uint8_t b[2048];
	size_t n;
	bool le;
};

static void
tb_u8(struct tb *t, uint8_t v)
{
	if (t->n >= sizeof(t->b))
		cl_test_fail(__FILE__, __LINE__, "test buffer full");
	t->b[t->n++] = v;
}

static void
tb_u16(struct tb *t, uint16_t v)
{
	if (t->le) {
		tb_u8(t, (uint8_t)v);
		tb_u8(t, (uint8_t)(v >> 8));
	} else {
		tb_u8(t, (uint8_t)(v >> 8));
		tb_u8(t, (uint8_t)v);
	}
}

static void
tb_u32(struct tb *t, uint32_t v)
{
	if (t->le) {
		tb_u16(t, (uint16_t)v);
		tb_u16(t, (uint16_t)(v >> 16));
	} else {
		tb_u16(t, (uint16_t)(v >> 16));
		tb_u16(t, (uint16_t)v);
	}
}

static void
tb_fill(struct tb *t, uint8_t v, size_t n)
{
	while (n-- > 0)
		tb_u8(t, v);
}

static void
pcap_hdr(struct tb *t, bool le, bool nsec, uint32_t lt)
{
	t->n = 0;
	t->le = le;
	tb_u32(t, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	tb_u16(t, 2);
	tb_u16(t, 4);
	tb_u32(t, 0);
	tb_u32(t, 0);
	tb_u32(t, 65535);
	tb_u32(t, lt);
}

static void
pcap_rec(struct tb *t, uint32_t sec, uint32_t frac, uint32_t caplen,
    uint32_t wirelen, size_t have)
{
	tb_u32(t, sec);
	tb_u32(t, frac);
	tb_u32(t, caplen);
	tb_u32(t, wirelen);
	tb_fill(t, 0x45, have);
}

static int
count_pkts(const uint8_t *p, size_t n, int *r, uint64_t *erroff)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	int k = 0;

	*r = cl_cap_open_mem(p, n, &c);
	if (*r != 0)
		return -1;
	while ((*r = cl_cap_next(c, &pkt)) == 1)
		k++;
	*erroff = cl_cap_error_offset(c);
	/* Errors and the end stick. */
	if (cl_cap_next(c, &pkt) != *r)
		k = -100;
	cl_cap_free(c);
	return k;
}

CL_TEST(pcap_byte_orders_and_resolutions)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	struct tb t;
	int i;

	for (i = 0; i < 4; i++) {
		bool le = i & 1, nsec = i & 2;

		pcap_hdr(&t, le, nsec, CL_LINKTYPE_RAW);
		pcap_rec(&t, 1700000000, nsec ? 999999999 : 999999, 3, 1500, 3);
		CHECK_INT_EQ(cl_cap_open_mem(t.b, t.n, &c), 0);
		CHECK_INT_EQ(cl_cap_format(c), CL_CAP_PCAP);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ts_sec, 1700000000);
		CHECK_INT_EQ(pkt.ts_nsec, 999999999 - (nsec ? 0 : 999));
		CHECK_INT_EQ(pkt.caplen, 3);
		CHECK_INT_EQ(pkt.wirelen, 1500);
		CHECK_INT_EQ(pkt.linktype, CL_LINKTYPE_RAW);
		CHECK(pkt.data == t.b + 24 + 16);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
		cl_cap_free(c);

		/* A fraction of a second of a whole second or more: carried
		 * into the seconds and flagged; the next record is read. */
		pcap_hdr(&t, le, nsec, CL_LINKTYPE_RAW);
		pcap_rec(&t, 1, nsec ? 1000000000 : 1000000, 0, 0, 0);
		pcap_rec(&t, 7, nsec ? 2500000001u : 2500001, 1, 1, 1);
		pcap_rec(&t, 9, 5, 1, 1, 1);
		CHECK_INT_EQ(cl_cap_open_mem(t.b, t.n, &c), 0);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ts_sec, 2);
		CHECK_INT_EQ(pkt.ts_nsec, 0);
		CHECK_INT_EQ(pkt.flags, CL_CAP_F_TS_NORMALISED);
		CHECK_INT_EQ(cl_cap_offset(c), 24);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ts_sec, 9);
		CHECK_INT_EQ(pkt.ts_nsec, nsec ? 500000001 : 500001000);
		CHECK_INT_EQ(pkt.flags, CL_CAP_F_TS_NORMALISED);
		CHECK_INT_EQ(cl_cap_offset(c), 24 + 16);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.ts_sec, 9);
		CHECK_INT_EQ(pkt.flags, 0);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
		cl_cap_free(c);
	}
}

CL_TEST(pcap_truncated_everywhere)
{
	struct tb t;
	size_t cut, end1;
	uint64_t off;
	int k, r;

	pcap_hdr(&t, true, false, CL_LINKTYPE_ETHERNET);
	pcap_rec(&t, 1, 2, 5, 5, 5);
	end1 = t.n;
	pcap_rec(&t, 3, 4, 7, 9, 7);
	for (cut = 0; cut <= t.n; cut++) {
		k = count_pkts(t.b, cut, &r, &off);
		if (cut < 24) {
			CHECK_INT_EQ(k, -1);
			CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
		} else if (cut == 24 || cut == end1 || cut == t.n) {
			CHECK_INT_EQ(r, 0);
			CHECK_INT_EQ(k, cut == 24 ? 0 : cut == end1 ? 1 : 2);
		} else {
			CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
			CHECK_INT_EQ(k, cut < end1 ? 0 : 1);
			CHECK_INT_EQ(off, cut < end1 ? 24 : end1);
		}
	}
}

CL_TEST(pcap_bad_headers_and_records)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c = NULL;
	struct tb t;
	uint64_t off;
	int r;

	/* Version 1.x is not a pcap we know. */
	pcap_hdr(&t, true, false, 1);
	t.b[4] = 1;
	CHECK_INT_EQ(cl_cap_open_mem(t.b, t.n, &c), CL_ERR_UNSUPPORTED);
	CHECK(c == NULL);
	/* Unknown magic. */
	pcap_hdr(&t, true, false, 1);
	t.b[0] ^= 1;
	CHECK_INT_EQ(cl_cap_open_mem(t.b, t.n, &c), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_cap_open_mem(NULL, 0, &c), CL_ERR_TRUNCATED);

	/* caplen over the maximum snap length, even if the bytes are
	 * there; the error sticks and names the record. */
	pcap_hdr(&t, false, false, 1);
	pcap_rec(&t, 1, 1, 4, 4, 4);
	pcap_rec(&t, 1, 1, CL_CAP_MAX_SNAPLEN + 1, 100, 0);
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 1);
	CHECK_INT_EQ(r, CL_ERR_TOOBIG);
	CHECK_INT_EQ(off, 24 + 16 + 4);

	/* caplen larger than what is left of the file. */
	pcap_hdr(&t, false, false, 1);
	pcap_rec(&t, 1, 1, 0xffffffffu, 100, 8);
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_TOOBIG);
	pcap_hdr(&t, false, false, 1);
	pcap_rec(&t, 1, 1, 9, 100, 8);
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
	CHECK_INT_EQ(off, 24);

	/* Exactly the maximum is fine. */
	{
		uint8_t *big;
		size_t n = 24 + 16 + CL_CAP_MAX_SNAPLEN;

		pcap_hdr(&t, true, false, 1);
		pcap_rec(&t, 1, 1, CL_CAP_MAX_SNAPLEN, CL_CAP_MAX_SNAPLEN, 0);
		big = calloc(1, n);
		CHECK(big != NULL);
		memcpy(big, t.b, t.n);
		CHECK_INT_EQ(cl_cap_open_mem(big, n, &c), 0);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
		CHECK_INT_EQ(pkt.caplen, CL_CAP_MAX_SNAPLEN);
		CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
		cl_cap_free(c);
		free(big);
	}
}

/* pcapng builders */

static void
ng_block(struct tb *t, uint32_t type, const struct tb *body)
{
	uint32_t len = (uint32_t)(12 + ((body->n + 3) & ~(size_t)3));

	tb_u32(t, type);
	tb_u32(t, len);
	memcpy(t->b + t->n, body->b, body->n);
	t->n += body->n;
	tb_fill(t, 0, (4 - body->n % 4) % 4);
	tb_u32(t, len);
}

static void
ng_shb(struct tb *t, bool le)
{
	struct tb b = {.le = le};

	t->le = le;
	tb_u32(&b, 0x1a2b3c4d);
	tb_u16(&b, 1);
	tb_u16(&b, 0);
	tb_u32(&b, 0xffffffff);
	tb_u32(&b, 0xffffffff);
	ng_block(t, 0x0a0d0d0a, &b);
}

/* tsresol < 0 means none; tsoff != 0 adds if_tsoffset. */
static void
ng_idb(struct tb *t, uint16_t lt, uint32_t snap, int tsresol, int64_t tsoff)
{
	struct tb b = {.le = t->le};

	tb_u16(&b, lt);
	tb_u16(&b, 0);
	tb_u32(&b, snap);
	/* A name option first, to be skipped. */
	tb_u16(&b, 2);
	tb_u16(&b, 3);
	tb_u8(&b, 'e');
	tb_u8(&b, 't');
	tb_u8(&b, 'h');
	tb_u8(&b, 0);
	if (tsresol >= 0) {
		tb_u16(&b, 9);
		tb_u16(&b, 1);
		tb_u8(&b, (uint8_t)tsresol);
		tb_fill(&b, 0, 3);
	}
	if (tsoff != 0) {
		tb_u16(&b, 14);
		tb_u16(&b, 8);
		if (t->le) {
			tb_u32(&b, (uint32_t)tsoff);
			tb_u32(&b, (uint32_t)((uint64_t)tsoff >> 32));
		} else {
			tb_u32(&b, (uint32_t)((uint64_t)tsoff >> 32));
			tb_u32(&b, (uint32_t)tsoff);
		}
	}
	tb_u32(&b, 0); /* opt_endofopt */
	ng_block(t, 1, &b);
}

static void
ng_epb(struct tb *t, uint32_t ifid, uint64_t ts, uint32_t caplen,
    uint32_t wirelen, size_t have)
{
	struct tb b = {.le = t->le};

	tb_u32(&b, ifid);
	tb_u32(&b, (uint32_t)(ts >> 32));
	tb_u32(&b, (uint32_t)ts);
	tb_u32(&b, caplen);
	tb_u32(&b, wirelen);
	tb_fill(&b, 0x60, have);
	ng_block(t, 6, &b);
}

/*
 * A timestamp past 2^32 s is returned as it is; one past 2^63 s (a huge
 * if_tsoffset) is flagged, zeroed, and the reading goes on.
 */
CL_TEST(pcapng_timestamps_out_of_range)
{
	struct tb t = {.le = true};
	struct cl_cap_pkt pkt;
	struct cl_cap *c;

	ng_shb(&t, true);
	ng_idb(&t, CL_LINKTYPE_RAW, 0, 0, 0); /* seconds */
	ng_idb(&t, CL_LINKTYPE_RAW, 0, 0, INT64_MAX);
	ng_epb(&t, 0, (UINT64_C(1) << 32) + 5, 1, 1, 1);
	ng_epb(&t, 1, 10, 1, 1, 1);
	ng_epb(&t, 0, 7, 1, 1, 1);
	CHECK_INT_EQ(cl_cap_open_mem(t.b, t.n, &c), 0);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK(pkt.ts_sec == (INT64_C(1) << 32) + 5);
	CHECK_INT_EQ(pkt.flags, 0);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.flags, CL_CAP_F_TS_INVALID);
	CHECK_INT_EQ(pkt.ts_sec, 0);
	CHECK_INT_EQ(pkt.ts_nsec, 0);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.ts_sec, 7);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 0);
	cl_cap_free(c);
}

CL_TEST(pcapng_sections_and_resolutions)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	struct tb t = {0}, b;

	/* Section 1, little-endian: Ethernet with if_tsresol 10^-3 and
	 * if_tsoffset 100 s; a custom block; an EPB; a PB. */
	ng_shb(&t, true);
	ng_idb(&t, CL_LINKTYPE_ETHERNET, 0, 3, 100);
	b = (struct tb){.le = true};
	tb_u32(&b, 32473);
	tb_fill(&b, 0xee, 5);
	ng_block(&t, 0x00000bad, &b);
	ng_epb(&t, 0, 1700000000123ull, 5, 60, 5);
	b = (struct tb){.le = true};
	tb_u16(&b, 0); /* interface */
	tb_u16(&b, 7); /* drops */
	tb_u32(&b, 0);
	tb_u32(&b, 2500);
	tb_u32(&b, 2);
	tb_u32(&b, 2);
	tb_fill(&b, 0x11, 2);
	ng_block(&t, 2, &b);
	/* Section 2, big-endian: interface ids restart; RAW with 2^-10. */
	ng_shb(&t, false);
	ng_idb(&t, CL_LINKTYPE_RAW, 4, 0x80 | 10, 0);
	ng_epb(&t, 0, (5ull << 10) | 512, 1, 1, 1);
	/* Simple Packet Block: clipped to the interface snaplen (4). */
	b = (struct tb){.le = false};
	tb_u32(&b, 9);
	tb_fill(&b, 0x22, 4);
	ng_block(&t, 3, &b);
	/* Interface 1 exists only in section 1's numbering... not here. */
	ng_epb(&t, 1, 0, 1, 1, 1);

	CHECK_INT_EQ(cl_cap_open_mem(t.b, t.n, &c), 0);
	CHECK_INT_EQ(cl_cap_format(c), CL_CAP_PCAPNG);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.linktype, CL_LINKTYPE_ETHERNET);
	CHECK_INT_EQ(pkt.ts_sec, 1700000000 + 100);
	CHECK_INT_EQ(pkt.ts_nsec, 123000000);
	CHECK_INT_EQ(pkt.caplen, 5);
	CHECK_INT_EQ(pkt.wirelen, 60);
	CHECK_INT_EQ(pkt.data[0], 0x60);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.ts_sec, 2 + 100);
	CHECK_INT_EQ(pkt.ts_nsec, 500000000);
	CHECK_INT_EQ(pkt.caplen, 2);
	CHECK_INT_EQ(pkt.data[1], 0x11);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.linktype, CL_LINKTYPE_RAW);
	CHECK_INT_EQ(pkt.ifindex, 0);
	CHECK_INT_EQ(pkt.ts_sec, 5);
	CHECK_INT_EQ(pkt.ts_nsec, 500000000);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), 1);
	CHECK_INT_EQ(pkt.caplen, 4);
	CHECK_INT_EQ(pkt.wirelen, 9);
	CHECK_INT_EQ(pkt.data[3], 0x22);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), CL_ERR_NOT_FOUND);
	CHECK_INT_EQ(cl_cap_error_offset(c), t.n - 36);
	CHECK_INT_EQ(cl_cap_next(c, &pkt), CL_ERR_NOT_FOUND);
	cl_cap_free(c);
}

CL_TEST(pcapng_truncated_everywhere)
{
	struct tb t = {0};
	size_t cut, shb, idb, e1;
	uint64_t off = 0;
	int k, r;

	ng_shb(&t, false);
	shb = t.n;
	ng_idb(&t, CL_LINKTYPE_ETHERNET, 0, -1, 0);
	idb = t.n;
	ng_epb(&t, 0, 1, 3, 3, 3);
	e1 = t.n;
	ng_epb(&t, 0, 2, 8, 8, 8);
	for (cut = 0; cut <= t.n; cut++) {
		k = count_pkts(t.b, cut, &r, &off);
		if (cut < shb) {
			CHECK_INT_EQ(k, -1);
			CHECK(r == CL_ERR_TRUNCATED);
		} else if (cut == shb || cut == idb || cut == e1 ||
		    cut == t.n) {
			CHECK_INT_EQ(r, 0);
			CHECK_INT_EQ(k, cut <= idb ? 0 : cut == e1 ? 1 : 2);
		} else {
			CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
			CHECK_INT_EQ(k, cut < e1 ? 0 : 1);
			CHECK_INT_EQ(off,
			    cut < idb      ? shb
				: cut < e1 ? idb
					   : e1);
		}
	}
}

CL_TEST(pcapng_bad_blocks)
{
	struct tb t = {0}, good = {0};
	size_t at;
	uint64_t off;
	int r;

	ng_shb(&good, true);
	ng_idb(&good, CL_LINKTYPE_ETHERNET, 0, -1, 0);
	at = good.n;
	ng_epb(&good, 0, 1, 3, 3, 3); /* 32 + 4 bytes */
	CHECK_INT_EQ(count_pkts(good.b, good.n, &r, &off), 1);
	CHECK_INT_EQ(r, 0);

	/* Length not a multiple of 4. */
	t = good;
	t.b[at + 4] = 37;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	CHECK_INT_EQ(off, at);
	/* Shorter than a block can be. */
	t = good;
	t.b[at + 4] = 8;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	/* Trailing length differs from the leading one. */
	t = good;
	t.b[t.n - 4] = 40;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	CHECK_INT_EQ(off, at);
	/* caplen larger than the block. */
	t = good;
	t.b[at + 20] = 5;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	/* caplen over the maximum. */
	t = good;
	t.b[at + 20] = 1;
	t.b[at + 22] = 0x04;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_TOOBIG);
	/* Unknown interface. */
	t = good;
	t.b[at + 8] = 1;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_NOT_FOUND);
	/* A packet before any IDB. */
	t = (struct tb){0};
	ng_shb(&t, true);
	ng_epb(&t, 0, 1, 3, 3, 3);
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_NOT_FOUND);
	/* Bad byte-order magic, bad major version, bad SHB length. */
	t = good;
	t.b[8] = 0;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), -1);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	t = good;
	t.b[12] = 2;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), -1);
	CHECK_INT_EQ(r, CL_ERR_UNSUPPORTED);
	t = good;
	t.b[4] = 24;
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), -1);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	t = good;
	t.b[4] = 0xfc; /* runs off the end */
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), -1);
	CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
	/* Option running past its block; bad if_tsresol length. */
	t = (struct tb){0};
	ng_shb(&t, true);
	ng_idb(&t, CL_LINKTYPE_ETHERNET, 0, 6, 0);
	t.b[28 + 16 + 2] = 200; /* if_name length */
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	CHECK_INT_EQ(off, 28);
	t = (struct tb){0};
	ng_shb(&t, true);
	ng_idb(&t, CL_LINKTYPE_ETHERNET, 0, 6, 0);
	t.b[28 + 16 + 8 + 2] = 2; /* if_tsresol length */
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_FORMAT);
	/* 10^-20 cannot be represented. */
	t = (struct tb){0};
	ng_shb(&t, true);
	ng_idb(&t, CL_LINKTYPE_ETHERNET, 0, 20, 0);
	CHECK_INT_EQ(count_pkts(t.b, t.n, &r, &off), 0);
	CHECK_INT_EQ(r, CL_ERR_UNSUPPORTED);
}

/* Every shared capture cut at every length must end cleanly or with an
 * error, never read out of bounds (run under ASan / valgrind). */
CL_TEST(shared_captures_cut_everywhere)
{
	static const char *const names[] = {
	    "pcapng/libtrace__complex.pcapng",
	    "pcapng/zeek__pcapng-multi-interface.pcapng",
	    "ip/npm-pcap-parser__be.pcap",
	    "ip/tcpdump__tcp-handshake-nano.pcap",
	};
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	uint8_t *p, *q;
	size_t len, cut, i;
	int r;

	for (i = 0; i < 4; i++) {
		cl_test_read_file(pcap_path(names[i]), &p, &len);
		for (cut = 0; cut <= len; cut++) {
			/* An exact-size copy so ASan sees any overrun. */
			q = malloc(cut > 0 ? cut : 1);
			CHECK(q != NULL);
			memcpy(q, p, cut);
			if (cl_cap_open_mem(q, cut, &c) == 0) {
				while ((r = cl_cap_next(c, &pkt)) == 1)
					CHECK(pkt.data + pkt.caplen <= q + cut);
				CHECK(r <= 0);
				cl_cap_free(c);
			}
			free(q);
		}
		free(p);
	}
}

int
main(void)
{
	CL_RUN(shared_captures_read_to_end);
	CL_RUN(not_a_capture_rejected_at_open);
	CL_RUN(pcapng_named_pcap_detected);
	CL_RUN(nanosecond_timestamps);
	CL_RUN(big_endian_timestamps);
	CL_RUN(pcapng_multi_interface);
	CL_RUN(pcapng_per_packet_linktypes);
	CL_RUN(open_file_errors);
	CL_RUN(open_errors_say_why);
	CL_RUN(pcapng_timestamps_out_of_range);
	CL_RUN(pcap_byte_orders_and_resolutions);
	CL_RUN(pcap_truncated_everywhere);
	CL_RUN(pcap_bad_headers_and_records);
	CL_RUN(pcapng_sections_and_resolutions);
	CL_RUN(pcapng_truncated_everywhere);
	CL_RUN(pcapng_bad_blocks);
	CL_RUN(shared_captures_cut_everywhere);
	return cl_test_done();
}
