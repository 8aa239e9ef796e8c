/* Plan ocpp16-core (protocol/plans_ocpp16.c): the transactions a person (or a test bench) starts
 * with a card or a cable and those evgate starts and stops remotely. Each follows its check's
 * `what` there. The transactionId evgate gives a StartTransaction is its answer (cf_reply). */
#include "gateway/conform_ocpp16_private.h"
#include "common/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- what the transaction checks saw (struct cf16_seen) --------------------------------------- */

static void keep_ref(struct cf16_ref *ref, const struct cf_msg *m, unsigned long n)
{
    ref->set = true;
    snprintf(ref->unique_id, sizeof ref->unique_id, "%s", m->unique_id);
    ref->conn = m->conn;
    ref->at_ms = m->at_ms;
    ref->n = n;
}

/* Records the CALLs of the current check not recorded yet. */
static void observe(struct cf_run *r, struct cf16_seen *w)
{
    size_t n = 0;
    const struct cf_msg *m = cf_messages(r, &n);
    if (w->observed_seq != cf_seq(r) || w->observed_n > n) {
        w->observed_seq = cf_seq(r);
        w->observed_n = 0;
    }
    for (size_t i = w->observed_n; i < n; i++) {
        w->calls++;
        if (strcmp(m[i].action, "StartTransaction") == 0) {
            w->open = true;
        } else if (strcmp(m[i].action, "StopTransaction") == 0) {
            w->open = false;
            keep_ref(&w->stop, &m[i], w->calls);
        } else if (strcmp(m[i].action, "StatusNotification") == 0 &&
                   cf16_int(m[i].payload, "connectorId", -1) == 1) {
            const char *st = cf16_str(m[i].payload, "status");
            snprintf(w->c1_status, sizeof w->c1_status, "%s", st ? st : "");
            w->c1_n = w->calls;
        }
    }
    w->observed_n = n;
}

/* A check's verdict, after recording what came during it. */
static enum cf_verdict observed(struct cf_run *r, enum cf_verdict v)
{
    struct cf16_state *s = cf16_state(r);
    if (v != CF_ABORT && s)
        observe(r, &s->seen);
    return v;
}

/* Waits until `done` holds for the record (CF_PASS), `deadline_ms` (CF_FAIL) or CF_ABORT, taking
 * every CALL that comes meanwhile. */
static enum cf_verdict wait_seen(struct cf_run *r, struct cf16_seen *w,
                                 bool (*done)(const struct cf16_seen *w), int64_t deadline_ms)
{
    for (;;) {
        observe(r, w);
        if (done(w))
            return CF_PASS;
        struct cf_msg m;
        enum cf_verdict v = cf_expect(r, NULL, NULL, NULL, deadline_ms, &m);
        if (v == CF_FAIL) {
            observe(r, w);
            return done(w) ? CF_PASS : CF_FAIL;
        }
        if (v != CF_PASS)
            return v;
    }
}

/* What a transaction's start brings: the StartTransaction and a StatusNotification Charging for
 * its connector, in either order. */
struct start_seen {
    int64_t since_ms;
    bool started;
    uint64_t charging; /* connectors reported Charging (bit c) */
};

static bool start_or_charging(const struct cf_msg *m, void *arg)
{
    struct start_seen *w = arg;
    if (m->at_ms < w->since_ms)
        return false;
    if (strcmp(m->action, "StartTransaction") == 0)
        return !w->started;
    return strcmp(m->action, "StatusNotification") == 0 &&
           cf16_in(cf16_str(m->payload, "status"), "Charging");
}

/* Waits for the StartTransaction (CF_FAIL without a reason and *started false when none came:
 * the caller decides) and the Charging status of its connector; judges the StartTransaction with
 * `judge` as soon as it comes; the transaction into *tx. */
static enum cf_verdict start_tx(struct cf_run *r, struct start_seen *w,
                                enum cf_verdict (*judge)(struct cf_run *r, const struct cf_msg *m),
                                struct cf16_tx *tx, bool *started)
{
    int n = cf_connectors(r);
    long long c = -1;
    *started = false;
    for (;;) {
        struct cf_msg m;
        enum cf_verdict v = cf_expect(r, NULL, start_or_charging, w, cf_deadline_ms(r), &m);
        if (v == CF_FAIL && w->started)
            return cf_fail(r,
                           "StartTransaction on connector %lld came, but no StatusNotification "
                           "Charging for it within %lld s",
                           c, cf16_secs(w->since_ms));
        if (v != CF_PASS)
            return v;
        if (strcmp(m.action, "StartTransaction") == 0) {
            w->started = *started = true;
            c = cf16_int(m.payload, "connectorId", -1);
            if (c < 1 || c > n)
                return cf_fail(r,
                               "StartTransaction on connector %lld, which the pile does not "
                               "have (registered: 1..%d)",
                               c, n);
            if ((v = judge(r, &m)) != CF_PASS)
                return v;
            tx->connector = (int)c;
            tx->meter_start = cf16_int(m.payload, "meterStart", -1);
            json_t *answer;
            if ((v = cf_reply(r, &m, cf_deadline_ms(r), &answer)) == CF_ABORT)
                return v;
            tx->id = v == CF_PASS ? cf16_int(answer, "transactionId", 0) : 0;
            if (tx->id <= 0)
                return cf_error(r,
                                "evgate gave the StartTransaction on connector %lld no "
                                "transactionId (%s)",
                                c,
                                v == CF_PASS ? "none in its answer" : "a CALLERROR or no answer");
        } else {
            long long sc = cf16_int(m.payload, "connectorId", -1);
            if (sc >= 0 && sc <= CF16_CONNECTORS_MAX)
                w->charging |= 1ull << sc;
        }
        if (c >= 0 && (w->charging & (1ull << c)))
            return CF_PASS;
    }
}

static bool authorize_or_start(const struct cf_msg *m, void *arg)
{
    (void)arg;
    return strcmp(m->action, "Authorize") == 0 || strcmp(m->action, "StartTransaction") == 0;
}

static enum cf_verdict authorize_card(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    int64_t t0 = thread_now_ms();
    struct cf_msg m;
    enum cf_verdict v = cf_expect(r, NULL, authorize_or_start, NULL, cf_deadline_ms(r), &m);
    if (v == CF_FAIL)
        return cf_missing(r, "no Authorize within %lld s", cf16_secs(t0));
    if (v != CF_PASS)
        return v;
    const char *tag = cf16_str(m.payload, "idTag");
    if (strcmp(m.action, "StartTransaction") == 0)
        return cf_fail(r, "a StartTransaction (connector %lld, idTag %s) came without an Authorize",
                       cf16_int(m.payload, "connectorId", -1), tag ? tag : "absent");
    if (!tag || !*tag)
        return cf_fail(r, "Authorize with an empty idTag");
    snprintf(s->card, sizeof s->card, "%s", tag);
    return CF_PASS;
}

/* tx.local-start's judgement of the StartTransaction: the card's idTag, meterStart >= 0. */
static enum cf_verdict judge_local_start(struct cf_run *r, const struct cf_msg *m)
{
    struct cf16_state *s = cf16_state(r);
    const char *tag = cf16_str(m->payload, "idTag");
    long long start = cf16_int(m->payload, "meterStart", -1);
    if (!tag || !*tag)
        return cf_fail(r, "StartTransaction without an idTag");
    if (s->card[0] && strcmp(tag, s->card) != 0)
        return cf_fail(r, "StartTransaction with idTag %s; the card presented was %s", tag,
                       s->card);
    if (start < 0)
        return cf_fail(r, "StartTransaction with meterStart %lld; expected >= 0", start);
    return CF_PASS;
}

static enum cf_verdict tx_local_start(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    if (!cf_passed(r, "authorize.card"))
        return cf_skip(r, "needs authorize.card, which did not pass");
    memset(&s->local, 0, sizeof s->local);
    struct start_seen w = {.since_ms = thread_now_ms()};
    bool started;
    enum cf_verdict v = start_tx(r, &w, judge_local_start, &s->local, &started);
    if (v == CF_FAIL && !started)
        return cf_missing(r, "no StartTransaction within %lld s", cf16_secs(w.since_ms));
    return v;
}

/* The energy register readings of a MeterValues (or StopTransaction's transactionData) in Wh,
 * checked never to decrease from *last: CF_PASS, or CF_FAIL with the reason set. */
static enum cf_verdict energy_rising(struct cf_run *r, const json_t *values, double *last)
{
    size_t i, j;
    json_t *mv, *sv;
    json_array_foreach(values, i, mv)
    {
        json_array_foreach(json_object_get(mv, "sampledValue"), j, sv)
        {
            const char *measurand = cf16_str(sv, "measurand"), *unit = cf16_str(sv, "unit");
            const char *text = cf16_str(sv, "value");
            if ((measurand && strcmp(measurand, "Energy.Active.Import.Register") != 0) || !text)
                continue;
            char *end;
            double wh = strtod(text, &end);
            if (end == text)
                continue;
            if (unit && strcmp(unit, "kWh") == 0)
                wh *= 1000;
            if (wh < *last)
                return cf_fail(r, "energy register %.0f Wh after %.0f Wh: it decreased", wh, *last);
            *last = wh;
        }
    }
    return CF_PASS;
}

static enum cf_verdict tx_meter_values(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    if (!cf_passed(r, "tx.local-start"))
        return cf_skip(r, "needs tx.local-start, which did not pass");
    /* 2 x MeterValueSampleInterval, read now (60 s when 0 or unreadable) */
    long long interval = 0;
    json_t *p = json_pack("{s:[s]}", "key", "MeterValueSampleInterval");
    struct cf_answer a;
    enum cf_verdict v = p ? cf_call(r, "GetConfiguration", p, &a) : CF_PASS;
    json_decref(p);
    if (v == CF_ABORT)
        return CF_ABORT;
    if (p && a.kind == CF_RESULT) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(a.payload, "configurationKey"), i, e)
        {
            const char *key = cf16_str(e, "key"), *value = cf16_str(e, "value");
            if (key && value && strcmp(key, "MeterValueSampleInterval") == 0)
                interval = atoll(value);
        }
    }
    if (interval <= 0)
        interval = 60;
    int64_t t0 = thread_now_ms(), until = cf_within_ms(r, 2 * interval * 1000);
    struct cf16_want w = {.connector = s->local.connector};
    struct cf_msg m;
    v = cf_expect(r, "MeterValues", cf16_match, &w, until, &m);
    if (v == CF_FAIL && until < t0 + 2 * interval * 1000)
        return cf_error(r,
                        "no MeterValues for connector %d within %lld s, when the check's time "
                        "ended, before 2 x MeterValueSampleInterval = %lld s: too short to judge",
                        s->local.connector, cf16_secs(t0), 2 * interval);
    if (v == CF_FAIL)
        return cf_fail(r,
                       "no MeterValues for connector %d within %lld s (MeterValueSampleInterval "
                       "%lld s)",
                       s->local.connector, cf16_secs(t0), interval);
    if (v != CF_PASS)
        return v;
    long long id = cf16_int(m.payload, "transactionId", -1);
    if (id < 0)
        return cf_fail(r,
                       "MeterValues for connector %d without a transactionId; the transaction "
                       "is %lld",
                       s->local.connector, (long long)s->local.id);
    if (id != s->local.id)
        return cf_fail(r,
                       "MeterValues for connector %d with transactionId %lld; the transaction is "
                       "%lld",
                       s->local.connector, id, (long long)s->local.id);
    double last = (double)s->local.meter_start;
    return energy_rising(r, json_object_get(m.payload, "meterValue"), &last);
}

/* What a transaction's end brings: the StopTransaction and a StatusNotification in `statuses`
 * for its connector, in either order. */
struct stop_seen {
    int64_t since_ms;
    int connector;
    const char *statuses;
    bool stopped, status;
};

static bool stop_or_status(const struct cf_msg *m, void *arg)
{
    struct stop_seen *w = arg;
    if (m->at_ms < w->since_ms)
        return false;
    if (strcmp(m->action, "StopTransaction") == 0)
        return !w->stopped;
    return !w->status && strcmp(m->action, "StatusNotification") == 0 &&
           cf16_int(m->payload, "connectorId", -1) == w->connector &&
           cf16_in(cf16_str(m->payload, "status"), w->statuses);
}

/* Waits for the end of `tx` (CF_FAIL without a reason and w->stopped false when no
 * StopTransaction came: the caller decides) and judges the StopTransaction: its transactionId,
 * meterStop >= meterStart, and its reason one of `reason` (NULL any; absent means Local). */
static enum cf_verdict stop_tx(struct cf_run *r, const struct cf16_tx *tx, struct stop_seen *w,
                               const char *reason)
{
    w->connector = tx->connector;
    while (!w->stopped || !w->status) {
        struct cf_msg m;
        enum cf_verdict v = cf_expect(r, NULL, stop_or_status, w, cf_deadline_ms(r), &m);
        if (v == CF_FAIL && w->stopped)
            return cf_fail(r,
                           "StopTransaction came, but no StatusNotification %s for connector "
                           "%d within %lld s",
                           w->statuses, tx->connector, cf16_secs(w->since_ms));
        if (v != CF_PASS)
            return v;
        if (strcmp(m.action, "StatusNotification") == 0) {
            w->status = true;
            continue;
        }
        w->stopped = true;
        long long id = cf16_int(m.payload, "transactionId", -1);
        long long stop = cf16_int(m.payload, "meterStop", -1);
        const char *why = cf16_str(m.payload, "reason");
        if (id != tx->id)
            return cf_fail(r, "StopTransaction with transactionId %lld; the transaction is %lld",
                           id, (long long)tx->id);
        if (stop < tx->meter_start)
            return cf_fail(r, "StopTransaction with meterStop %lld below meterStart %lld", stop,
                           tx->meter_start);
        if (reason && !cf16_in(why ? why : "Local", reason)) /* absent means Local */
            return cf_fail(r, "StopTransaction with reason %s; expected %s", why ? why : "absent",
                           reason);
    }
    return CF_PASS;
}

static enum cf_verdict tx_local_stop(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    if (!cf_passed(r, "tx.local-start"))
        return cf_skip(r, "needs tx.local-start, which did not pass");
    struct stop_seen w = {.since_ms = thread_now_ms(), .statuses = "Finishing|Available"};
    enum cf_verdict v = stop_tx(r, &s->local, &w, NULL);
    if (v == CF_FAIL && !w.stopped)
        return cf_missing(r, "no StopTransaction of transaction %lld within %lld s",
                          (long long)s->local.id, cf16_secs(w.since_ms));
    return v;
}

/* remote.start's judgement of the StartTransaction: connector 1, the run's idTag. */
static enum cf_verdict judge_remote_start(struct cf_run *r, const struct cf_msg *m)
{
    const char *tag = cf16_str(m->payload, "idTag");
    long long c = cf16_int(m->payload, "connectorId", -1);
    if (c != 1)
        return cf_fail(r, "StartTransaction on connector %lld; RemoteStartTransaction asked for 1",
                       c);
    if (!tag || strcmp(tag, CF16_ID_TAG) != 0)
        return cf_fail(r,
                       "StartTransaction with idTag %s; RemoteStartTransaction gave " CF16_ID_TAG,
                       tag ? tag : "absent");
    return CF_PASS;
}

/* Connector 1 is free for remote.start: no transaction open, and connector 1 reported Available
 * or Preparing since the last StopTransaction. */
static bool no_tx_open(const struct cf16_seen *w)
{
    return !w->open;
}

static bool connector1_free(const struct cf16_seen *w)
{
    return w->c1_n > w->stop.n && cf16_in(w->c1_status, "Available|Preparing");
}

/* Before remote.start's request: the earlier transaction ended (its StopTransaction answered by
 * evgate) and connector 1 reported Available or Preparing since, within the check's time. A
 * pile may rightly reject a remote start while its last transaction is still ending. */
static enum cf_verdict wait_connector1_free(struct cf_run *r, struct cf16_seen *w)
{
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = wait_seen(r, w, no_tx_open, cf_deadline_ms(r));
    if (v == CF_FAIL)
        return cf_skip(r, "a transaction of the pile is still running; connector 1 must be free");
    if (v != CF_PASS || !w->stop.set)
        return v; /* CF_ABORT, or no transaction before this one */
    struct cf_msg stop = {
        .unique_id = w->stop.unique_id, .conn = w->stop.conn, .at_ms = w->stop.at_ms};
    json_t *answer;
    v = cf_reply(r, &stop, cf_deadline_ms(r), &answer);
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS && thread_now_ms() >= cf_deadline_ms(r)) /* a CALLERROR is an answer too */
        return cf_error(r, "evgate did not answer the last StopTransaction within %lld s",
                        cf16_secs(t0));
    v = wait_seen(r, w, connector1_free, cf_deadline_ms(r));
    if (v == CF_FAIL)
        return cf_missing(r,
                          "connector 1 was not reported Available or Preparing within %lld s "
                          "after the last transaction ended (last status: %s)",
                          cf16_secs(t0), w->c1_status[0] ? w->c1_status : "none");
    return v;
}

enum cf_verdict cf16_remote_start(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    memset(&s->remote, 0, sizeof s->remote);
    enum cf_verdict v = wait_connector1_free(r, &s->seen);
    if (v != CF_PASS)
        return v;
    struct start_seen w = {.since_ms = thread_now_ms()};
    v = cf16_call_status(r, "RemoteStartTransaction on connector 1", "RemoteStartTransaction",
                         json_pack("{s:i, s:s}", "connectorId", 1, "idTag", CF16_ID_TAG),
                         "Accepted", NULL);
    if (v != CF_PASS)
        return v;
    bool started;
    v = start_tx(r, &w, judge_remote_start, &s->remote, &started);
    if (v == CF_FAIL && !started)
        return cf_missing(r,
                          "RemoteStartTransaction was Accepted, but no StartTransaction came "
                          "within %lld s",
                          cf16_secs(w.since_ms));
    return v;
}

enum cf_verdict cf16_remote_start_busy(struct cf_run *r)
{
    if (!cf_passed(r, "remote.start"))
        return cf_skip(r, "needs remote.start, which did not pass");
    bool started;
    struct cf_msg m;
    enum cf_verdict v = cf16_remote_start_rejected(
        r, "RemoteStartTransaction on connector 1 while it charges", 1, &started, &m);
    if (v == CF_PASS && started)
        return cf_fail(r,
                       "RemoteStartTransaction was Rejected, yet a second StartTransaction "
                       "(connector %lld) followed",
                       cf16_int(m.payload, "connectorId", -1));
    return v;
}

enum cf_verdict cf16_remote_start_rejected(struct cf_run *r, const char *what, int connector,
                                           bool *started, struct cf_msg *m)
{
    *started = false;
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = cf16_call_status(
        r, what, "RemoteStartTransaction",
        json_pack("{s:i, s:s}", "connectorId", connector, "idTag", CF16_ID_TAG), "Rejected", NULL);
    if (v != CF_PASS)
        return v;
    struct cf16_want w = {.since_ms = t0, .connector = -1};
    v = cf_expect(r, "StartTransaction", cf16_match, &w, cf_within_ms(r, CF16_QUIET_MS), m);
    *started = v == CF_PASS;
    return v == CF_ABORT ? CF_ABORT : CF_PASS;
}

enum cf_verdict cf16_remote_stop(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    if (!cf_passed(r, "remote.start"))
        return cf_skip(r, "needs remote.start, which did not pass");
    char what[96];
    snprintf(what, sizeof what, "RemoteStopTransaction of transaction %lld",
             (long long)s->remote.id);
    struct stop_seen w = {.since_ms = thread_now_ms(), .statuses = "Finishing"};
    enum cf_verdict v = cf16_call_status(
        r, what, "RemoteStopTransaction",
        json_pack("{s:I}", "transactionId", (json_int_t)s->remote.id), "Accepted", NULL);
    if (v != CF_PASS)
        return v;
    v = stop_tx(r, &s->remote, &w, "Remote");
    if (v == CF_FAIL && !w.stopped)
        return cf_fail(r, "%s was Accepted, but no StopTransaction came within %lld s", what,
                       cf16_secs(w.since_ms));
    return v;
}

/* The checks from the card on record what came during them for remote.start (struct
 * cf16_seen), however they end. */
enum cf_verdict cf16_authorize_card(struct cf_run *r)
{
    return observed(r, authorize_card(r));
}

enum cf_verdict cf16_tx_local_start(struct cf_run *r)
{
    return observed(r, tx_local_start(r));
}

enum cf_verdict cf16_tx_meter_values(struct cf_run *r)
{
    return observed(r, tx_meter_values(r));
}

enum cf_verdict cf16_tx_local_stop(struct cf_run *r)
{
    return observed(r, tx_local_stop(r));
}
