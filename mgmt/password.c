/* argon2id through libargon2 and randomness through OpenSSL: no hand-rolled crypto. */
#include "mgmt/password.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <string.h>

enum { T_COST = 2, M_COST_KIB = 19456, PARALLELISM = 1, SALT_LEN = 16, HASH_LEN = 32 };

int pw_hash(const char *password, char out[PW_HASH_MAX])
{
    unsigned char salt[SALT_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return -1;
    size_t need = argon2_encodedlen(T_COST, M_COST_KIB, PARALLELISM, SALT_LEN, HASH_LEN, Argon2_id);
    if (need > PW_HASH_MAX)
        return -1;
    int rc = argon2id_hash_encoded(T_COST, M_COST_KIB, PARALLELISM, password, strlen(password),
                                   salt, sizeof salt, HASH_LEN, out, PW_HASH_MAX);
    return rc == ARGON2_OK ? 0 : -1;
}

int pw_verify(const char *hash, const char *password)
{
    if (!hash || strncmp(hash, "$argon2id$", 10) != 0)
        return 0;
    return argon2id_verify(hash, password, strlen(password)) == ARGON2_OK;
}

int pw_generate(char *out, size_t len)
{
    /* No 0/O, 1/l/I: generated passwords are read off a terminal and typed. */
    static const char set[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char r[256];
    if (len < 17 || len > sizeof r || RAND_bytes(r, (int)len) != 1)
        return -1;
    for (size_t i = 0; i + 1 < len; i++)
        out[i] = set[r[i] % (sizeof set - 1)];
    out[len - 1] = 0;
    return 0;
}
