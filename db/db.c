/* Connection setup (WAL, busy timeout), the statement cache and forward-only migrations. */
#include "db/db_internal.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int64_t db_now(void)
{
    return (int64_t)time(NULL);
}

/* SQLITE_FULL, or an I/O error that was the disk running out of space (ENOSPC): both mean
 * nothing was written and that writing may work again once space returns. */
static bool is_full(struct db *db, int rc)
{
    if ((rc & 0xff) == SQLITE_FULL)
        return true;
    return (rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(db->h) == ENOSPC;
}

static int exec_simple(struct db *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        if (is_full(db, rc)) {
            db->full = true;
            return DB_FULL;
        }
        return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? DB_BUSY : DB_ERROR;
    }
    return DB_OK;
}

bool db_take_full(struct db *db)
{
    bool full = db && db->full;
    if (db)
        db->full = false;
    return full;
}

/* SQLite's memory statistics (sqlite3_memory_used, which nothing here reads) take a global
 * mutex around every allocation and free: about 20 lock and unlock pairs a statement, 3 % of
 * the gateway's instructions under load. Off before the library starts; a process that started it
 * already (a caller's own sqlite3_open) keeps them, which only costs time. */
static void sqlite_global_config(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct db *db_open(const char *path, int busy_ms, const char *synchronous, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_global_config);
    if (strcmp(synchronous, "NORMAL") != 0 && strcmp(synchronous, "FULL") != 0) {
        snprintf(err, errlen, "sqlite_synchronous must be NORMAL or FULL, got \"%s\"", synchronous);
        return NULL;
    }
    if (fs_mkdir_parent(path, 0750) < 0) {
        snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(errno));
        return NULL;
    }
    struct db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = sqlite3_open_v2(
        path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(db->h, busy_ms);
    sqlite3_extended_result_codes(db->h, 1);
    /* While another process turns a fresh file into WAL, SQLite can answer BUSY without
     * calling the busy handler (to avoid deadlock), so this one step retries by itself,
     * bounded by the busy timeout. */
    for (int waited_ms = 0;; waited_ms += 10) {
        rc = exec_simple(db, "PRAGMA journal_mode=WAL", err, errlen);
        if (rc != DB_BUSY || waited_ms >= busy_ms)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc != DB_OK)
        goto fail;
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;",
             synchronous);
    if (exec_simple(db, pragmas, err, errlen) != DB_OK)
        goto fail;
    return db;
fail:
    db_close(db);
    return NULL;
}

int db_tune(struct db *db, int64_t cache_kib, int64_t mmap_bytes)
{
    char sql[128], err[256];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%lld; PRAGMA mmap_size=%lld;",
             (long long)cache_kib, (long long)mmap_bytes);
    int rc = exec_simple(db, sql, err, sizeof err);
    if (rc != DB_OK)
        log_warn("db", "tune_failed", "error=%s", log_q(err));
    return rc == DB_OK ? DB_OK : DB_ERROR;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (int i = 0; i < DB_STMT_CACHE; i++)
        if (db->cache[i].stmt)
            sqlite3_finalize(db->cache[i].stmt);
    sqlite3_close(db->h);
    free(db);
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
    int free_slot = -1;
    for (int i = 0; i < DB_STMT_CACHE; i++) {
        if (db->cache[i].sql == sql) {
            sqlite3_stmt *st = db->cache[i].stmt;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
        if (!db->cache[i].sql && free_slot < 0)
            free_slot = i;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql, -1, free_slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &st,
                                NULL);
    if (rc != SQLITE_OK) {
        log_error("db", "prepare_failed", "error=%s", log_q(sqlite3_errmsg(db->h)));
        return NULL;
    }
    if (free_slot < 0) {
        /* Cache full: should not happen (DB_STMT_CACHE covers every query of one daemon);
         * evict slot 0 rather than leak. */
        sqlite3_finalize(db->cache[0].stmt);
        free_slot = 0;
    }
    db->cache[free_slot].sql = sql;
    db->cache[free_slot].stmt = st;
    return st;
}

int db_rc_from(struct db *db, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return DB_OK;
    case SQLITE_CONSTRAINT:
        return DB_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        log_warn("db", "busy", "query=%s", log_q(what));
        return DB_BUSY;
    default:
        if (is_full(db, rc)) {
            db->full = true;
            log_error("db", "disk_full", "query=%s error=%s", log_q(what),
                      log_q(sqlite3_errmsg(db->h)));
            return DB_FULL;
        }
        log_error("db", "query_failed", "query=%s error=%s", log_q(what),
                  log_q(sqlite3_errmsg(db->h)));
        return DB_ERROR;
    }
}

int db_step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc = db_rc_from(db, sqlite3_step(st), what);
    sqlite3_reset(st);
    return rc;
}

int db_step_int64(struct db *db, sqlite3_stmt *st, int64_t *out, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, what);
}

void db_bind_id(sqlite3_stmt *st, int idx, int64_t id)
{
    if (id > 0)
        sqlite3_bind_int64(st, idx, id);
    else
        sqlite3_bind_null(st, idx);
}

json_t *db_col_json_str(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? json_stringn((const char *)t, (size_t)sqlite3_column_bytes(st, col)) : json_null();
}

json_t *db_col_json_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? json_null()
               : json_integer((json_int_t)sqlite3_column_int64(st, col));
}

void db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

void db_bind_text_static(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

char *db_col_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

void db_col_copy(sqlite3_stmt *st, int col, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
}

int db_begin(struct db *db)
{
    char err[256];
    return exec_simple(db, "BEGIN IMMEDIATE", err, sizeof err);
}

int db_commit(struct db *db)
{
    char err[256];
    int rc = exec_simple(db, "COMMIT", err, sizeof err);
    if (rc != DB_OK)
        log_error("db", rc == DB_FULL ? "disk_full" : "commit_failed", "error=%s", log_q(err));
    return rc;
}

void db_rollback(struct db *db)
{
    char err[256];
    if (!sqlite3_get_autocommit(db->h))
        exec_simple(db, "ROLLBACK", err, sizeof err);
}

static int read_user_version(struct db *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_schema_version(struct db *db)
{
    return read_user_version(db);
}

int db_latest_version(void)
{
    return db_migrations[db_migrations_count - 1].version;
}

int db_migrate(struct db *db, int target, char *err, size_t errlen)
{
    if (target < 0)
        target = db_latest_version();
    /* EXCLUSIVE (not IMMEDIATE) so a second daemon waits on the busy timeout, then re-reads
     * the version and finds nothing left to do. */
    int rc = exec_simple(db, "BEGIN EXCLUSIVE", err, errlen);
    if (rc != DB_OK)
        return rc;
    int have = read_user_version(db);
    if (have < 0) {
        snprintf(err, errlen, "cannot read the schema version");
        goto fail;
    }
    if (have > db_latest_version()) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this build knows (%d): "
                 "upgrade evgate",
                 have, db_latest_version());
        goto fail;
    }
    for (int i = 0; i < db_migrations_count; i++) {
        const struct db_migration *m = &db_migrations[i];
        if (m->version <= have || m->version > target)
            continue;
        char sub[256];
        if (exec_simple(db, m->sql, sub, sizeof sub) != DB_OK) {
            snprintf(err, errlen, "migration %03d_%s failed: %s", m->version, m->name, sub);
            goto fail;
        }
        char set[64];
        snprintf(set, sizeof set, "PRAGMA user_version=%d", m->version);
        if (exec_simple(db, set, sub, sizeof sub) != DB_OK) {
            snprintf(err, errlen, "cannot record schema version %d: %s", m->version, sub);
            goto fail;
        }
        log_info("db", "migrated", "version=%d name=%s", m->version, log_q(m->name));
    }
    return exec_simple(db, "COMMIT", err, errlen);
fail:
    db_rollback(db);
    return DB_ERROR;
}

int db_integrity_check(struct db *db)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db->h, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        ok = t && strcmp((const char *)t, "ok") == 0;
    }
    sqlite3_finalize(st);
    return ok ? DB_OK : DB_ERROR;
}

int db_changed_or_why(struct db *db, int rc, const char *exists_sql, int64_t id)
{
    if (rc != DB_OK || sqlite3_changes(db->h) > 0)
        return rc;
    sqlite3_stmt *st = db_stmt(db, exists_sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step == SQLITE_ROW)
        return DB_CONFLICT;
    return step == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, step, "exists");
}
