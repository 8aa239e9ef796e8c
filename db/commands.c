/* Remote operations shared by mgmt and the gateway; see commands.h. */
#include "db/commands.h"
#include "db/db_internal.h"

#include <string.h>

#define COLUMNS                                                                                    \
    "id, equipment_id, account_id, action, payload, state, unique_id, response, error, detail,"    \
    " created_at, sent_at, finished_at"

/* A JSON text column parsed, or JSON null (NULL or unparsable: never stored by us). */
static json_t *col_json(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *command_from_row(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "equipment_id",
                     db_col_json_str(st, 1), "account_id", (json_int_t)sqlite3_column_int64(st, 2),
                     "action", db_col_json_str(st, 3), "payload", col_json(st, 4), "state",
                     db_col_json_str(st, 5), "unique_id", db_col_json_str(st, 6), "response",
                     col_json(st, 7), "error", db_col_json_str(st, 8), "detail",
                     db_col_json_str(st, 9), "created_at", db_col_json_int(st, 10), "sent_at",
                     db_col_json_int(st, 11), "finished_at", db_col_json_int(st, 12));
}

int db_command_add(struct db *db, const char *equipment_id, int64_t account_id, const char *action,
                   const char *payload, int64_t at, int64_t *id)
{
    static const char sql[] = "INSERT INTO pile_commands (equipment_id, account_id, action,"
                              " payload, state, created_at) VALUES (?, ?, ?, ?, 'queued', ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, account_id);
    db_bind_text(st, 3, action);
    db_bind_text(st, 4, payload);
    sqlite3_bind_int64(st, 5, at);
    int rc = db_step_done(db, st, "command_add");
    if (rc == DB_OK && id)
        *id = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_command_get(struct db *db, int64_t id, json_t **out)
{
    static const char sql[] = "SELECT " COLUMNS " FROM pile_commands WHERE id = ?";
    *out = NULL;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = command_from_row(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "command_get");
    return *out ? DB_OK : DB_ERROR;
}

int db_commands_list(struct db *db, const char *equipment_id, int64_t limit, int64_t offset,
                     json_t **items, int64_t *total)
{
    static const char count_sql[] = "SELECT count(*) FROM pile_commands WHERE equipment_id = ?";
    static const char sql[] = "SELECT " COLUMNS " FROM pile_commands WHERE equipment_id = ?"
                              " ORDER BY id DESC LIMIT ? OFFSET ?";
    *items = NULL;
    sqlite3_stmt *st = db_stmt(db, count_sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return db_rc_from(db, rc, "commands_count");
    }
    *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (!(st = db_stmt(db, sql)))
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, command_from_row(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_rc_from(db, rc, "commands_list");
    }
    *items = arr;
    return DB_OK;
}

int db_commands_queued(struct db *db, int64_t after_id, int64_t limit, db_command_fn fn, void *arg)
{
    static const char sql[] = "SELECT id, equipment_id, action, payload FROM pile_commands"
                              " WHERE state = 'queued' AND id > ? ORDER BY id LIMIT ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *eid = (const char *)sqlite3_column_text(st, 1);
        const char *action = (const char *)sqlite3_column_text(st, 2);
        const char *payload = (const char *)sqlite3_column_text(st, 3);
        if (!eid || !action || !payload)
            continue; /* NOT NULL columns: never */
        int stop = fn(arg, sqlite3_column_int64(st, 0), eid, action, payload);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "commands_queued");
}

int db_commands_max_id(struct db *db, int64_t *id)
{
    static const char sql[] = "SELECT coalesce(max(id), 0) FROM pile_commands";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "commands_max_id");
}

static const char exists_sql[] = "SELECT 1 FROM pile_commands WHERE id = ?";

int db_command_sent(struct db *db, int64_t id, const char *unique_id, int64_t at)
{
    static const char sql[] = "UPDATE pile_commands SET state = 'sent', unique_id = ?, sent_at = ?"
                              " WHERE id = ? AND state = 'queued'";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, unique_id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, id);
    return db_changed_or_why(db, db_step_done(db, st, "command_sent"), exists_sql, id);
}

int db_command_finish(struct db *db, int64_t id, const char *state, const char *response,
                      const char *error, const char *detail, int64_t at, int from_sent_only)
{
    static const char sql_sent[] =
        "UPDATE pile_commands SET state = ?, response = ?, error = ?, detail = ?,"
        " finished_at = ? WHERE id = ? AND state = 'sent'";
    static const char sql_any[] =
        "UPDATE pile_commands SET state = ?, response = ?, error = ?, detail = ?,"
        " finished_at = ? WHERE id = ? AND state IN ('queued', 'sent')";
    static const char sql_queued[] =
        "UPDATE pile_commands SET state = ?, response = ?, error = ?, detail = ?,"
        " finished_at = ? WHERE id = ? AND state = 'queued'";
    const char *sql = from_sent_only == 1 ? sql_sent : from_sent_only == 2 ? sql_queued : sql_any;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, state);
    db_bind_text(st, 2, response);
    db_bind_text(st, 3, error);
    db_bind_text(st, 4, detail);
    sqlite3_bind_int64(st, 5, at);
    sqlite3_bind_int64(st, 6, id);
    return db_changed_or_why(db, db_step_done(db, st, "command_finish"), exists_sql, id);
}

int db_command_abandon(struct db *db, int64_t id, const char *error, const char *detail, int64_t at)
{
    return db_command_finish(db, id, "failed", NULL, error, detail, at, 2);
}

int db_commands_fail_unfinished(struct db *db, int64_t at, const char *error, int64_t *n)
{
    static const char sql[] = "UPDATE pile_commands SET state = 'failed', error = ?,"
                              " detail = 'the gateway started again before the pile answered',"
                              " finished_at = ? WHERE state IN ('queued', 'sent')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, error);
    sqlite3_bind_int64(st, 2, at);
    int rc = db_step_done(db, st, "commands_fail_unfinished");
    if (rc == DB_OK && n)
        *n = sqlite3_changes(db->h);
    return rc;
}

int db_commands_prune(struct db *db, const char *equipment_id, int64_t keep)
{
    static const char sql[] =
        "DELETE FROM pile_commands WHERE equipment_id = ?1 AND state NOT IN ('queued', 'sent')"
        " AND id < (SELECT coalesce(min(id), 0) FROM (SELECT id FROM pile_commands"
        " WHERE equipment_id = ?1 ORDER BY id DESC LIMIT ?2))";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, keep);
    return db_step_done(db, st, "commands_prune");
}

int db_commands_unfinished(struct db *db, const char *equipment_id, int64_t *n)
{
    static const char sql[] = "SELECT count(*) FROM pile_commands WHERE equipment_id = ?"
                              " AND state IN ('queued', 'sent')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "pile_commands_unfinished");
}

int db_commands_finished_among(struct db *db, const char *ids_json,
                               int (*fn)(void *arg, int64_t id), void *arg)
{
    /* json_each keeps it one prepared statement for any number of ids */
    static const char sql[] =
        "SELECT id FROM pile_commands WHERE id IN"
        " (SELECT value FROM json_each(?)) AND state NOT IN ('queued', 'sent')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, ids_json);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = fn(arg, sqlite3_column_int64(st, 0));
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "pile_commands_finished_among");
}
