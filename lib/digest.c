/* SPDX-License-Identifier: ISC */
#include <openssl/evp.h>

#include "digest.h"
#include "err.h"

static EVP_MD *md;
static EVP_MD_CTX *ctx;

int
cl_sha256(const void *p, size_t len, uint8_t out[static 32])
{
	unsigned int n = 0;

	if (ctx == NULL) {
		if (md == NULL &&
		    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
			return CL_ERR_INTERNAL;
		if ((ctx = EVP_MD_CTX_new()) == NULL)
			return CL_ERR_INTERNAL;
	}
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, p, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != 32)
		return CL_ERR_INTERNAL;
	return 0;
}
