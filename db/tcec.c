/* T/CEC 102 interconnection state: tokens, replay guard, exchanges, ownership, and what
 * platforms report. See tcec.h. */
#include "db/tcec.h"
#include "protocol/tcec.h"
#include "db/db_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- platforms ------------------------------------------------------------------------------ */

int db_tcec_platform(struct db *db, const char *operator_id, struct db_tcec_platform *out)
{
    static const char sql[] =
        "SELECT c.id, c.detection_id, d.account_id, c.operator_id, c.operator_secret,"
        " c.data_secret, c.data_secret_iv, c.sig_secret,"
        " coalesce(json_extract(d.data, '$.platform.source_ips'), '[]')"
        " FROM tcec_credentials c JOIN detections d ON d.id = c.detection_id"
        " WHERE c.operator_id = ? AND c.revoked_at IS NULL";
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, "tcec_platform");
    }
    out->credentials_id = sqlite3_column_int64(st, 0);
    out->detection_id = sqlite3_column_int64(st, 1);
    out->account_id = sqlite3_column_int64(st, 2);
    db_col_copy(st, 3, out->operator_id, sizeof out->operator_id);
    db_col_copy(st, 4, out->operator_secret, sizeof out->operator_secret);
    db_col_copy(st, 5, out->data_secret, sizeof out->data_secret);
    db_col_copy(st, 6, out->data_secret_iv, sizeof out->data_secret_iv);
    db_col_copy(st, 7, out->sig_secret, sizeof out->sig_secret);
    const char *ips = (const char *)sqlite3_column_text(st, 8);
    out->source_ips = ips ? json_loads(ips, 0, NULL) : NULL;
    sqlite3_reset(st);
    if (!json_is_array(out->source_ips)) { /* a draft's odd value: treat as an empty list */
        json_decref(out->source_ips);
        out->source_ips = json_array();
    }
    return out->source_ips ? DB_OK : DB_ERROR;
}

/* ---- tokens --------------------------------------------------------------------------------- */

int db_tcec_token_add(struct db *db, const char *operator_id, int64_t credentials_id,
                      const char *token_hash, int64_t issued_at, int64_t expires_at)
{
    static const char expired[] = "DELETE FROM tcec_tokens WHERE expires_at <= ?";
    static const char ins[] =
        "INSERT INTO tcec_tokens (operator_id, credentials_id, token_hash, issued_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)";
    static const char over[] =
        "DELETE FROM tcec_tokens WHERE operator_id = ?1 AND id <="
        " (SELECT id FROM tcec_tokens WHERE operator_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";
    sqlite3_stmt *st = db_stmt(db, expired);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, issued_at);
    int rc = db_step_done(db, st, "tcec_token_expire");
    if (rc != DB_OK)
        return rc;
    if (!(st = db_stmt(db, ins)))
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    sqlite3_bind_int64(st, 2, credentials_id);
    db_bind_text(st, 3, token_hash);
    sqlite3_bind_int64(st, 4, issued_at);
    sqlite3_bind_int64(st, 5, expires_at);
    if ((rc = db_step_done(db, st, "tcec_token_add")) != DB_OK)
        return rc;
    if (!(st = db_stmt(db, over)))
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    sqlite3_bind_int64(st, 2, DB_TCEC_TOKENS_KEEP);
    return db_step_done(db, st, "tcec_token_prune");
}

int db_tcec_token_check(struct db *db, const char *operator_id, const char *token_hash, int64_t now,
                        const char **why)
{
    static const char sql[] = "SELECT t.expires_at, c.revoked_at IS NULL FROM tcec_tokens t"
                              " JOIN tcec_credentials c ON c.id = t.credentials_id"
                              " WHERE t.token_hash = ? AND t.operator_id = ?";
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "unknown";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, token_hash);
    db_bind_text(st, 2, operator_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, "tcec_token_check");
    }
    int64_t expires = sqlite3_column_int64(st, 0);
    int live = sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (!live) {
        *why = "revoked";
        return DB_NOTFOUND;
    }
    if (expires <= now) {
        *why = "expired";
        return DB_NOTFOUND;
    }
    *why = NULL;
    return DB_OK;
}

/* ---- replay guard --------------------------------------------------------------------------- */

int db_tcec_replay_add(struct db *db, const char *operator_id, const char *timestamp,
                       const char *seq, int64_t ts_epoch, int64_t forget_before)
{
    static const char forget[] = "DELETE FROM tcec_replay WHERE ts_epoch < ?";
    static const char ins[] = "INSERT INTO tcec_replay (operator_id, timestamp, seq, ts_epoch)"
                              " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
    sqlite3_stmt *st = db_stmt(db, forget);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, forget_before);
    int rc = db_step_done(db, st, "tcec_replay_forget");
    if (rc != DB_OK)
        return rc;
    if (!(st = db_stmt(db, ins)))
        return DB_ERROR;
    db_bind_text(st, 1, operator_id);
    db_bind_text(st, 2, timestamp);
    db_bind_text(st, 3, seq);
    sqlite3_bind_int64(st, 4, ts_epoch);
    if ((rc = db_step_done(db, st, "tcec_replay_add")) != DB_OK)
        return rc;
    return sqlite3_changes(db->h) == 1 ? DB_OK : DB_CONFLICT;
}

/* ---- exchanges ------------------------------------------------------------------------------ */

/* The stored form of a payload: redacted, compact, cut on a UTF-8 boundary. NULL for NULL;
 * caller frees. *oom set on allocation failure. */
static char *stored_payload(const char *text, int *oom)
{
    if (!text)
        return NULL;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    char *out = NULL;
    if (v) {
        tcec_redact(v);
        out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        json_decref(v);
    } else {
        out = strdup("(not JSON)");
    }
    if (!out) {
        *oom = 1;
        return NULL;
    }
    size_t len = strlen(out);
    if (len > DB_TCEC_PAYLOAD_MAX) {
        len = DB_TCEC_PAYLOAD_MAX;
        while (len > 0 && ((unsigned char)out[len] & 0xC0) == 0x80)
            len--;
        out[len] = 0;
    }
    return out;
}

int db_tcec_exchange_add(struct db *db, const struct db_tcec_exchange *x)
{
    static const char ins[] =
        "INSERT INTO tcec_exchanges (operator_id, direction, interface, peer, at, ret, msg,"
        " reason, request, response, duration_ms, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    static const char prune[] =
        "DELETE FROM tcec_exchanges WHERE operator_id = ?1 AND id <="
        " (SELECT id FROM tcec_exchanges WHERE operator_id = ?1 ORDER BY id DESC"
        "  LIMIT 1 OFFSET ?2)";
    if (!x || !x->operator_id || !x->direction || !x->interface ||
        (strcmp(x->direction, "in") != 0 && strcmp(x->direction, "out") != 0))
        return DB_ERROR;
    int oom = 0, rc = DB_ERROR;
    char *req = stored_payload(x->request, &oom), *resp = stored_payload(x->response, &oom);
    if (oom)
        goto out;
    sqlite3_stmt *st = db_stmt(db, ins);
    if (!st)
        goto out;
    db_bind_text(st, 1, x->operator_id);
    db_bind_text(st, 2, x->direction);
    db_bind_text(st, 3, x->interface);
    db_bind_text(st, 4, x->peer);
    sqlite3_bind_int64(st, 5, x->at);
    if (x->has_ret)
        sqlite3_bind_int(st, 6, x->ret);
    db_bind_text(st, 7, x->msg);
    db_bind_text(st, 8, x->reason);
    db_bind_text(st, 9, req);
    db_bind_text(st, 10, resp);
    sqlite3_bind_int64(st, 11, x->duration_ms);
    if (x->sent_at > 0)
        sqlite3_bind_int64(st, 12, x->sent_at);
    if ((rc = db_step_done(db, st, "tcec_exchange_add")) != DB_OK)
        goto out;
    if (!(st = db_stmt(db, prune))) {
        rc = DB_ERROR;
        goto out;
    }
    db_bind_text(st, 1, x->operator_id);
    sqlite3_bind_int64(st, 2, DB_TCEC_EXCHANGES_KEEP);
    rc = db_step_done(db, st, "tcec_exchange_prune");
out:
    free(req);
    free(resp);
    return rc;
}

json_t *db_tcec_exchange_list(struct db *db, const char *operator_id, int64_t limit)
{
    static const char sql[] =
        "SELECT id, operator_id, direction, interface, peer, at, ret, msg, reason, request,"
        " response, duration_ms FROM tcec_exchanges WHERE ?1 IS NULL OR operator_id = ?1"
        " ORDER BY id DESC LIMIT ?2";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, operator_id);
    sqlite3_bind_int64(st, 2, limit);
    json_t *arr = json_array();
    int rc;
    while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *it = json_object();
        json_object_set_new(it, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(it, "operator_id", db_col_json_str(st, 1));
        json_object_set_new(it, "direction", db_col_json_str(st, 2));
        json_object_set_new(it, "interface", db_col_json_str(st, 3));
        json_object_set_new(it, "peer", db_col_json_str(st, 4));
        json_object_set_new(it, "at", json_integer(sqlite3_column_int64(st, 5)));
        json_object_set_new(it, "ret", db_col_json_int(st, 6));
        json_object_set_new(it, "msg", db_col_json_str(st, 7));
        json_object_set_new(it, "reason", db_col_json_str(st, 8));
        json_object_set_new(it, "request", db_col_json_str(st, 9));
        json_object_set_new(it, "response", db_col_json_str(st, 10));
        json_object_set_new(it, "duration_ms", json_integer(sqlite3_column_int64(st, 11)));
        json_array_append_new(arr, it);
    }
    if (arr && rc != SQLITE_DONE) {
        db_rc_from(db, rc, "tcec_exchange_list");
        json_decref(arr);
        arr = NULL;
    }
    sqlite3_reset(st);
    return arr;
}

/* ---- ownership ------------------------------------------------------------------------------ */

/* The accounts a platform of account ?1 reports for. */
#define OWNERS_CTE "WITH owners(account_id) AS (" DB_TCEC_OWNERS("?1") ") "

/* Steps `st` for one row; DB_NOTFOUND when there is none. The caller reads and resets. */
static int one_row(struct db *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return DB_OK;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_NOTFOUND : db_rc_from(db, rc, what);
}

int db_tcec_station_owned(struct db *db, int64_t reporter_account_id, const char *station_id,
                          int64_t *account_id, int64_t *station_row)
{
    static const char sql[] = OWNERS_CTE
        "SELECT s.account_id, s.id FROM stations s JOIN owners o ON o.account_id = s.account_id"
        " WHERE s.station_id = ?2 AND s.status = 'accessed' ORDER BY s.id LIMIT 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, reporter_account_id);
    db_bind_text(st, 2, station_id);
    int rc = one_row(db, st, "tcec_station_owned");
    if (rc != DB_OK)
        return rc;
    *account_id = sqlite3_column_int64(st, 0);
    *station_row = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return DB_OK;
}

int db_tcec_pile_owned(struct db *db, int64_t reporter_account_id, const char *equipment_id,
                       int64_t *account_id, int64_t *station_row)
{
    static const char sql[] = OWNERS_CTE "SELECT p.account_id, p.station_row FROM piles p"
                                         " JOIN owners o ON o.account_id = p.account_id"
                                         " WHERE p.equipment_id = ?2 AND p.status = 'accessed'";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, reporter_account_id);
    db_bind_text(st, 2, equipment_id);
    int rc = one_row(db, st, "tcec_pile_owned");
    if (rc != DB_OK)
        return rc;
    *account_id = sqlite3_column_int64(st, 0);
    *station_row = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return DB_OK;
}

int db_tcec_connector_owned(struct db *db, int64_t reporter_account_id, const char *connector_id,
                            int64_t *account_id, char equipment_id[32], int64_t *station_row)
{
    static const char sql[] =
        OWNERS_CTE "SELECT p.account_id, p.equipment_id, p.station_row FROM connectors c"
                   " JOIN piles p ON p.id = c.pile_row JOIN owners o ON o.account_id = p.account_id"
                   " WHERE c.connector_id = ?2 AND p.status = 'accessed'";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, reporter_account_id);
    db_bind_text(st, 2, connector_id);
    int rc = one_row(db, st, "tcec_connector_owned");
    if (rc != DB_OK)
        return rc;
    *account_id = sqlite3_column_int64(st, 0);
    db_col_copy(st, 1, equipment_id, 32);
    *station_row = sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    return DB_OK;
}

/* ---- reports -------------------------------------------------------------------------------- */

static void bind_opt_int(sqlite3_stmt *st, int idx, int v)
{
    if (v >= 0)
        sqlite3_bind_int(st, idx, v);
}

int db_tcec_connector_status_set(struct db *db, const struct db_tcec_connector_status *s)
{
    static const char latest[] =
        "INSERT INTO tcec_connector_status (connector_id, account_id, operator_id, status,"
        " park_status, lock_status, reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT (connector_id) DO UPDATE SET account_id = ?2, operator_id = ?3,"
        " status = ?4, park_status = ?5, lock_status = ?6, reported_at = ?7";
    static const char hist[] =
        "INSERT INTO tcec_connector_status_history (connector_id, account_id, operator_id,"
        " status, park_status, lock_status, reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    static const char prune[] =
        "DELETE FROM tcec_connector_status_history WHERE connector_id = ?1 AND id <="
        " (SELECT id FROM tcec_connector_status_history WHERE connector_id = ?1"
        "  ORDER BY id DESC LIMIT 1 OFFSET ?2)";
    const char *const sqls[2] = {latest, hist};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return DB_ERROR;
        db_bind_text(st, 1, s->connector_id);
        sqlite3_bind_int64(st, 2, s->account_id);
        db_bind_text(st, 3, s->operator_id);
        sqlite3_bind_int(st, 4, s->status);
        bind_opt_int(st, 5, s->park_status);
        bind_opt_int(st, 6, s->lock_status);
        sqlite3_bind_int64(st, 7, s->at);
        int rc = db_step_done(db, st, i ? "tcec_status_history" : "tcec_status_latest");
        if (rc != DB_OK)
            return rc;
    }
    sqlite3_stmt *st = db_stmt(db, prune);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, s->connector_id);
    sqlite3_bind_int64(st, 2, DB_TCEC_STATUS_HISTORY_KEEP);
    return db_step_done(db, st, "tcec_status_prune");
}

int db_tcec_station_info_set(struct db *db, int64_t account_id, const char *station_id,
                             const char *operator_id, const char *data, int64_t at)
{
    static const char sql[] =
        "INSERT INTO tcec_station_info (account_id, station_id, operator_id, data, reported_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (account_id, station_id) DO UPDATE SET"
        " operator_id = ?3, data = ?4, reported_at = ?5";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, account_id);
    db_bind_text(st, 2, station_id);
    db_bind_text(st, 3, operator_id);
    db_bind_text(st, 4, data);
    sqlite3_bind_int64(st, 5, at);
    return db_step_done(db, st, "tcec_station_info_set");
}

int db_tcec_charge_order_add(struct db *db, const struct db_tcec_charge_order *o, int *repeat)
{
    static const char ins[] =
        "INSERT INTO tcec_charge_orders (operator_id, start_charge_seq, account_id,"
        " connector_id, start_time, end_time, total_power, total_elec_money,"
        " total_service_money, total_money, stop_reason, data, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    static const char same[] = "SELECT data = ? FROM tcec_charge_orders"
                               " WHERE operator_id = ? AND start_charge_seq = ?";
    *repeat = 0;
    sqlite3_stmt *st = db_stmt(db, ins);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, o->operator_id);
    db_bind_text(st, 2, o->start_charge_seq);
    sqlite3_bind_int64(st, 3, o->account_id);
    db_bind_text(st, 4, o->connector_id);
    db_bind_text(st, 5, o->start_time);
    db_bind_text(st, 6, o->end_time);
    sqlite3_bind_double(st, 7, o->total_power);
    sqlite3_bind_double(st, 8, o->total_elec_money);
    sqlite3_bind_double(st, 9, o->total_service_money);
    sqlite3_bind_double(st, 10, o->total_money);
    sqlite3_bind_int(st, 11, o->stop_reason);
    db_bind_text(st, 12, o->data);
    sqlite3_bind_int64(st, 13, o->at);
    int rc = db_step_done(db, st, "tcec_charge_order_add");
    if (rc != DB_OK)
        return rc;
    if (sqlite3_changes(db->h) == 1)
        return DB_OK;
    if (!(st = db_stmt(db, same)))
        return DB_ERROR;
    db_bind_text(st, 1, o->data);
    db_bind_text(st, 2, o->operator_id);
    db_bind_text(st, 3, o->start_charge_seq);
    if ((rc = one_row(db, st, "tcec_charge_order_same")) != DB_OK)
        return rc == DB_NOTFOUND ? DB_ERROR : rc;
    int equal = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (!equal)
        return DB_CONFLICT;
    *repeat = 1;
    return DB_OK;
}
