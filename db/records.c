/* Station, pile and connector queries. */
#include "db/records.h"
#include "db/ocpp_state.h"
#include "db/db_internal.h"
#include "db/record_lists.h"

#include <stdlib.h>
#include <string.h>

/* Reads one db_record_row from a statement selecting id, account_id, application_id,
 * station_row (or 0), key, status. */
static int read_row(struct db *db, sqlite3_stmt *st, struct db_record_row *out, const char *what)
{
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->row = sqlite3_column_int64(st, 0);
        out->account_id = sqlite3_column_int64(st, 1);
        out->application_id = sqlite3_column_int64(st, 2);
        out->station_row = sqlite3_column_int64(st, 3);
        db_col_copy(st, 4, out->key, sizeof out->key);
        db_col_copy(st, 5, out->status, sizeof out->status);
        int again = sqlite3_step(st);
        sqlite3_reset(st);
        return again == SQLITE_ROW ? DB_CONFLICT : DB_OK;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, what);
}

int db_station_find(struct db *db, int64_t account_id, const char *station_id,
                    struct db_record_row *out)
{
    static const char sql[] = "SELECT id, account_id, coalesce(application_id, 0), 0, station_id,"
                              " status FROM stations WHERE station_id = ?1"
                              " AND (?2 = 0 OR account_id = ?2) LIMIT 2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, station_id);
    sqlite3_bind_int64(st, 2, account_id);
    return read_row(db, st, out, "station_find");
}

int db_station_insert(struct db *db, int64_t account_id, int64_t application_id, const char *status,
                      const char *station_id, const char *name, const char *area_code,
                      int64_t station_type, const char *data, int64_t *row)
{
    static const char sql[] =
        "INSERT INTO stations (account_id, station_id, status, application_id, name, area_code,"
        " station_type, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int64_t now = db_now();
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, station_id);
    db_bind_text(st, 3, status);
    db_bind_id(st, 4, application_id);
    db_bind_text(st, 5, name);
    db_bind_text(st, 6, area_code);
    sqlite3_bind_int64(st, 7, station_type);
    db_bind_text(st, 8, data);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_int64(st, 10, now);
    int rc = db_step_done(db, st, "station_insert");
    if (rc == DB_OK)
        *row = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_station_update(struct db *db, int64_t row, const char *name, const char *area_code,
                      int64_t station_type, const char *data)
{
    static const char sql[] = "UPDATE stations SET name = ?, area_code = ?, station_type = ?,"
                              " data = ?, updated_at = ? WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, name);
    db_bind_text(st, 2, area_code);
    sqlite3_bind_int64(st, 3, station_type);
    db_bind_text(st, 4, data);
    sqlite3_bind_int64(st, 5, db_now());
    sqlite3_bind_int64(st, 6, row);
    return db_step_done(db, st, "station_update");
}

int db_station_delete(struct db *db, int64_t row)
{
    static const char sql[] = "DELETE FROM stations WHERE id = ?1"
                              " AND NOT EXISTS (SELECT 1 FROM piles WHERE station_row = ?1)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, row);
    int rc = db_step_done(db, st, "station_delete");
    if (rc == DB_OK && sqlite3_changes(db->h) == 0)
        return DB_CONFLICT;
    return rc;
}

#define STATION_COLS                                                                               \
    "s.id, s.data, s.station_id, s.status, s.account_id, o.operator_id, o.company_name,"           \
    " s.application_id, (SELECT count(*) FROM piles p WHERE p.station_row = s.id),"                \
    " s.created_at, s.updated_at"
#define STATION_JOINS                                                                              \
    " JOIN accounts a ON a.id = s.account_id LEFT JOIN organisations o ON o.id = "                 \
    "a.organisation_id"
#define STATION_FROM " FROM stations s" STATION_JOINS

static const char *col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

static void read_station_row(sqlite3_stmt *st, struct db_station_row *r)
{
    r->row = sqlite3_column_int64(st, 0);
    r->data = col_text(st, 1);
    r->station_id = col_text(st, 2);
    r->status = col_text(st, 3);
    r->account_id = sqlite3_column_int64(st, 4);
    r->operator_id = col_text(st, 5);
    r->company_name = col_text(st, 6);
    r->application_id = sqlite3_column_int64(st, 7); /* NULL reads as 0 */
    r->pile_count = sqlite3_column_int64(st, 8);
    r->created_at = sqlite3_column_int64(st, 9);
    r->updated_at = sqlite3_column_int64(st, 10);
}

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *db_station_row_json(const struct db_station_row *r)
{
    json_t *v = r->data ? json_loads(r->data, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    json_object_set_new(v, "station_id", json_str_or_null(r->station_id));
    json_object_set_new(v, "status", json_str_or_null(r->status));
    json_object_set_new(v, "account_id", json_integer(r->account_id));
    json_object_set_new(v, "operator_id", json_str_or_null(r->operator_id));
    json_object_set_new(v, "company_name", json_str_or_null(r->company_name));
    json_object_set_new(v, "application_id",
                        r->application_id ? json_integer(r->application_id) : json_null());
    json_object_set_new(v, "pile_count", json_integer(r->pile_count));
    json_object_set_new(v, "created_at", json_integer(r->created_at));
    json_object_set_new(v, "updated_at", json_integer(r->updated_at));
    return v;
}

static json_t *station_from_row(sqlite3_stmt *st)
{
    struct db_station_row r;
    read_station_row(st, &r);
    return db_station_row_json(&r);
}

json_t *db_station_view(struct db *db, int64_t row)
{
    static const char sql[] = "SELECT " STATION_COLS STATION_FROM " WHERE s.id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, row);
    json_t *v = sqlite3_step(st) == SQLITE_ROW ? station_from_row(st) : NULL;
    sqlite3_reset(st);
    return v;
}

static struct list_shape station_shape = {
    's',
    "SELECT count(*), " LIST_STATE " FROM stations s",
    /* Pages walk an index in station_id order that holds every filtered column, so that only
     * the rows of the page are read from the table; SQLite's planner, lacking statistics,
     * would rather take the (account_id, station_id) index and read each row to filter it. */
    "SELECT " STATION_COLS " FROM stations s INDEXED BY stations_station" STATION_JOINS,
    "SELECT " STATION_COLS " FROM stations s INDEXED BY stations_list" STATION_JOINS,
    " WHERE (?2 = 0 OR s.application_id = ?2) AND (?4 IS NULL OR instr(s.name, ?4) > 0)"
    " AND (?7 = 0 OR s.station_type = ?7)",
    {" AND s.account_id = ?1", " AND s.station_id = ?5", LIST_AREA_TERM, " AND s.status = ?6"},
    " ORDER BY s.station_id, s.id LIMIT ?8 OFFSET ?9",
    {{0}},
};

static json_t *make_station(struct db *db, sqlite3_stmt *st)
{
    (void)db;
    return station_from_row(st);
}

int db_station_list(struct db *db, const struct db_record_filter *f, int64_t page,
                    int64_t page_size, json_t **items, int64_t *total)
{
    return db_list_json(db, &station_shape, f, 0, page, page_size, make_station, items, total);
}

struct row_call {
    int (*fn)(void *, const struct db_station_row *);
    void *ctx;
};

static int call_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
    (void)db;
    struct row_call *c = ctx;
    struct db_station_row r;
    read_station_row(st, &r);
    return c->fn(c->ctx, &r);
}

int db_station_list_rows(struct db *db, const struct db_record_filter *f, int64_t page,
                         int64_t page_size, int (*fn)(void *ctx, const struct db_station_row *r),
                         void *ctx, int64_t *total)
{
    struct row_call c = {fn, ctx};
    return db_list_query(db, &station_shape, f, 0, page, page_size, call_row, &c, total);
}

int db_pile_find(struct db *db, const char *equipment_id, struct db_record_row *out)
{
    static const char sql[] = "SELECT id, account_id, coalesce(application_id, 0), station_row,"
                              " equipment_id, status FROM piles WHERE equipment_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    return read_row(db, st, out, "pile_find");
}

int db_pile_insert(struct db *db, int64_t account_id, int64_t application_id, const char *status,
                   const char *equipment_id, int64_t station_row, int64_t equipment_type,
                   const char *protocol, const char *data, int64_t *row)
{
    static const char sql[] =
        "INSERT INTO piles (account_id, equipment_id, station_row, status, application_id,"
        " equipment_type, protocol, data, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int64_t now = db_now();
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, equipment_id);
    sqlite3_bind_int64(st, 3, station_row);
    db_bind_text(st, 4, status);
    db_bind_id(st, 5, application_id);
    sqlite3_bind_int64(st, 6, equipment_type);
    db_bind_text(st, 7, protocol);
    db_bind_text(st, 8, data);
    sqlite3_bind_int64(st, 9, now);
    sqlite3_bind_int64(st, 10, now);
    int rc = db_step_done(db, st, "pile_insert");
    if (rc == DB_OK)
        *row = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_pile_update(struct db *db, int64_t row, int64_t station_row, int64_t equipment_type,
                   const char *protocol, const char *data)
{
    static const char sql[] = "UPDATE piles SET station_row = ?, equipment_type = ?, protocol = ?,"
                              " data = ?, updated_at = ? WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, station_row);
    sqlite3_bind_int64(st, 2, equipment_type);
    db_bind_text(st, 3, protocol);
    db_bind_text(st, 4, data);
    sqlite3_bind_int64(st, 5, db_now());
    sqlite3_bind_int64(st, 6, row);
    return db_step_done(db, st, "pile_update");
}

int db_pile_delete(struct db *db, int64_t row)
{
    static const char sql[] = "DELETE FROM piles WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, row);
    return db_step_done(db, st, "pile_delete");
}

int db_connector_insert(struct db *db, int64_t pile_row, const char *connector_id,
                        int64_t ocpp_connector_id, const char *data)
{
    static const char sql[] = "INSERT INTO connectors (pile_row, connector_id, ocpp_connector_id,"
                              " data) VALUES (?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, pile_row);
    db_bind_text(st, 2, connector_id);
    sqlite3_bind_int64(st, 3, ocpp_connector_id);
    db_bind_text(st, 4, data);
    return db_step_done(db, st, "connector_insert");
}

int db_connectors_delete(struct db *db, int64_t pile_row)
{
    static const char sql[] = "DELETE FROM connectors WHERE pile_row = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, pile_row);
    return db_step_done(db, st, "connectors_delete");
}

int db_connector_owner(struct db *db, const char *connector_id, int64_t *pile_row)
{
    static const char sql[] = "SELECT pile_row FROM connectors WHERE connector_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, connector_id);
    return db_step_int64(db, st, pile_row, "connector_owner");
}

int db_connector_owner_app(struct db *db, const char *connector_id, int64_t *application_id)
{
    static const char sql[] = "SELECT coalesce(p.application_id, 0) FROM connectors c"
                              " JOIN piles p ON p.id = c.pile_row WHERE c.connector_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, connector_id);
    return db_step_int64(db, st, application_id, "connector_owner_app");
}

static json_t *connectors_of(struct db *db, int64_t pile_row)
{
    static const char sql[] = "SELECT data, connector_id, ocpp_connector_id FROM connectors"
                              " WHERE pile_row = ? ORDER BY ocpp_connector_id";
    sqlite3_stmt *st = db_stmt(db, sql);
    json_t *arr = json_array();
    if (!st)
        return arr;
    sqlite3_bind_int64(st, 1, pile_row);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *data = (const char *)sqlite3_column_text(st, 0);
        json_t *c = data ? json_loads(data, 0, NULL) : NULL;
        if (!json_is_object(c)) {
            json_decref(c);
            c = json_object();
        }
        json_object_set_new(c, "connector_id", db_col_json_str(st, 1));
        json_object_set_new(c, "ocpp_connector_id", json_integer(sqlite3_column_int64(st, 2)));
        json_array_append_new(arr, c);
    }
    sqlite3_reset(st);
    return arr;
}

/* A pile is online while the gateway has an open session for it. */
#define PILE_ONLINE                                                                                \
    "EXISTS (SELECT 1 FROM pile_sessions ps WHERE ps.equipment_id = p.equipment_id"                \
    " AND ps.disconnected_at IS NULL)"
#define PILE_COLS                                                                                  \
    "p.id, p.data, p.equipment_id, p.status, p.account_id, o.operator_id, o.company_name,"         \
    " p.application_id, s.station_id, s.name, p.password_hash IS NOT NULL, p.created_at,"          \
    " p.updated_at, " PILE_ONLINE ", p.boot_status, p.security_profile"
#define PILE_FROM                                                                                  \
    " FROM piles p JOIN stations s ON s.id = p.station_row JOIN accounts a ON a.id = p.account_id" \
    " LEFT JOIN organisations o ON o.id = a.organisation_id"
/* The pile list's filters beside the four of list_shape.terms (see station_shape). */
#define PILE_WHERE                                                                                 \
    " WHERE (?2 = 0 OR p.application_id = ?2) AND (?4 IS NULL OR instr(s.name, ?4) > 0)"           \
    " AND (?5 IS NULL OR s.station_id = ?5) AND (?7 = 0 OR s.station_type = ?7)"                   \
    " AND (?9 IS NULL OR p.protocol = ?9) AND (?10 = 0 OR p.equipment_type = ?10)"                 \
    " AND (?13 = 0 OR (" PILE_ONLINE ") = (?13 = 1))"

static json_t *pile_from_row(struct db *db, sqlite3_stmt *st)
{
    const char *data = (const char *)sqlite3_column_text(st, 1);
    json_t *v = data ? json_loads(data, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    int64_t row = sqlite3_column_int64(st, 0);
    json_object_set_new(v, "equipment_id", db_col_json_str(st, 2));
    json_object_set_new(v, "status", db_col_json_str(st, 3));
    json_object_set_new(v, "account_id", json_integer(sqlite3_column_int64(st, 4)));
    json_object_set_new(v, "operator_id", db_col_json_str(st, 5));
    json_object_set_new(v, "company_name", db_col_json_str(st, 6));
    json_object_set_new(v, "application_id", db_col_json_int(st, 7));
    json_object_set_new(v, "station_id", db_col_json_str(st, 8));
    json_object_set_new(v, "station_name", db_col_json_str(st, 9));
    json_object_set_new(v, "has_password", json_boolean(sqlite3_column_int(st, 10)));
    json_object_set_new(v, "created_at", db_col_json_int(st, 11));
    json_object_set_new(v, "updated_at", db_col_json_int(st, 12));
    json_object_set_new(v, "online", json_boolean(sqlite3_column_int(st, 13)));
    json_object_set_new(v, "boot_status", db_col_json_str(st, 14));
    json_object_set_new(v, "security_profile", json_integer(sqlite3_column_int(st, 15)));
    json_object_set_new(v, "connectors", connectors_of(db, row));
    /* what the gateway last heard of them (an empty array for a pile that never reported) */
    const char *eid = (const char *)sqlite3_column_text(st, 2);
    json_object_set_new(v, "live_connectors",
                        eid ? db_ocpp_connectors(db, eid, sqlite3_column_int(st, 13) != 0)
                            : json_array());
    return v;
}

json_t *db_pile_view(struct db *db, int64_t row)
{
    static const char sql[] = "SELECT " PILE_COLS PILE_FROM " WHERE p.id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, row);
    json_t *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        /* connectors_of uses its own statement; finish reading this row first */
        v = pile_from_row(db, st);
    }
    sqlite3_reset(st);
    return v;
}

static struct list_shape pile_shape = {
    'p',
    "SELECT count(*), " LIST_STATE " FROM piles p JOIN stations s ON s.id = p.station_row",
    "SELECT " PILE_COLS PILE_FROM,
    NULL,
    PILE_WHERE,
    {" AND p.account_id = ?1", " AND p.equipment_id = ?8", LIST_AREA_TERM, " AND p.status = ?6"},
    " ORDER BY p.equipment_id LIMIT ?11 OFFSET ?12",
    {{0}},
};

int db_pile_list(struct db *db, const struct db_record_filter *f, int64_t page, int64_t page_size,
                 json_t **items, int64_t *total)
{
    return db_list_json(db, &pile_shape, f, 1, page, page_size, pile_from_row, items, total);
}

int db_pile_set_password(struct db *db, int64_t row, const char *salt, const char *hash)
{
    static const char sql[] =
        "UPDATE piles SET password_salt = ?, password_hash = ?, updated_at = ? WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, salt);
    db_bind_text(st, 2, hash);
    sqlite3_bind_int64(st, 3, db_now());
    sqlite3_bind_int64(st, 4, row);
    return db_step_done(db, st, "pile_set_password");
}
