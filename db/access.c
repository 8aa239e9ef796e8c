/* Access-application queries: the applications that bring stations and piles into review. */
#include "db/access.h"
#include "db/audit.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <string.h>

int db_access_create(struct db *db, int64_t account_id, int64_t *id)
{
    static const char sql[] = "INSERT INTO access_applications (account_id, status, created_at,"
                              " updated_at) VALUES (?, 'draft', ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int64_t now = db_now();
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, now);
    int rc = db_step_done(db, st, "access_create");
    if (rc == DB_OK)
        *id = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_access_head(struct db *db, int64_t id, struct db_access_head *out)
{
    static const char sql[] = "SELECT id, account_id, status FROM access_applications WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->account_id = sqlite3_column_int64(st, 1);
        db_col_copy(st, 2, out->status, sizeof out->status);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "access_head");
}

#define ACCESS_COLS                                                                                \
    "x.id, x.status, x.reject_reason, x.account_id, o.company_name,"                               \
    " (SELECT count(*) FROM stations s WHERE s.application_id = x.id),"                            \
    " (SELECT count(*) FROM piles p WHERE p.application_id = x.id), x.created_at,"                 \
    " x.submitted_at, x.reviewed_at"
#define ACCESS_FROM                                                                                \
    " FROM access_applications x JOIN accounts a ON a.id = x.account_id"                           \
    " LEFT JOIN organisations o ON o.id = a.organisation_id"

static json_t *access_from_row(struct db *db, sqlite3_stmt *st)
{
    (void)db;
    return json_pack("{s:I, s:o, s:o, s:I, s:o, s:I, s:I, s:o, s:o, s:o}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "status", db_col_json_str(st, 1),
                     "reject_reason", db_col_json_str(st, 2), "account_id",
                     (json_int_t)sqlite3_column_int64(st, 3), "company_name",
                     db_col_json_str(st, 4), "station_count",
                     (json_int_t)sqlite3_column_int64(st, 5), "pile_count",
                     (json_int_t)sqlite3_column_int64(st, 6), "created_at", db_col_json_int(st, 7),
                     "submitted_at", db_col_json_int(st, 8), "reviewed_at", db_col_json_int(st, 9));
}

json_t *db_access_view(struct db *db, int64_t id, int with_audit)
{
    static const char sql[] = "SELECT " ACCESS_COLS ACCESS_FROM " WHERE x.id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *v = sqlite3_step(st) == SQLITE_ROW ? access_from_row(db, st) : NULL;
    sqlite3_reset(st);
    if (v && with_audit) {
        json_t *audit = db_audit_for_object(db, "access_application", id);
        json_object_set_new(v, "audit", audit ? audit : json_array());
    }
    return v;
}

int db_access_list(struct db *db, int64_t account_id, const char *status, int64_t page,
                   int64_t page_size, json_t **items, int64_t *total)
{
    static const char where[] = "";
    (void)where;
    static const char count_sql[] = "SELECT count(*) FROM access_applications x"
                                    " WHERE (?1 = 0 OR x.account_id = ?1)"
                                    " AND (?2 IS NULL OR x.status = ?2)";
    static const char page_sql[] =
        "SELECT " ACCESS_COLS ACCESS_FROM " WHERE (?1 = 0 OR x.account_id = ?1)"
        " AND (?2 IS NULL OR x.status = ?2) ORDER BY x.id DESC LIMIT ?3 OFFSET ?4";
    *items = NULL;
    sqlite3_stmt *st = db_stmt(db, count_sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, status);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "access_count");
    if (!(st = db_stmt(db, page_sql)))
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, page_size);
    sqlite3_bind_int64(st, 4, (page - 1) * page_size);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, access_from_row(db, st));
    sqlite3_reset(st);
    if ((rc = db_rc_from(db, rc, "access_list")) != DB_OK) {
        json_decref(arr);
        return rc;
    }
    *items = arr;
    return DB_OK;
}

int db_access_transition(struct db *db, int64_t id, const char *from, const char *to,
                         const char *records_to, const char *reason, int64_t actor_id,
                         const char *action)
{
    static const char sql[] =
        "UPDATE access_applications SET status = ?1, reject_reason = ?2, updated_at = ?3,"
        " submitted_at = CASE WHEN ?1 = 'submitted' THEN ?3 ELSE submitted_at END,"
        " reviewed_at = CASE WHEN ?1 IN ('approved', 'rejected') THEN ?3 ELSE reviewed_at END,"
        " reviewed_by = CASE WHEN ?1 IN ('approved', 'rejected') THEN ?4 ELSE reviewed_by END"
        " WHERE id = ?5 AND instr(',' || ?6 || ',', ',' || status || ',') > 0";
    static const char stations_sql[] =
        "UPDATE stations SET status = ?, updated_at = ? WHERE application_id = ?";
    static const char piles_sql[] =
        "UPDATE piles SET status = ?, updated_at = ? WHERE application_id = ?";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    int64_t now = db_now();
    db_bind_text(st, 1, to);
    db_bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, now);
    db_bind_id(st, 4, actor_id);
    sqlite3_bind_int64(st, 5, id);
    db_bind_text(st, 6, from);
    if ((rc = db_step_done(db, st, "access_transition")) != DB_OK)
        goto out;
    if (sqlite3_changes(db->h) == 0) {
        struct db_access_head h;
        rc = db_access_head(db, id, &h);
        rc = rc == DB_OK ? DB_CONFLICT : rc;
        goto out;
    }
    const char *const upd[] = {stations_sql, piles_sql};
    for (int i = 0; records_to && i < 2; i++) {
        if (!(st = db_stmt(db, upd[i]))) {
            rc = DB_ERROR;
            goto out;
        }
        db_bind_text(st, 1, records_to);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, id);
        if ((rc = db_step_done(db, st, "access_records")) != DB_OK)
            goto out;
    }
    rc = db_audit_add_json(db, actor_id, action, "access_application", id,
                           json_pack("{s:s, s:s?}", "status", to, "reason", reason));
    if (rc != DB_OK)
        goto out;
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

int db_access_attach_pile(struct db *db, int64_t id, int64_t pile_row)
{
    static const char pile_sql[] = "UPDATE piles SET application_id = ?1, updated_at = ?2"
                                   " WHERE id = ?3 AND status IN ('draft', 'rejected')";
    static const char station_sql[] =
        "UPDATE stations SET application_id = ?1, updated_at = ?2 WHERE id ="
        " (SELECT station_row FROM piles WHERE id = ?3) AND status IN ('draft', 'rejected')";
    const char *const sqls[] = {pile_sql, station_sql};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return DB_ERROR;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, db_now());
        sqlite3_bind_int64(st, 3, pile_row);
        int rc = db_step_done(db, st, "access_attach");
        if (rc != DB_OK)
            return rc;
        if (i == 0 && sqlite3_changes(db->h) == 0)
            return DB_CONFLICT;
    }
    return DB_OK;
}

json_t *db_access_piles(struct db *db, int64_t id)
{
    static const char sql[] =
        "SELECT id, equipment_id FROM piles WHERE application_id = ? ORDER BY equipment_id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *arr = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("[I, o]", (json_int_t)sqlite3_column_int64(st, 0),
                                             db_col_json_str(st, 1)));
    sqlite3_reset(st);
    return arr;
}

/* The page cache of an import's transaction: a 100 000-pile file writes some 60 MB of pages,
 * and a cache smaller than what one transaction dirties spills pages to the WAL early and reads
 * them back for every later insert. */
#define STAGE_CACHE_KIB 131072

int db_access_stage_begin(struct db *db, int64_t *saved_cache)
{
    *saved_cache = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        *saved_cache = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    char sql[96];
    /* a flag pragma expires the prepared statements: the cached inserts are prepared again,
     * without the checks, on their next use, and again with them after stage_end */
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d; PRAGMA ignore_check_constraints=ON",
             STAGE_CACHE_KIB);
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return DB_ERROR;
    return DB_OK;
}

void db_access_stage_end(struct db *db, int64_t saved_cache)
{
    db_rollback(db);
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA ignore_check_constraints=OFF; PRAGMA cache_size=%lld",
             (long long)(saved_cache ? saved_cache : -2000));
    sqlite3_exec(db->h, sql, NULL, NULL, NULL);
}

int db_access_unstage_piles(struct db *db, int64_t id)
{
    static const char conn_sql[] = "DELETE FROM connectors WHERE pile_row IN"
                                   " (SELECT id FROM piles WHERE application_id = ?)";
    static const char pile_sql[] = "DELETE FROM piles WHERE application_id = ?";
    const char *const sqls[] = {conn_sql, pile_sql};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return DB_ERROR;
        sqlite3_bind_int64(st, 1, id);
        int rc = db_step_done(db, st, "access_unstage_piles");
        if (rc != DB_OK)
            return rc;
    }
    return DB_OK;
}

json_t *db_access_staged_stations(struct db *db, int64_t id)
{
    static const char sql[] =
        "SELECT s.station_id, s.id, (SELECT count(*) FROM piles p WHERE p.station_row = s.id)"
        " FROM stations s WHERE s.application_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *obj = json_object();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(obj, (const char *)sqlite3_column_text(st, 0),
                            json_pack("[I, I]", (json_int_t)sqlite3_column_int64(st, 1),
                                      (json_int_t)sqlite3_column_int64(st, 2)));
    sqlite3_reset(st);
    return obj;
}

int db_access_delete_draft(struct db *db, int64_t id)
{
    static const char stations_sql[] = "DELETE FROM stations WHERE application_id = ?";
    static const char app_sql[] =
        "DELETE FROM access_applications WHERE id = ? AND status = 'draft'";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    struct db_access_head h;
    if ((rc = db_access_head(db, id, &h)) != DB_OK)
        goto out;
    if (strcmp(h.status, "draft") != 0) {
        rc = DB_CONFLICT;
        goto out;
    }
    if ((rc = db_access_unstage_piles(db, id)) != DB_OK)
        goto out;
    const char *const sqls[] = {stations_sql, app_sql};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, id);
        if ((rc = db_step_done(db, st, "access_delete")) != DB_OK)
            goto out; /* a foreign key: another pile uses a staged station */
    }
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}
