/* evsim-pile's settings: the same few as OCPP 1.6 configuration keys (GetConfiguration,
 * ChangeConfiguration; with the Core profile's required keys) and as 2.0.1 variables
 * (GetVariables, SetVariables), and what --scenario conform's faulty checks do to them. Called
 * by sim_cs.c with validated requests. */
#include "simulators/sim.h"

#include <jansson.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *status(const char *s)
{
    return json_pack("{s:s}", "status", s);
}

static bool is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* A whole decimal in lo..hi, else -1. */
static long number_in(const char *s, long lo, long hi)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || *end || v < lo || v > hi ? -1 : v;
}

/* --- settings: the same few as 1.6 configuration keys and as 2.0.1 variables ------------- */

enum setting {
    S_HEARTBEAT,
    S_METER,
    S_CONNECTORS,
    S_MEASURANDS,
    S_PROFILES,
    S_AUTH_REMOTE,
    S_IDENTITY,
    S_AVAILABILITY,
    S_FIXED, /* the rest: read-only 1.6 keys of the Core profile with a fixed value */
    S_CLOCK_ALIGNED = S_FIXED,
    S_CONNECTION_TIMEOUT,
    S_PHASE_ROTATION,
    S_GET_MAX_KEYS,
    S_LOCAL_AUTH_OFFLINE,
    S_LOCAL_PRE_AUTH,
    S_ALIGNED_DATA,
    S_RESET_RETRIES,
    S_STOP_ON_EV_DISCONNECT,
    S_STOP_ON_INVALID_ID,
    S_STOP_ALIGNED_DATA,
    S_STOP_SAMPLED_DATA,
    S_TX_ATTEMPTS,
    S_TX_RETRY_INTERVAL,
    S_UNLOCK_ON_EV_DISCONNECT,
    S_COUNT
};

static const struct setting_def {
    const char *key;                  /* 1.6 configuration key; NULL: not in 1.6 */
    const char *component, *variable; /* 2.0.1; NULL: not in 2.0.1 */
    bool writable;
    const char *fixed; /* S_FIXED and after: the value */
} settings[S_COUNT] = {
    [S_HEARTBEAT] = {"HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", true, NULL},
    [S_METER] = {"MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval", true, NULL},
    [S_CONNECTORS] = {"NumberOfConnectors", NULL, NULL, false, NULL},
    [S_MEASURANDS] = {"MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands", false,
                      NULL},
    [S_PROFILES] = {"SupportedFeatureProfiles", NULL, NULL, false, NULL},
    [S_AUTH_REMOTE] = {"AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart", false,
                       NULL},
    [S_IDENTITY] = {NULL, "SecurityCtrlr", "Identity", false, NULL},
    [S_AVAILABILITY] = {NULL, "ChargingStation", "AvailabilityState", false, NULL},
    /* OCPP 1.6 §9.1: the Core profile's required keys (config.get-all asks for them) */
    [S_CLOCK_ALIGNED] = {"ClockAlignedDataInterval", NULL, NULL, false, "0"},
    [S_CONNECTION_TIMEOUT] = {"ConnectionTimeOut", NULL, NULL, false, "60"},
    [S_PHASE_ROTATION] = {"ConnectorPhaseRotation", NULL, NULL, false, "NotApplicable"},
    [S_GET_MAX_KEYS] = {"GetConfigurationMaxKeys", NULL, NULL, false, "50"},
    [S_LOCAL_AUTH_OFFLINE] = {"LocalAuthorizeOffline", NULL, NULL, false, "false"},
    [S_LOCAL_PRE_AUTH] = {"LocalPreAuthorize", NULL, NULL, false, "false"},
    [S_ALIGNED_DATA] = {"MeterValuesAlignedData", NULL, NULL, false,
                        "Energy.Active.Import.Register"},
    [S_RESET_RETRIES] = {"ResetRetries", NULL, NULL, false, "1"},
    [S_STOP_ON_EV_DISCONNECT] = {"StopTransactionOnEVSideDisconnect", NULL, NULL, false, "true"},
    [S_STOP_ON_INVALID_ID] = {"StopTransactionOnInvalidId", NULL, NULL, false, "true"},
    [S_STOP_ALIGNED_DATA] = {"StopTxnAlignedData", NULL, NULL, false, ""},
    [S_STOP_SAMPLED_DATA] = {"StopTxnSampledData", NULL, NULL, false,
                             "Energy.Active.Import.Register"},
    [S_TX_ATTEMPTS] = {"TransactionMessageAttempts", NULL, NULL, false, "3"},
    [S_TX_RETRY_INTERVAL] = {"TransactionMessageRetryInterval", NULL, NULL, false, "60"},
    [S_UNLOCK_ON_EV_DISCONNECT] = {"UnlockConnectorOnEVSideDisconnect", NULL, NULL, false, "true"},
};

static void setting_value(const struct sim_opts *o, const struct pile *p, enum setting s, char *buf,
                          size_t len)
{
    if (settings[s].fixed) {
        snprintf(buf, len, "%s", settings[s].fixed);
        return;
    }
    switch (s) {
    case S_HEARTBEAT:
        if (p->cf && p->cf->hb_reported) { /* heartbeat.interval faulty */
            snprintf(buf, len, "%u", p->cf->hb_reported);
            break;
        }
        snprintf(buf, len, "%u",
                 p->hb_interval_s ? p->hb_interval_s : (unsigned)o->heartbeat_override_s);
        break;
    case S_METER:
        snprintf(buf, len, "%d", sim_meter_interval(o, p));
        break;
    case S_CONNECTORS:
        snprintf(buf, len, "%d", o->connectors);
        break;
    case S_MEASURANDS:
        snprintf(buf, len, "Energy.Active.Import.Register");
        break;
    case S_PROFILES:
        snprintf(buf, len, "Core,RemoteTrigger");
        break;
    case S_AUTH_REMOTE:
        snprintf(buf, len, "false"); /* a remote start begins without an Authorize */
        break;
    case S_IDENTITY:
        snprintf(buf, len, "%s", p->id);
        break;
    default:
        snprintf(buf, len, "%s", p->unavailable & 1 ? "Unavailable" : "Available");
        break;
    }
}

/* Applies `value` to the writable setting s: 0, or -1 when the value is refused. Conform: a
 * HeartbeatInterval change may be the answer to hold (*hold), and the faulty checks accept some
 * changes without applying them. */
static int setting_set(const struct sim_opts *o, struct pile *p, enum setting s, const char *value,
                       int64_t now_ms, bool *hold)
{
    long v;
    switch (s) {
    case S_HEARTBEAT:
        if ((v = number_in(value, 1, 86400)) < 0)
            return -1;
        *hold = sim_cf_hb_changed(o, p);
        if (p->cf && sim_faulty(o, F_VAR_SET) && p->cf->hb_sets++ == 0)
            return 0; /* variables.set faulty: the first change Accepted, not applied */
        if (sim_faulty(o, F_HEARTBEAT)) {
            p->cf->hb_reported = (uint32_t)v; /* read back, but the timer keeps its interval */
            return 0;
        }
        p->hb_interval_s = (uint32_t)v;
        if (p->booted)
            p->next_heartbeat_ms = now_ms + v * 1000;
        return 0;
    case S_METER:
        if ((v = number_in(value, 1, 3600)) < 0)
            return -1;
        if (!sim_faulty(o, F_CONFIG_CHANGE)) /* config.change faulty: Accepted, not applied */
            p->meter_s = (uint16_t)v;
        return 0;
    default:
        return -1;
    }
}

static int setting_by_key(const char *key)
{
    for (int s = 0; s < S_COUNT; s++)
        if (is(settings[s].key, key))
            return s;
    return -1;
}

static json_t *config_key(const struct sim_opts *o, const struct pile *p, enum setting s)
{
    char v[SIM_ID_MAX + 40];
    setting_value(o, p, s, v, sizeof v);
    return json_pack("{s:s, s:b, s:s}", "key", settings[s].key, "readonly", !settings[s].writable,
                     "value", v);
}

json_t *sim_config_get(const struct sim_opts *o, const struct pile *p, const json_t *req)
{
    json_t *known = json_array(), *unknown = json_array();
    const json_t *want = json_object_get(req, "key");
    size_t i;
    json_t *k;
    if (!json_array_size(want))
        for (int s = 0; s < S_COUNT; s++)
            if (settings[s].key && !(s == S_RESET_RETRIES && sim_faulty(o, F_CONFIG_GET_ALL)))
                json_array_append_new(known, config_key(o, p, (enum setting)s));
    json_array_foreach(want, i, k)
    {
        int s = setting_by_key(json_string_value(k));
        if (s >= 0)
            json_array_append_new(known, config_key(o, p, (enum setting)s));
        else if (sim_faulty(o, F_CONFIG_GET_UNKNOWN)) /* pretends to have every key */
            json_array_append_new(
                known, json_pack("{s:O, s:b, s:s}", "key", k, "readonly", 1, "value", ""));
        else
            json_array_append(unknown, k);
    }
    json_t *r = json_object();
    if (json_array_size(known))
        json_object_set(r, "configurationKey", known);
    if (json_array_size(unknown))
        json_object_set(r, "unknownKey", unknown);
    json_decref(known);
    json_decref(unknown);
    return r;
}

json_t *sim_config_change(const struct sim_opts *o, struct pile *p, const json_t *req,
                          int64_t now_ms, bool *hold)
{
    int s = setting_by_key(json_string_value(json_object_get(req, "key")));
    if (s < 0)
        return status(sim_faulty(o, F_CONFIG_CHANGE_UNKNOWN) ? "Rejected" : "NotSupported");
    if (!settings[s].writable ||
        setting_set(o, p, (enum setting)s, json_string_value(json_object_get(req, "value")), now_ms,
                    hold) < 0)
        return status("Rejected");
    return status("Accepted");
}

json_t *sim_variables(const struct sim_opts *o, struct pile *p, const json_t *req, bool set,
                      int64_t now_ms, bool *hold)
{
    json_t *out = json_array();
    size_t i;
    json_t *item;
    /* variables.get faulty: the first GetVariables refuses the variables it knows */
    bool refuse = !set && sim_faulty(o, F_VAR_GET) && p->cf->gets == 0;
    if (!set && p->cf && p->cf->gets < UINT8_MAX)
        p->cf->gets++;
    json_array_foreach(json_object_get(req, set ? "setVariableData" : "getVariableData"), i, item)
    {
        const json_t *comp = json_object_get(item, "component");
        const json_t *var = json_object_get(item, "variable");
        const char *cn = json_string_value(json_object_get(comp, "name"));
        const char *vn = json_string_value(json_object_get(var, "name"));
        const char *type = json_string_value(json_object_get(item, "attributeType"));
        bool component_known = false;
        int s = -1;
        for (int k = 0; k < S_COUNT; k++) {
            component_known |= is(settings[k].component, cn);
            if (is(settings[k].component, cn) && is(settings[k].variable, vn))
                s = k;
        }
        const char *st;
        char v[SIM_ID_MAX + 16];
        if (!component_known)
            st = sim_faulty(o, F_VAR_GET_UNKNOWN) ? "UnknownVariable" : "UnknownComponent";
        else if (s < 0)
            st = "UnknownVariable";
        else if (type && !is(type, "Actual"))
            st = "NotSupportedAttributeType";
        else if (!set)
            st = refuse ? "Rejected" : "Accepted";
        else if (!settings[s].writable)
            st = "Rejected";
        else if (setting_set(o, p, (enum setting)s,
                             json_string_value(json_object_get(item, "attributeValue")), now_ms,
                             hold) < 0)
            /* variables.set-invalid faulty: a malformed value Accepted (and ignored) */
            st = sim_faulty(o, F_VAR_SET_INVALID) ? "Accepted" : "Rejected";
        else
            st = "Accepted";
        json_t *r =
            json_pack("{s:s, s:O, s:O}", "attributeStatus", st, "component", comp, "variable", var);
        if (type)
            json_object_set_new(r, "attributeType", json_string(type));
        if (!set && is(st, "Accepted")) {
            setting_value(o, p, (enum setting)s, v, sizeof v);
            json_object_set_new(r, "attributeValue", json_string(v));
        }
        json_array_append_new(out, r);
    }
    return json_pack("{s:o}", set ? "setVariableResult" : "getVariableResult", out);
}
