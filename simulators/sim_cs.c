/* evsim-pile's side of the central system's operations: every CALL the central system sends
 * gets a CALLRESULT its response schema accepts (checked here with ocpp_validate) or a CALLERROR,
 * and the ones that matter act on the pile: remote start and stop, Reset, configuration (1.6
 * keys, 2.0.1 variables: sim_config.c), TriggerMessage, UnlockConnector, ChangeAvailability;
 * --scenario conform's faulty checks change some answers (sim_conform.c). The answer goes
 * out at once, also while the pile's own CALL is outstanding (one per direction, OCPP-J); the
 * messages an operation causes are queued behind it (sim_scenario.c sends them). */
#include "simulators/sim.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *status(const char *s)
{
    return json_pack("{s:s}", "status", s);
}

static bool is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The integer member `key` of obj (validated requests only), or `absent`. */
static long int_of(const json_t *obj, const char *key, long absent)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? (long)json_number_value(v) : absent;
}

/* --- transactions ------------------------------------------------------------------------ */

static bool connector_free(const struct sim_opts *o, const struct pile *p, long c)
{
    return p->booted && !p->reset && !p->in_tx && !p->tx_pending && c >= 1 && c <= o->connectors &&
           !(p->unavailable & (1u | 1u << c));
}

/* Conform: the answer to a remote start where it differs from the usual one (NULL: the usual
 * one). */
static json_t *remote_start_conform(const struct sim_opts *o, const struct pile *p, long c)
{
    if (c < 1 || c > o->connectors)
        return sim_faulty(o, F_REMOTE_START_UNKNOWN) ? status("Accepted") : NULL;
    bool busy = p->in_tx || p->tx_pending;
    if (busy)
        return sim_faulty(o, F_REMOTE_START_BUSY) ? status("Accepted") : NULL;
    return sim_faulty(o, F_REMOTE_START) && connector_free(o, p, c) ? status("Rejected") : NULL;
}

/* 1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction: one transaction per pile. */
static json_t *remote_start(const struct sim_opts *o, struct pile *p, const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    long c = int_of(req, v16 ? "connectorId" : "evseId", 1);
    const json_t *token = v16 ? NULL : json_object_get(req, "idToken");
    const char *tag =
        json_string_value(v16 ? json_object_get(req, "idTag") : json_object_get(token, "idToken"));
    uint8_t tag_type = 0;
    const char *type = json_string_value(json_object_get(token, "type"));
    for (int i = 0; i < SIM_TOKEN_TYPES; i++)
        if (is(sim_token_types[i], type))
            tag_type = (uint8_t)i;
    json_t *r = p->cf ? remote_start_conform(o, p, c) : NULL;
    if (r)
        return r;
    if (!connector_free(o, p, c))
        return status("Rejected");
    char *copy = strdup(tag ? tag : "");
    if (!copy)
        return status("Rejected");
    free(p->tag);
    p->tag = copy;
    p->tag_type = tag_type;
    p->remote_start_id = (int32_t)int_of(req, "remoteStartId", 0);
    p->tx_remote = 1;
    sim_start_tx(o, p, (int)c);
    return status("Accepted");
}

/* 1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction: the running transaction's id only.
 * Conform: a stop of an unknown transaction at the idle pile (remote.stop-unknown) is the
 * person's cue to present the card. */
static json_t *remote_stop(const struct sim_opts *o, struct pile *p, const json_t *req,
                           int64_t now_ms)
{
    const json_t *id = json_object_get(req, "transactionId");
    bool ours;
    if (o->version == OCPP_V16) {
        ours = json_number_value(id) == (double)p->tx_id;
    } else {
        char ref[SIM_ID_MAX + 16];
        sim_tx_ref(p, ref, sizeof ref);
        ours = is(json_string_value(id), ref);
    }
    /* 2.0.1: the pile names its transaction, so it is ours from the Started on, answered or not */
    bool started =
        p->in_tx || (o->version == OCPP_V201 &&
                     (sim_queued(p, A_TX_START) || (p->out_seq && p->out_action == A_TX_START)));
    if (!started || !ours) {
        if (p->cf && !p->in_tx && !p->tx_pending && !p->cf->card_at_ms)
            p->cf->card_at_ms = now_ms + 1000;
        return status(sim_faulty(o, F_REMOTE_STOP_UNKNOWN) ? "Accepted" : "Rejected");
    }
    /* remote.stop faulty: the transaction ends, but as if the card had ended it */
    sim_stop_tx(o, p, sim_faulty(o, F_REMOTE_STOP) ? STOP_LOCAL : STOP_REMOTE);
    return status("Accepted");
}

static json_t *reset(const struct sim_opts *o, struct pile *p, const json_t *req, int64_t now_ms)
{
    const char *type = json_string_value(json_object_get(req, "type"));
    bool busy = p->in_tx || p->tx_pending;
    const char *answer = "Accepted";
    if (p->cf && !json_object_get(req, "evseId")) {
        /* conform: the first hard reset is boot.first-message's, the next ones reset.hard's */
        bool hard = is(type, o->version == OCPP_V16 ? "Hard" : "Immediate");
        if (hard && p->cf->hard_resets < UINT8_MAX && ++p->cf->hard_resets == 1)
            p->cf->reboot_faults = 1;
        if (hard ? sim_faulty(o, F_RESET_HARD) && p->cf->hard_resets > 1
                 : sim_faulty(o, F_RESET_SOFT))
            return status("Rejected");
    }
    if (o->version == OCPP_V16) {
        p->reset = is(type, "Hard") ? RESET_HARD : RESET_SOFT;
    } else if (json_object_get(req, "evseId")) {
        return status("Rejected"); /* the whole station resets, not one EVSE */
    } else if (is(type, "OnIdle")) {
        if (p->reset != RESET_HARD)
            p->reset = RESET_ON_IDLE;
        answer = busy ? "Scheduled" : "Accepted";
    } else {
        p->reset = RESET_HARD; /* Immediate */
    }
    if (!p->in_tx)
        p->next_step_ms = now_ms + SIM_RESET_DELAY_MS;
    return status(answer);
}

/* --- the other operations ---------------------------------------------------------------- */

/* Conform: whether --faulty-check answers TriggerMessage `m` Accepted and sends nothing (2.0.1
 * BootNotification: see trigger_message). */
static bool trigger_faulty(const struct sim_opts *o, const char *m)
{
    static const struct {
        const char *m;
        enum sim_fault f;
    } t[] = {{"BootNotification", F_TRIG_BOOT},
             {"Heartbeat", F_TRIG_HEARTBEAT},
             {"StatusNotification", F_TRIG_STATUS},
             {"MeterValues", F_TRIG_METER},
             {"DiagnosticsStatusNotification", F_TRIG_DIAG},
             {"FirmwareStatusNotification", F_TRIG_FW},
             {"TransactionEvent", F_TRIG_TX}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (is(t[i].m, m))
            return sim_faulty(o, t[i].f) && (t[i].f != F_TRIG_BOOT || o->version == OCPP_V16);
    return false;
}

static json_t *trigger_message(const struct sim_opts *o, struct pile *p, const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    const char *m = json_string_value(json_object_get(req, "requestedMessage"));
    long c = v16 ? int_of(req, "connectorId", -1) : int_of(json_object_get(req, "evse"), "id", -1);
    if (c > o->connectors)
        return status(sim_faulty(o, F_TRIG_UNKNOWN) ? "Accepted" : "Rejected");
    if (!v16 && is(m, "BootNotification")) {
        /* F06.FR.17: once accepted, Rejected; conform --faulty-check trigger.boot-notification
         * accepts and boots again (reason Triggered) */
        if (p->booted && !sim_faulty(o, F_TRIG_BOOT))
            return status("Rejected");
        if (p->cf)
            p->cf->boot_triggered = 1;
    }
    if (trigger_faulty(o, m))
        return status("Accepted");
    if (is(m, "BootNotification")) {
        if (!sim_queued(p, A_BOOT))
            sim_enqueue(p, A_BOOT);
    } else if (p->cf && v16 && is(m, "DiagnosticsStatusNotification")) {
        sim_enqueue(p, A_DIAG_STATUS);
    } else if (p->cf && v16 && is(m, "FirmwareStatusNotification")) {
        sim_enqueue(p, A_FW_STATUS);
    } else if (is(m, "Heartbeat")) {
        if (!sim_queued(p, A_HEARTBEAT))
            sim_enqueue(p, A_HEARTBEAT);
    } else if (is(m, "StatusNotification")) {
        if (c > 0 || (v16 && c == 0))
            sim_statuses(p, (int)c, (int)c);
        else
            sim_statuses(p, v16 ? 0 : 1, o->connectors);
    } else if (is(m, "MeterValues")) {
        if (p->cf)
            p->cf->meter_connector = (uint8_t)(c > 0 ? c : 0);
        if (!sim_queued(p, A_METER))
            sim_enqueue(p, A_METER);
    } else if (!v16 && is(m, "TransactionEvent")) {
        if (!p->in_tx)
            return status("Rejected");
        sim_enqueue(p, A_TX_TRIGGER);
    } else {
        return status("NotImplemented");
    }
    return status("Accepted");
}

/* Unlocked for every connector there is; the transaction, if any, goes on (the cable is the
 * EV's to pull; a simulator has none). */
static json_t *unlock_connector(const struct sim_opts *o, const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    long c = int_of(req, v16 ? "connectorId" : "evseId", -1);
    if (c < 1 || c > o->connectors || (!v16 && int_of(req, "connectorId", -1) != 1))
        return status(sim_faulty(o, F_UNLOCK_UNKNOWN) ? "Unlocked"
                      : v16                           ? "NotSupported"
                                                      : "UnknownConnector");
    return status(sim_faulty(o, F_UNLOCK) ? "UnlockFailed" : "Unlocked");
}

/* Connector 0 (2.0.1: no evse) is the whole pile. Inoperative while its transaction runs takes
 * effect when it ends (Scheduled). */
static json_t *change_availability(const struct sim_opts *o, struct pile *p, const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    long c = v16 ? int_of(req, "connectorId", -1) : int_of(json_object_get(req, "evse"), "id", 0);
    const char *type = json_string_value(json_object_get(req, v16 ? "type" : "operationalStatus"));
    if (c < 0 || c > o->connectors)
        return status("Rejected");
    if (is(type, "Inoperative") && sim_faulty(o, F_AVAIL_INOP))
        return status("Accepted"); /* faulty: nothing changes, nothing is reported */
    uint8_t sched_bit = c == 0 ? 1 : 2;
    bool tx_here = (p->in_tx || p->tx_pending) && (c == 0 || c == p->tx_connector);
    if (is(type, "Inoperative")) {
        if (tx_here) {
            p->avail_sched |= sched_bit;
            return status("Scheduled");
        }
        p->unavailable |= 1u << c;
    } else {
        p->unavailable &= ~(1u << c);
        if (c == 0 || c == p->tx_connector)
            p->avail_sched &= (uint8_t)~sched_bit;
    }
    if (is(type, "Operative") && sim_faulty(o, F_AVAIL_OP))
        return status("Accepted"); /* faulty: available again, but not reported */
    if (c == 0)
        sim_statuses(p, v16 ? 0 : 1, o->connectors);
    else
        sim_statuses(p, (int)c, (int)c);
    return status("Accepted");
}

/* The answer to a valid CALL, NULL when the simulator does not do the action. */
static json_t *answer(const struct sim_opts *o, struct pile *p, const char *action,
                      const json_t *req, int64_t now_ms, bool *hold)
{
    bool v16 = o->version == OCPP_V16;
    if (is(action, v16 ? "RemoteStartTransaction" : "RequestStartTransaction"))
        return remote_start(o, p, req);
    if (is(action, v16 ? "RemoteStopTransaction" : "RequestStopTransaction"))
        return remote_stop(o, p, req, now_ms);
    if (is(action, "Reset"))
        return reset(o, p, req, now_ms);
    if (v16 && is(action, "GetConfiguration"))
        return sim_config_get(o, p, req);
    if (v16 && is(action, "ChangeConfiguration"))
        return sim_config_change(o, p, req, now_ms, hold);
    if (!v16 && is(action, "GetVariables"))
        return sim_variables(o, p, req, false, now_ms, hold);
    if (!v16 && is(action, "SetVariables"))
        return sim_variables(o, p, req, true, now_ms, hold);
    if (is(action, "TriggerMessage"))
        return trigger_message(o, p, req);
    if (is(action, "UnlockConnector"))
        return unlock_connector(o, req);
    if (is(action, "ChangeAvailability"))
        return change_availability(o, p, req);
    if (is(action, "ClearCache")) {
        if (p->cf)
            p->cf->frames_due = 1; /* the frames.* faults go out now, where no check minds */
        return status(sim_faulty(o, F_CACHE) ? "Rejected" : "Accepted");
    }
    if (is(action, "DataTransfer"))
        return status("UnknownVendorId");
    return NULL;
}

static void send_text(struct pile *p, char *text)
{
    if (text)
        sim_send(p, text, strlen(text));
    free(text);
}

void sim_on_cs_call(const struct sim_opts *o, struct pile *p, const struct ocpp_frame *f,
                    int64_t now_ms)
{
    g_stats.cs_calls++;
    struct ocpp_error err;
    memset(&err, 0, sizeof err);
    snprintf(err.id, sizeof err.id, "%s", f->id);
    if (ocpp_validate(o->version, f->action, OCPP_REQUEST, f->payload, &err) != 0) {
        if (err.fail == OCPP_F_UNKNOWN_ACTION && sim_faulty(o, F_UNSUPPORTED)) {
            json_t *empty = json_object(); /* call.unsupported-action faulty */
            send_text(p, ocpp_build_result(f->id, empty));
            json_decref(empty);
            sim_stats_cs_call(o->version, f->action, true);
            return;
        }
        /* an unknown action is NotImplemented, a bad payload its schema's code */
        if (err.fail == OCPP_F_UNKNOWN_ACTION)
            g_stats.cs_calls_unsupported++;
        sim_stats_cs_call(o->version, f->action, false);
        send_text(p, ocpp_build_error_for(o->version, &err));
        return;
    }
    if (is(f->action, "DataTransfer") && sim_faulty(o, F_DATATRANSFER)) {
        sim_stats_cs_call(o->version, f->action, false);
        send_text(p, ocpp_build_error(f->id, "GenericError", "faulty: datatransfer.unknown-vendor",
                                      NULL));
        return;
    }
    bool hold = false;
    json_t *r = answer(o, p, f->action, f->payload, now_ms, &hold);
    if (!r) {
        g_stats.cs_calls_unsupported++;
        sim_stats_cs_call(o->version, f->action, false);
        send_text(p, ocpp_build_error(f->id, "NotSupported", "not simulated by evsim-pile", NULL));
        return;
    }
    if (ocpp_validate(o->version, f->action, OCPP_RESPONSE, r, &err) != 0 &&
        g_stats.invalid_sent++ < 5)
        fprintf(stderr, "evsim-pile: bug: own %s answer invalid at %s: %s\n", f->action, err.path,
                err.reason);
    if (hold && p->cf) {
        char *text = ocpp_build_result(f->id, r);
        if (text)
            sim_cf_hold(o, p, text, now_ms); /* frames.answers-in-time faulty */
    } else {
        send_text(p, ocpp_build_result(f->id, r));
    }
    json_decref(r);
    g_stats.cs_calls_answered++;
    sim_stats_cs_call(o->version, f->action, true);
}
