/* File metadata queries. */
#include "db/files.h"
#include "db/db_internal.h"

#include <string.h>

int db_file_add(struct db *db, const struct db_file *f, int64_t *id)
{
    static const char sql[] = "INSERT INTO files (owner_account_id, purpose, original_name,"
                              " stored_name, mime, size, sha256, created_at)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    if (f->owner_account_id > 0)
        sqlite3_bind_int64(st, 1, f->owner_account_id);
    else
        sqlite3_bind_null(st, 1);
    db_bind_text(st, 2, f->purpose);
    db_bind_text(st, 3, f->original_name);
    db_bind_text(st, 4, f->stored_name);
    db_bind_text(st, 5, f->mime);
    sqlite3_bind_int64(st, 6, f->size);
    db_bind_text(st, 7, f->sha256);
    sqlite3_bind_int64(st, 8, db_now());
    int rc = db_rc_from(db, sqlite3_step(st), "file_add");
    sqlite3_reset(st);
    if (rc == DB_OK)
        *id = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_file_get(struct db *db, int64_t id, struct db_file *out)
{
    static const char sql[] = "SELECT id, coalesce(owner_account_id, 0), purpose, original_name,"
                              " stored_name, mime, size, sha256 FROM files WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->owner_account_id = sqlite3_column_int64(st, 1);
        db_col_copy(st, 2, out->purpose, sizeof out->purpose);
        db_col_copy(st, 3, out->original_name, sizeof out->original_name);
        db_col_copy(st, 4, out->stored_name, sizeof out->stored_name);
        db_col_copy(st, 5, out->mime, sizeof out->mime);
        out->size = sqlite3_column_int64(st, 6);
        db_col_copy(st, 7, out->sha256, sizeof out->sha256);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "file_get");
}

int db_file_set_owner(struct db *db, int64_t id, int64_t owner_account_id)
{
    static const char sql[] = "UPDATE files SET owner_account_id = ? WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, owner_account_id);
    sqlite3_bind_int64(st, 2, id);
    int rc = db_rc_from(db, sqlite3_step(st), "file_set_owner");
    sqlite3_reset(st);
    return rc;
}

int db_file_delete(struct db *db, int64_t id)
{
    static const char sql[] = "DELETE FROM files WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = db_rc_from(db, sqlite3_step(st), "file_delete");
    sqlite3_reset(st);
    return rc;
}
