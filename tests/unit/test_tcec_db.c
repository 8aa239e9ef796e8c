/* Unit tests of db/tcec.c: a platform's live credentials and source addresses, AccessTokens
 * (hash only, expiry, revocation by re-issue, bounds), the replay guard and its forgetting, the
 * exchange log (redaction at any depth, the size bound on a UTF-8 boundary, the per-operator
 * retention), ownership through accessed records and approved delegations, and what platforms
 * report (status with its bounded history, station information, charge orders once per
 * StartChargeSeq). One fresh database per test. */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/detections.h"
#include "db/tcec.h"

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

/* Accounts 10 (the platform's operator, self detection 100 with credentials for OPERATOR01),
 * 11 (another operator with its own self detection 110), 12 (delegated to detection 100,
 * approved), 13 (delegated to 100, only submitted). Each has an accessed station S<acct>
 * with an accessed pile P<acct> and its connectors P<acct>C1, P<acct>C2, and a draft pile
 * D<acct> with connector D<acct>C1; account 10 has a second accessed station S10B with pile
 * P10B. */
static const char world[] =
    "INSERT INTO accounts (id, username, password_hash, role, status, created_at, updated_at)"
    "  VALUES (10, 'a', 'x', 'operator', 'active', 1, 1), (11, 'b', 'x', 'operator', 'active', 1, "
    "1),"
    "  (12, 'c', 'x', 'operator', 'active', 1, 1), (13, 'd', 'x', 'operator', 'active', 1, 1);"
    "INSERT INTO detections (id, account_id, mode, status, data, created_at, updated_at) VALUES"
    "  (100, 10, 'self', 'passed',"
    "   '{\"platform\":{\"source_ips\":[\"203.0.113.10\",\"10.0.0.0/8\"]}}', 1, 1),"
    "  (110, 11, 'self', 'passed', '{}', 1, 1);"
    "INSERT INTO detections (id, account_id, mode, status, delegate_detection_id, created_at,"
    "  updated_at) VALUES (120, 12, 'delegated', 'approved', 100, 1, 1),"
    "  (130, 13, 'delegated', 'submitted', 100, 1, 1);"
    "INSERT INTO tcec_credentials (id, detection_id, operator_id, operator_secret, data_secret,"
    "  data_secret_iv, sig_secret, issued_at) VALUES (1, 100, 'OPERATOR1', 'os1', 'ds1', 'iv1',"
    "  'ss1', 1), (2, 110, 'OPERATOR2', 'os2', 'ds2', 'iv2', 'ss2', 1);"
    "INSERT INTO stations (id, account_id, station_id, status, name, area_code, station_type,"
    "  data, created_at, updated_at) VALUES (1, 10, 'S10', 'accessed', 'n', '442000', 1, '{}', 1, "
    "1),"
    "  (2, 11, 'S11', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (3, 12, 'S12', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (4, 13, 'S13', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (5, 10, 'S10B', 'accessed', 'n', '442000', 1, '{}', 1, 1),"
    "  (6, 10, 'S10D', 'draft', 'n', '442000', 1, '{}', 1, 1);"
    "INSERT INTO piles (id, account_id, equipment_id, station_row, status, equipment_type,"
    "  protocol, data, created_at, updated_at) VALUES"
    "  (1, 10, 'P10', 1, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (2, 11, 'P11', 2, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (3, 12, 'P12', 3, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (4, 13, 'P13', 4, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (5, 10, 'P10B', 5, 'accessed', 1, 'ocpp1.6', '{}', 1, 1),"
    "  (6, 10, 'D10', 1, 'draft', 1, 'ocpp1.6', '{}', 1, 1);"
    "INSERT INTO connectors (pile_row, connector_id, ocpp_connector_id, data) VALUES"
    "  (1, 'P10C1', 1, '{}'), (1, 'P10C2', 2, '{}'), (2, 'P11C1', 1, '{}'),"
    "  (3, 'P12C1', 1, '{}'), (4, 'P13C1', 1, '{}'), (5, 'P10BC1', 1, '{}'),"
    "  (6, 'D10C1', 1, '{}');";

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

/* ---- platforms -------------------------------------------------------------------------- */

static void test_platform(void **state)
{
    struct db *db = db_of(state);
    struct db_tcec_platform p;
    assert_int_equal(db_tcec_platform(db, "OPERATOR1", &p), DB_OK);
    assert_int_equal(p.credentials_id, 1);
    assert_int_equal(p.detection_id, 100);
    assert_int_equal(p.account_id, 10);
    assert_string_equal(p.operator_secret, "os1");
    assert_string_equal(p.data_secret, "ds1");
    assert_string_equal(p.data_secret_iv, "iv1");
    assert_string_equal(p.sig_secret, "ss1");
    assert_int_equal(json_array_size(p.source_ips), 2);
    assert_string_equal(json_string_value(json_array_get(p.source_ips, 1)), "10.0.0.0/8");
    json_decref(p.source_ips);
    /* a detection without platform.source_ips: an empty list, not an error */
    assert_int_equal(db_tcec_platform(db, "OPERATOR2", &p), DB_OK);
    assert_true(json_is_array(p.source_ips));
    assert_int_equal(json_array_size(p.source_ips), 0);
    json_decref(p.source_ips);
    assert_int_equal(db_tcec_platform(db, "NOSUCHOP1", &p), DB_NOTFOUND);
    assert_null(p.source_ips);
    /* revoked without a successor */
    db_fixture_exec(db, "UPDATE tcec_credentials SET revoked_at = 5 WHERE id = 2");
    assert_int_equal(db_tcec_platform(db, "OPERATOR2", &p), DB_NOTFOUND);
}

/* ---- tokens ----------------------------------------------------------------------------- */

static void test_tokens(void **state)
{
    struct db *db = db_of(state);
    const char *why = "x";
    assert_int_equal(db_tcec_token_add(db, "OPERATOR1", 1, "HASH1", 1000, 1000 + 7200), DB_OK);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "HASH1", 1001, &why), DB_OK);
    assert_null(why);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "HASH1", 8199, NULL), DB_OK);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "HASH1", 8200, &why), DB_NOTFOUND);
    assert_string_equal(why, "expired");
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "HASH2", 1001, &why), DB_NOTFOUND);
    assert_string_equal(why, "unknown");
    /* another operator's token is unknown to this one */
    assert_int_equal(db_tcec_token_check(db, "OPERATOR2", "HASH1", 1001, &why), DB_NOTFOUND);
    assert_string_equal(why, "unknown");
    /* the same hash twice is a conflict (a token is issued once) */
    assert_int_equal(db_tcec_token_add(db, "OPERATOR1", 1, "HASH1", 1000, 2000), DB_CONFLICT);

    /* re-issuing the credentials revokes the tokens issued under the old ones */
    struct db_tcec_credentials c = {.detection_id = 100, .issued_at = 1500};
    snprintf(c.operator_id, sizeof c.operator_id, "OPERATOR1");
    snprintf(c.operator_secret, sizeof c.operator_secret, "os1b");
    snprintf(c.data_secret, sizeof c.data_secret, "ds1b");
    snprintf(c.data_secret_iv, sizeof c.data_secret_iv, "iv1b");
    snprintf(c.sig_secret, sizeof c.sig_secret, "ss1b");
    assert_int_equal(db_credentials_issue(db, &c, 0), DB_OK);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "HASH1", 1600, &why), DB_NOTFOUND);
    assert_string_equal(why, "revoked");
    struct db_tcec_platform p;
    assert_int_equal(db_tcec_platform(db, "OPERATOR1", &p), DB_OK);
    json_decref(p.source_ips);
    assert_true(p.credentials_id != 1);
    assert_int_equal(db_tcec_token_add(db, "OPERATOR1", p.credentials_id, "HASH3", 1600, 9000),
                     DB_OK);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "HASH3", 1601, NULL), DB_OK);
}

static void test_tokens_bounded(void **state)
{
    struct db *db = db_of(state);
    /* expired tokens go when a token is added */
    assert_int_equal(db_tcec_token_add(db, "OPERATOR2", 2, "OLD", 100, 200), DB_OK);
    assert_int_equal(db_tcec_token_add(db, "OPERATOR1", 1, "NEW", 300, 5000), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM tcec_tokens WHERE token_hash = 'OLD'"), 0);
    /* at most DB_TCEC_TOKENS_KEEP live ones per operator: the oldest end */
    char hash[32];
    for (int i = 0; i < DB_TCEC_TOKENS_KEEP + 4; i++) {
        snprintf(hash, sizeof hash, "H%02d", i);
        assert_int_equal(db_tcec_token_add(db, "OPERATOR1", 1, hash, 400 + i, 9000), DB_OK);
    }
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM tcec_tokens WHERE operator_id = 'OPERATOR1'"),
        DB_TCEC_TOKENS_KEEP);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "NEW", 500, NULL), DB_NOTFOUND);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", "H00", 500, NULL), DB_NOTFOUND);
    snprintf(hash, sizeof hash, "H%02d", DB_TCEC_TOKENS_KEEP + 3);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", hash, 500, NULL), DB_OK);
    snprintf(hash, sizeof hash, "H%02d", 4);
    assert_int_equal(db_tcec_token_check(db, "OPERATOR1", hash, 500, NULL), DB_OK);
}

/* ---- replay ----------------------------------------------------------------------------- */

static void test_replay(void **state)
{
    struct db *db = db_of(state);
    assert_int_equal(db_tcec_replay_add(db, "OPERATOR1", "20261125080000", "0001", 1000, 0), DB_OK);
    assert_int_equal(db_tcec_replay_add(db, "OPERATOR1", "20261125080000", "0001", 1000, 0),
                     DB_CONFLICT);
    assert_int_equal(db_tcec_replay_add(db, "OPERATOR1", "20261125080000", "0002", 1000, 0), DB_OK);
    assert_int_equal(db_tcec_replay_add(db, "OPERATOR1", "20261125080001", "0001", 1001, 0), DB_OK);
    assert_int_equal(db_tcec_replay_add(db, "OPERATOR2", "20261125080000", "0001", 1000, 0), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_replay"), 4);
    /* entries older than the window are forgotten when a new one comes */
    assert_int_equal(db_tcec_replay_add(db, "OPERATOR1", "20261125090000", "0001", 4600, 1001),
                     DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_replay"), 2);
    assert_int_equal(db_fixture_int(db, "SELECT min(ts_epoch) FROM tcec_replay"), 1001);
}

/* ---- exchanges -------------------------------------------------------------------------- */

static json_t *newest(struct db *db, const char *op)
{
    json_t *list = db_tcec_exchange_list(db, op, 1);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 1);
    json_t *x = json_incref(json_array_get(list, 0));
    json_decref(list);
    return x;
}

static void test_exchange_redacted(void **state)
{
    struct db *db = db_of(state);
    struct db_tcec_exchange x = {
        .operator_id = "OPERATOR1",
        .direction = "in",
        .interface = "query_token",
        .peer = "10.1.2.3",
        .at = 1000,
        .has_ret = 1,
        .ret = 0,
        .msg = "",
        .request = "{\"OperatorID\":\"OPERATOR1\",\"OperatorSecret\":\"SECRET-0123456\"}",
        .response = "{\"SuccStat\":0,\"AccessToken\":\"TOKEN-ABCDEF\",\"Nested\":[{\"SigSecret\":"
                    "\"S1\",\"DataSecret\":\"D1\",\"DataSecretIV\":{\"k\":1},\"Keep\":\"v\"}]}",
        .duration_ms = 12,
    };
    assert_int_equal(db_tcec_exchange_add(db, &x), DB_OK);
    json_t *e = newest(db, "OPERATOR1");
    assert_string_equal(json_string_value(json_object_get(e, "direction")), "in");
    assert_string_equal(json_string_value(json_object_get(e, "interface")), "query_token");
    assert_string_equal(json_string_value(json_object_get(e, "peer")), "10.1.2.3");
    assert_int_equal(json_integer_value(json_object_get(e, "ret")), 0);
    assert_int_equal(json_integer_value(json_object_get(e, "duration_ms")), 12);
    assert_true(json_is_null(json_object_get(e, "reason")));
    assert_string_equal(json_string_value(json_object_get(e, "request")),
                        "{\"OperatorID\":\"OPERATOR1\",\"OperatorSecret\":\"***\"}");
    assert_string_equal(
        json_string_value(json_object_get(e, "response")),
        "{\"SuccStat\":0,\"AccessToken\":\"***\",\"Nested\":[{\"SigSecret\":"
        "\"***\",\"DataSecret\":\"***\",\"DataSecretIV\":\"***\",\"Keep\":\"v\"}]}");
    json_decref(e);

    /* an outbound call without a T/CEC answer: ret NULL; text that is not JSON is not kept */
    struct db_tcec_exchange y = {.operator_id = "OPERATOR1",
                                 .direction = "out",
                                 .interface = "query_stations_info",
                                 .at = 1001,
                                 .reason = "timeout",
                                 .request = "{\"PageNo\":1}",
                                 .response = "OperatorSecret=SECRET-0123456"};
    assert_int_equal(db_tcec_exchange_add(db, &y), DB_OK);
    e = newest(db, "OPERATOR1");
    assert_true(json_is_null(json_object_get(e, "ret")));
    assert_true(json_is_null(json_object_get(e, "peer")));
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "timeout");
    assert_string_equal(json_string_value(json_object_get(e, "response")), "(not JSON)");
    json_decref(e);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM tcec_exchanges WHERE instr(request, 'SECRET-')"
                           " OR instr(response, 'SECRET-') OR instr(response, 'TOKEN-')"
                           " OR instr(response, '\"S1\"') OR instr(response, '\"D1\"')"),
        0);

    /* bad arguments */
    y.direction = "sideways";
    assert_int_equal(db_tcec_exchange_add(db, &y), DB_ERROR);
    y.direction = "in";
    y.interface = NULL;
    assert_int_equal(db_tcec_exchange_add(db, &y), DB_ERROR);
    assert_int_equal(db_tcec_exchange_add(db, NULL), DB_ERROR);
}

static void test_exchange_cut(void **state)
{
    struct db *db = db_of(state);
    /* {"Remark":"中中中..."}: each 中 is 3 bytes; the cut lands inside one and must back off */
    size_t n = DB_TCEC_PAYLOAD_MAX / 3 + 10;
    char *big = malloc(n * 3 + 32);
    assert_non_null(big);
    size_t off = (size_t)sprintf(big, "{\"Remark\":\"");
    for (size_t i = 0; i < n; i++) {
        memcpy(big + off, "\xe4\xb8\xad", 3);
        off += 3;
    }
    strcpy(big + off, "\"}");
    struct db_tcec_exchange x = {.operator_id = "OPERATOR1",
                                 .direction = "in",
                                 .interface = "notification_stationInfo",
                                 .at = 1,
                                 .has_ret = 1,
                                 .ret = 0,
                                 .request = big};
    assert_int_equal(db_tcec_exchange_add(db, &x), DB_OK);
    free(big);
    json_t *e = newest(db, "OPERATOR1");
    const char *req = json_string_value(json_object_get(e, "request"));
    assert_non_null(req); /* jansson refuses invalid UTF-8: the cut is on a boundary */
    size_t len = strlen(req);
    assert_true(len <= DB_TCEC_PAYLOAD_MAX);
    assert_true(len > DB_TCEC_PAYLOAD_MAX - 3);
    assert_int_equal(strncmp(req, "{\"Remark\":\"\xe4\xb8\xad", 14), 0);
    json_decref(e);
}

static void test_exchange_retention(void **state)
{
    struct db *db = db_of(state);
    struct db_tcec_exchange x = {.operator_id = "OPERATOR2",
                                 .direction = "out",
                                 .interface = "query_station_status",
                                 .at = 1,
                                 .has_ret = 1,
                                 .ret = 0};
    assert_int_equal(db_tcec_exchange_add(db, &x), DB_OK);
    x.operator_id = "OPERATOR1";
    assert_int_equal(db_begin(db), DB_OK);
    for (int i = 0; i < DB_TCEC_EXCHANGES_KEEP + 25; i++) {
        x.at = 100 + i;
        x.direction = i % 2 ? "in" : "out";
        assert_int_equal(db_tcec_exchange_add(db, &x), DB_OK);
    }
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM tcec_exchanges WHERE operator_id = 'OPERATOR1'"),
        DB_TCEC_EXCHANGES_KEEP);
    /* the newest kept, the oldest gone */
    assert_int_equal(
        db_fixture_int(db, "SELECT min(at) FROM tcec_exchanges WHERE operator_id = 'OPERATOR1'"),
        100 + 25);
    assert_int_equal(
        db_fixture_int(db, "SELECT max(at) FROM tcec_exchanges WHERE operator_id = 'OPERATOR1'"),
        100 + DB_TCEC_EXCHANGES_KEEP + 24);
    /* another operator's are not touched */
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM tcec_exchanges WHERE operator_id = 'OPERATOR2'"),
        1);
    json_t *all = db_tcec_exchange_list(db, NULL, 5);
    assert_int_equal(json_array_size(all), 5);
    json_decref(all);
}

/* ---- ownership -------------------------------------------------------------------------- */

static void test_ownership(void **state)
{
    struct db *db = db_of(state);
    int64_t acct = 0, row = 0;
    char eq[32];
    /* its own accessed records */
    assert_int_equal(db_tcec_station_owned(db, 10, "S10", &acct, &row), DB_OK);
    assert_int_equal(acct, 10);
    assert_int_equal(row, 1);
    assert_int_equal(db_tcec_pile_owned(db, 10, "P10B", &acct, &row), DB_OK);
    assert_int_equal(row, 5);
    assert_int_equal(db_tcec_connector_owned(db, 10, "P10C2", &acct, eq, &row), DB_OK);
    assert_string_equal(eq, "P10");
    assert_int_equal(row, 1);
    /* not accessed */
    assert_int_equal(db_tcec_station_owned(db, 10, "S10D", &acct, &row), DB_NOTFOUND);
    assert_int_equal(db_tcec_pile_owned(db, 10, "D10", &acct, &row), DB_NOTFOUND);
    assert_int_equal(db_tcec_connector_owned(db, 10, "D10C1", &acct, eq, &row), DB_NOTFOUND);
    /* another operator's */
    assert_int_equal(db_tcec_station_owned(db, 10, "S11", &acct, &row), DB_NOTFOUND);
    assert_int_equal(db_tcec_pile_owned(db, 10, "P11", &acct, &row), DB_NOTFOUND);
    assert_int_equal(db_tcec_connector_owned(db, 10, "P11C1", &acct, eq, &row), DB_NOTFOUND);
    assert_int_equal(db_tcec_station_owned(db, 11, "S11", &acct, &row), DB_OK);
    assert_int_equal(db_tcec_station_owned(db, 11, "S10", &acct, &row), DB_NOTFOUND);
    /* an approved delegation to the platform's detection: yes; a submitted one: no */
    assert_int_equal(db_tcec_station_owned(db, 10, "S12", &acct, &row), DB_OK);
    assert_int_equal(acct, 12);
    assert_int_equal(db_tcec_connector_owned(db, 10, "P12C1", &acct, eq, &row), DB_OK);
    assert_int_equal(acct, 12);
    assert_string_equal(eq, "P12");
    assert_int_equal(db_tcec_station_owned(db, 10, "S13", &acct, &row), DB_NOTFOUND);
    assert_int_equal(db_tcec_connector_owned(db, 10, "P13C1", &acct, eq, &row), DB_NOTFOUND);
    /* the delegation goes one way: the delegating operator does not report for the platform */
    assert_int_equal(db_tcec_station_owned(db, 12, "S10", &acct, &row), DB_NOTFOUND);
    /* nor to another platform */
    assert_int_equal(db_tcec_station_owned(db, 11, "S12", &acct, &row), DB_NOTFOUND);
    /* a delegation approved later counts at once */
    db_fixture_exec(db, "UPDATE detections SET status = 'approved' WHERE id = 130");
    assert_int_equal(db_tcec_station_owned(db, 10, "S13", &acct, &row), DB_OK);
    assert_int_equal(acct, 13);
    assert_int_equal(db_tcec_station_owned(db, 10, "NOPE", &acct, &row), DB_NOTFOUND);
}

/* ---- reports ---------------------------------------------------------------------------- */

static void test_connector_status(void **state)
{
    struct db *db = db_of(state);
    struct db_tcec_connector_status s = {.connector_id = "P10C1",
                                         .account_id = 10,
                                         .operator_id = "OPERATOR1",
                                         .status = 1,
                                         .park_status = -1,
                                         .lock_status = 10,
                                         .at = 100};
    assert_int_equal(db_begin(db), DB_OK);
    for (int i = 0; i < DB_TCEC_STATUS_HISTORY_KEEP + 5; i++) {
        s.status = i % 2 ? 3 : 1;
        s.at = 100 + i;
        assert_int_equal(db_tcec_connector_status_set(db, &s), DB_OK);
    }
    s.connector_id = "P10C2";
    s.park_status = 50;
    assert_int_equal(db_tcec_connector_status_set(db, &s), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_connector_status"), 2);
    assert_int_equal(db_fixture_int(db,
                                    "SELECT status FROM tcec_connector_status WHERE connector_id ="
                                    " 'P10C1'"),
                     (DB_TCEC_STATUS_HISTORY_KEEP + 4) % 2 ? 3 : 1); /* the last report's */
    assert_int_equal(
        db_fixture_int(db, "SELECT reported_at FROM tcec_connector_status WHERE connector_id ="
                           " 'P10C1'"),
        100 + DB_TCEC_STATUS_HISTORY_KEEP + 4);
    assert_int_equal(db_fixture_int(db,
                                    "SELECT park_status IS NULL FROM tcec_connector_status WHERE"
                                    " connector_id = 'P10C1'"),
                     1);
    assert_int_equal(
        db_fixture_int(db, "SELECT park_status FROM tcec_connector_status WHERE connector_id ="
                           " 'P10C2'"),
        50);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_connector_status_history WHERE"
                                        " connector_id = 'P10C1'"),
                     DB_TCEC_STATUS_HISTORY_KEEP);
    assert_int_equal(
        db_fixture_int(db, "SELECT min(reported_at) FROM tcec_connector_status_history WHERE"
                           " connector_id = 'P10C1'"),
        105);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_connector_status_history WHERE"
                                        " connector_id = 'P10C2'"),
                     1);
}

static void test_station_info(void **state)
{
    struct db *db = db_of(state);
    assert_int_equal(db_tcec_station_info_set(db, 12, "S12", "OPERATOR1", "{\"v\":1}", 100), DB_OK);
    assert_int_equal(db_tcec_station_info_set(db, 12, "S12", "OPERATOR1", "{\"v\":2}", 200), DB_OK);
    assert_int_equal(db_tcec_station_info_set(db, 10, "S12", "OPERATOR1", "{\"v\":3}", 300), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_station_info"), 2);
    assert_int_equal(db_fixture_int(db,
                                    "SELECT json_extract(data, '$.v') FROM tcec_station_info WHERE"
                                    " account_id = 12 AND reported_at = 200"),
                     2);
}

static void test_charge_orders(void **state)
{
    struct db *db = db_of(state);
    struct db_tcec_charge_order o = {.operator_id = "OPERATOR1",
                                     .start_charge_seq = "OPERATOR1000001",
                                     .account_id = 10,
                                     .connector_id = "P10C1",
                                     .start_time = "2026-11-25 08:00:00",
                                     .end_time = "2026-11-25 09:00:00",
                                     .total_power = 20.5,
                                     .total_elec_money = 10,
                                     .total_service_money = 5.25,
                                     .total_money = 15.25,
                                     .stop_reason = 2,
                                     .data = "{\"a\":1}",
                                     .at = 100};
    int repeat = -1;
    assert_int_equal(db_tcec_charge_order_add(db, &o, &repeat), DB_OK);
    assert_int_equal(repeat, 0);
    assert_int_equal(db_tcec_charge_order_add(db, &o, &repeat), DB_OK);
    assert_int_equal(repeat, 1);
    o.data = "{\"a\":2}";
    o.total_power = 99;
    assert_int_equal(db_tcec_charge_order_add(db, &o, &repeat), DB_CONFLICT);
    assert_int_equal(repeat, 0);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_charge_orders"), 1);
    assert_int_equal(db_fixture_int(db, "SELECT total_power * 10 FROM tcec_charge_orders"), 205);
    /* unique per operator: another platform may use the same StartChargeSeq */
    o.operator_id = "OPERATOR2";
    assert_int_equal(db_tcec_charge_order_add(db, &o, &repeat), DB_OK);
    assert_int_equal(repeat, 0);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM tcec_charge_orders"), 2);
    assert_int_equal(db_fixture_int(db,
                                    "SELECT stop_reason FROM tcec_charge_orders WHERE operator_id ="
                                    " 'OPERATOR2'"),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_platform, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tokens_bounded, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_replay, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_exchange_redacted, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_exchange_cut, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_exchange_retention, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ownership, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_connector_status, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_station_info, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_charge_orders, setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
