/* docs/openapi.json against mgmt's route tables: every route the server implements is an
 * operation of the document with the same access level, every /api operation of the document is
 * a route, and the document served at /api/v1/openapi.json is the repository's file. */
#include "mgmt/router.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#ifndef OPENAPI_DOC
#error "OPENAPI_DOC must name docs/openapi.json"
#endif

#define MAX_OPS 256

static const char *const methods[] = {"get", "put", "post", "delete", "patch", "head", "options"};

static const char *access_name(enum mgmt_access a)
{
    switch (a) {
    case ACCESS_ANON:
        return "anon";
    case ACCESS_USER:
        return "user";
    case ACCESS_ACTIVE:
        return "active";
    case ACCESS_OPERATOR:
        return "operator";
    case ACCESS_ADMIN:
        return "admin";
    }
    return "?";
}

/* One operation as "METHOD pattern", patterns in the router's spelling ({id} an integer, {key}
 * letters and digits), with its access level. */
struct op {
    char key[256];
    char access[16];
};

struct ops {
    struct op v[MAX_OPS];
    int n;
};

static json_t *load_doc(void)
{
    json_error_t err;
    json_t *doc = json_load_file(OPENAPI_DOC, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("%s: line %d: %s", OPENAPI_DOC, err.line, err.text);
    return doc;
}

static void routes_of_server(struct ops *out)
{
    out->n = 0;
    for (size_t t = 0; mgmt_route_tables[t]; t++)
        for (const struct mgmt_route *r = mgmt_route_tables[t]; r->pattern; r++) {
            assert_true(out->n < MAX_OPS);
            struct op *o = &out->v[out->n++];
            snprintf(o->key, sizeof o->key, "%s %s", r->method, r->pattern);
            snprintf(o->access, sizeof o->access, "%s", access_name(r->access));
        }
}

/* The schema type of path parameter `name` of an operation (its own parameters, then the path
 * item's), or NULL. */
static const char *param_type(json_t *path_item, json_t *operation, const char *name)
{
    json_t *lists[2] = {json_object_get(operation, "parameters"),
                        json_object_get(path_item, "parameters")};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[l], i, p)
        {
            if (json_is_string(json_object_get(p, "name")) &&
                strcmp(json_string_value(json_object_get(p, "name")), name) == 0 &&
                json_is_string(json_object_get(p, "in")) &&
                strcmp(json_string_value(json_object_get(p, "in")), "path") == 0)
                return json_string_value(json_object_get(json_object_get(p, "schema"), "type"));
        }
    }
    return NULL;
}

/* The document's /api operations in the router's spelling: a path parameter of type integer is
 * {id}, of type string {key}. A parameter without a type makes the key "?" so it never
 * matches. Operations outside /api must carry x-evgate-outside-api: they are counted in
 * `*outside`. */
static void routes_of_document(json_t *doc, struct ops *out, int *outside)
{
    out->n = 0;
    *outside = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
            json_t *o = json_object_get(item, methods[m]);
            if (!o)
                continue;
            if (strncmp(path, "/api/", 5) != 0) {
                if (!json_is_true(json_object_get(o, "x-evgate-outside-api")))
                    fail_msg("%s %s is outside /api but not marked x-evgate-outside-api",
                             methods[m], path);
                (*outside)++;
                continue;
            }
            char pattern[200] = "";
            size_t len = 0;
            for (const char *s = path; *s && len + 8 < sizeof pattern;) {
                if (*s == '{') {
                    const char *end = strchr(s, '}');
                    if (!end)
                        break;
                    char name[64];
                    snprintf(name, sizeof name, "%.*s", (int)(end - s - 1), s + 1);
                    const char *type = param_type(item, o, name);
                    const char *as = !type                          ? "{?}"
                                     : strcmp(type, "integer") == 0 ? "{id}"
                                     : strcmp(type, "string") == 0  ? "{key}"
                                                                    : "{?}";
                    len += (size_t)snprintf(pattern + len, sizeof pattern - len, "%s", as);
                    s = end + 1;
                } else {
                    pattern[len++] = *s++;
                    pattern[len] = 0;
                }
            }
            assert_true(out->n < MAX_OPS);
            struct op *op = &out->v[out->n++];
            char upper[16];
            size_t k = 0;
            for (; methods[m][k] && k + 1 < sizeof upper; k++)
                upper[k] = (char)(methods[m][k] - 'a' + 'A');
            upper[k] = 0;
            snprintf(op->key, sizeof op->key, "%s %s", upper, pattern);
            json_t *acc = json_object_get(o, "x-evgate-access");
            snprintf(op->access, sizeof op->access, "%s",
                     json_is_string(acc) ? json_string_value(acc) : "(none)");
        }
    }
}

static const struct op *find(const struct ops *set, const char *key)
{
    for (int i = 0; i < set->n; i++)
        if (strcmp(set->v[i].key, key) == 0)
            return &set->v[i];
    return NULL;
}

/* Prints every difference between the server's routes and the document's operations (both
 * ways, and access levels that differ); returns how many there are. */
static int compare(const struct ops *server, const struct ops *document)
{
    int diffs = 0;
    for (int i = 0; i < server->n; i++) {
        const struct op *d = find(document, server->v[i].key);
        if (!d) {
            print_message("route not in docs/openapi.json: %s\n", server->v[i].key);
            diffs++;
        } else if (strcmp(d->access, server->v[i].access) != 0) {
            print_message("access differs for %s: route table %s, document %s\n", server->v[i].key,
                          server->v[i].access, d->access);
            diffs++;
        }
    }
    for (int i = 0; i < document->n; i++)
        if (!find(server, document->v[i].key)) {
            print_message("operation of docs/openapi.json that mgmt does not route: %s\n",
                          document->v[i].key);
            diffs++;
        }
    return diffs;
}

static void test_routes_and_document_agree(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    static struct ops server, document;
    int outside;
    routes_of_server(&server);
    routes_of_document(doc, &document, &outside);
    assert_true(server.n > 50);
    assert_int_equal(compare(&server, &document), 0);
    assert_int_equal(server.n, document.n);
    /* /healthz and /metrics: the router serves them outside /api/v1 */
    assert_int_equal(outside, 2);
    json_decref(doc);
}

/* No (method, pattern) twice in the tables: the later one could never be reached. */
static void test_no_route_twice(void **state)
{
    (void)state;
    static struct ops server;
    routes_of_server(&server);
    for (int i = 0; i < server.n; i++)
        for (int j = i + 1; j < server.n; j++)
            if (strcmp(server.v[i].key, server.v[j].key) == 0)
                fail_msg("route listed twice: %s", server.v[i].key);
}

/* The comparison itself finds a missing route, an extra operation and a wrong access level. */
static void test_compare_reports_differences(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    json_t *paths = json_object_get(doc, "paths");
    json_object_del(json_object_get(paths, "/api/v1/auth/tokens"), "get");
    json_object_set_new(paths, "/api/v1/nowhere",
                        json_pack("{s:{s:s}}", "get", "x-evgate-access", "anon"));
    json_object_set_new(json_object_get(json_object_get(paths, "/api/v1/stations"), "get"),
                        "x-evgate-access", json_string("anon"));
    static struct ops server, document;
    int outside;
    routes_of_server(&server);
    routes_of_document(doc, &document, &outside);
    assert_int_equal(compare(&server, &document), 3);
    json_decref(doc);
}

/* Anonymous routes need no credentials; every other one takes a session cookie (with the CSRF
 * header when it changes state) or a bearer token. */
static void test_security_follows_access(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
            json_t *o = json_object_get(item, methods[m]);
            if (!o)
                continue;
            const char *acc = json_string_value(json_object_get(o, "x-evgate-access"));
            json_t *sec = json_object_get(o, "security");
            if (!acc || !json_is_array(sec))
                fail_msg("%s %s: needs x-evgate-access and security", methods[m], path);
            if (strcmp(acc, "anon") == 0) {
                if (json_array_size(sec) != 0)
                    fail_msg("%s %s: anonymous but security is not []", methods[m], path);
                continue;
            }
            int cookie = 0, csrf = 0, bearer = 0;
            size_t i;
            json_t *req;
            json_array_foreach(sec, i, req)
            {
                if (json_object_get(req, "sessionCookie")) {
                    cookie = 1;
                    csrf = json_object_get(req, "csrfHeader") != NULL;
                }
                bearer |= json_object_get(req, "bearerToken") != NULL;
            }
            int mutating = strcmp(methods[m], "get") != 0 && strcmp(methods[m], "head") != 0;
            if (!cookie || !bearer || csrf != mutating)
                fail_msg("%s %s: security must be cookie%s or bearer", methods[m], path,
                         mutating ? "+CSRF header" : "");
            if (!json_object_get(json_object_get(o, "responses"), "401"))
                fail_msg("%s %s: no 401 answer listed", methods[m], path);
        }
    }
    json_decref(doc);
}

/* Every "$ref" of the document names something the document has. */
static void check_refs(json_t *doc, json_t *v, const char *where)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) check_refs(doc, e, where);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e)
    {
        if (strcmp(k, "$ref") == 0 && json_is_string(e)) {
            const char *r = json_string_value(e);
            if (strncmp(r, "#/", 2) != 0)
                fail_msg("%s: $ref %s is not local", where, r);
            json_t *target = doc;
            char part[128];
            for (const char *s = r + 2; *s && target;) {
                size_t n = strcspn(s, "/");
                snprintf(part, sizeof part, "%.*s", (int)n, s);
                target = json_object_get(target, part);
                s += n + (s[n] == '/');
            }
            if (!target)
                fail_msg("%s: $ref %s resolves to nothing", where, r);
        } else {
            check_refs(doc, e, k);
        }
    }
}

static void test_refs_resolve(void **state)
{
    (void)state;
    json_t *doc = load_doc();
    check_refs(doc, doc, "document");
    json_decref(doc);
}

/* What GET /api/v1/openapi.json answers is the repository's file, byte for byte. */
static void test_served_document_is_the_file(void **state)
{
    (void)state;
    FILE *f = fopen(OPENAPI_DOC, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *file = malloc((size_t)size);
    assert_non_null(file);
    assert_int_equal(fread(file, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    size_t len;
    const char *built = mgmt_openapi_json(&len);
    assert_int_equal(len, (size_t)size);
    assert_memory_equal(built, file, len);
    assert_int_equal(built[len], 0);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_and_document_agree),
        cmocka_unit_test(test_no_route_twice),
        cmocka_unit_test(test_compare_reports_differences),
        cmocka_unit_test(test_security_follows_access),
        cmocka_unit_test(test_refs_resolve),
        cmocka_unit_test(test_served_document_is_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
