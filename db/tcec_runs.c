/* The reads of a tcec102-platform conformance run; see tcec_runs.h. */
#include "db/tcec_runs.h"
#include "db/db_internal.h"

#include <stdlib.h>

/* The accounts the platform of detection ?1 reports for (starting from the detection instead
 * of its account). */
#define RUN_OWNERS                                                                                 \
    "WITH me(account_id) AS (SELECT account_id FROM detections WHERE id = ?1),"                    \
    " owners(account_id) AS (" DB_TCEC_OWNERS("(SELECT account_id FROM me)") ") "

/* A row id and where its JSON object went, to attach children by their parent's row. */
struct slot {
    int64_t row;
    json_t *children; /* borrowed: the parent's "piles" or "connectors" array */
};

static int by_row(const void *a, const void *b)
{
    int64_t x = ((const struct slot *)a)->row, y = ((const struct slot *)b)->row;
    return x < y ? -1 : x > y;
}

static json_t *children_of(struct slot *slots, size_t n, int64_t row)
{
    struct slot key = {.row = row};
    struct slot *s = bsearch(&key, slots, n, sizeof *slots, by_row);
    return s ? s->children : NULL;
}

/* The stored data of column `col` as an object (a damaged row gives {}). New reference. */
static json_t *col_object(sqlite3_stmt *st, int col)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

int db_tcec_run_stations(struct db *db, int64_t detection_id, json_t **out)
{
    static const char stations_sql[] =
        RUN_OWNERS "SELECT s.id, s.station_id, s.account_id, s.data FROM stations s"
                   " JOIN owners o ON o.account_id = s.account_id WHERE s.status = 'accessed'"
                   " ORDER BY s.station_id, s.id LIMIT ?2";
    static const char piles_sql[] =
        RUN_OWNERS "SELECT p.id, p.station_row, p.equipment_id, p.data FROM piles p"
                   " JOIN stations s ON s.id = p.station_row"
                   " JOIN owners o ON o.account_id = s.account_id"
                   " WHERE s.status = 'accessed' AND p.status = 'accessed'"
                   " ORDER BY p.equipment_id LIMIT ?2";
    static const char connectors_sql[] = RUN_OWNERS
        "SELECT c.pile_row, c.connector_id, c.ocpp_connector_id, c.data FROM connectors c"
        " JOIN piles p ON p.id = c.pile_row JOIN stations s ON s.id = p.station_row"
        " JOIN owners o ON o.account_id = s.account_id"
        " WHERE s.status = 'accessed' AND p.status = 'accessed'"
        " ORDER BY c.pile_row, c.ocpp_connector_id, c.connector_id LIMIT ?2";
    *out = NULL;
    json_t *list = json_array();
    struct slot *stations = NULL, *piles = NULL;
    size_t ns = 0, np = 0;
    int rc = DB_ERROR, step;
    if (!list)
        return DB_ERROR;

    sqlite3_stmt *st = db_stmt(db, stations_sql);
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, detection_id);
    sqlite3_bind_int64(st, 2, DB_TCEC_RUN_STATIONS_MAX + 1);
    if (!(stations = malloc((DB_TCEC_RUN_STATIONS_MAX + 1) * sizeof *stations)))
        goto fail_reset;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (ns == DB_TCEC_RUN_STATIONS_MAX) {
            rc = DB_CONFLICT;
            goto fail_reset;
        }
        json_t *piles_arr = json_array();
        json_t *o = json_pack("{s:o, s:I, s:o, s:o}", "station_id", db_col_json_str(st, 1),
                              "account_id", (json_int_t)sqlite3_column_int64(st, 2), "data",
                              col_object(st, 3), "piles", piles_arr);
        if (!o || json_array_append_new(list, o) != 0)
            goto fail_reset;
        stations[ns++] = (struct slot){sqlite3_column_int64(st, 0), piles_arr};
    }
    if (step != SQLITE_DONE) {
        rc = db_rc_from(db, step, "tcec_run_stations");
        goto fail_reset;
    }
    sqlite3_reset(st);
    if (ns)
        qsort(stations, ns, sizeof *stations, by_row);

    if (!(st = db_stmt(db, piles_sql)))
        goto fail;
    sqlite3_bind_int64(st, 1, detection_id);
    sqlite3_bind_int64(st, 2, DB_TCEC_RUN_PILES_MAX + 1);
    size_t cap = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (np == DB_TCEC_RUN_PILES_MAX) {
            rc = DB_CONFLICT;
            goto fail_reset;
        }
        if (np == cap) {
            cap = cap ? cap * 2 : 64;
            struct slot *n = realloc(piles, cap * sizeof *n);
            if (!n)
                goto fail_reset;
            piles = n;
        }
        json_t *parent = children_of(stations, ns, sqlite3_column_int64(st, 1));
        json_t *cons = json_array();
        json_t *o = json_pack("{s:o, s:o, s:o}", "equipment_id", db_col_json_str(st, 2), "data",
                              col_object(st, 3), "connectors", cons);
        if (!o || !parent || json_array_append_new(parent, o) != 0)
            goto fail_reset;
        piles[np++] = (struct slot){sqlite3_column_int64(st, 0), cons};
    }
    if (step != SQLITE_DONE) {
        rc = db_rc_from(db, step, "tcec_run_piles");
        goto fail_reset;
    }
    sqlite3_reset(st);
    if (np) /* qsort(NULL, 0) is undefined behaviour */
        qsort(piles, np, sizeof *piles, by_row);

    if (!(st = db_stmt(db, connectors_sql)))
        goto fail;
    sqlite3_bind_int64(st, 1, detection_id);
    sqlite3_bind_int64(st, 2, DB_TCEC_RUN_CONNECTORS_MAX + 1);
    size_t nc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (nc++ == DB_TCEC_RUN_CONNECTORS_MAX) {
            rc = DB_CONFLICT;
            goto fail_reset;
        }
        json_t *parent = children_of(piles, np, sqlite3_column_int64(st, 0));
        json_t *o = json_pack("{s:o, s:I, s:o}", "connector_id", db_col_json_str(st, 1),
                              "ocpp_connector_id", (json_int_t)sqlite3_column_int64(st, 2), "data",
                              col_object(st, 3));
        if (!o || !parent || json_array_append_new(parent, o) != 0)
            goto fail_reset;
    }
    if (step != SQLITE_DONE) {
        rc = db_rc_from(db, step, "tcec_run_connectors");
        goto fail_reset;
    }
    sqlite3_reset(st);
    free(stations);
    free(piles);
    *out = list;
    return DB_OK;
fail_reset:
    sqlite3_reset(st);
fail:
    free(stations);
    free(piles);
    json_decref(list);
    return rc;
}

int db_tcec_run_inbound(struct db *db, const char *operator_id, int64_t since, int64_t after_id,
                        int64_t limit, json_t **out)
{
    static const char sql[] =
        "SELECT id, interface, at, ret, msg, reason, request, response, sent_at FROM tcec_exchanges"
        " WHERE operator_id = ?1 AND direction = 'in' AND id > ?2 AND at >= ?3"
        " ORDER BY id LIMIT ?4";
    *out = NULL;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, since);
    sqlite3_bind_int64(st, 4, limit);
    json_t *arr = json_array();
    int rc;
    while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *it =
            json_pack("{s:I, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                      (json_int_t)sqlite3_column_int64(st, 0), "interface", db_col_json_str(st, 1),
                      "at", (json_int_t)sqlite3_column_int64(st, 2), "ret", db_col_json_int(st, 3),
                      "msg", db_col_json_str(st, 4), "reason", db_col_json_str(st, 5), "request",
                      db_col_json_str(st, 6), "response", db_col_json_str(st, 7), "sent_at",
                      db_col_json_int(st, 8));
        if (!it || json_array_append_new(arr, it) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!arr) {
        sqlite3_reset(st);
        return DB_ERROR;
    }
    if (rc != SQLITE_DONE) {
        rc = db_rc_from(db, rc, "tcec_run_inbound");
        sqlite3_reset(st);
        json_decref(arr);
        return rc;
    }
    sqlite3_reset(st);
    *out = arr;
    return DB_OK;
}
