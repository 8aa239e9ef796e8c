/* Accounts, tokens and pile settings as evgatectl changes them (db/maint.h). */
#include "db/maint.h"
#include "db/audit.h"
#include "db/db_internal.h"

#include <string.h>

int db_admin_create(struct db *db, const char *username, const char *password_hash, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO accounts (username, password_hash, role, status, created_at, updated_at)"
        " VALUES (?, ?, 'admin', 'active', ?, ?)";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    int64_t now = db_now();
    db_bind_text(st, 1, username);
    db_bind_text(st, 2, password_hash);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now);
    if ((rc = db_step_done(db, st, "admin_create")) != DB_OK)
        goto out;
    *id = sqlite3_last_insert_rowid(db->h);
    rc = db_audit_add(db, 0, "admin_created", "account", *id, "{\"by\":\"evgatectl\"}");
out:
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    return rc;
}

int db_account_set_password(struct db *db, int64_t id, const char *password_hash)
{
    static const char sql[] = "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?";
    static const char kill_sessions[] = "DELETE FROM sessions WHERE account_id = ?";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    db_bind_text(st, 1, password_hash);
    sqlite3_bind_int64(st, 2, db_now());
    sqlite3_bind_int64(st, 3, id);
    if ((rc = db_step_done(db, st, "account_set_password")) != DB_OK)
        goto out;
    if (sqlite3_changes(db->h) == 0) {
        rc = DB_NOTFOUND;
        goto out;
    }
    if (!(st = db_stmt(db, kill_sessions))) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    if ((rc = db_step_done(db, st, "account_end_sessions")) != DB_OK)
        goto out;
    rc = db_audit_add(db, 0, "password_reset", "account", id, "{\"by\":\"evgatectl\"}");
out:
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    return rc;
}

json_t *db_token_list_all(struct db *db, int64_t account_id)
{
    static const char sql[] =
        "SELECT t.id, a.username, t.name, t.prefix, t.created_at, t.last_used_at"
        " FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
        " WHERE t.revoked_at IS NULL AND (?1 = 0 OR t.account_id = ?1) ORDER BY t.id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, account_id);
    json_t *arr = json_array();
    int rc;
    while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_pack(
            "{s:I, s:o, s:o, s:o, s:I, s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
            "username", db_col_json_str(st, 1), "name", db_col_json_str(st, 2), "prefix",
            db_col_json_str(st, 3), "created_at", (json_int_t)sqlite3_column_int64(st, 4),
            "last_used_at", db_col_json_int(st, 5));
        if (!o || json_array_append_new(arr, o) < 0) {
            sqlite3_reset(st);
            json_decref(arr);
            return NULL;
        }
    }
    sqlite3_reset(st);
    if (!arr || db_rc_from(db, rc, "token_list_all") != DB_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int db_token_revoke_any(struct db *db, int64_t id, char owner[40])
{
    static const char who[] = "SELECT a.username FROM api_tokens t JOIN accounts a"
                              " ON a.id = t.account_id WHERE t.id = ? AND t.revoked_at IS NULL";
    static const char sql[] =
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, who);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && owner)
        db_col_copy(st, 0, owner, 40);
    sqlite3_reset(st);
    if (step == SQLITE_DONE) {
        rc = DB_NOTFOUND;
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = db_rc_from(db, step, "token_owner");
        goto out;
    }
    if (!(st = db_stmt(db, sql))) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, db_now());
    sqlite3_bind_int64(st, 2, id);
    if ((rc = db_step_done(db, st, "token_revoke_any")) != DB_OK)
        goto out;
    rc = db_audit_add(db, 0, "token_revoked", "api_token", id, "{\"by\":\"evgatectl\"}");
out:
    if (rc == DB_OK)
        rc = db_commit(db);
    else
        db_rollback(db);
    return rc;
}

json_t *db_pile_settings_all(struct db *db)
{
    static const char sql[] = "SELECT equipment_id, boot_status, security_profile FROM piles"
                              " ORDER BY equipment_id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    json_t *arr = json_array();
    int rc;
    while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_pack("{s:o, s:o, s:I}", "equipment_id", db_col_json_str(st, 0),
                              "boot_status", db_col_json_str(st, 1), "security_profile",
                              (json_int_t)sqlite3_column_int64(st, 2));
        if (!o || json_array_append_new(arr, o) < 0) {
            sqlite3_reset(st);
            json_decref(arr);
            return NULL;
        }
    }
    sqlite3_reset(st);
    if (!arr || db_rc_from(db, rc, "pile_settings_all") != DB_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int db_pile_row(struct db *db, const char *equipment_id, int64_t *row)
{
    static const char sql[] = "SELECT id FROM piles WHERE equipment_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    return db_step_int64(db, st, row, "pile_row");
}
