/* WAL checkpoints under the owner's control; see db.h. */
#include "db/db.h"
#include "db/db_internal.h"
#include "common/log.h"

#include <stdlib.h>

/* Called by SQLite after each commit of the connection (it replaces the autocheckpoint). */
static int wal_hook(void *arg, sqlite3 *h, const char *schema, int frames)
{
    (void)h;
    (void)schema;
    struct db *db = arg;
    db->wal_frames = frames;
    return SQLITE_OK;
}

void db_wal_manual(struct db *db)
{
    sqlite3_wal_hook(db->h, wal_hook, db);
}

int db_wal_frames(const struct db *db)
{
    return db->wal_frames;
}

int db_checkpoint(struct db *db, int *wal_frames, int *copied)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    *wal_frames = log;
    *copied = done;
    if (rc == SQLITE_OK)
        return DB_OK;
    return (rc & 0xff) == SQLITE_BUSY ? DB_BUSY : db_rc_from(db, rc, "wal_checkpoint");
}

int db_sync_file(struct db *db)
{
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(db->h, "main", SQLITE_FCNTL_FILE_POINTER, &f);
    if (rc != SQLITE_OK || !f || !f->pMethods)
        return db_rc_from(db, rc != SQLITE_OK ? rc : SQLITE_MISUSE, "sync_file");
    rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
    return rc == SQLITE_OK ? DB_OK : db_rc_from(db, rc, "sync_file");
}

/* The WAL's header and each frame's (sqlite.org/fileformat.html, "WAL File Format"). */
#define WAL_HEADER_BYTES       32
#define WAL_FRAME_HEADER_BYTES 24
/* SQLite's unix VFS writes at most 128 KiB - 1 in one call (seekAndWriteFd) */
#define WAL_ZEROS_CHUNK (64 << 10)

int db_wal_reserve(struct db *db, int frames, int *have)
{
    *have = 0;
    sqlite3_stmt *st = db_stmt(db, "PRAGMA page_size");
    if (!st)
        return DB_ERROR;
    int64_t page = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
    sqlite3_int64 size = 0;
    if (page <= 0 || rc != SQLITE_OK || !f || !f->pMethods ||
        (rc = f->pMethods->xFileSize(f, &size)) != SQLITE_OK) {
        log_warn("db", "wal_reserve_failed", "error=%s",
                 log_q(rc != SQLITE_OK ? sqlite3_errstr(rc) : "no WAL file open"));
        return DB_ERROR;
    }
    int64_t frame = page + WAL_FRAME_HEADER_BYTES;
    int64_t want = WAL_HEADER_BYTES + (int64_t)frames * frame;
    char *zeros = size < want ? calloc(1, WAL_ZEROS_CHUNK) : NULL;
    if (size < want && !zeros) {
        log_warn("db", "wal_reserve_failed", "error=%s", log_q("out of memory"));
        return DB_ERROR;
    }
    while (size < want) {
        int n = want - size < WAL_ZEROS_CHUNK ? (int)(want - size) : WAL_ZEROS_CHUNK;
        if ((rc = f->pMethods->xWrite(f, zeros, n, size)) != SQLITE_OK) {
            log_warn("db", "wal_reserve_failed", "error=%s", log_q(sqlite3_errstr(rc)));
            break;
        }
        size += n;
    }
    free(zeros);
    *have = size > WAL_HEADER_BYTES ? (int)((size - WAL_HEADER_BYTES) / frame) : 0;
    return rc == SQLITE_OK ? DB_OK : DB_ERROR;
}
