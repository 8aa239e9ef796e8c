/* Session and token resolution. Cookie and token values are random 256-bit secrets; only
 * their sha256 is stored, so a leaked database does not leak live sessions. */
#include "mgmt/auth.h"
#include "common/config.h"
#include "db/accounts.h"
#include "db/sessions.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

int auth_random_hex(char *out, size_t n)
{
    unsigned char buf[64];
    if (n > sizeof buf || RAND_bytes(buf, (int)n) != 1)
        return -1;
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", buf[i]);
    return 0;
}

void auth_sha256_hex(const char *s, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL);
    /* every API request hashes its token: 64 snprintf calls were a tenth of a cached list */
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

/* Finds cookie `name` in a Cookie header into out (at most outlen-1 bytes). */
static int cookie_value(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen >= outlen)
                return -1;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = 0;
            return 0;
        }
        p = end;
    }
    return -1;
}

static int load_caller(struct mgmt_req *req, int64_t account_id)
{
    struct db_account a;
    if (db_account_by_id(req->db, account_id, &a) != DB_OK)
        return -1;
    int disabled = strcmp(a.status, "disabled") == 0;
    if (!disabled) {
        req->caller.account_id = a.id;
        snprintf(req->caller.username, sizeof req->caller.username, "%s", a.username);
        snprintf(req->caller.role, sizeof req->caller.role, "%s", a.role);
        snprintf(req->caller.status, sizeof req->caller.status, "%s", a.status);
    }
    db_account_clear(&a);
    return disabled ? -1 : 0;
}

int auth_resolve(struct mgmt_req *req)
{
    memset(&req->caller, 0, sizeof req->caller);
    const char *authz = mgmt_header(req, "Authorization");
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0)
            return -1;
        const char *tok = authz + 7;
        char hash[65];
        int64_t account_id;
        auth_sha256_hex(tok, strlen(tok), hash);
        if (db_token_lookup(req->db, hash, &account_id) != DB_OK)
            return -1;
        return load_caller(req, account_id);
    }
    const char *cookies = mgmt_header(req, "Cookie");
    char value[129];
    if (!cookies || cookie_value(cookies, AUTH_COOKIE, value, sizeof value) < 0)
        return 0;
    char hash[65], csrf[65];
    int64_t account_id;
    auth_sha256_hex(value, strlen(value), hash);
    if (db_session_lookup(req->db, hash, db_now(), &account_id, csrf) != DB_OK)
        return -1;
    if (load_caller(req, account_id) < 0)
        return -1;
    req->caller.via_cookie = 1;
    memcpy(req->caller.csrf, csrf, sizeof req->caller.csrf);
    memcpy(req->caller.session_hash, hash, sizeof req->caller.session_hash);
    return 0;
}

int auth_csrf_ok(struct mgmt_req *req)
{
    const char *sent = mgmt_header(req, "X-CSRF-Token");
    size_t n = strlen(req->caller.csrf);
    return sent && n == 64 && strlen(sent) == n && CRYPTO_memcmp(sent, req->caller.csrf, n) == 0;
}

static void set_cookie(struct mgmt_req *req, struct mgmt_resp *resp, const char *value,
                       long long max_age)
{
    /* Secure only when served over TLS (behind a TLS proxy that says so). */
    const char *proto = mgmt_header(req, "X-Forwarded-Proto");
    int tls = proto && strcmp(proto, "https") == 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
             AUTH_COOKIE, value, max_age, tls ? "; Secure" : "");
    mgmt_resp_header(resp, "Set-Cookie", buf);
}

int auth_session_start(struct mgmt_req *req, struct mgmt_resp *resp, int64_t account_id,
                       char csrf[65])
{
    char token[65], hash[65];
    if (auth_random_hex(token, 32) < 0 || auth_random_hex(csrf, 32) < 0)
        return -1;
    auth_sha256_hex(token, strlen(token), hash);
    if (db_session_create(req->db, hash, account_id, csrf, db_now() + req->cfg->session_ttl_s) !=
        DB_OK)
        return -1;
    set_cookie(req, resp, token, req->cfg->session_ttl_s);
    return 0;
}

void auth_session_end(struct mgmt_req *req, struct mgmt_resp *resp)
{
    if (req->caller.via_cookie)
        db_session_delete(req->db, req->caller.session_hash);
    set_cookie(req, resp, "", 0);
}
