/* POST /api/v1/conformance-runs (docs/api-runs.md): queueing a conformance run of a pile or of an
 * operator platform, with every refusal in the order the doc's table gives them (the body, the
 * pile's or the application's state, the credentials, an active run of the target). Answers 201
 * with the run as GET /conformance-runs/{id}. */
#include "common/log.h"
#include "db/audit.h"
#include "db/detections.h"
#include "db/records.h"
#include "db/runs.h"
#include "mgmt/records_api.h"
#include "mgmt/runs_api.h"
#include "protocol/plans.h"

#include <stdio.h>
#include <string.h>

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The queued or running run of `target` into *id (0 when none). */
static void active_run(struct mgmt_req *req, const char *target, int64_t *id)
{
    static const char *const states[] = {"queued", "running"};
    *id = 0;
    for (int i = 0; i < 2 && !*id; i++) {
        struct db_run_filter f = {.target = target, .state = states[i]};
        json_t *items = NULL;
        int64_t total = 0;
        if (db_runs_list(req->db, &f, 1, 1, &items, &total) == DB_OK)
            *id = json_integer_value(json_object_get(json_array_get(items, 0), "id"));
        json_decref(items);
    }
}

/* 409 run_active naming `field` and the active run (0 = unknown). */
static void run_active_error(struct mgmt_resp *resp, const char *field, int64_t active,
                             const char *what)
{
    char msg[200];
    if (active)
        snprintf(msg, sizeof msg,
                 "run %lld of this %s is still queued or running; wait for it or cancel it",
                 (long long)active, what);
    else
        snprintf(msg, sizeof msg, "a run of this %s is still queued or running", what);
    json_t *d = json_array();
    mgmt_detail(d, field, "run_active", msg);
    if (active) /* the UI links to it */
        json_object_set_new(json_array_get(d, 0), "run_id", json_integer(active));
    mgmt_resp_error(resp, 409, "run_active", msg, d);
}

/* The target of a pile plan: 0 with `eid` checked, or -1 after answering. */
static int check_pile(struct mgmt_req *req, struct mgmt_resp *resp, const char *plan,
                      const char *eid)
{
    struct db_record_row r;
    char msg[200];
    if (db_pile_find(req->db, eid, &r) != DB_OK || !records_visible(req, r.account_id)) {
        runs_field_error(resp, 404, "not_found", "equipment_id", "not_found", NULL, "no such pile");
        return -1;
    }
    if (strcmp(r.status, "accessed") != 0) {
        snprintf(msg, sizeof msg, "the pile is %s; a run needs an accessed (已接入) pile",
                 r.status);
        runs_field_error(resp, 409, "wrong_state", "equipment_id", "not_accessed", r.status, msg);
        return -1;
    }
    json_t *v = db_pile_view(req->db, r.row);
    if (!v) {
        mgmt_resp_error(resp, 500, "internal", "could not read the pile", NULL);
        return -1;
    }
    const char *proto = str_of(v, "protocol"), *needed = plan_protocol(plan);
    int rc = 0;
    if (!proto || !needed || strcmp(proto, needed) != 0) {
        snprintf(msg, sizeof msg, "the pile speaks %s; plan %s needs a pile speaking %s",
                 proto ? proto : "no OCPP", plan, needed ? needed : "-");
        runs_field_error(resp, 409, "wrong_protocol", "equipment_id", "wrong_protocol", proto, msg);
        rc = -1;
    } else if (!json_is_true(json_object_get(v, "online"))) {
        runs_field_error(resp, 409, "pile_offline", "equipment_id", "offline", NULL,
                         "the pile is not connected to the gateway; connect it and try again");
        rc = -1;
    }
    json_decref(v);
    return rc;
}

/* The target of a platform plan: 0 with the detection's OperatorID in operator_id, or -1 after
 * answering. */
static int check_detection(struct mgmt_req *req, struct mgmt_resp *resp, int64_t det,
                           char operator_id[16])
{
    struct db_detection_head h;
    char msg[200];
    int rc = db_detection_head(req->db, det, &h);
    if (rc == DB_NOTFOUND ||
        (rc == DB_OK && !runs_is_admin(req) && h.account_id != req->caller.account_id)) {
        runs_field_error(resp, 404, "not_found", "detection_id", "not_found", NULL,
                         "no such detection application");
        return -1;
    }
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the application", NULL);
        return -1;
    }
    if (strcmp(h.mode, "self") != 0) {
        runs_field_error(resp, 409, "wrong_state", "detection_id", "not_self", h.mode,
                         "only a self (自有平台接入) application has a platform to test");
        return -1;
    }
    json_t *v = db_detection_view(req->db, det, 0);
    const char *opid = str_of(json_object_get(v, "operator"), "operator_id");
    snprintf(operator_id, 16, "%s", opid ? opid : "");
    json_decref(v);
    if (strcmp(h.status, "approved") != 0 && strcmp(h.status, "failed") != 0) {
        int64_t active = 0;
        if (strcmp(h.status, "testing") == 0 && *operator_id)
            active_run(req, operator_id, &active);
        if (active) { /* testing because of a run: say which, as for a pile */
            run_active_error(resp, "detection_id", active, "platform");
            return -1;
        }
        snprintf(msg, sizeof msg, "the application is %s; a run needs it approved or failed",
                 h.status);
        runs_field_error(resp, 409, "wrong_state", "detection_id", "wrong_state", h.status, msg);
        return -1;
    }
    struct db_tcec_credentials c;
    rc = strlen(operator_id) == 9 ? db_credentials_live(req->db, operator_id, &c) : DB_NOTFOUND;
    int64_t cred_det = rc == DB_OK ? c.detection_id : 0;
    memset(&c, 0, sizeof c);
    if (rc != DB_OK && rc != DB_NOTFOUND) {
        mgmt_resp_error(resp, 500, "internal", "could not read the credentials", NULL);
        return -1;
    }
    if (cred_det != det) {
        runs_field_error(
            resp, 409, "no_credentials", "detection_id", "no_credentials", NULL,
            "the platform has no live T/CEC credentials of this application: take them "
            "first (POST /api/v1/detections/{id}/credentials) and set them up on the "
            "platform");
        return -1;
    }
    return 0;
}

/* Reads {plan, equipment_id} or {plan, detection_id}; NULL plan after answering 400. */
static const char *create_body(struct mgmt_resp *resp, json_t *body, const char **eid, int64_t *det)
{
    json_t *details = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "plan") && strcmp(k, "equipment_id") && strcmp(k, "detection_id"))
            mgmt_detail(details, k, "unknown_field",
                        "send {plan, equipment_id} or {plan: \"tcec102-platform\", detection_id}");
    }
    json_t *jp = json_object_get(body, "plan");
    const char *plan = json_string_value(jp);
    const char *kind = plan_target_kind(plan);
    if (!jp)
        mgmt_detail(details, "plan", "required", "name a plan of GET /api/v1/conformance-plans");
    else if (!kind)
        mgmt_detail(details, "plan", "unknown_plan",
                    "no such plan; see GET /api/v1/conformance-plans");
    json_t *je = json_object_get(body, "equipment_id"), *jd = json_object_get(body, "detection_id");
    *eid = json_string_value(je);
    *det = json_integer_value(jd);
    if (kind && strcmp(kind, "pile") == 0) {
        size_t len = *eid ? strlen(*eid) : 0;
        if (!je)
            mgmt_detail(details, "equipment_id", "required", "the pile to test (EquipmentID)");
        else if (!*eid || len < 1 || len > DB_RUN_NAME_MAX)
            mgmt_detail(details, "equipment_id", "bad_format", "an EquipmentID (text)");
        if (jd)
            mgmt_detail(details, "detection_id", "not_allowed",
                        "a pile plan takes equipment_id, not detection_id");
    } else if (kind) {
        if (!jd)
            mgmt_detail(details, "detection_id", "required",
                        "the approved self detection application whose platform to test");
        else if (!json_is_integer(jd) || *det < 1)
            mgmt_detail(details, "detection_id", "bad_format", "a detection application id");
        if (je)
            mgmt_detail(details, "equipment_id", "not_allowed",
                        "a platform plan takes detection_id, not equipment_id");
    }
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 400, "bad_request", "the run request is incomplete or wrong",
                        details);
        return NULL;
    }
    json_decref(details);
    return plan;
}

void runs_create(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    const char *eid = NULL;
    int64_t det = 0, id = 0;
    char operator_id[16] = "";
    const char *plan = create_body(resp, body, &eid, &det);
    if (!plan)
        goto done;
    int pile = strcmp(plan_target_kind(plan), "pile") == 0;
    if (pile ? check_pile(req, resp, plan, eid) < 0
             : check_detection(req, resp, det, operator_id) < 0)
        goto done;

    size_t n = 0;
    const struct plan_check *pc = plan_checks(plan, &n);
    struct db_run_check_in checks[DB_RUN_CHECKS_MAX];
    if (n < 1 || n > DB_RUN_CHECKS_MAX) { /* a plan table the DB cannot hold: a bug */
        mgmt_resp_error(resp, 500, "internal", "the plan has too many checks", NULL);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        checks[i] = (struct db_run_check_in){pc[i].id, pc[i].required};
    const char *target = pile ? eid : operator_id;
    struct db_run_in in = {plan, plan_target_kind(plan), target, pile ? 0 : det,
                           req->caller.account_id};
    int rc = db_run_create(req->db, &in, checks, (int)n, db_now(), &id);
    const char *field = pile ? "equipment_id" : "detection_id";
    if (rc == DB_CONFLICT) {
        int64_t active = 0;
        active_run(req, target, &active);
        if (active || pile) {
            run_active_error(resp, field, active, pile ? "pile" : "platform");
        } else { /* the application changed state meanwhile */
            runs_field_error(resp, 409, "wrong_state", field, "wrong_state", NULL,
                             "the application is no longer approved or failed");
        }
        goto done;
    }
    if (rc == DB_NOTFOUND) {
        runs_field_error(resp, 404, "not_found", field, "not_found", NULL,
                         "no such detection application");
        goto done;
    }
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not queue the run", NULL);
        goto done;
    }
    db_audit_add_json(req->db, req->caller.account_id, "run.created", "run", id,
                      json_pack("{s:s, s:s, s:s, s:o}", "plan", plan, "target_kind", in.target_kind,
                                "target", target, "detection_id",
                                det > 0 && !pile ? json_integer(det) : json_null()));
    log_info("mgmt", "run_queued", "run=%lld plan=%s target=%s account=%lld", (long long)id,
             log_q(plan), log_q(target), (long long)req->caller.account_id);
    json_t *run = runs_load(req, resp, id);
    if (run)
        mgmt_resp_json(resp, 201, mgmt_iso_times(run));
done:
    json_decref(body);
}
