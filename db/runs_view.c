/* Reading conformance runs for mgmt (one run with its checks, lists); see runs.h. */
#include "db/runs.h"
#include "db/db_internal.h"

#include <stdlib.h>
#include <string.h>

#define RUN_COLUMNS                                                                                \
    "r.id, r.plan, r.target_kind, r.target, r.detection_id, r.account_id, r.state, r.reason,"      \
    " r.cancel_requested, r.created_at, r.started_at, r.finished_at,"                              \
    " (SELECT json_object('total', count(*),"                                                      \
    "   'pending', coalesce(sum(c.verdict = 'pending'), 0),"                                       \
    "   'running', coalesce(sum(c.verdict = 'running'), 0),"                                       \
    "   'pass', coalesce(sum(c.verdict = 'pass'), 0),"                                             \
    "   'fail', coalesce(sum(c.verdict = 'fail'), 0),"                                             \
    "   'skipped', coalesce(sum(c.verdict = 'skipped'), 0),"                                       \
    "   'error', coalesce(sum(c.verdict = 'error'), 0))"                                           \
    "  FROM conformance_checks c WHERE c.run_id = r.id)"

/* A JSON text column parsed, or `fallback` (NULL or unparsable: never stored by us). */
static json_t *col_json(sqlite3_stmt *st, int col, json_t *fallback)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    if (v) {
        json_decref(fallback);
        return v;
    }
    return fallback;
}

static json_t *run_from_row(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "plan", db_col_json_str(st, 1),
                     "target_kind", db_col_json_str(st, 2), "target", db_col_json_str(st, 3),
                     "detection_id", db_col_json_int(st, 4), "account_id",
                     (json_int_t)sqlite3_column_int64(st, 5), "state", db_col_json_str(st, 6),
                     "reason", db_col_json_str(st, 7), "cancel_requested",
                     sqlite3_column_int(st, 8) != 0, "created_at", db_col_json_int(st, 9),
                     "started_at", db_col_json_int(st, 10), "finished_at", db_col_json_int(st, 11),
                     "summary", col_json(st, 12, json_object()));
}

static json_t *check_from_row(sqlite3_stmt *st)
{
    return json_pack("{s:i, s:o, s:b, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "seq",
                     sqlite3_column_int(st, 0), "check_id", db_col_json_str(st, 1), "required",
                     sqlite3_column_int(st, 2) != 0, "verdict", db_col_json_str(st, 3), "reason",
                     db_col_json_str(st, 4), "frames", col_json(st, 5, json_array()),
                     "frames_dropped", (json_int_t)sqlite3_column_int64(st, 6), "started_at",
                     db_col_json_int(st, 7), "finished_at", db_col_json_int(st, 8),
                     "confirmed_at", db_col_json_int(st, 9));
}

int db_run_get(struct db *db, int64_t id, json_t **out)
{
    static const char sql[] = "SELECT " RUN_COLUMNS " FROM conformance_runs r WHERE r.id = ?";
    static const char checks_sql[] =
        "SELECT seq, check_id, required, verdict, reason, frames, frames_dropped, started_at,"
        " finished_at, confirmed_at FROM conformance_checks WHERE run_id = ? ORDER BY seq";
    *out = NULL;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    json_t *run = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        run = run_from_row(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "run_get");
    if (!run)
        return DB_ERROR;
    if (!(st = db_stmt(db, checks_sql))) {
        json_decref(run);
        return DB_ERROR;
    }
    sqlite3_bind_int64(st, 1, id);
    json_t *checks = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(checks, check_from_row(st));
    sqlite3_reset(st);
    json_object_set_new(run, "checks", checks);
    if (rc != SQLITE_DONE) {
        json_decref(run);
        return db_rc_from(db, rc, "run_checks");
    }
    *out = run;
    return DB_OK;
}

static void bind_filter(sqlite3_stmt *st, const struct db_run_filter *f)
{
    /* "" is "any", as NULL */
    db_bind_text(st, 1, f && f->plan && *f->plan ? f->plan : NULL);
    db_bind_text(st, 2, f && f->target && *f->target ? f->target : NULL);
    db_bind_text(st, 3, f && f->state && *f->state ? f->state : NULL);
    db_bind_id(st, 4, f ? f->account_id : 0);
    db_bind_id(st, 7, f ? f->owner_id : 0); /* ?5 and ?6 are the page's LIMIT and OFFSET */
}

#define RUN_FILTER                                                                                 \
    " WHERE (?1 IS NULL OR r.plan = ?1) AND (?2 IS NULL OR r.target = ?2)"                         \
    " AND (?3 IS NULL OR r.state = ?3) AND (?4 IS NULL OR r.account_id = ?4)"                      \
    " AND (?7 IS NULL OR (r.target_kind = 'pile' AND r.target IN"                                  \
    "   (SELECT p.equipment_id FROM piles p WHERE p.account_id = ?7))"                             \
    "  OR r.detection_id IN (SELECT d.id FROM detections d WHERE d.account_id = ?7))"

int db_runs_list(struct db *db, const struct db_run_filter *f, int64_t page, int64_t page_size,
                 json_t **items, int64_t *total)
{
    static const char count_sql[] = "SELECT count(*) FROM conformance_runs r" RUN_FILTER;
    static const char sql[] = "SELECT " RUN_COLUMNS " FROM conformance_runs r" RUN_FILTER
                              " ORDER BY r.id DESC LIMIT ?5 OFFSET ?6";
    *items = NULL;
    if (page < 1 || page_size < 1)
        return DB_ERROR;
    sqlite3_stmt *st = db_stmt(db, count_sql);
    if (!st)
        return DB_ERROR;
    bind_filter(st, f);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "runs_count");
    if (!(st = db_stmt(db, sql)))
        return DB_ERROR;
    bind_filter(st, f);
    sqlite3_bind_int64(st, 5, page_size);
    sqlite3_bind_int64(st, 6, (page - 1) * page_size);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(arr, run_from_row(st));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return db_rc_from(db, rc, "runs_list");
    }
    *items = arr;
    return DB_OK;
}
