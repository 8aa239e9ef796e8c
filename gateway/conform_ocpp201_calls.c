/* Plan ocpp201-core: the checks of one CSMS call and what the pile does after it (TriggerMessage,
 * ChangeAvailability, UnlockConnector, ClearCache, DataTransfer, an unknown action, the remote
 * start and stop that must be rejected). */
#include "gateway/conform_ocpp201_private.h"
#include "common/thread.h"

#include <stdio.h>
#include <string.h>

/* Sends `action` (`what` names it in reasons) and expects its status to be `want`: CF_PASS, or
 * CF_FAIL with the reason set. */
static enum cf_verdict call_expect(struct cf_run *r, const char *action, const char *what,
                                   json_t *payload, const char *want)
{
    char status[CF201_WORD_MAX];
    enum cf_verdict v = cf201_call(r, action, payload, status, NULL);
    if (v != CF_PASS)
        return v;
    if (strcmp(status, want))
        return cf_fail(r, "%s answered status %s, expected %s", what, status[0] ? status : "(none)",
                       want);
    return CF_PASS;
}

static enum cf_verdict no_state(struct cf_run *r)
{
    return cf_error(r, "out of memory");
}

/* CF_PASS when no transaction runs on the pile; else the check's skip (or error). */
static enum cf_verdict needs_no_tx(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    cf201_observe(r, st);
    const char *tx = cf201_running_tx(st);
    if (tx)
        return cf_skip(r, "transaction %s is running; this check needs none", tx);
    return CF_PASS;
}

/* --- TriggerMessage --------------------------------------------------------------------------- */

/* Sends TriggerMessage{requestedMessage, evse (stolen, may be NULL)}; CF_PASS when Accepted. */
static enum cf_verdict trigger(struct cf_run *r, const char *requested, json_t *evse)
{
    json_t *p = json_pack("{s:s}", "requestedMessage", requested);
    if (p && evse)
        json_object_set_new(p, "evse", evse);
    else
        json_decref(evse);
    char what[96];
    snprintf(what, sizeof what, "TriggerMessage{requestedMessage:%s}", requested);
    return call_expect(r, "TriggerMessage", what, p, "Accepted");
}

/* Waits for the triggered `action`: CF_PASS with *m, or the verdict of its absence. */
static enum cf_verdict triggered(struct cf_run *r, const char *action, int64_t t0, struct cf_msg *m)
{
    enum cf_verdict v = cf_expect(r, action, NULL, NULL, cf_deadline_ms(r), m);
    if (v == CF_FAIL)
        return cf_fail(r, "no %sRequest within %d s after TriggerMessage was accepted", action,
                       cf201_secs(t0, cf_deadline_ms(r)));
    return v;
}

/* F06.FR.17: a Charging Station whose last BootNotification was Accepted answers
 * TriggerMessage{requestedMessage:BootNotification} with Rejected (and so sends none): a boot
 * again would be a new registration. EVerest libocpp and other stacks do so. */
enum cf_verdict cf201_trigger_boot(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    cf201_observe(r, st);
    json_t *answer;
    enum cf_verdict v = cf201_reply(r, &st->boot, cf_within_ms(r, CF201_QUIET_MS), &answer);
    if (v == CF_ABORT)
        return v;
    const char *boot = v == CF_PASS ? cf201_str(answer, "status") : NULL;
    if (!boot || strcmp(boot, "Accepted"))
        return cf_skip(r, "the pile's last BootNotificationRequest was not answered Accepted; "
                          "F06.FR.17 is about an accepted station");
    int64_t t0 = thread_now_ms();
    char status[CF201_WORD_MAX];
    v = cf201_call(r, "TriggerMessage", json_pack("{s:s}", "requestedMessage", "BootNotification"),
                   status, NULL);
    if (v != CF_PASS)
        return v;
    /* a short look for a BootNotification all the same, not the check's whole time */
    struct cf_msg m;
    v = cf_expect(r, "BootNotification", NULL, NULL, cf_within_ms(r, CF201_QUIET_MS), &m);
    if (v == CF_ABORT)
        return v;
    const char *reason = v == CF_PASS ? cf201_str(m.payload, "reason") : NULL;
    if (strcmp(status, "Rejected"))
        return cf_fail(r,
                       "TriggerMessage{requestedMessage:BootNotification} answered status %s "
                       "while the pile's boot is Accepted; F06.FR.17 requires Rejected%s%s%s",
                       status[0] ? status : "(none)",
                       v == CF_PASS ? " (a BootNotificationRequest with reason " : "",
                       v == CF_PASS ? (reason ? reason : "(none)") : "",
                       v == CF_PASS ? " followed)" : "");
    if (v == CF_PASS)
        return cf_fail(r,
                       "TriggerMessage{requestedMessage:BootNotification} was Rejected, yet a "
                       "BootNotificationRequest (reason %s) followed within %d s; F06.FR.17: an "
                       "accepted station sends none",
                       reason ? reason : "(none)", cf201_secs(t0, thread_now_ms()));
    return CF_PASS;
}

enum cf_verdict cf201_trigger_heartbeat(struct cf_run *r)
{
    int64_t t0 = thread_now_ms();
    struct cf_msg m;
    enum cf_verdict v = trigger(r, "Heartbeat", NULL);
    return v == CF_PASS ? triggered(r, "Heartbeat", t0, &m) : v;
}

enum cf_verdict cf201_trigger_status(struct cf_run *r)
{
    int64_t t0 = thread_now_ms();
    struct cf_msg m;
    enum cf_verdict v =
        trigger(r, "StatusNotification", json_pack("{s:i, s:i}", "id", 1, "connectorId", 1));
    if (v == CF_PASS)
        v = triggered(r, "StatusNotification", t0, &m);
    if (v != CF_PASS)
        return v;
    long long evse = cf201_int(m.payload, "evseId", -1);
    long long conn = cf201_int(m.payload, "connectorId", -1);
    if (evse != 1 || conn != 1)
        return cf_fail(r,
                       "the triggered StatusNotificationRequest is for evseId %lld "
                       "connectorId %lld, expected EVSE 1 connector 1",
                       evse, conn);
    return CF_PASS;
}

enum cf_verdict cf201_trigger_meter(struct cf_run *r)
{
    int64_t t0 = thread_now_ms();
    struct cf_msg m;
    enum cf_verdict v = trigger(r, "MeterValues", json_pack("{s:i}", "id", 1));
    if (v == CF_PASS)
        v = triggered(r, "MeterValues", t0, &m);
    if (v != CF_PASS)
        return v;
    long long evse = cf201_int(m.payload, "evseId", -1);
    if (evse != 1)
        return cf_fail(r, "the triggered MeterValuesRequest is for evseId %lld, expected 1", evse);
    size_t i, n = 0;
    const json_t *mv;
    json_array_foreach(json_object_get(m.payload, "meterValue"), i, mv)
    {
        n += json_array_size(json_object_get(mv, "sampledValue"));
    }
    if (!n)
        return cf_fail(r, "the triggered MeterValuesRequest has no sampledValue");
    return CF_PASS;
}

/* --- ChangeAvailability ----------------------------------------------------------------------- */

struct evse_state {
    int evse;
    const char *state;
};

/* A StatusNotification or a NotifyEvent of AvailabilityState saying EVSE a->evse is a->state. */
static bool reports(const struct cf_msg *m, void *arg)
{
    const struct evse_state *a = arg;
    if (!strcmp(m->action, "StatusNotification")) {
        const char *s = cf201_str(m->payload, "connectorStatus");
        return cf201_int(m->payload, "evseId", 0) == a->evse && s && !strcmp(s, a->state);
    }
    if (strcmp(m->action, "NotifyEvent"))
        return false;
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(m->payload, "eventData"), i, d)
    {
        const char *var = cf201_str(json_object_get(d, "variable"), "name");
        const json_t *evse = json_object_get(json_object_get(d, "component"), "evse");
        const char *s = cf201_str(d, "actualValue");
        if (var && !strcmp(var, "AvailabilityState") && cf201_int(evse, "id", 0) == a->evse && s &&
            !strcmp(s, a->state))
            return true;
    }
    return false;
}

static enum cf_verdict availability(struct cf_run *r, const char *operational, const char *state)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    int64_t t0 = thread_now_ms();
    char what[96];
    snprintf(what, sizeof what, "ChangeAvailability{operationalStatus:%s, evse:{id:1}}",
             operational);
    enum cf_verdict v = call_expect(
        r, "ChangeAvailability", what,
        json_pack("{s:s, s:{s:i}}", "operationalStatus", operational, "evse", "id", 1), "Accepted");
    if (v != CF_PASS)
        return v;
    struct evse_state want = {1, state};
    struct cf_msg m;
    v = cf_expect(r, NULL, reports, &want, cf_deadline_ms(r), &m);
    if (v != CF_FAIL)
        return v;
    cf201_observe(r, st);
    const char *last = st->evse_state[1];
    return cf_fail(r,
                   "EVSE 1 not reported %s within %d s after ChangeAvailability was accepted "
                   "(last state reported: %s)",
                   state, cf201_secs(t0, cf_deadline_ms(r)), last[0] ? last : "none");
}

enum cf_verdict cf201_availability_inoperative(struct cf_run *r)
{
    enum cf_verdict v = needs_no_tx(r);
    if (v != CF_PASS)
        return v;
    return availability(r, "Inoperative", "Unavailable");
}

enum cf_verdict cf201_availability_operative(struct cf_run *r)
{
    if (!cf_passed(r, "availability.inoperative"))
        return cf_skip(r, "needs availability.inoperative, which did not pass");
    return availability(r, "Operative", "Available");
}

/* --- one call, one answer --------------------------------------------------------------------- */

enum cf_verdict cf201_unlock(struct cf_run *r)
{
    enum cf_verdict v = needs_no_tx(r);
    if (v != CF_PASS)
        return v;
    return call_expect(r, "UnlockConnector", "UnlockConnector{evseId:1, connectorId:1}",
                       json_pack("{s:i, s:i}", "evseId", 1, "connectorId", 1), "Unlocked");
}

enum cf_verdict cf201_unlock_unknown(struct cf_run *r)
{
    return call_expect(r, "UnlockConnector", "UnlockConnector{evseId:1, connectorId:999}",
                       json_pack("{s:i, s:i}", "evseId", 1, "connectorId", 999),
                       "UnknownConnector");
}

enum cf_verdict cf201_cache_clear(struct cf_run *r)
{
    return call_expect(r, "ClearCache", "ClearCache", json_object(), "Accepted");
}

enum cf_verdict cf201_datatransfer_unknown(struct cf_run *r)
{
    char status[CF201_WORD_MAX];
    enum cf_verdict v = cf201_call(
        r, "DataTransfer",
        json_pack("{s:s, s:s}", "vendorId", "cn.evgate.conformance", "messageId", "probe"), status,
        NULL);
    if (v != CF_PASS)
        return v;
    if (!strcmp(status, "UnknownVendorId") || !strcmp(status, "UnknownMessageId") ||
        !strcmp(status, "Rejected"))
        return CF_PASS;
    if (!strcmp(status, "Accepted"))
        return cf_pass_note(r, "DataTransfer to the unknown vendor cn.evgate.conformance answered "
                               "Accepted; UnknownVendorId was expected");
    return cf_fail(r,
                   "DataTransfer to the unknown vendor cn.evgate.conformance answered status "
                   "%s, expected UnknownVendorId",
                   status[0] ? status : "(none)");
}

enum cf_verdict cf201_unsupported_action(struct cf_run *r)
{
    struct cf_answer a;
    json_t *p = json_object();
    enum cf_verdict v = cf_call(r, "EvgateProbe", p, &a);
    json_decref(p);
    if (v != CF_PASS)
        return v;
    if (a.kind == CF_CALLERR &&
        (!strcmp(a.code, "NotImplemented") || !strcmp(a.code, "NotSupported")))
        return CF_PASS;
    if (a.kind == CF_RESULT)
        return cf_fail(r,
                       "EvgateProbe (not an OCPP 2.0.1 action) got a CALLRESULT (%s), expected "
                       "CALLERROR NotImplemented",
                       cf_answer_text(r, &a));
    if (a.kind == CF_CALLERR)
        return cf_fail(r,
                       "EvgateProbe (not an OCPP 2.0.1 action) got CALLERROR %s, expected "
                       "NotImplemented",
                       a.code);
    return cf_fail(r, "EvgateProbe: %s, expected CALLERROR NotImplemented", cf_answer_text(r, &a));
}

struct remote_id {
    long long id;
    int evse;
};

static bool started_remotely(const struct cf_msg *m, void *arg)
{
    const struct remote_id *want = arg;
    const json_t *info = json_object_get(m->payload, "transactionInfo");
    return cf201_int(info, "remoteStartId", -1) == want->id ||
           cf201_int(json_object_get(m->payload, "evse"), "id", 0) == want->evse;
}

enum cf_verdict cf201_remote_start_unknown(struct cf_run *r)
{
    int evse = cf_connectors(r) + 1;
    char what[96];
    snprintf(what, sizeof what, "RequestStartTransaction{evseId:%d}", evse);
    enum cf_verdict v = call_expect(r, "RequestStartTransaction", what,
                                    json_pack("{s:i, s:i, s:{s:s, s:s}}", "evseId", evse,
                                              "remoteStartId", CF201_REMOTE_ID_BAD, "idToken",
                                              "idToken", CF201_IDTOKEN, "type", "Central"),
                                    "Rejected");
    if (v != CF_PASS)
        return v;
    /* no transaction may follow: a short look, not the check's whole time */
    struct remote_id want = {CF201_REMOTE_ID_BAD, evse};
    struct cf_msg m;
    v = cf_expect(r, "TransactionEvent", started_remotely, &want, cf_within_ms(r, CF201_QUIET_MS),
                  &m);
    if (v == CF_PASS) {
        const char *type = cf201_str(m.payload, "eventType");
        const char *tx = cf201_str(json_object_get(m.payload, "transactionInfo"), "transactionId");
        return cf_fail(r,
                       "RequestStartTransaction on EVSE %d was Rejected but TransactionEvent "
                       "%s of transaction %s followed",
                       evse, type ? type : "(no eventType)", tx ? tx : "(none)");
    }
    return v == CF_ABORT ? v : CF_PASS;
}

enum cf_verdict cf201_remote_stop_unknown(struct cf_run *r)
{
    return call_expect(r, "RequestStopTransaction",
                       "RequestStopTransaction{transactionId:\"evgate-unknown\"}",
                       json_pack("{s:s}", "transactionId", "evgate-unknown"), "Rejected");
}
