/* /api/v1/admin/accounts: the review queue and the decisions on operator accounts. */
#include "common/config.h"
#include "common/log.h"
#include "db/accounts.h"
#include "db/audit.h"
#include "mgmt/account_view.h"
#include "mgmt/router.h"
#include "mgmt/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *details = json_array();
    const char *status = mgmt_query(req, "status");
    const char *q = mgmt_query(req, "q");
    if (status && !*status)
        status = NULL;
    if (q && !*q)
        q = NULL;
    if (status && strcmp(status, "pending") && strcmp(status, "active") &&
        strcmp(status, "rejected") && strcmp(status, "disabled"))
        mgmt_detail(details, "status", "bad_format",
                    "must be pending, active, rejected or disabled");
    if (q)
        val_text(details, "q", q, strlen(q), 1, 100);
    int64_t page, size;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    json_t *items = NULL;
    int64_t total = 0;
    if (db_operator_list(req->db, status, q, page, size, &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list accounts", NULL);
        return;
    }
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *lic = json_object_get(it, "license");
        if (json_is_object(lic)) {
            char url[64];
            snprintf(url, sizeof url, "/api/v1/files/%lld",
                     (long long)json_integer_value(json_object_get(lic, "id")));
            json_object_set_new(lic, "url", json_string(url));
        }
    }
    mgmt_resp_list(resp, items, total, page, size);
}

static void detail(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *v = account_view(req, req->params[0]);
    if (!v) {
        mgmt_resp_error(resp, 404, "not_found", "no such account", NULL);
        return;
    }
    json_t *audit = db_audit_for_object(req->db, "account", req->params[0]);
    json_object_set_new(v, "audit", audit ? mgmt_iso_times(audit) : json_array());
    mgmt_resp_json(resp, 200, v);
}

/* Applies one decision; `reason_rule`: 0 = no reason, 1 = optional, 2 = required. */
static void decide(struct mgmt_req *req, struct mgmt_resp *resp, const char *from, const char *to,
                   const char *action, int reason_rule)
{
    json_t *body = NULL;
    const char *reason = NULL;
    if (reason_rule) {
        if (!(body = mgmt_body_json(req, resp)))
            return;
        json_t *jr = json_object_get(body, "reason");
        reason = json_string_value(jr);
        json_t *details = json_array();
        if (jr && !json_is_string(jr) && !json_is_null(jr))
            mgmt_detail(details, "reason", "bad_format", "must be a string");
        else
            val_text(details, "reason", reason, reason ? json_string_length(jr) : 0,
                     reason_rule == 2 ? 1 : 0, 500);
        if (json_array_size(details)) {
            mgmt_resp_error(resp, 422, "validation_failed",
                            reason_rule == 2 ? "a reason is required" : "invalid reason", details);
            json_decref(body);
            return;
        }
        json_decref(details);
        if (reason && !*reason)
            reason = NULL;
    }
    int rc = db_operator_set_status(req->db, req->params[0], from, to, reason,
                                    req->caller.account_id, action);
    json_decref(body);
    if (rc == DB_NOTFOUND) {
        mgmt_resp_error(resp, 404, "not_found", "no such account", NULL);
        return;
    }
    if (rc == DB_CONFLICT) {
        json_t *v = account_view(req, req->params[0]);
        const char *now = v ? json_string_value(json_object_get(v, "status")) : NULL;
        const char *role = v ? json_string_value(json_object_get(v, "role")) : NULL;
        char msg[200];
        if (role && strcmp(role, "operator") != 0)
            snprintf(msg, sizeof msg, "only operator accounts are reviewed");
        else
            snprintf(msg, sizeof msg, "the account is %s; this action needs it to be %s",
                     now ? now : "?", from);
        json_decref(v);
        mgmt_resp_error(resp, 409, "conflict", msg, NULL);
        return;
    }
    if (rc != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not record the decision", NULL);
        return;
    }
    log_info("mgmt", "account_decision", "account=%lld action=%s admin=%lld",
             (long long)req->params[0], log_q(action), (long long)req->caller.account_id);
    account_view_answer(req, resp, 200, req->params[0], 0);
}

static void approve(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "pending", "active", "account.approve", 0);
}

static void reject(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "pending", "rejected", "account.reject", 2);
}

static void disable(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "pending,active,rejected", "disabled", "account.disable", 1);
}

static void enable(struct mgmt_req *req, struct mgmt_resp *resp)
{
    decide(req, resp, "disabled", "active", "account.enable", 0);
}

const struct mgmt_route mgmt_routes_admin_accounts[] = {
    {"GET", "/api/v1/admin/accounts", ACCESS_ADMIN, list},
    {"GET", "/api/v1/admin/accounts/{id}", ACCESS_ADMIN, detail},
    {"POST", "/api/v1/admin/accounts/{id}/approve", ACCESS_ADMIN, approve},
    {"POST", "/api/v1/admin/accounts/{id}/reject", ACCESS_ADMIN, reject},
    {"POST", "/api/v1/admin/accounts/{id}/disable", ACCESS_ADMIN, disable},
    {"POST", "/api/v1/admin/accounts/{id}/enable", ACCESS_ADMIN, enable},
    {NULL, NULL, ACCESS_ANON, NULL},
};
