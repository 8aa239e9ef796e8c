/* Plan ocpp201-core: the device model checks (variables.*) and heartbeat.interval, which sets
 * OCPPCommCtrlr.HeartbeatInterval and puts it back. */
#include "gateway/conform_ocpp201_private.h"
#include "common/config.h"
#include "common/thread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMM      "OCPPCommCtrlr"
#define HEARTBEAT "HeartbeatInterval"
#define VALUE_MAX 128 /* attributeValue kept for reasons (2500 in the schema) */

static json_t *var_ref(const char *component, const char *variable)
{
    return json_pack("{s:{s:s}, s:{s:s}}", "component", "name", component, "variable", "name",
                     variable);
}

/* The result of `component`.`variable` in a GetVariables or SetVariables answer's `list`. */
static const json_t *result_of(const json_t *list, const char *component, const char *variable)
{
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *c = cf201_str(json_object_get(x, "component"), "name");
        const char *v = cf201_str(json_object_get(x, "variable"), "name");
        if (c && v && !strcmp(c, component) && !strcmp(v, variable))
            return x;
    }
    return NULL;
}

static bool integer(const char *s, long long *out)
{
    char *end;
    if (!s || !*s)
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

#define WHY_MAX 512

/* Sends `action` with `payload` (stolen): CF_PASS with the CALLRESULT in *a; CF_FAIL with why in
 * `why` (the reason is not set: a check may still have to put a value back); CF_ABORT. */
static enum cf_verdict call(struct cf_run *r, const char *action, json_t *payload,
                            struct cf_answer *a, char why[WHY_MAX])
{
    if (!payload) {
        snprintf(why, WHY_MAX, "%s: out of memory", action);
        return CF_FAIL;
    }
    enum cf_verdict v = cf_call(r, action, payload, a);
    json_decref(payload);
    if (v != CF_PASS)
        return v;
    if (a->kind == CF_RESULT)
        return CF_PASS;
    snprintf(why, WHY_MAX, "%s: %s", action, cf_answer_text(r, a));
    return CF_FAIL;
}

/* `action` (GetVariables, SetVariables) with `payload` (as call takes it) about one variable:
 * CF_PASS with its entry of the answer's list `results` in *x (valid until the next wait);
 * CF_FAIL with `why` when there is no answer or no entry for it; CF_ABORT. */
static enum cf_verdict call_one(struct cf_run *r, const char *action, json_t *payload,
                                const char *results, const char *component, const char *variable,
                                const json_t **x, char why[WHY_MAX])
{
    struct cf_answer a;
    enum cf_verdict v = call(r, action, payload, &a, why);
    if (v != CF_PASS)
        return v;
    *x = result_of(json_object_get(a.payload, results), component, variable);
    if (!*x) {
        snprintf(why, WHY_MAX, "%s %s.%s: no %s for it (%s)", action, component, variable, results,
                 cf_answer_text(r, &a));
        return CF_FAIL;
    }
    return CF_PASS;
}

/* GetVariables of one variable: CF_PASS with its attributeStatus in `status` and attributeValue
 * in `value` ("" when absent); CF_FAIL with `why` when there is no answer or no result for it;
 * CF_ABORT. */
static enum cf_verdict get_one(struct cf_run *r, const char *component, const char *variable,
                               char status[CF201_WORD_MAX], char value[VALUE_MAX],
                               char why[WHY_MAX])
{
    json_t *p = json_pack("{s:[o]}", "getVariableData", var_ref(component, variable));
    const json_t *x;
    enum cf_verdict v =
        call_one(r, "GetVariables", p, "getVariableResult", component, variable, &x, why);
    if (v != CF_PASS)
        return v;
    const char *s = cf201_str(x, "attributeStatus"), *val = cf201_str(x, "attributeValue");
    snprintf(status, CF201_WORD_MAX, "%s", s ? s : "");
    snprintf(value, VALUE_MAX, "%s", val ? val : "");
    return CF_PASS;
}

/* An integer variable's value, read: CF_FAIL with the reason set unless Accepted and integer. */
static enum cf_verdict get_int(struct cf_run *r, const char *component, const char *variable,
                               long long *out)
{
    char status[CF201_WORD_MAX], value[VALUE_MAX], why[WHY_MAX];
    enum cf_verdict v = get_one(r, component, variable, status, value, why);
    if (v == CF_FAIL)
        return cf_fail(r, "%s", why);
    if (v != CF_PASS)
        return v;
    if (strcmp(status, "Accepted"))
        return cf_fail(r, "GetVariables %s.%s: attributeStatus %s, expected Accepted", component,
                       variable, status);
    if (!integer(value, out))
        return cf_fail(r, "GetVariables %s.%s: attributeValue \"%s\" is not an integer", component,
                       variable, value);
    return CF_PASS;
}

/* SetVariables of one variable: CF_PASS with its attributeStatus in `status`; CF_FAIL with
 * `why`; CF_ABORT. */
static enum cf_verdict set_one(struct cf_run *r, const char *component, const char *variable,
                               const char *value, char status[CF201_WORD_MAX], char why[WHY_MAX])
{
    json_t *ref = var_ref(component, variable);
    if (ref)
        json_object_set_new(ref, "attributeValue", json_string(value));
    json_t *p = json_pack("{s:[o]}", "setVariableData", ref);
    const json_t *x;
    enum cf_verdict v =
        call_one(r, "SetVariables", p, "setVariableResult", component, variable, &x, why);
    if (v != CF_PASS)
        return v;
    const char *s = cf201_str(x, "attributeStatus");
    snprintf(status, CF201_WORD_MAX, "%s", s ? s : "");
    return CF_PASS;
}

/* Puts HeartbeatInterval back to `old`: `back` "" when it worked, else what went wrong.
 * CF_ABORT or CF_PASS. */
static enum cf_verdict put_back(struct cf_run *r, long long old, char back[WHY_MAX])
{
    char value[32], status[CF201_WORD_MAX], why[WHY_MAX];
    snprintf(value, sizeof value, "%lld", old);
    back[0] = 0;
    enum cf_verdict v = set_one(r, COMM, HEARTBEAT, value, status, why);
    if (v == CF_ABORT)
        return v;
    if (v != CF_PASS)
        snprintf(back, WHY_MAX, "putting %s back to %lld failed: %.300s", HEARTBEAT, old, why);
    else if (strcmp(status, "Accepted"))
        snprintf(back, WHY_MAX, "putting %s back to %lld answered attributeStatus %s", HEARTBEAT,
                 old, status);
    return CF_PASS;
}

enum cf_verdict cf201_variables_get(struct cf_run *r)
{
    struct cf201 *st = cf201_state(r);
    if (!st)
        return cf_error(r, "out of memory");
    static const char *const vars[][2] = {
        {COMM, HEARTBEAT},
        {"SampledDataCtrlr", "TxUpdatedInterval"},
    };
    json_t *p = json_pack("{s:[o, o]}", "getVariableData", var_ref(vars[0][0], vars[0][1]),
                          var_ref(vars[1][0], vars[1][1]));
    struct cf_answer a;
    char ignored[CF201_WORD_MAX];
    enum cf_verdict v = cf201_call(r, "GetVariables", p, ignored, &a);
    if (v != CF_PASS)
        return v;
    const json_t *list = json_object_get(a.payload, "getVariableResult");
    long long values[2];
    for (int i = 0; i < 2; i++) {
        const json_t *x = result_of(list, vars[i][0], vars[i][1]);
        if (!x)
            return cf_fail(r, "GetVariables %s.%s: no getVariableResult for it", vars[i][0],
                           vars[i][1]);
        const char *s = cf201_str(x, "attributeStatus"), *val = cf201_str(x, "attributeValue");
        if (!s || strcmp(s, "Accepted"))
            return cf_fail(r, "GetVariables %s.%s: attributeStatus %s, expected Accepted",
                           vars[i][0], vars[i][1], s ? s : "(none)");
        if (!integer(val, &values[i]))
            return cf_fail(r, "GetVariables %s.%s: attributeValue %s%s%s is not an integer",
                           vars[i][0], vars[i][1], val ? "\"" : "", val ? val : "(none)",
                           val ? "\"" : "");
    }
    st->tx_updated_known = true;
    st->tx_updated_s = values[1];
    return CF_PASS;
}

enum cf_verdict cf201_variables_get_unknown(struct cf_run *r)
{
    /* only the component is unknown in the first, only the variable in the second */
    static const char *const probes[][3] = {
        {"EvgateUnknownComponent", HEARTBEAT, "UnknownComponent"},
        {COMM, "EvgateUnknownVariable", "UnknownVariable"},
    };
    json_t *p = json_pack("{s:[o, o]}", "getVariableData", var_ref(probes[0][0], probes[0][1]),
                          var_ref(probes[1][0], probes[1][1]));
    struct cf_answer a;
    char ignored[CF201_WORD_MAX];
    enum cf_verdict v = cf201_call(r, "GetVariables", p, ignored, &a);
    if (v != CF_PASS)
        return v;
    const json_t *list = json_object_get(a.payload, "getVariableResult");
    for (int i = 0; i < 2; i++) {
        const json_t *x = result_of(list, probes[i][0], probes[i][1]);
        const char *s = cf201_str(x, "attributeStatus");
        if (!x)
            return cf_fail(r, "GetVariables %s.%s: no getVariableResult for it", probes[i][0],
                           probes[i][1]);
        if (!s || strcmp(s, probes[i][2]))
            return cf_fail(r, "GetVariables %s.%s: attributeStatus %s, expected %s", probes[i][0],
                           probes[i][1], s ? s : "(none)", probes[i][2]);
    }
    return CF_PASS;
}

enum cf_verdict cf201_variables_set(struct cf_run *r)
{
    long long old;
    enum cf_verdict v = get_int(r, COMM, HEARTBEAT, &old);
    if (v != CF_PASS)
        return v;
    char want[32], status[CF201_WORD_MAX], value[VALUE_MAX], why[WHY_MAX], back[WHY_MAX] = "";
    snprintf(want, sizeof want, "%lld", old + 1);
    v = set_one(r, COMM, HEARTBEAT, want, status, why);
    if (v != CF_PASS)
        return v == CF_FAIL ? cf_fail(r, "%s", why) : v;
    if (strcmp(status, "Accepted")) {
        if (!strcmp(status, "RebootRequired") && put_back(r, old, back) == CF_ABORT)
            return CF_ABORT;
        return cf_fail(r, "SetVariables %s.%s = %s: attributeStatus %s, expected Accepted%s%s",
                       COMM, HEARTBEAT, want, status, back[0] ? "; " : "", back);
    }
    char got[CF201_WORD_MAX];
    v = get_one(r, COMM, HEARTBEAT, got, value, why);
    if (v == CF_ABORT || put_back(r, old, back) == CF_ABORT)
        return CF_ABORT;
    const char *sep = back[0] ? "; " : "";
    if (v != CF_PASS)
        return cf_fail(r, "%s%s%s", why, sep, back);
    if (strcmp(got, "Accepted"))
        return cf_fail(r, "GetVariables %s.%s after setting it to %s: attributeStatus %s%s%s", COMM,
                       HEARTBEAT, want, got, sep, back);
    long long seen;
    if (strcmp(value, want))
        return cf_fail(r, "GetVariables %s.%s read back \"%s\" after setting it to %s%s%s%s", COMM,
                       HEARTBEAT, value, want,
                       integer(value, &seen) && seen == old ? " (the old value)" : "", sep, back);
    if (back[0])
        return cf_pass_note(r, "%s", back);
    return CF_PASS;
}

enum cf_verdict cf201_variables_set_invalid(struct cf_run *r)
{
    long long old;
    enum cf_verdict v = get_int(r, COMM, HEARTBEAT, &old);
    if (v != CF_PASS)
        return v;
    char status[CF201_WORD_MAX], value[VALUE_MAX], why[WHY_MAX], back[WHY_MAX] = "";
    v = set_one(r, COMM, HEARTBEAT, "abc", status, why);
    if (v != CF_PASS)
        return v == CF_FAIL ? cf_fail(r, "%s", why) : v;
    if (strcmp(status, "Rejected")) {
        if ((!strcmp(status, "Accepted") || !strcmp(status, "RebootRequired")) &&
            put_back(r, old, back) == CF_ABORT)
            return CF_ABORT;
        return cf_fail(r,
                       "SetVariables %s.%s = \"abc\": attributeStatus %s, expected "
                       "Rejected%s%s",
                       COMM, HEARTBEAT, status, back[0] ? "; " : "", back);
    }
    char got[CF201_WORD_MAX];
    v = get_one(r, COMM, HEARTBEAT, got, value, why);
    if (v != CF_PASS)
        return v == CF_FAIL ? cf_fail(r, "%s", why) : v;
    long long now;
    if (!integer(value, &now) || now != old) {
        if (put_back(r, old, back) == CF_ABORT)
            return CF_ABORT;
        return cf_fail(r,
                       "%s.%s changed from %lld to \"%s\" though SetVariables \"abc\" was "
                       "Rejected%s%s",
                       COMM, HEARTBEAT, old, value, back[0] ? "; " : "", back);
    }
    return CF_PASS;
}

/* --- heartbeat.interval ----------------------------------------------------------------------- */

struct since {
    int64_t at_ms;
};

static bool heartbeat_since(const struct cf_msg *m, void *arg)
{
    const struct since *s = arg;
    return m->at_ms >= s->at_ms;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The Heartbeats after the change of the interval: CF_PASS, CF_FAIL with `why`, CF_ABORT. */
static enum cf_verdict heartbeats(struct cf_run *r, long long h, int64_t sent_ms, int64_t answer_ms,
                                  char why[WHY_MAX])
{
    struct since s = {sent_ms};
    struct cf_msg m;
    int64_t limit = h * 1200; /* 1.2 H in ms */
    enum cf_verdict v = cf_expect(r, "Heartbeat", heartbeat_since, &s,
                                  min64(answer_ms + limit, cf_deadline_ms(r)), &m);
    if (v == CF_FAIL)
        snprintf(why, WHY_MAX,
                 "no HeartbeatRequest within %.1f s (1.2 H, H = %lld s) of the "
                 "change of %s",
                 limit / 1000.0, h, HEARTBEAT);
    if (v != CF_PASS)
        return v;
    int64_t first = m.at_ms;
    s.at_ms = first;
    v = cf_expect(r, "Heartbeat", heartbeat_since, &s, min64(first + limit, cf_deadline_ms(r)), &m);
    if (v == CF_FAIL)
        snprintf(why, WHY_MAX,
                 "no second HeartbeatRequest within %.1f s (1.2 H, H = %lld s) of "
                 "the first",
                 limit / 1000.0, h);
    if (v != CF_PASS)
        return v;
    int64_t gap = m.at_ms - first;
    if (gap < h * 800 || gap > limit) {
        snprintf(why, WHY_MAX,
                 "the second HeartbeatRequest came %.1f s after the first, "
                 "expected %.1f-%.1f s (0.8 H-1.2 H, H = %lld s)",
                 gap / 1000.0, h * 0.8, h * 1.2, h);
        return CF_FAIL;
    }
    return CF_PASS;
}

enum cf_verdict cf201_heartbeat_interval(struct cf_run *r)
{
    long long h = cf_config(r)->conform_heartbeat_s, old;
    enum cf_verdict v = get_int(r, COMM, HEARTBEAT, &old);
    if (v != CF_PASS)
        return v;
    char want[32], status[CF201_WORD_MAX], why[WHY_MAX] = "", back[WHY_MAX] = "";
    snprintf(want, sizeof want, "%lld", h);
    int64_t sent = thread_now_ms();
    v = set_one(r, COMM, HEARTBEAT, want, status, why);
    int64_t answered = thread_now_ms();
    if (v == CF_PASS && strcmp(status, "Accepted")) {
        snprintf(why, WHY_MAX, "SetVariables %s.%s = %s: attributeStatus %s, expected Accepted",
                 COMM, HEARTBEAT, want, status);
        v = CF_FAIL;
    } else if (v == CF_PASS) {
        v = heartbeats(r, h, sent, answered, why);
    }
    /* whatever the verdict, the old interval back */
    if (v == CF_ABORT || put_back(r, old, back) == CF_ABORT)
        return CF_ABORT;
    if (v != CF_PASS)
        return cf_fail(r, "%s%s%s", why, back[0] ? "; " : "", back);
    if (back[0])
        return cf_pass_note(r, "%s", back);
    return CF_PASS;
}
