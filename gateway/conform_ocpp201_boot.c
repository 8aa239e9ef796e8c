/* Plan ocpp201-core: the checks of a pile booting (boot.*, reset.*): the BootNotification first on
 * a new connection, answered Accepted by evgate, then every EVSE's state reported (a
 * StatusNotification for it, or a NotifyEvent of its AvailabilityState). */
#include "gateway/conform_ocpp201_private.h"
#include "common/thread.h"

#include <stdio.h>
#include <string.h>

/* The EVSEs not reported since the last boot, "1, 3", in `out`; whether there are any. */
static bool missing(struct cf_run *r, const struct cf201 *st, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    for (int e = 1; e <= cf_connectors(r) && e <= CF201_EVSE_MAX; e++) {
        if (st->reported[e] || used >= len)
            continue;
        int k = snprintf(out + used, len - used, "%s%d", used ? ", " : "", e);
        used += k > 0 ? (size_t)k : 0;
    }
    return out[0] != 0;
}

static bool all_reported(struct cf_run *r, struct cf201 *st, void *arg)
{
    char buf[8];
    return st->bad_evse || !missing(r, st, buf, sizeof buf);
}

/* The reason of an EVSE reported that the pile does not have. */
static enum cf_verdict bad_evse(struct cf_run *r, const struct cf201 *st)
{
    if (st->bad_evse < 0)
        return cf_fail(r,
                       "the state of an evseId out of range was reported; the pile has EVSEs "
                       "1-%d",
                       cf_connectors(r));
    return cf_fail(r, "the state of evseId %d was reported; the pile has EVSEs 1-%d", st->bad_evse,
                   cf_connectors(r));
}

static enum cf_verdict too_many(struct cf_run *r)
{
    return cf_error(r, "the pile has %d EVSEs, more than the %d these checks follow",
                    cf_connectors(r), CF201_EVSE_MAX);
}

/* evgate answers a BootNotification as the pile's boot setting says: Pending or Rejected leaves
 * a pile that may send nothing else, so the run stops there (cf_fail_stop). CF_PASS when `ref` was
 * answered Accepted, else CF_FAIL with the reason set; CF_ABORT. */
static enum cf_verdict boot_accepted(struct cf_run *r, const struct cf201_ref *ref)
{
    json_t *answer;
    enum cf_verdict v = cf201_reply(r, ref, cf_deadline_ms(r), &answer);
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS)
        return cf_fail(r, "evgate answered the BootNotificationRequest with a CALLERROR or not "
                          "within the check's time");
    const char *status = cf201_str(answer, "status");
    if (!status || strcmp(status, "Accepted"))
        return cf_fail_stop(
            r,
            "evgate answered the BootNotificationRequest with status %s (the pile's "
            "boot setting), not Accepted: the run cannot go on",
            status ? status : "(none)");
    return CF_PASS;
}

struct after_conn {
    int conn;
};

static bool first_on_newer_conn(const struct cf_msg *m, void *arg)
{
    const struct after_conn *a = arg;
    return m->first_on_conn && m->conn > a->conn;
}

enum cf_verdict cf201_boot_first_message(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return cf_error(r, "out of memory");
    int64_t t0 = thread_now_ms();
    struct after_conn after = {cf_conn(r)};
    char status[CF201_WORD_MAX] = "", reset[256] = "";
    if (cf_connected(r)) {
        /* the Reset is only the means: a person may power-cycle the pile instead */
        struct cf_answer a;
        enum cf_verdict v =
            cf201_call(r, "Reset", json_pack("{s:s}", "type", "Immediate"), status, &a);
        if (v == CF_ABORT || v == CF_ERROR)
            return v;
        if (v != CF_PASS)
            snprintf(reset, sizeof reset, "Reset Immediate: %s", cf_answer_text(r, &a));
        else if (strcmp(status, "Accepted"))
            snprintf(reset, sizeof reset, "Reset Immediate answered status %s", status);
    }
    struct cf_msg m;
    enum cf_verdict v = cf_expect(r, NULL, first_on_newer_conn, &after, cf_deadline_ms(r), &m);
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS)
        return cf_fail(r, "no new connection of the pile within %d s%s%s",
                       cf201_secs(t0, cf_deadline_ms(r)), reset[0] ? "; " : "", reset);
    if (strcmp(m.action, "BootNotification"))
        return cf_fail(r,
                       "the first CALL on the new connection was %s, expected "
                       "BootNotificationRequest",
                       m.action);
    cf201_observe(r, st);
    if ((v = boot_accepted(r, &st->boot)) != CF_PASS)
        return v;
    /* the statuses follow the boot at once: take them here, boot.status-all-connectors judges */
    if (cf201_wait(r, st, all_reported, NULL, cf_within_ms(r, 2000)) == CF_ABORT)
        return CF_ABORT;
    if (reset[0]) /* a person power-cycled it */
        return cf_pass_note(r, "booted, though %s", reset);
    return cf_pass_note(r, "%s", "");
}

enum cf_verdict cf201_boot_status_all(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return cf_error(r, "out of memory");
    if (!cf_passed(r, "boot.first-message"))
        return cf_skip(r, "needs boot.first-message, which did not pass");
    if (cf_connectors(r) > CF201_EVSE_MAX)
        return too_many(r);
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = cf201_wait(r, st, all_reported, NULL, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    if (st->bad_evse)
        return bad_evse(r, st);
    char which[256];
    if (v != CF_PASS && missing(r, st, which, sizeof which))
        return cf_fail(r,
                       "no state reported after the BootNotification for EVSE %s within %d s "
                       "(a StatusNotificationRequest or a NotifyEventRequest of "
                       "AvailabilityState)",
                       which, cf201_secs(t0, cf_deadline_ms(r)));
    return CF_PASS;
}

/* --- reset.* ---------------------------------------------------------------------------------- */

struct reboot {
    int boots;    /* before the Reset */
    int old_conn; /* reset.immediate: the connection before it; -1 for reset.on-idle */
};

static bool rebooted(struct cf_run *r, struct cf201 *st, void *arg)
{
    const struct reboot *b = arg;
    if (b->old_conn >= 0 && st->new_conn > b->old_conn &&
        strcmp(st->new_conn_action, "BootNotification"))
        return true; /* another first CALL: judged below */
    if (b->old_conn >= 0 && st->new_conn <= b->old_conn)
        return false;
    return st->boots > b->boots;
}

/* After an accepted Reset: the boot (on a new connection for Immediate) answered Accepted, then
 * every EVSE. */
static enum cf_verdict judge_reboot(struct cf_run *r, struct cf201 *st, const struct reboot *b,
                                    const char *type, int64_t t0)
{
    enum cf_verdict v = cf201_wait(r, st, rebooted, (void *)b, cf_deadline_ms(r));
    if (v == CF_ABORT)
        return v;
    int secs = cf201_secs(t0, cf_deadline_ms(r));
    if (b->old_conn >= 0 && st->new_conn <= b->old_conn)
        return cf_fail(r, "the pile did not reconnect within %d s after Reset %s was accepted",
                       secs, type);
    if (b->old_conn >= 0 && strcmp(st->new_conn_action, "BootNotification"))
        return cf_fail(r,
                       "the first CALL on the new connection was %s, expected "
                       "BootNotificationRequest",
                       st->new_conn_action);
    if (st->boots <= b->boots)
        return cf_fail(r, "no BootNotificationRequest within %d s after Reset %s was accepted",
                       secs, type);
    if ((v = boot_accepted(r, &st->boot)) != CF_PASS)
        return v;
    if ((v = cf201_wait(r, st, all_reported, NULL, cf_deadline_ms(r))) == CF_ABORT)
        return v;
    if (st->bad_evse)
        return bad_evse(r, st);
    char which[256];
    if (missing(r, st, which, sizeof which))
        return cf_fail(r, "the pile booted again but reported no state for EVSE %s within %d s",
                       which, secs);
    return CF_PASS;
}

/* Where a reset check starts: CF_PASS with the run's state, observed up to now, in *st; the
 * check's verdict when it cannot start (out of memory, too many EVSEs). */
static enum cf_verdict reset_start(struct cf_run *r, struct cf201 **st)
{
    if (!(*st = cf201_state(r)))
        return cf_error(r, "out of memory");
    if (cf_connectors(r) > CF201_EVSE_MAX)
        return too_many(r);
    cf201_observe(r, *st);
    return CF_PASS;
}

/* Sends Reset{type: `type`}: CF_PASS when it was Accepted; else the check's verdict. */
static enum cf_verdict reset_accepted(struct cf_run *r, const char *type)
{
    char status[CF201_WORD_MAX];
    enum cf_verdict v = cf201_call(r, "Reset", json_pack("{s:s}", "type", type), status, NULL);
    if (v != CF_PASS)
        return v;
    if (strcmp(status, "Accepted"))
        return cf_fail(r, "Reset{type:%s} answered status %s, expected Accepted", type,
                       status[0] ? status : "(none)");
    return CF_PASS;
}

enum cf_verdict cf201_reset_on_idle(struct cf_run *r)
{
    struct cf201 *st;
    enum cf_verdict v = reset_start(r, &st);
    if (v != CF_PASS)
        return v;
    const char *tx = cf201_running_tx(st);
    if (tx)
        return cf_skip(r, "transaction %s is still running; OnIdle would wait for its end", tx);
    /* the last one ended once evgate answered its Ended (a pile may hold the transaction until
     * then): a CALLERROR or no answer leaves the pile to judge */
    json_t *answer;
    if (st->ended.set && cf201_reply(r, &st->ended, cf_deadline_ms(r), &answer) == CF_ABORT)
        return CF_ABORT;
    int64_t t0 = thread_now_ms();
    struct reboot b = {st->boots, -1};
    if ((v = reset_accepted(r, "OnIdle")) != CF_PASS)
        return v;
    return judge_reboot(r, st, &b, "OnIdle", t0);
}

enum cf_verdict cf201_reset_immediate(struct cf_run *r)
{
    struct cf201 *st;
    enum cf_verdict v = reset_start(r, &st);
    if (v != CF_PASS)
        return v;
    int64_t t0 = thread_now_ms();
    int conn = cf_conn(r);
    struct reboot b = {st->boots, conn};
    if ((v = reset_accepted(r, "Immediate")) != CF_PASS)
        return v;
    if (cf_connected(r) && cf_conn(r) == conn) {
        v = cf_expect_close(r, cf_deadline_ms(r));
        if (v == CF_ABORT)
            return v;
        if (v != CF_PASS)
            return cf_fail(r,
                           "the connection did not close within %d s after Reset Immediate "
                           "was accepted",
                           cf201_secs(t0, cf_deadline_ms(r)));
    }
    return judge_reboot(r, st, &b, "Immediate", t0);
}
