/* evgatectl: create admins, reset passwords, list and revoke API tokens, back up, restore and
 * check the database, export and import the configuration (README "Deployment"). */
#include "ctl/ctl.h"
#include "common/log.h"
#include "db/db.h"

#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    int (*fn)(const struct evg_config *, int, char **);
    const char *summary;
} commands[] = {
    {"create-admin", ctl_create_admin,
     "create an admin account (password from stdin or generated)"},
    {"reset-password", ctl_reset_password,
     "set a new password for an account, ending its sessions"},
    {"tokens", ctl_tokens, "tokens list [--user NAME] | tokens revoke ID: API tokens"},
    {"backup", ctl_backup, "online backup of the database into a file, while the daemons run"},
    {"restore", ctl_restore, "verify a backup file and restore it (daemons stopped)"},
    {"check", ctl_check, "integrity_check and foreign_key_check of the database"},
    {"config", ctl_config, "config export | import | sample: the whole configuration as JSON"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "Usage: evgatectl [--setting value]... COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n`evgatectl COMMAND --help` describes each. The settings before the command are "
            "those of\nthe daemons (--config FILE, --db PATH, ...; `evgate-mgmt --help` lists "
            "them), read like\ntheirs: default < config file (--config or EVGATE_CONFIG) < "
            "EVGATE_* variable < flag.\nevgatectl uses the database settings (db, sqlite_*) and "
            "log_level; config export shows all.\n\n"
            "Exit codes:\n"
            "  0  done\n"
            "  1  the operation failed (database or file error; the message says what and where)\n"
            "  2  bad command line or configuration\n"
            "  3  check found problems, or an input (backup file, configuration) did not verify\n"
            "  4  restore refused: a running daemon has the database open\n"
            "  5  no such user or token, or the user name is taken\n");
}

void ctl_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "evgatectl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ctl_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

struct db *ctl_open_db(const struct evg_config *cfg, int migrate)
{
    char err[512];
    struct stat sb;
    if (!migrate && stat(cfg->db, &sb) < 0) {
        fprintf(stderr, "evgatectl: no database at %s (set --db, EVGATE_DB or db in --config)\n",
                cfg->db);
        return NULL;
    }
    struct db *db =
        db_open(cfg->db, (int)cfg->sqlite_busy_ms, cfg->sqlite_synchronous, err, sizeof err);
    if (!db) {
        fprintf(stderr, "evgatectl: %s\n", err);
        return NULL;
    }
    int have = db_schema_version(db);
    if (have > db_latest_version()) {
        fprintf(stderr,
                "evgatectl: %s has schema version %d, newer than this evgatectl knows (%d)\n",
                cfg->db, have, db_latest_version());
        db_close(db);
        return NULL;
    }
    if (migrate && db_migrate(db, -1, err, sizeof err) != DB_OK) {
        fprintf(stderr, "evgatectl: migrating %s: %s\n", cfg->db, err);
        db_close(db);
        return NULL;
    }
    return db;
}

/* Root must not touch a database the daemons' user owns: SQLite would create the -wal and -shm
 * files (or a restored file) owned by root, and the daemons could no longer write. 0 when the
 * caller may go on, else -1 with the message printed. */
static int refuse_foreign_root(const char *db)
{
    if (geteuid() != 0)
        return 0;
    struct stat sb;
    char *copy = strdup(db);
    int rc = stat(db, &sb);
    if (rc < 0 && copy)
        rc = stat(dirname(copy), &sb);
    free(copy);
    if (rc < 0 || sb.st_uid == 0)
        return 0;
    struct passwd *pw = getpwuid(sb.st_uid);
    fprintf(stderr,
            "evgatectl: %s belongs to user %s: run evgatectl as that user (sudo -u %s "
            "evgatectl ...), not as root, so that the files it creates stay theirs\n",
            db, pw ? pw->pw_name : "?", pw ? pw->pw_name : "<owner>");
    return -1;
}

int main(int argc, char **argv)
{
    /* The settings come first: every one takes a value (--key value or --key=value). */
    int cmd = 1;
    while (cmd < argc && strncmp(argv[cmd], "--", 2) == 0 && strcmp(argv[cmd], "--help") != 0)
        cmd += strchr(argv[cmd], '=') ? 1 : 2;
    if (cmd >= argc || strcmp(argv[cmd], "--help") == 0 || strcmp(argv[cmd], "-h") == 0 ||
        strcmp(argv[cmd], "help") == 0) {
        usage(cmd >= argc ? stderr : stdout);
        return cmd >= argc ? CTL_USAGE : CTL_OK;
    }
    size_t c = 0;
    while (c < NCOMMANDS && strcmp(commands[c].name, argv[cmd]) != 0)
        c++;
    if (c == NCOMMANDS) {
        fprintf(stderr, "evgatectl: unknown command \"%s\" (see evgatectl --help)\n", argv[cmd]);
        return CTL_USAGE;
    }
    /* Backups and config files hold password hashes and T/CEC secrets: group-readable at most,
     * like the daemons' own files (their units' UMask=0027). */
    umask(027);
    struct evg_config cfg;
    char err[512];
    /* All scopes: one file serves every program, and config export shows all of it. */
    if (cfg_load(&cfg, CFG_ALL, "evgatectl", cmd, argv, err, sizeof err) != 0) {
        fprintf(stderr, "evgatectl: %s\n", err);
        return CTL_USAGE;
    }
    if (log_set_level_name(cfg.log_level) < 0) {
        fprintf(stderr, "evgatectl: log_level must be debug, info, warn or error, got \"%s\"\n",
                cfg.log_level);
        cfg_free(&cfg);
        return CTL_USAGE;
    }
    int sample =
        strcmp(argv[cmd], "config") == 0 && cmd + 1 < argc && strcmp(argv[cmd + 1], "sample") == 0;
    if (!sample && !ctl_wants_help(argc - cmd, argv + cmd) && refuse_foreign_root(cfg.db) < 0) {
        cfg_free(&cfg);
        return CTL_USAGE;
    }
    int rc = commands[c].fn(&cfg, argc - cmd, argv + cmd);
    cfg_free(&cfg);
    return rc;
}
