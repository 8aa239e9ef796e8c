/* db/db.c: a full disk is its own error (DB_FULL), marked on the connection for the daemon to
 * tell its client, and the connection writes again once there is room. The disk is simulated
 * with SQLite's max_page_count, which fails a write the same way (SQLITE_FULL). */
#include "db/audit.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "db_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void set_max_pages(struct db *db, int64_t pages)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", (long long)pages);
    assert_int_equal(sqlite3_exec(db->h, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_full_is_db_full_and_recovers(void **state)
{
    struct db *db = db_fixture_db(state);
    assert_false(db_take_full(db));
    int64_t before = db_fixture_int(db, "SELECT count(*) FROM audit_log");
    set_max_pages(db, db_fixture_int(db, "PRAGMA page_count"));
    int rc = DB_OK, written = 0;
    char big[2048];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char detail[2100];
    snprintf(detail, sizeof detail, "{\"pad\":\"%s\"}", big);
    for (int i = 0; i < 1000 && rc == DB_OK; i++) {
        rc = db_audit_add(db, 0, "test.fill", "test", i, detail);
        written += rc == DB_OK;
    }
    assert_int_equal(rc, DB_FULL);
    assert_true(db_take_full(db));
    assert_false(db_take_full(db)); /* taken: cleared */
    /* the refused row is not there; those before it are */
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM audit_log"), before + written);

    /* a transaction that meets the full disk leaves nothing behind either */
    assert_int_equal(db_begin(db), DB_OK);
    int in_tx = 0;
    for (rc = DB_OK; rc == DB_OK && in_tx < 100; in_tx++)
        rc = db_audit_add(db, 0, "test.fill", "test", in_tx, detail);
    if (rc == DB_OK)
        rc = db_commit(db);
    assert_int_equal(rc, DB_FULL);
    db_rollback(db);
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM audit_log"), before + written);
    assert_true(db_take_full(db));

    /* room again */
    set_max_pages(db, 1000000);
    assert_int_equal(db_audit_add(db, 0, "test.after", "test", 1, NULL), DB_OK);
    assert_false(db_take_full(db));
    assert_int_equal(db_fixture_int(db, "SELECT count(*) FROM audit_log"), before + written + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_is_db_full_and_recovers, db_fixture_setup,
                                        db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
