/* The registry of OCPP-J connections (one per EquipmentID) and its life: the idle sweep, the
 * check of open connections against changed pile entries, start, stop and free. See ocpp.h. */
#include "gateway/ocpp.h"
#include "gateway/ocpp_conn_private.h"
#include "gateway/ocpp_seen.h"
#include "gateway/ocpp_rate.h"
#include "gateway/ocpp_session.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/piles.h"
#include "common/config.h"
#include "common/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t gw_ocpp_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- registry ----------------------------------------------------------------------------- */

static size_t hash_id(const char *s)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct gw_ocpp_conn *ocpp_registry_find(struct gw_ocpp *o, const char *id)
{
    for (struct gw_ocpp_conn *c = o->buckets[hash_id(id) & (o->nbuckets - 1)]; c; c = c->hnext)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

static void registry_grow(struct gw_ocpp *o)
{
    size_t n = o->nbuckets * 2;
    struct gw_ocpp_conn **b = calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < o->nbuckets; i++)
        for (struct gw_ocpp_conn *c = o->buckets[i], *next; c; c = next) {
            next = c->hnext;
            size_t k = hash_id(c->id) & (n - 1);
            c->hnext = b[k];
            b[k] = c;
        }
    free(o->buckets);
    o->buckets = b;
    o->nbuckets = n;
}

void ocpp_registry_add(struct gw_ocpp *o, struct gw_ocpp_conn *c)
{
    if (o->count >= o->nbuckets)
        registry_grow(o);
    size_t k = hash_id(c->id) & (o->nbuckets - 1);
    c->hnext = o->buckets[k];
    o->buckets[k] = c;
    c->registered = true;
    o->count++;
    gw_metrics_ocpp_conn(o->gw->metrics, (int)c->version, +1);
}

void ocpp_registry_remove(struct gw_ocpp *o, struct gw_ocpp_conn *c)
{
    if (!c->registered)
        return;
    for (struct gw_ocpp_conn **pp = &o->buckets[hash_id(c->id) & (o->nbuckets - 1)]; *pp;
         pp = &(*pp)->hnext)
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    c->hnext = NULL;
    c->registered = false;
    o->count--;
    gw_metrics_ocpp_conn(o->gw->metrics, (int)c->version, -1);
}

struct gw_ocpp_conn *gw_ocpp_find(struct gw_ocpp *o, const char *equipment_id)
{
    struct gw_ocpp_conn *c = ocpp_registry_find(o, equipment_id);
    return c && gw_ocpp_conn_open(c) ? c : NULL;
}

void gw_ocpp_admitted(struct gw_ocpp *o, struct lws *wsi, const struct gw_pile_admission *a)
{
    if (!o)
        return;
    o->admitted_wsi = wsi;
    o->admitted = *a;
}

/* Closes `c` when its pile's current entry no longer admits it (gw_pile_admission_check). The
 * lookup copies one entry under the table's mutex: no SQLite on this thread. */
void ocpp_check_admission(struct gw_ocpp *o, struct gw_ocpp_conn *c)
{
    if (!gw_ocpp_conn_open(c) || !o->gw->piles)
        return;
    struct gw_pile now;
    bool found = gw_piles_lookup(o->gw->piles, c->id, &now) == 0;
    const char *why = gw_pile_admission_check(&c->admission, found ? &now : NULL);
    if (!why)
        return;
    log_info("gateway", "ocpp_admission_revoked",
             "equipment_id=%s reason=%s admitted_profile=%d profile=%d", log_q(c->id), log_q(why),
             c->admission.profile, found ? gw_pile_profile(&now) : 0);
    gw_ocpp_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, why);
}

/* --- the registry's life ------------------------------------------------------------------ */

struct gw_ocpp *gw_ocpp_new(struct gw_server *gw)
{
    struct gw_ocpp *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->buckets = calloc(GW_OCPP_BUCKETS, sizeof *o->buckets);
    if (!o->buckets) {
        free(o);
        return NULL;
    }
    o->gw = gw;
    o->nbuckets = GW_OCPP_BUCKETS;
    o->max_frame = (size_t)gw->cfg->ocpp_max_frame_bytes;
    o->rate = gw_rate_new(gw->cfg->ocpp_max_msgs_per_min);
    o->txbuf = malloc(LWS_PRE + o->max_frame);
    /* a connection notes at most one contact a second, and a flush comes ten times as often */
    o->seen =
        gw_seen_new(gw->cfg->gw_max_connections > 0 ? (size_t)gw->cfg->gw_max_connections : 1);
    if (!o->rate || !o->txbuf || !o->seen) {
        gw_seen_free(o->seen);
        gw_rate_free(o->rate);
        free(o->txbuf);
        free(o->buckets);
        free(o);
        return NULL;
    }
    o->sendq_max = (size_t)gw->cfg->ocpp_max_msgs_per_min + GW_OCPP_SENDQ_SLACK;
    o->idle_us = 2 * gw->cfg->ocpp_heartbeat_s * 1000000LL;
    o->sweep_us =
        o->idle_us / 4 < GW_OCPP_SWEEP_MS * 1000LL ? o->idle_us / 4 : GW_OCPP_SWEEP_MS * 1000LL;
    long long ping_s =
        gw->cfg->ocpp_heartbeat_s < GW_OCPP_PING_S ? gw->cfg->ocpp_heartbeat_s : GW_OCPP_PING_S;
    o->ping_us = ping_s * 1000000LL;
    /* at most half the ping period: the pong is overdue before the idle timeout (2 x ping at
     * the shortest heartbeats) would close the connection anyway */
    o->pong_wait_us = (ping_s / 2 < GW_OCPP_PONG_WAIT_S ? ping_s * 1000000LL / 2
                                                        : GW_OCPP_PONG_WAIT_S * 1000000LL);
    return o;
}

/* One connection's turn in the sweep: the idle timeout, then the keep-alive ping. */
static void sweep_conn(struct gw_ocpp *o, struct gw_ocpp_conn *c, int64_t now)
{
    if (c->close_code || !c->wsi)
        return;
    int64_t alive = c->pong_us > c->last_rx_us ? c->pong_us : c->last_rx_us;
    bool pinged = c->pinged_at_alive_us == alive; /* pinged, and not heard from since */
    /* the unanswered ping first: it says more than "idle" when both apply */
    if (pinged && now - c->ping_sent_us >= o->pong_wait_us) {
        log_info("gateway", "ocpp_no_pong", "equipment_id=%s silent_s=%lld", log_q(c->id),
                 (long long)((now - alive) / 1000000));
        gw_ocpp_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "no_pong");
    } else if (now - c->last_rx_us >= o->idle_us) {
        log_info("gateway", "ocpp_idle", "equipment_id=%s silent_s=%lld", log_q(c->id),
                 (long long)((now - c->last_rx_us) / 1000000));
        gw_ocpp_close(c, LWS_CLOSE_STATUS_NORMAL, "idle");
    } else if (!pinged && now - alive >= o->ping_us) {
        c->pinged_at_alive_us = alive;
        c->ping_sent_us = now;
        c->ping_due = true;
        lws_callback_on_writable(c->wsi);
    }
}

/* Closes connections silent for the idle timeout (2 x ocpp_heartbeat_s) and pings those silent
 * for GW_OCPP_PING_S. One pass over the registry per sweep period rather than a timer per
 * connection: lws keeps timers in one sorted list, and arming one per connection would cost a
 * walk of it each time (that is also why lws' own validity pings are off, main.c). */
static void sweep(lws_sorted_usec_list_t *sul)
{
    struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, sul_sweep);
    int64_t now = gw_ocpp_mono_us();
    for (size_t i = 0; i < o->nbuckets; i++)
        for (struct gw_ocpp_conn *c = o->buckets[i]; c; c = c->hnext)
            sweep_conn(o, c, now);
    gw_rate_sweep(o->rate, now);
    lws_sul_schedule(o->ctx, 0, &o->sul_sweep, sweep, o->sweep_us);
}

/* Checks the connections of the piles whose entry changed since the last pass (all of them
 * after a mass change), so that an unchanged pile's connection is never looked at. */
static void check_changes(lws_sorted_usec_list_t *sul)
{
    struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, sul_admit);
    struct gw_pile_changes ch = {0};
    if (o->gw->piles)
        gw_piles_take_changes(o->gw->piles, &ch);
    if (ch.all) {
        log_info("gateway", "ocpp_admission_check_all", "connections=%zu", o->count);
        for (size_t i = 0; i < o->nbuckets; i++)
            for (struct gw_ocpp_conn *c = o->buckets[i]; c; c = c->hnext)
                ocpp_check_admission(o, c);
    }
    for (size_t i = 0; i < ch.n; i++) {
        struct gw_ocpp_conn *c = ocpp_registry_find(o, ch.ids[i]);
        if (c)
            ocpp_check_admission(o, c);
    }
    free(ch.ids);
    lws_sul_schedule(o->ctx, 0, &o->sul_admit, check_changes, GW_OCPP_ADMIT_CHECK_MS * 1000LL);
}

static void flush_seen(lws_sorted_usec_list_t *sul)
{
    struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, sul_seen);
    gw_seen_flush(o->seen, o->gw->writer);
    lws_sul_schedule(o->ctx, 0, &o->sul_seen, flush_seen, GW_SEEN_FLUSH_MS * 1000LL);
}

void gw_ocpp_start(struct gw_ocpp *o, struct lws_context *ctx)
{
    o->ctx = ctx;
    o->sweeping = true;
    lws_sul_schedule(ctx, 0, &o->sul_sweep, sweep, o->sweep_us);
    lws_sul_schedule(ctx, 0, &o->sul_admit, check_changes, GW_OCPP_ADMIT_CHECK_MS * 1000LL);
    lws_sul_schedule(ctx, 0, &o->sul_seen, flush_seen, GW_SEEN_FLUSH_MS * 1000LL);
}

void gw_ocpp_stop(struct gw_ocpp *o)
{
    if (!o)
        return;
    if (o->sweeping) {
        lws_sul_cancel(&o->sul_sweep);
        lws_sul_cancel(&o->sul_admit);
        lws_sul_cancel(&o->sul_seen);
        o->sweeping = false;
    }
    gw_seen_flush(o->seen, o->gw->writer); /* the writer stops after this and commits it */
    for (size_t i = 0; i < o->nbuckets; i++)
        for (struct gw_ocpp_conn *c = o->buckets[i]; c; c = c->hnext) {
            gw_pile_session_close(o->gw, c->session, "stopping");
            c->session = NULL;
        }
}

void gw_ocpp_free(struct gw_ocpp *o)
{
    if (!o)
        return;
    gw_seen_free(o->seen);
    gw_rate_free(o->rate);
    free(o->txbuf);
    free(o->buckets);
    free(o);
}
