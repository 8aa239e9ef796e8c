/* evsim-platform's client: the operator platform calling evgate over T/CEC 102 with libcurl on
 * the main thread, one request at a time. It obtains a token from query_token and refreshes it
 * before it expires, pushes notification_stationInfo once per station (--push-info),
 * notification_stationStatus at --status-interval-ms and notification_charge_order_info at
 * --order-interval-ms, and checks every answer (HTTP status, envelope, signature, decryption,
 * payload rules, SuccStat/Status/ConfirmResult), counting results by Ret. */
#include "simulators/plat.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct plat_opts *g_o;
static struct plat_data *g_d;
static CURL *g_curl;

static struct {
    char token[PLAT_TOKEN_MAX + 1]; /* "" when none */
    bool ever;                      /* a token was obtained before: the next one is a refresh */
    int64_t refresh_at_ms;
    int64_t next_try_ms; /* query_token back-off after a failure */
    int64_t backoff_ms;
    size_t info_next; /* the next station whose StationInfo is pushed */
    int64_t next_status_ms, next_order_ms;
} c;

struct rx {
    char *buf;
    size_t len;
    bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
    struct rx *r = userdata;
    size_t len = size * n;
    if (r->len + len > TCEC_TEXT_MAX) {
        r->too_large = true;
        return 0; /* curl stops: CURLE_WRITE_ERROR */
    }
    char *nb = realloc(r->buf, r->len + len + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, ptr, len);
    r->buf = nb;
    r->len += len;
    r->buf[r->len] = 0;
    return len;
}

static void note(const char *iface, const char *what, const char *detail)
{
    if (!g_o->quiet)
        fprintf(stderr, "evsim-platform: %s: %s%s%s\n", iface, what, detail ? ": " : "",
                detail ? detail : "");
}

/* Whether a Ret-0 answer's payload says yes: SuccStat 0, Status 0, ConfirmResult 0. */
static bool accepted(enum plat_iface i, const json_t *p)
{
    const char *key = i == I_QUERY_TOKEN      ? "SuccStat"
                      : i == I_N_CHARGE_ORDER ? "ConfirmResult"
                                              : "Status";
    return json_integer_value(json_object_get(p, key)) == 0;
}

/* Sends `payload` (borrowed; faults applied to it) to interface i with TimeStamp `ts_time`.
 * Returns the answer's Ret (INT_MIN when no T/CEC answer came) and, for a Ret-0 answer that
 * passed every check, its payload in *out (new reference). */
static int post(enum plat_iface i, json_t *payload, time_t ts_time, json_t **out)
{
    const char *name = plat_iface_name(i);
    char url[PLAT_URL_MAX + 64], ts[TCEC_TIMESTAMP_LEN + 1], seq[TCEC_SEQ_LEN + 1];
    char auth[PLAT_TOKEN_MAX + 32];
    struct tcec_keys keys = plat_keys(g_o), send = plat_send_keys(g_o);
    struct tcec_response resp;
    struct tcec_error e;
    struct rx rx = {0};
    struct curl_slist *hdr = NULL;
    int ret = INT32_MIN;
    bool parsed = false;
    *out = NULL;
    plat_fault_payload(g_o, i, payload);
    plat_timestamp(ts_time, ts);
    plat_next_seq(seq);
    char *body = tcec_request_build(g_o->operator_id, ts, seq, payload, &send);
    if (!body) {
        note(name, "cannot build the request", NULL);
        return ret;
    }
    snprintf(url, sizeof url, "%s%s", g_o->evgate_url, name);
    hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
    if (i != I_QUERY_TOKEN && c.token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c.token);
        hdr = curl_slist_append(hdr, auth);
    }
    curl_easy_setopt(g_curl, CURLOPT_URL, url);
    curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(g_curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &rx);
    CURLcode cc = curl_easy_perform(g_curl);
    long status = 0;
    curl_easy_getinfo(g_curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    free(body);
    if (cc != CURLE_OK) {
        plat_count_error(D_SENT, i, E_TRANSPORT);
        note(name, rx.too_large ? "answer too large" : curl_easy_strerror(cc), NULL);
        goto done;
    }
    if (status != 200) {
        /* evgate answers what it cannot attribute or route with a 4xx and an unsigned T/CEC
         * body: its Ret is counted, nothing in it is trusted */
        char s[TCEC_MSG_MAX + 64];
        json_t *j = json_loadb(rx.buf ? rx.buf : "", rx.len, 0, NULL);
        json_t *r = json_object_get(j, "Ret");
        const char *msg = json_string_value(json_object_get(j, "Msg"));
        if (json_is_integer(r)) {
            ret = (int)json_integer_value(r);
            plat_count(D_SENT, i, ret);
        } else {
            plat_count_error(D_SENT, i, E_ENVELOPE); /* not even a T/CEC answer */
        }
        snprintf(s, sizeof s, "%ld%s%.200s", status, msg ? " " : "", msg ? msg : "");
        json_decref(j);
        plat_count_error(D_SENT, i, E_HTTP_STATUS);
        note(name, "HTTP status", s);
        goto done;
    }
    if (tcec_response_parse(rx.buf ? rx.buf : "", rx.len, &resp, &e) < 0) {
        plat_count_error(D_SENT, i, E_ENVELOPE);
        note(name, "not a T/CEC answer", e.msg);
        goto done;
    }
    parsed = true;
    ret = resp.ret;
    plat_count(D_SENT, i, ret);
    if (tcec_response_open(&resp, &keys, &e) < 0) {
        plat_count_error(D_SENT, i, e.rule == TCEC_R_SIGNATURE ? E_SIGNATURE : E_DECRYPT);
        note(name, "answer refused", e.msg);
        goto done;
    }
    if (ret != 0) {
        char s[TCEC_MSG_MAX + 32];
        snprintf(s, sizeof s, "Ret %d %s", ret, resp.msg);
        note(name, "refused", s);
        goto done;
    }
    if (!resp.payload || tcec_validate(name, TCEC_RESPONSE, resp.payload, &e) < 0) {
        plat_count_error(D_SENT, i, E_PAYLOAD);
        note(name, "answer's payload", resp.payload ? e.msg : "Data is empty");
        goto done;
    }
    if (!accepted(i, resp.payload)) {
        plat_count_error(D_SENT, i, E_REFUSED);
        note(name, "not accepted", NULL);
    }
    *out = json_incref(resp.payload);
done:
    if (parsed)
        tcec_response_clear(&resp);
    free(rx.buf);
    return ret;
}

/* query_token; 0 when a token was obtained. */
static int get_token(int64_t now)
{
    json_t *in = json_pack("{s:s, s:s}", "OperatorID", g_o->operator_id, "OperatorSecret",
                           plat_token_secret(g_o)),
           *out = NULL;
    post(I_QUERY_TOKEN, in, time(NULL), &out);
    json_decref(in);
    if (!out || !accepted(I_QUERY_TOKEN, out)) {
        json_decref(out);
        c.backoff_ms = c.backoff_ms ? c.backoff_ms * 2 : 1000;
        if (c.backoff_ms > PLAT_RETRY_MAX_MS)
            c.backoff_ms = PLAT_RETRY_MAX_MS;
        c.next_try_ms = now + c.backoff_ms;
        return -1;
    }
    snprintf(c.token, sizeof c.token, "%s", json_string_value(json_object_get(out, "AccessToken")));
    json_int_t ttl = json_integer_value(json_object_get(out, "TokenAvailableTime"));
    /* refreshed before it expires: half its life ahead, at most 5 minutes */
    int64_t margin = ttl * 1000 / 2 < 300000 ? ttl * 1000 / 2 : 300000;
    c.refresh_at_ms = now + ttl * 1000 - margin;
    c.backoff_ms = 0;
    plat_count_token(false);
    if (c.ever)
        plat_count_refresh();
    c.ever = true;
    json_decref(out);
    return 0;
}

/* A push; on a token error (4002) the token is dropped so that the next tick fetches one,
 * unless the fault is to keep using it. */
static void push(enum plat_iface i, json_t *payload, time_t ts_time)
{
    json_t *out = NULL;
    int ret = post(i, payload, ts_time, &out);
    json_decref(payload);
    json_decref(out);
    if (ret == TCEC_RET_TOKEN && g_o->fault != F_EXPIRED_TOKEN)
        c.token[0] = 0;
}

int64_t plat_client_tick(int64_t now)
{
    bool refresh = g_o->fault != F_EXPIRED_TOKEN && now >= c.refresh_at_ms;
    if ((!c.token[0] || refresh) && now >= c.next_try_ms) {
        if (get_token(now) < 0 && !c.token[0])
            return c.next_try_ms - now;
    }
    if (!c.token[0])
        return c.next_try_ms - now;
    if (g_o->push_info && c.info_next < plat_station_count(g_d)) {
        pthread_mutex_lock(&plat_lock);
        json_t *p = json_pack("{s:o}", "StationInfo",
                              json_deep_copy(json_array_get(g_d->stations, c.info_next++)));
        pthread_mutex_unlock(&plat_lock);
        push(I_N_STATION_INFO, p, time(NULL));
        return 0;
    }
    if (g_o->status_interval_ms > 0 && now >= c.next_status_ms) {
        c.next_status_ms = now + g_o->status_interval_ms;
        pthread_mutex_lock(&plat_lock);
        size_t k = plat_status_change(g_d);
        json_t *p = json_pack("{s:o}", "ConnectorStatusInfo", plat_connector_status(g_d, k));
        pthread_mutex_unlock(&plat_lock);
        /* late-push: reported as if sent long after the change */
        time_t t = time(NULL) - (g_o->fault == F_LATE_PUSH   ? PLAT_LATE_PUSH_S
                                 : g_o->fault == F_SLOW_PUSH ? PLAT_SLOW_PUSH_S
                                                             : 0);
        push(I_N_STATION_STATUS, p, t);
    }
    if (g_o->order_interval_ms > 0 && now >= c.next_order_ms) {
        c.next_order_ms = now + g_o->order_interval_ms;
        pthread_mutex_lock(&plat_lock);
        json_t *p = plat_charge_order(g_d, g_o->operator_id);
        pthread_mutex_unlock(&plat_lock);
        push(I_N_CHARGE_ORDER, p, time(NULL));
    }
    int64_t next = now + 1000;
    if (g_o->status_interval_ms > 0 && c.next_status_ms < next)
        next = c.next_status_ms;
    if (g_o->order_interval_ms > 0 && c.next_order_ms < next)
        next = c.next_order_ms;
    /* a refresh that failed waits for its back-off, the old token still in use */
    int64_t due = c.refresh_at_ms > c.next_try_ms ? c.refresh_at_ms : c.next_try_ms;
    if (g_o->fault != F_EXPIRED_TOKEN && due < next)
        next = due;
    return next > now ? next - now : 0;
}

int plat_client_start(const struct plat_opts *o, struct plat_data *d, char *err, size_t errlen)
{
    g_o = o;
    g_d = d;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(g_curl = curl_easy_init())) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    curl_easy_setopt(g_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT_MS, (long)PLAT_HTTP_TIMEOUT_MS);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(g_curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(g_curl, CURLOPT_USERAGENT, "evsim-platform");
    int64_t now = plat_now_ms();
    /* the first status and order one interval after the start */
    c.next_status_ms = now + o->status_interval_ms;
    c.next_order_ms = now + o->order_interval_ms;
    return 0;
}

void plat_client_stop(void)
{
    if (g_curl)
        curl_easy_cleanup(g_curl);
    g_curl = NULL;
    curl_global_cleanup();
}
