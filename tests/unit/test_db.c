/* db/db.c: a full disk is its own error (DB_FULL), marked on the connection for the daemon to
 * tell its client, and the connection writes again once there is room. The disk is simulated
 * with SQLite's max_page_count, which fails a write the same way (SQLITE_FULL).
 * db/wal.c: a WAL file lengthened with zeros (db_wal_reserve) recovers as any other. */
#include "db/audit.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "db_fixture.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static long long file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long long)sb.st_size;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* The WAL file is lengthened with zeros past its last frame, under the write lock; commits go on
 * appending over them; and a copy of the database and its WAL taken as they are (a crash: no
 * checkpoint, no WAL index) opens with every committed row and passes integrity_check. */
static void test_wal_reserve_is_harmless_to_recovery(void **state)
{
    struct db_fixture *f = *state;
    struct db *db = f->db;
    db_wal_manual(db); /* no checkpoint copies the WAL away during the test */
    long long before = db_fixture_int(db, "SELECT count(*) FROM audit_log");
    for (int i = 0; i < 20; i++)
        assert_int_equal(db_audit_add(db, 0, "test.before", "test", i, NULL), DB_OK);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    long long frame = db_fixture_int(db, "PRAGMA page_size") + 24;
    long long grown = file_size(wal);
    assert_true(grown < 32 + 500 * frame);

    int have = 0;
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_wal_reserve(db, 500, &have), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(have, 500);
    assert_int_equal(file_size(wal), 32 + 500 * frame);
    /* long enough already: nothing written, the length told */
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_wal_reserve(db, 100, &have), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(have, 500);
    assert_int_equal(file_size(wal), 32 + 500 * frame);

    for (int i = 0; i < 20; i++)
        assert_int_equal(db_audit_add(db, 0, "test.after", "test", i, NULL), DB_OK);
    assert_int_equal(file_size(wal), 32 + 500 * frame); /* appended within the zeros */

    char copy[160], copy_wal[170];
    snprintf(copy, sizeof copy, "%s/crash.db", f->dir);
    snprintf(copy_wal, sizeof copy_wal, "%s-wal", copy);
    copy_file(f->path, copy);
    copy_file(wal, copy_wal);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(copy, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(h,
                           "SELECT (SELECT count(*) FROM audit_log),"
                           " (SELECT count(*) FROM audit_log WHERE action = 'test.after')",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), before + 40);
    assert_int_equal(sqlite3_column_int64(st, 1), 20);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(h);
    unlink(copy_wal);
    unlink(copy);
    char shm[180];
    snprintf(shm, sizeof shm, "%s-shm", copy);
    unlink(shm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_is_db_full_and_recovers, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_wal_reserve_is_harmless_to_recovery, db_fixture_setup,
                                        db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
