/* Account and organisation queries. */
#include "db/accounts.h"
#include "db/audit.h"
#include "db/db_internal.h"

#include <stdlib.h>
#include <string.h>

void db_account_clear(struct db_account *a)
{
    free(a->password_hash);
    memset(a, 0, sizeof *a);
}

#define ACCOUNT_COLS "id, username, role, status, password_hash, coalesce(organisation_id, 0)"

static int read_account(struct db *db, sqlite3_stmt *st, struct db_account *out, const char *what)
{
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        db_col_copy(st, 1, out->username, sizeof out->username);
        db_col_copy(st, 2, out->role, sizeof out->role);
        db_col_copy(st, 3, out->status, sizeof out->status);
        out->password_hash = db_col_strdup(st, 4);
        out->organisation_id = sqlite3_column_int64(st, 5);
        sqlite3_reset(st);
        return out->password_hash ? DB_OK : DB_ERROR;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, what);
}

int db_account_by_username(struct db *db, const char *username, struct db_account *out)
{
    static const char sql[] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE username = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, username);
    return read_account(db, st, out, "account_by_username");
}

int db_account_by_id(struct db *db, int64_t id, struct db_account *out)
{
    static const char sql[] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return read_account(db, st, out, "account_by_id");
}

static int credit_code_taken(struct db *db, const char *code, int64_t except_org, int *taken)
{
    static const char sql[] = "SELECT 1 FROM organisations WHERE credit_code = ? AND id != ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, code);
    sqlite3_bind_int64(st, 2, except_org);
    int rc = sqlite3_step(st);
    *taken = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "credit_code_taken");
}

int db_operator_register(struct db *db, const char *username, const char *password_hash,
                         const struct db_organisation_in *org, int64_t *id,
                         const char **conflict_field)
{
    static const char ins_org[] =
        "INSERT INTO organisations (company_name, credit_code, operator_id,"
        " legal_representative, contact_name, mobile, email, address, license_file_id,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    static const char ins_acc[] =
        "INSERT INTO accounts (username, password_hash, role, status, organisation_id,"
        " created_at, updated_at, submitted_at) VALUES (?, ?, 'operator', 'pending', ?, ?, ?, ?)";
    static const char user_taken[] = "SELECT 1 FROM accounts WHERE username = ?";
    *conflict_field = NULL;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, user_taken);
    if (!st)
        goto fail;
    db_bind_text(st, 1, username);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        *conflict_field = "username";
        rc = DB_CONFLICT;
        goto out;
    }
    int taken = 0;
    if (credit_code_taken(db, org->credit_code, 0, &taken) != DB_OK)
        goto fail;
    if (taken) {
        *conflict_field = "credit_code";
        rc = DB_CONFLICT;
        goto out;
    }
    int64_t now = db_now();
    if (!(st = db_stmt(db, ins_org)))
        goto fail;
    const char *txt[] = {
        org->company_name, org->credit_code, org->operator_id, org->legal_representative,
        org->contact_name, org->mobile,      org->email,       org->address};
    for (int i = 0; i < 8; i++)
        db_bind_text(st, i + 1, txt[i]);
    if (org->license_file_id > 0)
        sqlite3_bind_int64(st, 9, org->license_file_id);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_int64(st, 10, now);
    sqlite3_bind_int64(st, 11, now);
    if ((rc = db_step_done(db, st, "organisation_insert")) != DB_OK)
        goto out;
    int64_t org_id = sqlite3_last_insert_rowid(db->h);
    if (!(st = db_stmt(db, ins_acc)))
        goto fail;
    db_bind_text(st, 1, username);
    db_bind_text(st, 2, password_hash);
    sqlite3_bind_int64(st, 3, org_id);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, now);
    if ((rc = db_step_done(db, st, "account_insert")) != DB_OK)
        goto out;
    *id = sqlite3_last_insert_rowid(db->h);
    if ((rc = db_audit_add(db, *id, "account.register", "account", *id, NULL)) != DB_OK)
        goto out;
    return db_commit(db);
fail:
    rc = DB_ERROR;
out:
    db_rollback(db);
    return rc;
}

int db_operator_resubmit(struct db *db, int64_t account_id, const struct db_organisation_in *org,
                         const char **conflict_field)
{
    static const char upd_org[] =
        "UPDATE organisations SET company_name = ?, credit_code = ?, operator_id = ?,"
        " legal_representative = ?, contact_name = ?, mobile = ?, email = ?, address = ?,"
        " license_file_id = CASE WHEN ? > 0 THEN ? ELSE license_file_id END, updated_at = ?"
        " WHERE id = ?";
    static const char upd_acc[] =
        "UPDATE accounts SET status = 'pending', reject_reason = NULL, submitted_at = ?,"
        " updated_at = ? WHERE id = ? AND role = 'operator' AND status IN ('pending', 'rejected')";
    *conflict_field = NULL;
    struct db_account acc;
    int rc = db_begin(db);
    if (rc != DB_OK)
        return rc;
    if ((rc = db_account_by_id(db, account_id, &acc)) != DB_OK)
        goto out;
    int64_t org_id = acc.organisation_id;
    int movable = strcmp(acc.role, "operator") == 0 &&
                  (strcmp(acc.status, "pending") == 0 || strcmp(acc.status, "rejected") == 0);
    db_account_clear(&acc);
    if (!movable) {
        *conflict_field = "status";
        rc = DB_CONFLICT;
        goto out;
    }
    int taken = 0;
    if ((rc = credit_code_taken(db, org->credit_code, org_id, &taken)) != DB_OK)
        goto out;
    if (taken) {
        *conflict_field = "credit_code";
        rc = DB_CONFLICT;
        goto out;
    }
    int64_t now = db_now();
    sqlite3_stmt *st = db_stmt(db, upd_org);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    const char *txt[] = {
        org->company_name, org->credit_code, org->operator_id, org->legal_representative,
        org->contact_name, org->mobile,      org->email,       org->address};
    for (int i = 0; i < 8; i++)
        db_bind_text(st, i + 1, txt[i]);
    sqlite3_bind_int64(st, 9, org->license_file_id);
    sqlite3_bind_int64(st, 10, org->license_file_id);
    sqlite3_bind_int64(st, 11, now);
    sqlite3_bind_int64(st, 12, org_id);
    if ((rc = db_step_done(db, st, "organisation_update")) != DB_OK)
        goto out;
    if (!(st = db_stmt(db, upd_acc))) {
        rc = DB_ERROR;
        goto out;
    }
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, account_id);
    if ((rc = db_step_done(db, st, "account_resubmit")) != DB_OK)
        goto out;
    if ((rc = db_audit_add(db, account_id, "account.resubmit", "account", account_id, NULL)) !=
        DB_OK)
        goto out;
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

int db_admin_ensure(struct db *db, const char *username, const char *password_hash, int *created)
{
    static const char sql[] =
        "INSERT INTO accounts (username, password_hash, role, status, created_at, updated_at)"
        " SELECT ?, ?, 'admin', 'active', ?, ?"
        " WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin')";
    *created = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int64_t now = db_now();
    db_bind_text(st, 1, username);
    db_bind_text(st, 2, password_hash);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now);
    int rc = db_step_done(db, st, "admin_ensure");
    if (rc == DB_OK)
        *created = sqlite3_changes(db->h) > 0;
    return rc;
}

int db_operator_set_status(struct db *db, int64_t id, const char *from, const char *to,
                           const char *reason, int64_t actor_id, const char *action)
{
    /* `from` is matched as a comma-separated list with instr() so the statement stays one
     * prepared query whatever the list. */
    static const char sql[] =
        "UPDATE accounts SET status = ?1, reject_reason = ?2, reviewed_at = ?3, reviewed_by = ?4,"
        " updated_at = ?3 WHERE id = ?5 AND role = 'operator'"
        " AND instr(',' || ?6 || ',', ',' || status || ',') > 0";
    static const char kill_sessions[] = "DELETE FROM sessions WHERE account_id = ?";
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
    sqlite3_bind_int64(st, 4, actor_id);
    sqlite3_bind_int64(st, 5, id);
    db_bind_text(st, 6, from);
    static const char exists_sql[] = "SELECT 1 FROM accounts WHERE id = ?";
    rc = db_changed_or_why(db, db_step_done(db, st, "operator_set_status"), exists_sql, id);
    if (rc != DB_OK)
        goto out;
    if (strcmp(to, "disabled") == 0) {
        if (!(st = db_stmt(db, kill_sessions))) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, id);
        if ((rc = db_step_done(db, st, "kill_sessions")) != DB_OK)
            goto out;
    }
    rc = db_audit_add_json(db, actor_id, action, "account", id,
                           json_pack("{s:s, s:s?}", "status", to, "reason", reason));
    if (rc != DB_OK)
        goto out;
    return db_commit(db);
out:
    db_rollback(db);
    return rc;
}

#define VIEW_SELECT                                                                                \
    "SELECT a.id, a.username, a.role, a.status, a.reject_reason, a.created_at, a.submitted_at,"    \
    " a.reviewed_at, o.id, o.company_name, o.credit_code, o.operator_id, o.legal_representative,"  \
    " o.contact_name, o.mobile, o.email, o.address, f.id, f.original_name, f.mime, f.size,"        \
    " f.sha256 FROM accounts a LEFT JOIN organisations o ON o.id = a.organisation_id"              \
    " LEFT JOIN files f ON f.id = o.license_file_id "

static json_t *view_from_row(sqlite3_stmt *st)
{
    json_t *v = json_object();
    json_object_set_new(v, "id", json_integer((json_int_t)sqlite3_column_int64(st, 0)));
    json_object_set_new(v, "username", db_col_json_str(st, 1));
    json_object_set_new(v, "role", db_col_json_str(st, 2));
    json_object_set_new(v, "status", db_col_json_str(st, 3));
    json_object_set_new(v, "reject_reason", db_col_json_str(st, 4));
    json_object_set_new(v, "created_at", db_col_json_int(st, 5));
    json_object_set_new(v, "submitted_at", db_col_json_int(st, 6));
    json_object_set_new(v, "reviewed_at", db_col_json_int(st, 7));
    if (sqlite3_column_type(st, 8) == SQLITE_NULL) {
        json_object_set_new(v, "organisation", json_null());
    } else {
        static const char *const names[] = {
            "company_name", "credit_code", "operator_id", "legal_representative",
            "contact_name", "mobile",      "email",       "address"};
        json_t *o = json_object();
        for (int i = 0; i < 8; i++)
            json_object_set_new(o, names[i], db_col_json_str(st, 9 + i));
        json_object_set_new(v, "organisation", o);
    }
    if (sqlite3_column_type(st, 17) == SQLITE_NULL) {
        json_object_set_new(v, "license", json_null());
    } else {
        json_object_set_new(
            v, "license",
            json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)sqlite3_column_int64(st, 17),
                      "name", db_col_json_str(st, 18), "mime", db_col_json_str(st, 19), "size",
                      (json_int_t)sqlite3_column_int64(st, 20), "sha256", db_col_json_str(st, 21)));
    }
    return v;
}

json_t *db_account_view(struct db *db, int64_t id)
{
    static const char sql[] = VIEW_SELECT "WHERE a.id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *v = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = view_from_row(st);
    else if (rc != SQLITE_DONE)
        db_rc_from(db, rc, "account_view");
    sqlite3_reset(st);
    return v;
}

#define LIST_WHERE                                                                                 \
    " WHERE a.role = 'operator' AND (?1 IS NULL OR a.status = ?1) AND (?2 IS NULL"                 \
    " OR instr(a.username, ?2) > 0 OR instr(o.company_name, ?2) > 0"                               \
    " OR instr(o.credit_code, ?2) > 0)"

int db_operator_list(struct db *db, const char *status, const char *q, int64_t page,
                     int64_t page_size, json_t **items, int64_t *total)
{
    static const char count_sql[] = "SELECT count(*) FROM accounts a LEFT JOIN organisations o"
                                    " ON o.id = a.organisation_id" LIST_WHERE;
    static const char page_sql[] =
        VIEW_SELECT LIST_WHERE " ORDER BY a.submitted_at, a.id LIMIT ?3 OFFSET ?4";
    *items = NULL;
    sqlite3_stmt *st = db_stmt(db, count_sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, status);
    db_bind_text(st, 2, q);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return db_rc_from(db, rc, "operator_count");
    }
    *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (!(st = db_stmt(db, page_sql)))
        return DB_ERROR;
    db_bind_text(st, 1, status);
    db_bind_text(st, 2, q);
    sqlite3_bind_int64(st, 3, page_size);
    sqlite3_bind_int64(st, 4, (page - 1) * page_size);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, view_from_row(st));
    sqlite3_reset(st);
    if ((rc = db_rc_from(db, rc, "operator_list")) != DB_OK) {
        json_decref(arr);
        return rc;
    }
    *items = arr;
    return DB_OK;
}
