/* Unit tests of db/tcec_view.c: which credentials make a platform (live only, per account,
 * searched), the last contact of each direction, what counts as failed (a reason, no Ret, a Ret
 * other than 0) and under which reason, "today" from the caller's `since`, and the filters and
 * paging of the exchange log. One fresh database per test. */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/tcec_view.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db_fixture.h"

/* Accounts 10 and 11 with self detections 100 and 110; live credentials OPERATOR1 (100) and
 * OPERATOR2 (110), and a revoked set OLDOPER01 (100). Exchanges of OPERATOR1 at 1000..1008
 * and of OPERATOR2 at 1000. `since` 1004 splits "today". */
static const char world[] =
    "INSERT INTO organisations (id, company_name, credit_code, operator_id, legal_representative,"
    "  contact_name, mobile, email, address, created_at, updated_at) VALUES"
    "  (1, '甲充电公司', '91442000OPERATOR11', 'OPERATOR1', 'x', 'x', 'x', 'x', 'x', 1, 1),"
    "  (2, '乙充电公司', '91442000OPERATOR21', 'OPERATOR2', 'x', 'x', 'x', 'x', 'x', 1, 1);"
    "INSERT INTO accounts (id, username, password_hash, role, status, organisation_id,"
    "  created_at, updated_at) VALUES (10, 'a', 'x', 'operator', 'active', 1, 1, 1),"
    "  (11, 'b', 'x', 'operator', 'active', 2, 1, 1);"
    "INSERT INTO detections (id, account_id, mode, status, data, created_at, updated_at) VALUES"
    "  (100, 10, 'self', 'passed', '{\"platform\":{\"name\":\"甲平台\","
    "   \"base_url\":\"https://a.example.com/evcs/v1/\"}}', 1, 1),"
    "  (110, 11, 'self', 'approved', '{\"platform\":{\"name\":\"乙平台\"}}', 1, 1);"
    "INSERT INTO tcec_credentials (id, detection_id, operator_id, operator_secret, data_secret,"
    "  data_secret_iv, sig_secret, issued_at, revoked_at) VALUES"
    "  (1, 100, 'OPERATOR1', 'os1', 'ds1', 'iv1', 'ss1', 5, NULL),"
    "  (2, 110, 'OPERATOR2', 'os2', 'ds2', 'iv2', 'ss2', 6, NULL),"
    "  (3, 100, 'OLDOPER01', 'os0', 'ds0', 'iv0', 'ss0', 1, 4);"
    "INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at, ret, msg, reason,"
    "  request, response) VALUES"
    "  ('OPERATOR1', 'in', 'query_token', 'p', 1000, 0, '', NULL, '{\"a\":1}', '{\"b\":2}'),"
    "  ('OPERATOR1', 'in', 'notification_stationStatus', 'p', 1001, 4001, 'm', 'signature',"
    "   NULL, NULL),"
    "  ('OPERATOR1', 'in', 'notification_stationStatus', 'p', 1005, 4001, 'm', 'signature',"
    "   NULL, NULL),"
    "  ('OPERATOR1', 'in', 'notification_stationStatus', 'p', 1006, 500, 'm', NULL, NULL, NULL),"
    "  ('OPERATOR1', 'in', 'query_token', 'p', 1007, 0, '', 'operator_secret', NULL, NULL),"
    "  ('OPERATOR1', 'out', 'query_token', 'u', 1002, 0, '', NULL, NULL, NULL),"
    "  ('OPERATOR1', 'out', 'query_station_status', 'u', 1008, NULL, 'x', NULL, NULL, NULL),"
    "  ('OPERATOR1', 'out', 'query_stations_info', 'u', 1008, NULL, 'x', 'network', NULL, NULL),"
    "  ('OPERATOR2', 'in', 'query_token', 'q', 1000, 0, '', NULL, NULL, NULL),"
    "  ('OLDOPER01', 'in', 'query_token', 'q', 1000, 4001, '', 'signature', NULL, NULL);";

#define SINCE 1004

static int setup(void **state)
{
    if (db_fixture_setup(state) != 0)
        return -1;
    db_fixture_exec(db_fixture_db(state), world);
    return 0;
}

static struct db *db_of(void **state)
{
    return db_fixture_db(state);
}

static json_int_t int_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", k);
    return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_platforms(void **state)
{
    struct db *db = db_of(state);
    json_t *items = NULL;
    int64_t total = -1;
    /* every live set, OperatorID order; the revoked one is no platform */
    assert_int_equal(db_tcec_view_platforms(db, 0, NULL, SINCE, 1, 10, &items, &total), DB_OK);
    assert_int_equal(total, 2);
    assert_int_equal(json_array_size(items), 2);
    json_t *a = json_array_get(items, 0);
    assert_string_equal(str_of(a, "operator_id"), "OPERATOR1");
    assert_int_equal(int_of(a, "detection_id"), 100);
    assert_int_equal(int_of(a, "account_id"), 10);
    assert_string_equal(str_of(a, "company_name"), "甲充电公司");
    assert_string_equal(str_of(a, "platform_name"), "甲平台");
    assert_string_equal(str_of(a, "base_url"), "https://a.example.com/evcs/v1/");
    assert_string_equal(str_of(a, "detection_status"), "passed");
    assert_int_equal(int_of(a, "issued_at"), 5);
    assert_int_equal(int_of(a, "last_in_at"), 1007);
    assert_int_equal(int_of(a, "last_out_at"), 1008);
    assert_int_equal(int_of(a, "exchanges_today"), 5);  /* at >= 1004 */
    assert_int_equal(int_of(a, "refused_in_today"), 3); /* 1005 signature, 1006 500, 1007 */
    assert_int_equal(int_of(a, "failed_out_today"), 2); /* no Ret, with or without reason */
    json_t *b = json_array_get(items, 1);
    assert_string_equal(str_of(b, "operator_id"), "OPERATOR2");
    assert_true(json_is_null(json_object_get(b, "base_url")));
    assert_true(json_is_null(json_object_get(b, "last_out_at")));
    json_decref(items);

    /* one account; paging */
    assert_int_equal(db_tcec_view_platforms(db, 11, NULL, SINCE, 1, 10, &items, &total), DB_OK);
    assert_int_equal(total, 1);
    assert_string_equal(str_of(json_array_get(items, 0), "operator_id"), "OPERATOR2");
    json_decref(items);
    assert_int_equal(db_tcec_view_platforms(db, 0, NULL, SINCE, 2, 1, &items, &total), DB_OK);
    assert_int_equal(total, 2);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(str_of(json_array_get(items, 0), "operator_id"), "OPERATOR2");
    json_decref(items);

    /* q: part of the OperatorID (any case), the company or the platform name */
    static const struct {
        const char *q, *want;
    } qs[] = {{"operator2", "OPERATOR2"}, {"甲充电", "OPERATOR1"}, {"乙平台", "OPERATOR2"}};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        assert_int_equal(db_tcec_view_platforms(db, 0, qs[i].q, SINCE, 1, 10, &items, &total),
                         DB_OK);
        assert_int_equal(total, 1);
        assert_string_equal(str_of(json_array_get(items, 0), "operator_id"), qs[i].want);
        json_decref(items);
    }
    assert_int_equal(db_tcec_view_platforms(db, 0, "OLDOPER", SINCE, 1, 10, &items, &total), DB_OK);
    assert_int_equal(total, 0);
    json_decref(items);
}

static void test_platform(void **state)
{
    struct db *db = db_of(state);
    int rc = 0;
    json_t *p = db_tcec_view_platform(db, "OPERATOR1", SINCE, &rc);
    assert_non_null(p);
    assert_int_equal(rc, DB_OK);
    json_t *in = json_object_get(p, "last_in"), *out = json_object_get(p, "last_out");
    assert_string_equal(str_of(in, "interface"), "query_token");
    assert_int_equal(int_of(in, "at"), 1007);
    assert_string_equal(str_of(in, "reason"), "operator_secret");
    /* two at 1008: the later row wins */
    assert_string_equal(str_of(out, "interface"), "query_stations_info");
    assert_true(json_is_null(json_object_get(out, "ret")));
    json_t *tot = json_object_get(p, "totals");
    assert_int_equal(int_of(tot, "in"), 5);
    assert_int_equal(int_of(tot, "out"), 3);
    assert_int_equal(int_of(tot, "refused_in"), 4);
    assert_int_equal(int_of(tot, "failed_out"), 2);
    json_decref(p);

    json_t *none = db_tcec_view_platform(db, "OPERATOR2", SINCE, &rc);
    assert_true(json_is_null(json_object_get(none, "last_out")));
    json_decref(none);

    assert_null(db_tcec_view_platform(db, "OLDOPER01", SINCE, &rc));
    assert_int_equal(rc, DB_NOTFOUND);
    assert_null(db_tcec_view_platform(db, "NOSUCHONE", SINCE, &rc));
    assert_int_equal(rc, DB_NOTFOUND);
}

static json_t *reason_of(json_t *arr, const char *reason)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) if (strcmp(str_of(it, "reason"), reason) == 0) return it;
    fail_msg("no reason %s", reason);
    return NULL;
}

static void test_reasons(void **state)
{
    json_t *r = db_tcec_view_reasons(db_of(state), "OPERATOR1", SINCE);
    assert_non_null(r);
    json_t *in = json_object_get(r, "in"), *out = json_object_get(r, "out");
    assert_int_equal(json_array_size(in), 3);
    /* the most frequent first */
    assert_string_equal(str_of(json_array_get(in, 0), "reason"), "signature");
    json_t *sig = reason_of(in, "signature");
    assert_int_equal(int_of(sig, "count"), 2);
    assert_int_equal(int_of(sig, "today"), 1);
    assert_int_equal(int_of(sig, "last_at"), 1005);
    /* Ret 500 without a reason counts under "ret"; a reason with Ret 0 still counts */
    assert_int_equal(int_of(reason_of(in, "ret"), "count"), 1);
    assert_int_equal(int_of(reason_of(in, "operator_secret"), "count"), 1);
    assert_int_equal(json_array_size(out), 2);
    assert_int_equal(int_of(reason_of(out, "network"), "count"), 1);
    assert_int_equal(int_of(reason_of(out, "ret"), "count"), 1);
    json_decref(r);

    r = db_tcec_view_reasons(db_of(state), "OPERATOR2", SINCE);
    assert_int_equal(json_array_size(json_object_get(r, "in")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "out")), 0);
    json_decref(r);
}

/* The number of exchanges of OPERATOR1 matching `f`, and the first one's `at`. */
static int64_t page_of(void **state, const struct db_tcec_view_filter *f, int64_t page,
                       int64_t size, json_t **items)
{
    int64_t total = -1;
    assert_int_equal(
        db_tcec_view_exchanges(db_of(state), "OPERATOR1", f, page, size, items, &total), DB_OK);
    return total;
}

static void test_exchanges(void **state)
{
    json_t *items;
    struct db_tcec_view_filter all = {0};
    assert_int_equal(page_of(state, &all, 1, 50, &items), 8);
    /* newest first, ties by id */
    json_int_t last = INT64_MAX;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        assert_true(int_of(it, "at") <= last);
        last = int_of(it, "at");
    }
    json_t *first = json_array_get(items, 0);
    assert_string_equal(str_of(first, "interface"), "query_stations_info");
    assert_true(json_is_true(json_object_get(first, "failed")));
    json_t *oldest = json_array_get(items, 7);
    assert_string_equal(str_of(oldest, "request"), "{\"a\":1}");
    assert_string_equal(str_of(oldest, "response"), "{\"b\":2}");
    assert_true(json_is_false(json_object_get(oldest, "failed")));
    json_decref(items);

    struct db_tcec_view_filter f = {.direction = "out"};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 3);
    json_decref(items);
    f = (struct db_tcec_view_filter){.interface = "notification_stationStatus"};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 3);
    json_decref(items);
    f = (struct db_tcec_view_filter){.has_ret = 1, .ret = 0};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 3);
    json_decref(items);
    f = (struct db_tcec_view_filter){.failed_only = 1};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 6);
    json_decref(items);
    f = (struct db_tcec_view_filter){.failed_only = 1, .direction = "in"};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 4);
    json_decref(items);
    /* a reason finds failures only; "ret" those without a reason */
    f = (struct db_tcec_view_filter){.reason = "ret"};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 2);
    json_decref(items);
    f = (struct db_tcec_view_filter){.reason = "signature", .direction = "in"};
    assert_int_equal(page_of(state, &f, 1, 50, &items), 2);
    json_decref(items);

    /* paging walks the same order */
    assert_int_equal(page_of(state, &all, 3, 3, &items), 8);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(str_of(json_array_get(items, 1), "request"), "{\"a\":1}");
    json_decref(items);
    assert_int_equal(page_of(state, &all, 4, 3, &items), 8);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_platforms, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_platform, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_reasons, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_exchanges, setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
