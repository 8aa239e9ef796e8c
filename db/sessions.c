/* Session, token and login-throttle queries. */
#include "db/sessions.h"
#include "db/db_internal.h"

int db_session_create(struct db *db, const char *token_hash, int64_t account_id,
                      const char *csrf_token, int64_t expires_at)
{
    static const char sql[] = "INSERT INTO sessions (token_hash, account_id, csrf_token,"
                              " created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, token_hash);
    sqlite3_bind_int64(st, 2, account_id);
    db_bind_text(st, 3, csrf_token);
    sqlite3_bind_int64(st, 4, db_now());
    sqlite3_bind_int64(st, 5, expires_at);
    return db_step_done(db, st, "session_create");
}

int db_session_lookup(struct db *db, const char *token_hash, int64_t now, int64_t *account_id,
                      char csrf[65])
{
    static const char sql[] =
        "SELECT account_id, csrf_token FROM sessions WHERE token_hash = ? AND expires_at > ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, token_hash);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *account_id = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, csrf, 65);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "session_lookup");
}

int db_session_delete(struct db *db, const char *token_hash)
{
    static const char sql[] = "DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, token_hash);
    sqlite3_bind_int64(st, 2, db_now());
    return db_step_done(db, st, "session_delete");
}

int db_token_create(struct db *db, int64_t account_id, const char *name, const char *token_hash,
                    const char *prefix, int64_t *id)
{
    static const char sql[] = "INSERT INTO api_tokens (account_id, name, token_hash, prefix,"
                              " created_at) VALUES (?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, token_hash);
    db_bind_text(st, 4, prefix);
    sqlite3_bind_int64(st, 5, db_now());
    int rc = db_step_done(db, st, "token_create");
    if (rc == DB_OK)
        *id = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_token_lookup(struct db *db, const char *token_hash, int64_t *account_id)
{
    /* The use is written at most every DB_TOKEN_USE_EVERY_S: written on every request, it made
     * each API call a write transaction, and a script's calls queued on SQLite's one writer
     * (and grew the WAL by a page a call). */
    static const char sel[] = "SELECT account_id, coalesce(last_used_at, 0) FROM api_tokens"
                              " WHERE token_hash = ? AND revoked_at IS NULL";
    static const char upd[] = "UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?";
    sqlite3_stmt *st = db_stmt(db, sel);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, token_hash);
    int rc = sqlite3_step(st);
    int64_t last = 0;
    if (rc == SQLITE_ROW) {
        *account_id = sqlite3_column_int64(st, 0);
        last = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "token_lookup");
    int64_t now = db_now();
    if (last > now - DB_TOKEN_USE_EVERY_S && last <= now)
        return DB_OK;
    if (!(st = db_stmt(db, upd)))
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, now);
    db_bind_text(st, 2, token_hash);
    db_step_done(db, st, "token_used"); /* a use not recorded (logged) still authenticates */
    return DB_OK;
}

json_t *db_token_list(struct db *db, int64_t account_id)
{
    static const char sql[] = "SELECT id, name, prefix, created_at, last_used_at FROM api_tokens"
                              " WHERE account_id = ? AND revoked_at IS NULL ORDER BY id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, account_id);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *last = sqlite3_column_type(st, 4) == SQLITE_NULL
                           ? json_null()
                           : json_integer((json_int_t)sqlite3_column_int64(st, 4));
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:o}", "id",
                                             (json_int_t)sqlite3_column_int64(st, 0), "name",
                                             (const char *)sqlite3_column_text(st, 1), "prefix",
                                             (const char *)sqlite3_column_text(st, 2), "created_at",
                                             (json_int_t)sqlite3_column_int64(st, 3),
                                             "last_used_at", last));
    }
    sqlite3_reset(st);
    if (db_rc_from(db, rc, "token_list") != DB_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int db_token_revoke(struct db *db, int64_t account_id, int64_t id)
{
    static const char sql[] = "UPDATE api_tokens SET revoked_at = ? WHERE id = ?"
                              " AND account_id = ? AND revoked_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, db_now());
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, account_id);
    int rc = db_step_done(db, st, "token_revoke");
    if (rc == DB_OK && sqlite3_changes(db->h) == 0)
        return DB_NOTFOUND;
    return rc;
}

int db_login_locked(struct db *db, const char *key, int64_t now, int64_t *locked_until)
{
    static const char sql[] = "SELECT locked_until FROM login_failures WHERE key = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, key);
    *locked_until = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t until = sqlite3_column_int64(st, 0);
        *locked_until = until > now ? until : 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "login_locked");
}

int db_login_failed(struct db *db, const char *key, int64_t now, int64_t max_failures,
                    int64_t lock_s)
{
    /* One statement: count the failure, and when it reaches the limit lock and restart. */
    static const char sql[] =
        "INSERT INTO login_failures (key, failures, locked_until, last_at) VALUES (?1, 1,"
        " CASE WHEN ?3 <= 1 THEN ?2 + ?4 ELSE 0 END, ?2)"
        " ON CONFLICT (key) DO UPDATE SET"
        " locked_until = CASE WHEN failures + 1 >= ?3 THEN ?2 + ?4 ELSE locked_until END,"
        " failures = CASE WHEN failures + 1 >= ?3 THEN 0 ELSE failures + 1 END, last_at = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, max_failures);
    sqlite3_bind_int64(st, 4, lock_s);
    return db_step_done(db, st, "login_failed");
}

int db_login_succeeded(struct db *db, const char *key)
{
    static const char sql[] = "DELETE FROM login_failures WHERE key = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, key);
    return db_step_done(db, st, "login_succeeded");
}
