/* Online backup, restore and integrity checks (db/backup.h). */
#include "db/backup.h"
#include "db/db_internal.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends `line`, or the one line saying there are more once the cap is reached. */
static void add_problem(json_t *problems, const char *line)
{
    size_t n = json_array_size(problems);
    if (n > DB_CHECK_MAX_PROBLEMS)
        return;
    json_array_append_new(
        problems, json_string(n == DB_CHECK_MAX_PROBLEMS ? "... (more problems not shown)" : line));
}

static int check_handle(sqlite3 *h, json_t *problems)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return DB_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t && strcmp(t, "ok") != 0) {
            char line[512];
            snprintf(line, sizeof line, "integrity_check: %s", t);
            add_problem(problems, line);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        char line[512];
        snprintf(line, sizeof line, "integrity_check: %s", sqlite3_errstr(rc));
        add_problem(problems, line);
        return DB_OK; /* a file too damaged to check is a problem of the file */
    }
    if (sqlite3_prepare_v2(h, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return DB_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char line[512];
        snprintf(line, sizeof line, "foreign_key_check: %s row %lld names a missing row of %s",
                 (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
                 (const char *)sqlite3_column_text(st, 2));
        add_problem(problems, line);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        char line[512];
        snprintf(line, sizeof line, "foreign_key_check: %s", sqlite3_errstr(rc));
        add_problem(problems, line);
    }
    return DB_OK;
}

int db_check(struct db *db, json_t *problems)
{
    return check_handle(db->h, problems);
}

static int exec_err(sqlite3 *h, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
        return DB_OK;
    case SQLITE_FULL:
        return DB_FULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DB_BUSY;
    default:
        return DB_ERROR;
    }
}

/* fsync of a file's directory, so that a rename survives a power loss. */
static void sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int db_backup(struct db *db, const char *dest, int pages_per_step, int64_t *pages, char *err,
              size_t errlen)
{
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", dest) >= (int)sizeof partial) {
        snprintf(err, errlen, "backup path too long");
        return DB_ERROR;
    }
    if (pages_per_step < 1)
        pages_per_step = 1;
    unlink(partial); /* a backup that died earlier */
    sqlite3 *out = NULL;
    sqlite3_backup *bk = NULL;
    int in_txn = 0, rc;
    int ret = DB_ERROR;
    /* The snapshot: a read transaction on our connection, held until the copy is done, so that
     * sqlite3_backup_step reads one state of the file and never restarts on others' commits. */
    if ((rc = exec_err(db->h, "BEGIN", err, errlen)) != SQLITE_OK)
        goto out;
    in_txn = 1;
    if ((rc = exec_err(db->h, "SELECT count(*) FROM sqlite_schema", err, errlen)) != SQLITE_OK)
        goto out;
    rc = sqlite3_open_v2(partial, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", partial,
                 out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
        goto out;
    }
    if (!(bk = sqlite3_backup_init(out, "main", db->h, "main"))) {
        rc = sqlite3_errcode(out);
        snprintf(err, errlen, "backup: %s", sqlite3_errmsg(out));
        goto out;
    }
    do {
        rc = sqlite3_backup_step(bk, pages_per_step);
    } while (rc == SQLITE_OK);
    if (pages)
        *pages = sqlite3_backup_pagecount(bk);
    sqlite3_backup_finish(bk);
    bk = NULL;
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "backup into %s: %s", partial, sqlite3_errstr(rc));
        goto out;
    }
    rc = SQLITE_OK;
    exec_err(db->h, "COMMIT", err, errlen);
    in_txn = 0;
    /* The copied header says WAL; a backup file is better alone, without -wal and -shm. */
    if ((rc = exec_err(out, "PRAGMA journal_mode=DELETE", err, errlen)) != SQLITE_OK)
        goto out;
    json_t *problems = json_array();
    if (!problems || check_handle(out, problems) != DB_OK || json_array_size(problems) > 0) {
        snprintf(err, errlen, "the copy %s does not pass its check: %s", partial,
                 problems && json_array_size(problems)
                     ? json_string_value(json_array_get(problems, 0))
                     : "check failed to run");
        json_decref(problems);
        rc = SQLITE_CORRUPT;
        goto out;
    }
    json_decref(problems);
    sqlite3_close(out);
    out = NULL;
    if (sync_file(partial) < 0 || rename(partial, dest) < 0) {
        snprintf(err, errlen, "cannot move %s to %s: %s", partial, dest, strerror(errno));
        rc = SQLITE_IOERR;
        goto out;
    }
    sync_dir_of(dest);
    ret = DB_OK;
out:
    if (bk)
        sqlite3_backup_finish(bk);
    if (in_txn)
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    if (out)
        sqlite3_close(out);
    if (ret != DB_OK) {
        unlink(partial);
        ret = map_rc(rc) == DB_OK ? DB_ERROR : map_rc(rc);
    }
    return ret;
}

int db_verify_file(const char *path, int *version, json_t *problems, char *err, size_t errlen)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int ret = DB_ERROR;
    *version = 0;
    if (access(path, R_OK) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return DB_ERROR;
    }
    int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        goto out;
    }
    rc = sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s is not an SQLite database: %s", path, sqlite3_errmsg(h));
        ret = DB_CONFLICT;
        goto out;
    }
    *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (*version < 1 || *version > db_latest_version()) {
        snprintf(err, errlen,
                 "%s has schema version %d; this build knows evgate databases of versions 1 to %d",
                 path, *version, db_latest_version());
        ret = DB_CONFLICT;
        goto out;
    }
    rc = sqlite3_prepare_v2(h,
                            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = "
                            "'accounts'",
                            -1, &st, NULL);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s is not an evgate database (no accounts table)", path);
        ret = DB_CONFLICT;
        goto out;
    }
    if (check_handle(h, problems) != DB_OK) {
        snprintf(err, errlen, "cannot check %s: %s", path, sqlite3_errmsg(h));
        goto out;
    }
    if (json_array_size(problems) > 0) {
        snprintf(err, errlen, "%s does not pass integrity_check and foreign_key_check", path);
        ret = DB_CONFLICT;
        goto out;
    }
    ret = DB_OK;
out:
    sqlite3_finalize(st);
    sqlite3_close(h);
    return ret;
}

int db_restore(const char *src, const char *dest, char *err, size_t errlen)
{
    sqlite3 *in = NULL, *out = NULL;
    sqlite3_backup *bk = NULL;
    int ret = DB_ERROR, rc;
    if (sqlite3_open_v2(src, &in, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", src, in ? sqlite3_errmsg(in) : "no memory");
        goto out;
    }
    if (fs_mkdir_parent(dest, 0750) < 0) {
        snprintf(err, errlen, "cannot create the directory of %s: %s", dest, strerror(errno));
        goto out;
    }
    rc = sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", dest,
                 out ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
        goto out;
    }
    /* Leaving WAL needs the file to ourselves: with a daemon's connection open this answers
     * "wal" (or BUSY) instead of "delete". No busy wait: a daemon holds it for good. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(out, "PRAGMA journal_mode=DELETE", -1, &st, NULL);
    const char *mode = NULL;
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    int alone = mode && strcmp(mode, "delete") == 0;
    if (!alone && rc != SQLITE_ROW && map_rc(rc) != DB_BUSY)
        snprintf(err, errlen, "cannot open %s: %s", dest, sqlite3_errmsg(out));
    sqlite3_finalize(st);
    if (!alone) {
        if (map_rc(rc) == DB_BUSY || rc == SQLITE_ROW) {
            snprintf(err, errlen,
                     "%s is in use by another process (a running evgate-gateway or evgate-mgmt?)",
                     dest);
            ret = DB_BUSY;
        }
        goto out;
    }
    /* Keep every lock taken from here until close: nobody opens a half-restored file. */
    if ((rc = exec_err(out, "PRAGMA locking_mode=EXCLUSIVE", err, errlen)) != SQLITE_OK)
        goto out;
    if (!(bk = sqlite3_backup_init(out, "main", in, "main"))) {
        snprintf(err, errlen, "restore: %s", sqlite3_errmsg(out));
        goto out;
    }
    rc = sqlite3_backup_step(bk, -1);
    sqlite3_backup_finish(bk);
    bk = NULL;
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "restore into %s: %s", dest, sqlite3_errstr(rc));
        ret = map_rc(rc) == DB_OK ? DB_ERROR : map_rc(rc);
        goto out;
    }
    ret = DB_OK;
out:
    if (bk)
        sqlite3_backup_finish(bk);
    sqlite3_close(out);
    sqlite3_close(in);
    if (ret == DB_OK)
        sync_file(dest);
    return ret;
}
