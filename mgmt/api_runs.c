/* /api/v1/conformance-plans and /api/v1/conformance-runs: conformance runs as mgmt sees them
 * (docs/api-runs.md, docs/conformance.md): the plans, what a run is of and whose, lists, one run
 * with its checks (with or without their frames) or one check, cancel, a person confirming a manual
 * step, and the JSON and PDF reports; queueing a run is api_runs_create.c's. mgmt only writes rows
 * (db/runs.h); the gateway executes them. Operators see the runs of their own targets (their piles,
 * their detection applications), whoever started them; admins every run; any other run answers 404,
 * as if it did not exist. */
#include "common/log.h"
#include "db/accounts.h"
#include "db/audit.h"
#include "db/detections.h"
#include "db/records.h"
#include "db/runs.h"
#include "mgmt/router.h"
#include "mgmt/run_report.h"
#include "mgmt/runs_api.h"
#include "protocol/plans.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGETS_CACHED 32 /* distinct targets named once per list page; more are named anew */

int runs_is_admin(const struct mgmt_req *req)
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

/* ---- GET /conformance-plans
 * ---------------------------------------------------------------------------- */

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
        json_array_append_new(
            items, json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:o}", "name", name, "title_zh",
                             plan_title_zh(name), "title_en", plan_title_en(name), "target_kind",
                             plan_target_kind(name), "protocol", proto, "checks", checks));
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
    json_object_set_new(run, "plan_title_zh", json_text_or_null(plan_title_zh(plan)));
    json_object_set_new(run, "plan_title_en", json_text_or_null(plan_title_en(plan)));
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

json_t *runs_load(struct mgmt_req *req, struct mgmt_resp *resp, int64_t id)
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
    if (!runs_is_admin(req) && (t.owner == 0 || t.owner != req->caller.account_id)) {
        target_clear(&t);
        json_decref(run);
        mgmt_resp_error(resp, 404, "not_found", "no such run", NULL);
        return NULL;
    }
    enrich(req, run, &t);
    target_clear(&t);
    return run;
}

/* ---- errors ------------------------------------------------------------------------------- */

void runs_field_error(struct mgmt_resp *resp, unsigned status, const char *code, const char *field,
                      const char *field_code, const char *current, const char *message)
{
    json_t *d = json_array();
    mgmt_detail(d, field, field_code, message);
    if (current)
        json_object_set_new(json_array_get(d, 0), "current", json_string(current));
    mgmt_resp_error(resp, status, code, message, d);
}

/* ---- GET /conformance-runs
 * ----------------------------------------------------------------------------- */

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
        mgmt_detail(details, "plan", "bad_format",
                    "no such plan; see GET /api/v1/conformance-plans");
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
                              .owner_id = runs_is_admin(req) ? 0 : req->caller.account_id};
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

/* Takes the frames out of every check of `run`, leaving their number in frames_count. */
static void drop_frames(json_t *run)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(run, "checks"), i, c)
    {
        json_int_t n = (json_int_t)json_array_size(json_object_get(c, "frames"));
        json_object_del(c, "frames");
        json_object_set_new(c, "frames_count", json_integer(n));
    }
}

/* GET /conformance-runs/{id}[?frames=0|1]: frames=0 is what the run page polls while the run goes
 * on (the frames can make a run megabytes); it fetches a check's frames with GET
 * /conformance-runs/{id}/checks/{seq}. */
static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    const char *frames = mgmt_query(req, "frames");
    int with_frames = !frames || !*frames || strcmp(frames, "1") == 0;
    if (!with_frames && strcmp(frames, "0") != 0) {
        json_t *d = json_array();
        mgmt_detail(d, "frames", "bad_format", "0 (checks without their frames) or 1");
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", d);
        return;
    }
    json_t *run = runs_load(req, resp, req->params[0]);
    if (!run)
        return;
    if (!with_frames)
        drop_frames(run);
    mgmt_resp_json(resp, 200, mgmt_iso_times(run));
}

static int finished(const char *state)
{
    return !state || (strcmp(state, "queued") != 0 && strcmp(state, "running") != 0);
}

static void cancel(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = req->params[0];
    json_t *run = runs_load(req, resp, id);
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
        runs_field_error(resp, 409, "run_finished", "state", "finished", state, msg);
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

/* GET /conformance-runs/{id}/checks/{seq}: one check as in the run, with its frames. */
static void get_check(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *run = runs_load(req, resp, req->params[0]);
    if (!run)
        return;
    json_t *c = check_of(run, req->params[1]);
    if (c)
        mgmt_resp_json(resp, 200, mgmt_iso_times(json_incref(c)));
    else
        runs_field_error(resp, 404, "not_found", "seq", "not_found", NULL,
                         "no such check of this run");
    json_decref(run);
}

static void confirm(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = req->params[0], seq = req->params[1];
    json_t *run = runs_load(req, resp, id);
    if (!run)
        return;
    json_t *c = check_of(run, seq);
    char msg[200];
    if (!c) {
        runs_field_error(resp, 404, "not_found", "seq", "not_found", NULL,
                         "no such check of this run");
        goto done;
    }
    if (json_array_size(json_object_get(c, "needs")) == 0) {
        snprintf(msg, sizeof msg, "check %lld (%s) needs nobody at the pile: nothing to confirm",
                 (long long)seq, str_of(c, "check_id") ?: "?");
        runs_field_error(resp, 400, "bad_request", "seq", "no_manual_step", NULL, msg);
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
            runs_field_error(resp, 409, "run_finished", "state", "finished", state, msg);
        } else {
            snprintf(msg, sizeof msg, "check %lld is already decided (%s)", (long long)seq,
                     verdict ? verdict : "?");
            runs_field_error(resp, 409, "check_decided", "seq", "decided", verdict, msg);
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
    if (!(run = runs_load(req, resp, id)))
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
    json_t *run = runs_load(req, resp, req->params[0]);
    if (!run)
        return;
    json_object_set_new(run, "generated_at", json_integer(db_now()));
    mgmt_resp_json(resp, 200, mgmt_iso_times(run));
    attachment(resp, req->params[0], "json");
}

static void report_pdf(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int64_t id = req->params[0];
    json_t *run = runs_load(req, resp, id);
    if (!run)
        return;
    unsigned char *pdf = NULL;
    size_t len = 0;
    char err[256] = "";
    int rc = run_report_pdf(run, (long long)db_now(), &pdf, &len, err, sizeof err);
    json_decref(run);
    if (rc < 0) {
        log_error("mgmt", "run_report_failed", "run=%lld error=%s", (long long)id, log_q(err));
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
    {"GET", "/api/v1/conformance-plans", ACCESS_ACTIVE, plans},
    {"POST", "/api/v1/conformance-runs", ACCESS_ACTIVE, runs_create},
    {"GET", "/api/v1/conformance-runs", ACCESS_ACTIVE, list},
    {"GET", "/api/v1/conformance-runs/{id}", ACCESS_ACTIVE, get_one},
    {"POST", "/api/v1/conformance-runs/{id}/cancel", ACCESS_ACTIVE, cancel},
    {"GET", "/api/v1/conformance-runs/{id}/checks/{id}", ACCESS_ACTIVE, get_check},
    {"POST", "/api/v1/conformance-runs/{id}/checks/{id}/confirm", ACCESS_ACTIVE, confirm},
    {"GET", "/api/v1/conformance-runs/{id}/report.json", ACCESS_ACTIVE, report_json},
    {"GET", "/api/v1/conformance-runs/{id}/report.pdf", ACCESS_ACTIVE, report_pdf},
    {NULL, NULL, ACCESS_ANON, NULL},
};
