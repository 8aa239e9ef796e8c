/* /api/v1/admin/detections: approving, rejecting and recording a verdict by hand. */
#include "common/log.h"
#include "db/detections.h"
#include "mgmt/detection_api.h"
#include "mgmt/router.h"
#include "mgmt/validate.h"

#include <string.h>

/* Reads {<key>: text} of 1..500 characters; answers 422 and returns NULL when invalid.
 * *body must be freed by the caller whatever the result. */
static const char *required_text(struct mgmt_req *req, struct mgmt_resp *resp, json_t **body,
                                 const char *key)
{
    *body = mgmt_body_json(req, resp);
    if (!*body)
        return NULL;
    json_t *v = json_object_get(*body, key);
    json_t *details = json_array();
    if (v && !json_is_string(v))
        mgmt_detail(details, key, "bad_type", "must be a string");
    else
        val_text(details, key, json_string_value(v), v ? json_string_length(v) : 0, 1, 500);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "a reason or note is required", details);
        return NULL;
    }
    json_decref(details);
    return json_string_value(v);
}

static void decide(struct mgmt_req *req, struct mgmt_resp *resp, const char *to, const char *reason,
                   const char *action)
{
    struct db_detection_head h;
    if (detection_load(req, resp, &h) < 0)
        return;
    int rc = db_detection_transition(req->db, h.id, "submitted", to, reason, req->caller.account_id,
                                     action);
    if (rc == DB_CONFLICT)
        detection_conflict(resp, h.status, "submitted");
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not record the decision", NULL);
    else {
        log_info("mgmt", "detection_decision", "detection=%lld action=%s admin=%lld",
                 (long long)h.id, log_q(action), (long long)req->caller.account_id);
        detection_answer(req, resp, 200, h.id);
    }
}

static void approve(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "approved", NULL, "detection.approve");
}

static void reject(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = NULL;
    const char *reason = required_text(req, resp, &body, "reason");
    if (reason)
        decide(req, resp, "rejected", reason, "detection.reject");
    json_decref(body);
}

static void verdict(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_detection_head h;
    if (detection_load(req, resp, &h) < 0)
        return;
    json_t *body = NULL;
    const char *note = required_text(req, resp, &body, "note");
    const char *v = body ? json_string_value(json_object_get(body, "verdict")) : NULL;
    if (note && (!v || (strcmp(v, "passed") && strcmp(v, "failed")))) {
        json_t *d = json_array();
        mgmt_detail(d, "verdict", v ? "bad_format" : "required", "must be passed or failed");
        mgmt_resp_error(resp, 422, "validation_failed", "a verdict is required", d);
        note = NULL;
    }
    if (note) {
        if (strcmp(h.mode, "self") != 0) {
            mgmt_resp_error(resp, 409, "conflict",
                            "a delegated application has no verdict: approval is final", NULL);
        } else {
            int rc = db_detection_verdict(req->db, h.id, v, "manual", note, req->caller.account_id);
            if (rc == DB_CONFLICT)
                detection_conflict(resp, h.status, "approved or testing");
            else if (rc != DB_OK)
                mgmt_resp_error(resp, 500, "internal", "could not record the verdict", NULL);
            else
                detection_answer(req, resp, 200, h.id);
        }
    }
    json_decref(body);
}

const struct mgmt_route mgmt_routes_admin_detections[] = {
    {"POST", "/api/v1/admin/detections/{id}/approve", ACCESS_ADMIN, approve},
    {"POST", "/api/v1/admin/detections/{id}/reject", ACCESS_ADMIN, reject},
    {"POST", "/api/v1/admin/detections/{id}/verdict", ACCESS_ADMIN, verdict},
    {NULL, NULL, ACCESS_ANON, NULL},
};
