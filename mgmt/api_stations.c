/* /api/v1/stations (我的充电站) and /api/v1/areas, plus the record helpers of records_api.h. */
#include "common/config.h"
#include "common/log.h"
#include "mgmt/auth.h"
#include "mgmt/item_cache.h"
#include "mgmt/record_form.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"
#include "mgmt/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_admin(struct mgmt_req *req)
{
    return strcmp(req->caller.role, "admin") == 0;
}

int records_visible(struct mgmt_req *req, int64_t account_id)
{
    return is_admin(req) || account_id == req->caller.account_id;
}

int records_editable(struct mgmt_resp *resp, const char *what, const char *status)
{
    if (strcmp(status, "draft") == 0 || strcmp(status, "rejected") == 0)
        return 0;
    mgmt_resp_wrong_state(resp, what, status, "draft or rejected");
    return -1;
}

json_t *records_put_body(struct mgmt_req *req, struct mgmt_resp *resp,
                         const struct db_record_row *r, const char *key_field, const char *what)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return NULL;
    const char *given = json_string_value(json_object_get(body, key_field));
    if (given && strcmp(given, r->key) != 0) {
        char msg[120];
        snprintf(msg, sizeof msg,
                 "the id of a %s cannot change: create a new one and delete this one", what);
        json_t *d = json_array();
        mgmt_detail(d, key_field, "immutable", msg);
        mgmt_resp_error(resp, 422, "validation_failed", "the id cannot change", d);
        json_decref(body);
        return NULL;
    }
    json_object_set_new(body, key_field, json_string(r->key));
    return body;
}

int records_new_pile_password(struct mgmt_req *req, int64_t row, char password[33])
{
    char salt[33], hash[65], salted[100];
    if (auth_random_hex(password, 16) < 0 || auth_random_hex(salt, 16) < 0)
        return -1;
    snprintf(salted, sizeof salted, "%s%s", salt, password);
    auth_sha256_hex(salted, strlen(salted), hash);
    return db_pile_set_password(req->db, row, salt, hash) == DB_OK ? 0 : -1;
}

static const char *opt_query(struct mgmt_req *req, const char *name, json_t *details, long max)
{
    const char *v = mgmt_query(req, name);
    if (!v || !*v)
        return NULL;
    return val_text(details, name, v, strlen(v), 1, max) == 0 ? v : NULL;
}

void records_filter(struct mgmt_req *req, struct db_record_filter *f, json_t *details)
{
    static const char *const statuses[] = {"draft", "submitted", "accessed", "rejected"};
    memset(f, 0, sizeof *f);
    f->account_id = is_admin(req) ? 0 : req->caller.account_id;
    if (is_admin(req)) {
        f->account_id = mgmt_query_int(req, "account_id", 0);
        if (f->account_id < 0)
            mgmt_detail(details, "account_id", "bad_format", "must be a positive integer");
    }
    f->application_id = mgmt_query_int(req, "application_id", 0);
    if (f->application_id < 0)
        mgmt_detail(details, "application_id", "bad_format", "must be a positive integer");
    f->area_prefix = opt_query(req, "area_code", details, 6);
    for (const char *c = f->area_prefix; c && *c; c++)
        if (*c < '0' || *c > '9') {
            mgmt_detail(details, "area_code", "bad_format", "must be digits (a code prefix)");
            f->area_prefix = NULL;
            break;
        }
    f->name = opt_query(req, "name", details, 50);
    f->station_id = opt_query(req, "station_id", details, 20);
    f->equipment_id = opt_query(req, "equipment_id", details, 23);
    f->protocol = opt_query(req, "protocol", details, 16);
    f->status = opt_query(req, "status", details, 16);
    int known = !f->status;
    for (size_t i = 0; f->status && i < 4; i++)
        known |= strcmp(f->status, statuses[i]) == 0;
    if (!known)
        mgmt_detail(details, "status", "bad_format",
                    "must be draft, submitted, accessed or rejected");
    const char *t = mgmt_query(req, "station_type");
    f->station_type = t && *t ? atoll(t) : 0;
    t = mgmt_query(req, "equipment_type");
    f->equipment_type = t && *t ? atoll(t) : 0;
    const char *online = mgmt_query(req, "online");
    if (online && *online && strcmp(online, "true") && strcmp(online, "false"))
        mgmt_detail(details, "online", "bad_format", "must be true or false");
    else if (online && *online)
        f->online = strcmp(online, "true") == 0 ? 1 : 2;
}

static void add_area_name(json_t *st)
{
    const char *code = json_string_value(json_object_get(st, "area_code"));
    const char *name = code ? rec_area_name(code) : NULL;
    json_object_set_new(st, "area_name", name ? json_string(name) : json_null());
}

json_t *records_area_names(json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) add_area_name(e);
    } else if (json_is_object(v)) {
        add_area_name(v);
    }
    return v;
}

/* The columns an item is rendered from, as one byte string: what item_cache compares. The
 * numbers as their bytes, each text with its length first (NULL as length -1), so that no two
 * rows read alike. (snprintf here cost more than the rest of a cached item.) */
static void row_columns(const struct db_station_row *r, struct item_text *out)
{
    const int64_t nums[] = {r->account_id, r->application_id, r->pile_count, r->created_at,
                            r->updated_at};
    const char *texts[] = {r->station_id, r->status, r->operator_id, r->company_name, r->data};
    item_text_add(out, (const char *)nums, sizeof nums);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int64_t len = texts[i] ? (int64_t)strlen(texts[i]) : -1;
        item_text_add(out, (const char *)&len, sizeof len);
        if (texts[i])
            item_text_add(out, texts[i], (size_t)len);
    }
}

struct list_page {
    struct item_text body; /* {"items":[ ... so far */
    struct item_text columns;
    int n;
};

/* Appends one station's JSON text: from the memo when its columns did not change, else
 * rendered as db_station_view's answer is (area name, ISO times) and remembered. */
static int add_station(void *ctx, const struct db_station_row *r)
{
    struct list_page *p = ctx;
    if (p->n++)
        item_text_add(&p->body, ",", 1);
    p->columns.len = 0;
    row_columns(r, &p->columns);
    if (p->columns.failed || p->body.failed)
        return -1;
    if (item_cache_get('s', r->row, p->columns.text, p->columns.len, &p->body))
        return 0;
    json_t *v = mgmt_iso_times(records_area_names(db_station_row_json(r)));
    char *text = json_dumps(v, MGMT_JSON_FLAGS);
    json_decref(v);
    if (!text)
        return -1;
    size_t len = strlen(text);
    item_text_add(&p->body, text, len);
    item_cache_put('s', r->row, p->columns.text, p->columns.len, text, len);
    free(text);
    return p->body.failed ? -1 : 0;
}

static void list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *details = json_array();
    struct db_record_filter f;
    int64_t page, size, total = 0;
    records_filter(req, &f, details);
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    /* The answer is mgmt_resp_list's {"items": [...], "total", "page", "page_size"}, put
     * together from the items' JSON texts (each made by jansson) rather than as one json_t. */
    struct list_page p;
    memset(&p, 0, sizeof p);
    item_text_add(&p.body, "{\"items\":[", 10);
    if (db_station_list_rows(req->db, &f, page, size, add_station, &p, &total) != DB_OK) {
        free(p.body.text);
        free(p.columns.text);
        mgmt_resp_error(resp, 500, "internal", "could not list stations", NULL);
        return;
    }
    char tail[96];
    int n = snprintf(tail, sizeof tail, "],\"total\":%lld,\"page\":%lld,\"page_size\":%lld}",
                     (long long)total, (long long)page, (long long)size);
    item_text_add(&p.body, tail, (size_t)n);
    free(p.columns.text);
    if (p.body.failed) {
        free(p.body.text);
        mgmt_resp_error(resp, 500, "internal", "out of memory", NULL);
        return;
    }
    mgmt_resp_json_text(resp, 200, p.body.text, p.body.len);
}

/* Validates a station body; returns the canonical record or NULL after answering 422. */
static json_t *station_body(struct mgmt_req *req, struct mgmt_resp *resp, const json_t *body)
{
    json_t *details = json_array();
    json_t *rec = record_from_json(REC_STATIONS, body, "", NULL, details, NULL);
    const char *area = json_string_value(json_object_get(rec, "area_code"));
    if (area && !rec_area_accepted(area, req->cfg->area_code_prefixes)) {
        char msg[160];
        snprintf(msg, sizeof msg, "this platform accepts area codes starting with %s",
                 req->cfg->area_code_prefixes);
        mgmt_detail(details, "area_code", "out_of_range", msg);
    }
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some fields are missing or invalid",
                        details);
        json_decref(rec);
        return NULL;
    }
    json_decref(details);
    return rec;
}

static void respond_station(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status,
                            int64_t row)
{
    json_t *v = db_station_view(req->db, row);
    if (!v)
        mgmt_resp_error(resp, 404, "not_found", "no such station", NULL);
    else
        mgmt_resp_json(resp, status, mgmt_iso_times(records_area_names(v)));
}

static void create(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    json_t *rec = station_body(req, resp, body);
    json_decref(body);
    if (!rec)
        return;
    struct db_record_row r;
    const char *sid = json_string_value(json_object_get(rec, "station_id"));
    int64_t row = 0;
    char *data = json_dumps(rec, MGMT_JSON_FLAGS);
    int rc = db_station_find(req->db, req->caller.account_id, sid, &r);
    if (rc == DB_OK || rc == DB_CONFLICT) {
        json_t *d = json_array();
        mgmt_detail(d, "station_id", "duplicate", "you already have a station with this id");
        mgmt_resp_error(resp, 409, "conflict", "station id already used", d);
    } else if (db_station_insert(req->db, req->caller.account_id, 0, "draft", sid,
                                 json_string_value(json_object_get(rec, "name")),
                                 json_string_value(json_object_get(rec, "area_code")),
                                 json_integer_value(json_object_get(rec, "station_type")), data,
                                 &row) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not store the station", NULL);
    } else {
        respond_station(req, resp, 201, row);
    }
    free(data);
    json_decref(rec);
}

/* Finds {key} for the caller: operators their own, admins any (with account_id= when two
 * operators share the id). Answers 404/409 itself. */
static int load(struct mgmt_req *req, struct mgmt_resp *resp, struct db_record_row *r)
{
    int64_t account = is_admin(req) ? mgmt_query_int(req, "account_id", 0) : req->caller.account_id;
    int rc = db_station_find(req->db, account > 0 ? account : 0, req->keys[0], r);
    if (rc == DB_CONFLICT) {
        mgmt_resp_error(resp, 409, "conflict",
                        "several operators use this station id: add ?account_id=", NULL);
        return -1;
    }
    if (rc != DB_OK || !records_visible(req, r->account_id)) {
        mgmt_resp_error(resp, 404, "not_found", "no such station", NULL);
        return -1;
    }
    return 0;
}

static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) == 0)
        respond_station(req, resp, 200, r.row);
}

static void update(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) < 0 || records_editable(resp, "station", r.status) < 0)
        return;
    json_t *body = records_put_body(req, resp, &r, "station_id", "station");
    if (!body)
        return;
    json_t *rec = station_body(req, resp, body);
    json_decref(body);
    if (!rec)
        return;
    char *data = json_dumps(rec, MGMT_JSON_FLAGS);
    if (db_station_update(req->db, r.row, json_string_value(json_object_get(rec, "name")),
                          json_string_value(json_object_get(rec, "area_code")),
                          json_integer_value(json_object_get(rec, "station_type")), data) != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not store the station", NULL);
    else
        respond_station(req, resp, 200, r.row);
    free(data);
    json_decref(rec);
}

static void delete_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) < 0 || records_editable(resp, "station", r.status) < 0)
        return;
    int rc = db_station_delete(req->db, r.row);
    if (rc == DB_CONFLICT)
        mgmt_resp_error(resp, 409, "conflict", "the station still has piles: delete them first",
                        NULL);
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not delete the station", NULL);
    else
        mgmt_resp_json(resp, 204, NULL);
}

static void areas(struct mgmt_req *req, struct mgmt_resp *resp)
{
    size_t n = 0;
    const struct rec_area *a = rec_areas(&n);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:s, s:s?}", "code", a[i].code, "name",
                                               a[i].name, "parent",
                                               a[i].parent && *a[i].parent ? a[i].parent : NULL));
    mgmt_resp_header(resp, "Cache-Control", "public, max-age=86400");
    mgmt_resp_json(resp, 200, json_pack("{s:o}", "items", items));
}

const struct mgmt_route mgmt_routes_stations[] = {
    {"GET", "/api/v1/stations", ACCESS_ACTIVE, list},
    {"POST", "/api/v1/stations", ACCESS_OPERATOR, create},
    {"GET", "/api/v1/stations/{key}", ACCESS_ACTIVE, get_one},
    {"PUT", "/api/v1/stations/{key}", ACCESS_OPERATOR, update},
    {"DELETE", "/api/v1/stations/{key}", ACCESS_OPERATOR, delete_one},
    {"GET", "/api/v1/areas", ACCESS_ANON, areas},
    {NULL, NULL, ACCESS_ANON, NULL},
};
