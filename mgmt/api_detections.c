/* /api/v1/detections, /platforms and /access-gate: the operator's side of detection
 * applications (桩平台检测). Admin decisions are in api_admin_detections.c. */
#include "common/config.h"
#include "common/log.h"
#include "db/detections.h"
#include "mgmt/auth.h"
#include "mgmt/detection_api.h"
#include "mgmt/detection_rules.h"
#include "mgmt/pdf_form.h"
#include "mgmt/router.h"
#include "mgmt/uploads.h"
#include "mgmt/validate.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MATERIALS 10

int detection_load(struct mgmt_req *req, struct mgmt_resp *resp, struct db_detection_head *h)
{
    int rc = db_detection_head(req->db, req->params[0], h);
    int admin = strcmp(req->caller.role, "admin") == 0;
    /* Another operator's application answers 404, as if it did not exist. */
    if (rc == DB_NOTFOUND || (rc == DB_OK && !admin && h->account_id != req->caller.account_id)) {
        mgmt_resp_error(resp, 404, "not_found", "no such detection application", NULL);
        return -1;
    }
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the application", NULL);
        return -1;
    }
    return 0;
}

void detection_answer(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status, int64_t id)
{
    json_t *v = db_detection_view(req->db, id, 1);
    if (!v)
        mgmt_resp_error(resp, 404, "not_found", "no such detection application", NULL);
    else
        mgmt_resp_json(resp, status, mgmt_iso_times(v));
}

void detection_conflict(struct mgmt_resp *resp, const char *status, const char *needed)
{
    mgmt_resp_wrong_state(resp, "application", status, needed);
}

/* Only the owner changes its application; admins read. */
static int load_own(struct mgmt_req *req, struct mgmt_resp *resp, struct db_detection_head *h)
{
    if (detection_load(req, resp, h) < 0)
        return -1;
    if (h->account_id != req->caller.account_id) {
        mgmt_resp_error(resp, 403, "forbidden", "only the applicant changes its application", NULL);
        return -1;
    }
    return 0;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static void list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    static const char *const statuses[] = {"draft",   "submitted", "approved", "rejected",
                                           "testing", "passed",    "failed",   NULL};
    static const char *const modes[] = {"self", "delegated", NULL};
    json_t *details = json_array();
    const char *status = mgmt_query(req, "status"), *mode = mgmt_query(req, "mode");
    const char *q = mgmt_query(req, "q");
    status = status && *status ? status : NULL;
    mode = mode && *mode ? mode : NULL;
    q = q && *q ? q : NULL;
    if (status && !one_of(status, statuses))
        mgmt_detail(details, "status", "bad_format", "unknown status");
    if (mode && !one_of(mode, modes))
        mgmt_detail(details, "mode", "bad_format", "must be self or delegated");
    if (q)
        val_text(details, "q", q, strlen(q), 1, 100);
    int64_t page, size;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    int admin = strcmp(req->caller.role, "admin") == 0;
    json_t *items;
    int64_t total;
    if (db_detection_list(req->db, admin ? 0 : req->caller.account_id, status, mode, q, page, size,
                          &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list applications", NULL);
        return;
    }
    mgmt_resp_list(resp, items, total, page, size);
}

/* A delegate must be a passed self application: exactly the public list of GET /platforms,
 * so the answer reveals nothing about other operators' applications. */
static void check_delegate_exists(struct mgmt_req *req, int64_t self_id, int64_t delegate_id,
                                  json_t *details)
{
    struct db_detection_head dh;
    if (!delegate_id)
        return;
    if (delegate_id == self_id || db_detection_head(req->db, delegate_id, &dh) != DB_OK ||
        strcmp(dh.mode, "self") != 0 || strcmp(dh.status, "passed") != 0)
        mgmt_detail(details, "delegate_detection_id", "bad_format",
                    "must name a platform that has passed its detection (see GET "
                    "/api/v1/platforms)");
}

static void create(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    json_t *details = json_array();
    const char *mode = json_string_value(json_object_get(body, "mode"));
    if (!mode || (strcmp(mode, "self") && strcmp(mode, "delegated")))
        mgmt_detail(details, "mode", mode ? "bad_format" : "required",
                    "must be self (自有平台接入) or delegated (委托平台接入)");
    int64_t delegate_id = 0;
    json_t *data = detection_merge_draft(NULL, body, &delegate_id, details);
    check_delegate_exists(req, 0, delegate_id, details);
    int64_t id = 0;
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some fields are invalid", details);
    } else if (db_detection_create(req->db, req->caller.account_id, mode, data, delegate_id, &id) !=
               DB_OK) {
        json_decref(details);
        mgmt_resp_error(resp, 500, "internal", "could not store the application", NULL);
    } else {
        json_decref(details);
        log_info("mgmt", "detection_created", "detection=%lld account=%lld", (long long)id,
                 (long long)req->caller.account_id);
        detection_answer(req, resp, 201, id);
    }
    json_decref(data);
    json_decref(body);
}

static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (detection_load(req, resp, &h) == 0)
        detection_answer(req, resp, 200, h.id);
}

/* The stored editable fields of `id` (caller owns) and its delegate id. */
static json_t *stored_data(struct mgmt_req *req, int64_t id, int64_t *delegate_id)
{
    json_t *v = db_detection_view(req->db, id, 0);
    json_t *data = json_object();
    static const char *const keys[] = {"commissioning_unit", "contact", "platform",
                                       "delegation_scope", "pile_summary"};
    for (size_t i = 0; v && i < sizeof keys / sizeof keys[0]; i++) {
        json_t *e = json_object_get(v, keys[i]);
        if (e && !json_is_null(e))
            json_object_set(data, keys[i], e);
    }
    json_t *del = json_object_get(v, "delegate_detection_id");
    *delegate_id = json_is_integer(del) ? json_integer_value(del) : 0;
    json_decref(v);
    return data;
}

static void update(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (load_own(req, resp, &h) < 0)
        return;
    if (strcmp(h.status, "draft") != 0 && strcmp(h.status, "rejected") != 0) {
        detection_conflict(resp, h.status, "draft or rejected");
        return;
    }
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    json_t *details = json_array();
    const char *mode = json_string_value(json_object_get(body, "mode"));
    if (mode && strcmp(mode, h.mode) != 0)
        mgmt_detail(details, "mode", "immutable",
                    "the mode of an application cannot change: create a new application");
    int64_t delegate_id = 0;
    json_t *base = stored_data(req, h.id, &delegate_id);
    json_t *data = detection_merge_draft(base, body, &delegate_id, details);
    check_delegate_exists(req, h.id, delegate_id, details);
    json_decref(base);
    json_decref(body);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some fields are invalid", details);
        json_decref(data);
        return;
    }
    json_decref(details);
    int rc = db_detection_update(req->db, h.id, data, delegate_id);
    json_decref(data);
    if (rc == DB_CONFLICT)
        detection_conflict(resp, h.status, "draft or rejected");
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not store the application", NULL);
    else
        detection_answer(req, resp, 200, h.id);
}

static void remove_stored(struct mgmt_req *req, const char *stored_name)
{
    char path[1100];
    snprintf(path, sizeof path, "%suploads/%.2s/%s", req->cfg->data_dir, stored_name, stored_name);
    unlink(path);
}

static void delete_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (load_own(req, resp, &h) < 0)
        return;
    json_t *names = json_array();
    int rc = db_detection_delete(req->db, h.id, names);
    if (rc == DB_CONFLICT) {
        detection_conflict(resp, h.status, "draft");
    } else if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not delete the application", NULL);
    } else {
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) remove_stored(req, json_string_value(n));
        mgmt_resp_json(resp, 204, NULL);
    }
    json_decref(names);
}

static void form_pdf(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (detection_load(req, resp, &h) < 0)
        return;
    json_t *v = db_detection_view(req->db, h.id, 0);
    unsigned char *pdf = NULL;
    size_t len = 0;
    char err[256];
    if (!v || pdf_form_detection(v, &pdf, &len, err, sizeof err) < 0) {
        log_error("mgmt", "pdf_form_failed", "detection=%lld error=%s", (long long)h.id,
                  log_q(v ? err : "no view"));
        json_decref(v);
        mgmt_resp_error(resp, 500, "internal", "could not generate the form", NULL);
        return;
    }
    json_decref(v);
    resp->status = 200;
    resp->content_type = "application/pdf";
    resp->body = (char *)pdf;
    resp->body_len = len;
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"detection-%lld-form.pdf\"",
             (long long)h.id);
    mgmt_resp_header(resp, "Content-Disposition", disp);
    mgmt_resp_header(resp, "Cache-Control", "private, no-store");
}

static void material_add(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (load_own(req, resp, &h) < 0)
        return;
    if (req->body_too_large || !req->is_multipart) {
        mgmt_resp_error(resp, req->body_too_large ? 413 : 400,
                        req->body_too_large ? "too_large" : "bad_request",
                        req->body_too_large ? "the upload is larger than the limit"
                                            : "send the file as multipart/form-data field `file`",
                        NULL);
        return;
    }
    struct mgmt_upload *u = mgmt_file(req, "file");
    if (!u || u->size == 0) {
        json_t *d = json_array();
        mgmt_detail(d, "file", "required", "choose a pdf, jpg or png file");
        mgmt_resp_error(resp, 422, "validation_failed", "no file", d);
        return;
    }
    if (strcmp(h.status, "draft") != 0 && strcmp(h.status, "rejected") != 0) {
        detection_conflict(resp, h.status, "draft or rejected");
        return;
    }
    if (uploads_check_document(req, u, "file", resp) < 0)
        return;
    int64_t file_id, mid;
    const char *why = NULL;
    if (uploads_keep(req, u, "material", req->caller.account_id, &file_id) < 0) {
        mgmt_resp_error(resp, 500, "internal", "could not store the file", NULL);
        return;
    }
    int rc = db_material_add(req->db, h.id, file_id, MAX_MATERIALS, &mid, &why);
    if (rc != DB_OK) {
        uploads_discard(req, file_id);
        if (rc == DB_CONFLICT && why && strcmp(why, "count") == 0)
            mgmt_resp_error(resp, 409, "conflict",
                            "at most 10 materials per application: delete one first", NULL);
        else if (rc == DB_CONFLICT)
            detection_conflict(resp, h.status, "draft or rejected");
        else
            mgmt_resp_error(resp, 500, "internal", "could not store the material", NULL);
        return;
    }
    json_t *v = db_detection_view(req->db, h.id, 0);
    json_t *mats = json_object_get(v, "materials"), *found = NULL, *m;
    size_t i;
    json_array_foreach(mats, i, m) if (json_integer_value(json_object_get(m, "id")) == mid) found =
        m;
    if (!found) {
        json_decref(v);
        mgmt_resp_error(resp, 500, "internal", "material vanished", NULL);
        return;
    }
    json_incref(found);
    json_decref(v);
    mgmt_resp_json(resp, 201, mgmt_iso_times(found));
}

static void material_delete(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (load_own(req, resp, &h) < 0)
        return;
    char stored[80];
    const char *why = NULL;
    int rc = db_material_delete(req->db, h.id, req->params[1], stored, &why);
    if (rc == DB_NOTFOUND)
        mgmt_resp_error(resp, 404, "not_found", "no such material", NULL);
    else if (rc == DB_CONFLICT)
        detection_conflict(resp, h.status, "draft or rejected");
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not delete the material", NULL);
    else {
        remove_stored(req, stored);
        mgmt_resp_json(resp, 204, NULL);
    }
}

static void submit(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (load_own(req, resp, &h) < 0)
        return;
    if (strcmp(h.status, "draft") != 0 && strcmp(h.status, "rejected") != 0) {
        detection_conflict(resp, h.status, "draft or rejected");
        return;
    }
    int64_t delegate_id = 0, materials = 0;
    json_t *data = stored_data(req, h.id, &delegate_id);
    struct db_detection_head dh;
    int delegate_ok = delegate_id && db_detection_head(req->db, delegate_id, &dh) == DB_OK &&
                      strcmp(dh.mode, "self") == 0 && strcmp(dh.status, "passed") == 0;
    db_material_count(req->db, h.id, &materials);
    json_t *details = json_array();
    detection_check_submit(h.mode, data, delegate_id, delegate_ok, materials, details);
    json_decref(data);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed",
                        "the application is incomplete or has invalid fields", details);
        return;
    }
    json_decref(details);
    int rc = db_detection_transition(req->db, h.id, "draft,rejected", "submitted", NULL,
                                     req->caller.account_id, "detection.submit");
    if (rc == DB_CONFLICT)
        detection_conflict(resp, h.status, "draft or rejected");
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not submit", NULL);
    else
        detection_answer(req, resp, 200, h.id);
}

/* 16 characters from [0-9A-Za-z], drawn from the CSPRNG without modulo bias. */
static int random_secret(char out[17])
{
    static const char set[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = 0;
    while (n < 16) {
        unsigned char buf[32];
        if (RAND_bytes(buf, sizeof buf) != 1)
            return -1;
        for (size_t i = 0; i < sizeof buf && n < 16; i++)
            if (buf[i] < 248) /* 248 = 4 * 62 */
                out[n++] = set[buf[i] % 62];
    }
    out[16] = 0;
    return 0;
}

static void credentials(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (load_own(req, resp, &h) < 0)
        return;
    if (strcmp(h.mode, "self") != 0) {
        mgmt_resp_error(resp, 409, "conflict",
                        "only a self (自有平台接入) application has platform credentials", NULL);
        return;
    }
    if (strcmp(h.status, "approved") && strcmp(h.status, "testing") && strcmp(h.status, "passed") &&
        strcmp(h.status, "failed")) {
        detection_conflict(resp, h.status, "approved, testing, passed or failed");
        return;
    }
    json_t *v = db_detection_view(req->db, h.id, 0);
    const char *opid =
        json_string_value(json_object_get(json_object_get(v, "operator"), "operator_id"));
    struct db_tcec_credentials c = {.detection_id = h.id, .issued_at = db_now()};
    snprintf(c.operator_id, sizeof c.operator_id, "%s", opid ? opid : "");
    json_decref(v);
    if (strlen(c.operator_id) != 9 || random_secret(c.operator_secret) < 0 ||
        random_secret(c.data_secret) < 0 || random_secret(c.data_secret_iv) < 0 ||
        random_secret(c.sig_secret) < 0 ||
        db_credentials_issue(req->db, &c, req->caller.account_id) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not issue credentials", NULL);
        return;
    }
    log_info("mgmt", "credentials_issued", "detection=%lld operator_id=%s", (long long)h.id,
             log_q(c.operator_id));
    mgmt_resp_header(resp, "Cache-Control", "no-store");
    mgmt_resp_json(
        resp, 200,
        mgmt_iso_times(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "operator_id", c.operator_id,
                                 "operator_secret", c.operator_secret, "data_secret", c.data_secret,
                                 "data_secret_iv", c.data_secret_iv, "sig_secret", c.sig_secret,
                                 "issued_at", (json_int_t)c.issued_at)));
    memset(&c, 0, sizeof c);
}

static void platforms(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *v = db_passed_platforms(req->db);
    if (!v)
        mgmt_resp_error(resp, 500, "internal", "could not list platforms", NULL);
    else
        mgmt_resp_json(resp, 200, v);
}

static void access_gate(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = 0;
    if (db_access_gate(req->db, req->caller.account_id, &id) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read applications", NULL);
        return;
    }
    mgmt_resp_json(resp, 200,
                   json_pack("{s:b, s:s, s:o}", "allowed", id > 0, "reason",
                             id > 0 ? "a detection application has passed or been approved"
                                    : "access needs a passed self (自有平台接入) or an approved "
                                      "delegated (委托平台接入) detection application",
                             "detection_id", id > 0 ? json_integer(id) : json_null()));
}

const struct mgmt_route mgmt_routes_detections[] = {
    {"GET", "/api/v1/detections", ACCESS_ACTIVE, list},
    {"POST", "/api/v1/detections", ACCESS_OPERATOR, create},
    {"GET", "/api/v1/detections/{id}", ACCESS_ACTIVE, get_one},
    {"PUT", "/api/v1/detections/{id}", ACCESS_OPERATOR, update},
    {"DELETE", "/api/v1/detections/{id}", ACCESS_OPERATOR, delete_one},
    {"GET", "/api/v1/detections/{id}/form.pdf", ACCESS_ACTIVE, form_pdf},
    {"POST", "/api/v1/detections/{id}/materials", ACCESS_OPERATOR, material_add},
    {"DELETE", "/api/v1/detections/{id}/materials/{id}", ACCESS_OPERATOR, material_delete},
    {"POST", "/api/v1/detections/{id}/submit", ACCESS_OPERATOR, submit},
    {"POST", "/api/v1/detections/{id}/credentials", ACCESS_OPERATOR, credentials},
    {"GET", "/api/v1/platforms", ACCESS_ACTIVE, platforms},
    {"GET", "/api/v1/access-gate", ACCESS_OPERATOR, access_gate},
    {NULL, NULL, ACCESS_ANON, NULL},
};
