/* Unit tests of gateway/ocpp_answers.c: every answer the central system can build, for every
 * CP->CS action of both versions and each shape of request that changes it, validates against
 * the official response schema (protocol/ocpp); the action tables agree with the versions'
 * action lists; the BootNotification statuses; TriggerMessage's requestedMessage as the action
 * the pile sends; the T/CEC status mapping; date-time parsing and formatting. */
#include "gateway/ocpp_answers.h"
#include "protocol/ocpp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static enum ocpp_version pv(enum gw_ocpp_version v)
{
    return v == GW_OCPP201 ? OCPP_V201 : OCPP_V16;
}

/* Requests whose content changes the answer (the rest are answered the same for any). */
static const char *const requests[] = {
    "{}",
    "{\"idTag\":\"TAG-1\"}",
    "{\"idToken\":{\"idToken\":\"TAG-1\",\"type\":\"ISO14443\"}}",
};

static void test_every_answer_validates(void **state)
{
    (void)state;
    struct gw_answer_ctx ctx = {.now = 1795000000, .interval = 300, .transaction_id = 42};
    for (int gv = 0; gv < GW_OCPP_VERSIONS; gv++) {
        size_t n = gw_ocpp_cs_action_count((enum gw_ocpp_version)gv);
        assert_true(n >= 10);
        for (size_t i = 0; i < n; i++) {
            const char *action = gw_ocpp_cs_action_name((enum gw_ocpp_version)gv, i);
            assert_true(ocpp_action_known(pv((enum gw_ocpp_version)gv), action));
            for (size_t r = 0; r < sizeof requests / sizeof requests[0]; r++) {
                json_t *req = json_loads(requests[r], 0, NULL);
                assert_non_null(req);
                json_t *a = gw_ocpp_answer((enum gw_ocpp_version)gv, action, req, &ctx);
                if (!a)
                    fail_msg("%s %s: no answer", gv ? "ocpp2.0.1" : "ocpp1.6", action);
                struct ocpp_error err = {0};
                if (ocpp_validate(pv((enum gw_ocpp_version)gv), action, OCPP_RESPONSE, a, &err))
                    fail_msg("%s %s answer to %s invalid at %s: %s", gv ? "ocpp2.0.1" : "ocpp1.6",
                             action, requests[r], err.path, err.reason);
                json_decref(a);
                json_decref(req);
            }
        }
        /* sorted, for the binary search */
        for (size_t i = 1; i < n; i++)
            assert_true(strcmp(gw_ocpp_cs_action_name((enum gw_ocpp_version)gv, i - 1),
                               gw_ocpp_cs_action_name((enum gw_ocpp_version)gv, i)) < 0);
    }
}

static void test_answers_content(void **state)
{
    (void)state;
    struct gw_answer_ctx ctx = {.now = 1795000000, .interval = 120, .transaction_id = 7};
    json_t *req = json_object();
    json_t *a = gw_ocpp_answer(GW_OCPP16, "BootNotification", req, &ctx);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "Accepted");
    assert_int_equal(json_integer_value(json_object_get(a, "interval")), 120);
    assert_string_equal(json_string_value(json_object_get(a, "currentTime")),
                        "2026-11-18T11:06:40Z");
    json_decref(a);
    a = gw_ocpp_answer(GW_OCPP16, "StartTransaction", req, &ctx);
    assert_int_equal(json_integer_value(json_object_get(a, "transactionId")), 7);
    json_decref(a);
    a = gw_ocpp_answer(GW_OCPP16, "DataTransfer", req, &ctx);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "UnknownVendorId");
    json_decref(a);
    a = gw_ocpp_answer(GW_OCPP201, "TransactionEvent", req, &ctx);
    assert_int_equal(json_object_size(a), 0);
    json_decref(a);
    /* actions the central system sends are not answered here (NotSupported) */
    assert_null(gw_ocpp_answer(GW_OCPP16, "Reset", req, &ctx));
    assert_false(gw_ocpp_cs_receives(GW_OCPP16, "RemoteStartTransaction"));
    assert_false(gw_ocpp_cs_receives(GW_OCPP201, "RequestStartTransaction"));
    assert_false(gw_ocpp_cs_receives(GW_OCPP201, "StartTransaction"));
    assert_true(gw_ocpp_cs_receives(GW_OCPP201, "NotifyReport"));
    json_decref(req);
}

/* BootNotification answers Pending and Rejected as configured per pile, valid in both. */
static void test_boot_status(void **state)
{
    (void)state;
    const char *statuses[] = {"Pending", "Rejected", "Accepted"};
    for (int gv = 0; gv < GW_OCPP_VERSIONS; gv++)
        for (size_t i = 0; i < 3; i++) {
            struct gw_answer_ctx ctx = {
                .now = 1795000000, .interval = 90, .boot_status = statuses[i]};
            json_t *req = json_object();
            json_t *a = gw_ocpp_answer((enum gw_ocpp_version)gv, "BootNotification", req, &ctx);
            assert_string_equal(json_string_value(json_object_get(a, "status")), statuses[i]);
            assert_int_equal(json_integer_value(json_object_get(a, "interval")), 90);
            assert_int_equal(ocpp_validate(pv((enum gw_ocpp_version)gv), "BootNotification",
                                           OCPP_RESPONSE, a, NULL),
                             0);
            json_decref(a);
            json_decref(req);
        }
}

/* Every requestedMessage of TriggerMessage (and 1.6 ExtendedTriggerMessage) names an action the
 * pile then sends to the central system. */
static void test_trigger_action(void **state)
{
    (void)state;
    static const struct {
        enum gw_ocpp_version v;
        const char *action, *requested, *want;
    } t[] = {
        {GW_OCPP16, "TriggerMessage", "BootNotification", "BootNotification"},
        {GW_OCPP16, "TriggerMessage", "DiagnosticsStatusNotification",
         "DiagnosticsStatusNotification"},
        {GW_OCPP16, "TriggerMessage", "FirmwareStatusNotification", "FirmwareStatusNotification"},
        {GW_OCPP16, "TriggerMessage", "Heartbeat", "Heartbeat"},
        {GW_OCPP16, "TriggerMessage", "MeterValues", "MeterValues"},
        {GW_OCPP16, "TriggerMessage", "StatusNotification", "StatusNotification"},
        {GW_OCPP16, "ExtendedTriggerMessage", "LogStatusNotification", "LogStatusNotification"},
        {GW_OCPP16, "ExtendedTriggerMessage", "FirmwareStatusNotification",
         "SignedFirmwareStatusNotification"},
        {GW_OCPP16, "ExtendedTriggerMessage", "SignChargePointCertificate", "SignCertificate"},
        {GW_OCPP16, "ExtendedTriggerMessage", "StatusNotification", "StatusNotification"},
        {GW_OCPP201, "TriggerMessage", "BootNotification", "BootNotification"},
        {GW_OCPP201, "TriggerMessage", "LogStatusNotification", "LogStatusNotification"},
        {GW_OCPP201, "TriggerMessage", "FirmwareStatusNotification", "FirmwareStatusNotification"},
        {GW_OCPP201, "TriggerMessage", "Heartbeat", "Heartbeat"},
        {GW_OCPP201, "TriggerMessage", "MeterValues", "MeterValues"},
        {GW_OCPP201, "TriggerMessage", "SignChargingStationCertificate", "SignCertificate"},
        {GW_OCPP201, "TriggerMessage", "SignV2GCertificate", "SignCertificate"},
        {GW_OCPP201, "TriggerMessage", "SignCombinedCertificate", "SignCertificate"},
        {GW_OCPP201, "TriggerMessage", "StatusNotification", "StatusNotification"},
        {GW_OCPP201, "TriggerMessage", "TransactionEvent", "TransactionEvent"},
        {GW_OCPP201, "TriggerMessage", "PublishFirmwareStatusNotification",
         "PublishFirmwareStatusNotification"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        json_t *req = json_pack("{s:s}", "requestedMessage", t[i].requested);
        struct ocpp_error err = {0};
        if (ocpp_validate(pv(t[i].v), t[i].action, OCPP_REQUEST, req, &err) != 0)
            fail_msg("%s %s: not a valid request: %s", t[i].action, t[i].requested, err.reason);
        const char *got = gw_ocpp_trigger_action(t[i].v, t[i].action, req);
        if (!got || strcmp(got, t[i].want) != 0)
            fail_msg("%s %s -> %s, want %s", t[i].action, t[i].requested, got ? got : "NULL",
                     t[i].want);
        assert_true(gw_ocpp_cs_receives(t[i].v, got));
        json_decref(req);
    }
    json_t *req = json_pack("{s:s}", "requestedMessage", "StatusNotification");
    assert_null(gw_ocpp_trigger_action(GW_OCPP16, "Reset", req));
    assert_null(gw_ocpp_trigger_action(GW_OCPP16, NULL, req));
    json_decref(req);
    req = json_pack("{s:s}", "requestedMessage", "Nonsense");
    assert_null(gw_ocpp_trigger_action(GW_OCPP201, "TriggerMessage", req));
    json_decref(req);
    req = json_object();
    assert_null(gw_ocpp_trigger_action(GW_OCPP201, "TriggerMessage", req));
    json_decref(req);
}

static void test_tcec_status(void **state)
{
    (void)state;
    static const struct {
        int v;
        const char *status;
        int tcec;
    } t[] = {
        {GW_OCPP16, "Available", 1},      {GW_OCPP16, "Preparing", 2},
        {GW_OCPP16, "Charging", 3},       {GW_OCPP16, "SuspendedEV", 3},
        {GW_OCPP16, "SuspendedEVSE", 3},  {GW_OCPP16, "Finishing", 2},
        {GW_OCPP16, "Reserved", 4},       {GW_OCPP16, "Unavailable", 255},
        {GW_OCPP16, "Faulted", 255},      {GW_OCPP201, "Available", 1},
        {GW_OCPP201, "Occupied", 2},      {GW_OCPP201, "Reserved", 4},
        {GW_OCPP201, "Unavailable", 255}, {GW_OCPP201, "Faulted", 255},
        {GW_OCPP16, "Occupied", 255},     {GW_OCPP201, "Charging", 255},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (gw_tcec_status((enum gw_ocpp_version)t[i].v, t[i].status) != t[i].tcec)
            fail_msg("%d %s", t[i].v, t[i].status);
    assert_int_equal(gw_tcec_charging_state("Charging"), 3);
    assert_int_equal(gw_tcec_charging_state("SuspendedEV"), 3);
    assert_int_equal(gw_tcec_charging_state("EVConnected"), 2);
    assert_int_equal(gw_tcec_charging_state("Idle"), -1);
}

static void test_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(gw_ocpp_time_parse("2026-11-18T11:06:40Z", &t), 0);
    assert_int_equal(t, 1795000000);
    assert_int_equal(gw_ocpp_time_parse("2026-11-18T19:06:40.123+08:00", &t), 0);
    assert_int_equal(t, 1795000000);
    assert_int_equal(gw_ocpp_time_parse("2026-11-18T10:06:40-01:00", &t), 0);
    assert_int_equal(t, 1795000000);
    assert_int_equal(gw_ocpp_time_parse("2026-11-18 11:06:40Z", &t), -1);
    assert_int_equal(gw_ocpp_time_parse("2026-11-18T11:06:40", &t), -1);
    assert_int_equal(gw_ocpp_time_parse("2026-13-18T11:06:40Z", &t), -1);
    assert_int_equal(gw_ocpp_time_parse(NULL, &t), -1);
    char buf[32];
    gw_ocpp_time_format(1795000000, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-18T11:06:40Z");
    assert_true(ocpp_is_date_time(buf, strlen(buf)));
    /* the same second again, the next one, and back: each its own text */
    gw_ocpp_time_format(1795000000, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-18T11:06:40Z");
    gw_ocpp_time_format(1795000001, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-18T11:06:41Z");
    gw_ocpp_time_format(1795000000, buf, 11);
    assert_string_equal(buf, "2026-11-18");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_answer_validates),
        cmocka_unit_test(test_answers_content),
        cmocka_unit_test(test_boot_status),
        cmocka_unit_test(test_trigger_action),
        cmocka_unit_test(test_tcec_status),
        cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
