/* Upload storage. Names are random (never the client's), so nothing a user sends decides a
 * path; the original name is kept only as metadata. */
#include "mgmt/uploads.h"
#include "common/config.h"
#include "common/log.h"
#include "db/files.h"
#include "mgmt/auth.h"
#include "protocol/filetype.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int uploads_check_size(const struct mgmt_upload *u, long long limit, const char *field,
                       struct mgmt_resp *resp)
{
    if (!u->too_large && u->size <= limit)
        return 0;
    char msg[200];
    json_t *d = json_array();
    snprintf(msg, sizeof msg, "must be at most %lld bytes (%lld MB)", limit, limit / (1024 * 1024));
    mgmt_detail(d, field, "too_large", msg);
    mgmt_resp_error(resp, 413, "too_large", "the uploaded file is too large", d);
    return -1;
}

int uploads_check_document(const struct mgmt_req *req, const struct mgmt_upload *u,
                           const char *field, struct mgmt_resp *resp)
{
    if (uploads_check_size(u, req->cfg->max_upload_bytes, field, resp) < 0)
        return -1;
    if (ft_sniff(u->head, u->head_len) == FT_UNKNOWN) {
        json_t *d = json_array();
        mgmt_detail(d, field, "bad_type", "must be a PDF, JPEG or PNG file (judged by content)");
        mgmt_resp_error(resp, 415, "unsupported_media_type",
                        "the uploaded file is not a PDF, JPEG or PNG", d);
        return -1;
    }
    return 0;
}

static void stored_path(const struct evg_config *cfg, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%suploads/%.2s/%s", cfg->data_dir, name, name);
}

int uploads_keep(struct mgmt_req *req, struct mgmt_upload *u, const char *purpose, int64_t owner,
                 int64_t *file_id)
{
    enum ft_type t = ft_sniff(u->head, u->head_len);
    struct db_file f = {.owner_account_id = owner, .size = u->size};
    char rnd[33], dir[1024], path[1100];
    if (auth_random_hex(rnd, 16) < 0)
        return -1;
    snprintf(f.purpose, sizeof f.purpose, "%s", purpose);
    snprintf(f.original_name, sizeof f.original_name, "%s", u->filename);
    snprintf(f.stored_name, sizeof f.stored_name, "%s.%s", rnd, ft_ext(t));
    snprintf(f.mime, sizeof f.mime, "%s", ft_mime(t));
    snprintf(f.sha256, sizeof f.sha256, "%s", u->sha256);
    snprintf(dir, sizeof dir, "%suploads", req->cfg->data_dir);
    mkdir(dir, 0750);
    snprintf(dir, sizeof dir, "%suploads/%.2s", req->cfg->data_dir, rnd);
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        goto fail;
    stored_path(req->cfg, f.stored_name, path, sizeof path);
    if (rename(u->tmp_path, path) < 0)
        goto fail;
    u->tmp_path[0] = 0; /* now ours: the request cleanup must not unlink it */
    if (db_file_add(req->db, &f, file_id) != DB_OK) {
        unlink(path);
        return -1;
    }
    return 0;
fail:
    log_error("mgmt", "upload_store_failed", "dir=%s error=%s", log_q(dir), log_q(strerror(errno)));
    return -1;
}

void uploads_discard(struct mgmt_req *req, int64_t file_id)
{
    struct db_file f;
    char path[1100];
    if (db_file_get(req->db, file_id, &f) != DB_OK)
        return;
    stored_path(req->cfg, f.stored_name, path, sizeof path);
    unlink(path);
    db_file_delete(req->db, file_id);
}
