/* Conformance runs, the lws side: the mailboxes, the watch table, the inbox of requests from the
 * run threads and the connection layer's hooks. The poller and the run threads are
 * conform_exec.c. See conform.h; the check API is conform_run.h. */
#include "gateway/conform.h"
#include "gateway/commands.h"
#include "gateway/conform_private.h"
#include "gateway/gateway.h"
#include "gateway/ocpp.h"
#include "common/thread.h"

#include <libwebsockets.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- mailboxes ------------------------------------------------------------------------------- */

struct cf_mailbox *cf_mailbox_new(void)
{
    struct cf_mailbox *mb = calloc(1, sizeof *mb);
    if (!mb)
        return NULL;
    pthread_mutex_init(&mb->mu, NULL);
    thread_cond_init_monotonic(&mb->cv);
    mb->refs = 1;
    return mb;
}

void cf_event_free(struct cf_event *e)
{
    if (!e)
        return;
    free(e->state);
    free(e->error);
    free(e->response);
    free(e->detail);
    free(e->unique_id);
    free(e);
}

void cf_mailbox_ref(struct cf_mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
    mb->refs++;
    pthread_mutex_unlock(&mb->mu);
}

void cf_mailbox_unref(struct cf_mailbox *mb)
{
    if (!mb)
        return;
    pthread_mutex_lock(&mb->mu);
    int left = --mb->refs;
    pthread_mutex_unlock(&mb->mu);
    if (left > 0)
        return;
    for (struct cf_event *e = mb->head, *next; e; e = next) {
        next = e->next;
        cf_event_free(e);
    }
    pthread_mutex_destroy(&mb->mu);
    pthread_cond_destroy(&mb->cv);
    free(mb);
}

/* lws thread: adds `e` (taken) to the mailbox, or drops it when full. */
static void post(struct cf_mailbox *mb, struct cf_event *e)
{
    e->next = NULL;
    pthread_mutex_lock(&mb->mu);
    if (mb->n >= CF_MAILBOX_MAX && e->kind != CF_EV_ANSWER) {
        mb->dropped++;
        pthread_mutex_unlock(&mb->mu);
        cf_event_free(e);
        return;
    }
    if (mb->tail)
        mb->tail->next = e;
    else
        mb->head = e;
    mb->tail = e;
    mb->n++;
    pthread_cond_signal(&mb->cv);
    pthread_mutex_unlock(&mb->mu);
}

static struct cf_event *event_new(enum cf_ev_kind kind, const char *text, size_t len)
{
    struct cf_event *e = calloc(1, sizeof *e + len + 1);
    if (!e)
        return NULL;
    e->kind = kind;
    e->at_ms = thread_now_ms();
    if (text)
        memcpy(e->text, text, len);
    e->len = len;
    return e;
}

/* --- the lws side ------------------------------------------------------------------------------
 */

void cf_request(struct gw_conform *cf, struct cf_req *q)
{
    q->next = NULL;
    pthread_mutex_lock(&cf->mu);
    if (cf->inbox_tail)
        cf->inbox_tail->next = q;
    else
        cf->inbox_head = q;
    cf->inbox_tail = q;
    pthread_mutex_unlock(&cf->mu);
    struct lws_context *ctx = atomic_load(&cf->gw->ctx);
    if (ctx)
        lws_cancel_service(ctx);
}

void cf_req_free(struct cf_req *q)
{
    if (!q)
        return;
    cf_mailbox_unref(q->mb);
    free(q->payload);
    free(q);
}

static struct cf_mailbox *watcher(struct gw_conform *cf, const char *id)
{
    int n = atomic_load(&cf->nwatch);
    for (int i = 0; i < n; i++)
        if (strcmp(cf->watch[i].id, id) == 0)
            return cf->watch[i].mb;
    return NULL;
}

static void post_open(struct cf_mailbox *mb, struct gw_ocpp_conn *c)
{
    struct cf_event *e = event_new(CF_EV_OPEN, NULL, 0);
    if (!e)
        return;
    e->version = gw_ocpp_conn_version(c);
    post(mb, e);
}

static void watch(struct gw_conform *cf, struct cf_req *q)
{
    int n = atomic_load(&cf->nwatch);
    if (watcher(cf, q->equipment_id) || n >= CF_WATCH_MAX)
        return; /* one run per target (the database's rule); the table is sized for the limit */
    snprintf(cf->watch[n].id, sizeof cf->watch[n].id, "%s", q->equipment_id);
    cf_mailbox_ref(q->mb);
    cf->watch[n].mb = q->mb;
    atomic_store(&cf->nwatch, n + 1);
    struct gw_ocpp_conn *c = cf->gw->ocpp ? gw_ocpp_find(cf->gw->ocpp, q->equipment_id) : NULL;
    if (c)
        post_open(q->mb, c);
    else
        post(q->mb, event_new(CF_EV_CLOSE, NULL, 0));
}

static void unwatch(struct gw_conform *cf, const char *id)
{
    int n = atomic_load(&cf->nwatch);
    for (int i = 0; i < n; i++) {
        if (strcmp(cf->watch[i].id, id) != 0)
            continue;
        struct cf_mailbox *mb = cf->watch[i].mb;
        cf->watch[i] = cf->watch[n - 1];
        atomic_store(&cf->nwatch, n - 1);
        cf_mailbox_unref(mb);
        return;
    }
}

struct call_ctx {
    struct cf_mailbox *mb;
    unsigned token;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void call_done(void *arg, const struct gw_cmd_raw_result *res)
{
    struct call_ctx *x = arg;
    struct cf_event *e = event_new(CF_EV_ANSWER, NULL, 0);
    if (e) {
        e->token = x->token;
        e->state = dup_or_null(res->state);
        e->error = dup_or_null(res->error);
        e->response = dup_or_null(res->response);
        e->detail = dup_or_null(res->detail);
        e->unique_id = dup_or_null(res->unique_id);
        post(x->mb, e);
    }
    cf_mailbox_unref(x->mb);
    free(x);
}

static void answer_now(struct cf_mailbox *mb, unsigned token, const char *error, const char *detail)
{
    struct gw_cmd_raw_result res = {.state = "failed", .error = error, .detail = detail};
    struct call_ctx *x = malloc(sizeof *x);
    if (!x)
        return;
    cf_mailbox_ref(mb);
    *x = (struct call_ctx){mb, token};
    call_done(x, &res);
}

static void call(struct gw_conform *cf, struct cf_req *q)
{
    struct gw_ocpp_conn *c = cf->gw->ocpp ? gw_ocpp_find(cf->gw->ocpp, q->equipment_id) : NULL;
    if (!c) {
        answer_now(q->mb, q->token, "offline", "the pile is not connected");
        return;
    }
    struct call_ctx *x = malloc(sizeof *x);
    if (!x) {
        answer_now(q->mb, q->token, "send_failed", "out of memory");
        return;
    }
    cf_mailbox_ref(q->mb);
    *x = (struct call_ctx){q->mb, q->token};
    int rc = gw_commands_send_raw(cf->gw->commands, c, q->action, q->payload, call_done, x);
    if (rc != 0) {
        cf_mailbox_unref(x->mb);
        free(x);
        answer_now(q->mb, q->token, rc == -EBUSY ? "busy" : "send_failed", strerror(-rc));
    }
}

void gw_conform_run(struct gw_conform *cf)
{
    if (!cf)
        return;
    pthread_mutex_lock(&cf->mu);
    struct cf_req *q = cf->inbox_head;
    cf->inbox_head = cf->inbox_tail = NULL;
    pthread_mutex_unlock(&cf->mu);
    while (q) {
        struct cf_req *next = q->next;
        switch (q->kind) {
        case CF_REQ_WATCH:
            watch(cf, q);
            break;
        case CF_REQ_UNWATCH:
            unwatch(cf, q->equipment_id);
            break;
        case CF_REQ_CALL:
            call(cf, q);
            break;
        }
        cf_req_free(q);
        q = next;
    }
}

/* The mailbox of the run watching `c`'s pile, NULL for none: the hooks of the connection
 * layer, cheap when no run watches. */
static struct cf_mailbox *watcher_of(struct gw_conform *cf, const struct gw_ocpp_conn *c)
{
    if (!cf || atomic_load(&cf->nwatch) == 0)
        return NULL;
    return watcher(cf, gw_ocpp_conn_id(c));
}

void gw_conform_frame(struct gw_conform *cf, struct gw_ocpp_conn *c, bool in, const char *text,
                      size_t len)
{
    struct cf_mailbox *mb = watcher_of(cf, c);
    if (!mb)
        return;
    struct cf_event *e = event_new(in ? CF_EV_IN : CF_EV_OUT, text, len);
    if (e)
        post(mb, e);
}

bool gw_conform_watching(struct gw_conform *cf, const struct gw_ocpp_conn *c)
{
    return watcher_of(cf, c) != NULL;
}

void gw_conform_conn_event(struct gw_conform *cf, struct gw_ocpp_conn *c, bool open)
{
    struct cf_mailbox *mb = watcher_of(cf, c);
    if (!mb)
        return;
    if (open)
        post_open(mb, c);
    else
        post(mb, event_new(CF_EV_CLOSE, NULL, 0));
}
