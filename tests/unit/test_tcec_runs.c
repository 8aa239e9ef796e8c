/* Unit tests of db/tcec_runs.c: which stations, piles and connectors are "the platform's
 * registered" ones for a detection (its account's accessed records and those of approved
 * delegations to it; drafts, other operators and unapproved delegations left out), nested in
 * order with their stored data; and the inbound exchanges a run reads (direction, operator,
 * since, after, limit). One fresh database per test. */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/tcec_runs.h"

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

/* Accounts 10 (self detection 100), 11 (another operator, self 110), 12 (delegated to 100,
 * approved), 13 (delegated to 100, only submitted). Accessed stations S10, S10B (account 10),
 * S11, S12, S13 and a draft S10D; accessed piles P10 (two connectors, listed out of order),
 * P10B, P11, P12, P13 and a draft pile D10 on S10. */
static const char world[] =
    "INSERT INTO accounts (id, username, password_hash, role, status, created_at, updated_at)"
    "  VALUES (10, 'a', 'x', 'operator', 'active', 1, 1), (11, 'b', 'x', 'operator', 'active', 1,"
    "  1), (12, 'c', 'x', 'operator', 'active', 1, 1), (13, 'd', 'x', 'operator', 'active', 1, 1);"
    "INSERT INTO detections (id, account_id, mode, status, data, created_at, updated_at) VALUES"
    "  (100, 10, 'self', 'testing', '{}', 1, 1), (110, 11, 'self', 'passed', '{}', 1, 1);"
    "INSERT INTO detections (id, account_id, mode, status, delegate_detection_id, created_at,"
    "  updated_at) VALUES (120, 12, 'delegated', 'approved', 100, 1, 1),"
    "  (130, 13, 'delegated', 'submitted', 100, 1, 1);"
    "INSERT INTO stations (id, account_id, station_id, status, name, area_code, station_type,"
    "  data, created_at, updated_at) VALUES"
    "  (1, 10, 'S10', 'accessed', 'n', '442000', 1, '{\"name\":\"甲站\",\"lng\":113.5}', 1, 1),"
    "  (2, 11, 'S11', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (3, 12, 'S12', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (4, 13, 'S13', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (5, 10, 'S10B', 'accessed', 'n', '442000', 1, 'not json', 1, 1),"
    "  (6, 10, 'S10D', 'draft', 'n', '442000', 1, '{}', 1, 1);"
    "INSERT INTO piles (id, account_id, equipment_id, station_row, status, equipment_type,"
    "  protocol, data, created_at, updated_at) VALUES"
    "  (1, 10, 'P10', 1, 'accessed', 1, 'ocpp1.6', '{\"power\":120.0}', 1, 1),"
    "  (2, 11, 'P11', 2, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (3, 12, 'P12', 3, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (4, 13, 'P13', 4, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (5, 10, 'P10B', 5, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (6, 10, 'D10', 1, 'draft', 1, 'ocpp1.6', '{}', 1, 1);"
    "INSERT INTO connectors (pile_row, connector_id, ocpp_connector_id, data) VALUES"
    "  (1, 'P10C2', 2, '{\"current\":200.0}'), (1, 'P10C1', 1, '{}'), (2, 'P11C1', 1, '{}'),"
    "  (3, 'P12C1', 1, '{}'), (4, 'P13C1', 1, '{}'), (5, 'P10BC1', 1, '{}'),"
    "  (6, 'D10C1', 1, '{}');"
    "INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at, ret, msg, reason,"
    "  request, response, sent_at) VALUES"
    "  ('OPERATOR1', 'in', 'query_token', 'p', 1000, 0, '', NULL, '{\"OperatorSecret\":\"***\"}',"
    "   '{\"SuccStat\":0}', 930),"                                                     /* id 1 */
    "  ('OPERATOR1', 'out', 'query_token', 'u', 1001, 0, '', NULL, NULL, NULL, NULL)," /* 2 */
    "  ('OPERATOR1', 'in', 'notification_stationStatus', 'p', 1002, 4001, 'm', 'signature',"
    "   NULL, NULL, NULL),"                                                           /* 3 */
    "  ('OPERATOR2', 'in', 'query_token', 'q', 1002, 0, '', NULL, NULL, NULL, NULL)," /* 4 */
    "  ('OPERATOR1', 'in', 'notification_stationStatus', 'p', 1003, 0, '', NULL, '{}',"
    "   '{\"Status\":0}', NULL)," /* 5 */
    "  ('OPERATOR1', 'in', 'query_token', 'p', 999, NULL, '', NULL, NULL, NULL, NULL);" /* 6 */;

static int setup(void **state)
{
    if (db_fixture_setup(state) != 0)
        return -1;
    db_fixture_exec(db_fixture_db(state), world);
    return 0;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void test_stations(void **state)
{
    struct db *db = db_fixture_db(state);
    json_t *list = NULL;
    assert_int_equal(db_tcec_run_stations(db, 100, &list), DB_OK);
    /* S10, S10B (own), S12 (approved delegation): not S11 (another operator), S13 (delegation
     * only submitted), S10D (draft) */
    assert_int_equal(json_array_size(list), 3);
    json_t *s10 = json_array_get(list, 0);
    assert_string_equal(str(s10, "station_id"), "S10");
    assert_string_equal(str(json_array_get(list, 1), "station_id"), "S10B");
    assert_string_equal(str(json_array_get(list, 2), "station_id"), "S12");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 2), "account_id")),
                     12);
    assert_string_equal(str(json_object_get(s10, "data"), "name"), "甲站");
    /* a damaged data column reads as {} */
    assert_true(json_is_object(json_object_get(json_array_get(list, 1), "data")));
    /* S10 has its accessed pile only, connectors in OCPP order */
    json_t *piles = json_object_get(s10, "piles");
    assert_int_equal(json_array_size(piles), 1);
    json_t *p10 = json_array_get(piles, 0);
    assert_string_equal(str(p10, "equipment_id"), "P10");
    assert_true(json_real_value(json_object_get(json_object_get(p10, "data"), "power")) == 120.0);
    json_t *cons = json_object_get(p10, "connectors");
    assert_int_equal(json_array_size(cons), 2);
    assert_string_equal(str(json_array_get(cons, 0), "connector_id"), "P10C1");
    assert_string_equal(str(json_array_get(cons, 1), "connector_id"), "P10C2");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(cons, 1), "ocpp_connector_id")), 2);
    assert_string_equal(
        str(json_array_get(json_object_get(json_array_get(list, 2), "piles"), 0), "equipment_id"),
        "P12");
    json_decref(list);

    /* another operator sees only its own; an unknown detection nothing */
    assert_int_equal(db_tcec_run_stations(db, 110, &list), DB_OK);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(str(json_array_get(list, 0), "station_id"), "S11");
    json_decref(list);
    assert_int_equal(db_tcec_run_stations(db, 999, &list), DB_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    /* a delegation approved later counts at once */
    db_fixture_exec(db, "UPDATE detections SET status = 'approved' WHERE id = 130");
    assert_int_equal(db_tcec_run_stations(db, 100, &list), DB_OK);
    assert_int_equal(json_array_size(list), 4);
    json_decref(list);
}

static void test_inbound(void **state)
{
    struct db *db = db_fixture_db(state);
    json_t *rows = NULL;
    /* OPERATOR1's inbound rows at or after 1000: 1, 3, 5 (2 is outbound, 4 another operator's,
     * 6 before `since`) */
    assert_int_equal(db_tcec_run_inbound(db, "OPERATOR1", 1000, 0, 100, &rows), DB_OK);
    assert_int_equal(json_array_size(rows), 3);
    json_t *r0 = json_array_get(rows, 0), *r1 = json_array_get(rows, 1);
    assert_int_equal(json_integer_value(json_object_get(r0, "id")), 1);
    assert_string_equal(str(r0, "interface"), "query_token");
    assert_int_equal(json_integer_value(json_object_get(r0, "ret")), 0);
    assert_string_equal(str(r0, "request"), "{\"OperatorSecret\":\"***\"}");
    assert_string_equal(str(r0, "response"), "{\"SuccStat\":0}");
    assert_true(json_is_null(json_object_get(r0, "reason")));
    /* the request's TimeStamp, when the gateway read one */
    assert_int_equal(json_integer_value(json_object_get(r0, "sent_at")), 930);
    assert_true(json_is_null(json_object_get(r1, "sent_at")));
    assert_int_equal(json_integer_value(json_object_get(r1, "ret")), 4001);
    assert_string_equal(str(r1, "reason"), "signature");
    assert_true(json_is_null(json_object_get(r1, "request")));
    json_decref(rows);
    /* after an id, and bounded */
    assert_int_equal(db_tcec_run_inbound(db, "OPERATOR1", 1000, 3, 100, &rows), DB_OK);
    assert_int_equal(json_array_size(rows), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "id")), 5);
    json_decref(rows);
    assert_int_equal(db_tcec_run_inbound(db, "OPERATOR1", 0, 0, 2, &rows), DB_OK);
    assert_int_equal(json_array_size(rows), 2);
    json_decref(rows);
    /* a row without a Ret gives null */
    assert_int_equal(db_tcec_run_inbound(db, "OPERATOR1", 0, 5, 10, &rows), DB_OK);
    assert_int_equal(json_array_size(rows), 1);
    assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "ret")));
    json_decref(rows);
    assert_int_equal(db_tcec_run_inbound(db, "NOBODY000", 0, 0, 10, &rows), DB_OK);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stations, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_inbound, setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
