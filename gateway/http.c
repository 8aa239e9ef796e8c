/* The gateway's HTTP protocol: /healthz and /metrics, the T/CEC endpoint /evcs/v1/ (handed to
 * tcec_http.c), JSON 404/405 for the rest, and the context-wide reasons lws delivers to
 * protocols[0]. See http.h. */
#include "gateway/http.h"
#include "gateway/accept.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/ocpp.h"
#include "gateway/piles.h"
#include "gateway/tcec.h"
#include "gateway/tcec_client.h"
#include "gateway/tls.h"
#include "gateway/writer.h"
#include "common/log.h"
#include "common/thread.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef EVGATE_VERSION
#define EVGATE_VERSION "unknown"
#endif

/* Body bytes written per writeable callback (lws' default service buffer is 4096). */
#define GW_HTTP_CHUNK 4096
/* Room for the status line and headers of our own small responses. */
#define GW_HTTP_HEADER_ROOM 512
/* /healthz reports the database down when the writer's last good answer is older than this. */
#define GW_DB_STALE_S 30.0

/* Per connection (reset by lws between keep-alive requests). */
struct pss_http {
    char *body; /* owned; NULL once sent */
    size_t len, sent;
    struct gw_tcec_req *tcec; /* a T/CEC request (tcec.h) owns the transaction while set */
};

struct response {
    int status;
    const char *ctype;
    const char *route; /* metrics label: static */
    char *body;        /* heap; handed to the pss */
    size_t len;
};

static const char JSON[] = "application/json";

static void set_body(struct response *r, int status, const char *ctype, char *body)
{
    r->status = status;
    r->ctype = ctype;
    r->body = body;
    r->len = body ? strlen(body) : 0;
}

static void error_json(struct response *r, int status, const char *code, const char *message)
{
    char *b = NULL;
    if (asprintf(&b, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message) < 0)
        b = NULL;
    set_body(r, b ? status : 500, JSON, b);
}

static void healthz(struct gw_server *gw, struct response *r)
{
    struct gw_writer_stats st;
    gw_writer_stats(gw->writer, &st);
    /* No query here: the writer's last commit or idle ping says whether the database answers,
     * and reading that never blocks the loop. */
    bool db_ok = st.db_ok && st.db_ok_age_s < GW_DB_STALE_S;
    char *b = NULL;
    if (asprintf(&b, "{\"status\":\"%s\",\"db\":\"%s\",\"version\":\"%s\"}",
                 db_ok ? "ok" : "degraded", db_ok ? "ok" : "error", EVGATE_VERSION) < 0)
        b = NULL;
    set_body(r, b ? (db_ok ? 200 : 503) : 500, JSON, b);
}

static void metrics(struct gw_server *gw, struct response *r, const struct timespec *start)
{
    struct gw_writer_stats st;
    gw_writer_stats(gw->writer, &st);
    /* Counted before rendering so that a scrape sees itself: the counter moves on every call. */
    gw_metrics_http_request(gw->metrics, r->route, 200, thread_seconds_since(*start));
    if (gw->piles) {
        struct gw_piles_stats ps;
        gw_piles_stats(gw->piles, &ps);
        gw_metrics_set_piles(gw->metrics, &ps);
    }
    size_t polled, reachable;
    gw_tcec_client_stats(gw->tcec, &polled, &reachable);
    gw_metrics_set_tcec(gw->metrics, polled, reachable);
    size_t len = 0;
    char *b = gw_metrics_render(gw->metrics, &st, &len);
    if (!b) {
        error_json(r, 500, "internal", "out of memory");
        return;
    }
    r->status = 200;
    r->ctype = "text/plain; version=0.0.4; charset=utf-8";
    r->body = b;
    r->len = len;
}

/* Decides the answer to one request. Routes are matched exactly; the query string is not part
 * of `path` (lws keeps it apart). */
static void route(struct gw_server *gw, int method, const char *path, struct response *r)
{
    /* answers here are synchronous: the time is the handler's */
    struct timespec start = thread_now();
    memset(r, 0, sizeof *r);
    bool is_healthz = strcmp(path, "/healthz") == 0, is_metrics = strcmp(path, "/metrics") == 0;
    r->route = is_healthz ? "/healthz" : is_metrics ? "/metrics" : "other";
    if (!is_healthz && !is_metrics) {
        error_json(r, 404, "not_found", "no such resource on the gateway");
    } else if (method != LWSHUMETH_GET) {
        error_json(r, 405, "method_not_allowed", "only GET is served here");
        if (method == LWSHUMETH_HEAD) { /* a HEAD answer has no body */
            free(r->body);
            r->body = NULL;
            r->len = 0;
        }
    } else if (is_healthz) {
        healthz(gw, r);
    } else {
        metrics(gw, r, &start);
        return; /* counted by metrics() */
    }
    gw_metrics_http_request(gw->metrics, r->route, r->status, thread_seconds_since(start));
}

static int send_headers(struct lws *wsi, const struct response *r)
{
    unsigned char buf[LWS_PRE + GW_HTTP_HEADER_ROOM];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->ctype, r->len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (r->status == 405 && lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                                        (const unsigned char *)"GET", 3, &p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

static void drop_body(struct pss_http *pss)
{
    if (!pss)
        return;
    free(pss->body);
    pss->body = NULL;
    pss->len = pss->sent = 0;
}

/* One chunk per writeable callback, as lws wants; the last one ends the transaction. */
static int send_body(struct lws *wsi, struct pss_http *pss)
{
    unsigned char buf[LWS_PRE + GW_HTTP_CHUNK];
    size_t n = pss->len - pss->sent;
    if (n > GW_HTTP_CHUNK)
        n = GW_HTTP_CHUNK;
    bool last = pss->sent + n == pss->len;
    memcpy(buf + LWS_PRE, pss->body + pss->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
        return -1;
    pss->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    drop_body(pss);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int gw_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    struct gw_server *gw = lws_context_user(lws_get_context(wsi));
    struct pss_http *pss = user;

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        gw_server_on_wakeup(gw);
        return 0;

    case LWS_CALLBACK_WSI_CREATE:
        gw_metrics_conn_open(gw->metrics);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        if (!gw_accept_is_listener(wsi))
            gw_metrics_conn_close(gw->metrics);
        return 0;

    /* The listening sockets (accept.h). */
    case LWS_CALLBACK_RAW_ADOPT_FILE:
    case LWS_CALLBACK_RAW_RX_FILE:
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        return gw_accept_callback(gw, wsi, reason);

    /* The TLS vhost's (tls.h): its SSL_CTX once, and each client certificate's verdict. */
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        return gw_tls_on_vhost_ctx(gw->cfg, user);
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        return gw_tls_on_client_cert();

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* Only OCPP-J WebSocket upgrades on /ocpp/ are served; ocpp_handshake.c decides them
         * (and hangs up on any other upgrade, h2c included). */
        return gw_ocpp_confirm_upgrade(gw, wsi, in ? (const char *)in : NULL);

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1; /* never a WebSocket on the HTTP protocol */

    case LWS_CALLBACK_HTTP: {
        if (gw_tcec_is_path(in)) /* POST /evcs/v1/{interface}: tcec_http.c */
            return gw_tcec_on_http(gw, wsi, in, &pss->tcec);
        char *uri = NULL;
        int urilen = 0;
        int method = lws_http_get_uri_and_method(wsi, &uri, &urilen);
        struct response r;
        route(gw, method, in ? (const char *)in : "", &r);
        drop_body(pss);
        pss->body = r.body;
        pss->len = r.len;
        if (send_headers(wsi, &r) < 0)
            return -1;
        if (pss->len == 0) {
            drop_body(pss);
            return lws_http_transaction_completed(wsi) ? -1 : 0;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }

    case LWS_CALLBACK_HTTP_BODY:
        if (pss && pss->tcec)
            return gw_tcec_on_body(pss->tcec, in, len);
        return 0; /* no other route takes a body: ignore it */
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss && pss->tcec)
            return gw_tcec_on_body_done(pss->tcec);
        /* Ours, not lws_callback_http_dummy's: that one completes the transaction here, which
         * would drop an answer whose headers are out but whose body is still to be written. */
        if (pss && pss->body)
            lws_callback_on_writable(wsi);
        return 0;

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (pss && pss->tcec)
            return gw_tcec_on_writeable(&pss->tcec);
        if (!pss || !pss->body)
            return 0;
        return send_body(wsi, pss);

    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss)
            gw_tcec_on_close(&pss->tcec);
        drop_body(pss);
        return 0;

    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

void gw_http_protocol(struct lws_protocols *p, size_t rx_buffer_size)
{
    memset(p, 0, sizeof *p);
    p->name = "http";
    p->callback = gw_http_callback;
    p->per_session_data_size = sizeof(struct pss_http);
    p->rx_buffer_size = rx_buffer_size;
}
