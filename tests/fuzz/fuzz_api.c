/* libFuzzer target: every JSON request body of the mgmt API. The first byte of an input picks
 * one of the routes that take a body (POST and PUT of every route table, uploads left to the
 * multipart target) and the caller (an operator owning a station and a pile, or the admin); the
 * rest is the body, handed to the route's handler as mgmt's server would after the router let
 * the caller through. A handler must answer every body with a well-formed status: a 5xx (but
 * 503/507, which are not about the input) or an error body that is not the contract's JSON is
 * a crash.
 *
 * Handlers run on a real, migrated SQLite database in a temporary directory; bodies that are
 * valid change it, as they would in service. The query string and headers are empty: this
 * harness stands in for libmicrohttpd's lookup (the only MHD call handlers make). */
#include "db/db.h"
#include "mgmt/http.h"
#include "mgmt/router.h"
#include "tests/fuzz/fuzz_mgmt_env.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The document served at /api/v1/openapi.json is built in by meson; not needed here. */
const unsigned char mgmt_openapi_doc[] = "{}";
const size_t mgmt_openapi_doc_len = 2;

/* Handlers read the query and headers through this; a body is all this target feeds. */
const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                        const char *key)
{
    (void)c;
    (void)kind;
    (void)key;
    return NULL;
}

#define MAX_ROUTES 128

static struct {
    const struct mgmt_route *r[MAX_ROUTES];
    size_t n;
    struct fuzz_mgmt m;
    char station[32], pile[32];
} g;

/* Routes whose body is a multipart form (fuzzed as uploads elsewhere), and the one that waits
 * for a pile through the gateway (there is no gateway here). */
static int skipped(const struct mgmt_route *r)
{
    static const char *const skip[] = {"/auth/register",
                                       "/materials",
                                       "/me/registration",
                                       "/commands",
                                       "access-applications/{id}/stations",
                                       "access-applications/{id}/piles"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strstr(r->pattern, skip[i]))
            return 1;
    return 0;
}

/* `pattern` with {id} as 1 and {key} as the operator's station or pile. */
static void fill_path(const char *pattern, char *out, size_t outlen, struct mgmt_req *req)
{
    size_t o = 0;
    req->nparams = 0;
    for (const char *p = pattern; *p && o + 40 < outlen;) {
        if (strncmp(p, "{id}", 4) == 0) {
            req->params[req->nparams < MGMT_MAX_PARAMS ? req->nparams++ : 0] = 1;
            o += (size_t)snprintf(out + o, outlen - o, "1");
            p += 4;
        } else if (strncmp(p, "{key}", 5) == 0) {
            const char *k = strstr(pattern, "/stations/") ? g.station : g.pile;
            snprintf(req->keys[req->nparams < MGMT_MAX_PARAMS ? req->nparams : 0], 65, "%s", k);
            req->nparams += req->nparams < MGMT_MAX_PARAMS;
            o += (size_t)snprintf(out + o, outlen - o, "%s", k);
            p += 5;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = 0;
}

static void caller(struct mgmt_req *req, int admin)
{
    struct mgmt_caller *c = &req->caller;
    memset(c, 0, sizeof *c);
    c->account_id = admin ? g.m.admin_id : g.m.operator_id;
    snprintf(c->username, sizeof c->username, "%s", admin ? "admin" : "fuzzop");
    snprintf(c->role, sizeof c->role, "%s", admin ? "admin" : "operator");
    snprintf(c->status, sizeof c->status, "active");
}

/* Runs route `r` as the admin or the operator with `body`; returns the response status and
 * leaves the body in *resp (caller frees resp->body). */
static unsigned run(const struct mgmt_route *r, int admin, const char *body, size_t len,
                    struct mgmt_resp *resp)
{
    struct mgmt_req req;
    memset(&req, 0, sizeof req);
    char path[256];
    fill_path(r->pattern, path, sizeof path, &req);
    req.cfg = &g.m.cfg;
    req.db = g.m.db;
    req.method = r->method;
    req.path = path;
    snprintf(req.client_addr, sizeof req.client_addr, "127.0.0.1");
    caller(&req, admin);
    req.body = malloc(len + 1);
    if (!req.body)
        abort();
    memcpy(req.body, body, len);
    req.body[len] = 0;
    req.body_len = len;
    memset(resp, 0, sizeof *resp);
    resp->status = 500;
    resp->fd = -1;
    db_take_full(g.m.db);
    r->handler(&req, resp);
    free(req.body);
    if (resp->fd >= 0)
        close(resp->fd);
    return resp->status;
}

/* POSTs `body` to route `pattern` as the operator (setup only; the answer is dropped). */
static void post_as_operator(const char *pattern, const char *body)
{
    for (size_t i = 0; i < g.n; i++)
        if (strcmp(g.r[i]->method, "POST") == 0 && strcmp(g.r[i]->pattern, pattern) == 0) {
            struct mgmt_resp resp;
            run(g.r[i], 0, body, strlen(body), &resp);
            free(resp.body);
        }
}

static void setup_data(void)
{
    /* a station and a pile of the operator, made through their own handlers */
    snprintf(g.station, sizeof g.station, "FZST1");
    snprintf(g.pile, sizeof g.pile, "FZPILE1");
    static const char station[] =
        "{\"station_id\":\"FZST1\",\"name\":\"中山市模糊测试站\",\"area_code\":\"442000\","
        "\"address\":\"中山市东区中山四路88号\",\"service_tel\":\"400-800-8888\","
        "\"station_type\":1,\"station_status\":50,\"park_nums\":12,\"lng\":113.392614,"
        "\"lat\":22.517646,\"construction\":4}";
    static const char pile[] =
        "{\"equipment_id\":\"FZPILE1\",\"station_id\":\"FZST1\",\"manufacturer_id\":\"MA4UJ9XY0\","
        "\"manufacturer_name\":\"星星充电\",\"equipment_model\":\"DC-120\",\"production_date\":"
        "\"2024-05-01\",\"equipment_type\":1,\"power\":120,\"lng\":113.39,\"lat\":22.51,"
        "\"protocol\":\"ocpp1.6\",\"connectors\":[{\"connector_id\":\"FZPILE1C1\","
        "\"ocpp_connector_id\":1,\"connector_name\":\"1号枪\",\"connector_type\":4,"
        "\"voltage_upper_limits\":750,\"voltage_lower_limits\":200,\"current\":200,\"power\":60,"
        "\"park_no\":\"A01\",\"national_standard\":2}]}";
    post_as_operator("/api/v1/stations", station);
    post_as_operator("/api/v1/piles", pile);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_mgmt_setup(&g.m, "127.0.0.1:0");
    for (size_t t = 0; mgmt_route_tables[t]; t++)
        for (const struct mgmt_route *r = mgmt_route_tables[t]; r->pattern; r++)
            if ((strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) && !skipped(r) &&
                g.n < MAX_ROUTES)
                g.r[g.n++] = r;
    setup_data();
    return 0;
}

/* The route named by a first line "METHOD PATTERN", or NULL. */
static const struct mgmt_route *named(const uint8_t *data, size_t size, size_t *skip)
{
    const uint8_t *nl = memchr(data, '\n', size < 160 ? size : 160);
    if (!nl)
        return NULL;
    for (size_t i = 0; i < g.n; i++) {
        const struct mgmt_route *r = g.r[i];
        size_t m = strlen(r->method), p = strlen(r->pattern);
        if ((size_t)(nl - data) == m + 1 + p && memcmp(data, r->method, m) == 0 && data[m] == ' ' &&
            memcmp(data + m + 1, r->pattern, p) == 0) {
            *skip = m + 2 + p;
            return r;
        }
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || g.n == 0)
        return 0;
    size_t skip = 1;
    const struct mgmt_route *r = named(data, size, &skip);
    int admin = data[0] % 2;
    if (!r) {
        r = g.r[data[0] % g.n];
        admin = data[0] / g.n % 2;
    }
    if (r->access == ACCESS_ADMIN)
        admin = 1;
    else if (r->access == ACCESS_OPERATOR)
        admin = 0;
    struct mgmt_resp resp;
    unsigned status = run(r, admin, (const char *)data + skip, size - skip, &resp);
    if (status >= 500 && status != 503 && status != 507) {
        fprintf(stderr, "%s %s answered %u: %.*s\n", r->method, r->pattern, status,
                (int)(resp.body_len < 300 ? resp.body_len : 300), resp.body ? resp.body : "");
        abort();
    }
    if (status >= 400) {
        json_error_t je;
        json_t *b = resp.body ? json_loadb(resp.body, resp.body_len, 0, &je) : NULL;
        json_t *e = json_object_get(b, "error");
        if (!json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message"))) {
            fprintf(stderr, "%s %s answered %u without an error object: %.*s\n", r->method,
                    r->pattern, status, (int)(resp.body_len < 300 ? resp.body_len : 300),
                    resp.body ? resp.body : "");
            abort();
        }
        json_decref(b);
    }
    free(resp.body);
    return 0;
}
