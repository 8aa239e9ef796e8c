/* Private to db/: the connection struct and the prepared-statement cache. */
#ifndef EVGATE_DB_INTERNAL_H
#define EVGATE_DB_INTERNAL_H

#include "db/db.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#define DB_STMT_CACHE 128

struct db {
    sqlite3 *h;
    bool full;      /* met SQLITE_FULL since db_take_full() */
    int wal_frames; /* frames in the WAL after this connection's last commit (db_wal_manual) */
    struct {
        const char *sql; /* identity: the address of a static string */
        sqlite3_stmt *stmt;
    } cache[DB_STMT_CACHE];
};

/* Returns the prepared statement for the static string `sql`, reset and with bindings cleared,
 * or NULL (logged). The statement belongs to the cache: never finalize it. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* Maps an SQLite result code to enum db_rc (constraint -> DB_CONFLICT), logging real errors
 * with `what` naming the query. */
int db_rc_from(struct db *db, int rc, const char *what);

/* Steps a statement that returns no rows and resets it; the result as enum db_rc. */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what);

/* Steps a statement that reads one integer (column 0) of at most one row, into *out, and resets
 * it: DB_OK, DB_NOTFOUND when there is no row, or the error (logged with `what`). */
int db_step_int64(struct db *db, sqlite3_stmt *st, int64_t *out, const char *what);

/* After an UPDATE or DELETE guarded by a state (`rc` its db_step_done result): `rc` when that
 * failed, DB_OK when it changed a row, else DB_CONFLICT when `exists_sql` (a static "SELECT 1
 * FROM t WHERE id = ?") finds row `id` — it is in another state — and DB_NOTFOUND when not. */
int db_changed_or_why(struct db *db, int rc, const char *exists_sql, int64_t id);

/* Binds a row id, or NULL when `id` <= 0 (no row, or the system as actor). */
void db_bind_id(sqlite3_stmt *st, int idx, int64_t id);

/* Column `col` as a new JSON string, or JSON null for SQL NULL. */
json_t *db_col_json_str(sqlite3_stmt *st, int col);

/* Column `col` as a new JSON integer, or JSON null for SQL NULL (times, optional ids). */
json_t *db_col_json_int(sqlite3_stmt *st, int col);

/* Binds a text that may be NULL (SQLite copies it). */
void db_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Binds a text that may be NULL without a copy: s must stay as it is until the statement's
 * step is over (the gateway's hot statements, whose texts live in the writer's job). */
void db_bind_text_static(sqlite3_stmt *st, int idx, const char *s);

/* Duplicates column `col` as a heap string ("" for NULL); caller frees. */
char *db_col_strdup(sqlite3_stmt *st, int col);

/* Copies column `col` into buf (truncating, always NUL-terminated). */
void db_col_copy(sqlite3_stmt *st, int col, char *buf, size_t len);

/* One migration: its version (1, 2, ...) and SQL. Defined in migrations.c. */
struct db_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct db_migration db_migrations[];
extern const int db_migrations_count;

/* The accounts an operator platform of account `acct` (an SQL expression) reports for over
 * T/CEC: its own and those of approved `delegated` detections naming a detection of it
 * (docs/tcec.md "Ownership"). The body of a CTE `owners(account_id) AS (...)`, shared by the
 * gateway's ownership checks (tcec.c) and a conformance run's view of the platform (tcec_runs.c).
 */
#define DB_TCEC_OWNERS(acct)                                                                       \
    "SELECT " acct " UNION SELECT dd.account_id FROM detections dd JOIN detections d"              \
    " ON d.id = dd.delegate_detection_id WHERE d.account_id = " acct                               \
    " AND dd.mode = 'delegated' AND dd.status = 'approved'"

#endif
