/* Unit tests of db/ocpp_state.c: boot and last contact, connector status (a late status does
 * not undo a newer one), transactions of both versions with their energy, meter-value and
 * violation retention. One fresh database per test. */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/ocpp_state.h"

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

static void test_boot_and_seen(void **state)
{
    struct db *db = db_fixture_db(state);
    bool booted = true;
    assert_int_equal(db_ocpp_booted(db, "P1", &booted), DB_OK);
    assert_false(booted);
    assert_int_equal(db_ocpp_seen(db, "P1", "ocpp2.0.1", 100), DB_OK);
    assert_int_equal(db_ocpp_booted(db, "P1", &booted), DB_OK);
    assert_false(booted); /* a contact is no boot */
    assert_int_equal(db_ocpp_boot(db, "P1", "V", "M", "S", "F", "PowerUp", 100), DB_OK);
    assert_int_equal(db_ocpp_booted(db, "P1", &booted), DB_OK);
    assert_true(booted);
    assert_int_equal(db_ocpp_seen(db, "P1", "ocpp2.0.1", 90), DB_OK); /* never backwards */
    assert_int_equal(db_fixture_int(db, "SELECT last_seen_at FROM ocpp_contacts"), 100);
    /* the live view joins the contact and the boot */
    json_t *live = db_ocpp_live(db, "P1");
    assert_non_null(live);
    assert_int_equal(json_integer_value(json_object_get(live, "last_seen_at")), 100);
    assert_string_equal(json_string_value(json_object_get(live, "protocol")), "ocpp2.0.1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(live, "boot"), "reason")),
                        "PowerUp");
    json_decref(live);
    /* a boot before any contact makes the pile's row */
    assert_int_equal(db_ocpp_boot(db, "P2", "V", "M", NULL, NULL, NULL, 120), DB_OK);
    assert_int_equal(db_ocpp_booted(db, "P2", &booted), DB_OK);
    assert_true(booted);
}

/* db_ocpp_seen: the row created; the last contact moved on; a new protocol; a time that is not
 * later (kept, the protocol still follows); a pile whose violation came first. */
static void test_seen_paths(void **state)
{
    struct db *db = db_fixture_db(state);
    static const char q[] = "SELECT protocol || '@' || last_seen_at FROM ocpp_contacts"
                            " WHERE equipment_id = 'P1'";
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db->h, q, -1, &st, NULL), SQLITE_OK);
    const struct {
        const char *protocol;
        int64_t at;
        const char *want;
    } steps[] = {
        {"ocpp1.6", 100, "ocpp1.6@100"},    {"ocpp1.6", 101, "ocpp1.6@101"},
        {"ocpp1.6", 101, "ocpp1.6@101"},    {"ocpp2.0.1", 102, "ocpp2.0.1@102"},
        {"ocpp2.0.1", 50, "ocpp2.0.1@102"}, {"ocpp1.6", 50, "ocpp1.6@102"},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        assert_int_equal(db_ocpp_seen(db, "P1", steps[i].protocol, steps[i].at), DB_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), steps[i].want);
        sqlite3_reset(st);
    }
    /* a violation came first: its count and the contact, each in its table */
    assert_int_equal(db_ocpp_violation_add(db, "P2", 10, "FormationViolation", NULL, NULL, "x", 5),
                     DB_OK);
    assert_int_equal(db_ocpp_seen(db, "P2", "ocpp1.6", 200), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT c.last_seen_at FROM ocpp_contacts c"
                                        " JOIN ocpp_piles p USING (equipment_id)"
                                        " WHERE equipment_id = 'P2' AND c.protocol = 'ocpp1.6'"
                                        " AND p.violations = 1"),
                     200);
    sqlite3_finalize(st);
}

/* A BootNotification answered Pending keeps the boot information but does not mark the pile
 * booted, and does not undo an earlier accepted boot either. */
static void test_boot_info_pending(void **state)
{
    struct db *db = db_fixture_db(state);
    bool booted = true;
    assert_int_equal(db_ocpp_boot(db, "P1", "V0", "M0", "S0", "F0", NULL, 0), DB_OK);
    assert_int_equal(db_ocpp_booted(db, "P1", &booted), DB_OK);
    assert_false(booted);
    assert_int_equal(db_fixture_int(db, "SELECT model = 'M0' AND serial = 'S0' FROM ocpp_piles"),
                     1);
    assert_int_equal(db_ocpp_boot(db, "P1", "V", "M", "S", "F", NULL, 110), DB_OK);
    assert_int_equal(db_ocpp_boot(db, "P1", "V2", "M2", NULL, "F2", "Triggered", 0), DB_OK);
    assert_int_equal(db_ocpp_booted(db, "P1", &booted), DB_OK);
    assert_true(booted);
    assert_int_equal(db_fixture_int(db, "SELECT last_boot_at FROM ocpp_piles"), 110);
    assert_int_equal(db_fixture_int(db, "SELECT model = 'M2' AND firmware = 'F2' FROM ocpp_piles"),
                     1);
}

static void test_connector_status(void **state)
{
    struct db *db = db_fixture_db(state);
    assert_int_equal(db_ocpp_connector_status(db, "P1", 1, 0, "Charging", 3, NULL, 200), DB_OK);
    assert_int_equal(db_ocpp_connector_status(db, "P1", 1, 0, "Available", 1, NULL, 150), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT tcec_status FROM ocpp_connectors"), 3);
    assert_int_equal(db_ocpp_connector_status(db, "P1", 1, 0, "Finishing", 2, NULL, 200), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT tcec_status FROM ocpp_connectors"), 2);
    /* the charging state refines only an occupied 2.0.1 connector */
    assert_int_equal(db_ocpp_connector_charging(db, "P1", 1, 3, 210), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT tcec_status FROM ocpp_connectors"), 2);
    assert_int_equal(db_ocpp_connector_status(db, "P1", 1, 0, "Occupied", 2, NULL, 220), DB_OK);
    assert_int_equal(db_ocpp_connector_charging(db, "P1", 1, 3, 230), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT tcec_status FROM ocpp_connectors"), 3);
}

static void test_transactions(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t a = 0, b = 0, again = 0, conn = 0;
    /* 1.6: ids from the row, energy from meterStart/meterStop */
    assert_int_equal(db_ocpp_tx_start(db, "P1", 2, NULL, "T", 100, 1000, &a), DB_OK);
    assert_true(a > 0);
    assert_int_equal(db_ocpp_tx_of_pile(db, "P1", a, &conn), DB_OK);
    assert_int_equal(conn, 2);
    assert_int_equal(db_ocpp_tx_of_pile(db, "P2", a, NULL), DB_NOTFOUND);
    assert_int_equal(db_ocpp_tx_meter(db, a, 4000, 150), DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT energy_wh FROM ocpp_transactions"), 3000);
    assert_int_equal(db_ocpp_tx_stop(db, "P2", a, 200, 9000, "Local"), DB_NOTFOUND);
    assert_int_equal(db_ocpp_tx_stop(db, "P1", a, 200, 9000, "Local"), DB_OK);
    assert_int_equal(db_ocpp_tx_stop(db, "P1", a, 300, 99999, "Other"), DB_NOTFOUND);
    assert_int_equal(db_fixture_int(db, "SELECT energy_wh FROM ocpp_transactions"), 8000);
    /* 2.0.1: by reference, start reading from the first register value */
    assert_int_equal(db_ocpp_tx_start(db, "P1", 1, "abc", NULL, 100, -1, &b), DB_OK);
    assert_int_equal(db_ocpp_tx_start(db, "P1", 1, "abc", NULL, 100, -1, &again), DB_OK);
    assert_int_equal(b, again);
    assert_int_equal(db_ocpp_tx_find(db, "P1", "abc", &again, &conn), DB_OK);
    assert_int_equal(conn, 1);
    assert_int_equal(db_ocpp_tx_find(db, "P2", "abc", &again, NULL), DB_NOTFOUND);
    assert_int_equal(db_ocpp_tx_id_tag(db, b, "TOKEN", 110), DB_OK);
    assert_int_equal(db_ocpp_tx_meter(db, b, 500, 110), DB_OK);
    assert_int_equal(db_ocpp_tx_meter(db, b, 2500, 120), DB_OK);
    assert_int_equal(db_ocpp_tx_stop(db, "P1", b, 130, -1, NULL), DB_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT energy_wh FROM ocpp_transactions WHERE id = %lld",
             (long long)b);
    assert_int_equal(db_fixture_int(db, sql), 2000);
}

static void test_retention(void **state)
{
    struct db *db = db_fixture_db(state);
    for (int i = 0; i < 30; i++) {
        struct db_ocpp_sample s = {.connector_id = 1,
                                   .sampled_at = 100 + i,
                                   .measurand = "Energy.Active.Import.Register",
                                   .value = i};
        assert_int_equal(db_ocpp_meter_add(db, "P1", &s), DB_OK);
        assert_int_equal(db_ocpp_meter_add(db, "P2", &s), DB_OK);
    }
    assert_int_equal(db_ocpp_meter_prune(db, "P1", 10), DB_OK);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM ocpp_meter_values WHERE equipment_id = 'P1'"), 10);
    assert_int_equal(
        db_fixture_int(db, "SELECT min(value) FROM ocpp_meter_values WHERE equipment_id = 'P1'"),
        20);
    assert_int_equal(
        db_fixture_int(db, "SELECT count(*) FROM ocpp_meter_values WHERE equipment_id = 'P2'"), 30);

    for (int i = 0; i < 7; i++)
        assert_int_equal(db_ocpp_violation_add(db, "P1", 100 + i, "FormationViolation",
                                               i ? "$.a" : "", "r", "[2", 5),
                         DB_OK);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM pile_violations"), 5);
    assert_int_equal(db_fixture_int(db, "SELECT min(at) FROM pile_violations"), 102);
    assert_int_equal(
        db_fixture_int(db, "SELECT violations FROM ocpp_piles WHERE equipment_id = 'P1'"), 7);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, db_fixture_setup, db_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_boot_and_seen),    T(test_seen_paths),   T(test_boot_info_pending),
        T(test_connector_status), T(test_transactions), T(test_retention),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
