/* What a simulated charge point says and answers: BootNotification, Heartbeat, status, the
 * charging session with meter values, the faulty frames, and valid answers to the central
 * system's CALLs, for OCPP 1.6J and 2.0.1. One CALL outstanding per pile, the rest queued as
 * action codes (a byte each) and built only when they go out. Payloads come from
 * protocol/ocpp; in builds without NDEBUG every one we send is checked with ocpp_validate(). */
#include "simulators/sim.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define BOOT_RETRY_S    10 /* after a refused or failed BootNotification */
#define FAULTY_GAP_MS   200
#define FAULTY_CYCLE_MS 5000
#define CHARGE_PAUSE_MS 5000
#define SAMPLE_POWER_W  22000 /* the energy the meter gains per hour of charging */

static void now_iso(char *buf, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

/* The uniqueId text of CALL number `seq` (the 37-character one for that faulty frame). */
static void id_text(uint32_t seq, int action, char *buf, size_t len)
{
    if (action == A_F_LONG_ID)
        snprintf(buf, len, "%037u", seq);
    else
        snprintf(buf, len, "%u", seq);
}

static void enqueue(struct pile *p, enum sim_action a)
{
    if (p->q_len == SIM_CALLQ_MAX)
        return; /* the gateway is not answering; a full queue of the same work adds nothing */
    p->q[(p->q_head + p->q_len) % SIM_CALLQ_MAX] = (uint8_t)a;
    p->q_len++;
}

static bool queued(const struct pile *p, enum sim_action a)
{
    for (int i = 0; i < p->q_len; i++)
        if (p->q[(p->q_head + i) % SIM_CALLQ_MAX] == a)
            return true;
    return p->out_seq && p->out_action == a;
}

static void id_tag(const struct pile *p, char *buf, size_t len)
{
    snprintf(buf, len, "EVSIM%08X", p->index);
}

static void tx_ref(const struct pile *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%u", p->id, p->tx_id);
}

static json_t *meter_value_16(const struct pile *p, const char *ts)
{
    char v[16];
    snprintf(v, sizeof v, "%u", p->meter_wh);
    return json_pack("[{s:s, s:[{s:s, s:s, s:s, s:s}]}]", "timestamp", ts, "sampledValue", "value",
                     v, "context", "Sample.Periodic", "measurand", "Energy.Active.Import.Register",
                     "unit", "Wh");
}

static json_t *meter_value_201(const struct pile *p, const char *ts, const char *context)
{
    return json_pack("[{s:s, s:[{s:I, s:s, s:s, s:{s:s}}]}]", "timestamp", ts, "sampledValue",
                     "value", (json_int_t)p->meter_wh, "context", context, "measurand",
                     "Energy.Active.Import.Register", "unitOfMeasure", "unit", "Wh");
}

/* The status a connector reports now (connector 1 carries the transaction). */
static const char *connector_status(const struct sim_opts *o, const struct pile *p, int c)
{
    if (c == 1 && p->in_tx)
        return o->version == OCPP_V16 ? "Charging" : "Occupied";
    return "Available";
}

/* Builds the payload of `a` for p; sets *action. Caller frees. */
static json_t *payload_of(const struct sim_opts *o, struct pile *p, int a, const char **action,
                          int connector)
{
    char ts[40], tag[24], ref[SIM_ID_MAX + 16];
    now_iso(ts, sizeof ts);
    id_tag(p, tag, sizeof tag);
    tx_ref(p, ref, sizeof ref);
    bool v16 = o->version == OCPP_V16;
    switch (a) {
    case A_BOOT: {
        *action = "BootNotification";
        char serial[24];
        snprintf(serial, sizeof serial, "SN%08u", p->index);
        if (v16)
            return json_pack("{s:s, s:s, s:s, s:s}", "chargePointVendor", "evgate",
                             "chargePointModel", "evsim-pile", "chargePointSerialNumber", serial,
                             "firmwareVersion", "evsim-1.0");
        return json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "reason", "PowerUp", "chargingStation",
                         "model", "evsim-pile", "vendorName", "evgate", "serialNumber", serial,
                         "firmwareVersion", "evsim-1.0");
    }
    case A_HEARTBEAT:
        *action = "Heartbeat";
        return json_object();
    case A_STATUS:
        *action = "StatusNotification";
        if (v16)
            return json_pack("{s:i, s:s, s:s, s:s}", "connectorId", connector, "errorCode",
                             "NoError", "status", connector_status(o, p, connector), "timestamp",
                             ts);
        return json_pack("{s:s, s:s, s:i, s:i}", "timestamp", ts, "connectorStatus",
                         connector_status(o, p, connector), "evseId", connector, "connectorId", 1);
    case A_AUTHORIZE:
        *action = "Authorize";
        if (v16)
            return json_pack("{s:s}", "idTag", tag);
        return json_pack("{s:{s:s, s:s}}", "idToken", "idToken", tag, "type", "ISO14443");
    case A_START_TX:
        *action = "StartTransaction";
        return json_pack("{s:i, s:s, s:I, s:s}", "connectorId", 1, "idTag", tag, "meterStart",
                         (json_int_t)p->meter_wh, "timestamp", ts);
    case A_METER:
        *action = "MeterValues";
        return json_pack("{s:i, s:I, s:o}", "connectorId", 1, "transactionId", (json_int_t)p->tx_id,
                         "meterValue", meter_value_16(p, ts));
    case A_STOP_TX:
        *action = "StopTransaction";
        return json_pack("{s:s, s:I, s:s, s:I, s:s}", "idTag", tag, "meterStop",
                         (json_int_t)p->meter_wh, "timestamp", ts, "transactionId",
                         (json_int_t)p->tx_id, "reason", "Local");
    case A_TX_START:
    case A_TX_UPDATE:
    case A_TX_END: {
        *action = "TransactionEvent";
        static const char *const ev[] = {"Started", "Updated", "Ended"};
        static const char *const why[] = {"Authorized", "MeterValuePeriodic", "StopAuthorized"};
        static const char *const ctx[] = {"Transaction.Begin", "Sample.Periodic",
                                          "Transaction.End"};
        int k = a - A_TX_START;
        json_t *info = json_pack("{s:s, s:s}", "transactionId", ref, "chargingState",
                                 k == 2 ? "EVConnected" : "Charging");
        if (k == 2)
            json_object_set_new(info, "stoppedReason", json_string("Local"));
        json_t *pl =
            json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "eventType", ev[k], "timestamp", ts,
                      "triggerReason", why[k], "seqNo", (json_int_t)p->tx_seq++, "transactionInfo",
                      info, "meterValue", meter_value_201(p, ts, ctx[k]));
        if (k != 1)
            json_object_set_new(pl, "idToken",
                                json_pack("{s:s, s:s}", "idToken", tag, "type", "ISO14443"));
        if (k == 0)
            json_object_set_new(pl, "evse", json_pack("{s:i, s:i}", "id", 1, "connectorId", 1));
        return pl;
    }
    case A_F_UNKNOWN_ACTION:
        *action = "FlyToTheMoon";
        return json_object();
    case A_F_MISSING_REQUIRED:
        *action = "StatusNotification";
        if (v16)
            return json_pack("{s:i, s:s}", "connectorId", 1, "errorCode", "NoError");
        return json_pack("{s:s, s:s, s:i}", "timestamp", ts, "connectorStatus", "Available",
                         "evseId", 1);
    case A_F_WRONG_TYPE:
        *action = "StatusNotification";
        if (v16)
            return json_pack("{s:s, s:s, s:s}", "connectorId", "one", "errorCode", "NoError",
                             "status", "Available");
        return json_pack("{s:s, s:s, s:s, s:i}", "timestamp", ts, "connectorStatus", "Available",
                         "evseId", "one", "connectorId", 1);
    default: /* A_F_LONG_ID, A_F_MALFORMED: the payload is a valid Heartbeat's */
        *action = "Heartbeat";
        return json_object();
    }
}

static void send_call(const struct sim_opts *o, struct pile *p, int a, int connector,
                      int64_t now_ms)
{
    const char *action = NULL;
    json_t *payload = payload_of(o, p, a, &action, connector);
    if (!payload)
        return;
#ifndef NDEBUG
    struct ocpp_error err;
    if (a < A_FAULTY_FIRST && ocpp_validate(o->version, action, OCPP_REQUEST, payload, &err) != 0) {
        if (g_stats.invalid_sent++ < 5)
            fprintf(stderr, "evsim-pile: bug: own %s invalid at %s: %s\n", action, err.path,
                    err.reason);
    }
#endif
    uint32_t seq = ++p->msg_seq;
    if (!seq)
        seq = p->msg_seq = 1;
    char id[48];
    id_text(seq, a, id, sizeof id);
    char *text;
    if (a == A_F_LONG_ID) {
        text = malloc(80);
        if (text)
            snprintf(text, 80, "[2,\"%s\",\"Heartbeat\",{}]", id);
    } else if (a == A_F_MALFORMED) {
        text = malloc(80);
        if (text)
            snprintf(text, 80, "[2,\"%s\",\"Heartbeat\",{", id);
    } else {
        text = ocpp_build_call(id, action, payload);
    }
    json_decref(payload);
    if (!text || sim_send(p, text, strlen(text)) != 0) {
        free(text);
        return;
    }
    free(text);
    p->out_seq = seq;
    p->out_action = (uint8_t)a;
    p->out_sent_us = sim_now_us();
    p->out_deadline_ms =
        now_ms + (a >= A_FAULTY_FIRST ? SIM_FAULTY_TIMEOUT_S : o->call_timeout_s) * 1000LL;
    g_stats.sent[a]++;
}

/* Sends the next CALL when none is outstanding: the connectors' statuses first, then the
 * queue in order. */
static void dispatch(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    if (p->out_seq)
        return;
    if (p->status_next <= p->status_end) {
        send_call(o, p, A_STATUS, p->status_next++, now_ms);
        return;
    }
    if (p->q_len) {
        int a = p->q[p->q_head];
        p->q_head = (uint8_t)((p->q_head + 1) % SIM_CALLQ_MAX);
        p->q_len--;
        send_call(o, p, a, 0, now_ms);
    }
}

static void statuses(const struct sim_opts *o, struct pile *p, int first, int last)
{
    if (p->status_next > p->status_end) {
        p->status_next = (uint16_t)first;
        p->status_end = (uint16_t)last;
    } else {
        if (first < p->status_next)
            p->status_next = (uint16_t)first;
        if (last > p->status_end)
            p->status_end = (uint16_t)last;
    }
}

static void no_statuses(struct pile *p)
{
    p->status_next = 1;
    p->status_end = 0;
}

static void start_session(const struct sim_opts *o, struct pile *p)
{
    p->tx_pending = 1;
    enqueue(p, o->version == OCPP_V16 ? A_START_TX : A_TX_START);
}

/* The answer (or its absence: ok < 0 timeout, ok == 0 CALLERROR) to p's outstanding CALL. */
static void on_result(const struct sim_opts *o, struct pile *p, int a, int ok,
                      const json_t *payload, int64_t now_ms)
{
    switch (a) {
    case A_BOOT: {
        p->boot_done = 1;
        const char *st = ok > 0 ? json_string_value(json_object_get(payload, "status")) : NULL;
        json_int_t iv =
            ok > 0 ? (json_int_t)json_number_value(json_object_get(payload, "interval")) : 0;
        if (st && strcmp(st, "Accepted") == 0) {
            g_stats.boots_accepted++;
            p->booted = 1;
            p->hb_interval_s = (uint32_t)(o->heartbeat_override_s ? o->heartbeat_override_s
                                          : iv > 0                ? iv
                                                                  : 300);
            p->next_heartbeat_ms = now_ms + p->hb_interval_s * 1000LL;
            statuses(o, p, o->version == OCPP_V16 ? 0 : 1, o->connectors);
            if (o->scenario == SC_CHARGE)
                p->next_step_ms = now_ms + 1000 + random() % 2000;
        } else {
            g_stats.boots_other++;
            int retry = o->heartbeat_override_s ? o->heartbeat_override_s
                        : iv > 0                ? (int)iv
                                                : BOOT_RETRY_S;
            if (o->scenario == SC_IDLE || o->scenario == SC_CHARGE)
                p->next_step_ms = now_ms + retry * 1000LL;
        }
        if (o->scenario == SC_FAULTY)
            p->next_step_ms = now_ms;
        break;
    }
    case A_AUTHORIZE:
        start_session(o, p);
        break;
    case A_START_TX:
    case A_TX_START:
        p->in_tx = 1;
        p->tx_pending = 0;
        p->tx_seq = a == A_TX_START ? 1 : p->tx_seq;
        if (a == A_START_TX && ok > 0)
            p->tx_id = (uint32_t)json_number_value(json_object_get(payload, "transactionId"));
        else if (a == A_START_TX)
            p->tx_id = p->sessions + 1; /* refused: keep the load going with our own number */
        p->tx_started_ms = now_ms;
        g_stats.transactions++;
        statuses(o, p, 1, 1);
        p->next_step_ms = now_ms + o->meter_interval_s * 1000LL;
        break;
    case A_STOP_TX:
    case A_TX_END:
        p->in_tx = 0;
        p->sessions++;
        statuses(o, p, 1, 1);
        if (o->scenario == SC_CHARGE)
            p->next_step_ms = now_ms + CHARGE_PAUSE_MS;
        break;
    default:
        if (a >= A_FAULTY_FIRST) {
            p->faulty_step = (uint8_t)((p->faulty_step + 1) % (A_COUNT - A_FAULTY_FIRST));
            p->next_step_ms = now_ms + (p->faulty_step ? FAULTY_GAP_MS : FAULTY_CYCLE_MS);
        }
        break;
    }
}

void sim_on_open(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    p->booted = p->boot_done = p->in_tx = p->tx_pending = 0;
    p->out_seq = 0;
    p->q_len = p->q_head = 0;
    p->faulty_step = 0;
    p->next_heartbeat_ms = p->next_step_ms = 0;
    no_statuses(p);
    if (p->tx_id == 0)
        p->tx_id = 1;
    enqueue(p, A_BOOT);
    dispatch(o, p, now_ms);
}

void sim_on_close(struct pile *p)
{
    if (p->out_seq && sim_run_over())
        g_stats.in_flight[p->out_action]++;
    else if (p->out_seq)
        g_stats.timed_out[p->out_action]++; /* lost with the connection */
    p->out_seq = 0;
    p->q_len = 0;
    p->in_tx = p->tx_pending = 0;
    no_statuses(p);
}

void sim_on_tick(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    if (p->out_seq && now_ms >= p->out_deadline_ms) {
        int a = p->out_action;
        g_stats.timed_out[a]++;
        p->out_seq = 0;
        on_result(o, p, a, -1, NULL, now_ms);
    }
    if (p->booted && p->next_heartbeat_ms && now_ms >= p->next_heartbeat_ms) {
        if (!queued(p, A_HEARTBEAT))
            enqueue(p, A_HEARTBEAT);
        p->next_heartbeat_ms = now_ms + p->hb_interval_s * 1000LL;
    }
    if (p->next_step_ms && now_ms >= p->next_step_ms) {
        p->next_step_ms = 0;
        if (o->scenario == SC_FAULTY && p->boot_done) {
            enqueue(p, A_FAULTY_FIRST + p->faulty_step);
        } else if (!p->booted) {
            if (!queued(p, A_BOOT))
                enqueue(p, A_BOOT);
        } else if (o->scenario == SC_CHARGE && !p->in_tx && !p->tx_pending) {
            p->tx_pending = 1;
            enqueue(p, A_AUTHORIZE);
        } else if (p->in_tx) {
            bool v16 = o->version == OCPP_V16;
            if (now_ms - p->tx_started_ms >= o->session_s * 1000LL) {
                enqueue(p, v16 ? A_STOP_TX : A_TX_END);
            } else {
                p->meter_wh += (uint32_t)(SAMPLE_POWER_W * (int64_t)o->meter_interval_s / 3600);
                enqueue(p, v16 ? A_METER : A_TX_UPDATE);
                p->next_step_ms = now_ms + o->meter_interval_s * 1000LL;
            }
        }
    }
    dispatch(o, p, now_ms);
    /* boot: one BootNotification (and the statuses) per connection, then hang up */
    if (o->scenario == SC_BOOT && p->boot_done && !p->out_seq && !p->q_len &&
        p->status_next > p->status_end)
        sim_close(p);
}

/* --- the central system's CALLs ---------------------------------------------------------- */

static json_t *answer_get_configuration(const struct sim_opts *o, const struct pile *p,
                                        const json_t *req)
{
    char hb[16], nc[16], mi[16];
    snprintf(hb, sizeof hb, "%u", p->hb_interval_s);
    snprintf(nc, sizeof nc, "%d", o->connectors);
    snprintf(mi, sizeof mi, "%d", o->meter_interval_s);
    const char *keys[] = {"HeartbeatInterval", "NumberOfConnectors", "MeterValueSampleInterval"};
    const char *vals[] = {hb, nc, mi};
    json_t *known = json_array(), *unknown = json_array();
    const json_t *want = json_object_get(req, "key");
    for (int i = 0; i < 3; i++) {
        bool asked = !json_array_size(want);
        size_t j;
        json_t *k;
        json_array_foreach(want, j, k) asked |= strcmp(json_string_value(k), keys[i]) == 0;
        if (asked)
            json_array_append_new(known, json_pack("{s:s, s:b, s:s}", "key", keys[i], "readonly",
                                                   i != 0, "value", vals[i]));
    }
    size_t j;
    json_t *k;
    json_array_foreach(want, j, k)
    {
        bool found = false;
        for (int i = 0; i < 3; i++)
            found |= strcmp(json_string_value(k), keys[i]) == 0;
        if (!found)
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

static bool is_heartbeat_variable(const json_t *item)
{
    const char *c = json_string_value(json_object_get(json_object_get(item, "component"), "name"));
    const char *v = json_string_value(json_object_get(json_object_get(item, "variable"), "name"));
    return c && v && strcmp(c, "OCPPCommCtrlr") == 0 && strcmp(v, "HeartbeatInterval") == 0;
}

static json_t *answer_variables(struct pile *p, const json_t *req, bool set)
{
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(req, set ? "setVariableData" : "getVariableData"), i, item)
    {
        bool hb = is_heartbeat_variable(item);
        json_t *r = json_pack("{s:s, s:O, s:O}", "attributeStatus",
                              hb    ? "Accepted"
                              : set ? "Rejected"
                                    : "UnknownVariable",
                              "component", json_object_get(item, "component"), "variable",
                              json_object_get(item, "variable"));
        if (hb && !set) {
            char v[16];
            snprintf(v, sizeof v, "%u", p->hb_interval_s);
            json_object_set_new(r, "attributeValue", json_string(v));
        }
        if (hb && set) {
            long n = atol(json_string_value(json_object_get(item, "attributeValue")));
            if (n > 0)
                p->hb_interval_s = (uint32_t)n;
        }
        json_array_append_new(out, r);
    }
    return json_pack("{s:o}", set ? "setVariableResult" : "getVariableResult", out);
}

static json_t *status(const char *s)
{
    return json_pack("{s:s}", "status", s);
}

/* The answer to a CS CALL whose request is valid; NULL when the simulator does not do it. */
static json_t *answer_call(const struct sim_opts *o, struct pile *p, const char *action,
                           const json_t *req)
{
    bool v16 = o->version == OCPP_V16;
    if (strcmp(action, "Reset") == 0) {
        /* a reboot without the socket going away: boot again */
        p->booted = 0;
        if (!queued(p, A_BOOT))
            enqueue(p, A_BOOT);
        return status("Accepted");
    }
    if (strcmp(action, v16 ? "RemoteStartTransaction" : "RequestStartTransaction") == 0) {
        if (p->in_tx || p->tx_pending || !p->booted)
            return status("Rejected");
        start_session(o, p);
        return status("Accepted");
    }
    if (strcmp(action, v16 ? "RemoteStopTransaction" : "RequestStopTransaction") == 0) {
        char ref[SIM_ID_MAX + 16];
        tx_ref(p, ref, sizeof ref);
        const json_t *id = json_object_get(req, "transactionId");
        bool ours = v16 ? json_number_value(id) == (double)p->tx_id
                        : strcmp(json_string_value(id), ref) == 0;
        if (!p->in_tx || !ours)
            return status("Rejected");
        enqueue(p, v16 ? A_STOP_TX : A_TX_END);
        p->next_step_ms = 0;
        return status("Accepted");
    }
    if (v16 && strcmp(action, "GetConfiguration") == 0)
        return answer_get_configuration(o, p, req);
    if (v16 && strcmp(action, "ChangeConfiguration") == 0) {
        const char *k = json_string_value(json_object_get(req, "key"));
        if (strcmp(k, "HeartbeatInterval") == 0) {
            long n = atol(json_string_value(json_object_get(req, "value")));
            if (n <= 0)
                return status("Rejected");
            p->hb_interval_s = (uint32_t)n;
            return status("Accepted");
        }
        return status("NotSupported");
    }
    if (!v16 && strcmp(action, "GetVariables") == 0)
        return answer_variables(p, req, false);
    if (!v16 && strcmp(action, "SetVariables") == 0)
        return answer_variables(p, req, true);
    if (strcmp(action, "TriggerMessage") == 0) {
        const char *m = json_string_value(json_object_get(req, "requestedMessage"));
        if (strcmp(m, "BootNotification") == 0)
            enqueue(p, A_BOOT);
        else if (strcmp(m, "Heartbeat") == 0)
            enqueue(p, A_HEARTBEAT);
        else if (strcmp(m, "StatusNotification") == 0)
            statuses(o, p, v16 ? 0 : 1, o->connectors);
        else if (strcmp(m, "MeterValues") == 0 && v16 && p->in_tx)
            enqueue(p, A_METER);
        else
            return status("NotImplemented");
        return status("Accepted");
    }
    if (strcmp(action, "UnlockConnector") == 0)
        return status("Unlocked");
    if (strcmp(action, "ChangeAvailability") == 0 || strcmp(action, "ClearCache") == 0 ||
        strcmp(action, "DataTransfer") == 0)
        return status("Accepted");
    return NULL;
}

static void send_text(struct pile *p, char *text)
{
    if (text)
        sim_send(p, text, strlen(text));
    free(text);
}

static void on_cs_call(const struct sim_opts *o, struct pile *p, const struct ocpp_frame *f)
{
    g_stats.cs_calls++;
    struct ocpp_error err;
    memset(&err, 0, sizeof err);
    snprintf(err.id, sizeof err.id, "%s", f->id);
    if (ocpp_validate(o->version, f->action, OCPP_REQUEST, f->payload, &err) != 0) {
        send_text(p, ocpp_build_error_for(o->version, &err));
        return;
    }
    json_t *r = answer_call(o, p, f->action, f->payload);
    if (!r) {
        g_stats.cs_calls_unsupported++;
        send_text(p, ocpp_build_error(f->id, "NotSupported", "not simulated by evsim-pile", NULL));
        return;
    }
#ifndef NDEBUG
    if (ocpp_validate(o->version, f->action, OCPP_RESPONSE, r, &err) != 0 &&
        g_stats.invalid_sent++ < 5)
        fprintf(stderr, "evsim-pile: bug: own %s answer invalid at %s: %s\n", f->action, err.path,
                err.reason);
#endif
    send_text(p, ocpp_build_result(f->id, r));
    json_decref(r);
    g_stats.cs_calls_answered++;
}

/* The action name an answer to `a` is validated against. */
static const char *result_action(const struct sim_opts *o, int a)
{
    if (a >= A_FAULTY_FIRST)
        return NULL;
    static const char *const n[] = {
        [A_BOOT] = "BootNotification",      [A_HEARTBEAT] = "Heartbeat",
        [A_STATUS] = "StatusNotification",  [A_AUTHORIZE] = "Authorize",
        [A_START_TX] = "StartTransaction",  [A_STOP_TX] = "StopTransaction",
        [A_METER] = "MeterValues",          [A_TX_START] = "TransactionEvent",
        [A_TX_UPDATE] = "TransactionEvent", [A_TX_END] = "TransactionEvent",
    };
    (void)o;
    return n[a];
}

void sim_on_message(const struct sim_opts *o, struct pile *p, const char *text, size_t len)
{
    struct ocpp_frame f;
    struct ocpp_error err;
    if (ocpp_frame_parse(o->version, text, len, &f, &err) != 0) {
        g_stats.received_bad++;
        return;
    }
    int64_t now_ms = sim_now_ms();
    if (f.type == OCPP_CALL) {
        on_cs_call(o, p, &f);
        ocpp_frame_clear(&f);
        dispatch(o, p, now_ms);
        return;
    }
    char want[48];
    int a = p->out_action;
    id_text(p->out_seq, a, want, sizeof want);
    bool match =
        p->out_seq && (strcmp(f.id, want) == 0 || (a >= A_FAULTY_FIRST && strcmp(f.id, "-1") == 0));
    if (!match) {
        g_stats.unmatched++;
        ocpp_frame_clear(&f);
        return;
    }
    sim_stats_latency(sim_now_us() - p->out_sent_us);
    p->out_seq = 0;
    int ok;
    if (f.type == OCPP_CALLRESULT) {
        g_stats.answered[a]++;
        const char *ra = result_action(o, a);
        if (ra && ocpp_validate(o->version, ra, OCPP_RESPONSE, f.payload, &err) != 0 &&
            g_stats.invalid_answers++ < 5)
            fprintf(stderr, "evsim-pile: %s: invalid %s answer at %s: %s\n", p->id, ra, err.path,
                    err.reason);
        ok = 1;
    } else {
        g_stats.errored[a]++;
        sim_stats_error_code(f.error_code);
        ok = 0;
    }
    on_result(o, p, a, ok, f.payload, now_ms);
    ocpp_frame_clear(&f);
    dispatch(o, p, now_ms);
}
