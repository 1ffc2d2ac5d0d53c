/* SPDX-License-Identifier: ISC */
/*
 * Tests of clearli-lemf's receive state (lemf/recv.c) and output
 * (lemf/out.c): gaps, exact / conflicting / unverifiable duplicates,
 * integrity verification (good, covered PDU missing, PDU altered, bad
 * signature, no key), JSON escaping, rebuilding the state from pdus.jsonl
 * (with a torn last line) and appending to pcap files (with a torn last
 * record).
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"
#include "harness.h"
#include "json.h"
#include "psdu.h"
#include "psdu_dec.h"
/* poi/ has an out.h too: name ours by path. */
#include "../../../lemf/out.h"
#include "../../../lemf/recv.h"

static const struct timespec RX = {1800000000, 250000000};

struct gen {
	struct cl_psheader h;
	struct cl_buf *b;
};

static void
gen_init(struct gen *g, const uint8_t *liid, size_t liid_len, uint32_t cin)
{
	struct cl_psh_ids ids = {
	    .liid = liid,
	    .liid_len = liid_len,
	    .operator_id = (const uint8_t *)"op",
	    .operator_id_len = 2,
	    .cin = cin,
	};

	CHECK_INT_EQ(cl_psheader_init(&g->h, &ids), 0);
	g->h.sec = 1700000000;
	g->h.usec = 42;
	CHECK((g->b = cl_buf_new(1u << 20)) != NULL);
}

static void
sha(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;

	CHECK(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1);
}

/* A CC PDU with sequence number seq whose packet says what. */
static void
cc(struct gen *g, uint32_t seq, const char *what, struct cl_psdu_info *in,
    uint8_t hash[32])
{
	const char *why;
	size_t used;

	cl_buf_reset(g->b);
	g->h.seq = seq;
	CHECK_INT_EQ(cl_psdu_hi3_ipcc(g->b, &g->h, (const uint8_t *)what,
			 strlen(what), CL_PSDU_DIR_FROM_TARGET),
	    0);
	CHECK_INT_EQ(cl_psdu_decode(g->b->d, g->b->len, in, &used, &why), 0);
	sha(g->b->d, g->b->len, hash);
}

static enum lemf_verdict
feed(struct lemf_recv *rv, struct gen *g, uint32_t seq, const char *what,
    struct lemf_result *res)
{
	struct cl_psdu_info in;
	uint8_t h[32];

	cc(g, seq, what, &in, h);
	CHECK_INT_EQ(lemf_recv_pdu(rv, &in, h, res), 0);
	return res->verdict;
}

CL_TEST(sequence_gap_duplicates)
{
	struct lemf_recv *rv;
	struct lemf_result res;
	struct gen g, g2;
	const struct lemf_counts *c;

	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	c = lemf_recv_counts(rv);
	gen_init(&g, (const uint8_t *)"L1", 2, 7);
	gen_init(&g2, (const uint8_t *)"L1", 2, 8); /* other CIN */
	CHECK_INT_EQ(feed(rv, &g, 0, "p0", &res), LEMF_NEW);
	CHECK_INT_EQ(feed(rv, &g, 1, "p1", &res), LEMF_NEW);
	CHECK_INT_EQ(feed(rv, &g, 2, "p2", &res), LEMF_NEW);
	/* 3 and 4 lost */
	CHECK_INT_EQ(feed(rv, &g, 5, "p5", &res), LEMF_GAP);
	CHECK_INT_EQ(res.expected, 3);
	CHECK_INT_EQ(feed(rv, &g, 6, "p6", &res), LEMF_NEW);
	/* a stream of its own */
	CHECK_INT_EQ(feed(rv, &g2, 0, "q0", &res), LEMF_NEW);
	CHECK_INT_EQ(feed(rv, &g2, 1, "q1", &res), LEMF_NEW);
	/* exact repeat, conflicting repeat, number skipped by the gap */
	CHECK_INT_EQ(feed(rv, &g, 1, "p1", &res), LEMF_DUP);
	CHECK_INT_EQ(feed(rv, &g, 2, "XX", &res), LEMF_CONFLICT);
	CHECK(res.has_stored);
	CHECK_INT_EQ(feed(rv, &g, 3, "p3", &res), LEMF_DUP_UNVERIFIED);
	CHECK_INT_EQ(
	    lemf_recv_next(rv, LEMF_KIND_CC, (const uint8_t *)"L1", 2, 7), 7);
	CHECK_INT_EQ(
	    lemf_recv_next(rv, LEMF_KIND_IRI, (const uint8_t *)"L1", 2, 7), -1);
	CHECK_INT_EQ(c->pdus, 7);
	CHECK_INT_EQ(c->cc, 7);
	CHECK_INT_EQ(c->gaps, 1);
	CHECK_INT_EQ(c->duplicates, 1);
	CHECK_INT_EQ(c->conflicts, 1);
	CHECK_INT_EQ(c->dup_unverified, 1);
	CHECK_INT_EQ(lemf_recv_nstreams(rv), 2);
	lemf_recv_free(rv);
	cl_buf_free(g.b);
	cl_buf_free(g2.b);
}

/* With a budget of 16 hash slots the ring wraps: old repeats cannot be
 * compared any more and are reported as unverified, never as new. */
CL_TEST(bounded_hashes)
{
	struct lemf_recv *rv;
	struct lemf_result res;
	struct gen g;
	char what[16];
	uint32_t i;

	CHECK_INT_EQ(lemf_recv_new(NULL, 16, &rv), 0);
	gen_init(&g, (const uint8_t *)"L", 1, 1);
	for (i = 0; i < 100; i++) {
		snprintf(what, sizeof(what), "p%u", i);
		CHECK_INT_EQ(feed(rv, &g, i, what, &res), LEMF_NEW);
	}
	CHECK_INT_EQ(feed(rv, &g, 99, "p99", &res), LEMF_DUP);
	CHECK_INT_EQ(feed(rv, &g, 84, "p84", &res), LEMF_DUP);
	CHECK_INT_EQ(feed(rv, &g, 83, "p83", &res), LEMF_DUP_UNVERIFIED);
	CHECK_INT_EQ(feed(rv, &g, 0, "p0", &res), LEMF_DUP_UNVERIFIED);
	/* a gap far beyond the window */
	CHECK_INT_EQ(feed(rv, &g, 1000000, "big", &res), LEMF_GAP);
	CHECK_INT_EQ(feed(rv, &g, 1000000, "big", &res), LEMF_DUP);
	CHECK_INT_EQ(feed(rv, &g, 99, "p99", &res), LEMF_DUP_UNVERIFIED);
	lemf_recv_free(rv);
	cl_buf_free(g.b);
}

static EVP_PKEY *
keygen(void)
{
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *k = NULL;

	CHECK(kc != NULL);
	CHECK(EVP_PKEY_keygen_init(kc) == 1);
	CHECK(EVP_PKEY_keygen(kc, &k) == 1);
	EVP_PKEY_CTX_free(kc);
	return k;
}

/* The MDF's side: sign the concatenated SHA-256 of the covered PDUs. */
static void
sign(EVP_PKEY *k, const uint8_t *hashes, size_t n, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = 64;

	CHECK(md != NULL);
	CHECK(EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1);
	CHECK(EVP_DigestSign(md, sig, &len, hashes, n * 32) == 1);
	CHECK_INT_EQ(len, 64);
	EVP_MD_CTX_free(md);
}

static struct lemf_result
integrity(struct lemf_recv *rv, struct gen *g, uint32_t seq,
    const uint32_t *seqs, size_t n, const uint8_t sig[64])
{
	struct cl_psdu_icheck ic = {seqs, n, CL_PSDU_CHECK_SIGNATURE,
	    CL_PSDU_DATA_CC, sig, 64, CL_PSDU_HASH_SHA256, CL_PSDU_SIG_EDDSA};
	struct cl_psdu_info in;
	struct lemf_result res;
	const char *why;
	uint8_t h[32];
	size_t used;

	cl_buf_reset(g->b);
	g->h.seq = seq;
	CHECK_INT_EQ(cl_psdu_integrity(g->b, &g->h, &ic), 0);
	CHECK_INT_EQ(cl_psdu_decode(g->b->d, g->b->len, &in, &used, &why), 0);
	sha(g->b->d, g->b->len, h);
	CHECK_INT_EQ(lemf_recv_pdu(rv, &in, h, &res), 0);
	CHECK_INT_EQ(res.kind, LEMF_KIND_INTEGRITY);
	return res;
}

CL_TEST(integrity_verification)
{
	EVP_PKEY *k = keygen(), *other = keygen();
	struct lemf_recv *rv, *nokey;
	struct lemf_result res;
	struct cl_psdu_info in;
	struct gen g;
	uint8_t hashes[4 * 32], sig[64], bad[64];
	uint32_t seqs[4] = {0, 1, 2, 3}, missing[2] = {3, 9};
	const struct lemf_counts *c;
	static const char *pk[4] = {"a", "bb", "ccc", "dddd"};
	uint32_t i;

	CHECK_INT_EQ(lemf_recv_new(k, 0, &rv), 0);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &nokey), 0);
	c = lemf_recv_counts(rv);
	gen_init(&g, (const uint8_t *)"L-int", 5, 3);
	for (i = 0; i < 4; i++) {
		cc(&g, i, pk[i], &in, hashes + 32 * i);
		CHECK_INT_EQ(lemf_recv_pdu(rv, &in, hashes + 32 * i, &res), 0);
		CHECK_INT_EQ(
		    lemf_recv_pdu(nokey, &in, hashes + 32 * i, &res), 0);
	}
	sign(k, hashes, 4, sig);
	res = integrity(rv, &g, 0, seqs, 4, sig);
	CHECK_INT_EQ(res.verified, 1);
	res = integrity(nokey, &g, 0, seqs, 4, sig);
	CHECK_INT_EQ(res.verified, -1);
	/* the same integrity PDU again is a duplicate, not verified twice */
	res = integrity(rv, &g, 0, seqs, 4, sig);
	CHECK_INT_EQ(res.verdict, LEMF_DUP);
	CHECK_INT_EQ(c->integrity_ok, 1);

	/* In another order: the signed data is different. */
	seqs[0] = 1;
	seqs[1] = 0;
	res = integrity(rv, &g, 1, seqs, 4, sig);
	CHECK_INT_EQ(res.verified, 0);
	CHECK(strstr(res.why, "bad signature") != NULL);
	seqs[0] = 0;
	seqs[1] = 1;

	/* Signed by another key. */
	sign(other, hashes, 4, bad);
	res = integrity(rv, &g, 2, seqs, 4, bad);
	CHECK_INT_EQ(res.verified, 0);
	CHECK(strstr(res.why, "bad signature") != NULL);

	/* A covered PDU never received. */
	sign(k, hashes, 2, sig);
	res = integrity(rv, &g, 3, missing, 2, sig);
	CHECK_INT_EQ(res.verified, 0);
	CHECK(strstr(res.why, "seq 9 was never received") != NULL);

	/* A covered PDU altered in transit: the receiver got other bytes
	 * for seq 4 than the MDF signed. */
	cc(&g, 4, "original", &in, hashes);
	sign(k, hashes, 1, sig);
	cc(&g, 4, "altered!", &in, hashes + 32);
	CHECK_INT_EQ(lemf_recv_pdu(rv, &in, hashes + 32, &res), 0);
	seqs[0] = 4;
	res = integrity(rv, &g, 4, seqs, 1, sig);
	CHECK_INT_EQ(res.verified, 0);
	CHECK(strstr(res.why, "bad signature") != NULL);

	/* A wrong algorithm is a failure, not a pass. */
	{
		struct cl_psdu_icheck ic = {seqs, 1, CL_PSDU_CHECK_HASH,
		    CL_PSDU_DATA_CC, sig, 64, CL_PSDU_HASH_SHA256, -1};
		const char *why;
		uint8_t h[32];
		size_t used;

		cl_buf_reset(g.b);
		g.h.seq = 5;
		CHECK_INT_EQ(cl_psdu_integrity(g.b, &g.h, &ic), 0);
		CHECK_INT_EQ(
		    cl_psdu_decode(g.b->d, g.b->len, &in, &used, &why), 0);
		sha(g.b->d, g.b->len, h);
		CHECK_INT_EQ(lemf_recv_pdu(rv, &in, h, &res), 0);
		CHECK_INT_EQ(res.verified, 0);
		CHECK(strstr(res.why, "unsupported") != NULL);
	}
	CHECK_INT_EQ(c->integrity_ok, 1);
	CHECK_INT_EQ(c->integrity_failed, 5);
	CHECK_INT_EQ(c->integrity, 6);
	lemf_recv_free(rv);
	lemf_recv_free(nokey);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	cl_buf_free(g.b);
}

static void
esc(const char *in, size_t n, const char *want)
{
	struct cl_buf *b = cl_buf_new(1024);

	CHECK_INT_EQ(lemf_json_escape(b, (const uint8_t *)in, n), 0);
	CHECK_INT_EQ(cl_buf_put_u8(b, 0), 0);
	CHECK_STR_EQ((const char *)b->d, want);
	cl_buf_free(b);
}

CL_TEST(json_escaping)
{
	esc("plain", 5, "plain");
	esc("a\"b\\c", 5, "a\\\"b\\\\c");
	esc("\n\x01\x1f\x7f", 4, "\\u000a\\u0001\\u001f\\u007f");
	esc("nul\0x", 5, "nul\\u0000x");
	esc("caf\xc3\xa9", 5, "caf\xc3\xa9");           /* valid UTF-8 */
	esc("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"); /* U+1F600 */
	esc("\xff", 1, "\\u00ff");
	esc("x\xc3", 2, "x\\u00c3");                     /* cut sequence */
	esc("\xc0\x80", 2, "\\u00c0\\u0080");            /* overlong NUL */
	esc("\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080"); /* surrogate */
	esc("\xf4\x90\x80\x80", 4, "\\u00f4\\u0090\\u0080\\u0080");
}

struct tmpdir {
	char path[64];
};

static void
tmp_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/clearli-lemf-test.XXXXXX");
	CHECK(mkdtemp(t->path) != NULL);
}

static void
tmp_remove(struct tmpdir *t)
{
	struct dirent *de;
	char p[512];
	DIR *d = opendir(t->path);

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == 0 ||
			(de->d_name[1] == '.' && de->d_name[2] == 0)))
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->path, de->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(t->path);
}

static void
append_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK((f = fopen(path, "ab")) != NULL);
	CHECK_INT_EQ(fwrite(p, 1, n, f), n);
	CHECK_INT_EQ(fclose(f), 0);
}

/* Accepts and writes a CC PDU the way the daemon does. */
static void
accept_write(struct lemf_recv *rv, struct lemf_out *o, struct gen *g,
    uint32_t seq, const char *what, enum lemf_verdict want)
{
	struct cl_psdu_info in;
	struct lemf_result res;
	uint8_t h[32];

	cc(g, seq, what, &in, h);
	CHECK_INT_EQ(lemf_recv_pdu(rv, &in, h, &res), 0);
	CHECK_INT_EQ(res.verdict, want);
	if (res.verdict == LEMF_GAP)
		CHECK_INT_EQ(lemf_out_gap(o, &in, &res, &RX), 0);
	if (res.verdict == LEMF_NEW || res.verdict == LEMF_GAP)
		CHECK_INT_EQ(lemf_out_pdu(o, &in, h, &res, &RX), 0);
	if (res.verdict == LEMF_CONFLICT)
		CHECK_INT_EQ(lemf_out_conflict(o, &in, h, &res, &RX), 0);
}

static size_t
read_path(const char *dir, const char *name, uint8_t **out)
{
	char path[512];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cl_test_read_file(path, out, &n);
	if (*out == NULL || n == 0) {
		/* Every caller needs the file: nothing to check without it. */
		fprintf(stderr, "%s: missing or empty\n", path);
		abort();
	}
	return n;
}

/* memmem() with a haystack the compiler cannot prove non-null. */
static bool
has(const uint8_t *h, size_t n, const char *s, size_t k)
{
	return h != NULL && memmem(h, n, s, k) != NULL;
}

/* A weird LIID: quote, backslash, control and non-UTF-8 octets. */
static const uint8_t ODD[] = {'L', '"', '\\', 0x01, 0xff, '/', 'x', 0xc3};

CL_TEST(restart_rebuild)
{
	struct tmpdir t;
	struct lemf_recv *rv;
	struct lemf_out *o;
	struct gen g, odd;
	char err[256];
	uint8_t *j;
	size_t n;
	const struct lemf_restore_stats *rs;

	tmp_make(&t);
	gen_init(&g, (const uint8_t *)"L1", 2, 7);
	gen_init(&odd, ODD, sizeof(ODD), 4294967295u);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	accept_write(rv, o, &g, 0, "p0", LEMF_NEW);
	accept_write(rv, o, &g, 1, "p1", LEMF_NEW);
	accept_write(rv, o, &g, 3, "p3", LEMF_GAP);
	accept_write(rv, o, &odd, 0, "o0", LEMF_NEW);
	accept_write(rv, o, &odd, 0, "zz", LEMF_CONFLICT);
	{
		/* An IRI line carries "access_event", never "event" (which
		 * marks event lines and is skipped at restart). */
		struct cl_psdu_ipiri iri;
		struct cl_psdu_info in;
		struct lemf_result res;
		const char *why;
		uint8_t h[32];
		size_t used;

		cl_psdu_ipiri_init(&iri);
		iri.access_event = 4;
		iri.access_type = 1;
		iri.ip_version = 1;
		cl_buf_reset(g.b);
		g.h.seq = 0;
		CHECK_INT_EQ(cl_psdu_hi2_ipiri(g.b, &g.h, 1, &iri), 0);
		CHECK_INT_EQ(
		    cl_psdu_decode(g.b->d, g.b->len, &in, &used, &why), 0);
		sha(g.b->d, g.b->len, h);
		CHECK_INT_EQ(lemf_recv_pdu(rv, &in, h, &res), 0);
		CHECK_INT_EQ(lemf_out_pdu(o, &in, h, &res, &RX), 0);
	}
	CHECK_INT_EQ(lemf_out_bad(o, "127.0.0.1:9", 77, CL_ERR_FORMAT,
			 "why \"quoted\"", &RX),
	    0);
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);

	/* 4 PDU lines, a gap, a conflict and a bad-pdu event. */
	n = read_path(t.path, "pdus.jsonl", &j);
	CHECK(n > 0 && j[n - 1] == '\n');
	CHECK(has(j, n, "{\"event\":\"gap\"", 14));
	CHECK(has(j, n, "\"expected\":2,\"got\":3", 20));
	CHECK(has(j, n, "{\"event\":\"conflict\"", 19));
	CHECK(has(j, n, "\"access_event\":\"sessionStart\"", 29));
	CHECK(has(j, n, "\"liid\":\"L\\\"\\\\\\u0001\\u00ff/x\\u00c3\"", 34));
	CHECK(has(j, n, "\"time\":\"2023-11-14T22:13:20.000042Z\"", 36));
	CHECK(has(j, n, "\"rx\":\"2027-01-15T08:00:00.250000Z\"", 34));
	free(j);

	/* A crash in the middle of a line. */
	append_file(
	    t.path, "pdus.jsonl", "{\"kind\":\"cc\",\"liid\":\"L1\",\"ci", 29);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	rs = lemf_out_restored(o);
	CHECK_INT_EQ(rs->pdus, 5);
	CHECK_INT_EQ(rs->lines, 8);
	CHECK_INT_EQ(rs->bad_lines, 0);
	CHECK_INT_EQ(rs->cut_bytes, 29);
	CHECK_INT_EQ(
	    lemf_recv_next(rv, LEMF_KIND_CC, (const uint8_t *)"L1", 2, 7), 4);
	CHECK_INT_EQ(
	    lemf_recv_next(rv, LEMF_KIND_CC, ODD, sizeof(ODD), 4294967295u), 1);
	CHECK_INT_EQ(
	    lemf_recv_next(rv, LEMF_KIND_IRI, (const uint8_t *)"L1", 2, 7), 1);
	/* no false gap, repeats recognised by the restored hashes */
	accept_write(rv, o, &g, 4, "p4", LEMF_NEW);
	accept_write(rv, o, &g, 1, "p1", LEMF_DUP);
	accept_write(rv, o, &g, 0, "other", LEMF_CONFLICT);
	accept_write(rv, o, &g, 2, "p2", LEMF_DUP_UNVERIFIED);
	accept_write(rv, o, &odd, 0, "o0", LEMF_DUP);
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);

	n = read_path(t.path, "pdus.jsonl", &j);
	CHECK(j[n - 1] == '\n');
	CHECK(!has(j, n, "\"ci\n", 4)); /* the torn line is gone */
	free(j);

	/* An unreadable line in the middle is reported and skipped. */
	append_file(t.path, "pdus.jsonl", "not json\n", 9);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	CHECK_INT_EQ(lemf_out_restored(o)->bad_lines, 1);
	CHECK_INT_EQ(lemf_out_restored(o)->pdus, 6);
	CHECK_INT_EQ(
	    lemf_recv_next(rv, LEMF_KIND_CC, (const uint8_t *)"L1", 2, 7), 5);
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);
	cl_buf_free(g.b);
	cl_buf_free(odd.b);
	tmp_remove(&t);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Checks the pcap file holds exactly the packets in want[]. */
static void
check_pcap(const char *dir, const char *name, const char *const *want, size_t n)
{
	uint8_t *p;
	size_t len = read_path(dir, name, &p), off = 24, i;

	CHECK(len >= 24);
	CHECK_INT_EQ(le32(p), 0xa1b2c3d4);
	CHECK_INT_EQ(le32(p + 20), 101);
	for (i = 0; i < n; i++) {
		size_t k = strlen(want[i]);

		CHECK(off + 16 + k <= len);
		CHECK_INT_EQ(le32(p + off), 1700000000); /* msts */
		CHECK_INT_EQ(le32(p + off + 4), 42);
		CHECK_INT_EQ(le32(p + off + 8), k);
		CHECK_INT_EQ(le32(p + off + 12), k);
		CHECK_MEM_EQ(p + off + 16, want[i], k);
		off += 16 + k;
	}
	CHECK_INT_EQ(off, len);
	free(p);
}

static bool
has_str(const struct cl_buf *b, const char *s)
{
	return has(b->d, b->len, s, strlen(s));
}

/* Numbers and times as the JSON line writes them, at their limits, and
 * the time cache with more than two distinct seconds in turn. */
CL_TEST(json_numbers_times)
{
	static const struct {
		struct timespec rx;
		const char *want;
	} t[] = {
	    {{253402300799, 999999000},
		"\"rx\":\"9999-12-31T23:59:59.999999Z\""},
	    {{0, 0}, "\"rx\":\"1970-01-01T00:00:00.000000Z\""},
	    {{951782400, 7000}, "\"rx\":\"2000-02-29T00:00:00.000007Z\""},
	    {{253402300799, 1000}, "\"rx\":\"9999-12-31T23:59:59.000001Z\""},
	    {{0, 999999999}, "\"rx\":\"1970-01-01T00:00:00.999999Z\""},
	    {{253402300800, 0}, "\"rx\":null"},
	};
	struct gen g;
	struct cl_psdu_info in;
	struct cl_buf *b;
	uint8_t h[32];
	size_t i;

	gen_init(&g, (const uint8_t *)"L", 1, 4294967295u);
	g.h.sec = 0;
	g.h.usec = 0;
	cc(&g, 4294967295u, "pkt", &in, h);
	CHECK((b = cl_buf_new(1u << 16)) != NULL);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cl_buf_reset(b);
		CHECK_INT_EQ(
		    lemf_json_pdu(b, &in, h, NULL, false, &t[i].rx), 0);
		CHECK(has_str(b, t[i].want));
		CHECK(has_str(b, "\"time\":\"1970-01-01T00:00:00.000000Z\""));
		CHECK(has_str(b, "\"cin\":4294967295,"));
		CHECK(has_str(b, "\"seq\":4294967295,"));
		CHECK(has_str(b, "\"ip_len\":3}"));
	}
	g.h.seq = 0;
	cc(&g, 0, "x", &in, h);
	cl_buf_reset(b);
	CHECK_INT_EQ(lemf_json_pdu(b, &in, h, NULL, false, &RX), 0);
	CHECK(has_str(b, "\"seq\":0,"));
	CHECK(has_str(b, "\"ip_len\":1}"));
	cl_buf_free(b);
	cl_buf_free(g.b);
}

/* More LIIDs than files kept open (the fd limit lowered to get 16):
 * files are closed and opened again, records buffered for each reach
 * the right file in order, whether flushed, synced or closed. */
CL_TEST(pcap_many_liids)
{
	static const char *const pk[] = {
	    "\x45-one", "\x45-two", "\x45-three", "\x45-four"};
	enum { NL = 40 };
	struct tmpdir t;
	struct lemf_recv *rv;
	struct lemf_out *o;
	struct gen g[NL];
	struct rlimit rl, low;
	char err[256], liid[16], name[128];
	int i, round;

	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	low = rl;
	low.rlim_cur = 64;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	tmp_make(&t);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	for (i = 0; i < NL; i++) {
		snprintf(liid, sizeof(liid), "M%02d", i);
		gen_init(&g[i], (const uint8_t *)liid, strlen(liid), 1);
	}
	for (round = 0; round < 4; round++) {
		for (i = 0; i < NL; i++)
			accept_write(rv, o, &g[(i * 7 + round) % NL],
			    (uint32_t)round, pk[round], LEMF_NEW);
		if (round == 1) {
			/* every buffered record is in its file now */
			CHECK_INT_EQ(lemf_out_flush(o), 0);
			for (i = 0; i < NL; i++) {
				snprintf(
				    name, sizeof(name), "cc-M%02d.pcap", i);
				check_pcap(t.path, name, pk, 2);
			}
		}
		if (round == 2)
			CHECK_INT_EQ(lemf_out_sync(o), 0);
	}
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);
	for (i = 0; i < NL; i++) {
		snprintf(name, sizeof(name), "cc-M%02d.pcap", i);
		check_pcap(t.path, name, pk, 4);
		cl_buf_free(g[i].b);
	}
	tmp_remove(&t);
}

CL_TEST(pcap_append)
{
	static const char *const pk[] = {
	    "\x45-one", "\x45-two", "\x45-three", "\x45-four"};
	struct tmpdir t;
	struct lemf_recv *rv;
	struct lemf_out *o;
	struct gen g, odd;
	char err[256], name[128];

	tmp_make(&t);
	gen_init(&g, (const uint8_t *)"A.b_c-9", 7, 1);
	gen_init(&odd, ODD, sizeof(ODD), 1);
	lemf_pcap_name(ODD, sizeof(ODD), name, sizeof(name));
	CHECK_STR_EQ(name, "cc-L%22%5C%01%FF%2Fx%C3.pcap");
	lemf_pcap_name((const uint8_t *)"..", 2, name, sizeof(name));
	CHECK_STR_EQ(name, "cc-...pcap");

	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	accept_write(rv, o, &g, 0, pk[0], LEMF_NEW);
	accept_write(rv, o, &odd, 0, pk[0], LEMF_NEW);
	accept_write(rv, o, &g, 1, pk[1], LEMF_NEW);
	CHECK_INT_EQ(lemf_out_sync(o), 0);
	check_pcap(t.path, "cc-A.b_c-9.pcap", pk, 2);
	check_pcap(t.path, "cc-L%22%5C%01%FF%2Fx%C3.pcap", pk, 1);
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);

	/* A crash in the middle of a record: cut, then appended to. */
	append_file(t.path, "cc-A.b_c-9.pcap", "\x01\x02\x03\x04\x05\x06", 6);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	accept_write(rv, o, &g, 2, pk[2], LEMF_NEW);
	accept_write(rv, o, &g, 3, pk[3], LEMF_NEW);
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);
	check_pcap(t.path, "cc-A.b_c-9.pcap", pk, 4);

	/* A file that is not ours is moved aside, not appended to. */
	append_file(
	    t.path, "cc-new.pcap", "garbage that is not a pcap header", 33);
	cl_buf_free(odd.b);
	gen_init(&odd, (const uint8_t *)"new", 3, 1);
	CHECK_INT_EQ(lemf_recv_new(NULL, 0, &rv), 0);
	CHECK_INT_EQ(lemf_out_open(t.path, rv, &o, err, sizeof(err)), 0);
	accept_write(rv, o, &odd, 0, pk[0], LEMF_NEW);
	CHECK_INT_EQ(lemf_out_close(o), 0);
	lemf_recv_free(rv);
	check_pcap(t.path, "cc-new.pcap", pk, 1);
	cl_buf_free(g.b);
	cl_buf_free(odd.b);
	tmp_remove(&t);
}

static int
jline_one(void *arg)
{
	const char *s = arg;
	char err[CL_JSON_ERR_MAX];
	struct lemf_jline l;
	int r;

	if ((r = lemf_jline_parse(
		 (const uint8_t *)s, strlen(s), &l, err, sizeof(err))) != 0)
		return r;
	if (l.kind != LEMF_KIND_IRI || l.liid_len != 3 ||
	    memcmp(l.liid, "L\xff\x01", 3) != 0 || l.cin != 4294967295u ||
	    l.seq != 2 || !l.has_hash || l.hash[31] != 0xef)
		return CL_ERR_INTERNAL;
	return 0;
}

CL_TEST(jline_read)
{
	static const char H[] = "\"0123456789abcdef0123456789abcdef"
				"0123456789abcdef0123456789ABCDEF\"";
	char line[1024], err[CL_JSON_ERR_MAX], *deep;
	struct lemf_jline l;
	size_t n;

	/* What the writer writes, with a LIID that is not clean UTF-8 and a
	 * counter past 2^63 (read, not refused). */
	snprintf(line, sizeof(line),
	    "{\"kind\":\"iri\",\"liid\":\"L\\u00ff\\u0001\","
	    "\"liid_hex\":\"4cff01\",\"cin\":4294967295,\"seq\":2,"
	    "\"time\":null,\"sha256\":%s,\"octets_rx\":18446744073709551615,"
	    "\"x\":[[1],{\"y\":true}]}",
	    H);
	CHECK_INT_EQ(jline_one(line), 0);
	CHECK(cl_test_alloc_loop("lemf_jline_parse", jline_one, line) > 1);
	/* An event line is marked, whatever else it holds. */
	CHECK_INT_EQ(lemf_jline_parse((const uint8_t *)"{\"event\":\"gap\","
						       "\"missing\":1}",
			 27, &l, err, sizeof(err)),
	    0);
	CHECK(l.event && l.kind == -1 && !l.has_liid);
	/* Refused, each with its cause. */
	static const struct {
		const char *line, *why;
	} bad[] = {
	    {"{\"kind\":\"cc\",\"cin\":1,\"cin\":2}", "duplicate"},
	    {"{\"kind\":3}", "\"kind\""},
	    {"{\"liid\":\"\"}", "\"liid\""},
	    {"{\"liid\":\"12345678901234567890123456\"}", "\"liid\""},
	    {"{\"liid_hex\":\"4c0\"}", "\"liid_hex\""},
	    {"{\"cin\":4294967296}", "\"cin\""},
	    {"{\"seq\":-1}", "\"seq\""},
	    {"{\"seq\":1.0}", "\"seq\""},
	    {"{\"sha256\":\"00\"}", "\"sha256\""},
	    {"[1]", "not an object"},
	    {"{\"kind\":\"cc\",\"liid\":\"L1\",\"ci", "line 1, column"},
	};
	for (n = 0; n < sizeof(bad) / sizeof(bad[0]); n++) {
		if (lemf_jline_parse((const uint8_t *)bad[n].line,
			strlen(bad[n].line), &l, err, sizeof(err)) == 0 ||
		    strstr(err, bad[n].why) == NULL)
			cl_test_fail(
			    __FILE__, __LINE__, "%s: \"%s\"", bad[n].line, err);
	}
	/* 100000 brackets: refused by the limit, not by the stack. */
	n = 100000;
	CHECK((deep = malloc(n + 8)) != NULL);
	memcpy(deep, "{\"x\":", 5);
	memset(deep + 5, '[', n);
	CHECK(lemf_jline_parse((const uint8_t *)deep, n + 5, &l, err,
		  sizeof(err)) == CL_ERR_TOOBIG);
	CHECK(strstr(err, "nested deeper than") != NULL);
	free(deep);
}

int
main(void)
{
	CL_RUN(sequence_gap_duplicates);
	CL_RUN(bounded_hashes);
	CL_RUN(integrity_verification);
	CL_RUN(json_escaping);
	CL_RUN(restart_rebuild);
	CL_RUN(jline_read);
	CL_RUN(json_numbers_times);
	CL_RUN(pcap_append);
	CL_RUN(pcap_many_liids);
	return cl_test_done();
}
