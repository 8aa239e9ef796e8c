/* /api/v1/piles (我的充电桩): piles with their connectors (充电枪), submission and passwords. */
#include "common/config.h"
#include "common/log.h"
#include "db/access.h"
#include "db/detections.h"
#include "db/ocpp_state.h"
#include "mgmt/record_form.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONNECTORS 64
#define MAX_SUBMIT     1000

static int is_admin(struct mgmt_req *req)
{
    return strcmp(req->caller.role, "admin") == 0;
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
    json_t *items;
    if (db_pile_list(req->db, &f, page, size, &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list piles", NULL);
        return;
    }
    mgmt_resp_list(resp, items, total, page, size);
}

/* Checks a pile body with its connectors for pile `self_row` (0 when new). Returns the
 * canonical pile (with `connectors`) and its station row, or NULL after answering. */
static json_t *pile_body(struct mgmt_req *req, struct mgmt_resp *resp, const json_t *body,
                         int64_t self_row, int64_t *station_row)
{
    json_t *details = json_array();
    json_t *pile = record_from_json(REC_PILES, body, "", NULL, details, NULL);
    const char *sid = json_string_value(json_object_get(pile, "station_id"));
    struct db_record_row st = {0};
    if (sid && db_station_find(req->db, req->caller.account_id, sid, &st) != DB_OK)
        mgmt_detail(details, "station_id", "unknown_station",
                    "none of your stations has this id: add the station first");
    *station_row = st.row;
    json_t *conns = json_object_get(body, "connectors");
    json_t *out_conns = json_array();
    if (!json_is_array(conns) || json_array_size(conns) == 0) {
        mgmt_detail(details, "connectors", "no_connectors", "a pile has at least one connector");
    } else if (json_array_size(conns) > MAX_CONNECTORS) {
        mgmt_detail(details, "connectors", "too_long", "at most 64 connectors per pile");
    } else {
        size_t n = json_array_size(conns);
        char *seen = calloc(n + 1, 1);
        json_t *pile_power = json_object_get(pile, "power");
        char ppower[32] = "";
        if (json_is_number(pile_power))
            snprintf(ppower, sizeof ppower, "%.15g", json_number_value(pile_power));
        for (size_t i = 0; i < n; i++) {
            char prefix[48], path[128];
            snprintf(prefix, sizeof prefix, "connectors[%zu].", i);
            json_t *texts = NULL;
            size_t before = json_array_size(details);
            json_t *c = record_from_json(REC_CONNECTORS, json_array_get(conns, i), prefix,
                                         "equipment_id", details, &texts);
            if (json_array_size(details) == before) {
                size_t ncols = 0, bad = 0;
                rec_columns(REC_CONNECTORS, &ncols);
                const char *vals[64] = {0};
                for (size_t k = 0; k < ncols && k < 64; k++)
                    vals[k] = json_string_value(json_array_get(texts, k));
                struct rec_problem p;
                memset(&p, 0, sizeof p);
                if (ppower[0] && rec_check_connector(vals, ppower, &bad, &p) < 0) {
                    const struct rec_column *cols = rec_columns(REC_CONNECTORS, &ncols);
                    snprintf(path, sizeof path, "%s%s", prefix, cols[bad].field);
                    record_detail(details, path, &p);
                }
            }
            json_decref(texts);
            json_int_t ocpp = json_integer_value(json_object_get(c, "ocpp_connector_id"));
            if (ocpp >= 1 && (size_t)ocpp <= n) {
                if (seen[ocpp]) {
                    snprintf(path, sizeof path, "%socpp_connector_id", prefix);
                    mgmt_detail(details, path, "duplicate", "two connectors have this number");
                }
                seen[ocpp] = 1;
            } else if (json_object_get(c, "ocpp_connector_id")) {
                snprintf(path, sizeof path, "%socpp_connector_id", prefix);
                mgmt_detail(details, path, "bad_sequence",
                            "connectors are numbered 1..n without gaps");
            }
            const char *cid = json_string_value(json_object_get(c, "connector_id"));
            int64_t owner = 0;
            for (size_t j = 0; cid && j < i; j++)
                if (strcmp(cid, json_string_value(
                                    json_object_get(json_array_get(out_conns, j), "connector_id"))
                                    ?: "") == 0) {
                    snprintf(path, sizeof path, "%sconnector_id", prefix);
                    mgmt_detail(details, path, "duplicate_in_file", "listed twice in this pile");
                }
            if (cid && db_connector_owner(req->db, cid, &owner) == DB_OK && owner != self_row) {
                snprintf(path, sizeof path, "%sconnector_id", prefix);
                mgmt_detail(details, path, "duplicate_in_db",
                            "another pile on the platform uses this connector id");
            }
            json_array_append_new(out_conns, c);
        }
        free(seen);
    }
    json_object_set_new(pile, "connectors", out_conns);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some fields are missing or invalid",
                        details);
        json_decref(pile);
        return NULL;
    }
    json_decref(details);
    return pile;
}

/* Stores the pile's connectors (the pile's data keeps everything else). */
static int store_connectors(struct mgmt_req *req, int64_t row, json_t *conns)
{
    size_t i;
    json_t *c;
    json_array_foreach(conns, i, c)
    {
        json_t *copy = json_deep_copy(c);
        json_object_del(copy, "connector_id");
        json_object_del(copy, "ocpp_connector_id");
        char *data = json_dumps(copy, MGMT_JSON_FLAGS);
        int rc =
            db_connector_insert(req->db, row, json_string_value(json_object_get(c, "connector_id")),
                                json_integer_value(json_object_get(c, "ocpp_connector_id")), data);
        free(data);
        json_decref(copy);
        if (rc != DB_OK)
            return rc;
    }
    return DB_OK;
}

static void respond_pile(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status, int64_t row)
{
    json_t *v = db_pile_view(req->db, row);
    if (!v) {
        mgmt_resp_error(resp, 404, "not_found", "no such pile", NULL);
        return;
    }
    mgmt_resp_json(resp, status, mgmt_iso_times(v));
}

/* Writes pile `row` (0 = insert) with its connectors in one transaction. */
static int save_pile(struct mgmt_req *req, json_t *pile, int64_t station_row, int64_t *row)
{
    json_t *conns = json_incref(json_object_get(pile, "connectors"));
    json_object_del(pile, "connectors");
    const char *eid = json_string_value(json_object_get(pile, "equipment_id"));
    char *data = json_dumps(pile, MGMT_JSON_FLAGS);
    int rc = db_begin(req->db);
    if (rc == DB_OK && *row == 0)
        rc = db_pile_insert(req->db, req->caller.account_id, 0, "draft", eid, station_row,
                            json_integer_value(json_object_get(pile, "equipment_type")),
                            json_string_value(json_object_get(pile, "protocol")), data, row);
    else if (rc == DB_OK)
        rc = db_pile_update(req->db, *row, station_row,
                            json_integer_value(json_object_get(pile, "equipment_type")),
                            json_string_value(json_object_get(pile, "protocol")), data);
    if (rc == DB_OK)
        rc = db_connectors_delete(req->db, *row);
    if (rc == DB_OK)
        rc = store_connectors(req, *row, conns);
    if (rc == DB_OK)
        rc = db_commit(req->db);
    else
        db_rollback(req->db);
    free(data);
    json_decref(conns);
    return rc;
}

static void create(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    int64_t station_row = 0, row = 0;
    json_t *pile = pile_body(req, resp, body, 0, &station_row);
    json_decref(body);
    if (!pile)
        return;
    struct db_record_row r;
    const char *eid = json_string_value(json_object_get(pile, "equipment_id"));
    if (db_pile_find(req->db, eid, &r) == DB_OK) {
        json_t *d = json_array();
        mgmt_detail(d, "equipment_id", "duplicate_in_db",
                    "a pile with this EquipmentID is already registered on the platform");
        mgmt_resp_error(resp, 409, "conflict", "EquipmentID already used", d);
    } else {
        int rc = save_pile(req, pile, station_row, &row);
        if (rc == DB_CONFLICT)
            mgmt_resp_error(resp, 409, "conflict", "an id of this pile is already used", NULL);
        else if (rc != DB_OK)
            mgmt_resp_error(resp, 500, "internal", "could not store the pile", NULL);
        else
            respond_pile(req, resp, 201, row);
    }
    json_decref(pile);
}

static int load(struct mgmt_req *req, struct mgmt_resp *resp, struct db_record_row *r)
{
    if (db_pile_find(req->db, req->keys[0], r) != DB_OK || !records_visible(req, r->account_id)) {
        mgmt_resp_error(resp, 404, "not_found", "no such pile", NULL);
        return -1;
    }
    return 0;
}

static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) == 0)
        respond_pile(req, resp, 200, r.row);
}

static void update(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) < 0 || records_editable(resp, "pile", r.status) < 0)
        return;
    json_t *body = records_put_body(req, resp, &r, "equipment_id", "pile");
    if (!body)
        return;
    int64_t station_row = 0, row = r.row;
    json_t *pile = pile_body(req, resp, body, r.row, &station_row);
    json_decref(body);
    if (!pile)
        return;
    int rc = save_pile(req, pile, station_row, &row);
    if (rc == DB_CONFLICT)
        mgmt_resp_error(resp, 409, "conflict", "an id of this pile is already used", NULL);
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not store the pile", NULL);
    else
        respond_pile(req, resp, 200, row);
    json_decref(pile);
}

static void delete_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) < 0 || records_editable(resp, "pile", r.status) < 0)
        return;
    if (db_pile_delete(req->db, r.row) != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not delete the pile", NULL);
    else
        mgmt_resp_json(resp, 204, NULL);
}

static void submit(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t gate = 0;
    if (db_access_gate(req->db, req->caller.account_id, &gate) != DB_OK || !gate) {
        mgmt_resp_error(resp, 403, "forbidden",
                        "access needs a passed self or an approved delegated detection "
                        "application first",
                        NULL);
        return;
    }
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    json_t *ids = json_object_get(body, "equipment_ids");
    json_t *details = json_array();
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > MAX_SUBMIT)
        mgmt_detail(details, "equipment_ids", "required", "list 1 to 1000 draft piles");
    size_t i;
    json_t *e;
    json_t *rows = json_array();
    json_array_foreach(ids, i, e)
    {
        char path[48];
        snprintf(path, sizeof path, "equipment_ids[%zu]", i);
        struct db_record_row r;
        const char *eid = json_string_value(e);
        if (!eid || db_pile_find(req->db, eid, &r) != DB_OK ||
            r.account_id != req->caller.account_id)
            mgmt_detail(details, path, "not_found", "none of your piles has this id");
        else if (strcmp(r.status, "draft") && strcmp(r.status, "rejected"))
            mgmt_detail(details, path, "wrong_state", "only draft or rejected piles are submitted");
        else
            json_array_append_new(rows, json_integer(r.row));
    }
    json_decref(body);
    if (json_array_size(details)) {
        json_decref(rows);
        mgmt_resp_error(resp, 422, "validation_failed", "these piles cannot be submitted", details);
        return;
    }
    json_decref(details);
    int64_t id = 0;
    int rc = db_begin(req->db);
    if (rc == DB_OK)
        rc = db_access_create(req->db, req->caller.account_id, &id);
    json_array_foreach(rows, i, e) if (rc == DB_OK) rc =
        db_access_attach_pile(req->db, id, json_integer_value(e));
    rc = rc == DB_OK ? db_commit(req->db) : (db_rollback(req->db), rc);
    json_decref(rows);
    if (rc == DB_OK)
        rc = db_access_transition(req->db, id, "draft", "submitted", "submitted", NULL,
                                  req->caller.account_id, "access.submit");
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not submit the piles", NULL);
        return;
    }
    json_t *v = db_access_view(req->db, id, 1);
    mgmt_resp_json(resp, 201, mgmt_iso_times(v));
}

static void password(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) < 0)
        return;
    if (is_admin(req) || r.account_id != req->caller.account_id) {
        mgmt_resp_error(resp, 404, "not_found", "no such pile", NULL);
        return;
    }
    if (strcmp(r.status, "accessed") != 0) {
        mgmt_resp_error(resp, 409, "conflict", "only an accessed pile has a gateway password",
                        NULL);
        return;
    }
    char pw[33];
    if (records_new_pile_password(req, r.row, pw) < 0) {
        mgmt_resp_error(resp, 500, "internal", "could not issue a password", NULL);
        return;
    }
    log_info("mgmt", "pile_password_issued", "equipment_id=%s", log_q(r.key));
    mgmt_resp_header(resp, "Cache-Control", "no-store");
    mgmt_resp_json(resp, 200, json_pack("{s:s, s:s}", "equipment_id", r.key, "password", pw));
}

static void live(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    if (load(req, resp, &r) < 0)
        return;
    json_t *v = db_ocpp_live(req->db, r.key);
    if (!v) {
        mgmt_resp_error(resp, 500, "internal", "could not read the pile's state", NULL);
        return;
    }
    json_object_set_new(v, "equipment_id", json_string(r.key));
    json_object_set_new(v, "status", json_string(r.status));
    mgmt_resp_json(resp, 200, mgmt_iso_times(v));
}

const struct mgmt_route mgmt_routes_piles[] = {
    {"GET", "/api/v1/piles", ACCESS_ACTIVE, list},
    {"POST", "/api/v1/piles", ACCESS_OPERATOR, create},
    {"POST", "/api/v1/piles/submit", ACCESS_OPERATOR, submit},
    {"GET", "/api/v1/piles/{key}", ACCESS_ACTIVE, get_one},
    {"PUT", "/api/v1/piles/{key}", ACCESS_OPERATOR, update},
    {"DELETE", "/api/v1/piles/{key}", ACCESS_OPERATOR, delete_one},
    {"POST", "/api/v1/piles/{key}/password", ACCESS_OPERATOR, password},
    {"GET", "/api/v1/piles/{key}/live", ACCESS_ACTIVE, live},
    {NULL, NULL, ACCESS_ANON, NULL},
};
