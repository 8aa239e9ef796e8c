/* T/CEC 102 wire primitives: the formats of TimeStamp, Seq, OperatorID and the dictionary's
 * dates; HMAC-MD5 signatures; AES-128-CBC with PKCS#7 and strict Base64 for Data (OpenSSL EVP). */
#include "protocol/tcec_private.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- formats ---------------------------------------------------------------------------- */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int real_date(int y, int m, int d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

static int real_time(int h, int mi, int s)
{
    return h <= 23 && mi <= 59 && s <= 59;
}

int tcec_is_timestamp(const char *s)
{
    if (!s || strlen(s) != TCEC_TIMESTAMP_LEN || !digits(s, TCEC_TIMESTAMP_LEN))
        return 0;
    return real_date(num(s, 4), num(s + 4, 2), num(s + 6, 2)) &&
           real_time(num(s + 8, 2), num(s + 10, 2), num(s + 12, 2));
}

int tcec_is_date(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
        !digits(s + 8, 2))
        return 0;
    return real_date(num(s, 4), num(s + 5, 2), num(s + 8, 2));
}

int tcec_is_datetime(const char *s)
{
    if (!s || strlen(s) != 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return 0;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!tcec_is_date(date) || !digits(s + 11, 2) || !digits(s + 14, 2) || !digits(s + 17, 2))
        return 0;
    return real_time(num(s + 11, 2), num(s + 14, 2), num(s + 17, 2));
}

int tcec_time_text(long long epoch, enum tcec_time_kind kind, char *out, size_t outlen)
{
    time_t t = (time_t)(epoch + TCEC_TZ_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    size_t n = kind == TCEC_TIME_STAMP      ? strftime(out, outlen, "%Y%m%d%H%M%S", &tm)
               : kind == TCEC_TIME_DATETIME ? strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm)
                                            : strftime(out, outlen, "%Y-%m-%d", &tm);
    return n > 0 ? 0 : -1;
}

long long tcec_timestamp_epoch(const char *ts)
{
    if (!tcec_is_timestamp(ts))
        return -1;
    struct tm tm = {.tm_year = num(ts, 4) - 1900,
                    .tm_mon = num(ts + 4, 2) - 1,
                    .tm_mday = num(ts + 6, 2),
                    .tm_hour = num(ts + 8, 2),
                    .tm_min = num(ts + 10, 2),
                    .tm_sec = num(ts + 12, 2)};
    return (long long)timegm(&tm) - TCEC_TZ_OFFSET_S;
}

int tcec_is_seq(const char *s)
{
    return s && strlen(s) == TCEC_SEQ_LEN && digits(s, TCEC_SEQ_LEN) && strcmp(s, "0000") != 0;
}

int tcec_is_operator_id(const char *s)
{
    if (!s || strlen(s) != TCEC_OPERATOR_ID_LEN)
        return 0;
    for (size_t i = 0; i < TCEC_OPERATOR_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

/* ---- crypto ----------------------------------------------------------------------------- */

int tcec_sign(const char *sig_secret, const char *const *parts, size_t n,
              char out[TCEC_SIG_LEN + 1])
{
    int rc = -1;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    if (!sig_secret || !sig_secret[0] || (n && !parts) || !out)
        return -1;
    out[0] = '\0';
    char digest[] = "MD5";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(ctx = EVP_MAC_CTX_new(mac)))
        goto done;
    if (!EVP_MAC_init(ctx, (const unsigned char *)sig_secret, strlen(sig_secret), params))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (!parts[i] || !EVP_MAC_update(ctx, (const unsigned char *)parts[i], strlen(parts[i])))
            goto done;
    if (!EVP_MAC_final(ctx, md, &mdlen, sizeof md) || mdlen != TCEC_SIG_LEN / 2)
        goto done;
    for (size_t i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02X", md[i]);
    rc = 0;
done:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

int tcec_sig_equal(const char *a, const char *b)
{
    if (!a || !b || strnlen(a, TCEC_SIG_LEN + 1) != TCEC_SIG_LEN ||
        strnlen(b, TCEC_SIG_LEN + 1) != TCEC_SIG_LEN)
        return 0;
    return CRYPTO_memcmp(a, b, TCEC_SIG_LEN) == 0;
}

char *tcec_encrypt(const char *plain, size_t len, const struct tcec_keys *keys)
{
    unsigned char *ct = NULL;
    char *b64 = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int n1 = 0, n2 = 0;
    if (!tcec_keys_ok(keys) || (!plain && len) || len > TCEC_TEXT_MAX)
        return NULL;
    size_t ctlen = (len / 16 + 1) * 16;
    if (!(ct = malloc(ctlen)) || !(ctx = EVP_CIPHER_CTX_new()))
        goto done;
    if (!EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, (const unsigned char *)keys->data_secret,
                            (const unsigned char *)keys->data_secret_iv) ||
        !EVP_EncryptUpdate(ctx, ct, &n1, (const unsigned char *)(plain ? plain : ""), (int)len) ||
        !EVP_EncryptFinal_ex(ctx, ct + n1, &n2) || (size_t)(n1 + n2) != ctlen)
        goto done;
    if (!(b64 = malloc(ctlen / 3 * 4 + 8)))
        goto done;
    EVP_EncodeBlock((unsigned char *)b64, ct, (int)ctlen);
done:
    EVP_CIPHER_CTX_free(ctx);
    free(ct);
    return b64;
}

static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Strict Base64: whole quads of the standard alphabet, '=' only as the last one or two
 * characters, and canonical (encoding the bytes back gives the same text). */
static unsigned char *b64_decode(const char *s, size_t len, size_t *out_len)
{
    if (len == 0 || len % 4 || len > TCEC_TEXT_MAX / 3 * 4 + 4)
        return NULL;
    size_t pad = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < len - pad; i++)
        if (!b64_char(s[i]))
            return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 1);
    char *back = malloc(len + 1);
    if (!out || !back)
        goto bad;
    int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    if (n < 0 || (size_t)n < pad)
        goto bad;
    *out_len = (size_t)n - pad;
    EVP_EncodeBlock((unsigned char *)back, out, (int)*out_len);
    if (memcmp(back, s, len) != 0)
        goto bad;
    free(back);
    return out;
bad:
    free(out);
    free(back);
    return NULL;
}

char *tcec_decrypt(const char *b64, size_t len, const struct tcec_keys *keys, size_t *out_len,
                   enum tcec_rule *rule)
{
    enum tcec_rule dummy;
    if (!rule)
        rule = &dummy;
    *rule = TCEC_R_ARGUMENT;
    if (!tcec_keys_ok(keys) || !b64 || !out_len)
        return NULL;
    size_t ctlen = 0;
    unsigned char *ct = b64_decode(b64, len, &ctlen);
    if (!ct || ctlen == 0 || ctlen % 16 || ctlen > TCEC_TEXT_MAX + 16) {
        free(ct);
        *rule = TCEC_R_BASE64;
        return NULL;
    }
    char *plain = malloc(ctlen + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    *rule = TCEC_R_DECRYPT;
    if (!plain || !ctx ||
        !EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, (const unsigned char *)keys->data_secret,
                            (const unsigned char *)keys->data_secret_iv) ||
        !EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n1, ct, (int)ctlen) ||
        !EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n1, &n2)) {
        if (!plain || !ctx)
            *rule = TCEC_R_ARGUMENT;
        free(plain);
        plain = NULL;
    } else {
        *out_len = (size_t)(n1 + n2);
        plain[*out_len] = '\0';
        *rule = TCEC_R_NONE;
    }
    EVP_CIPHER_CTX_free(ctx);
    free(ct);
    return plain;
}

int tcec_secret_member(const char *key)
{
    static const char *const names[] = {"OperatorSecret", "AccessToken", "DataSecret",
                                        "DataSecretIV", "SigSecret"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return 1;
    return 0;
}

void tcec_redact(json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m)
        {
            if (tcec_secret_member(k))
                json_object_set_new(v, k, json_string("***"));
            else
                tcec_redact(m);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) tcec_redact(m);
    }
}
