/* Route matching, caller resolution, CSRF and access checks; /healthz, /metrics and the web
 * UI's static files. */
#include "mgmt/router.h"
#include "common/config.h"
#include "db/db.h"
#include "mgmt/auth.h"
#include "mgmt/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct mgmt_route *const mgmt_route_tables[] = {
    mgmt_routes_auth,             /* register, login, tokens, /me */
    mgmt_routes_admin_accounts,   /* account review */
    mgmt_routes_files,            /* uploaded documents */
    mgmt_routes_detections,       /* detection applications */
    mgmt_routes_admin_detections, /* their review */
    mgmt_routes_xlsx,             /* templates and exports, before the {key} routes */
    mgmt_routes_stations,         /* stations and areas */
    mgmt_routes_piles,            /* piles and connectors */
    mgmt_routes_commands,         /* remote operations and OCPP settings of a pile */
    mgmt_routes_access,           /* access applications and imports */
    mgmt_routes_platforms,        /* T/CEC interconnection of operator platforms */
    mgmt_routes_runs,             /* conformance plans and runs */
    mgmt_routes_dashboard,        /* the admins' dashboard */
    mgmt_routes_openapi,          /* this API's OpenAPI document */
    NULL,
};

/* Matches `path` against `pattern`, collecting {id} parameters. Returns 1 on a match. */
static int match(const char *pattern, const char *path, int64_t *params, int *nparams,
                 char key_out[][65])
{
    int n = 0, nkeys = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (strncmp(p, "{id}", 4) == 0) {
            if (*s < '1' || *s > '9')
                return 0;
            int64_t v = 0;
            while (*s >= '0' && *s <= '9') {
                if (v > (INT64_MAX - 9) / 10)
                    return 0;
                v = v * 10 + (*s++ - '0');
            }
            if (n >= MGMT_MAX_PARAMS)
                return 0;
            params[n++] = v;
            p += 4;
            continue;
        }
        if (strncmp(p, "{key}", 5) == 0) {
            /* a record key (station_id, equipment_id): letters and digits only */
            size_t len = 0;
            while ((s[len] >= 'a' && s[len] <= 'z') || (s[len] >= 'A' && s[len] <= 'Z') ||
                   (s[len] >= '0' && s[len] <= '9'))
                len++;
            if (len == 0 || len >= sizeof key_out[0] || (s[len] && s[len] != '/'))
                return 0;
            if (nkeys >= MGMT_MAX_PARAMS)
                return 0;
            memcpy(key_out[nkeys], s, len);
            key_out[nkeys++][len] = 0;
            s += len;
            p += 5;
            continue;
        }
        if (*p++ != *s++)
            return 0;
    }
    if (*p || *s)
        return 0;
    *nparams = n;
    return 1;
}

static int is_mutating(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static void dispatch_api(struct mgmt_req *req, struct mgmt_resp *resp, const char **label)
{
    const struct mgmt_route *found = NULL;
    int method_mismatch = 0;
    for (size_t t = 0; mgmt_route_tables[t] && !found; t++)
        for (const struct mgmt_route *r = mgmt_route_tables[t]; r->pattern && !found; r++) {
            if (!match(r->pattern, req->path, req->params, &req->nparams, req->keys))
                continue;
            if (strcmp(r->method, req->method) == 0)
                found = r;
            else
                method_mismatch = 1;
        }
    if (!found) {
        *label = "unmatched";
        if (method_mismatch)
            mgmt_resp_error(resp, 405, "method_not_allowed",
                            "this path does not accept that method", NULL);
        else
            mgmt_resp_error(resp, 404, "not_found", "no such API route", NULL);
        return;
    }
    *label = found->pattern;
    int bad_credentials = auth_resolve(req) < 0;
    if (found->access == ACCESS_ANON) {
        found->handler(req, resp);
        return;
    }
    if (!req->caller.account_id) {
        mgmt_resp_error(resp, 401, "unauthenticated",
                        bad_credentials ? "the session or token is invalid, expired or revoked"
                                        : "log in or send an API token",
                        NULL);
        return;
    }
    if (req->caller.via_cookie && is_mutating(req->method) && !auth_csrf_ok(req)) {
        mgmt_resp_error(resp, 403, "csrf_failed",
                        "missing or wrong X-CSRF-Token header for this session", NULL);
        return;
    }
    int is_admin = strcmp(req->caller.role, "admin") == 0;
    int active = strcmp(req->caller.status, "active") == 0;
    int allowed = 1;
    switch (found->access) {
    case ACCESS_ANON:
    case ACCESS_USER:
        break;
    case ACCESS_ACTIVE:
        allowed = active;
        break;
    case ACCESS_OPERATOR:
        allowed = active && !is_admin;
        break;
    case ACCESS_ADMIN:
        allowed = is_admin && active;
        break;
    }
    if (!allowed) {
        mgmt_resp_error(resp, 403, "forbidden",
                        found->access == ACCESS_ADMIN
                            ? "this action needs an administrator"
                            : "this action needs an active account (yours is not approved yet)",
                        NULL);
        return;
    }
    found->handler(req, resp);
}

static const char *mime_of(const char *path)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].mime;
    return NULL;
}

static void serve_static(struct mgmt_req *req, struct mgmt_resp *resp)
{
    const char *rel = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
    /* Only plain names: no "..", no hidden files, no odd bytes. */
    int ok = strlen(rel) < 200 && !strstr(rel, "..") && !strstr(rel, "/.");
    for (const char *c = rel; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '/' || *c == '.' || *c == '-' || *c == '_';
    const char *mime = ok ? mime_of(rel) : NULL;
    if (!mime || (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)) {
        mgmt_resp_error(resp, 404, "not_found", "no such page", NULL);
        return;
    }
    char full[1024];
    snprintf(full, sizeof full, "%s%s", req->cfg->web_dir, rel);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        mgmt_resp_error(resp, 404, "not_found", "no such page", NULL);
        return;
    }
    resp->status = 200;
    resp->content_type = mime;
    resp->fd = fd;
    resp->fd_size = st.st_size;
    mgmt_resp_header(resp, "Cache-Control", "no-cache");
    mgmt_resp_header(resp, "Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                     "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                     "form-action 'self'");
}

static void healthz(struct mgmt_req *req, struct mgmt_resp *resp)
{
    int ok = db_schema_version(req->db) == db_latest_version();
    mgmt_resp_json(resp, ok ? 200 : 503,
                   json_pack("{s:s, s:s, s:s}", "status", ok ? "ok" : "degraded", "db",
                             ok ? "ok" : "schema not current", "version", "0.1.0"));
}

void mgmt_route(struct mgmt_req *req, struct mgmt_resp *resp, const char **label)
{
    if (strncmp(req->path, "/api/", 5) == 0) {
        dispatch_api(req, resp, label);
        return;
    }
    if (strcmp(req->path, "/healthz") == 0) {
        *label = "/healthz";
        healthz(req, resp);
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        *label = "/metrics";
        size_t len = 0;
        char *text = metrics_render(&len);
        if (!text) {
            mgmt_resp_error(resp, 500, "internal", "out of memory", NULL);
            return;
        }
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = text;
        resp->body_len = len;
        return;
    }
    *label = "static";
    serve_static(req, resp);
}
