/* Plan ocpp16-core (protocol/plans_ocpp16.c): the table of its checks, the helpers its files
 * share, and the checks that are one request and its answer, perhaps with the message it
 * triggers (TriggerMessage, availability, unlock, probes). Each follows its check's `what` there;
 * the configuration checks are in conform_ocpp16_config.c, boots and resets in
 * conform_ocpp16_boot.c, transactions in conform_ocpp16_tx.c. */
#include "gateway/conform_ocpp16_private.h"
#include "common/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- shared helpers (conform_ocpp16_private.h) ------------------------------------------------ */

struct cf16_state *cf16_state(struct cf_run *r)
{
    return cf_state(r, sizeof(struct cf16_state));
}

const char *cf16_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

long long cf16_int(const json_t *o, const char *key, long long def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

bool cf16_in(const char *s, const char *list)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

long long cf16_secs(int64_t t0_ms)
{
    return (long long)((thread_now_ms() - t0_ms + 999) / 1000);
}

/* "A|B|C" as "A, B or C" (a reason's "expected ..."). */
static const char *or_list(const char *list, char *buf, size_t len)
{
    const char *last = strrchr(list, '|');
    size_t o = 0;
    for (const char *p = list; *p && o + 5 < len; p++) {
        if (*p != '|') {
            buf[o++] = *p;
        } else if (p == last) {
            memcpy(buf + o, " or ", 4);
            o += 4;
        } else {
            memcpy(buf + o, ", ", 2);
            o += 2;
        }
    }
    buf[o] = '\0';
    return buf;
}

enum cf_verdict cf16_call_status(struct cf_run *r, const char *what, const char *action,
                                 json_t *payload, const char *ok, const char **status)
{
    if (!payload)
        return cf_error(r, "out of memory");
    struct cf_answer a;
    enum cf_verdict v = cf_call(r, action, payload, &a);
    json_decref(payload);
    if (v == CF_ABORT)
        return CF_ABORT;
    char exp[128];
    or_list(ok, exp, sizeof exp);
    if (a.kind != CF_RESULT)
        return cf_fail(r, "%s: %s; expected %s", what, cf_answer_text(r, &a), exp);
    const char *st = cf16_str(a.payload, "status");
    if (!st)
        return cf_fail(r, "%s %s, without a status; expected %s", what, cf_answer_text(r, &a), exp);
    if (!cf16_in(st, ok))
        return cf_fail(r, "%s answered %s; expected %s", what, st, exp);
    if (status)
        *status = st;
    return CF_PASS;
}

bool cf16_match(const struct cf_msg *m, void *arg)
{
    const struct cf16_want *w = arg;
    if (m->at_ms < w->since_ms)
        return false;
    if (w->connector >= 0 && cf16_int(m->payload, "connectorId", -1) != w->connector)
        return false;
    if (w->statuses && !cf16_in(cf16_str(m->payload, "status"), w->statuses))
        return false;
    return true;
}

/* --- TriggerMessage ------------------------------------------------------------------------ */

/* Sends TriggerMessage{requestedMessage, connectorId (< 0: none)}; CF_PASS on Accepted. */
static enum cf_verdict trigger(struct cf_run *r, const char *msg, int connector)
{
    char what[96];
    json_t *p = json_pack("{s:s}", "requestedMessage", msg);
    if (p && connector >= 0) {
        json_object_set_new(p, "connectorId", json_integer(connector));
        snprintf(what, sizeof what, "TriggerMessage %s for connector %d", msg, connector);
    } else {
        snprintf(what, sizeof what, "TriggerMessage %s", msg);
    }
    return cf16_call_status(r, what, "TriggerMessage", p, "Accepted", NULL);
}

/* TriggerMessage `msg` without a connector, then that message. */
static enum cf_verdict trigger_plain(struct cf_run *r, const char *msg, struct cf_msg *m)
{
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = trigger(r, msg, -1);
    if (v != CF_PASS)
        return v;
    v = cf_expect(r, msg, NULL, NULL, cf_deadline_ms(r), m);
    if (v == CF_FAIL)
        return cf_fail(r, "TriggerMessage %s was Accepted, but no %s came within %lld s", msg, msg,
                       cf16_secs(t0));
    return v;
}

static enum cf_verdict trigger_boot(struct cf_run *r)
{
    struct cf_msg m;
    return trigger_plain(r, "BootNotification", &m);
}

static enum cf_verdict trigger_heartbeat(struct cf_run *r)
{
    struct cf_msg m;
    return trigger_plain(r, "Heartbeat", &m);
}

/* The status notifications of the Firmware Management profile: Idle when nothing runs. */
static enum cf_verdict trigger_idle(struct cf_run *r, const char *msg)
{
    struct cf_msg m;
    enum cf_verdict v = trigger_plain(r, msg, &m);
    if (v != CF_PASS)
        return v;
    const char *st = cf16_str(m.payload, "status");
    if (!st || strcmp(st, "Idle") != 0)
        return cf_pass_note(r, "%s status %s although evgate started nothing; Idle expected", msg,
                            st ? st : "absent");
    return CF_PASS;
}

static enum cf_verdict trigger_diagnostics(struct cf_run *r)
{
    return trigger_idle(r, "DiagnosticsStatusNotification");
}

static enum cf_verdict trigger_firmware(struct cf_run *r)
{
    return trigger_idle(r, "FirmwareStatusNotification");
}

static enum cf_verdict trigger_status(struct cf_run *r)
{
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = trigger(r, "StatusNotification", 1);
    if (v != CF_PASS)
        return v;
    long long other = -1;
    struct cf_msg m;
    while ((v = cf_expect(r, "StatusNotification", NULL, NULL, cf_deadline_ms(r), &m)) == CF_PASS) {
        long long c = cf16_int(m.payload, "connectorId", -1);
        if (c == 1)
            return CF_PASS;
        if (other < 0)
            other = c;
    }
    if (v == CF_ABORT)
        return CF_ABORT;
    if (other >= 0)
        return cf_fail(r,
                       "TriggerMessage StatusNotification for connector 1 was Accepted, but "
                       "the StatusNotification that came was for connector %lld",
                       other);
    return cf_fail(r,
                   "TriggerMessage StatusNotification for connector 1 was Accepted, but no "
                   "StatusNotification came within %lld s",
                   cf16_secs(t0));
}

/* The sampledValues of a MeterValues payload, over all its meterValue entries. */
static size_t sampled_values(const json_t *payload)
{
    size_t n = 0, i;
    json_t *mv;
    json_array_foreach(json_object_get(payload, "meterValue"), i, mv)
    {
        n += json_array_size(json_object_get(mv, "sampledValue"));
    }
    return n;
}

static enum cf_verdict trigger_meter_values(struct cf_run *r)
{
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = trigger(r, "MeterValues", 1);
    if (v != CF_PASS)
        return v;
    struct cf16_want w = {.connector = 1};
    struct cf_msg m;
    v = cf_expect(r, "MeterValues", cf16_match, &w, cf_deadline_ms(r), &m);
    if (v == CF_FAIL)
        return cf_fail(r,
                       "TriggerMessage MeterValues for connector 1 was Accepted, but no "
                       "MeterValues for connector 1 came within %lld s",
                       cf16_secs(t0));
    if (v == CF_PASS && sampled_values(m.payload) == 0)
        return cf_fail(r, "the triggered MeterValues for connector 1 has no sampledValue");
    return v;
}

static enum cf_verdict trigger_unknown_connector(struct cf_run *r)
{
    int n1 = cf_connectors(r) + 1;
    char what[96];
    snprintf(what, sizeof what, "TriggerMessage MeterValues for connector %d (the pile has %d)", n1,
             n1 - 1);
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = cf16_call_status(
        r, what, "TriggerMessage",
        json_pack("{s:s, s:i}", "requestedMessage", "MeterValues", "connectorId", n1), "Rejected",
        NULL);
    if (v != CF_PASS)
        return v;
    struct cf16_want w = {.since_ms = t0, .connector = n1};
    struct cf_msg m;
    v = cf_expect(r, "MeterValues", cf16_match, &w, cf_within_ms(r, CF16_QUIET_MS), &m);
    if (v == CF_PASS)
        return cf_fail(r, "%s was Rejected, yet MeterValues for connector %d followed", what, n1);
    return v == CF_ABORT ? CF_ABORT : CF_PASS;
}

/* --- the rest: one request, one answer (and perhaps the status it causes) ------------------- */

/* Sends ChangeAvailability connector 1 `type`, expects Accepted and then a StatusNotification
 * `status` for connector 1. */
static enum cf_verdict availability(struct cf_run *r, const char *type, const char *status)
{
    int64_t t0 = thread_now_ms();
    char what[64];
    snprintf(what, sizeof what, "ChangeAvailability connector 1 %s", type);
    enum cf_verdict v =
        cf16_call_status(r, what, "ChangeAvailability",
                         json_pack("{s:i, s:s}", "connectorId", 1, "type", type), "Accepted", NULL);
    if (v != CF_PASS)
        return v;
    struct cf16_want w = {.connector = 1, .statuses = status};
    struct cf_msg m;
    v = cf_expect(r, "StatusNotification", cf16_match, &w, cf_deadline_ms(r), &m);
    if (v == CF_FAIL)
        return cf_fail(r,
                       "%s was Accepted, but no StatusNotification %s for connector 1 came "
                       "within %lld s",
                       what, status, cf16_secs(t0));
    return v;
}

static enum cf_verdict availability_inoperative(struct cf_run *r)
{
    return availability(r, "Inoperative", "Unavailable");
}

static enum cf_verdict availability_operative(struct cf_run *r)
{
    if (!cf_passed(r, "availability.inoperative"))
        return cf_skip(r, "needs availability.inoperative, which did not pass");
    return availability(r, "Operative", "Available");
}

static enum cf_verdict unlock_connector(struct cf_run *r)
{
    const char *st = NULL;
    enum cf_verdict v =
        cf16_call_status(r, "UnlockConnector connector 1", "UnlockConnector",
                         json_pack("{s:i}", "connectorId", 1), "Unlocked|NotSupported", &st);
    if (v == CF_PASS && strcmp(st, "NotSupported") == 0)
        return cf_pass_note(r, "UnlockConnector answered NotSupported: a fixed cable");
    return v;
}

static enum cf_verdict unlock_unknown_connector(struct cf_run *r)
{
    int n1 = cf_connectors(r) + 1;
    char what[80];
    snprintf(what, sizeof what, "UnlockConnector of connector %d (the pile has %d)", n1, n1 - 1);
    return cf16_call_status(r, what, "UnlockConnector", json_pack("{s:i}", "connectorId", n1),
                            "NotSupported", NULL);
}

static enum cf_verdict cache_clear(struct cf_run *r)
{
    return cf16_call_status(r, "ClearCache", "ClearCache", json_object(), "Accepted", NULL);
}

static enum cf_verdict datatransfer_unknown_vendor(struct cf_run *r)
{
    static const char vendor[] = "cn.evgate.conformance";
    const char *st = NULL;
    enum cf_verdict v =
        cf16_call_status(r, "DataTransfer to vendor cn.evgate.conformance", "DataTransfer",
                         json_pack("{s:s, s:s}", "vendorId", vendor, "messageId", "probe"),
                         "UnknownVendorId|UnknownMessageId|Rejected|Accepted", &st);
    if (v == CF_PASS && strcmp(st, "Accepted") == 0)
        return cf_pass_note(r, "DataTransfer to the unknown vendor %s was Accepted", vendor);
    return v;
}

static enum cf_verdict call_unsupported_action(struct cf_run *r)
{
    json_t *p = json_object();
    if (!p)
        return cf_error(r, "out of memory");
    struct cf_answer a;
    enum cf_verdict v = cf_call(r, "EvgateProbe", p, &a);
    json_decref(p);
    if (v == CF_ABORT)
        return CF_ABORT;
    if (a.kind == CF_CALLERR && cf16_in(a.code, "NotImplemented|NotSupported"))
        return CF_PASS;
    if (a.kind == CF_RESULT)
        return cf_fail(r,
                       "EvgateProbe (not an OCPP 1.6 action) got a CALLRESULT (%s); expected a "
                       "CALLERROR NotImplemented",
                       cf_answer_text(r, &a));
    return cf_fail(r,
                   "EvgateProbe (not an OCPP 1.6 action): %s; expected a CALLERROR "
                   "NotImplemented",
                   cf_answer_text(r, &a));
}

static enum cf_verdict remote_start_unknown_connector(struct cf_run *r)
{
    int n1 = cf_connectors(r) + 1;
    char what[96];
    snprintf(what, sizeof what, "RemoteStartTransaction on connector %d (the pile has %d)", n1,
             n1 - 1);
    bool started;
    struct cf_msg m;
    enum cf_verdict v = cf16_remote_start_rejected(r, what, n1, &started, &m);
    if (v == CF_PASS && started)
        return cf_fail(r, "%s was Rejected, yet a StartTransaction on connector %lld followed",
                       what, cf16_int(m.payload, "connectorId", -1));
    return v;
}

static enum cf_verdict remote_stop_unknown(struct cf_run *r)
{
    /* far above any row id evgate has given (ids count up from 1) */
    const long long id = 2147483000;
    char what[96];
    snprintf(what, sizeof what, "RemoteStopTransaction of transaction %lld (never issued)", id);
    return cf16_call_status(r, what, "RemoteStopTransaction",
                            json_pack("{s:I}", "transactionId", (json_int_t)id), "Rejected", NULL);
}

const struct cf_impl cf_ocpp16_impl[] = {
    {"boot.first-message", cf16_boot_first_message},
    {"boot.status-all-connectors", cf16_boot_status_all},
    {"heartbeat.interval", cf16_heartbeat_interval},
    {"config.get-all", cf16_config_get_all},
    {"config.get-unknown", cf16_config_get_unknown},
    {"config.change", cf16_config_change},
    {"config.change-unknown", cf16_config_change_unknown},
    {"trigger.boot-notification", trigger_boot},
    {"trigger.heartbeat", trigger_heartbeat},
    {"trigger.status-notification", trigger_status},
    {"trigger.meter-values", trigger_meter_values},
    {"trigger.diagnostics-status", trigger_diagnostics},
    {"trigger.firmware-status", trigger_firmware},
    {"trigger.unknown-connector", trigger_unknown_connector},
    {"availability.inoperative", availability_inoperative},
    {"availability.operative", availability_operative},
    {"unlock.connector", unlock_connector},
    {"unlock.unknown-connector", unlock_unknown_connector},
    {"cache.clear", cache_clear},
    {"datatransfer.unknown-vendor", datatransfer_unknown_vendor},
    {"call.unsupported-action", call_unsupported_action},
    {"remote.start-unknown-connector", remote_start_unknown_connector},
    {"remote.stop-unknown", remote_stop_unknown},
    {"authorize.card", cf16_authorize_card},
    {"tx.local-start", cf16_tx_local_start},
    {"tx.meter-values", cf16_tx_meter_values},
    {"tx.local-stop", cf16_tx_local_stop},
    {"remote.start", cf16_remote_start},
    {"remote.start-busy", cf16_remote_start_busy},
    {"remote.stop", cf16_remote_stop},
    {"reset.soft", cf16_reset_soft},
    {"reset.hard", cf16_reset_hard},
    {"frames.schema-valid", cf_frames_schema_valid},
    {"frames.unique-ids", cf_frames_unique_ids},
    {"frames.one-call-outstanding", cf_frames_one_call_outstanding},
    {"frames.answers-in-time", cf_frames_answers_in_time},
    {NULL, NULL},
};
