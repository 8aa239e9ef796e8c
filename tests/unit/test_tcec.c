/* Unit tests of protocol/tcec*.c: the T/CEC 102 envelope against the standard's worked example
 * (checked with the openssl CLI, independent of our code), round trips, every failure of the
 * envelope, and each kind of data-dictionary rule on each object. */
#include "protocol/tcec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The worked example of the standard (T/CEC 102.4 appendix, also quoted by many public
 * implementations): key = IV = SigSecret = "1234567890abcdef", OperatorID 123456789, TimeStamp
 * 20160729142400, Seq 0001. The plaintext is the standard's own, trailing comma included (so it
 * is not valid JSON). Computed independently of this code with OpenSSL 3.0:
 *   K=$(printf 1234567890abcdef | xxd -p)          # 31323334353637383930616263646566
 *   printf '%s' "$PLAIN" | openssl enc -aes-128-cbc -K $K -iv $K -nosalt -base64 -A
 *   printf '%s' "123456789${DATA}201607291424000001" | openssl dgst -md5 -hmac 1234567890abcdef
 * giving VECTOR_DATA (364 characters) and 745166e8c43c84d37ffec0f529c4136f. */
#define VECTOR_KEY "1234567890abcdef"
#define VECTOR_PLAIN                                                                               \
    "{\"total\":1,\"stationStatusInfo\":{\"operationID\":\"123456789\",\"stationID\":"             \
    "\"111111111111111\",\"connectorStatusInfos\":{\"connectorID\":1,\"equipmentID\":"             \
    "\"10000000000000000000001\",\"status\":4,\"currentA\":0,\"currentB\":0,\"currentC\":0,"       \
    "\"voltageA\":0,\"voltageB\":0,\"voltageC\":0,\"soc\":10,}}}"
#define VECTOR_DATA                                                                                \
    "il7B0BSEjFdzpyKzfOFpvg/Se1CP802RItKYFPfSLRxJ3jf0bVl9hvYOEktPAYW2nd7S8MBcyHYyacHKbISq5iTmDzG+" \
    "ivnR+SZJv3USNTYVMz9rCQVSxd0cLlqsJauko79NnwQJbzDTyLooYoIwz75qBOH2/xOMirpeEqRJrF/EQjWekJmGk9Rt" \
    "boXePu2rka+Xm51syBPhiXJAq0GfbfaFu9tNqs/e2Vjja/ltE1M0lqvxfXQ6da6HrThsm5id4ClZFIi0acRfrsPLRixS" \
    "/IQYtksxghvJwbqOsbIsITail9Ayy4tKcogeEZiOO+4Ed264NSKmk7l3wKwJLAFjCFogBx8GE3OBz4pqcAn/ydA="
#define VECTOR_SIG "745166E8C43C84D37FFEC0F529C4136F"

static const struct tcec_keys vkeys = {VECTOR_KEY, VECTOR_KEY, VECTOR_KEY};
static const struct tcec_keys keys = {"A1b2C3d4E5f6G7h8", "0011223344556677", "SigSecret-xyz"};

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    return v;
}

/* ---- the worked vector ------------------------------------------------------------------ */

static void test_vector(void **state)
{
    (void)state;
    char *data = tcec_encrypt(VECTOR_PLAIN, strlen(VECTOR_PLAIN), &vkeys);
    assert_non_null(data);
    assert_string_equal(data, VECTOR_DATA);
    assert_int_equal(strlen(data), 364);
    free(data);

    char sig[TCEC_SIG_LEN + 1];
    const char *parts[] = {"123456789", VECTOR_DATA, "20160729142400", "0001"};
    assert_int_equal(tcec_sign(VECTOR_KEY, parts, 4, sig), 0);
    assert_string_equal(sig, VECTOR_SIG);

    size_t len = 0;
    enum tcec_rule rule;
    char *plain = tcec_decrypt(VECTOR_DATA, strlen(VECTOR_DATA), &vkeys, &len, &rule);
    assert_non_null(plain);
    assert_int_equal(rule, TCEC_R_NONE);
    assert_int_equal(len, strlen(VECTOR_PLAIN));
    assert_string_equal(plain, VECTOR_PLAIN);
    free(plain);

    /* The whole request: shape and signature pass, the payload (trailing comma) is refused. */
    const char *body =
        "{\"OperatorID\":\"123456789\",\"Data\":\"" VECTOR_DATA "\","
        "\"TimeStamp\":\"20160729142400\",\"Seq\":\"0001\",\"Sig\":\"" VECTOR_SIG "\"}";
    struct tcec_request req;
    struct tcec_error err;
    assert_int_equal(tcec_request_parse(body, strlen(body), &req, &err), 0);
    assert_string_equal(req.operator_id, "123456789");
    assert_int_equal(tcec_request_open(&req, &vkeys, &err), -1);
    assert_int_equal(err.ret, TCEC_RET_BUSINESS);
    assert_int_equal(err.rule, TCEC_R_JSON);
    assert_string_equal(err.path, "Data");
    tcec_request_clear(&req);
}

/* ---- round trips ------------------------------------------------------------------------ */

static void test_request_round_trip(void **state)
{
    (void)state;
    json_t *payload = J("{\"OperatorID\":\"MA80GFQM8\",\"OperatorSecret\":\"o6gpvB9uo87UBHGy\","
                        "\"名称\":\"中山\"}");
    char *body = tcec_request_build("MA80GFQM8", "20240229235959", "9999", payload, &keys);
    assert_non_null(body);
    struct tcec_request req;
    struct tcec_error err;
    assert_int_equal(tcec_request_parse(body, strlen(body), &req, &err), 0);
    assert_string_equal(req.timestamp, "20240229235959");
    assert_string_equal(req.seq, "9999");
    assert_null(req.payload);
    assert_int_equal(tcec_request_open(&req, &keys, &err), 0);
    assert_true(json_equal(req.payload, payload));
    assert_int_equal(tcec_validate("query_token", TCEC_REQUEST, req.payload, &err), 0);
    tcec_request_clear(&req);
    tcec_request_clear(&req); /* harmless twice */

    /* Another operator's keys: the signature fails first. */
    struct tcec_keys other = keys;
    other.sig_secret = "another";
    assert_int_equal(tcec_request_parse(body, strlen(body), &req, &err), 0);
    assert_int_equal(tcec_request_open(&req, &other, &err), -1);
    assert_int_equal(err.ret, TCEC_RET_SIGNATURE);
    assert_string_equal(err.path, "Sig");
    tcec_request_clear(&req);
    free(body);

    /* Bad arguments build nothing. */
    assert_null(tcec_request_build("MA80GFQM", "20240229235959", "0001", payload, &keys));
    assert_null(tcec_request_build("MA80GFQM8", "20230229235959", "0001", payload, &keys));
    assert_null(tcec_request_build("MA80GFQM8", "20240229235959", "0000", payload, &keys));
    json_t *arr = json_array();
    assert_null(tcec_request_build("MA80GFQM8", "20240229235959", "0001", arr, &keys));
    json_decref(arr);
    struct tcec_keys short_key = keys;
    short_key.data_secret = "short";
    assert_null(tcec_request_build("MA80GFQM8", "20240229235959", "0001", payload, &short_key));
    json_decref(payload);
}

static void test_response_round_trip(void **state)
{
    (void)state;
    json_t *payload = J("{\"Status\":0}");
    char *body = tcec_response_build(0, "请求成功", payload, &keys);
    assert_non_null(body);
    struct tcec_response resp;
    struct tcec_error err;
    assert_int_equal(tcec_response_parse(body, strlen(body), &resp, &err), 0);
    assert_int_equal(resp.ret, 0);
    assert_string_equal(resp.msg, "请求成功");
    assert_int_equal(tcec_response_open(&resp, &keys, &err), 0);
    assert_true(json_equal(resp.payload, payload));
    assert_int_equal(tcec_validate("notification_stationStatus", TCEC_RESPONSE, resp.payload, &err),
                     0);
    tcec_response_clear(&resp);
    free(body);

    /* An error answer: Data "" and no payload; signed over "4004" + Msg + "". */
    struct tcec_error e = {.ret = TCEC_RET_BUSINESS, .rule = TCEC_R_ENUM};
    strcpy(e.msg, "ConnectorStatusInfo.Status: 5 is not one of 0, 1, 2, 3, 4, 255");
    body = tcec_response_build_error(&e, &keys);
    assert_non_null(body);
    assert_int_equal(tcec_response_parse(body, strlen(body), &resp, &err), 0);
    assert_int_equal(resp.ret, 4004);
    assert_string_equal(resp.data, "");
    assert_int_equal(tcec_response_open(&resp, &keys, &err), 0);
    assert_null(resp.payload);
    char sig[TCEC_SIG_LEN + 1];
    const char *parts[] = {"4004", e.msg, ""};
    assert_int_equal(tcec_sign(keys.sig_secret, parts, 3, sig), 0);
    assert_string_equal(resp.sig, sig);
    tcec_response_clear(&resp);
    free(body);

    assert_null(tcec_response_build(200, "x", NULL, &keys));
    body = tcec_response_build(-1, NULL, NULL, &keys);
    assert_non_null(body);
    assert_non_null(strstr(body, "\"Ret\":-1,\"Msg\":\"\""));
    free(body);
    json_decref(payload);
}

/* ---- envelope failures ------------------------------------------------------------------ */

static void expect_request(const char *body, enum tcec_ret ret, enum tcec_rule rule,
                           const char *path)
{
    struct tcec_request req;
    struct tcec_error err;
    int rc = tcec_request_parse(body, strlen(body), &req, &err);
    if (rc == 0)
        rc = tcec_request_open(&req, &keys, &err);
    if (rc == 0)
        fail_msg("accepted: %s", body);
    if (err.ret != ret || err.rule != rule || strcmp(err.path, path))
        fail_msg("%s: got ret %d rule %s path '%s' (%s)", body, err.ret, tcec_rule_name(err.rule),
                 err.path, err.msg);
    assert_true(err.msg[0] != '\0');
    if (path[0])
        assert_non_null(strstr(err.msg, path)); /* the message names the field */
    tcec_request_clear(&req);
}

/* A signed request with these fields (Sig computed unless given). */
static char *signed_body(const char *op, const char *data, const char *ts, const char *seq)
{
    char sig[TCEC_SIG_LEN + 1], *out;
    const char *parts[] = {op, data, ts, seq};
    assert_int_equal(tcec_sign(keys.sig_secret, parts, 4, sig), 0);
    json_t *env = json_pack("{s:s,s:s,s:s,s:s,s:s}", "OperatorID", op, "Data", data, "TimeStamp",
                            ts, "Seq", seq, "Sig", sig);
    out = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return out;
}

static char *signed_plain(const char *plain)
{
    char *data = tcec_encrypt(plain, strlen(plain), &keys);
    char *body = signed_body("MA80GFQM8", data, "20260101000000", "0001");
    free(data);
    return body;
}

#define GOOD_TAIL ",\"TimeStamp\":\"20260101000000\",\"Seq\":\"0001\",\"Sig\":\"" VECTOR_SIG "\"}"

static void test_request_shape_failures(void **state)
{
    (void)state;
    expect_request("", TCEC_RET_POST, TCEC_R_JSON, "");
    expect_request("{\"OperatorID\":", TCEC_RET_POST, TCEC_R_JSON, "");
    expect_request("[1,2]", TCEC_RET_POST, TCEC_R_TYPE, "");
    expect_request("{\"Data\":\"x\"" GOOD_TAIL, TCEC_RET_POST, TCEC_R_MISSING, "OperatorID");
    expect_request("{\"OperatorID\":\"MA80GFQM8\"" GOOD_TAIL, TCEC_RET_POST, TCEC_R_MISSING,
                   "Data");
    expect_request("{\"OperatorID\":null,\"Data\":\"x\"" GOOD_TAIL, TCEC_RET_POST, TCEC_R_MISSING,
                   "OperatorID");
    expect_request(
        "{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"Seq\":\"0001\",\"Sig\":\"" VECTOR_SIG "\"}",
        TCEC_RET_POST, TCEC_R_MISSING, "TimeStamp");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"20260101000000\","
                   "\"Sig\":\"" VECTOR_SIG "\"}",
                   TCEC_RET_POST, TCEC_R_MISSING, "Seq");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"20260101000000\","
                   "\"Seq\":\"0001\"}",
                   TCEC_RET_POST, TCEC_R_MISSING, "Sig");
    expect_request("{\"OperatorID\":123456789,\"Data\":\"x\"" GOOD_TAIL, TCEC_RET_POST, TCEC_R_TYPE,
                   "OperatorID");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":20260101000000,"
                   "\"Seq\":\"0001\",\"Sig\":\"" VECTOR_SIG "\"}",
                   TCEC_RET_POST, TCEC_R_TYPE, "TimeStamp");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"20260101000000\","
                   "\"Seq\":1,\"Sig\":\"" VECTOR_SIG "\"}",
                   TCEC_RET_POST, TCEC_R_TYPE, "Seq");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"Extra\":1" GOOD_TAIL,
                   TCEC_RET_POST, TCEC_R_EXTRA, "Extra");
    expect_request(
        "{\"OperatorID\":\"MA80GFQM8\",\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\"" GOOD_TAIL,
        TCEC_RET_POST, TCEC_R_JSON, "");
    expect_request("{\"OperatorID\":\"MA80GFQm8\",\"Data\":\"x\"" GOOD_TAIL, TCEC_RET_POST,
                   TCEC_R_FORMAT, "OperatorID");
    expect_request("{\"OperatorID\":\"MA80GFQM\",\"Data\":\"x\"" GOOD_TAIL, TCEC_RET_POST,
                   TCEC_R_FORMAT, "OperatorID");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"\"" GOOD_TAIL, TCEC_RET_POST,
                   TCEC_R_MISSING, "Data");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"a\\u0000b\"" GOOD_TAIL, TCEC_RET_POST,
                   TCEC_R_JSON, ""); /* jansson refuses \u0000 */
    static const char *const bad_ts[] = {"20230229000000", "20260230000000",  "20261301000000",
                                         "20260101240000", "20260101006000",  "20260101000060",
                                         "2026010100000",  "202601010000000", "2026-01-0100000",
                                         "19691231235959", "20260100000000"};
    for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"%s\",\"Seq\":"
                 "\"0001\",\"Sig\":\"" VECTOR_SIG "\"}",
                 bad_ts[i]);
        expect_request(body, TCEC_RET_POST, TCEC_R_FORMAT, "TimeStamp");
    }
    static const char *const bad_seq[] = {"0000", "1", "001", "00001", "12a4", " 123", "-001"};
    for (size_t i = 0; i < sizeof bad_seq / sizeof bad_seq[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"20260101000000\","
                 "\"Seq\":\"%s\",\"Sig\":\"" VECTOR_SIG "\"}",
                 bad_seq[i]);
        expect_request(body, TCEC_RET_POST, TCEC_R_FORMAT, "Seq");
    }
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"20260101000000\","
                   "\"Seq\":\"0001\",\"Sig\":\"745166E8C43C84D37FFEC0F529C4136\"}",
                   TCEC_RET_POST, TCEC_R_FORMAT, "Sig");
    expect_request("{\"OperatorID\":\"MA80GFQM8\",\"Data\":\"x\",\"TimeStamp\":\"20260101000000\","
                   "\"Seq\":\"0001\",\"Sig\":\"745166E8C43C84D37FFEC0F529C4136G\"}",
                   TCEC_RET_POST, TCEC_R_FORMAT, "Sig");

    /* Too large, before any parsing. */
    struct tcec_request req;
    struct tcec_error err;
    assert_int_equal(tcec_request_parse("{}", TCEC_TEXT_MAX + 1, &req, &err), -1);
    assert_int_equal(err.rule, TCEC_R_TOO_LARGE);
    assert_int_equal(err.ret, TCEC_RET_POST);
    assert_int_equal(tcec_request_parse(NULL, 0, &req, NULL), -1);
}

static void test_request_open_failures(void **state)
{
    (void)state;
    /* A good body whose Sig is altered (one digit, or lower case): 4001. */
    char *body = signed_plain("{\"OperatorID\":\"MA80GFQM8\",\"OperatorSecret\":\"s\"}");
    char *sig = strstr(body, "\"Sig\":\"") + 7;
    char saved = sig[0];
    sig[0] = sig[0] == '0' ? '1' : '0';
    expect_request(body, TCEC_RET_SIGNATURE, TCEC_R_SIGNATURE, "Sig");
    sig[0] = saved;
    for (char *p = sig; *p != '"'; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    expect_request(body, TCEC_RET_SIGNATURE, TCEC_R_SIGNATURE, "Sig");
    free(body);

    /* Data, signed correctly, that is not Base64 of whole blocks: 4003. */
    static const char *const bad_b64[] = {
        "abc",                       /* not whole quads */
        "ab!d",                      /* not the alphabet */
        "YWJj",                      /* 3 bytes: not a whole AES block */
        "AAAAAAAAAAAAAAAAAAAAAA=",   /* not whole quads */
        "AAAAAAAAAAAAAAAAAAAAAB==",  /* 16 bytes but not canonical (stray bits) */
        "AAAA AAAAAAAAAAAAAAAAAA==", /* whitespace */
        "=AAAAAAAAAAAAAAAAAAAAA==",  /* '=' inside */
    };
    for (size_t i = 0; i < sizeof bad_b64 / sizeof bad_b64[0]; i++) {
        body = signed_body("MA80GFQM8", bad_b64[i], "20260101000000", "0001");
        expect_request(body, TCEC_RET_POST, TCEC_R_BASE64, "Data");
        free(body);
    }

    /* Whole blocks that do not decrypt under these keys (bad padding): 4004. This ciphertext is
     * the vector's, made for other keys; its last block does not unpad under `keys`. */
    body = signed_body("MA80GFQM8", VECTOR_DATA, "20260101000000", "0001");
    struct tcec_request req;
    struct tcec_error err;
    assert_int_equal(tcec_request_parse(body, strlen(body), &req, &err), 0);
    assert_int_equal(tcec_request_open(&req, &keys, &err), -1);
    assert_int_equal(err.ret, TCEC_RET_BUSINESS);
    assert_true(err.rule == TCEC_R_DECRYPT || err.rule == TCEC_R_JSON);
    assert_string_equal(err.path, "Data");
    tcec_request_clear(&req);
    free(body);

    /* Decrypts, but not JSON / not an object / bad UTF-8: 4004. */
    body = signed_plain("not json");
    expect_request(body, TCEC_RET_BUSINESS, TCEC_R_JSON, "Data");
    free(body);
    body = signed_plain("");
    expect_request(body, TCEC_RET_BUSINESS, TCEC_R_JSON, "Data");
    free(body);
    body = signed_plain("[{\"Status\":0}]");
    expect_request(body, TCEC_RET_BUSINESS, TCEC_R_TYPE, "Data");
    free(body);
    body = signed_plain("{\"a\":\"\xff\"}");
    expect_request(body, TCEC_RET_BUSINESS, TCEC_R_JSON, "Data");
    free(body);
    body = signed_plain("{\"a\":1,\"a\":2}");
    expect_request(body, TCEC_RET_BUSINESS, TCEC_R_JSON, "Data");
    free(body);

    /* Opening without keys or before parsing. */
    struct tcec_request empty = {0};
    assert_int_equal(tcec_request_open(&empty, &keys, &err), -1);
    assert_int_equal(err.ret, TCEC_RET_SYSTEM);
}

static void expect_response(const char *body, enum tcec_ret ret, enum tcec_rule rule,
                            const char *path)
{
    struct tcec_response resp;
    struct tcec_error err;
    int rc = tcec_response_parse(body, strlen(body), &resp, &err);
    if (rc == 0)
        rc = tcec_response_open(&resp, &keys, &err);
    if (rc == 0)
        fail_msg("accepted: %s", body);
    if (err.ret != ret || err.rule != rule || strcmp(err.path, path))
        fail_msg("%s: got ret %d rule %s path '%s' (%s)", body, err.ret, tcec_rule_name(err.rule),
                 err.path, err.msg);
    tcec_response_clear(&resp);
}

static void test_response_failures(void **state)
{
    (void)state;
    expect_response("{\"Ret\":0,\"Msg\":\"\",\"Data\":\"\"}", TCEC_RET_POST, TCEC_R_MISSING, "Sig");
    expect_response("{\"Ret\":\"0\",\"Msg\":\"\",\"Data\":\"\",\"Sig\":\"" VECTOR_SIG "\"}",
                    TCEC_RET_POST, TCEC_R_TYPE, "Ret");
    expect_response("{\"Ret\":0.0,\"Msg\":\"\",\"Data\":\"\",\"Sig\":\"" VECTOR_SIG "\"}",
                    TCEC_RET_POST, TCEC_R_TYPE, "Ret");
    expect_response("{\"Ret\":200,\"Msg\":\"\",\"Data\":\"\",\"Sig\":\"" VECTOR_SIG "\"}",
                    TCEC_RET_POST, TCEC_R_ENUM, "Ret");
    expect_response("{\"Ret\":0,\"Msg\":1,\"Data\":\"\",\"Sig\":\"" VECTOR_SIG "\"}", TCEC_RET_POST,
                    TCEC_R_TYPE, "Msg");
    expect_response("{\"Ret\":0,\"Msg\":\"\",\"Data\":null,\"Sig\":\"" VECTOR_SIG "\"}",
                    TCEC_RET_POST, TCEC_R_MISSING, "Data");
    expect_response("{\"Ret\":0,\"Msg\":\"\",\"Data\":\"\",\"Sig\":\"x\"}", TCEC_RET_POST,
                    TCEC_R_FORMAT, "Sig");
    expect_response("{\"Ret\":0,\"Msg\":\"\",\"Data\":\"\",\"Sig\":\"" VECTOR_SIG
                    "\",\"OperatorID\":\"MA80GFQM8\"}",
                    TCEC_RET_POST, TCEC_R_EXTRA, "OperatorID");
    expect_response("{\"Ret\":0,\"Msg\":\"\",\"Data\":\"\",\"Sig\":\"" VECTOR_SIG "\"}",
                    TCEC_RET_SIGNATURE, TCEC_R_SIGNATURE, "Sig");

    /* A response signed over another Ret than it carries. */
    char *body = tcec_response_build(0, "ok", NULL, &keys);
    char *r = strstr(body, "\"Ret\":0");
    assert_non_null(r);
    char *moved = malloc(strlen(body) + 8);
    snprintf(moved, strlen(body) + 8, "%.*s\"Ret\":500%s", (int)(r - body), body, r + 7);
    expect_response(moved, TCEC_RET_SIGNATURE, TCEC_R_SIGNATURE, "Sig");
    free(moved);
    free(body);

    /* Signed correctly, Data undecryptable. */
    char sig[TCEC_SIG_LEN + 1], text[256];
    const char *parts[] = {"0", "", "YWJj"};
    assert_int_equal(tcec_sign(keys.sig_secret, parts, 3, sig), 0);
    snprintf(text, sizeof text, "{\"Ret\":0,\"Msg\":\"\",\"Data\":\"YWJj\",\"Sig\":\"%s\"}", sig);
    expect_response(text, TCEC_RET_POST, TCEC_R_BASE64, "Data");
}

/* ---- primitives ------------------------------------------------------------------------- */

static void test_primitives(void **state)
{
    (void)state;
    assert_true(tcec_is_timestamp("20240229235959"));
    assert_true(tcec_is_timestamp("20000229000000"));
    assert_false(tcec_is_timestamp("19000229000000"));
    assert_false(tcec_is_timestamp("21000229000000"));
    assert_false(tcec_is_timestamp(NULL));
    assert_true(tcec_is_datetime("2026-11-25 23:59:59"));
    assert_false(tcec_is_datetime("2026-11-25T23:59:59"));
    assert_false(tcec_is_datetime("2026-11-31 00:00:00"));
    assert_false(tcec_is_datetime("2026-11-25 23:59"));
    assert_true(tcec_is_date("2026-02-28"));
    assert_false(tcec_is_date("2026-02-29"));
    assert_false(tcec_is_date("2026/02/28"));
    assert_true(tcec_is_seq("0001"));
    assert_true(tcec_is_seq("9999"));
    assert_true(tcec_is_operator_id("MA01D1QR8"));
    assert_false(tcec_is_operator_id("MA01D1QR"));
    assert_false(tcec_is_operator_id("ma01d1qr8"));

    assert_true(tcec_sig_equal(VECTOR_SIG, VECTOR_SIG));
    assert_false(tcec_sig_equal(VECTOR_SIG, "745166E8C43C84D37FFEC0F529C4136E"));
    assert_false(tcec_sig_equal(VECTOR_SIG, "745166E8C43C84D37FFEC0F529C4136"));
    assert_false(tcec_sig_equal(VECTOR_SIG, NULL));

    char sig[TCEC_SIG_LEN + 1];
    assert_int_equal(tcec_sign("", NULL, 0, sig), -1);
    /* RFC 2202 test case 2 for HMAC-MD5: key "Jefe", "what do ya want for nothing?" */
    const char *parts[] = {"what do ya want ", "for nothing?"};
    assert_int_equal(tcec_sign("Jefe", parts, 2, sig), 0);
    assert_string_equal(sig, "750C783E6AB0B503EAA86E310A5DB738");

    /* Every plaintext length around the block size round-trips; padding is a whole block at
     * multiples of 16. */
    char plain[70];
    for (size_t n = 0; n < sizeof plain; n++) {
        memset(plain, 'x', n);
        plain[n] = '\0';
        char *b64 = tcec_encrypt(plain, n, &keys);
        assert_non_null(b64);
        assert_int_equal(strlen(b64), ((n / 16 + 1) * 16 + 2) / 3 * 4);
        size_t len = 99;
        char *back = tcec_decrypt(b64, strlen(b64), &keys, &len, NULL);
        assert_non_null(back);
        assert_int_equal(len, n);
        assert_memory_equal(back, plain, n);
        free(back);
        free(b64);
    }
    size_t len;
    enum tcec_rule rule;
    assert_null(tcec_decrypt("", 0, &keys, &len, &rule));
    assert_int_equal(rule, TCEC_R_BASE64);
    struct tcec_keys bad = keys;
    bad.data_secret_iv = "0011223344556677X";
    assert_null(tcec_encrypt("x", 1, &bad));
    assert_null(tcec_decrypt(VECTOR_DATA, strlen(VECTOR_DATA), &bad, &len, &rule));
    assert_int_equal(rule, TCEC_R_ARGUMENT);

    assert_string_equal(tcec_ret_text(4001), "Signature error");
    assert_string_equal(tcec_ret_text(42), "");
    assert_string_equal(tcec_rule_name(TCEC_R_PRECISION), "precision");
    assert_string_equal(tcec_rule_name(TCEC_R_COUNT), "");
}

/* ---- data dictionary -------------------------------------------------------------------- */

#define CONNECTOR(id, power)                                                                       \
    "{\"ConnectorID\":\"" id "\",\"ConnectorName\":\"1号枪\",\"ConnectorType\":4,"               \
    "\"VoltageUpperLimits\":750,\"VoltageLowerLimits\":200,\"Current\":250,\"Power\":" power       \
    ",\"ParkNo\":\"A-01\",\"NationalStandard\":2}"
#define EQUIPMENT(id, connectors)                                                                  \
    "{\"EquipmentID\":\"" id "\",\"ManufacturerID\":\"MA01D1QR8\",\"EquipmentModel\":\"DC120\","   \
    "\"ProductionDate\":\"2023-05-01\",\"EquipmentType\":1,\"EquipmentLng\":113.392782,"           \
    "\"EquipmentLat\":22.517585,\"Power\":120.0,\"EquipmentName\":\"1号桩\","                    \
    "\"ConnectorInfos\":[" connectors "]}"
#define STATION(id)                                                                                   \
    "{\"StationID\":\"" id "\",\"OperatorID\":\"MA80GFQM8\",\"EquipmentOwnerID\":\"MA80GFQM8\","      \
    "\"StationName\":\"中山市石岐区充电站\",\"CountryCode\":\"CN\",\"AreaCode\":\"442000\"," \
    "\"Address\":\"中山市石岐区孙文中路1号\",\"StationTel\":\"0760-88888888\","            \
    "\"ServiceTel\":\"400-800-8888\",\"StationType\":1,\"StationStatus\":50,\"ParkNums\":10,"         \
    "\"StationLng\":113.392782,\"StationLat\":22.517585,\"SiteGuide\":\"地下一层\","              \
    "\"Construction\":255,\"Pictures\":[\"https://example.org/a.jpg\"],\"BusineHours\":"              \
    "\"00:00-24:00\",\"ElectricityFee\":\"1.0元/度\",\"ServiceFee\":\"0.8元/度\","                \
    "\"ParkFee\":\"2小时免费\",\"Payment\":\"线上\",\"SupportOrder\":0,\"Remark\":null,"        \
    "\"VendorExtension\":{\"x\":1},"                                                                  \
    "\"EquipmentInfos\":[" EQUIPMENT("4420000000000000000001",                                        \
                                     CONNECTOR("44200000000000000000011", "60.0") "," CONNECTOR(      \
                                         "44200000000000000000012", "60")) "]}"

static const char station_info[] = "{\"StationInfo\":" STATION("44200001") "}";
static const char stations_page[] =
    "{\"PageNo\":1,\"PageCount\":1,\"ItemSize\":2,\"StationInfos\":[" STATION(
        "44200001") "," STATION("44200002") "]}";
static const char station_status[] =
    "{\"ConnectorStatusInfo\":{\"ConnectorID\":\"44200000000000000000011\",\"Status\":255,"
    "\"ParkStatus\":50,\"LockStatus\":10}}";
static const char status_resp[] =
    "{\"Total\":1,\"StationStatusInfos\":[{\"StationID\":\"44200001\",\"ConnectorStatusInfos\":"
    "[{\"ConnectorID\":\"44200000000000000000011\",\"Status\":3},{\"ConnectorID\":"
    "\"44200000000000000000012\",\"Status\":1}]}]}";
static const char stats_resp[] =
    "{\"StationStats\":{\"StationID\":\"44200001\",\"StartTime\":\"2026-11-01\",\"EndTime\":"
    "\"2026-11-24\",\"StationElectricity\":1234.5,\"EquipmentStatsInfos\":[{\"EquipmentID\":"
    "\"4420000000000000000001\",\"EquipmentElectricity\":1234.5,\"ConnectorStatsInfos\":["
    "{\"ConnectorID\":\"44200000000000000000011\",\"ConnectorElectricity\":1000.1},"
    "{\"ConnectorID\":\"44200000000000000000012\",\"ConnectorElectricity\":234.4}]}]}}";
static const char charge_order[] =
    "{\"StartChargeSeq\":\"MA01D1QR8946841013052518400\",\"ConnectorID\":"
    "\"44200000000000000000011\",\"StartTime\":\"2026-11-25 08:00:00\",\"EndTime\":"
    "\"2026-11-25 09:30:00\",\"TotalPower\":30.25,\"TotalElecMoney\":30.25,"
    "\"TotalSeviceMoney\":24.2,\"TotalMoney\":54.45,\"StopReason\":2,\"SumPeriod\":2,"
    "\"ChargeDetails\":[{\"DetailStartTime\":\"2026-11-25 08:00:00\",\"DetailEndTime\":"
    "\"2026-11-25 09:00:00\",\"ElecPrice\":1.0000,\"SevicePrice\":0.8,\"DetailPower\":20.1,"
    "\"DetailElecMoney\":20.1,\"DetailSeviceMoney\":16.08},{\"DetailStartTime\":"
    "\"2026-11-25 09:00:00\",\"DetailEndTime\":\"2026-11-25 09:30:00\",\"ElecPrice\":1,"
    "\"SevicePrice\":0.8,\"DetailPower\":10.15,\"DetailElecMoney\":10.15,"
    "\"DetailSeviceMoney\":8.12}]}";

struct sample {
    const char *interface;
    enum tcec_kind kind;
    const char *json;
};

static const struct sample samples[] = {
    {"query_token", TCEC_REQUEST, "{\"OperatorID\":\"MA80GFQM8\",\"OperatorSecret\":\"s3cr3t\"}"},
    {"query_token", TCEC_RESPONSE,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":0,\"AccessToken\":\"tok-123\","
     "\"TokenAvailableTime\":7200,\"FailReason\":0}"},
    {"query_token", TCEC_RESPONSE,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":1,\"AccessToken\":\"\","
     "\"TokenAvailableTime\":0,\"FailReason\":2}"},
    {"query_stations_info", TCEC_REQUEST,
     "{\"LastQueryTime\":\"2026-11-01 00:00:00\",\"PageNo\":1,\"PageSize\":10}"},
    {"query_stations_info", TCEC_REQUEST, "{}"},
    {"query_stations_info", TCEC_RESPONSE, stations_page},
    {"query_station_status", TCEC_REQUEST, "{\"StationIDs\":[\"44200001\",\"44200002\"]}"},
    {"query_station_status", TCEC_RESPONSE, status_resp},
    {"query_station_stats", TCEC_REQUEST,
     "{\"StationID\":\"44200001\",\"StartTime\":\"2026-11-01\",\"EndTime\":\"2026-11-24\"}"},
    {"query_station_stats", TCEC_RESPONSE, stats_resp},
    {"notification_stationStatus", TCEC_REQUEST, station_status},
    {"notification_stationStatus", TCEC_RESPONSE, "{\"Status\":1}"},
    {"notification_stationInfo", TCEC_REQUEST, station_info},
    {"notification_stationInfo", TCEC_RESPONSE, "{\"Status\":0}"},
    {"notification_charge_order_info", TCEC_REQUEST, charge_order},
    {"notification_charge_order_info", TCEC_RESPONSE,
     "{\"StartChargeSeq\":\"MA01D1QR8946841013052518400\",\"ConnectorID\":"
     "\"44200000000000000000011\",\"ConfirmResult\":0}"},
};

static void test_samples_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        json_t *v = J(samples[i].json);
        struct tcec_error err;
        if (tcec_validate(samples[i].interface, samples[i].kind, v, &err))
            fail_msg("sample %zu (%s): %s", i, samples[i].interface, err.msg);
        json_decref(v);
    }
    /* Every interface has tables both ways, every object has a name. */
    assert_int_equal(tcec_interface_count(), 7);
    for (size_t i = 0; i < tcec_interface_count(); i++)
        assert_non_null(tcec_interface_name(i));
    assert_null(tcec_interface_name(tcec_interface_count()));
    assert_true(tcec_object_count() >= 11);
    assert_null(tcec_object_name(tcec_object_count()));

    /* The objects alone. */
    json_t *v = J(STATION("44200001"));
    assert_int_equal(tcec_validate_object("StationInfo", v, NULL), 0);
    json_decref(v);
    v = J(CONNECTOR("1", "7"));
    assert_int_equal(tcec_validate_object("ConnectorInfo", v, NULL), 0);
    json_decref(v);
}

/* Sets (or with value NULL deletes) the member at `path` ("a.b[2].c", "a[1]") of root; steals
 * value. */
static void set_path(json_t *root, const char *path, json_t *value)
{
    json_t *cur = root;
    const char *p = path;
    for (;;) {
        if (*p == '[') {
            char *end;
            size_t i = strtoul(p + 1, &end, 10);
            p = end + 1;
            if (!*p) {
                assert_int_equal(json_array_set_new(cur, i, value), 0);
                return;
            }
            cur = json_array_get(cur, i);
            assert_non_null(cur);
            if (*p == '.')
                p++;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        assert_true(n < sizeof key);
        memcpy(key, p, n);
        key[n] = '\0';
        if (!p[n]) {
            if (value)
                json_object_set_new(cur, key, value);
            else
                json_object_del(cur, key);
            return;
        }
        cur = json_object_get(cur, key);
        assert_non_null(cur);
        p += n;
        if (*p == '.')
            p++;
    }
}

struct mutation {
    const char *interface;
    enum tcec_kind kind;
    const char *base;
    const char *path;  /* where to change */
    const char *value; /* JSON text, or NULL to delete */
    enum tcec_rule rule;
    const char *fail_path; /* expected err.path (default: path) */
};

#define REQ_  TCEC_REQUEST
#define RESP  TCEC_RESPONSE
#define SINFO "notification_stationInfo", REQ_, station_info
#define PAGE  "query_stations_info", RESP, stations_page
#define SSTAT "notification_stationStatus", REQ_, station_status
#define ORDER "notification_charge_order_info", REQ_, charge_order
#define STATS "query_station_stats", RESP, stats_resp

static const struct mutation mutations[] = {
    /* required */
    {SINFO, "StationInfo.StationID", NULL, TCEC_R_MISSING, NULL},
    {SINFO, "StationInfo.StationID", "null", TCEC_R_MISSING, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[1].NationalStandard", NULL,
     TCEC_R_MISSING, NULL},
    {SSTAT, "ConnectorStatusInfo", NULL, TCEC_R_MISSING, NULL},
    {SSTAT, "ConnectorStatusInfo.Status", NULL, TCEC_R_MISSING, NULL},
    {ORDER, "TotalSeviceMoney", NULL, TCEC_R_MISSING, NULL},
    {STATS, "StationStats.EquipmentStatsInfos[0].ConnectorStatsInfos[1].ConnectorElectricity", NULL,
     TCEC_R_MISSING, NULL},
    {"query_token", REQ_, "{\"OperatorID\":\"MA80GFQM8\",\"OperatorSecret\":\"x\"}",
     "OperatorSecret", NULL, TCEC_R_MISSING, NULL},
    /* type */
    {SINFO, "StationInfo.EquipmentInfos[0].Power", "\"120.0\"", TCEC_R_TYPE, NULL},
    {SINFO, "StationInfo.StationType", "1.0", TCEC_R_TYPE, NULL},
    {SINFO, "StationInfo.EquipmentInfos", "{}", TCEC_R_TYPE, NULL},
    {SINFO, "StationInfo.Pictures", "[1]", TCEC_R_TYPE, "StationInfo.Pictures[0]"},
    {SINFO, "StationInfo", "[]", TCEC_R_TYPE, NULL},
    {PAGE, "StationInfos[1]", "\"x\"", TCEC_R_TYPE, NULL},
    {SSTAT, "ConnectorStatusInfo.ConnectorID", "4420000000001", TCEC_R_TYPE, NULL},
    /* length (characters, not bytes) */
    {SINFO, "StationInfo.StationID", "\"123456789012345678901\"", TCEC_R_LENGTH, NULL},
    {SINFO, "StationInfo.StationID", "\"\"", TCEC_R_LENGTH, NULL},
    {SINFO, "StationInfo.StationName",
     "\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五"
     "六七八"
     "九十一\"",
     TCEC_R_LENGTH, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].EquipmentID", "\"123456789012345678901234\"",
     TCEC_R_LENGTH, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[0].ConnectorID",
     "\"123456789012345678901234567\"", TCEC_R_LENGTH, NULL},
    {ORDER, "StartChargeSeq", "\"MA01D1QR89468410130525184001\"", TCEC_R_LENGTH, NULL},
    {"query_station_status", REQ_, "{\"StationIDs\":[\"1\"]}", "StationIDs",
     "[\"1\",\"123456789012345678901\"]", TCEC_R_LENGTH, "StationIDs[1]"},
    /* format */
    {SINFO, "StationInfo.OperatorID", "\"ma80gfqm8\"", TCEC_R_FORMAT, NULL},
    {SINFO, "StationInfo.AreaCode", "\"44200\"", TCEC_R_LENGTH, NULL},
    {SINFO, "StationInfo.AreaCode", "\"44200a\"", TCEC_R_FORMAT, NULL},
    {SINFO, "StationInfo.AreaCode", "\"999999\"", TCEC_R_FORMAT, NULL},
    {SINFO, "StationInfo.CountryCode", "\"cn\"", TCEC_R_FORMAT, NULL},
    {SINFO, "StationInfo.StationID", "\"442 0001\"", TCEC_R_FORMAT, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ProductionDate", "\"2023-02-29\"", TCEC_R_FORMAT, NULL},
    {ORDER, "StartTime", "\"2026-11-25T08:00:00\"", TCEC_R_FORMAT, NULL},
    {ORDER, "ChargeDetails[1].DetailEndTime", "\"2026-11-25 24:00:00\"", TCEC_R_FORMAT, NULL},
    {STATS, "StationStats.StartTime", "\"20261101\"", TCEC_R_LENGTH, NULL},
    {STATS, "StationStats.EndTime", "\"2026-11-31\"", TCEC_R_FORMAT, NULL},
    {"query_stations_info", REQ_, "{}", "LastQueryTime", "\"2026-11-01\"", TCEC_R_FORMAT, NULL},
    /* enumerations */
    {SINFO, "StationInfo.StationType", "2", TCEC_R_ENUM, NULL},
    {SINFO, "StationInfo.StationStatus", "2", TCEC_R_ENUM, NULL},
    {SINFO, "StationInfo.Construction", "12", TCEC_R_ENUM, NULL},
    {SINFO, "StationInfo.SupportOrder", "2", TCEC_R_ENUM, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].EquipmentType", "6", TCEC_R_ENUM, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[1].ConnectorType", "0", TCEC_R_ENUM,
     NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[1].NationalStandard", "2015", TCEC_R_ENUM,
     NULL},
    {SSTAT, "ConnectorStatusInfo.Status", "5", TCEC_R_ENUM, NULL},
    {SSTAT, "ConnectorStatusInfo.ParkStatus", "1", TCEC_R_ENUM, NULL},
    {SSTAT, "ConnectorStatusInfo.LockStatus", "20", TCEC_R_ENUM, NULL},
    {"notification_stationStatus", RESP, "{\"Status\":0}", "Status", "2", TCEC_R_ENUM, NULL},
    {"query_token", RESP,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":0,\"AccessToken\":\"t\","
     "\"TokenAvailableTime\":7200,\"FailReason\":0}",
     "SuccStat", "2", TCEC_R_ENUM, NULL},
    /* ranges */
    {SINFO, "StationInfo.StationLng", "180.000001", TCEC_R_RANGE, NULL},
    {SINFO, "StationInfo.StationLat", "-90.5", TCEC_R_RANGE, NULL},
    {SINFO, "StationInfo.ParkNums", "-1", TCEC_R_RANGE, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[0].Power", "-7", TCEC_R_RANGE, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[0].Current", "5000", TCEC_R_RANGE, NULL},
    {"query_stations_info", REQ_, "{}", "PageSize", "0", TCEC_R_RANGE, NULL},
    {"query_stations_info", REQ_, "{}", "PageNo", "0", TCEC_R_RANGE, NULL},
    {ORDER, "StopReason", "100", TCEC_R_RANGE, NULL},
    {ORDER, "SumPeriod", "33", TCEC_R_RANGE, NULL},
    {"query_token", RESP,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":0,\"AccessToken\":\"t\","
     "\"TokenAvailableTime\":7200,\"FailReason\":0}",
     "FailReason", "100", TCEC_R_RANGE, NULL},
    /* decimal places */
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[1].Power", "7.25", TCEC_R_PRECISION,
     NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].Power", "120.05", TCEC_R_PRECISION, NULL},
    {SINFO, "StationInfo.StationLng", "113.3927821", TCEC_R_PRECISION, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].EquipmentLat", "22.5175851", TCEC_R_PRECISION, NULL},
    {ORDER, "TotalPower", "30.251", TCEC_R_PRECISION, NULL},
    {ORDER, "ChargeDetails[0].ElecPrice", "1.00001", TCEC_R_PRECISION, NULL},
    {STATS, "StationStats.StationElectricity", "1234.56", TCEC_R_PRECISION, NULL},
    /* items */
    {SINFO, "StationInfo.EquipmentInfos", "[]", TCEC_R_ITEMS, NULL},
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos", "[]", TCEC_R_ITEMS, NULL},
    {"query_station_status", REQ_, "{\"StationIDs\":[\"1\"]}", "StationIDs", "[]", TCEC_R_ITEMS,
     NULL},
    /* consistency */
    {SINFO, "StationInfo.EquipmentInfos[0].ConnectorInfos[1].VoltageLowerLimits", "800",
     TCEC_R_CONSISTENCY, NULL},
    {ORDER, "TotalMoney", "54.46", TCEC_R_CONSISTENCY, NULL},
    {ORDER, "SumPeriod", "3", TCEC_R_CONSISTENCY, NULL},
    {ORDER, "EndTime", "\"2026-11-25 07:59:59\"", TCEC_R_CONSISTENCY, NULL},
    {ORDER, "ChargeDetails[0].DetailEndTime", "\"2026-11-25 07:00:00\"", TCEC_R_CONSISTENCY, NULL},
    {STATS, "StationStats.EndTime", "\"2026-10-31\"", TCEC_R_CONSISTENCY, NULL},
    {PAGE, "PageNo", "2", TCEC_R_CONSISTENCY, NULL},
    {PAGE, "ItemSize", "1", TCEC_R_CONSISTENCY, "StationInfos"},
    {"query_station_status", RESP, status_resp, "Total", "2", TCEC_R_CONSISTENCY, NULL},
    {"query_token", RESP,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":0,\"AccessToken\":\"t\","
     "\"TokenAvailableTime\":7200,\"FailReason\":0}",
     "AccessToken", "\"\"", TCEC_R_CONSISTENCY, NULL},
    {"query_token", RESP,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":0,\"AccessToken\":\"t\","
     "\"TokenAvailableTime\":7200,\"FailReason\":0}",
     "TokenAvailableTime", "0", TCEC_R_CONSISTENCY, NULL},
    {"query_token", RESP,
     "{\"OperatorID\":\"MA80GFQM8\",\"SuccStat\":1,\"AccessToken\":\"\","
     "\"TokenAvailableTime\":0,\"FailReason\":1}",
     "FailReason", "0", TCEC_R_CONSISTENCY, NULL},
    /* the deep path the issue names */
    {PAGE, "StationInfos[1].EquipmentInfos[0].ConnectorInfos[1].Power", "7.77", TCEC_R_PRECISION,
     NULL},
};

static void test_mutations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof mutations / sizeof mutations[0]; i++) {
        const struct mutation *m = &mutations[i];
        json_t *v = J(m->base);
        set_path(v, m->path, m->value ? J(m->value) : NULL);
        struct tcec_error err;
        memset(&err, 0x5A, sizeof err);
        if (tcec_validate(m->interface, m->kind, v, &err) == 0)
            fail_msg("mutation %zu (%s = %s) accepted", i, m->path, m->value ? m->value : "-");
        const char *want = m->fail_path ? m->fail_path : m->path;
        if (err.ret != TCEC_RET_BUSINESS || err.rule != m->rule || strcmp(err.path, want))
            fail_msg("mutation %zu (%s): got rule %s path '%s', want %s '%s' (%s)", i, m->path,
                     tcec_rule_name(err.rule), err.path, tcec_rule_name(m->rule), want, err.msg);
        /* The message starts with the path and says something after it. */
        assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
        assert_true(strlen(err.msg) > strlen(want) + 2);
        json_decref(v);
    }
}

static void test_dictionary_misc(void **state)
{
    (void)state;
    struct tcec_error err;
    json_t *v = J("{}");
    assert_int_equal(tcec_validate("query_unknown", TCEC_REQUEST, v, &err), -1);
    assert_int_equal(err.rule, TCEC_R_UNKNOWN);
    assert_int_equal(tcec_validate(NULL, TCEC_REQUEST, v, &err), -1);
    assert_int_equal(tcec_validate_object("NoSuchObject", v, &err), -1);
    assert_int_equal(tcec_validate("notification_stationInfo", TCEC_REQUEST, v, NULL), -1);
    json_decref(v);
    v = J("[1]");
    assert_int_equal(tcec_validate("query_token", TCEC_REQUEST, v, &err), -1);
    assert_int_equal(err.rule, TCEC_R_TYPE);
    assert_string_equal(err.path, "");
    assert_int_equal(tcec_validate("query_token", TCEC_REQUEST, NULL, &err), -1);
    json_decref(v);

    /* A 50-character Chinese name is fine (characters, not bytes); a NUL inside is not. */
    v = J(station_info);
    set_path(
        v, "StationInfo.StationName",
        json_string("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七"
                    "八九十一二三四五六七八九十"));
    assert_int_equal(tcec_validate("notification_stationInfo", TCEC_REQUEST, v, &err), 0);
    set_path(v, "StationInfo.StationName", json_stringn("a\0b", 3));
    assert_int_equal(tcec_validate("notification_stationInfo", TCEC_REQUEST, v, &err), -1);
    assert_int_equal(err.rule, TCEC_R_FORMAT);
    /* 0.1 + 0.2 style binary noise still counts as one decimal. */
    set_path(v, "StationInfo.StationName", json_string("中山站"));
    set_path(v, "StationInfo.EquipmentInfos[0].Power", json_real(0.1 + 0.2));
    assert_int_equal(tcec_validate("notification_stationInfo", TCEC_REQUEST, v, &err), 0);
    json_decref(v);
}

/* China Standard Time whatever the machine's zone: the epoch is 08:00 in Beijing. */
static void test_china_time(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(tcec_time_text(0, TCEC_TIME_STAMP, out, sizeof out), 0);
    assert_string_equal(out, "19700101080000");
    assert_int_equal(tcec_time_text(1700000000, TCEC_TIME_DATETIME, out, sizeof out), 0);
    assert_string_equal(out, "2023-11-15 06:13:20");
    assert_int_equal(tcec_time_text(1700000000 - 7 * 3600, TCEC_TIME_DATE, out, sizeof out), 0);
    assert_string_equal(out, "2023-11-14");
    assert_int_equal(tcec_time_text(0, TCEC_TIME_STAMP, out, 14), -1); /* no room for the NUL */
    assert_int_equal(tcec_timestamp_epoch("19700101080000"), 0);
    assert_int_equal(tcec_timestamp_epoch("20231115061320"), 1700000000);
    assert_int_equal(tcec_timestamp_epoch("20230230120000"), -1);
    assert_int_equal(tcec_timestamp_epoch("2023111506132"), -1);
    for (long long t = 1600000000; t < 1600000000 + 400LL * 86400; t += 86399) {
        assert_int_equal(tcec_time_text(t, TCEC_TIME_STAMP, out, sizeof out), 0);
        assert_int_equal(tcec_timestamp_epoch(out), t);
    }
}

/* Numbers go out with at most 15 significant digits: 123.4 is written "123.4", not
 * "123.40000000000001", which a peer counting decimals in the text would refuse. */
static void test_numbers_as_typed(void **state)
{
    (void)state;
    json_t *payload = J("{\"Power\":123.4,\"StationLng\":113.392614,\"TotalMoney\":99999999.99}");
    char *body = tcec_request_build("MA80GFQM8", "20240229235959", "0001", payload, &keys);
    assert_non_null(body);
    json_t *env = J(body);
    const char *data = json_string_value(json_object_get(env, "Data"));
    size_t len = 0;
    char *plain = tcec_decrypt(data, strlen(data), &keys, &len, NULL);
    assert_non_null(plain);
    assert_string_equal(plain,
                        "{\"Power\":123.4,\"StationLng\":113.392614,\"TotalMoney\":99999999.99}");
    free(plain);
    json_decref(env);
    free(body);
    json_decref(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_china_time),
        cmocka_unit_test(test_numbers_as_typed),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_request_shape_failures),
        cmocka_unit_test(test_request_open_failures),
        cmocka_unit_test(test_response_failures),
        cmocka_unit_test(test_primitives),
        cmocka_unit_test(test_samples_valid),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_dictionary_misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
