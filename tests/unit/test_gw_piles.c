/* Unit tests of gateway/piles.c's admission rules: when an open OCPP connection outlives its
 * pile's entry (password re-issued, profile raised, no longer accessed, deleted), and that a
 * reload of the table names exactly the piles whose admission changed. */
#include "gateway/piles.h"
#include "db/db.h"
#include "db_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

static struct gw_pile pile(const char *id, int profile, unsigned char hash0)
{
    struct gw_pile p;
    memset(&p, 0, sizeof p);
    snprintf(p.equipment_id, sizeof p.equipment_id, "%s", id);
    snprintf(p.protocol, sizeof p.protocol, "ocpp1.6");
    p.accessed = true;
    p.has_password = true;
    snprintf(p.salt, sizeof p.salt, "salt");
    memset(p.hash, 0xab, sizeof p.hash);
    p.hash[0] = hash0;
    p.security_profile = profile;
    return p;
}

/* Profile 1 over ws://: the password and the status count; the rest of the entry does not. */
static void test_password_and_status(void **state)
{
    (void)state;
    struct gw_pile p = pile("P1", 1, 1);
    struct gw_pile_admission a;
    gw_pile_admission_init(&a, &p, false, false);
    assert_null(gw_pile_admission_check(&a, &p));

    struct gw_pile same = p; /* another boot status, another protocol: still admitted */
    snprintf(same.boot_status, sizeof same.boot_status, "Pending");
    snprintf(same.protocol, sizeof same.protocol, "ocpp2.0.1");
    assert_null(gw_pile_admission_check(&a, &same));

    struct gw_pile reissued = pile("P1", 1, 2);
    assert_string_equal(gw_pile_admission_check(&a, &reissued), "credentials_changed");
    /* a fingerprint is 8 bytes: a change past them is another salt, which changes them too, but
     * one in the first 8 must count */
    reissued = p;
    reissued.hash[7] ^= 1;
    assert_string_equal(gw_pile_admission_check(&a, &reissued), "credentials_changed");
    struct gw_pile none = p;
    none.has_password = false;
    assert_string_equal(gw_pile_admission_check(&a, &none), "credentials_changed");

    struct gw_pile draft = p;
    draft.accessed = false;
    assert_string_equal(gw_pile_admission_check(&a, &draft), "not_accessed");
    assert_string_equal(gw_pile_admission_check(&a, NULL), "not_accessed");
    /* not accessed wins over a password change */
    reissued = pile("P1", 1, 2);
    reissued.accessed = false;
    assert_string_equal(gw_pile_admission_check(&a, &reissued), "not_accessed");
}

/* Raising the profile closes a connection whose transport falls short; lowering it does not. */
static void test_profiles(void **state)
{
    (void)state;
    struct gw_pile p1 = pile("P", 1, 1), p2 = pile("P", 2, 1), p3 = pile("P", 3, 1);
    struct gw_pile_admission plain, tls, cert;
    gw_pile_admission_init(&plain, &p1, false, false);
    gw_pile_admission_init(&tls, &p1, true, false);
    gw_pile_admission_init(&cert, &p3, true, true);

    assert_string_equal(gw_pile_admission_check(&plain, &p2), "profile_changed");
    assert_string_equal(gw_pile_admission_check(&plain, &p3), "profile_changed");
    assert_null(gw_pile_admission_check(&tls, &p2));
    assert_string_equal(gw_pile_admission_check(&tls, &p3), "profile_changed");
    /* a profile 1 pile that came with a valid certificate of its own meets profile 3 */
    struct gw_pile_admission tls_cert;
    gw_pile_admission_init(&tls_cert, &p1, true, true);
    assert_null(gw_pile_admission_check(&tls_cert, &p3));
    /* ... and a profile out of range is 3 */
    struct gw_pile p9 = pile("P", 9, 1);
    assert_int_equal(gw_pile_profile(&p9), 3);
    assert_string_equal(gw_pile_admission_check(&tls, &p9), "profile_changed");

    /* a certificate connection does not depend on the password, at any profile */
    assert_false(cert.by_password);
    struct gw_pile p3new = pile("P", 3, 7), p2new = pile("P", 2, 7), p1new = pile("P", 1, 7);
    assert_null(gw_pile_admission_check(&cert, &p3new));
    assert_null(gw_pile_admission_check(&cert, &p2new));
    assert_null(gw_pile_admission_check(&cert, &p1new));
    /* a client certificate counts only over TLS */
    struct gw_pile_admission odd;
    gw_pile_admission_init(&odd, &p3, false, true);
    assert_false(odd.client_cert);
}

/* --- the table: a reload names the changed piles only ------------------------------------- */

static void exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static void insert(const char *path, const char *id, const char *status, const char *hash)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "PRAGMA foreign_keys=OFF; INSERT INTO piles (account_id, equipment_id, station_row, "
             "status, equipment_type, protocol, data, password_salt, password_hash, created_at, "
             "updated_at) VALUES (1, '%s', 1, '%s', 1, 'ocpp1.6', '{}', 'salt', '%s', 0, 0)",
             id, status, hash);
    exec(path, sql);
}

static struct gw_piles_stats stats(struct gw_piles *t)
{
    struct gw_piles_stats st;
    gw_piles_stats(t, &st);
    return st;
}

/* Checks (asked for, at most a second apart) until checks_total passes `checks` + 1: a check
 * that was already running when `checks` was read may predate the caller's writes. */
static void wait_check(struct gw_piles *t, uint64_t checks)
{
    for (int i = 0; i < 500; i++) {
        if (stats(t).checks_total > checks + 1)
            return;
        gw_piles_refresh_soon(t);
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    fail_msg("the table was not checked");
}

static int has(const struct gw_pile_changes *ch, const char *id)
{
    for (size_t i = 0; i < ch->n; i++)
        if (strcmp(ch->ids[i], id) == 0)
            return 1;
    return 0;
}

static void test_changes(void **state)
{
    struct db_fixture *f = *state;
    static const char h1[] = "0101010101010101010101010101010101010101010101010101010101010101",
                      h2[] = "0202020202020202020202020202020202020202020202020202020202020202";
    insert(f->path, "KEEP", "accessed", h1);
    insert(f->path, "REISSUE", "accessed", h1);
    insert(f->path, "RAISE", "accessed", h1);
    insert(f->path, "SUSPEND", "accessed", h1);
    insert(f->path, "GONE", "accessed", h1);
    insert(f->path, "BOOT", "accessed", h1);

    char err[256];
    struct gw_piles *t = gw_piles_start(f->path, 5000, "NORMAL", 60000, err, sizeof err);
    assert_non_null(t);
    struct gw_pile_changes ch;
    gw_piles_take_changes(t, &ch);
    assert_int_equal(ch.n, 0);
    assert_false(ch.all);

    /* an unchanged table is checked, not loaded again, and names nothing */
    struct gw_piles_stats st = stats(t);
    assert_int_equal(st.loads_total, 1);
    wait_check(t, st.checks_total);
    assert_int_equal(stats(t).loads_total, 1);
    gw_piles_take_changes(t, &ch);
    assert_int_equal(ch.n, 0);
    free(ch.ids);

    /* a pile inserted, nothing else: loaded (inserts move the largest id, not the generation) */
    struct gw_pile p;
    assert_int_equal(gw_piles_lookup(t, "FIRST", &p), -1);
    insert(f->path, "FIRST", "accessed", h1);
    wait_check(t, stats(t).checks_total);
    assert_int_equal(stats(t).loads_total, 2);
    assert_int_equal(gw_piles_lookup(t, "FIRST", &p), 0);

    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE piles SET password_hash = '%s' WHERE equipment_id = 'REISSUE';"
             "UPDATE piles SET security_profile = 2 WHERE equipment_id = 'RAISE';"
             "UPDATE piles SET status = 'rejected' WHERE equipment_id = 'SUSPEND';"
             "DELETE FROM piles WHERE equipment_id = 'GONE';"
             "UPDATE piles SET boot_status = 'Pending' WHERE equipment_id = 'BOOT';",
             h2);
    exec(f->path, sql);
    insert(f->path, "NEW", "accessed", h1);
    wait_check(t, stats(t).checks_total);
    assert_true(stats(t).loads_total > 1);
    gw_piles_take_changes(t, &ch);
    assert_false(ch.all);
    assert_int_equal(ch.n, 4);
    assert_true(has(&ch, "REISSUE") && has(&ch, "RAISE") && has(&ch, "SUSPEND") &&
                has(&ch, "GONE"));
    free(ch.ids);
    /* taken: the next call has nothing */
    gw_piles_take_changes(t, &ch);
    assert_int_equal(ch.n, 0);

    /* the new entries are what a lookup sees */
    assert_int_equal(gw_piles_lookup(t, "RAISE", &p), 0);
    assert_int_equal(p.security_profile, 2);
    assert_int_equal(gw_piles_lookup(t, "GONE", &p), -1);
    gw_piles_stop(t);
}

/* More changes than GW_PILES_CHANGES_MAX between two takes: "check everything". */
static void test_mass_change(void **state)
{
    struct db_fixture *f = *state;
    exec(f->path, "PRAGMA foreign_keys=OFF;"
                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
                  "INSERT INTO piles (account_id, equipment_id, station_row, status, "
                  "equipment_type, protocol, data, created_at, updated_at) "
                  "SELECT 1, 'M' || i, 1, 'accessed', 1, 'ocpp1.6', '{}', 0, 0 FROM n");
    char err[256];
    struct gw_piles *t = gw_piles_start(f->path, 5000, "NORMAL", 60000, err, sizeof err);
    assert_non_null(t);
    exec(f->path, "UPDATE piles SET security_profile = 2");
    wait_check(t, stats(t).checks_total);
    struct gw_pile_changes ch;
    gw_piles_take_changes(t, &ch);
    assert_true(ch.all);
    assert_int_equal(ch.n, 0);
    assert_null(ch.ids);
    gw_piles_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_and_status),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test_setup_teardown(test_changes, db_fixture_setup, db_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_mass_change, db_fixture_setup, db_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
