/* Audit log queries. */
#include "db/audit.h"
#include "db/db_internal.h"

#include <stdlib.h>

int db_audit_add(struct db *db, int64_t actor_account_id, const char *action,
                 const char *object_type, int64_t object_id, const char *detail_json)
{
    static const char sql[] = "INSERT INTO audit_log (at, actor_account_id, action, object_type,"
                              " object_id, detail) VALUES (?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, db_now());
    if (actor_account_id > 0)
        sqlite3_bind_int64(st, 2, actor_account_id);
    else
        sqlite3_bind_null(st, 2);
    db_bind_text(st, 3, action);
    db_bind_text(st, 4, object_type);
    sqlite3_bind_int64(st, 5, object_id);
    db_bind_text(st, 6, detail_json);
    int rc = db_rc_from(db, sqlite3_step(st), "audit_add");
    sqlite3_reset(st);
    return rc;
}

int db_audit_add_json(struct db *db, int64_t actor_account_id, const char *action,
                      const char *object_type, int64_t object_id, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    int rc = db_audit_add(db, actor_account_id, action, object_type, object_id, text);
    free(text);
    return rc;
}

json_t *db_audit_for_object(struct db *db, const char *object_type, int64_t object_id)
{
    static const char sql[] =
        "SELECT l.at, l.actor_account_id, a.username, l.action, l.detail FROM audit_log l"
        " LEFT JOIN accounts a ON a.id = l.actor_account_id"
        " WHERE l.object_type = ? AND l.object_id = ? ORDER BY l.id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, object_type);
    sqlite3_bind_int64(st, 2, object_id);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 4);
        json_t *d = detail ? json_loads(detail, 0, NULL) : NULL;
        json_t *row =
            json_pack("{s:I, s:I, s:s?, s:s, s:o}", "at", (json_int_t)sqlite3_column_int64(st, 0),
                      "actor_id", (json_int_t)sqlite3_column_int64(st, 1), "actor",
                      (const char *)sqlite3_column_text(st, 2), "action",
                      (const char *)sqlite3_column_text(st, 3), "detail", d ? d : json_null());
        json_array_append_new(arr, row);
    }
    sqlite3_reset(st);
    if (db_rc_from(db, rc, "audit_for_object") != DB_OK) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

int db_audit_count(struct db *db, const char *action, int64_t *count)
{
    static const char sql[] = "SELECT count(*) FROM audit_log WHERE ?1 IS NULL OR action = ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, action);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "audit_count");
}
