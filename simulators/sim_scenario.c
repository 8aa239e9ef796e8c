/* What a simulated charge point says: BootNotification, Heartbeat, status, the charging session
 * with meter values, the faulty frames, for OCPP 1.6J and 2.0.1, and the transaction and Reset
 * steps the central system's operations (sim_cs.c) set going. One CALL outstanding per pile, the
 * rest queued as action codes (a byte each) and built only when they go out. Payloads come from
 * protocol/ocpp; in builds without NDEBUG every one we send is checked with ocpp_validate(). */
#include "simulators/sim.h"
#include "simulators/sim_load.h"

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

void sim_enqueue(struct pile *p, enum sim_action a)
{
    if (p->q_len == SIM_CALLQ_MAX)
        return; /* the gateway is not answering; a full queue of the same work adds nothing */
    p->q[(p->q_head + p->q_len) % SIM_CALLQ_MAX] = (uint8_t)a;
    p->q_len++;
}

bool sim_queued(const struct pile *p, enum sim_action a)
{
    for (int i = 0; i < p->q_len; i++)
        if (p->q[(p->q_head + i) % SIM_CALLQ_MAX] == a)
            return true;
    return p->out_seq && p->out_action == a;
}

static void id_tag(const struct pile *p, char *buf, size_t len)
{
    if (p->tag)
        snprintf(buf, len, "%s", p->tag);
    else
        snprintf(buf, len, "EVSIM%08X", p->index);
}

const char *const sim_token_types[SIM_TOKEN_TYPES] = {"ISO14443",   "Central",        "eMAID",
                                                      "ISO15693",   "KeyCode",        "Local",
                                                      "MacAddress", "NoAuthorization"};

void sim_tx_ref(const struct pile *p, char *buf, size_t len)
{
    /* transactionId is at most 36 characters: the EquipmentID when it leaves room */
    if (strlen(p->id) + 11 <= OCPP_ID_MAX)
        snprintf(buf, len, "%s-%u", p->id, p->tx_id);
    else
        snprintf(buf, len, "EVSIM%08X-%u", p->index, p->tx_id);
}

int sim_meter_interval(const struct sim_opts *o, const struct pile *p)
{
    return p->meter_s ? p->meter_s : o->meter_interval_s;
}

static json_t *meter_value_16(uint32_t wh, const char *ts, const char *context)
{
    char v[16];
    snprintf(v, sizeof v, "%u", wh);
    return json_pack("[{s:s, s:[{s:s, s:s, s:s, s:s}]}]", "timestamp", ts, "sampledValue", "value",
                     v, "context", context, "measurand", "Energy.Active.Import.Register", "unit",
                     "Wh");
}

static json_t *meter_value_201(uint32_t wh, const char *ts, const char *context)
{
    return json_pack("[{s:s, s:[{s:I, s:s, s:s, s:{s:s}}]}]", "timestamp", ts, "sampledValue",
                     "value", (json_int_t)wh, "context", context, "measurand",
                     "Energy.Active.Import.Register", "unitOfMeasure", "unit", "Wh");
}

/* The status a connector reports now (one transaction per pile, on p->tx_connector). */
static const char *connector_status(const struct sim_opts *o, const struct pile *p, int c)
{
    if (c && c == p->tx_connector && (p->in_tx || p->tx_pending))
        return o->version == OCPP_V201 ? "Occupied" : p->in_tx ? "Charging" : "Preparing";
    if (p->unavailable & (1u | 1u << c))
        return "Unavailable";
    return "Available";
}

/* A stop's 1.6 reason, 2.0.1 triggerReason and stoppedReason, by enum sim_stop. */
static const char *const stop_16[] = {"Local", "Remote", "HardReset", "SoftReset"};
static const char *const stop_trigger[] = {"StopAuthorized", "RemoteStop", "ResetCommand",
                                           "ResetCommand"};
static const char *const stop_201[] = {"Local", "Remote", "ImmediateReset", "ImmediateReset"};

/* The meter reading a transaction ends with (conform, tx.local-stop faulty: below the card
 * session's start). */
static uint32_t stop_reading(const struct sim_opts *o, const struct pile *p)
{
    if (p->cf && p->cf->card_session && sim_faulty(o, F_TX_STOP) && p->cf->meter_start > 0)
        return p->cf->meter_start - 1;
    return p->meter_wh;
}

/* Builds the payload of `a` for p; sets *action. Caller frees. */
static json_t *payload_of(const struct sim_opts *o, struct pile *p, int a, const char **action,
                          int connector)
{
    char ts[40], tag[40], ref[SIM_ID_MAX + 16];
    now_iso(ts, sizeof ts);
    id_tag(p, tag, sizeof tag);
    sim_tx_ref(p, ref, sizeof ref);
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
        const char *reason = p->reboot ? "RemoteReset" : "PowerUp";
        if (p->cf && p->cf->boot_triggered)
            reason = "Triggered";
        if (p->cf)
            p->cf->boot_triggered = 0;
        return json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "reason", reason, "chargingStation",
                         "model", "evsim-pile", "vendorName", "evgate", "serialNumber", serial,
                         "firmwareVersion", "evsim-1.0");
    }
    case A_HEARTBEAT:
        *action = "Heartbeat";
        return json_object();
    case A_STATUS:
        *action = "StatusNotification";
        if (v16 && p->cf && p->cf->finishing && p->cf->finishing == connector) {
            /* conform: after a stop, Finishing first, then the connector's status */
            p->cf->finishing = 0;
            sim_statuses(p, connector, connector);
            return json_pack("{s:i, s:s, s:s, s:s}", "connectorId", connector, "errorCode",
                             "NoError", "status", "Finishing", "timestamp", ts);
        }
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
        return json_pack("{s:i, s:s, s:I, s:s}", "connectorId", p->tx_connector, "idTag", tag,
                         "meterStart", (json_int_t)p->meter_wh, "timestamp", ts);
    case A_METER: {
        /* 1.6: the transaction's periodic sample; 2.0.1 (only on a TriggerMessage) and 1.6
         * without a transaction: the main meter (conform: the connector asked for), context
         * Trigger */
        *action = "MeterValues";
        int idle_connector = p->cf ? p->cf->meter_connector : 0;
        if (v16 && p->in_tx)
            return json_pack("{s:i, s:I, s:o}", "connectorId", p->tx_connector, "transactionId",
                             (json_int_t)p->tx_id, "meterValue",
                             meter_value_16(p->meter_wh, ts, "Sample.Periodic"));
        if (v16)
            return json_pack("{s:i, s:o}", "connectorId", idle_connector, "meterValue",
                             meter_value_16(p->meter_wh, ts, "Trigger"));
        return json_pack("{s:i, s:o}", "evseId", p->in_tx ? p->tx_connector : idle_connector,
                         "meterValue", meter_value_201(p->meter_wh, ts, "Trigger"));
    }
    case A_STOP_TX:
        *action = "StopTransaction";
        return json_pack("{s:s, s:I, s:s, s:I, s:s}", "idTag", tag, "meterStop",
                         (json_int_t)stop_reading(o, p), "timestamp", ts, "transactionId",
                         (json_int_t)p->tx_id, "reason", stop_16[p->stop_reason]);
    case A_DIAG_STATUS:
        *action = "DiagnosticsStatusNotification";
        return json_pack("{s:s}", "status", "Idle");
    case A_FW_STATUS:
        *action = "FirmwareStatusNotification";
        return json_pack("{s:s}", "status", "Idle");
    case A_TX_START:
    case A_TX_UPDATE:
    case A_TX_TRIGGER:
    case A_TX_END: {
        *action = "TransactionEvent";
        static const char *const ev[] = {"Started", "Updated", "Ended"};
        static const char *const ctx[] = {"Transaction.Begin", "Sample.Periodic",
                                          "Transaction.End"};
        int k = a == A_TX_TRIGGER ? 1 : a - A_TX_START;
        const char *why = k == 0              ? (p->tx_remote ? "RemoteStart" : "Authorized")
                          : a == A_TX_TRIGGER ? "Trigger"
                          : k == 1            ? "MeterValuePeriodic"
                                              : stop_trigger[p->stop_reason];
        if (k == 2 && p->tx_remote && sim_faulty(o, F_TX_SEQ))
            p->tx_seq++; /* tx.event-sequence faulty: a gap before the Ended event */
        json_t *info = json_pack("{s:s, s:s}", "transactionId", ref, "chargingState",
                                 k == 2 ? "EVConnected" : "Charging");
        if (k == 2)
            json_object_set_new(info, "stoppedReason", json_string(stop_201[p->stop_reason]));
        if (k == 0 && p->tx_remote)
            json_object_set_new(info, "remoteStartId", json_integer(p->remote_start_id));
        json_t *pl = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "eventType", ev[k], "timestamp",
                               ts, "triggerReason", why, "seqNo", (json_int_t)p->tx_seq++,
                               "transactionInfo", info, "meterValue",
                               meter_value_201(k == 2 ? stop_reading(o, p) : p->meter_wh, ts,
                                               a == A_TX_TRIGGER ? "Trigger" : ctx[k]));
        /* the faulty card sessions (sim_conform.c) carry the idToken only in their Ended */
        if (k == 2 || (k == 0 && !sim_cf_quick_session(o, p)))
            json_object_set_new(pl, "idToken",
                                json_pack("{s:s, s:s}", "idToken", tag, "type",
                                          sim_token_types[p->tag_type % SIM_TOKEN_TYPES]));
        if (k == 0)
            json_object_set_new(pl, "evse",
                                json_pack("{s:i, s:i}", "id", p->tx_connector, "connectorId", 1));
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
    case A_CF_BAD_SCHEMA:
        *action = "Heartbeat";
        return json_pack("{s:s}", "evgateFaulty", "frames.schema-valid");
    default: /* A_F_LONG_ID, A_F_MALFORMED, A_CF_*: the payload is a valid Heartbeat's */
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
    if (a == A_CF_OVERLAP) {
        /* frames.one-call-outstanding faulty: an untracked Heartbeat right before this one */
        char first[48];
        if (!++p->msg_seq)
            p->msg_seq = 1;
        id_text(p->msg_seq, A_HEARTBEAT, first, sizeof first);
        char *t = ocpp_build_call(first, "Heartbeat", payload);
        if (t)
            sim_send(p, t, strlen(t));
        free(t);
    }
    /* frames.unique-ids faulty: the uniqueId of the CALL before */
    uint32_t seq = a == A_CF_REUSED_ID && p->msg_seq ? p->msg_seq : ++p->msg_seq;
    if (!seq)
        seq = p->msg_seq = 1;
    if (a == A_HEARTBEAT && p->cf && p->cf->hb_since_change < UINT8_MAX)
        p->cf->hb_since_change++;
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
        return;
    }
    if (o->scenario == SC_LOAD)
        sim_load_idle(o, p, now_ms);
}

void sim_statuses(struct pile *p, int first, int last)
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

void sim_start_tx(const struct sim_opts *o, struct pile *p, int connector)
{
    p->tx_pending = 1;
    p->tx_connector = (uint8_t)connector;
    if (o->version == OCPP_V201) {
        /* our own transactionId: distinct across sessions and, mostly, across runs */
        uint32_t t = (uint32_t)time(NULL);
        p->tx_id = t > p->tx_id ? t : p->tx_id + 1;
        p->tx_seq = 0; /* Started is 0, each event after it one more */
    }
    sim_statuses(p, connector, connector); /* Preparing (2.0.1: Occupied) */
    sim_enqueue(p, o->version == OCPP_V16 ? A_START_TX : A_TX_START);
}

void sim_stop_tx(const struct sim_opts *o, struct pile *p, enum sim_stop why)
{
    enum sim_action a = o->version == OCPP_V16 ? A_STOP_TX : A_TX_END;
    if (sim_queued(p, a))
        return;
    p->stop_reason = (uint8_t)why;
    sim_enqueue(p, a);
    if (o->scenario != SC_FAULTY)
        p->next_step_ms = 0; /* no meter value after the stop */
}

/* The transaction has ended (answered, refused or lost): forget it, apply a Scheduled
 * ChangeAvailability. */
static void tx_ended(const struct sim_opts *o, struct pile *p)
{
    p->in_tx = p->tx_pending = 0;
    p->tx_remote = 0;
    free(p->tag);
    p->tag = NULL;
    p->tag_type = 0;
    if (p->avail_sched & 1)
        p->unavailable |= 1;
    if (p->avail_sched & 2)
        p->unavailable |= 1u << p->tx_connector;
    if (p->avail_sched & 1)
        sim_statuses(p, o->version == OCPP_V16 ? 0 : 1, o->connectors);
    else
        sim_statuses(p, p->tx_connector, p->tx_connector);
    p->avail_sched = 0;
}

/* The answer (or its absence: ok < 0 timeout, ok == 0 CALLERROR) to p's outstanding CALL. */
static void on_result(const struct sim_opts *o, struct pile *p, int a, int ok,
                      const json_t *payload, int64_t now_ms)
{
    switch (a) {
    case A_BOOT: {
        bool again = p->booted; /* a BootNotification a TriggerMessage asked for */
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
            if (again)
                break;
            sim_statuses(p, o->version == OCPP_V16 ? 0 : 1, sim_cf_boot_last(o, p));
            if (o->scenario == SC_CHARGE)
                p->next_step_ms = now_ms + 1000 + random() % 2000;
        } else if (again) {
            break; /* still booted: a triggered boot's answer changes nothing */
        } else {
            g_stats.boots_other++;
            int retry = o->heartbeat_override_s ? o->heartbeat_override_s
                        : iv > 0                ? (int)iv
                                                : BOOT_RETRY_S;
            if (o->scenario == SC_IDLE || o->scenario == SC_CHARGE || o->scenario == SC_CONFORM ||
                o->scenario == SC_LOAD)
                p->next_step_ms = now_ms + retry * 1000LL;
        }
        if (o->scenario == SC_FAULTY)
            p->next_step_ms = now_ms;
        break;
    }
    case A_AUTHORIZE:
        if (p->cf) {
            const json_t *info =
                json_object_get(payload, o->version == OCPP_V16 ? "idTagInfo" : "idTokenInfo");
            const char *st = ok > 0 ? json_string_value(json_object_get(info, "status")) : NULL;
            sim_cf_authorized(o, p, st && strcmp(st, "Accepted") == 0, now_ms);
        } else if (p->reset)
            p->tx_pending = 0; /* going down: no new session */
        else
            sim_start_tx(o, p, 1);
        break;
    case A_START_TX:
    case A_TX_START:
        p->in_tx = 1;
        p->tx_pending = 0;
        if (a == A_START_TX && ok > 0)
            p->tx_id = (uint32_t)json_number_value(json_object_get(payload, "transactionId"));
        else if (a == A_START_TX)
            p->tx_id = p->sessions + 1; /* refused: keep the load going with our own number */
        p->tx_started_ms = now_ms;
        g_stats.transactions++;
        sim_statuses(p, p->tx_connector, p->tx_connector);
        if (o->scenario != SC_FAULTY)
            p->next_step_ms = now_ms + sim_meter_interval(o, p) * 1000LL;
        break;
    case A_STOP_TX:
    case A_TX_END:
        tx_ended(o, p);
        if (p->cf)
            sim_cf_tx_ended(o, p, now_ms);
        p->sessions++;
        if (p->reset)
            p->next_step_ms = now_ms + SIM_RESET_DELAY_MS;
        else if (o->scenario == SC_CHARGE)
            p->next_step_ms = now_ms + CHARGE_PAUSE_MS;
        break;
    default:
        if (a >= A_FAULTY_FIRST && a <= A_FAULTY_LAST) {
            p->faulty_step = (uint8_t)((p->faulty_step + 1) % (A_FAULTY_LAST + 1 - A_FAULTY_FIRST));
            p->next_step_ms = now_ms + (p->faulty_step ? FAULTY_GAP_MS : FAULTY_CYCLE_MS);
        }
        break;
    }
}

void sim_on_open(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    p->booted = p->boot_done = p->in_tx = p->tx_pending = 0;
    p->reset = 0;
    p->out_seq = 0;
    p->q_len = p->q_head = 0;
    p->faulty_step = 0;
    p->load_ready = p->load_out = p->load_owed = 0;
    p->next_heartbeat_ms = p->next_step_ms = 0;
    no_statuses(p);
    if (p->tx_id == 0)
        p->tx_id = 1;
    if (p->cf)
        sim_cf_on_open(o, p);
    sim_enqueue(p, A_BOOT);
    dispatch(o, p, now_ms); /* the BootNotification, its reason from p->reboot */
    p->reboot = 0;
}

void sim_on_close(struct pile *p)
{
    sim_load_closed(p);
    if (p->out_seq && sim_run_over())
        g_stats.in_flight[p->out_action]++;
    else if (p->out_seq)
        g_stats.timed_out[p->out_action]++; /* lost with the connection */
    p->out_seq = 0;
    p->q_len = 0;
    p->in_tx = p->tx_pending = p->tx_remote = 0;
    p->avail_sched = 0;
    p->reset = 0; /* p->reboot stays: sim_conn.c reads it next */
    free(p->tag);
    p->tag = NULL;
    no_statuses(p);
}

/* A Reset being carried out: stop the transaction (but OnIdle), then go down once nothing is
 * left to send. Returns true when the scenario's own steps are to wait. */
static bool reset_step(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    if (p->in_tx && p->reset == RESET_ON_IDLE)
        return false; /* the transaction goes on, with its meter values, until it ends */
    if (p->in_tx) {
        sim_stop_tx(o, p, p->reset == RESET_HARD ? STOP_HARD_RESET : STOP_SOFT_RESET);
        return true;
    }
    if (!p->tx_pending && !p->out_seq && !p->q_len && p->status_next > p->status_end &&
        now_ms >= p->next_step_ms) {
        p->reboot = 1;
        sim_close(p);
    }
    return true;
}

void sim_on_tick(const struct sim_opts *o, struct pile *p, int64_t now_ms)
{
    if (p->out_seq && now_ms >= p->out_deadline_ms) {
        int a = p->out_action;
        g_stats.timed_out[a]++;
        if (p->load_out)
            sim_load_timeout(p);
        p->out_seq = 0;
        on_result(o, p, a, -1, NULL, now_ms);
    }
    if (p->booted && p->next_heartbeat_ms && now_ms >= p->next_heartbeat_ms) {
        if (!sim_queued(p, A_HEARTBEAT))
            sim_enqueue(p, A_HEARTBEAT);
        p->next_heartbeat_ms = now_ms + p->hb_interval_s * 1000LL;
    }
    if (p->cf)
        sim_cf_tick(o, p, now_ms);
    if (p->reset && reset_step(o, p, now_ms)) {
        dispatch(o, p, now_ms);
        return;
    }
    if (p->next_step_ms && now_ms >= p->next_step_ms) {
        p->next_step_ms = 0;
        if (o->scenario == SC_FAULTY && p->boot_done) {
            sim_enqueue(p, A_FAULTY_FIRST + p->faulty_step);
        } else if (!p->booted) {
            if (!sim_queued(p, A_BOOT))
                sim_enqueue(p, A_BOOT);
        } else if (o->scenario == SC_CHARGE && !p->in_tx && !p->tx_pending) {
            if (p->unavailable & 3) { /* Inoperative: try again later */
                p->next_step_ms = now_ms + CHARGE_PAUSE_MS;
            } else {
                p->tx_pending = 1;
                p->tx_connector = 1;
                sim_enqueue(p, A_AUTHORIZE);
            }
        } else if (p->in_tx) {
            int every = sim_meter_interval(o, p);
            /* a session the pile began lasts --session; a remote one until it is stopped */
            if (!p->tx_remote && now_ms - p->tx_started_ms >= o->session_s * 1000LL) {
                sim_stop_tx(o, p, STOP_LOCAL);
            } else {
                p->meter_wh += (uint32_t)(SAMPLE_POWER_W * (int64_t)every / 3600);
                if (!(p->cf && p->cf->card_session && sim_faulty(o, F_TX_METER)))
                    sim_enqueue(p, o->version == OCPP_V16 ? A_METER : A_TX_UPDATE);
                p->next_step_ms = now_ms + every * 1000LL;
            }
        }
    }
    dispatch(o, p, now_ms);
    /* boot: one BootNotification (and the statuses) per connection, then hang up */
    if (o->scenario == SC_BOOT && p->boot_done && !p->out_seq && !p->q_len &&
        p->status_next > p->status_end)
        sim_close(p);
}

/* The action name an answer to `a` is validated against. */
static const char *result_action(const struct sim_opts *o, int a)
{
    if (a >= A_FAULTY_FIRST)
        return NULL;
    static const char *const n[] = {
        [A_BOOT] = "BootNotification",
        [A_HEARTBEAT] = "Heartbeat",
        [A_STATUS] = "StatusNotification",
        [A_AUTHORIZE] = "Authorize",
        [A_START_TX] = "StartTransaction",
        [A_STOP_TX] = "StopTransaction",
        [A_METER] = "MeterValues",
        [A_TX_START] = "TransactionEvent",
        [A_TX_UPDATE] = "TransactionEvent",
        [A_TX_END] = "TransactionEvent",
        [A_TX_TRIGGER] = "TransactionEvent",
        [A_DIAG_STATUS] = "DiagnosticsStatusNotification",
        [A_FW_STATUS] = "FirmwareStatusNotification",
    };
    (void)o;
    return n[a];
}

void sim_on_message(const struct sim_opts *o, struct pile *p, const char *text, size_t len)
{
    if (p->load_out && p->out_seq) {
        /* --scenario load: its answers matched by prefix, no JSON parsing */
        enum sim_load_rx r = sim_load_on_message(p, text, len);
        if (r == SIM_LOAD_ANSWERED)
            dispatch(o, p, sim_now_ms());
        if (r != SIM_LOAD_CALL)
            return;
    }
    struct ocpp_frame f;
    struct ocpp_error err;
    if (ocpp_frame_parse(o->version, text, len, &f, &err) != 0) {
        g_stats.received_bad++;
        return;
    }
    int64_t now_ms = sim_now_ms();
    if (f.type == OCPP_CALL) {
        sim_on_cs_call(o, p, &f, now_ms);
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
