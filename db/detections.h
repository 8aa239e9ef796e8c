/* Detection applications (桩平台检测), their materials and the T/CEC credentials issued for
 * them. The editable fields are kept as one JSON object (`data`); the state is columns. */
#ifndef EVGATE_DB_DETECTIONS_H
#define EVGATE_DB_DETECTIONS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* What authorisation and transitions need to know of one application. */
struct db_detection_head {
    int64_t id;
    int64_t account_id;
    char mode[16];   /* self | delegated */
    char status[16]; /* draft | submitted | approved | rejected | testing | passed | failed */
};

/* Reads the head of application `id`. DB_NOTFOUND when none. */
int db_detection_head(struct db *db, int64_t id, struct db_detection_head *out);

/* Creates a draft of `mode` for `account_id` with editable fields `data` (a JSON object,
 * borrowed) and `delegate_id` (0 = none); writes the audit row. *id is the new application. */
int db_detection_create(struct db *db, int64_t account_id, const char *mode, const json_t *data,
                        int64_t delegate_id, int64_t *id);

/* Replaces the editable fields of a `draft` or `rejected` application. DB_CONFLICT when its
 * status is neither. */
int db_detection_update(struct db *db, int64_t id, const json_t *data, int64_t delegate_id);

/* Deletes a `draft` application and its materials; the material files' rows are deleted too
 * and their stored names appended to `stored_names` (a JSON array, borrowed) so the caller
 * can remove the bytes. DB_CONFLICT when not a draft. */
int db_detection_delete(struct db *db, int64_t id, json_t *stored_names);

/* The API object of docs/api-detections.md (times as epoch seconds; mgmt formats them), with
 * `audit` when `with_audit`. Caller owns; NULL when not found. */
json_t *db_detection_view(struct db *db, int64_t id, int with_audit);

/* One page of applications, newest first (admins: oldest submission first when filtering by
 * `submitted`). `account_id` 0 = every operator. `status`, `mode`, `q` NULL = any. */
int db_detection_list(struct db *db, int64_t account_id, const char *status, const char *mode,
                      const char *q, int64_t page, int64_t page_size, json_t **items,
                      int64_t *total);

/* Moves application `id` from one of `from` (comma-separated) to `to`, with a reason (may be
 * NULL) kept in reject_reason, an audit row `action` by `actor_id`, all in one transaction.
 * `to` = "submitted" also stamps submitted_at; "approved"/"rejected" stamp the review.
 * DB_CONFLICT when the status did not match; DB_NOTFOUND when there is no such application. */
int db_detection_transition(struct db *db, int64_t id, const char *from, const char *to,
                            const char *reason, int64_t actor_id, const char *action);

/* Records a verdict (`passed`/`failed`) from `source` (`manual`/`run`) with a note, moving a
 * `self` application from `approved` or `testing`. DB_CONFLICT otherwise. */
int db_detection_verdict(struct db *db, int64_t id, const char *verdict, const char *source,
                         const char *note, int64_t actor_id);

/* Attaches file `file_id` as a material of a `draft`/`rejected` application when it has fewer
 * than `max` materials. DB_CONFLICT (with *why "status" or "count") otherwise. */
int db_material_add(struct db *db, int64_t detection_id, int64_t file_id, int max, int64_t *id,
                    const char **why);

/* Detaches material `material_id` from a `draft`/`rejected` application and deletes its file
 * row; its stored name goes to stored_name[80]. DB_NOTFOUND / DB_CONFLICT ("status"). */
int db_material_delete(struct db *db, int64_t detection_id, int64_t material_id,
                       char stored_name[80], const char **why);

/* Number of materials of application `id`. */
int db_material_count(struct db *db, int64_t detection_id, int64_t *count);

/* The T/CEC credential set of one platform. */
struct db_tcec_credentials {
    int64_t detection_id;
    char operator_id[10];
    char operator_secret[17];
    char data_secret[17];
    char data_secret_iv[17];
    char sig_secret[17];
    int64_t issued_at;
};

/* Stores `c` as the live credentials of c->operator_id, revoking any earlier live set of that
 * OperatorID, with an audit row; all in one transaction. */
int db_credentials_issue(struct db *db, const struct db_tcec_credentials *c, int64_t actor_id);

/* The live credentials of `operator_id`. DB_NOTFOUND when none. */
int db_credentials_live(struct db *db, const char *operator_id, struct db_tcec_credentials *out);

/* One operator platform evgate calls over T/CEC: the live credentials of an approved (or later)
 * `self` application and the base URL of its platform. Borrowed for the callback only. */
struct db_tcec_peer {
    const struct db_tcec_credentials *cred;
    const char *base_url; /* as the application gives it; "" when missing */
};
typedef int (*db_tcec_peer_fn)(void *arg, const struct db_tcec_peer *p);

/* Calls `fn` for every such platform in OperatorID order, inside one statement. Returns DB_OK,
 * the callback's nonzero value, or a DB_* error. */
int db_tcec_peers(struct db *db, db_tcec_peer_fn fn, void *arg);

/* Passed `self` applications as {items: [{detection_id, platform_name, company_name}]}. */
json_t *db_passed_platforms(struct db *db);

/* Whether `account_id` may apply for access: *detection_id is its passed self or approved
 * delegated application (0 when none). */
int db_access_gate(struct db *db, int64_t account_id, int64_t *detection_id);

#endif
