/* /api/v1/access-applications (申请接入): xlsx imports into an application, submission, the
 * admin's decision, and the piles' gateway passwords. */
#include "common/config.h"
#include "common/log.h"
#include "db/access.h"
#include "db/audit.h"
#include "db/detections.h"
#include "mgmt/import.h"
#include "mgmt/metrics.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"
#include "mgmt/uploads.h"
#include "mgmt/validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int is_admin(struct mgmt_req *req)
{
    return strcmp(req->caller.role, "admin") == 0;
}

static void respond(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status, int64_t id)
{
    json_t *v = db_access_view(req->db, id, 1);
    if (!v)
        mgmt_resp_error(resp, 404, "not_found", "no such access application", NULL);
    else
        mgmt_resp_json(resp, status, mgmt_iso_times(v));
}

static int load(struct mgmt_req *req, struct mgmt_resp *resp, struct db_access_head *h)
{
    if (db_access_head(req->db, req->params[0], h) != DB_OK ||
        !records_visible(req, h->account_id)) {
        mgmt_resp_error(resp, 404, "not_found", "no such access application", NULL);
        return -1;
    }
    return 0;
}

static void conflict(struct mgmt_resp *resp, const char *status, const char *needed)
{
    mgmt_resp_wrong_state(resp, "application", status, needed);
}

static void list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *details = json_array();
    const char *status = mgmt_query(req, "status");
    status = status && *status ? status : NULL;
    if (status && strcmp(status, "draft") && strcmp(status, "submitted") &&
        strcmp(status, "approved") && strcmp(status, "rejected"))
        mgmt_detail(details, "status", "bad_format",
                    "must be draft, submitted, approved or rejected");
    int64_t page, size, total = 0;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    json_t *items;
    if (db_access_list(req->db, is_admin(req) ? 0 : req->caller.account_id, status, page, size,
                       &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list applications", NULL);
        return;
    }
    mgmt_resp_list(resp, items, total, page, size);
}

static void create(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t gate = 0, id = 0;
    if (db_access_gate(req->db, req->caller.account_id, &gate) != DB_OK || !gate) {
        mgmt_resp_error(resp, 403, "forbidden",
                        "access needs a passed self (自有平台接入) or an approved delegated "
                        "(委托平台接入) detection application first",
                        NULL);
        return;
    }
    if (db_access_create(req->db, req->caller.account_id, &id) != DB_OK ||
        db_audit_add(req->db, req->caller.account_id, "access.create", "access_application", id,
                     NULL) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not create the application", NULL);
        return;
    }
    respond(req, resp, 201, id);
}

static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_access_head h;
    if (load(req, resp, &h) == 0)
        respond(req, resp, 200, h.id);
}

static void delete_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_access_head h;
    if (load(req, resp, &h) < 0)
        return;
    if (h.account_id != req->caller.account_id) {
        mgmt_resp_error(resp, 404, "not_found", "no such access application", NULL);
        return;
    }
    int rc = db_access_delete_draft(req->db, h.id);
    if (rc == DB_CONFLICT && strcmp(h.status, "draft") != 0)
        conflict(resp, h.status, "draft");
    else if (rc == DB_CONFLICT)
        mgmt_resp_error(resp, 409, "conflict",
                        "a pile outside this application uses one of its stations", NULL);
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not delete the application", NULL);
    else
        mgmt_resp_json(resp, 204, NULL);
}

static void upload(struct mgmt_req *req, struct mgmt_resp *resp, enum import_kind kind)
{
    struct db_access_head h;
    if (load(req, resp, &h) < 0)
        return;
    if (h.account_id != req->caller.account_id) {
        mgmt_resp_error(resp, 404, "not_found", "no such access application", NULL);
        return;
    }
    if (strcmp(h.status, "draft") != 0) {
        conflict(resp, h.status, "draft");
        return;
    }
    struct mgmt_upload *u = mgmt_file(req, "file");
    if (!req->is_multipart || !u || u->size == 0) {
        json_t *d = json_array();
        mgmt_detail(d, "file", "required", "choose the filled-in xlsx template");
        mgmt_resp_error(resp, req->body_too_large ? 413 : 422,
                        req->body_too_large ? "too_large" : "validation_failed",
                        "send the xlsx as multipart/form-data field `file`", d);
        return;
    }
    if (uploads_check_size(u, req->cfg->max_import_bytes, "file", resp) < 0)
        return;
    json_t *problems = json_array();
    int truncated = 0;
    int64_t staged = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = import_file(req, kind, h.id, u->tmp_path, problems, &truncated, &staged);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_import(kind == IMPORT_STATIONS ? "stations" : "piles",
                   rc < 0   ? "error"
                   : rc > 0 ? "rejected"
                            : "staged",
                   rc == 0 ? (long long)staged : 0,
                   (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (rc < 0) {
        json_decref(problems);
        mgmt_resp_error(resp, 500, "internal", "could not stage the file", NULL);
        return;
    }
    if (rc > 0) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "the file has %zu%s problem(s); nothing was staged: fix them and upload again",
                 json_array_size(problems), truncated ? "+" : "");
        json_t *err =
            json_pack("{s:{s:s, s:s, s:o, s:b}}", "error", "code", "import_failed", "message", msg,
                      "details", problems, "details_truncated", truncated);
        mgmt_resp_json(resp, 422, err);
        return;
    }
    json_decref(problems);
    json_t *app = mgmt_iso_times(db_access_view(req->db, h.id, 0));
    mgmt_resp_json(resp, 200,
                   json_pack("{s:I, s:o}", "staged", (json_int_t)staged, "application",
                             app ? app : json_null()));
}

static void upload_stations(struct mgmt_req *req, struct mgmt_resp *resp)
{
    upload(req, resp, IMPORT_STATIONS);
}

static void upload_piles(struct mgmt_req *req, struct mgmt_resp *resp)
{
    upload(req, resp, IMPORT_PILES);
}

static void submit(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_access_head h;
    if (load(req, resp, &h) < 0)
        return;
    if (h.account_id != req->caller.account_id) {
        mgmt_resp_error(resp, 404, "not_found", "no such access application", NULL);
        return;
    }
    json_t *v = db_access_view(req->db, h.id, 0);
    int64_t n = json_integer_value(json_object_get(v, "station_count")) +
                json_integer_value(json_object_get(v, "pile_count"));
    json_decref(v);
    if (strcmp(h.status, "draft") == 0 && n == 0) {
        json_t *d = json_array();
        mgmt_detail(d, "file", "required", "upload stations or piles before submitting");
        mgmt_resp_error(resp, 422, "validation_failed", "the application is empty", d);
        return;
    }
    int rc = db_access_transition(req->db, h.id, "draft", "submitted", "submitted", NULL,
                                  req->caller.account_id, "access.submit");
    if (rc == DB_CONFLICT)
        conflict(resp, h.status, "draft");
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not submit", NULL);
    else
        respond(req, resp, 200, h.id);
}

static void pile_passwords(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_access_head h;
    if (load(req, resp, &h) < 0)
        return;
    if (h.account_id != req->caller.account_id) {
        mgmt_resp_error(resp, 404, "not_found", "no such access application", NULL);
        return;
    }
    if (strcmp(h.status, "approved") != 0) {
        conflict(resp, h.status, "approved");
        return;
    }
    json_t *piles = db_access_piles(req->db, h.id), *items = json_array();
    size_t i;
    json_t *p;
    int failed = 0;
    json_array_foreach(piles, i, p)
    {
        char pw[33];
        if (records_new_pile_password(req, json_integer_value(json_array_get(p, 0)), pw) < 0) {
            failed = 1;
            break;
        }
        json_array_append_new(
            items, json_pack("{s:O, s:s}", "equipment_id", json_array_get(p, 1), "password", pw));
    }
    json_decref(piles);
    if (failed) {
        json_decref(items);
        mgmt_resp_error(resp, 500, "internal", "could not issue the passwords", NULL);
        return;
    }
    log_info("mgmt", "pile_passwords_issued", "application=%lld piles=%zu", (long long)h.id,
             json_array_size(items));
    mgmt_resp_header(resp, "Cache-Control", "no-store");
    mgmt_resp_json(resp, 200, json_pack("{s:o}", "items", items));
}

static void decide(struct mgmt_req *req, struct mgmt_resp *resp, const char *to,
                   const char *records_to, const char *action, int needs_reason)
{
    struct db_access_head h;
    if (load(req, resp, &h) < 0)
        return;
    json_t *body = NULL;
    const char *reason = NULL;
    if (needs_reason) {
        if (!(body = mgmt_body_json(req, resp)))
            return;
        json_t *jr = json_object_get(body, "reason");
        json_t *d = json_array();
        if (jr && !json_is_string(jr))
            mgmt_detail(d, "reason", "bad_type", "must be a string");
        else
            val_text(d, "reason", json_string_value(jr), jr ? json_string_length(jr) : 0, 1, 500);
        if (json_array_size(d)) {
            mgmt_resp_error(resp, 422, "validation_failed", "a reason is required", d);
            json_decref(body);
            return;
        }
        json_decref(d);
        reason = json_string_value(jr);
    }
    int rc = db_access_transition(req->db, h.id, "submitted", to, records_to, reason,
                                  req->caller.account_id, action);
    json_decref(body);
    if (rc == DB_CONFLICT)
        conflict(resp, h.status, "submitted");
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not record the decision", NULL);
    else {
        log_info("mgmt", "access_decision", "application=%lld action=%s admin=%lld",
                 (long long)h.id, log_q(action), (long long)req->caller.account_id);
        respond(req, resp, 200, h.id);
    }
}

static void approve(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "approved", "accessed", "access.approve", 0);
}

static void reject(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "rejected", "rejected", "access.reject", 1);
}

const struct mgmt_route mgmt_routes_access[] = {
    {"GET", "/api/v1/access-applications", ACCESS_ACTIVE, list},
    {"POST", "/api/v1/access-applications", ACCESS_OPERATOR, create},
    {"GET", "/api/v1/access-applications/{id}", ACCESS_ACTIVE, get_one},
    {"DELETE", "/api/v1/access-applications/{id}", ACCESS_OPERATOR, delete_one},
    {"POST", "/api/v1/access-applications/{id}/stations", ACCESS_OPERATOR, upload_stations},
    {"POST", "/api/v1/access-applications/{id}/piles", ACCESS_OPERATOR, upload_piles},
    {"POST", "/api/v1/access-applications/{id}/submit", ACCESS_OPERATOR, submit},
    {"POST", "/api/v1/access-applications/{id}/pile-passwords", ACCESS_OPERATOR, pile_passwords},
    {"POST", "/api/v1/admin/access-applications/{id}/approve", ACCESS_ADMIN, approve},
    {"POST", "/api/v1/admin/access-applications/{id}/reject", ACCESS_ADMIN, reject},
    {NULL, NULL, ACCESS_ANON, NULL},
};
