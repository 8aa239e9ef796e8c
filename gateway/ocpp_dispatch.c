/* Where every OCPP-J text message from a pile arrives (gw_ocpp_on_frame): framing and schema
 * validation, routing to the central-system handlers, the answer after the commit, and the
 * record of protocol violations.
 *
 * A CALL goes, in this order:
 *   1. ocpp_frame_parse: a framing error is answered with the version's code (uniqueId "-1"
 *      when it could not be read);
 *   2. an action the version does not define: NotImplemented (the validator's verdict);
 *   3. an action the version defines but the central system does not receive (one it sends,
 *      e.g. Reset from a pile): NotSupported, in both versions. 2.0.1 Part 4 §4.3 has
 *      NotImplemented for "not known by receiver" and NotSupported for "recognized but not
 *      supported by the receiver": a CSMS->CS action is recognised. The payload is not
 *      validated: there is no request of that action the central system would accept;
 *   4. ocpp_validate of the request: the mapped code with {"path": ...} in errorDetails;
 *   5. the pile's configured BootNotification answer (piles.boot_status, from the pile table,
 *      looked up now, so an admin's change counts from the table's next refresh):
 *      - a BootNotification is answered with it: Accepted as always (boot information stored,
 *        the pile booted); Pending (interval = ocpp_heartbeat_s) stores the boot information
 *        but does not mark the pile booted (last_boot_at stays as it was); Rejected stores only
 *        the last contact. The last answer on the connection says whether it is accepted;
 *      - while the configured answer is not Accepted and no BootNotification was accepted on
 *        this connection, every other CALL is answered SecurityError (1.6 §4.2.1 and 2.0.1
 *        B02/B03: a station not accepted sends nothing else; both versions have the code), a
 *        violation like the others, except one of the action that the last TriggerMessage
 *        sent on this connection asked for (gw_ocpp_trigger_action maps its requestedMessage: 1.6
 *        StatusNotification, Heartbeat, MeterValues, BootNotification,
 *        DiagnosticsStatusNotification, FirmwareStatusNotification; 2.0.1 the same names plus
 *        LogStatusNotification, TransactionEvent, PublishFirmwareStatusNotification, and its
 *        Sign*Certificate values as SignCertificate), which is stored and answered normally;
 *      - a pile configured Accepted behaves as before: 1.6 piles that reconnect without
 *        booting keep working, 2.0.1 ones need one accepted boot ever (next step);
 *   6. a job on the batched writer stores the pile's last contact (once per second and
 *      connection, struct gw_call.seen) and what the message says
 *      (ocpp16_core.c, ocpp201_core.c); in 2.0.1 the job first checks that a BootNotification
 *      of the pile was ever accepted (persisted, so that a station reconnecting without a
 *      reboot need not boot again, B02/B03) and otherwise stores nothing and the answer is
 *      SecurityError (a message let through for a TriggerMessage skips this check);
 *   7. the completion, on the lws thread after COMMIT, builds the answer (ocpp_answers.c),
 *      checks it against the response schema and sends it. A job the writer refuses (queue
 *      full, stopping) or that fails is answered with InternalError: never a CALLRESULT for
 *      something not stored.
 * Every CALLERROR but InternalError is a protocol violation of the pile: counted on the
 * connection, in ocpp_piles.violations, and the frame kept in pile_violations (the newest
 * GW_VIOLATIONS_KEEP per pile).
 *
 * A CALLRESULT or CALLERROR from the pile answers a remote operation of ours (commands.c): one
 * that matches the connection's outstanding uniqueId finishes it (a CALLRESULT that breaks the
 * response schema is also a violation, recorded like the others); one that matches nothing
 * (late, after the timeout, or bogus) is ignored and logged at debug level. */
#include "gateway/commands.h"
#include "gateway/conform.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/ocpp.h"
#include "gateway/ocpp_answers.h"
#include "gateway/ocpp_cs.h"
#include "gateway/piles.h"
#include "gateway/writer.h"
#include "common/config.h"
#include "common/log.h"
#include "db/db.h"
#include "db/ocpp_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum ocpp_version proto_version(enum gw_ocpp_version v)
{
    return v == GW_OCPP201 ? OCPP_V201 : OCPP_V16;
}

/* A copy of at most GW_VIOLATION_FRAME_MAX bytes of text, cut on a UTF-8 boundary. Caller
 * frees; NULL on out of memory. */
static char *frame_cut(const char *text, size_t len)
{
    if (len > GW_VIOLATION_FRAME_MAX) {
        len = GW_VIOLATION_FRAME_MAX;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    return strndup(text, len);
}

static void send_text(struct gw_ocpp_conn *c, char *text)
{
    int rc = text ? gw_ocpp_send(c, text, strlen(text)) : -1;
    if (rc != 0 && rc != -ENOTCONN)
        log_warn("gateway", "ocpp_send_failed", "equipment_id=%s rc=%d", log_q(gw_ocpp_conn_id(c)),
                 rc);
    free(text);
}

static void send_error(struct gw_ocpp_conn *c, const char *id, const char *code,
                       const char *description, const char *path)
{
    json_t *details = path && *path ? json_pack("{s:s}", "path", path) : NULL;
    gw_metrics_ocpp_error(gw_ocpp_conn_server(c)->metrics, code);
    send_text(c, ocpp_build_error(id, code, description, details));
    json_decref(details);
}

/* --- violations ----------------------------------------------------------------------------- */

struct violation {
    char equipment_id[GW_PILE_ID_MAX + 1];
    int64_t at;
    const char *code; /* static */
    char path[OCPP_PATH_MAX];
    char reason[160];
    char *frame;
};

static int violation_job(struct db *db, void *arg)
{
    struct violation *v = arg;
    return db_ocpp_violation_add(db, v->equipment_id, v->at, v->code, v->path, v->reason, v->frame,
                                 GW_VIOLATIONS_KEEP);
}

static void violation_done(void *arg, int rc)
{
    struct violation *v = arg;
    if (rc != 0)
        log_warn("gateway", "ocpp_violation_not_recorded", "equipment_id=%s rc=%d",
                 log_q(v->equipment_id), rc);
    free(v->frame);
    free(v);
}

/* Counts a violation of the pile and records it through the writer (best effort: a full
 * queue loses the record, not the count on the connection). */
void gw_ocpp_violation(struct gw_ocpp_conn *c, const char *code, const char *path,
                       const char *reason, const char *text, size_t len)
{
    struct gw_server *gw = gw_ocpp_conn_server(c);
    uint64_t n = gw_ocpp_conn_add_violation(c);
    /* a misbehaving pile makes as many as it likes: a budget for the log, the count and the
     * newest frames are in the database anyway */
    static struct log_budget budget = {.per_minute = GW_LOG_VIOLATIONS_PER_MIN};
    unsigned long long left_out;
    if (log_budget_take(&budget, &left_out))
        log_info("gateway", "ocpp_violation",
                 "equipment_id=%s code=%s path=%s count=%llu suppressed=%llu",
                 log_q(gw_ocpp_conn_id(c)), log_q(code), log_q(path && *path ? path : "-"),
                 (unsigned long long)n, left_out);
    struct violation *v = calloc(1, sizeof *v);
    if (!v)
        return;
    snprintf(v->equipment_id, sizeof v->equipment_id, "%s", gw_ocpp_conn_id(c));
    v->at = db_now();
    v->code = code;
    snprintf(v->path, sizeof v->path, "%s", path ? path : "");
    snprintf(v->reason, sizeof v->reason, "%s", reason ? reason : "");
    v->frame = frame_cut(text, len);
    if (!v->frame || !gw->writer ||
        gw_writer_submit(gw->writer, violation_job, violation_done, v) != 0) {
        log_warn("gateway", "ocpp_violation_not_recorded", "equipment_id=%s",
                 log_q(gw_ocpp_conn_id(c)));
        free(v->frame);
        free(v);
    }
}

/* Answers a failure found on the lws thread and records it as a violation. */
static void refuse(struct gw_ocpp_conn *c, const char *id, const char *code,
                   const char *description, const char *path, const char *text, size_t len)
{
    send_error(c, id, code, description, path);
    gw_ocpp_violation(c, code, path, description, text, len);
}

/* --- CALLs through the writer --------------------------------------------------------------- */

static void call_free(struct gw_call *k)
{
    json_decref(k->req);
    free(k->frame);
    gw_ocpp_conn_unref(k->conn);
    free(k);
}

static int call_job(struct db *db, void *arg)
{
    struct gw_call *k = arg;
    k->not_booted = false;
    k->tx_row = 0;
    int rc =
        k->seen ? db_ocpp_seen(db, k->equipment_id, gw_ocpp_version_name(k->version), k->at) : 0;
    if (rc != 0)
        return rc;
    if (k->version == GW_OCPP201 && strcmp(k->action, "BootNotification") != 0 && !k->triggered) {
        bool booted = false;
        if ((rc = db_ocpp_booted(db, k->equipment_id, &booted)) != 0)
            return rc;
        if (!booted) {
            k->not_booted = true;
            return 0;
        }
    }
    return k->store ? k->store(db, k) : 0;
}

static void call_done(void *arg, int rc)
{
    struct gw_call *k = arg;
    struct gw_ocpp_conn *c = k->conn;
    if (rc != 0 && k->seen && gw_ocpp_conn_seen_at(c) == k->at)
        gw_ocpp_conn_set_seen_at(c, 0); /* not stored: the next CALL carries the last contact */
    if (rc != 0) {
        log_warn("gateway", "ocpp_call_not_stored", "equipment_id=%s action=%s rc=%d",
                 log_q(k->equipment_id), log_q(k->action), rc);
        send_error(c, k->id, "InternalError",
                   rc == DB_FULL ? "the central system's disk is full: the message was not "
                                   "stored, send it again later"
                                 : "the message could not be stored",
                   NULL);
    } else if (k->not_booted) {
        refuse(c, k->id, "SecurityError", "no BootNotification of this station was accepted yet",
               NULL, k->frame ? k->frame : "", k->frame ? strlen(k->frame) : 0);
    } else {
        struct gw_answer_ctx ctx = {
            .now = db_now(),
            .interval = gw_ocpp_conn_server(c)->cfg->ocpp_heartbeat_s,
            .transaction_id = k->tx_row,
            .boot_status = k->boot_status,
        };
        json_t *answer = gw_ocpp_answer(k->version, k->action, k->req, &ctx);
        struct ocpp_error err = {0};
        /* Never send an answer the pile's own validator would refuse; the unit test
         * test_ocpp_answers proves none is built, this keeps it true at run time. */
        if (!answer ||
            ocpp_validate(proto_version(k->version), k->action, OCPP_RESPONSE, answer, &err)) {
            log_error("gateway", "ocpp_answer_invalid", "equipment_id=%s action=%s path=%s",
                      log_q(k->equipment_id), log_q(k->action), log_q(err.path));
            send_error(c, k->id, "InternalError", "no valid answer could be built", NULL);
        } else {
            if (k->boot_status) {
                gw_ocpp_conn_set_boot_accepted(c, !strcmp(k->boot_status, "Accepted"));
                log_info("gateway", "ocpp_boot", "equipment_id=%s protocol=%s status=%s",
                         log_q(k->equipment_id),
                         log_q(gw_ocpp_version_name((enum gw_ocpp_version)k->version)),
                         log_q(k->boot_status));
            }
            send_text(c, ocpp_build_result(k->id, answer));
        }
        json_decref(answer);
    }
    gw_metrics_ocpp_call_answered(gw_ocpp_conn_server(c)->metrics,
                                  (double)(gw_ocpp_mono_us() - k->rx_us) / 1e6);
    call_free(k);
}

/* What the pile's BootNotification is to be answered with (piles.boot_status): "Accepted",
 * "Pending" or "Rejected", static. A pile gone from the table meanwhile: Accepted, as before
 * there was a setting. */
static const char *configured_boot_status(struct gw_server *gw, const char *equipment_id)
{
    struct gw_pile p;
    if (gw->piles && gw_piles_lookup(gw->piles, equipment_id, &p) == 0) {
        if (!strcmp(p.boot_status, "Pending"))
            return "Pending";
        if (!strcmp(p.boot_status, "Rejected"))
            return "Rejected";
    }
    return "Accepted";
}

static void on_call(struct gw_ocpp_conn *c, struct ocpp_frame *f, const char *text, size_t len)
{
    struct gw_server *gw = gw_ocpp_conn_server(c);
    enum gw_ocpp_version gv = gw_ocpp_conn_version(c);
    enum ocpp_version v = proto_version(gv);
    struct ocpp_error err = {0};
    char description[160];

    if (!ocpp_action_known(v, f->action)) {
        ocpp_validate(v, f->action, OCPP_REQUEST, f->payload, &err); /* the mapped code */
        gw_metrics_ocpp_message(gw->metrics, (int)gv, "unknown");
        refuse(c, f->id, err.code, err.reason, NULL, text, len);
        return;
    }
    /* the action's name in static storage, for the metrics label and the handler */
    const char *action = NULL;
    for (size_t i = 0; i < gw_ocpp_cs_action_count(gv) && !action; i++)
        if (!strcmp(gw_ocpp_cs_action_name(gv, i), f->action))
            action = gw_ocpp_cs_action_name(gv, i);
    if (!action) {
        for (size_t i = 0; i < ocpp_action_count(v); i++)
            if (!strcmp(ocpp_action_name(v, i), f->action))
                gw_metrics_ocpp_message(gw->metrics, (int)gv, ocpp_action_name(v, i));
        snprintf(description, sizeof description, "%.64s is sent by the central system, not to it",
                 f->action);
        refuse(c, f->id, "NotSupported", description, NULL, text, len);
        return;
    }
    gw_metrics_ocpp_message(gw->metrics, (int)gv, action);
    if (ocpp_validate(v, action, OCPP_REQUEST, f->payload, &err) != 0) {
        refuse(c, f->id, err.code, err.reason, err.path, text, len);
        return;
    }
    const char *boot_status = NULL;
    bool triggered = false;
    if (!strcmp(action, "BootNotification")) {
        boot_status = configured_boot_status(gw, gw_ocpp_conn_id(c));
    } else if (!gw_ocpp_conn_boot_accepted(c)) {
        const char *configured = configured_boot_status(gw, gw_ocpp_conn_id(c));
        if (strcmp(configured, "Accepted") != 0) {
            const char *t = gw_ocpp_conn_triggered(c);
            if (!t || strcmp(t, action) != 0) {
                snprintf(description, sizeof description,
                         "the central system has not accepted this station (%s)", configured);
                refuse(c, f->id, "SecurityError", description, NULL, text, len);
                return;
            }
            triggered = true;
        }
    }

    /* the frame is kept only where the job may turn it into a violation: a 2.0.1 CALL whose
     * station never had a boot accepted (call_job) */
    bool boot_check = gv == GW_OCPP201 && !boot_status && !triggered;
    struct gw_call *k = calloc(1, sizeof *k);
    if (!k || (boot_check && !(k->frame = frame_cut(text, len)))) {
        free(k);
        send_error(c, f->id, "InternalError", "out of memory", NULL);
        return;
    }
    gw_ocpp_conn_ref(c);
    k->conn = c;
    k->version = gv;
    const char *eid = gw_ocpp_conn_id(c);
    size_t eid_len = strnlen(eid, sizeof k->equipment_id - 1);
    memcpy(k->equipment_id, eid, eid_len); /* calloc'd: terminated */
    memcpy(k->id, f->id, sizeof k->id);
    k->action = action;
    k->store = gv == GW_OCPP201 ? gw_ocpp201_store(action) : gw_ocpp16_store(action);
    k->boot_status = boot_status;
    k->triggered = triggered;
    k->req = json_incref(f->payload);
    k->at = db_now();
    k->rx_us = gw_ocpp_conn_rx_us(c);
    /* the last contact: a boot's job writes it, so that a booted pile has one at its answer;
     * any other CALL's goes with the next flush of last contacts (ocpp_seen.h) */
    k->seen = boot_status != NULL;
    if (k->seen)
        gw_ocpp_conn_set_seen_at(c, k->at);
    else
        gw_ocpp_conn_note_seen(c, k->at);
    if (json_object_get(f->payload, "meterValue") || json_object_get(f->payload, "transactionData"))
        k->meter_keep = gw_ocpp_conn_add_samples(c) % GW_METER_PRUNE_EVERY == 0
                            ? gw->cfg->ocpp_meter_values_keep
                            : 0;
    /* Nothing for the writer to do (not a boot, an action that stores nothing, no boot to
     * look up): answered at once rather than after an empty commit. A 1.6 Heartbeat is one.
     * Not while a conformance run watches the pile: it judges the order of the frames, and a
     * CALL sent right behind one answered at once would reach it after that answer, hiding
     * the overlap that frames.one-call-outstanding is there to find. */
    if (!k->seen && !boot_check && !k->store && !gw_conform_watching(gw->conform, c)) {
        call_done(k, 0);
        return;
    }
    int rc = gw->writer ? gw_writer_submit(gw->writer, call_job, call_done, k) : -ESHUTDOWN;
    if (rc != 0) {
        log_warn("gateway", "ocpp_call_refused_by_writer", "equipment_id=%s action=%s rc=%d",
                 log_q(k->equipment_id), log_q(action), rc);
        send_error(c, k->id, "InternalError", "the central system is overloaded, retry later",
                   NULL);
        if (k->seen)
            gw_ocpp_conn_set_seen_at(c, 0);
        call_free(k);
    }
}

void gw_ocpp_on_frame(struct gw_ocpp_conn *c, const char *text, size_t len)
{
    struct gw_server *gw = gw_ocpp_conn_server(c);
    enum gw_ocpp_version gv = gw_ocpp_conn_version(c);
    gw_conform_frame(gw->conform, c, true, text, len); /* a run watching the pile sees it first */
    struct ocpp_frame f = {0};
    struct ocpp_error err = {0};
    if (ocpp_frame_parse(proto_version(gv), text, len, &f, &err) != 0) {
        gw_metrics_ocpp_message(gw->metrics, (int)gv, "invalid");
        char *answer = ocpp_build_error_for(proto_version(gv), &err);
        gw_metrics_ocpp_error(gw->metrics, err.code);
        send_text(c, answer);
        gw_ocpp_violation(c, err.code, err.path, err.reason, text, len);
        return;
    }
    switch (f.type) {
    case OCPP_CALL:
        on_call(c, &f, text, len);
        break;
    case OCPP_CALLRESULT:
        gw_metrics_ocpp_message(gw->metrics, (int)gv, "CALLRESULT");
        if (!gw_commands_on_answer(c, &f, text, len))
            log_debug("gateway", "ocpp_result_ignored", "equipment_id=%s id=%s",
                      log_q(gw_ocpp_conn_id(c)), log_q(f.id));
        break;
    case OCPP_CALLERROR:
        gw_metrics_ocpp_message(gw->metrics, (int)gv, "CALLERROR");
        if (!gw_commands_on_answer(c, &f, text, len))
            log_debug("gateway", "ocpp_error_ignored", "equipment_id=%s id=%s code=%s",
                      log_q(gw_ocpp_conn_id(c)), log_q(f.id), log_q(f.error_code));
        break;
    }
    ocpp_frame_clear(&f);
}
