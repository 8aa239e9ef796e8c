/* evsim-pile's side of the central system's operations: every CALL the central system sends
 * gets a CALLRESULT its response schema accepts (checked here with ocpp_validate) or a CALLERROR,
 * and the ones that matter act on the pile: remote start and stop, Reset, configuration (1.6
 * keys, 2.0.1 variables), TriggerMessage, UnlockConnector, ChangeAvailability. The answer goes
 * out at once, also while the pile's own CALL is outstanding (one per direction, OCPP-J); the
 * messages an operation causes are queued behind it (sim_scenario.c sends them). */
#include "simulators/sim.h"

#include <jansson.h>

#include <errno.h>
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

/* A whole decimal in lo..hi, else -1. */
static long number_in(const char *s, long lo, long hi)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || v < lo || v > hi ? -1 : v;
}

/* --- settings: the same few as 1.6 configuration keys and as 2.0.1 variables ------------- */

enum setting {
    S_HEARTBEAT,
    S_METER,
    S_CONNECTORS,
    S_MEASURANDS,
    S_PROFILES,
    S_AUTH_REMOTE,
    S_IDENTITY,
    S_AVAILABILITY,
    S_COUNT
};

static const struct setting_def {
    const char *key;                  /* 1.6 configuration key; NULL: not in 1.6 */
    const char *component, *variable; /* 2.0.1; NULL: not in 2.0.1 */
    bool writable;
} settings[S_COUNT] = {
    [S_HEARTBEAT] = {"HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", true},
    [S_METER] = {"MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", true},
    [S_CONNECTORS] = {"NumberOfConnectors", NULL, NULL, false},
    [S_MEASURANDS] = {"MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", false},
    [S_PROFILES] = {"SupportedFeatureProfiles", NULL, NULL, false},
    [S_AUTH_REMOTE] = {"AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", false},
    [S_IDENTITY] = {NULL, "SecurityCtrlr", "Identity", false},
    [S_AVAILABILITY] = {NULL, "ChargingStation", "AvailabilityState", false},
};

static void setting_value(const struct sim_opts *o, const struct pile *p, enum setting s, char *buf,
                          size_t len)
{
    switch (s) {
    case S_HEARTBEAT:
        snprintf(buf, len, "%u",
                 p->hb_interval_s ? p->hb_interval_s : (unsigned)o->heartbeat_override_s);
        break;
    case S_METER:
        snprintf(buf, len, "%d", sim_meter_interval(o, p));
        break;
    case S_CONNECTORS:
        snprintf(buf, len, "%d", o->connectors);
        break;
    case S_MEASURANDS:
        snprintf(buf, len, "Energy.Active.Import.Register");
        break;
    case S_PROFILES:
        snprintf(buf, len, "Core,RemoteTrigger");
        break;
    case S_AUTH_REMOTE:
        snprintf(buf, len, "false"); /* a remote start begins without an Authorize */
        break;
    case S_IDENTITY:
        snprintf(buf, len, "%s", p->id);
        break;
    default:
        snprintf(buf, len, "%s", p->unavailable & 1 ? "Unavailable" : "Available");
        break;
    }
}

/* Applies `value` to the writable setting s: 0, or -1 when the value is refused. */
static int setting_set(struct pile *p, enum setting s, const char *value, int64_t now_ms)
{
    long v;
    switch (s) {
    case S_HEARTBEAT:
        if ((v = number_in(value, 1, 86400)) < 0)
            return -1;
        p->hb_interval_s = (uint32_t)v;
        if (p->booted)
            p->next_heartbeat_ms = now_ms + v * 1000;
        return 0;
    case S_METER:
        if ((v = number_in(value, 1, 3600)) < 0)
            return -1;
        p->meter_s = (uint16_t)v;
        return 0;
    default:
        return -1;
    }
}

static int setting_by_key(const char *key)
{
    for (int s = 0; s < S_COUNT; s++)
        if (is(settings[s].key, key))
            return s;
    return -1;
}

static json_t *config_key(const struct sim_opts *o, const struct pile *p, enum setting s)
{
    char v[SIM_ID_MAX + 16];
    setting_value(o, p, s, v, sizeof v);
    return json_pack("{s:s, s:b, s:s}", "key", settings[s].key, "readonly", !settings[s].writable,
                     "value", v);
}

/* 1.6 GetConfiguration: the asked keys (all of ours when none is asked), unknownKey the rest. */
static json_t *get_configuration(const struct sim_opts *o, const struct pile *p, const json_t *req)
{
    json_t *known = json_array(), *unknown = json_array();
    const json_t *want = json_object_get(req, "key");
    size_t i;
    json_t *k;
    if (!json_array_size(want))
        for (int s = 0; s < S_COUNT; s++)
            if (settings[s].key)
                json_array_append_new(known, config_key(o, p, (enum setting)s));
    json_array_foreach(want, i, k)
    {
        int s = setting_by_key(json_string_value(k));
        if (s >= 0)
            json_array_append_new(known, config_key(o, p, (enum setting)s));
        else
            json_array_append(unknown, k);
    }
    json_t *r = json_object();
    if (json_array_size(known))
        json_object_set(r, "configurationKey", known);
    if (json_array_size(unknown))
        json_object_set(r, "unknownKey", unknown);
    json_decref(known);
    json_decref(unknown);
    return r;
}

static json_t *change_configuration(struct pile *p, const json_t *req, int64_t now_ms)
{
    int s = setting_by_key(json_string_value(json_object_get(req, "key")));
    if (s < 0)
        return status("NotSupported");
    if (!settings[s].writable ||
        setting_set(p, (enum setting)s, json_string_value(json_object_get(req, "value")), now_ms) <
            0)
        return status("Rejected");
    return status("Accepted");
}

/* 2.0.1 GetVariables / SetVariables: one result per item, component and variable echoed. */
static json_t *variables(const struct sim_opts *o, struct pile *p, const json_t *req, bool set,
                         int64_t now_ms)
{
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(req, set ? "setVariableData" : "getVariableData"), i, item)
    {
        const json_t *comp = json_object_get(item, "component");
        const json_t *var = json_object_get(item, "variable");
        const char *cn = json_string_value(json_object_get(comp, "name"));
        const char *vn = json_string_value(json_object_get(var, "name"));
        const char *type = json_string_value(json_object_get(item, "attributeType"));
        bool component_known = false;
        int s = -1;
        for (int k = 0; k < S_COUNT; k++) {
            component_known |= is(settings[k].component, cn);
            if (is(settings[k].component, cn) && is(settings[k].variable, vn))
                s = k;
        }
        const char *st;
        char v[SIM_ID_MAX + 16];
        if (!component_known)
            st = "UnknownComponent";
        else if (s < 0)
            st = "UnknownVariable";
        else if (type && !is(type, "Actual"))
            st = "NotSupportedAttributeType";
        else if (!set)
            st = "Accepted";
        else if (!settings[s].writable ||
                 setting_set(p, (enum setting)s,
                             json_string_value(json_object_get(item, "attributeValue")),
                             now_ms) < 0)
            st = "Rejected";
        else
            st = "Accepted";
        json_t *r =
            json_pack("{s:s, s:O, s:O}", "attributeStatus", st, "component", comp, "variable", var);
        if (type)
            json_object_set_new(r, "attributeType", json_string(type));
        if (!set && is(st, "Accepted")) {
            setting_value(o, p, (enum setting)s, v, sizeof v);
            json_object_set_new(r, "attributeValue", json_string(v));
        }
        json_array_append_new(out, r);
    }
    return json_pack("{s:o}", set ? "setVariableResult" : "getVariableResult", out);
}

/* --- transactions ------------------------------------------------------------------------ */

static bool connector_free(const struct sim_opts *o, const struct pile *p, long c)
{
    return p->booted && !p->reset && !p->in_tx && !p->tx_pending && c >= 1 && c <= o->connectors &&
           !(p->unavailable & (1u | 1u << c));
}

/* 1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction: one transaction per pile. */
static json_t *remote_start(const struct sim_opts *o, struct pile *p, const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    long c = int_of(req, v16 ? "connectorId" : "evseId", 1);
    if (!connector_free(o, p, c))
        return status("Rejected");
    const json_t *token = v16 ? NULL : json_object_get(req, "idToken");
    const char *tag =
        json_string_value(v16 ? json_object_get(req, "idTag") : json_object_get(token, "idToken"));
    char *copy = strdup(tag ? tag : "");
    if (!copy)
        return status("Rejected");
    free(p->tag);
    p->tag = copy;
    p->tag_type = 0;
    const char *type = json_string_value(json_object_get(token, "type"));
    for (int i = 0; i < SIM_TOKEN_TYPES; i++)
        if (is(sim_token_types[i], type))
            p->tag_type = (uint8_t)i;
    p->remote_start_id = (int32_t)int_of(req, "remoteStartId", 0);
    p->tx_remote = 1;
    sim_start_tx(o, p, (int)c);
    return status("Accepted");
}

/* 1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction: the running transaction's id only. */
static json_t *remote_stop(const struct sim_opts *o, struct pile *p, const json_t *req)
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
    if (!p->in_tx || !ours)
        return status("Rejected");
    sim_stop_tx(o, p, STOP_REMOTE);
    return status("Accepted");
}

static json_t *reset(const struct sim_opts *o, struct pile *p, const json_t *req, int64_t now_ms)
{
    const char *type = json_string_value(json_object_get(req, "type"));
    bool busy = p->in_tx || p->tx_pending;
    const char *answer = "Accepted";
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

static json_t *trigger_message(const struct sim_opts *o, struct pile *p, const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    const char *m = json_string_value(json_object_get(req, "requestedMessage"));
    long c = v16 ? int_of(req, "connectorId", -1) : int_of(json_object_get(req, "evse"), "id", -1);
    if (c > o->connectors)
        return status("Rejected");
    if (is(m, "BootNotification")) {
        if (!v16 && p->booted)
            return status("Rejected"); /* 2.0.1 F06.FR.17: already accepted */
        if (!sim_queued(p, A_BOOT))
            sim_enqueue(p, A_BOOT);
    } else if (is(m, "Heartbeat")) {
        if (!sim_queued(p, A_HEARTBEAT))
            sim_enqueue(p, A_HEARTBEAT);
    } else if (is(m, "StatusNotification")) {
        if (c > 0 || (v16 && c == 0))
            sim_statuses(p, (int)c, (int)c);
        else
            sim_statuses(p, v16 ? 0 : 1, o->connectors);
    } else if (is(m, "MeterValues")) {
        if (!sim_queued(p, A_METER))
            sim_enqueue(p, A_METER);
    } else if (!v16 && is(m, "TransactionEvent")) {
        if (!p->in_tx)
            return status("Rejected");
        sim_enqueue(p, A_TX_UPDATE);
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
        return status(v16 ? "NotSupported" : "UnknownConnector");
    return status("Unlocked");
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
    if (c == 0)
        sim_statuses(p, v16 ? 0 : 1, o->connectors);
    else
        sim_statuses(p, (int)c, (int)c);
    return status("Accepted");
}

/* The answer to a valid CALL, NULL when the simulator does not do the action. */
static json_t *answer(const struct sim_opts *o, struct pile *p, const char *action,
                      const json_t *req, int64_t now_ms)
{
    bool v16 = o->version == OCPP_V16;
    if (is(action, v16 ? "RemoteStartTransaction" : "RequestStartTransaction"))
        return remote_start(o, p, req);
    if (is(action, v16 ? "RemoteStopTransaction" : "RequestStopTransaction"))
        return remote_stop(o, p, req);
    if (is(action, "Reset"))
        return reset(o, p, req, now_ms);
    if (v16 && is(action, "GetConfiguration"))
        return get_configuration(o, p, req);
    if (v16 && is(action, "ChangeConfiguration"))
        return change_configuration(p, req, now_ms);
    if (!v16 && is(action, "GetVariables"))
        return variables(o, p, req, false, now_ms);
    if (!v16 && is(action, "SetVariables"))
        return variables(o, p, req, true, now_ms);
    if (is(action, "TriggerMessage"))
        return trigger_message(o, p, req);
    if (is(action, "UnlockConnector"))
        return unlock_connector(o, req);
    if (is(action, "ChangeAvailability"))
        return change_availability(o, p, req);
    if (is(action, "ClearCache"))
        return status("Accepted");
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
        /* an unknown action is NotImplemented, a bad payload its schema's code */
        if (err.fail == OCPP_F_UNKNOWN_ACTION)
            g_stats.cs_calls_unsupported++;
        sim_stats_cs_call(o->version, f->action, false);
        send_text(p, ocpp_build_error_for(o->version, &err));
        return;
    }
    json_t *r = answer(o, p, f->action, f->payload, now_ms);
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
    send_text(p, ocpp_build_result(f->id, r));
    json_decref(r);
    g_stats.cs_calls_answered++;
    sim_stats_cs_call(o->version, f->action, true);
}
