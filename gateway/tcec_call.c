/* One T/CEC call to an operator platform; see tcec_call.h. */
#include "gateway/tcec_call.h"
#include "common/thread.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define URL_MAX    (1024 + 64)
#define BEARER_MAX (GW_TCEC_CALL_TOKEN_MAX + 32)

struct rx {
    char *p;
    size_t len;
    int too_large;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct rx *b = arg;
    size_t add = size * n;
    if (b->len + add > GW_TCEC_CALL_MAX_BODY) {
        b->too_large = 1;
        return 0; /* aborts the transfer */
    }
    char *np = realloc(b->p, b->len + add + 1);
    if (!np)
        return 0;
    memcpy(np + b->len, data, add);
    b->p = np;
    b->len += add;
    b->p[b->len] = 0;
    return add;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    const struct gw_tcec_call *c = arg;
    return c->should_stop && c->should_stop(c->stop_arg) ? 1 : 0; /* nonzero aborts */
}

__attribute__((format(printf, 3, 4))) static void problem(struct gw_tcec_call *c,
                                                          const char *reason, const char *fmt, ...)
{
    c->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->problem, sizeof c->problem, fmt, ap);
    va_end(ap);
}

/* POSTs `body`; the answer into c->text. 0, or -1 with c->reason set. */
static int post(CURL *h, struct gw_tcec_call *c, const char *body)
{
    char url[URL_MAX], auth[BEARER_MAX];
    if (snprintf(url, sizeof url, "%s%s", c->url, c->interface) >= (int)sizeof url) {
        problem(c, "request", "the platform's URL is too long");
        return -1;
    }
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "Content-Type: application/json;charset=utf-8");
    if (c->token && c->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    struct rx b = {0};
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    long timeout = c->timeout_s > 0 ? c->timeout_s : 1;
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "evgate");
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->http_status);
    c->text = b.p;
    c->len = b.len;
    if (rc != CURLE_OK) {
        if (b.too_large)
            problem(c, "too_large", "answer larger than 8 MiB");
        else
            problem(c, "network", "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (c->http_status != 200) {
        problem(c, "http_status", "HTTP status %ld", c->http_status);
        return -1;
    }
    return 0;
}

/* Decrypts Data by itself (the Sig already failed, so tcec_response_open stopped there). */
static void open_data(struct gw_tcec_call *c, const struct tcec_response *resp)
{
    if (!resp->data || !resp->data[0])
        return;
    enum tcec_rule rule = TCEC_R_NONE;
    size_t n = 0;
    char *plain = tcec_decrypt(resp->data, strlen(resp->data), &c->keys, &n, &rule);
    if (!plain) {
        c->data = rule == TCEC_R_BASE64 ? GW_TCEC_DATA_BASE64 : GW_TCEC_DATA_DECRYPT;
        return;
    }
    json_t *v = json_loadb(plain, n, JSON_REJECT_DUPLICATES, NULL);
    free(plain);
    if (!json_is_object(v)) {
        json_decref(v);
        c->data = GW_TCEC_DATA_JSON;
        return;
    }
    c->data = GW_TCEC_DATA_OK;
    c->answer = v;
}

/* Reads the envelope in c->text: Sig, Data, Ret, the payload's rules. */
static void open_answer(struct gw_tcec_call *c)
{
    struct tcec_response resp = {0};
    struct tcec_error err = {0};
    if (tcec_response_parse(c->text ? c->text : "", c->len, &resp, &err) != 0) {
        problem(c, "envelope", "%s", err.msg);
        return;
    }
    c->has_ret = 1;
    c->ret = resp.ret;
    c->msg = strdup(resp.msg ? resp.msg : "");
    if (tcec_response_open(&resp, &c->keys, &err) == 0) {
        c->sig_ok = 1;
        if (resp.payload) {
            c->data = GW_TCEC_DATA_OK;
            c->answer = json_incref(resp.payload);
        }
    } else if (err.rule == TCEC_R_SIGNATURE) {
        problem(c, "signature", "%s", err.msg);
        open_data(c, &resp);
    } else {
        c->sig_ok = 1;
        c->data = err.rule == TCEC_R_BASE64    ? GW_TCEC_DATA_BASE64
                  : err.rule == TCEC_R_DECRYPT ? GW_TCEC_DATA_DECRYPT
                                               : GW_TCEC_DATA_JSON;
        problem(c, "decrypt", "%s", err.msg);
    }
    if (!c->reason && resp.ret != TCEC_RET_OK)
        problem(c, resp.ret == TCEC_RET_TOKEN ? "token" : "ret", "%s", c->msg);
    else if (!c->reason && !c->answer)
        problem(c, "payload", "Ret 0 without Data");
    /* the rules are judged whenever there is a payload to judge, for the caller's own use */
    if (c->answer && resp.ret == TCEC_RET_OK &&
        tcec_validate(c->interface, TCEC_RESPONSE, c->answer, &c->rules) != 0 && !c->reason)
        problem(c, "payload", "%s", c->rules.msg);
    tcec_response_clear(&resp);
}

int gw_tcec_call(CURL *h, struct gw_tcec_call *c, unsigned *seq_counter)
{
    gw_tcec_call_clear(c);
    int64_t t0 = thread_now_ms();
    c->at = (int64_t)time(NULL);
    char *built = NULL;
    const char *body = c->body;
    if (!body) {
        struct tcec_keys k = c->keys;
        if (c->sig_secret)
            k.sig_secret = c->sig_secret;
        tcec_time_text((long long)c->at, TCEC_TIME_STAMP, c->timestamp, sizeof c->timestamp);
        *seq_counter = *seq_counter % 9999 + 1;
        snprintf(c->seq, sizeof c->seq, "%04u", *seq_counter);
        body = built = tcec_request_build(c->operator_id, c->timestamp, c->seq, c->payload, &k);
        if (!built)
            problem(c, "request", "the request could not be built (bad credentials?)");
    }
    if (body && post(h, c, body) == 0)
        open_answer(c);
    free(built);
    c->duration_ms = thread_now_ms() - t0;
    return c->has_ret ? 0 : -1;
}

void gw_tcec_call_clear(struct gw_tcec_call *c)
{
    free(c->text);
    free(c->msg);
    json_decref(c->answer);
    c->timestamp[0] = c->seq[0] = 0;
    c->at = c->duration_ms = 0;
    c->http_status = 0;
    c->text = c->msg = NULL;
    c->len = 0;
    c->has_ret = c->ret = c->sig_ok = 0;
    c->data = GW_TCEC_DATA_NONE;
    c->answer = NULL;
    c->reason = NULL;
    c->problem[0] = 0;
    memset(&c->rules, 0, sizeof c->rules);
}

char *gw_tcec_redacted(const json_t *payload)
{
    if (!payload)
        return NULL;
    json_t *copy = json_deep_copy(payload);
    if (!copy)
        return NULL;
    tcec_redact(copy);
    char *text = json_dumps(copy, TCEC_JSON_FLAGS | JSON_ENCODE_ANY);
    json_decref(copy);
    return text;
}
