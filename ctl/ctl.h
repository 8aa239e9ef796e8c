/* evgatectl: the administrator's tool. Each subcommand is one function over the settings
 * loaded by main.c; they share the exit codes and the helpers below. */
#ifndef EVGATE_CTL_H
#define EVGATE_CTL_H

#include "common/config.h"

#include <stddef.h>

struct db;

/* Exit codes of evgatectl (documented in --help and the README). */
enum ctl_exit {
    CTL_OK = 0,
    CTL_FAILED = 1,   /* the operation failed: database or file error (message on stderr) */
    CTL_USAGE = 2,    /* bad command line or configuration */
    CTL_INVALID = 3,  /* check found problems, or an input (backup file, export) did not verify */
    CTL_IN_USE = 4,   /* restore refused: a running daemon has the database open */
    CTL_NOTFOUND = 5, /* no such user or token, or the user name is taken */
};

/* One subcommand: `argc`/`argv` start at its name (argv[0] = "create-admin", ...). Each prints
 * its own --help. Returns an enum ctl_exit. */
int ctl_create_admin(const struct evg_config *cfg, int argc, char **argv);
int ctl_reset_password(const struct evg_config *cfg, int argc, char **argv);
int ctl_tokens(const struct evg_config *cfg, int argc, char **argv);
int ctl_backup(const struct evg_config *cfg, int argc, char **argv);
int ctl_restore(const struct evg_config *cfg, int argc, char **argv);
int ctl_check(const struct evg_config *cfg, int argc, char **argv);
int ctl_config(const struct evg_config *cfg, int argc, char **argv);

/* Opens the configured database. With `migrate` it is created if missing and brought to the
 * latest schema (as a daemon would on start); without, it must exist and not be newer than
 * this build. NULL with the reason printed on stderr. Caller closes with db_close(). */
struct db *ctl_open_db(const struct evg_config *cfg, int migrate);

/* Prints "evgatectl <cmd>: <message>" on stderr. */
void ctl_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when argv holds --help or -h. */
int ctl_wants_help(int argc, char **argv);

#endif
