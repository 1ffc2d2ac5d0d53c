/* SPDX-License-Identifier: ISC */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "util.h"

int
cl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return CL_ERR_FORMAT;
	if (s[0] == '0' && s[1] != '\0')
		return CL_ERR_FORMAT; /* leading zero */
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return CL_ERR_FORMAT;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return CL_ERR_RANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return CL_ERR_RANGE;
	*out = v;
	return 0;
}

int
cl_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
cl_parse_uuid(const char *s, uint8_t out[static CL_UUID_LEN])
{
	uint8_t t[CL_UUID_LEN];
	size_t i, n = 0;
	int hi, lo;

	if (s == NULL || strlen(s) != CL_UUID_STRLEN)
		return CL_ERR_FORMAT;
	for (i = 0; i < CL_UUID_STRLEN;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return CL_ERR_FORMAT;
			continue;
		}
		if ((hi = cl_hex_digit(s[i])) < 0 ||
		    (lo = cl_hex_digit(s[i + 1])) < 0)
			return CL_ERR_FORMAT;
		t[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(out, t, sizeof(t));
	return 0;
}

void
cl_format_uuid(
    const uint8_t u[static CL_UUID_LEN], char buf[static CL_UUID_STRLEN + 1])
{
	size_t i, o = 0;

	for (i = 0; i < CL_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		cl_format_hex(u + i, 1, buf + o);
		o += 2;
	}
}

int
cl_parse_addr(const char *s, struct cl_addr *addr)
{
	struct cl_addr t;

	memset(&t, 0, sizeof(t));
	if (s == NULL)
		return CL_ERR_FORMAT;
	if (inet_pton(AF_INET, s, t.a) == 1)
		t.family = 4;
	else if (inet_pton(AF_INET6, s, t.a) == 1)
		t.family = 6;
	else
		return CL_ERR_FORMAT;
	*addr = t;
	return 0;
}

int
cl_parse_prefix(const char *s, struct cl_addr *addr, unsigned *plen)
{
	char tmp[CL_ADDR_STRLEN + 8];
	struct cl_addr t;
	const char *slash;
	uint64_t len;
	size_t n;
	unsigned i, bits;
	int r;

	if (s == NULL || (n = strlen(s)) >= sizeof(tmp))
		return CL_ERR_FORMAT;
	memcpy(tmp, s, n + 1);
	slash = strchr(s, '/');
	if (slash != NULL)
		tmp[slash - s] = '\0';
	if ((r = cl_parse_addr(tmp, &t)) != 0)
		return r;
	bits = t.family == 4 ? 32 : 128;
	len = bits;
	if (slash != NULL && (r = cl_parse_u64(slash + 1, 0, bits, &len)) != 0)
		return r;
	/* Host bits must be zero: reject "10.0.0.1/8" rather than guess. */
	for (i = (unsigned)len; i < bits; i++)
		if (t.a[i / 8] & (0x80 >> (i % 8)))
			return CL_ERR_FORMAT;
	*addr = t;
	*plen = (unsigned)len;
	return 0;
}

const char *
cl_format_addr(const struct cl_addr *addr, char *buf, size_t len)
{
	if (addr->family == 4)
		return inet_ntop(AF_INET, addr->a, buf, (socklen_t)len);
	if (addr->family == 6)
		return inet_ntop(AF_INET6, addr->a, buf, (socklen_t)len);
	snprintf(buf, len, "-");
	return buf;
}

size_t
cl_addr_key(
    uint8_t key[static CL_ADDR_KEY_MAX], const struct cl_addr *a, unsigned plen)
{
	size_t alen = a->family == 4 ? 4 : 16, i;

	key[0] = a->family;
	key[1] = (uint8_t)plen;
	for (i = 0; i < alen; i++) {
		unsigned bits = plen > i * 8 ? plen - (unsigned)i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		key[2 + i] = a->a[i] & mask;
	}
	return 2 + alen;
}

int
cl_parse_mac(const char *s, uint8_t mac[static CL_MAC_LEN])
{
	uint8_t t[CL_MAC_LEN];
	int i, hi, lo;

	if (s == NULL || strlen(s) != 17)
		return CL_ERR_FORMAT;
	for (i = 0; i < CL_MAC_LEN; i++) {
		if ((hi = cl_hex_digit(s[i * 3])) < 0 ||
		    (lo = cl_hex_digit(s[i * 3 + 1])) < 0)
			return CL_ERR_FORMAT;
		if (i < 5 && s[i * 3 + 2] != ':')
			return CL_ERR_FORMAT;
		t[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, t, sizeof(t));
	return 0;
}

void
cl_format_mac(const uint8_t mac[static CL_MAC_LEN], char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
	    mac[2], mac[3], mac[4], mac[5]);
}

int
cl_hex_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen)
{
	size_t i;

	if (n == 0 || n % 2 != 0)
		return CL_ERR_FORMAT;
	if (n / 2 > max)
		return CL_ERR_TOOBIG;
	for (i = 0; i < n; i++)
		if (cl_hex_digit((unsigned char)s[i]) < 0)
			return CL_ERR_FORMAT;
	for (i = 0; i < n; i += 2)
		out[i / 2] = (uint8_t)(cl_hex_digit((unsigned char)s[i]) << 4 |
		    cl_hex_digit((unsigned char)s[i + 1]));
	*outlen = n / 2;
	return 0;
}

int
cl_parse_hex(const char *s, uint8_t *out, size_t max, size_t *outlen)
{
	if (s == NULL)
		return CL_ERR_FORMAT;
	return cl_hex_decode(s, strlen(s), out, max, outlen);
}

void
cl_format_hex(const uint8_t *p, size_t n, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		buf[2 * i] = hex[p[i] >> 4];
		buf[2 * i + 1] = hex[p[i] & 15];
	}
	buf[2 * n] = '\0';
}

static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
cl_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se, dim;
	int64_t yy, era, yoe, doy, doe, days;

	if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return CL_ERR_FORMAT;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &se))
		return CL_ERR_FORMAT;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59)
		return CL_ERR_RANGE;
	dim = mdays[mo - 1];
	if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		dim = 29;
	if (d < 1 || d > dim)
		return CL_ERR_RANGE;
	/* Days since 1970-01-01 (H. Hinnant's days_from_civil): timegm()
	 * cost most of the time to load 100 000 tasks. */
	yy = mo <= 2 ? y - 1 : y;
	era = yy / 400;
	yoe = yy - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	*out = days * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

void
cl_format_time(int64_t t, char buf[static 21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* Not strftime(): without TZ, glibc opens /etc/localtime on every
	 * call, which a sandboxed role may not (lib/log.c does the same). */
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		memcpy(buf, "0000-00-00T00:00:00Z", 21);
		return;
	}
	snprintf(buf, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u);
}

bool
cl_utf8_clean(const uint8_t *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		uint8_t c;

		/* Eight ASCII bytes at a time: the X2/X3 encoder checks its
		 * string attributes for every PDU, and they are ASCII. */
		while (len - i >= 8) {
			const uint64_t k01 = 0x0101010101010101ULL;
			const uint64_t k80 = 0x8080808080808080ULL;
			uint64_t w, lo, del;

			memcpy(&w, s + i, 8);
			lo = (w - 0x20 * k01) & ~w & k80; /* < 0x20 */
			del = ((w ^ 0x7f * k01) - k01) & ~(w ^ 0x7f * k01) &
			    k80; /* == 0x7f */
			if ((w & k80) != 0 || lo != 0 || del != 0)
				break;
			i += 8;
		}
		if (i == len)
			break;
		c = s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((n = cl_utf8_seq(s + i, len - i)) == 0)
			return false;
		/* C1 controls, U+0080..U+009F: C2 80..C2 9F */
		if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0)
			return false;
		i += n;
		continue;
	}
	return true;
}

size_t
cl_utf8_seq(const uint8_t *p, size_t n)
{
	uint32_t cp, min;
	size_t k, len;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1fu, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0fu, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

uint64_t
cl_fnv1a64(uint64_t h, const void *p, size_t len)
{
	const uint8_t *q = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= q[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

uint64_t
cl_hash_keyed(uint64_t seed, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL), w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ fmix64(w)) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ fmix64(w ^ 0x5bd1e995)) * 0x9e3779b97f4a7c15ULL;
	}
	return fmix64(h);
}

uint64_t
cl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
