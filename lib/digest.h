/* SPDX-License-Identifier: ISC */
#ifndef CL_DIGEST_H
#define CL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/*
 * SHA-256 of one buffer, for the per-PDU hashes of the MDF and the LEMF.
 * OpenSSL 3's one-shot calls (SHA256(), EVP_Digest()) look the algorithm
 * up in the provider store and allocate a context on every call: about
 * 650 ns for a 120-octet PDU on the development VM against 235 ns with
 * the algorithm fetched once and the context kept.  This does the
 * latter; the state is per process and not for concurrent use from
 * several threads.  Returns 0, or CL_ERR_INTERNAL if libcrypto fails.
 */
int cl_sha256(const void *p, size_t len, uint8_t out[static 32]);

#endif /* CL_DIGEST_H */
