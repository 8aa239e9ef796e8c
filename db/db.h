/* evgate database: one SQLite file in WAL mode shared by both daemons.
 *
 * A `struct db` is one connection; use it from one thread at a time. Every query lives in db/
 * behind a named function with bound parameters; callers never see SQL. */
#ifndef EVGATE_DB_H
#define EVGATE_DB_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

enum db_rc {
    DB_OK = 0,
    DB_ERROR = -1,    /* SQLite failed; see the log */
    DB_NOTFOUND = -2, /* no such row */
    DB_CONFLICT = -3, /* a unique key or a state precondition did not hold */
    DB_BUSY = -4,     /* locked past the busy timeout */
    DB_FULL = -5,     /* the disk is full: nothing of the statement or transaction was written */
};

struct db;

/* Opens (creating if needed) the database at `path` in WAL mode with foreign keys on,
 * `busy_ms` busy timeout and `synchronous` ("NORMAL" or "FULL"). Creates the file's directory.
 * On failure returns NULL with a message in `err`. Caller closes with db_close(). */
struct db *db_open(const char *path, int busy_ms, const char *synchronous, char *err,
                   size_t errlen);
void db_close(struct db *db);

/* Whether this connection met a full disk (DB_FULL) since the last call, clearing the mark: a
 * daemon turns whatever error its handler reported then into "storage full" for the client. */
bool db_take_full(struct db *db);

/* Sizes a connection's page cache (`cache_kib` KiB) and its memory map of the database file
 * (`mmap_bytes`, 0 = none): a daemon's read-mostly connections over a large database read
 * pages through the shared map instead of copying them with pread. DB_OK or DB_ERROR. */
int db_tune(struct db *db, int64_t cache_kib, int64_t mmap_bytes);

/* WAL checkpoints taken out of this connection's commits (db/wal.c). With db_wal_manual(), a
 * commit no longer copies the WAL into the database when the WAL has grown past SQLite's 1 000
 * pages (that copy and its two fsyncs ran inside the COMMIT of whichever batch crossed the
 * line); db_wal_frames() tells the WAL's length after this connection's last commit, and the
 * owner checkpoints with db_checkpoint(), on this or another connection. */
void db_wal_manual(struct db *db);
int db_wal_frames(const struct db *db);

/* A PASSIVE checkpoint: copies into the database as much of the WAL as no reader still needs,
 * without waiting for any lock, and syncs as `synchronous` says. *wal_frames gets the WAL's
 * length and *copied the frames now in the database; when they are equal the next write
 * transaction starts the WAL over from its beginning. DB_OK, DB_BUSY when another checkpoint
 * is running, or DB_ERROR (logged). */
int db_checkpoint(struct db *db, int *wal_frames, int *copied);

/* Makes the WAL file at least `frames` frames long, writing zeros past its end (never over a
 * frame: the caller holds the write lock, inside db_begin() on this connection). Commits that
 * append within it then only overwrite blocks: on ext4 a write that extends a file waits for any
 * fdatasync of that file under way, and the checkpoint's sync of the WAL takes 100 ms and more
 * under load (issue 8). Zeros are no valid frame, so recovery stops at them as at any stale
 * frame. *have gets the file's length in whole frames afterwards (also when it was long
 * enough). DB_OK, or DB_ERROR (logged: a full disk, say) after which part of the zeros may be
 * written, which is harmless. */
int db_wal_reserve(struct db *db, int frames, int *have);

/* Syncs the database file to disk as SQLite does (fdatasync). A checkpoint that stops short of
 * the WAL's end leaves its copied pages unsynced for the one that reaches it; syncing them on
 * the way spares that one the wait. DB_OK or DB_ERROR (logged). */
int db_sync_file(struct db *db);

/* Applies the numbered migrations above the current schema version up to `target`
 * (-1 = latest), each in one exclusive transaction, so that two processes starting together
 * never apply one twice. Returns DB_OK or an error with a message in `err`. */
int db_migrate(struct db *db, int target, char *err, size_t errlen);

/* The schema version stored in the file (0 = empty), and the newest this build knows. */
int db_schema_version(struct db *db);
int db_latest_version(void);

/* Short immediate transactions for multi-statement writes. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Runs PRAGMA integrity_check; returns DB_OK when it answers "ok". */
int db_integrity_check(struct db *db);

/* Current time in seconds since the epoch (one clock for every row). */
int64_t db_now(void);

#endif
