/* Plan ocpp201-core (protocol/plans_ocpp201.c, whose `what` of each check is its specification):
 * the table the engine runs, and the run-wide record of what the pile sent that the checks share
 * (conform_ocpp201_private.h says why). The checks are in conform_ocpp201_boot.c, _vars.c,
 * _calls.c and _tx.c; the frames.* ones are the engine's (conform_frames.c). */
#include "gateway/conform_ocpp201_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct cf201 *cf201_state(struct cf_run *r)
{
    return cf_state(r, sizeof(struct cf201));
}

const char *cf201_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

long long cf201_int(const json_t *o, const char *key, long long dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

int cf201_secs(int64_t from_ms, int64_t to_ms)
{
    return to_ms > from_ms ? (int)((to_ms - from_ms + 500) / 1000) : 0;
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* --- the record ------------------------------------------------------------------------------- */

static void reported(struct cf_run *r, struct cf201 *st, long long evse, const char *state)
{
    if (evse == 0)
        return; /* the station as a whole */
    if (evse < 0 || evse > cf_connectors(r)) {
        if (!st->bad_evse)
            st->bad_evse = evse > 0 && evse < 1000000 ? (int)evse : -1;
        return;
    }
    if (evse > CF201_EVSE_MAX)
        return;
    st->reported[evse] = true;
    copy(st->evse_state[evse], sizeof st->evse_state[evse], state);
    st->evse_n[evse] = st->calls;
}

/* NotifyEvent: each eventData item of variable AvailabilityState reports its EVSE's state. */
static void notify_event(struct cf_run *r, struct cf201 *st, const json_t *req)
{
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(req, "eventData"), i, d)
    {
        const char *var = cf201_str(json_object_get(d, "variable"), "name");
        const json_t *evse = json_object_get(json_object_get(d, "component"), "evse");
        if (var && !strcmp(var, "AvailabilityState") && evse)
            reported(r, st, cf201_int(evse, "id", 0), cf201_str(d, "actualValue"));
    }
}

/* The energy register readings of a TransactionEvent's meterValue, in Wh (the measurand is
 * Energy.Active.Import.Register when absent, the unit Wh; per-phase readings are left out). */
static void energy(struct cf201_event *e, const json_t *meter_values)
{
    size_t i, j;
    const json_t *mv, *sv;
    e->wh_first = e->wh_last = NAN;
    json_array_foreach(meter_values, i, mv)
    {
        json_array_foreach(json_object_get(mv, "sampledValue"), j, sv)
        {
            e->meter = true;
            const char *measurand = cf201_str(sv, "measurand");
            const json_t *unit = json_object_get(sv, "unitOfMeasure");
            const char *u = cf201_str(unit, "unit");
            const json_t *value = json_object_get(sv, "value");
            if ((measurand && strcmp(measurand, "Energy.Active.Import.Register")) ||
                json_object_get(sv, "phase") || !json_is_number(value))
                continue;
            double wh =
                json_number_value(value) * pow(10, (double)cf201_int(unit, "multiplier", 0));
            if (u && !strcmp(u, "kWh"))
                wh *= 1000;
            if (!isnan(e->wh_last) && wh < e->wh_last)
                e->wh_drops = true;
            if (isnan(e->wh_first))
                e->wh_first = wh;
            e->wh_last = wh;
        }
    }
}

static void tx_event(struct cf201 *st, const json_t *req)
{
    if (st->n_events == CF201_EVENTS_MAX) {
        st->events_dropped++;
        return;
    }
    struct cf201_event *e = &st->events[st->n_events++];
    const json_t *info = json_object_get(req, "transactionInfo");
    memset(e, 0, sizeof *e);
    copy(e->tx, sizeof e->tx, cf201_str(info, "transactionId"));
    copy(e->type, sizeof e->type, cf201_str(req, "eventType"));
    copy(e->trigger, sizeof e->trigger, cf201_str(req, "triggerReason"));
    copy(e->charging, sizeof e->charging, cf201_str(info, "chargingState"));
    copy(e->stopped, sizeof e->stopped, cf201_str(info, "stoppedReason"));
    copy(e->id_token, sizeof e->id_token, cf201_str(json_object_get(req, "idToken"), "idToken"));
    e->seq_no = cf201_int(req, "seqNo", -1);
    e->remote_start_id = cf201_int(info, "remoteStartId", -1);
    e->evse = (int)cf201_int(json_object_get(req, "evse"), "id", 0);
    energy(e, json_object_get(req, "meterValue"));
}

static void keep_ref(struct cf201 *st, struct cf201_ref *ref, const struct cf_msg *m)
{
    ref->set = true;
    copy(ref->unique_id, sizeof ref->unique_id, m->unique_id);
    ref->conn = m->conn;
    ref->at_ms = m->at_ms;
    ref->n = st->calls;
}

static void observe_one(struct cf_run *r, struct cf201 *st, const struct cf_msg *m)
{
    const char *a = m->action ? m->action : "";
    st->calls++;
    if (m->first_on_conn && m->conn > st->new_conn) {
        st->new_conn = m->conn;
        copy(st->new_conn_action, sizeof st->new_conn_action, a);
    }
    if (!strcmp(a, "BootNotification")) {
        st->boots++;
        keep_ref(st, &st->boot, m);
        memset(st->reported, 0, sizeof st->reported);
        st->bad_evse = 0;
    } else if (!strcmp(a, "StatusNotification")) {
        reported(r, st, cf201_int(m->payload, "evseId", 0),
                 cf201_str(m->payload, "connectorStatus"));
    } else if (!strcmp(a, "NotifyEvent")) {
        notify_event(r, st, m->payload);
    } else if (!strcmp(a, "Authorize")) {
        if (!st->authorizes++) {
            copy(st->card, sizeof st->card,
                 cf201_str(json_object_get(m->payload, "idToken"), "idToken"));
            st->events_before_auth = st->n_events;
        }
    } else if (!strcmp(a, "TransactionEvent")) {
        tx_event(st, m->payload);
        const char *type = cf201_str(m->payload, "eventType");
        if (type && !strcmp(type, "Ended"))
            keep_ref(st, &st->ended, m);
    }
}

void cf201_observe(struct cf_run *r, struct cf201 *st)
{
    size_t n = 0;
    const struct cf_msg *m = cf_messages(r, &n);
    if (st->observed_seq != cf_seq(r) || st->observed_n > n) {
        st->observed_seq = cf_seq(r);
        st->observed_n = 0;
    }
    for (size_t i = st->observed_n; i < n; i++)
        observe_one(r, st, &m[i]);
    st->observed_n = n;
}

enum cf_verdict cf201_wait(struct cf_run *r, struct cf201 *st,
                           bool (*done)(struct cf_run *r, struct cf201 *st, void *arg), void *arg,
                           int64_t deadline_ms)
{
    for (;;) {
        cf201_observe(r, st);
        if (done(r, st, arg))
            return CF_PASS;
        struct cf_msg m;
        enum cf_verdict v = cf_expect(r, NULL, NULL, NULL, deadline_ms, &m);
        if (v == CF_FAIL) {
            cf201_observe(r, st);
            return done(r, st, arg) ? CF_PASS : CF_FAIL;
        }
        if (v != CF_PASS)
            return v;
    }
}

enum cf_verdict cf201_reply(struct cf_run *r, const struct cf201_ref *ref, int64_t deadline_ms,
                            json_t **payload)
{
    struct cf_msg m = {.unique_id = ref->unique_id, .conn = ref->conn, .at_ms = ref->at_ms};
    *payload = NULL;
    return ref->set ? cf_reply(r, &m, deadline_ms, payload) : CF_FAIL;
}

const char *cf201_running_tx(const struct cf201 *st)
{
    for (size_t i = st->n_events; i-- > 0;) {
        const char *tx = st->events[i].tx;
        bool ended = false;
        for (size_t j = 0; j < st->n_events && !ended; j++)
            ended = !strcmp(st->events[j].tx, tx) && !strcmp(st->events[j].type, "Ended");
        if (!ended)
            return tx;
    }
    return NULL;
}

enum cf_verdict cf201_call(struct cf_run *r, const char *action, json_t *payload,
                           char status[CF201_WORD_MAX], struct cf_answer *a)
{
    struct cf_answer own;
    if (!a)
        a = &own;
    status[0] = 0;
    if (!payload)
        return cf_error(r, "%s: out of memory", action);
    enum cf_verdict v = cf_call(r, action, payload, a);
    json_decref(payload);
    if (v != CF_PASS)
        return v;
    if (a->kind != CF_RESULT)
        return cf_fail(r, "%s: %s", action, cf_answer_text(r, a));
    copy(status, CF201_WORD_MAX, cf201_str(a->payload, "status"));
    return CF_PASS;
}

/* --- the table -------------------------------------------------------------------------------- */

/* Each check, then what came during it recorded for the checks after it. What comes after a
 * check returned (the TransactionEvent Started right after the Authorize it ended on) is in the
 * next check's cf_messages() (the engine's window), recorded when that one ends. */
static enum cf_verdict observed(struct cf_run *r, enum cf_verdict v)
{
    if (v == CF_ABORT)
        return CF_ABORT;
    struct cf201 *st = cf201_state(r);
    if (st)
        cf201_observe(r, st);
    return v;
}

#define OBSERVED(check)                                                                            \
    static enum cf_verdict check##_observed(struct cf_run *r)                                      \
    {                                                                                              \
        return observed(r, check(r));                                                              \
    }

OBSERVED(cf201_boot_first_message)
OBSERVED(cf201_boot_status_all)
OBSERVED(cf201_variables_get)
OBSERVED(cf201_variables_get_unknown)
OBSERVED(cf201_variables_set)
OBSERVED(cf201_variables_set_invalid)
OBSERVED(cf201_heartbeat_interval)
OBSERVED(cf201_trigger_boot)
OBSERVED(cf201_trigger_heartbeat)
OBSERVED(cf201_trigger_status)
OBSERVED(cf201_trigger_meter)
OBSERVED(cf201_availability_inoperative)
OBSERVED(cf201_availability_operative)
OBSERVED(cf201_unlock)
OBSERVED(cf201_unlock_unknown)
OBSERVED(cf201_cache_clear)
OBSERVED(cf201_datatransfer_unknown)
OBSERVED(cf201_unsupported_action)
OBSERVED(cf201_remote_start_unknown)
OBSERVED(cf201_remote_stop_unknown)
OBSERVED(cf201_authorize_card)
OBSERVED(cf201_tx_local_start)
OBSERVED(cf201_tx_meter_values)
OBSERVED(cf201_trigger_tx_event)
OBSERVED(cf201_tx_local_stop)
OBSERVED(cf201_remote_start)
OBSERVED(cf201_remote_stop)
OBSERVED(cf201_reset_on_idle)
OBSERVED(cf201_reset_immediate)
OBSERVED(cf201_tx_event_sequence)

const struct cf_impl cf_ocpp201_impl[] = {
    {"boot.first-message", cf201_boot_first_message_observed},
    {"boot.status-all-connectors", cf201_boot_status_all_observed},
    {"variables.get", cf201_variables_get_observed},
    {"variables.get-unknown", cf201_variables_get_unknown_observed},
    {"variables.set", cf201_variables_set_observed},
    {"variables.set-invalid", cf201_variables_set_invalid_observed},
    {"heartbeat.interval", cf201_heartbeat_interval_observed},
    {"trigger.boot-notification", cf201_trigger_boot_observed},
    {"trigger.heartbeat", cf201_trigger_heartbeat_observed},
    {"trigger.status-notification", cf201_trigger_status_observed},
    {"trigger.meter-values", cf201_trigger_meter_observed},
    {"availability.inoperative", cf201_availability_inoperative_observed},
    {"availability.operative", cf201_availability_operative_observed},
    {"unlock.connector", cf201_unlock_observed},
    {"unlock.unknown-connector", cf201_unlock_unknown_observed},
    {"cache.clear", cf201_cache_clear_observed},
    {"datatransfer.unknown-vendor", cf201_datatransfer_unknown_observed},
    {"call.unsupported-action", cf201_unsupported_action_observed},
    {"remote.start-unknown-evse", cf201_remote_start_unknown_observed},
    {"remote.stop-unknown", cf201_remote_stop_unknown_observed},
    {"authorize.card", cf201_authorize_card_observed},
    {"tx.local-start", cf201_tx_local_start_observed},
    {"tx.meter-values", cf201_tx_meter_values_observed},
    {"trigger.transaction-event", cf201_trigger_tx_event_observed},
    {"tx.local-stop", cf201_tx_local_stop_observed},
    {"remote.start", cf201_remote_start_observed},
    {"remote.stop", cf201_remote_stop_observed},
    {"reset.on-idle", cf201_reset_on_idle_observed},
    {"reset.immediate", cf201_reset_immediate_observed},
    {"tx.event-sequence", cf201_tx_event_sequence_observed},
    {"frames.schema-valid", cf_frames_schema_valid},
    {"frames.unique-ids", cf_frames_unique_ids},
    {"frames.one-call-outstanding", cf_frames_one_call_outstanding},
    {"frames.answers-in-time", cf_frames_answers_in_time},
    {NULL, NULL},
};
