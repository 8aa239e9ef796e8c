/* xlsx import: read every row of the sheets through the shared column rules (import_sheet.c),
 * check the file as a whole (duplicates, references, connector numbering), and stage it in one
 * transaction only when nothing is wrong. */
#include "mgmt/import.h"
#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"
#include "db/access.h"
#include "db/records.h"
#include "mgmt/import_internal.h"
#include "mgmt/record_form.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a string -> index map over texts of the sheets ---- */

/* Open addressing with FNV-1a, at most half full. Keys are borrowed: the texts of a sheet,
 * which no longer move once it is read. (glibc's hsearch_r hashes only a key's first eight
 * bytes, and equipment ids share long prefixes: almost every lookup collided.) */
struct keymap {
    struct slot {
        const char *key;
        intptr_t value;
    } * slots;
    size_t mask;
};

static int keymap_init(struct keymap *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2) {
        if (cap > SIZE_MAX / 4 / sizeof *m->slots)
            return -1;
        cap *= 2;
    }
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    return m->slots ? 0 : -1;
}

static void keymap_free(struct keymap *m)
{
    free(m->slots);
    m->slots = NULL;
}

/* The value stored for `key`, or -1 (then `v` is stored when v >= 0). The caller puts at most
 * the n keys it sized the map for. */
static intptr_t keymap_put(struct keymap *m, const char *key, intptr_t v)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    for (size_t i = (size_t)h & m->mask;; i = (i + 1) & m->mask) {
        struct slot *e = &m->slots[i];
        if (!e->key) {
            if (v >= 0) {
                e->key = key;
                e->value = v;
            }
            return -1;
        }
        if (strcmp(e->key, key) == 0)
            return e->value;
    }
}

static intptr_t keymap_get(struct keymap *m, const char *key)
{
    return keymap_put(m, key, -1);
}

/* ---- typed views of a row's canonical texts (what record_typed makes of them) ---- */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
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

static const char *label_of(enum rec_sheet which, const char *field)
{
    size_t n, i = col_index(which, field);
    const struct rec_column *cols = rec_columns(which, &n);
    return i < n ? cols[i].label : field;
}

/* The value of column k of row i when its record holds a JSON string there, else NULL. */
static const char *rec_str(const struct import_sheet *s, size_t i, size_t k)
{
    const char *t = k < s->ncols ? import_text(s, i, k) : NULL;
    if (!t)
        return NULL;
    switch (s->cols[k].kind) {
    case REC_INT:
    case REC_DECIMAL:
        return NULL;
    case REC_ENUM:
        return all_digits(t) ? NULL : t;
    default:
        return t;
    }
}

/* The value of column k of row i when its record holds a JSON integer there, else 0. */
static long long rec_int(const struct import_sheet *s, size_t i, size_t k)
{
    const char *t = k < s->ncols ? import_text(s, i, k) : NULL;
    if (!t)
        return 0;
    if (s->cols[k].kind == REC_INT || (s->cols[k].kind == REC_ENUM && all_digits(t)))
        return strtoll(t, NULL, 10);
    return 0;
}

/* Reports a key seen twice in the file; `seen` maps key -> first row index. */
static int dup_in_file(struct import_ctx *c, const struct import_sheet *s, struct keymap *seen,
                       size_t i, size_t k)
{
    const char *key = rec_str(s, i, k);
    if (!key)
        return 0;
    intptr_t first = keymap_put(seen, key, (intptr_t)i);
    if (first >= 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "also on row %lld of this sheet", (long long)s->rownum[first]);
        import_problem(c, s->name, s->rownum[i], s->cols[k].label, s->cols[k].field, key,
                       "duplicate_in_file", msg, NULL);
        return 1;
    }
    return 0;
}

/* ---- stations ---- */

static int stage_stations(struct import_ctx *c, int64_t app, struct import_sheet *s,
                          int64_t *staged)
{
    struct mgmt_req *req = c->req;
    const size_t k_sid = col_index(REC_STATIONS, "station_id"),
                 k_area = col_index(REC_STATIONS, "area_code"),
                 k_name = col_index(REC_STATIONS, "name"),
                 k_type = col_index(REC_STATIONS, "station_type");
    struct keymap seen = {0};
    json_t *staged_before = NULL;
    int64_t saved_cache = 0;
    int rc = 0;
    if (keymap_init(&seen, s->nrows) < 0)
        return -1;
    /* One transaction for the checks and the writes: the lookups then share one read snapshot
     * (each lookup outside one starts and ends a read transaction of its own), and what was
     * checked is what gets written. */
    if (db_access_stage_begin(req->db, &saved_cache) != DB_OK) {
        rc = -1;
        goto out;
    }
    for (size_t i = 0; i < s->nrows; i++) {
        if (dup_in_file(c, s, &seen, i, k_sid))
            continue;
        const char *sid = rec_str(s, i, k_sid), *area = rec_str(s, i, k_area);
        struct db_record_row found;
        if (sid && db_station_find(req->db, req->caller.account_id, sid, &found) == DB_OK &&
            found.application_id != app)
            import_problem(
                c, s->name, s->rownum[i], label_of(REC_STATIONS, "station_id"), "station_id", sid,
                "duplicate_in_db",
                "you already have a station with this id (skip the stations step to use it)", NULL);
        if (area && !rec_area_accepted(area, req->cfg->area_code_prefixes)) {
            char msg[160];
            snprintf(msg, sizeof msg, "this platform accepts area codes starting with %s",
                     req->cfg->area_code_prefixes);
            import_problem(c, s->name, s->rownum[i], label_of(REC_STATIONS, "area_code"),
                           "area_code", area, "out_of_range", msg, NULL);
        }
    }
    staged_before = db_access_staged_stations(req->db, app);
    const char *key;
    json_t *v;
    json_object_foreach(staged_before, key, v)
    {
        if (keymap_get(&seen, key) < 0 && json_integer_value(json_array_get(v, 1)) > 0)
            import_problem(c, s->name, 0, label_of(REC_STATIONS, "station_id"), "station_id", key,
                           "unknown_station",
                           "this station was staged before and staged piles use it: keep it in "
                           "the file",
                           NULL);
    }
    if (json_array_size(c->problems)) {
        rc = 1;
        goto out;
    }
    json_object_foreach(staged_before, key, v)
    {
        if (keymap_get(&seen, key) < 0 &&
            db_station_delete(req->db, json_integer_value(json_array_get(v, 0))) != DB_OK)
            rc = -1;
    }
    for (size_t i = 0; i < s->nrows && !rc; i++) {
        const char *sid = rec_str(s, i, k_sid);
        json_t *before = sid ? json_object_get(staged_before, sid) : NULL;
        const char *data = import_json(s, i);
        int64_t row;
        const char *name = rec_str(s, i, k_name), *area = rec_str(s, i, k_area);
        int64_t type = rec_int(s, i, k_type);
        int drc = before ? db_station_update(req->db, json_integer_value(json_array_get(before, 0)),
                                             name, area, type, data)
                         : db_station_insert(req->db, req->caller.account_id, app, "draft", sid,
                                             name, area, type, data, &row);
        if (drc != DB_OK)
            rc = -1;
    }
    if (rc == 0 && db_commit(req->db) == DB_OK)
        *staged = (int64_t)s->nrows;
    else
        rc = -1;
out:
    db_access_stage_end(req->db, saved_cache); /* rolls back unless committed */
    json_decref(staged_before);
    keymap_free(&seen);
    return rc;
}

/* ---- piles and their connectors ---- */

/* The file's piles: equipment_id -> first pile row, and each such pile's connector rows as a
 * list in sheet order (head/tail per pile row, next per connector row). */
struct pile_index {
    struct keymap by_id;
    size_t *head, *tail, *next;
    char *seen_no; /* scratch of the numbering check: a pile has at most every connector row */
};

#define NO_ROW SIZE_MAX

/* Checks the connectors of the file against its piles and lists each pile's connectors. */
static void check_connectors(struct import_ctx *c, int64_t app, struct import_sheet *ps,
                             struct import_sheet *cs, struct pile_index *pi, struct keymap *seen)
{
    struct mgmt_req *req = c->req;
    size_t ncols;
    const struct rec_column *cols = rec_columns(REC_CONNECTORS, &ncols);
    const size_t k_eid = col_index(REC_CONNECTORS, "equipment_id"),
                 k_cid = col_index(REC_CONNECTORS, "connector_id"),
                 k_no = col_index(REC_CONNECTORS, "ocpp_connector_id"),
                 k_ppower = col_index(REC_PILES, "power");
    for (size_t i = 0; i < cs->nrows; i++) {
        const char *eid = rec_str(cs, i, k_eid), *cid = rec_str(cs, i, k_cid);
        dup_in_file(c, cs, seen, i, k_cid);
        intptr_t pile = eid ? keymap_get(&pi->by_id, eid) : -1;
        if (eid && pile < 0) {
            import_problem(c, cs->name, cs->rownum[i], label_of(REC_CONNECTORS, "equipment_id"),
                           "equipment_id", eid, "unknown_pile",
                           "no row of the 充电桩 sheet has this equipment id", NULL);
            continue;
        }
        int64_t owner_app = 0;
        /* the owner is fine only when it is one of this application's staged piles, which
         * this file replaces */
        if (cid && db_connector_owner_app(req->db, cid, &owner_app) == DB_OK && owner_app != app)
            import_problem(c, cs->name, cs->rownum[i], label_of(REC_CONNECTORS, "connector_id"),
                           "connector_id", cid, "duplicate_in_db",
                           "another pile on the platform already uses this connector id", NULL);
        if (pile < 0)
            continue;
        const char *vals[IMPORT_MAX_FIELDS] = {0};
        for (size_t k = 0; k < ncols && k < IMPORT_MAX_FIELDS; k++)
            vals[k] = import_text(cs, i, k);
        const char *ppower = k_ppower < ps->ncols ? import_text(ps, (size_t)pile, k_ppower) : NULL;
        size_t bad = 0;
        struct rec_problem p;
        memset(&p, 0, sizeof p);
        if (ppower && rec_check_connector(vals, ppower, &bad, &p) < 0)
            import_problem(c, cs->name, cs->rownum[i], cols[bad].label, cols[bad].field, vals[bad],
                           p.code, p.reason, p.suggestion);
        if (pi->head[pile] == NO_ROW)
            pi->head[pile] = i;
        else
            pi->next[pi->tail[pile]] = i;
        pi->tail[pile] = i;
    }
    /* numbering 1..n per pile, and piles without connectors */
    const size_t k_peid = col_index(REC_PILES, "equipment_id");
    char *seen_no = pi->seen_no;
    for (size_t i = 0; i < ps->nrows; i++) {
        const char *eid = rec_str(ps, i, k_peid);
        intptr_t pile = eid ? keymap_get(&pi->by_id, eid) : -1;
        size_t first = pile >= 0 ? pi->head[pile] : NO_ROW;
        if (eid && first == NO_ROW) {
            import_problem(
                c, ps->name, ps->rownum[i], label_of(REC_PILES, "equipment_id"), "equipment_id",
                eid, "no_connectors",
                "this pile has no row in the 充电枪 sheet: a pile has at least one connector",
                NULL);
            continue;
        }
        size_t n = 0;
        for (size_t j = first; j != NO_ROW; j = pi->next[j])
            n++;
        memset(seen_no, 0, n + 1);
        for (size_t j = first; j != NO_ROW; j = pi->next[j]) {
            if (!import_text(cs, j, k_no))
                continue;
            long long no = rec_int(cs, j, k_no);
            if (no < 1 || (size_t)no > n || seen_no[no]) {
                char msg[160], val[32];
                snprintf(msg, sizeof msg,
                         "the %zu connectors of pile %s must be numbered 1..%zu, each once", n, eid,
                         n);
                snprintf(val, sizeof val, "%lld", no);
                import_problem(c, cs->name, cs->rownum[j],
                               label_of(REC_CONNECTORS, "ocpp_connector_id"), "ocpp_connector_id",
                               val, "bad_sequence", msg, NULL);
            } else {
                seen_no[no] = 1;
            }
        }
    }
}

/* Writes every pile of the file and its connectors (inside the caller's transaction). */
static int write_piles(struct import_ctx *c, int64_t app, struct import_sheet *ps,
                       struct import_sheet *cs, struct pile_index *pi, struct keymap *station_rows)
{
    struct mgmt_req *req = c->req;
    const size_t k_eid = col_index(REC_PILES, "equipment_id"),
                 k_sid = col_index(REC_PILES, "station_id"),
                 k_type = col_index(REC_PILES, "equipment_type"),
                 k_proto = col_index(REC_PILES, "protocol"),
                 k_cid = col_index(REC_CONNECTORS, "connector_id"),
                 k_no = col_index(REC_CONNECTORS, "ocpp_connector_id");
    if (db_access_unstage_piles(req->db, app) != DB_OK)
        return -1;
    for (size_t i = 0; i < ps->nrows; i++) {
        const char *eid = rec_str(ps, i, k_eid), *sid = rec_str(ps, i, k_sid);
        intptr_t station = sid ? keymap_get(station_rows, sid) : -1;
        int64_t row = 0;
        int drc = db_pile_insert(req->db, req->caller.account_id, app, "draft", eid,
                                 station < 0 ? 0 : (int64_t)station, rec_int(ps, i, k_type),
                                 rec_str(ps, i, k_proto), import_json(ps, i), &row);
        intptr_t pile = eid ? keymap_get(&pi->by_id, eid) : -1;
        for (size_t j = pile >= 0 ? pi->head[pile] : NO_ROW; j != NO_ROW && drc == DB_OK;
             j = pi->next[j]) {
            const char *cid = rec_str(cs, j, k_cid);
            drc = db_connector_insert(req->db, row, cid ? cid : "", rec_int(cs, j, k_no),
                                      import_json(cs, j));
        }
        if (drc != DB_OK)
            return -1;
    }
    return 0;
}

static int stage_piles(struct import_ctx *c, int64_t app, struct import_sheet *ps,
                       struct import_sheet *cs, int64_t *staged)
{
    struct mgmt_req *req = c->req;
    const size_t k_eid = col_index(REC_PILES, "equipment_id"),
                 k_sid = col_index(REC_PILES, "station_id");
    struct keymap seen_conn = {0}, station_rows = {0};
    struct pile_index pi;
    memset(&pi, 0, sizeof pi);
    int64_t saved_cache = 0;
    int rc = -1;
    if (keymap_init(&pi.by_id, ps->nrows) < 0 || keymap_init(&seen_conn, cs->nrows) < 0 ||
        keymap_init(&station_rows, ps->nrows) < 0)
        goto out;
    pi.head = malloc((ps->nrows + 1) * sizeof *pi.head);
    pi.tail = malloc((ps->nrows + 1) * sizeof *pi.tail);
    pi.next = malloc((cs->nrows + 1) * sizeof *pi.next);
    pi.seen_no = malloc(cs->nrows + 2);
    if (!pi.head || !pi.tail || !pi.next || !pi.seen_no)
        goto out;
    for (size_t i = 0; i < ps->nrows; i++)
        pi.head[i] = pi.tail[i] = NO_ROW;
    for (size_t i = 0; i < cs->nrows; i++)
        pi.next[i] = NO_ROW;
    /* One transaction for the checks and the writes: the lookups then share one read snapshot
     * (each lookup outside one starts and ends a read transaction of its own, which was most
     * of the database time of a large file), and what was checked is what gets written. */
    if (db_access_stage_begin(req->db, &saved_cache) != DB_OK)
        goto out;
    rc = 0;
    for (size_t i = 0; i < ps->nrows; i++) {
        if (dup_in_file(c, ps, &pi.by_id, i, k_eid))
            continue;
        const char *eid = rec_str(ps, i, k_eid), *sid = rec_str(ps, i, k_sid);
        struct db_record_row found;
        if (eid && db_pile_find(req->db, eid, &found) == DB_OK && found.application_id != app)
            import_problem(c, ps->name, ps->rownum[i], label_of(REC_PILES, "equipment_id"),
                           "equipment_id", eid, "duplicate_in_db",
                           "a pile with this EquipmentID is already registered on the platform",
                           NULL);
        if (sid && keymap_get(&station_rows, sid) < 0) {
            if (db_station_find(req->db, req->caller.account_id, sid, &found) == DB_OK)
                keymap_put(&station_rows, sid, (intptr_t)found.row);
            else
                import_problem(c, ps->name, ps->rownum[i], label_of(REC_PILES, "station_id"),
                               "station_id", sid, "unknown_station",
                               "none of your stations (nor the stations of this application) has "
                               "this id",
                               NULL);
        }
    }
    check_connectors(c, app, ps, cs, &pi, &seen_conn);
    if (json_array_size(c->problems)) {
        rc = 1;
        goto out;
    }
    if (write_piles(c, app, ps, cs, &pi, &station_rows) == 0 && db_commit(req->db) == DB_OK)
        *staged = (int64_t)ps->nrows;
    else
        rc = -1;
out:
    db_access_stage_end(req->db, saved_cache); /* rolls back unless committed */
    keymap_free(&pi.by_id);
    keymap_free(&seen_conn);
    keymap_free(&station_rows);
    free(pi.head);
    free(pi.tail);
    free(pi.next);
    free(pi.seen_no);
    return rc;
}

/* One sheet read on a thread of its own, with its own book and problem list. */
struct read_job {
    struct import_ctx c;
    int truncated;
    struct xlsx_book *book;
    enum rec_sheet which;
    struct import_sheet *s;
    int rc;
};

/* Reads a sheet and renders its rows' JSON (a connector's record keeps neither its own ids
 * nor its pile's: those are columns of its row). */
static int read_and_dump(struct import_ctx *c, struct xlsx_book *book, enum rec_sheet which,
                         struct import_sheet *s)
{
    int rc = import_read_sheet(c, book, which, s);
    if (rc != 0 || json_array_size(c->problems))
        return rc; /* a file with problems is not written: no JSON needed */
    size_t skip[3] = {col_index(which, "connector_id"), col_index(which, "ocpp_connector_id"),
                      col_index(which, "equipment_id")};
    return import_sheet_dump(s, skip, which == REC_CONNECTORS ? 3 : 0) < 0 ? -1 : 0;
}

static void *read_job_run(void *arg)
{
    struct read_job *j = arg;
    j->rc = read_and_dump(&j->c, j->book, j->which, j->s);
    return NULL;
}

/* Reads the piles sheet here and the connectors sheet on a second thread (the reading, expat
 * and the column rules, is most of an import's time, and the two sheets are independent); the
 * problems come out in the order of reading one sheet after the other. Without a second book
 * or thread the sheets are read one after the other. */
static void read_pile_sheets(struct import_ctx *c, const char *path, const struct xlsx_limits *lim,
                             struct xlsx_book *book, struct import_sheet *a, struct import_sheet *b,
                             int *ra, int *rb)
{
    struct read_job job = {.c = *c, .which = REC_CONNECTORS, .s = b};
    job.c.problems = json_array();
    job.c.truncated = &job.truncated;
    struct xlsx_book *book2 = NULL;
    char err[256];
    pthread_t th;
    int threaded = 0;
    if (job.c.problems && xlsx_open(path, lim, &book2, err, sizeof err) == XLSX_OK) {
        job.book = book2;
        threaded = thread_start_quiet(&th, read_job_run, &job) == 0;
    }
    if (!job.c.problems) {
        *ra = *rb = -1;
        xlsx_close(book2);
        return;
    }
    *ra = read_and_dump(c, book, REC_PILES, a);
    if (threaded) {
        pthread_join(th, NULL);
    } else {
        job.book = book;
        read_job_run(&job);
    }
    *rb = job.rc;
    xlsx_close(book2);
    size_t i;
    json_t *p;
    json_array_foreach(job.c.problems, i, p)
    {
        if (json_array_size(c->problems) >= IMPORT_MAX_PROBLEMS) {
            *c->truncated = 1;
            break;
        }
        json_array_append(c->problems, p);
    }
    if (job.truncated)
        *c->truncated = 1;
    json_decref(job.c.problems);
}

int import_file(struct mgmt_req *req, enum import_kind kind, int64_t app_id, const char *path,
                json_t *problems, int *truncated, int64_t *staged)
{
    struct import_ctx c = {.req = req, .problems = problems, .truncated = truncated};
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
        import_problem(&c, kind == IMPORT_STATIONS ? "充电站" : "充电桩", 0, NULL, NULL, NULL,
                       orc == XLSX_TOO_LARGE ? "too_large" : "not_xlsx", err, NULL);
        return 1;
    }
    struct import_sheet a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    int rc;
    if (kind == IMPORT_STATIONS) {
        rc = read_and_dump(&c, book, REC_STATIONS, &a);
        /* the whole-file checks run on the valid values even when some cells are wrong,
         * so that one answer lists every problem; staging happens only without any */
        rc = rc == 0 ? stage_stations(&c, app_id, &a, staged) : rc;
    } else {
        int ra, rb;
        read_pile_sheets(&c, path, &lim, book, &a, &b, &ra, &rb);
        rc = ra == 0 && rb == 0 ? stage_piles(&c, app_id, &a, &b, staged)
             : ra < 0 || rb < 0 ? -1
                                : 1;
    }
    xlsx_close(book);
    import_sheet_free(&a);
    import_sheet_free(&b);
    if (rc == 0)
        log_info("mgmt", "import_staged", "application=%lld kind=%s rows=%lld", (long long)app_id,
                 log_q(kind == IMPORT_STATIONS ? "stations" : "piles"), (long long)*staged);
    return rc;
}
