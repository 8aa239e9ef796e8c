/* evgate's calls to operator platforms over T/CEC 102; see tcec_client.h. */
#include "gateway/tcec_client.h"
#include "gateway/tcec_call.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/db.h"
#include "db/detections.h"
#include "db/tcec.h"
#include "protocol/tcec.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_SIZE     50
#define URL_MAX       512
#define TOKEN_MAX     512
#define MAX_PLATFORMS 10000

/* One platform as this round calls it, with the token kept between rounds. */
struct peer {
    struct db_tcec_credentials cred;
    char url[URL_MAX]; /* base URL with a trailing '/' */
    char token[TOKEN_MAX + 1];
    int64_t token_cred_issued; /* the credentials the token was obtained with */
    time_t refresh_at;         /* renew the token from then on */
};

struct gw_tcec_client {
    const struct evg_config *cfg;
    _Atomic size_t last_polled, last_reachable; /* the last round's, for /metrics */
    struct db *db;
    CURL *curl;
    pthread_t thread;
    int started;
    unsigned seq; /* the last Seq sent, 1..9999 */
    struct peer *peers;
    size_t npeers;

    pthread_mutex_t lock; /* guards the two flags */
    pthread_cond_t cond;  /* CLOCK_MONOTONIC */
    int poll_now;
    atomic_int stopping;
};

/* What one call came to. */
struct outcome {
    int has_ret, ret;
    char msg[TCEC_MSG_MAX];
    const char *reason; /* NULL: a valid answer with Ret 0 */
};

/* --- small helpers ------------------------------------------------------------------------ */

/* A payload as JSON text for the exchange row (db_tcec_exchange_add redacts the secrets and
 * cuts it). Caller frees; NULL for NULL. */
static char *payload_text(const json_t *payload)
{
    return payload ? json_dumps(payload, JSON_COMPACT) : NULL;
}

static void record(struct gw_tcec_client *c, const struct peer *p, const char *interface,
                   const json_t *req, const json_t *resp, const struct outcome *o, int64_t at,
                   int64_t ms)
{
    char *req_text = payload_text(req), *resp_text = payload_text(resp);
    struct db_tcec_exchange x = {
        .operator_id = p->cred.operator_id,
        .direction = "out",
        .interface = interface,
        .peer = p->url,
        .at = at,
        .has_ret = o->has_ret,
        .ret = o->ret,
        .msg = o->msg,
        .reason = o->reason,
        .request = req_text,
        .response = resp_text,
        .duration_ms = ms,
    };
    if (db_tcec_exchange_add(c->db, &x) != DB_OK)
        log_warn("gateway", "tcec_exchange_not_recorded", "operator_id=%s interface=%s",
                 log_q(p->cred.operator_id), log_q(interface));
    free(req_text);
    free(resp_text);
}

/* --- one T/CEC call ----------------------------------------------------------------------- */

static int stopping_now(void *arg)
{
    struct gw_tcec_client *c = arg;
    return atomic_load(&c->stopping);
}

/* Calls `interface` of platform p with `req` (borrowed) and checks the answer: its shape, Sig,
 * Data, Ret 0 and the data dictionary's rules (gateway/tcec_call.h). Returns the answer's
 * payload (caller owns) or NULL, and records the exchange either way. *o says what happened. */
static json_t *call(struct gw_tcec_client *c, struct peer *p, const char *interface,
                    const json_t *req, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    struct gw_tcec_call x = {
        .url = p->url,
        .interface = interface,
        .operator_id = c->cfg->tcec_operator_id,
        .keys = {p->cred.data_secret, p->cred.data_secret_iv, p->cred.sig_secret},
        .payload = req,
        .token = strcmp(interface, "query_token") != 0 ? p->token : NULL,
        .timeout_s = (long)c->cfg->tcec_http_timeout_s,
        .should_stop = stopping_now,
        .stop_arg = c,
    };
    gw_tcec_call(c->curl, &x, &c->seq);
    o->has_ret = x.has_ret;
    o->ret = x.ret;
    o->reason = x.reason;
    snprintf(o->msg, sizeof o->msg, "%s", x.reason ? x.problem : (x.msg ? x.msg : ""));
    /* an answer whose Sig is wrong is not trusted, so not recorded either */
    json_t *answer = x.sig_ok ? x.answer : NULL;
    record(c, p, interface, req, answer, o, x.at, x.duration_ms);
    if (o->reason)
        log_info("gateway", "tcec_call_failed", "operator_id=%s interface=%s reason=%s msg=%s",
                 log_q(p->cred.operator_id), log_q(interface), log_q(o->reason), log_q(o->msg));
    json_t *payload = o->reason ? NULL : json_incref(x.answer);
    gw_tcec_call_clear(&x);
    return payload;
}

/* An AccessToken that will not expire before the round ends: 0, or -1 (recorded). */
static int ensure_token(struct gw_tcec_client *c, struct peer *p)
{
    time_t now = time(NULL);
    if (p->token[0] && p->token_cred_issued == p->cred.issued_at && now < p->refresh_at)
        return 0;
    p->token[0] = 0;
    json_t *req = json_pack("{s:s, s:s}", "OperatorID", c->cfg->tcec_operator_id, "OperatorSecret",
                            p->cred.operator_secret);
    struct outcome o;
    json_t *ans = req ? call(c, p, "query_token", req, &o) : NULL;
    json_decref(req);
    if (!ans)
        return -1;
    const char *token = json_string_value(json_object_get(ans, "AccessToken"));
    json_int_t ttl = json_integer_value(json_object_get(ans, "TokenAvailableTime"));
    int ok = json_integer_value(json_object_get(ans, "SuccStat")) == 0 && token && *token &&
             strlen(token) <= TOKEN_MAX && ttl > 0;
    if (ok) {
        snprintf(p->token, sizeof p->token, "%s", token);
        p->token_cred_issued = p->cred.issued_at;
        /* renew when a fifth of its life (at most 5 minutes, at least 1 s) is left */
        json_int_t margin = ttl / 5 > 300 ? 300 : ttl / 5 < 1 ? 1 : ttl / 5;
        p->refresh_at = now + (time_t)(ttl - margin);
    } else {
        log_info("gateway", "tcec_token_refused", "operator_id=%s fail_reason=%lld",
                 log_q(p->cred.operator_id),
                 (long long)json_integer_value(json_object_get(ans, "FailReason")));
    }
    json_decref(ans);
    return ok ? 0 : -1;
}

/* A call that needs the token: obtained first, and once more when the platform says 4002. */
static json_t *call_authed(struct gw_tcec_client *c, struct peer *p, const char *interface,
                           const json_t *req)
{
    struct outcome o;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ensure_token(c, p) != 0)
            return NULL;
        json_t *ans = call(c, p, interface, req, &o);
        if (ans || !o.has_ret || o.ret != TCEC_RET_TOKEN)
            return ans;
        p->token[0] = 0; /* expired on their side: get a new one */
    }
    return NULL;
}

/* --- a round -------------------------------------------------------------------------------- */

/* Every StationID of the platform, page after page; NULL when a page failed. */
static json_t *read_stations(struct gw_tcec_client *c, struct peer *p)
{
    json_t *ids = json_array();
    json_int_t page_count = 1;
    for (json_int_t page = 1; page <= page_count && page <= GW_TCEC_MAX_PAGES; page++) {
        if (atomic_load(&c->stopping))
            break;
        json_t *req = json_pack("{s:I, s:i}", "PageNo", page, "PageSize", PAGE_SIZE);
        json_t *ans = call_authed(c, p, "query_stations_info", req);
        json_decref(req);
        if (!ans) {
            json_decref(ids);
            return NULL;
        }
        page_count = json_integer_value(json_object_get(ans, "PageCount"));
        size_t i;
        json_t *st;
        json_array_foreach(json_object_get(ans, "StationInfos"), i, st)
        {
            json_t *id = json_object_get(st, "StationID");
            if (json_is_string(id))
                json_array_append(ids, id);
        }
        json_decref(ans);
    }
    return ids;
}

static void read_status(struct gw_tcec_client *c, struct peer *p, json_t *ids)
{
    for (size_t i = 0; i < json_array_size(ids) && !atomic_load(&c->stopping);
         i += GW_TCEC_STATUS_BATCH) {
        json_t *batch = json_array();
        for (size_t k = i; k < i + GW_TCEC_STATUS_BATCH && k < json_array_size(ids); k++)
            json_array_append(batch, json_array_get(ids, k));
        json_t *req = json_pack("{s:o}", "StationIDs", batch);
        json_decref(call_authed(c, p, "query_station_status", req));
        json_decref(req);
    }
}

static void read_stats(struct gw_tcec_client *c, struct peer *p, json_t *ids)
{
    char day[16];
    tcec_time_text((long long)time(NULL) - 86400, TCEC_TIME_DATE, day, sizeof day);
    for (size_t i = 0; i < json_array_size(ids) && !atomic_load(&c->stopping); i++) {
        json_t *req = json_pack("{s:O, s:s, s:s}", "StationID", json_array_get(ids, i), "StartTime",
                                day, "EndTime", day);
        json_decref(call_authed(c, p, "query_station_stats", req));
        json_decref(req);
    }
}

/* The peer kept for `cred` (its token survives between rounds), added when new. */
static struct peer *peer_for(struct gw_tcec_client *c, const struct db_tcec_peer *row)
{
    for (size_t i = 0; i < c->npeers; i++)
        if (!strcmp(c->peers[i].cred.operator_id, row->cred->operator_id)) {
            c->peers[i].cred = *row->cred;
            return &c->peers[i];
        }
    if (c->npeers >= MAX_PLATFORMS)
        return NULL;
    struct peer *np = realloc(c->peers, (c->npeers + 1) * sizeof *np);
    if (!np)
        return NULL;
    c->peers = np;
    struct peer *p = &c->peers[c->npeers++];
    memset(p, 0, sizeof *p);
    p->cred = *row->cred;
    return p;
}

struct round {
    struct gw_tcec_client *c;
    size_t *todo; /* indexes into c->peers of this round's platforms */
    size_t n;
};

static int collect(void *arg, const struct db_tcec_peer *row)
{
    struct round *r = arg;
    size_t len = strlen(row->base_url);
    if (len == 0 || len + 2 > URL_MAX)
        return 0; /* no interface address to call */
    struct peer *p = peer_for(r->c, row);
    if (!p)
        return 0;
    snprintf(p->url, sizeof p->url, "%s%s", row->base_url,
             row->base_url[len - 1] == '/' ? "" : "/");
    size_t *nt = realloc(r->todo, (r->n + 1) * sizeof *nt);
    if (!nt)
        return -ENOMEM;
    r->todo = nt;
    r->todo[r->n++] = (size_t)(p - r->c->peers);
    return 0;
}

static void run_round(struct gw_tcec_client *c)
{
    struct round r = {.c = c};
    if (db_tcec_peers(c->db, collect, &r) != DB_OK)
        log_warn("gateway", "tcec_platforms_unreadable", "next=retry_next_round");
    size_t reachable = 0;
    for (size_t i = 0; i < r.n && !atomic_load(&c->stopping); i++) {
        struct peer *p = &c->peers[r.todo[i]];
        json_t *ids = read_stations(c, p);
        if (ids) {
            reachable++;
            read_status(c, p, ids);
            read_stats(c, p, ids);
            log_info("gateway", "tcec_round_done", "operator_id=%s stations=%zu",
                     log_q(p->cred.operator_id), json_array_size(ids));
        }
        json_decref(ids);
    }
    atomic_store(&c->last_polled, r.n);
    atomic_store(&c->last_reachable, reachable);
    free(r.todo);
}

void gw_tcec_client_stats(const struct gw_tcec_client *c, size_t *polled, size_t *reachable)
{
    *polled = c ? atomic_load(&((struct gw_tcec_client *)c)->last_polled) : 0;
    *reachable = c ? atomic_load(&((struct gw_tcec_client *)c)->last_reachable) : 0;
}

/* --- the thread ---------------------------------------------------------------------------- */

static void *run(void *arg)
{
    struct gw_tcec_client *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!atomic_load(&c->stopping) && !c->poll_now) {
            if (c->cfg->tcec_poll_s <= 0) {
                pthread_cond_wait(&c->cond, &c->lock);
                continue;
            }
            struct timespec due = thread_deadline_ms(c->cfg->tcec_poll_s * 1000);
            if (pthread_cond_timedwait(&c->cond, &c->lock, &due) == ETIMEDOUT)
                break;
        }
        if (atomic_load(&c->stopping))
            break;
        c->poll_now = 0;
        pthread_mutex_unlock(&c->lock);
        run_round(c);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct gw_tcec_client *gw_tcec_client_start(const struct evg_config *cfg, char *err, size_t errlen)
{
    if (!tcec_is_operator_id(cfg->tcec_operator_id)) {
        snprintf(err, errlen, "tcec_operator_id \"%.40s\" is not 9 of 0-9 A-Z",
                 cfg->tcec_operator_id);
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl cannot be initialised");
        return NULL;
    }
    struct gw_tcec_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->db = db_open(cfg->db, (int)cfg->sqlite_busy_ms, cfg->sqlite_synchronous, err, errlen);
    c->curl = curl_easy_init();
    if (!c->db || !c->curl) {
        if (c->db && !c->curl)
            snprintf(err, errlen, "libcurl cannot make a handle");
        gw_tcec_client_stop(c);
        return NULL;
    }
    thread_cond_init_monotonic(&c->cond);
    pthread_mutex_init(&c->lock, NULL);
    c->poll_now = cfg->tcec_poll_s > 0; /* a first round at start */
    int rc = thread_start_quiet(&c->thread, run, c);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the T/CEC client thread: %s", strerror(rc));
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        gw_tcec_client_stop(c);
        return NULL;
    }
    c->started = 1;
    return c;
}

void gw_tcec_client_poll_now(struct gw_tcec_client *c)
{
    pthread_mutex_lock(&c->lock);
    c->poll_now = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

void gw_tcec_client_stop(struct gw_tcec_client *c)
{
    if (!c)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        atomic_store(&c->stopping, 1);
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
    }
    if (c->curl)
        curl_easy_cleanup(c->curl);
    db_close(c->db);
    free(c->peers);
    free(c);
}
