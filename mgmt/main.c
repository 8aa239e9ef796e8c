/* evgate-mgmt: the management plane (REST API under /api/v1 and the web UI). */
#include "common/config.h"
#include "common/log.h"
#include "db/accounts.h"
#include "db/db.h"
#include "mgmt/password.h"
#include "mgmt/server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Creates `admin` when the database has none (SPEC §2): with admin_password, or a generated
 * password printed once on stderr (never logged). */
static int ensure_admin(struct db *db, const struct evg_config *cfg)
{
    char generated[21], hash[PW_HASH_MAX];
    const char *password = cfg->admin_password;
    if (!*password) {
        if (pw_generate(generated, sizeof generated) < 0)
            return -1;
        password = generated;
    }
    int created = 0;
    if (pw_hash(password, hash) < 0 || db_admin_ensure(db, "admin", hash, &created) != DB_OK)
        return -1;
    if (created) {
        log_info("mgmt", "admin_created", "username=admin generated=%d", password == generated);
        if (password == generated)
            fprintf(stderr,
                    "\n  evgate: created the first admin account\n"
                    "    user name: admin\n    password:  %s\n"
                    "  It is shown only this once: note it, then log in and keep it safe.\n\n",
                    generated);
    }
    memset(generated, 0, sizeof generated);
    return 0;
}

int main(int argc, char **argv)
{
    struct evg_config cfg;
    char err[512];
    int rc = cfg_load(&cfg, CFG_MGMT, "evgate-mgmt", argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "evgate-mgmt: %s\n", err);
        return 2;
    }
    if (log_set_level_name(cfg.log_level) < 0) {
        fprintf(stderr, "evgate-mgmt: log_level must be debug, info, warn or error, got \"%s\"\n",
                cfg.log_level);
        cfg_free(&cfg);
        return 2;
    }
    /* Signals are taken synchronously by sigwait below; block them before MHD's threads start
     * so that they inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP); /* log_level again from the settings (cfg_reload_log_level) */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 1;
    struct mgmt_server *srv = NULL;
    struct db *db =
        db_open(cfg.db, (int)cfg.sqlite_busy_ms, cfg.sqlite_synchronous, err, sizeof err);
    if (!db) {
        log_error("mgmt", "db_open_failed", "db=%s error=%s", log_q(cfg.db), log_q(err));
        goto out;
    }
    if (db_migrate(db, -1, err, sizeof err) != DB_OK) {
        log_error("mgmt", "migrate_failed", "db=%s error=%s", log_q(cfg.db), log_q(err));
        goto out;
    }
    if (ensure_admin(db, &cfg) < 0) {
        log_error("mgmt", "admin_create_failed", "db=%s", log_q(cfg.db));
        goto out;
    }
    if (!(srv = mgmt_server_start(&cfg)))
        goto out;
    log_info("mgmt", "listening", "addr=%s", log_q(cfg.mgmt_listen));
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        cfg_reload_log_level(CFG_MGMT, "evgate-mgmt", argc, argv);
    log_info("mgmt", "stopping", "signal=%d", sig);
    exit_code = 0;
out:
    mgmt_server_stop(srv);
    db_close(db);
    if (exit_code == 0)
        log_info("mgmt", "stopped", NULL);
    cfg_free(&cfg);
    return exit_code;
}
