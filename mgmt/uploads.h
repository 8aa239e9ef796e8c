/* Keeping an uploaded document: checked by content, moved out of the temporary area to
 * data_dir/uploads/<xx>/<random>.<ext> (outside the web root) and recorded in `files`. */
#ifndef EVGATE_MGMT_UPLOADS_H
#define EVGATE_MGMT_UPLOADS_H

#include "mgmt/http.h"

/* Checks upload `u` of field `field` as a pdf/png/jpeg document of at most max_upload_bytes:
 * answers 413 or 415 into `resp` and returns -1 when it is too large or of another type.
 * Returns 0 when acceptable. */
int uploads_check_document(const struct mgmt_req *req, const struct mgmt_upload *u,
                           const char *field, struct mgmt_resp *resp);

/* Answers 413 naming `field` when `u` is larger than `limit` bytes; returns -1 then, else 0. */
int uploads_check_size(const struct mgmt_upload *u, long long limit, const char *field,
                       struct mgmt_resp *resp);

/* Moves `u` into storage and records it for `owner` (0 = none yet) with `purpose`; *file_id
 * is the new row. On failure the stored copy is removed and -1 returned. */
int uploads_keep(struct mgmt_req *req, struct mgmt_upload *u, const char *purpose, int64_t owner,
                 int64_t *file_id);

/* Removes a stored file and its row (used to undo uploads_keep when the caller's transaction
 * fails afterwards). */
void uploads_discard(struct mgmt_req *req, int64_t file_id);

#endif
