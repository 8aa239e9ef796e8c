/* Unit tests of db/piles_gateway.c: pile sessions open, end and are kept within a bound; the
 * pile table's generation moves with what the gateway copies. */
#include "db/db.h"
#include "db/db_internal.h"
#include "db/piles_gateway.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include <cmocka.h>

#include "db_fixture.h"

static long long count(void **state, const char *sql)
{
    struct db_fixture *f = *state;
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(f->path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* A pile that reconnects again and again keeps only its newest ended sessions (and its open
 * one); another pile's history is untouched. */
static void test_sessions_are_bounded(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t row = 0, other = 0;
    assert_int_equal(db_pile_session_open(db, "Q1", "ocpp1.6", NULL, 1, &other), DB_OK);
    assert_int_equal(db_pile_session_close(db, other, "Q1", 2, "peer_closed"), DB_OK);
    assert_int_equal(db_begin(db), DB_OK);
    for (int i = 0; i < DB_PILE_SESSIONS_KEEP + 40; i++) {
        assert_int_equal(db_pile_session_open(db, "P1", "ocpp1.6", "127.0.0.1", 10 + i, &row),
                         DB_OK);
        assert_int_equal(db_pile_session_close(db, row, "P1", 10 + i, "replaced"), DB_OK);
    }
    assert_int_equal(db_pile_session_open(db, "P1", "ocpp1.6", "127.0.0.1", 99999, &row), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(count(state, "SELECT count(*) FROM pile_sessions WHERE equipment_id = 'P1'"
                                  " AND disconnected_at IS NOT NULL"),
                     DB_PILE_SESSIONS_KEEP);
    assert_int_equal(count(state, "SELECT count(*) FROM pile_sessions WHERE equipment_id = 'P1'"
                                  " AND disconnected_at IS NULL"),
                     1);
    /* the newest ones are the ones kept */
    assert_int_equal(count(state, "SELECT min(connected_at) FROM pile_sessions"
                                  " WHERE equipment_id = 'P1'"),
                     10 + 40);
    assert_int_equal(count(state, "SELECT count(*) FROM pile_sessions WHERE equipment_id = 'Q1'"),
                     1);
    /* ending an unknown or already ended session is DB_NOTFOUND */
    assert_int_equal(db_pile_session_close(db, other, "Q1", 3, "again"), DB_NOTFOUND);
}

static void exec_ok(struct db *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, err ? err : "?");
}

/* The generation moves with every write the gateway's pile table copies, and only then. */
static void test_generation(void **state)
{
    struct db *db = db_fixture_db(state);
    exec_ok(db, "PRAGMA foreign_keys=OFF");
    int64_t g0 = 0, g = 0;
    assert_int_equal(db_gateway_piles_generation(db, &g0), DB_OK);
    exec_ok(db, "INSERT INTO piles (account_id, equipment_id, station_row, status, equipment_type,"
                " protocol, data, created_at, updated_at)"
                " VALUES (1, 'G1', 1, 'draft', 1, 'ocpp1.6', '{}', 0, 0)");
    assert_int_equal(db_gateway_piles_generation(db, &g), DB_OK);
    assert_true(g > g0);
    static const char *const copied[] = {
        "UPDATE piles SET equipment_id = 'G2'",
        "UPDATE piles SET status = 'accessed'",
        "UPDATE piles SET protocol = 'ocpp2.0.1'",
        "UPDATE piles SET password_salt = 's'",
        "UPDATE piles SET password_hash = 'h'",
        "UPDATE piles SET boot_status = 'Pending'",
        "UPDATE piles SET security_profile = 2",
        "UPDATE piles SET security_profile = 2", /* the same value: a write all the same */
        "DELETE FROM piles",
    };
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
        int64_t before = g;
        exec_ok(db, copied[i]);
        assert_int_equal(db_gateway_piles_generation(db, &g), DB_OK);
        if (g != before + 1)
            fail_msg("%s: generation %lld after %lld", copied[i], (long long)g, (long long)before);
    }
    /* columns the table does not copy */
    exec_ok(db, "INSERT INTO piles (account_id, equipment_id, station_row, status, equipment_type,"
                " protocol, data, created_at, updated_at)"
                " VALUES (1, 'G3', 1, 'draft', 1, 'ocpp1.6', '{}', 0, 0)");
    assert_int_equal(db_gateway_piles_generation(db, &g0), DB_OK);
    exec_ok(db, "UPDATE piles SET data = '{\"x\":1}', updated_at = 5, equipment_type = 2,"
                " station_row = 2, account_id = 2");
    assert_int_equal(db_gateway_piles_generation(db, &g), DB_OK);
    assert_int_equal(g, g0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions_are_bounded, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_generation, db_fixture_setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
