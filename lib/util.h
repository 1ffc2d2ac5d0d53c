/* SPDX-License-Identifier: ISC */
#ifndef CL_UTIL_H
#define CL_UTIL_H

/*
 * Canonical parsing and formatting of the small values that appear in
 * configuration, task files and protocol fields.  Every parser accepts only
 * the canonical form and rejects anything else; none of them repairs input.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_UUID_LEN    16
#define CL_UUID_STRLEN 36 /* without the NUL */
#define CL_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define CL_MAC_LEN     6

/*
 * Parses a decimal number with no sign, no leading zeros (except "0"
 * itself), no white space and nothing after it, and checks that
 * min <= value <= max.  *out is set only on success.
 */
int cl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parses a UUID in 8-4-4-4-12 hex form (either case) into 16 bytes. */
int cl_parse_uuid(const char *s, uint8_t out[static CL_UUID_LEN]);
/* Formats 16 bytes as a lower-case UUID; buf must hold 37 bytes. */
void cl_format_uuid(const uint8_t uuid[static CL_UUID_LEN],
    char buf[static CL_UUID_STRLEN + 1]);

/* An IPv4 or IPv6 address; v4 uses the first 4 bytes of a. */
struct cl_addr {
	uint8_t family; /* 4 or 6; 0 = none */
	uint8_t a[16];
};

/*
 * Parses "a.b.c.d", an IPv6 address, or either with "/len".  Without a
 * length, *plen is the full length (32 or 128).  Host bits below the prefix
 * length must be zero.
 */
int cl_parse_prefix(const char *s, struct cl_addr *addr, unsigned *plen);
/* Parses a single address (no prefix length). */
int cl_parse_addr(const char *s, struct cl_addr *addr);
/* Formats an address into buf (CL_ADDR_STRLEN bytes). */
const char *cl_format_addr(const struct cl_addr *addr, char *buf, size_t len);

/*
 * Writes a hash-table key for the prefix of a with length plen: family,
 * plen, then the address with the bits past plen cleared (4 or 16 bytes).
 * Returns the key length (6 or 18).
 */
#define CL_ADDR_KEY_MAX 18
size_t cl_addr_key(uint8_t key[static CL_ADDR_KEY_MAX], const struct cl_addr *a,
    unsigned plen);

/* Parses "aa:bb:cc:dd:ee:ff" (either case). */
int cl_parse_mac(const char *s, uint8_t mac[static CL_MAC_LEN]);
void cl_format_mac(const uint8_t mac[static CL_MAC_LEN], char buf[static 18]);

/*
 * Parses an even-length hex string of at most max bytes into out; *outlen
 * gets the byte count.  Separators are not accepted.
 */
int cl_parse_hex(const char *s, uint8_t *out, size_t max, size_t *outlen);
/*
 * The same for s[0..n) (not NUL-terminated): 1 to max bytes of hex digits
 * of either case.  Returns 0, CL_ERR_FORMAT or CL_ERR_TOOBIG; out and
 * *outlen are written only on success.
 */
int cl_hex_decode(
    const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen);
/* The value of one hex digit of either case, or -1. */
int cl_hex_digit(int c);
/* Formats n bytes as lower-case hex into buf (2n+1 bytes). */
void cl_format_hex(const uint8_t *p, size_t n, char *buf);

/*
 * Parses an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" into seconds since
 * the epoch.  Only the Z form is accepted.
 */
int cl_parse_time(const char *s, int64_t *out);
void cl_format_time(int64_t t, char buf[static 21]);

/* True if s is valid UTF-8 with no NUL or control characters. */
bool cl_utf8_clean(const uint8_t *s, size_t len);
/*
 * The length (1 to 4) of the one valid UTF-8 sequence at p[0..n), n > 0:
 * shortest form, no surrogate, at most U+10FFFF; an ASCII byte is 1.
 * Returns 0 if p does not start with one.
 */
size_t cl_utf8_seq(const uint8_t *p, size_t n);

/*
 * FNV-1a 64 over p[0..len), continuing from h (start with
 * CL_FNV1A64_INIT).  Stable across runs and hosts; for a hash table fed
 * by a peer use cl_hash_keyed() instead.
 */
#define CL_FNV1A64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t cl_fnv1a64(uint64_t h, const void *p, size_t len);
/*
 * A hash of p[0..len) keyed with seed (a per-table random value), so that
 * a peer cannot choose keys that collide without knowing the seed.  Mixes
 * every bit into the low ones, which a table masks.
 */
uint64_t cl_hash_keyed(uint64_t seed, const void *p, size_t len);

/* Milliseconds of CLOCK_MONOTONIC, for intervals and deadlines. */
uint64_t cl_mono_ms(void);

#endif /* CL_UTIL_H */
