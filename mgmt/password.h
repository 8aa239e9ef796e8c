/* Password hashing for accounts: argon2id (OWASP parameters: 19 MiB, t=2, p=1), encoded PHC
 * strings with a random salt. Slow by design (~30 ms): never call on an event-loop thread. */
#ifndef EVGATE_PASSWORD_H
#define EVGATE_PASSWORD_H

#include <stddef.h>

#define PW_HASH_MAX 128

/* Hashes `password` into `out` (PW_HASH_MAX bytes). Returns 0 or -1. */
int pw_hash(const char *password, char out[PW_HASH_MAX]);

/* Returns 1 when `password` matches the encoded `hash`, 0 when not (or the hash is malformed).
 * Constant time in the password. */
int pw_verify(const char *hash, const char *password);

/* Fills `out` (len bytes, 17 <= len <= 256) with a random printable password of len-1 characters,
 * for generated admin passwords and pile keys. Returns 0 or -1. */
int pw_generate(char *out, size_t len);

#endif
