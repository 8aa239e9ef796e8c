/* The gateway's TLS listener: its settings checked up front, its lws vhost, and each
 * connection's TLS facts for the OCPP handshake (security profiles 2 and 3). See tls.h. */
#include "gateway/tls.h"
#include "common/config.h"
#include "common/log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#define SSL_get1_peer_certificate SSL_get_peer_certificate
#endif

/* `what` and the last OpenSSL error as text (the queue emptied), for a log value without
 * quotes. */
static const char *ssl_error(const char *what, char *buf, size_t len)
{
    char e[200] = "";
    unsigned long code = ERR_peek_last_error();
    if (code)
        ERR_error_string_n(code, e, sizeof e);
    ERR_clear_error();
    snprintf(buf, len, "%s%s%s%s", what, *e ? " (OpenSSL: " : "", e, *e ? ")" : "");
    for (char *p = buf; *p; p++)
        if (*p == '"')
            *p = '\'';
    return buf;
}

static void fail(const char *setting, const char *path, const char *why)
{
    log_error("gateway", "tls_config_failed", "setting=%s path=%s error=%s", log_q(setting),
              log_q(path ? path : ""), log_q(why));
}

/* Never asks for a passphrase (lws would not either): an encrypted key fails the check. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Opens `path` for a setting, logging why not. */
static FILE *open_setting(const char *setting, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail(setting, path, strerror(errno));
    return f;
}

/* The first certificate of the PEM file `path`, or NULL after logging. Caller frees. */
static X509 *load_cert(const char *setting, const char *path)
{
    FILE *f = open_setting(setting, path);
    if (!f)
        return NULL;
    ERR_clear_error();
    X509 *x = PEM_read_X509(f, NULL, no_passphrase, NULL);
    fclose(f);
    char e[320];
    if (!x)
        fail(setting, path, ssl_error("no PEM certificate in it", e, sizeof e));
    return x;
}

/* Checks gw_tls_cert, gw_tls_key (and that they belong together) and gw_tls_ca. */
static int check_files(const struct evg_config *cfg)
{
    char e[320];
    int rc = -1;
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    X509 *cert = load_cert("gw_tls_cert", cfg->gw_tls_cert);
    if (!cert)
        goto out;
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
        log_warn("gateway", "tls_cert_expired", "setting=gw_tls_cert path=%s",
                 log_q(cfg->gw_tls_cert));
    if (!cfg->gw_tls_key || !*cfg->gw_tls_key) {
        fail("gw_tls_key", "", "must be set with gw_tls_cert (the certificate's private key)");
        goto out;
    }
    FILE *f = open_setting("gw_tls_key", cfg->gw_tls_key);
    if (!f)
        goto out;
    ERR_clear_error();
    key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!key) {
        fail("gw_tls_key", cfg->gw_tls_key,
             ssl_error("no unencrypted PEM private key in it", e, sizeof e));
        goto out;
    }
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        fail("gw_tls_key", cfg->gw_tls_key, "not the private key of gw_tls_cert");
        goto out;
    }
    if (cfg->gw_tls_ca && *cfg->gw_tls_ca) {
        ca = load_cert("gw_tls_ca", cfg->gw_tls_ca);
        if (!ca)
            goto out;
    }
    rc = 0;
out:
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc;
}

int gw_tls_vhost_info(const struct evg_config *cfg, const struct lws_context_creation_info *base,
                      struct lws_context_creation_info *vi, char *host, size_t hostlen)
{
    if (!cfg->gw_tls_cert || !*cfg->gw_tls_cert)
        return 0;
    int port;
    if (!cfg->gw_tls_listen || cfg_split_listen(cfg->gw_tls_listen, host, hostlen, &port) < 0) {
        fail("gw_tls_listen", "", "must be host:port");
        return -1;
    }
    if (check_files(cfg) < 0)
        return -1;
    bool ca = cfg->gw_tls_ca && *cfg->gw_tls_ca;
    *vi = *base;
    vi->port = port;
    vi->iface = NULL; /* the caller resolves `host` */
    vi->vhost_name = "evgate-gateway-tls";
    vi->ssl_cert_filepath = cfg->gw_tls_cert;
    vi->ssl_private_key_filepath = cfg->gw_tls_key;
    vi->ssl_ca_filepath = ca ? cfg->gw_tls_ca : NULL;
    /* HTTP/1.1 only: the handshake writes its refusals as HTTP/1 (ocpp_handshake.c), and
     * piles speak WebSocket over HTTP/1.1 anyway. */
    vi->alpn = "http/1.1";
    /* the address family is the TLS host's own (the caller's resolution adds DISABLE_IPV6) */
    vi->options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    vi->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* With a CA: ask every client for a certificate and verify it, but let the handshake go on
     * without one or with a bad one; ocpp_handshake.c decides per pile (profile 2 has none). */
    if (ca)
        vi->options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
                       LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
    return 1;
}

int gw_tls_on_vhost_ctx(const struct evg_config *cfg, void *ssl_ctx)
{
    SSL_CTX *ctx = ssl_ctx;
    if (!ctx)
        return 0;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        log_error("gateway", "tls_config_failed", "error=\"cannot set TLS 1.2 as the minimum\"");
        return -1;
    }
    /* Client-initiated renegotiation (TLS 1.2) buys a peer nothing here but our CPU. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    if (cfg->gw_tls_ca && *cfg->gw_tls_ca) {
        /* The certificate request names the CAs we accept, so that a pile holding several
         * certificates can pick the right one. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->gw_tls_ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        ERR_clear_error();
    }
    return 0;
}

int gw_tls_on_client_cert(void)
{
    /* OpenSSL's verdict stays in the session (SSL_get_verify_result): gw_tls_peer() reads it
     * at the upgrade, where a refusal can say why. */
    return 0;
}

/* The subject's single commonName as UTF-8 into cn, or "" (none, several, an embedded NUL, too
 * long). lws' own CN helper returns the rest of the one-line subject after "/CN=", which a
 * crafted subject can bend. */
static void subject_cn(X509 *x, char *cn, size_t cnlen)
{
    *cn = 0;
    X509_NAME *name = X509_get_subject_name(x);
    int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
        return;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *utf8 = NULL;
    int n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1;
    if (n > 0 && (size_t)n < cnlen && !memchr(utf8, 0, (size_t)n)) {
        memcpy(cn, utf8, (size_t)n);
        cn[n] = 0;
    }
    OPENSSL_free(utf8);
}

enum gw_tls_peer gw_tls_peer(struct lws *wsi, char *cn, size_t cnlen)
{
    *cn = 0;
    SSL *ssl = lws_get_ssl(lws_get_network_wsi(wsi));
    if (!ssl)
        return GW_TLS_PLAIN;
    X509 *x = SSL_get1_peer_certificate(ssl);
    if (!x)
        return GW_TLS_NO_CERT;
    enum gw_tls_peer r = GW_TLS_CERT_INVALID;
    /* X509_V_OK also when nothing was verified: a certificate is only asked for (and so only
     * present) when gw_tls_ca is set, and then OpenSSL verified it against that CA. */
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
        r = GW_TLS_CERT_VERIFIED;
        subject_cn(x, cn, cnlen);
    }
    X509_free(x);
    return r;
}
