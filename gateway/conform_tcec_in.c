/* Plan tcec102-platform, the checks that judge what the platform sent evgate since the run was
 * queued: its tokens, the signature and encryption of its requests, its pushes, the tokens it
 * used. They read the exchange log gateway/tcec_serve.c writes for every attributed request
 * (db/tcec_runs.h), looking once a second until the check's deadline; a refusal is judged by the
 * check it concerns: 4001 by crypto.request-signed, a Data refused by crypto.request-encrypted,
 * 4002 by token.platform-uses, and the rest (payload, ownership, TimeStamp, replay, source
 * address, a disputed order) by the push checks. */
#include "gateway/conform_tcec_private.h"
#include "common/config.h"
#include "common/thread.h"
#include "db/tcec_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the exchange log ------------------------------------------------------------------------ */

static const char *str(const json_t *row, const char *key)
{
    return json_string_value(json_object_get(row, key));
}

static bool is(const json_t *row, const char *key, const char *value)
{
    const char *v = str(row, key);
    return v && strcmp(v, value) == 0;
}

/* Accepted: Ret 0 and no reason (a query_token refused with SuccStat 1, or a disputed order,
 * is Ret 0 with a reason). */
static bool accepted(const json_t *row)
{
    json_t *ret = json_object_get(row, "ret");
    return json_is_integer(ret) && json_integer_value(ret) == 0 && !str(row, "reason");
}

static bool refused_for_signature(const json_t *row)
{
    return is(row, "reason", "signature");
}

static bool refused_for_data(const json_t *row)
{
    return is(row, "reason", "base64") || is(row, "reason", "decrypt") ||
           is(row, "reason", "json") || is(row, "reason", "type");
}

static bool refused_for_token(const json_t *row)
{
    return is(row, "reason", "token");
}

/* "notification_stationStatus at 10:00:01 refused with Ret 4004 (payload): <Msg>" into out. */
static void describe(const json_t *row, char *out, size_t len)
{
    char at[9];
    cf_tcec_clock(json_integer_value(json_object_get(row, "at")), at);
    const char *reason = str(row, "reason"), *msg = str(row, "msg");
    json_t *ret = json_object_get(row, "ret");
    snprintf(out, len, "%s at %s refused with Ret %lld (%s): %s", str(row, "interface"), at,
             json_is_integer(ret) ? (long long)json_integer_value(ret) : -1LL,
             reason ? reason : "ret", msg && msg[0] ? msg : "(no Msg)");
}

/* The exchange as the check's frames: the request as evgate stored it (redacted) and its answer. */
static void frames(struct cf_run *r, const json_t *row)
{
    char at[9], *text = NULL;
    cf_tcec_clock(json_integer_value(json_object_get(row, "at")), at);
    const char *req = str(row, "request"), *resp = str(row, "response"), *msg = str(row, "msg"),
               *reason = str(row, "reason");
    json_t *ret = json_object_get(row, "ret");
    int n = asprintf(&text, "POST %s received by evgate at %s: %s", str(row, "interface"), at,
                     req ? req : "(payload not read)");
    if (n >= 0)
        cf_frame(r, "in", text, (size_t)n);
    free(text);
    text = NULL;
    n = asprintf(&text, "evgate answered Ret %lld Msg \"%s\"%s%s%s %s",
                 json_is_integer(ret) ? (long long)json_integer_value(ret) : -1LL, msg ? msg : "",
                 reason ? " (reason " : "", reason ? reason : "", reason ? ")" : "",
                 resp ? resp : "Data \"\"");
    if (n >= 0)
        cf_frame(r, "out", text, (size_t)n);
    free(text);
}

/* Looks at the platform's requests since the run was queued until `judge` decides (returns 1
 * with *v) or the deadline passes (then judge is called with last = true and must decide). */
typedef int (*judge_fn)(struct cf_run *r, const json_t *rows, bool last, long long waited_s,
                        enum cf_verdict *v, void *arg);

static enum cf_verdict watch(struct cf_run *r, judge_fn judge, void *arg)
{
    int64_t start = thread_now_ms();
    for (;;) {
        bool last = thread_now_ms() >= cf_deadline_ms(r);
        json_t *rows = NULL;
        int rc = db_tcec_run_inbound(cf_db(r), cf_target(r), cf_queued_at(r), 0,
                                     CF_TCEC_INBOUND_MAX, &rows);
        if (rc != DB_OK)
            return cf_error(r, "the exchange log could not be read (database error %d)", rc);
        enum cf_verdict v = CF_PASS;
        int done =
            judge(r, rows, last, (long long)((thread_now_ms() - start + 500) / 1000), &v, arg);
        json_decref(rows);
        if (done)
            return v;
        if (cf_sleep_until(r, cf_within_ms(r, CF_TCEC_POLL_MS)) == CF_ABORT)
            return CF_ABORT;
    }
}

/* --- token.platform-obtains ---------------------------------------------------------------- */

static int judge_obtains(struct cf_run *r, const json_t *rows, bool last, long long waited_s,
                         enum cf_verdict *v, void *arg)
{
    const json_t *refused = NULL, *row;
    int asked = 0;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        if (!is(row, "interface", "query_token"))
            continue;
        asked++;
        if (accepted(row)) {
            frames(r, row);
            *v = CF_PASS;
            return 1;
        }
        refused = row;
    }
    if (!last)
        return 0;
    char why[TCEC_MSG_MAX + 128], at[9];
    if (refused) {
        frames(r, refused);
        describe(refused, why, sizeof why);
        *v = cf_fail(r,
                     "every query_token call since the run was queued (%d) was refused; the "
                     "last: %s",
                     asked, why);
    } else {
        cf_tcec_clock(cf_queued_at(r), at);
        *v = cf_fail(r,
                     "the platform did not call evgate's query_token in %lld s (none since the "
                     "run was queued at %s)",
                     waited_s, at);
    }
    return 1;
}

enum cf_verdict cf_tcec_platform_obtains(struct cf_run *r)
{
    return watch(r, judge_obtains, NULL);
}

/* --- crypto.request-signed, crypto.request-encrypted ---------------------------------------- */

/* Over every request so far, once there is one whose `kind` was judged by evgate: the first
 * refused for it fails. kind 0: the signature (every request but those refused for their source
 * address); kind 1: Data (those past the signature too). */
static int judge_crypto(struct cf_run *r, const json_t *rows, bool last, long long waited_s,
                        enum cf_verdict *v, void *arg)
{
    int kind = *(const int *)arg, judged = 0, signature_refused = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (is(row, "reason", "source_ip"))
            continue;
        if (kind == 1 && refused_for_signature(row)) {
            signature_refused++;
            continue;
        }
        judged++;
        if (kind == 0 ? refused_for_signature(row) : refused_for_data(row)) {
            char why[TCEC_MSG_MAX + 128];
            describe(row, why, sizeof why);
            frames(r, row);
            *v = cf_fail(r, "%s", why);
            return 1;
        }
    }
    if (judged) {
        *v = CF_PASS;
        return 1;
    }
    if (kind == 1 && signature_refused) {
        *v = cf_skip(r,
                     "every request since the run was queued (%d) was refused for its "
                     "signature before its Data was read (crypto.request-signed judges it)",
                     signature_refused);
        return 1;
    }
    if (!last)
        return 0;
    *v = cf_skip(r, "the platform sent evgate no request in %lld s that evgate could judge%s",
                 waited_s,
                 json_array_size(rows) ? " (every one came from a source address off "
                                         "the allow-list)"
                                       : "");
    return 1;
}

enum cf_verdict cf_tcec_request_signed(struct cf_run *r)
{
    int kind = 0;
    return watch(r, judge_crypto, &kind);
}

enum cf_verdict cf_tcec_request_encrypted(struct cf_run *r)
{
    int kind = 1;
    return watch(r, judge_crypto, &kind);
}

/* --- push.* --------------------------------------------------------------------------------- */

struct push {
    const char *interface;
    bool first_look;
    bool none_registered; /* no station of the platform is accessed in evgate yet */
    int64_t max_late_s;   /* > 0: a push must arrive within this of its TimeStamp */
};

/* A push that arrived more than p->max_late_s after its TimeStamp: true with the verdict. */
static bool too_late(struct cf_run *r, const struct push *p, const json_t *row, enum cf_verdict *v)
{
    json_t *sent = json_object_get(row, "sent_at");
    if (p->max_late_s <= 0 || !json_is_integer(sent))
        return false;
    long long late = (long long)json_integer_value(json_object_get(row, "at")) -
                     (long long)json_integer_value(sent);
    if (late <= p->max_late_s)
        return false;
    char at[9];
    cf_tcec_clock(json_integer_value(json_object_get(row, "at")), at);
    frames(r, row);
    *v = cf_fail(r, "%s at %s arrived %lld s after its TimeStamp (at most %lld s)", p->interface,
                 at, late, (long long)p->max_late_s);
    return true;
}

static int judge_push(struct cf_run *r, const json_t *rows, bool last, long long waited_s,
                      enum cf_verdict *v, void *arg)
{
    struct push *p = arg;
    const json_t *unread = NULL, *row;
    int n = 0;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        if (!is(row, "interface", p->interface))
            continue;
        n++;
        if (accepted(row)) {
            if (too_late(r, p, row, v))
                return 1;
            frames(r, row);
            *v = CF_PASS;
            return 1;
        }
        if (refused_for_signature(row) || refused_for_data(row) || refused_for_token(row)) {
            unread = row; /* judged by crypto.request-* and token.platform-uses */
            continue;
        }
        if (p->none_registered && is(row, "reason", "ownership") && !too_late(r, p, row, v)) {
            /* ownership is evgate's last rule: the push was right, about a station evgate
             * cannot know before the platform's access (a platform is detected first) */
            char why[TCEC_MSG_MAX + 128];
            describe(row, why, sizeof why);
            frames(r, row);
            *v = cf_pass_note(r,
                              "envelope, token and payload were right; evgate refused it only "
                              "because no station of the platform is accessed yet (%s)",
                              why);
            return 1;
        }
        char why[TCEC_MSG_MAX + 128];
        describe(row, why, sizeof why);
        frames(r, row);
        *v = cf_fail(r, "%s", why);
        return 1;
    }
    /* pushes need a token from evgate: without one none will come */
    if (p->first_look && n == 0 && !cf_passed(r, "token.platform-obtains")) {
        *v = cf_skip(r,
                     "no %s came, and the platform obtained no token from evgate "
                     "(token.platform-obtains did not pass)",
                     p->interface);
        return 1;
    }
    p->first_look = false;
    if (!last)
        return 0;
    if (unread) {
        char why[TCEC_MSG_MAX + 128];
        describe(unread, why, sizeof why);
        frames(r, unread);
        *v =
            cf_skip(r,
                    "every %s since the run was queued (%d) was refused before its payload "
                    "was read (crypto.request-* and token.platform-uses judge those); the last: %s",
                    p->interface, n, why);
        return 1;
    }
    *v = cf_missing(r, "evgate received no %s in %lld s", p->interface, waited_s);
    return 1;
}

static enum cf_verdict push(struct cf_run *r, const char *interface, int64_t max_late_s)
{
    struct push p = {interface, true, false, max_late_s};
    json_t *reg = NULL;
    if (db_tcec_run_stations(cf_db(r), cf_detection_id(r), &reg) == DB_OK)
        p.none_registered = json_array_size(reg) == 0;
    json_decref(reg);
    return watch(r, judge_push, &p);
}

enum cf_verdict cf_tcec_push_status(struct cf_run *r)
{
    return push(r, "notification_stationStatus", CF_TCEC_PUSH_LATE_S);
}

enum cf_verdict cf_tcec_push_info(struct cf_run *r)
{
    return push(r, "notification_stationInfo", 0);
}

enum cf_verdict cf_tcec_push_order(struct cf_run *r)
{
    return push(r, "notification_charge_order_info", 0);
}

/* --- token.platform-uses --------------------------------------------------------------------- */

enum cf_verdict cf_tcec_platform_uses(struct cf_run *r)
{
    json_t *rows = NULL;
    int rc =
        db_tcec_run_inbound(cf_db(r), cf_target(r), cf_queued_at(r), 0, CF_TCEC_INBOUND_MAX, &rows);
    if (rc != DB_OK)
        return cf_error(r, "the exchange log could not be read (database error %d)", rc);
    int with_token = 0;
    size_t i;
    const json_t *row;
    enum cf_verdict v = CF_PASS;
    json_array_foreach(rows, i, row)
    {
        if (is(row, "interface", "query_token") || is(row, "reason", "source_ip") ||
            refused_for_signature(row) || refused_for_data(row))
            continue; /* no token asked for, or refused before it was looked at */
        with_token++;
        if (refused_for_token(row)) {
            char why[TCEC_MSG_MAX + 128];
            describe(row, why, sizeof why);
            frames(r, row);
            v = cf_fail(r, "%s", why);
            break;
        }
    }
    json_decref(rows);
    if (v == CF_PASS && !with_token)
        v = cf_pass_note(r, "no request of the platform since the run was queued needed a token");
    return v;
}
