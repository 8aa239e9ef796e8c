/* Unit tests of db/piles_gateway.c: pile sessions open, end and are kept within a bound. */
#include "db/db.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions_are_bounded, db_fixture_setup,
                                        db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
