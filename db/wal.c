/* WAL checkpoints under the owner's control; see db.h. */
#include "db/db.h"
#include "db/db_internal.h"

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
