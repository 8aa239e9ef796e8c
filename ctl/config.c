/* evgatectl config export, import and sample (the document: ctl/config_doc.h). */
#include "ctl/config_doc.h"
#include "ctl/ctl.h"
#include "db/db.h"
#include "db/maint.h"
#include "db/piles_gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_problems(json_t *problems)
{
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p) fprintf(stderr, "  %s\n", json_string_value(p));
}

static int config_export(const struct evg_config *cfg, int argc, char **argv)
{
    if (argc > 2) {
        ctl_error("config export", "takes at most one FILE");
        return CTL_USAGE;
    }
    const char *path = argc == 2 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    struct db *db = ctl_open_db(cfg, 0);
    if (!db)
        return CTL_FAILED;
    json_t *piles = db_pile_settings_all(db);
    int version = db_schema_version(db);
    db_close(db);
    if (!piles) {
        ctl_error("config export", "cannot read the piles of %s", cfg->db);
        return CTL_FAILED;
    }
    json_t *doc = config_doc_build(cfg, piles, version);
    if (!doc) {
        ctl_error("config export", "out of memory");
        return CTL_FAILED;
    }
    int rc =
        path ? json_dump_file(doc, path, JSON_INDENT(2)) : json_dumpf(doc, stdout, JSON_INDENT(2));
    if (!path)
        putchar('\n');
    json_decref(doc);
    if (rc < 0) {
        ctl_error("config export", "cannot write %s: %s", path ? path : "standard output",
                  strerror(errno));
        return CTL_FAILED;
    }
    return CTL_OK;
}

/* Writes the settings to `path`.tmp, synced; the caller renames it once the database part is
 * committed. 0, or -1 with the message printed. */
static int write_config_tmp(json_t *doc, const char *db_path, const char *path, char *tmp,
                            size_t tmplen)
{
    if (snprintf(tmp, tmplen, "%s.tmp", path) >= (int)tmplen) {
        ctl_error("config import", "path too long: %s", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        ctl_error("config import", "cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int bad = config_doc_write_settings(doc, db_path, f) < 0 || fsync(fileno(f)) < 0;
    if (fclose(f) != 0 || bad) {
        ctl_error("config import", "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int config_import(const struct evg_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"write-config", required_argument, NULL, 'w'},
                                         {"db-only", no_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *write_config = NULL;
    int db_only = 0, o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (o == 'w')
            write_config = optarg;
        else if (o == 'd')
            db_only = 1;
        else {
            ctl_error("config import", "unknown option or missing value \"%s\"", argv[optind - 1]);
            return CTL_USAGE;
        }
    }
    if (optind != argc - 1 || (write_config && db_only)) {
        ctl_error("config import", "needs one FILE and --write-config PATH or --db-only "
                                   "(see evgatectl config --help)");
        return CTL_USAGE;
    }
    const char *path = argv[optind];
    struct stat sb;
    if (stat(path, &sb) < 0) {
        ctl_error("config import", "cannot read %s: %s", path, strerror(errno));
        return CTL_FAILED;
    }
    if (sb.st_size > CONFIG_DOC_MAX_BYTES) {
        ctl_error("config import", "%s is larger than %ld bytes", path, CONFIG_DOC_MAX_BYTES);
        return CTL_INVALID;
    }
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        ctl_error("config import", "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return CTL_INVALID;
    }
    json_t *problems = json_array();
    int rc = CTL_OK;
    char tmp[4096] = "";
    struct db *db = NULL;
    config_doc_validate(doc, problems);
    json_t *settings = json_object_get(doc, "settings");
    if (json_object_size(settings) && !write_config && !db_only) {
        ctl_error("config import",
                  "%s has settings: give --write-config PATH to write them as "
                  "a config file, or --db-only to import only the piles' "
                  "settings",
                  path);
        rc = CTL_USAGE;
        goto out;
    }
    if (!(db = ctl_open_db(cfg, 1))) {
        rc = CTL_FAILED;
        goto out;
    }
    /* Every pile named must exist before anything is written. */
    json_t *piles = json_object_get(doc, "piles"), *p;
    size_t i;
    if (json_array_size(problems) == 0) {
        json_array_foreach(piles, i, p)
        {
            int64_t row;
            const char *id = json_string_value(json_object_get(p, "equipment_id"));
            int drc = db_pile_row(db, id, &row);
            if (drc == DB_NOTFOUND)
                config_doc_problem(problems, "piles[%zu].equipment_id: no pile \"%s\" in %s", i, id,
                                   cfg->db);
            else if (drc != DB_OK)
                config_doc_problem(problems, "piles[%zu]: database error %d", i, drc);
        }
    }
    if (json_array_size(problems)) {
        ctl_error("config import", "%s does not verify; nothing was changed:", path);
        print_problems(problems);
        rc = CTL_INVALID;
        goto out;
    }
    if (write_config && write_config_tmp(doc, cfg->db, write_config, tmp, sizeof tmp) < 0) {
        rc = CTL_FAILED;
        goto out;
    }
    /* One transaction: every pile's settings or none. */
    int drc = db_begin(db);
    json_array_foreach(piles, i, p)
    {
        int64_t row = 0;
        if (drc != DB_OK)
            break;
        drc = db_pile_row(db, json_string_value(json_object_get(p, "equipment_id")), &row);
        if (drc == DB_OK)
            drc = db_pile_set_ocpp_settings(
                db, row, json_string_value(json_object_get(p, "boot_status")),
                (int)json_integer_value(json_object_get(p, "security_profile")));
    }
    if (drc == DB_OK)
        drc = db_commit(db);
    else
        db_rollback(db);
    if (drc != DB_OK) {
        ctl_error("config import",
                  "writing the piles' settings into %s failed (database error "
                  "%d); nothing was changed",
                  cfg->db, drc);
        rc = CTL_FAILED;
        goto out;
    }
    if (write_config && rename(tmp, write_config) < 0) {
        ctl_error("config import", "the piles' settings are in %s, but moving %s to %s failed: %s",
                  cfg->db, tmp, write_config, strerror(errno));
        rc = CTL_FAILED;
        goto out;
    }
    tmp[0] = 0;
    fprintf(stderr, "evgatectl: imported %zu piles' settings into %s%s%s\n", json_array_size(piles),
            cfg->db, write_config ? " and the settings into " : "",
            write_config ? write_config : "");
out:
    if (tmp[0])
        unlink(tmp);
    db_close(db);
    json_decref(problems);
    json_decref(doc);
    return rc;
}

static int config_sample_cmd(int argc, char **argv)
{
    json_t *set = json_object();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--set") == 0 && i + 1 < argc)
            a = argv[++i];
        else {
            ctl_error("config sample", "expected --set KEY=VALUE, got \"%s\"", a);
            json_decref(set);
            return CTL_USAGE;
        }
        const char *eq = strchr(a, '=');
        if (!eq) {
            ctl_error("config sample", "expected KEY=VALUE, got \"%s\"", a);
            json_decref(set);
            return CTL_USAGE;
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - a), a);
        json_object_set_new(set, key, json_string(eq + 1));
    }
    char err[512];
    int rc = config_sample(stdout, set, err, sizeof err);
    json_decref(set);
    if (rc < 0) {
        ctl_error("config sample", "%s", err);
        return CTL_USAGE;
    }
    return CTL_OK;
}

int ctl_config(const struct evg_config *cfg, int argc, char **argv)
{
    if (argc < 2 || ctl_wants_help(argc, argv)) {
        printf(
            "Usage: evgatectl config export [FILE]\n"
            "       evgatectl config import FILE (--write-config PATH | --db-only)\n"
            "       evgatectl config sample [--set KEY=VALUE]...\n\n"
            "The configuration is what an administrator sets: every setting of the daemons\n"
            "(as this evgatectl reads them: defaults, --config file, EVGATE_* variables, flags)\n"
            "but the secret admin_password and db (the database imported into), and each\n"
            "pile's OCPP settings (boot_status, security_profile). Operators' registrations,\n"
            "records and credentials are data: backups carry them.\n\n"
            "export: writes it as JSON to FILE (or standard output).\n"
            "import: checks the whole FILE first (format, every setting's key, type and bounds,\n"
            "every pile's fields and that the pile exists in --db) and changes nothing when any\n"
            "check fails (exit 3, every problem listed with its JSON path). Then writes the\n"
            "piles' settings in one transaction and, with --write-config, the settings as a\n"
            "config file at PATH (replaced whole, mode 0640, with db = the --db imported into);\n"
            "--db-only leaves settings alone.\n"
            "The daemons pick the piles' settings up within seconds, the config file when\n"
            "restarted.\n"
            "sample: prints the commented sample config file, every setting documented.\n");
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    if (strcmp(argv[1], "export") == 0)
        return config_export(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0)
        return config_import(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "sample") == 0)
        return config_sample_cmd(argc - 1, argv + 1);
    ctl_error("config", "unknown subcommand \"%s\" (export, import or sample)", argv[1]);
    return CTL_USAGE;
}
