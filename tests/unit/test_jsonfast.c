/* Unit tests of protocol/jsonfast.c: jsonfast_loadb answers as json_loadb does, on the frames of
 * the hot path and on each corner where yajl and jansson part (protocol/jsonfast.c lists them):
 * the same tree with its keys in order, or the same refusal with jansson's own error. */
#include "protocol/jsonfast.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Loads text both ways and checks they agree; returns the dump of the tree (caller frees), NULL
 * when both refused. */
static char *both(const char *text, size_t len, size_t flags)
{
    json_error_t e1, e2;
    json_t *fast = jsonfast_loadb(text, len, flags, &e1);
    json_t *slow = json_loadb(text, len, flags, &e2);
    if (!fast || !slow) {
        if (fast || slow)
            fail_msg("%.*s: jsonfast %s, jansson %s", (int)len, text, fast ? "took it" : e1.text,
                     slow ? "took it" : e2.text);
        assert_string_equal(e1.text, e2.text);
        assert_int_equal(e1.position, e2.position);
        return NULL;
    }
    char *a = json_dumps(fast, JSON_ENCODE_ANY | JSON_COMPACT);
    char *b = json_dumps(slow, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    assert_true(json_equal(fast, slow));
    free(b);
    json_decref(fast);
    json_decref(slow);
    return a;
}

static void expect(const char *text, size_t flags, const char *dump)
{
    char *got = both(text, strlen(text), flags);
    if (!dump) {
        if (got)
            fail_msg("%s: took it as %s", text, got);
        return;
    }
    if (!got)
        fail_msg("%s: refused", text);
    assert_string_equal(got, dump);
    free(got);
}

static void test_frames(void **state)
{
    (void)state;
    const char *mv =
        "[2,\"17\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":"
        "\"2026-11-26T05:00:00.123Z\",\"sampledValue\":[{\"value\":\"1230\",\"context\":"
        "\"Sample.Periodic\",\"unit\":\"Wh\"}]}]}]";
    expect(mv, JSON_DECODE_ANY, mv);
    expect(" [2,\"1\",\"Heartbeat\",{}] \n", JSON_DECODE_ANY, "[2,\"1\",\"Heartbeat\",{}]");
    /* keys stay in the text's order, and the last of two equal keys wins in place */
    expect("{\"z\":1,\"a\":{\"y\":[true,false,null],\"b\":\"\xe4\xb8\xad\"},\"z\":2}", 0,
           "{\"z\":2,\"a\":{\"y\":[true,false,null],\"b\":\"\xe4\xb8\xad\"}}");
    expect("{\"z\":1,\"z\":2}", JSON_REJECT_DUPLICATES, NULL);
}

static void test_numbers(void **state)
{
    (void)state;
    expect("[0,-0,17,-9223372036854775807,9223372036854775807]", 0,
           "[0,0,17,-9223372036854775807,9223372036854775807]");
    expect("[-9223372036854775808]", 0, "[-9223372036854775808]"); /* yajl refuses it */
    expect("[9223372036854775808]", 0, NULL);
    expect("[1.5,-2.5e3,1E2,0.1,1e-400]", 0, "[1.5,-2500.0,100.0,0.10000000000000001,0.0]");
    expect("[1e400]", 0, NULL);
    expect("[01]", 0, NULL);
    expect("[1.]", 0, NULL);
    expect("[+1]", 0, NULL);
}

static void test_corners(void **state)
{
    (void)state;
    expect("[]\":", 0, NULL);   /* an unfinished string after the value */
    expect("[] x", 0, NULL);    /* anything after the value */
    expect("[1,\f2]", 0, NULL); /* yajl's white space, not jansson's */
    expect("[1,\v2]", 0, NULL);
    expect("[\"\\ud800\"]", 0, NULL); /* a lone surrogate: yajl makes it "?" */
    expect("[\"\\u0000\"]", 0, NULL);
    expect("[\"\\u00e9\\n\"]", 0, "[\"\xc3\xa9\\n\"]");
    expect("[\"\xc0\x80\"]", 0, NULL);     /* overlong */
    expect("[\"\xed\xa0\x80\"]", 0, NULL); /* a surrogate in UTF-8 */
    expect("{\"\xff\":1}", 0, NULL);
    expect("[\"a\tb\"]", 0, NULL); /* a control character */
    expect("[1,]", 0, NULL);
    expect("[1", 0, NULL);
    expect("", 0, NULL);
    expect("17", 0, NULL);
    expect("17", JSON_DECODE_ANY, "17");
    expect("\"s\"", JSON_DECODE_ANY, "\"s\"");
    char deep[2 * 100 + 1];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = 0;
    char *got = both(deep, 200, 0);
    assert_non_null(got);
    free(got);
    /* a NUL inside the length, and the length honoured */
    assert_null(both("[1]\0", 4, 0));
    got = both("[1]]", 3, 0);
    assert_string_equal(got, "[1]");
    free(got);
    assert_null(jsonfast_loadb(NULL, 0, 0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_corners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
