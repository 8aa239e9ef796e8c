/* Rendering an account for the API. */
#include "mgmt/account_view.h"
#include "db/accounts.h"

#include <stdio.h>

json_t *account_view(struct mgmt_req *req, int64_t id)
{
    json_t *v = db_account_view(req->db, id);
    if (!v)
        return NULL;
    json_t *lic = json_object_get(v, "license");
    if (json_is_object(lic)) {
        char url[64];
        snprintf(url, sizeof url, "/api/v1/files/%lld",
                 (long long)json_integer_value(json_object_get(lic, "id")));
        json_object_set_new(lic, "url", json_string(url));
    }
    return mgmt_iso_times(v);
}

void account_view_answer(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status, int64_t id,
                         int with_csrf)
{
    json_t *v = account_view(req, id);
    if (!v) {
        mgmt_resp_error(resp, 404, "not_found", "no such account", NULL);
        return;
    }
    if (with_csrf)
        json_object_set_new(v, "csrf_token", json_string(req->caller.csrf));
    mgmt_resp_json(resp, status, v);
}
