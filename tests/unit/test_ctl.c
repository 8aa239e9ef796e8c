/* Unit tests of evgatectl's pure and database parts: the settings table seen from outside
 * (common/config.c), the configuration document and sample file (ctl/config_doc.c), backup,
 * verify, restore and check (db/backup.c) and the account and token changes (db/maint.c). */
#include "common/config.h"
#include "ctl/config_doc.h"
#include "db/backup.h"
#include "db/db.h"
#include "db/maint.h"
#include "db/sessions.h"
#include "db_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

extern char **environ;

/* No EVGATE_* variable of the developer's may leak into cfg_load. */
static void clear_env(void)
{
    for (int guard = 0; guard < 1000; guard++) {
        char name[256] = "";
        for (char **e = environ; *e; e++)
            if (strncmp(*e, "EVGATE_", 7) == 0) {
                snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
                break;
            }
        if (!*name)
            return;
        unsetenv(name);
    }
}

static int load(struct evg_config *cfg, const char *file)
{
    char err[512], arg[300];
    snprintf(arg, sizeof arg, "--config=%s", file ? file : "");
    char *argv[] = {"test", arg, NULL};
    int rc = cfg_load(cfg, CFG_ALL, "test", file ? 2 : 1, argv, err, sizeof err);
    if (rc != 0)
        print_error("cfg_load: %s\n", err);
    return rc;
}

static char *temp_file(const char *content)
{
    char *path = strdup("/tmp/evgate-test-ctl-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(content);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_table_is_readable_from_outside(void **state)
{
    (void)state;
    clear_env();
    assert_true(cfg_count() > 40);
    assert_string_equal(cfg_key(0), "config");
    long i = cfg_find("mgmt_threads");
    assert_true(i > 0);
    assert_true(cfg_key_is_int((size_t)i));
    assert_false(cfg_key_is_secret((size_t)i));
    assert_true(cfg_key_is_secret((size_t)cfg_find("admin_password")));
    assert_int_equal(cfg_find("no_such_key"), -1);
    assert_null(cfg_key(cfg_count()));

    struct evg_config cfg;
    assert_int_equal(load(&cfg, NULL), 0);
    char buf[64];
    assert_int_equal(cfg_value_text(&cfg, (size_t)i, buf, sizeof buf), 0);
    assert_string_equal(buf, "4");
    assert_int_equal(cfg_value_text(&cfg, (size_t)cfg_find("mgmt_listen"), buf, 4), -1);
    assert_string_equal(buf, "");
    cfg_free(&cfg);

    char err[256];
    assert_int_equal(cfg_check_value("mgmt_threads", "64", err, sizeof err), 0);
    assert_int_equal(cfg_check_value("mgmt_threads", "65", err, sizeof err), -1);
    assert_non_null(strstr(err, "1..64"));
    assert_int_equal(cfg_check_value("mgmt_threads", "4x", err, sizeof err), -1);
    assert_int_equal(cfg_check_value("config", "x", err, sizeof err), -1);
    assert_int_equal(cfg_check_value("nope", "x", err, sizeof err), -1);
    assert_int_equal(cfg_check_value("site_name", "a\nb", err, sizeof err), -1);
    assert_int_equal(cfg_check_value("site_name", " 充电 \"x\" ", err, sizeof err), 0);
}

static json_t *problems_of(json_t *doc)
{
    json_t *problems = json_array();
    config_doc_validate(doc, problems);
    return problems;
}

static int has_problem(json_t *problems, const char *prefix)
{
    size_t i;
    json_t *p;
    json_array_foreach(problems, i,
                       p) if (strncmp(json_string_value(p), prefix, strlen(prefix)) == 0) return 1;
    return 0;
}

static void test_document_round_trips_through_a_config_file(void **state)
{
    (void)state;
    clear_env();
    /* values a naive writer would break: spaces at the ends, quotes, Chinese, '#' */
    char *conf = temp_file("site_name = \" 中山 \"平台\" # 1 \"\nmgmt_threads = 7\n"
                           "admin_password = \"Secret-never-exported\"\ndb = /tmp/x.db\n");
    struct evg_config cfg;
    assert_int_equal(load(&cfg, conf), 0);
    assert_string_equal(cfg.site_name, " 中山 \"平台\" # 1 ");
    json_t *piles = json_pack("[{s:s, s:s, s:i}]", "equipment_id", "EQ1", "boot_status", "Pending",
                              "security_profile", 2);
    json_t *doc = config_doc_build(&cfg, piles, 12);
    assert_non_null(doc);
    json_t *settings = json_object_get(doc, "settings");
    assert_null(json_object_get(settings, "admin_password"));
    assert_null(json_object_get(settings, "db"));
    assert_null(json_object_get(settings, "config"));
    assert_int_equal(json_integer_value(json_object_get(settings, "mgmt_threads")), 7);
    json_t *problems = problems_of(doc);
    assert_int_equal(json_array_size(problems), 0);
    json_decref(problems);

    /* written as a file and read back: the same settings, db where the import went */
    char *out = strdup("/tmp/evgate-test-ctl-out-XXXXXX");
    int fd = mkstemp(out);
    FILE *f = fdopen(fd, "w");
    assert_int_equal(config_doc_write_settings(doc, "/tmp/imported.db", f), 0);
    fclose(f);
    struct evg_config back;
    assert_int_equal(load(&back, out), 0);
    assert_string_equal(back.db, "/tmp/imported.db");
    assert_string_equal(back.admin_password, "");
    json_t *again = config_doc_build(&back, json_array(), 12);
    assert_true(json_equal(json_object_get(again, "settings"), settings));
    json_decref(again);
    cfg_free(&back);
    unlink(out);
    free(out);
    json_decref(doc);
    cfg_free(&cfg);
    unlink(conf);
    free(conf);
}

static void test_validation_names_every_problem(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *doc = json_loads(
        "{\"format\": \"evgate-config\", \"version\": 2, \"extra\": 1,"
        " \"settings\": {\"nope\": \"x\", \"admin_password\": \"x\", \"db\": \"/x\","
        "  \"mgmt_threads\": \"4\", \"page_size_max\": 0, \"site_name\": 5},"
        " \"piles\": [{\"equipment_id\": \"E1\", \"boot_status\": \"Accepted\","
        "   \"security_profile\": 1},"
        "  {\"equipment_id\": \"E1\", \"boot_status\": \"accepted\", \"security_profile\": 4,"
        "   \"colour\": \"red\"},"
        "  {\"equipment_id\": \"E 2\", \"boot_status\": \"Pending\", \"security_profile\": 1},"
        "  7]}",
        0, &jerr);
    assert_non_null(doc);
    json_t *p = problems_of(doc);
    const char *want[] = {"version:",
                          "extra: unknown field",
                          "settings.nope: unknown setting",
                          "settings.admin_password: a secret",
                          "settings.db:",
                          "settings.mgmt_threads: must be an integer",
                          "settings.page_size_max: must be an integer in 1..",
                          "settings.site_name: must be a string",
                          "piles[1].colour: unknown field",
                          "piles[1].equipment_id: \"E1\" listed twice",
                          "piles[1].boot_status:",
                          "piles[1].security_profile:",
                          "piles[2].equipment_id: must be",
                          "piles[3]: must be an object"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!has_problem(p, want[i]))
            print_error("missing problem %s\n", want[i]);
        assert_true(has_problem(p, want[i]));
    }
    assert_false(has_problem(p, "piles[0]"));
    assert_false(has_problem(p, "format:"));
    json_decref(p);
    json_decref(doc);

    /* bounded: past the cap one line says there are more */
    json_t *many = json_pack("{s:s, s:i, s:[]}", "format", "evgate-config", "version", 1, "piles");
    for (int i = 0; i < 300; i++)
        json_array_append_new(json_object_get(many, "piles"), json_integer(i));
    p = problems_of(many);
    assert_int_equal(json_array_size(p), CONFIG_DOC_MAX_PROBLEMS + 1);
    json_decref(p);
    json_decref(many);
}

static void test_sample_documents_every_setting_and_loads(void **state)
{
    (void)state;
    clear_env();
    char *path = strdup("/tmp/evgate-test-ctl-sample-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    json_t *set = json_pack("{s:s, s:s}", "db", "/var/lib/evgate/evgate.db", "mgmt_threads", "8");
    char err[256];
    assert_int_equal(config_sample(f, set, err, sizeof err), 0);
    fclose(f);
    json_decref(set);
    struct evg_config cfg;
    assert_int_equal(load(&cfg, path), 0);
    assert_string_equal(cfg.db, "/var/lib/evgate/evgate.db");
    assert_int_equal(cfg.mgmt_threads, 8);
    assert_string_equal(cfg.mgmt_listen, "127.0.0.1:8080"); /* commented out: the default */
    cfg_free(&cfg);
    /* every key is in it, commented or not */
    FILE *in = fopen(path, "r");
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, in);
    text[n] = 0;
    fclose(in);
    for (size_t i = 1; i < cfg_count(); i++) {
        char line[128];
        snprintf(line, sizeof line, "\n# %s = ", cfg_key(i));
        char active[128];
        snprintf(active, sizeof active, "\n%s = ", cfg_key(i));
        assert_true(strstr(text, line) || strstr(text, active));
    }
    unlink(path);
    free(path);

    set = json_pack("{s:s}", "mgmt_threads", "0");
    f = fopen("/dev/null", "w");
    assert_int_equal(config_sample(f, set, err, sizeof err), -1);
    assert_non_null(strstr(err, "mgmt_threads"));
    fclose(f);
    json_decref(set);
}

static int64_t count_rows(const char *path, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    int64_t n = -1;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static void exec_on(const char *path, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static void test_backup_verify_restore_and_check(void **state)
{
    struct db_fixture *fx = *state;
    struct db *db = fx->db;
    int64_t id;
    assert_int_equal(db_admin_create(db, "root_one", "hash", &id), DB_OK);
    char backup[256], restored[256], err[512];
    snprintf(backup, sizeof backup, "%s/backup.db", fx->dir);
    snprintf(restored, sizeof restored, "%s/sub/restored.db", fx->dir);

    /* the copy holds what was committed, not what a transaction open elsewhere holds */
    int64_t pages = 0;
    assert_int_equal(db_backup(db, backup, 1, &pages, err, sizeof err), DB_OK);
    assert_true(pages > 10);
    assert_int_equal(count_rows(backup, "SELECT count(*) FROM accounts WHERE username = "
                                        "'root_one'"),
                     1);
    assert_int_equal(access(backup, F_OK), 0);
    char partial[300];
    snprintf(partial, sizeof partial, "%s.partial", backup);
    assert_int_equal(access(partial, F_OK), -1);

    json_t *problems = json_array();
    int version = 0;
    assert_int_equal(db_verify_file(backup, &version, problems, err, sizeof err), DB_OK);
    assert_int_equal(version, db_latest_version());
    assert_int_equal(db_check(db, problems), DB_OK);
    assert_int_equal(json_array_size(problems), 0);

    /* restore into a new path (its directory made), then refused while someone has it open */
    assert_int_equal(db_restore(backup, restored, err, sizeof err), DB_OK);
    assert_int_equal(count_rows(restored, "SELECT count(*) FROM accounts"), 1);
    char e2[256];
    struct db *holder = db_open(restored, 1000, "NORMAL", e2, sizeof e2);
    assert_non_null(holder);
    assert_int_equal(db_schema_version(holder), db_latest_version()); /* read, as daemons do */
    assert_int_equal(db_restore(backup, restored, err, sizeof err), DB_BUSY);
    assert_non_null(strstr(err, "in use"));
    db_close(holder);
    int rrc = db_restore(backup, restored, err, sizeof err);
    if (rrc != DB_OK)
        print_error("restore: %s\n", err);
    assert_int_equal(rrc, DB_OK);

    /* a file with a dangling reference does not verify; nor does a newer schema or no DB */
    exec_on(backup, "INSERT INTO api_tokens (account_id, name, token_hash, prefix, created_at)"
                    " VALUES (4242, 'x', 'h', 'p', 0)");
    assert_int_equal(db_verify_file(backup, &version, problems, err, sizeof err), DB_CONFLICT);
    assert_true(json_array_size(problems) >= 1);
    assert_non_null(strstr(json_string_value(json_array_get(problems, 0)), "foreign_key_check"));
    json_array_clear(problems);
    exec_on(backup, "DELETE FROM api_tokens; PRAGMA user_version = 999");
    assert_int_equal(db_verify_file(backup, &version, problems, err, sizeof err), DB_CONFLICT);
    assert_non_null(strstr(err, "999"));
    char junk[256];
    snprintf(junk, sizeof junk, "%s/junk.db", fx->dir);
    FILE *f = fopen(junk, "w");
    fputs("this is not a database, it is a text file that is long enough to have a header\n", f);
    fclose(f);
    assert_int_equal(db_verify_file(junk, &version, problems, err, sizeof err), DB_CONFLICT);
    snprintf(junk, sizeof junk, "%s/missing.db", fx->dir);
    assert_int_equal(db_verify_file(junk, &version, problems, err, sizeof err), DB_ERROR);
    json_decref(problems);

    /* the fixture removes only its own database */
    static const char *const left[] = {"backup.db", "junk.db", "sub/restored.db",
                                       "sub/restored.db-wal", "sub/restored.db-shm"};
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
        snprintf(junk, sizeof junk, "%s/%s", fx->dir, left[i]);
        unlink(junk);
    }
    snprintf(junk, sizeof junk, "%s/sub", fx->dir);
    rmdir(junk);
}

static void test_accounts_and_tokens(void **state)
{
    struct db *db = db_fixture_db(state);
    int64_t id, other, tok;
    assert_int_equal(db_admin_create(db, "root_one", "h1", &id), DB_OK);
    assert_int_equal(db_admin_create(db, "root_one", "h2", &other), DB_CONFLICT);
    assert_int_equal(db_admin_create(db, "root_two", "h2", &other), DB_OK);

    /* a password reset ends the account's sessions, not the others' */
    assert_int_equal(db_session_create(db, "s1", id, "c1", db_now() + 100), DB_OK);
    assert_int_equal(db_session_create(db, "s2", other, "c2", db_now() + 100), DB_OK);
    assert_int_equal(db_account_set_password(db, id, "new"), DB_OK);
    int64_t acct;
    char csrf[65];
    assert_int_equal(db_session_lookup(db, "s1", db_now(), &acct, csrf), DB_NOTFOUND);
    assert_int_equal(db_session_lookup(db, "s2", db_now(), &acct, csrf), DB_OK);
    assert_int_equal(db_account_set_password(db, 9999, "new"), DB_NOTFOUND);

    assert_int_equal(db_token_create(db, id, "script", "th1", "evg_ab", &tok), DB_OK);
    assert_int_equal(db_token_create(db, other, "other", "th2", "evg_cd", &acct), DB_OK);
    json_t *all = db_token_list_all(db, 0), *mine = db_token_list_all(db, id);
    assert_int_equal(json_array_size(all), 2);
    assert_int_equal(json_array_size(mine), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mine, 0), "username")),
                        "root_one");
    assert_true(json_is_null(json_object_get(json_array_get(mine, 0), "last_used_at")));
    json_decref(all);
    json_decref(mine);
    char owner[40];
    assert_int_equal(db_token_revoke_any(db, tok, owner), DB_OK);
    assert_string_equal(owner, "root_one");
    assert_int_equal(db_token_lookup(db, "th1", &acct), DB_NOTFOUND);
    assert_int_equal(db_token_lookup(db, "th2", &acct), DB_OK);
    assert_int_equal(db_token_revoke_any(db, tok, owner), DB_NOTFOUND);
    all = db_token_list_all(db, 0);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_readable_from_outside),
        cmocka_unit_test(test_document_round_trips_through_a_config_file),
        cmocka_unit_test(test_validation_names_every_problem),
        cmocka_unit_test(test_sample_documents_every_setting_and_loads),
        cmocka_unit_test_setup_teardown(test_backup_verify_restore_and_check, db_fixture_setup,
                                        db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_accounts_and_tokens, db_fixture_setup,
                                        db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
