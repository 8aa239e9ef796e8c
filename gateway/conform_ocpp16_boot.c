/* Plan ocpp16-core (protocol/plans_ocpp16.c): boots and resets — Reset, the connection closing
 * and coming back, the BootNotification answered Accepted, then a StatusNotification for
 * connector 0 and each connector. Each follows its check's `what` there. */
#include "gateway/conform_ocpp16_private.h"
#include "common/thread.h"

#include <stdio.h>
#include <string.h>

/* How long the boot check lingers after the BootNotification for the StatusNotifications that
 * follow it, so that boot.status-all-connectors need not miss the ones that came meanwhile. */
#define BOOT_LINGER_MS 10000

/* A CALL that came at or after `ms` (cf_expect's filter). */
struct since {
    int64_t ms;
};

static bool arrived_since(const struct cf_msg *m, void *arg)
{
    return m->at_ms >= ((struct since *)arg)->ms;
}

/* Takes the StatusNotifications that came at or after `since_ms` until each connector 0..n is in
 * *seen (bit c) or `deadline_ms`: CF_PASS when all are in, CF_FAIL on the deadline or when one
 * names a connector the pile does not have (into *bad), CF_ABORT. */
static enum cf_verdict collect_statuses(struct cf_run *r, int n, int64_t since_ms,
                                        int64_t deadline_ms, uint64_t *seen, long long *bad)
{
    uint64_t all = (n >= 63 ? ~0ull : (2ull << n) - 1);
    struct since w = {since_ms};
    while ((*seen & all) != all) {
        struct cf_msg m;
        enum cf_verdict v = cf_expect(r, "StatusNotification", arrived_since, &w, deadline_ms, &m);
        if (v != CF_PASS)
            return v;
        long long c = cf16_int(m.payload, "connectorId", -1);
        if (c < 0 || c > n) {
            *bad = c;
            return CF_FAIL;
        }
        *seen |= 1ull << c;
    }
    return CF_PASS;
}

/* "0, 2": the connectors 0..n not in `seen`. */
static const char *missing_text(int n, uint64_t seen, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int c = 0; c <= n && o < len; c++)
        if (!(seen & (1ull << c)))
            o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? ", " : "", c);
    return buf;
}

/* The verdict of collect_statuses' CF_FAIL, with `after` naming the boot ("after the
 * BootNotification"). */
static enum cf_verdict statuses_fail(struct cf_run *r, int n, uint64_t seen, long long bad,
                                     const char *after, int64_t t0)
{
    char miss[256];
    if (bad)
        return cf_fail(r,
                       "StatusNotification %s for connector %lld, which the pile does not have "
                       "(registered: 1..%d)",
                       after, bad, n);
    return cf_fail(r, "no StatusNotification %s for connector%s %s within %lld s", after,
                   strchr(missing_text(n, seen, miss, sizeof miss), ',') ? "s" : "", miss,
                   cf16_secs(t0));
}

/* The pile's connectors, checked against the bit set. */
static int connectors(struct cf_run *r)
{
    int n = cf_connectors(r);
    return n > CF16_CONNECTORS_MAX ? -1 : n;
}

/* --- boot and reset ------------------------------------------------------------------------- */

/* evgate answers a BootNotification as the pile's boot setting says: Pending or Rejected leaves
 * a pile that may send nothing else, so the run stops there (cf_fail_stop). CF_PASS when `m` was
 * answered Accepted, else CF_FAIL with the reason set; CF_ABORT. */
static enum cf_verdict boot_accepted(struct cf_run *r, const struct cf_msg *m)
{
    json_t *answer;
    enum cf_verdict v = cf_reply(r, m, cf_deadline_ms(r), &answer);
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS)
        return cf_fail(r, "evgate answered the BootNotification with a CALLERROR or not within "
                          "the check's time");
    const char *status = cf16_str(answer, "status");
    if (!status || strcmp(status, "Accepted") != 0)
        return cf_fail_stop(r,
                            "evgate answered the BootNotification with status %s (the pile's boot "
                            "setting), not Accepted: the run cannot go on",
                            status ? status : "absent");
    return CF_PASS;
}

struct new_conn {
    int after; /* a connection number */
};

static bool first_on_new_conn(const struct cf_msg *m, void *arg)
{
    return m->first_on_conn && m->conn > ((struct new_conn *)arg)->after;
}

/* Sends Reset{type} when the pile is connected; the answer's text into `said` ("" when
 * Accepted) and whether it was accepted. */
static enum cf_verdict send_reset(struct cf_run *r, const char *type, bool *accepted, char *said,
                                  size_t len)
{
    *accepted = false;
    if (!cf_connected(r)) {
        snprintf(said, len, "the pile was not connected to be sent a Reset");
        return CF_PASS;
    }
    json_t *p = json_pack("{s:s}", "type", type);
    if (!p)
        return cf_error(r, "out of memory");
    struct cf_answer a;
    enum cf_verdict v = cf_call(r, "Reset", p, &a);
    json_decref(p);
    if (v == CF_ABORT)
        return CF_ABORT;
    *accepted = a.kind == CF_RESULT && cf16_in(cf16_str(a.payload, "status"), "Accepted");
    snprintf(said, len, "%s", *accepted ? "" : cf_answer_text(r, &a));
    return CF_PASS;
}

/* Waits for the connection `conn` to end (it may already have) and the first CALL of a later
 * one into *m. `why` says what made the pile go. */
static enum cf_verdict reconnect(struct cf_run *r, int conn, const char *why, int64_t t0,
                                 struct cf_msg *m)
{
    if (cf_connected(r) && cf_conn(r) == conn) {
        enum cf_verdict v = cf_expect_close(r, cf_deadline_ms(r));
        if (v == CF_FAIL)
            return cf_fail(r, "%s, but the connection stayed open for %lld s", why, cf16_secs(t0));
        if (v != CF_PASS)
            return v;
    }
    struct new_conn w = {conn};
    enum cf_verdict v = cf_expect(r, NULL, first_on_new_conn, &w, cf_deadline_ms(r), m);
    if (v == CF_FAIL)
        return cf_fail(r, "%s; the connection closed, but no new one sent a CALL within %lld s",
                       why, cf16_secs(t0));
    if (v == CF_PASS && strcmp(m->action, "BootNotification") != 0)
        return cf_fail(r, "the first CALL on the new connection was %s, not BootNotification",
                       m->action);
    return v;
}

enum cf_verdict cf16_boot_first_message(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    int n = connectors(r);
    if (!s)
        return cf_error(r, "out of memory");
    if (n < 0)
        return cf_error(r, "more than %d connectors", CF16_CONNECTORS_MAX);
    int64_t t0 = thread_now_ms();
    int conn = cf_conn(r);
    bool accepted;
    char said[600];
    enum cf_verdict v = send_reset(r, "Hard", &accepted, said, sizeof said);
    if (v != CF_PASS)
        return v;
    struct cf_msg m;
    if (accepted) {
        v = reconnect(r, conn, "Reset{type:Hard} was Accepted", t0, &m);
    } else {
        /* refused or not connected: a person may power-cycle the pile */
        struct new_conn w = {conn};
        v = cf_expect(r, NULL, first_on_new_conn, &w, cf_deadline_ms(r), &m);
        if (v == CF_FAIL)
            return cf_fail(r, "Reset{type:Hard}: %s, and the pile did not reconnect within %lld s",
                           said, cf16_secs(t0));
        if (v == CF_PASS && strcmp(m.action, "BootNotification") != 0)
            return cf_fail(r, "the first CALL on the new connection was %s, not BootNotification",
                           m.action);
    }
    if (v != CF_PASS || (v = boot_accepted(r, &m)) != CF_PASS)
        return v;
    s->boot_at_ms = m.at_ms;
    s->boot_seen = 0;
    s->boot_bad = 0;
    v = collect_statuses(r, n, m.at_ms, cf_within_ms(r, BOOT_LINGER_MS), &s->boot_seen,
                         &s->boot_bad);
    return v == CF_ABORT ? CF_ABORT : CF_PASS; /* judged by boot.status-all-connectors */
}

enum cf_verdict cf16_boot_status_all(struct cf_run *r)
{
    struct cf16_state *s = cf16_state(r);
    if (!s)
        return cf_error(r, "out of memory");
    if (!cf_passed(r, "boot.first-message"))
        return cf_skip(r, "needs boot.first-message, which did not pass");
    int n = connectors(r);
    int64_t t0 = thread_now_ms();
    enum cf_verdict v = CF_FAIL;
    if (!s->boot_bad)
        v = collect_statuses(r, n, s->boot_at_ms, cf_deadline_ms(r), &s->boot_seen, &s->boot_bad);
    if (v == CF_FAIL)
        return statuses_fail(r, n, s->boot_seen, s->boot_bad, "after the BootNotification", t0);
    return v;
}

/* reset.soft and reset.hard: Reset{type} Accepted, a BootNotification (for a hard reset, the
 * first CALL of a new connection), then a StatusNotification for each connector 0..n. */
static enum cf_verdict reset(struct cf_run *r, const char *type)
{
    int n = connectors(r);
    if (n < 0)
        return cf_error(r, "more than %d connectors", CF16_CONNECTORS_MAX);
    bool hard = strcmp(type, "Hard") == 0;
    int64_t t0 = thread_now_ms();
    int conn = cf_conn(r);
    bool accepted;
    char said[600], why[64];
    enum cf_verdict v = send_reset(r, type, &accepted, said, sizeof said);
    if (v != CF_PASS)
        return v;
    if (!accepted)
        return cf_fail(r, "Reset{type:%s}: %s; expected Accepted", type, said);
    snprintf(why, sizeof why, "Reset{type:%s} was Accepted", type);
    struct cf_msg m;
    if (hard) {
        v = reconnect(r, conn, why, t0, &m);
    } else {
        /* the same connection or a new one */
        struct since w = {t0};
        v = cf_expect(r, "BootNotification", arrived_since, &w, cf_deadline_ms(r), &m);
        if (v == CF_FAIL)
            return cf_fail(r, "%s, but no BootNotification came within %lld s", why, cf16_secs(t0));
    }
    if (v != CF_PASS || (v = boot_accepted(r, &m)) != CF_PASS)
        return v;
    uint64_t seen = 0;
    long long bad = 0;
    v = collect_statuses(r, n, m.at_ms, cf_deadline_ms(r), &seen, &bad);
    if (v == CF_FAIL)
        return statuses_fail(r, n, seen, bad, "after the reset's BootNotification", t0);
    return v;
}

enum cf_verdict cf16_reset_soft(struct cf_run *r)
{
    return reset(r, "Soft");
}

enum cf_verdict cf16_reset_hard(struct cf_run *r)
{
    return reset(r, "Hard");
}
