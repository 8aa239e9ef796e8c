/* Plan ocpp201-core: the checks of transactions (authorize.card, tx.*, remote.start/stop,
 * trigger.transaction-event), judged on the run's record of TransactionEvents
 * (conform_ocpp201_private.h), since an event a check needs may have come during the one before
 * (the Started right after the Authorize). */
#include "gateway/conform_ocpp201_private.h"
#include "common/thread.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NONE(s) ((s)[0] ? (s) : "(none)")

static const struct cf201_event *ev(const struct cf201 *st, size_t i)
{
    return &st->events[i];
}

static bool is(const char *a, const char *b)
{
    return !strcmp(a, b);
}

/* The first event of `tx` from index `from` of type `type` (NULL: any), or -1. */
static long find(const struct cf201 *st, const char *tx, const char *type, size_t from)
{
    for (size_t i = from; i < st->n_events; i++)
        if ((!tx || is(ev(st, i)->tx, tx)) && (!type || is(ev(st, i)->type, type)))
            return (long)i;
    return -1;
}

static long find_charging(const struct cf201 *st, const char *tx, size_t from)
{
    for (size_t i = from; i < st->n_events; i++)
        if (is(ev(st, i)->tx, tx) && is(ev(st, i)->charging, "Charging"))
            return (long)i;
    return -1;
}

/* Whether the energy readings of `tx` from `from` ever decrease; the first drop in `why`. */
static bool energy_drops(const struct cf201 *st, const char *tx, size_t from, char *why, size_t len)
{
    double prev = NAN;
    for (size_t i = from; i < st->n_events; i++) {
        const struct cf201_event *e = ev(st, i);
        if (!is(e->tx, tx))
            continue;
        if (e->wh_drops) {
            snprintf(why, len,
                     "the energy of transaction %s decreases within its TransactionEvent "
                     "%s seqNo %lld",
                     tx, e->type, e->seq_no);
            return true;
        }
        if (isnan(e->wh_first))
            continue;
        if (!isnan(prev) && e->wh_first < prev) {
            snprintf(why, len,
                     "the energy of transaction %s decreased from %.0f Wh to %.0f Wh "
                     "(TransactionEvent %s seqNo %lld)",
                     tx, prev, e->wh_first, e->type, e->seq_no);
            return true;
        }
        prev = e->wh_last;
    }
    return false;
}

static enum cf_verdict no_state(struct cf_run *r)
{
    return cf_error(r, "out of memory");
}

/* --- authorize.card --------------------------------------------------------------------------- */

/* The first event before index `upto` that carries an idToken, or -1. */
static long token_event(const struct cf201 *st, size_t upto)
{
    for (size_t i = 0; i < upto && i < st->n_events; i++)
        if (ev(st, i)->id_token[0])
            return (long)i;
    return -1;
}

static bool authorized(struct cf_run *r, struct cf201 *st, void *arg)
{
    return st->authorizes || token_event(st, st->n_events) >= 0;
}

enum cf_verdict cf201_authorize_card(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = cf201_wait(r, st, authorized, NULL, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    long t = token_event(st, st->authorizes ? st->events_before_auth : st->n_events);
    if (t >= 0)
        return cf_fail(r,
                       "transaction %s was authorized with idToken %s without an "
                       "AuthorizeRequest",
                       ev(st, t)->tx, ev(st, t)->id_token);
    if (!st->authorizes)
        return cf_missing(r, "no AuthorizeRequest within %d s", cf201_secs(t0, cf_deadline_ms(r)));
    if (!st->card[0])
        return cf_fail(r, "the AuthorizeRequest has an empty idToken");
    return CF_PASS;
}

/* --- tx.local-start --------------------------------------------------------------------------- */

struct local {
    long started;  /* index of the Started event, -1 */
    long token;    /* of the first event of it with an idToken, -1 */
    long charging; /* of the first with chargingState Charging, -1 */
    long ended;    /* of its Ended, -1 */
};

/* The Started of the card's transaction: the first after the Authorize, or one still running
 * when it came (a pile that starts on the cable, before the card). */
static long local_started(const struct cf201 *st)
{
    size_t before = st->events_before_auth;
    for (size_t i = 0; i < st->n_events; i++) {
        if (!is(ev(st, i)->type, "Started"))
            continue;
        long end = find(st, ev(st, i)->tx, "Ended", i);
        if (i >= before || end < 0 || (size_t)end >= before)
            return (long)i;
    }
    return -1;
}

static bool local_done(struct cf_run *r, struct cf201 *st, void *arg)
{
    struct local *l = arg;
    l->started = local_started(st);
    l->token = l->charging = l->ended = -1;
    if (l->started < 0)
        return false;
    const char *tx = ev(st, l->started)->tx;
    for (size_t i = (size_t)l->started; i < st->n_events && l->token < 0; i++)
        if (is(ev(st, i)->tx, tx) && ev(st, i)->id_token[0])
            l->token = (long)i;
    l->charging = find_charging(st, tx, (size_t)l->started);
    l->ended = find(st, tx, "Ended", (size_t)l->started);
    if (l->token >= 0 && !is(ev(st, l->token)->id_token, st->card))
        return true;
    return (l->token >= 0 && l->charging >= 0) || l->ended >= 0;
}

enum cf_verdict cf201_tx_local_start(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    if (!cf_passed(r, "authorize.card"))
        return cf_skip(r, "needs authorize.card, which did not pass");
    int64_t t0 = thread_now_ms();
    struct local l;
    enum cf_verdict v = cf201_wait(r, st, local_done, &l, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    int secs = cf201_secs(t0, cf_deadline_ms(r));
    if (l.started < 0)
        return cf_missing(r, "no TransactionEventRequest Started within %d s", secs);
    const struct cf201_event *s = ev(st, l.started);
    if (!s->tx[0])
        return cf_fail(r, "TransactionEvent Started (seqNo %lld) without a transactionId",
                       s->seq_no);
    if (l.token >= 0 && !is(ev(st, l.token)->id_token, st->card))
        return cf_fail(r, "transaction %s carries idToken %s, the card presented was %s", s->tx,
                       ev(st, l.token)->id_token, st->card);
    if (l.token < 0)
        return cf_fail(r,
                       "transaction %s never carried the card's idToken %s (in its Started or "
                       "an Updated event)",
                       s->tx, st->card);
    if (l.charging < 0 && l.ended >= 0)
        return cf_fail(r, "transaction %s ended (stoppedReason %s) before chargingState Charging",
                       s->tx, NONE(ev(st, l.ended)->stopped));
    if (l.charging < 0)
        return cf_missing(r,
                          "transaction %s started but did not reach chargingState Charging "
                          "within %d s",
                          s->tx, secs);
    snprintf(st->local_tx, sizeof st->local_tx, "%s", s->tx);
    st->local_from = (size_t)l.started;
    st->local_evse = 0;
    for (size_t i = st->local_from; i < st->n_events && !st->local_evse; i++)
        if (is(ev(st, i)->tx, s->tx))
            st->local_evse = ev(st, i)->evse;
    return CF_PASS;
}

/* --- tx.meter-values -------------------------------------------------------------------------- */

struct meter {
    long found, other, ended; /* an Updated with meterValue of it; of another; its Ended */
    bool drops;
    char why[256];
};

static bool meter_done(struct cf_run *r, struct cf201 *st, void *arg)
{
    struct meter *m = arg;
    m->found = m->other = -1;
    m->ended = find(st, st->local_tx, "Ended", st->local_from);
    size_t upto = m->ended >= 0 ? (size_t)m->ended : st->n_events;
    for (size_t i = st->local_from + 1; i < upto; i++) {
        const struct cf201_event *e = ev(st, i);
        if (!is(e->type, "Updated") || !e->meter)
            continue;
        if (is(e->tx, st->local_tx) && m->found < 0)
            m->found = (long)i;
        else if (!is(e->tx, st->local_tx) && m->other < 0)
            m->other = (long)i;
    }
    m->drops = energy_drops(st, st->local_tx, st->local_from, m->why, sizeof m->why);
    return m->drops || m->other >= 0 || m->found >= 0 || m->ended >= 0;
}

enum cf_verdict cf201_tx_meter_values(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    if (!cf_passed(r, "tx.local-start"))
        return cf_skip(r, "needs tx.local-start, which did not pass");
    long long interval = st->tx_updated_known && st->tx_updated_s > 0 ? st->tx_updated_s : 60;
    int64_t t0 = thread_now_ms();
    struct meter m;
    enum cf_verdict v = cf201_wait(r, st, meter_done, &m, cf_within_ms(r, 2 * interval * 1000));
    if (v == CF_ABORT)
        return v;
    if (m.drops)
        return cf_fail(r, "%s", m.why);
    if (m.other >= 0 && (m.found < 0 || m.other < m.found))
        return cf_fail(r,
                       "TransactionEvent Updated (seqNo %lld) carries transactionId %s during "
                       "transaction %s",
                       ev(st, m.other)->seq_no, ev(st, m.other)->tx, st->local_tx);
    if (m.found >= 0)
        return CF_PASS;
    if (m.ended >= 0)
        return cf_fail(r,
                       "transaction %s ended before any TransactionEvent Updated with a "
                       "meterValue",
                       st->local_tx);
    return cf_fail(r,
                   "no TransactionEventRequest Updated with a meterValue for transaction %s "
                   "within %d s (2 x TxUpdatedInterval, %lld s)",
                   st->local_tx, cf201_secs(t0, thread_now_ms()), interval);
}

/* --- trigger.transaction-event ---------------------------------------------------------------- */

static bool triggered(struct cf_run *r, struct cf201 *st, void *arg)
{
    for (size_t i = *(const size_t *)arg; i < st->n_events; i++)
        if (is(ev(st, i)->trigger, "Trigger"))
            return true;
    return false;
}

enum cf_verdict cf201_trigger_tx_event(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    if (!cf_passed(r, "tx.local-start"))
        return cf_skip(r, "needs tx.local-start, which did not pass");
    cf201_observe(r, st);
    if (find(st, st->local_tx, "Ended", st->local_from) >= 0)
        return cf_skip(r, "transaction %s had already ended", st->local_tx);
    int evse = st->local_evse > 0 ? st->local_evse : 1;
    size_t from = st->n_events;
    int64_t t0 = thread_now_ms();
    char status[CF201_WORD_MAX];
    enum cf_verdict v = cf201_call(
        r, "TriggerMessage",
        json_pack("{s:s, s:{s:i}}", "requestedMessage", "TransactionEvent", "evse", "id", evse),
        status, NULL);
    if (v != CF_PASS)
        return v;
    if (strcmp(status, "Accepted"))
        return cf_fail(r,
                       "TriggerMessage{requestedMessage:TransactionEvent, evse:{id:%d}} "
                       "answered status %s, expected Accepted",
                       evse, NONE(status));
    v = cf201_wait(r, st, triggered, &from, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS)
        return cf_fail(r,
                       "no TransactionEventRequest with triggerReason Trigger within %d s after "
                       "TriggerMessage was accepted",
                       cf201_secs(t0, cf_deadline_ms(r)));
    for (size_t i = from; i < st->n_events; i++)
        if (is(ev(st, i)->trigger, "Trigger") && !ev(st, i)->meter)
            return cf_fail(r, "the triggered TransactionEvent (seqNo %lld) has no meterValue",
                           ev(st, i)->seq_no);
    return CF_PASS;
}

/* --- tx.local-stop ---------------------------------------------------------------------------- */

static bool any_ended(struct cf_run *r, struct cf201 *st, void *arg)
{
    return find(st, NULL, "Ended", st->local_from) >= 0;
}

enum cf_verdict cf201_tx_local_stop(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    if (!cf_passed(r, "tx.local-start"))
        return cf_skip(r, "needs tx.local-start, which did not pass");
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = cf201_wait(r, st, any_ended, NULL, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    long i = find(st, NULL, "Ended", st->local_from);
    if (i < 0)
        return cf_missing(r, "transaction %s did not end within %d s", st->local_tx,
                          cf201_secs(t0, cf_deadline_ms(r)));
    const struct cf201_event *e = ev(st, i);
    if (!is(e->tx, st->local_tx))
        return cf_fail(r, "TransactionEvent Ended for transaction %s, the running one is %s",
                       NONE(e->tx), st->local_tx);
    if (!e->stopped[0])
        return cf_fail(r, "TransactionEvent Ended of %s (seqNo %lld) has no stoppedReason", e->tx,
                       e->seq_no);
    if (!e->meter)
        return cf_fail(r,
                       "TransactionEvent Ended of %s (seqNo %lld) has no meterValue (the final "
                       "reading)",
                       e->tx, e->seq_no);
    char why[256];
    if (energy_drops(st, st->local_tx, st->local_from, why, sizeof why))
        return cf_fail(r, "%s", why);
    return CF_PASS;
}

/* --- remote.start, remote.stop ---------------------------------------------------------------- */

struct remote {
    size_t from;
    long first;    /* the first event after the call with RemoteStart or a remoteStartId, -1 */
    long charging; /* of its transaction, -1 */
    long ended;
};

static bool remote_done(struct cf_run *r, struct cf201 *st, void *arg)
{
    struct remote *x = arg;
    x->first = x->charging = x->ended = -1;
    for (size_t i = x->from; i < st->n_events && x->first < 0; i++)
        if (is(ev(st, i)->trigger, "RemoteStart") || ev(st, i)->remote_start_id >= 0)
            x->first = (long)i;
    if (x->first < 0)
        return false;
    const struct cf201_event *e = ev(st, x->first);
    if (e->remote_start_id != CF201_REMOTE_ID || !is(e->trigger, "RemoteStart"))
        return true;
    x->charging = find_charging(st, e->tx, x->from);
    x->ended = find(st, e->tx, "Ended", x->from);
    return x->charging >= 0 || x->ended >= 0;
}

static bool none_running(struct cf_run *r, struct cf201 *st, void *arg)
{
    return !cf201_running_tx(st);
}

/* EVSE 1 reported Available or Occupied since the last Ended. */
static bool evse1_free(struct cf_run *r, struct cf201 *st, void *arg)
{
    const char *s = st->evse_state[1];
    return st->evse_n[1] > st->ended.n && (is(s, "Available") || is(s, "Occupied"));
}

/* Before remote.start's request: the earlier transaction ended (its TransactionEvent Ended
 * answered by evgate) and EVSE 1 reported Available or Occupied since, within the check's time.
 * A pile may rightly reject a start while its last transaction is still ending. */
static enum cf_verdict wait_evse1_free(struct cf_run *r, struct cf201 *st)
{
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = cf201_wait(r, st, none_running, NULL, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS)
        return cf_skip(r, "transaction %s is still running; EVSE 1 must be free",
                       cf201_running_tx(st));
    if (!st->ended.set)
        return CF_PASS; /* no transaction before this one */
    json_t *answer;
    v = cf201_reply(r, &st->ended, cf_deadline_ms(r), &answer);
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS && thread_now_ms() >= cf_deadline_ms(r)) /* a CALLERROR is an answer too */
        return cf_error(r, "evgate did not answer the last TransactionEvent Ended within %d s",
                        cf201_secs(t0, cf_deadline_ms(r)));
    v = cf201_wait(r, st, evse1_free, NULL, cf_deadline_ms(r));
    if (v == CF_FAIL)
        return cf_missing(r,
                          "EVSE 1 was not reported Available or Occupied within %d s after the "
                          "last transaction ended (last state reported: %s)",
                          cf201_secs(t0, cf_deadline_ms(r)),
                          st->evse_state[1][0] ? st->evse_state[1] : "none");
    return v;
}

enum cf_verdict cf201_remote_start(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    enum cf_verdict v = wait_evse1_free(r, st);
    if (v != CF_PASS)
        return v;
    struct remote x = {st->n_events, -1, -1, -1};
    int64_t t0 = thread_now_ms();
    char status[CF201_WORD_MAX];
    v = cf201_call(r, "RequestStartTransaction",
                   json_pack("{s:i, s:i, s:{s:s, s:s}}", "evseId", 1, "remoteStartId",
                             CF201_REMOTE_ID, "idToken", "idToken", CF201_IDTOKEN, "type",
                             "Central"),
                   status, NULL);
    if (v != CF_PASS)
        return v;
    if (strcmp(status, "Accepted"))
        return cf_fail(r, "RequestStartTransaction{evseId:1} answered status %s, expected Accepted",
                       NONE(status));
    v = cf201_wait(r, st, remote_done, &x, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    int secs = cf201_secs(t0, cf_deadline_ms(r));
    if (x.first < 0)
        return cf_missing(r,
                          "no TransactionEventRequest with triggerReason RemoteStart within %d s "
                          "after RequestStartTransaction was accepted",
                          secs);
    const struct cf201_event *e = ev(st, x.first);
    if (e->remote_start_id != CF201_REMOTE_ID)
        return cf_fail(r, "TransactionEvent %s of transaction %s has remoteStartId %lld, sent %d",
                       e->type, e->tx, e->remote_start_id, CF201_REMOTE_ID);
    if (!is(e->trigger, "RemoteStart"))
        return cf_fail(r,
                       "TransactionEvent %s of transaction %s has triggerReason %s, expected "
                       "RemoteStart",
                       e->type, e->tx, NONE(e->trigger));
    if (x.charging < 0 && x.ended >= 0)
        return cf_fail(r, "transaction %s ended (stoppedReason %s) before chargingState Charging",
                       e->tx, NONE(ev(st, x.ended)->stopped));
    if (x.charging < 0)
        return cf_missing(r,
                          "transaction %s started remotely but did not reach chargingState "
                          "Charging within %d s",
                          e->tx, secs);
    snprintf(st->remote_tx, sizeof st->remote_tx, "%s", e->tx);
    return CF_PASS;
}

static bool remote_ended(struct cf_run *r, struct cf201 *st, void *arg)
{
    return find(st, st->remote_tx, "Ended", *(const size_t *)arg) >= 0;
}

enum cf_verdict cf201_remote_stop(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    if (!cf_passed(r, "remote.start"))
        return cf_skip(r, "needs remote.start, which did not pass");
    cf201_observe(r, st);
    if (find(st, st->remote_tx, "Ended", 0) >= 0)
        return cf_skip(r, "transaction %s had already ended", st->remote_tx);
    size_t from = st->n_events;
    int64_t t0 = thread_now_ms();
    char status[CF201_WORD_MAX], what[128];
    snprintf(what, sizeof what, "RequestStopTransaction{transactionId:\"%s\"}", st->remote_tx);
    enum cf_verdict v =
        cf201_call(r, "RequestStopTransaction", json_pack("{s:s}", "transactionId", st->remote_tx),
                   status, NULL);
    if (v != CF_PASS)
        return v;
    if (strcmp(status, "Accepted"))
        return cf_fail(r, "%s answered status %s, expected Accepted", what, NONE(status));
    v = cf201_wait(r, st, remote_ended, &from, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    long end = find(st, st->remote_tx, "Ended", from);
    if (end < 0)
        return cf_fail(r,
                       "transaction %s did not end within %d s after RequestStopTransaction "
                       "was accepted",
                       st->remote_tx, cf201_secs(t0, cf_deadline_ms(r)));
    bool remote_stop = false;
    for (size_t i = from; i <= (size_t)end; i++)
        remote_stop |= is(ev(st, i)->tx, st->remote_tx) && is(ev(st, i)->trigger, "RemoteStop");
    const struct cf201_event *e = ev(st, end);
    if (!remote_stop || !is(e->stopped, "Remote"))
        return cf_fail(r,
                       "TransactionEvent Ended of %s has triggerReason %s and stoppedReason %s, "
                       "expected RemoteStop and Remote",
                       e->tx, NONE(e->trigger), NONE(e->stopped));
    return CF_PASS;
}

/* --- tx.event-sequence ------------------------------------------------------------------------ */

/* One transaction's events: the reason of the first fault in `why`, or false. */
static bool sequence_fault(const struct cf201 *st, size_t first, char *why, size_t len)
{
    const char *tx = ev(st, first)->tx;
    const struct cf201_event *prev = NULL;
    for (size_t i = first; i < st->n_events; i++) {
        const struct cf201_event *e = ev(st, i);
        if (!is(e->tx, tx))
            continue;
        if (!prev && !is(e->type, "Started")) {
            snprintf(why, len,
                     "transaction %s: its first TransactionEvent is %s (seqNo %lld), "
                     "expected Started",
                     NONE(tx), NONE(e->type), e->seq_no);
            return true;
        }
        if (prev && is(prev->type, "Ended")) {
            snprintf(why, len, "transaction %s: %s (seqNo %lld) after its Ended", NONE(tx),
                     NONE(e->type), e->seq_no);
            return true;
        }
        if (prev && is(e->type, "Started")) {
            snprintf(why, len, "transaction %s: a second Started (seqNo %lld)", NONE(tx),
                     e->seq_no);
            return true;
        }
        if (prev && e->seq_no != prev->seq_no + 1) {
            if (e->seq_no > prev->seq_no + 1)
                snprintf(why, len, "transaction %s: seqNo %lld follows %lld (%lld missing)",
                         NONE(tx), e->seq_no, prev->seq_no, e->seq_no - prev->seq_no - 1);
            else
                snprintf(why, len, "transaction %s: seqNo %lld follows %lld (not rising by 1)",
                         NONE(tx), e->seq_no, prev->seq_no);
            return true;
        }
        prev = e;
    }
    return false;
}

enum cf_verdict cf201_tx_event_sequence(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return no_state(r);
    /* what came with the last check's end */
    if (cf_sleep_until(r, thread_now_ms() + 100) == CF_ABORT)
        return CF_ABORT;
    cf201_observe(r, st);
    if (!st->n_events)
        return cf_skip(r, "no TransactionEventRequest came during the run");
    char why[512], open[256] = "";
    size_t n_open = 0;
    for (size_t i = 0; i < st->n_events; i++) {
        if (find(st, ev(st, i)->tx, NULL, 0) != (long)i)
            continue; /* not the transaction's first event */
        if (sequence_fault(st, i, why, sizeof why))
            return cf_fail(r, "%s", why);
        if (find(st, ev(st, i)->tx, "Ended", i) < 0 && n_open++ == 0)
            snprintf(open, sizeof open, "%s", ev(st, i)->tx);
    }
    if (st->events_dropped)
        return cf_pass_note(r, "judged the first %d TransactionEvents; %zu more were not kept",
                            CF201_EVENTS_MAX, st->events_dropped);
    if (n_open)
        return cf_pass_note(r, "transaction %s%s had not ended by the end of the run", open,
                            n_open > 1 ? " and others" : "");
    return CF_PASS;
}
