/* SPDX-License-Identifier: ISC */
#ifndef MDF_SIGNER_H
#define MDF_SIGNER_H

/*
 * The signer role of clearli-mdf: the only process that holds the
 * IntegrityCheck key (Ed25519).  It is forked at start, before the MDF
 * reads any task, spool or network input, loads the key, drops its
 * privileges (privsep.h) and runs under cl_sandbox_signer(): it can only
 * read requests from and write answers to its socket, and write its log.
 *
 * It signs only lists of SHA-256 hashes: a request (MDF_SIGNER_SIGN) is
 * 32 to 32 * MDF_SIGNER_HASHES_MAX octets, a multiple of 32; the answer
 * (MDF_SIGNER_SIG) is the 64-octet PureEdDSA signature over them (the
 * IntegrityCheck of docs/PROTOCOL.hi).  Anything else ends the signer.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "psdu.h"

#define MDF_SIGNER_HASHES_MAX CL_PSDU_IC_MAX
#define MDF_SIGNER_SIG_LEN    64

/* Message types of the signer's socket. */
#define MDF_SIGNER_READY 1 /* signer -> MDF: 32-octet public key */
#define MDF_SIGNER_SIGN  2 /* MDF -> signer: the hashes */
#define MDF_SIGNER_SIG   3 /* signer -> MDF: the signature */

struct mdf_signer;

/*
 * Forks the signer; it loads the private key in keypath and runs as user
 * (privsep.h; NULL: the default).  Returns once the signer said it is
 * ready (its key loaded, its filter installed): 0 with *out, or an error
 * described in err (the signer's own log line says more).
 */
int mdf_signer_start(const char *keypath, const char *user,
    struct mdf_signer **out, char *err, size_t errlen);

/*
 * Signs hashes[0..len) (len a multiple of 32, at most
 * 32 * MDF_SIGNER_HASHES_MAX) into sig: a request to the signer and its
 * answer.  Returns 0; CL_ERR_INVALID_ARG for a bad len; or, if the
 * signer does not answer as it must, CL_ERR_CLOSED after logging why,
 * ending the signer if it still runs and logging how it ended: the
 * signer is then gone for good.
 */
int mdf_signer_sign(struct mdf_signer *s, const uint8_t *hashes, size_t len,
    uint8_t sig[MDF_SIGNER_SIG_LEN]);

/* The signer's pid, or -1 once it is gone. */
pid_t mdf_signer_pid(const struct mdf_signer *s);

/* The public key the signer announced. */
const uint8_t *mdf_signer_pubkey(const struct mdf_signer *s);

/* Closes the signer's socket (it then exits) and waits for it; s may be
 * NULL. */
void mdf_signer_free(struct mdf_signer *s);

#endif /* MDF_SIGNER_H */
