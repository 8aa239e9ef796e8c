/* Remote operations, the gateway's side: the poller thread, the per-connection FIFO with one
 * outstanding CALL, answers and deadlines. See commands.h; the row's life is in db/commands.h.
 *
 * Each command is one heap `struct cmd` that moves, never copied: poller -> inbox -> the
 * connection's FIFO -> outstanding (its "sent" job in the writer, then on the wire) -> a
 * "finish" job in the writer, whose completion frees it. Jobs the writer refuses because its
 * queue is full wait in `deferred` and are submitted again by the timer. */
#include "gateway/commands.h"
#include "gateway/commands_poll.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/ocpp.h"
#include "gateway/ocpp_answers.h"
#include "gateway/ocpp_cs.h"
#include "gateway/piles.h"
#include "gateway/writer.h"
#include "common/config.h"
#include "common/log.h"
#include "db/commands.h"
#include "db/db.h"
#include "protocol/ocpp.h"

#include <libwebsockets.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The deadline timer's period: a timeout is seen within this much after it passed. */
#define GW_CMD_TICK_US 1000000

enum cmd_job { JOB_SENT, JOB_FINISH };

struct cmd {
    struct cmd *next;
    struct gw_commands *cm;
    int64_t id;
    char equipment_id[GW_PILE_ID_MAX + 1];
    char action[GW_CMD_ACTION_MAX]; /* as in the row */
    const char *name;               /* the version's static name of the action, once checked */
    char *payload_text;             /* as in the row; owned */
    json_t *payload;                /* parsed; owned */
    char unique_id[32];
    int64_t deadline_us;
    struct gw_ocpp_conn *conn; /* a reference, held while its "sent" job is in the writer */
    /* the job */
    enum cmd_job job;
    int64_t at;
    const char *state, *error; /* static */
    char *response, *detail;   /* owned */
    int from_sent_only;
    long long prune_keep; /* > 0: prune the pile's commands to this many in the same job */
    /* an engine CALL (gw_commands_send_raw): no row, no writer jobs; told through this */
    gw_cmd_raw_done raw_done;
    void *raw_arg;
};

/* One connection's commands (lws thread). */
struct gw_cmd_conn {
    struct gw_commands *cm;
    struct gw_ocpp_conn *conn; /* borrowed: this lives no longer than the connection is open */
    struct gw_cmd_conn *prev, *next; /* cm->active while it has work */
    bool listed;
    struct cmd *head, *tail; /* waiting, in arrival order */
    size_t waiting;
    struct cmd *out; /* outstanding */
    bool out_sent;   /* false while its "sent" job is in the writer */
    unsigned finished;
};

struct gw_commands {
    struct gw_server *gw;
    struct gw_cmd_poller *poller;
    /* the rest is the lws thread's */
    struct gw_cmd_conn *active;
    struct cmd *deferred_head, *deferred_tail;
    lws_sorted_usec_list_t sul;
    bool ticking, stopped;
    unsigned long long raw_seq; /* engine CALLs' uniqueIds */
};

static enum ocpp_version proto_version(enum gw_ocpp_version v)
{
    return v == GW_OCPP201 ? OCPP_V201 : OCPP_V16;
}

static void cmd_free(struct cmd *k)
{
    if (!k)
        return;
    json_decref(k->payload);
    free(k->payload_text);
    free(k->response);
    free(k->detail);
    gw_ocpp_conn_unref(k->conn);
    free(k);
}

/* --- the poller --------------------------------------------------------------------------- */

/* The poller's wake-up, on its thread. */
static void wake_lws(void *arg)
{
    struct gw_commands *cm = arg;
    struct lws_context *ctx = atomic_load(&cm->gw->ctx);
    if (ctx)
        lws_cancel_service(ctx);
}

struct gw_commands *gw_commands_start(struct gw_server *gw, char *err, size_t errlen)
{
    struct gw_commands *cm = calloc(1, sizeof *cm);
    if (!cm) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cm->gw = gw;
    cm->poller = gw_cmd_poller_start(gw->cfg, "gateway_restarted", wake_lws, cm, err, errlen);
    if (!cm->poller) {
        free(cm);
        return NULL;
    }
    return cm;
}

/* --- writer jobs ------------------------------------------------------------------------------ */

static void pump(struct gw_cmd_conn *st);
static void submit(struct gw_commands *cm, struct cmd *k);

static int cmd_job(struct db *db, void *arg)
{
    struct cmd *k = arg;
    if (k->job == JOB_SENT)
        return db_command_sent(db, k->id, k->unique_id, k->at);
    int rc = db_command_finish(db, k->id, k->state, k->response, k->error, k->detail, k->at,
                               k->from_sent_only);
    if (rc == DB_OK && k->prune_keep > 0)
        rc = db_commands_prune(db, k->equipment_id, k->prune_keep);
    return rc;
}

static void finish_done(struct cmd *k, int rc)
{
    struct gw_server *gw = k->cm->gw;
    if (rc == 0) {
        if (gw->metrics)
            gw_metrics_ocpp_command(gw->metrics, k->state, k->error);
        log_info("gateway", "command_finished",
                 "equipment_id=%s id=%lld action=%s state=%s error=%s", log_q(k->equipment_id),
                 (long long)k->id, log_q(k->action), log_q(k->state),
                 log_q(k->error ? k->error : "-"));
    } else if (rc == DB_CONFLICT || rc == DB_NOTFOUND) {
        /* mgmt gave up on it first (not_picked_up), or it is gone */
        log_debug("gateway", "command_finish_skipped", "id=%lld state=%s rc=%d", (long long)k->id,
                  log_q(k->state), rc);
    } else {
        log_warn("gateway", "command_not_finished", "equipment_id=%s id=%lld state=%s rc=%d",
                 log_q(k->equipment_id), (long long)k->id, log_q(k->state), rc);
    }
    cmd_free(k);
}

/* Finishes `k` (already out of any FIFO) in the database with `state`; takes `response`
 * (owned JSON text or NULL); `detail` is a format. `st` is the connection's state when there is
 * one (the pruning's cadence). */
static void finish(struct gw_cmd_conn *st, struct cmd *k, const char *state, char *response,
                   const char *error, int from_sent_only, const char *detail_fmt, ...)
{
    struct gw_commands *cm = k->cm;
    if (k->raw_done) {
        char *detail = NULL;
        if (detail_fmt) {
            va_list ap;
            va_start(ap, detail_fmt);
            if (vasprintf(&detail, detail_fmt, ap) < 0)
                detail = NULL;
            va_end(ap);
        }
        struct gw_cmd_raw_result res = {.state = state,
                                        .error = error,
                                        .response = response,
                                        .detail = detail,
                                        .unique_id = k->unique_id};
        k->raw_done(k->raw_arg, &res);
        free(detail);
        free(response);
        (void)st;
        (void)from_sent_only;
        cmd_free(k);
        return;
    }
    k->job = JOB_FINISH;
    k->at = db_now();
    k->state = state;
    k->error = error;
    free(k->response);
    k->response = response;
    free(k->detail);
    k->detail = NULL;
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        if (vasprintf(&k->detail, detail_fmt, ap) < 0)
            k->detail = NULL;
        va_end(ap);
    }
    k->from_sent_only = from_sent_only;
    /* a pile without a connection has no counter: its own ids give the cadence */
    bool prune = st ? ++st->finished % GW_CMD_PRUNE_EVERY == 0 : k->id % GW_CMD_PRUNE_EVERY == 0;
    k->prune_keep = prune ? cm->gw->cfg->ocpp_commands_keep : 0;
    submit(cm, k);
}

static void relist(struct gw_cmd_conn *st)
{
    struct gw_commands *cm = st->cm;
    bool busy = st->out || st->head;
    if (busy && !st->listed) {
        st->prev = NULL;
        st->next = cm->active;
        if (cm->active)
            cm->active->prev = st;
        cm->active = st;
        st->listed = true;
    } else if (!busy && st->listed) {
        if (st->prev)
            st->prev->next = st->next;
        else
            cm->active = st->next;
        if (st->next)
            st->next->prev = st->prev;
        st->prev = st->next = NULL;
        st->listed = false;
    }
}

static void tick(lws_sorted_usec_list_t *sul);

static void ensure_tick(struct gw_commands *cm)
{
    if (cm->ticking || cm->stopped)
        return;
    struct lws_context *ctx = atomic_load(&cm->gw->ctx);
    if (!ctx)
        return;
    cm->ticking = true;
    lws_sul_schedule(ctx, 0, &cm->sul, tick, GW_CMD_TICK_US);
}

static void release_out(struct gw_cmd_conn *st)
{
    st->out = NULL;
    st->out_sent = false;
    relist(st);
}

static const char *send_error_code(int rc)
{
    switch (rc) {
    case -ENOTCONN:
        return "disconnected";
    case -ENOBUFS:
        return "busy";
    case -EMSGSIZE:
        return "too_large";
    default:
        return "send_failed";
    }
}

/* Puts `k`'s CALL on the wire of st's connection (open) as the outstanding one, or finishes it
 * failed. */
static void transmit(struct gw_cmd_conn *st, struct cmd *k)
{
    struct gw_commands *cm = st->cm;
    struct gw_ocpp_conn *c = st->conn;
    char *text = ocpp_build_call(k->unique_id, k->name, k->payload);
    int src = text ? gw_ocpp_send(c, text, strlen(text)) : -ENOMEM;
    free(text);
    if (src != 0) {
        finish(st, k, "failed", NULL, send_error_code(src), 0, "the CALL could not be sent (%s)",
               strerror(-src));
        return;
    }
    st->out = k;
    st->out_sent = true;
    relist(st);
    k->deadline_us = gw_ocpp_mono_us() + cm->gw->cfg->ocpp_call_timeout_s * 1000000LL;
    if (cm->gw->metrics && !k->raw_done)
        gw_metrics_ocpp_command_sent(cm->gw->metrics);
    /* the pile may send what a TriggerMessage asks for before it answers */
    const char *trig = gw_ocpp_trigger_action(gw_ocpp_conn_version(c), k->name, k->payload);
    if (trig)
        gw_ocpp_conn_set_triggered(c, trig);
    log_info("gateway", "command_sent", "equipment_id=%s id=%lld action=%s unique_id=%s",
             log_q(k->equipment_id), (long long)k->id, log_q(k->name), log_q(k->unique_id));
    ensure_tick(cm);
}

/* The "sent" job's completion: the row is sent (or mgmt abandoned it); the CALL goes out. */
static void sent_done(struct cmd *k, int rc)
{
    struct gw_commands *cm = k->cm;
    struct gw_ocpp_conn *c = k->conn;
    k->conn = NULL; /* our reference, dropped below */
    struct gw_cmd_conn *st = c ? gw_ocpp_conn_cmds(c) : NULL;
    bool mine = st && st->out == k;
    if (mine)
        release_out(st);
    if (rc != 0) {
        if (rc == DB_CONFLICT || rc == DB_NOTFOUND)
            log_info("gateway", "command_abandoned", "equipment_id=%s id=%lld",
                     log_q(k->equipment_id), (long long)k->id);
        else
            log_warn("gateway", "command_not_sent", "equipment_id=%s id=%lld rc=%d",
                     log_q(k->equipment_id), (long long)k->id, rc);
        cmd_free(k);
    } else if (cm->stopped) {
        finish(NULL, k, "failed", NULL, "gateway_restarted", 0,
               "the gateway stopped before the pile answered");
    } else if (!mine || !gw_ocpp_conn_open(c)) {
        finish(NULL, k, "failed", NULL, "disconnected", 0,
               "the connection ended before the CALL was sent");
    } else {
        transmit(st, k);
    }
    if (st && gw_ocpp_conn_cmds(c) == st && !st->out)
        pump(st);
    gw_ocpp_conn_unref(c);
}

static void job_done(void *arg, int rc)
{
    struct cmd *k = arg;
    if (k->job == JOB_SENT)
        sent_done(k, rc);
    else
        finish_done(k, rc);
}

static void defer(struct gw_commands *cm, struct cmd *k)
{
    k->next = NULL;
    if (cm->deferred_tail)
        cm->deferred_tail->next = k;
    else
        cm->deferred_head = k;
    cm->deferred_tail = k;
    ensure_tick(cm);
}

/* Hands `k`'s job to the writer; a full queue defers it to the timer; a writer that is gone
 * completes it at once with its code. */
static void submit(struct gw_commands *cm, struct cmd *k)
{
    struct gw_writer *w = cm->gw->writer;
    int rc = w ? gw_writer_submit(w, cmd_job, job_done, k) : -ESHUTDOWN;
    if (rc == -EAGAIN && !cm->stopped) {
        defer(cm, k);
        return;
    }
    if (rc != 0)
        job_done(k, rc);
}

/* Sends the connection's next waiting command when none is outstanding. */
static void pump(struct gw_cmd_conn *st)
{
    struct gw_commands *cm = st->cm;
    if (st->out || !st->head || cm->stopped || !gw_ocpp_conn_open(st->conn))
        return;
    struct cmd *k = st->head;
    st->head = k->next;
    if (!st->head)
        st->tail = NULL;
    k->next = NULL;
    st->waiting--;
    st->out = k;
    st->out_sent = false;
    relist(st);
    if (k->raw_done) { /* no row to mark sent */
        snprintf(k->unique_id, sizeof k->unique_id, "evg-r%llu", ++cm->raw_seq);
        transmit(st, k);
        if (!st->out)
            pump(st);
        return;
    }
    snprintf(k->unique_id, sizeof k->unique_id, "evg-%lld", (long long)k->id);
    k->job = JOB_SENT;
    k->at = db_now();
    gw_ocpp_conn_ref(st->conn);
    k->conn = st->conn;
    submit(cm, k);
}

/* --- routing rows to connections -------------------------------------------------------------- */

static struct gw_cmd_conn *state_of(struct gw_commands *cm, struct gw_ocpp_conn *c)
{
    struct gw_cmd_conn *st = gw_ocpp_conn_cmds(c);
    if (st)
        return st;
    if (!(st = calloc(1, sizeof *st)))
        return NULL;
    st->cm = cm;
    st->conn = c;
    gw_ocpp_conn_set_cmds(c, st);
    return st;
}

/* Puts `k` at the end of st's FIFO and sends it when nothing is outstanding. */
static void enqueue(struct gw_cmd_conn *st, struct cmd *k)
{
    if (st->tail)
        st->tail->next = k;
    else
        st->head = k;
    st->tail = k;
    st->waiting++;
    relist(st);
    pump(st);
}

static void intake(struct gw_commands *cm, struct cmd *k)
{
    k->cm = cm;
    k->next = NULL;
    struct gw_ocpp_conn *c = cm->gw->ocpp ? gw_ocpp_find(cm->gw->ocpp, k->equipment_id) : NULL;
    if (!c) {
        finish(NULL, k, "failed", NULL, "offline", 0,
               "the pile had no connection when the gateway "
               "took the command");
        return;
    }
    enum gw_ocpp_version gv = gw_ocpp_conn_version(c);
    enum ocpp_version v = proto_version(gv);
    k->name = ocpp_to_cp(v, k->action);
    if (!k->name) {
        finish(NULL, k, "failed", NULL, "invalid_for_version", 0,
               "%s is not sent by the central system in %s", k->action, gw_ocpp_version_name(gv));
        return;
    }
    k->payload = json_loads(k->payload_text, 0, NULL);
    struct ocpp_error err = {0};
    if (!json_is_object(k->payload)) {
        finish(NULL, k, "failed", NULL, "invalid_for_version", 0, "the payload is not an object");
        return;
    }
    if (ocpp_validate(v, k->name, OCPP_REQUEST, k->payload, &err) != 0) {
        finish(NULL, k, "failed", NULL, "invalid_for_version", 0, "%s: %s", err.path, err.reason);
        return;
    }
    struct gw_cmd_conn *st = state_of(cm, c);
    if (!st) {
        finish(NULL, k, "failed", NULL, "busy", 0, "out of memory");
        return;
    }
    if (st->waiting >= GW_CMD_WAITING_MAX) {
        finish(st, k, "failed", NULL, "busy", 0,
               "%d commands of this pile are already waiting in the gateway", GW_CMD_WAITING_MAX);
        return;
    }
    enqueue(st, k);
}

int gw_commands_send_raw(struct gw_commands *cm, struct gw_ocpp_conn *c, const char *action,
                         const char *payload_text, gw_cmd_raw_done done, void *arg)
{
    if (!cm || cm->stopped)
        return -ESHUTDOWN;
    if (!c || !gw_ocpp_conn_open(c))
        return -ENOTCONN;
    if (!action || strlen(action) >= GW_CMD_ACTION_MAX || !done)
        return -EINVAL;
    json_t *payload = json_loads(payload_text ? payload_text : "{}", JSON_DECODE_ANY, NULL);
    if (!payload)
        return -EINVAL;
    struct gw_cmd_conn *st = state_of(cm, c);
    if (!st) {
        json_decref(payload);
        return -ENOMEM;
    }
    if (st->waiting >= GW_CMD_WAITING_MAX) {
        json_decref(payload);
        return -EBUSY;
    }
    struct cmd *k = calloc(1, sizeof *k);
    if (!k) {
        json_decref(payload);
        return -ENOMEM;
    }
    k->cm = cm;
    snprintf(k->equipment_id, sizeof k->equipment_id, "%s", gw_ocpp_conn_id(c));
    snprintf(k->action, sizeof k->action, "%s", action);
    k->name = k->action;
    k->payload = payload;
    k->raw_done = done;
    k->raw_arg = arg;
    enqueue(st, k);
    return 0;
}

void gw_commands_run(struct gw_commands *cm)
{
    if (!cm || cm->stopped)
        return;
    for (struct gw_cmd_row *r = gw_cmd_poller_take(cm->poller), *next; r; r = next) {
        next = r->next;
        struct cmd *k = calloc(1, sizeof *k);
        if (!k) { /* stays queued: mgmt gives up on it (not_picked_up) */
            log_warn("gateway", "command_dropped", "id=%lld reason=out_of_memory",
                     (long long)r->id);
            gw_cmd_row_free(r);
            continue;
        }
        k->id = r->id;
        memcpy(k->equipment_id, r->equipment_id, sizeof k->equipment_id);
        memcpy(k->action, r->action, sizeof k->action);
        k->payload_text = r->payload;
        r->payload = NULL;
        gw_cmd_row_free(r);
        intake(cm, k);
    }
}

/* --- answers and deadlines -------------------------------------------------------------------- */

static char *dumps(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

bool gw_commands_on_answer(struct gw_ocpp_conn *c, const struct ocpp_frame *f, const char *text,
                           size_t len)
{
    struct gw_cmd_conn *st = gw_ocpp_conn_cmds(c);
    if (!st || !st->out || !st->out_sent || strcmp(st->out->unique_id, f->id) != 0)
        return false;
    struct cmd *k = st->out;
    release_out(st);
    if (f->type == OCPP_CALLRESULT && k->raw_done) {
        finish(st, k, "answered", dumps(f->payload), NULL, 1, NULL); /* the engine judges it */
    } else if (f->type == OCPP_CALLRESULT) {
        struct ocpp_error err = {0};
        enum ocpp_version v = proto_version(gw_ocpp_conn_version(c));
        if (ocpp_validate(v, k->name, OCPP_RESPONSE, f->payload, &err) == 0) {
            finish(st, k, "answered", dumps(f->payload), NULL, 1, NULL);
        } else {
            gw_ocpp_violation(c, err.code, err.path, err.reason, text, len);
            finish(st, k, "error", dumps(f->payload), "invalid_response", 1, "%s: %s", err.path,
                   err.reason);
        }
    } else {
        json_t *resp = json_pack("{s:s, s:s, s:O}", "code", f->error_code ? f->error_code : "",
                                 "description", f->error_description ? f->error_description : "",
                                 "details", f->error_details ? f->error_details : json_object());
        finish(st, k, "error", resp ? dumps(resp) : NULL, "call_error", 1, "%s%s%s",
               f->error_code ? f->error_code : "",
               f->error_description && *f->error_description ? ": " : "",
               f->error_description ? f->error_description : "");
        json_decref(resp);
    }
    pump(st);
    return true;
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct gw_commands *cm = lws_container_of(sul, struct gw_commands, sul);
    cm->ticking = false;
    int64_t now = gw_ocpp_mono_us();
    for (struct gw_cmd_conn *st = cm->active, *next; st; st = next) {
        next = st->next;
        if (!st->out || !st->out_sent || now < st->out->deadline_us)
            continue;
        struct cmd *k = st->out;
        release_out(st);
        finish(st, k, "timeout", NULL, NULL, 1, "no answer within %lld s",
               cm->gw->cfg->ocpp_call_timeout_s);
        pump(st);
    }
    /* jobs the writer refused: again, in order, until it refuses again */
    struct cmd *k = cm->deferred_head;
    cm->deferred_head = cm->deferred_tail = NULL;
    while (k) {
        struct cmd *next = k->next;
        k->next = NULL;
        if (cm->deferred_head) {
            defer(cm, k); /* keep the order behind one that was refused again */
        } else {
            submit(cm, k);
        }
        k = next;
    }
    if (cm->active || cm->deferred_head)
        ensure_tick(cm);
}

/* --- connections ending, the gateway stopping ------------------------------------------------- */

/* Fails every command of `st` with `error` and frees `st`. */
static void fail_all(struct gw_cmd_conn *st, const char *error, const char *detail)
{
    struct cmd *out = st->out, *waiting = st->head;
    bool out_sent = st->out_sent;
    st->out = NULL;
    st->head = st->tail = NULL;
    st->waiting = 0;
    relist(st); /* off the active list */
    gw_ocpp_conn_set_cmds(st->conn, NULL);
    free(st);
    /* an outstanding command whose "sent" job is still in the writer is finished by that job's
     * completion, which finds the state gone */
    if (out && out_sent)
        finish(NULL, out, "failed", NULL, error, 0, "%s", detail);
    while (waiting) {
        struct cmd *next = waiting->next;
        waiting->next = NULL;
        finish(NULL, waiting, "failed", NULL, error, 0, "%s", detail);
        waiting = next;
    }
}

void gw_commands_conn_closed(struct gw_ocpp_conn *c)
{
    struct gw_cmd_conn *st = gw_ocpp_conn_cmds(c);
    if (!st)
        return;
    if (st->out || st->head)
        log_info("gateway", "commands_disconnected", "equipment_id=%s waiting=%zu outstanding=%d",
                 log_q(gw_ocpp_conn_id(c)), st->waiting, st->out ? 1 : 0);
    fail_all(st, "disconnected", "the connection ended before the pile answered");
}

void gw_commands_stop(struct gw_commands *cm)
{
    if (!cm || cm->stopped)
        return;
    gw_cmd_poller_join(cm->poller); /* what it still holds stays queued: the next start fails it */
    /* jobs refused earlier go first, while the writer still takes jobs */
    struct cmd *k = cm->deferred_head;
    cm->deferred_head = cm->deferred_tail = NULL;
    while (k) {
        struct cmd *next = k->next;
        k->next = NULL;
        submit(cm, k);
        k = next;
    }
    cm->stopped = true;
    while (cm->active)
        fail_all(cm->active, "gateway_restarted", "the gateway stopped before the pile answered");
    /* submits refused now are dropped: the next start fails their rows */
    while ((k = cm->deferred_head)) {
        cm->deferred_head = k->next;
        log_warn("gateway", "command_not_finished", "equipment_id=%s id=%lld state=%s",
                 log_q(k->equipment_id), (long long)k->id, log_q(k->state ? k->state : "-"));
        cmd_free(k);
    }
    cm->deferred_tail = NULL;
    if (cm->ticking) {
        lws_sul_cancel(&cm->sul);
        cm->ticking = false;
    }
}

void gw_commands_free(struct gw_commands *cm)
{
    if (!cm)
        return;
    gw_cmd_poller_stop(cm->poller);
    free(cm);
}
