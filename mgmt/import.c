/* xlsx import: read every row of the sheets through the shared column rules, check the file
 * as a whole (duplicates, references, connector numbering), and stage it in one transaction
 * only when nothing is wrong. */
#include "mgmt/import.h"
#include "common/config.h"
#include "common/log.h"
#include "db/access.h"
#include "db/records.h"
#include "mgmt/record_form.h"
#include "mgmt/xlsx_read.h"
#include "protocol/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHEET_COLS 256

struct ctx {
    struct mgmt_req *req;
    json_t *problems;
    int *truncated;
    char today[11];
};

/* One data sheet being read. */
struct sheet {
    struct ctx *ctx;
    enum rec_sheet which;
    const char *name;
    const struct rec_column *cols;
    size_t ncols;
    int map[MAX_SHEET_COLS]; /* xlsx column -> index in cols, or -1 */
    int header_seen;
    json_t *rows; /* [{row, rec, texts}] */
};

static void problem(struct ctx *c, const char *sheet, unsigned row, const char *column,
                    const char *field, const char *value, const char *code, const char *reason,
                    const char *suggestion)
{
    if (json_array_size(c->problems) >= IMPORT_MAX_PROBLEMS) {
        *c->truncated = 1;
        return;
    }
    json_array_append_new(c->problems,
                          json_pack("{s:s, s:o, s:s?, s:s?, s:s?, s:s, s:s, s:s?}", "sheet", sheet,
                                    "row", row ? json_integer(row) : json_null(), "column", column,
                                    "field", field, "value", value, "code", code, "reason", reason,
                                    "suggestion", suggestion && *suggestion ? suggestion : NULL));
}

static enum rec_cell cell_kind(const struct xlsx_cell *cell)
{
    switch (cell->type) {
    case XLSX_NUMBER:
        return REC_CELL_NUMBER;
    case XLSX_DATE:
        return REC_CELL_DATE;
    case XLSX_EMPTY:
        return REC_CELL_EMPTY;
    default:
        return cell->len ? REC_CELL_STRING : REC_CELL_EMPTY;
    }
}

static void read_header(struct sheet *s, const struct xlsx_cell *cells, size_t n)
{
    int found[64] = {0};
    for (int i = 0; i < MAX_SHEET_COLS; i++)
        s->map[i] = -1;
    for (size_t i = 0; i < n; i++) {
        if (cells[i].col >= MAX_SHEET_COLS || cells[i].type != XLSX_STRING)
            continue;
        char label[128];
        snprintf(label, sizeof label, "%.*s", (int)cells[i].len, cells[i].text);
        const struct rec_column *col = rec_column_by_label(s->which, label);
        if (!col)
            continue;
        int idx = (int)(col - s->cols);
        if (idx >= 0 && idx < 64 && !found[idx]) {
            s->map[cells[i].col] = idx;
            found[idx] = 1;
        }
    }
    for (size_t k = 0; k < s->ncols && k < 64; k++)
        if (s->cols[k].required && !found[k])
            problem(s->ctx, s->name, 1, s->cols[k].label, s->cols[k].field, NULL, "missing_column",
                    "the header row lacks this required column", NULL);
}

static int on_row(void *arg, unsigned row, const struct xlsx_cell *cells, size_t n)
{
    struct sheet *s = arg;
    if (!s->header_seen) {
        s->header_seen = 1;
        read_header(s, cells, n);
        return 0;
    }
    const struct xlsx_cell *by_col[64] = {0};
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        if (cells[i].col >= MAX_SHEET_COLS || s->map[cells[i].col] < 0)
            continue;
        by_col[s->map[cells[i].col]] = &cells[i];
        any |= cell_kind(&cells[i]) != REC_CELL_EMPTY;
    }
    if (!any)
        return 0; /* an empty row, or one with only unknown columns */
    json_t *rec = json_object(), *texts = json_array();
    char canon[REC_OUT_MAX];
    for (size_t k = 0; k < s->ncols && k < 64; k++) {
        const struct rec_column *col = &s->cols[k];
        const struct xlsx_cell *cell = by_col[k];
        enum rec_cell kind = cell ? cell_kind(cell) : REC_CELL_EMPTY;
        json_t *t = json_null();
        /* the whole cell, however long: the rules decide, nothing is cut here */
        char *text = cell ? strndup(cell->text, cell->len) : strdup("");
        if (kind != REC_CELL_EMPTY || col->required) {
            struct rec_problem p;
            memset(&p, 0, sizeof p);
            if (rec_check_value(col, kind, text, s->ctx->today, canon, sizeof canon, &p) < 0) {
                problem(s->ctx, s->name, row, col->label, col->field,
                        kind == REC_CELL_EMPTY ? NULL : text, p.code, p.reason, p.suggestion);
            } else if (kind != REC_CELL_EMPTY) {
                json_object_set_new(rec, col->field, record_typed(col, canon));
                t = json_string(canon);
            }
        }
        json_array_append_new(texts, t);
        free(text);
    }
    json_array_append_new(
        s->rows, json_pack("{s:I, s:o, s:o}", "row", (json_int_t)row, "rec", rec, "texts", texts));
    return 0;
}

/* Reads sheet `which` of the book into s->rows; file-level problems are reported. */
static int read_sheet(struct ctx *c, struct xlsx_book *book, enum rec_sheet which, struct sheet *s)
{
    memset(s, 0, sizeof *s);
    s->ctx = c;
    s->which = which;
    s->name = rec_sheet_name(which);
    s->cols = rec_columns(which, &s->ncols);
    s->rows = json_array();
    char err[256];
    int rc = xlsx_read_sheet(book, s->name, on_row, s, err, sizeof err);
    if (rc == XLSX_NO_SHEET) {
        problem(c, s->name, 0, NULL, NULL, NULL, "missing_sheet",
                "the workbook has no sheet with this name: use the template", NULL);
        return -1;
    }
    if (rc == XLSX_TOO_MANY_ROWS) {
        char msg[400];
        snprintf(msg, sizeof msg, "at most %lld data rows per sheet (%s)",
                 c->req->cfg->max_import_rows, err);
        problem(c, s->name, 0, NULL, NULL, NULL, "too_many_rows", msg, NULL);
        return -1;
    }
    if (rc != XLSX_OK) {
        int big = rc == XLSX_TOO_LARGE || rc == XLSX_TOO_LONG || rc == XLSX_TOO_MANY_CELLS;
        problem(c, s->name, 0, NULL, NULL, NULL, big ? "too_large" : "not_xlsx", err, NULL);
        return -1;
    }
    if (!s->header_seen)
        problem(c, s->name, 0, NULL, NULL, NULL, "missing_column", "the sheet is empty", NULL);
    return s->header_seen ? 0 : -1;
}

static const char *rec_str(json_t *r, const char *field)
{
    return json_string_value(json_object_get(json_object_get(r, "rec"), field));
}

static unsigned rec_row(json_t *r)
{
    return (unsigned)json_integer_value(json_object_get(r, "row"));
}

static size_t col_index(enum rec_sheet which, const char *field);

static const char *label_of(enum rec_sheet which, const char *field)
{
    size_t n, i = col_index(which, field);
    const struct rec_column *cols = rec_columns(which, &n);
    return i < n ? cols[i].label : field;
}

static size_t col_index(enum rec_sheet which, const char *field)
{
    size_t n;
    const struct rec_column *cols = rec_columns(which, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].field, field) == 0)
            return i;
    return n;
}

/* Reports a key seen twice in the file; `seen` maps key -> first row. */
static int dup_in_file(struct ctx *c, struct sheet *s, json_t *seen, json_t *r, const char *field)
{
    const char *key = rec_str(r, field);
    if (!key)
        return 0;
    json_t *first = json_object_get(seen, key);
    if (first) {
        char msg[160];
        snprintf(msg, sizeof msg, "also on row %lld of this sheet",
                 (long long)json_integer_value(first));
        problem(c, s->name, rec_row(r), label_of(s->which, field), field, key, "duplicate_in_file",
                msg, NULL);
        return 1;
    }
    json_object_set_new(seen, key, json_integer(rec_row(r)));
    return 0;
}

static char *dump_rec(json_t *r)
{
    return json_dumps(json_object_get(r, "rec"), MGMT_JSON_FLAGS);
}

static int stage_stations(struct ctx *c, int64_t app, struct sheet *s, int64_t *staged)
{
    struct mgmt_req *req = c->req;
    json_t *seen = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(s->rows, i, r)
    {
        if (dup_in_file(c, s, seen, r, "station_id"))
            continue;
        const char *sid = rec_str(r, "station_id"), *area = rec_str(r, "area_code");
        struct db_record_row found;
        if (sid && db_station_find(req->db, req->caller.account_id, sid, &found) == DB_OK &&
            found.application_id != app)
            problem(c, s->name, rec_row(r), label_of(REC_STATIONS, "station_id"), "station_id", sid,
                    "duplicate_in_db",
                    "you already have a station with this id (skip the stations step to use it)",
                    NULL);
        if (area && !rec_area_accepted(area, req->cfg->area_code_prefixes)) {
            char msg[160];
            snprintf(msg, sizeof msg, "this platform accepts area codes starting with %s",
                     req->cfg->area_code_prefixes);
            problem(c, s->name, rec_row(r), label_of(REC_STATIONS, "area_code"), "area_code", area,
                    "out_of_range", msg, NULL);
        }
    }
    json_t *staged_before = db_access_staged_stations(req->db, app);
    const char *key;
    json_t *v;
    json_object_foreach(staged_before, key, v)
    {
        if (!json_object_get(seen, key) && json_integer_value(json_array_get(v, 1)) > 0)
            problem(c, s->name, 0, label_of(REC_STATIONS, "station_id"), "station_id", key,
                    "unknown_station",
                    "this station was staged before and staged piles use it: keep it in the "
                    "file",
                    NULL);
    }
    int rc = 0;
    if (json_array_size(c->problems)) {
        rc = 1;
        goto out;
    }
    if (db_begin(req->db) != DB_OK) {
        rc = -1;
        goto out;
    }
    json_object_foreach(staged_before, key, v)
    {
        if (!json_object_get(seen, key) &&
            db_station_delete(req->db, json_integer_value(json_array_get(v, 0))) != DB_OK)
            rc = -1;
    }
    json_array_foreach(s->rows, i, r)
    {
        if (rc)
            break;
        json_t *rec = json_object_get(r, "rec");
        const char *sid = rec_str(r, "station_id");
        json_t *before = json_object_get(staged_before, sid);
        char *data = dump_rec(r);
        int64_t row;
        const char *name = rec_str(r, "name"), *area = rec_str(r, "area_code");
        int64_t type = json_integer_value(json_object_get(rec, "station_type"));
        int drc = before ? db_station_update(req->db, json_integer_value(json_array_get(before, 0)),
                                             name, area, type, data)
                         : db_station_insert(req->db, req->caller.account_id, app, "draft", sid,
                                             name, area, type, data, &row);
        free(data);
        if (drc != DB_OK)
            rc = -1;
    }
    if (rc == 0 && db_commit(req->db) == DB_OK)
        *staged = (int64_t)json_array_size(s->rows);
    else {
        db_rollback(req->db);
        rc = -1;
    }
out:
    json_decref(staged_before);
    json_decref(seen);
    return rc;
}

/* Checks the connectors of the file against its piles; fills pile equipment_id -> array of
 * connector entries. */
static void check_connectors(struct ctx *c, int64_t app, struct sheet *ps, struct sheet *cs,
                             json_t *piles_by_id, json_t *conns_by_pile)
{
    struct mgmt_req *req = c->req;
    json_t *seen = json_object();
    size_t i, ncols;
    json_t *r;
    const struct rec_column *cols = rec_columns(REC_CONNECTORS, &ncols);
    json_array_foreach(cs->rows, i, r)
    {
        const char *eid = rec_str(r, "equipment_id"), *cid = rec_str(r, "connector_id");
        dup_in_file(c, cs, seen, r, "connector_id");
        json_t *pile = eid ? json_object_get(piles_by_id, eid) : NULL;
        if (eid && !pile) {
            problem(c, cs->name, rec_row(r), label_of(REC_CONNECTORS, "equipment_id"),
                    "equipment_id", eid, "unknown_pile",
                    "no row of the 充电桩 sheet has this equipment id", NULL);
            continue;
        }
        int64_t owner = 0;
        if (cid && db_connector_owner(req->db, cid, &owner) == DB_OK) {
            /* the owner is fine only when it is one of this application's staged piles,
             * which this file replaces */
            json_t *mine = db_pile_view(req->db, owner);
            int64_t owner_app = json_integer_value(json_object_get(mine, "application_id"));
            json_decref(mine);
            if (owner_app != app)
                problem(c, cs->name, rec_row(r), label_of(REC_CONNECTORS, "connector_id"),
                        "connector_id", cid, "duplicate_in_db",
                        "another pile on the platform already uses this connector id", NULL);
        }
        if (!pile)
            continue;
        const char *vals[64] = {0};
        json_t *texts = json_object_get(r, "texts");
        for (size_t k = 0; k < ncols && k < 64; k++)
            vals[k] = json_string_value(json_array_get(texts, k));
        const char *ppower = json_string_value(
            json_array_get(json_object_get(pile, "texts"), col_index(REC_PILES, "power")));
        size_t bad = 0;
        struct rec_problem p;
        memset(&p, 0, sizeof p);
        if (ppower && rec_check_connector(vals, ppower, &bad, &p) < 0)
            problem(c, cs->name, rec_row(r), cols[bad].label, cols[bad].field, vals[bad], p.code,
                    p.reason, p.suggestion);
        json_t *list = json_object_get(conns_by_pile, eid);
        if (!list) {
            list = json_array();
            json_object_set_new(conns_by_pile, eid, list);
        }
        json_array_append(list, r);
    }
    /* numbering 1..n per pile, and piles without connectors */
    json_array_foreach(ps->rows, i, r)
    {
        const char *eid = rec_str(r, "equipment_id");
        json_t *list = eid ? json_object_get(conns_by_pile, eid) : NULL;
        if (eid && !list) {
            problem(c, ps->name, rec_row(r), label_of(REC_PILES, "equipment_id"), "equipment_id",
                    eid, "no_connectors",
                    "this pile has no row in the 充电枪 sheet: a pile has at least one connector",
                    NULL);
            continue;
        }
        size_t n = json_array_size(list), j;
        json_t *cr;
        char *seen_no = calloc(n + 1, 1);
        json_array_foreach(list, j, cr)
        {
            json_int_t no = json_integer_value(
                json_object_get(json_object_get(cr, "rec"), "ocpp_connector_id"));
            if (!json_object_get(json_object_get(cr, "rec"), "ocpp_connector_id"))
                continue;
            if (no < 1 || (size_t)no > n || seen_no[no]) {
                char msg[160], val[32];
                snprintf(msg, sizeof msg,
                         "the %zu connectors of pile %s must be numbered 1..%zu, each once", n, eid,
                         n);
                snprintf(val, sizeof val, "%lld", (long long)no);
                problem(c, cs->name, rec_row(cr), label_of(REC_CONNECTORS, "ocpp_connector_id"),
                        "ocpp_connector_id", val, "bad_sequence", msg, NULL);
            } else {
                seen_no[no] = 1;
            }
        }
        free(seen_no);
    }
    json_decref(seen);
}

static int stage_piles(struct ctx *c, int64_t app, struct sheet *ps, struct sheet *cs,
                       int64_t *staged)
{
    struct mgmt_req *req = c->req;
    json_t *seen = json_object(), *piles_by_id = json_object(), *conns = json_object();
    json_t *station_rows = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(ps->rows, i, r)
    {
        if (dup_in_file(c, ps, seen, r, "equipment_id"))
            continue;
        const char *eid = rec_str(r, "equipment_id"), *sid = rec_str(r, "station_id");
        if (eid)
            json_object_set(piles_by_id, eid, r);
        struct db_record_row found;
        if (eid && db_pile_find(req->db, eid, &found) == DB_OK && found.application_id != app)
            problem(c, ps->name, rec_row(r), label_of(REC_PILES, "equipment_id"), "equipment_id",
                    eid, "duplicate_in_db",
                    "a pile with this EquipmentID is already registered on the platform", NULL);
        if (sid && !json_object_get(station_rows, sid)) {
            if (db_station_find(req->db, req->caller.account_id, sid, &found) == DB_OK)
                json_object_set_new(station_rows, sid, json_integer(found.row));
            else
                problem(c, ps->name, rec_row(r), label_of(REC_PILES, "station_id"), "station_id",
                        sid, "unknown_station",
                        "none of your stations (nor the stations of this application) has this "
                        "id",
                        NULL);
        }
    }
    check_connectors(c, app, ps, cs, piles_by_id, conns);
    int rc = 0;
    if (json_array_size(c->problems)) {
        rc = 1;
        goto out;
    }
    if (db_begin(req->db) != DB_OK || db_access_unstage_piles(req->db, app) != DB_OK) {
        db_rollback(req->db);
        rc = -1;
        goto out;
    }
    json_array_foreach(ps->rows, i, r)
    {
        json_t *rec = json_object_get(r, "rec");
        const char *eid = rec_str(r, "equipment_id");
        char *data = dump_rec(r);
        int64_t row = 0;
        int drc = db_pile_insert(
            req->db, req->caller.account_id, app, "draft", eid,
            json_integer_value(json_object_get(station_rows, rec_str(r, "station_id"))),
            json_integer_value(json_object_get(rec, "equipment_type")), rec_str(r, "protocol"),
            data, &row);
        free(data);
        size_t j;
        json_t *cr;
        json_array_foreach(json_object_get(conns, eid), j, cr)
        {
            if (drc != DB_OK)
                break;
            json_t *crec = json_deep_copy(json_object_get(cr, "rec"));
            const char *cid = json_string_value(json_object_get(crec, "connector_id"));
            json_int_t no = json_integer_value(json_object_get(crec, "ocpp_connector_id"));
            char *cid_copy = strdup(cid ? cid : "");
            json_object_del(crec, "connector_id");
            json_object_del(crec, "ocpp_connector_id");
            json_object_del(crec, "equipment_id");
            char *cdata = json_dumps(crec, MGMT_JSON_FLAGS);
            drc = db_connector_insert(req->db, row, cid_copy, no, cdata);
            free(cdata);
            free(cid_copy);
            json_decref(crec);
        }
        if (drc != DB_OK) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && db_commit(req->db) == DB_OK) {
        *staged = (int64_t)json_array_size(ps->rows);
    } else {
        db_rollback(req->db);
        rc = -1;
    }
out:
    json_decref(seen);
    json_decref(piles_by_id);
    json_decref(conns);
    json_decref(station_rows);
    return rc;
}

int import_file(struct mgmt_req *req, enum import_kind kind, int64_t app_id, const char *path,
                json_t *problems, int *truncated, int64_t *staged)
{
    struct ctx c = {.req = req, .problems = problems, .truncated = truncated};
    record_today(c.today);
    *truncated = 0;
    *staged = 0;
    struct xlsx_limits lim;
    xlsx_limits_default(&lim);
    lim.max_file_bytes = (size_t)req->cfg->max_import_bytes;
    lim.max_rows = (size_t)req->cfg->max_import_rows + 1; /* the header row */
    struct xlsx_book *book = NULL;
    char err[256];
    int orc = xlsx_open(path, &lim, &book, err, sizeof err);
    if (orc != XLSX_OK) {
        problem(&c, kind == IMPORT_STATIONS ? "充电站" : "充电桩", 0, NULL, NULL, NULL,
                orc == XLSX_TOO_LARGE ? "too_large" : "not_xlsx", err, NULL);
        return 1;
    }
    struct sheet a, b;
    memset(&b, 0, sizeof b);
    int rc;
    if (kind == IMPORT_STATIONS) {
        rc = read_sheet(&c, book, REC_STATIONS, &a);
        /* the whole-file checks run on the valid values even when some cells are wrong,
         * so that one answer lists every problem; staging happens only without any */
        rc = rc == 0 ? stage_stations(&c, app_id, &a, staged) : 1;
    } else {
        int ra = read_sheet(&c, book, REC_PILES, &a);
        int rb = read_sheet(&c, book, REC_CONNECTORS, &b);
        rc = ra == 0 && rb == 0 ? stage_piles(&c, app_id, &a, &b, staged) : 1;
    }
    xlsx_close(book);
    json_decref(a.rows);
    json_decref(b.rows);
    if (rc == 0)
        log_info("mgmt", "import_staged", "application=%lld kind=%s rows=%lld", (long long)app_id,
                 kind == IMPORT_STATIONS ? "stations" : "piles", (long long)*staged);
    return rc;
}
