/* SPDX-License-Identifier: ISC */
/*
 * The POI's capture role (roles.h): opens the interface or the capture
 * file before its privileges go, then holds nothing else.  It copies
 * packets into the packet ring: from a file as fast as the ring takes
 * them (a full ring is waited for, never a drop) or at the capture's
 * own pace (--pace); from an interface as they come: while the ring is
 * full it holds the packet that did not fit and leaves the rest in the
 * kernel's capture ring (256 MiB), which is what absorbs a burst; what
 * the kernel drops is counted (pcap_stats()).  It parses nothing but the
 * capture file's record headers.
 */
#include <sys/socket.h>

#include <linux/if_packet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capfile.h"
#include "err.h"
#include "imsg.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "roles.h"
#include "sandbox.h"

#define BATCH       256
#define POI_SNAPLEN 65535

static const struct cl_imsg_type to_capture[] = {
    {POI_IMSG_STATS_REQ, "stats request", 0, 0, 0, false, 0},
    {POI_IMSG_STOP, "stop", 0, 0, 0, false, 0},
};

const struct cl_imsg_type poi_from_capture[] = {
    {POI_IMSG_READY, "ready", 0, 0, 0, false, CL_IMSG_T_ONCE},
    {POI_IMSG_CAPTURE_STATS, "capture stats", sizeof(struct poi_capture_stats),
	sizeof(struct poi_capture_stats), 0, false, 0},
    {POI_IMSG_CAPTURE_DONE, "capture done", sizeof(struct poi_capture_stats),
	sizeof(struct poi_capture_stats), 0, false, CL_IMSG_T_ONCE},
};
const size_t poi_from_capture_n =
    sizeof(poi_from_capture) / sizeof(poi_from_capture[0]);

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

struct capture {
	struct poi_capture_cfg *cfg;
	struct cl_loop *l;
	struct cl_imsgbuf *ib;
	struct cl_ring *ring;
	struct cl_loop_io *sock_io, *space_io, *pcap_io;
	struct cl_loop_timer *feed_t;
	struct cl_cap *cap;
	pcap_t *pcap;
	int linktype;
	struct cl_cap_pkt pkt;
	bool have_pkt;
	uint8_t *held; /* live: the packet the full ring refused */
	bool have_held;
	uint64_t lost;   /* live: packets refused while one was held */
	uint64_t kdrops; /* live: packets the kernel dropped */
	struct pace pace;
	bool eof, end_pending, end_sent;
	struct poi_capture_stats st;
	int status;
};

static struct capture K;

static void
flush_sock(struct capture *k)
{
	if (cl_imsg_flush(k->ib) == CL_ERR_AGAIN)
		(void)cl_loop_io_set(k->sock_io, CL_LOOP_READ | CL_LOOP_WRITE);
	else
		(void)cl_loop_io_set(k->sock_io, CL_LOOP_READ);
}

/* A record returned with a repaired timestamp: warned about once. */
static void
cap_flags(struct capture *k, const struct cl_cap_pkt *p)
{
	if ((p->flags & CL_CAP_F_TS_NORMALISED) != 0 &&
	    k->st.ts_normalised++ == 0)
		cl_warn("%s: record at offset %llu has a fraction of a second "
			"of 1 s or more; the whole seconds were carried "
			"(warned once; the count is in the summary)",
		    k->cfg->read_file,
		    (unsigned long long)cl_cap_offset(k->cap));
	if ((p->flags & CL_CAP_F_TS_INVALID) != 0 && k->st.ts_invalid++ == 0)
		cl_warn("%s: record at offset %llu has a timestamp beyond "
			"64-bit seconds; it is read without one (warned "
			"once; the count is in the summary)",
		    k->cfg->read_file,
		    (unsigned long long)cl_cap_offset(k->cap));
}

static bool
push(struct capture *k, const struct cl_cap_pkt *pkt)
{
	struct poi_rec_pkt h;
	uint8_t *p;

	if ((p = cl_ring_reserve(k->ring, sizeof(h) + pkt->caplen)) == NULL)
		return false;
	memset(&h, 0, sizeof(h));
	h.ts_sec = pkt->ts_sec;
	h.ts_nsec = pkt->ts_nsec;
	h.caplen = pkt->caplen;
	h.wirelen = pkt->wirelen;
	h.linktype = pkt->linktype;
	h.ifindex = pkt->ifindex;
	h.flags = pkt->flags;
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), pkt->data, pkt->caplen);
	cl_ring_commit(k->ring, POI_REC_PKT, sizeof(h) + pkt->caplen);
	return true;
}

static void live_drops(struct capture *k);
static void live_resume(struct capture *k);

/* The end record goes after the last packet; the match role passes it
 * on to the output role, which flushes and says so. */
static void
send_end(struct capture *k)
{
	k->end_pending = true;
	if (k->end_sent)
		return;
	if (k->have_held) {
		if (!push(k, &k->pkt)) {
			if (cl_ring_wait_space(k->ring,
				sizeof(struct poi_rec_pkt) + k->pkt.caplen))
				(void)cl_loop_io_set(k->space_io, CL_LOOP_READ);
			else
				cl_loop_timer_soon(k->feed_t);
			return;
		}
		k->have_held = false;
	}
	if (cl_ring_reserve(k->ring, 0) == NULL) {
		if (cl_ring_wait_space(k->ring, 0))
			(void)cl_loop_io_set(k->space_io, CL_LOOP_READ);
		else
			cl_loop_timer_soon(k->feed_t);
		return;
	}
	cl_ring_commit(k->ring, POI_REC_END, 0);
	cl_ring_publish(k->ring);
	k->end_sent = true;
	if (k->pcap_io != NULL)
		(void)cl_loop_io_set(k->pcap_io, 0);
	(void)cl_loop_timer_cancel(k->feed_t);
	live_drops(k);
	(void)cl_imsg_compose(
	    k->ib, POI_IMSG_CAPTURE_DONE, -1, &k->st, sizeof(k->st));
	flush_sock(k);
}

/* Copies pkt into the packet ring; false if there is no room now. */

/* --read: a batch of records into the ring, unless it is full (the
 * output is behind: wait, never drop) or --pace holds the next one. */
static void
feed(void *arg)
{
	struct capture *k = arg;
	size_t i;
	int r, wait;

	if (k->end_pending) {
		send_end(k);
		return;
	}
	if (k->have_held) {
		live_resume(k);
		return;
	}
	if (k->cap == NULL || k->eof)
		return;
	for (i = 0; i < BATCH; i++) {
		if (!k->have_pkt) {
			r = cl_cap_next(k->cap, &k->pkt);
			if (r != 1) {
				if (r < 0) {
					cl_err(
					    "%s: bad record at offset %llu: "
					    "%s; the rest of the file is not "
					    "read",
					    k->cfg->read_file,
					    (unsigned long long)
						cl_cap_error_offset(k->cap),
					    cl_err_str(r));
					k->st.read_incomplete = 1;
				}
				k->eof = true;
				cl_ring_publish(k->ring);
				send_end(k);
				return;
			}
			k->have_pkt = true;
			if (k->pkt.flags != 0)
				cap_flags(k, &k->pkt);
		}
		if (k->cfg->pace && (wait = pace_wait(&k->pace, &k->pkt)) > 0) {
			cl_ring_publish(k->ring);
			(void)cl_loop_timer_after(k->feed_t, (uint64_t)wait);
			return;
		}
		if (!push(k, &k->pkt)) {
			cl_ring_publish(k->ring);
			if (cl_ring_wait_space(k->ring,
				sizeof(struct poi_rec_pkt) + k->pkt.caplen))
				(void)cl_loop_io_set(k->space_io, CL_LOOP_READ);
			else
				cl_loop_timer_soon(k->feed_t);
			return;
		}
		k->have_pkt = false;
	}
	cl_ring_publish(k->ring);
	cl_loop_timer_soon(k->feed_t);
}

static void
on_space(void *arg, int fd, unsigned what)
{
	struct capture *k = arg;

	(void)what;
	cl_ring_clear(fd);
	(void)cl_loop_io_set(k->space_io, 0);
	feed(k);
}

static void
pcap_cb(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *k = (struct capture *)arg;
	struct cl_cap_pkt p;

	p.data = bytes;
	p.caplen = h->caplen;
	p.wirelen = h->len;
	p.ts_sec = h->ts.tv_sec;
	p.ts_nsec = (uint32_t)h->ts.tv_usec * 1000;
	p.linktype = (uint32_t)k->linktype;
	p.ifindex = 0;
	p.flags = 0;
	if (k->have_held) {
		/* Not after pcap_breakloop(); counted should it happen. */
		k->lost++;
		return;
	}
	if (push(k, &p))
		return;
	/* The ring is full: keep this one, leave the rest in the kernel's
	 * ring until there is room. */
	if (p.caplen > POI_SNAPLEN)
		p.caplen = POI_SNAPLEN;
	memcpy(k->held, bytes, p.caplen);
	p.data = k->held;
	k->pkt = p;
	k->have_held = true;
	pcap_breakloop(k->pcap);
}

/*
 * Adds the kernel's drop count to the statistics; says so once.  Not
 * pcap_stats(): in promiscuous mode it opens files under /sys, which the
 * filter refuses.  The kernel resets its counters at every read.
 */
static void
live_drops(struct capture *k)
{
	struct tpacket_stats_v3 ts;
	socklen_t len = sizeof(ts);

	if (k->pcap == NULL)
		return;
	memset(&ts, 0, sizeof(ts));
	if (getsockopt(pcap_get_selectable_fd(k->pcap), SOL_PACKET,
		PACKET_STATISTICS, &ts, &len) == 0)
		k->kdrops += ts.tp_drops;
	if (k->kdrops + k->lost > 0 && k->st.drops == 0)
		cl_warn("capture: %llu packets dropped: the POI is behind "
			"(counted in clearli_poi_capture_dropped_total)",
		    (unsigned long long)(k->kdrops + k->lost));
	k->st.drops = k->kdrops + k->lost;
}

/* The held packet into the ring, then the capture again. */
static void
live_resume(struct capture *k)
{
	if (!push(k, &k->pkt)) {
		if (cl_ring_wait_space(
			k->ring, sizeof(struct poi_rec_pkt) + k->pkt.caplen))
			(void)cl_loop_io_set(k->space_io, CL_LOOP_READ);
		else
			cl_loop_timer_soon(k->feed_t);
		return;
	}
	k->have_held = false;
	cl_ring_publish(k->ring);
	if (!k->end_pending)
		(void)cl_loop_io_set(k->pcap_io, CL_LOOP_READ);
}

static void
on_pcap(void *arg, int fd, unsigned what)
{
	struct capture *k = arg;
	int r;

	(void)fd;
	(void)what;
	r = pcap_dispatch(k->pcap, 4096, pcap_cb, (u_char *)k);
	if (r < 0 && r != PCAP_ERROR_BREAK) {
		cl_err("capture: %s", pcap_geterr(k->pcap));
		k->status = 1;
		cl_loop_stop(k->l);
	}
	cl_ring_publish(k->ring);
	if (k->have_held) {
		(void)cl_loop_io_set(k->pcap_io, 0);
		live_resume(k);
	}
}

static void
on_sock(void *arg, int fd, unsigned what)
{
	struct capture *k = arg;
	struct cl_imsg im;
	char err[256];
	int r;

	(void)fd;
	if ((what & CL_LOOP_WRITE) != 0)
		flush_sock(k);
	if ((what & CL_LOOP_READ) == 0)
		return;
	if ((r = cl_imsg_read(k->ib)) == CL_ERR_AGAIN)
		return;
	if (r < 0) {
		cl_loop_stop(k->l); /* the parent closed: the end */
		return;
	}
	while ((r = cl_imsg_get(k->ib, &im, err, sizeof(err))) == 1) {
		if (im.type == POI_IMSG_STATS_REQ) {
			live_drops(k);
			(void)cl_imsg_compose(k->ib, POI_IMSG_CAPTURE_STATS, -1,
			    &k->st, sizeof(k->st));
		} else if (im.type == POI_IMSG_STOP && !k->end_pending) {
			/* SIGTERM: no more packets; what is in the ring
			 * still goes out. */
			if (k->pcap == NULL)
				k->have_pkt = false;
			k->eof = true;
			if (k->pcap_io != NULL)
				(void)cl_loop_io_set(k->pcap_io, 0);
			(void)cl_loop_timer_cancel(k->feed_t);
			send_end(k);
		}
	}
	if (r < 0) {
		cl_err("capture role: from the parent: %s", err);
		k->status = 1;
		cl_loop_stop(k->l);
		return;
	}
	flush_sock(k);
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
	(void)pcap_set_snaplen(p, POI_SNAPLEN);
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

/* While still privileged: the interface (CAP_NET_RAW) or the file. */
static int
capture_prepare(void *arg, int sock)
{
	struct capture *k = &K;
	int fds[CL_RING_FDS];
	char err[1024];
	int r;

	k->cfg = arg;
	if (k->cfg->read_file != NULL) {
		if ((r = cl_cap_open_path(
			 k->cfg->read_file, &k->cap, err, sizeof(err))) != 0) {
			cl_err("--read: %s", err);
			return r;
		}
		cl_info("reading %s (%s)", k->cfg->read_file,
		    cl_cap_format(k->cap) == CL_CAP_PCAPNG ? "pcapng" : "pcap");
	} else {
		if ((k->held = malloc(POI_SNAPLEN)) == NULL)
			return CL_ERR_NOMEM;
		if ((k->pcap = open_live(k->cfg->interface)) == NULL)
			return CL_ERR_SYSTEM;
		k->linktype = pcap_datalink(k->pcap);
		cl_info("capturing on %s", k->cfg->interface);
	}
	fds[0] = POI_CAPTURE_PKT_FD;
	fds[1] = POI_CAPTURE_PKT_FD + 1;
	fds[2] = POI_CAPTURE_PKT_FD + 2;
	if ((r = cl_ring_attach(fds, &k->ring)) != 0) {
		cl_err("capture role: packet ring: %s", cl_err_str(r));
		return r;
	}
	if ((r = cl_imsg_new(sock, to_capture,
		 sizeof(to_capture) / sizeof(to_capture[0]), &k->ib)) != 0 ||
	    (r = cl_loop_new(&k->l)) != 0 ||
	    (k->sock_io = cl_loop_io_new(k->l, sock, on_sock, k)) == NULL ||
	    (k->space_io = cl_loop_io_new(
		 k->l, cl_ring_space_fd(k->ring), on_space, k)) == NULL ||
	    (k->feed_t = cl_loop_timer_new(k->l, feed, k)) == NULL ||
	    cl_loop_io_set(k->sock_io, CL_LOOP_READ) != 0 ||
	    (k->pcap != NULL &&
		((k->pcap_io = cl_loop_io_new(k->l,
		      pcap_get_selectable_fd(k->pcap), on_pcap, k)) == NULL ||
		    cl_loop_io_set(k->pcap_io, CL_LOOP_READ) != 0))) {
		cl_err("capture role: event loop: %s",
		    cl_err_str(r != 0 ? r : CL_ERR_NOMEM));
		return r != 0 ? r : CL_ERR_NOMEM;
	}
	return 0;
}

static int
capture_main(void *arg, int sock)
{
	struct capture *k = &K;

	(void)arg;
	(void)sock;
	(void)cl_imsg_compose(k->ib, POI_IMSG_READY, -1, NULL, 0);
	flush_sock(k);
	if (k->cap != NULL)
		cl_loop_timer_soon(k->feed_t);
	if (cl_loop_run(k->l) != 0 && k->status == 0)
		k->status = 1;
	return k->status;
}

static const struct cl_privsep_role capture_role = {
    .name = "capture",
    .flags = 0, /* no RLIMIT_FSIZE: its log may be a file; no open */
    .root = NULL,
    .prepare = capture_prepare,
    .sandbox = poi_sandbox_capture,
    .main = capture_main,
};

int
poi_capture_start(struct poi_capture_cfg *cfg, const char *user, pid_t *pid,
    int *sock, char *err, size_t errlen)
{
	return cl_privsep_start(&capture_role, cfg, cfg->pkt_fds, CL_RING_FDS,
	    user, pid, sock, err, errlen);
}
