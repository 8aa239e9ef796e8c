/* What mgmt shows of T/CEC 102 interconnection: platforms, last contacts, refusals by reason and
 * the exchange log, read-only. See tcec_view.h. Every query on tcec_exchanges names one
 * operator_id (index tcec_exchanges_operator), whose rows db/tcec.c keeps at
 * DB_TCEC_EXCHANGES_KEEP, so each scan is bounded. */
#include "db/tcec_view.h"
#include "db/db_internal.h"

#include <string.h>

/* A failed exchange of alias x, and the reason it counts under. */
#define FAILED      "(x.reason IS NOT NULL OR x.ret IS NULL OR x.ret <> 0)"
#define FAIL_WHY    "coalesce(x.reason, 'ret')"
#define OF_PLATFORM "x.operator_id = c.operator_id"

/* The columns of a platform; ?1 is the start of today. */
#define PLAT_COLS                                                                                  \
    "c.operator_id, c.detection_id, d.status, d.account_id, a.username, o.company_name,"           \
    " json_extract(d.data, '$.platform.name'), json_extract(d.data, '$.platform.base_url'),"       \
    " c.issued_at,"                                                                                \
    " (SELECT max(x.at) FROM tcec_exchanges x WHERE " OF_PLATFORM " AND x.direction = 'in'),"      \
    " (SELECT max(x.at) FROM tcec_exchanges x WHERE " OF_PLATFORM " AND x.direction = 'out'),"     \
    " (SELECT count(*) FROM tcec_exchanges x WHERE " OF_PLATFORM " AND x.at >= ?1),"               \
    " (SELECT count(*) FROM tcec_exchanges x WHERE " OF_PLATFORM " AND x.direction = 'in'"         \
    "  AND x.at >= ?1 AND " FAILED "),"                                                            \
    " (SELECT count(*) FROM tcec_exchanges x WHERE " OF_PLATFORM " AND x.direction = 'out'"        \
    "  AND x.at >= ?1 AND " FAILED ")"
#define PLAT_FROM                                                                                  \
    " FROM tcec_credentials c JOIN detections d ON d.id = c.detection_id"                          \
    " JOIN accounts a ON a.id = d.account_id LEFT JOIN organisations o ON o.id = "                 \
    "a.organisation_id"
#define PLAT_LIST_WHERE                                                                            \
    " WHERE c.revoked_at IS NULL AND (?2 = 0 OR d.account_id = ?2) AND (?3 IS NULL"                \
    " OR instr(c.operator_id, upper(?3)) > 0 OR instr(coalesce(o.company_name, ''), ?3) > 0"       \
    " OR instr(coalesce(json_extract(d.data, '$.platform.name'), ''), ?3) > 0)"

static json_t *platform_from_row(sqlite3_stmt *st)
{
    json_t *v = json_object();
    json_object_set_new(v, "operator_id", db_col_json_str(st, 0));
    json_object_set_new(v, "detection_id", json_integer(sqlite3_column_int64(st, 1)));
    json_object_set_new(v, "detection_status", db_col_json_str(st, 2));
    json_object_set_new(v, "account_id", json_integer(sqlite3_column_int64(st, 3)));
    json_object_set_new(v, "username", db_col_json_str(st, 4));
    json_object_set_new(v, "company_name", db_col_json_str(st, 5));
    json_object_set_new(v, "platform_name", db_col_json_str(st, 6));
    json_object_set_new(v, "base_url", db_col_json_str(st, 7));
    json_object_set_new(v, "issued_at", db_col_json_int(st, 8));
    json_object_set_new(v, "last_in_at", db_col_json_int(st, 9));
    json_object_set_new(v, "last_out_at", db_col_json_int(st, 10));
    json_object_set_new(v, "exchanges_today", json_integer(sqlite3_column_int64(st, 11)));
    json_object_set_new(v, "refused_in_today", json_integer(sqlite3_column_int64(st, 12)));
    json_object_set_new(v, "failed_out_today", json_integer(sqlite3_column_int64(st, 13)));
    return v;
}

int db_tcec_view_platforms(struct db *db, int64_t account_id, const char *q, int64_t since,
                           int64_t page, int64_t page_size, json_t **items, int64_t *total)
{
    static const char count_sql[] = "SELECT count(*)" PLAT_FROM PLAT_LIST_WHERE;
    static const char page_sql[] =
        "SELECT " PLAT_COLS PLAT_FROM PLAT_LIST_WHERE " ORDER BY c.operator_id LIMIT ?4 OFFSET ?5";
    *items = NULL;
    sqlite3_stmt *st = db_stmt(db, count_sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, account_id);
    db_bind_text(st, 3, q);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "tcec_view_platform_count");
    if (!(st = db_stmt(db, page_sql)))
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, account_id);
    db_bind_text(st, 3, q);
    sqlite3_bind_int64(st, 4, page_size);
    sqlite3_bind_int64(st, 5, (page - 1) * page_size);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, platform_from_row(st));
    sqlite3_reset(st);
    if ((rc = db_rc_from(db, rc, "tcec_view_platforms")) != DB_OK) {
        json_decref(arr);
        return rc;
    }
    *items = arr;
    return DB_OK;
}

/* The newest exchange of `direction` of `operator_id` as an object, or JSON null. */
static json_t *last_contact(struct db *db, const char *operator_id, const char *direction, int *rc)
{
    static const char sql[] =
        "SELECT id, interface, peer, at, ret, msg, reason, duration_ms FROM tcec_exchanges"
        " WHERE operator_id = ?1 AND direction = ?2 ORDER BY at DESC, id DESC LIMIT 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        *rc = DB_ERROR;
        return NULL;
    }
    db_bind_text(st, 1, operator_id);
    db_bind_text(st, 2, direction);
    int step = sqlite3_step(st);
    json_t *v = NULL;
    if (step == SQLITE_ROW) {
        v = json_object();
        json_object_set_new(v, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(v, "interface", db_col_json_str(st, 1));
        json_object_set_new(v, "peer", db_col_json_str(st, 2));
        json_object_set_new(v, "at", json_integer(sqlite3_column_int64(st, 3)));
        json_object_set_new(v, "ret", db_col_json_int(st, 4));
        json_object_set_new(v, "msg", db_col_json_str(st, 5));
        json_object_set_new(v, "reason", db_col_json_str(st, 6));
        json_object_set_new(v, "duration_ms", json_integer(sqlite3_column_int64(st, 7)));
    } else if (step == SQLITE_DONE) {
        v = json_null();
    }
    sqlite3_reset(st);
    *rc = v ? DB_OK : db_rc_from(db, step, "tcec_view_last_contact");
    return v;
}

/* Counts over the kept log of `operator_id` into `v`. */
static int totals(struct db *db, const char *operator_id, json_t *v)
{
    static const char sql[] =
        "SELECT coalesce(sum(x.direction = 'in'), 0), coalesce(sum(x.direction = 'out'), 0),"
        " coalesce(sum(x.direction = 'in' AND " FAILED "), 0),"
        " coalesce(sum(x.direction = 'out' AND " FAILED "), 0)"
        " FROM tcec_exchanges x WHERE x.operator_id = ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        json_object_set_new(v, "totals",
                            json_pack("{s:I, s:I, s:I, s:I}", "in",
                                      (json_int_t)sqlite3_column_int64(st, 0), "out",
                                      (json_int_t)sqlite3_column_int64(st, 1), "refused_in",
                                      (json_int_t)sqlite3_column_int64(st, 2), "failed_out",
                                      (json_int_t)sqlite3_column_int64(st, 3)));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "tcec_view_totals");
}

json_t *db_tcec_view_platform(struct db *db, const char *operator_id, int64_t since, int *rc)
{
    static const char sql[] =
        "SELECT " PLAT_COLS PLAT_FROM " WHERE c.revoked_at IS NULL AND c.operator_id = ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        *rc = DB_ERROR;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, since);
    db_bind_text(st, 2, operator_id);
    int step = sqlite3_step(st);
    json_t *v = step == SQLITE_ROW ? platform_from_row(st) : NULL;
    sqlite3_reset(st);
    if (!v) {
        *rc = step == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, step, "tcec_view_platform");
        return NULL;
    }
    json_t *in = last_contact(db, operator_id, "in", rc);
    json_t *out = in ? last_contact(db, operator_id, "out", rc) : NULL;
    if (!in || !out || totals(db, operator_id, v) != DB_OK) {
        json_decref(in);
        json_decref(v);
        if (*rc == DB_OK)
            *rc = DB_ERROR;
        return NULL;
    }
    json_object_set_new(v, "last_in", in);
    json_object_set_new(v, "last_out", out);
    *rc = DB_OK;
    return v;
}

json_t *db_tcec_view_reasons(struct db *db, const char *operator_id, int64_t since)
{
    static const char sql[] =
        "SELECT x.direction, " FAIL_WHY ", count(*), coalesce(sum(x.at >= ?2), 0), max(x.at)"
        " FROM tcec_exchanges x WHERE x.operator_id = ?1 AND " FAILED
        " GROUP BY x.direction, " FAIL_WHY " ORDER BY 3 DESC, 2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, operator_id);
    sqlite3_bind_int64(st, 2, since);
    json_t *in = json_array(), *out = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *dir = (const char *)sqlite3_column_text(st, 0);
        json_array_append_new(dir && strcmp(dir, "in") == 0 ? in : out,
                              json_pack("{s:o, s:I, s:I, s:o}", "reason", db_col_json_str(st, 1),
                                        "count", (json_int_t)sqlite3_column_int64(st, 2), "today",
                                        (json_int_t)sqlite3_column_int64(st, 3), "last_at",
                                        db_col_json_int(st, 4)));
    }
    sqlite3_reset(st);
    if (db_rc_from(db, rc, "tcec_view_reasons") != DB_OK) {
        json_decref(in);
        json_decref(out);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "in", in, "out", out);
}

#define X_WHERE                                                                                    \
    " FROM tcec_exchanges x WHERE x.operator_id = ?1 AND (?2 IS NULL OR x.direction = ?2)"         \
    " AND (?3 IS NULL OR x.interface = ?3) AND (?4 IS NULL OR x.ret = ?4)"                         \
    " AND (?5 IS NULL OR (" FAILED " AND " FAIL_WHY " = ?5)) AND (?6 = 0 OR " FAILED ")"

static void bind_filter(sqlite3_stmt *st, const char *operator_id,
                        const struct db_tcec_view_filter *f)
{
    db_bind_text(st, 1, operator_id);
    db_bind_text(st, 2, f->direction);
    db_bind_text(st, 3, f->interface);
    if (f->has_ret)
        sqlite3_bind_int(st, 4, f->ret);
    db_bind_text(st, 5, f->reason);
    sqlite3_bind_int(st, 6, f->failed_only ? 1 : 0);
}

int db_tcec_view_exchanges(struct db *db, const char *operator_id,
                           const struct db_tcec_view_filter *f, int64_t page, int64_t page_size,
                           json_t **items, int64_t *total)
{
    static const char count_sql[] = "SELECT count(*)" X_WHERE;
    static const char page_sql[] =
        "SELECT x.id, x.direction, x.interface, x.peer, x.at, x.ret, x.msg, x.reason, " FAILED
        ", x.duration_ms, x.request, x.response" X_WHERE
        " ORDER BY x.at DESC, x.id DESC LIMIT ?7 OFFSET ?8";
    *items = NULL;
    sqlite3_stmt *st = db_stmt(db, count_sql);
    if (!st)
        return DB_ERROR;
    bind_filter(st, operator_id, f);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "tcec_view_exchange_count");
    if (!(st = db_stmt(db, page_sql)))
        return DB_ERROR;
    bind_filter(st, operator_id, f);
    sqlite3_bind_int64(st, 7, page_size);
    sqlite3_bind_int64(st, 8, (page - 1) * page_size);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *it = json_object();
        json_object_set_new(it, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(it, "direction", db_col_json_str(st, 1));
        json_object_set_new(it, "interface", db_col_json_str(st, 2));
        json_object_set_new(it, "peer", db_col_json_str(st, 3));
        json_object_set_new(it, "at", json_integer(sqlite3_column_int64(st, 4)));
        json_object_set_new(it, "ret", db_col_json_int(st, 5));
        json_object_set_new(it, "msg", db_col_json_str(st, 6));
        json_object_set_new(it, "reason", db_col_json_str(st, 7));
        json_object_set_new(it, "failed", json_boolean(sqlite3_column_int(st, 8)));
        json_object_set_new(it, "duration_ms", json_integer(sqlite3_column_int64(st, 9)));
        json_object_set_new(it, "request", db_col_json_str(st, 10));
        json_object_set_new(it, "response", db_col_json_str(st, 11));
        json_array_append_new(arr, it);
    }
    sqlite3_reset(st);
    if ((rc = db_rc_from(db, rc, "tcec_view_exchanges")) != DB_OK) {
        json_decref(arr);
        return rc;
    }
    *items = arr;
    return DB_OK;
}
