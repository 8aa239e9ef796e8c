/* Unit tests of the station list of db/records.c: the SQL written per filter combination gives
 * what the filters mean, in station_id order, and the cached totals (db/list_count.c) follow
 * every change of the records, including changes made by another connection. */
#include "db/db.h"
#include "db/records.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <string.h>

#include <cmocka.h>

#include "db_fixture.h"

/* Runs `sql` on a connection of its own, as another process would. */
static void exec_other(void **state, const char *sql)
{
    struct db_fixture *f = *state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(f->path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *err = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(h);
}

static int setup(void **state)
{
    if (db_fixture_setup(state) != 0)
        return -1;
    exec_other(state, "INSERT INTO accounts (id, username, password_hash, role, status,"
                      " created_at, updated_at) VALUES"
                      " (1, 'a', 'x', 'operator', 'active', 0, 0),"
                      " (2, 'b', 'x', 'operator', 'active', 0, 0)");
    return 0;
}

static int64_t add(struct db *db, int64_t account, const char *sid, const char *status,
                   const char *name, const char *area)
{
    int64_t row = 0;
    assert_int_equal(
        db_station_insert(db, account, 0, status, sid, name, area, 1, "{\"park_nums\":3}", &row),
        DB_OK);
    return row;
}

/* The station_ids of page 1 (size 50) into `out` (comma-separated); returns the total. */
static int64_t ids(struct db *db, struct db_record_filter *f, char *out, size_t cap)
{
    json_t *items = NULL;
    int64_t total = -1;
    assert_int_equal(db_station_list(db, f, 1, 50, &items, &total), DB_OK);
    out[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e)
    {
        if (i)
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, json_string_value(json_object_get(e, "station_id")), cap - strlen(out) - 1);
    }
    json_decref(items);
    return total;
}

static void test_filters_and_order(void **state)
{
    struct db *db = db_fixture_db(state);
    add(db, 1, "S3", "draft", "中山东区甲站", "442000");
    add(db, 1, "S1", "accessed", "中山石岐乙站", "442000");
    add(db, 1, "S2", "accessed", "广州荔湾丙站", "440103");
    add(db, 2, "S1", "draft", "中山东区丁站", "442000");
    char buf[256];
    struct db_record_filter f = {0};
    assert_int_equal(ids(db, &f, buf, sizeof buf), 4);
    assert_string_equal(buf, "S1,S1,S2,S3"); /* by station_id, then row */
    f.account_id = 1;
    assert_int_equal(ids(db, &f, buf, sizeof buf), 3);
    assert_string_equal(buf, "S1,S2,S3");
    f.area_prefix = "4420";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
    assert_string_equal(buf, "S1,S3");
    f.area_prefix = "44";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 3);
    f.area_prefix = "45";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 0);
    f.area_prefix = "440103";
    f.status = "accessed";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 1);
    assert_string_equal(buf, "S2");
    memset(&f, 0, sizeof f);
    f.station_id = "S1";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
    f.name = "石岐";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 1);
    memset(&f, 0, sizeof f);
    f.name = "%";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 0);
    f.name = "东区";
    f.status = "draft";
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
}

/* A total is counted again after any change of the records: inserts and deletes here, a
 * status changed by another connection, a station moved to another area. */
static void test_totals_follow_changes(void **state)
{
    struct db *db = db_fixture_db(state);
    char buf[256];
    struct db_record_filter f = {.account_id = 1};
    struct db_record_filter drafts = {.account_id = 1, .status = "draft"};
    struct db_record_filter area = {.area_prefix = "4401"};
    add(db, 1, "T1", "draft", "甲", "442000");
    int64_t t2 = add(db, 1, "T2", "draft", "乙", "442000");
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
    assert_int_equal(ids(db, &drafts, buf, sizeof buf), 2);
    assert_int_equal(ids(db, &area, buf, sizeof buf), 0);
    add(db, 1, "T3", "draft", "丙", "442000");
    assert_int_equal(ids(db, &f, buf, sizeof buf), 3);
    assert_int_equal(ids(db, &drafts, buf, sizeof buf), 3);
    exec_other(state, "UPDATE stations SET status = 'submitted' WHERE station_id = 'T3'");
    assert_int_equal(ids(db, &drafts, buf, sizeof buf), 2);
    assert_string_equal(buf, "T1,T2");
    assert_int_equal(db_station_update(db, t2, "乙", "440103", 1, "{}"), DB_OK);
    assert_int_equal(ids(db, &area, buf, sizeof buf), 1);
    assert_string_equal(buf, "T2");
    assert_int_equal(db_station_delete(db, t2), DB_OK);
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
    assert_int_equal(ids(db, &area, buf, sizeof buf), 0);
    /* the largest row deleted and its id given again to a new row */
    int64_t t4 = add(db, 1, "T4", "draft", "戊", "442000");
    assert_int_equal(ids(db, &f, buf, sizeof buf), 3);
    assert_int_equal(db_station_delete(db, t4), DB_OK);
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
    assert_int_equal(add(db, 2, "T5", "draft", "己", "442000"), t4);
    assert_int_equal(ids(db, &f, buf, sizeof buf), 2);
    struct db_record_filter all = {0};
    assert_int_equal(ids(db, &all, buf, sizeof buf), 3);
    exec_other(state, "INSERT INTO stations (account_id, station_id, status, name, area_code,"
                      " station_type, data, created_at, updated_at)"
                      " VALUES (1, 'T6', 'draft', '庚', '442000', 1, '{}', 0, 0)");
    assert_int_equal(ids(db, &f, buf, sizeof buf), 3);
    /* rows other than stations and piles leave the totals cached and right */
    exec_other(state, "UPDATE accounts SET updated_at = 5 WHERE id = 1");
    assert_int_equal(ids(db, &f, buf, sizeof buf), 3);
}

static int count_rows(void *ctx, const struct db_station_row *r)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

/* db_station_list_rows gives the rows db_station_list makes items of. */
static void test_rows_match_items(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t row = add(db, 2, "R1", "draft", "丁", "442000");
    struct db_record_filter f = {.account_id = 2};
    int n = 0;
    int64_t total = 0;
    assert_int_equal(db_station_list_rows(db, &f, 1, 20, count_rows, &n, &total), DB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    json_t *view = db_station_view(db, row);
    json_t *items = NULL;
    assert_int_equal(db_station_list(db, &f, 1, 20, &items, &total), DB_OK);
    assert_true(json_equal(view, json_array_get(items, 0)));
    assert_int_equal(json_integer_value(json_object_get(view, "park_nums")), 3);
    json_decref(view);
    json_decref(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filters_and_order, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_totals_follow_changes, setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rows_match_items, setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
