/* The gateway's record of what piles tell it over OCPP-J (migration 6): boot information and
 * last contact (ocpp_contacts, migration 15) per pile, status per connector (with its T/CEC
 * code), transactions, sampled meter values and protocol violations. Called from the gateway's
 * batched writer, inside its transaction; every function is one or two prepared statements.
 * Times are epoch seconds. */
#ifndef EVGATE_DB_OCPP_STATE_H
#define EVGATE_DB_OCPP_STATE_H

#include "db/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct db;

/* Records that `equipment_id` (speaking `protocol`) was heard from at `at`: its row of
 * ocpp_contacts, made when needed, gets the protocol and a last_seen_at moved forward. */
int db_ocpp_seen(struct db *db, const char *equipment_id, const char *protocol, int64_t at);

/* Whether a BootNotification of the pile was ever accepted (last_boot_at set) into *booted. */
int db_ocpp_booted(struct db *db, const char *equipment_id, bool *booted);

/* Stores the boot information of a BootNotification: vendor, model, serial, firmware (NULL = not
 * sent), `reason` (2.0.1's boot reason; NULL for 1.6). An accepted one also sets last_boot_at =
 * `accepted_at`; one answered Pending passes 0 and last_boot_at stays as it was (the pile is not
 * marked booted). Makes the pile's ocpp_piles row when needed. */
int db_ocpp_boot(struct db *db, const char *equipment_id, const char *vendor, const char *model,
                 const char *serial, const char *firmware, const char *reason, int64_t accepted_at);

/* Sets the status of a connector: `connector_id` is 1.6's connectorId (0 = the pile as a
 * whole) or 2.0.1's evseId, `evse_connector_id` 2.0.1's connectorId within that EVSE (0 in
 * 1.6); `status` the OCPP status as sent, `tcec_status` its T/CEC ConnectorStatus code,
 * `error_code` may be NULL. A status older than the stored one (`at` before updated_at) is
 * ignored, so that a late retry does not undo a newer state. */
int db_ocpp_connector_status(struct db *db, const char *equipment_id, int64_t connector_id,
                             int64_t evse_connector_id, const char *status, int tcec_status,
                             const char *error_code, int64_t at);

/* Updates only the T/CEC code of the connectors of EVSE `connector_id` that are occupied
 * (2.0.1: the charging state of a transaction refines "Occupied"). */
int db_ocpp_connector_charging(struct db *db, const char *equipment_id, int64_t connector_id,
                               int tcec_status, int64_t at);

/* Opens a transaction; its row id (1.6's transactionId) into *row. `ref` is 2.0.1's
 * transactionId (NULL in 1.6); with a ref that the pile already has, the existing row is
 * returned instead (a retried Started). meter_start_wh < 0 means unknown. */
int db_ocpp_tx_start(struct db *db, const char *equipment_id, int64_t connector_id, const char *ref,
                     const char *id_tag, int64_t started_at, double meter_start_wh, int64_t *row);

/* The row of the pile's transaction `ref` (2.0.1) into *row and its connector into
 * *connector_id (may be NULL); DB_NOTFOUND when unknown. */
int db_ocpp_tx_find(struct db *db, const char *equipment_id, const char *ref, int64_t *row,
                    int64_t *connector_id);

/* DB_OK when transaction `row` is one of the pile's (its connector into *connector_id, which
 * may be NULL), else DB_NOTFOUND. */
int db_ocpp_tx_of_pile(struct db *db, const char *equipment_id, int64_t row, int64_t *connector_id);

/* Records an energy register reading `wh` of transaction `row` (the pile sends them in order):
 * it becomes meter_stop_wh (the latest reading), meter_start_wh too when none was known, and
 * energy_wh = stop - start, so a running transaction shows its energy so far. */
int db_ocpp_tx_meter(struct db *db, int64_t row, double wh, int64_t at);

/* Sets the id tag of transaction `row` when it has none yet. */
int db_ocpp_tx_id_tag(struct db *db, int64_t row, const char *id_tag, int64_t at);

/* Ends transaction `row` of `equipment_id` at `stopped_at` with `reason` (may be NULL) and, when
 * meter_stop_wh >= 0, that final reading (energy_wh = stop - start). A transaction already ended
 * keeps its first end. DB_NOTFOUND when the pile has no such transaction. */
int db_ocpp_tx_stop(struct db *db, const char *equipment_id, int64_t row, int64_t stopped_at,
                    double meter_stop_wh, const char *reason);

/* One sampled value. connector_id as in db_ocpp_connector_status; transaction_row 0 = none;
 * phase, unit, context may be NULL. */
struct db_ocpp_sample {
    int64_t connector_id;
    int64_t transaction_row;
    int64_t sampled_at;
    const char *measurand;
    const char *phase;
    const char *unit;
    const char *context;
    double value;
};
int db_ocpp_meter_add(struct db *db, const char *equipment_id, const struct db_ocpp_sample *s);

/* Deletes the pile's sampled values but the newest `keep`. */
int db_ocpp_meter_prune(struct db *db, const char *equipment_id, int64_t keep);

/* Records a protocol violation of the pile (CALLERROR `code`, JSON `path` and `reason` may be
 * NULL, `frame` the offending text, already cut by the caller), counts it in
 * ocpp_piles.violations and keeps only the newest `keep` frames of the pile. */
int db_ocpp_violation_add(struct db *db, const char *equipment_id, int64_t at, const char *code,
                          const char *path, const char *reason, const char *frame, int64_t keep);

/* The status of each of the pile's connectors as the gateway last heard it: [{connector_id,
 * evse_connector_id, status, tcec_status (0 unless `online`), error_code, updated_at}], ordered
 * by connector (an empty array when it never reported or on error). Caller owns. */
json_t *db_ocpp_connectors(struct db *db, const char *equipment_id, bool online);

/* The live view of a pile for mgmt: {online, protocol, last_seen_at, boot {vendor, model,
 * serial, firmware, reason, at} or null, connectors [{connector_id, evse_connector_id, status,
 * tcec_status (0 while offline), error_code, updated_at}], open_transaction or null,
 * transactions (the last 10), violations (count), recent_violations (the last 10 with code, path,
 * reason, frame)}. Times are epoch seconds. Caller owns; NULL on error. */
json_t *db_ocpp_live(struct db *db, const char *equipment_id);

#endif
