/* Unit tests of db/dashboard.c: the online-pile samples (count of open piles, one per second,
 * pruned by age), the refused handshakes kept to the newest, and every figure of the dashboard
 * from a known database (piles by protocol with the accessed counts following record changes,
 * connector statuses online and offline, today's transactions, pending reviews, recent
 * violations of the three kinds, the 24-hour series one point per step). */
#include "db/dashboard.h"
#include "db/db.h"
#include "db/db_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db_fixture.h"

#define NOW   1800000000 /* 2027-01-15 08:00:00 UTC = 16:00 China Standard Time */
#define TODAY (NOW - 16 * 3600)

static void session(struct db *db, const char *id, const char *protocol, int open)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO pile_sessions (equipment_id, protocol, connected_at, disconnected_at)"
             " VALUES ('%s', '%s', %d, %s)",
             id, protocol, NOW - 100, open ? "NULL" : "1799999990");
    db_fixture_exec(db, sql);
}

static void test_sample_counts_open_piles_and_prunes(void **state)
{
    struct db *db = db_fixture_db(state);
    session(db, "P1", "ocpp1.6", 1);
    session(db, "P1", "ocpp1.6", 1); /* a stale second open session: the pile counts once */
    session(db, "P2", "ocpp2.0.1", 1);
    session(db, "P3", "ocpp1.6", 0);
    assert_int_equal(db_online_sample(db, NOW - 3 * 86400, 0), DB_OK);
    assert_int_equal(db_online_sample(db, NOW - 600, 0), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT online FROM pile_online_samples WHERE at = 1799999400"), 2);
    db_fixture_exec(
        db, "UPDATE pile_sessions SET disconnected_at = 1800000000 WHERE equipment_id = 'P2'");
    /* the same second again replaces its sample; older than keep_since goes */
    assert_int_equal(db_online_sample(db, NOW - 600, NOW - 86400), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM pile_online_samples"), 1);
    assert_int_equal(db_fixture_int(db, "SELECT online FROM pile_online_samples"), 1);
}

static void test_refusals_keep_the_newest(void **state)
{
    struct db *db = db_fixture_db(state);
    for (int i = 1; i <= 7; i++) {
        char id[16];
        snprintf(id, sizeof id, "X%d", i);
        assert_int_equal(db_ocpp_refusal_add(db, NOW + i, id, 404, "unknown_pile", "", 5), DB_OK);
    }
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM ocpp_refusals"), 5);
    assert_int_equal(db_fixture_int(db, "SELECT min(at) FROM ocpp_refusals"), NOW + 3);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM ocpp_refusals WHERE peer IS NULL"),
                     5);
}

/* A known platform: operator 2 with piles of each protocol (one still a draft), their
 * connectors, sessions, transactions, reviews waiting, violations and samples. */
static void seed(struct db *db)
{
    db_fixture_exec(
        db,
        "INSERT INTO accounts (id, username, password_hash, role, status, created_at, updated_at)"
        " VALUES (1, 'admin', 'x', 'admin', 'active', 0, 0),"
        " (2, 'op1', 'x', 'operator', 'active', 0, 0),"
        " (3, 'op2', 'x', 'operator', 'pending', 0, 0),"
        " (4, 'op3', 'x', 'operator', 'pending', 0, 0),"
        " (5, 'op4', 'x', 'operator', 'rejected', 0, 0);"
        "INSERT INTO detections (account_id, mode, status, created_at, updated_at) VALUES"
        " (2, 'self', 'submitted', 0, 0), (2, 'self', 'passed', 0, 0);"
        "INSERT INTO access_applications (id, account_id, status, created_at, updated_at) VALUES"
        " (1, 2, 'approved', 0, 0), (2, 2, 'submitted', 0, 0), (3, 2, 'draft', 0, 0);"
        "INSERT INTO stations (id, account_id, station_id, status, name, area_code, station_type,"
        " data, created_at, updated_at) VALUES (1, 2, 'S1', 'accessed', 'n', '442000', 1, '{}',"
        " 0, 0);"
        "INSERT INTO piles (id, account_id, equipment_id, station_row, status, equipment_type,"
        " protocol, data, created_at, updated_at) VALUES"
        " (1, 2, 'A16', 1, 'accessed', 1, 'ocpp1.6', '{}', 0, 0),"
        " (2, 2, 'B16', 1, 'accessed', 1, 'ocpp1.6', '{}', 0, 0),"
        " (3, 2, 'C201', 1, 'accessed', 1, 'ocpp2.0.1', '{}', 0, 0),"
        " (4, 2, 'D16', 1, 'draft', 1, 'ocpp1.6', '{}', 0, 0),"
        " (5, 2, 'EPF', 1, 'accessed', 2, 'platform', '{}', 0, 0),"
        " (6, 2, 'FPF', 1, 'accessed', 2, 'platform', '{}', 0, 0);"
        "INSERT INTO connectors (pile_row, connector_id, ocpp_connector_id, data) VALUES"
        " (5, 'EPFC1', 1, '{}'), (6, 'FPFC1', 1, '{}');"
        "INSERT INTO tcec_connector_status (connector_id, account_id, operator_id, status,"
        " reported_at) VALUES ('EPFC1', 2, 'OP', 3, 0), ('FPFC1', 2, 'OP', 0, 0);"
        /* A16 and C201 online, B16 offline */
        "INSERT INTO pile_sessions (equipment_id, protocol, connected_at, disconnected_at) VALUES"
        " ('A16', 'ocpp1.6', 1799990000, NULL), ('C201', 'ocpp2.0.1', 1799990000, NULL),"
        " ('B16', 'ocpp1.6', 1799980000, 1799985000);"
        "INSERT INTO ocpp_connectors (equipment_id, connector_id, evse_connector_id, status,"
        " tcec_status, updated_at) VALUES ('A16', 0, 0, 'Available', 1, 0),"
        " ('A16', 1, 0, 'Charging', 3, 0), ('A16', 2, 0, 'Faulted', 255, 0),"
        " ('C201', 1, 1, 'Available', 1, 0), ('B16', 1, 0, 'Charging', 3, 0),"
        " ('B16', 2, 0, 'Available', 1, 0);"
        /* today: one finished with 12.5 kWh, one running with 2 kWh so far; one yesterday */
        "INSERT INTO ocpp_transactions (equipment_id, connector_id, started_at, stopped_at,"
        " energy_wh, updated_at) VALUES ('A16', 1, 1799990000, 1799995000, 12500, 0),"
        " ('C201', 1, 1799999000, NULL, 2000, 0), ('B16', 1, 1799900000, 1799950000, 40000, 0);"
        "INSERT INTO pile_violations (equipment_id, at, code, path, reason, frame) VALUES"
        " ('A16', 1799999001, 'FormationViolation', '$.connectorId', 'bad', '[]'),"
        " ('A16', 1799999005, 'ProtocolError', NULL, 'no payload', '[]');"
        "INSERT INTO ocpp_refusals (at, equipment_id, status, reason, peer) VALUES"
        " (1799999003, 'NOPE', 404, 'unknown_pile', '127.0.0.9');"
        "INSERT INTO tcec_exchanges (operator_id, direction, interface, at, reason) VALUES"
        " ('OPX', 'in', 'notification_stationStatus', 1799999004, 'signature'),"
        " ('OPX', 'out', 'query_token', 1799999006, 'network'),"
        " ('OPX', 'in', 'query_token', 1799999007, NULL);"
        /* samples: older than 24 h, then 3 in one 300 s step, then one more */
        "INSERT INTO pile_online_samples (at, online) VALUES (1799900000, 9),"
        " (1799999100, 1), (1799999160, 2), (1799999220, 3), (1799999700, 2);");
}

static json_t *find(json_t *array, const char *key, const char *value)
{
    size_t i;
    json_t *it;
    json_array_foreach(array, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, key)), value) == 0)
            return it;
    }
    fail_msg("no %s=%s", key, value);
    return NULL;
}

static int64_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_dashboard_figures(void **state)
{
    struct db *db = db_fixture_db(state);
    seed(db);
    json_t *d = NULL;
    assert_int_equal(db_dashboard(db, NOW, TODAY, &d), DB_OK);

    json_t *piles = json_object_get(d, "piles");
    assert_int_equal(num(piles, "accessed"), 5);
    assert_int_equal(num(piles, "online"), 3);
    assert_int_equal(num(piles, "offline"), 2);
    json_t *by = json_object_get(piles, "by_protocol");
    assert_int_equal(json_array_size(by), 3);
    json_t *p16 = find(by, "protocol", "ocpp1.6");
    assert_int_equal(num(p16, "accessed"), 2);
    assert_int_equal(num(p16, "online"), 1);
    assert_int_equal(num(p16, "offline"), 1);
    assert_int_equal(num(find(by, "protocol", "ocpp2.0.1"), "online"), 1);
    json_t *pf = find(by, "protocol", "platform");
    assert_int_equal(num(pf, "accessed"), 2);
    assert_int_equal(num(pf, "online"), 1);

    json_t *conns = json_object_get(d, "connectors");
    assert_int_equal(num(conns, "reported"), 7); /* 5 OCPP (connector 0 left out) + 2 T/CEC */
    json_t *bs = json_object_get(conns, "by_status");
    assert_int_equal(json_array_size(bs), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(bs, 0), "status")),
                        "Available");
    assert_int_equal(num(find(bs, "status", "Available"), "count"), 1);
    assert_int_equal(num(find(bs, "status", "Charging"), "count"), 1);
    assert_int_equal(num(find(bs, "status", "Faulted"), "count"), 1);
    assert_int_equal(num(json_array_get(bs, 3), "count"), 2); /* Offline, last: B16's two */
    assert_string_equal(json_string_value(json_object_get(json_array_get(bs, 3), "status")),
                        "Offline");
    json_t *bt = json_object_get(conns, "by_tcec_status");
    /* 0: B16's two + FPFC1; 1: C201; 3: A16 c1 + EPFC1; 255: A16 c2 */
    int64_t want[][2] = {{0, 3}, {1, 1}, {3, 2}, {255, 1}};
    assert_int_equal(json_array_size(bt), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(num(json_array_get(bt, i), "tcec_status"), want[i][0]);
        assert_int_equal(num(json_array_get(bt, i), "count"), want[i][1]);
    }

    json_t *today = json_object_get(d, "today");
    assert_int_equal(num(today, "since_at"), TODAY);
    assert_int_equal(num(today, "sessions"), 2);
    assert_int_equal(num(today, "finished"), 1);
    assert_int_equal(num(today, "energy_wh"), 14500);
    assert_true(json_real_value(json_object_get(today, "energy_kwh")) == 14.5);

    json_t *pending = json_object_get(d, "pending");
    assert_int_equal(num(pending, "accounts"), 2);
    assert_int_equal(num(pending, "detections"), 1);
    assert_int_equal(num(pending, "access_applications"), 1);

    json_t *viol = json_object_get(d, "recent_violations");
    assert_int_equal(json_array_size(viol), 4); /* not the outbound failure nor the success */
    const char *kinds[] = {"ocpp_violation", "tcec_refused", "handshake_refused", "ocpp_violation"};
    const char *codes[] = {"ProtocolError", "signature", "unknown_pile", "FormationViolation"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_array_get(viol, i);
        assert_string_equal(json_string_value(json_object_get(v, "kind")), kinds[i]);
        assert_string_equal(json_string_value(json_object_get(v, "code")), codes[i]);
    }
    json_t *refused = json_array_get(viol, 2);
    assert_string_equal(json_string_value(json_object_get(refused, "subject")), "NOPE");
    assert_string_equal(json_string_value(json_object_get(refused, "detail")),
                        "HTTP 404, 127.0.0.9");
    assert_string_equal(json_string_value(json_object_get(json_array_get(viol, 3), "detail")),
                        "$.connectorId");
    assert_string_equal(json_string_value(json_object_get(json_array_get(viol, 1), "detail")),
                        "notification_stationStatus");

    json_t *series = json_object_get(d, "online_24h");
    assert_int_equal(num(series, "step_s"), DB_DASHBOARD_STEP_S);
    assert_int_equal(num(series, "from_at"), NOW - 86400);
    json_t *points = json_object_get(series, "points");
    assert_int_equal(json_array_size(points), 2);
    assert_int_equal(num(json_array_get(points, 0), "at"), 1799999220); /* the newest of its step */
    assert_int_equal(num(json_array_get(points, 0), "online"), 3);
    assert_int_equal(num(json_array_get(points, 1), "online"), 2);
    json_decref(d);
}

/* The accessed counts come from a cache: a pile that leaves `accessed` (an update) and a new
 * accessed one (an insert) both show in the next read. */
static void test_accessed_counts_follow_changes(void **state)
{
    struct db *db = db_fixture_db(state);
    seed(db);
    json_t *d = NULL;
    assert_int_equal(db_dashboard(db, NOW, TODAY, &d), DB_OK);
    assert_int_equal(num(json_object_get(d, "piles"), "accessed"), 5);
    json_decref(d);
    db_fixture_exec(db, "UPDATE piles SET status = 'rejected' WHERE equipment_id = 'B16'");
    assert_int_equal(db_dashboard(db, NOW, TODAY, &d), DB_OK);
    json_t *p16 =
        find(json_object_get(json_object_get(d, "piles"), "by_protocol"), "protocol", "ocpp1.6");
    assert_int_equal(num(p16, "accessed"), 1);
    assert_int_equal(num(p16, "offline"), 0);
    json_decref(d);
    db_fixture_exec(
        db, "INSERT INTO piles (account_id, equipment_id, station_row, status, equipment_type,"
            " protocol, data, created_at, updated_at) VALUES (2, 'G201', 1, 'accessed', 1,"
            " 'ocpp2.0.1', '{}', 0, 0)");
    assert_int_equal(db_dashboard(db, NOW, TODAY, &d), DB_OK);
    assert_int_equal(num(find(json_object_get(json_object_get(d, "piles"), "by_protocol"),
                              "protocol", "ocpp2.0.1"),
                         "accessed"),
                     2);
    json_decref(d);
}

/* An empty platform answers zeros and empty lists, never an error. */
static void test_empty(void **state)
{
    struct db *db = db_fixture_db(state);
    json_t *d = NULL;
    assert_int_equal(db_dashboard(db, NOW, TODAY, &d), DB_OK);
    assert_int_equal(num(json_object_get(d, "piles"), "accessed"), 0);
    json_t *bs = json_object_get(json_object_get(d, "connectors"), "by_status");
    assert_int_equal(json_array_size(bs), 1); /* Offline 0 */
    assert_int_equal(json_array_size(json_object_get(d, "recent_violations")), 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(d, "online_24h"), "points")),
                     0);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sample_counts_open_piles_and_prunes, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_keep_the_newest, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_dashboard_figures, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_accessed_counts_follow_changes, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_empty, db_fixture_setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
