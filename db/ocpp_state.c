/* OCPP state written by the gateway; see ocpp_state.h. */
#include "db/ocpp_state.h"
#include "db/db_internal.h"

#include <math.h>

static void bind_wh(sqlite3_stmt *st, int idx, double wh)
{
    if (wh < 0 || !isfinite(wh))
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int64(st, idx, (int64_t)llround(wh));
}

int db_ocpp_seen(struct db *db, const char *equipment_id, const char *protocol, int64_t at)
{
    static const char sql[] =
        "INSERT INTO ocpp_contacts (equipment_id, protocol, last_seen_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (equipment_id) DO UPDATE SET protocol = ?2,"
        " last_seen_at = max(last_seen_at, ?3)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text_static(st, 1, equipment_id);
    db_bind_text_static(st, 2, protocol);
    sqlite3_bind_int64(st, 3, at);
    return db_step_done(db, st, "ocpp_seen");
}

int db_ocpp_booted(struct db *db, const char *equipment_id, bool *booted)
{
    static const char sql[] =
        "SELECT last_boot_at IS NOT NULL FROM ocpp_piles WHERE equipment_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    int rc = sqlite3_step(st);
    *booted = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "ocpp_booted");
    sqlite3_reset(st);
    return rc;
}

int db_ocpp_boot(struct db *db, const char *equipment_id, const char *vendor, const char *model,
                 const char *serial, const char *firmware, const char *reason, int64_t accepted_at)
{
    static const char sql[] =
        "INSERT INTO ocpp_piles (equipment_id, vendor, model, serial, firmware, boot_reason,"
        " last_boot_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?7 > 0 THEN ?7 END)"
        " ON CONFLICT (equipment_id) DO UPDATE SET vendor = ?2, model = ?3, serial = ?4,"
        " firmware = ?5, boot_reason = ?6,"
        " last_boot_at = CASE WHEN ?7 > 0 THEN ?7 ELSE last_boot_at END";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    db_bind_text(st, 2, vendor);
    db_bind_text(st, 3, model);
    db_bind_text(st, 4, serial);
    db_bind_text(st, 5, firmware);
    db_bind_text(st, 6, reason);
    sqlite3_bind_int64(st, 7, accepted_at);
    return db_step_done(db, st, "ocpp_boot");
}

int db_ocpp_connector_status(struct db *db, const char *equipment_id, int64_t connector_id,
                             int64_t evse_connector_id, const char *status, int tcec_status,
                             const char *error_code, int64_t at)
{
    static const char sql[] =
        "INSERT INTO ocpp_connectors (equipment_id, connector_id, evse_connector_id, status,"
        " tcec_status, error_code, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (equipment_id, connector_id, evse_connector_id) DO UPDATE SET"
        " status = ?4, tcec_status = ?5, error_code = ?6, updated_at = ?7"
        " WHERE updated_at <= ?7";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text_static(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, connector_id);
    sqlite3_bind_int64(st, 3, evse_connector_id);
    db_bind_text_static(st, 4, status);
    sqlite3_bind_int(st, 5, tcec_status);
    db_bind_text_static(st, 6, error_code);
    sqlite3_bind_int64(st, 7, at);
    return db_step_done(db, st, "ocpp_connector_status");
}

int db_ocpp_connector_charging(struct db *db, const char *equipment_id, int64_t connector_id,
                               int tcec_status, int64_t at)
{
    static const char sql[] =
        "UPDATE ocpp_connectors SET tcec_status = ?3, updated_at = max(updated_at, ?4)"
        " WHERE equipment_id = ?1 AND connector_id = ?2 AND status = 'Occupied'";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, connector_id);
    sqlite3_bind_int(st, 3, tcec_status);
    sqlite3_bind_int64(st, 4, at);
    return db_step_done(db, st, "ocpp_connector_charging");
}

int db_ocpp_tx_find(struct db *db, const char *equipment_id, const char *ref, int64_t *row,
                    int64_t *connector_id)
{
    static const char sql[] = "SELECT id, connector_id FROM ocpp_transactions"
                              " WHERE equipment_id = ? AND transaction_ref = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    db_bind_text(st, 2, ref);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = sqlite3_column_int64(st, 0);
        if (connector_id)
            *connector_id = sqlite3_column_int64(st, 1);
        rc = DB_OK;
    } else {
        rc = rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, "ocpp_tx_find");
    }
    sqlite3_reset(st);
    return rc;
}

int db_ocpp_tx_start(struct db *db, const char *equipment_id, int64_t connector_id, const char *ref,
                     const char *id_tag, int64_t started_at, double meter_start_wh, int64_t *row)
{
    if (ref && db_ocpp_tx_find(db, equipment_id, ref, row, NULL) == DB_OK)
        return DB_OK;
    static const char sql[] =
        "INSERT INTO ocpp_transactions (equipment_id, connector_id, transaction_ref, id_tag,"
        " started_at, meter_start_wh, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, connector_id);
    db_bind_text(st, 3, ref);
    db_bind_text(st, 4, id_tag);
    sqlite3_bind_int64(st, 5, started_at);
    bind_wh(st, 6, meter_start_wh);
    sqlite3_bind_int64(st, 7, started_at);
    int rc = db_step_done(db, st, "ocpp_tx_start");
    if (rc == DB_OK)
        *row = sqlite3_last_insert_rowid(db->h);
    return rc;
}

int db_ocpp_tx_of_pile(struct db *db, const char *equipment_id, int64_t row, int64_t *connector_id)
{
    static const char sql[] =
        "SELECT connector_id FROM ocpp_transactions WHERE id = ? AND equipment_id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, row);
    db_bind_text(st, 2, equipment_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && connector_id)
        *connector_id = sqlite3_column_int64(st, 0);
    rc = rc == SQLITE_ROW    ? DB_OK
         : rc == SQLITE_DONE ? DB_NOTFOUND
                             : db_rc_from(db, rc, "ocpp_tx_of_pile");
    sqlite3_reset(st);
    return rc;
}

int db_ocpp_tx_meter(struct db *db, int64_t row, double wh, int64_t at)
{
    static const char sql[] =
        "UPDATE ocpp_transactions SET meter_start_wh = coalesce(meter_start_wh, ?2),"
        " meter_stop_wh = ?2, energy_wh = ?2 - coalesce(meter_start_wh, ?2),"
        " updated_at = max(updated_at, ?3) WHERE id = ?1 AND stopped_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, row);
    bind_wh(st, 2, wh);
    sqlite3_bind_int64(st, 3, at);
    return db_step_done(db, st, "ocpp_tx_meter");
}

int db_ocpp_tx_id_tag(struct db *db, int64_t row, const char *id_tag, int64_t at)
{
    static const char sql[] = "UPDATE ocpp_transactions SET id_tag = ?2,"
                              " updated_at = max(updated_at, ?3) WHERE id = ?1 AND id_tag IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, row);
    db_bind_text(st, 2, id_tag);
    sqlite3_bind_int64(st, 3, at);
    return db_step_done(db, st, "ocpp_tx_id_tag");
}

int db_ocpp_tx_stop(struct db *db, const char *equipment_id, int64_t row, int64_t stopped_at,
                    double meter_stop_wh, const char *reason)
{
    static const char sql[] = "UPDATE ocpp_transactions SET stopped_at = ?3, stop_reason = ?5,"
                              " meter_stop_wh = coalesce(?4, meter_stop_wh),"
                              " energy_wh = coalesce(?4, meter_stop_wh) - meter_start_wh,"
                              " updated_at = max(updated_at, ?3)"
                              " WHERE id = ?1 AND equipment_id = ?2 AND stopped_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, row);
    db_bind_text(st, 2, equipment_id);
    sqlite3_bind_int64(st, 3, stopped_at);
    bind_wh(st, 4, meter_stop_wh);
    db_bind_text(st, 5, reason);
    int rc = db_step_done(db, st, "ocpp_tx_stop");
    if (rc == DB_OK && sqlite3_changes(db->h) == 0)
        rc = DB_NOTFOUND;
    return rc;
}

int db_ocpp_meter_add(struct db *db, const char *equipment_id, const struct db_ocpp_sample *s)
{
    static const char sql[] =
        "INSERT INTO ocpp_meter_values (equipment_id, connector_id, transaction_id, sampled_at,"
        " measurand, phase, unit, context, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text_static(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, s->connector_id);
    db_bind_id(st, 3, s->transaction_row);
    sqlite3_bind_int64(st, 4, s->sampled_at);
    db_bind_text_static(st, 5, s->measurand);
    db_bind_text_static(st, 6, s->phase);
    db_bind_text_static(st, 7, s->unit);
    db_bind_text_static(st, 8, s->context);
    sqlite3_bind_double(st, 9, s->value);
    return db_step_done(db, st, "ocpp_meter_add");
}

int db_ocpp_meter_prune(struct db *db, const char *equipment_id, int64_t keep)
{
    static const char sql[] =
        "DELETE FROM ocpp_meter_values WHERE equipment_id = ?1 AND id <="
        " (SELECT id FROM ocpp_meter_values WHERE equipment_id = ?1 ORDER BY id DESC"
        "  LIMIT 1 OFFSET ?2)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, keep);
    return db_step_done(db, st, "ocpp_meter_prune");
}

int db_ocpp_violation_add(struct db *db, const char *equipment_id, int64_t at, const char *code,
                          const char *path, const char *reason, const char *frame, int64_t keep)
{
    static const char ins[] =
        "INSERT INTO pile_violations (equipment_id, at, code, path, reason, frame)"
        " VALUES (?, ?, ?, ?, ?, ?)";
    static const char count[] =
        "INSERT INTO ocpp_piles (equipment_id, violations) VALUES (?1, 1)"
        " ON CONFLICT (equipment_id) DO UPDATE SET violations = violations + 1";
    static const char prune[] =
        "DELETE FROM pile_violations WHERE equipment_id = ?1 AND id <="
        " (SELECT id FROM pile_violations WHERE equipment_id = ?1 ORDER BY id DESC"
        "  LIMIT 1 OFFSET ?2)";
    sqlite3_stmt *st = db_stmt(db, ins);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, at);
    db_bind_text(st, 3, code);
    db_bind_text(st, 4, path && *path ? path : NULL);
    db_bind_text(st, 5, reason);
    db_bind_text(st, 6, frame);
    int rc = db_step_done(db, st, "ocpp_violation_add");
    if (rc != DB_OK)
        return rc;
    if (!(st = db_stmt(db, count)))
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    if ((rc = db_step_done(db, st, "ocpp_violation_count")) != DB_OK)
        return rc;
    if (!(st = db_stmt(db, prune)))
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, keep);
    return db_step_done(db, st, "ocpp_violation_prune");
}

static json_t *tx_from_row(sqlite3_stmt *st)
{
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "transaction_id",
                     (json_int_t)sqlite3_column_int64(st, 0), "connector_id",
                     (json_int_t)sqlite3_column_int64(st, 1), "transaction_ref",
                     db_col_json_str(st, 2), "id_tag", db_col_json_str(st, 3), "started_at",
                     db_col_json_int(st, 4), "stopped_at", db_col_json_int(st, 5), "meter_start_wh",
                     db_col_json_int(st, 6), "meter_stop_wh", db_col_json_int(st, 7), "energy_wh",
                     db_col_json_int(st, 8), "stop_reason", db_col_json_str(st, 9));
}

json_t *db_ocpp_connectors(struct db *db, const char *equipment_id, bool online)
{
    static const char sql[] =
        "SELECT connector_id, evse_connector_id, status, tcec_status, error_code, updated_at"
        " FROM ocpp_connectors WHERE equipment_id = ? ORDER BY connector_id, evse_connector_id";
    json_t *conns = json_array();
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return conns;
    db_bind_text(st, 1, equipment_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        /* T/CEC says 0 (offline) for every connector of a pile that is not connected */
        json_array_append_new(
            conns,
            json_pack("{s:I, s:I, s:o, s:I, s:o, s:o}", "connector_id",
                      (json_int_t)sqlite3_column_int64(st, 0), "evse_connector_id",
                      (json_int_t)sqlite3_column_int64(st, 1), "status", db_col_json_str(st, 2),
                      "tcec_status", (json_int_t)(online ? sqlite3_column_int64(st, 3) : 0),
                      "error_code", db_col_json_str(st, 4), "updated_at", db_col_json_int(st, 5)));
    sqlite3_reset(st);
    return conns;
}

json_t *db_ocpp_live(struct db *db, const char *equipment_id)
{
    static const char pile_sql[] =
        "SELECT EXISTS (SELECT 1 FROM pile_sessions WHERE equipment_id = ?1"
        " AND disconnected_at IS NULL), c.protocol, c.last_seen_at, p.vendor, p.model, p.serial,"
        " p.firmware, p.boot_reason, p.last_boot_at, coalesce(p.violations, 0)"
        " FROM (SELECT 1) LEFT JOIN ocpp_piles p ON p.equipment_id = ?1"
        " LEFT JOIN ocpp_contacts c ON c.equipment_id = ?1";
    static const char tx_sql[] =
        "SELECT id, connector_id, transaction_ref, id_tag, started_at, stopped_at, meter_start_wh,"
        " meter_stop_wh, energy_wh, stop_reason FROM ocpp_transactions WHERE equipment_id = ?"
        " ORDER BY started_at DESC, id DESC LIMIT 10";
    static const char viol_sql[] = "SELECT at, code, path, reason, frame FROM pile_violations"
                                   " WHERE equipment_id = ? ORDER BY id DESC LIMIT 10";
    sqlite3_stmt *st = db_stmt(db, pile_sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, equipment_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    int online = sqlite3_column_int(st, 0);
    json_t *v = json_pack("{s:b, s:o, s:o, s:I}", "online", online, "protocol",
                          db_col_json_str(st, 1), "last_seen_at", db_col_json_int(st, 2),
                          "violations", (json_int_t)sqlite3_column_int64(st, 9));
    json_object_set_new(v, "boot",
                        sqlite3_column_type(st, 8) == SQLITE_NULL
                            ? json_null()
                            : json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "vendor",
                                        db_col_json_str(st, 3), "model", db_col_json_str(st, 4),
                                        "serial", db_col_json_str(st, 5), "firmware",
                                        db_col_json_str(st, 6), "reason", db_col_json_str(st, 7),
                                        "at", db_col_json_int(st, 8)));
    sqlite3_reset(st);
    json_t *conns = db_ocpp_connectors(db, equipment_id, online), *txs = json_array(),
           *viols = json_array(), *open = NULL;
    if ((st = db_stmt(db, tx_sql))) {
        db_bind_text(st, 1, equipment_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *tx = tx_from_row(st);
            if (!open && sqlite3_column_type(st, 5) == SQLITE_NULL)
                open = json_incref(tx);
            json_array_append_new(txs, tx);
        }
        sqlite3_reset(st);
    }
    if ((st = db_stmt(db, viol_sql))) {
        db_bind_text(st, 1, equipment_id);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(
                viols, json_pack("{s:o, s:o, s:o, s:o, s:o}", "at", db_col_json_int(st, 0), "code",
                                 db_col_json_str(st, 1), "path", db_col_json_str(st, 2), "reason",
                                 db_col_json_str(st, 3), "frame", db_col_json_str(st, 4)));
        sqlite3_reset(st);
    }
    json_object_set_new(v, "connectors", conns);
    json_object_set_new(v, "open_transaction", open ? open : json_null());
    json_object_set_new(v, "transactions", txs);
    json_object_set_new(v, "recent_violations", viols);
    return v;
}
