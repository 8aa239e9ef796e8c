/* evgatectl create-admin, reset-password and tokens: accounts and API tokens, with mgmt's own
 * password rules and argon2id hashing (mgmt/validate.h, mgmt/password.h). */
#include "ctl/ctl.h"
#include "db/accounts.h"
#include "db/db.h"
#include "db/maint.h"
#include "mgmt/password.h"
#include "mgmt/validate.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD_LINE_MAX 1024

/* The first detail's message of a validation failure, for a one-line error. */
static const char *first_reason(json_t *details)
{
    json_t *d = json_array_get(details, 0);
    const char *m = json_string_value(json_object_get(d, "message"));
    return m ? m : "is not valid";
}

/* Reads one line from stdin into buf (without its newline), with echo off on a terminal. The
 * password never appears in argv, so ps and shell history never see it. 0, or -1 with a
 * message printed. */
static int read_password(const char *cmd, char *buf, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "New password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)len, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got) {
        ctl_error(cmd, "no password on standard input");
        return -1;
    }
    size_t n = strlen(buf);
    if (n && buf[n - 1] != '\n' && !feof(stdin)) {
        ctl_error(cmd, "password line longer than %zu bytes", len - 2);
        return -1;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    return 0;
}

/* The new password: from stdin with --password-stdin, else generated (and *generated set).
 * Checked against mgmt's rule. 0 or -1 (message printed). */
static int new_password(const char *cmd, int from_stdin, char *buf, size_t len, int *generated)
{
    *generated = !from_stdin;
    if (!from_stdin) {
        if (pw_generate(buf, 21) < 0) {
            ctl_error(cmd, "cannot generate a password (no randomness)");
            return -1;
        }
        return 0;
    }
    if (read_password(cmd, buf, len) < 0)
        return -1;
    json_t *details = json_array();
    int bad = val_password(details, buf, strlen(buf)) < 0;
    if (bad)
        ctl_error(cmd, "the password %s (at least 10 characters, at most 128)",
                  first_reason(details));
    json_decref(details);
    return bad ? -1 : 0;
}

static void print_generated(const char *username, const char *password)
{
    /* stdout, once; nothing else of it is kept but the argon2id hash */
    printf("user name: %s\npassword:  %s\n", username, password);
    fflush(stdout);
}

static const struct option pw_opts[] = {{"password-stdin", no_argument, NULL, 'p'},
                                        {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};

static int parse_user_cmd(const char *cmd, int argc, char **argv, int *from_stdin,
                          const char **username)
{
    int o;
    optind = 1;
    opterr = 0;
    *from_stdin = 0;
    while ((o = getopt_long(argc, argv, "+h", pw_opts, NULL)) != -1) {
        if (o == 'p') {
            *from_stdin = 1;
        } else {
            ctl_error(cmd, "unknown option \"%s\" (see evgatectl %s --help)", argv[optind - 1],
                      cmd);
            return CTL_USAGE;
        }
    }
    if (optind != argc - 1) {
        ctl_error(cmd, "needs exactly one USERNAME (see evgatectl %s --help)", cmd);
        return CTL_USAGE;
    }
    *username = argv[optind];
    return CTL_OK;
}

int ctl_create_admin(const struct evg_config *cfg, int argc, char **argv)
{
    if (ctl_wants_help(argc, argv)) {
        printf("Usage: evgatectl create-admin [--password-stdin] USERNAME\n\n"
               "Creates an active admin account USERNAME (4-32 of A-Z a-z 0-9 _), creating and\n"
               "migrating the database first when needed. Its password is read from standard\n"
               "input with --password-stdin (one line, 10-128 characters; echo off on a\n"
               "terminal), else generated and printed once on standard output. Never on the\n"
               "command line. Exit 5 when the user name is taken.\n");
        return CTL_OK;
    }
    const char *cmd = "create-admin", *username;
    int from_stdin, generated, rc = parse_user_cmd(cmd, argc, argv, &from_stdin, &username);
    if (rc != CTL_OK)
        return rc;
    json_t *details = json_array();
    if (val_username(details, username, strlen(username)) < 0) {
        ctl_error(cmd, "user name \"%s\" %s", username, first_reason(details));
        json_decref(details);
        return CTL_USAGE;
    }
    json_decref(details);
    char password[PASSWORD_LINE_MAX], hash[PW_HASH_MAX];
    if (new_password(cmd, from_stdin, password, sizeof password, &generated) < 0)
        return CTL_USAGE;
    struct db *db = ctl_open_db(cfg, 1);
    if (!db) {
        rc = CTL_FAILED;
        goto out;
    }
    int64_t id = 0;
    if (pw_hash(password, hash) < 0) {
        ctl_error(cmd, "hashing the password failed");
        rc = CTL_FAILED;
        goto out;
    }
    int drc = db_admin_create(db, username, hash, &id);
    if (drc == DB_CONFLICT) {
        ctl_error(cmd, "user name \"%s\" is taken in %s", username, cfg->db);
        rc = CTL_NOTFOUND;
    } else if (drc != DB_OK) {
        ctl_error(cmd, "cannot create the account in %s (database error %d)", cfg->db, drc);
        rc = CTL_FAILED;
    } else {
        if (generated)
            print_generated(username, password);
        fprintf(stderr, "evgatectl: created admin \"%s\" (account %lld) in %s\n", username,
                (long long)id, cfg->db);
        rc = CTL_OK;
    }
out:
    db_close(db);
    memset(password, 0, sizeof password);
    return rc;
}

int ctl_reset_password(const struct evg_config *cfg, int argc, char **argv)
{
    if (ctl_wants_help(argc, argv)) {
        printf("Usage: evgatectl reset-password [--password-stdin] USERNAME\n\n"
               "Gives account USERNAME (admin or operator) a new password and ends its browser\n"
               "sessions; its API tokens stay (see `evgatectl tokens`). The password is read from\n"
               "standard input with --password-stdin (one line, 10-128 characters), else\n"
               "generated and printed once on standard output. Exit 5 when there is no such\n"
               "user.\n");
        return CTL_OK;
    }
    const char *cmd = "reset-password", *username;
    int from_stdin, generated, rc = parse_user_cmd(cmd, argc, argv, &from_stdin, &username);
    if (rc != CTL_OK)
        return rc;
    char password[PASSWORD_LINE_MAX], hash[PW_HASH_MAX];
    if (new_password(cmd, from_stdin, password, sizeof password, &generated) < 0)
        return CTL_USAGE;
    struct db *db = ctl_open_db(cfg, 1);
    struct db_account acct = {0};
    if (!db) {
        rc = CTL_FAILED;
        goto out;
    }
    int drc = db_account_by_username(db, username, &acct);
    if (drc == DB_NOTFOUND) {
        ctl_error(cmd, "no user \"%s\" in %s", username, cfg->db);
        rc = CTL_NOTFOUND;
        goto out;
    }
    if (drc != DB_OK || pw_hash(password, hash) < 0 ||
        (drc = db_account_set_password(db, acct.id, hash)) != DB_OK) {
        ctl_error(cmd, "cannot set the password in %s (database error %d)", cfg->db, drc);
        rc = CTL_FAILED;
        goto out;
    }
    if (generated)
        print_generated(username, password);
    fprintf(stderr, "evgatectl: new password set for \"%s\"; its sessions ended\n", username);
    rc = CTL_OK;
out:
    db_account_clear(&acct);
    db_close(db);
    memset(password, 0, sizeof password);
    return rc;
}

static void print_time(json_t *t)
{
    if (!json_is_integer(t)) {
        printf("%-20s", "-");
        return;
    }
    time_t v = (time_t)json_integer_value(t);
    struct tm tm;
    char buf[32];
    gmtime_r(&v, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-20s", buf);
}

static int tokens_list(const struct evg_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    const char *user = NULL;
    int as_json = 0, o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (o == 'u')
            user = optarg;
        else if (o == 'j')
            as_json = 1;
        else {
            ctl_error("tokens list", "unknown option or missing value \"%s\"", argv[optind - 1]);
            return CTL_USAGE;
        }
    }
    if (optind != argc) {
        ctl_error("tokens list", "unexpected argument \"%s\"", argv[optind]);
        return CTL_USAGE;
    }
    struct db *db = ctl_open_db(cfg, 0);
    if (!db)
        return CTL_FAILED;
    int rc = CTL_OK;
    int64_t account_id = 0;
    json_t *list = NULL;
    if (user) {
        struct db_account acct = {0};
        int drc = db_account_by_username(db, user, &acct);
        account_id = acct.id;
        db_account_clear(&acct);
        if (drc != DB_OK) {
            ctl_error("tokens list", "no user \"%s\" in %s", user, cfg->db);
            rc = drc == DB_NOTFOUND ? CTL_NOTFOUND : CTL_FAILED;
            goto out;
        }
    }
    if (!(list = db_token_list_all(db, account_id))) {
        ctl_error("tokens list", "cannot read the tokens of %s", cfg->db);
        rc = CTL_FAILED;
        goto out;
    }
    if (as_json) {
        json_dumpf(list, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        putchar('\n');
        goto out;
    }
    /* Names are the users' own text: printed as JSON strings, so no control character of a
     * name reaches the terminal. */
    printf("%-8s %-32s %-12s %-20s %-20s %s\n", "ID", "USER", "PREFIX", "CREATED", "LAST USED",
           "NAME");
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        char *name = json_dumps(json_object_get(t, "name"), JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        printf("%-8lld %-32s %-12s ", (long long)json_integer_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "username")),
               json_string_value(json_object_get(t, "prefix")));
        print_time(json_object_get(t, "created_at"));
        putchar(' ');
        print_time(json_object_get(t, "last_used_at"));
        printf(" %s\n", name ? name : "?");
        free(name);
    }
out:
    json_decref(list);
    db_close(db);
    return rc;
}

static int tokens_revoke(const struct evg_config *cfg, int argc, char **argv)
{
    char *end;
    if (argc != 2) {
        ctl_error("tokens revoke", "needs exactly one token ID (see evgatectl tokens --help)");
        return CTL_USAGE;
    }
    errno = 0;
    long long id = strtoll(argv[1], &end, 10);
    if (errno || end == argv[1] || *end || id < 1) {
        ctl_error("tokens revoke", "token ID must be a positive integer, got \"%s\"", argv[1]);
        return CTL_USAGE;
    }
    struct db *db = ctl_open_db(cfg, 0);
    if (!db)
        return CTL_FAILED;
    char owner[40] = "";
    int drc = db_token_revoke_any(db, id, owner), rc = CTL_OK;
    if (drc == DB_NOTFOUND) {
        ctl_error("tokens revoke", "no unrevoked token %lld in %s", id, cfg->db);
        rc = CTL_NOTFOUND;
    } else if (drc != DB_OK) {
        ctl_error("tokens revoke", "cannot revoke token %lld in %s (database error %d)", id,
                  cfg->db, drc);
        rc = CTL_FAILED;
    } else {
        fprintf(stderr, "evgatectl: revoked token %lld of \"%s\"\n", id, owner);
    }
    db_close(db);
    return rc;
}

int ctl_tokens(const struct evg_config *cfg, int argc, char **argv)
{
    if (argc < 2 || ctl_wants_help(argc, argv)) {
        printf("Usage: evgatectl tokens list [--user USERNAME] [--json]\n"
               "       evgatectl tokens revoke ID\n\n"
               "list: the unrevoked API tokens (of one user, or of all), with their ID, owner,\n"
               "prefix (the first characters of the token), creation and last use (UTC). The\n"
               "tokens themselves are not stored, only their hashes.\n"
               "revoke: revokes token ID at once; requests bearing it get 401. Exit 5 when there\n"
               "is no such unrevoked token.\n");
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    if (strcmp(argv[1], "list") == 0)
        return tokens_list(cfg, argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return tokens_revoke(cfg, argc - 1, argv + 1);
    ctl_error("tokens", "unknown subcommand \"%s\" (list or revoke)", argv[1]);
    return CTL_USAGE;
}
