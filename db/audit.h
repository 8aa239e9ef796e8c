/* The audit log: one row per admin decision (and other security-relevant actions). */
#ifndef EVGATE_DB_AUDIT_H
#define EVGATE_DB_AUDIT_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Appends a row. `actor_account_id` 0 means the system; `detail_json` may be NULL. */
int db_audit_add(struct db *db, int64_t actor_account_id, const char *action,
                 const char *object_type, int64_t object_id, const char *detail_json);

/* The same with the detail as a JSON object (stolen; NULL for none). */
int db_audit_add_json(struct db *db, int64_t actor_account_id, const char *action,
                      const char *object_type, int64_t object_id, json_t *detail);

/* The rows about one object, oldest first, as a new array of
 * {at (epoch seconds), actor_id, actor (username or null), action, detail (object or null)}.
 * Caller owns the result; NULL on error. */
json_t *db_audit_for_object(struct db *db, const char *object_type, int64_t object_id);

/* Number of rows with `action` (all when NULL) into *count. */
int db_audit_count(struct db *db, const char *action, int64_t *count);

#endif
