/* The auth routes (register, login, logout, tokens), /me and /site. */
#include "common/config.h"
#include "common/log.h"
#include "db/accounts.h"
#include "db/files.h"
#include "db/sessions.h"
#include "mgmt/account_view.h"
#include "mgmt/auth.h"
#include "mgmt/password.h"
#include "mgmt/router.h"
#include "mgmt/uploads.h"
#include "mgmt/validate.h"
#include "protocol/creditcode.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS_PER_ACCOUNT 50

static void site(struct mgmt_req *req, struct mgmt_resp *resp)
{
    mgmt_resp_json(resp, 200,
                   json_pack("{s:s, s:s, s:s}", "site_name", req->cfg->site_name, "version",
                             "0.1.0", "area_code_prefixes", req->cfg->area_code_prefixes));
}

/* Reads and validates the organisation fields of a multipart form into `org` (pointers
 * borrowed from the request); failures are appended to `details`. */
static void read_org(struct mgmt_req *req, json_t *details, struct db_organisation_in *org,
                     char operator_id[10])
{
    static const struct {
        const char *name;
        long max;
    } texts[] = {{"company_name", 100},
                 {"legal_representative", 50},
                 {"contact_name", 50},
                 {"address", 200}};
    const char **dst[] = {&org->company_name, &org->legal_representative, &org->contact_name,
                          &org->address};
    for (size_t i = 0; i < 4; i++) {
        struct mgmt_field *f = mgmt_field(req, texts[i].name);
        val_text(details, texts[i].name, f ? f->value : NULL, f ? f->len : 0, 1, texts[i].max);
        *dst[i] = f ? f->value : NULL;
    }
    struct mgmt_field *cc = mgmt_field(req, "credit_code");
    struct mgmt_field *mobile = mgmt_field(req, "mobile");
    struct mgmt_field *email = mgmt_field(req, "email");
    if (val_credit_code(details, cc ? cc->value : NULL, cc ? cc->len : 0) == 0) {
        cc_operator_id(cc->value, operator_id);
        org->operator_id = operator_id;
    }
    val_mobile(details, "mobile", mobile ? mobile->value : NULL, mobile ? mobile->len : 0);
    val_email(details, "email", email ? email->value : NULL, email ? email->len : 0);
    org->credit_code = cc ? cc->value : NULL;
    org->mobile = mobile ? mobile->value : NULL;
    org->email = email ? email->value : NULL;
}

static int need_multipart(struct mgmt_req *req, struct mgmt_resp *resp)
{
    if (req->body_too_large) {
        mgmt_resp_error(resp, 413, "too_large", "request body is larger than the limit", NULL);
        return -1;
    }
    if (!req->is_multipart) {
        mgmt_resp_error(resp, 400, "bad_request", "send the form as multipart/form-data", NULL);
        return -1;
    }
    return 0;
}

static void conflict(struct mgmt_resp *resp, const char *field)
{
    json_t *d = json_array();
    int user = strcmp(field, "username") == 0;
    mgmt_detail(d, field, "duplicate",
                user ? "this user name is taken"
                     : "an organisation with this credit code is "
                       "already registered");
    mgmt_resp_error(resp, 409, "conflict",
                    user ? "user name already registered" : "credit code already registered", d);
}

static void do_register(struct mgmt_req *req, struct mgmt_resp *resp)
{
    if (need_multipart(req, resp) < 0)
        return;
    struct mgmt_upload *lic = mgmt_file(req, "license");
    if (lic && uploads_check_document(req, lic, "license", resp) < 0)
        return;
    json_t *details = json_array();
    struct mgmt_field *user = mgmt_field(req, "username");
    struct mgmt_field *pass = mgmt_field(req, "password");
    val_username(details, user ? user->value : NULL, user ? user->len : 0);
    val_password(details, pass ? pass->value : NULL, pass ? pass->len : 0);
    struct db_organisation_in org = {0};
    char operator_id[10];
    read_org(req, details, &org, operator_id);
    if (!lic || lic->size == 0)
        mgmt_detail(details, "license", "required", "upload the business licence (pdf/jpg/png)");
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some fields are missing or invalid",
                        details);
        return;
    }
    json_decref(details);
    char hash[PW_HASH_MAX];
    int64_t file_id = 0, id = 0;
    const char *field = NULL;
    if (pw_hash(pass->value, hash) < 0 || uploads_keep(req, lic, "license", 0, &file_id) < 0) {
        mgmt_resp_error(resp, 500, "internal", "could not store the registration", NULL);
        return;
    }
    org.license_file_id = file_id;
    int rc = db_operator_register(req->db, user->value, hash, &org, &id, &field);
    if (rc != DB_OK) {
        uploads_discard(req, file_id);
        if (rc == DB_CONFLICT && field)
            conflict(resp, field);
        else
            mgmt_resp_error(resp, 500, "internal", "could not store the registration", NULL);
        return;
    }
    db_file_set_owner(req->db, file_id, id);
    log_info("mgmt", "registered", "account=%lld", (long long)id);
    account_view_answer(req, resp, 201, id, 0);
}

static void do_resubmit(struct mgmt_req *req, struct mgmt_resp *resp)
{
    if (strcmp(req->caller.role, "operator") != 0 ||
        (strcmp(req->caller.status, "pending") != 0 && strcmp(req->caller.status, "rejected"))) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "only a pending or rejected operator can resubmit (this "
                 "account is %s)",
                 req->caller.status);
        mgmt_resp_error(resp, 409, "conflict", msg, NULL);
        return;
    }
    if (need_multipart(req, resp) < 0)
        return;
    struct mgmt_upload *lic = mgmt_file(req, "license");
    if (lic && lic->size == 0)
        lic = NULL; /* an empty file input means "keep the current licence" */
    if (lic && uploads_check_document(req, lic, "license", resp) < 0)
        return;
    json_t *details = json_array();
    struct db_organisation_in org = {0};
    char operator_id[10];
    read_org(req, details, &org, operator_id);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "some fields are missing or invalid",
                        details);
        return;
    }
    json_decref(details);
    int64_t file_id = 0;
    if (lic && uploads_keep(req, lic, "license", req->caller.account_id, &file_id) < 0) {
        mgmt_resp_error(resp, 500, "internal", "could not store the licence", NULL);
        return;
    }
    org.license_file_id = file_id;
    const char *field = NULL;
    int rc = db_operator_resubmit(req->db, req->caller.account_id, &org, &field);
    if (rc != DB_OK) {
        if (file_id)
            uploads_discard(req, file_id);
        if (rc == DB_CONFLICT && field && strcmp(field, "credit_code") == 0)
            conflict(resp, field);
        else if (rc == DB_CONFLICT)
            mgmt_resp_error(resp, 409, "conflict", "the account can no longer be resubmitted",
                            NULL);
        else
            mgmt_resp_error(resp, 500, "internal", "could not store the registration", NULL);
        return;
    }
    account_view_answer(req, resp, 200, req->caller.account_id, 0);
}

static void throttled(struct mgmt_resp *resp, int64_t until)
{
    char secs[32];
    snprintf(secs, sizeof secs, "%lld", (long long)(until - db_now()));
    mgmt_resp_header(resp, "Retry-After", secs);
    mgmt_resp_error(resp, 429, "too_many_requests",
                    "too many failed logins; wait before trying again", NULL);
}

static char dummy_hash[PW_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    if (pw_hash("evgate-no-such-user", dummy_hash) < 0)
        dummy_hash[0] = 0;
}

static void do_login(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    const char *user = json_string_value(json_object_get(body, "username"));
    const char *pass = json_string_value(json_object_get(body, "password"));
    if (!user || !pass || strlen(user) > 64 || strlen(pass) > 256) {
        json_t *d = json_array();
        if (!user || strlen(user) > 64)
            mgmt_detail(d, "username", "required", "a user name string is required");
        if (!pass || strlen(pass) > 256)
            mgmt_detail(d, "password", "required", "a password string is required");
        mgmt_resp_error(resp, 422, "validation_failed", "user name and password are required", d);
        json_decref(body);
        return;
    }
    char ukey[80], akey[80];
    snprintf(ukey, sizeof ukey, "u:%s", user);
    snprintf(akey, sizeof akey, "a:%s", req->client_addr);
    int64_t now = db_now(), until_u = 0, until_a = 0;
    db_login_locked(req->db, ukey, now, &until_u);
    db_login_locked(req->db, akey, now, &until_a);
    if (until_u || until_a) {
        throttled(resp, until_u > until_a ? until_u : until_a);
        json_decref(body);
        return;
    }
    struct db_account a;
    int found = db_account_by_username(req->db, user, &a) == DB_OK;
    /* Verify against a real hash when the user does not exist, so timing does not tell. */
    pthread_once(&dummy_once, make_dummy_hash);
    int ok = pw_verify(found ? a.password_hash : dummy_hash, pass) && found;
    json_decref(body);
    if (!ok) {
        db_login_failed(req->db, ukey, now, req->cfg->login_max_failures, req->cfg->login_lock_s);
        db_login_failed(req->db, akey, now, req->cfg->login_max_failures_per_address,
                        req->cfg->login_lock_s);
        log_info("mgmt", "login_failed", "known_user=%d", found);
        if (found)
            db_account_clear(&a);
        mgmt_resp_error(resp, 401, "invalid_credentials", "wrong user name or password", NULL);
        return;
    }
    db_login_succeeded(req->db, ukey);
    if (strcmp(a.status, "disabled") == 0) {
        db_account_clear(&a);
        mgmt_resp_error(resp, 403, "account_disabled", "this account has been disabled", NULL);
        return;
    }
    char csrf[65];
    int64_t id = a.id;
    json_t *out = json_pack("{s:s, s:s}", "role", a.role, "status", a.status);
    db_account_clear(&a);
    if (auth_session_start(req, resp, id, csrf) < 0) {
        json_decref(out);
        mgmt_resp_error(resp, 500, "internal", "could not start a session", NULL);
        return;
    }
    json_t *view = account_view(req, id);
    json_object_set_new(out, "csrf_token", json_string(csrf));
    json_object_set_new(out, "account", view ? view : json_null());
    log_info("mgmt", "login", "account=%lld", (long long)id);
    mgmt_resp_json(resp, 200, out);
}

static void do_logout(struct mgmt_req *req, struct mgmt_resp *resp)
{
    auth_session_end(req, resp);
    mgmt_resp_json(resp, 204, NULL);
}

static void me(struct mgmt_req *req, struct mgmt_resp *resp)
{
    account_view_answer(req, resp, 200, req->caller.account_id, req->caller.via_cookie);
}

static void token_create(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *body = mgmt_body_json(req, resp);
    if (!body)
        return;
    json_t *jname = json_object_get(body, "name");
    const char *name = json_string_value(jname);
    json_t *details = json_array();
    val_text(details, "name", name, name ? json_string_length(jname) : 0, 1, 50);
    json_t *list = db_token_list(req->db, req->caller.account_id);
    if (list && json_array_size(list) >= MAX_TOKENS_PER_ACCOUNT)
        mgmt_detail(details, "name", "too_many", "at most 50 tokens per account: revoke one");
    json_decref(list);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid token request", details);
        json_decref(body);
        return;
    }
    json_decref(details);
    char token[80], hash[65], prefix[16];
    memcpy(token, "evg_", 4);
    int64_t id = 0;
    if (auth_random_hex(token + 4, 32) < 0) {
        json_decref(body);
        mgmt_resp_error(resp, 500, "internal", "no randomness", NULL);
        return;
    }
    auth_sha256_hex(token, strlen(token), hash);
    snprintf(prefix, sizeof prefix, "%.12s", token);
    if (db_token_create(req->db, req->caller.account_id, name, hash, prefix, &id) != DB_OK) {
        json_decref(body);
        mgmt_resp_error(resp, 500, "internal", "could not store the token", NULL);
        return;
    }
    json_t *out = json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)id, "name", name,
                            "prefix", prefix, "token", token, "created_at", (json_int_t)db_now());
    json_decref(body);
    mgmt_resp_json(resp, 201, mgmt_iso_times(out));
}

static void token_list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *items = db_token_list(req->db, req->caller.account_id);
    if (!items) {
        mgmt_resp_error(resp, 500, "internal", "could not list tokens", NULL);
        return;
    }
    mgmt_resp_json(resp, 200, mgmt_iso_times(json_pack("{s:o}", "items", items)));
}

static void token_revoke(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int rc = db_token_revoke(req->db, req->caller.account_id, req->params[0]);
    if (rc == DB_NOTFOUND)
        mgmt_resp_error(resp, 404, "not_found", "no such token", NULL);
    else if (rc != DB_OK)
        mgmt_resp_error(resp, 500, "internal", "could not revoke the token", NULL);
    else
        mgmt_resp_json(resp, 204, NULL);
}

const struct mgmt_route mgmt_routes_auth[] = {
    {"GET", "/api/v1/site", ACCESS_ANON, site},
    {"POST", "/api/v1/auth/register", ACCESS_ANON, do_register},
    {"POST", "/api/v1/auth/login", ACCESS_ANON, do_login},
    {"POST", "/api/v1/auth/logout", ACCESS_USER, do_logout},
    {"GET", "/api/v1/me", ACCESS_USER, me},
    {"POST", "/api/v1/me/registration", ACCESS_USER, do_resubmit},
    {"POST", "/api/v1/auth/tokens", ACCESS_USER, token_create},
    {"GET", "/api/v1/auth/tokens", ACCESS_USER, token_list},
    {"DELETE", "/api/v1/auth/tokens/{id}", ACCESS_USER, token_revoke},
    {NULL, NULL, ACCESS_ANON, NULL},
};
