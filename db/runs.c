/* Conformance runs and their checks, shared by mgmt and the gateway; see runs.h. */
#include "db/runs.h"
#include "common/log.h"
#include "db/audit.h"
#include "db/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------------------- */

/* Opens a transaction unless the connection is already in one (a writer job, or a caller that
 * groups several writes): *own says which, for tx_close. */
static int tx_open(struct db *db, int *own)
{
    *own = sqlite3_get_autocommit(db->h) != 0;
    return *own ? db_begin(db) : DB_OK;
}

/* Commits or rolls back our own transaction; inside the caller's, leaves both to it. */
static int tx_close(struct db *db, int own, int rc)
{
    if (!own)
        return rc;
    if (rc == DB_OK && (rc = db_commit(db)) == DB_OK)
        return DB_OK;
    db_rollback(db);
    return rc;
}

/* Length of `s` cut to at most `max` bytes on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    len = max;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* `s` when it fits in DB_RUN_REASON_MAX bytes, else its cut copy in buf; NULL for NULL. */
static const char *bounded_reason(const char *s, char buf[DB_RUN_REASON_MAX + 1])
{
    if (!s)
        return NULL;
    size_t len = strlen(s), cut = utf8_cut(s, len, DB_RUN_REASON_MAX);
    if (cut == len)
        return s;
    memcpy(buf, s, cut);
    buf[cut] = 0;
    return buf;
}

static int name_ok(const char *s)
{
    return s && *s && strlen(s) <= DB_RUN_NAME_MAX;
}

static int is_final_verdict(const char *v)
{
    return v && (strcmp(v, "pass") == 0 || strcmp(v, "fail") == 0 || strcmp(v, "skipped") == 0 ||
                 strcmp(v, "error") == 0);
}

static const char run_exists_sql[] = "SELECT 1 FROM conformance_runs WHERE id = ?";
static const char detection_exists_sql[] = "SELECT 1 FROM detections WHERE id = ?";

/* After an UPDATE of check (id, seq) guarded by its verdict and its run's state: as
 * db_changed_or_why, for the two-column key. */
static int check_changed_or_why(struct db *db, int rc, int64_t id, int seq)
{
    static const char sql[] = "SELECT 1 FROM conformance_checks WHERE run_id = ? AND seq = ?";
    if (rc != DB_OK)
        return rc;
    if (sqlite3_changes(db->h) > 0)
        return DB_OK;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, seq);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return DB_CONFLICT;
    return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, "run_check_exists");
}

/* ---- creating a run -------------------------------------------------------------------------- */

int db_run_create(struct db *db, const struct db_run_in *r, const struct db_run_check_in *checks,
                  int n, int64_t at, int64_t *id)
{
    static const char ins_run[] =
        "INSERT INTO conformance_runs (plan, target_kind, target, detection_id, account_id,"
        " state, created_at) VALUES (?, ?, ?, ?, ?, 'queued', ?)";
    static const char ins_check[] = "INSERT INTO conformance_checks (run_id, seq, check_id,"
                                    " required) VALUES (?, ?, ?, ?)";
    /* the rule of db_detection_transition for approved|failed -> testing, on a `self` one */
    static const char to_testing[] =
        "UPDATE detections SET status = 'testing', updated_at = ? WHERE id = ? AND mode = 'self'"
        " AND status IN ('approved', 'failed')";
    if (!r || !name_ok(r->plan) || !name_ok(r->target) || !r->target_kind ||
        (strcmp(r->target_kind, "pile") != 0 && strcmp(r->target_kind, "platform") != 0) ||
        !checks || n < 1 || n > DB_RUN_CHECKS_MAX)
        return DB_ERROR;
    for (int i = 0; i < n; i++)
        if (!name_ok(checks[i].check_id))
            return DB_ERROR;
    int own, rc = tx_open(db, &own);
    if (rc != DB_OK)
        return rc;
    int64_t run_id = 0;
    sqlite3_stmt *st = db_stmt(db, ins_run);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    db_bind_text(st, 1, r->plan);
    db_bind_text(st, 2, r->target_kind);
    db_bind_text(st, 3, r->target);
    db_bind_id(st, 4, r->detection_id);
    sqlite3_bind_int64(st, 5, r->account_id);
    sqlite3_bind_int64(st, 6, at);
    /* the partial unique index conformance_runs_active refuses a second active run */
    if ((rc = db_step_done(db, st, "run_create")) != DB_OK)
        goto out;
    run_id = sqlite3_last_insert_rowid(db->h);
    for (int i = 0; i < n; i++) {
        if (!(st = db_stmt(db, ins_check))) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, i + 1);
        db_bind_text(st, 3, checks[i].check_id);
        sqlite3_bind_int(st, 4, checks[i].required ? 1 : 0);
        if ((rc = db_step_done(db, st, "run_check_create")) != DB_OK)
            goto out;
    }
    if (r->detection_id > 0) {
        if (!(st = db_stmt(db, to_testing))) {
            rc = DB_ERROR;
            goto out;
        }
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, r->detection_id);
        rc = db_changed_or_why(db, db_step_done(db, st, "run_detection_testing"),
                               detection_exists_sql, r->detection_id);
        if (rc != DB_OK)
            goto out;
        rc = db_audit_add_json(db, r->account_id, "detection.testing", "detection", r->detection_id,
                               json_pack("{s:s, s:I, s:s}", "status", "testing", "run_id",
                                         (json_int_t)run_id, "plan", r->plan));
    }
out:
    rc = tx_close(db, own, rc);
    if (rc == DB_OK && id)
        *id = run_id;
    return rc;
}

/* ---- the gateway's side ---------------------------------------------------------------------- */

int db_runs_queued(struct db *db, int64_t after_id, int64_t limit, db_run_fn fn, void *arg)
{
    static const char sql[] =
        "SELECT id, plan, target_kind, target, detection_id, account_id, created_at"
        " FROM conformance_runs"
        " WHERE state = 'queued' AND id > ? ORDER BY id LIMIT ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_run_head h = {
            .id = sqlite3_column_int64(st, 0),
            .plan = (const char *)sqlite3_column_text(st, 1),
            .target_kind = (const char *)sqlite3_column_text(st, 2),
            .target = (const char *)sqlite3_column_text(st, 3),
            .detection_id = sqlite3_column_int64(st, 4), /* NULL reads as 0 */
            .account_id = sqlite3_column_int64(st, 5),
            .created_at = sqlite3_column_int64(st, 6),
        };
        if (!h.plan || !h.target_kind || !h.target)
            continue; /* NOT NULL columns: never */
        int stop = fn(arg, &h);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "runs_queued");
}

int db_run_start(struct db *db, int64_t id, int64_t at)
{
    static const char sql[] = "UPDATE conformance_runs SET state = 'running', started_at = ?"
                              " WHERE id = ? AND state = 'queued'";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, id);
    return db_changed_or_why(db, db_step_done(db, st, "run_start"), run_exists_sql, id);
}

int db_run_check_start(struct db *db, int64_t id, int seq, int64_t at)
{
    static const char sql[] =
        "UPDATE conformance_checks SET verdict = 'running', started_at = ?1"
        " WHERE run_id = ?2 AND seq = ?3 AND verdict = 'pending'"
        " AND EXISTS (SELECT 1 FROM conformance_runs WHERE id = ?2 AND state = 'running')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int(st, 3, seq);
    return check_changed_or_why(db, db_step_done(db, st, "run_check_start"), id, seq);
}

/* The stored form of a check's frames (see db_run_check_verdict): into *out (caller frees) and
 * the number of frames left out into *dropped. DB_ERROR when `text` is not a JSON array of
 * objects (or out of memory). */
static int bounded_frames(const char *text, char **out, int64_t *dropped)
{
    *out = NULL;
    *dropped = 0;
    json_t *arr = json_loads(text ? text : "[]", JSON_ALLOW_NUL, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return DB_ERROR;
    }
    size_t i, n = json_array_size(arr);
    json_t *frame;
    for (i = 0; i < n; i++) {
        if (!json_is_object(json_array_get(arr, i))) {
            json_decref(arr);
            return DB_ERROR;
        }
    }
    if (n > DB_RUN_FRAMES_MAX) {
        *dropped = (int64_t)(n - DB_RUN_FRAMES_MAX);
        while (json_array_size(arr) > DB_RUN_FRAMES_MAX)
            json_array_remove(arr, json_array_size(arr) - 1);
    }
    json_array_foreach(arr, i, frame)
    {
        json_t *t = json_object_get(frame, "text");
        if (!json_is_string(t))
            continue;
        size_t len = json_string_length(t);
        size_t cut = utf8_cut(json_string_value(t), len, DB_RUN_FRAME_TEXT_MAX);
        if (cut == len)
            continue;
        json_object_set_new(frame, "text", json_stringn(json_string_value(t), cut));
        json_object_set_new(frame, "cut", json_integer((json_int_t)len));
    }
    *out = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(arr);
    return *out ? DB_OK : DB_ERROR;
}

int db_run_check_verdict(struct db *db, int64_t id, int seq, const char *verdict,
                         const char *reason, const char *frames, int64_t at)
{
    static const char sql[] =
        "UPDATE conformance_checks SET verdict = ?1, reason = ?2, frames = ?3,"
        " frames_dropped = ?4, started_at = coalesce(started_at, ?5), finished_at = ?5"
        " WHERE run_id = ?6 AND seq = ?7 AND verdict IN ('pending', 'running')"
        " AND EXISTS (SELECT 1 FROM conformance_runs WHERE id = ?6 AND state = 'running')";
    if (!is_final_verdict(verdict))
        return DB_ERROR;
    char *stored = NULL, rbuf[DB_RUN_REASON_MAX + 1];
    int64_t dropped = 0;
    int rc = bounded_frames(frames, &stored, &dropped);
    if (rc != DB_OK)
        return rc;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        free(stored);
        return DB_ERROR;
    }
    db_bind_text(st, 1, verdict);
    db_bind_text(st, 2, bounded_reason(reason, rbuf));
    db_bind_text(st, 3, stored);
    sqlite3_bind_int64(st, 4, dropped);
    sqlite3_bind_int64(st, 5, at);
    sqlite3_bind_int64(st, 6, id);
    sqlite3_bind_int(st, 7, seq);
    rc = check_changed_or_why(db, db_step_done(db, st, "run_check_verdict"), id, seq);
    free(stored);
    return rc;
}

/* ---- ending a run ---------------------------------------------------------------------------- */

/* Settles detection `det` graded by run `run_id` that ended `final` (see db_run_finish), inside
 * the current transaction. A detection no longer in `testing` is left alone. */
static int settle_detection(struct db *db, int64_t det, int64_t run_id, const char *final,
                            const char *reason, int64_t at)
{
    /* the rule of db_detection_verdict, from `testing` only */
    static const char verdict_sql[] =
        "UPDATE detections SET status = ?1, verdict = ?1, verdict_source = 'run',"
        " verdict_note = ?2, verdict_at = ?3, verdict_by = NULL, updated_at = ?3"
        " WHERE id = ?4 AND mode = 'self' AND status = 'testing'";
    static const char back_sql[] =
        "UPDATE detections SET status = CASE WHEN verdict = 'failed' THEN 'failed'"
        " ELSE 'approved' END, updated_at = ?1 WHERE id = ?2 AND status = 'testing'";
    static const char status_sql[] = "SELECT status FROM detections WHERE id = ?";
    int judged = strcmp(final, "passed") == 0 || strcmp(final, "failed") == 0;
    char note[DB_RUN_REASON_MAX + 64];
    snprintf(note, sizeof note, "run %lld %s%s%s", (long long)run_id, final, reason ? ": " : "",
             reason ? reason : "");
    sqlite3_stmt *st = db_stmt(db, judged ? verdict_sql : back_sql);
    if (!st)
        return DB_ERROR;
    if (judged) {
        db_bind_text(st, 1, strcmp(final, "passed") == 0 ? "passed" : "failed");
        db_bind_text(st, 2, note);
        sqlite3_bind_int64(st, 3, at);
        sqlite3_bind_int64(st, 4, det);
    } else {
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_int64(st, 2, det);
    }
    int rc = db_step_done(db, st, "run_detection_settle");
    if (rc != DB_OK)
        return rc;
    if (sqlite3_changes(db->h) == 0) {
        log_info("db", "run_detection_left", "run=%lld detection=%lld run_state=%s",
                 (long long)run_id, (long long)det, log_q(final));
        return DB_OK;
    }
    if (judged)
        return db_audit_add_json(db, 0, "detection.verdict", "detection", det,
                                 json_pack("{s:s, s:s, s:s, s:I}", "verdict", final, "source",
                                           "run", "note", note, "run_id", (json_int_t)run_id));
    char status[16] = "";
    if (!(st = db_stmt(db, status_sql)))
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, det);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        db_col_copy(st, 0, status, sizeof status);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "run_detection_status");
    return db_audit_add_json(db, 0, "detection.testing_ended", "detection", det,
                             json_pack("{s:s, s:I, s:s, s:s?}", "status", status, "run_id",
                                       (json_int_t)run_id, "run_state", final, "reason", reason));
}

/* Ends run `id`, which must be in state `from`, as db_run_finish describes, inside the current
 * transaction. */
static int end_run(struct db *db, int64_t id, const char *from, const char *state,
                   const char *reason, int64_t at, char out_state[16])
{
    static const char head_sql[] =
        "SELECT state, detection_id, target_kind, target FROM conformance_runs WHERE id = ?";
    static const char settle_sql[] =
        "UPDATE conformance_checks SET verdict = CASE WHEN verdict = 'running' AND ?1 = 'error'"
        " THEN 'error' ELSE 'skipped' END, reason = ?2, finished_at = ?3"
        " WHERE run_id = ?4 AND verdict IN ('pending', 'running')";
    static const char missing_sql[] = "SELECT count(*) FROM conformance_checks WHERE run_id = ?"
                                      " AND required = 1 AND verdict <> 'pass'";
    static const char end_sql[] = "UPDATE conformance_runs SET state = ?1, reason = ?2,"
                                  " finished_at = ?3 WHERE id = ?4 AND state = ?5";
    char cur[16] = "", kind[16] = "", target[DB_RUN_NAME_MAX + 1] = "";
    char rbuf[DB_RUN_REASON_MAX + 1], computed[64];
    int64_t det = 0;
    reason = bounded_reason(reason, rbuf);

    sqlite3_stmt *st = db_stmt(db, head_sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        db_col_copy(st, 0, cur, sizeof cur);
        det = sqlite3_column_int64(st, 1);
        db_col_copy(st, 2, kind, sizeof kind);
        db_col_copy(st, 3, target, sizeof target);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "run_head");
    if (strcmp(cur, from) != 0)
        return DB_CONFLICT;

    /* the checks that never got a verdict */
    const char *check_reason = "the run ended before this check";
    if (state && strcmp(state, "cancelled") == 0) {
        if (!reason)
            reason = "cancelled";
        check_reason = "cancelled";
    } else if (state && strcmp(state, "error") == 0 && reason) {
        check_reason = reason;
    }
    if (!(st = db_stmt(db, settle_sql)))
        return DB_ERROR;
    db_bind_text(st, 1, state);
    db_bind_text(st, 2, check_reason);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int64(st, 4, id);
    if ((rc = db_step_done(db, st, "run_checks_settle")) != DB_OK)
        return rc;

    if (!state) {
        if (!(st = db_stmt(db, missing_sql)))
            return DB_ERROR;
        sqlite3_bind_int64(st, 1, id);
        int64_t missing = 0;
        if ((rc = sqlite3_step(st)) == SQLITE_ROW)
            missing = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return db_rc_from(db, rc, "run_required_missing");
        state = missing ? "failed" : "passed";
        if (missing && !reason) {
            snprintf(computed, sizeof computed, "%lld required check%s did not pass",
                     (long long)missing, missing == 1 ? "" : "s");
            reason = computed;
        }
    }

    if (!(st = db_stmt(db, end_sql)))
        return DB_ERROR;
    db_bind_text(st, 1, state);
    db_bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int64(st, 4, id);
    db_bind_text(st, 5, from);
    if ((rc = db_changed_or_why(db, db_step_done(db, st, "run_end"), run_exists_sql, id)) != DB_OK)
        return rc;
    if (det > 0 && (rc = settle_detection(db, det, id, state, reason, at)) != DB_OK)
        return rc;
    if ((rc = db_runs_prune(db, kind, target, DB_RUNS_KEEP)) != DB_OK)
        return rc;
    if (out_state)
        snprintf(out_state, 16, "%s", state);
    return DB_OK;
}

int db_run_finish(struct db *db, int64_t id, const char *state, const char *reason, int64_t at,
                  char out_state[16])
{
    if (state && strcmp(state, "error") != 0 && strcmp(state, "cancelled") != 0)
        return DB_ERROR;
    int own, rc = tx_open(db, &own);
    if (rc != DB_OK)
        return rc;
    rc = end_run(db, id, "running", state, reason, at, out_state);
    return tx_close(db, own, rc);
}

int db_runs_fail_running(struct db *db, int64_t at, int64_t *n)
{
    static const char sql[] = "SELECT id FROM conformance_runs WHERE state = 'running'"
                              " ORDER BY id";
    int own, rc = tx_open(db, &own);
    if (rc != DB_OK)
        return rc;
    int64_t *ids = NULL, count = 0, cap = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st) {
        rc = DB_ERROR;
        goto out;
    }
    /* the ids first: end_run runs other statements on the table */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            int64_t *grown = realloc(ids, (size_t)(cap ? cap * 2 : 16) * sizeof *ids);
            if (!grown) {
                sqlite3_reset(st);
                rc = DB_ERROR;
                goto out;
            }
            ids = grown;
            cap = cap ? cap * 2 : 16;
        }
        ids[count++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if ((rc = db_rc_from(db, rc, "runs_running")) != DB_OK)
        goto out;
    for (int64_t i = 0; i < count && rc == DB_OK; i++)
        rc = end_run(db, ids[i], "running", "error", DB_RUN_RESTARTED, at, NULL);
out:
    free(ids);
    rc = tx_close(db, own, rc);
    if (rc == DB_OK && n)
        *n = count;
    return rc;
}

int db_run_cancel_requested(struct db *db, int64_t id, int *requested)
{
    static const char sql[] = "SELECT cancel_requested FROM conformance_runs WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int64_t v = 0;
    int rc = db_step_int64(db, st, &v, "run_cancel_requested");
    if (rc == DB_OK)
        *requested = v != 0;
    return rc;
}

int db_run_check_confirmed(struct db *db, int64_t id, int seq, int *confirmed)
{
    static const char sql[] =
        "SELECT confirmed_at IS NOT NULL FROM conformance_checks WHERE run_id = ? AND seq = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, seq);
    int64_t v = 0;
    int rc = db_step_int64(db, st, &v, "run_check_confirmed");
    if (rc == DB_OK)
        *confirmed = v != 0;
    return rc;
}

int db_run_pile_connectors(struct db *db, const char *equipment_id, int64_t *n)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM connectors c WHERE c.pile_row = p.id"
        "  AND c.ocpp_connector_id >= 1) FROM piles p WHERE p.equipment_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_text(st, 1, equipment_id, -1, SQLITE_STATIC);
    return db_step_int64(db, st, n, "run_pile_connectors");
}

/* ---- mgmt's side ----------------------------------------------------------------------------- */

int db_run_check_confirm(struct db *db, int64_t id, int seq, int64_t at)
{
    static const char sql[] =
        "UPDATE conformance_checks SET confirmed_at = coalesce(confirmed_at, ?3)"
        " WHERE run_id = ?1 AND seq = ?2 AND verdict IN ('pending', 'running')"
        " AND (SELECT state FROM conformance_runs WHERE id = ?1) IN ('queued', 'running')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, seq);
    sqlite3_bind_int64(st, 3, at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_rc_from(db, rc, "run_check_confirm");
    if (sqlite3_changes(db->h) > 0)
        return DB_OK;
    static const char probe[] = "SELECT 1 FROM conformance_checks WHERE run_id = ? AND seq = ?";
    sqlite3_stmt *ps = db_stmt(db, probe);
    if (!ps)
        return DB_ERROR;
    sqlite3_bind_int64(ps, 1, id);
    sqlite3_bind_int(ps, 2, seq);
    rc = sqlite3_step(ps);
    sqlite3_reset(ps);
    if (rc == SQLITE_ROW)
        return DB_CONFLICT;
    return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, "run_check_confirm");
}

int db_run_cancel(struct db *db, int64_t id, int64_t at, int *now)
{
    static const char flag_sql[] = "UPDATE conformance_runs SET cancel_requested = 1"
                                   " WHERE id = ? AND state = 'running'";
    int own, rc = tx_open(db, &own);
    if (rc != DB_OK)
        return rc;
    /* queued: ends now; otherwise (conflict) try the running case */
    rc = end_run(db, id, "queued", "cancelled", "cancelled before it started", at, NULL);
    if (rc == DB_OK) {
        if (now)
            *now = 1;
        return tx_close(db, own, rc);
    }
    if (rc != DB_CONFLICT)
        return tx_close(db, own, rc);
    sqlite3_stmt *st = db_stmt(db, flag_sql);
    if (!st)
        return tx_close(db, own, DB_ERROR);
    sqlite3_bind_int64(st, 1, id);
    rc = db_changed_or_why(db, db_step_done(db, st, "run_cancel_request"), run_exists_sql, id);
    if (rc == DB_OK && now)
        *now = 0;
    return tx_close(db, own, rc);
}

int db_runs_prune(struct db *db, const char *target_kind, const char *target, int64_t keep)
{
    /* checks go with their run (ON DELETE CASCADE) */
    static const char sql[] =
        "DELETE FROM conformance_runs WHERE target_kind = ?1 AND target = ?2"
        " AND state NOT IN ('queued', 'running') AND id NOT IN (SELECT id FROM conformance_runs"
        "  WHERE target_kind = ?1 AND target = ?2 AND state NOT IN ('queued', 'running')"
        "  ORDER BY id DESC LIMIT ?3)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, target_kind);
    db_bind_text(st, 2, target);
    sqlite3_bind_int64(st, 3, keep < 0 ? 0 : keep);
    return db_step_done(db, st, "runs_prune");
}
