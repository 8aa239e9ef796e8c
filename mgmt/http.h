/* The request and response of one mgmt HTTP exchange, as handlers see them, and the helpers
 * that build JSON answers and errors (SPEC §11: {"error": {code, message, details}}). */
#ifndef EVGATE_MGMT_HTTP_H
#define EVGATE_MGMT_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct cmd_wait;
struct db;
struct evg_config;

/* How mgmt serialises JSON: compact, and decimals with 15 significant digits so that a
 * coordinate such as 22.517645 is written back as typed, not as 22.517645000000002. */
#define MGMT_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

#define MGMT_MAX_FIELDS      48
#define MGMT_MAX_FIELD_BYTES 8192
#define MGMT_MAX_FILES       8
#define MGMT_MAX_PARAMS      4

/* One uploaded file of a multipart request, written to a temporary file while it arrived. */
struct mgmt_upload {
    char field[64];
    char filename[256];
    char tmp_path[512];
    int64_t size;
    unsigned char head[16]; /* first bytes, to decide the type by content */
    size_t head_len;
    char sha256[65];
    int too_large; /* more than max_upload_bytes arrived; the file holds only the start */
};

struct mgmt_field {
    char name[64];
    char *value; /* NUL-terminated; `len` bytes (may contain NUL bytes: check len) */
    size_t len;
    int truncated; /* longer than MGMT_MAX_FIELD_BYTES */
};

/* Who is calling, resolved by the router before the handler runs. */
struct mgmt_caller {
    int64_t account_id; /* 0 = anonymous */
    char username[40];
    char role[16];
    char status[16];
    int via_cookie; /* 1 = browser session (CSRF checked), 0 = bearer token or anonymous */
    char csrf[65];
    char session_hash[65];
};

struct mgmt_req {
    struct MHD_Connection *conn;
    const struct evg_config *cfg;
    struct db *db;             /* this worker thread's connection */
    struct cmd_wait *cmd_wait; /* where a request waits for a remote operation (cmd_wait.h) */
    const char *method;
    const char *path;
    char client_addr[64];
    int64_t params[MGMT_MAX_PARAMS]; /* {id} path parameters, in order */
    int nparams;
    char keys[MGMT_MAX_PARAMS][65]; /* {key} path parameters, in order */
    struct mgmt_caller caller;
    /* body: raw bytes for JSON requests, fields and files for multipart ones */
    char *body;
    size_t body_len;
    int body_too_large;
    int is_multipart;
    struct mgmt_field fields[MGMT_MAX_FIELDS];
    int nfields;
    int too_many_fields;
    struct mgmt_upload files[MGMT_MAX_FILES];
    int nfiles;
};

#define MGMT_MAX_HEADERS 8

struct mgmt_resp {
    unsigned status;
    const char *content_type; /* static, or ctype_buf */
    char ctype_buf[64];
    char *body; /* owned, freed after sending */
    size_t body_len;
    int fd; /* when >= 0, the body is this file (owned) of `fd_size` bytes */
    int64_t fd_size;
    struct {
        char name[40];
        char value[512];
    } headers[MGMT_MAX_HEADERS];
    int nheaders;
    /* > 0: instead of answering now, wait (without holding the thread) until remote operation
     * `wait_command` is finished or mgmt's wait is over, then answer with it (200, or 202 while
     * the pile has not answered yet). The handler must hold a cmd_wait_reserve() slot, which
     * server.c then uses; it leaves the rest of the response empty. */
    int64_t wait_command;
};

/* Query-string argument `name` or NULL. Borrowed from the connection. */
const char *mgmt_query(struct mgmt_req *req, const char *name);

/* Request header `name` or NULL. Borrowed from the connection. */
const char *mgmt_header(struct mgmt_req *req, const char *name);

/* Optional positive integer query argument `name`: `def` when absent, -1 when invalid. */
int64_t mgmt_query_int(struct mgmt_req *req, const char *name, int64_t def);

/* Reads `page` and `page_size` (default 20, at most page_size_max), appending a detail for
 * each bad one. */
void mgmt_query_page(struct mgmt_req *req, int64_t *page, int64_t *size, json_t *details);

/* Multipart text field `name` (NULL when absent) and the upload of field `name` (or NULL). */
struct mgmt_field *mgmt_field(struct mgmt_req *req, const char *name);
struct mgmt_upload *mgmt_file(struct mgmt_req *req, const char *name);

/* Parses the body as a JSON object. On failure answers 400 (or 413 when too large) into
 * `resp` and returns NULL. Caller owns the result. */
json_t *mgmt_body_json(struct mgmt_req *req, struct mgmt_resp *resp);

/* Adds a response header (silently dropped past MGMT_MAX_HEADERS). */
void mgmt_resp_header(struct mgmt_resp *resp, const char *name, const char *value);

/* Answers `status` with `body` serialised (the reference is stolen; NULL = no body). */
void mgmt_resp_json(struct mgmt_resp *resp, unsigned status, json_t *body);

/* Answers `status` with `text`, a JSON document already serialised (taken: freed after
 * sending), `len` bytes. */
void mgmt_resp_json_text(struct mgmt_resp *resp, unsigned status, char *text, size_t len);

/* Answers 200 with a list page {items (stolen), total, page, page_size}, times as ISO text. */
void mgmt_resp_list(struct mgmt_resp *resp, json_t *items, int64_t total, int64_t page,
                    int64_t page_size);

/* Answers 409 `conflict` for an action that `what` (e.g. "application") in `status` does not
 * allow, naming the status it needs; the detail carries `current` for UIs. */
void mgmt_resp_wrong_state(struct mgmt_resp *resp, const char *what, const char *status,
                           const char *needed);

/* Answers an error object; `details` (stolen, may be NULL) becomes the details array. */
void mgmt_resp_error(struct mgmt_resp *resp, unsigned status, const char *code, const char *message,
                     json_t *details);

/* Appends {field, code, message} to the details array `details`. */
void mgmt_detail(json_t *details, const char *field, const char *code, const char *message);

/* Rewrites every integer member named `at` or ending in `_at` (epoch seconds) of `v`, at any
 * depth, into an ISO 8601 UTC string. Returns `v`. */
json_t *mgmt_iso_times(json_t *v);

#endif
