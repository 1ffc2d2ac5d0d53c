/* SPDX-License-Identifier: ISC */
/*
 * gen: writes a synthetic capture and the matching task file for the POI
 * benchmark (bench/run.sh).
 *
 *   gen -n N -k K -f FRACTION [-s SEED] [-l LEN] [-b START] [-r PPS]
 *       -o CAPTURE.pcap -t TASKS
 *
 * The capture is classic pcap (microsecond, LINKTYPE_ETHERNET) with N
 * Ethernet/IPv4 frames, 60 % TCP and 40 % UDP, in a simple-IMIX size mix:
 * 7/12 of 64..127 octets, 4/12 of 128..1023, 1/12 of 1024..1514 (mean
 * about 350).  Each frame is a target packet with probability FRACTION:
 * one side (source or destination, at random) is one of the K target
 * addresses, taken uniformly.  The other frames use addresses that no task
 * names (subscribers in 100.64.0.0/10, the far side in 198.18.0.0/15).
 * Target addresses are 10.0.0.0/8 host addresses scattered by a bijection
 * of the task number, so that they are not sequential.
 *
 * All lengths (IPv4 total length, UDP length, captured = wire length) are
 * consistent and the IPv4 header checksum is valid; TCP checksums are left
 * zero and UDP checksums are zero ("none").  No port used is one the POI
 * treats as signalling or tunnelling (RADIUS, DHCP, DHCPv6, GTP-U), and no
 * frame is fragmented, so every frame takes the plain interception path.
 *
 * -l LEN makes every frame LEN octets (60 to 1514) instead of the IMIX
 * mix.  -b START is the first frame's time stamp in seconds since the
 * epoch (default 2024-01-01T00:00:00Z); -r PPS spaces the frames exactly
 * 1/PPS s apart instead of 1 to 5 us at random.  With -b in the near future and
 * -r, a capture replayed with clearli-poi --pace plays at a fixed rate on the
 * real clock, which is how bench/e2e.sh measures capture-to-LEMF latency.
 * The random stream does not depend on -l, -b or -r, apart from the frame
 * lengths themselves.
 *
 * The task file has K tasks, one IPv4 target each, delivering CC.  The
 * output depends only on the arguments.  On success gen prints one line:
 * "packets N targets T tasks K bytes B" (T = frames with a target address).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_FRAME 1514
#define POOL_LEN  (64 * 1024)
#define T0        1704067200 /* 2024-01-01T00:00:00Z */

struct rng {
	uint64_t s;
};

/* splitmix64: small, fast, and good enough for traffic shapes. */
static uint64_t
rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]; the modulo bias is irrelevant here. */
static uint32_t
rnd_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd(r) % ((uint64_t)hi - lo + 1));
}

/* Target address of task i: a bijection of i on the low 24 bits. */
static uint32_t
target_addr(uint64_t i)
{
	return 0x0a000000u |
	    (uint32_t)((i * 2654435761u + 0x123457u) & 0xffffffu);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Host byte order, as the classic pcap format uses the writer's order. */
static void
hput32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
hput16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint16_t
ip_cksum(const uint8_t *h)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int
parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= 0.0) || v > 1.0)
		return -1;
	*out = v;
	return 0;
}

static int
write_tasks(const char *path, uint64_t k)
{
	FILE *f;
	uint64_t i;
	uint32_t a;
	int r = 0;

	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	for (i = 0; i < k; i++) {
		a = target_addr(i);
		fprintf(f,
		    "task %08llx-0000-4000-8000-%012llx liid=BENCH%llu "
		    "deliver=cc start=2020-01-01T00:00:00Z "
		    "end=2099-01-01T00:00:00Z target=ip:%u.%u.%u.%u\n",
		    (unsigned long long)(i + 1), (unsigned long long)i,
		    (unsigned long long)i, a >> 24, (a >> 16) & 255,
		    (a >> 8) & 255, a & 255);
	}
	if (ferror(f) || fclose(f) != 0) {
		perror(path);
		r = -1;
	}
	return r;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gen -n N -k K -f FRACTION [-s SEED] [-l LEN] [-b START] "
	    "[-r PPS] -o CAPTURE.pcap -t TASKS\n");
}

int
main(int argc, char **argv)
{
	static const uint16_t tcp_srv[] = {80, 443, 8080, 993, 22, 5222};
	static const uint16_t udp_srv[] = {53, 443, 123, 5004, 3478, 51820};
	static uint8_t pool[POOL_LEN + MAX_FRAME], fbuf[1 << 22];
	uint64_t n = 0, k = 0, seed = 1, i, ntarget = 0, nbytes = 0;
	uint64_t thresh, flen_fixed = 0, start = T0, pps = 0, t_ns = 0;
	const char *opath = NULL, *tpath = NULL;
	double frac = -1.0;
	struct rng rng;
	uint8_t hdr[24], rec[16 + MAX_FRAME];
	uint32_t ts_sec, ts_usec = 0;
	FILE *f = NULL;
	int ch, status = 1;

	while ((ch = getopt(argc, argv, "n:k:f:s:o:t:l:b:r:")) != -1) {
		switch (ch) {
		case 'n':
			if (cl_parse_u64(optarg, 0, UINT64_C(1) << 32, &n) !=
			    0) {
				fprintf(stderr, "gen: bad -n\n");
				return 2;
			}
			break;
		case 'k':
			if (cl_parse_u64(optarg, 1, 1000000, &k) != 0) {
				fprintf(stderr, "gen: -k is 1 to 1000000\n");
				return 2;
			}
			break;
		case 'f':
			if (parse_fraction(optarg, &frac) != 0) {
				fprintf(stderr, "gen: -f is 0 to 1\n");
				return 2;
			}
			break;
		case 's':
			if (cl_parse_u64(optarg, 0, UINT64_MAX, &seed) != 0) {
				fprintf(stderr, "gen: bad -s\n");
				return 2;
			}
			break;
		case 'l':
			if (cl_parse_u64(optarg, 60, MAX_FRAME, &flen_fixed) !=
			    0) {
				fprintf(stderr, "gen: -l is 60 to 1514\n");
				return 2;
			}
			break;
		case 'b':
			if (cl_parse_u64(optarg, 0, UINT32_MAX - 86400 * 365,
				&start) != 0) {
				fprintf(stderr, "gen: bad -b\n");
				return 2;
			}
			break;
		case 'r':
			if (cl_parse_u64(optarg, 1, 100000000, &pps) != 0) {
				fprintf(stderr, "gen: -r is 1 to 100000000\n");
				return 2;
			}
			break;
		case 'o':
			opath = optarg;
			break;
		case 't':
			tpath = optarg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || k == 0 || frac < 0.0 || opath == NULL ||
	    tpath == NULL) {
		usage();
		return 2;
	}
	/* P(target) = thresh / 2^64; f = 1 must mean every frame. */
	thresh = frac >= 1.0 ? UINT64_MAX : (uint64_t)(frac * 0x1p64);

	if (write_tasks(tpath, k) != 0)
		return 1;

	ts_sec = (uint32_t)start;
	rng.s = seed;
	for (i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)rnd(&rng);

	if ((f = fopen(opath, "wb")) == NULL) {
		perror(opath);
		return 1;
	}
	setvbuf(f, (char *)fbuf, _IOFBF, sizeof(fbuf));
	hput32(hdr, 0xa1b2c3d4);
	hput16(hdr + 4, 2);
	hput16(hdr + 6, 4);
	hput32(hdr + 8, 0);
	hput32(hdr + 12, 0);
	hput32(hdr + 16, 65535);
	hput32(hdr + 20, 1);
	fwrite(hdr, 1, sizeof(hdr), f);

	for (i = 0; i < n; i++) {
		uint8_t *e = rec + 16, *ip = e + 14, *l4;
		uint64_t x = rnd(&rng), y = rnd(&rng);
		uint32_t flen, sub, far, src, dst, sel = (uint32_t)(x % 12);
		bool tcp = (x >> 8) % 10 < 6, up = (x >> 16) & 1;
		uint32_t l4h = tcp ? 20 : 8, minf = 14 + 20 + l4h;
		uint16_t sp, dp, srv;

		if (sel < 7)
			flen = rnd_range(&rng, 64, 127);
		else if (sel < 11)
			flen = rnd_range(&rng, 128, 1023);
		else
			flen = rnd_range(&rng, 1024, MAX_FRAME);
		if (flen_fixed != 0)
			flen = (uint32_t)flen_fixed;
		if (flen < minf)
			flen = minf;

		if (thresh != 0 && rnd(&rng) <= thresh) {
			sub = target_addr(y % k);
			ntarget++;
		} else
			sub = 0x64400000u | (uint32_t)(y & 0x3fffff);
		far = 0xc6120000u | (uint32_t)((y >> 32) & 0x1ffff);
		src = up ? sub : far;
		dst = up ? far : sub;
		srv = tcp ? tcp_srv[(x >> 24) % 6] : udp_srv[(x >> 24) % 6];
		sp = up ? (uint16_t)(32768 + (x >> 32) % 28000) : srv;
		dp = up ? srv : (uint16_t)(32768 + (x >> 32) % 28000);

		if (pps != 0) {
			/* Frame i at exactly i / PPS seconds after START. */
			t_ns = i * 1000000000ull / pps;
			ts_sec = (uint32_t)(start + t_ns / 1000000000ull);
			ts_usec = (uint32_t)(t_ns % 1000000000ull / 1000);
		} else {
			ts_usec += 1 + (uint32_t)((x >> 48) % 5);
			if (ts_usec >= 1000000) {
				ts_usec -= 1000000;
				ts_sec++;
			}
		}
		hput32(rec, ts_sec);
		hput32(rec + 4, ts_usec);
		hput32(rec + 8, flen);
		hput32(rec + 12, flen);

		/* Ethernet: locally administered MACs, IPv4. */
		memcpy(
		    e, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
		put16(e + 12, 0x0800);

		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, flen - 14);
		put16(ip + 4, (uint32_t)i);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		put32(ip + 12, src);
		put32(ip + 16, dst);
		put16(ip + 10, ip_cksum(ip));

		l4 = ip + 20;
		memset(l4, 0, l4h);
		put16(l4, sp);
		put16(l4 + 2, dp);
		if (tcp) {
			put32(l4 + 4, (uint32_t)y);
			put32(l4 + 8, (uint32_t)(y >> 21));
			l4[12] = 5 << 4;
			l4[13] = flen > minf ? 0x18 : 0x10; /* PSH+ACK, ACK */
			put16(l4 + 14, 65535);
		} else
			put16(l4 + 4, flen - 14 - 20);
		memcpy(l4 + l4h, pool + (y >> 40) % POOL_LEN, flen - minf);

		if (fwrite(rec, 1, 16 + flen, f) != 16 + flen)
			break;
		nbytes += 16 + flen;
	}
	if (ferror(f) || fclose(f) != 0) {
		f = NULL;
		perror(opath);
		goto out;
	}
	f = NULL;
	printf("packets %llu targets %llu tasks %llu bytes %llu\n",
	    (unsigned long long)n, (unsigned long long)ntarget,
	    (unsigned long long)k, (unsigned long long)nbytes + 24);
	status = 0;
out:
	if (f != NULL)
		fclose(f);
	return status;
}
