/* The lws side of the T/CEC endpoint (see tcec.h): routing of /evcs/v1/{interface}, the
 * bounded body, the envelope's shape, the writer job, and the answer — signed with the
 * operator's keys when the request could be attributed to an OperatorID with live credentials,
 * otherwise a T/CEC error body with Sig "" and an HTTP status saying why:
 *   405 not POST · 404 not a served interface · 411 no Content-Length · 413 body over
 *   tcec_body_max_bytes · 400 the envelope's shape (tcec_request_parse) · 403 no live
 *   credentials for the OperatorID · 503 the writer's queue is full (Ret -1).
 * Attributed answers are HTTP 200, except a source address off the allow-list (403, signed). */
#include "gateway/tcec.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/tcec_internal.h"
#include "gateway/writer.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/db.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Body bytes written per writeable callback. */
#define GW_TCEC_CHUNK 4096
/* Room for the status line and headers. */
#define GW_TCEC_HEADER_ROOM 512

/* The interfaces served here: the operator -> platform direction of docs/tcec.md. The
 * query_* interfaces of the dictionary are the other direction (evgate calls them). */
static const char *const served[] = {
    "query_token",
    "notification_stationInfo",
    "notification_stationStatus",
    "notification_charge_order_info",
};

int gw_tcec_is_path(const char *path)
{
    return path && strncmp(path, GW_TCEC_PREFIX, sizeof GW_TCEC_PREFIX - 1) == 0;
}

static void req_free(struct gw_tcec_req *r)
{
    if (!r)
        return;
    tcec_request_clear(&r->req);
    json_decref(r->answer);
    free(r->body);
    free(r->out);
    OPENSSL_cleanse(r, sizeof *r); /* the keys and the bearer token */
    free(r);
}

/* An answer that cannot be signed: {Ret, Msg, Data: "", Sig: ""}. */
static char *unsigned_body(int ret, const char *msg)
{
    json_t *o = json_pack("{s:i, s:s, s:s, s:s}", "Ret", ret, "Msg", msg, "Data", "", "Sig", "");
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

/* Makes r's answer final and asks for a writeable callback (unless the connection is gone).
 * Counts it and logs one line. */
static void finish(struct gw_tcec_req *r)
{
    struct gw_server *gw = r->gw;
    char *body = NULL;
    if (r->attributed) {
        struct tcec_keys keys = {r->data_secret, r->data_secret_iv, r->sig_secret};
        struct tcec_error err = {0};
        if (r->answer && tcec_validate(r->interface, TCEC_RESPONSE, r->answer, &err) < 0) {
            /* Never send what the platform's own validator would refuse. */
            log_error("gateway", "tcec_answer_invalid", "interface=%s path=%s", log_q(r->interface),
                      log_q(err.path));
            json_decref(r->answer);
            r->answer = NULL;
            r->http_status = 500;
            r->ret = TCEC_RET_SYSTEM;
            snprintf(r->msg, sizeof r->msg, "no valid answer could be built");
        }
        body = tcec_response_build(r->ret, r->msg[0] ? r->msg : tcec_ret_text(r->ret), r->answer,
                                   &keys);
    }
    if (!body)
        body = unsigned_body(r->ret, r->msg[0] ? r->msg : tcec_ret_text(r->ret));
    if (!body)
        r->http_status = 500;
    free(r->out);
    r->out = body;
    r->out_len = body ? strlen(body) : 0;
    r->out_sent = 0;
    r->ready = 1;
    if (gw->metrics) {
        gw_metrics_tcec_request(gw->metrics, r->interface ? r->interface : "unknown", r->ret);
        gw_metrics_http_request(gw->metrics, "/evcs/v1", r->http_status,
                                (double)(thread_now_ms() - r->start_ms) / 1000.0);
    }
    log_info("gateway", "tcec_request",
             "operator_id=%s interface=%s peer=%s http=%d ret=%d reason=%s",
             log_q(r->req.operator_id[0] ? r->req.operator_id : "-"),
             log_q(r->interface ? r->interface : "-"), log_q(r->peer[0] ? r->peer : "-"),
             r->http_status, r->ret, log_q(r->reason ? r->reason : "-"));
    if (r->wsi)
        lws_callback_on_writable(r->wsi);
}

/* An answer decided on the lws thread, before any job. */
static void answer_now(struct gw_tcec_req *r, int http_status, int ret, const char *reason,
                       const char *msg)
{
    r->attributed = 0;
    r->http_status = http_status;
    r->ret = ret;
    r->reason = reason;
    snprintf(r->msg, sizeof r->msg, "%s", msg);
    finish(r);
}

static void job_done(void *arg, int rc)
{
    struct gw_tcec_req *r = arg;
    r->in_flight = 0;
    if (rc != 0) {
        log_warn("gateway", "tcec_request_not_stored", "operator_id=%s interface=%s rc=%d",
                 log_q(r->req.operator_id), log_q(r->interface), rc);
        json_decref(r->answer);
        r->answer = NULL;
        r->http_status = r->attributed ? 200 : 500;
        r->ret = TCEC_RET_SYSTEM;
        r->reason = "system";
        snprintf(r->msg, sizeof r->msg, "the request could not be stored");
    }
    finish(r);
    if (!r->wsi) { /* the connection closed meanwhile: stored and logged, not delivered */
        log_info("gateway", "tcec_answer_undelivered", "operator_id=%s interface=%s",
                 log_q(r->req.operator_id), log_q(r->interface));
        req_free(r);
    }
}

int gw_tcec_on_http(struct gw_server *gw, struct lws *wsi, const char *path,
                    struct gw_tcec_req **slot)
{
    gw_tcec_on_close(slot);
    struct gw_tcec_req *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    *slot = r;
    r->gw = gw;
    r->wsi = wsi;
    r->at = db_now();
    r->start_ms = thread_now_ms();
    r->token_ttl_s = gw->cfg->tcec_token_ttl_s;
    r->clock_skew_s = gw->cfg->tcec_clock_skew_s;
    lws_get_peer_simple(wsi, r->peer, sizeof r->peer);

    const char *name = path + sizeof GW_TCEC_PREFIX - 1;
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
        if (strcmp(name, served[i]) == 0)
            r->interface = served[i];

    char *uri = NULL;
    int urilen = 0;
    int method = lws_http_get_uri_and_method(wsi, &uri, &urilen);
    char cl[32] = "";
    int has_cl = lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    char *end = NULL;
    errno = 0;
    unsigned long long want = has_cl ? strtoull(cl, &end, 10) : 0;
    int cl_ok = has_cl && end && end != cl && *end == 0 && errno == 0 && cl[0] != '-';
    /* A body announced (or, for a POST without Content-Length, possibly chunked) and not read:
     * close after answering rather than read it as the next request. */
    r->close_after = has_cl ? want > 0 : method == LWSHUMETH_POST;
    r->head = method == LWSHUMETH_HEAD;

    int alen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (alen > GW_TCEC_AUTH_MAX)
        r->auth_too_long = 1;
    else if (alen > 0 &&
             lws_hdr_copy(wsi, r->auth, sizeof r->auth, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
        r->auth[0] = 0;

    if (method != LWSHUMETH_POST) {
        answer_now(r, 405, TCEC_RET_POST, "method", "T/CEC interfaces are called with POST");
    } else if (!r->interface) {
        /* the name as printable ASCII: it goes into JSON text and a log line */
        char msg[TCEC_MSG_MAX], shown[65];
        size_t n = 0;
        for (; name[n] && n + 1 < sizeof shown; n++)
            shown[n] = name[n] > ' ' && name[n] < 0x7f && name[n] != '"' ? name[n] : '?';
        shown[n] = 0;
        snprintf(msg, sizeof msg, "no such interface: %s", shown);
        answer_now(r, 404, TCEC_RET_POST, "interface", msg);
    } else if (!cl_ok) {
        answer_now(r, 411, TCEC_RET_POST, "length", "a Content-Length is required");
    } else if (want > (unsigned long long)gw->cfg->tcec_body_max_bytes) {
        char msg[TCEC_MSG_MAX];
        snprintf(msg, sizeof msg, "the body is over %lld bytes", gw->cfg->tcec_body_max_bytes);
        answer_now(r, 413, TCEC_RET_POST, "too_large", msg);
    } else if (want == 0) {
        r->close_after = 0;
        return gw_tcec_on_body_done(r); /* no body callbacks come */
    } else {
        r->cap = (size_t)want;
        r->body = malloc(r->cap);
        if (!r->body)
            return -1;
    }
    return 0;
}

int gw_tcec_on_body(struct gw_tcec_req *r, const void *in, size_t len)
{
    if (r->ready || r->in_flight || !r->body)
        return 0; /* answered already: the rest is dropped with the connection */
    if (len > r->cap - r->len)
        len = r->cap - r->len; /* lws delivers no more than Content-Length */
    memcpy(r->body + r->len, in, len);
    r->len += len;
    return 0;
}

int gw_tcec_on_body_done(struct gw_tcec_req *r)
{
    if (r->ready || r->in_flight)
        return 0;
    r->close_after = 0;
    struct tcec_error err = {0};
    if (tcec_request_parse(r->body ? r->body : "", r->len, &r->req, &err) < 0) {
        answer_now(r, 400, err.ret ? err.ret : TCEC_RET_POST, tcec_rule_name(err.rule),
                   err.msg[0] ? err.msg : "the request is not a T/CEC envelope");
        return 0;
    }
    free(r->body); /* the envelope holds what is needed */
    r->body = NULL;
    struct gw_server *gw = r->gw;
    r->in_flight = 1;
    int rc = gw->writer ? gw_writer_submit(gw->writer, gw_tcec_job, job_done, r) : -ESHUTDOWN;
    if (rc != 0) {
        r->in_flight = 0;
        log_warn("gateway", "tcec_request_refused", "operator_id=%s interface=%s rc=%d",
                 log_q(r->req.operator_id), log_q(r->interface), rc);
        answer_now(r, 503, TCEC_RET_BUSY, "busy", tcec_ret_text(TCEC_RET_BUSY));
    }
    return 0;
}

static int send_headers(struct gw_tcec_req *r)
{
    unsigned char buf[LWS_PRE + GW_TCEC_HEADER_ROOM];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    struct lws *wsi = r->wsi;
    if (lws_add_http_common_headers(wsi, (unsigned)r->http_status, "application/json", r->out_len,
                                    &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (r->http_status == 405 &&
        lws_add_http_header_by_name(
            wsi, (const unsigned char *)"allow:", (const unsigned char *)"POST", 4, &p, end))
        return -1;
    if (r->close_after && lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                                      (const unsigned char *)"close", 5, &p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

int gw_tcec_on_writeable(struct gw_tcec_req **slot)
{
    struct gw_tcec_req *r = *slot;
    if (!r->ready || !r->wsi)
        return 0;
    struct lws *wsi = r->wsi;
    if (!r->headers_sent) {
        if (send_headers(r) < 0)
            return -1;
        r->headers_sent = 1;
        if (r->out_len > 0 && !r->head) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        unsigned char buf[LWS_PRE + GW_TCEC_CHUNK];
        size_t n = r->out_len - r->out_sent;
        if (n > GW_TCEC_CHUNK)
            n = GW_TCEC_CHUNK;
        int last = r->out_sent + n == r->out_len;
        memcpy(buf + LWS_PRE, r->out + r->out_sent, n);
        if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
            return -1;
        r->out_sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    int close_after = r->close_after;
    *slot = NULL;
    req_free(r);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void gw_tcec_on_close(struct gw_tcec_req **slot)
{
    struct gw_tcec_req *r = *slot;
    if (!r)
        return;
    *slot = NULL;
    if (r->in_flight)
        r->wsi = NULL; /* job_done frees it */
    else
        req_free(r);
}
