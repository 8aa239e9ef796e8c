/* The db/ unit tests' database fixture; see db_fixture.h. */
#include "db_fixture.h"
#include "db/db.h"
#include "db/db_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

int db_fixture_setup(void **state)
{
    struct db_fixture *f = calloc(1, sizeof *f);
    char err[256];
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/evgate-test-db-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/evgate.db", f->dir);
    f->db = db_open(f->path, 5000, "NORMAL", err, sizeof err);
    if (!f->db || db_migrate(f->db, -1, err, sizeof err) != DB_OK) {
        fprintf(stderr, "db fixture: %s\n", err);
        *state = f;
        db_fixture_teardown(state);
        return -1;
    }
    *state = f;
    return 0;
}

int db_fixture_teardown(void **state)
{
    struct db_fixture *f = *state;
    db_close(f->db);
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[192];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

struct db *db_fixture_db(void **state)
{
    return ((struct db_fixture *)*state)->db;
}

void db_fixture_exec(struct db *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        fail_msg("%s: %s", sql, copy);
    }
}

long long db_fixture_int(struct db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db->h));
    int rc = sqlite3_step(st);
    long long v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        fail_msg("%s: no row (%d)", sql, rc);
    return v;
}
