/* Online backup, restore and checks of the database file (evgatectl backup, restore, check).
 * Built on SQLite's online backup API: never a file copy of a database someone writes. */
#ifndef EVGATE_DB_BACKUP_H
#define EVGATE_DB_BACKUP_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* The most problems a check reports; past it, one more line says there are more. */
#define DB_CHECK_MAX_PROBLEMS 100

/* Copies the database `db` is connected to into the file `dest`, as of one moment, while the
 * daemons keep writing: one read transaction (a WAL snapshot, which blocks no writer) is held
 * over the whole copy, so every commit before it is in the copy and none after it. Pages go
 * `pages_per_step` at a time through sqlite3_backup_step into `dest`.partial, which is then put
 * in rollback-journal mode (one self-contained file, no -wal beside it), checked with
 * integrity_check, synced and renamed over `dest` (so `dest` is either the old file or the
 * whole new one). The number of pages into *pages (may be NULL). DB_OK, or DB_ERROR / DB_FULL /
 * DB_BUSY with a message in `err`. */
int db_backup(struct db *db, const char *dest, int pages_per_step, int64_t *pages, char *err,
              size_t errlen);

/* PRAGMA integrity_check and PRAGMA foreign_key_check on `db`: each problem as one line of
 * text appended to `problems` (at most DB_CHECK_MAX_PROBLEMS, then "..."). DB_OK when both ran
 * (the problems say whether the file is sound), DB_ERROR when a check could not run. */
int db_check(struct db *db, json_t *problems);

/* Verifies the evgate database file `path` without changing it (opened read-only): it is an
 * SQLite file with a schema version in 1..db_latest_version() (into *version), the accounts
 * table, and no problem in db_check's two checks (appended to `problems`). DB_OK when it may be
 * restored, DB_CONFLICT when not (the reason in `err` and `problems`), DB_ERROR when it cannot
 * be read. */
int db_verify_file(const char *path, int *version, json_t *problems, char *err, size_t errlen);

/* Replaces the database file `dest` with the contents of the verified file `src` (through the
 * backup API, into `dest` itself, so its path, owner and mode stay). Refuses with DB_BUSY when
 * any other connection has `dest` open and has read it (a running daemon: each migrates, so
 * reads, at start; a WAL connection keeps its shared lock from its first read until it
 * closes): SQLite can leave WAL mode only with the file to itself, and the restore then keeps it
 * exclusively locked until done; daemons that start meanwhile wait or fail, none sees half a file.
 * `dest` is left in rollback mode; the next daemon to open it switches it back to WAL. DB_OK,
 * DB_BUSY, or DB_ERROR / DB_FULL with a message in `err`. */
int db_restore(const char *src, const char *dest, char *err, size_t errlen);

#endif
