/* /api/v1/tcec/platforms: the T/CEC 102 interconnection of each operator platform as mgmt shows
 * it (docs/api-platforms.md): last contact in each direction, refusals by reason, and the
 * exchange log with decoded payloads. Operators see their own platforms, admins all.
 *
 * The gateway stores payloads with secrets already redacted (db/tcec.h); these answers redact
 * again, by member name and by the platform's live secret values, so that a payload stored by
 * anything else still never shows one. */
#include "db/detections.h"
#include "db/tcec_view.h"
#include "mgmt/router.h"
#include "mgmt/validate.h"
#include "protocol/tcec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REDACTED "***"
/* "Today" is the day in China Standard Time (UTC+8, no daylight saving), where platforms are. */
#define DAY_OFFSET (8 * 3600)

static int64_t today_start(void)
{
    int64_t now = (int64_t)time(NULL);
    return now - (now + DAY_OFFSET) % 86400;
}

static int is_admin(const struct mgmt_req *req)
{
    return strcmp(req->caller.role, "admin") == 0;
}

/* The live secret values of one platform, to scrub from answers. */
struct secrets {
    char v[4][17];
    int n;
};

static void secrets_load(struct mgmt_req *req, const char *operator_id, struct secrets *s)
{
    struct db_tcec_credentials c;
    memset(s, 0, sizeof *s);
    if (db_credentials_live(req->db, operator_id, &c) != DB_OK)
        return;
    const char *all[4] = {c.operator_secret, c.data_secret, c.data_secret_iv, c.sig_secret};
    for (int i = 0; i < 4; i++)
        if (strlen(all[i]) >= 8) /* never scrub a trivially short value everywhere */
            snprintf(s->v[s->n++], sizeof s->v[0], "%s", all[i]);
    memset(&c, 0, sizeof c);
}

/* `text` with every occurrence of a secret replaced by REDACTED: a new string (caller frees),
 * or NULL when none occurs. */
static char *scrub_text(const char *text, const struct secrets *s)
{
    char *out = NULL;
    for (int i = 0; i < s->n; i++) {
        const char *cur = out ? out : text;
        size_t klen = strlen(s->v[i]);
        if (!strstr(cur, s->v[i]))
            continue;
        /* REDACTED is shorter than any secret kept, so the result fits in strlen(cur) + 1 */
        char *next = malloc(strlen(cur) + 1);
        if (!next)
            break;
        char *w = next;
        for (const char *p = cur, *hit; *p; p = hit + klen) {
            if (!(hit = strstr(p, s->v[i]))) {
                strcpy(w, p);
                w += strlen(p);
                break;
            }
            memcpy(w, p, (size_t)(hit - p));
            w += hit - p;
            memcpy(w, REDACTED, sizeof REDACTED - 1);
            w += sizeof REDACTED - 1;
        }
        *w = 0;
        free(out);
        out = next;
    }
    return out;
}

/* A replacement for `v` when it must change (a scrubbed string), else NULL. */
static json_t *scrubbed_string(json_t *v, const struct secrets *s)
{
    if (!json_is_string(v))
        return NULL;
    char *t = scrub_text(json_string_value(v), s);
    json_t *r = t ? json_string(t) : NULL;
    free(t);
    return r;
}

/* Redacts, at any depth of `v`, the values of secret members (T/CEC names) and every
 * occurrence of a live secret value in a string. */
static void redact(json_t *v, const struct secrets *s)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            json_t *r = NULL;
            if (tcec_secret_member(k) && !json_is_null(e) &&
                !(json_is_string(e) && strcmp(json_string_value(e), "") == 0))
                r = json_string(REDACTED);
            else if (!(r = scrubbed_string(e, s)))
                redact(e, s);
            if (r)
                json_object_set_new(v, k, r);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            json_t *r = scrubbed_string(e, s);
            if (r)
                json_array_set_new(v, i, r);
            else
                redact(e, s);
        }
    }
}

/* Loads the platform `operator_id` for this caller; answers 404 (also for another operator's
 * platform) or 500 and returns NULL. Caller owns. */
static json_t *load_platform(struct mgmt_req *req, struct mgmt_resp *resp, const char *operator_id)
{
    int rc = DB_ERROR;
    json_t *p = db_tcec_view_platform(req->db, operator_id, today_start(), &rc);
    if (p && !is_admin(req) &&
        json_integer_value(json_object_get(p, "account_id")) != req->caller.account_id) {
        json_decref(p);
        p = NULL;
        rc = DB_NOTFOUND;
    }
    if (!p) {
        if (rc == DB_NOTFOUND)
            mgmt_resp_error(resp, 404, "not_found", "no such platform", NULL);
        else
            mgmt_resp_error(resp, 500, "internal", "could not read the platform", NULL);
    }
    return p;
}

static void list(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *details = json_array();
    const char *q = mgmt_query(req, "q");
    q = q && *q ? q : NULL;
    if (q)
        val_text(details, "q", q, strlen(q), 1, 100);
    int64_t page, size;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    /* `q` searches other operators' names: admins only; an operator lists just its own */
    int admin = is_admin(req);
    json_t *items;
    int64_t total;
    if (db_tcec_view_platforms(req->db, admin ? 0 : req->caller.account_id, admin ? q : NULL,
                               today_start(), page, size, &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not list platforms", NULL);
        return;
    }
    mgmt_resp_list(resp, items, total, page, size);
}

static void get_one(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *p = load_platform(req, resp, req->keys[0]);
    if (!p)
        return;
    json_t *reasons = db_tcec_view_reasons(req->db, req->keys[0], today_start());
    if (!reasons) {
        json_decref(p);
        mgmt_resp_error(resp, 500, "internal", "could not count refusals", NULL);
        return;
    }
    json_object_set_new(p, "refusals", reasons);
    struct secrets s;
    secrets_load(req, req->keys[0], &s);
    redact(p, &s);
    memset(&s, 0, sizeof s);
    mgmt_resp_json(resp, 200, mgmt_iso_times(p));
}

static int word_of(const char *s, size_t max, int upper)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (upper && s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return 0;
    return n >= 1 && n <= max;
}

/* Reads the filters of GET .../exchanges into `f`, appending a detail for each bad one. */
static void read_filter(struct mgmt_req *req, struct db_tcec_view_filter *f, json_t *details)
{
    const char *dir = mgmt_query(req, "direction"), *itf = mgmt_query(req, "interface");
    const char *ret = mgmt_query(req, "ret"), *why = mgmt_query(req, "reason");
    const char *failed = mgmt_query(req, "failed");
    memset(f, 0, sizeof *f);
    if (dir && *dir) {
        if (strcmp(dir, "in") == 0 || strcmp(dir, "out") == 0)
            f->direction = dir;
        else
            mgmt_detail(details, "direction", "bad_format", "must be in or out");
    }
    if (itf && *itf) {
        if (word_of(itf, 64, 1))
            f->interface = itf;
        else
            mgmt_detail(details, "interface", "bad_format",
                        "must be an interface name such as notification_stationStatus");
    }
    if (ret && *ret) {
        char *end;
        long v = strtol(ret, &end, 10);
        if (*end || v < -1 || v > 99999)
            mgmt_detail(details, "ret", "bad_format", "must be a Ret code such as 0 or 4001");
        f->has_ret = 1;
        f->ret = (int)v;
    }
    if (why && *why) {
        if (word_of(why, 32, 0))
            f->reason = why;
        else
            mgmt_detail(details, "reason", "bad_format", "must be a reason code such as signature");
    }
    if (failed && *failed) {
        if (strcmp(failed, "1") == 0 || strcmp(failed, "true") == 0)
            f->failed_only = 1;
        else if (strcmp(failed, "0") != 0 && strcmp(failed, "false") != 0)
            mgmt_detail(details, "failed", "bad_format", "must be 1 or 0");
    }
}

/* A stored payload text as JSON when it is JSON, else as the string itself. */
static json_t *payload(json_t *text)
{
    const char *s = json_string_value(text);
    if (!s)
        return json_null();
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    return v ? v : json_incref(text);
}

static void exchanges(struct mgmt_req *req, struct mgmt_resp *resp)
{
    json_t *p = load_platform(req, resp, req->keys[0]);
    if (!p)
        return;
    json_decref(p);
    json_t *details = json_array();
    struct db_tcec_view_filter f;
    read_filter(req, &f, details);
    int64_t page, size;
    mgmt_query_page(req, &page, &size, details);
    if (json_array_size(details)) {
        mgmt_resp_error(resp, 422, "validation_failed", "invalid query", details);
        return;
    }
    json_decref(details);
    json_t *items;
    int64_t total;
    if (db_tcec_view_exchanges(req->db, req->keys[0], &f, page, size, &items, &total) != DB_OK) {
        mgmt_resp_error(resp, 500, "internal", "could not read the exchanges", NULL);
        return;
    }
    /* times first, payloads after: a payload member ending in "_at" stays as the platform sent it
     */
    mgmt_iso_times(items);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_object_set_new(it, "request", payload(json_object_get(it, "request")));
        json_object_set_new(it, "response", payload(json_object_get(it, "response")));
    }
    struct secrets s;
    secrets_load(req, req->keys[0], &s);
    redact(items, &s);
    memset(&s, 0, sizeof s);
    mgmt_resp_json(resp, 200,
                   json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total,
                             "page", (json_int_t)page, "page_size", (json_int_t)size));
}

const struct mgmt_route mgmt_routes_platforms[] = {
    {"GET", "/api/v1/tcec/platforms", ACCESS_ACTIVE, list},
    {"GET", "/api/v1/tcec/platforms/{key}", ACCESS_ACTIVE, get_one},
    {"GET", "/api/v1/tcec/platforms/{key}/exchanges", ACCESS_ACTIVE, exchanges},
    {NULL, NULL, ACCESS_ANON, NULL},
};
