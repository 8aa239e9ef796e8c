/* The OCPP-J handshake: decides a WebSocket upgrade on /ocpp/{EquipmentID} from the pile table
 * (identity, status, security profile, Basic-auth password or client certificate, subprotocol)
 * and writes the refusals. The order of the checks and the statuses are explained in ocpp.h;
 * the security profiles (OCPP 1.6 security whitepaper / 2.0.1 Part 2 A00) fit in after the
 * status, per pile (piles.security_profile):
 *   - profile 1: Basic auth, over ws:// or wss://;
 *   - profile 2: over ws:// refused with 403 `tls_required` ("security profile 2 requires
 *     wss://"), else Basic auth as profile 1;
 *   - profile 3: over ws:// 403 `tls_required`; over wss:// the client certificate decides, no
 *     password is asked for (an Authorization header is ignored): none presented (or no
 *     gw_tls_ca to verify one) 403 `client_cert_missing`, not verified by gw_tls_ca 403
 *     `client_cert_invalid`, a subject CN other than the EquipmentID 403 `client_cert_mismatch`.
 *   The transport is checked before the password so that the plain port never answers whether
 *   a profile 2 pile's password is right (it would be an oracle for a password that must only
 *   travel encrypted); that tells an unauthenticated client the pile's profile, which its
 *   installer needs to hear and which is no secret. Certificate refusals are 403, not 401: the
 *   credential is the TLS one, and a 401 would have to offer a Basic challenge that cannot
 *   help. A profile outside 1-3 (the schema forbids it) is treated as 3, the strictest.
 * An upgrade let through hands what admitted it (piles.h: the password's fingerprint, the
 * profile, the transport) to the connection (gw_ocpp_admitted), which is closed when the pile's
 * entry no longer admits it. */
#include "gateway/ocpp.h"
#include "gateway/dashboard.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/piles.h"
#include "gateway/tls.h"
#include "common/config.h"
#include "common/log.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define OCPP_PREFIX     "/ocpp/"
#define OCPP_PREFIX_LEN (sizeof OCPP_PREFIX - 1)
/* An Authorization header: "Basic " + base64 of a 48-byte user, ':' and a password. */
#define GW_AUTH_HEADER_MAX 512
/* lws itself refuses (by hanging up) a Sec-WebSocket-Protocol list of 128 bytes or more. */
#define GW_SUBPROTOCOLS_MAX 127

static const char *const version_names[GW_OCPP_VERSIONS] = {"ocpp1.6", "ocpp2.0.1"};

const char *gw_ocpp_version_name(enum gw_ocpp_version v)
{
    return (unsigned)v < GW_OCPP_VERSIONS ? version_names[v] : "unknown";
}

int gw_ocpp_version_of(const char *name)
{
    for (int i = 0; i < GW_OCPP_VERSIONS; i++)
        if (strcmp(name, version_names[i]) == 0)
            return i;
    return -1;
}

int gw_ocpp_path_id(const char *path, char *out, size_t outlen)
{
    if (strncmp(path, OCPP_PREFIX, OCPP_PREFIX_LEN) != 0)
        return -1;
    const char *seg = strrchr(path, '/') + 1;
    size_t n = strlen(seg);
    if (n == 0 || n > GW_PILE_ID_MAX || n >= outlen)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)seg[i];
        /* ':' separates user and password in Basic auth (OCPP-J forbids it in the identity). */
        if (ch < 0x20 || ch == 0x7f || ch == ':')
            return -1;
    }
    memcpy(out, seg, n + 1);
    return 0;
}

/* The identity as a log value: characters outside a safe set become '?'. */
static void log_id(const char *id, char *out, size_t outlen)
{
    size_t i = 0;
    for (; id[i] && i + 1 < outlen; i++) {
        char ch = id[i];
        bool safe = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || strchr("-_.*+|@", ch);
        out[i] = safe ? ch : '?';
    }
    out[i] = 0;
}

/* Writes an HTTP refusal with a JSON error body (`message` is a static text without quotes) and
 * counts it; returns 1 for lws_http_transaction_completed(). */
static int refuse(struct gw_server *gw, struct lws *wsi, unsigned status, const char *code,
                  const char *message, const char *id)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 256;
    char body[256], len_text[16], lid[GW_PILE_ID_MAX + 1], peer[64] = "";
    int blen = snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
                        message);
    int llen = snprintf(len_text, sizeof len_text, "%d", blen);
    static const char realm[] = "Basic realm=\"evgate\"";

    gw_metrics_ocpp_handshake(gw->metrics, code);
    gw_metrics_http_request(gw->metrics, "/ocpp", (int)status, -1);
    log_id(id ? id : "", lid, sizeof lid);
    lws_get_peer_simple(wsi, peer, sizeof peer);
    gw_dashboard_refusal(gw->dashboard, lid, status, code, peer);
    /* anyone can make refusals: a budget keeps them from flooding the log (metrics count all) */
    static struct log_budget budget = {.per_minute = GW_LOG_REFUSALS_PER_MIN};
    unsigned long long left_out;
    if (log_budget_take(&budget, &left_out))
        log_info("gateway", "ocpp_refused",
                 "equipment_id=%s status=%u reason=%s peer=%s suppressed=%llu",
                 log_q(*lid ? lid : "-"), status, log_q(code), log_q(*peer ? peer : "-"), left_out);

    if (lws_add_http_header_status(wsi, status, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)"application/json", 16, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                     (const unsigned char *)len_text, llen, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (status == HTTP_STATUS_UNAUTHORIZED &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                     (const unsigned char *)realm, (int)sizeof realm - 1, &p, end))
        return -1;
    if (lws_finalize_http_header(wsi, &p, end))
        return -1;
    /* HTTP/1: headers and the small body in one write, as lws_return_http_status() does. */
    memcpy(p, body, (size_t)blen);
    int n = (int)(p - start) + blen;
    return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) == n ? 1 : -1;
}

/* The password of an `Authorization: Basic` header whose user is `id`, into pw (NUL-terminated);
 * its length, or -1 when the header is missing, malformed or names another user. */
static int basic_password(struct lws *wsi, const char *id, char *pw, size_t pwlen)
{
    char hdr[GW_AUTH_HEADER_MAX], dec[GW_AUTH_HEADER_MAX];
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 6 || strncasecmp(hdr, "Basic ", 6) != 0)
        return -1;
    const char *b64 = hdr + 6;
    while (*b64 == ' ')
        b64++;
    int m = lws_b64_decode_string(b64, dec, (int)sizeof dec);
    if (m <= 0 || (size_t)m >= sizeof dec)
        return -1;
    dec[m] = 0;
    const char *colon = memchr(dec, ':', (size_t)m);
    size_t idlen = strlen(id);
    if (!colon || (size_t)(colon - dec) != idlen || memcmp(dec, id, idlen) != 0)
        return -1;
    size_t plen = (size_t)m - idlen - 1;
    if (plen >= pwlen)
        return -1;
    memcpy(pw, colon + 1, plen);
    pw[plen] = 0;
    return (int)plen;
}

/* The first entry of the comma-separated list `list` (tokens trimmed of blanks) that one of the
 * vhost's protocols is named after, into out; "" when none. That is the protocol lws will bind:
 * it follows the client's order of preference, and lws 4.1 gives us no way to bind another
 * (lws_bind_protocol is private). "http" counts: lws would bind our HTTP protocol. */
static void first_served(const char *list, char *out, size_t outlen)
{
    static const char *const served[] = {"http", "ocpp1.6", "ocpp2.0.1"};
    *out = 0;
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
            if ((size_t)(t - s) == strlen(served[i]) &&
                memcmp(s, served[i], (size_t)(t - s)) == 0) {
                snprintf(out, outlen, "%s", served[i]);
                return;
            }
        s = e;
    }
}

/* Profile 1 and 2's credential: `Authorization: Basic` with the pile's password. 0 when it is
 * right, else what refuse() returns. */
static int check_password(struct gw_server *gw, struct lws *wsi, const struct gw_pile *pile,
                          const char *id)
{
    char pw[GW_AUTH_HEADER_MAX];
    int pwlen = basic_password(wsi, id, pw, sizeof pw);
    bool ok = pwlen >= 0 && gw_pile_password_ok(pile, pw, (size_t)pwlen);
    memset(pw, 0, sizeof pw);
    if (ok)
        return 0;
    if (pwlen >= 0)
        gw_piles_refresh_soon(gw->piles); /* a password issued a moment ago */
    return refuse(gw, wsi, HTTP_STATUS_UNAUTHORIZED, "unauthorized",
                  pwlen < 0 ? "HTTP Basic authentication with the EquipmentID as user is required"
                            : "wrong password",
                  id);
}

/* Whether the connection carries a client certificate that profile 3 accepts for `id`. */
static bool cert_ok(struct gw_server *gw, enum gw_tls_peer peer, const char *cn, const char *id)
{
    const char *ca = gw->cfg->gw_tls_ca;
    return ca && *ca && peer == GW_TLS_CERT_VERIFIED && strcmp(cn, id) == 0;
}

/* The pile's security profile (see the top of this file): the transport (`peer`, `cn` from
 * gw_tls_peer()), then the password or the client certificate. 0 when the pile may go on to the
 * subprotocol check, else what refuse() returns. */
static int check_credentials(struct gw_server *gw, struct lws *wsi, const struct gw_pile *pile,
                             const char *id, enum gw_tls_peer peer, const char *cn)
{
    int profile = gw_pile_profile(pile);
    if (profile == 1)
        return check_password(gw, wsi, pile, id);
    if (peer == GW_TLS_PLAIN)
        return refuse(gw, wsi, HTTP_STATUS_FORBIDDEN, "tls_required",
                      profile == 2 ? "security profile 2 requires wss:// (TLS)"
                                   : "security profile 3 requires wss:// (TLS) with a client "
                                     "certificate",
                      id);
    if (profile == 2)
        return check_password(gw, wsi, pile, id);

    const char *ca = gw->cfg->gw_tls_ca;
    if (!ca || !*ca)
        return refuse(gw, wsi, HTTP_STATUS_FORBIDDEN, "client_cert_missing",
                      "security profile 3: the gateway has no client CA (gw_tls_ca) configured",
                      id);
    if (peer == GW_TLS_NO_CERT)
        return refuse(gw, wsi, HTTP_STATUS_FORBIDDEN, "client_cert_missing",
                      "security profile 3 requires a TLS client certificate", id);
    if (peer != GW_TLS_CERT_VERIFIED)
        return refuse(gw, wsi, HTTP_STATUS_FORBIDDEN, "client_cert_invalid",
                      "the client certificate is not signed by the gateway's client CA, or it "
                      "expired",
                      id);
    if (!cert_ok(gw, peer, cn, id))
        return refuse(gw, wsi, HTTP_STATUS_FORBIDDEN, "client_cert_mismatch",
                      "the client certificate's subject CN is not the EquipmentID", id);
    return 0;
}

int gw_ocpp_confirm_upgrade(struct gw_server *gw, struct lws *wsi, const char *upgrade)
{
    char *uri = NULL;
    int urilen = 0;
    int method = lws_http_get_uri_and_method(wsi, &uri, &urilen);
    if (!upgrade || strcasecmp(upgrade, "websocket") != 0 || method != LWSHUMETH_GET || !uri ||
        urilen < (int)OCPP_PREFIX_LEN || strncmp(uri, OCPP_PREFIX, OCPP_PREFIX_LEN) != 0) {
        log_debug("gateway", "upgrade_refused", "upgrade=%s", log_q(upgrade ? upgrade : ""));
        return -1; /* only OCPP-J upgrades are served */
    }

    char id[GW_PILE_ID_MAX + 1];
    if (gw_ocpp_path_id(uri, id, sizeof id) < 0)
        return refuse(
            gw, wsi, HTTP_STATUS_NOT_FOUND, "bad_identity",
            "the path must be /ocpp/ and an EquipmentID of 1 to 48 characters without a colon",
            NULL);

    struct gw_pile pile;
    if (gw_piles_lookup(gw->piles, id, &pile) < 0) {
        gw_piles_refresh_soon(gw->piles); /* it may have been accessed a moment ago */
        return refuse(gw, wsi, HTTP_STATUS_NOT_FOUND, "unknown_pile", "no such pile", id);
    }
    if (!pile.accessed) {
        gw_piles_refresh_soon(gw->piles);
        return refuse(gw, wsi, HTTP_STATUS_FORBIDDEN, "not_accessed",
                      "the pile is not accessed (approved for access) yet", id);
    }

    char cn[GW_TLS_CN_MAX] = "";
    enum gw_tls_peer peer = gw_tls_peer(wsi, cn, sizeof cn);
    int rc = check_credentials(gw, wsi, &pile, id, peer, cn);
    if (rc)
        return rc;

    int version = gw_ocpp_version_of(pile.protocol);
    char offered[GW_SUBPROTOCOLS_MAX + 1], chosen[16] = "";
    if (lws_hdr_copy(wsi, offered, sizeof offered, WSI_TOKEN_PROTOCOL) > 0)
        first_served(offered, chosen, sizeof chosen);
    if (version < 0 || strcmp(chosen, pile.protocol) != 0)
        return refuse(gw, wsi, HTTP_STATUS_BAD_REQUEST, "no_subprotocol",
                      version < 0 ? "the pile is not configured for OCPP-J"
                                  : "the pile's configured OCPP version must be the first offered "
                                    "subprotocol that the gateway serves",
                      id);

    /* The mark that this wsi passed the checks; the protocol callback refuses any without it.
     * What admitted it goes with the connection, to be checked as the pile's entry changes. */
    lws_set_opaque_user_data(wsi, (void *)(uintptr_t)(version + 1));
    struct gw_pile_admission adm;
    gw_pile_admission_init(&adm, &pile, peer != GW_TLS_PLAIN, cert_ok(gw, peer, cn, id));
    gw_ocpp_admitted(gw->ocpp, wsi, &adm);
    gw_metrics_ocpp_handshake(gw->metrics, "accepted");
    return 0;
}
