/* SPDX-License-Identifier: ISC */
/*
 * Tests for lib/spool: append, read back, reopen; crash recovery (a tear
 * at every byte of the last records, flipped bytes in the last and in an
 * older segment); cursors saved across reopen; release; a full spool; the
 * fsync policies' contract; and a child killed with SIGKILL while it
 * appends with fsync on every record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "loop.h"
#include "spool.h"

#define SEG64K (64u * 1024)

static char tdir[300];

/* A fresh empty directory path (the spool creates it). */
static const char *
newdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[256];

	snprintf(tmpl, sizeof(tmpl), "%s/spool-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpl) == NULL)
		cl_test_fail(
		    __FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	snprintf(tdir, sizeof(tdir), "%s/sp", tmpl);
	return tdir;
}

static void
rmdir_all(const char *dir)
{
	char path[512], parent[300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	if (strrchr(parent, '/') != NULL)
		*strrchr(parent, '/') = '\0';
	rmdir(parent);
}

static const char *
segpath(const char *dir, uint64_t no)
{
	static char p[512];

	snprintf(
	    p, sizeof(p), "%s/seg-%016llx.spool", dir, (unsigned long long)no);
	return p;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Deterministic payload of record seq: length and bytes derive from it. */
static size_t
payload(uint64_t seq, uint8_t *p, size_t max)
{
	size_t n = (size_t)((seq * 37) % 200), i;

	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seq * 7 + i);
	return n;
}

static void
append_n(struct cl_spool *sp, uint64_t n)
{
	uint8_t buf[256];
	uint64_t seq, i, want;
	size_t len;

	for (i = 0; i < n; i++) {
		want = cl_spool_next_seq(sp);
		len = payload(want, buf, sizeof(buf));
		CHECK_INT_EQ(cl_spool_append(
				 sp, (uint16_t)(want & 0xffff), buf, len, &seq),
		    0);
		CHECK_INT_EQ(seq, want);
	}
}

/* Reads from cur and checks records from..to (inclusive), then the end. */
static void
expect_records(struct cl_spool_cursor *cur, uint64_t from, uint64_t to)
{
	struct cl_spool_rec rec;
	uint8_t buf[256];
	uint64_t s;
	size_t len;

	for (s = from; s <= to; s++) {
		CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
		CHECK_INT_EQ(rec.seq, s);
		CHECK_INT_EQ(rec.type, s & 0xffff);
		len = payload(s, buf, sizeof(buf));
		CHECK_INT_EQ(rec.payload.len, len);
		CHECK_MEM_EQ(rec.payload.p, buf, len);
	}
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), CL_ERR_AGAIN);
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	uint8_t *p;

	cl_test_read_file(path, &p, len);
	return p;
}

static void
write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK(len == 0 || write(fd, p, len) == (ssize_t)len);
	close(fd);
}

static struct cl_spool_opts
small_opts(void)
{
	struct cl_spool_opts o;

	memset(&o, 0, sizeof(o));
	o.seg_max = SEG64K;
	o.rec_max = 4096;
	o.fsync = CL_SPOOL_FSYNC_ALWAYS;
	return o;
}

/* Offsets of each record in a segment image (from its header). */
static size_t
record_offsets(const uint8_t *p, size_t len, size_t *offs, size_t max)
{
	size_t off = CL_SPOOL_SEG_HDR_LEN, n = 0;

	while (off + CL_SPOOL_REC_HDR_LEN <= len && n < max) {
		offs[n++] = off;
		off += CL_SPOOL_REC_HDR_LEN + cl_load_u32(p + off);
	}
	CHECK_INT_EQ(off, len);
	return n;
}

CL_TEST(crc32c_check_value)
{
	/* The CRC-32C check value for "123456789" (RFC 3720, B.4 /
	 * the CRC catalogue). */
	CHECK_INT_EQ(cl_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_INT_EQ(cl_crc32c(0, "", 0), 0);
	/* Incremental use gives the same result. */
	CHECK_INT_EQ(
	    cl_crc32c(cl_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
	/* 32 zero bytes: RFC 3720 B.4 gives 0x8a9136aa. */
	{
		uint8_t z[32] = {0};

		CHECK_INT_EQ(cl_crc32c(0, z, sizeof(z)), 0x8a9136aau);
		CHECK_INT_EQ(cl_crc32c_portable(0, z, sizeof(z)), 0x8a9136aau);
	}
	CHECK_INT_EQ(cl_crc32c_portable(0, "123456789", 9), 0xe3069283u);
}

/* Bit by bit, straight from the polynomial. */
static uint32_t
crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

/* The CPU's instruction (where used) and the tables agree with the
 * definition at every length and alignment, whole and in two parts. */
CL_TEST(crc32c_implementations)
{
	uint8_t buf[300];
	size_t off, len, cut;
	uint32_t want, x = 2463534242u;

	for (off = 0; off < sizeof(buf); off++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[off] = (uint8_t)x;
	}
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= sizeof(buf); len += 1 + len / 8) {
			want = crc32c_bitwise(buf + off, len);
			CHECK_INT_EQ(cl_crc32c(0, buf + off, len), want);
			CHECK_INT_EQ(
			    cl_crc32c_portable(0, buf + off, len), want);
			cut = len / 3;
			CHECK_INT_EQ(cl_crc32c(cl_crc32c(0, buf + off, cut),
					 buf + off + cut, len - cut),
			    want);
		}
}

CL_TEST(append_read_reopen)
{
	const char *dir = newdir();
	struct cl_spool_report rep;
	struct cl_spool_cursor *cur;
	struct cl_spool *sp;
	struct cl_spool_opts o = small_opts();
	struct cl_spool_rec rec;
	uint64_t d;

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.next_seq, 1);
	CHECK_INT_EQ(rep.nsegs, 1);
	CHECK(exists(segpath(dir, 1)));
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &cur), 0);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), CL_ERR_AGAIN);
	append_n(sp, 1000); /* ~100 KiB: two segments of 64 KiB */
	CHECK_INT_EQ(cl_spool_durable(sp), 1000);
	expect_records(cur, 1, 1000);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(!rep.tail_truncated);
	CHECK_INT_EQ(rep.first_seq, 1);
	CHECK_INT_EQ(rep.next_seq, 1001);
	CHECK(rep.nsegs >= 2);
	CHECK_INT_EQ(cl_spool_durable(sp), 1000);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "b", &cur), 0);
	expect_records(cur, 1, 1000);
	append_n(sp, 5);
	expect_records(cur, 1001, 1005);
	CHECK_INT_EQ(cl_spool_sync(sp, &d), 0);
	CHECK_INT_EQ(d, 1005);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

/* Records are checked again when read: the disk is not trusted. */
CL_TEST(reader_checks_disk_again)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	uint8_t b, tmp[256];
	off_t at;
	int fd;

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 3);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &cur), 0);
	/* Flip a payload byte of record 3 behind the spool's back, before
	 * the cursor has read anything. */
	at = CL_SPOOL_SEG_HDR_LEN + 3 * CL_SPOOL_REC_HDR_LEN +
	    (off_t)payload(1, tmp, sizeof(tmp)) +
	    (off_t)payload(2, tmp, sizeof(tmp));
	CHECK(payload(3, tmp, sizeof(tmp)) > 0);
	fd = open(segpath(dir, 1), O_RDWR);
	CHECK(fd >= 0);
	CHECK_INT_EQ(pread(fd, &b, 1, at), 1);
	CHECK_INT_EQ(b, tmp[0]);
	b ^= 0x10;
	CHECK_INT_EQ(pwrite(fd, &b, 1, at), 1);
	close(fd);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	CHECK_INT_EQ(rec.seq, 1);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	CHECK_INT_EQ(rec.seq, 2);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), CL_ERR_FORMAT);
	CHECK_INT_EQ(rec.seq, 0);
	CHECK(rec.payload.p == NULL);
	CHECK_INT_EQ(cl_spool_cursor_pos(cur), 3);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	/* On reopen the bad record is the tail of the last segment. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(rep.tail_truncated);
	CHECK_INT_EQ(rep.tail_first_seq, 3);
	CHECK_INT_EQ(rep.off, at - CL_SPOOL_REC_HDR_LEN);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

CL_TEST(big_records_and_limits)
{
	const char *dir = newdir();
	struct cl_spool_opts o;
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	uint8_t *big;
	uint64_t seq;
	size_t i;

	memset(&o, 0, sizeof(o)); /* defaults: 1 MiB records */
	o.seg_max = 4u * 1024 * 1024;
	big = malloc(1024 * 1024 + 1);
	CHECK(big != NULL);
	for (i = 0; i < 1024 * 1024 + 1; i++)
		big[i] = (uint8_t)(i * 13);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(
	    cl_spool_append(sp, 1, big, 1024 * 1024 + 1, &seq), CL_ERR_TOOBIG);
	CHECK_INT_EQ(seq, 0);
	CHECK_INT_EQ(cl_spool_append(sp, 1, big, 1024 * 1024, &seq), 0);
	CHECK_INT_EQ(seq, 1);
	CHECK_INT_EQ(cl_spool_append(sp, 2, NULL, 0, &seq), 0);
	CHECK_INT_EQ(cl_spool_append(sp, 3, big, 700000, &seq), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "x", &cur), 0);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	CHECK_INT_EQ(rec.payload.len, 1024 * 1024);
	CHECK_MEM_EQ(rec.payload.p, big, 1024 * 1024);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	CHECK_INT_EQ(rec.type, 2);
	CHECK_INT_EQ(rec.payload.len, 0);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	CHECK_INT_EQ(rec.payload.len, 700000);
	CHECK_MEM_EQ(rec.payload.p, big, 700000);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	free(big);
	rmdir_all(dir);
}

CL_TEST(bad_arguments_and_lock)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_cursor *cur, *cur2;
	struct cl_spool *sp, *sp2;
	char name[66];

	o.seg_max = 1000;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), CL_ERR_INVALID_ARG);
	CHECK(sp == NULL);
	o = small_opts();
	o.rec_max = SEG64K; /* no room for the headers */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), CL_ERR_INVALID_ARG);
	o = small_opts();
	o.warn_pct = 101;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), CL_ERR_INVALID_ARG);
	o = small_opts();
	o.fsync = (enum cl_spool_fsync)7;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), CL_ERR_INVALID_ARG);

	o = small_opts();
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	/* One owner at a time. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp2, NULL), CL_ERR_AGAIN);
	CHECK(sp2 == NULL);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "", &cur), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "A", &cur), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(
	    cl_spool_cursor_open(sp, "../x", &cur), CL_ERR_INVALID_ARG);
	memset(name, 'n', sizeof(name));
	name[65] = '\0'; /* 65 characters */
	CHECK_INT_EQ(cl_spool_cursor_open(sp, name, &cur), CL_ERR_INVALID_ARG);
	name[64] = '\0'; /* 64 */
	CHECK_INT_EQ(cl_spool_cursor_open(sp, name, &cur), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf_1-x", &cur), 0);
	CHECK_INT_EQ(
	    cl_spool_cursor_open(sp, "lemf_1-x", &cur2), CL_ERR_EXISTS);
	CHECK_INT_EQ(cl_spool_cursor_remove(sp, "nope"), CL_ERR_NOT_FOUND);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

CL_TEST(parse_malformed)
{
	struct cl_spool_seginfo info;
	struct cl_spool_rec rec;
	uint8_t seg[CL_SPOOL_SEG_HDR_LEN + CL_SPOOL_REC_HDR_LEN + 5];
	uint8_t *p, *img;
	uint64_t no, first;
	size_t len, n, i;
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool *sp;
	uint64_t seq;

	/* Build a one-record segment with the library, then take it apart. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_append(sp, 9, "hello", 5, &seq), 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	img = read_file(segpath(dir, 1), &len);
	CHECK_INT_EQ(len, sizeof(seg));
	memcpy(seg, img, len);
	free(img);
	/* Fields as PROTOCOL.spool lays them out. */
	CHECK_MEM_EQ(seg, "CLSG\0\1\0\0", 8);
	CHECK_INT_EQ(cl_load_u32(seg + 12), 1); /* segment number, low */
	CHECK_INT_EQ(cl_load_u32(seg + 20), 1); /* first seq, low */
	CHECK_INT_EQ(cl_load_u32(seg + 28), cl_crc32c(0, seg, 28));
	p = seg + CL_SPOOL_SEG_HDR_LEN;
	CHECK_INT_EQ(cl_load_u32(p), 5);
	CHECK_INT_EQ(cl_load_u16(p + 4), 9);
	CHECK_INT_EQ(cl_load_u32(p + 12), 1);
	CHECK_INT_EQ(
	    cl_load_u32(p + 16), cl_crc32c(cl_crc32c(0, p, 16), "hello", 5));

	CHECK_INT_EQ(
	    cl_spool_parse_seg_header(seg, sizeof(seg), &no, &first), 0);
	CHECK_INT_EQ(no, 1);
	CHECK_INT_EQ(first, 1);
	for (i = 0; i < CL_SPOOL_SEG_HDR_LEN; i++)
		CHECK_INT_EQ(cl_spool_parse_seg_header(seg, i, &no, &first),
		    CL_ERR_TRUNCATED);
	for (i = 0; i < CL_SPOOL_SEG_HDR_LEN; i++) {
		seg[i] ^= 0x20;
		CHECK_INT_EQ(
		    cl_spool_parse_seg_header(seg, sizeof(seg), &no, &first),
		    CL_ERR_FORMAT);
		CHECK_INT_EQ(no, 0);
		seg[i] ^= 0x20;
	}

	CHECK_INT_EQ(cl_spool_parse_record(p, 25, 1, &rec, &n), 0);
	CHECK_INT_EQ(n, 25);
	CHECK_INT_EQ(rec.payload.len, 5);
	CHECK_MEM_EQ(rec.payload.p, "hello", 5);
	for (i = 0; i < 25; i++) {
		CHECK_INT_EQ(
		    cl_spool_parse_record(p, i, 1, &rec, &n), CL_ERR_TRUNCATED);
		CHECK_INT_EQ(n, 0);
		CHECK(rec.payload.p == NULL);
	}
	CHECK_INT_EQ(cl_spool_parse_record(p, 25, 2, &rec, &n), CL_ERR_FORMAT);
	for (i = 0; i < 25; i++) {
		p[i] ^= 0x01;
		CHECK(cl_spool_parse_record(p, 25, 1, &rec, &n) != 0);
		p[i] ^= 0x01;
	}
	/* A length over the hard limit is bad before it is short. */
	cl_store_u32(p, CL_SPOOL_REC_HARD_MAX + 1);
	CHECK_INT_EQ(cl_spool_parse_record(p, 25, 1, &rec, &n), CL_ERR_FORMAT);
	cl_store_u32(p, 5);

	CHECK_INT_EQ(cl_spool_scan_segment(seg, sizeof(seg), true, &info), 0);
	CHECK_INT_EQ(info.nrecs, 1);
	CHECK_INT_EQ(info.fault, 0);
	CHECK_INT_EQ(info.good_len, sizeof(seg));
	CHECK_INT_EQ(
	    cl_spool_scan_segment(seg, sizeof(seg) - 1, true, &info), 0);
	CHECK_INT_EQ(info.nrecs, 0);
	CHECK_INT_EQ(info.fault, CL_ERR_TRUNCATED);
	CHECK_INT_EQ(info.good_len, CL_SPOOL_SEG_HDR_LEN);
	CHECK_INT_EQ(
	    cl_spool_scan_segment(seg, 10, true, &info), CL_ERR_TRUNCATED);
	rmdir_all(dir);
}

/*
 * Crash simulation: the last segment cut at every byte offset inside its
 * last records must recover to exactly the complete records before the
 * cut, and report a tear iff the cut is not at a record boundary.
 */
CL_TEST(torn_tail_every_offset)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *cur;
	struct cl_spool *sp;
	uint8_t *img, *img2;
	size_t len, len2, offs[4096], n, k, cut, i;
	uint64_t last_seg, first_in_last, seq, complete;
	char lastpath[512];

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 700); /* two segments, the second partly full */
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	last_seg = rep.nsegs;
	CHECK(last_seg >= 2);
	/* Saved at record 1, it stays valid through every cut below. */
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "r", &cur), 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	snprintf(lastpath, sizeof(lastpath), "%s", segpath(dir, last_seg));
	img = read_file(lastpath, &len);
	n = record_offsets(img, len, offs, 4096);
	CHECK(n >= 4);
	first_in_last = 700 - n + 1;
	CHECK_INT_EQ(cl_load_u32(img + 20), first_in_last);

	/* Every cut from the start of the 3rd-last record to the end. */
	for (cut = offs[n - 3]; cut <= len; cut++) {
		write_file(lastpath, img, cut);
		memset(&rep, 0xa5, sizeof(rep));
		CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
		for (k = 0; k < n &&
		     offs[k] + CL_SPOOL_REC_HDR_LEN +
			     cl_load_u32(img + offs[k]) <=
			 cut;
		     k++)
			;
		complete = first_in_last + k - 1;
		CHECK_INT_EQ(rep.next_seq, complete + 1);
		CHECK_INT_EQ(cl_spool_next_seq(sp), complete + 1);
		CHECK_INT_EQ(cl_spool_durable(sp), complete);
		if (k == n ? cut == len : cut == offs[k]) {
			CHECK(!rep.tail_truncated);
		} else {
			CHECK(rep.tail_truncated);
			CHECK_INT_EQ(rep.seg, last_seg);
			CHECK_INT_EQ(rep.off, offs[k]);
			CHECK_INT_EQ(rep.tail_off, offs[k]);
			CHECK_INT_EQ(rep.tail_dropped_bytes, cut - offs[k]);
			CHECK_INT_EQ(rep.tail_first_seq, complete + 1);
			CHECK_INT_EQ(rep.tail_intact_after, 0);
		}
		CHECK_INT_EQ(cl_spool_cursor_open(sp, "r", &cur), 0);
		CHECK_INT_EQ(cl_spool_cursor_confirmed(cur), 1);
		expect_records(cur, 1, complete);
		CHECK_INT_EQ(cl_spool_close(sp), 0);
		/* The tear is gone from disk: the file ends at the last
		 * complete record. */
		img2 = read_file(lastpath, &len2);
		CHECK_INT_EQ(len2, k == n ? len : offs[k]);
		CHECK_MEM_EQ(img2, img, len2);
		free(img2);
	}

	/* A crash can also leave the file extended with zeros. */
	img2 = malloc(len + 4096);
	CHECK(img2 != NULL);
	memcpy(img2, img, len);
	memset(img2 + len, 0, 4096);
	write_file(lastpath, img2, len + 4096);
	free(img2);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(rep.tail_truncated);
	CHECK_INT_EQ(rep.off, len);
	CHECK_INT_EQ(rep.tail_dropped_bytes, 4096);
	CHECK_INT_EQ(rep.next_seq, 701);
	/* Appending after recovery continues the sequence. */
	CHECK_INT_EQ(cl_spool_append(sp, 1, "x", 1, &seq), 0);
	CHECK_INT_EQ(seq, 701);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	for (i = 1; i <= last_seg; i++)
		CHECK(exists(segpath(dir, i)));
	free(img);
	rmdir_all(dir);
}

/*
 * Builds a spool of 700 records in two segments and flips a payload byte
 * of record k (of n) in the last one.  Returns the image of the last
 * segment before the flip (to be freed) and fills the figures.
 */
static uint8_t *
corrupt_last(const char *dir, size_t *len, size_t *offs, size_t *n, size_t *k,
    uint64_t *first_in_last)
{
	struct cl_spool_opts o = small_opts();
	struct cl_spool *sp;
	uint8_t *img, *bad;

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 700);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK(!exists(segpath(dir, 3)));
	img = read_file(segpath(dir, 2), len);
	*n = record_offsets(img, *len, offs, 4096);
	*first_in_last = 700 - *n + 1;
	*k = *n / 2;
	CHECK(cl_load_u32(img + offs[*k]) > 0);
	bad = malloc(*len);
	CHECK(bad != NULL);
	memcpy(bad, img, *len);
	bad[offs[*k] + CL_SPOOL_REC_HDR_LEN] ^= 0x40;
	write_file(segpath(dir, 2), bad, *len);
	free(bad);
	return img;
}

CL_TEST(corrupt_last_segment_is_refused)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool *sp = NULL;
	uint8_t *img, *after;
	size_t len, alen, offs[4096], n, k;
	uint64_t first_in_last;

	img = corrupt_last(dir, &len, offs, &n, &k, &first_in_last);
	/* Valid records after a bad one: corruption, not a torn tail. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK(sp == NULL);
	CHECK(!rep.tail_truncated);
	CHECK_INT_EQ(rep.seg, 2);
	CHECK_INT_EQ(rep.off, offs[k]);
	CHECK_INT_EQ(rep.bad_seq, first_in_last + k);
	CHECK_INT_EQ(rep.valid_after, n - k - 1);
	CHECK(strstr(rep.segpath, "seg-0000000000000002.spool") != NULL);
	CHECK(strstr(rep.why, "corrupt") != NULL);
	/* Nothing changed on disk (the flipped byte is still there). */
	after = read_file(segpath(dir, 2), &alen);
	CHECK_INT_EQ(alen, len);
	CHECK(memcmp(after, img, len) != 0);
	free(after);
	free(img);
	rmdir_all(dir);
}

CL_TEST(corrupt_last_segment_recovered_on_request)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	uint8_t *img, buf[256];
	size_t len, offs[4096], n, k, plen;
	uint64_t first_in_last, bad, seq, ls, ln, s;

	img = corrupt_last(dir, &len, offs, &n, &k, &first_in_last);
	bad = first_in_last + k;
	o.recover = true;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(!rep.tail_truncated);
	CHECK_INT_EQ(rep.seg, 2);
	CHECK_INT_EQ(rep.off, offs[k]);
	CHECK_INT_EQ(rep.lost_records, 1);
	CHECK_INT_EQ(rep.lost_bytes, offs[k + 1] - offs[k]);
	CHECK_INT_EQ(rep.lost_kept, n - k - 1);
	CHECK_INT_EQ(rep.lost_nranges, 1);
	CHECK_INT_EQ(rep.lost[0].off, offs[k]);
	CHECK_INT_EQ(rep.lost[0].first_seq, bad);
	CHECK_INT_EQ(rep.lost[0].nrecs, 1);
	CHECK_INT_EQ(rep.nlost_held, 1);
	CHECK(cl_spool_lost_at(sp, 0, &ls, &ln));
	CHECK_INT_EQ(ls, bad);
	CHECK_INT_EQ(ln, 1);
	CHECK(!cl_spool_lost_at(sp, 1, &ls, &ln));
	/* The next number is past every record the segment held. */
	CHECK_INT_EQ(rep.next_seq, 701);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "r", &cur), 0);
	for (s = 1; s <= 700; s++) {
		if (s == bad)
			continue;
		CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
		CHECK_INT_EQ(rec.seq, s);
		plen = payload(s, buf, sizeof(buf));
		CHECK_INT_EQ(rec.payload.len, plen);
		CHECK_MEM_EQ(rec.payload.p, buf, plen);
	}
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), CL_ERR_AGAIN);
	CHECK_INT_EQ(cl_spool_cursor_confirm(cur, bad - 1), 0);
	CHECK_INT_EQ(cl_spool_append(sp, 1, "y", 1, &seq), 0);
	CHECK_INT_EQ(seq, 701);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	/* Reopened without recover: the repair holds, the LOST record is
	 * still there, and a cursor confirmed just before it skips it. */
	o.recover = false;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(!rep.tail_truncated);
	CHECK_INT_EQ(rep.lost_records, 0);
	CHECK_INT_EQ(rep.nlost_held, 1);
	CHECK_INT_EQ(rep.next_seq, 702);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "r", &cur), 0);
	CHECK_INT_EQ(cl_spool_cursor_next(cur, &rec), 0);
	CHECK_INT_EQ(rec.seq, bad + 1);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	free(img);
	rmdir_all(dir);
}

CL_TEST(corrupt_last_segment_two_ranges_and_tail)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	uint8_t *img;
	size_t len, offs[4096], n, k;
	uint64_t first_in_last, s, got = 0;

	img = corrupt_last(dir, &len, offs, &n, &k, &first_in_last);
	/* Three records bad from k + 10 (one run), and a torn last one. */
	img[offs[k] + CL_SPOOL_REC_HDR_LEN] ^= 0x40;
	img[offs[k + 10] + 9] ^= 0x01;
	img[offs[k + 11] + 17] ^= 0x01;
	img[offs[k + 12] + 2] ^= 0x01;
	write_file(segpath(dir, 2), img, offs[n - 1] + 7);
	o.recover = true;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.lost_nranges, 2);
	CHECK_INT_EQ(rep.lost_records, 4);
	CHECK_INT_EQ(rep.lost[1].first_seq, first_in_last + k + 10);
	CHECK_INT_EQ(rep.lost[1].nrecs, 3);
	CHECK_INT_EQ(rep.lost[1].off, offs[k + 10]);
	CHECK(rep.tail_truncated);
	CHECK_INT_EQ(rep.tail_off, offs[n - 1]);
	CHECK_INT_EQ(rep.tail_first_seq, 700);
	CHECK_INT_EQ(rep.next_seq, 700);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "r", &cur), 0);
	while (cl_spool_cursor_next(cur, &rec) == 0) {
		s = rec.seq;
		CHECK(s != first_in_last + k);
		CHECK(s < first_in_last + k + 10 || s > first_in_last + k + 12);
		got++;
	}
	CHECK_INT_EQ(got, 699 - 4);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	free(img);
	rmdir_all(dir);
}

/*
 * Mounts a tmpfs of size bytes on a new directory under TMPDIR; returns
 * false (and says why) if this process may not mount.
 */
static bool
tmpfs_mount(char *mnt, size_t mlen, const char *size)
{
	char opts[64];

	snprintf(mnt, mlen, "%s", newdir());
	*strrchr(mnt, '/') = '\0';
	snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
	if (mount("clearli-test", mnt, "tmpfs", 0, opts) != 0) {
		/* As root (CI) the test must run, not pass by skipping. */
		CHECK(geteuid() != 0);
		printf("  skip: mount tmpfs on %s: %s (needs CAP_SYS_ADMIN)\n",
		    mnt, strerror(errno));
		rmdir(mnt);
		return false;
	}
	return true;
}

static void
tmpfs_umount(const char *mnt)
{
	CHECK_INT_EQ(umount2(mnt, MNT_DETACH), 0);
	rmdir(mnt);
}

CL_TEST(error_names_lock_holder)
{
	const char *dir = newdir();
	struct cl_spool_report rep;
	struct cl_spool *sp, *sp2;
	char want[600];

	CHECK_INT_EQ(cl_spool_open(dir, NULL, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_open(dir, NULL, &sp2, &rep), CL_ERR_AGAIN);
	snprintf(want, sizeof(want),
	    "another process holds the lock on %s/lock", dir);
	CHECK(strstr(rep.why, want) != NULL);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

CL_TEST(error_names_read_only_file_system)
{
	struct cl_spool_report rep;
	struct cl_spool *sp;
	char mnt[300], dir[400], want[600];

	if (!tmpfs_mount(mnt, sizeof(mnt), "1m"))
		return;
	snprintf(dir, sizeof(dir), "%s/sp", mnt);
	/* A spool that exists, then a read-only file system under it. */
	CHECK_INT_EQ(cl_spool_open(dir, NULL, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK_INT_EQ(
	    mount("clearli-test", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL),
	    0);
	CHECK_INT_EQ(cl_spool_open(dir, NULL, &sp, &rep), CL_ERR_SYSTEM);
	snprintf(want, sizeof(want), "%s/lock: %s", dir, strerror(EROFS));
	CHECK(strstr(rep.why, want) != NULL);
	CHECK(strstr(rep.why, "open the lock file") != NULL);
	/* And a new spool on it. */
	snprintf(dir, sizeof(dir), "%s/new", mnt);
	CHECK_INT_EQ(cl_spool_open(dir, NULL, &sp, &rep), CL_ERR_SYSTEM);
	snprintf(want, sizeof(want), "create the directory %s: %s", dir,
	    strerror(EROFS));
	CHECK_STR_EQ(rep.why, want);
	tmpfs_umount(mnt);
}

CL_TEST(error_names_full_disk)
{
	struct cl_spool_opts o = small_opts();
	struct cl_spool *sp;
	uint8_t buf[1000];
	uint64_t seq, i;
	char mnt[300], dir[400], want[600];
	int r = 0;

	if (!tmpfs_mount(mnt, sizeof(mnt), "256k"))
		return;
	snprintf(dir, sizeof(dir), "%s/sp", mnt);
	memset(buf, 0x5a, sizeof(buf));
	o.fsync = CL_SPOOL_FSYNC_ALWAYS;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	for (i = 0; i < 1000 && r == 0; i++)
		r = cl_spool_append(sp, 1, buf, sizeof(buf), &seq);
	CHECK_INT_EQ(r, CL_ERR_SYSTEM);
	snprintf(want, sizeof(want), "%s/seg-", dir);
	CHECK(strstr(cl_spool_error(sp), want) != NULL);
	CHECK(strstr(cl_spool_error(sp), strerror(ENOSPC)) != NULL);
	(void)cl_spool_close(sp);
	tmpfs_umount(mnt);
}

CL_TEST(corruption_in_older_segment_is_an_error)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool *sp;
	uint8_t *img, *after, *img2, *after2;
	size_t len, len2, offs[4096], n, k, alen;
	char p1[512];

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 700);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	snprintf(p1, sizeof(p1), "%s", segpath(dir, 1));
	img = read_file(p1, &len);
	img2 = read_file(segpath(dir, 2), &len2);
	n = record_offsets(img, len, offs, 4096);

	/* A payload byte, then a length byte, then the last record's CRC. */
	for (k = 0; k < 3; k++) {
		size_t at = k == 0 ? offs[n / 2] + CL_SPOOL_REC_HDR_LEN + 1
		    : k == 1       ? offs[n / 3] + 3
				   : offs[n - 1] + 16;
		size_t bad = k == 0 ? offs[n / 2]
		    : k == 1        ? offs[n / 3]
				    : offs[n - 1];

		img[at] ^= 0x04;
		write_file(p1, img, len);
		memset(&rep, 0, sizeof(rep));
		CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
		CHECK(sp == NULL);
		CHECK_INT_EQ(rep.seg, 1);
		CHECK_INT_EQ(rep.off, bad);
		CHECK(rep.why[0] != '\0');
		CHECK(!rep.tail_truncated);
		/* Nothing changed on disk. */
		after = read_file(p1, &alen);
		CHECK_INT_EQ(alen, len);
		CHECK_MEM_EQ(after, img, len);
		free(after);
		after2 = read_file(segpath(dir, 2), &alen);
		CHECK_INT_EQ(alen, len2);
		CHECK_MEM_EQ(after2, img2, len2);
		free(after2);
		img[at] ^= 0x04;
	}
	/* Cut short (a non-last segment must end at a record boundary). */
	write_file(p1, img, len - 1);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK_INT_EQ(rep.seg, 1);
	CHECK_INT_EQ(rep.off, offs[n - 1]);
	/* Bad header. */
	img[5] = 2;
	write_file(p1, img, len);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK_INT_EQ(rep.seg, 1);
	img[5] = 1;
	/* Even the last segment's header is never a torn tail (segments
	 * are created whole). */
	write_file(p1, img, len);
	write_file(segpath(dir, 2), img2, 10);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK_INT_EQ(rep.seg, 2);
	/* A segment in the wrong place: seg 2's bytes under name 3. */
	write_file(segpath(dir, 2), img2, len2);
	write_file(segpath(dir, 3), img2, len2);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK_INT_EQ(rep.seg, 3);
	unlink(segpath(dir, 3));
	/* A missing segment in the middle. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 700);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK(exists(segpath(dir, 3)));
	free(img2);
	img2 = read_file(segpath(dir, 2), &len2);
	unlink(segpath(dir, 2));
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK_INT_EQ(rep.seg, 2);
	/* A bad file name. */
	write_file(segpath(dir, 2), img2, len2);
	{
		char bad[512];

		snprintf(
		    bad, sizeof(bad), "%s/seg-00000000000000XY.spool", dir);
		write_file(bad, img2, 0);
		CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
		unlink(bad);
	}
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.next_seq, 1401);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	free(img);
	free(img2);
	rmdir_all(dir);
}

CL_TEST(cursor_persistence)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *a, *b;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	char path[512];
	uint8_t *f;
	size_t flen;
	int i;

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 1000);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf-a", &a), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf-b", &b), 0);
	for (i = 0; i < 800; i++)
		CHECK_INT_EQ(cl_spool_cursor_next(a, &rec), 0);
	CHECK_INT_EQ(cl_spool_cursor_pos(a), 801);
	/* Only what was read can be confirmed. */
	CHECK_INT_EQ(cl_spool_cursor_confirm(a, 801), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_spool_cursor_confirm(a, 750), 0);
	CHECK_INT_EQ(cl_spool_cursor_confirmed(a), 751);
	CHECK_INT_EQ(cl_spool_cursor_confirm(a, 10), 0); /* older: no-op */
	CHECK_INT_EQ(cl_spool_cursor_confirmed(a), 751);
	CHECK_INT_EQ(cl_spool_cursor_confirm(b, 1), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_spool_cursor_confirm(b, 0), 0); /* nothing read */
	/* Rewind goes back to the confirmed position. */
	cl_spool_cursor_rewind(a);
	CHECK_INT_EQ(cl_spool_cursor_pos(a), 751);
	expect_records(a, 751, 1000);
	CHECK_INT_EQ(cl_spool_cursor_confirm(a, 900), 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf-a", &a), 0);
	CHECK_INT_EQ(cl_spool_cursor_confirmed(a), 901);
	CHECK_INT_EQ(cl_spool_cursor_pos(a), 901);
	expect_records(a, 901, 1000);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf-b", &b), 0);
	CHECK_INT_EQ(cl_spool_cursor_confirmed(b), 1);
	expect_records(b, 1, 1000);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	/* A tampered cursor file is an error, not a reset. */
	snprintf(path, sizeof(path), "%s/cur-lemf-a", dir);
	f = read_file(path, &flen);
	CHECK_INT_EQ(flen, 20);
	CHECK_MEM_EQ(f, "CLSC\0\1\0\0", 8);
	CHECK_INT_EQ(cl_load_u32(f + 12), 901);
	f[15] ^= 1;
	write_file(path, f, flen);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK(rep.why[0] != '\0');
	/* A cursor past the end of the spool is an error too. */
	cl_store_u32(f + 12, 1002);
	cl_store_u32(f + 16, cl_crc32c(0, f, 16));
	write_file(path, f, flen);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	/* At the very end is fine. */
	cl_store_u32(f + 12, 1001);
	cl_store_u32(f + 16, cl_crc32c(0, f, 16));
	write_file(path, f, flen);
	/* A leftover temp file from an interrupted save is ignored. */
	snprintf(path, sizeof(path), "%s/cur-lemf-a.tmp", dir);
	write_file(path, f, 3);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(!exists(path));
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "lemf-a", &a), 0);
	CHECK_INT_EQ(cl_spool_cursor_next(a, &rec), CL_ERR_AGAIN);
	CHECK_INT_EQ(cl_spool_cursor_remove(sp, "lemf-a"), 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	snprintf(path, sizeof(path), "%s/cur-lemf-a", dir);
	CHECK(!exists(path));
	free(f);
	rmdir_all(dir);
}

CL_TEST(release_only_consumed_segments)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *a, *b;
	struct cl_spool_usage u;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	unsigned nf, i, total;
	uint64_t s, end1, end2, end3, bytes, lastfirst = 0;

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	append_n(sp, 3000); /* several segments */
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK(rep.nsegs >= 5);
	total = rep.nsegs;
	/* No cursors: nothing is released. */
	CHECK_INT_EQ(cl_spool_release(sp, &nf), 0);
	CHECK_INT_EQ(nf, 0);
	CHECK(exists(segpath(dir, 1)));
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	/* Segment boundaries, from the files. */
	{
		uint8_t *img;
		size_t len;

		img = read_file(segpath(dir, 2), &len);
		end1 = (uint64_t)cl_load_u32(img + 20) - 1;
		free(img);
		img = read_file(segpath(dir, 3), &len);
		end2 = (uint64_t)cl_load_u32(img + 20) - 1;
		free(img);
		img = read_file(segpath(dir, 4), &len);
		end3 = (uint64_t)cl_load_u32(img + 20) - 1;
		free(img);
	}

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &a), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "b", &b), 0);
	for (s = 1; s <= 3000; s++)
		CHECK_INT_EQ(cl_spool_cursor_next(a, &rec), 0);
	CHECK_INT_EQ(cl_spool_cursor_confirm(a, 3000), 0);
	/* b confirms up to one record short of the end of segment 2. */
	for (s = 1; s < end2; s++)
		CHECK_INT_EQ(cl_spool_cursor_next(b, &rec), 0);
	CHECK_INT_EQ(cl_spool_cursor_confirm(b, end2 - 1), 0);
	cl_spool_usage(sp, &u);
	bytes = u.bytes;
	CHECK_INT_EQ(cl_spool_release(sp, &nf), 0);
	CHECK_INT_EQ(nf, 1);
	CHECK(!exists(segpath(dir, 1)));
	CHECK(exists(segpath(dir, 2)));
	cl_spool_usage(sp, &u);
	CHECK(u.bytes < bytes);
	CHECK_INT_EQ(u.records, 3000 - end1);
	/* b can still read what it has not confirmed. */
	cl_spool_cursor_rewind(b);
	CHECK_INT_EQ(cl_spool_cursor_next(b, &rec), 0);
	CHECK_INT_EQ(rec.seq, end2);
	CHECK_INT_EQ(cl_spool_cursor_confirm(b, end2), 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	/* b's saved position holds segments back even while b is not open. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.first_seq, end1 + 1);
	CHECK_INT_EQ(cl_spool_release(sp, &nf), 0);
	CHECK_INT_EQ(nf, 1);
	CHECK(!exists(segpath(dir, 2)));
	CHECK(exists(segpath(dir, 3)));
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "b", &b), 0);
	expect_records(b, end2 + 1, 3000);
	CHECK_INT_EQ(cl_spool_cursor_confirm(b, end3), 0);
	/* Once both are at the end all but the last segment go. */
	CHECK_INT_EQ(cl_spool_cursor_confirm(b, 3000), 0);
	CHECK_INT_EQ(cl_spool_release(sp, &nf), 0);
	CHECK(nf >= 2);
	cl_spool_usage(sp, &u);
	CHECK_INT_EQ(u.segments, 1);
	{
		uint8_t *img;
		size_t len;

		/* What is left: the records of the last segment. */
		img = read_file(segpath(dir, total), &len);
		lastfirst = cl_load_u32(img + 20);
		CHECK_INT_EQ(u.records, 3001 - lastfirst);
		free(img);
	}
	for (i = 1; i < total; i++)
		CHECK(!exists(segpath(dir, i)));
	CHECK(exists(segpath(dir, total)));
	append_n(sp, 2);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.first_seq, lastfirst);
	CHECK_INT_EQ(rep.next_seq, 3003);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &a), 0);
	expect_records(a, 3001, 3002);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	/* A cursor before the oldest record held is an error: records it
	 * never confirmed would be gone. */
	{
		uint8_t c[20] = {'C', 'L', 'S', 'C', 0, 1, 0, 0};
		char path[512];

		cl_store_u32(c + 12, (uint32_t)lastfirst - 1);
		cl_store_u32(c + 16, cl_crc32c(0, c, 16));
		snprintf(path, sizeof(path), "%s/cur-late", dir);
		write_file(path, c, sizeof(c));
		CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
		cl_store_u32(c + 12, (uint32_t)lastfirst);
		cl_store_u32(c + 16, cl_crc32c(0, c, 16));
		write_file(path, c, sizeof(c));
		CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
		CHECK_INT_EQ(cl_spool_close(sp), 0);
	}
	rmdir_all(dir);
}

CL_TEST(full_spool_refuses_and_keeps_everything)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_cursor *a;
	struct cl_spool_usage u;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	uint8_t buf[256];
	uint64_t seq, last = 0, s;
	unsigned nf;
	bool warned = false;
	size_t len;
	int r;

	o.capacity = 3 * SEG64K;
	o.warn_pct = 80;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &a), 0);
	for (;;) {
		len = payload(cl_spool_next_seq(sp), buf, sizeof(buf));
		s = cl_spool_next_seq(sp);
		r = cl_spool_append(sp, (uint16_t)s, buf, len, &seq);
		if (r != 0)
			break;
		last = seq;
		cl_spool_usage(sp, &u);
		CHECK(u.bytes <= o.capacity);
		if (u.pct >= 80) {
			CHECK_INT_EQ(u.level, CL_SPOOL_LEVEL_WARN);
			warned = true;
		} else
			CHECK_INT_EQ(u.level, CL_SPOOL_LEVEL_OK);
	}
	CHECK_INT_EQ(r, CL_ERR_FULL);
	CHECK_INT_EQ(seq, 0);
	CHECK(warned);
	CHECK(last > 100);
	/* Refused, not dropped, and nothing else changed. */
	CHECK_INT_EQ(cl_spool_next_seq(sp), last + 1);
	CHECK_INT_EQ(cl_spool_append(sp, 1, buf, len, &seq), CL_ERR_FULL);
	cl_spool_usage(sp, &u);
	CHECK_INT_EQ(u.level, CL_SPOOL_LEVEL_FULL);
	CHECK_INT_EQ(u.refused, 2);
	CHECK_INT_EQ(u.records, last);
	CHECK(u.bytes <= o.capacity);
	expect_records(a, 1, last);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &a), 0);
	expect_records(a, 1, last);
	cl_spool_usage(sp, &u);
	CHECK_INT_EQ(u.level, CL_SPOOL_LEVEL_WARN);
	CHECK_INT_EQ(cl_spool_append(sp, 1, buf, len, &seq), CL_ERR_FULL);
	/* Confirming and releasing makes room again. */
	CHECK_INT_EQ(cl_spool_cursor_confirm(a, last), 0);
	CHECK_INT_EQ(cl_spool_release(sp, &nf), 0);
	CHECK(nf >= 1);
	cl_spool_usage(sp, &u);
	CHECK(u.level != CL_SPOOL_LEVEL_FULL);
	CHECK_INT_EQ(cl_spool_append(sp, (uint16_t)(last + 1), buf,
			 payload(last + 1, buf, sizeof(buf)), &seq),
	    0);
	CHECK_INT_EQ(seq, last + 1);
	CHECK_INT_EQ(cl_spool_cursor_next(a, &rec), 0);
	CHECK_INT_EQ(rec.seq, last + 1);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

CL_TEST(fsync_policies)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_cursor *a;
	struct cl_spool_rec rec;
	struct cl_spool *sp;
	uint64_t c, at;

	/* ALWAYS: durable on return from append. */
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_durable(sp), 0);
	append_n(sp, 3);
	CHECK_INT_EQ(cl_spool_durable(sp), 3);
	CHECK_INT_EQ(cl_spool_committed(sp), 3);
	CHECK(!cl_spool_commit_due(sp, &at));
	CHECK_INT_EQ(cl_spool_commit(sp, 0, &c), 0);
	CHECK_INT_EQ(c, 3);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	/* INTERVAL: buffered until commit at the interval. */
	o.fsync = CL_SPOOL_FSYNC_INTERVAL;
	o.interval_ms = 10;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_durable(sp), 3);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &a), 0);
	expect_records(a, 1, 3);
	append_n(sp, 2);
	CHECK_INT_EQ(cl_spool_durable(sp), 3);
	CHECK_INT_EQ(cl_spool_committed(sp), 3);
	/* Not committed: not visible to readers. */
	CHECK_INT_EQ(cl_spool_cursor_next(a, &rec), CL_ERR_AGAIN);
	CHECK(cl_spool_commit_due(sp, &at));
	CHECK_INT_EQ(at, 0); /* never synced: due now */
	CHECK_INT_EQ(cl_spool_commit(sp, 1000, &c), 0);
	CHECK_INT_EQ(c, 5);
	CHECK_INT_EQ(cl_spool_durable(sp), 5);
	CHECK(!cl_spool_commit_due(sp, &at));
	expect_records(a, 4, 5);
	append_n(sp, 1);
	CHECK(cl_spool_commit_due(sp, &at));
	CHECK_INT_EQ(at, 1010);
	CHECK_INT_EQ(cl_spool_commit(sp, 1009, &c), 0);
	CHECK_INT_EQ(c, 5);
	CHECK_INT_EQ(cl_spool_cursor_next(a, &rec), CL_ERR_AGAIN);
	CHECK_INT_EQ(cl_spool_commit(sp, 1010, &c), 0);
	CHECK_INT_EQ(c, 6);
	expect_records(a, 6, 6);
	/* Explicit sync whatever the interval. */
	append_n(sp, 1);
	CHECK_INT_EQ(cl_spool_sync(sp, &c), 0);
	CHECK_INT_EQ(c, 7);
	/* Close syncs what is pending. */
	append_n(sp, 1);
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	/* NEVER: commit hands records to the kernel, never fsyncs. */
	o.fsync = CL_SPOOL_FSYNC_NEVER;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_next_seq(sp), 9);
	CHECK_INT_EQ(cl_spool_durable(sp), 8);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &a), 0);
	append_n(sp, 2);
	CHECK(!cl_spool_commit_due(sp, &at));
	CHECK_INT_EQ(cl_spool_committed(sp), 8);
	CHECK_INT_EQ(cl_spool_commit(sp, 0, &c), 0);
	CHECK_INT_EQ(c, 10);
	CHECK_INT_EQ(cl_spool_durable(sp), 8);
	expect_records(a, 1, 10);
	CHECK_INT_EQ(cl_spool_sync(sp, &c), 0);
	CHECK_INT_EQ(c, 10);
	CHECK_INT_EQ(cl_spool_durable(sp), 10);
	append_n(sp, 1);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_next_seq(sp), 12);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

/* A hand-made segment whose first record is the last number allowed. */
static void
write_header(const char *path, uint64_t no, uint64_t first)
{
	uint8_t h[CL_SPOOL_SEG_HDR_LEN] = {'C', 'L', 'S', 'G', 0, 1};

	cl_store_u32(h + 8, (uint32_t)(no >> 32));
	cl_store_u32(h + 12, (uint32_t)no);
	cl_store_u32(h + 16, (uint32_t)(first >> 32));
	cl_store_u32(h + 20, (uint32_t)first);
	cl_store_u32(h + 28, cl_crc32c(0, h, 28));
	write_file(path, h, sizeof(h));
}

CL_TEST(sequence_space_end)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool *sp;
	uint64_t seq;

	CHECK_INT_EQ(mkdir(dir, 0700), 0);
	write_header(segpath(dir, 1), 1, CL_SPOOL_SEQ_MAX + 1);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), CL_ERR_FORMAT);
	CHECK_INT_EQ(rep.seg, 1);
	write_header(segpath(dir, 1), 1, CL_SPOOL_SEQ_MAX);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.next_seq, CL_SPOOL_SEQ_MAX);
	CHECK_INT_EQ(cl_spool_append(sp, 1, "a", 1, &seq), 0);
	CHECK_INT_EQ(seq, CL_SPOOL_SEQ_MAX);
	CHECK_INT_EQ(cl_spool_append(sp, 1, "b", 1, &seq), CL_ERR_RANGE);
	CHECK_INT_EQ(seq, 0);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
	CHECK_INT_EQ(rep.next_seq, CL_SPOOL_SEQ_MAX + 1);
	CHECK(!rep.tail_truncated);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

/*
 * kill -9: a child appends with fsync on every record and reports each
 * sequence number through a pipe after append returned; it is killed at a
 * random moment.  Every reported record must be there, in order, intact.
 */
static void
child_append(const char *dir, int wfd, uint64_t seg_max)
{
	struct cl_spool_opts o = small_opts();
	struct cl_spool *sp;
	uint8_t buf[256];
	uint64_t seq, s;
	size_t len;

	o.seg_max = seg_max;
	if (cl_spool_open(dir, &o, &sp, NULL) != 0)
		_exit(2);
	for (;;) {
		s = cl_spool_next_seq(sp);
		len = payload(s, buf, sizeof(buf));
		if (cl_spool_append(sp, (uint16_t)s, buf, len, &seq) != 0 ||
		    seq != s || cl_spool_durable(sp) < seq)
			_exit(3);
		if (write(wfd, &seq, sizeof(seq)) != sizeof(seq))
			_exit(4);
	}
}

CL_TEST(kill9_keeps_every_durable_record)
{
	struct cl_spool_opts o = small_opts();
	struct cl_spool_report rep;
	struct cl_spool_cursor *cur;
	struct cl_spool *sp;
	uint64_t v, reported;
	struct timespec ts;
	int round, pfd[2], status;
	const char *dir;
	ssize_t n;
	pid_t pid;

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	for (round = 0; round < 6; round++) {
		dir = newdir();
		reported = 0;
		o.seg_max = round % 2 ? SEG64K : 1024 * 1024;
		CHECK_INT_EQ(pipe(pfd), 0);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			child_append(dir, pfd[1], o.seg_max);
		}
		close(pfd[1]);
		/* Let it run 5..300 ms, reading reports meanwhile. */
		ts.tv_sec = 0;
		ts.tv_nsec = (5 + random() % 296) * 1000000L;
		CHECK_INT_EQ(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
		nanosleep(&ts, NULL);
		CHECK_INT_EQ(kill(pid, SIGKILL), 0);
		CHECK_INT_EQ(waitpid(pid, &status, 0), pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/* Everything it wrote to the pipe before dying counts. */
		while ((n = read(pfd[0], &v, sizeof(v))) == sizeof(v)) {
			CHECK_INT_EQ(v, reported + 1);
			reported++;
		}
		close(pfd[0]);

		CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, &rep), 0);
		/* At most the one record in flight is beyond the reports. */
		CHECK(rep.next_seq - 1 >= reported);
		CHECK(rep.next_seq - 1 <= reported + 1);
		CHECK_INT_EQ(cl_spool_cursor_open(sp, "check", &cur), 0);
		expect_records(cur, 1, rep.next_seq - 1);
		CHECK_INT_EQ(cl_spool_close(sp), 0);
		printf("  kill9 round %d: %llu reported, %llu recovered%s\n",
		    round, (unsigned long long)reported,
		    (unsigned long long)(rep.next_seq - 1),
		    rep.tail_truncated ? ", torn tail cut" : "");
		rmdir_all(dir);
	}
}

/* Waits (poll, at most 10 s) until the sync thread has committed
 * everything appended; returns the committed position. */
static uint64_t
commit_all(struct cl_spool *sp, uint64_t *now)
{
	struct pollfd pfd;
	uint64_t c = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		CHECK_INT_EQ(cl_spool_commit(sp, ++*now, &c), 0);
		if (c == cl_spool_next_seq(sp) - 1)
			break;
		pfd.fd = cl_spool_event_fd(sp);
		pfd.events = POLLIN;
		CHECK(poll(&pfd, 1, 10) >= 0);
	}
	return c;
}

/* Group commit with the sync thread: a commit hands the work over and
 * returns; the committed position moves only once the sync ended, is
 * never past what was appended, and covers everything in the end,
 * across new segments begun while a sync ran. */
CL_TEST(sync_thread_commit)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct cl_spool_cursor *cur;
	struct cl_spool *sp;
	struct pollfd pfd;
	uint64_t c, prev = 0, now = 0, at, i;

	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_event_fd(sp), -1); /* not asked for */
	CHECK_INT_EQ(cl_spool_close(sp), 0);

	o.fsync = CL_SPOOL_FSYNC_INTERVAL;
	o.interval_ms = 1;
	o.sync_thread = true;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK(cl_spool_event_fd(sp) >= 0);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "a", &cur), 0);

	/* One record: the commit starts a sync and returns before it
	 * ended; nothing is due meanwhile; the event says when. */
	append_n(sp, 1);
	CHECK_INT_EQ(cl_spool_commit(sp, ++now, &c), 0);
	CHECK_INT_EQ(c, 0);
	CHECK(!cl_spool_commit_due(sp, &at));
	pfd.fd = cl_spool_event_fd(sp);
	pfd.events = POLLIN;
	CHECK_INT_EQ(poll(&pfd, 1, 10000), 1);
	CHECK_INT_EQ(cl_spool_commit(sp, ++now, &c), 0);
	CHECK_INT_EQ(c, 1);
	CHECK_INT_EQ(cl_spool_durable(sp), 1);
	expect_records(cur, 1, 1);

	/* 3000 records of about 100 octets: several 64 KiB segments, with
	 * commits in between. */
	for (i = 0; i < 60; i++) {
		append_n(sp, 50);
		CHECK_INT_EQ(cl_spool_commit(sp, ++now, &c), 0);
		CHECK(c >= prev);
		CHECK(c < cl_spool_next_seq(sp));
		prev = c;
	}
	CHECK_INT_EQ(commit_all(sp, &now), 3001);
	expect_records(cur, 2, 3001);
	/* A full sync while a commit's sync runs waits for it first. */
	append_n(sp, 5);
	CHECK_INT_EQ(cl_spool_commit(sp, now += 10, &c), 0);
	CHECK_INT_EQ(cl_spool_sync(sp, &c), 0);
	CHECK_INT_EQ(c, 3006);
	CHECK_INT_EQ(cl_spool_commit(sp, ++now, &c), 0);
	CHECK_INT_EQ(c, 3006);
	CHECK(!cl_spool_commit_due(sp, &at));
	append_n(sp, 1);
	CHECK_INT_EQ(cl_spool_close(sp), 0); /* syncs the last one */

	/* All of it there after a reopen without the thread. */
	o.sync_thread = false;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_next_seq(sp), 3008);
	CHECK_INT_EQ(cl_spool_cursor_open(sp, "b", &cur), 0);
	expect_records(cur, 1, 3007);
	CHECK_INT_EQ(cl_spool_close(sp), 0);
	rmdir_all(dir);
}

/* The spool's group commit driven from a lib/loop: the worker's
 * descriptor and a timer at cl_spool_commit_due() move the committed
 * position, which never passes what was appended and never goes back,
 * until everything is committed; the loop thread never waits. */
struct loop_commit {
	struct cl_loop *l;
	struct cl_spool *sp;
	struct cl_loop_timer *t;
	uint64_t c, rounds, target;
	unsigned events;
};

static void
lc_commit(struct loop_commit *lc)
{
	uint64_t c, at, now = cl_loop_now_ms();

	CHECK_INT_EQ(cl_spool_commit(lc->sp, now, &c), 0);
	CHECK(c >= lc->c);
	CHECK(c < cl_spool_next_seq(lc->sp));
	lc->c = c;
	if (lc->rounds < 20) {
		lc->rounds++;
		append_n(lc->sp, 100);
		lc->target = cl_spool_next_seq(lc->sp) - 1;
	}
	if (lc->c == lc->target && lc->rounds == 20) {
		cl_loop_stop(lc->l);
		return;
	}
	if (cl_spool_commit_due(lc->sp, &at))
		CHECK_INT_EQ(
		    cl_loop_timer_after(lc->t, at > now ? at - now : 0), 0);
}

static void
lc_event(void *arg, int fd, unsigned what)
{
	struct loop_commit *lc = arg;

	(void)fd;
	CHECK(what & CL_LOOP_READ);
	lc->events++;
	lc_commit(lc);
}

static void
lc_timer(void *arg)
{
	lc_commit(arg);
}

CL_TEST(sync_worker_on_loop)
{
	const char *dir = newdir();
	struct cl_spool_opts o = small_opts();
	struct loop_commit lc = {0};
	struct cl_spool_cursor *cur;
	struct cl_loop_io *io;

	o.fsync = CL_SPOOL_FSYNC_INTERVAL;
	o.interval_ms = 2;
	o.sync_thread = true;
	CHECK_INT_EQ(cl_spool_open(dir, &o, &lc.sp, NULL), 0);
	CHECK_INT_EQ(cl_spool_cursor_open(lc.sp, "a", &cur), 0);
	CHECK_INT_EQ(cl_loop_new(&lc.l), 0);
	CHECK((lc.t = cl_loop_timer_new(lc.l, lc_timer, &lc)) != NULL);
	CHECK((io = cl_loop_io_new(
		   lc.l, cl_spool_event_fd(lc.sp), lc_event, &lc)) != NULL);
	CHECK_INT_EQ(cl_loop_io_set(io, CL_LOOP_READ), 0);
	CHECK_INT_EQ(cl_loop_timer_after(lc.t, 0), 0);
	CHECK_INT_EQ(cl_loop_run(lc.l), 0);
	CHECK_INT_EQ(lc.c, 2000);
	CHECK_INT_EQ(cl_spool_durable(lc.sp), 2000);
	CHECK(lc.events > 0);
	expect_records(cur, 1, 2000);
	cl_loop_io_free(io);
	cl_loop_timer_free(lc.t);
	cl_loop_free(lc.l);
	CHECK_INT_EQ(cl_spool_close(lc.sp), 0);
	rmdir_all(dir);
}

int
main(void)
{
	CL_RUN(crc32c_check_value);
	CL_RUN(crc32c_implementations);
	CL_RUN(sync_thread_commit);
	CL_RUN(sync_worker_on_loop);
	CL_RUN(append_read_reopen);
	CL_RUN(reader_checks_disk_again);
	CL_RUN(big_records_and_limits);
	CL_RUN(bad_arguments_and_lock);
	CL_RUN(parse_malformed);
	CL_RUN(torn_tail_every_offset);
	CL_RUN(corrupt_last_segment_is_refused);
	CL_RUN(corrupt_last_segment_recovered_on_request);
	CL_RUN(corrupt_last_segment_two_ranges_and_tail);
	CL_RUN(corruption_in_older_segment_is_an_error);
	CL_RUN(error_names_lock_holder);
	CL_RUN(error_names_read_only_file_system);
	CL_RUN(error_names_full_disk);
	CL_RUN(cursor_persistence);
	CL_RUN(release_only_consumed_segments);
	CL_RUN(full_spool_refuses_and_keeps_everything);
	CL_RUN(fsync_policies);
	CL_RUN(sequence_space_end);
	CL_RUN(kill9_keeps_every_durable_record);
	return cl_test_done();
}
