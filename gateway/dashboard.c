/* The gateway's part of the admin dashboard: the online-pile sampler and the refusal records;
 * see dashboard.h. */
#include "gateway/dashboard.h"
#include "gateway/gateway.h"
#include "gateway/piles.h"
#include "gateway/writer.h"
#include "common/config.h"
#include "common/log.h"
#include "db/dashboard.h"

#include <libwebsockets.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct gw_dashboard {
    struct gw_server *gw;
    struct lws_context *ctx;
    lws_sorted_usec_list_t sul;
    bool sampling;
    bool in_flight; /* a sample job is queued or running (lws thread) */
    bool freed;     /* gw_dashboard_free() ran while a sample was in flight */
    /* the sample job's arguments, written before it is submitted */
    int64_t at, keep_since;
};

struct refusal {
    char equipment_id[GW_PILE_ID_MAX + 1];
    char peer[64];
    const char *reason;
    unsigned status;
    int64_t at;
};

struct gw_dashboard *gw_dashboard_new(struct gw_server *gw)
{
    struct gw_dashboard *d = calloc(1, sizeof *d);
    if (d)
        d->gw = gw;
    return d;
}

static int sample_job(struct db *db, void *arg)
{
    struct gw_dashboard *d = arg;
    return db_online_sample(db, d->at, d->keep_since);
}

static void sample_done(void *arg, int rc)
{
    struct gw_dashboard *d = arg;
    d->in_flight = false;
    if (d->freed) {
        free(d);
        return;
    }
    if (rc != 0)
        log_warn("gateway", "online_sample_failed", "rc=%d", rc);
}

/* Microseconds from now to the next multiple of the sampling interval of the clock. */
static lws_usec_t until_next(const struct gw_dashboard *d)
{
    int64_t step_us = (int64_t)d->gw->cfg->dashboard_sample_s * 1000000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return (lws_usec_t)(step_us - now_us % step_us);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct gw_dashboard *d = lws_container_of(sul, struct gw_dashboard, sul);
    if (!d->in_flight && d->gw->writer) {
        d->at = db_now();
        d->keep_since = d->at - (int64_t)d->gw->cfg->dashboard_keep_days * 86400;
        int rc = gw_writer_submit(d->gw->writer, sample_job, sample_done, d);
        if (rc == 0)
            d->in_flight = true;
        else
            log_warn("gateway", "online_sample_skipped", "rc=%d", rc);
    }
    lws_sul_schedule(d->ctx, 0, &d->sul, tick, until_next(d));
}

void gw_dashboard_start(struct gw_dashboard *d, struct lws_context *ctx)
{
    d->ctx = ctx;
    d->sampling = true;
    lws_sul_schedule(ctx, 0, &d->sul, tick, until_next(d));
}

void gw_dashboard_stop(struct gw_dashboard *d)
{
    if (d && d->sampling) {
        lws_sul_cancel(&d->sul);
        d->sampling = false;
    }
}

void gw_dashboard_free(struct gw_dashboard *d)
{
    if (!d)
        return;
    gw_dashboard_stop(d);
    if (d->in_flight)
        d->freed = true; /* its completion frees it */
    else
        free(d);
}

static int refusal_job(struct db *db, void *arg)
{
    struct refusal *r = arg;
    return db_ocpp_refusal_add(db, r->at, r->equipment_id, (int)r->status, r->reason, r->peer,
                               DB_REFUSALS_KEEP);
}

static void refusal_done(void *arg, int rc)
{
    struct refusal *r = arg;
    if (rc != 0)
        log_warn("gateway", "ocpp_refusal_not_recorded", "equipment_id=%s rc=%d", r->equipment_id,
                 rc);
    free(r);
}

void gw_dashboard_refusal(struct gw_dashboard *d, const char *equipment_id, unsigned status,
                          const char *reason, const char *peer)
{
    static struct log_budget budget = {.per_minute = GW_REFUSALS_RECORDED_PER_MIN};
    unsigned long long left_out;
    if (!d || !d->gw->writer || !log_budget_take(&budget, &left_out))
        return;
    struct refusal *r = calloc(1, sizeof *r);
    if (!r)
        return;
    snprintf(r->equipment_id, sizeof r->equipment_id, "%s",
             equipment_id && *equipment_id ? equipment_id : "-");
    snprintf(r->peer, sizeof r->peer, "%s", peer ? peer : "");
    r->reason = reason;
    r->status = status;
    r->at = db_now();
    if (gw_writer_submit(d->gw->writer, refusal_job, refusal_done, r) != 0)
        free(r);
}
