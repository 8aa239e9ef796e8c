/* mgmt/import.c: a piles file staged whole; problems of both sheets (read on two threads) in
 * sheet order and capped; a file staged again replacing its own piles; the database's CHECK
 * constraints and page cache as they were once an import is over. */
#include "common/config.h"
#include "db/access.h"
#include "db/accounts.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "db/records.h"
#include "db_fixture.h"
#include "mgmt/http.h"
#include "mgmt/import.h"
#include "mgmt/xlsx_write.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct world {
    struct db *db;
    struct evg_config cfg;
    int64_t account, app;
    char xlsx[160];
};

/* A piles file of `n` piles with one connector each; pile i gets equipment type `bad_type` when
 * i < bad_piles, connector i connector type 99 when i < bad_conns (both invalid codes). */
static void write_piles(struct world *w, long n, long bad_piles, long bad_conns)
{
    json_t *items = json_array();
    for (long i = 0; i < n; i++) {
        char eid[24], cid[32];
        snprintf(eid, sizeof eid, "T%09ld", i);
        snprintf(cid, sizeof cid, "T%09ld01", i);
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:s, s:[{s:s, s:i, s:i, s:i, s:i, "
                             "s:f, s:f, s:i}]}",
                             "equipment_id", eid, "station_id", "S1", "manufacturer_name", "厂商",
                             "equipment_type", i < bad_piles ? 99 : 1, "power", 60.0, "protocol",
                             "ocpp1.6", "status", "draft", "connectors", "connector_id", cid,
                             "ocpp_connector_id", 1, "connector_type", i < bad_conns ? 99 : 4,
                             "voltage_upper_limits", 750, "voltage_lower_limits", 200, "current",
                             80.0, "power", 60.0, "national_standard", 2));
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    char err[256];
    assert_int_equal(xlsxw_export(XLSXW_PILES, items, &buf, &len, err, sizeof err), 0);
    json_decref(items);
    FILE *f = fopen(w->xlsx, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

static int run_import(struct world *w, int64_t app, json_t **problems, int *truncated,
                      int64_t *staged)
{
    struct mgmt_req req = {.cfg = &w->cfg, .db = w->db};
    req.caller.account_id = w->account;
    *problems = json_array();
    return import_file(&req, IMPORT_PILES, app, w->xlsx, *problems, truncated, staged);
}

/* The world hangs off the fixture: the fixture is the cmocka state. */
static struct world *world_of(void **state, struct world *w)
{
    struct db_fixture *fx = *state;
    w->db = fx->db;
    snprintf(w->xlsx, sizeof w->xlsx, "%s/piles.xlsx", fx->dir);
    char err[256], *args[] = {"test", NULL};
    setenv("EVGATE_MAX_IMPORT_ROWS", "100000", 1);
    assert_int_equal(cfg_load(&w->cfg, CFG_MGMT, "test", 1, args, err, sizeof err), 0);
    struct db_organisation_in org = {"公司", "91442000MA4UJ9XY09", "MA4UJ9XY0", "张三",
                                     "李四", "13800138000",        "a@b.cn",    "中山",
                                     0};
    const char *field;
    int64_t station = 0;
    assert_int_equal(db_operator_register(w->db, "imp", "x", &org, &w->account, &field), DB_OK);
    assert_int_equal(db_access_create(w->db, w->account, &w->app), DB_OK);
    assert_int_equal(db_station_insert(w->db, w->account, 0, "accessed", "S1", "站", "442000", 1,
                                       "{}", &station),
                     DB_OK);
    return w;
}

static void staged_whole_then_again(void **state)
{
    struct world w0 = {0}, *w = world_of(state, &w0);
    int64_t cache_before = db_fixture_int(w->db, "PRAGMA cache_size");
    write_piles(w, 300, 0, 0);
    json_t *problems;
    int truncated = 0;
    int64_t staged = 0;
    assert_int_equal(run_import(w, w->app, &problems, &truncated, &staged), 0);
    assert_int_equal(json_array_size(problems), 0);
    assert_int_equal(staged, 300);
    json_decref(problems);
    struct db_record_row found;
    assert_int_equal(db_pile_find(w->db, "T000000299", &found), DB_OK);
    assert_int_equal(found.application_id, w->app);
    json_t *v = db_pile_view(w->db, found.row);
    json_t *conns = json_object_get(v, "connectors");
    assert_int_equal(json_array_size(conns), 1);
    json_t *c0 = json_array_get(conns, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "connector_id")), "T00000029901");
    assert_int_equal(json_integer_value(json_object_get(c0, "connector_type")), 4);
    assert_int_equal(json_integer_value(json_object_get(v, "equipment_type")), 1);
    json_decref(v);

    /* the import's relaxations ended with it */
    assert_int_equal(db_fixture_int(w->db, "PRAGMA ignore_check_constraints"), 0);
    assert_int_equal(db_fixture_int(w->db, "PRAGMA cache_size"), cache_before);
    int64_t row = 0;
    assert_int_equal(db_pile_insert(w->db, w->account, w->app, "bogus", "TBOGUS", found.station_row,
                                    1, "ocpp1.6", "{}", &row),
                     DB_CONFLICT);

    /* the same file again replaces this application's staged piles */
    assert_int_equal(run_import(w, w->app, &problems, &truncated, &staged), 0);
    assert_int_equal(staged, 300);
    json_decref(problems);

    /* another application may not take them */
    int64_t app2 = 0;
    assert_int_equal(db_access_create(w->db, w->account, &app2), DB_OK);
    assert_int_equal(run_import(w, app2, &problems, &truncated, &staged), 1);
    assert_int_equal(json_array_size(problems), 600);
    assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 0), "code")),
                        "duplicate_in_db");
    assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 0), "sheet")),
                        "充电桩");
    assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 599), "sheet")),
                        "充电枪");
    json_decref(problems);
    cfg_free(&w->cfg);
}

static void problems_in_sheet_order_and_capped(void **state)
{
    struct world w0 = {0}, *w = world_of(state, &w0);
    /* 3 bad piles, 2 bad connectors: the piles sheet's problems come first */
    write_piles(w, 20, 3, 2);
    json_t *problems;
    int truncated = 0;
    int64_t staged = 0;
    assert_int_equal(run_import(w, w->app, &problems, &truncated, &staged), 1);
    assert_int_equal(staged, 0);
    assert_int_equal(truncated, 0);
    assert_int_equal(json_array_size(problems), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *p = json_array_get(problems, i);
        assert_string_equal(json_string_value(json_object_get(p, "sheet")),
                            i < 3 ? "充电桩" : "充电枪");
        assert_int_equal(json_integer_value(json_object_get(p, "row")), i < 3 ? i + 2 : i - 3 + 2);
    }
    json_decref(problems);
    struct db_record_row found;
    assert_int_equal(db_pile_find(w->db, "T000000019", &found), DB_NOTFOUND);

    /* more than IMPORT_MAX_PROBLEMS over both sheets: the first ones, in sheet order */
    write_piles(w, 700, 700, 700);
    assert_int_equal(run_import(w, w->app, &problems, &truncated, &staged), 1);
    assert_int_equal(truncated, 1);
    assert_int_equal(json_array_size(problems), IMPORT_MAX_PROBLEMS);
    assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 699), "sheet")),
                        "充电桩");
    assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 700), "sheet")),
                        "充电枪");
    json_decref(problems);
    cfg_free(&w->cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(staged_whole_then_again, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(problems_in_sheet_order_and_capped, db_fixture_setup,
                                        db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
