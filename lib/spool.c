/* SPDX-License-Identifier: ISC */
/*
 * Durable append-only spool; see spool.h and docs/PROTOCOL.spool.
 *
 * Invariants the code keeps (and recovery checks):
 *  - segment files are created whole: header written to a temp file,
 *    fsynced, renamed, directory fsynced; so a segment header is never
 *    torn, and a bad one is corruption;
 *  - before a new segment is created the previous one is fdatasynced, so
 *    every segment but the last is complete on disk: only the last can
 *    have a torn tail;
 *  - bytes once written are never rewritten; only recovery truncates, and
 *    only the tail of the last segment;
 *  - segments are deleted oldest first, so the numbers on disk stay
 *    contiguous;
 *  - a cursor's confirmed position is saved (temp, fsync, rename, fsync
 *    directory) before confirm returns, and release looks only at saved
 *    positions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "loop.h"
#include "spool.h"

#define SEG_MAGIC      "CLSG"
#define CUR_MAGIC      "CLSC"
#define FORMAT_VERSION 1
#define CUR_FILE_LEN   20
#define DEF_SEG_MAX    (64ull * 1024 * 1024)
#define DEF_REC_MAX    (1024u * 1024)
#define DEF_WARN_PCT   80
#define DEF_INTERVAL   10
#define DEF_WBUF       (256u * 1024)
#define RBUF_MIN       (256u * 1024)
#define SEG_NAME_LEN   (4 + 16 + 6) /* "seg-" hex ".spool" */
#define PATH_LEN       128

/*
 * CRC32C rather than zlib's CRC32: the project does not link zlib, and
 * CRC32C (Castagnoli) detects more error patterns at these lengths, is
 * what ext4, iSCSI and Kafka use for the same job, and has an instruction
 * on x86 and ARM.  Slicing-by-8 tables, built once; on x86-64 the SSE4.2
 * instruction when the CPU has it: the table version was a tenth of the
 * MDF's CPU time in the end-to-end benchmark (each record is checked when
 * written and again when read for delivery).
 */
static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CL_CRC_HW 1
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c, v;

	while (len >= 8) {
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len-- > 0)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#endif

static void
crc_init(void)
{
	uint32_t c;
	unsigned i, j;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_tab[j][i] = (crc_tab[j - 1][i] >> 8) ^
			    crc_tab[0][crc_tab[j - 1][i] & 0xff];
#ifdef CL_CRC_HW
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t
cl_crc32c_portable(uint32_t crc, const void *vp, size_t len)
{
	const uint8_t *p = vp;
	uint32_t c = ~crc, lo, hi;

	(void)pthread_once(&crc_once, crc_init);
	while (len >= 8) {
		lo = c ^
		    ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		    crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		    crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
		    crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = crc_tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

uint32_t
cl_crc32c(uint32_t crc, const void *vp, size_t len)
{
#ifdef CL_CRC_HW
	(void)pthread_once(&crc_once, crc_init);
	if (crc_hw)
		return ~crc32c_sse42(~crc, vp, len);
#endif
	return cl_crc32c_portable(crc, vp, len);
}

static void
store_u64(uint8_t *p, uint64_t v)
{
	cl_store_u32(p, (uint32_t)(v >> 32));
	cl_store_u32(p + 4, (uint32_t)v);
}

struct seg {
	uint64_t no;
	uint64_t first_seq;
	uint64_t nrecs;
	uint64_t size; /* on disk plus, for the last, buffered */
};

struct cl_spool_cursor {
	struct cl_spool *sp;
	char name[CL_SPOOL_NAME_MAX + 1];
	bool open;
	uint64_t confirmed; /* first record not confirmed (saved) */
	uint64_t pos;       /* next record to read */
	/* Where record hint_seq starts, to avoid rescanning a segment. */
	uint64_t hint_seq, hint_seg, hint_off;
	int fd;
	uint64_t fd_seg;
	/* A window of segment rb_seg: bytes [rb_off, rb_off + rb_len). */
	uint8_t *rbuf;
	size_t rcap, rb_len;
	uint64_t rb_seg, rb_off;
};

struct lost_rec {
	uint64_t seq, n;
};

/* A sync handed to the worker: fdatasync(fd), then close(fd). */
struct sync_job {
	struct cl_work w; /* first: the container cast */
	struct cl_spool *sp;
	int fd;
};

struct cl_spool {
	int dirfd, lockfd, wfd;
	char *dir;                  /* the path given to open */
	char err[CL_SPOOL_WHY_LEN]; /* the last system error, as text */
	struct lost_rec *lost;      /* LOST records found at open */
	size_t nlost, lostcap;
	uint8_t *salvage; /* open: the repaired last segment */
	size_t salvage_len;
	struct cl_spool_opts o;
	struct seg *segs;
	size_t nsegs, segcap;
	struct cl_spool_cursor **curs;
	size_t ncurs, curcap;
	struct cl_buf wbuf;
	uint64_t wfile; /* bytes of the last segment written to the kernel */
	uint64_t next_seq, written_seq, durable_seq;
	uint64_t last_sync_ms;
	bool synced_once;
	uint64_t bytes, refused;
	bool full;
	bool broken;

	/* The worker queue (opts.sync_thread, lib/loop): one job at a time,
	 * the fdatasync() of a duplicate of the segment's descriptor.  The
	 * worker touches only job.fd; the rest is the caller's thread's. */
	struct cl_workq *wq;
	struct sync_job job;
	bool job_busy;    /* a job was pushed and not collected */
	bool job_ended;   /* done() came: job_err holds its errno */
	int job_err;      /* 0 on success */
	uint64_t job_seq; /* the last record it covers */
};

/*
 * Notes a failed system call in sp->err ("what DIR/name: errno text") and
 * returns CL_ERR_SYSTEM; errno is left as it was.  name may be NULL (the
 * directory itself).
 */
static int
sys_fail(struct cl_spool *sp, const char *what, const char *name)
{
	int e = errno;

	(void)snprintf(sp->err, sizeof(sp->err), "%s %s%s%s: %s", what,
	    sp->dir != NULL ? sp->dir : "?", name != NULL ? "/" : "",
	    name != NULL ? name : "", cl_fs_strerror(e));
	errno = e;
	return CL_ERR_SYSTEM;
}

const char *
cl_spool_error(const struct cl_spool *sp)
{
	return sp->err;
}

bool
cl_spool_lost_at(
    const struct cl_spool *sp, size_t i, uint64_t *seq, uint64_t *n)
{
	*seq = *n = 0;
	if (i >= sp->nlost)
		return false;
	*seq = sp->lost[i].seq;
	*n = sp->lost[i].n;
	return true;
}

static int
note_lost(void *arg, uint64_t seq, uint64_t n)
{
	struct cl_spool *sp = arg;
	struct lost_rec *v;
	size_t cap;

	if (sp->nlost == sp->lostcap) {
		cap = sp->lostcap ? sp->lostcap * 2 : 8;
		if ((v = reallocarray(sp->lost, cap, sizeof(*v))) == NULL)
			return CL_ERR_NOMEM;
		sp->lost = v;
		sp->lostcap = cap;
	}
	sp->lost[sp->nlost].seq = seq;
	sp->lost[sp->nlost].n = n;
	sp->nlost++;
	return 0;
}

/* ---- parsing (untrusted bytes) ---- */

int
cl_spool_parse_seg_header(
    const uint8_t *p, size_t len, uint64_t *segno, uint64_t *first_seq)
{
	struct cl_rd rd;
	uint8_t magic[4];
	uint16_t ver, flags;
	uint64_t no, first;
	uint32_t resv, crc;
	int r;

	*segno = 0;
	*first_seq = 0;
	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_copy(&rd, magic, sizeof(magic))) != 0 ||
	    (r = cl_rd_u16(&rd, &ver)) != 0 ||
	    (r = cl_rd_u16(&rd, &flags)) != 0 ||
	    (r = cl_rd_u64(&rd, &no)) != 0 ||
	    (r = cl_rd_u64(&rd, &first)) != 0 ||
	    (r = cl_rd_u32(&rd, &resv)) != 0 || (r = cl_rd_u32(&rd, &crc)) != 0)
		return r;
	if (memcmp(magic, SEG_MAGIC, 4) != 0 || ver != FORMAT_VERSION ||
	    flags != 0 || resv != 0 || no == 0 || no >= CL_SPOOL_SEQ_MAX ||
	    first == 0 || first > CL_SPOOL_SEQ_MAX ||
	    crc != cl_crc32c(0, p, CL_SPOOL_SEG_HDR_LEN - 4))
		return CL_ERR_FORMAT;
	*segno = no;
	*first_seq = first;
	return 0;
}

int
cl_spool_parse_record(const uint8_t *p, size_t len, uint64_t expect_seq,
    struct cl_spool_rec *rec, size_t *consumed)
{
	struct cl_rd rd;
	struct cl_span payload;
	uint32_t plen, crc;
	uint16_t type, flags;
	uint64_t seq, lost = 0;
	int r;

	memset(rec, 0, sizeof(*rec));
	*consumed = 0;
	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_u32(&rd, &plen)) != 0 ||
	    (r = cl_rd_u16(&rd, &type)) != 0 ||
	    (r = cl_rd_u16(&rd, &flags)) != 0 ||
	    (r = cl_rd_u64(&rd, &seq)) != 0 || (r = cl_rd_u32(&rd, &crc)) != 0)
		return r;
	if (plen > CL_SPOOL_REC_HARD_MAX ||
	    (flags != 0 &&
		(flags != CL_SPOOL_F_LOST || plen != 8 || type != 0)) ||
	    seq != expect_seq || seq == 0 || seq > CL_SPOOL_SEQ_MAX)
		return CL_ERR_FORMAT;
	if ((r = cl_rd_span(&rd, plen, &payload)) != 0)
		return r;
	if (crc !=
	    cl_crc32c(cl_crc32c(0, p, CL_SPOOL_REC_HDR_LEN - 4), payload.p,
		payload.len))
		return CL_ERR_FORMAT;
	if (flags == CL_SPOOL_F_LOST) {
		struct cl_rd lr;

		cl_rd_init(&lr, payload.p, payload.len);
		if (cl_rd_u64(&lr, &lost) != 0 || lost == 0 ||
		    lost > CL_SPOOL_SEQ_MAX + 1 - seq)
			return CL_ERR_FORMAT;
		payload.len = 0;
	}
	rec->seq = seq;
	rec->type = type;
	rec->payload = payload;
	rec->lost = lost;
	*consumed = rd.off;
	return 0;
}

/* Sequence numbers a parsed record covers. */
static uint64_t
span_of(const struct cl_spool_rec *rec)
{
	return rec->lost != 0 ? rec->lost : 1;
}

/*
 * Counts the records past a fault that still look intact: a header whose
 * sequence number could follow the fault and whose CRC is right.  This
 * only informs the report (a tear after a crash has none; a flipped byte
 * in older data has some); nothing is kept.
 */
static uint64_t
count_intact(const uint8_t *p, size_t len, size_t from, uint64_t seq)
{
	struct cl_spool_rec rec;
	struct cl_rd rd;
	uint64_t n = 0, s, lim;
	size_t o = from + 1, used;

	lim = seq + (len - from) / CL_SPOOL_REC_HDR_LEN + 1;
	while (o < len && len - o >= CL_SPOOL_REC_HDR_LEN) {
		cl_rd_init(&rd, p + o, len - o);
		if (cl_rd_skip(&rd, 8) != 0 || cl_rd_u64(&rd, &s) != 0)
			break;
		if (s >= seq && s <= lim && s <= CL_SPOOL_SEQ_MAX &&
		    cl_spool_parse_record(p + o, len - o, s, &rec, &used) ==
			0) {
			n++;
			seq = s + span_of(&rec);
			o += used;
		} else
			o++;
	}
	return n;
}

typedef int lost_fn(void *arg, uint64_t seq, uint64_t n);

static int
scan(const uint8_t *p, size_t len, bool count_after,
    struct cl_spool_seginfo *info, lost_fn *cb, void *arg)
{
	struct cl_spool_seginfo t;
	struct cl_spool_rec rec;
	size_t off, used;
	int r;

	memset(info, 0, sizeof(*info));
	memset(&t, 0, sizeof(t));
	if ((r = cl_spool_parse_seg_header(p, len, &t.segno, &t.first_seq)) !=
	    0)
		return r;
	off = CL_SPOOL_SEG_HDR_LEN;
	while (off < len) {
		if (t.first_seq + t.nrecs > CL_SPOOL_SEQ_MAX) {
			t.fault = CL_ERR_RANGE;
			break;
		}
		r = cl_spool_parse_record(
		    p + off, len - off, t.first_seq + t.nrecs, &rec, &used);
		if (r != 0) {
			t.fault = r;
			break;
		}
		if (rec.lost != 0 && cb != NULL &&
		    (r = cb(arg, rec.seq, rec.lost)) != 0)
			return r;
		off += used;
		t.nrecs += span_of(&rec);
	}
	t.good_len = off;
	if (t.fault != 0 && count_after)
		t.intact_after =
		    count_intact(p, len, off, t.first_seq + t.nrecs);
	*info = t;
	return 0;
}

int
cl_spool_scan_segment(const uint8_t *p, size_t len, bool count_after,
    struct cl_spool_seginfo *info)
{
	return scan(p, len, count_after, info, NULL, NULL);
}

static bool
valid_name(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= CL_SPOOL_NAME_MAX)
			return false;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			s[i] == '-'))
			return false;
	}
	return i > 0;
}

/* Parses "seg-<16 lower-case hex>.spool" exactly. */
static int
parse_seg_name(const char *s, uint64_t *no)
{
	uint64_t v = 0;
	size_t i;
	char c;

	*no = 0;
	if (strlen(s) != SEG_NAME_LEN || strncmp(s, "seg-", 4) != 0 ||
	    strcmp(s + 20, ".spool") != 0)
		return CL_ERR_FORMAT;
	for (i = 4; i < 20; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return CL_ERR_FORMAT;
	}
	if (v == 0)
		return CL_ERR_FORMAT;
	*no = v;
	return 0;
}

static void
seg_name(char buf[static PATH_LEN], uint64_t no, const char *suffix)
{
	(void)snprintf(buf, PATH_LEN, "seg-%016llx.spool%s",
	    (unsigned long long)no, suffix);
}

static int
parse_cursor_file(const uint8_t *p, size_t len, uint64_t *pos)
{
	struct cl_rd rd;
	uint8_t magic[4];
	uint16_t ver, flags;
	uint64_t v;
	uint32_t crc;
	int r;

	*pos = 0;
	cl_rd_init(&rd, p, len);
	if ((r = cl_rd_copy(&rd, magic, sizeof(magic))) != 0 ||
	    (r = cl_rd_u16(&rd, &ver)) != 0 ||
	    (r = cl_rd_u16(&rd, &flags)) != 0 ||
	    (r = cl_rd_u64(&rd, &v)) != 0 || (r = cl_rd_u32(&rd, &crc)) != 0 ||
	    (r = cl_rd_end(&rd)) != 0)
		return r;
	if (memcmp(magic, CUR_MAGIC, 4) != 0 || ver != FORMAT_VERSION ||
	    flags != 0 || v == 0 || crc != cl_crc32c(0, p, CUR_FILE_LEN - 4))
		return CL_ERR_FORMAT;
	*pos = v;
	return 0;
}

/* ---- files ---- */

static int
write_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			return CL_ERR_SYSTEM;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Reads up to len bytes at off; *got may be short at end of file. */
static int
read_at(int fd, uint8_t *p, size_t len, uint64_t off, size_t *got)
{
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = pread(fd, p + *got, len - *got, (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return CL_ERR_SYSTEM;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/*
 * Replaces dir/name with p[0..len) atomically and durably: a crash leaves
 * either the old file or the new one, never a mix.
 */
static int
replace_file(
    struct cl_spool *sp, const char *name, const uint8_t *p, size_t len)
{
	char tmp[PATH_LEN];
	int dirfd = sp->dirfd, fd = -1, r = CL_ERR_SYSTEM;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return CL_ERR_INTERNAL;
	if ((fd = cl_openat_nofollow(
		 dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
		r = sys_fail(sp, "create", tmp);
		goto out;
	}
	if (write_all(fd, p, len, 0) != 0) {
		r = sys_fail(sp, "write", tmp);
		goto out;
	}
	if (fsync(fd) != 0) {
		r = sys_fail(sp, "fsync", tmp);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = sys_fail(sp, "close", tmp);
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		r = sys_fail(sp, "rename to the final name", tmp);
		goto out;
	}
	if (fsync(dirfd) != 0) {
		r = sys_fail(sp, "fsync", NULL);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	if (r != 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

static int
save_cursor(struct cl_spool *sp, const char *name, uint64_t pos)
{
	uint8_t b[CUR_FILE_LEN];
	char fname[PATH_LEN];

	memcpy(b, CUR_MAGIC, 4);
	cl_store_u16(b + 4, FORMAT_VERSION);
	cl_store_u16(b + 6, 0);
	store_u64(b + 8, pos);
	cl_store_u32(b + 16, cl_crc32c(0, b, 16));
	(void)snprintf(fname, sizeof(fname), "cur-%s", name);
	return replace_file(sp, fname, b, sizeof(b));
}

static int
push_seg(struct cl_spool *sp, const struct seg *s)
{
	struct seg *n;
	size_t cap;

	if (sp->nsegs == sp->segcap) {
		cap = sp->segcap ? sp->segcap * 2 : 16;
		if ((n = reallocarray(sp->segs, cap, sizeof(*n))) == NULL)
			return CL_ERR_NOMEM;
		sp->segs = n;
		sp->segcap = cap;
	}
	sp->segs[sp->nsegs++] = *s;
	return 0;
}

/*
 * Creates segment no (whole: temp, fsync, rename, fsync dir), makes it
 * the last one and opens it for writing.
 */
static int
new_segment(struct cl_spool *sp, uint64_t no, uint64_t first_seq)
{
	uint8_t h[CL_SPOOL_SEG_HDR_LEN];
	char name[PATH_LEN];
	struct seg s;
	int fd, r;

	memcpy(h, SEG_MAGIC, 4);
	cl_store_u16(h + 4, FORMAT_VERSION);
	cl_store_u16(h + 6, 0);
	store_u64(h + 8, no);
	store_u64(h + 16, first_seq);
	cl_store_u32(h + 24, 0);
	cl_store_u32(h + 28, cl_crc32c(0, h, 28));
	seg_name(name, no, "");
	if ((r = replace_file(sp, name, h, sizeof(h))) != 0)
		return r;
	if ((fd = cl_openat_nofollow(sp->dirfd, name, O_WRONLY, 0)) < 0)
		return sys_fail(sp, "open for writing", name);
	s.no = no;
	s.first_seq = first_seq;
	s.nrecs = 0;
	s.size = sizeof(h);
	if ((r = push_seg(sp, &s)) != 0) {
		(void)close(fd);
		return r;
	}
	if (sp->wfd >= 0)
		(void)close(sp->wfd);
	sp->wfd = fd;
	sp->wfile = sizeof(h);
	sp->bytes += sizeof(h);
	return 0;
}

/* In the worker: touches nothing but the job. */
static int
sync_run(struct cl_work *w)
{
	struct sync_job *j = (struct sync_job *)w;
	int e;

	e = fdatasync(j->fd) == 0 ? 0 : errno;
	(void)close(j->fd);
	j->fd = -1;
	return e;
}

/* In the caller's thread, from cl_workq_collect(). */
static void
sync_done(struct cl_work *w, int e)
{
	struct sync_job *j = (struct sync_job *)w;

	j->sp->job_ended = true;
	j->sp->job_err = e;
}

static int
sync_thread_start(struct cl_spool *sp)
{
	int r;

	if ((r = cl_workq_new(1, &sp->wq)) != 0) {
		sp->wq = NULL;
		if (r == CL_ERR_SYSTEM)
			return sys_fail(sp, "start the sync worker of", NULL);
		return r;
	}
	sp->job.sp = sp;
	sp->job.fd = -1;
	sp->job.w.run = sync_run;
	sp->job.w.done = sync_done;
	return 0;
}

/* Takes the result of an ended job, if any; never waits. */
static int
job_collect(struct cl_spool *sp)
{
	int e;

	if (!sp->job_busy)
		return 0;
	(void)cl_workq_collect(sp->wq);
	if (!sp->job_ended)
		return 0;
	sp->job_ended = false;
	sp->job_busy = false;
	if ((e = sp->job_err) != 0) {
		char name[PATH_LEN];

		sp->broken = true;
		errno = e;
		seg_name(name, sp->segs[sp->nsegs - 1].no, "");
		return sys_fail(sp, "fdatasync (sync worker)", name);
	}
	if (sp->job_seq > sp->durable_seq)
		sp->durable_seq = sp->job_seq;
	return 0;
}

/*
 * Waits for the job in progress and collects it.  A synchronous sync must
 * not run beside a job: the job's descriptor is a duplicate of the
 * segment's, and the kernel reports a writeback error once per open file,
 * so one of the two could return 0 for data that never reached the disk.
 */
static int
job_wait(struct cl_spool *sp)
{
	if (!sp->job_busy)
		return 0;
	(void)cl_workq_wait(sp->wq);
	return job_collect(sp);
}

/* Lets a job in progress end, collects it, and stops the worker. */
static int
sync_thread_stop(struct cl_spool *sp)
{
	int r;

	if (sp->wq == NULL)
		return 0;
	r = job_wait(sp);
	cl_workq_free(sp->wq);
	sp->wq = NULL;
	return r;
}

static int flush(struct cl_spool *sp);

/*
 * Hands what is written so far to the worker.  A segment that is closed
 * while the job runs (a new one begins) stays open through the job's own
 * descriptor, and was synced anyway before the next one was created.
 */
static int
job_start(struct cl_spool *sp)
{
	int fd, r;

	if ((r = flush(sp)) != 0)
		return r;
	if (sp->written_seq <= sp->durable_seq)
		return 0;
	if ((fd = fcntl(sp->wfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		sp->broken = true;
		return sys_fail(sp, "dup the segment descriptor in", NULL);
	}
	sp->job_seq = sp->written_seq;
	sp->job.fd = fd;
	sp->job_busy = true;
	cl_workq_push(sp->wq, &sp->job.w);
	return 0;
}

/* Hands the write buffer to the kernel. */
static int
flush(struct cl_spool *sp)
{
	char name[PATH_LEN];

	if (sp->broken)
		return CL_ERR_SYSTEM;
	if (sp->wbuf.len > 0) {
		if (write_all(sp->wfd, sp->wbuf.d, sp->wbuf.len, sp->wfile) !=
		    0) {
			sp->broken = true;
			seg_name(name, sp->segs[sp->nsegs - 1].no, "");
			return sys_fail(sp, "write", name);
		}
		sp->wfile += sp->wbuf.len;
		cl_buf_reset(&sp->wbuf);
	}
	sp->written_seq = sp->next_seq - 1;
	return 0;
}

/*
 * Writes and fdatasyncs.  A failed fdatasync leaves the spool broken: the
 * kernel may have dropped the dirty pages and reports the error once, so
 * a retry that "succeeds" proves nothing (PostgreSQL's fsyncgate).
 */
static int
do_sync(struct cl_spool *sp)
{
	int r;

	if ((r = job_wait(sp)) != 0 || (r = flush(sp)) != 0)
		return r;
	if (sp->durable_seq < sp->written_seq) {
		if (fdatasync(sp->wfd) != 0) {
			char name[PATH_LEN];

			sp->broken = true;
			seg_name(name, sp->segs[sp->nsegs - 1].no, "");
			return sys_fail(sp, "fdatasync", name);
		}
		sp->durable_seq = sp->written_seq;
	}
	return 0;
}

/* ---- open / recovery ---- */

static int
add_cursor(struct cl_spool *sp, const char *name, uint64_t confirmed,
    struct cl_spool_cursor **out)
{
	struct cl_spool_cursor *c, **n;
	size_t cap;

	*out = NULL;
	if (sp->ncurs == sp->curcap) {
		cap = sp->curcap ? sp->curcap * 2 : 8;
		if ((n = reallocarray(sp->curs, cap, sizeof(*n))) == NULL)
			return CL_ERR_NOMEM;
		sp->curs = n;
		sp->curcap = cap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CL_ERR_NOMEM;
	c->sp = sp;
	(void)snprintf(c->name, sizeof(c->name), "%s", name);
	c->confirmed = confirmed;
	c->pos = confirmed;
	c->fd = -1;
	sp->curs[sp->ncurs++] = c;
	*out = c;
	return 0;
}

static void
cursor_close_fd(struct cl_spool_cursor *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	c->fd_seg = 0;
}

static void
cursor_free(struct cl_spool_cursor *c)
{
	if (c == NULL)
		return;
	cursor_close_fd(c);
	free(c->rbuf);
	free(c);
}

static int
load_cursor(struct cl_spool *sp, const char *fname, const char *name,
    struct cl_spool_report *rep)
{
	struct cl_spool_cursor *c;
	uint8_t b[CUR_FILE_LEN + 1];
	size_t got = 0;
	uint64_t pos;
	int fd, r;

	if ((fd = cl_openat_nofollow(sp->dirfd, fname, O_RDONLY, 0)) < 0)
		return sys_fail(sp, "open", fname);
	r = read_at(fd, b, sizeof(b), 0, &got);
	if (r != 0)
		r = sys_fail(sp, "read", fname);
	(void)close(fd);
	if (r != 0)
		return r;
	if ((r = parse_cursor_file(b, got, &pos)) != 0) {
		(void)snprintf(
		    rep->why, sizeof(rep->why), "bad cursor file %s", fname);
		return CL_ERR_FORMAT;
	}
	return add_cursor(sp, name, pos, &c);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists the directory: segment numbers, cursor files; removes temps. */
static int
list_dir(struct cl_spool *sp, uint64_t **nos, size_t *nno,
    struct cl_spool_report *rep)
{
	DIR *d = NULL;
	struct dirent *de;
	uint64_t *v = NULL, *nv, no;
	size_t n = 0, cap = 0, l;
	int fd = -1, r = CL_ERR_SYSTEM;

	*nos = NULL;
	*nno = 0;
	if ((fd = dup(sp->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		r = sys_fail(sp, "list the directory", NULL);
		goto out;
	}
	fd = -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0 &&
		    (strncmp(de->d_name, "seg-", 4) == 0 ||
			strncmp(de->d_name, "cur-", 4) == 0)) {
			/* An unfinished replace_file(): never renamed. */
			if (unlinkat(sp->dirfd, de->d_name, 0) != 0) {
				r = sys_fail(
				    sp, "delete the unfinished", de->d_name);
				goto out;
			}
			continue;
		}
		if (strncmp(de->d_name, "seg-", 4) == 0) {
			if (parse_seg_name(de->d_name, &no) != 0) {
				(void)snprintf(rep->why, sizeof(rep->why),
				    "bad segment file name");
				r = CL_ERR_FORMAT;
				goto out;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				if ((nv = reallocarray(v, cap, sizeof(*v))) ==
				    NULL) {
					r = CL_ERR_NOMEM;
					goto out;
				}
				v = nv;
			}
			v[n++] = no;
		} else if (strncmp(de->d_name, "cur-", 4) == 0) {
			if (!valid_name(de->d_name + 4)) {
				(void)snprintf(rep->why, sizeof(rep->why),
				    "bad cursor file name");
				r = CL_ERR_FORMAT;
				goto out;
			}
			if ((r = load_cursor(
				 sp, de->d_name, de->d_name + 4, rep)) != 0)
				goto out;
			r = CL_ERR_SYSTEM;
		}
		/* Anything else (lock, lost+found) is not ours. */
	}
	if (errno != 0) {
		r = sys_fail(sp, "read the directory", NULL);
		goto out;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_u64);
	*nos = v;
	*nno = n;
	v = NULL;
	r = 0;
out:
	if (d != NULL)
		(void)closedir(d);
	if (fd >= 0)
		(void)close(fd);
	free(v);
	return r;
}

/*
 * Finds the first record at or after p[from + 1] whose header names a
 * sequence number from seq to a bound no run of bytes this long could
 * exceed and whose CRC is right.  Returns its offset and number, or false.
 */
static bool
resync(const uint8_t *p, size_t len, size_t from, uint64_t seq, size_t *at,
    uint64_t *atseq)
{
	struct cl_spool_rec rec;
	struct cl_rd rd;
	uint64_t s, lim;
	size_t o = from + 1, used;

	lim = seq + (len - from) / CL_SPOOL_REC_HDR_LEN + 1;
	for (; o < len && len - o >= CL_SPOOL_REC_HDR_LEN; o++) {
		cl_rd_init(&rd, p + o, len - o);
		if (cl_rd_skip(&rd, 8) != 0 || cl_rd_u64(&rd, &s) != 0)
			break;
		if (s >= seq && s <= lim && s <= CL_SPOOL_SEQ_MAX &&
		    cl_spool_parse_record(p + o, len - o, s, &rec, &used) ==
			0) {
			*at = o;
			*atseq = s;
			return true;
		}
	}
	return false;
}

/*
 * Builds in sp->salvage the repaired image of the last segment p[0..len),
 * whose records are good up to info->good_len: every CRC-valid record that
 * can be resynchronised to is kept, each run of bad bytes between is
 * replaced by a LOST record covering the sequence numbers it held, and a
 * final run that no valid record follows is cut as a torn tail.  Fills
 * the lost and tail fields of rep and *nrecs (sequence numbers covered).
 */
static int
salvage(struct cl_spool *sp, const uint8_t *p, size_t len,
    const struct cl_spool_seginfo *info, struct cl_spool_report *rep,
    uint64_t *nrecs)
{
	struct cl_spool_rec rec;
	struct cl_buf img;
	struct cl_spool_lost *l;
	uint64_t seq, at_seq;
	size_t pos, at, used, keep;
	uint8_t *q;
	int r;

	*nrecs = 0;
	cl_buf_init(&img, CL_BUF_HARD_MAX);
	if ((r = cl_buf_put(&img, p, info->good_len)) != 0)
		goto out;
	pos = info->good_len;
	seq = info->first_seq + info->nrecs;
	while (pos < len) {
		if (!resync(p, len, pos, seq, &at, &at_seq)) {
			/* Nothing valid after it: a torn tail. */
			rep->tail_truncated = true;
			rep->tail_off = pos;
			rep->tail_dropped_bytes = len - pos;
			rep->tail_first_seq = seq;
			break;
		}
		if (rep->lost_nranges < CL_SPOOL_LOST_SHOW) {
			l = &rep->lost[rep->lost_nranges];
			l->off = pos;
			l->bytes = at - pos;
			l->first_seq = seq;
			l->nrecs = at_seq - seq;
		}
		rep->lost_nranges++;
		rep->lost_bytes += at - pos;
		rep->lost_records += at_seq - seq;
		if (at_seq > seq) {
			if ((r = cl_buf_reserve(
				 &img, CL_SPOOL_REC_HDR_LEN + 8, &q)) != 0)
				goto out;
			cl_store_u32(q, 8);
			cl_store_u16(q + 4, 0);
			cl_store_u16(q + 6, CL_SPOOL_F_LOST);
			store_u64(q + 8, seq);
			store_u64(q + CL_SPOOL_REC_HDR_LEN, at_seq - seq);
			cl_store_u32(q + 16,
			    cl_crc32c(cl_crc32c(0, q, CL_SPOOL_REC_HDR_LEN - 4),
				q + CL_SPOOL_REC_HDR_LEN, 8));
			if ((r = note_lost(sp, seq, at_seq - seq)) != 0)
				goto out;
		}
		/* Keep the valid records from there on, up to the next fault.
		 */
		pos = keep = at;
		seq = at_seq;
		while (pos < len &&
		    cl_spool_parse_record(
			p + pos, len - pos, seq, &rec, &used) == 0) {
			if (rec.lost != 0 &&
			    (r = note_lost(sp, rec.seq, rec.lost)) != 0)
				goto out;
			pos += used;
			seq += span_of(&rec);
			if (rec.lost == 0)
				rep->lost_kept++;
		}
		if ((r = cl_buf_put(&img, p + keep, pos - keep)) != 0)
			goto out;
	}
	*nrecs = seq - info->first_seq;
	sp->salvage = img.d;
	sp->salvage_len = img.len;
	img.d = NULL;
	r = 0;
out:
	cl_buf_release(&img);
	return r;
}

/*
 * Reads and checks segment no.  For the last segment a fault that no
 * CRC-valid record follows is a torn tail: *cut gets where to truncate
 * (0 if nothing).  A fault that valid records follow is corruption: an
 * error, or with opts.recover a repair prepared in sp->salvage.
 */
static int
check_segment(struct cl_spool *sp, uint64_t no, bool last,
    uint64_t expect_first, uint64_t *cut, struct cl_spool_report *rep)
{
	struct cl_spool_seginfo info;
	char name[PATH_LEN];
	struct stat st;
	struct seg s;
	uint64_t nrecs;
	void *map = MAP_FAILED;
	int fd = -1, r = CL_ERR_SYSTEM;

	*cut = 0;
	rep->seg = no;
	rep->off = 0;
	seg_name(name, no, "");
	(void)snprintf(
	    rep->segpath, sizeof(rep->segpath), "%s/%s", sp->dir, name);
	if ((fd = cl_openat_nofollow(sp->dirfd, name, O_RDONLY, 0)) < 0) {
		r = sys_fail(sp, "open", name);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = sys_fail(sp, "stat", name);
		goto out;
	}
	if (st.st_size > 0 &&
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
		 0)) == MAP_FAILED) {
		r = sys_fail(sp, "mmap", name);
		goto out;
	}
	r = scan(map == MAP_FAILED ? NULL : map, (size_t)st.st_size, last,
	    &info, note_lost, sp);
	if (r == CL_ERR_NOMEM)
		goto out;
	if (r != 0) {
		(void)snprintf(rep->why, sizeof(rep->why),
		    "bad segment header (%s)", cl_err_str(r));
		r = CL_ERR_FORMAT;
		goto out;
	}
	r = CL_ERR_FORMAT;
	if (info.segno != no) {
		(void)snprintf(rep->why, sizeof(rep->why),
		    "header says segment %llu", (unsigned long long)info.segno);
		goto out;
	}
	if (expect_first != 0 && info.first_seq != expect_first) {
		(void)snprintf(rep->why, sizeof(rep->why),
		    "first record %llu, expected %llu",
		    (unsigned long long)info.first_seq,
		    (unsigned long long)expect_first);
		goto out;
	}
	if (info.fault != 0 && !last) {
		rep->off = info.good_len;
		rep->bad_seq = info.first_seq + info.nrecs;
		(void)snprintf(rep->why, sizeof(rep->why),
		    "bad record %llu in a segment that is not the last (%s)",
		    (unsigned long long)(info.first_seq + info.nrecs),
		    cl_err_str(info.fault));
		goto out;
	}
	nrecs = info.nrecs;
	s.size = info.good_len;
	if (info.fault != 0 && info.intact_after > 0) {
		rep->off = info.good_len;
		rep->bad_seq = info.first_seq + info.nrecs;
		rep->valid_after = info.intact_after;
		if (!sp->o.recover) {
			(void)snprintf(rep->why, sizeof(rep->why),
			    "record %llu is bad (%s) and %llu CRC-valid "
			    "records follow it: the segment is corrupt (bit "
			    "rot or tampering), not torn by a crash",
			    (unsigned long long)rep->bad_seq,
			    cl_err_str(info.fault),
			    (unsigned long long)info.intact_after);
			goto out;
		}
		if ((r = salvage(
			 sp, map, (size_t)st.st_size, &info, rep, &nrecs)) != 0)
			goto out;
		s.size = sp->salvage_len;
		(void)snprintf(rep->why, sizeof(rep->why),
		    "corrupt at record %llu: %llu records (%llu octets) "
		    "lost in %u ranges, %llu CRC-valid records after them kept",
		    (unsigned long long)rep->bad_seq,
		    (unsigned long long)rep->lost_records,
		    (unsigned long long)rep->lost_bytes, rep->lost_nranges,
		    (unsigned long long)rep->lost_kept);
	} else if (info.fault != 0) {
		rep->tail_truncated = true;
		rep->off = rep->tail_off = info.good_len;
		rep->tail_dropped_bytes = (uint64_t)st.st_size - info.good_len;
		rep->tail_first_seq = info.first_seq + info.nrecs;
		rep->tail_intact_after = 0;
		(void)snprintf(rep->why, sizeof(rep->why),
		    "torn tail at record %llu (%s)",
		    (unsigned long long)rep->tail_first_seq,
		    cl_err_str(info.fault));
		*cut = info.good_len;
	}
	s.no = no;
	s.first_seq = info.first_seq;
	s.nrecs = nrecs;
	if ((r = push_seg(sp, &s)) != 0)
		goto out;
	sp->bytes += s.size;
	r = 0;
out:
	if (map != MAP_FAILED)
		(void)munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

static int
resolve_opts(const struct cl_spool_opts *in, struct cl_spool_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (in != NULL)
		*o = *in;
	if (o->seg_max == 0)
		o->seg_max = DEF_SEG_MAX;
	if (o->rec_max == 0)
		o->rec_max = DEF_REC_MAX;
	if (o->warn_pct == 0)
		o->warn_pct = DEF_WARN_PCT;
	if (o->interval_ms == 0)
		o->interval_ms = DEF_INTERVAL;
	if (o->wbuf_max == 0)
		o->wbuf_max = DEF_WBUF;
	if (o->rec_max > CL_SPOOL_REC_HARD_MAX || o->warn_pct > 100 ||
	    o->seg_max < CL_SPOOL_SEG_MIN ||
	    o->seg_max < (uint64_t)CL_SPOOL_SEG_HDR_LEN + CL_SPOOL_REC_HDR_LEN +
		    o->rec_max ||
	    o->wbuf_max > CL_BUF_HARD_MAX / 2 ||
	    (o->fsync != CL_SPOOL_FSYNC_ALWAYS &&
		o->fsync != CL_SPOOL_FSYNC_INTERVAL &&
		o->fsync != CL_SPOOL_FSYNC_NEVER))
		return CL_ERR_INVALID_ARG;
	return 0;
}

int
cl_spool_open(const char *dir, const struct cl_spool_opts *opts,
    struct cl_spool **spp, struct cl_spool_report *report)
{
	struct cl_spool_report rep_local, *rep;
	struct cl_spool *sp = NULL;
	uint64_t *nos = NULL, cut = 0, expect, first;
	char name[PATH_LEN];
	size_t nno = 0, i;
	int fd, r = CL_ERR_INTERNAL;

	*spp = NULL;
	rep = report != NULL ? report : &rep_local;
	memset(rep, 0, sizeof(*rep));
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return CL_ERR_NOMEM;
	sp->dirfd = sp->lockfd = sp->wfd = -1;
	if ((r = resolve_opts(opts, &sp->o)) != 0)
		goto out;
	cl_buf_init(
	    &sp->wbuf, sp->o.wbuf_max + CL_SPOOL_REC_HDR_LEN + sp->o.rec_max);
	if ((sp->dir = strdup(dir)) == NULL) {
		r = CL_ERR_NOMEM;
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = sys_fail(sp, "create the directory", NULL);
		goto out;
	}
	/* Owned by us or root, not writable by others, nor its parents. */
	if ((r = cl_dir_open_private(
		 dir, &sp->dirfd, sp->err, sizeof(sp->err))) != 0)
		goto out;
	if ((sp->lockfd = cl_openat_nofollow(
		 sp->dirfd, "lock", O_RDWR | O_CREAT, 0600)) < 0) {
		r = sys_fail(sp, "open the lock file", "lock");
		goto out;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			(void)snprintf(sp->err, sizeof(sp->err),
			    "another process holds the lock on %s/lock: the "
			    "spool is in use",
			    dir);
			r = CL_ERR_AGAIN;
		} else
			r = sys_fail(sp, "flock", "lock");
		goto out;
	}
	if ((r = list_dir(sp, &nos, &nno, rep)) != 0)
		goto out;

	/* Check everything before changing anything. */
	expect = 0;
	for (i = 0; i < nno; i++) {
		if (i > 0 && nos[i] != nos[i - 1] + 1) {
			rep->seg = nos[i - 1] + 1;
			(void)snprintf(
			    rep->why, sizeof(rep->why), "segment missing");
			r = CL_ERR_FORMAT;
			goto out;
		}
		if ((r = check_segment(
			 sp, nos[i], i + 1 == nno, expect, &cut, rep)) != 0)
			goto out;
		expect = sp->segs[i].first_seq + sp->segs[i].nrecs;
	}
	first = nno > 0 ? sp->segs[0].first_seq : 1;
	sp->next_seq = nno > 0 ? expect : 1;
	for (i = 0; i < sp->ncurs; i++) {
		if (sp->curs[i]->confirmed < first ||
		    sp->curs[i]->confirmed > sp->next_seq) {
			rep->seg = 0;
			rep->off = 0;
			(void)snprintf(rep->why, sizeof(rep->why),
			    "cursor %s at %llu, outside %llu..%llu",
			    sp->curs[i]->name,
			    (unsigned long long)sp->curs[i]->confirmed,
			    (unsigned long long)first,
			    (unsigned long long)sp->next_seq);
			r = CL_ERR_FORMAT;
			goto out;
		}
	}

	if (nno == 0) {
		if ((r = new_segment(sp, 1, 1)) != 0)
			goto out;
	} else {
		seg_name(name, nos[nno - 1], "");
		/*
		 * A repaired last segment replaces the old one whole (temp,
		 * fsync, rename, fsync dir): a crash leaves one or the other.
		 */
		if (sp->salvage != NULL &&
		    (r = replace_file(
			 sp, name, sp->salvage, sp->salvage_len)) != 0)
			goto out;
		if ((fd = cl_openat_nofollow(sp->dirfd, name, O_WRONLY, 0)) <
		    0) {
			r = sys_fail(sp, "open for writing", name);
			goto out;
		}
		sp->wfd = fd;
		if (sp->salvage == NULL && rep->tail_truncated &&
		    ftruncate(fd, (off_t)cut) != 0) {
			r = sys_fail(sp, "truncate the torn tail of", name);
			goto out;
		}
		/*
		 * What we read back may have been in the page cache only
		 * (the previous process died, the machine did not): make
		 * it durable before calling it so.
		 */
		if (fdatasync(fd) != 0) {
			r = sys_fail(sp, "fdatasync", name);
			goto out;
		}
		sp->wfile = sp->segs[sp->nsegs - 1].size;
	}
	free(sp->salvage);
	sp->salvage = NULL;
	if (fsync(sp->dirfd) != 0) {
		r = sys_fail(sp, "fsync", NULL);
		goto out;
	}
	sp->written_seq = sp->durable_seq = sp->next_seq - 1;
	if (sp->o.sync_thread && sp->o.fsync == CL_SPOOL_FSYNC_INTERVAL &&
	    (r = sync_thread_start(sp)) != 0)
		goto out;
	rep->first_seq = sp->segs[0].first_seq;
	rep->next_seq = sp->next_seq;
	rep->nsegs = (unsigned)sp->nsegs;
	rep->nlost_held = sp->nlost;
	if (!rep->tail_truncated && rep->lost_nranges == 0) {
		rep->seg = 0;
		rep->off = 0;
	}
	*spp = sp;
	sp = NULL;
	r = 0;
out:
	free(nos);
	if (r != 0 && sp != NULL && sp->err[0] != '\0')
		(void)snprintf(rep->why, sizeof(rep->why), "%s", sp->err);
	if (sp != NULL) {
		sp->broken = true; /* close must not write */
		(void)cl_spool_close(sp);
	}
	return r;
}

int
cl_spool_dirfd(const struct cl_spool *sp)
{
	return sp->dirfd;
}

int
cl_spool_close(struct cl_spool *sp)
{
	size_t i;
	int r = 0;

	if (sp == NULL)
		return 0;
	r = sync_thread_stop(sp);
	if (!sp->broken && sp->wfd >= 0)
		r = sp->o.fsync == CL_SPOOL_FSYNC_NEVER ? flush(sp)
							: do_sync(sp);
	for (i = 0; i < sp->ncurs; i++)
		cursor_free(sp->curs[i]);
	free(sp->curs);
	free(sp->segs);
	free(sp->lost);
	free(sp->salvage);
	free(sp->dir);
	cl_buf_release(&sp->wbuf);
	if (sp->wfd >= 0)
		(void)close(sp->wfd);
	if (sp->lockfd >= 0)
		(void)close(sp->lockfd); /* drops the flock */
	if (sp->dirfd >= 0)
		(void)close(sp->dirfd);
	free(sp);
	return r;
}

/* ---- writing ---- */

int
cl_spool_append(struct cl_spool *sp, uint16_t type, const void *p, size_t len,
    uint64_t *seq)
{
	struct seg *last;
	uint64_t need;
	uint8_t *q;
	bool roll;
	int r;

	*seq = 0;
	if (sp->broken)
		return CL_ERR_SYSTEM;
	if (len > sp->o.rec_max || (len > 0 && p == NULL))
		return len > sp->o.rec_max ? CL_ERR_TOOBIG : CL_ERR_INVALID_ARG;
	if (sp->next_seq > CL_SPOOL_SEQ_MAX)
		return CL_ERR_RANGE;
	last = &sp->segs[sp->nsegs - 1];
	need = CL_SPOOL_REC_HDR_LEN + len;
	roll = last->size + need > sp->o.seg_max && last->nrecs > 0;
	if (sp->o.capacity != 0 &&
	    sp->bytes + need + (roll ? CL_SPOOL_SEG_HDR_LEN : 0) >
		sp->o.capacity) {
		sp->refused++;
		sp->full = true;
		return CL_ERR_FULL;
	}
	if (roll) {
		/* Only the last segment may have a torn tail. */
		if ((r = do_sync(sp)) != 0)
			return r;
		if ((r = new_segment(sp, last->no + 1, sp->next_seq)) != 0) {
			sp->broken = true;
			return r;
		}
		last = &sp->segs[sp->nsegs - 1];
	}
	if (sp->wbuf.len + need > sp->o.wbuf_max && (r = flush(sp)) != 0)
		return r;
	if ((r = cl_buf_reserve(&sp->wbuf, need, &q)) != 0)
		return r;
	cl_store_u32(q, (uint32_t)len);
	cl_store_u16(q + 4, type);
	cl_store_u16(q + 6, 0);
	store_u64(q + 8, sp->next_seq);
	cl_store_u32(q + 16,
	    cl_crc32c(cl_crc32c(0, q, CL_SPOOL_REC_HDR_LEN - 4), p, len));
	if (len > 0)
		memcpy(q + CL_SPOOL_REC_HDR_LEN, p, len);
	last->nrecs++;
	last->size += need;
	sp->bytes += need;
	*seq = sp->next_seq++;
	if (sp->o.fsync == CL_SPOOL_FSYNC_ALWAYS && (r = do_sync(sp)) != 0) {
		/* The record is in the spool's order but not durable. */
		*seq = 0;
		return r;
	}
	return 0;
}

int
cl_spool_event_fd(const struct cl_spool *sp)
{
	return sp->wq != NULL ? cl_workq_fd(sp->wq) : -1;
}

uint64_t
cl_spool_durable(const struct cl_spool *sp)
{
	return sp->durable_seq;
}

uint64_t
cl_spool_committed(const struct cl_spool *sp)
{
	return sp->o.fsync == CL_SPOOL_FSYNC_NEVER ? sp->written_seq
						   : sp->durable_seq;
}

uint64_t
cl_spool_next_seq(const struct cl_spool *sp)
{
	return sp->next_seq;
}

int
cl_spool_commit(struct cl_spool *sp, uint64_t now_ms, uint64_t *committed)
{
	int r = 0;

	*committed = 0;
	if (sp->broken)
		return CL_ERR_SYSTEM;
	switch (sp->o.fsync) {
	case CL_SPOOL_FSYNC_ALWAYS:
		break;
	case CL_SPOOL_FSYNC_INTERVAL:
		if ((r = job_collect(sp)) != 0)
			return r;
		if (sp->next_seq - 1 > sp->durable_seq && !sp->job_busy &&
		    (!sp->synced_once || now_ms < sp->last_sync_ms ||
			now_ms - sp->last_sync_ms >= sp->o.interval_ms)) {
			if ((r = sp->wq != NULL ? job_start(sp)
						: do_sync(sp)) != 0)
				return r;
			sp->last_sync_ms = now_ms;
			sp->synced_once = true;
		}
		break;
	case CL_SPOOL_FSYNC_NEVER:
		if ((r = flush(sp)) != 0)
			return r;
		break;
	}
	*committed = cl_spool_committed(sp);
	return 0;
}

int
cl_spool_sync(struct cl_spool *sp, uint64_t *durable)
{
	int r;

	*durable = 0;
	if ((r = do_sync(sp)) != 0)
		return r;
	*durable = sp->durable_seq;
	return 0;
}

bool
cl_spool_commit_due(const struct cl_spool *sp, uint64_t *at_ms)
{
	*at_ms = 0;
	if (sp->o.fsync != CL_SPOOL_FSYNC_INTERVAL ||
	    sp->next_seq - 1 <= sp->durable_seq || sp->job_busy)
		return false;
	if (sp->synced_once)
		*at_ms = sp->last_sync_ms + sp->o.interval_ms;
	return true;
}

void
cl_spool_usage(const struct cl_spool *sp, struct cl_spool_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->bytes = sp->bytes;
	u->capacity = sp->o.capacity;
	u->segments = (unsigned)sp->nsegs;
	u->records = sp->next_seq - sp->segs[0].first_seq;
	u->refused = sp->refused;
	if (sp->o.capacity != 0) {
		u->pct = sp->bytes >= sp->o.capacity
		    ? 100
		    : (unsigned)(sp->bytes * 100 / sp->o.capacity);
		if (sp->full || sp->bytes >= sp->o.capacity)
			u->level = CL_SPOOL_LEVEL_FULL;
		else if (u->pct >= sp->o.warn_pct)
			u->level = CL_SPOOL_LEVEL_WARN;
	}
}

/* ---- cursors ---- */

static struct cl_spool_cursor *
find_cursor(struct cl_spool *sp, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < sp->ncurs; i++) {
		if (strcmp(sp->curs[i]->name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return sp->curs[i];
		}
	}
	return NULL;
}

int
cl_spool_cursor_open(
    struct cl_spool *sp, const char *name, struct cl_spool_cursor **curp)
{
	struct cl_spool_cursor *c;
	size_t cap;
	int r;

	*curp = NULL;
	if (!valid_name(name))
		return CL_ERR_INVALID_ARG;
	if ((c = find_cursor(sp, name, NULL)) != NULL && c->open)
		return CL_ERR_EXISTS;
	cap = RBUF_MIN;
	if (c == NULL) {
		/* Saved first: a cursor exists once it is on disk. */
		if ((r = save_cursor(sp, name, sp->segs[0].first_seq)) != 0)
			return r;
		if ((r = add_cursor(sp, name, sp->segs[0].first_seq, &c)) != 0)
			return r;
	}
	if (c->rbuf == NULL) {
		if ((c->rbuf = malloc(cap)) == NULL)
			return CL_ERR_NOMEM;
		c->rcap = cap;
	}
	c->rb_len = 0;
	c->pos = c->confirmed;
	c->hint_seq = 0;
	c->open = true;
	*curp = c;
	return 0;
}

/* Reads from segment no at off into the window, as much as fits. */
static int
fill(struct cl_spool_cursor *c, uint64_t no, uint64_t off)
{
	char name[PATH_LEN];
	size_t got;
	int r;

	c->rb_len = 0;
	if (c->fd_seg != no) {
		cursor_close_fd(c);
		seg_name(name, no, "");
		if ((c->fd = cl_openat_nofollow(
			 c->sp->dirfd, name, O_RDONLY, 0)) < 0)
			return sys_fail(c->sp, "open for reading", name);
		c->fd_seg = no;
	}
	if ((r = read_at(c->fd, c->rbuf, c->rcap, off, &got)) != 0) {
		seg_name(name, no, "");
		return sys_fail(c->sp, "read", name);
	}
	c->rb_seg = no;
	c->rb_off = off;
	c->rb_len = got;
	return 0;
}

static bool
in_window(const struct cl_spool_cursor *c, uint64_t no, uint64_t off, size_t n)
{
	return c->rb_seg == no && off >= c->rb_off &&
	    off - c->rb_off <= c->rb_len && c->rb_len - (off - c->rb_off) >= n;
}

/* Reads and checks record seq at (no, off); *used gets its length. */
static int
read_record(struct cl_spool_cursor *c, uint64_t no, uint64_t off, uint64_t seq,
    struct cl_spool_rec *rec, size_t *used)
{
	const uint8_t *p;
	struct cl_rd rd;
	uint32_t plen;
	size_t need;
	uint8_t *nb;
	int r;

	if (!in_window(c, no, off, CL_SPOOL_REC_HDR_LEN) &&
	    (r = fill(c, no, off)) != 0)
		return r;
	if (!in_window(c, no, off, CL_SPOOL_REC_HDR_LEN))
		return CL_ERR_FORMAT; /* the file is shorter than committed */
	/* Only the length, to know how much to read; parsed fully below. */
	cl_rd_init(&rd, c->rbuf + (off - c->rb_off),
	    c->rb_len - (size_t)(off - c->rb_off));
	if (cl_rd_u32(&rd, &plen) != 0 || plen > CL_SPOOL_REC_HARD_MAX)
		return CL_ERR_FORMAT;
	need = CL_SPOOL_REC_HDR_LEN + (size_t)plen;
	if (!in_window(c, no, off, need)) {
		if (need > c->rcap) {
			if ((nb = realloc(c->rbuf, need)) == NULL)
				return CL_ERR_NOMEM;
			c->rbuf = nb;
			c->rcap = need;
		}
		if ((r = fill(c, no, off)) != 0)
			return r;
		if (!in_window(c, no, off, need))
			return CL_ERR_FORMAT;
	}
	p = c->rbuf + (off - c->rb_off);
	if (cl_spool_parse_record(p, need, seq, rec, used) != 0 ||
	    *used != need)
		return CL_ERR_FORMAT;
	return 0;
}

/* Index of the segment that holds record seq. */
static int
seg_of(const struct cl_spool *sp, uint64_t seq, size_t *idx)
{
	size_t lo = 0, hi = sp->nsegs, mid;

	*idx = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (seq < sp->segs[mid].first_seq)
			hi = mid;
		else if (seq >= sp->segs[mid].first_seq + sp->segs[mid].nrecs)
			lo = mid + 1;
		else {
			*idx = mid;
			return 0;
		}
	}
	return CL_ERR_NOT_FOUND;
}

int
cl_spool_cursor_next(struct cl_spool_cursor *c, struct cl_spool_rec *rec)
{
	struct cl_spool *sp = c->sp;
	struct cl_spool_rec skip;
	uint64_t off, s, no;
	size_t i, used;
	int r;

	memset(rec, 0, sizeof(*rec));
	if (!c->open)
		return CL_ERR_INVALID_ARG;
	for (;;) {
		if (c->pos > cl_spool_committed(sp))
			return CL_ERR_AGAIN;
		if (CL_NEVER(seg_of(sp, c->pos, &i) != 0))
			return CL_ERR_INTERNAL;
		no = sp->segs[i].no;
		if (c->pos == sp->segs[i].first_seq)
			off = CL_SPOOL_SEG_HDR_LEN;
		else if (c->hint_seq == c->pos && c->hint_seg == no)
			off = c->hint_off;
		else {
			/* After open or rewind: walk the segment to pos (a
			 * position inside a LOST record goes to its start). */
			off = CL_SPOOL_SEG_HDR_LEN;
			s = sp->segs[i].first_seq;
			while (s < c->pos) {
				if ((r = read_record(
					 c, no, off, s, &skip, &used)) != 0)
					return r;
				if (s + span_of(&skip) > c->pos) {
					c->pos = s;
					break;
				}
				off += used;
				s += span_of(&skip);
			}
		}
		if ((r = read_record(c, no, off, c->pos, rec, &used)) != 0) {
			memset(rec, 0, sizeof(*rec));
			return r;
		}
		c->hint_seq = c->pos + span_of(rec);
		c->hint_seg = no;
		c->hint_off = off + used;
		c->pos += span_of(rec);
		if (rec->lost == 0)
			return 0;
		/* Records lost in a recovery: nothing to deliver. */
		memset(rec, 0, sizeof(*rec));
	}
}

int
cl_spool_cursor_confirm(struct cl_spool_cursor *c, uint64_t seq)
{
	int r;

	if (!c->open)
		return CL_ERR_INVALID_ARG;
	if (seq >= c->pos)
		return CL_ERR_RANGE;
	if (seq < c->confirmed)
		return 0;
	if ((r = save_cursor(c->sp, c->name, seq + 1)) != 0)
		return r;
	c->confirmed = seq + 1;
	return 0;
}

void
cl_spool_cursor_rewind(struct cl_spool_cursor *c)
{
	c->pos = c->confirmed;
	c->hint_seq = 0;
}

uint64_t
cl_spool_cursor_pos(const struct cl_spool_cursor *c)
{
	return c->pos;
}

uint64_t
cl_spool_cursor_confirmed(const struct cl_spool_cursor *c)
{
	return c->confirmed;
}

int
cl_spool_cursor_remove(struct cl_spool *sp, const char *name)
{
	struct cl_spool_cursor *c;
	char fname[PATH_LEN];
	size_t i;

	if (!valid_name(name))
		return CL_ERR_INVALID_ARG;
	if ((c = find_cursor(sp, name, &i)) == NULL)
		return CL_ERR_NOT_FOUND;
	(void)snprintf(fname, sizeof(fname), "cur-%s", name);
	if (unlinkat(sp->dirfd, fname, 0) != 0)
		return sys_fail(sp, "delete", fname);
	if (fsync(sp->dirfd) != 0)
		return sys_fail(sp, "fsync", NULL);
	cursor_free(c);
	sp->curs[i] = sp->curs[--sp->ncurs];
	return 0;
}

static uint64_t
min_confirmed(const struct cl_spool *sp)
{
	uint64_t min = UINT64_MAX;
	size_t i;

	for (i = 0; i < sp->ncurs; i++)
		if (sp->curs[i]->confirmed < min)
			min = sp->curs[i]->confirmed;
	return min;
}

bool
cl_spool_releasable(const struct cl_spool *sp)
{
	return sp->ncurs > 0 && sp->nsegs > 1 &&
	    sp->segs[0].first_seq + sp->segs[0].nrecs <= min_confirmed(sp);
}

int
cl_spool_release(struct cl_spool *sp, unsigned *nfreed)
{
	char name[PATH_LEN];
	uint64_t min = UINT64_MAX;
	unsigned n = 0;
	size_t i;
	int r = 0;

	if (nfreed != NULL)
		*nfreed = 0;
	if (sp->ncurs == 0)
		return 0;
	min = min_confirmed(sp);
	while (
	    sp->nsegs > 1 && sp->segs[0].first_seq + sp->segs[0].nrecs <= min) {
		seg_name(name, sp->segs[0].no, "");
		if (unlinkat(sp->dirfd, name, 0) != 0) {
			r = sys_fail(sp, "delete", name);
			break;
		}
		for (i = 0; i < sp->ncurs; i++)
			if (sp->curs[i]->fd_seg == sp->segs[0].no)
				cursor_close_fd(sp->curs[i]);
		sp->bytes -= sp->segs[0].size;
		memmove(sp->segs, sp->segs + 1,
		    (sp->nsegs - 1) * sizeof(*sp->segs));
		sp->nsegs--;
		n++;
	}
	if (n > 0) {
		if (fsync(sp->dirfd) != 0 && r == 0)
			r = sys_fail(sp, "fsync", NULL);
		if (sp->o.capacity == 0 || sp->bytes < sp->o.capacity)
			sp->full = false;
	}
	if (nfreed != NULL)
		*nfreed = n;
	return r;
}
