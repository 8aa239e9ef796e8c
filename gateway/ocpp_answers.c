/* The central system's answers, pure; see ocpp_answers.h.
 *
 * Which answer evgate gives where it does not act yet (written down here, tested in
 * tests/unit/test_ocpp_answers.c):
 *   - Authorize, and the idTag/idToken of Start/StopTransaction and TransactionEvent: Accepted.
 *     evgate keeps no id-tag lists or authorisation cache yet, so every token is accepted.
 *   - DataTransfer (both versions): UnknownVendorId; no vendor extension is known.
 *   - 2.0.1 SignCertificate and 1.6's SignCertificate (security whitepaper): Rejected, there is
 *     no CA to sign with; GetCertificateStatus and Get15118EVCertificate: Failed.
 *   - 2.0.1 NotifyEVChargingNeeds: Rejected (no smart charging); NotifyEVChargingSchedule:
 *     Accepted (evgate imposes no limit the schedule could break).
 *   - every notification (status, firmware, diagnostics, log, security event, report, event,
 *     monitoring, display, customer information, charging limit, reservation): {} as the
 *     schema allows, after the state was stored where evgate stores it.
 *
 * T/CEC 102 ConnectorStatus from OCPP:
 * | T/CEC | meaning          | 1.6 ChargePointStatus                 | 2.0.1 ConnectorStatus     |
 * |-------|------------------|---------------------------------------|---------------------------|
 * | 0     | 离网 offline     | (no connection: derived, not stored)  | (same)                    |
 * | 1     | 空闲 idle        | Available                             | Available                 |
 * | 2     | 占用(未充电)     | Preparing, Finishing                  | Occupied                  |
 * | 3     | 占用(充电中)     | Charging, SuspendedEV, SuspendedEVSE  | Occupied + TransactionEvent|
 * |       |                  |                                       |  chargingState Charging,  |
 * |       |                  |                                       |  SuspendedEV/SuspendedEVSE|
 * | 4     | 占用(预约锁定)   | Reserved                              | Reserved                  |
 * | 255   | 故障 fault       | Faulted, Unavailable                  | Faulted, Unavailable      |
 * Suspended* is 3: the charging session (and the order a T/CEC platform reports) is still open;
 * T/CEC has no "suspended" and 2 means a car plugged in without a session. Unavailable is 255:
 * the connector cannot be used, and 0 (offline) is reserved for a pile that is not connected. */
#include "gateway/ocpp_answers.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef json_t *(*answer_fn)(const json_t *req, const struct gw_answer_ctx *ctx);

struct cs_action {
    const char *name;
    answer_fn answer;
};

static json_t *empty(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_object();
}

static json_t *current_time(const struct gw_answer_ctx *ctx)
{
    char t[32];
    gw_ocpp_time_format(ctx->now, t, sizeof t);
    return json_string(t);
}

static json_t *boot(const json_t *req, const struct gw_answer_ctx *ctx)
{
    const char *status = ctx->boot_status ? ctx->boot_status : "Accepted";
    return json_pack("{s:s, s:o, s:I}", "status", status, "currentTime", current_time(ctx),
                     "interval", (json_int_t)ctx->interval);
}

static json_t *heartbeat(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:o}", "currentTime", current_time(ctx));
}

static json_t *id_tag_accepted(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:{s:s}}", "idTagInfo", "status", "Accepted");
}

static json_t *unknown_vendor(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:s}", "status", "UnknownVendorId");
}

static json_t *rejected(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:s}", "status", "Rejected");
}

static json_t *accepted(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:s}", "status", "Accepted");
}

static json_t *failed(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:s}", "status", "Failed");
}

static json_t *start_tx16(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:{s:s}, s:I}", "idTagInfo", "status", "Accepted", "transactionId",
                     (json_int_t)ctx->transaction_id);
}

static json_t *stop_tx16(const json_t *req, const struct gw_answer_ctx *ctx)
{
    /* idTagInfo answers the idTag of the stop; without one there is nothing to answer */
    return json_object_get(req, "idTag") ? id_tag_accepted(req, ctx) : json_object();
}

static json_t *id_token_accepted(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:{s:s}}", "idTokenInfo", "status", "Accepted");
}

static json_t *tx_event(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_object_get(req, "idToken") ? id_token_accepted(req, ctx) : json_object();
}

static json_t *ev_certificate(const json_t *req, const struct gw_answer_ctx *ctx)
{
    return json_pack("{s:s, s:s}", "status", "Failed", "exiResponse", "");
}

/* In strcmp order (bsearch). */
static const struct cs_action cs16[] = {
    {"Authorize", id_tag_accepted},
    {"BootNotification", boot},
    {"DataTransfer", unknown_vendor},
    {"DiagnosticsStatusNotification", empty},
    {"FirmwareStatusNotification", empty},
    {"Heartbeat", heartbeat},
    {"LogStatusNotification", empty},
    {"MeterValues", empty},
    {"SecurityEventNotification", empty},
    {"SignCertificate", rejected},
    {"SignedFirmwareStatusNotification", empty},
    {"StartTransaction", start_tx16},
    {"StatusNotification", empty},
    {"StopTransaction", stop_tx16},
};

static const struct cs_action cs201[] = {
    {"Authorize", id_token_accepted},
    {"BootNotification", boot},
    {"ClearedChargingLimit", empty},
    {"DataTransfer", unknown_vendor},
    {"FirmwareStatusNotification", empty},
    {"Get15118EVCertificate", ev_certificate},
    {"GetCertificateStatus", failed},
    {"Heartbeat", heartbeat},
    {"LogStatusNotification", empty},
    {"MeterValues", empty},
    {"NotifyChargingLimit", empty},
    {"NotifyCustomerInformation", empty},
    {"NotifyDisplayMessages", empty},
    {"NotifyEVChargingNeeds", rejected},
    {"NotifyEVChargingSchedule", accepted},
    {"NotifyEvent", empty},
    {"NotifyMonitoringReport", empty},
    {"NotifyReport", empty},
    {"PublishFirmwareStatusNotification", empty},
    {"ReportChargingProfiles", empty},
    {"ReservationStatusUpdate", empty},
    {"SecurityEventNotification", empty},
    {"SignCertificate", rejected},
    {"StatusNotification", empty},
    {"TransactionEvent", tx_event},
};

static const struct cs_action *table(enum gw_ocpp_version v, size_t *n)
{
    if (v == GW_OCPP201) {
        *n = sizeof cs201 / sizeof cs201[0];
        return cs201;
    }
    *n = sizeof cs16 / sizeof cs16[0];
    return cs16;
}

static int cmp_action(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cs_action *)elem)->name);
}

static const struct cs_action *find(enum gw_ocpp_version v, const char *action)
{
    size_t n;
    const struct cs_action *t = table(v, &n);
    return action ? bsearch(action, t, n, sizeof *t, cmp_action) : NULL;
}

bool gw_ocpp_cs_receives(enum gw_ocpp_version v, const char *action)
{
    return find(v, action) != NULL;
}

size_t gw_ocpp_cs_action_count(enum gw_ocpp_version v)
{
    size_t n;
    table(v, &n);
    return n;
}

const char *gw_ocpp_cs_action_name(enum gw_ocpp_version v, size_t i)
{
    size_t n;
    const struct cs_action *t = table(v, &n);
    return i < n ? t[i].name : NULL;
}

json_t *gw_ocpp_answer(enum gw_ocpp_version v, const char *action, const json_t *req,
                       const struct gw_answer_ctx *ctx)
{
    const struct cs_action *a = find(v, action);
    return a ? a->answer(req, ctx) : NULL;
}

/* --- T/CEC connector status (the table is at the top of this file) ------------------------ */

static const struct {
    const char *status;
    int tcec;
} status16[] =
    {
        {"Available", GW_TCEC_IDLE},         {"Preparing", GW_TCEC_OCCUPIED},
        {"Charging", GW_TCEC_CHARGING},      {"SuspendedEV", GW_TCEC_CHARGING},
        {"SuspendedEVSE", GW_TCEC_CHARGING}, {"Finishing", GW_TCEC_OCCUPIED},
        {"Reserved", GW_TCEC_RESERVED},      {"Unavailable", GW_TCEC_FAULT},
        {"Faulted", GW_TCEC_FAULT},
},
  status201[] = {
      {"Available", GW_TCEC_IDLE},    {"Occupied", GW_TCEC_OCCUPIED},
      {"Reserved", GW_TCEC_RESERVED}, {"Unavailable", GW_TCEC_FAULT},
      {"Faulted", GW_TCEC_FAULT},
};

int gw_tcec_status(enum gw_ocpp_version v, const char *status)
{
    if (!status)
        return GW_TCEC_FAULT;
    if (v == GW_OCPP201) {
        for (size_t i = 0; i < sizeof status201 / sizeof status201[0]; i++)
            if (!strcmp(status, status201[i].status))
                return status201[i].tcec;
    } else {
        for (size_t i = 0; i < sizeof status16 / sizeof status16[0]; i++)
            if (!strcmp(status, status16[i].status))
                return status16[i].tcec;
    }
    return GW_TCEC_FAULT;
}

int gw_tcec_charging_state(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "Charging") || !strcmp(s, "SuspendedEV") || !strcmp(s, "SuspendedEVSE"))
        return GW_TCEC_CHARGING;
    if (!strcmp(s, "EVConnected"))
        return GW_TCEC_OCCUPIED;
    return -1;
}

/* --- date-time ---------------------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int gw_ocpp_time_parse(const char *s, int64_t *out)
{
    int Y, M, D, h, m, sec;
    if (!s || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
        s[7] != '-' || digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return -1;
        off = (oh * 60L + om) * 60L * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    *out = (int64_t)timegm(&tm) - off;
    return 0;
}

void gw_ocpp_time_format(int64_t t, char *buf, size_t len)
{
    /* formatted once a second: under load every Heartbeat's answer asks for the same one */
    static _Thread_local int64_t last = INT64_MIN;
    static _Thread_local char text[32];
    if (t != last) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        if (strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
            text[0] = 0;
        last = t;
    }
    snprintf(buf, len, "%s", text);
}

const char *gw_ocpp_trigger_action(enum gw_ocpp_version v, const char *action,
                                   const json_t *payload)
{
    /* requestedMessage -> the action the pile then sends; same name when absent here */
    static const struct {
        const char *requested, *action;
    } renamed[] = {
        {"SignChargePointCertificate", "SignCertificate"},     /* 1.6 ExtendedTriggerMessage */
        {"SignChargingStationCertificate", "SignCertificate"}, /* 2.0.1 */
        {"SignV2GCertificate", "SignCertificate"},
        {"SignCombinedCertificate", "SignCertificate"},
    };
    if (!action ||
        (strcmp(action, "TriggerMessage") != 0 && strcmp(action, "ExtendedTriggerMessage") != 0))
        return NULL;
    const char *req = json_string_value(json_object_get(payload, "requestedMessage"));
    if (!req)
        return NULL;
    enum gw_ocpp_version gv = v == GW_OCPP201 ? GW_OCPP201 : GW_OCPP16;
    if (gv == GW_OCPP16 && !strcmp(action, "ExtendedTriggerMessage") &&
        !strcmp(req, "FirmwareStatusNotification"))
        req = "SignedFirmwareStatusNotification"; /* the security whitepaper's firmware status */
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (!strcmp(req, renamed[i].requested))
            req = renamed[i].action;
    /* the static name from the version's table of CP->CS actions */
    for (size_t i = 0; i < gw_ocpp_cs_action_count(gv); i++)
        if (!strcmp(gw_ocpp_cs_action_name(gv, i), req))
            return gw_ocpp_cs_action_name(gv, i);
    return NULL;
}
