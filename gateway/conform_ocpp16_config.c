/* Plan ocpp16-core (protocol/plans_ocpp16.c): the checks of the pile's configuration keys
 * (GetConfiguration, ChangeConfiguration) and heartbeat.interval, which sets one and watches the
 * Heartbeats. A key a check changes is put back whatever the verdict. */
#include "gateway/conform_ocpp16_private.h"
#include "common/config.h"
#include "common/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configurationKey entry `key` of a GetConfiguration answer, or NULL. */
static json_t *config_entry(json_t *conf, const char *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(conf, "configurationKey"), i, e)
    {
        const char *k = cf16_str(e, "key");
        if (k && strcmp(k, key) == 0)
            return e;
    }
    return NULL;
}

/* GetConfiguration of key `key` (NULL: without keys): CF_PASS with the CALLRESULT in *a, CF_FAIL
 * with the reason set when something else came, CF_ABORT. */
static enum cf_verdict config_get(struct cf_run *r, const char *key, struct cf_answer *a)
{
    json_t *p = key ? json_pack("{s:[s]}", "key", key) : json_object();
    if (!p)
        return cf_error(r, "out of memory");
    enum cf_verdict v = cf_call(r, "GetConfiguration", p, a);
    json_decref(p);
    if (v == CF_ABORT)
        return CF_ABORT;
    if (a->kind != CF_RESULT && !key)
        return cf_fail(r, "GetConfiguration without keys: %s", cf_answer_text(r, a));
    if (a->kind != CF_RESULT)
        return cf_fail(r, "GetConfiguration of %s: %s", key, cf_answer_text(r, a));
    return CF_PASS;
}

/* Reads key `key` with GetConfiguration: CF_PASS with its value (a copy, caller frees; NULL when
 * the pile has no such key or no value) into *value, CF_FAIL with the reason set, CF_ABORT. */
static enum cf_verdict config_read(struct cf_run *r, const char *key, char **value)
{
    *value = NULL;
    struct cf_answer a;
    enum cf_verdict v = config_get(r, key, &a);
    if (v != CF_PASS)
        return v;
    const char *s = cf16_str(config_entry(a.payload, key), "value");
    if (s && !(*value = strdup(s)))
        return cf_error(r, "out of memory");
    return CF_PASS;
}

/* Sends ChangeConfiguration key = value: CF_PASS on Accepted, else CF_FAIL with the reason. */
static enum cf_verdict config_change(struct cf_run *r, const char *key, const char *value)
{
    char what[160];
    snprintf(what, sizeof what, "ChangeConfiguration %s = %s", key, value);
    return cf16_call_status(r, what, "ChangeConfiguration",
                            json_pack("{s:s, s:s}", "key", key, "value", value), "Accepted", NULL);
}

/* Puts key back to `old` after a check whose verdict so far is `v`; returns the verdict: CF_ABORT
 * wins, a pass whose key could not be put back passes with that note, the rest stays. */
static enum cf_verdict config_restore(struct cf_run *r, const char *key, const char *old,
                                      enum cf_verdict v)
{
    if (v == CF_ABORT)
        return v;
    json_t *p = json_pack("{s:s, s:s}", "key", key, "value", old);
    if (!p)
        return v == CF_PASS
                   ? cf_pass_note(r, "could not put %s back to %s: out of memory", key, old)
                   : v;
    struct cf_answer a;
    enum cf_verdict rv = cf_call(r, "ChangeConfiguration", p, &a);
    json_decref(p);
    if (rv == CF_ABORT)
        return CF_ABORT;
    if (v == CF_PASS &&
        (a.kind != CF_RESULT || !cf16_in(cf16_str(a.payload, "status"), "Accepted")))
        return cf_pass_note(r, "could not put %s back to %s: %s", key, old, cf_answer_text(r, &a));
    return v;
}

/* OCPP 1.6 §9.1: the Core profile's keys marked Required. */
static const char *const core_keys[] = {
    "AuthorizeRemoteTxRequests",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "ConnectorPhaseRotation",
    "GetConfigurationMaxKeys",
    "HeartbeatInterval",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "MeterValuesAlignedData",
    "MeterValuesSampledData",
    "MeterValueSampleInterval",
    "NumberOfConnectors",
    "ResetRetries",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "StopTxnAlignedData",
    "StopTxnSampledData",
    "SupportedFeatureProfiles",
    "TransactionMessageAttempts",
    "TransactionMessageRetryInterval",
    "UnlockConnectorOnEVSideDisconnect",
};

/* Whether the comma-separated list `csl` holds `word` (spaces around items ignored). */
static bool csl_has(const char *csl, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = csl; p;) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

enum cf_verdict cf16_config_get_all(struct cf_run *r)
{
    struct cf_answer a;
    enum cf_verdict v = config_get(r, NULL, &a);
    if (v != CF_PASS)
        return v;
    char missing[768] = "", problems[1024] = "";
    size_t nmissing = 0;
    for (size_t i = 0; i < sizeof core_keys / sizeof core_keys[0]; i++) {
        if (config_entry(a.payload, core_keys[i]))
            continue;
        size_t o = strlen(missing);
        snprintf(missing + o, sizeof missing - o, "%s%s", nmissing++ ? ", " : "", core_keys[i]);
    }
    if (nmissing)
        snprintf(problems, sizeof problems, "configurationKey lacks the Core key%s %s",
                 nmissing > 1 ? "s" : "", missing);
    size_t o = strlen(problems);
    const char *profiles = cf16_str(config_entry(a.payload, "SupportedFeatureProfiles"), "value");
    if (profiles && !csl_has(profiles, "Core"))
        snprintf(problems + o, sizeof problems - o, "%sSupportedFeatureProfiles \"%s\" lacks Core",
                 o ? "; " : "", profiles);
    o = strlen(problems);
    json_t *nc = config_entry(a.payload, "NumberOfConnectors");
    const char *ncv = cf16_str(nc, "value");
    char want[24];
    snprintf(want, sizeof want, "%d", cf_connectors(r));
    if (nc && (!ncv || strcmp(ncv, want) != 0))
        snprintf(problems + o, sizeof problems - o,
                 "%sNumberOfConnectors is %s%s%s, but the pile has %s registered connectors",
                 o ? "; " : "", ncv ? "\"" : "", ncv ? ncv : "without a value", ncv ? "\"" : "",
                 want);
    if (*problems)
        return cf_fail(r, "GetConfiguration without keys: %s", problems);
    return CF_PASS;
}

enum cf_verdict cf16_config_get_unknown(struct cf_run *r)
{
    struct cf_answer a;
    enum cf_verdict v = config_get(r, CF16_UNKNOWN_KEY, &a);
    if (v != CF_PASS)
        return v;
    if (config_entry(a.payload, CF16_UNKNOWN_KEY))
        return cf_fail(r, "GetConfiguration of " CF16_UNKNOWN_KEY " returned it in "
                          "configurationKey, as if it existed");
    json_t *unknown = json_object_get(a.payload, "unknownKey");
    const char *first = json_string_value(json_array_get(unknown, 0));
    if (json_array_size(unknown) != 1 || !first || strcmp(first, CF16_UNKNOWN_KEY) != 0) {
        char *t = unknown ? json_dumps(unknown, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        enum cf_verdict f = cf_fail(r,
                                    "GetConfiguration of " CF16_UNKNOWN_KEY " answered unknownKey "
                                    "%s; expected [\"" CF16_UNKNOWN_KEY "\"]",
                                    t ? t : "absent");
        free(t);
        return f;
    }
    return CF_PASS;
}

enum cf_verdict cf16_config_change(struct cf_run *r)
{
    static const char key[] = "MeterValueSampleInterval";
    char *old = NULL, *back = NULL;
    enum cf_verdict v = config_read(r, key, &old);
    if (v != CF_PASS)
        return v;
    char *end = NULL;
    long long n = old ? strtoll(old, &end, 10) : 0;
    bool set = old && *old && end && *end == '\0' && n >= 0;
    char want[24];
    snprintf(want, sizeof want, "%lld", set ? n + 1 : 60);
    if ((v = config_change(r, key, want)) != CF_PASS)
        goto out;
    if ((v = config_read(r, key, &back)) != CF_PASS)
        goto restore;
    if (!back || strcmp(back, want) != 0) {
        v = cf_fail(r,
                    "ChangeConfiguration %s = %s was Accepted, but GetConfiguration reads %s%s%s",
                    key, want, back ? "\"" : "", back ? back : "no value", back ? "\"" : "");
        goto restore;
    }
restore:
    if (set)
        v = config_restore(r, key, old, v);
out:
    free(old);
    free(back);
    return v;
}

enum cf_verdict cf16_config_change_unknown(struct cf_run *r)
{
    return cf16_call_status(
        r, "ChangeConfiguration " CF16_UNKNOWN_KEY " = true", "ChangeConfiguration",
        json_pack("{s:s, s:s}", "key", CF16_UNKNOWN_KEY, "value", "true"), "NotSupported", NULL);
}

/* heartbeat.interval's verdict when the check's time ended before a 1.2 H window did: nothing
 * to say about the pile (conform_wait_cap_s too short for conform_heartbeat_s). */
static enum cf_verdict cut_short(struct cf_run *r, long long h)
{
    long long t = cf_check(r)->timeout_s, cap = cf_config(r)->conform_wait_cap_s;
    return cf_error(r,
                    "the check's time (%lld s) ended before a Heartbeat was due: it needs up to "
                    "2.4 x H = %.1f s after the change (HeartbeatInterval %lld)",
                    cap > 0 && cap < t ? cap : t, h * 2.4, h);
}

/* H = conform_heartbeat_s: a Heartbeat within 1.2 H of the change, the next 0.8 H to 1.2 H
 * after it; the old HeartbeatInterval is put back whatever came. */
enum cf_verdict cf16_heartbeat_interval(struct cf_run *r)
{
    static const char key[] = "HeartbeatInterval";
    long long h = cf_config(r)->conform_heartbeat_s;
    int64_t hi = h * 1200, lo = h * 800; /* ms */
    char *old = NULL, hs[24];
    snprintf(hs, sizeof hs, "%lld", h);
    enum cf_verdict v = config_read(r, key, &old);
    if (v != CF_PASS)
        return v;
    /* a pile may beat at once while it applies the change, before its answer: count from the
     * request, time from the answer */
    int64_t sent = thread_now_ms();
    if ((v = config_change(r, key, hs)) != CF_PASS)
        goto out; /* refused: nothing to put back */
    int64_t changed = thread_now_ms(), deadline = cf_deadline_ms(r);
    struct cf16_want w = {.since_ms = sent, .connector = -1};
    struct cf_msg m;
    v = cf_expect(r, "Heartbeat", cf16_match, &w, changed + hi < deadline ? changed + hi : deadline,
                  &m);
    if (v == CF_FAIL) {
        v = changed + hi > deadline
                ? cut_short(r, h)
                : cf_fail(r,
                          "no Heartbeat within %lld s of HeartbeatInterval = %lld (1.2 x H = "
                          "%.1f s)",
                          cf16_secs(changed), h, hi / 1000.0);
        goto restore;
    }
    if (v == CF_ABORT)
        goto out;
    int64_t first = m.at_ms;
    w.since_ms = first; /* the first is taken: a second in the same ms is a gap of 0 */
    v = cf_expect(r, "Heartbeat", cf16_match, &w, first + hi < deadline ? first + hi : deadline,
                  &m);
    if (v == CF_FAIL) {
        v = first + hi > deadline ? cut_short(r, h)
                                  : cf_fail(r,
                                            "no second Heartbeat within %lld s of the first "
                                            "(HeartbeatInterval %lld, 1.2 x H = %.1f s)",
                                            cf16_secs(first), h, hi / 1000.0);
        goto restore;
    }
    if (v == CF_ABORT)
        goto out;
    if (m.at_ms - first < lo)
        v = cf_fail(r, "Heartbeats %.1f s apart with HeartbeatInterval %lld; expected %.1f-%.1f s",
                    (m.at_ms - first) / 1000.0, h, lo / 1000.0, hi / 1000.0);
restore:
    if (old && strcmp(old, hs) != 0) {
        v = config_restore(r, key, old, v);
    } else if (!old && v == CF_PASS) {
        v = cf_pass_note(r, "HeartbeatInterval had no value to put back; it stays %lld", h);
    }
out:
    free(old);
    return v;
}
