/* /api/v1/files/{id}: an uploaded document, to its owner and to admins only. */
#include "common/config.h"
#include "db/files.h"
#include "mgmt/router.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void get_file(struct mgmt_req *req, struct mgmt_resp *resp)
{
    struct db_file f;
    int admin = strcmp(req->caller.role, "admin") == 0;
    /* Another operator's file answers 404, as if it did not exist. */
    if (db_file_get(req->db, req->params[0], &f) != DB_OK ||
        (!admin && f.owner_account_id != req->caller.account_id)) {
        mgmt_resp_error(resp, 404, "not_found", "no such file", NULL);
        return;
    }
    char path[1100];
    snprintf(path, sizeof path, "%suploads/%.2s/%s", req->cfg->data_dir, f.stored_name,
             f.stored_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        mgmt_resp_error(resp, 404, "not_found", "the file's content is missing", NULL);
        return;
    }
    snprintf(resp->ctype_buf, sizeof resp->ctype_buf, "%s", f.mime);
    resp->status = 200;
    resp->content_type = resp->ctype_buf;
    resp->fd = fd;
    resp->fd_size = st.st_size;
    /* The name is metadata the user typed: only its ASCII-safe characters reach the header. */
    char safe[200], disp[300];
    size_t n = 0;
    for (const char *c = f.original_name; *c && n + 1 < sizeof safe; c++)
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '.' || *c == '-' || *c == '_')
            safe[n++] = *c;
    safe[n] = 0;
    snprintf(disp, sizeof disp, "inline; filename=\"%s\"", n ? safe : "file");
    mgmt_resp_header(resp, "Content-Disposition", disp);
    mgmt_resp_header(resp, "Cache-Control", "private, no-store");
    mgmt_resp_header(resp, "Content-Security-Policy", "frame-ancestors 'self'");
    mgmt_resp_header(resp, "X-Frame-Options", "SAMEORIGIN");
}

const struct mgmt_route mgmt_routes_files[] = {
    {"GET", "/api/v1/files/{id}", ACCESS_USER, get_file},
    {NULL, NULL, ACCESS_ANON, NULL},
};
