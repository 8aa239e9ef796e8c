/* The admin dashboard's reads and the gateway's samples and refusals; see dashboard.h. */
#include "db/dashboard.h"
#include "db/db_internal.h"
#include "db/list_count.h"

#include <stdio.h>
#include <string.h>

/* The protocols of piles (protocol/records_tables.c), in the order the dashboard lists them. */
static const char *const protocols[] = {"ocpp1.6", "ocpp2.0.1", "platform"};
#define NPROTOCOLS   (sizeof protocols / sizeof protocols[0])
#define TCEC_CODES   16 /* distinct T/CEC connector codes counted (the standard has 6) */
#define DAY_SECONDS  86400
#define STATUSES_MAX 32 /* distinct OCPP connector statuses listed (1.6 has 9, 2.0.1 has 5) */

int db_online_sample(struct db *db, int64_t at, int64_t keep_since)
{
    static const char ins[] =
        "INSERT OR REPLACE INTO pile_online_samples (at, online)"
        " SELECT ?1, count(DISTINCT equipment_id) FROM pile_sessions WHERE disconnected_at IS NULL";
    static const char prune[] = "DELETE FROM pile_online_samples WHERE at < ?";
    sqlite3_stmt *st = db_stmt(db, ins);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, at);
    int rc = db_step_done(db, st, "online_sample");
    if (rc != DB_OK)
        return rc;
    if (!(st = db_stmt(db, prune)))
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, keep_since);
    return db_step_done(db, st, "online_sample_prune");
}

int db_ocpp_refusal_add(struct db *db, int64_t at, const char *equipment_id, int status,
                        const char *reason, const char *peer, int64_t keep)
{
    static const char ins[] =
        "INSERT INTO ocpp_refusals (at, equipment_id, status, reason, peer) VALUES (?, ?, ?, ?, ?)";
    /* by id, which only grows: the newest `keep` rows stay */
    static const char prune[] = "DELETE FROM ocpp_refusals WHERE id <= (SELECT max(id) FROM"
                                " ocpp_refusals) - ?";
    sqlite3_stmt *st = db_stmt(db, ins);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, at);
    db_bind_text(st, 2, equipment_id);
    sqlite3_bind_int(st, 3, status);
    db_bind_text(st, 4, reason);
    db_bind_text(st, 5, peer && *peer ? peer : NULL);
    int rc = db_step_done(db, st, "ocpp_refusal_add");
    if (rc != DB_OK)
        return rc;
    if (!(st = db_stmt(db, prune)))
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, keep);
    return db_step_done(db, st, "ocpp_refusal_prune");
}

/* --- the dashboard ---------------------------------------------------------------------------- */

static int protocol_index(const unsigned char *p)
{
    for (size_t i = 0; p && i < NPROTOCOLS; i++)
        if (strcmp((const char *)p, protocols[i]) == 0)
            return (int)i;
    return -1;
}

/* Accessed piles per protocol into accessed[]: from the list-count cache while no pile changed
 * (a count over 100 000 piles reads the whole table), else counted and cached. */
static int accessed_piles(struct db *db, int64_t accessed[NPROTOCOLS])
{
    static const char state_sql[] =
        "SELECT generation, (SELECT coalesce(max(id), 0) FROM piles) FROM record_generation"
        " WHERE id = 1";
    static const char count_sql[] =
        "SELECT protocol, count(*) FROM piles WHERE status = 'accessed' GROUP BY protocol";
    sqlite3_stmt *st = db_stmt(db, state_sql);
    if (!st)
        return DB_ERROR;
    int rc = sqlite3_step(st);
    int64_t generation = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t max_pile = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_rc_from(db, rc, "dashboard_state");
    const char *file = sqlite3_db_filename(db->h, "main");
    char keys[NPROTOCOLS][DB_LIST_COUNT_KEY_MAX + 1];
    size_t klen[NPROTOCOLS];
    size_t hits = 0;
    for (size_t i = 0; i < NPROTOCOLS; i++) {
        int n = snprintf(keys[i], sizeof keys[i], "%s|dashboard-accessed|%s|%lld", file ? file : "",
                         protocols[i], (long long)max_pile);
        klen[i] = n > 0 && (size_t)n < sizeof keys[i] ? (size_t)n : 0;
        hits += klen[i] && db_list_count_get(keys[i], klen[i], generation, &accessed[i]);
    }
    if (hits == NPROTOCOLS)
        return DB_OK;
    if (!(st = db_stmt(db, count_sql)))
        return DB_ERROR;
    memset(accessed, 0, NPROTOCOLS * sizeof accessed[0]);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = protocol_index(sqlite3_column_text(st, 0));
        if (i >= 0)
            accessed[i] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_rc_from(db, rc, "dashboard_accessed");
    /* read in the same read transaction as the state: a change after it is a new generation */
    for (size_t i = 0; i < NPROTOCOLS; i++)
        if (klen[i])
            db_list_count_put(keys[i], klen[i], generation, accessed[i]);
    return DB_OK;
}

static int online_piles(struct db *db, int64_t online[NPROTOCOLS])
{
    static const char ocpp_sql[] =
        "SELECT protocol, count(DISTINCT equipment_id) FROM pile_sessions"
        " WHERE disconnected_at IS NULL GROUP BY protocol";
    static const char platform_sql[] =
        "SELECT count(DISTINCT c.pile_row) FROM tcec_connector_status t"
        " JOIN connectors c ON c.connector_id = t.connector_id JOIN piles p ON p.id = c.pile_row"
        " WHERE t.status <> 0 AND p.protocol = 'platform' AND p.status = 'accessed'";
    memset(online, 0, NPROTOCOLS * sizeof online[0]);
    sqlite3_stmt *st = db_stmt(db, ocpp_sql);
    if (!st)
        return DB_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = protocol_index(sqlite3_column_text(st, 0));
        if (i >= 0 && strcmp(protocols[i], "platform") != 0)
            online[i] += sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_rc_from(db, rc, "dashboard_online");
    if (!(st = db_stmt(db, platform_sql)))
        return DB_ERROR;
    int64_t n = 0;
    if ((rc = db_step_int64(db, st, &n, "dashboard_platform_online")) != DB_OK)
        return rc;
    online[NPROTOCOLS - 1] = n;
    return DB_OK;
}

static json_t *piles_json(const int64_t accessed[NPROTOCOLS], const int64_t online[NPROTOCOLS])
{
    json_t *by = json_array();
    int64_t ta = 0, to = 0, tf = 0;
    for (size_t i = 0; i < NPROTOCOLS; i++) {
        /* a pile online and no longer accessed is closed within seconds: never below 0 */
        int64_t off = accessed[i] > online[i] ? accessed[i] - online[i] : 0;
        ta += accessed[i];
        to += online[i];
        tf += off;
        json_array_append_new(by, json_pack("{s:s, s:I, s:I, s:I}", "protocol", protocols[i],
                                            "accessed", (json_int_t)accessed[i], "online",
                                            (json_int_t)online[i], "offline", (json_int_t)off));
    }
    return json_pack("{s:I, s:I, s:I, s:o}", "accessed", (json_int_t)ta, "online", (json_int_t)to,
                     "offline", (json_int_t)tf, "by_protocol", by);
}

struct tcec_counts {
    int code[TCEC_CODES];
    int64_t count[TCEC_CODES];
    size_t n;
};

/* Adds `count` to code `code`, keeping the codes in ascending order. */
static void tcec_add(struct tcec_counts *t, int code, int64_t count)
{
    size_t i = 0;
    while (i < t->n && t->code[i] < code)
        i++;
    if (i < t->n && t->code[i] == code) {
        t->count[i] += count;
        return;
    }
    if (t->n == TCEC_CODES)
        return;
    memmove(t->code + i + 1, t->code + i, (t->n - i) * sizeof t->code[0]);
    memmove(t->count + i + 1, t->count + i, (t->n - i) * sizeof t->count[0]);
    t->code[i] = code;
    t->count[i] = count;
    t->n++;
}

struct status_counts {
    char status[STATUSES_MAX][32];
    int64_t count[STATUSES_MAX];
    size_t n;
};

/* Counts one connector in `status`, keeping the statuses in name order. */
static void status_add(struct status_counts *c, const char *status)
{
    size_t i = 0;
    int cmp = 1;
    while (i < c->n && (cmp = strcmp(c->status[i], status)) < 0)
        i++;
    if (i < c->n && cmp == 0) {
        c->count[i]++;
        return;
    }
    if (c->n == STATUSES_MAX) /* a status beyond is not listed (validation bounds them) */
        return;
    memmove(c->status + i + 1, c->status + i, (c->n - i) * sizeof c->status[0]);
    memmove(c->count + i + 1, c->count + i, (c->n - i) * sizeof c->count[0]);
    snprintf(c->status[i], sizeof c->status[0], "%s", status);
    c->count[i] = 1;
    c->n++;
}

static int connectors_json(struct db *db, json_t **out)
{
    /* One pass over the OCPP connectors, counted here rather than by GROUP BY (whose sorter
     * costs more than the scan: 200 000 connectors, 80 ms against 15 ms); the IN list is the
     * open piles once, probed per connector. */
    static const char ocpp_sql[] =
        "SELECT status, tcec_status, equipment_id IN (SELECT equipment_id FROM pile_sessions"
        " WHERE disconnected_at IS NULL) FROM ocpp_connectors WHERE connector_id > 0";
    static const char platform_sql[] =
        "SELECT status, count(*) FROM tcec_connector_status GROUP BY status";
    struct tcec_counts tc = {.n = 0};
    struct status_counts sc = {.n = 0};
    int64_t total = 0, offline = 0;
    sqlite3_stmt *st = db_stmt(db, ocpp_sql);
    if (!st)
        return DB_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        total++;
        if (!sqlite3_column_int(st, 2)) {
            offline++;
            continue;
        }
        const char *status = (const char *)sqlite3_column_text(st, 0);
        status_add(&sc, status ? status : "");
        tcec_add(&tc, sqlite3_column_int(st, 1), 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_rc_from(db, rc, "dashboard_connectors");
    tcec_add(&tc, 0, offline);
    if (!(st = db_stmt(db, platform_sql)))
        return DB_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        tcec_add(&tc, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1));
        total += sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_rc_from(db, rc, "dashboard_connectors_platform");
    json_t *by = json_array(), *tcec = json_array();
    for (size_t i = 0; i < sc.n; i++)
        json_array_append_new(
            by, json_pack("{s:s, s:I}", "status", sc.status[i], "count", (json_int_t)sc.count[i]));
    json_array_append_new(
        by, json_pack("{s:s, s:I}", "status", "Offline", "count", (json_int_t)offline));
    for (size_t i = 0; i < tc.n; i++)
        if (tc.count[i] > 0)
            json_array_append_new(tcec, json_pack("{s:i, s:I}", "tcec_status", tc.code[i], "count",
                                                  (json_int_t)tc.count[i]));
    *out = json_pack("{s:I, s:o, s:o}", "reported", (json_int_t)total, "by_status", by,
                     "by_tcec_status", tcec);
    return DB_OK;
}

static int today_json(struct db *db, int64_t today_start, json_t **out)
{
    static const char sql[] = "SELECT count(*), count(stopped_at), coalesce(sum(energy_wh), 0)"
                              " FROM ocpp_transactions WHERE started_at >= ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, today_start);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t wh = sqlite3_column_int64(st, 2);
        *out = json_pack("{s:I, s:I, s:I, s:I, s:f}", "since_at", (json_int_t)today_start,
                         "sessions", (json_int_t)sqlite3_column_int64(st, 0), "finished",
                         (json_int_t)sqlite3_column_int64(st, 1), "energy_wh", (json_int_t)wh,
                         "energy_kwh", (double)wh / 1000.0);
        rc = DB_OK;
    } else {
        rc = db_rc_from(db, rc, "dashboard_today");
    }
    sqlite3_reset(st);
    return rc;
}

static int pending_json(struct db *db, json_t **out)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM accounts WHERE role = 'operator' AND status = 'pending'),"
        " (SELECT count(*) FROM detections WHERE status = 'submitted'),"
        " (SELECT count(*) FROM access_applications WHERE status = 'submitted')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = json_pack("{s:I, s:I, s:I}", "accounts", (json_int_t)sqlite3_column_int64(st, 0),
                         "detections", (json_int_t)sqlite3_column_int64(st, 1),
                         "access_applications", (json_int_t)sqlite3_column_int64(st, 2));
        rc = DB_OK;
    } else {
        rc = db_rc_from(db, rc, "dashboard_pending");
    }
    sqlite3_reset(st);
    return rc;
}

static int violations_json(struct db *db, json_t **out)
{
    /* each source's newest by its rowid (no scan), then the newest of them all */
    static const char sql[] =
        "SELECT at, kind, subject, code, detail FROM ("
        " SELECT * FROM (SELECT at, 'ocpp_violation' AS kind, equipment_id AS subject, code,"
        "  coalesce(path, reason) AS detail, id FROM pile_violations ORDER BY id DESC LIMIT ?1)"
        " UNION ALL SELECT * FROM (SELECT at, 'handshake_refused', equipment_id, reason,"
        "  'HTTP ' || status || coalesce(', ' || peer, ''), id FROM ocpp_refusals"
        "  ORDER BY id DESC LIMIT ?1)"
        " UNION ALL SELECT * FROM (SELECT at, 'tcec_refused', operator_id, reason, interface, id"
        "  FROM (SELECT id, at, operator_id, reason, interface, direction FROM tcec_exchanges"
        "   ORDER BY id DESC LIMIT ?2) WHERE direction = 'in' AND reason IS NOT NULL"
        "  ORDER BY id DESC LIMIT ?1)"
        ") ORDER BY at DESC, id DESC LIMIT ?1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int(st, 1, DB_DASHBOARD_VIOLATIONS);
    sqlite3_bind_int(st, 2, DB_DASHBOARD_TCEC_SCAN);
    json_t *a = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(
            a, json_pack("{s:I, s:o, s:o, s:o, s:o}", "at", (json_int_t)sqlite3_column_int64(st, 0),
                         "kind", db_col_json_str(st, 1), "subject", db_col_json_str(st, 2), "code",
                         db_col_json_str(st, 3), "detail", db_col_json_str(st, 4)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(a);
        return db_rc_from(db, rc, "dashboard_violations");
    }
    *out = a;
    return DB_OK;
}

static int series_json(struct db *db, int64_t now, json_t **out)
{
    /* max(at) makes the other bare column (online) come from the row with the newest at */
    static const char sql[] =
        "SELECT max(at), online FROM pile_online_samples WHERE at > ?1 AND at <= ?2"
        " GROUP BY at / ?3 ORDER BY 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, now - DAY_SECONDS);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, DB_DASHBOARD_STEP_S);
    json_t *points = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(points,
                              json_pack("{s:I, s:I}", "at", (json_int_t)sqlite3_column_int64(st, 0),
                                        "online", (json_int_t)sqlite3_column_int64(st, 1)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(points);
        return db_rc_from(db, rc, "dashboard_series");
    }
    *out = json_pack("{s:i, s:I, s:I, s:o}", "step_s", DB_DASHBOARD_STEP_S, "from_at",
                     (json_int_t)(now - DAY_SECONDS), "to_at", (json_int_t)now, "points", points);
    return DB_OK;
}

int db_dashboard(struct db *db, int64_t now, int64_t today_start, json_t **out)
{
    *out = NULL;
    /* one read transaction: every figure from the same snapshot */
    int rc = sqlite3_exec(db->h, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_rc_from(db, rc, "dashboard_begin");
    int64_t accessed[NPROTOCOLS], online[NPROTOCOLS];
    json_t *v = json_pack("{s:I}", "generated_at", (json_int_t)now), *part = NULL;
    if ((rc = accessed_piles(db, accessed)) != DB_OK || (rc = online_piles(db, online)) != DB_OK)
        goto done;
    json_object_set_new(v, "piles", piles_json(accessed, online));
    if ((rc = connectors_json(db, &part)) != DB_OK)
        goto done;
    json_object_set_new(v, "connectors", part);
    if ((rc = today_json(db, today_start, &part)) != DB_OK)
        goto done;
    json_object_set_new(v, "today", part);
    if ((rc = pending_json(db, &part)) != DB_OK)
        goto done;
    json_object_set_new(v, "pending", part);
    if ((rc = violations_json(db, &part)) != DB_OK)
        goto done;
    json_object_set_new(v, "recent_violations", part);
    if ((rc = series_json(db, now, &part)) != DB_OK)
        goto done;
    json_object_set_new(v, "online_24h", part);
done:
    sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL); /* a read: nothing to keep or lose */
    if (rc != DB_OK) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return DB_OK;
}
