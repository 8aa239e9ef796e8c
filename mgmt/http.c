/* Response builders and request accessors shared by every mgmt handler. */
#include "mgmt/http.h"
#include "common/config.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *mgmt_query(struct mgmt_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *mgmt_header(struct mgmt_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int64_t mgmt_query_int(struct mgmt_req *req, const char *name, int64_t def)
{
    const char *s = mgmt_query(req, name);
    if (!s || !*s)
        return def;
    char *end;
    long long v = strtoll(s, &end, 10);
    return (*end || v < 1 || v > 1000000000) ? -1 : (int64_t)v;
}

void mgmt_query_page(struct mgmt_req *req, int64_t *page, int64_t *size, json_t *details)
{
    *page = mgmt_query_int(req, "page", 1);
    *size = mgmt_query_int(req, "page_size", 20);
    if (*page < 1)
        mgmt_detail(details, "page", "bad_format", "must be a positive integer");
    if (*size < 1 || *size > req->cfg->page_size_max) {
        char msg[80];
        snprintf(msg, sizeof msg, "must be an integer in 1..%lld", req->cfg->page_size_max);
        mgmt_detail(details, "page_size", "bad_format", msg);
    }
}

struct mgmt_field *mgmt_field(struct mgmt_req *req, const char *name)
{
    for (int i = 0; i < req->nfields; i++)
        if (strcmp(req->fields[i].name, name) == 0)
            return &req->fields[i];
    return NULL;
}

struct mgmt_upload *mgmt_file(struct mgmt_req *req, const char *name)
{
    for (int i = 0; i < req->nfiles; i++)
        if (strcmp(req->files[i].field, name) == 0)
            return &req->files[i];
    return NULL;
}

json_t *mgmt_body_json(struct mgmt_req *req, struct mgmt_resp *resp)
{
    if (req->body_too_large) {
        mgmt_resp_error(resp, 413, "too_large", "request body is larger than the limit", NULL);
        return NULL;
    }
    if (req->is_multipart) {
        mgmt_resp_error(resp, 415, "unsupported_media_type", "expected a JSON body", NULL);
        return NULL;
    }
    json_error_t jerr;
    json_t *v =
        req->body_len ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!v || !json_is_object(v)) {
        char msg[300];
        if (v)
            snprintf(msg, sizeof msg, "the body must be a JSON object");
        else if (!req->body_len)
            snprintf(msg, sizeof msg, "the body is empty; a JSON object is expected");
        else
            snprintf(msg, sizeof msg, "malformed JSON at line %d column %d: %s", jerr.line,
                     jerr.column, jerr.text);
        json_decref(v);
        mgmt_resp_error(resp, 400, "bad_request", msg, NULL);
        return NULL;
    }
    return v;
}

void mgmt_resp_header(struct mgmt_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders >= MGMT_MAX_HEADERS)
        return;
    snprintf(resp->headers[resp->nheaders].name, sizeof resp->headers[0].name, "%s", name);
    snprintf(resp->headers[resp->nheaders].value, sizeof resp->headers[0].value, "%s", value);
    resp->nheaders++;
}

void mgmt_resp_json(struct mgmt_resp *resp, unsigned status, json_t *body)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    if (body) {
        resp->body = json_dumps(body, MGMT_JSON_FLAGS);
        resp->body_len = resp->body ? strlen(resp->body) : 0;
        json_decref(body);
    }
}

void mgmt_resp_json_text(struct mgmt_resp *resp, unsigned status, char *text, size_t len)
{
    free(resp->body);
    resp->body = text;
    resp->body_len = len;
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
}

void mgmt_resp_list(struct mgmt_resp *resp, json_t *items, int64_t total, int64_t page,
                    int64_t page_size)
{
    mgmt_resp_json(
        resp, 200,
        mgmt_iso_times(json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total,
                                 "page", (json_int_t)page, "page_size", (json_int_t)page_size)));
}

void mgmt_resp_wrong_state(struct mgmt_resp *resp, const char *what, const char *status,
                           const char *needed)
{
    char msg[200];
    snprintf(msg, sizeof msg, "the %s is %s; this action needs it to be %s", what, status, needed);
    json_t *d = json_array();
    mgmt_detail(d, "status", "wrong_state", msg);
    json_object_set_new(json_array_get(d, 0), "current", json_string(status));
    mgmt_resp_error(resp, 409, "conflict", msg, d);
}

void mgmt_resp_error(struct mgmt_resp *resp, unsigned status, const char *code, const char *message,
                     json_t *details)
{
    json_t *msg = json_string(message);
    if (!msg) {
        /* not UTF-8 (a parser's "near '...'" cut inside a character): the bytes above ASCII
         * become '?', so the caller still gets an error object that says what is wrong */
        char *ascii = strdup(message);
        for (char *p = ascii; p && *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        msg = json_string(ascii ? ascii : "error");
        free(ascii);
    }
    json_t *err = json_pack("{s:{s:s, s:o, s:o}}", "error", "code", code, "message", msg,
                            "details", details ? details : json_array());
    mgmt_resp_json(resp, status, err);
}

void mgmt_detail(json_t *details, const char *field, const char *code, const char *message)
{
    json_array_append_new(
        details, json_pack("{s:s, s:s, s:s}", "field", field, "code", code, "message", message));
}

json_t *mgmt_iso_times(json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) mgmt_iso_times(e);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            size_t n = strlen(k);
            int is_time = strcmp(k, "at") == 0 || (n > 3 && strcmp(k + n - 3, "_at") == 0);
            if (is_time && json_is_integer(e)) {
                time_t t = (time_t)json_integer_value(e);
                struct tm tm;
                char buf[32];
                gmtime_r(&t, &tm);
                strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
                json_object_set_new(v, k, json_string(buf));
            } else {
                mgmt_iso_times(e);
            }
        }
    }
    return v;
}
