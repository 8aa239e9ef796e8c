/* /api/v1/plans and /api/v1/runs: conformance runs as mgmt sees them (docs/api-runs.md,
 * docs/conformance.md): the plans, queueing a run of a pile or an operator platform, lists, one
 * run with its checks and frames, cancel, a person confirming a manual step, and the JSON and PDF
 * reports. mgmt only writes rows (db/runs.h); the gateway executes them. Operators see the runs
 * of their own targets (their piles, their detection applications), whoever started them;
 * admins every run; any other run answers 404, as if it did not exist. */
#include "common/log.h"
#include "db/accounts.h"
#include "db/audit.h"
#include "db/detections.h"
#include "db/records.h"
#include "db/runs.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"
#include "mgmt/run_report.h"
#include "protocol/plans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGETS_CACHED 32 /* distinct targets named once per list page; more are named anew */

static int is_admin(const struct mgmt_req *req)
{
    return strcmp(req->caller.role, "admin") == 0;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A set of plan_need bits as ["person", "cable", "card"] (in that order; [] for none). */
static json_t *need_names(unsigned needs)
{
    json_t *a = json_array();
    for (unsigned bit = 1; bit <= PLAN_NEED_ALL; bit <<= 1)
        if ((needs & bit) && plan_need_name(bit))
            json_array_append_new(a, json_string(plan_need_name(bit)));
    return a;
}

/* ---- GET /plans ---------------------------------------------------------------------------- */

static void plans(struct mgmt_req *req, struct mgmt_resp *resp)
{
    (void)req;
    json_t *items = json_array();
    for (size_t i = 0; i < plan_count(); i++) {
        const char *name = plan_name(i), *proto = plan_protocol(name);
        size_t n = 0;
        const struct plan_check *c = plan_checks(name, &n);
        json_t *checks = json_array();
        for (size_t k = 0; k < n; k++)
            json_array_append_new(
                checks,
                json_pack("{s:I, s:s, s:s, s:s, s:s, s:b, s:o, s:I}", "seq", (json_int_t)(k + 1),
                          "id", c[k].id, "title_zh", c[k].title_zh, "title_en", c[k].title_en,
                          "what", c[k].what, "required", (int)c[k].required, "needs",
                          need_names(c[k].needs), "timeout_s", (json_int_t)c[k].timeout_s));
        json_array_append_new(items, json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:o}", "name", name,
                                               "title_zh", run_plan_title(name, 1), "title_en",
                                               run_plan_title(name, 0), "target_kind",
                                               plan_target_kind(name), "protocol", proto, "checks",
                                               checks));
    }
    mgmt_resp_json(resp, 200, json_pack("{s:o}", "items", items));
}

/* ---- what a run is of, and whose ----------------------------------------------------------- */

/* A run's target as the API names it. */
struct target {
    int64_t owner;   /* the account owning the pile or the detection; 0 when gone */
    json_t *name;    /* the pile's station and model, or the platform's name; JSON null */
    json_t *company; /* the owner's company; JSON null */
    char key[72];    /* kind/target/detection, for the list's cache */
};

static json_t *json_text_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* Fills `t` for run `run` (db_run_get or a list item). */
static void target_of(struct mgmt_req *req, const json_t *run, struct target *t)
{
    const char *kind = str_of(run, "target_kind"), *target = str_of(run, "target");
    int64_t det = json_integer_value(json_object_get(run, "detection_id"));
    t->owner = 0;
    t->name = json_null();
    t->company = json_null();
    if (kind && strcmp(kind, "pile") == 0) {
        struct db_record_row r;
        if (!target || db_pile_find(req->db, target, &r) != DB_OK)
            return;
        t->owner = r.account_id;
        json_t *v = db_pile_view(req->db, r.row);
        const char *station = str_of(v, "station_name"), *model = str_of(v, "equipment_model");
        if (station || model) {
            char name[1280]; /* a station name of 200 characters and a model of 100 */
            snprintf(name, sizeof name, "%s%s%s", station ? station : "",
                     station && model ? " " : "", model ? model : "");
            json_decref(t->name);
            t->name = json_string(name); /* NULL if ever cut inside a character */
            if (!t->name)
                t->name = json_null();
        }
        json_decref(t->company);
        t->company = json_text_or_null(str_of(v, "company_name"));
        json_decref(v);
    } else if (det > 0) {
        json_t *v = db_detection_view(req->db, det, 0);
        json_t *op = json_object_get(v, "operator");
        if (!v)
            return;
        t->owner = json_integer_value(json_object_get(op, "account_id"));
        json_decref(t->name);
        t->name = json_text_or_null(str_of(json_object_get(v, "platform"), "name"));
        json_decref(t->company);
        t->company = json_text_or_null(str_of(op, "company_name"));
        json_decref(v);
    }
}

static void target_clear(struct target *t)
{
    json_decref(t->name);
    json_decref(t->company);
    t->name = t->company = NULL;
}

/* Adds what a person reads to run `run`: plan titles, the target's name and company, who
 * started it, and each check's plan entry (titles, what, needs, timeout_s). */
static void enrich(struct mgmt_req *req, json_t *run, const struct target *t)
{
    const char *plan = str_of(run, "plan");
    json_object_set_new(run, "plan_title_zh", json_text_or_null(run_plan_title(plan, 1)));
    json_object_set_new(run, "plan_title_en", json_text_or_null(run_plan_title(plan, 0)));
    json_object_set(run, "target_name", t->name);
    json_object_set(run, "target_company", t->company);
    struct db_account a;
    memset(&a, 0, sizeof a);
    int64_t starter = json_integer_value(json_object_get(run, "account_id"));
    if (starter > 0 && db_account_by_id(req->db, starter, &a) == DB_OK)
        json_object_set_new(run, "started_by", json_string(a.username));
    else
        json_object_set_new(run, "started_by", json_null());
    db_account_clear(&a);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(run, "checks"), i, c)
    {
        const struct plan_check *pc = plan_check_find(plan, str_of(c, "check_id"));
        /* a check the plan no longer has (renamed without a migration) keeps its id only */
        json_object_set_new(c, "title_zh", json_text_or_null(pc ? pc->title_zh : NULL));
        json_object_set_new(c, "title_en", json_text_or_null(pc ? pc->title_en : NULL));
        json_object_set_new(c, "what", json_text_or_null(pc ? pc->what : NULL));
        json_object_set_new(c, "needs", need_names(pc ? pc->needs : 0));
        json_object_set_new(c, "timeout_s", pc ? json_integer(pc->timeout_s) : json_null());
    }
}

/* Run `id` enriched for this caller, times as epoch seconds; NULL after answering 404 (no such
 * run, or not the caller's) or 500. Caller owns. */
static json_t *load_run(struct mgmt_req *req, struct mgmt_resp *resp, int64_t id)
{
    json_t *run = NULL;
    int rc = db_run_get(req->db, id, &run);
    if (rc != DB_OK) {
        if (rc == DB_NOTFOUND)
            mgmt_resp_error(resp, 404, "not_found", "no such run", NULL);
        else
            mgmt_resp_error(resp, 500, "internal", "could not read the run", NULL);
        return NULL;
    }
    struct target t;
    target_of(req, run, &t);
    if (!is_admin(req) && (t.owner == 0 || t.owner != req->caller.account_id)) {
        target_clear(&t);
        json_decref(run);
        mgmt_resp_error(resp, 404, "not_found", "no such run", NULL);
        return NULL;
    }
    enrich(req, run, &t);
    target_clear(&t);
    return run;
}

/* ---- POST /runs ---------------------------------------------------------------------------- */

/* An error naming `field`, with the detail's code (and the target's `current` state, if any). */
static void field_error(struct mgmt_resp *resp, unsigned status, const char *code,
                        const char *field, const char *field_code, const char *current,
                        const char *message)
{
    json_t *d = json_array();
    mgmt_detail(d, field, field_code, message);
    if (current)
        json_object_set_new(json_array_get(d, 0), "current", json_string(current));
    mgmt_resp_error(resp, status, code, message, d);
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
        field_error(resp, 404, "not_found", "equipment_id", "not_found", NULL, "no such pile");
        return -1;
    }
    if (strcmp(r.status, "accessed") != 0) {
        snprintf(msg, sizeof msg, "the pile is %s; a run needs an accessed (已接入) pile",
                 r.status);
        field_error(resp, 409, "wrong_state", "equipment_id", "not_accessed", r.status, msg);
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
        field_error(resp, 409, "wrong_protocol", "equipment_id", "wrong_protocol", proto, msg);
        rc = -1;
    } else if (!json_is_true(json_object_get(v, "online"))) {
        field_error(resp, 409, "pile_offline", "equipment_id", "offline", NULL,
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
        (rc == DB_OK && !is_admin(req) && h.account_id != req->caller.account_id)) {
        field_error(resp, 404, "not_found", "detection_id", "not_found", NULL,
                    "no such detection application");
        return -1;
    }
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the application", NULL);
        return -1;
    }
    if (strcmp(h.mode, "self") != 0) {
        field_error(resp, 409, "wrong_state", "detection_id", "not_self", h.mode,
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
        field_error(resp, 409, "wrong_state", "detection_id", "wrong_state", h.status, msg);
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
        field_error(resp, 409, "no_credentials", "detection_id", "no_credentials", NULL,
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
        mgmt_detail(details, "plan", "required", "name a plan of GET /api/v1/plans");
    else if (!kind)
        mgmt_detail(details, "plan", "unknown_plan", "no such plan; see GET /api/v1/plans");
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

static void create(struct mgmt_req *req, struct mgmt_resp *resp)
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
            field_error(resp, 409, "wrong_state", field, "wrong_state", NULL,
                        "the application is no longer approved or failed");
        }
        goto done;
    }
    if (rc == DB_NOTFOUND) {
        field_error(resp, 404, "not_found", field, "not_found", NULL,
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
    log_info("mgmt", "run_queued", "run=%lld plan=%s target=%s account=%lld", (long long)id, plan,
             target, (long long)req->caller.account_id);
    json_t *run = load_run(req, resp, id);
    if (run)
        mgmt_resp_json(resp, 201, mgmt_iso_times(run));
done:
    json_decref(body);
}

/* ---- GET /runs ----------------------------------------------------------------------------- */

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static int is_key(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9')))
            return 0;
    return n >= 1 && n <= DB_RUN_NAME_MAX;
}

/* The target of list item `run`, named once per page for up to TARGETS_CACHED targets. */
static const struct target *cached_target(struct mgmt_req *req, const json_t *run,
                                          struct target *cache, int *n, struct target *spare)
{
    char key[72];
    snprintf(key, sizeof key, "%s/%s/%lld", str_of(run, "target_kind") ?: "",
             str_of(run, "target") ?: "",
             (long long)json_integer_value(json_object_get(run, "detection_id")));
    for (int i = 0; i < *n; i++)
        if (strcmp(cache[i].key, key) == 0)
            return &cache[i];
    struct target *t = *n < TARGETS_CACHED ? &cache[(*n)++] : spare;
    if (t == spare)
        target_clear(spare);
    target_of(req, run, t);
    snprintf(t->key, sizeof t->key, "%s", key);
    return t;
}

static void list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    static const char *const states[] = {"queued", "running",   "passed", "failed",
                                         "error",  "cancelled", NULL};
    json_t *details = json_array();
    const char *plan = mgmt_query(req, "plan"), *state = mgmt_query(req, "state");
    const char *target = mgmt_query(req, "target");
    plan = plan && *plan ? plan : NULL;
    state = state && *state ? state : NULL;
    target = target && *target ? target : NULL;
    if (plan && !plan_target_kind(plan))
        mgmt_detail(details, "plan", "bad_format", "no such plan; see GET /api/v1/plans");
    if (state && !one_of(state, states))
        mgmt_detail(details, "state", "bad_format",
                    "one of queued, running, passed, failed, error, cancelled");
    if (target && !is_key(target))
        mgmt_detail(details, "target", "bad_format",
                    "an EquipmentID or OperatorID: 1-64 letters and digits");
    int64_t page, size;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    struct db_run_filter f = {.plan = plan,
                              .target = target,
                              .state = state,
                              .owner_id = is_admin(req) ? 0 : req->caller.account_id};
    json_t *items = NULL;
    int64_t total = 0;
    if (db_runs_list(req->db, &f, page, size, &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list the runs", NULL);
        return;
    }
    struct target cache[TARGETS_CACHED], spare = {0};
    int ncache = 0;
    size_t i;
    json_t *run;
    json_array_foreach(items, i, run)
        enrich(req, run, cached_target(req, run, cache, &ncache, &spare));
    for (int k = 0; k < ncache; k++)
        target_clear(&cache[k]);
    target_clear(&spare);
    mgmt_resp_list(resp, items, total, page, size);
}

/* ---- one run ------------------------------------------------------------------------------- */

static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *run = load_run(req, resp, req->params[0]);
    if (run)
        mgmt_resp_json(resp, 200, mgmt_iso_times(run));
}

static int finished(const char *state)
{
    return !state || (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0);
}

static void cancel(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = req->params[0];
    json_t *run = load_run(req, resp, id);
    if (!run)
        return;
    int now = 0;
    char msg[160];
    int rc = db_run_cancel(req->db, id, db_now(), &now);
    if (rc == DB_CONFLICT || rc == DB_NOTFOUND) {
        json_decref(run);
        run = NULL;
        if (db_run_get(req->db, id, &run) != DB_OK) {
            mgmt_resp_error(resp, 404, "not_found", "no such run", NULL);
            return;
        }
        const char *state = str_of(run, "state");
        snprintf(msg, sizeof msg,
                 "the run is already %s; only a queued or running run is cancelled",
                 state ? state : "finished");
        field_error(resp, 409, "run_finished", "state", "finished", state, msg);
        json_decref(run);
        return;
    }
    json_decref(run);
    if (rc != DB_OK || db_run_get(req->db, id, &run) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not cancel the run", NULL);
        return;
    }
    db_audit_add_json(req->db, req->caller.account_id, "run.cancel", "run", id,
                      json_pack("{s:b}", "now", now));
    log_info("mgmt", "run_cancel", "run=%lld now=%d", (long long)id, now);
    mgmt_resp_json(resp, 200,
                   json_pack("{s:I, s:O, s:O}", "id", (json_int_t)id, "state",
                             json_object_get(run, "state"), "cancel_requested",
                             json_object_get(run, "cancel_requested")));
    json_decref(run);
}

/* Check `seq` of enriched run `run` (borrowed), or NULL. */
static json_t *check_of(json_t *run, int64_t seq)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(run, "checks"), i, c)
    {
        if (json_integer_value(json_object_get(c, "seq")) == seq)
            return c;
    }
    return NULL;
}

static void confirm(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = req->params[0], seq = req->params[1];
    json_t *run = load_run(req, resp, id);
    if (!run)
        return;
    json_t *c = check_of(run, seq);
    char msg[200];
    if (!c) {
        field_error(resp, 404, "not_found", "seq", "not_found", NULL, "no such check of this run");
        goto done;
    }
    if (json_array_size(json_object_get(c, "needs")) == 0) {
        snprintf(msg, sizeof msg, "check %lld (%s) needs nobody at the pile: nothing to confirm",
                 (long long)seq, str_of(c, "check_id") ?: "?");
        field_error(resp, 400, "bad_request", "seq", "no_manual_step", NULL, msg);
        goto done;
    }
    int rc = db_run_check_confirm(req->db, id, (int)seq, db_now());
    if (rc == DB_CONFLICT) {
        const char *state = str_of(run, "state"), *verdict = str_of(c, "verdict");
        json_t *now = NULL;
        if (db_run_get(req->db, id, &now) == DB_OK) { /* what it is now, not when we read it */
            json_t *nc = check_of(now, seq);
            state = str_of(now, "state");
            verdict = str_of(nc, "verdict");
        }
        if (finished(state)) {
            snprintf(msg, sizeof msg, "the run is already %s", state ? state : "finished");
            field_error(resp, 409, "run_finished", "state", "finished", state, msg);
        } else {
            snprintf(msg, sizeof msg, "check %lld is already decided (%s)", (long long)seq,
                     verdict ? verdict : "?");
            field_error(resp, 409, "check_decided", "seq", "decided", verdict, msg);
        }
        json_decref(now);
        goto done;
    }
    if (rc != DB_OK) {
        mgmt_resp_error(
            resp, rc == DB_NOTFOUND ? 404 : 500, rc == DB_NOTFOUND ? "not_found" : "internal",
            rc == DB_NOTFOUND ? "no such check of this run" : "could not confirm", NULL);
        goto done;
    }
    db_audit_add_json(
        req->db, req->caller.account_id, "run.check_confirmed", "run", id,
        json_pack("{s:I, s:s?}", "seq", (json_int_t)seq, "check_id", str_of(c, "check_id")));
    log_info("mgmt", "run_check_confirmed", "run=%lld seq=%lld", (long long)id, (long long)seq);
    json_decref(run);
    if (!(run = load_run(req, resp, id)))
        return;
    c = check_of(run, seq);
    mgmt_resp_json(resp, 200, mgmt_iso_times(json_incref(c)));
done:
    json_decref(run);
}

/* ---- reports ------------------------------------------------------------------------------- */

static void attachment(struct mgmt_resp *resp, int64_t id, const char *ext)
{
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"run-%lld.%s\"", (long long)id, ext);
    mgmt_resp_header(resp, "Content-Disposition", disp);
    mgmt_resp_header(resp, "Cache-Control", "private, no-store");
}

static void report_json(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *run = load_run(req, resp, req->params[0]);
    if (!run)
        return;
    json_object_set_new(run, "generated_at", json_integer(db_now()));
    mgmt_resp_json(resp, 200, mgmt_iso_times(run));
    attachment(resp, req->params[0], "json");
}

static void report_pdf(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = req->params[0];
    json_t *run = load_run(req, resp, id);
    if (!run)
        return;
    unsigned char *pdf = NULL;
    size_t len = 0;
    char err[256] = "";
    int rc = run_report_pdf(run, (long long)db_now(), &pdf, &len, err, sizeof err);
    json_decref(run);
    if (rc < 0) {
        log_error("mgmt", "run_report_failed", "run=%lld error=\"%s\"", (long long)id, err);
        if (rc == -2)
            mgmt_resp_error(resp, 503, "busy", "too many reports are being drawn; try again", NULL);
        else
            mgmt_resp_error(resp, 500, "internal", "could not draw the report", NULL);
        return;
    }
    resp->status = 200;
    resp->content_type = "application/pdf";
    resp->body = (char *)pdf;
    resp->body_len = len;
    attachment(resp, id, "pdf");
}

const struct mgmt_route mgmt_routes_runs[] = {
    {"GET", "/api/v1/plans", ACCESS_ACTIVE, plans},
    {"POST", "/api/v1/runs", ACCESS_ACTIVE, create},
    {"GET", "/api/v1/runs", ACCESS_ACTIVE, list},
    {"GET", "/api/v1/runs/{id}", ACCESS_ACTIVE, get_one},
    {"POST", "/api/v1/runs/{id}/cancel", ACCESS_ACTIVE, cancel},
    {"POST", "/api/v1/runs/{id}/checks/{id}/confirm", ACCESS_ACTIVE, confirm},
    {"GET", "/api/v1/runs/{id}/report.json", ACCESS_ACTIVE, report_json},
    {"GET", "/api/v1/runs/{id}/report.pdf", ACCESS_ACTIVE, report_pdf},
    {NULL, NULL, ACCESS_ANON, NULL},
};
