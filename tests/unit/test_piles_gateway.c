/* Unit tests of db/piles_gateway.c: pile sessions open, end and are kept within a bound; the
 * pile table's state moves with what the gateway copies. */
#include "db/db.h"
#include "db/piles_gateway.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

static struct db_gateway_piles_state state_of(struct db *db)
{
    struct db_gateway_piles_state st = {0};
    assert_int_equal(db_gateway_piles_state(db, &st), DB_OK);
    return st;
}

static bool same(struct db_gateway_piles_state a, struct db_gateway_piles_state b)
{
    return a.generation == b.generation && a.max_id == b.max_id;
}

#define INSERT_PILE(id)                                                                            \
    "INSERT INTO piles (account_id, equipment_id, station_row, status, equipment_type,"            \
    " protocol, data, created_at, updated_at) VALUES (1, '" id "', 1, 'draft', 1, 'ocpp1.6',"      \
    " '{}', 0, 0)"

/* The state moves with every write the gateway's pile table copies, and only then: inserts
 * raise the largest id (no trigger runs for them), deletes and updates of a copied column move
 * the generation. */
static void test_state(void **state)
{
    struct db *db = db_fixture_db(state);
    db_fixture_exec(db, "PRAGMA foreign_keys=OFF");
    struct db_gateway_piles_state s0 = state_of(db), s;
    assert_int_equal(s0.max_id, 0);
    db_fixture_exec(db, INSERT_PILE("G1"));
    s = state_of(db);
    assert_int_equal(s.generation, s0.generation);
    assert_true(s.max_id > s0.max_id);
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
        int64_t before = s.generation;
        db_fixture_exec(db, copied[i]);
        s = state_of(db);
        if (s.generation != before + 1)
            fail_msg("%s: generation %lld after %lld", copied[i], (long long)s.generation,
                     (long long)before);
    }
    /* the deleted pile's id given again: the delete moved the generation already */
    db_fixture_exec(db, INSERT_PILE("G3"));
    assert_false(same(state_of(db), s0));
    /* columns the table does not copy */
    s0 = state_of(db);
    db_fixture_exec(db, "UPDATE piles SET data = '{\"x\":1}', updated_at = 5, equipment_type = 2,"
                        " station_row = 2, account_id = 2");
    assert_true(same(state_of(db), s0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions_are_bounded, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_state, db_fixture_setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
