/* The mgmt route table: method + path pattern -> handler, with who may call it.
 * The router resolves the caller (session cookie or bearer token), checks CSRF on cookie
 * requests that change state, and enforces each route's access level before the handler. */
#ifndef EVGATE_MGMT_ROUTER_H
#define EVGATE_MGMT_ROUTER_H

#include "mgmt/http.h"

enum mgmt_access {
    ACCESS_ANON,     /* anyone */
    ACCESS_USER,     /* any logged-in account, also pending or rejected operators */
    ACCESS_ACTIVE,   /* an active account of any role */
    ACCESS_OPERATOR, /* an active operator */
    ACCESS_ADMIN,    /* an admin */
};

typedef void (*mgmt_handler)(struct mgmt_req *req, struct mgmt_resp *resp);

struct mgmt_route {
    const char *method;
    /* "/api/v1/admin/accounts/{id}/approve": {id} is a positive integer (req->params),
     * {key} 1-64 letters and digits (req->keys) */
    const char *pattern;
    enum mgmt_access access;
    mgmt_handler handler;
};

/* Routes of each API file, NULL-pattern terminated; the router walks them all (in the order of
 * mgmt_route_tables). */
extern const struct mgmt_route mgmt_routes_auth[];
extern const struct mgmt_route mgmt_routes_admin_accounts[];
extern const struct mgmt_route mgmt_routes_files[];
extern const struct mgmt_route mgmt_routes_detections[];
extern const struct mgmt_route mgmt_routes_admin_detections[];
extern const struct mgmt_route mgmt_routes_stations[];
extern const struct mgmt_route mgmt_routes_piles[];
extern const struct mgmt_route mgmt_routes_commands[];
extern const struct mgmt_route mgmt_routes_access[];
extern const struct mgmt_route mgmt_routes_xlsx[];
extern const struct mgmt_route mgmt_routes_platforms[];
extern const struct mgmt_route mgmt_routes_runs[];
extern const struct mgmt_route mgmt_routes_dashboard[];
extern const struct mgmt_route mgmt_routes_openapi[];

/* Every table above, NULL-terminated: the one list the router and the tests walk, so a new API
 * file's table is added here once (tests/unit/test_openapi_routes.c compares the routes with
 * docs/openapi.json). A table's earlier entries win when two patterns match. */
extern const struct mgmt_route *const mgmt_route_tables[];

/* The OpenAPI document served at /api/v1/openapi.json (docs/openapi.json as built in): `*len`
 * bytes, NUL-terminated, static. */
const char *mgmt_openapi_json(size_t *len);

/* Dispatches `req` under /api/v1 (or answers 404/405/401/403 itself). Also serves /healthz,
 * /metrics and the web UI. `route_label` receives the matched pattern for metrics (static
 * string). */
void mgmt_route(struct mgmt_req *req, struct mgmt_resp *resp, const char **route_label);

#endif
