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
    /* No 0/O, 1/l/I: generated passwords are read off a terminal and typed. Bytes at or above
     * the largest multiple of the set's size are drawn again, so every character is equally
     * likely. */
    static const char set[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    const unsigned n = sizeof set - 1, limit = 256 - 256 % n;
    if (len < 17 || len > 256)
        return -1;
    size_t have = 0;
    while (have + 1 < len) {
        unsigned char r[64];
        if (RAND_bytes(r, sizeof r) != 1)
            return -1;
        for (size_t i = 0; i < sizeof r && have + 1 < len; i++)
            if (r[i] < limit)
                out[have++] = set[r[i] % n];
    }
    out[len - 1] = 0;
    return 0;
}
