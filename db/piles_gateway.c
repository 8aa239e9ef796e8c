/* The piles as the OCPP gateway sees them: the list its handshakes check, its sessions, and
 * the per-pile OCPP settings it answers with (OCPP endpoint, issue 5). */
#include "db/piles_gateway.h"
#include "db/db_internal.h"

int db_gateway_piles(struct db *db, db_gateway_pile_fn fn, void *arg)
{
    static const char sql[] = "SELECT equipment_id, status, protocol, password_salt,"
                              " password_hash, boot_status, security_profile FROM piles"
                              " ORDER BY equipment_id";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_gateway_pile p = {
            .equipment_id = (const char *)sqlite3_column_text(st, 0),
            .status = (const char *)sqlite3_column_text(st, 1),
            .protocol = (const char *)sqlite3_column_text(st, 2),
            .password_salt = (const char *)sqlite3_column_text(st, 3),
            .password_hash = (const char *)sqlite3_column_text(st, 4),
            .boot_status = (const char *)sqlite3_column_text(st, 5),
            .security_profile = sqlite3_column_int(st, 6),
        };
        if (!p.equipment_id || !p.status || !p.protocol || !p.boot_status)
            continue; /* NOT NULL columns: never */
        int stop = fn(arg, &p);
        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DB_OK : db_rc_from(db, rc, "gateway_piles");
}

int db_gateway_piles_state(struct db *db, struct db_gateway_piles_state *out)
{
    static const char sql[] = "SELECT generation, (SELECT coalesce(max(id), 0) FROM piles)"
                              " FROM pile_table_generation WHERE id = 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->generation = sqlite3_column_int64(st, 0);
        out->max_id = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    return rc == SQLITE_ROW ? DB_OK : db_rc_from(db, rc, "gateway_piles_state");
}

int db_pile_session_open(struct db *db, const char *equipment_id, const char *protocol,
                         const char *peer, int64_t at, int64_t *row)
{
    static const char sql[] = "INSERT INTO pile_sessions (equipment_id, protocol, peer,"
                              " connected_at) VALUES (?, ?, ?, ?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    db_bind_text(st, 2, protocol);
    db_bind_text(st, 3, peer);
    sqlite3_bind_int64(st, 4, at);
    int rc = db_step_done(db, st, "pile_session_open");
    if (rc != DB_OK)
        return rc;
    if (row)
        *row = sqlite3_last_insert_rowid(db->h);
    static const char prune[] =
        "DELETE FROM pile_sessions WHERE equipment_id = ?1 AND disconnected_at IS NOT NULL"
        " AND id < (SELECT min(id) FROM (SELECT id FROM pile_sessions WHERE equipment_id = ?1"
        " AND disconnected_at IS NOT NULL ORDER BY id DESC LIMIT ?2))";
    if (!(st = db_stmt(db, prune)))
        return DB_ERROR;
    db_bind_text(st, 1, equipment_id);
    sqlite3_bind_int64(st, 2, DB_PILE_SESSIONS_KEEP);
    return db_step_done(db, st, "pile_sessions_prune");
}

int db_pile_session_close(struct db *db, int64_t row, const char *equipment_id, int64_t at,
                          const char *reason)
{
    static const char sql[] = "UPDATE pile_sessions SET disconnected_at = ?, close_reason = ?"
                              " WHERE id = ? AND equipment_id = ? AND disconnected_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, at);
    db_bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, row);
    db_bind_text(st, 4, equipment_id);
    int rc = db_step_done(db, st, "pile_session_close");
    if (rc == DB_OK && sqlite3_changes(db->h) == 0)
        rc = DB_NOTFOUND;
    return rc;
}

int db_pile_sessions_close_open(struct db *db, int64_t at, const char *reason, int64_t *closed)
{
    static const char sql[] = "UPDATE pile_sessions SET disconnected_at = ?, close_reason = ?"
                              " WHERE disconnected_at IS NULL";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    sqlite3_bind_int64(st, 1, at);
    db_bind_text(st, 2, reason);
    int rc = db_step_done(db, st, "pile_sessions_close_open");
    if (closed)
        *closed = rc == DB_OK ? sqlite3_changes(db->h) : 0;
    return rc;
}

int db_pile_set_ocpp_settings(struct db *db, int64_t row, const char *boot_status,
                              int security_profile)
{
    static const char sql[] = "UPDATE piles SET boot_status = coalesce(?, boot_status),"
                              " security_profile = coalesce(?, security_profile), updated_at = ?"
                              " WHERE id = ?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return DB_ERROR;
    db_bind_text(st, 1, boot_status);
    if (security_profile > 0)
        sqlite3_bind_int(st, 2, security_profile);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, db_now());
    sqlite3_bind_int64(st, 4, row);
    int rc = db_step_done(db, st, "pile_set_ocpp_settings");
    if (rc == DB_OK && sqlite3_changes(db->h) == 0)
        return DB_NOTFOUND;
    return rc;
}
