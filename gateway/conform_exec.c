/* Conformance runs: the poller that starts queued runs, each run's thread (its checks in plan
 * order, the verdicts, the end), the start and the orderly stop. The lws side is conform.c. See
 * conform.h; the check API is conform_run.h. */
#include "gateway/conform.h"
#include "gateway/conform_private.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/db.h"
#include "db/runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queued runs read per poll. */
#define CF_POLL_BATCH 16

/* --- a run's thread --------------------------------------------------------------------------- */

static const struct cf_impl *impl_of(const char *plan)
{
    if (strcmp(plan, "ocpp16-core") == 0)
        return cf_ocpp16_impl;
    if (strcmp(plan, "ocpp201-core") == 0)
        return cf_ocpp201_impl;
    if (strcmp(plan, "tcec102-platform") == 0)
        return cf_tcec102_impl;
    return NULL;
}

static cf_check_fn fn_of(const struct cf_impl *impl, const char *id)
{
    for (; impl && impl->id; impl++)
        if (strcmp(impl->id, id) == 0)
            return impl->fn;
    return NULL;
}

static const char *verdict_name(enum cf_verdict v)
{
    switch (v) {
    case CF_PASS:
        return "pass";
    case CF_FAIL:
        return "fail";
    case CF_SKIPPED:
        return "skipped";
    default:
        return "error";
    }
}

/* Waits for the lws thread's first word on the pile (OPEN or CLOSE). */
static bool start_watch(struct cf_run *r)
{
    struct cf_req *q = calloc(1, sizeof *q);
    if (!q)
        return false;
    q->kind = CF_REQ_WATCH;
    snprintf(q->equipment_id, sizeof q->equipment_id, "%s", r->target);
    cf_mailbox_ref(r->mb);
    q->mb = r->mb;
    cf_request(r->cf, q);
    int64_t until = thread_now_ms() + CF_WATCH_WAIT_MS;
    while (!r->heard && thread_now_ms() < until)
        if (!cf_pump(r, until))
            return false;
    return true;
}

static void stop_watch(struct cf_run *r)
{
    struct cf_req *q = calloc(1, sizeof *q);
    if (!q)
        return;
    q->kind = CF_REQ_UNWATCH;
    snprintf(q->equipment_id, sizeof q->equipment_id, "%s", r->target);
    cf_request(r->cf, q);
}

/* Records the current check's verdict with the frames it collected. */
static int save_verdict(struct cf_run *r, const char *verdict, const char *reason)
{
    char *frames = cf_take_frames(r);
    int rc = db_run_check_verdict(r->db, r->id, r->seq, verdict, reason, frames, db_now());
    free(frames);
    return rc;
}

/* Runs the checks; the state to end the run with (NULL: judged by its checks) and its reason. */
static const char *run_checks(struct cf_run *r, char *why, size_t whylen)
{
    const struct cf_impl *impl = impl_of(r->plan);
    bool pile = strcmp(r->target_kind, "pile") == 0;
    if (pile) {
        int64_t n = 0;
        if (db_run_pile_connectors(r->db, r->target, &n) != DB_OK) {
            snprintf(why, whylen, "the pile %s is not registered", r->target);
            return "error";
        }
        r->connectors = (int)n;
        const char *proto = plan_protocol(r->plan);
        r->version = proto && strcmp(proto, "ocpp2.0.1") == 0 ? OCPP_V201 : OCPP_V16;
        if (!start_watch(r))
            goto aborted;
        if (!r->connected) {
            snprintf(why, whylen, "the pile %s is not connected", r->target);
            return "error";
        }
    }
    for (size_t i = 0; i < r->nchecks; i++) {
        if (cf_aborted(r))
            goto aborted;
        const struct plan_check *pc = &r->checks[i];
        r->check = pc;
        r->seq = (int)i + 1;
        r->reason[0] = '\0';
        int rc = db_run_check_start(r->db, r->id, r->seq, db_now());
        if (rc == DB_CONFLICT) { /* the run was ended under us (a restart of another gateway) */
            snprintf(why, whylen, "the run was ended elsewhere");
            return "error";
        }
        r->check_start_ms = thread_now_ms();
        int64_t wait_s = pc->timeout_s;
        if (r->cfg->conform_wait_cap_s > 0 && r->cfg->conform_wait_cap_s < wait_s)
            wait_s = r->cfg->conform_wait_cap_s;
        r->deadline_ms = r->check_start_ms + wait_s * 1000;
        if (pile && !r->connected) { /* a reset check's reconnection may still be under way */
            while (!r->connected && thread_now_ms() < r->deadline_ms)
                if (!cf_pump(r, r->deadline_ms))
                    goto aborted;
            if (!r->connected) {
                snprintf(why, whylen, "the pile disconnected and did not come back");
                save_verdict(r, "error", why);
                r->check = NULL;
                return "error";
            }
        }
        cf_check_fn fn = fn_of(impl, pc->id);
        enum cf_verdict v = fn ? fn(r) : cf_error(r, "not implemented by this gateway");
        if (v == CF_ABORT)
            goto aborted;
        /* what the check did not take is the next check's (its window starts here) */
        size_t next_window = r->nmsgs;
        if (pile)
            cf_pump(r, 0); /* the frames that came with the last answer */
        if (v == CF_PASS && r->npassed < r->nchecks)
            r->passed[r->npassed++] = strdup(pc->id);
        rc = save_verdict(r, verdict_name(v), r->reason[0] ? r->reason : NULL);
        if (rc != DB_OK)
            log_warn("gateway", "conform_verdict_not_saved", "run=%lld seq=%d rc=%d",
                     (long long)r->id, r->seq, rc);
        r->window = next_window;
        r->check = NULL;
        if (r->halt) { /* judged by its checks: failed, the rest skipped */
            int n = snprintf(why, whylen, "the run stopped after %s: ", pc->id);
            if (n > 0 && (size_t)n < whylen) {
                /* the check's reason, cut on a UTF-8 boundary to fit */
                size_t room = whylen - (size_t)n - 1, len = strnlen(r->reason, room + 1);
                if (len > room) {
                    len = room;
                    while (len > 0 && ((unsigned char)r->reason[len] & 0xC0) == 0x80)
                        len--;
                }
                memcpy(why + n, r->reason, len);
                why[(size_t)n + len] = '\0';
            }
            return NULL;
        }
    }
    return NULL;
aborted:
    if (r->stopping || atomic_load(&r->cf->stopping)) {
        snprintf(why, whylen, "%s", GW_CONFORM_STOPPED);
        return "error";
    }
    snprintf(why, whylen, "cancelled");
    return "cancelled";
}

static void *run_main(void *arg)
{
    struct cf_run *r = arg;
    struct gw_conform *cf = r->cf;
    char why[512] = "";
    char state[16] = "";
    /* a pile's run is found by `grep equipment_id=`, a platform's by `grep operator_id=` */
    const char *target_key = strcmp(r->target_kind, "pile") == 0 ? "equipment_id" : "operator_id";
    log_info("gateway", "conform_run_started", "run=%lld plan=%s %s=%s", (long long)r->id,
             log_q(r->plan), target_key, log_q(r->target));
    const char *end = run_checks(r, why, sizeof why);
    if (r->check) /* the check under way when the run was stopped */
        save_verdict(r, end && !strcmp(end, "error") ? "error" : "skipped", why[0] ? why : NULL);
    if (strcmp(r->target_kind, "pile") == 0)
        stop_watch(r);
    int rc = db_run_finish(r->db, r->id, end, why[0] ? why : NULL, db_now(), state);
    if (rc == DB_OK && cf->gw && cf->gw->metrics)
        gw_metrics_conform_run(cf->gw->metrics, state);
    log_info("gateway", "conform_run_finished", "run=%lld plan=%s %s=%s state=%s rc=%d",
             (long long)r->id, log_q(r->plan), target_key, log_q(r->target),
             log_q(rc == DB_OK ? state : "-"), rc);
    pthread_mutex_lock(&cf->mu);
    cf->nrunning--;
    r->finished = true;
    pthread_cond_broadcast(&cf->cv);
    pthread_mutex_unlock(&cf->mu);
    return NULL;
}

/* --- the poller ---------------------------------------------------------------------------------
 */

static void run_free(struct cf_run *r)
{
    if (!r)
        return;
    cf_run_clear(r);
    cf_mailbox_unref(r->mb);
    db_close(r->db);
    free(r);
}

struct take_ctx {
    struct gw_conform *cf;
    int room;
    int started;
};

static int take_one(void *arg, const struct db_run_head *h)
{
    struct take_ctx *t = arg;
    struct gw_conform *cf = t->cf;
    if (t->room <= 0)
        return 1;
    size_t n = 0;
    const struct plan_check *checks = plan_checks(h->plan, &n);
    struct cf_run *r = calloc(1, sizeof *r);
    char err[256] = "";
    if (!r)
        return 0;
    r->cf = cf;
    r->cfg = cf->cfg;
    r->id = h->id;
    r->detection_id = h->detection_id;
    r->account_id = h->account_id;
    snprintf(r->plan, sizeof r->plan, "%s", h->plan);
    snprintf(r->target_kind, sizeof r->target_kind, "%s", h->target_kind);
    snprintf(r->target, sizeof r->target, "%s", h->target);
    r->checks = checks;
    r->nchecks = n;
    r->mb = cf_mailbox_new();
    r->passed = calloc(n ? n : 1, sizeof *r->passed);
    r->db = db_open(cf->cfg->db, (int)cf->cfg->sqlite_busy_ms, cf->cfg->sqlite_synchronous, err,
                    sizeof err);
    if (!r->mb || !r->passed || !r->db) {
        log_warn("gateway", "conform_run_not_started", "run=%lld error=%s", (long long)h->id,
                 log_q(err[0] ? err : "out of memory"));
        run_free(r);
        return 0;
    }
    int64_t now = db_now();
    int rc = db_run_start(cf->db, h->id, now);
    if (rc != DB_OK) { /* cancelled meanwhile */
        run_free(r);
        return 0;
    }
    r->started_at = now;
    r->queued_at = h->created_at;
    if (!checks) { /* a plan this gateway does not know: mgmt is newer */
        db_run_finish(cf->db, h->id, "error", "this gateway does not know the plan", now, NULL);
        run_free(r);
        return 0;
    }
    pthread_mutex_lock(&cf->mu);
    r->next = cf->runs;
    cf->runs = r;
    cf->nrunning++;
    pthread_mutex_unlock(&cf->mu);
    if (thread_start_quiet(&r->thread, run_main, r) != 0) {
        pthread_mutex_lock(&cf->mu);
        cf->runs = r->next;
        cf->nrunning--;
        pthread_mutex_unlock(&cf->mu);
        db_run_finish(cf->db, h->id, "error", "the gateway could not start the run", now, NULL);
        run_free(r);
        return 0;
    }
    t->room--;
    t->started++;
    return 0;
}

/* Joins the threads of the runs that ended (nrunning counts the live ones). */
static void reap(struct gw_conform *cf, bool all)
{
    for (;;) {
        pthread_mutex_lock(&cf->mu);
        struct cf_run **pp = &cf->runs, *done = NULL;
        for (; *pp; pp = &(*pp)->next) {
            if ((*pp)->finished) {
                done = *pp;
                *pp = done->next;
                break;
            }
        }
        bool any = cf->runs != NULL;
        if (!done && all && any)
            pthread_cond_wait(&cf->cv, &cf->mu); /* a run's end broadcasts */
        pthread_mutex_unlock(&cf->mu);
        if (done) {
            pthread_join(done->thread, NULL);
            run_free(done);
            continue;
        }
        if (!all || !any)
            return;
    }
}

static void *poller_main(void *arg)
{
    struct gw_conform *cf = arg;
    while (!atomic_load(&cf->stopping)) {
        reap(cf, false);
        pthread_mutex_lock(&cf->mu);
        int room = (int)cf->cfg->conform_runs_max - cf->nrunning;
        pthread_mutex_unlock(&cf->mu);
        if (room > 0) {
            struct take_ctx t = {cf, room, 0};
            int rc = db_runs_queued(cf->db, 0, CF_POLL_BATCH, take_one, &t);
            if (rc < 0)
                log_warn("gateway", "conform_poll_failed", "rc=%d", rc);
        }
        pthread_mutex_lock(&cf->mu);
        if (!atomic_load(&cf->stopping)) {
            struct timespec until = thread_deadline_ms(cf->cfg->ocpp_command_poll_ms);
            pthread_cond_timedwait(&cf->cv, &cf->mu, &until);
        }
        pthread_mutex_unlock(&cf->mu);
    }
    return NULL;
}

struct gw_conform *gw_conform_start(struct gw_server *gw, char *err, size_t errlen)
{
    struct gw_conform *cf = calloc(1, sizeof *cf);
    if (!cf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cf->gw = gw;
    cf->cfg = gw->cfg;
    pthread_mutex_init(&cf->mu, NULL);
    thread_cond_init_monotonic(&cf->cv);
    cf->db = db_open(cf->cfg->db, (int)cf->cfg->sqlite_busy_ms, cf->cfg->sqlite_synchronous, err,
                     errlen);
    if (!cf->db) {
        gw_conform_free(cf);
        return NULL;
    }
    int64_t n = 0;
    int rc = db_runs_fail_running(cf->db, db_now(), &n);
    if (rc != DB_OK) {
        snprintf(err, errlen, "could not end the runs of an earlier gateway (rc %d)", rc);
        gw_conform_free(cf);
        return NULL;
    }
    if (n > 0)
        log_warn("gateway", "conform_runs_interrupted", "runs=%lld reason=%s", (long long)n,
                 log_q(DB_RUN_RESTARTED));
    if (thread_start_quiet(&cf->poller, poller_main, cf) != 0) {
        snprintf(err, errlen, "could not start the conformance poller");
        gw_conform_free(cf);
        return NULL;
    }
    cf->poller_started = true;
    return cf;
}

/* Wakes the poller and every run, each of which then ends (`error` GW_CONFORM_STOPPED). */
static void tell_runs_to_stop(struct gw_conform *cf)
{
    pthread_mutex_lock(&cf->mu);
    pthread_cond_broadcast(&cf->cv);
    for (struct cf_run *r = cf->runs; r; r = r->next) {
        pthread_mutex_lock(&r->mb->mu);
        r->mb->stop = true;
        pthread_cond_broadcast(&r->mb->cv);
        pthread_mutex_unlock(&r->mb->mu);
    }
    pthread_mutex_unlock(&cf->mu);
}

void gw_conform_stop(struct gw_conform *cf)
{
    if (!cf || cf->stopped)
        return;
    cf->stopped = true;
    atomic_store(&cf->stopping, true);
    tell_runs_to_stop(cf);
    if (cf->poller_started) {
        pthread_join(cf->poller, NULL);
        cf->poller_started = false;
    }
    /* the poller may have started one more run after the flags above: tell it too */
    tell_runs_to_stop(cf);
    reap(cf, true);
    /* the inbox's requests (no CALL goes out now) and the watch table's references */
    pthread_mutex_lock(&cf->mu);
    struct cf_req *q = cf->inbox_head;
    cf->inbox_head = cf->inbox_tail = NULL;
    pthread_mutex_unlock(&cf->mu);
    for (struct cf_req *next; q; q = next) {
        next = q->next;
        cf_req_free(q);
    }
    int n = atomic_load(&cf->nwatch);
    for (int i = 0; i < n; i++)
        cf_mailbox_unref(cf->watch[i].mb);
    atomic_store(&cf->nwatch, 0);
}

void gw_conform_free(struct gw_conform *cf)
{
    if (!cf)
        return;
    gw_conform_stop(cf);
    for (struct cf_req *q = cf->inbox_head, *next; q; q = next) {
        next = q->next;
        cf_req_free(q);
    }
    db_close(cf->db);
    pthread_mutex_destroy(&cf->mu);
    pthread_cond_destroy(&cf->cv);
    free(cf);
}
