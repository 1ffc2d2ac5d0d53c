/* SPDX-License-Identifier: ISC */
/*
 * clearli-lemf output: JSON lines, per-LIID pcap files, durability and
 * rebuilding the receive state at start-up; see out.h.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ber.h"
#include "err.h"
#include "fsutil.h"
#include "htab.h"
#include "json.h"
#include "log.h"
#include "out.h"
#include "psdu.h"
#include "util.h"

#define JSONL          "pdus.jsonl"
#define RAW            "pdus.ber"
#define BUF_MAX        (64u * 1024 * 1024) /* pending output per file */
#define FLUSH_AT       (1024u * 1024)      /* flush early past this */
#define PCAP_MAX_FILES 65536u              /* LIIDs with a pcap file */
#define SYNC_FILES_MAX 8 /* more dirty files than this: one syncfs() */
_Static_assert(SYNC_FILES_MAX + 2 <= LEMF_SYNC_FDS, "a sync job holds them");

struct pcapf {
	uint8_t liid[CL_PSDU_LIID_MAX];
	size_t liid_len;
	int fd;       /* -1 while closed */
	bool checked; /* existing file checked this run */
	bool dirty;   /* written since the last sync */
	bool pending; /* in lemf_out.pend */
	uint64_t last_use;
	struct cl_buf buf;
};

struct lemf_out {
	int dfd;
	char *dir; /* the output directory, for messages */
	int jfd;
	bool jdirty;
	bool ddirty;       /* a file was created since the last sync */
	bool closed_dirty; /* a pcap file was closed with unsynced data */
	size_t open_max;   /* pcap files kept open (fd limit) */
	struct cl_buf jbuf;
	struct cl_htab pcaps;
	struct pcapf *open[LEMF_PCAP_OPEN_MAX];
	size_t nopen;
	/* Files with buffered records: a flush writes these only, not every
	 * open file (with 10 000 LIIDs that loop was 5 % of the LEMF). */
	struct pcapf **pend;
	size_t npend, pendcap;
	uint64_t tick;
	struct lemf_restore_stats rs;
	int rfd; /* pdus.ber (lemf_out_keep_raw()), or -1 */
	bool rdirty;
	struct cl_buf rbuf;
	lemf_restore_fn *restore_fn; /* each PDU line read at open */
	void *restore_arg;
};

/* ---- JSON ---- */

int
lemf_json_escape(struct cl_buf *b, const uint8_t *p, size_t n)
{
	size_t i = 0, k, run;
	int r;

	while (i < n) {
		uint8_t c = p[i];
		char e[7];

		/* Copy runs of plain characters at once. */
		for (run = i; run < n && p[run] >= 0x20 && p[run] < 0x7f &&
		     p[run] != '"' && p[run] != '\\';
		     run++)
			;
		if (run > i) {
			if ((r = cl_buf_put(b, p + i, run - i)) != 0)
				return r;
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			if ((r = cl_buf_put(b, e, 2)) != 0)
				return r;
			i++;
			continue;
		}
		if (c >= 0x80 && (k = cl_utf8_seq(p + i, n - i)) > 0) {
			if ((r = cl_buf_put(b, p + i, k)) != 0)
				return r;
			i += k;
			continue;
		}
		e[0] = '\\';
		e[1] = 'u';
		e[2] = '0';
		e[3] = '0';
		cl_format_hex(&c, 1, e + 4);
		if ((r = cl_buf_put(b, e, 6)) != 0)
			return r;
		i++;
	}
	return 0;
}

struct jw {
	struct cl_buf *b;
	int r;
	bool first;
};

static void
jput(struct jw *w, const void *p, size_t n)
{
	if (w->r == 0)
		w->r = cl_buf_put(w->b, p, n);
}

static void
jkey(struct jw *w, const char *k)
{
	jput(w, w->first ? "{\"" : ",\"", 2);
	w->first = false;
	jput(w, k, strlen(k));
	jput(w, "\":", 2);
}

/* Decimal digits of v at the end of s[20]; returns where they start.
 * Several numbers per line: snprintf() was a tenth of the LEMF's time. */
static char *
fmt_u64(char s[static 20], uint64_t v)
{
	char *q = s + 20;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return q;
}

static void
j_u64(struct jw *w, const char *k, uint64_t v)
{
	char s[20], *q = fmt_u64(s, v);

	jkey(w, k);
	jput(w, q, (size_t)(s + 20 - q));
}

static void
j_lit(struct jw *w, const char *k, const char *lit)
{
	jkey(w, k);
	jput(w, lit, strlen(lit));
}

static void
j_str(struct jw *w, const char *k, const uint8_t *p, size_t n)
{
	jkey(w, k);
	jput(w, "\"", 1);
	if (w->r == 0)
		w->r = lemf_json_escape(w->b, p, n);
	jput(w, "\"", 1);
}

static void
j_cstr(struct jw *w, const char *k, const char *s)
{
	j_str(w, k, (const uint8_t *)s, strlen(s));
}

/* A name if there is one, else the number. */
static void
j_name(struct jw *w, const char *k, const char *name, int v)
{
	if (name != NULL)
		j_cstr(w, k, name);
	else
		j_u64(w, k, (uint64_t)v);
}

static void
j_hex(struct jw *w, const char *k, const uint8_t *p, size_t n)
{
	uint8_t *q;

	jkey(w, k);
	jput(w, "\"", 1);
	if (w->r == 0 && (w->r = cl_buf_reserve(w->b, 2 * n + 1, &q)) == 0) {
		cl_format_hex(p, n, (char *)q);
		w->b->len--; /* the NUL */
	}
	jput(w, "\"", 1);
}

/* Two digits of v (0..99) at s. */
static void
fmt_2(char *s, int v)
{
	s[0] = (char)('0' + v / 10);
	s[1] = (char)('0' + v % 10);
}

/* RFC 3339 with microseconds, or null outside years 0..9999. */
static void
j_time(struct jw *w, const char *k, int64_t sec, uint32_t usec)
{
	/*
	 * Formatting dominated the LEMF's profile.  The date and time part
	 * changes once a second, so the last two are kept (a line has the
	 * capture time and the receive time, which differ); the rest is
	 * written by hand.
	 */
	static struct {
		int64_t sec;
		char s[21]; /* "YYYY-MM-DDTHH:MM:SS. */
	} cache[2] = {{-1, ""}, {-1, ""}};
	static unsigned victim;
	char s[32];
	struct tm tm;
	time_t t = (time_t)sec;
	unsigned c;
	int i;

	if (sec < 0 || sec > 253402300799LL || usec > 999999) {
		j_lit(w, k, "null");
		return;
	}
	if (cache[0].sec == sec)
		c = 0;
	else if (cache[1].sec == sec)
		c = 1;
	else {
		if (gmtime_r(&t, &tm) == NULL) {
			j_lit(w, k, "null");
			return;
		}
		c = victim;
		victim ^= 1;
		cache[c].s[0] = '"';
		fmt_2(cache[c].s + 1, (tm.tm_year + 1900) / 100);
		fmt_2(cache[c].s + 3, (tm.tm_year + 1900) % 100);
		cache[c].s[5] = '-';
		fmt_2(cache[c].s + 6, tm.tm_mon + 1);
		cache[c].s[8] = '-';
		fmt_2(cache[c].s + 9, tm.tm_mday);
		cache[c].s[11] = 'T';
		fmt_2(cache[c].s + 12, tm.tm_hour);
		cache[c].s[14] = ':';
		fmt_2(cache[c].s + 15, tm.tm_min);
		cache[c].s[17] = ':';
		fmt_2(cache[c].s + 18, tm.tm_sec);
		cache[c].s[20] = '.';
		cache[c].sec = sec;
	}
	memcpy(s, cache[c].s, 21);
	for (i = 5; i >= 0; i--) {
		s[21 + i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	s[27] = 'Z';
	s[28] = '"';
	jkey(w, k);
	jput(w, s, 29);
}

static void
j_end(struct jw *w)
{
	jput(w, "}\n", 2);
}

/* The PDU's time: microSecondTimeStamp, else timeStamp. */
static bool
pdu_time(const struct cl_psdu_info *in, int64_t *sec, uint32_t *usec)
{
	if (in->has_msts && in->msts_sec <= 253402300799ULL) {
		*sec = (int64_t)in->msts_sec;
		*usec = in->msts_usec;
		return true;
	}
	if (in->has_ts) {
		*sec = in->ts_sec;
		*usec = in->ts_usec;
		return true;
	}
	return false;
}

static void
j_ids(struct jw *w, const struct cl_psdu_info *in, const char *kind)
{
	j_cstr(w, "kind", kind);
	j_str(w, "liid", in->liid.p, in->liid.len);
	if (!cl_utf8_clean(in->liid.p, in->liid.len))
		j_hex(w, "liid_hex", in->liid.p, in->liid.len);
	j_u64(w, "cin", in->cin);
}

static void
j_addr(struct jw *w, const struct cl_psdu_ipaddr_dec *a)
{
	char s[INET6_ADDRSTRLEN];

	if (a->text)
		j_str(w, "target", a->value.p, a->value.len);
	else if (a->value.len == 4 &&
	    inet_ntop(AF_INET, a->value.p, s, sizeof(s)) != NULL)
		j_cstr(w, "target", s);
	else if (a->value.len == 16 &&
	    inet_ntop(AF_INET6, a->value.p, s, sizeof(s)) != NULL)
		j_cstr(w, "target", s);
	else
		j_hex(w, "target_hex", a->value.p, a->value.len);
	if (a->assignment >= 0)
		j_u64(w, "assignment", (uint64_t)a->assignment);
	if (a->prefix_len >= 0)
		j_u64(w, "prefix", (uint64_t)a->prefix_len);
}

static void
j_iri(struct jw *w, const struct cl_psdu_info *in, bool raw)
{
	const struct cl_psdu_iri_dec *i = &in->iri;

	if (i->type >= 0)
		j_name(w, "iri", cl_psdu_iri_type_name(i->type), i->type);
	if (i->sub != CL_PSDU_SUB_IPIRI) {
		j_cstr(w, "contents", "other");
		j_u64(w, "tag", in->tag);
		j_u64(w, "contents_len", in->other.len);
		return;
	}
	j_name(w, "access_event", cl_psdu_access_event_name(i->access_event),
	    i->access_event);
	j_str(w, "user", i->user.p, i->user.len);
	j_u64(w, "access", (uint64_t)i->access_type);
	j_u64(w, "ipver", (uint64_t)i->ip_version);
	if (i->target.present)
		j_addr(w, &i->target);
	if (i->has_start)
		j_time(w, "start", i->start_sec, i->start_usec);
	if (i->has_end)
		j_time(w, "end", i->end_sec, i->end_usec);
	if (i->end_reason >= 0)
		j_u64(w, "end_reason", (uint64_t)i->end_reason);
	if (i->has_octets_rx)
		j_u64(w, "octets_rx", i->octets_rx);
	if (i->has_octets_tx)
		j_u64(w, "octets_tx", i->octets_tx);
	if (i->has_aaa) {
		j_u64(w, "aaa_len", i->aaa.len);
		if (raw)
			j_hex(w, "aaa", i->aaa.p, i->aaa.len);
	}
	if (i->auth_type >= 0)
		j_u64(w, "auth", (uint64_t)i->auth_type);
	if (i->skipped > 0)
		j_u64(w, "skipped", i->skipped);
}

static void
j_cc(struct jw *w, const struct cl_psdu_info *in, bool raw)
{
	const struct cl_psdu_cc_dec *c = &in->cc;

	if (c->dir >= 0)
		j_name(w, "dir", cl_psdu_dir_name(c->dir), c->dir);
	if (c->sub != CL_PSDU_SUB_IPCC) {
		j_cstr(w, "contents", "other");
		j_u64(w, "tag", in->tag);
		j_u64(w, "contents_len", in->other.len);
		return;
	}
	j_u64(w, "ip_len", c->ip.len);
	if (raw)
		j_hex(w, "ip", c->ip.p, c->ip.len);
}

static void
j_integrity(
    struct jw *w, const struct cl_psdu_info *in, const struct lemf_result *res)
{
	const struct cl_psdu_tri_dec *x = &in->tri;
	struct cl_rd rd;
	struct cl_span v;
	uint64_t u;
	bool first = true;
	char s[20], *q;

	if (x->data_type == CL_PSDU_DATA_IRI)
		j_cstr(w, "data", "iri");
	else if (x->data_type == CL_PSDU_DATA_CC)
		j_cstr(w, "data", "cc");
	else if (x->data_type >= 0)
		j_u64(w, "data", (uint64_t)x->data_type);
	j_u64(w, "check", (uint64_t)x->check_type);
	jkey(w, "seqs");
	jput(w, "[", 1);
	/* Straight from the decoded span: checked by cl_psdu_decode(). */
	cl_rd_init(&rd, x->seqs.p, x->seqs.len);
	while (cl_rd_left(&rd) > 0 &&
	    cl_ber_expect(&rd, 0, CL_BER_UNIVERSAL, CL_BER_TAG_INTEGER, &v) ==
		0 &&
	    cl_ber_get_uint64(v, &u) == 0) {
		q = fmt_u64(s, u);
		if (!first)
			jput(w, ",", 1);
		jput(w, q, (size_t)(s + 20 - q));
		first = false;
	}
	jput(w, "]", 1);
	j_u64(w, "count", x->nseqs);
	if (res == NULL || res->verified < 0)
		j_lit(w, "verified", "null");
	else
		j_lit(w, "verified", res->verified ? "true" : "false");
	if (res != NULL && res->verified == 0)
		j_cstr(w, "why", res->why);
}

static void
j_tri(struct jw *w, const struct cl_psdu_info *in)
{
	const struct cl_psdu_tri_dec *x = &in->tri;

	j_name(w, "tri", cl_psdu_tri_name(x->which), x->which);
	if (x->which == CL_PSDU_TRI_OPTION_REQ)
		j_lit(w, "ack_requested", x->ack_requested ? "true" : "false");
	if (x->which == CL_PSDU_TRI_OPTION_RESP) {
		j_lit(w, "ack_accepted", x->ack_accepted ? "true" : "false");
		j_lit(w, "ack_declined", x->ack_declined ? "true" : "false");
	}
}

int
lemf_json_pdu(struct cl_buf *b, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res, bool raw,
    const struct timespec *rx)
{
	struct jw w = {b, 0, true};
	size_t start = b->len;
	const char *kind;
	int64_t sec;
	uint32_t usec;

	switch (in->kind) {
	case CL_PSDU_KIND_IRI:
		kind = "iri";
		break;
	case CL_PSDU_KIND_CC:
		kind = "cc";
		break;
	case CL_PSDU_KIND_TRI:
		kind = in->tri.which == CL_PSDU_TRI_INTEGRITY ? "integrity"
							      : "tri";
		break;
	default:
		kind = "other";
	}
	j_ids(&w, in, kind);
	j_u64(&w, "seq", in->seq);
	if (pdu_time(in, &sec, &usec))
		j_time(&w, "time", sec, usec);
	else
		j_lit(&w, "time", "null");
	if (rx != NULL)
		j_time(&w, "rx", rx->tv_sec, (uint32_t)(rx->tv_nsec / 1000));
	j_u64(&w, "len", in->pdu.len);
	j_hex(&w, "sha256", hash, 32);
	if (raw) {
		j_u64(&w, "version", in->version);
		if (in->country.len > 0)
			j_str(&w, "country", in->country.p, in->country.len);
		j_str(&w, "operator", in->operator_id.p, in->operator_id.len);
		if (in->ne_id.len > 0)
			j_str(&w, "ne", in->ne_id.p, in->ne_id.len);
		if (in->ipid.len > 0)
			j_str(&w, "ipid", in->ipid.p, in->ipid.len);
	}
	if (in->npayloads > 1)
		j_u64(&w, "payloads", in->npayloads);
	switch (in->kind) {
	case CL_PSDU_KIND_IRI:
		j_iri(&w, in, raw);
		break;
	case CL_PSDU_KIND_CC:
		j_cc(&w, in, raw);
		break;
	case CL_PSDU_KIND_TRI:
		if (in->tri.which == CL_PSDU_TRI_INTEGRITY)
			j_integrity(&w, in, res);
		else
			j_tri(&w, in);
		break;
	default:
		j_u64(&w, "tag", in->tag);
		j_u64(&w, "contents_len", in->other.len);
	}
	j_end(&w);
	if (w.r != 0)
		b->len = start;
	return w.r;
}

void
lemf_summary_line(const struct lemf_counts *c, char *buf, size_t len)
{
	snprintf(buf, len,
	    "summary: pdus=%llu iri=%llu cc=%llu integrity=%llu "
	    "duplicates=%llu conflicts=%llu gaps=%llu bad=%llu "
	    "integrity_ok=%llu integrity_failed=%llu",
	    (unsigned long long)c->pdus, (unsigned long long)c->iri,
	    (unsigned long long)c->cc, (unsigned long long)c->integrity,
	    (unsigned long long)c->duplicates, (unsigned long long)c->conflicts,
	    (unsigned long long)c->gaps, (unsigned long long)c->bad,
	    (unsigned long long)c->integrity_ok,
	    (unsigned long long)c->integrity_failed);
}

/* ---- files ---- */

static bool
pcap_eq(const void *v, const void *k, size_t len)
{
	const struct pcapf *p = v;

	return p->liid_len == len && memcmp(p->liid, k, len) == 0;
}

void
lemf_liid_text(const uint8_t *liid, size_t len, char *buf, size_t blen)
{
	if (blen < 3 * len + 1) {
		if (blen > 0)
			buf[0] = '\0';
		return;
	}
	cl_esc(liid, len, buf, blen, CL_ESC_NAME);
}

void
lemf_pcap_name(const uint8_t *liid, size_t len, char *buf, size_t blen)
{
	char t[3 * CL_PSDU_LIID_MAX + 1];

	if (len > CL_PSDU_LIID_MAX || blen < 3 * len + 9) {
		if (blen > 0)
			buf[0] = '\0';
		return;
	}
	lemf_liid_text(liid, len, t, sizeof(t));
	snprintf(buf, blen, "cc-%s.pcap", t);
}

/* Writes all of b to fd and empties b. */
static int
write_all(int fd, struct cl_buf *b)
{
	size_t off = 0;
	ssize_t k;

	while (off < b->len) {
		k = write(fd, b->d + off, b->len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* Keep what was not written for the error report. */
			(void)cl_buf_consume(b, off);
			return CL_ERR_SYSTEM;
		}
		off += (size_t)k;
	}
	cl_buf_reset(b);
	return 0;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
pcap_header(uint8_t h[24])
{
	put_le32(h, 0xa1b2c3d4); /* microsecond resolution */
	h[4] = 2;
	h[5] = 0;
	h[6] = 4;
	h[7] = 0;
	memset(h + 8, 0, 8); /* thiszone, sigfigs */
	put_le32(h + 16, LEMF_PCAP_SNAPLEN);
	put_le32(h + 20, 101); /* LINKTYPE_RAW */
}

/*
 * Checks an existing pcap file before appending: our header, whole
 * records.  A partial last record is cut; a file that is not ours is
 * moved aside.  Leaves the offset at the end.
 */
static int
pcap_check(struct lemf_out *o, struct pcapf *p, const char *name)
{
	uint8_t h[24], want[24], rh[16];
	struct stat st;
	uint64_t off = 24, size;
	char aside[512];
	ssize_t k;

	if (fstat(p->fd, &st) != 0)
		return CL_ERR_SYSTEM;
	size = (uint64_t)st.st_size;
	pcap_header(want);
	if (size >= 24 &&
	    (pread(p->fd, h, 24, 0) != 24 || memcmp(h, want, 24) != 0)) {
		snprintf(aside, sizeof(aside), "%s.foreign-%lld", name,
		    (long long)time(NULL));
		cl_err("%s: not a pcap file written by clearli-lemf; moved to "
		       "%s, starting a new one",
		    name, aside);
		if (renameat(o->dfd, name, o->dfd, aside) != 0)
			return CL_ERR_SYSTEM;
		close(p->fd);
		p->fd = cl_openat_nofollow(
		    o->dfd, name, O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0640);
		if (p->fd < 0)
			return CL_ERR_SYSTEM;
		size = 0;
	}
	if (size < 24) {
		if (size > 0)
			cl_warn("%s: partial header (%llu bytes) cut", name,
			    (unsigned long long)size);
		if (ftruncate(p->fd, 0) != 0 || write(p->fd, want, 24) != 24)
			return CL_ERR_SYSTEM;
		p->dirty = true;
		o->ddirty = true;
		return 0;
	}
	while (off + 16 <= size) {
		if ((k = pread(p->fd, rh, 16, (off_t)off)) != 16)
			return CL_ERR_SYSTEM;
		if (off + 16 + get_le32(rh + 8) > size)
			break;
		off += 16 + get_le32(rh + 8);
	}
	if (off != size) {
		cl_warn("%s: partial last record (%llu bytes) cut", name,
		    (unsigned long long)(size - off));
		if (ftruncate(p->fd, (off_t)off) != 0)
			return CL_ERR_SYSTEM;
		p->dirty = true;
	}
	return 0;
}

/*
 * Closes the i-th open pcap file.  Its data is not synced here: with many
 * LIIDs an fdatasync() per eviction made the LEMF's cost grow with the
 * number of LIIDs; the next lemf_out_sync() covers closed files with one
 * syncfs() of the output file system instead.
 */
static int
pcap_close_one(struct lemf_out *o, size_t i)
{
	struct pcapf *p = o->open[i];
	int r = 0;

	/* Records written now are not synced either: the next sync must
	 * cover this file after it is closed. */
	if (p->dirty || p->buf.len > 0)
		o->closed_dirty = true;
	if (write_all(p->fd, &p->buf) != 0)
		r = CL_ERR_SYSTEM;
	close(p->fd);
	p->fd = -1;
	p->dirty = false;
	o->open[i] = o->open[--o->nopen];
	return r;
}

/* The open pcap file of a LIID, creating or reopening it. */
static int
pcap_get(struct lemf_out *o, const struct cl_psdu_info *in, struct pcapf **out)
{
	struct pcapf *p;
	char name[128];
	size_t i, lru = 0;
	int r;

	*out = NULL;
	if ((p = cl_htab_get(&o->pcaps, in->liid.p, in->liid.len)) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return CL_ERR_NOMEM;
		memcpy(p->liid, in->liid.p, in->liid.len);
		p->liid_len = in->liid.len;
		p->fd = -1;
		cl_buf_init(&p->buf, BUF_MAX);
		if ((r = cl_htab_put(&o->pcaps, p->liid, p->liid_len, p)) !=
		    0) {
			cl_buf_release(&p->buf);
			free(p);
			return r;
		}
	}
	p->last_use = ++o->tick;
	if (p->fd >= 0) {
		*out = p;
		return 0;
	}
	if (o->nopen >= o->open_max) {
		for (i = 1; i < o->nopen; i++)
			if (o->open[i]->last_use < o->open[lru]->last_use)
				lru = i;
		if ((r = pcap_close_one(o, lru)) != 0)
			return r;
	}
	lemf_pcap_name(p->liid, p->liid_len, name, sizeof(name));
	p->fd =
	    cl_openat_nofollow(o->dfd, name, O_RDWR | O_CREAT | O_APPEND, 0640);
	if (p->fd < 0) {
		cl_err("%s/%s: cannot open: %s", o->dir, name,
		    cl_fs_strerror(errno));
		return CL_ERR_SYSTEM;
	}
	o->open[o->nopen++] = p;
	if (!p->checked) {
		if ((r = pcap_check(o, p, name)) != 0) {
			cl_err(
			    "%s/%s: %s", o->dir, name, cl_fs_strerror(errno));
			return r;
		}
		p->checked = true;
	}
	*out = p;
	return 0;
}

static int
pcap_record(struct lemf_out *o, const struct cl_psdu_info *in,
    const struct cl_span ip, const struct timespec *rx)
{
	struct pcapf *p;
	uint8_t rh[16];
	uint32_t sec = (uint32_t)rx->tv_sec,
		 usec = (uint32_t)(rx->tv_nsec / 1000), incl = (uint32_t)ip.len;
	int r;

	if (in->has_msts && in->msts_sec <= UINT32_MAX) {
		sec = (uint32_t)in->msts_sec;
		usec = in->msts_usec;
	} else if (in->has_ts && in->ts_sec >= 0 && in->ts_sec <= UINT32_MAX) {
		sec = (uint32_t)in->ts_sec;
		usec = in->ts_usec;
	}
	if (incl > LEMF_PCAP_SNAPLEN) {
		cl_warn(
		    "CC packet of %zu octets (LIID seq %u) cut to %u in the "
		    "pcap file",
		    ip.len, in->seq, LEMF_PCAP_SNAPLEN);
		incl = LEMF_PCAP_SNAPLEN;
	}
	if ((r = pcap_get(o, in, &p)) != 0)
		return r;
	put_le32(rh, sec);
	put_le32(rh + 4, usec);
	put_le32(rh + 8, incl);
	put_le32(rh + 12, (uint32_t)ip.len);
	if (!p->pending) {
		if (o->npend == o->pendcap) {
			size_t nc = o->pendcap ? o->pendcap * 2 : 64;
			struct pcapf **np;

			if ((np = reallocarray(o->pend, nc, sizeof(*np))) ==
			    NULL)
				return CL_ERR_NOMEM;
			o->pend = np;
			o->pendcap = nc;
		}
		o->pend[o->npend++] = p;
		p->pending = true;
	}
	if ((r = cl_buf_put(&p->buf, rh, 16)) != 0 ||
	    (r = cl_buf_put(&p->buf, ip.p, incl)) != 0)
		return r;
	if (p->buf.len >= FLUSH_AT) {
		if (write_all(p->fd, &p->buf) != 0)
			return CL_ERR_SYSTEM;
		p->dirty = true;
	}
	return 0;
}

int
lemf_out_flush(struct lemf_out *o)
{
	size_t i;

	/* Files closed since (pcap_close_one()) have empty buffers. */
	for (i = 0; i < o->npend; i++) {
		struct pcapf *p = o->pend[i];

		if (p->buf.len > 0) {
			if (write_all(p->fd, &p->buf) != 0) {
				/* the rest stays listed for the next try */
				memmove(o->pend, o->pend + i,
				    (o->npend - i) * sizeof(*o->pend));
				o->npend -= i;
				return CL_ERR_SYSTEM;
			}
			p->dirty = true;
		}
		p->pending = false;
	}
	o->npend = 0;
	/* The raw PDUs before the lines that describe them. */
	if (o->rbuf.len > 0) {
		if (write_all(o->rfd, &o->rbuf) != 0)
			return CL_ERR_SYSTEM;
		o->rdirty = true;
	}
	if (o->jbuf.len > 0) {
		if (write_all(o->jfd, &o->jbuf) != 0)
			return CL_ERR_SYSTEM;
		o->jdirty = true;
	}
	return 0;
}

static void
job_close(struct lemf_sync_job *j)
{
	size_t i;

	for (i = 0; i < j->nfd; i++)
		(void)close(j->fd[i]);
	j->nfd = 0;
	if (j->dirfd != -1)
		(void)close(j->dirfd);
	j->dirfd = -1;
}

static int
job_add(struct lemf_sync_job *j, int fd)
{
	int d;

	if (j->nfd == LEMF_SYNC_FDS)
		return CL_ERR_INTERNAL;
	if ((d = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return CL_ERR_SYSTEM;
	j->fd[j->nfd++] = d;
	return 0;
}

int
lemf_out_sync_begin(struct lemf_out *o, struct lemf_sync_job *j)
{
	size_t i, ndirty = 0;
	int r;

	memset(j, 0, sizeof(*j));
	j->dirfd = -1;
	if ((r = lemf_out_flush(o)) != 0)
		return r;
	for (i = 0; i < o->nopen; i++)
		ndirty += o->open[i]->dirty;
	/*
	 * With many LIIDs, many pcap files change between two answers: one
	 * syncfs() of the output file system then costs far less than an
	 * fdatasync() each (one journal commit instead of one per file), and
	 * it also covers files closed since the last sync.
	 */
	if (o->closed_dirty || ndirty > SYNC_FILES_MAX) {
		if ((r = job_add(j, o->dfd)) != 0)
			return r;
		j->fs = true;
		for (i = 0; i < o->nopen; i++)
			o->open[i]->dirty = false;
		o->jdirty = o->rdirty = o->ddirty = o->closed_dirty = false;
		return 0;
	}
	for (i = 0; i < o->nopen; i++) {
		struct pcapf *p = o->open[i];

		if (p->dirty) {
			if ((r = job_add(j, p->fd)) != 0)
				goto fail;
			p->dirty = false;
		}
	}
	if (o->jdirty) {
		if ((r = job_add(j, o->jfd)) != 0)
			goto fail;
		o->jdirty = false;
	}
	if (o->rdirty) {
		if ((r = job_add(j, o->rfd)) != 0)
			goto fail;
		o->rdirty = false;
	}
	if (o->ddirty) {
		if ((j->dirfd = fcntl(o->dfd, F_DUPFD_CLOEXEC, 0)) == -1) {
			r = CL_ERR_SYSTEM;
			goto fail;
		}
		o->ddirty = false;
	}
	return 0;
fail:
	job_close(j);
	return r;
}

int
lemf_sync_run(struct lemf_sync_job *j)
{
	size_t i;
	int r = 0;

	j->err = 0;
	if (j->fs) {
		if (syncfs(j->fd[0]) != 0)
			j->err = errno;
	} else {
		for (i = 0; i < j->nfd && j->err == 0; i++)
			if (fdatasync(j->fd[i]) != 0)
				j->err = errno;
		if (j->err == 0 && j->dirfd != -1 && fsync(j->dirfd) != 0)
			j->err = errno;
	}
	job_close(j);
	if (j->err != 0) {
		errno = j->err;
		r = CL_ERR_SYSTEM;
	}
	return r;
}

int
lemf_out_sync(struct lemf_out *o)
{
	struct lemf_sync_job j;
	int r;

	if ((r = lemf_out_sync_begin(o, &j)) != 0)
		return r;
	return lemf_sync_run(&j);
}

static int
json_flush_early(struct lemf_out *o)
{
	if (o->jbuf.len < FLUSH_AT)
		return 0;
	/* pcap first: a JSON line must not name a packet not yet written */
	return lemf_out_flush(o);
}

int
lemf_out_pdu(struct lemf_out *o, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res,
    const struct timespec *rx)
{
	struct cl_psdu_info one;
	size_t i;
	int r;

	if (in->kind == CL_PSDU_KIND_CC) {
		for (i = 0; i < in->npayloads; i++) {
			if ((r = cl_psdu_payload_at(in, i, &one)) != 0)
				return r;
			if (one.cc.sub == CL_PSDU_SUB_IPCC &&
			    (r = pcap_record(o, &one, one.cc.ip, rx)) != 0)
				return r;
		}
	}
	if (o->rfd >= 0 &&
	    (r = cl_buf_put(&o->rbuf, in->pdu.p, in->pdu.len)) != 0)
		return r;
	if ((r = lemf_json_pdu(&o->jbuf, in, hash, res, false, rx)) != 0)
		return r;
	if (o->rbuf.len >= FLUSH_AT)
		return lemf_out_flush(o);
	return json_flush_early(o);
}

int
lemf_out_keep_raw(struct lemf_out *o, const char *dir, char *err, size_t errlen)
{
	if (o->rfd >= 0)
		return 0;
	if ((o->rfd = openat(o->dfd, RAW,
		 O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		 0640)) < 0) {
		snprintf(
		    err, errlen, "open %s/" RAW ": %s", dir, strerror(errno));
		return CL_ERR_SYSTEM;
	}
	o->ddirty = true;
	return 0;
}

static void
j_event_head(
    struct jw *w, const char *ev, const struct cl_psdu_info *in, int kind)
{
	j_cstr(w, "event", ev);
	j_cstr(w, "kind", lemf_kind_name(kind));
	j_str(w, "liid", in->liid.p, in->liid.len);
	if (!cl_utf8_clean(in->liid.p, in->liid.len))
		j_hex(w, "liid_hex", in->liid.p, in->liid.len);
	j_u64(w, "cin", in->cin);
}

static int
event_done(struct lemf_out *o, struct jw *w, size_t start)
{
	j_end(w);
	if (w->r != 0) {
		o->jbuf.len = start;
		return w->r;
	}
	return json_flush_early(o);
}

int
lemf_out_gap(struct lemf_out *o, const struct cl_psdu_info *in,
    const struct lemf_result *res, const struct timespec *rx)
{
	struct jw w = {&o->jbuf, 0, true};
	size_t start = o->jbuf.len;

	j_event_head(&w, "gap", in, res->kind);
	j_u64(&w, "expected", res->expected);
	j_u64(&w, "got", in->seq);
	j_u64(&w, "missing", in->seq - res->expected);
	j_time(&w, "rx", rx->tv_sec, (uint32_t)(rx->tv_nsec / 1000));
	return event_done(o, &w, start);
}

int
lemf_out_conflict(struct lemf_out *o, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res,
    const struct timespec *rx)
{
	struct jw w = {&o->jbuf, 0, true};
	size_t start = o->jbuf.len;

	j_event_head(&w, "conflict", in, res->kind);
	j_u64(&w, "seq", in->seq);
	j_hex(&w, "sha256", hash, 32);
	if (res->has_stored)
		j_hex(&w, "stored_sha256", res->stored, 32);
	j_u64(&w, "len", in->pdu.len);
	j_time(&w, "rx", rx->tv_sec, (uint32_t)(rx->tv_nsec / 1000));
	return event_done(o, &w, start);
}

int
lemf_out_bad(struct lemf_out *o, const char *peer, uint64_t offset, int err,
    const char *why, const struct timespec *rx)
{
	struct jw w = {&o->jbuf, 0, true};
	size_t start = o->jbuf.len;

	j_cstr(&w, "event", "bad-pdu");
	j_cstr(&w, "why", why);
	j_cstr(&w, "error", cl_err_str(err));
	j_cstr(&w, "peer", peer);
	j_u64(&w, "offset", offset);
	j_time(&w, "rx", rx->tv_sec, (uint32_t)(rx->tv_nsec / 1000));
	return event_done(o, &w, start);
}

int
lemf_out_summary(struct lemf_out *o, const struct lemf_counts *c)
{
	char s[1024];
	int n, fd, r = 0;

	n = snprintf(s, sizeof(s),
	    "{\"pdus\":%llu,\"iri\":%llu,\"cc\":%llu,\"integrity\":%llu,"
	    "\"other\":%llu,\"duplicates\":%llu,\"dup_unverified\":%llu,"
	    "\"conflicts\":%llu,\"gaps\":%llu,\"bad\":%llu,\"control\":%llu,"
	    "\"integrity_ok\":%llu,\"integrity_failed\":%llu,"
	    "\"streams_evicted\":%llu}\n",
	    (unsigned long long)c->pdus, (unsigned long long)c->iri,
	    (unsigned long long)c->cc, (unsigned long long)c->integrity,
	    (unsigned long long)c->other, (unsigned long long)c->duplicates,
	    (unsigned long long)c->dup_unverified,
	    (unsigned long long)c->conflicts, (unsigned long long)c->gaps,
	    (unsigned long long)c->bad, (unsigned long long)c->control,
	    (unsigned long long)c->integrity_ok,
	    (unsigned long long)c->integrity_failed,
	    (unsigned long long)c->streams_evicted);
	fd = cl_openat_nofollow(
	    o->dfd, "summary.json.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0) {
		cl_err("%s/summary.json.tmp: cannot open: %s", o->dir,
		    cl_fs_strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (write(fd, s, (size_t)n) != n || fsync(fd) != 0)
		r = CL_ERR_SYSTEM;
	close(fd);
	if (r == 0 &&
	    renameat(o->dfd, "summary.json.tmp", o->dfd, "summary.json") != 0)
		r = CL_ERR_SYSTEM;
	return r;
}

/* ---- restart ---- */

/*
 * The fields of a line that restore the receive state; the rest is read
 * (strictly) and skipped.  Known fields of the wrong type make the line
 * unreadable.  A LIID that is not clean UTF-8 was written with \u00XX
 * escapes in "liid" and exactly in "liid_hex", which is then the one read.
 */
int
lemf_jline_parse(const uint8_t *p, size_t len, struct lemf_jline *l, char *err,
    size_t errlen)
{
	const struct cl_json_val *root, *v;
	struct cl_json *doc = NULL;
	const char *s;
	size_t n;
	int r;

	memset(l, 0, sizeof(*l));
	l->kind = -1;
	if ((r = cl_json_parse(p, len, LEMF_LINE_MAX,
		 CL_JSON_ALLOW_NUL | CL_JSON_BIG_INT, &doc, err, errlen)) != 0)
		return r;
	r = CL_ERR_FORMAT;
	root = cl_json_root(doc);
	if (!cl_json_is_object(root)) {
		snprintf(err, errlen, "not an object");
		goto out;
	}
	l->event = cl_json_get(root, "event") != NULL;
	if ((v = cl_json_get(root, "kind")) != NULL) {
		if (cl_json_str(v, &s, &n) != 0) {
			snprintf(err, errlen, "\"kind\" is not a string");
			goto out;
		}
		if (n == 3 && memcmp(s, "iri", 3) == 0)
			l->kind = LEMF_KIND_IRI;
		else if (n == 2 && memcmp(s, "cc", 2) == 0)
			l->kind = LEMF_KIND_CC;
		else if (n == 9 && memcmp(s, "integrity", 9) == 0)
			l->kind = LEMF_KIND_INTEGRITY;
	}
	if ((v = cl_json_get(root, "liid_hex")) != NULL) {
		if (cl_json_str(v, &s, &n) != 0 ||
		    cl_hex_decode(
			s, n, l->liid, sizeof(l->liid), &l->liid_len) != 0) {
			snprintf(err, errlen,
			    "\"liid_hex\" is not hex of 1 to %d bytes",
			    CL_PSDU_LIID_MAX);
			goto out;
		}
		l->has_liid = true;
	}
	if ((v = cl_json_get(root, "liid")) != NULL) {
		/* Beside "liid_hex", its UTF-8 may be longer than the LIID. */
		if (cl_json_str(v, &s, &n) != 0 ||
		    (!l->has_liid && (n < 1 || n > CL_PSDU_LIID_MAX))) {
			snprintf(err, errlen,
			    "\"liid\" is not a string of 1 to %d bytes",
			    CL_PSDU_LIID_MAX);
			goto out;
		}
		if (!l->has_liid) {
			memcpy(l->liid, s, n);
			l->liid_len = n;
			l->has_liid = true;
		}
	}
	if ((v = cl_json_get(root, "cin")) != NULL) {
		if (cl_json_u64(doc, v, 0, UINT32_MAX, &l->cin) != 0) {
			snprintf(err, errlen, "\"cin\" is not 0..2^32-1");
			goto out;
		}
		l->has_cin = true;
	}
	if ((v = cl_json_get(root, "seq")) != NULL) {
		if (cl_json_u64(doc, v, 0, UINT32_MAX, &l->seq) != 0) {
			snprintf(err, errlen, "\"seq\" is not 0..2^32-1");
			goto out;
		}
		l->has_seq = true;
	}
	if ((v = cl_json_get(root, "sha256")) != NULL) {
		if (cl_json_str(v, &s, &n) != 0 || n != 64 ||
		    cl_hex_decode(s, n, l->hash, sizeof(l->hash), &n) != 0) {
			snprintf(
			    err, errlen, "\"sha256\" is not 64 hex digits");
			goto out;
		}
		l->has_hash = true;
	}
	r = 0;
out:
	cl_json_free(doc);
	return r;
}

static void
restore_line(struct lemf_out *o, struct lemf_recv *rv, const uint8_t *p,
    size_t len, uint64_t lineno)
{
	char err[CL_JSON_ERR_MAX];
	struct lemf_jline l;
	int r;

	(void)rv; /* handed on through o->restore_fn */
	o->rs.lines++;
	if ((r = lemf_jline_parse(p, len, &l, err, sizeof(err))) != 0) {
		if (r == CL_ERR_NOMEM)
			cl_fatal("out of memory reading %s/" JSONL ":%llu",
			    o->dir, (unsigned long long)lineno);
		o->rs.bad_lines++;
		cl_warn("%s/" JSONL ":%llu: cannot be read (%s); ignored",
		    o->dir, (unsigned long long)lineno, err);
		return;
	}
	if (l.event || l.kind < 0)
		return;
	if (!l.has_liid || !l.has_cin || !l.has_seq || !l.has_hash) {
		o->rs.bad_lines++;
		cl_warn("%s/" JSONL ":%llu: lacks liid, cin, seq or sha256; "
			"ignored",
		    o->dir, (unsigned long long)lineno);
		return;
	}
	if (o->restore_fn(o->restore_arg, l.kind, l.liid, l.liid_len,
		(uint32_t)l.cin, (uint32_t)l.seq, l.hash) != 0)
		cl_fatal("out of memory rebuilding the stream state");
	o->rs.pdus++;
}

/* Reads pdus.jsonl, restores rv, cuts a partial last line. */
static int
restore(struct lemf_out *o, struct lemf_recv *rv)
{
	static uint8_t chunk[65536];
	struct cl_buf line;
	uint64_t off = 0, good = 0, lineno = 0;
	bool toolong = false;
	ssize_t k;
	size_t i, s;
	int r = 0;

	cl_buf_init(&line, LEMF_LINE_MAX);
	for (;;) {
		k = pread(o->jfd, chunk, sizeof(chunk), (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = CL_ERR_SYSTEM;
			goto out;
		}
		if (k == 0)
			break;
		for (s = 0, i = 0; i < (size_t)k; i++) {
			if (chunk[i] != '\n')
				continue;
			if (!toolong &&
			    cl_buf_put(&line, chunk + s, i - s) != 0)
				toolong = true;
			lineno++;
			if (toolong) {
				o->rs.lines++;
				o->rs.bad_lines++;
				cl_warn("%s/" JSONL ":%llu: longer than %u "
					"bytes; ignored",
				    o->dir, (unsigned long long)lineno,
				    LEMF_LINE_MAX);
			} else
				restore_line(o, rv, line.d, line.len, lineno);
			cl_buf_reset(&line);
			toolong = false;
			s = i + 1;
			good = off + i + 1;
		}
		if (!toolong &&
		    cl_buf_put(&line, chunk + s, (size_t)k - s) != 0)
			toolong = true;
		off += (size_t)k;
	}
	if (off != good) {
		o->rs.cut_bytes = off - good;
		cl_warn(JSONL ": partial last line (%llu bytes, left by a "
			      "crash) cut off",
		    (unsigned long long)(off - good));
		if (ftruncate(o->jfd, (off_t)good) != 0 || fsync(o->jfd) != 0) {
			r = CL_ERR_SYSTEM;
			goto out;
		}
	}
out:
	cl_buf_release(&line);
	return r;
}

static int
recv_restore(void *arg, int kind, const uint8_t *liid, size_t liid_len,
    uint32_t cin, uint32_t seq, const uint8_t hash[static 32])
{
	return lemf_recv_restore(arg, kind, liid, liid_len, cin, seq, hash);
}

int
lemf_out_open(const char *dir, struct lemf_recv *rv, struct lemf_out **out,
    char *err, size_t errlen)
{
	int dfd, r;

	*out = NULL;
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return CL_ERR_SYSTEM;
	}
	/* Owned by us or root, not writable by others, nor its parents. */
	if ((r = cl_dir_open_private(dir, &dfd, err, errlen)) != 0)
		return r;
	return lemf_out_open_with(dfd, dir, recv_restore, rv, out, err, errlen);
}

int
lemf_out_open_with(int dfd, const char *dir, lemf_restore_fn *fn, void *arg,
    struct lemf_out **out, char *err, size_t errlen)
{
	struct lemf_out *o;
	int r = CL_ERR_SYSTEM;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		close(dfd);
		snprintf(err, errlen, "out of memory");
		return CL_ERR_NOMEM;
	}
	o->dfd = dfd;
	o->restore_fn = fn;
	o->restore_arg = arg;
	o->jfd = o->rfd = -1;
	cl_buf_init(&o->rbuf, BUF_MAX);
	{
		/* Leave room for connections and everything else. */
		struct rlimit rl;

		o->open_max = 16;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur > 16 + 400)
			o->open_max = rl.rlim_cur - 400 > LEMF_PCAP_OPEN_MAX
			    ? LEMF_PCAP_OPEN_MAX
			    : (size_t)(rl.rlim_cur - 400);
	}
	cl_buf_init(&o->jbuf, BUF_MAX);
	if (cl_htab_init(&o->pcaps, PCAP_MAX_FILES, pcap_eq) != 0) {
		snprintf(err, errlen, "out of memory");
		r = CL_ERR_NOMEM;
		goto fail;
	}
	if ((o->dir = strdup(dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		r = CL_ERR_NOMEM;
		goto fail;
	}
	r = CL_ERR_SYSTEM;
	if ((o->jfd = cl_openat_nofollow(
		 o->dfd, JSONL, O_RDWR | O_CREAT | O_APPEND, 0640)) < 0) {
		snprintf(err, errlen, "%s/" JSONL ": cannot open: %s", dir,
		    cl_fs_strerror(errno));
		goto fail;
	}
	if ((r = restore(o, NULL)) != 0) {
		snprintf(err, errlen, "%s/" JSONL ": %s", dir, strerror(errno));
		goto fail;
	}
	/* The directory entries must survive a crash too. */
	(void)fsync(o->dfd);
	*out = o;
	return 0;
fail:
	(void)lemf_out_close(o);
	return r;
}

const struct lemf_restore_stats *
lemf_out_restored(const struct lemf_out *o)
{
	return &o->rs;
}

int
lemf_out_close(struct lemf_out *o)
{
	struct pcapf *p;
	size_t pos = 0;
	int r = 0;

	if (o == NULL)
		return 0;
	if (o->jfd >= 0 && o->dfd >= 0)
		r = lemf_out_sync(o);
	while (o->nopen > 0)
		if (pcap_close_one(o, o->nopen - 1) != 0)
			r = CL_ERR_SYSTEM;
	while ((p = cl_htab_next(&o->pcaps, &pos)) != NULL) {
		cl_buf_release(&p->buf);
		free(p);
	}
	cl_htab_release(&o->pcaps);
	free(o->pend);
	if (o->jfd >= 0)
		close(o->jfd);
	if (o->rfd >= 0)
		close(o->rfd);
	cl_buf_release(&o->rbuf);
	if (o->dfd >= 0) {
		(void)fsync(o->dfd);
		close(o->dfd);
	}
	cl_buf_release(&o->jbuf);
	free(o->dir);
	free(o);
	return r;
}
