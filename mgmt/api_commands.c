/* /api/v1/piles/{equipment_id}/commands (远程操作) and /ocpp-settings: CS->CP operations
 * queued for the gateway, and per-pile OCPP settings (docs/api-commands.md). */
#include "common/config.h"
#include "common/log.h"
#include "db/audit.h"
#include "db/commands.h"
#include "db/piles_gateway.h"
#include "mgmt/cmd_wait.h"
#include "mgmt/records_api.h"
#include "mgmt/router.h"
#include "protocol/ocpp.h"

#include <stdio.h>
#include <string.h>

#define MAX_UNFINISHED 8 /* a pile's queued or sent commands; one more is 429 */

json_t *commands_view(json_t *cmd)
{
    /* only the row's own times: a payload or answer may carry its own *_at members */
    static const char *const times[] = {"created_at", "sent_at", "finished_at"};
    json_t *t = json_object();
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        json_object_set(t, times[i], json_object_get(cmd, times[i]));
    mgmt_iso_times(t);
    json_object_update(cmd, t);
    json_decref(t);
    return cmd;
}

/* The pile of the path as its API view (with protocol and online); NULL after answering 404
 * when there is none or it is another operator's. */
static json_t *load_pile(struct mgmt_req *req, struct mgmt_resp *resp, struct db_record_row *r)
{
    json_t *v = NULL;
    if (db_pile_find(req->db, req->keys[0], r) == DB_OK && records_visible(req, r->account_id))
        v = db_pile_view(req->db, r->row);
    if (!v)
        mgmt_resp_error(resp, 404, "not_found", "no such pile", NULL);
    return v;
}

/* The OCPP version of a pile's `protocol`, or -1 for a platform pile. */
static int pile_version(const json_t *pile)
{
    const char *p = json_string_value(json_object_get(pile, "protocol"));
    if (p && strcmp(p, "ocpp1.6") == 0)
        return OCPP_V16;
    if (p && strcmp(p, "ocpp2.0.1") == 0)
        return OCPP_V201;
    return -1;
}

/* Reads {action, payload} into *action and *payload (borrowed from `body`), or answers 400. */
static int command_body(struct mgmt_resp *resp, json_t *body, const char **action, json_t **payload)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) if (strcmp(k, "action") && strcmp(k, "payload"))
    {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown member \"%.60s\": send {action, payload}", k);
        mgmt_resp_error(resp, 400, "bad_request", msg, NULL);
        return -1;
    }
    *action = json_string_value(json_object_get(body, "action"));
    *payload = json_object_get(body, "payload");
    if (!*action || (*payload && !json_is_object(*payload))) {
        mgmt_resp_error(resp, 400, "bad_request",
                        "send {action: text, payload: object} (payload may be left out)", NULL);
        return -1;
    }
    return 0;
}

/* 422 for a payload that breaks the action's request schema: "$.a[0].b" -> "payload.a[0].b". */
static void payload_invalid(struct mgmt_resp *resp, const struct ocpp_error *err)
{
    char field[OCPP_PATH_MAX + 16];
    const char *p = err->path;
    if (strncmp(p, "$", 1) == 0)
        p++;
    snprintf(field, sizeof field, "payload%s", p);
    json_t *d = json_array();
    mgmt_detail(d, field, err->keyword ? err->keyword : "invalid", err->reason);
    mgmt_resp_error(resp, 422, "validation_failed", "the payload does not fit the action", d);
}

static void send_command(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    json_t *pile = load_pile(req, resp, &r);
    if (!pile)
        return;
    json_t *body = NULL;
    int version = pile_version(pile);
    const char *action, *name;
    json_t *payload;
    int64_t unfinished = 0, id = 0;
    struct ocpp_error err;
    memset(&err, 0, sizeof err);
    if (strcmp(r.status, "accessed") != 0) {
        mgmt_resp_error(resp, 409, "wrong_state", "only an accessed pile takes remote operations",
                        NULL);
        goto done;
    }
    if (version < 0) {
        mgmt_resp_error(resp, 409, "wrong_state", "a platform pile is not reached over OCPP", NULL);
        goto done;
    }
    if (!(body = mgmt_body_json(req, resp)) || command_body(resp, body, &action, &payload) < 0)
        goto done;
    if (!(name = ocpp_to_cp((enum ocpp_version)version, action))) {
        json_t *d = json_array();
        mgmt_detail(d, "action", "unknown_action",
                    "the central system does not send this action in the pile's OCPP version");
        mgmt_resp_error(resp, 422, "validation_failed", "unknown action", d);
        goto done;
    }
    if (!payload) {
        payload = json_object();
        json_object_set_new(body, "payload", payload);
    }
    if (ocpp_validate((enum ocpp_version)version, name, OCPP_REQUEST, payload, &err) < 0) {
        payload_invalid(resp, &err);
        goto done;
    }
    if (!json_is_true(json_object_get(pile, "online"))) {
        mgmt_resp_error(resp, 409, "pile_offline", "the pile is not connected to the gateway",
                        NULL);
        goto done;
    }
    if (db_commands_unfinished(req->db, r.key, &unfinished) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the pile's commands", NULL);
        goto done;
    }
    if (unfinished >= MAX_UNFINISHED) {
        mgmt_resp_error(resp, 429, "too_many_commands",
                        "8 commands of this pile are still waiting for it", NULL);
        goto done;
    }
    if (cmd_wait_reserve(req->cmd_wait) < 0) {
        mgmt_resp_error(resp, 503, "busy", "too many requests are waiting for piles", NULL);
        goto done;
    }
    char *text = json_dumps(payload, MGMT_JSON_FLAGS);
    int rc = text
                 ? db_command_add(req->db, r.key, req->caller.account_id, name, text, db_now(), &id)
                 : DB_ERROR;
    free(text);
    if (rc != DB_OK) {
        cmd_wait_release(req->cmd_wait);
        mgmt_resp_error(resp, 500, "internal", "could not queue the command", NULL);
        goto done;
    }
    db_audit_add_json(req->db, req->caller.account_id, "pile_command", "pile", r.row,
                      json_pack("{s:I, s:s, s:s}", "command_id", (json_int_t)id, "equipment_id",
                                r.key, "action", name));
    log_info("mgmt", "command_queued", "command=%lld equipment_id=%s action=%s", (long long)id,
             log_q(r.key), log_q(name));
    resp->wait_command = id; /* server.c answers once the gateway finished it */
done:
    json_decref(body);
    json_decref(pile);
}

static void list_commands(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    json_t *pile = load_pile(req, resp, &r);
    if (!pile)
        return;
    json_decref(pile);
    json_t *details = json_array();
    int64_t page, size, total = 0;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    json_t *items = NULL;
    if (db_commands_list(req->db, r.key, size, (page - 1) * size, &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list the commands", NULL);
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c) commands_view(c);
    /* the list helper turns every *_at into ISO text, payloads included: build it here */
    mgmt_resp_json(resp, 200,
                   json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total,
                             "page", (json_int_t)page, "page_size", (json_int_t)size));
}

static void get_command(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    json_t *pile = load_pile(req, resp, &r);
    if (!pile)
        return;
    json_decref(pile);
    json_t *cmd = NULL;
    if (db_command_get(req->db, req->params[0], &cmd) != DB_OK ||
        strcmp(json_string_value(json_object_get(cmd, "equipment_id")) ?: "", r.key) != 0) {
        json_decref(cmd);
        mgmt_resp_error(resp, 404, "not_found", "no such command of this pile", NULL);
        return;
    }
    mgmt_resp_json(resp, 200, commands_view(cmd));
}

/* PUT /ocpp-settings: {boot_status?, security_profile?}; admins only (the route says so). */
static void put_settings(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_record_row r;
    json_t *pile = load_pile(req, resp, &r);
    if (!pile)
        return;
    json_decref(pile);
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    json_t *details = json_array();
    const char *k, *boot = NULL;
    json_t *v;
    int profile = 0;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "boot_status") == 0) {
            const char *s = json_string_value(v);
            if (s && (!strcmp(s, "Accepted") || !strcmp(s, "Pending") || !strcmp(s, "Rejected")))
                boot = s;
            else
                mgmt_detail(details, k, "invalid", "one of Accepted, Pending, Rejected");
        } else if (strcmp(k, "security_profile") == 0) {
            json_int_t n = json_integer_value(v);
            if (json_is_integer(v) && n >= 1 && n <= 3)
                profile = (int)n;
            else
                mgmt_detail(details, k, "invalid", "1, 2 or 3");
        } else {
            mgmt_detail(details, k, "unknown_field", "not an OCPP setting of a pile");
        }
    }
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some settings are invalid", details);
        json_decref(body);
        return;
    }
    json_decref(details);
    if ((boot || profile) && db_pile_set_ocpp_settings(req->db, r.row, boot, profile) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not store the settings", NULL);
        json_decref(body);
        return;
    }
    log_info("mgmt", "pile_ocpp_settings", "equipment_id=%s boot_status=%s security_profile=%d",
             log_q(r.key), log_q(boot ? boot : "-"), profile);
    /* the audit takes `body`, and `boot` with it */
    json_object_set_new(body, "equipment_id", json_string(r.key));
    db_audit_add_json(req->db, req->caller.account_id, "pile_ocpp_settings", "pile", r.row, body);
    json_t *view = db_pile_view(req->db, r.row);
    if (!view)
        mgmt_resp_error(resp, 500, "internal", "could not read the pile", NULL);
    else
        mgmt_resp_json(resp, 200, mgmt_iso_times(view));
}

const struct mgmt_route mgmt_routes_commands[] = {
    {"POST", "/api/v1/piles/{key}/commands", ACCESS_ACTIVE, send_command},
    {"GET", "/api/v1/piles/{key}/commands", ACCESS_ACTIVE, list_commands},
    {"GET", "/api/v1/piles/{key}/commands/{id}", ACCESS_ACTIVE, get_command},
    {"PUT", "/api/v1/piles/{key}/ocpp-settings", ACCESS_ADMIN, put_settings},
    {NULL, NULL, ACCESS_ANON, NULL},
};
