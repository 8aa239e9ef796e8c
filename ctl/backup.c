/* evgatectl backup, restore and check (db/backup.h does the work). */
#include "ctl/ctl.h"
#include "db/backup.h"
#include "db/db.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Pages copied per sqlite3_backup_step: small enough to show progress on a big file. */
#define BACKUP_PAGES_PER_STEP 1024

/* 1 when `a` and `b` name the same existing file (a backup over the database itself would
 * replace it). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void print_problems(json_t *problems)
{
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p) fprintf(stderr, "  %s\n", json_string_value(p));
}

int ctl_backup(const struct evg_config *cfg, int argc, char **argv)
{
    if (ctl_wants_help(argc, argv) || argc != 2) {
        printf("Usage: evgatectl backup FILE\n\n"
               "Copies the database (--db) into FILE while both daemons keep running and\n"
               "writing: SQLite's online backup API over one read snapshot, so FILE holds\n"
               "every commit made before the backup began (every message the gateway had\n"
               "acknowledged) and none after. FILE is written beside itself as FILE.partial,\n"
               "checked with integrity_check, then renamed over FILE: an existing FILE is\n"
               "replaced only by a complete, sound backup. FILE is one self-contained SQLite\n"
               "file (no -wal). Uploaded files (data_dir) are not in it: back them up too.\n");
        return argc == 2 ? CTL_OK : CTL_USAGE;
    }
    const char *dest = argv[1];
    if (same_file(dest, cfg->db)) {
        ctl_error("backup", "%s is the database itself; name another file", dest);
        return CTL_USAGE;
    }
    struct db *db = ctl_open_db(cfg, 0);
    if (!db)
        return CTL_FAILED;
    char err[1024];
    int64_t pages = 0;
    int rc = db_backup(db, dest, BACKUP_PAGES_PER_STEP, &pages, err, sizeof err);
    db_close(db);
    if (rc != DB_OK) {
        ctl_error("backup", "%s -> %s: %s", cfg->db, dest, err);
        return CTL_FAILED;
    }
    fprintf(stderr, "evgatectl: backed up %s to %s (%lld pages)\n", cfg->db, dest,
            (long long)pages);
    return CTL_OK;
}

int ctl_restore(const struct evg_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    if (ctl_wants_help(argc, argv)) {
        printf("Usage: evgatectl restore [--force] FILE\n\n"
               "Restores the backup FILE into the database (--db). FILE is verified first (an\n"
               "evgate database of a schema version this build knows, passing integrity_check\n"
               "and foreign_key_check); nothing is changed when it does not verify (exit 3).\n"
               "Stop evgate-gateway and evgate-mgmt first: restore refuses (exit 4) while any\n"
               "process has the database open, and holds it exclusively while it writes. An\n"
               "existing database is replaced only with --force (back it up first). The next\n"
               "daemon to start migrates the restored file if it is of an older version.\n");
        return CTL_OK;
    }
    int force = 0, o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (o != 'f') {
            ctl_error("restore", "unknown option \"%s\"", argv[optind - 1]);
            return CTL_USAGE;
        }
        force = 1;
    }
    if (optind != argc - 1) {
        ctl_error("restore", "needs exactly one FILE (see evgatectl restore --help)");
        return CTL_USAGE;
    }
    const char *src = argv[optind];
    if (same_file(src, cfg->db)) {
        ctl_error("restore", "%s is the database itself", src);
        return CTL_USAGE;
    }
    char err[1024];
    int version = 0;
    json_t *problems = json_array();
    int rc = db_verify_file(src, &version, problems, err, sizeof err);
    if (rc != DB_OK) {
        ctl_error("restore", "%s", err);
        print_problems(problems);
        json_decref(problems);
        return rc == DB_CONFLICT ? CTL_INVALID : CTL_FAILED;
    }
    json_decref(problems);
    struct stat sb;
    if (!force && stat(cfg->db, &sb) == 0 && sb.st_size > 0) {
        ctl_error("restore", "%s exists; give --force to replace it (after backing it up)",
                  cfg->db);
        return CTL_USAGE;
    }
    rc = db_restore(src, cfg->db, err, sizeof err);
    if (rc == DB_BUSY) {
        ctl_error("restore", "%s; stop both daemons first", err);
        return CTL_IN_USE;
    }
    if (rc != DB_OK) {
        ctl_error("restore", "%s", err);
        return CTL_FAILED;
    }
    fprintf(stderr, "evgatectl: restored %s (schema version %d) into %s\n", src, version, cfg->db);
    return CTL_OK;
}

int ctl_check(const struct evg_config *cfg, int argc, char **argv)
{
    if (ctl_wants_help(argc, argv) || argc != 1) {
        printf("Usage: evgatectl check\n\n"
               "Runs PRAGMA integrity_check and PRAGMA foreign_key_check on the database (--db),\n"
               "safe while the daemons run, and prints each problem. Exit 0 when there is none,\n"
               "3 when there are problems, 1 when the checks could not run.\n");
        return argc == 1 ? CTL_OK : CTL_USAGE;
    }
    struct db *db = ctl_open_db(cfg, 0);
    if (!db)
        return CTL_FAILED;
    json_t *problems = json_array();
    int rc = db_check(db, problems);
    int version = db_schema_version(db);
    db_close(db);
    if (rc != DB_OK) {
        ctl_error("check", "the checks of %s could not run", cfg->db);
        json_decref(problems);
        return CTL_FAILED;
    }
    size_t n = json_array_size(problems);
    if (n) {
        ctl_error("check", "%s has problems:", cfg->db);
        print_problems(problems);
    } else {
        printf("%s: ok (schema version %d of %d)\n", cfg->db, version, db_latest_version());
    }
    json_decref(problems);
    return n ? CTL_INVALID : CTL_OK;
}
