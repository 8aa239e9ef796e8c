/* The gateway's TLS listener (wss:// and https:// on gw_tls_listen, OCPP security profiles 2 and
 * 3): checking the certificate settings before anything listens, the lws vhost that serves the
 * plain vhost's protocols with them, and what a handshake needs to know about a connection's TLS
 * (is it TLS, did the peer present a client certificate that gw_tls_ca verifies, its subject CN).
 *
 * Client certificates are requested but not required at the TLS layer (profile 2 piles have
 * none) and a certificate that fails verification does not fail the TLS handshake either: the
 * OCPP handshake (ocpp_handshake.c) decides per pile and answers with an HTTP status and a JSON
 * reason, which tells an installer more than a TLS alert would. Runs on the lws thread. */
#ifndef EVGATE_GW_TLS_H
#define EVGATE_GW_TLS_H

#include <libwebsockets.h>

#include <stdbool.h>
#include <stddef.h>

struct evg_config;

/* The TLS listener's address: gw_tls_listen split. */
#define GW_TLS_HOST_MAX 256
/* Longest client-certificate CN kept (an EquipmentID is at most 48 bytes; longer never matches). */
#define GW_TLS_CN_MAX 64

/* Fills `vi` for the TLS vhost from `base` (the plain vhost's info: protocols, user, limits) and
 * the settings gw_tls_listen, gw_tls_cert, gw_tls_key and gw_tls_ca of `cfg`, and `host` (hostlen
 * bytes) with gw_tls_listen's host for the caller to resolve into vi->iface. Every file is read
 * and checked here (the certificate parses, the key parses and matches it, the CA file holds a
 * certificate) because lws would quietly create a vhost without them. Returns 0 when gw_tls_cert
 * is empty (no TLS listener; `vi` untouched), 1 when `vi` is ready, -1 after logging an error
 * line naming the setting at fault. `vi` borrows cfg's strings: cfg must outlive the vhost. */
int gw_tls_vhost_info(const struct evg_config *cfg, const struct lws_context_creation_info *base,
                      struct lws_context_creation_info *vi, char *host, size_t hostlen);

/* LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS of protocols[0]: `ssl_ctx` is the TLS
 * vhost's SSL_CTX. Sets TLS 1.2 as the minimum and names gw_tls_ca's subjects in the certificate
 * request; refuses renegotiation. Returns 0, or -1 (lws then fails the vhost). */
int gw_tls_on_vhost_ctx(const struct evg_config *cfg, void *ssl_ctx);

/* LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION of protocols[0]. Always 0 (continue the
 * TLS handshake): OpenSSL keeps the verification's outcome for gw_tls_peer(). */
int gw_tls_on_client_cert(void);

/* What the connection of `wsi` carries. */
enum gw_tls_peer {
    GW_TLS_PLAIN = 0,     /* no TLS (ws://) */
    GW_TLS_NO_CERT,       /* TLS without a client certificate */
    GW_TLS_CERT_INVALID,  /* a client certificate that gw_tls_ca does not verify */
    GW_TLS_CERT_VERIFIED, /* a client certificate verified by gw_tls_ca; `cn` filled */
};

/* Classifies the connection of `wsi` (after its TLS handshake, e.g. at the HTTP upgrade) and, for
 * a verified certificate, copies its subject's one commonName (UTF-8) into cn (cnlen bytes);
 * cn is "" when the subject has no CN, several, or one with a NUL byte or longer than cnlen - 1.
 * Never blocks. */
enum gw_tls_peer gw_tls_peer(struct lws *wsi, char *cn, size_t cnlen);

#endif
