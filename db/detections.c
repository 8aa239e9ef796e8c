/* Detection application queries. */
#include "db/detections.h"
#include "db/audit.h"
#include "db/db_internal.h"

#include <stdlib.h>
#include <string.h>

int db_detection_head(struct db *db, int64_t id, struct db_detection_head *out)
{
    static const char sql[] = "SELECT id, account_id, mode, status FROM detections WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->account_id = sqlite3_column_int64(st, 1);
        db_col_copy(st, 2, out->mode, sizeof out->mode);
        db_col_copy(st, 3, out->status, sizeof out->status);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "detection_head");
}

int db_detection_create(struct db *db, int64_t account_id, const char *mode, const json_t *data,
                        int64_t delegate_id, int64_t *id)
{
    static const char sql[] =
        "INSERT INTO detections (account_id, mode, status, data, delegate_detection_id,"
        " created_at, updated_at) VALUES (?, ?, 'draft', ?, ?, ?, ?)";
    char *text = json_dumps(data, JSON_COMPACT);
    if (!text)
        return DB_ERROR;
    int rc = db_begin(db);
    if (rc != DB_OK) {
        free(text);
        return rc;
    }
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    int64_t now = db_now();
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, mode);
    db_bind_text(st, 3, text);
    db_bind_id(st, 4, delegate_id);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, now);
    if ((rc = db_step_done(db, st, "detection_create")) != DB_OK)
        goto out;
    *id = sqlite3_last_insert_rowid(db->h);
    if ((rc = db_audit_add_json(db, account_id, "detection.create", "detection", *id,
                                json_pack("{s:s}", "mode", mode))) != DB_OK)
        goto out;
    free(text);
    return db_commit(db);
out:
    free(text);
    db_rollback(db);
    return rc;
}

int db_detection_update(struct db *db, int64_t id, const json_t *data, int64_t delegate_id)
{
    static const char sql[] = "UPDATE detections SET data = ?, delegate_detection_id = ?,"
                              " updated_at = ? WHERE id = ? AND status IN ('draft', 'rejected')";
    char *text = json_dumps(data, JSON_COMPACT);
    sqlite3_stmt *st = text ? db_stmt(db, sql) : NULL;
    if (!st) {
        free(text);
        return DB_ERROR;
    }
    db_bind_text(st, 1, text);
    db_bind_id(st, 2, delegate_id);
    sqlite3_bind_int64(st, 3, db_now());
    sqlite3_bind_int64(st, 4, id);
    int rc = db_step_done(db, st, "detection_update");
    free(text);
    if (rc == DB_OK && sqlite3_changes(db->h) == 0)
        return DB_CONFLICT;
    return rc;
}

int db_detection_delete(struct db *db, int64_t id, json_t *stored_names)
{
    static const char files_sql[] =
        "SELECT f.id, f.stored_name FROM detection_materials m JOIN files f ON f.id = m.file_id"
        " WHERE m.detection_id = ?";
    static const char del_mats[] = "DELETE FROM detection_materials WHERE detection_id = ?";
    static const char del_det[] = "DELETE FROM detections WHERE id = ? AND status = 'draft'";
    static const char unlink_delegations[] =
        "UPDATE detections SET delegate_detection_id = NULL WHERE delegate_detection_id = ?";
    static const char del_file[] = "DELETE FROM files WHERE id = ?";
    json_t *file_ids = json_array();
    int rc = db_begin(db);
    if (rc != DB_OK)
        goto out;
    struct db_detection_head h;
    if ((rc = db_detection_head(db, id, &h)) != DB_OK)
        goto out;
    if (strcmp(h.status, "draft") != 0) {
        rc = DB_CONFLICT;
        goto out;
    }
    sqlite3_stmt *st = db_stmt(db, files_sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(file_ids, json_integer(sqlite3_column_int64(st, 0)));
        json_array_append_new(stored_names, json_string((const char *)sqlite3_column_text(st, 1)));
    }
    sqlite3_reset(st);
    if ((rc = db_rc_from(db, rc, "detection_files")) != DB_OK)
        goto out;
    /* Drafts of other operators may name this draft as their delegate (a draft can never be
     * a valid one: submission needs a passed platform); they lose the reference. The
     * materials reference the files and the application: they go before both. */
    const char *const steps[] = {unlink_delegations, del_mats, del_det};
    for (size_t i = 0; i < 3; i++) {
        if (!(st = db_stmt(db, steps[i]))) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, id);
        if ((rc = db_step_done(db, st, "detection_delete")) != DB_OK)
            goto out;
    }
    size_t i;
    json_t *fid;
    json_array_foreach(file_ids, i, fid)
    {
        if (!(st = db_stmt(db, del_file))) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, json_integer_value(fid));
        if ((rc = db_step_done(db, st, "detection_delete_file")) != DB_OK)
            goto out;
    }
    json_decref(file_ids);
    return db_commit(db);
out:
    json_decref(file_ids);
    db_rollback(db);
    return rc;
}

static json_t *materials_of(struct db *db, int64_t id)
{
    static const char sql[] =
        "SELECT m.id, f.original_name, f.mime, f.size, f.sha256, f.id, m.created_at"
        " FROM detection_materials m JOIN files f ON f.id = m.file_id"
        " WHERE m.detection_id = ? ORDER BY m.id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return json_array();
    sqlite3_bind_int64(st, 1, id);
    json_t *arr = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        char url[48];
        snprintf(url, sizeof url, "/api/v1/files/%lld", (long long)sqlite3_column_int64(st, 5));
        json_array_append_new(arr, json_pack("{s:I, s:o, s:o, s:I, s:o, s:I, s:s, s:o}", "id",
                                             (json_int_t)sqlite3_column_int64(st, 0), "name",
                                             db_col_json_str(st, 1), "mime", db_col_json_str(st, 2),
                                             "size", (json_int_t)sqlite3_column_int64(st, 3),
                                             "sha256", db_col_json_str(st, 4), "file_id",
                                             (json_int_t)sqlite3_column_int64(st, 5), "url", url,
                                             "created_at", db_col_json_int(st, 6)));
    }
    sqlite3_reset(st);
    return arr;
}

static json_t *credentials_issued_at(struct db *db, int64_t id)
{
    static const char sql[] = "SELECT issued_at FROM tcec_credentials WHERE detection_id = ?"
                              " AND revoked_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return json_null();
    sqlite3_bind_int64(st, 1, id);
    json_t *v = sqlite3_step(st) == SQLITE_ROW ? db_col_json_int(st, 0) : json_null();
    sqlite3_reset(st);
    return v;
}

#define VIEW_COLS                                                                                  \
    "d.id, d.mode, d.status, d.reject_reason, d.data, d.delegate_detection_id, d.verdict,"         \
    " d.verdict_source, d.verdict_note, d.verdict_at, vb.username, d.created_at, d.updated_at,"    \
    " d.submitted_at, d.reviewed_at, d.account_id, o.company_name, o.operator_id,"                 \
    " json_extract(dd.data, '$.platform.name'), dor.company_name"
#define VIEW_FROM                                                                                  \
    " FROM detections d JOIN accounts a ON a.id = d.account_id"                                    \
    " LEFT JOIN organisations o ON o.id = a.organisation_id"                                       \
    " LEFT JOIN accounts vb ON vb.id = d.verdict_by"                                               \
    " LEFT JOIN detections dd ON dd.id = d.delegate_detection_id"                                  \
    " LEFT JOIN accounts da ON da.id = dd.account_id"                                              \
    " LEFT JOIN organisations dor ON dor.id = da.organisation_id"

/* Builds the view from a row of VIEW_COLS (without materials and audit). */
static json_t *view_from_row(sqlite3_stmt *st)
{
    json_t *v = json_object();
    json_object_set_new(v, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(v, "mode", db_col_json_str(st, 1));
    json_object_set_new(v, "status", db_col_json_str(st, 2));
    json_object_set_new(v, "reject_reason", db_col_json_str(st, 3));
    json_object_set_new(v, "operator",
                        json_pack("{s:I, s:o, s:o}", "account_id",
                                  (json_int_t)sqlite3_column_int64(st, 15), "company_name",
                                  db_col_json_str(st, 16), "operator_id", db_col_json_str(st, 17)));
    const char *data = (const char *)sqlite3_column_text(st, 4);
    json_t *d = data ? json_loads(data, 0, NULL) : NULL;
    static const char *const keys[] = {"commissioning_unit", "contact", "platform",
                                       "delegation_scope", "pile_summary"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *e = d ? json_object_get(d, keys[i]) : NULL;
        json_object_set(v, keys[i], e ? e : json_null());
    }
    json_decref(d);
    if (sqlite3_column_type(st, 5) == SQLITE_NULL) {
        json_object_set_new(v, "delegate_detection_id", json_null());
        json_object_set_new(v, "delegate", json_null());
    } else {
        json_int_t did = sqlite3_column_int64(st, 5);
        json_object_set_new(v, "delegate_detection_id", json_integer(did));
        json_object_set_new(v, "delegate",
                            json_pack("{s:I, s:o, s:o}", "detection_id", did, "platform_name",
                                      db_col_json_str(st, 18), "company_name",
                                      db_col_json_str(st, 19)));
    }
    if (sqlite3_column_type(st, 6) == SQLITE_NULL)
        json_object_set_new(v, "verdict", json_null());
    else
        json_object_set_new(v, "verdict",
                            json_pack("{s:o, s:o, s:o, s:o, s:o}", "result", db_col_json_str(st, 6),
                                      "source", db_col_json_str(st, 7), "note",
                                      db_col_json_str(st, 8), "at", db_col_json_int(st, 9), "by",
                                      db_col_json_str(st, 10)));
    json_object_set_new(v, "created_at", db_col_json_int(st, 11));
    json_object_set_new(v, "updated_at", db_col_json_int(st, 12));
    json_object_set_new(v, "submitted_at", db_col_json_int(st, 13));
    json_object_set_new(v, "reviewed_at", db_col_json_int(st, 14));
    return v;
}

json_t *db_detection_view(struct db *db, int64_t id, int with_audit)
{
    static const char sql[] = "SELECT " VIEW_COLS VIEW_FROM " WHERE d.id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    json_t *v = rc == SQLITE_ROW ? view_from_row(st) : NULL;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        db_rc_from(db, rc, "detection_view");
    if (!v)
        return NULL;
    json_object_set_new(v, "materials", materials_of(db, id));
    json_object_set_new(v, "credentials_issued_at", credentials_issued_at(db, id));
    if (with_audit) {
        json_t *audit = db_audit_for_object(db, "detection", id);
        json_object_set_new(v, "audit", audit ? audit : json_array());
    }
    return v;
}

#define LIST_WHERE                                                                                 \
    " WHERE (?1 = 0 OR d.account_id = ?1) AND (?2 IS NULL OR d.status = ?2)"                       \
    " AND (?3 IS NULL OR d.mode = ?3) AND (?4 IS NULL"                                             \
    " OR instr(coalesce(o.company_name, ''), ?4) > 0"                                              \
    " OR instr(coalesce(json_extract(d.data, '$.platform.name'), ''), ?4) > 0"                     \
    " OR instr(coalesce(json_extract(d.data, '$.commissioning_unit.name'), ''), ?4) > 0)"

int db_detection_list(struct db *db, int64_t account_id, const char *status, const char *mode,
                      const char *q, int64_t page, int64_t page_size, json_t **items,
                      int64_t *total)
{
    static const char count_sql[] = "SELECT count(*)" VIEW_FROM LIST_WHERE;
    static const char page_sql[] =
        "SELECT " VIEW_COLS VIEW_FROM LIST_WHERE
        " ORDER BY CASE WHEN ?2 = 'submitted' THEN d.submitted_at END, d.id DESC"
        " LIMIT ?5 OFFSET ?6";
    *items = NULL;
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *st = db_stmt(db, pass ? page_sql : count_sql);
        if (!st)
            return DB_ERROR;
        sqlite3_bind_int64(st, 1, account_id);
        db_bind_text(st, 2, status);
        db_bind_text(st, 3, mode);
        db_bind_text(st, 4, q);
        if (!pass) {
            int rc = sqlite3_step(st);
            if (rc == SQLITE_ROW)
                *total = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
            if (rc != SQLITE_ROW)
                return db_rc_from(db, rc, "detection_count");
            continue;
        }
        sqlite3_bind_int64(st, 5, page_size);
        sqlite3_bind_int64(st, 6, (page - 1) * page_size);
        json_t *arr = json_array();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(arr, view_from_row(st));
        sqlite3_reset(st);
        if ((rc = db_rc_from(db, rc, "detection_list")) != DB_OK) {
            json_decref(arr);
            return rc;
        }
        size_t i;
        json_t *it;
        json_array_foreach(arr, i, it)
        {
            int64_t did = json_integer_value(json_object_get(it, "id"));
            json_object_set_new(it, "materials", materials_of(db, did));
            json_object_set_new(it, "credentials_issued_at", credentials_issued_at(db, did));
        }
        *items = arr;
    }
    return DB_OK;
}

static const char exists_sql[] = "SELECT 1 FROM detections WHERE id = ?";

int db_detection_transition(struct db *db, int64_t id, const char *from, const char *to,
                            const char *reason, int64_t actor_id, const char *action)
{
    static const char sql[] =
        "UPDATE detections SET status = ?1, reject_reason = ?2, updated_at = ?3,"
        " submitted_at = CASE WHEN ?1 = 'submitted' THEN ?3 ELSE submitted_at END,"
        " reviewed_at = CASE WHEN ?1 IN ('approved', 'rejected') THEN ?3 ELSE reviewed_at END,"
        " reviewed_by = CASE WHEN ?1 IN ('approved', 'rejected') THEN ?4 ELSE reviewed_by END"
        " WHERE id = ?5 AND instr(',' || ?6 || ',', ',' || status || ',') > 0";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    db_bind_text(st, 1, to);
    db_bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, db_now());
    db_bind_id(st, 4, actor_id); /* 0: the system (a conformance run) */
    sqlite3_bind_int64(st, 5, id);
    db_bind_text(st, 6, from);
    rc = db_changed_or_why(db, db_step_done(db, st, "detection_transition"), exists_sql, id);
    if (rc != DB_OK)
        goto out;
    if ((rc = db_audit_add_json(db, actor_id, action, "detection", id,
                                json_pack("{s:s, s:s?}", "status", to, "reason", reason))) != DB_OK)
        goto out;
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

int db_detection_verdict(struct db *db, int64_t id, const char *verdict, const char *source,
                         const char *note, int64_t actor_id)
{
    static const char sql[] =
        "UPDATE detections SET status = ?1, verdict = ?1, verdict_source = ?2, verdict_note = ?3,"
        " verdict_at = ?4, verdict_by = ?5, updated_at = ?4"
        " WHERE id = ?6 AND mode = 'self' AND status IN ('approved', 'testing')";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    db_bind_text(st, 1, verdict);
    db_bind_text(st, 2, source);
    db_bind_text(st, 3, note);
    sqlite3_bind_int64(st, 4, db_now());
    db_bind_id(st, 5, actor_id);
    sqlite3_bind_int64(st, 6, id);
    rc = db_changed_or_why(db, db_step_done(db, st, "detection_verdict"), exists_sql, id);
    if (rc != DB_OK)
        goto out;
    if ((rc = db_audit_add_json(db, actor_id, "detection.verdict", "detection", id,
                                json_pack("{s:s, s:s, s:s?}", "verdict", verdict, "source", source,
                                          "note", note))) != DB_OK)
        goto out;
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

static int editable_head(struct db *db, int64_t id, const char **why)
{
    struct db_detection_head h;
    int rc = db_detection_head(db, id, &h);
    if (rc != DB_OK)
        return rc;
    if (strcmp(h.status, "draft") != 0 && strcmp(h.status, "rejected") != 0) {
        *why = "status";
        return DB_CONFLICT;
    }
    return DB_OK;
}

int db_material_count(struct db *db, int64_t detection_id, int64_t *count)
{
    static const char sql[] = "SELECT count(*) FROM detection_materials WHERE detection_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, detection_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "material_count");
}

int db_material_add(struct db *db, int64_t detection_id, int64_t file_id, int max, int64_t *id,
                    const char **why)
{
    static const char sql[] =
        "INSERT INTO detection_materials (detection_id, file_id, created_at) VALUES (?, ?, ?)";
    *why = NULL;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    int64_t count = 0;
    if ((rc = editable_head(db, detection_id, why)) != DB_OK ||
        (rc = db_material_count(db, detection_id, &count)) != DB_OK)
        goto out;
    if (count >= max) {
        *why = "count";
        rc = DB_CONFLICT;
        goto out;
    }
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, detection_id);
    sqlite3_bind_int64(st, 2, file_id);
    sqlite3_bind_int64(st, 3, db_now());
    if ((rc = db_step_done(db, st, "material_add")) != DB_OK)
        goto out;
    *id = sqlite3_last_insert_rowid(db->h);
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

int db_material_delete(struct db *db, int64_t detection_id, int64_t material_id,
                       char stored_name[80], const char **why)
{
    static const char find[] =
        "SELECT f.id, f.stored_name FROM detection_materials m JOIN files f ON f.id = m.file_id"
        " WHERE m.id = ? AND m.detection_id = ?";
    static const char del_mat[] = "DELETE FROM detection_materials WHERE id = ?";
    static const char del_file[] = "DELETE FROM files WHERE id = ?";
    *why = NULL;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    if ((rc = editable_head(db, detection_id, why)) != DB_OK)
        goto out;
    sqlite3_stmt *st = db_stmt(db, find);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, material_id);
    sqlite3_bind_int64(st, 2, detection_id);
    int64_t file_id = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        file_id = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, stored_name, 80);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, "material_find");
        goto out;
    }
    const char *steps[] = {del_mat, del_file};
    int64_t ids[] = {material_id, file_id};
    for (int i = 0; i < 2; i++) {
        if (!(st = db_stmt(db, steps[i]))) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, ids[i]);
        if ((rc = db_step_done(db, st, "material_delete")) != DB_OK)
            goto out;
    }
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

int db_credentials_issue(struct db *db, const struct db_tcec_credentials *c, int64_t actor_id)
{
    static const char revoke[] =
        "UPDATE tcec_credentials SET revoked_at = ? WHERE operator_id = ? AND revoked_at IS NULL";
    static const char ins[] =
        "INSERT INTO tcec_credentials (detection_id, operator_id, operator_secret, data_secret,"
        " data_secret_iv, sig_secret, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, revoke);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, db_now());
    db_bind_text(st, 2, c->operator_id);
    if ((rc = db_step_done(db, st, "credentials_revoke")) != DB_OK)
        goto out;
    if (!(st = db_stmt(db, ins))) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, c->detection_id);
    db_bind_text(st, 2, c->operator_id);
    db_bind_text(st, 3, c->operator_secret);
    db_bind_text(st, 4, c->data_secret);
    db_bind_text(st, 5, c->data_secret_iv);
    db_bind_text(st, 6, c->sig_secret);
    sqlite3_bind_int64(st, 7, c->issued_at);
    if ((rc = db_step_done(db, st, "credentials_insert")) != DB_OK)
        goto out;
    /* The audit row says that credentials were issued, never what they are. */
    if ((rc = db_audit_add_json(db, actor_id, "detection.credentials", "detection", c->detection_id,
                                json_pack("{s:s}", "operator_id", c->operator_id))) != DB_OK)
        goto out;
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

int db_credentials_live(struct db *db, const char *operator_id, struct db_tcec_credentials *out)
{
    static const char sql[] =
        "SELECT detection_id, operator_id, operator_secret, data_secret, data_secret_iv,"
        " sig_secret, issued_at FROM tcec_credentials WHERE operator_id = ? AND revoked_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->detection_id = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, out->operator_id, sizeof out->operator_id);
        db_col_copy(st, 2, out->operator_secret, sizeof out->operator_secret);
        db_col_copy(st, 3, out->data_secret, sizeof out->data_secret);
        db_col_copy(st, 4, out->data_secret_iv, sizeof out->data_secret_iv);
        db_col_copy(st, 5, out->sig_secret, sizeof out->sig_secret);
        out->issued_at = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "credentials_live");
}

int db_tcec_peers(struct db *db, db_tcec_peer_fn fn, void *arg)
{
    static const char sql[] =
        "SELECT c.detection_id, c.operator_id, c.operator_secret, c.data_secret,"
        " c.data_secret_iv, c.sig_secret, c.issued_at,"
        " coalesce(json_extract(d.data, '$.platform.base_url'), '')"
        " FROM tcec_credentials c JOIN detections d ON d.id = c.detection_id"
        " WHERE c.revoked_at IS NULL AND d.mode = 'self'"
        " AND d.status IN ('approved', 'testing', 'passed', 'failed') ORDER BY c.operator_id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_tcec_credentials c = {.detection_id = sqlite3_column_int64(st, 0),
                                        .issued_at = sqlite3_column_int64(st, 6)};
        db_col_copy(st, 1, c.operator_id, sizeof c.operator_id);
        db_col_copy(st, 2, c.operator_secret, sizeof c.operator_secret);
        db_col_copy(st, 3, c.data_secret, sizeof c.data_secret);
        db_col_copy(st, 4, c.data_secret_iv, sizeof c.data_secret_iv);
        db_col_copy(st, 5, c.sig_secret, sizeof c.sig_secret);
        const char *url = (const char *)sqlite3_column_text(st, 7);
        struct db_tcec_peer p = {.cred = &c, .base_url = url ? url : ""};
        int stop = fn(arg, &p);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "tcec_peers");
}

json_t *db_passed_platforms(struct db *db)
{
    static const char sql[] =
        "SELECT d.id, json_extract(d.data, '$.platform.name'), o.company_name FROM detections d"
        " JOIN accounts a ON a.id = d.account_id LEFT JOIN organisations o"
        " ON o.id = a.organisation_id WHERE d.mode = 'self' AND d.status = 'passed'"
        " ORDER BY d.id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:o, s:o}", "detection_id",
                                             (json_int_t)sqlite3_column_int64(st, 0),
                                             "platform_name", db_col_json_str(st, 1),
                                             "company_name", db_col_json_str(st, 2)));
    sqlite3_reset(st);
    if (db_rc_from(db, rc, "passed_platforms") != DB_OK) {
        json_decref(arr);
        return NULL;
    }
    return json_pack("{s:o}", "items", arr);
}

int db_access_gate(struct db *db, int64_t account_id, int64_t *detection_id)
{
    static const char sql[] =
        "SELECT id FROM detections WHERE account_id = ? AND ((mode = 'self' AND status = 'passed')"
        " OR (mode = 'delegated' AND status = 'approved')) ORDER BY id LIMIT 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, account_id);
    *detection_id = 0;
    int rc = db_step_int64(db, st, detection_id, "access_gate");
    return rc == DB_NOTFOUND ? DB_OK : rc; /* none: 0 */
}
