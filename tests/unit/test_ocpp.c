/* protocol/ocpp: OCPP-J framing and its per-version error codes, builders, payload validation
 * of sample messages of 1.6 and 2.0.1 (verdict, code, path), the formats, and that the committed
 * rule tables are what scripts/gen-ocpp-schemas.mjs writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/ocpp.h"
#include "protocol/ocpp_schema.h" /* ocpp_schemas_16_source */

/* Parses `text` in `v`; returns the failure (OCPP_OK on success) and the error's code and id. */
static enum ocpp_fail frame(enum ocpp_version v, const char *text, struct ocpp_frame *f,
                            struct ocpp_error *err)
{
    int rc = ocpp_frame_parse(v, text, strlen(text), f, err);
    assert_int_equal(rc == 0, err->fail == OCPP_OK);
    return err->fail;
}

static void expect_frame_error(const char *text, enum ocpp_fail fail, const char *code16,
                               const char *code201, const char *id)
{
    struct ocpp_frame f;
    struct ocpp_error err;
    if (frame(OCPP_V16, text, &f, &err) != fail)
        fail_msg("%s: fail %d, want %d (%s)", text, err.fail, fail, err.reason);
    assert_string_equal(err.code, code16);
    assert_string_equal(err.id, id);
    assert_null(f.root);
    assert_int_equal(frame(OCPP_V201, text, &f, &err), fail);
    assert_string_equal(err.code, code201);
    assert_string_equal(err.id, id);
    /* the answer is a valid CALLERROR whatever bytes the frame held */
    char *answer = ocpp_build_error_for(OCPP_V201, &err);
    assert_non_null(answer);
    assert_int_equal(ocpp_frame_parse(OCPP_V201, answer, strlen(answer), &f, &err), 0);
    assert_string_equal(f.error_code, code201);
    assert_string_equal(f.id, id);
    ocpp_frame_clear(&f);
    free(answer);
    ocpp_frame_clear(&f);
}

static void test_good_frames(void **state)
{
    (void)state;
    struct ocpp_frame f;
    struct ocpp_error err;
    assert_int_equal(frame(OCPP_V16,
                           "[2,\"19223201\",\"BootNotification\",{\"chargePointVendor\":"
                           "\"VendorX\",\"chargePointModel\":\"SingleSocketCharger\"}]",
                           &f, &err),
                     OCPP_OK);
    assert_int_equal(f.type, OCPP_CALL);
    assert_string_equal(f.id, "19223201");
    assert_string_equal(f.action, "BootNotification");
    assert_string_equal(json_string_value(json_object_get(f.payload, "chargePointVendor")),
                        "VendorX");
    assert_int_equal(ocpp_validate(OCPP_V16, f.action, OCPP_REQUEST, f.payload, &err), 0);
    ocpp_frame_clear(&f);
    assert_null(f.root);

    assert_int_equal(frame(OCPP_V201,
                           " [3 , \"a-b-c\", {\"currentTime\":\"2024-01-01T00:00:00Z\"}]\n", &f,
                           &err),
                     OCPP_OK);
    assert_int_equal(f.type, OCPP_CALLRESULT);
    assert_string_equal(f.id, "a-b-c");
    assert_null(f.action);
    assert_true(json_is_object(f.payload));
    ocpp_frame_clear(&f);

    assert_int_equal(frame(OCPP_V16,
                           "[4,\"162376037\",\"NotSupported\",\"SetDisplayMessageRequest not "
                           "implemented\",{}]",
                           &f, &err),
                     OCPP_OK);
    assert_int_equal(f.type, OCPP_CALLERROR);
    assert_string_equal(f.error_code, "NotSupported");
    assert_string_equal(f.error_description, "SetDisplayMessageRequest not implemented");
    assert_true(json_is_object(f.error_details));
    ocpp_frame_clear(&f);

    /* 36 characters, multi-byte ones counted as one; 2.0 is the integer 2 in JSON */
    char text[512];
    snprintf(text, sizeof text, "[2.0,\"%s\",\"Heartbeat\",{}]",
             "电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电电");
    assert_int_equal(frame(OCPP_V201, text, &f, &err), OCPP_OK);
    assert_int_equal(f.type, OCPP_CALL);
    ocpp_frame_clear(&f);
    ocpp_frame_clear(NULL);
}

static void test_bad_frames(void **state)
{
    (void)state;
    const char *F16 = "FormationViolation", *RPC = "RpcFrameworkError";
    expect_frame_error("", OCPP_F_NOT_JSON, F16, RPC, "-1");
    expect_frame_error("hello", OCPP_F_NOT_JSON, F16, RPC, "-1");
    expect_frame_error("[2,\"1\",\"Heartbeat\",{}", OCPP_F_NOT_JSON, F16, RPC, "-1");
    expect_frame_error("[2,\"1\",\"Heartbeat\",{}] x", OCPP_F_NOT_JSON, F16, RPC, "-1");
    expect_frame_error("[2,\"1\",\"Heartbeat\",{\"a\":1e999}]", OCPP_F_NOT_JSON, F16, RPC, "-1");
    expect_frame_error("[2,\"1\",\"Heartbeat\",{\"a\":99999999999999999999}]", OCPP_F_NOT_JSON, F16,
                       RPC, "-1");
    expect_frame_error("[2,\"\xff\",\"Heartbeat\",{}]", OCPP_F_NOT_JSON, F16, RPC, "-1");
    /* jansson quotes the bytes near an error: the reason (and so the answer) stays ASCII */
    expect_frame_error("[2,\"m2\",\"A\",{\"tr\\\xdf\x9f\"}]", OCPP_F_NOT_JSON, F16, RPC, "-1");
    expect_frame_error("{\"a\":1}", OCPP_F_NOT_ARRAY, F16, RPC, "-1");
    expect_frame_error("\"[2]\"", OCPP_F_NOT_ARRAY, F16, RPC, "-1");
    expect_frame_error("[]", OCPP_F_NOT_ARRAY, F16, RPC, "-1");
    expect_frame_error("[\"2\",\"id1\",\"Heartbeat\",{}]", OCPP_F_BAD_TYPE_ID, F16, RPC, "id1");
    expect_frame_error("[2.5,\"id1\",\"Heartbeat\",{}]", OCPP_F_BAD_TYPE_ID, F16, RPC, "id1");
    expect_frame_error("[null]", OCPP_F_BAD_TYPE_ID, F16, RPC, "-1");
    expect_frame_error("[5,\"id1\",\"Heartbeat\",{}]", OCPP_F_UNKNOWN_TYPE, F16,
                       "MessageTypeNotSupported", "id1");
    expect_frame_error("[6,\"id1\",{}]", OCPP_F_UNKNOWN_TYPE, F16, "MessageTypeNotSupported",
                       "id1");
    expect_frame_error("[2]", OCPP_F_BAD_ID, F16, RPC, "-1");
    expect_frame_error("[2,17,\"Heartbeat\",{}]", OCPP_F_BAD_ID, F16, RPC, "-1");
    expect_frame_error("[2,\"\",\"Heartbeat\",{}]", OCPP_F_BAD_ID, F16, RPC, "-1");
    expect_frame_error("[2,\"0123456789012345678901234567890123456\",\"Heartbeat\",{}]",
                       OCPP_F_BAD_ID, F16, RPC, "-1");
    expect_frame_error("[2,\"id1\",\"Heartbeat\"]", OCPP_F_INCOMPLETE, "ProtocolError", RPC, "id1");
    expect_frame_error("[3,\"id1\"]", OCPP_F_INCOMPLETE, "ProtocolError", RPC, "id1");
    expect_frame_error("[4,\"id1\",\"GenericError\",\"x\"]", OCPP_F_INCOMPLETE, "ProtocolError",
                       RPC, "id1");
    expect_frame_error("[2,\"id1\",\"Heartbeat\",{},{}]", OCPP_F_EXTRA_ELEMENTS, F16, RPC, "id1");
    expect_frame_error("[3,\"id1\",{},1]", OCPP_F_EXTRA_ELEMENTS, F16, RPC, "id1");
    expect_frame_error("[2,\"id1\",7,{}]", OCPP_F_BAD_ELEMENT, F16, RPC, "id1");
    expect_frame_error("[4,\"id1\",1,\"x\",{}]", OCPP_F_BAD_ELEMENT, F16, RPC, "id1");
    expect_frame_error("[4,\"id1\",\"GenericError\",null,{}]", OCPP_F_BAD_ELEMENT, F16, RPC, "id1");
    expect_frame_error("[4,\"id1\",\"GenericError\",\"x\",[]]", OCPP_F_BAD_ELEMENT, F16, RPC,
                       "id1");
    expect_frame_error("[2,\"id1\",\"Heartbeat\",[]]", OCPP_F_PAYLOAD_NOT_OBJECT, F16,
                       "FormatViolation", "id1");
    expect_frame_error("[2,\"id1\",\"Heartbeat\",null]", OCPP_F_PAYLOAD_NOT_OBJECT, F16,
                       "FormatViolation", "id1");
    expect_frame_error("[3,\"id1\",\"ok\"]", OCPP_F_PAYLOAD_NOT_OBJECT, F16, "FormatViolation",
                       "id1");

    /* a frame need not be NUL-terminated; bytes past len are not read */
    struct ocpp_frame f;
    struct ocpp_error err;
    const char text[] = "[2,\"id1\",\"Heartbeat\",{}]garbage";
    assert_int_equal(ocpp_frame_parse(OCPP_V16, text, 24, &f, &err), 0);
    ocpp_frame_clear(&f);
    assert_int_equal(ocpp_frame_parse(OCPP_V16, NULL, 0, &f, NULL), -1);
}

/* Nesting bombs: refused by the parser beyond its depth, harmless within it. */
static void test_nesting_bombs(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *bomb = malloc(2 * depth + 64);
    assert_non_null(bomb);
    size_t n = (size_t)sprintf(bomb, "[2,\"id1\",\"DataTransfer\",{\"vendorId\":\"v\",\"data\":");
    for (size_t i = 0; i < depth; i++)
        bomb[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        bomb[n++] = ']';
    n += (size_t)sprintf(bomb + n, "}]");
    struct ocpp_frame f;
    struct ocpp_error err;
    assert_int_equal(ocpp_frame_parse(OCPP_V201, bomb, n, &f, &err), -1);
    assert_int_equal(err.fail, OCPP_F_NOT_JSON);
    assert_string_equal(err.code, "RpcFrameworkError");

    /* 1000 levels parse; 2.0.1 DataTransfer.data is any value, 1.6's a string */
    n = (size_t)sprintf(bomb, "[2,\"id1\",\"DataTransfer\",{\"vendorId\":\"v\",\"data\":");
    for (size_t i = 0; i < 1000; i++)
        n += (size_t)sprintf(bomb + n, "{\"a\":");
    bomb[n++] = '1';
    for (size_t i = 0; i < 1000; i++)
        bomb[n++] = '}';
    n += (size_t)sprintf(bomb + n, "}]");
    assert_int_equal(ocpp_frame_parse(OCPP_V201, bomb, n, &f, &err), 0);
    assert_int_equal(ocpp_validate(OCPP_V201, f.action, OCPP_REQUEST, f.payload, &err), 0);
    assert_int_equal(ocpp_validate(OCPP_V16, f.action, OCPP_REQUEST, f.payload, &err), -1);
    assert_string_equal(err.code, "TypeConstraintViolation");
    assert_string_equal(err.path, "$.data");
    ocpp_frame_clear(&f);
    free(bomb);
}

static void test_builders(void **state)
{
    (void)state;
    json_t *p = json_pack("{s:s,s:i}", "status", "Accepted", "interval", 300);
    char *s = ocpp_build_call("m1", "BootNotification", p);
    assert_string_equal(
        s, "[2,\"m1\",\"BootNotification\",{\"status\":\"Accepted\",\"interval\":300}]");
    free(s);
    s = ocpp_build_result("m1", p);
    assert_string_equal(s, "[3,\"m1\",{\"status\":\"Accepted\",\"interval\":300}]");
    free(s);
    s = ocpp_build_error("m1", "NotImplemented", "unknown action", NULL);
    assert_string_equal(s, "[4,\"m1\",\"NotImplemented\",\"unknown action\",{}]");
    free(s);
    assert_null(ocpp_build_call("", "Heartbeat", p));
    assert_null(ocpp_build_call("0123456789012345678901234567890123456", "Heartbeat", p));
    assert_null(ocpp_build_call("m1", "", p));
    json_t *arr = json_array();
    assert_null(ocpp_build_result("m1", arr));
    assert_null(ocpp_build_error("m1", "GenericError", "x", arr));
    json_decref(arr);
    assert_int_equal(p->refcount, 1);
    json_decref(p);

    /* an answer to a failure: the version's code, the reason, the path in the details */
    struct ocpp_frame f;
    struct ocpp_error err;
    assert_int_equal(ocpp_frame_parse(OCPP_V201, "nonsense", 8, &f, &err), -1);
    s = ocpp_build_error_for(OCPP_V201, &err);
    assert_non_null(strstr(s, "[4,\"-1\",\"RpcFrameworkError\",\"not JSON"));
    assert_non_null(strstr(s, ",{}]"));
    free(s);
    json_t *boot = json_pack("{s:s}", "chargePointVendor", "V");
    strcpy(err.id, "b7");
    assert_int_equal(ocpp_validate(OCPP_V16, "BootNotification", OCPP_REQUEST, boot, &err), -1);
    s = ocpp_build_error_for(OCPP_V16, &err);
    assert_string_equal(s, "[4,\"b7\",\"OccurenceConstraintViolation\",\"required property "
                           "missing\",{\"path\":\"$.chargePointModel\"}]");
    free(s);
    s = ocpp_build_error_for(OCPP_V201, &err);
    assert_non_null(strstr(s, "OccurrenceConstraintViolation"));
    free(s);
    json_decref(boot);
    err.fail = OCPP_OK;
    assert_null(ocpp_build_error_for(OCPP_V16, &err));
}

/* A CALLRESULT as jansson writes the whole array: what ocpp_build_result must give. */
static char *result_by_jansson(const char *id, const json_t *payload)
{
    json_t *frame = json_pack("[i,s,O]", OCPP_CALLRESULT, id, (json_t *)payload);
    char *text = frame ? json_dumps(frame, JSON_COMPACT) : NULL;
    json_decref(frame);
    return text;
}

/* ocpp_build_result writes a plain id and the payload itself and leaves the rest to jansson:
 * the same bytes either way, for ids that need escapes, payloads empty, small and too big for
 * its buffer. */
static void test_build_result_as_jansson(void **state)
{
    (void)state;
    const char *ids[] = {"m1",
                         "0",
                         "a b/c",
                         "~!@#$%^&*()_+`-={}|[]:;'<>?,.",
                         "q\"uote",
                         "back\\slash",
                         "tab\tid",
                         "del\x7f",
                         "\xe4\xb8\xad\xe6\x96\x87",
                         "123456789012345678901234567890123456"};
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    json_t *payloads[] = {
        json_object(),
        json_pack("{s:s}", "currentTime", "2026-11-26T21:00:00.000Z"),
        json_pack("{s:s,s:i,s:f,s:[i,b,n],s:{}}", "status", "Accepted", "interval", 300, "r", 0.5,
                  "a", 1, 1, "o"),
        json_pack("{s:s}", "data", "\"\\\n\xe4\xb8\xad"),
        json_pack("{s:s}", "data", big),
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        for (size_t j = 0; j < sizeof payloads / sizeof payloads[0]; j++) {
            assert_non_null(payloads[j]);
            char *want = result_by_jansson(ids[i], payloads[j]);
            char *got = ocpp_build_result(ids[i], payloads[j]);
            assert_non_null(want);
            assert_non_null(got);
            assert_string_equal(got, want);
            free(want);
            free(got);
        }
    /* an id that is not UTF-8 is refused as jansson refuses it */
    assert_null(ocpp_build_result("\xff\xfe", payloads[0]));
    for (size_t j = 0; j < sizeof payloads / sizeof payloads[0]; j++)
        json_decref(payloads[j]);
}

/* Validates the JSON text `payload`; expects `code` (NULL: valid) and `path`. */
static void check(enum ocpp_version v, const char *action, enum ocpp_kind kind, const char *payload,
                  const char *code, const char *path)
{
    json_error_t jerr;
    json_t *p = json_loads(payload, 0, &jerr);
    if (!p)
        fail_msg("bad test JSON %s: %s", payload, jerr.text);
    struct ocpp_error err;
    memset(&err, 0, sizeof err);
    int rc = ocpp_validate(v, action, kind, p, &err);
    json_decref(p);
    if (!code) {
        if (rc != 0)
            fail_msg("%s %s: %s at %s (%s)", action, payload, err.code, err.path, err.reason);
        return;
    }
    if (rc == 0)
        fail_msg("%s %s: valid, want %s at %s", action, payload, code, path);
    if (strcmp(err.code, code) || strcmp(err.path, path))
        fail_msg("%s %s: %s at %s (%s), want %s at %s", action, payload, err.code, err.path,
                 err.reason, code, path);
}

#define V16  OCPP_V16
#define V201 OCPP_V201
#define REQ  OCPP_REQUEST
#define RES  OCPP_RESPONSE

static void test_validate_16(void **state)
{
    (void)state;
    const char *T = "TypeConstraintViolation", *O = "OccurenceConstraintViolation",
               *P = "PropertyConstraintViolation", *F = "FormationViolation";
    check(V16, "BootNotification", REQ, "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\"}",
          NULL, NULL);
    check(V16, "BootNotification", REQ, "{\"chargePointVendor\":\"V\"}", O, "$.chargePointModel");
    check(V16, "BootNotification", REQ, "{\"chargePointVendor\":1,\"chargePointModel\":\"M\"}", T,
          "$.chargePointVendor");
    check(V16, "BootNotification", REQ,
          "{\"chargePointVendor\":\"123456789012345678901\",\"chargePointModel\":\"M\"}", P,
          "$.chargePointVendor");
    check(
        V16, "BootNotification", REQ,
        "{\"chargePointVendor\":\"充电充电充电充电充电充电充电充电充电充电\",\"chargePointModel\":"
        "\"M\"}",
        NULL, NULL);
    check(V16, "BootNotification", REQ,
          "{\"chargePointVendor\":\"V\",\"chargePointModel\":\"M\",\"colour\":\"red\"}", F,
          "$.colour");
    check(V16, "BootNotification", RES,
          "{\"status\":\"Accepted\",\"currentTime\":\"2024-01-01T00:00:00Z\",\"interval\":300}",
          NULL, NULL);
    check(V16, "BootNotification", RES,
          "{\"status\":\"accepted\",\"currentTime\":\"2024-01-01T00:00:00Z\",\"interval\":300}", P,
          "$.status");
    check(V16, "BootNotification", RES,
          "{\"status\":\"Accepted\",\"currentTime\":\"2024-01-01T00:00:00Z\",\"interval\":30.5}", T,
          "$.interval");
    check(V16, "BootNotification", RES,
          "{\"status\":\"Accepted\",\"currentTime\":\"2024-01-01T00:00:00Z\",\"interval\":30.0}",
          NULL, NULL);
    check(V16, "StatusNotification", REQ,
          "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\"}", NULL, NULL);
    check(V16, "StatusNotification", REQ,
          "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\",\"timestamp\":"
          "\"2024-01-01T08:00:00\"}",
          P, "$.timestamp");
    check(V16, "StatusNotification", REQ,
          "{\"connectorId\":\"1\",\"errorCode\":\"NoError\",\"status\":\"Charging\"}", T,
          "$.connectorId");
    const char *mv = "{\"connectorId\":1,\"transactionId\":7,\"meterValue\":[{\"timestamp\":\"2024-"
                     "01-01T00:00:00.5+08:00\",\"sampledValue\":[{\"value\":\"10\"},{\"value\":"
                     "\"230\",\"measurand\":\"Voltage\",\"phase\":\"L1-N\",\"unit\":\"V\"}]}]}";
    check(V16, "MeterValues", REQ, mv, NULL, NULL);
    char bad[1024];
    snprintf(bad, sizeof bad, "%s", mv);
    memcpy(strstr(bad, "Voltage"), "voltage", 7);
    check(V16, "MeterValues", REQ, bad, P, "$.meterValue[0].sampledValue[1].measurand");
    check(V16, "MeterValues", REQ,
          "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2024-01-01T00:00:00Z\","
          "\"sampledValue\":[{\"value\":\"1\"},{\"unit\":\"V\"}]}]}",
          O, "$.meterValue[0].sampledValue[1].value");
    check(V16, "MeterValues", REQ, "{\"connectorId\":1,\"meterValue\":[]}", NULL, NULL);
    check(V16, "SetChargingProfile", REQ,
          "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":1,\"stackLevel\":0,"
          "\"chargingProfilePurpose\":\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\","
          "\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
          "\"startPeriod\":0,\"limit\":16.15}]}}}",
          P, "$.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit");
    check(V16, "GetDiagnostics", REQ, "{\"location\":\"ftp://user@example.com/diag\"}", NULL, NULL);
    check(V16, "GetDiagnostics", REQ, "{\"location\":\"example.com/diag\"}", P, "$.location");
    check(V16, "DataTransfer", REQ, "{\"vendorId\":\"v\",\"data\":{\"a\":1}}", T, "$.data");
    check(V16, "Heartbeat", REQ, "{}", NULL, NULL);
    check(V16, "Heartbeat", REQ, "{\"x y's\":1}", F, "$['x y\\'s']");
    check(V16, "TransactionEvent", REQ, "{}", "NotImplemented", "");
    check(V16, "heartbeat", REQ, "{}", "NotImplemented", "");
}

static void test_validate_201(void **state)
{
    (void)state;
    const char *T = "TypeConstraintViolation", *O = "OccurrenceConstraintViolation",
               *P = "PropertyConstraintViolation";
    check(V201, "BootNotification", REQ,
          "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\"}}",
          NULL, NULL);
    check(V201, "BootNotification", REQ,
          "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"M\"}}", O,
          "$.chargingStation.vendorName");
    check(V201, "BootNotification", REQ,
          "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\","
          "\"colour\":1}}",
          "ProtocolError", "$.chargingStation.colour");
    check(V201, "BootNotification", REQ,
          "{\"reason\":\"PowerUp\",\"chargingStation\":{\"model\":\"M\",\"vendorName\":\"V\"},"
          "\"customData\":{\"vendorId\":\"x\",\"anything\":[1]}}",
          NULL, NULL);
    check(V201, "StatusNotification", REQ,
          "{\"timestamp\":\"2024-01-01T00:00:00.123Z\",\"connectorStatus\":\"Occupied\","
          "\"evseId\":1,\"connectorId\":1}",
          NULL, NULL);
    check(V201, "StatusNotification", REQ,
          "{\"timestamp\":\"2024-01-01T00:00:00.123Z\",\"connectorStatus\":\"Charging\","
          "\"evseId\":1,\"connectorId\":1}",
          P, "$.connectorStatus");
    const char *tx = "{\"eventType\":\"Updated\",\"timestamp\":\"2024-06-30T23:59:60Z\","
                     "\"triggerReason\":\"MeterValuePeriodic\",\"seqNo\":3,\"transactionInfo\":{"
                     "\"transactionId\":\"tx-1\"},\"meterValue\":[{\"timestamp\":\"2024-06-30T23:"
                     "59:59+02:00\",\"sampledValue\":[{\"value\":12.5,\"measurand\":\"Energy."
                     "Active.Import.Register\",\"unitOfMeasure\":{\"unit\":\"kWh\",\"multiplier\":"
                     "3}}]}]}";
    check(V201, "TransactionEvent", REQ, tx, NULL, NULL);
    char bad[1024];
    snprintf(bad, sizeof bad, "%s", tx);
    memcpy(strstr(bad, "12.5"), "\"12\"", 4);
    check(V201, "TransactionEvent", REQ, bad, T, "$.meterValue[0].sampledValue[0].value");
    check(V201, "TransactionEvent", REQ,
          "{\"eventType\":\"Started\",\"timestamp\":\"2024-01-01T00:00:00Z\",\"triggerReason\":"
          "\"Authorized\",\"seqNo\":0,\"transactionInfo\":{\"transactionId\":\"t\"},"
          "\"meterValue\":[]}",
          O, "$.meterValue");
    check(V201, "SetVariables", REQ,
          "{\"setVariableData\":[{\"attributeValue\":\"30\",\"component\":{\"name\":"
          "\"OCPPCommCtrlr\"},\"variable\":{\"name\":\"HeartbeatInterval\"}}]}",
          NULL, NULL);
    check(V201, "SetVariables", REQ, "{\"setVariableData\":[]}", O, "$.setVariableData");
    check(V201, "SetVariables", REQ,
          "{\"setVariableData\":[{\"attributeValue\":\"30\",\"component\":{},\"variable\":{"
          "\"name\":\"HeartbeatInterval\"}}]}",
          O, "$.setVariableData[0].component.name");
    check(V201, "NotifyEVChargingNeeds", REQ,
          "{\"evseId\":1,\"chargingNeeds\":{\"requestedEnergyTransfer\":\"DC\","
          "\"dcChargingParameters\":{\"evMaxCurrent\":1,\"evMaxVoltage\":1,\"stateOfCharge\":"
          "101}}}",
          P, "$.chargingNeeds.dcChargingParameters.stateOfCharge");
    check(V201, "DataTransfer", REQ, "{\"vendorId\":\"v\",\"data\":[null,{\"a\":true}]}", NULL,
          NULL);
    check(V201, "Heartbeat", RES, "{\"currentTime\":\"2024-01-01 00:00:00+05:30\"}", NULL, NULL);
    check(V201, "Heartbeat", RES, "{\"currentTime\":\"2024-01-01T00:00:00+0530\"}", P,
          "$.currentTime");
    check(V201, "Heartbeat", RES, "{}", O, "$.currentTime");
    check(V201, "MeterValues", REQ, "{}", O, "$.evseId");
    check(V201, "StartTransaction", REQ, "{}", "NotImplemented", "");
    check(V201, "Heartbeat", REQ, "{\"\":1}", "ProtocolError", "$['']");
}

static void test_formats(void **state)
{
    (void)state;
    const char *good[] = {"2024-01-01T00:00:00Z",
                          "2024-01-01t00:00:00z",
                          "2024-01-01 00:00:00Z",
                          "2024-02-29T12:00:00.1+08:00",
                          "2000-02-29T00:00:00.123456789-12:59",
                          "2024-06-30T23:59:60Z",
                          "1999-12-31T23:59:59+23:59"};
    const char *bad[] = {"2024-01-01T00:00:00",       "2024-01-01T00:00:00+08",
                         "2024-01-01T00:00:00+0800",  "2023-02-29T00:00:00Z",
                         "2100-02-29T00:00:00Z",      "2024-04-31T00:00:00Z",
                         "2024-00-01T00:00:00Z",      "2024-01-01T24:00:00Z",
                         "2024-01-01T12:59:60Z",      "2024-01-01T00:60:00Z",
                         "2024-01-01T00:00:00.Z",     "2024-01-01\t00:00:00Z",
                         "2024-01-01T00:00Z",         "2024-01-01",
                         "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00Z ",
                         "24-01-01T00:00:00Z",        ""};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!ocpp_is_date_time(good[i], strlen(good[i])))
            fail_msg("date-time %s refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (ocpp_is_date_time(bad[i], strlen(bad[i])))
            fail_msg("date-time %s accepted", bad[i]);
    const char *uris[] = {"http://example.com", "ftp://u:p@[::1]:21/a?b#c", "urn:isbn:0451450523",
                          "mailto:a@b.c", "http:/x", "x:y", "http://[v1.a]/", "HTTP://EX.COM/%41",
                          "http://[1:2:3:4:5:6:1.2.3.4]/",
                          /* ajv-formats' "\/?\/" also reads "/" + an empty authority + the
                           * path "/h:8x/" (RFC 3986 alone would refuse the port) */
                          "http://h:8x/"};
    const char *not_uris[] = {"example.com",
                              "http:",
                              "1http://x",
                              "http://a b",
                              "http://%4g",
                              "http://[1:2:3:4:5:6:7]/",
                              "http://[::1.2.3]",
                              "http://h/#a#b",
                              "http://é.cn/",
                              "http://[1::2::3]/",
                              ""};
    for (size_t i = 0; i < sizeof uris / sizeof *uris; i++)
        if (!ocpp_is_uri(uris[i], strlen(uris[i])))
            fail_msg("uri %s refused", uris[i]);
    for (size_t i = 0; i < sizeof not_uris / sizeof *not_uris; i++)
        if (ocpp_is_uri(not_uris[i], strlen(not_uris[i])))
            fail_msg("uri %s accepted", not_uris[i]);
}

static void test_tables(void **state)
{
    (void)state;
    assert_int_equal(ocpp_action_count(OCPP_V16), 39);
    assert_int_equal(ocpp_action_count(OCPP_V201), 64);
    for (int v = OCPP_V16; v <= OCPP_V201; v++)
        for (size_t i = 0; i < ocpp_action_count(v); i++) {
            assert_true(ocpp_action_known(v, ocpp_action_name(v, i)));
            if (i > 0)
                assert_true(strcmp(ocpp_action_name(v, i - 1), ocpp_action_name(v, i)) < 0);
        }
    assert_null(ocpp_action_name(OCPP_V16, 39));
    assert_true(ocpp_action_known(OCPP_V16, "StartTransaction"));
    assert_false(ocpp_action_known(OCPP_V201, "StartTransaction"));
    assert_true(ocpp_action_known(OCPP_V201, "TransactionEvent"));
    assert_false(ocpp_action_known(OCPP_V16, NULL));
    assert_int_equal(ocpp_version_from_subprotocol("ocpp1.6"), OCPP_V16);
    assert_int_equal(ocpp_version_from_subprotocol("ocpp2.0.1"), OCPP_V201);
    assert_int_equal(ocpp_version_from_subprotocol("ocpp2.0"), -1);
    assert_int_equal(ocpp_version_from_subprotocol(NULL), -1);
    assert_string_equal(ocpp_error_code(OCPP_V16, OCPP_F_ADDITIONAL), "FormationViolation");
    assert_string_equal(ocpp_error_code(OCPP_V201, OCPP_F_ADDITIONAL), "ProtocolError");
    assert_string_equal(ocpp_error_code(OCPP_V16, OCPP_F_COUNT), "GenericError");
}

/* STYLE rule 15: protocol/ocpp_schemas_*.c are what scripts/gen-ocpp-schemas.mjs writes from the
 * pinned ocpp-rpc. Needs node and ocpp-rpc under $OCPP_RPC_DIR (a node_modules folder);
 * skipped otherwise, and when that ocpp-rpc is another version than the committed tables'. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void test_schemas_reproducible(void **state)
{
    (void)state;
    const char *src = getenv("EVGATE_SRC"), *dir = getenv("OCPP_RPC_DIR");
    char path[4096], cmd[12288], tmp[] = "/tmp/evgate-ocpp-XXXXXX";
    if (!src || !dir || !*dir)
        skip();
    snprintf(path, sizeof path, "%s/ocpp-rpc/package.json", dir);
    json_t *pkg = json_load_file(path, 0, NULL);
    if (!pkg) {
        print_message("no ocpp-rpc under %s\n", dir);
        skip();
    }
    char want[64];
    snprintf(want, sizeof want, "ocpp-rpc@%s",
             json_string_value(json_object_get(pkg, "version")) ?: "?");
    json_decref(pkg);
    if (strcmp(want, ocpp_schemas_16_source)) {
        print_message("%s found, the committed tables are from %s\n", want, ocpp_schemas_16_source);
        skip();
    }
    if (system("command -v node >/dev/null 2>&1") != 0) {
        print_message("node is not installed\n");
        skip();
    }
    assert_non_null(mkdtemp(tmp));
    snprintf(cmd, sizeof cmd, "node '%s/scripts/gen-ocpp-schemas.mjs' '%s' '%s'", src, dir, tmp);
    assert_int_equal(system(cmd), 0);
    const char *files[] = {"ocpp_schemas_16.c", "ocpp_schemas_201.c"};
    for (int i = 0; i < 2; i++) {
        size_t glen = 0, clen = 0;
        snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
        char *gen = slurp(path, &glen);
        unlink(path);
        snprintf(path, sizeof path, "%s/protocol/%s", src, files[i]);
        char *committed = slurp(path, &clen);
        assert_non_null(gen);
        assert_non_null(committed);
        if (glen != clen || memcmp(gen, committed, glen))
            fail_msg("protocol/%s is not what scripts/gen-ocpp-schemas.mjs writes: regenerate it",
                     files[i]);
        free(gen);
        free(committed);
    }
    rmdir(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_frames),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_nesting_bombs),
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_build_result_as_jansson),
        cmocka_unit_test(test_validate_16),
        cmocka_unit_test(test_validate_201),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_schemas_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
