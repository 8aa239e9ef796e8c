/* The mgmt fuzz targets' environment (fuzz_mgmt_env.h). */
#define _XOPEN_SOURCE 700
#include "tests/fuzz/fuzz_mgmt_env.h"
#include "db/accounts.h"
#include "db/db.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char cleanup_dir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (cleanup_dir[0])
        nftw(cleanup_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_mgmt_setup(struct fuzz_mgmt *m, const char *listen)
{
    memset(m, 0, sizeof *m);
    snprintf(m->dir, sizeof m->dir, "/tmp/evgate-fuzz-mgmt-XXXXXX");
    if (!mkdtemp(m->dir))
        abort();
    snprintf(cleanup_dir, sizeof cleanup_dir, "%s", m->dir);
    atexit(cleanup);
    char dbpath[128], data[128], err[256];
    snprintf(dbpath, sizeof dbpath, "%s/evgate.db", m->dir);
    snprintf(data, sizeof data, "%s/data/", m->dir);
    setenv("EVGATE_DB", dbpath, 1);
    setenv("EVGATE_DATA_DIR", data, 1);
    setenv("EVGATE_MGMT_LISTEN", listen, 1);
    char *args[] = {"fuzz", NULL};
    if (cfg_load(&m->cfg, CFG_MGMT, "fuzz", 1, args, err, sizeof err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        abort();
    }
    m->db = db_open(dbpath, 5000, "NORMAL", err, sizeof err);
    if (!m->db || db_migrate(m->db, -1, err, sizeof err) != DB_OK) {
        fprintf(stderr, "database: %s\n", err);
        abort();
    }
    static const char hash[] = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    struct db_organisation_in org = {.company_name = "中山市模糊测试有限公司",
                                     .credit_code = "91442000MA4UJ9XY0A",
                                     .operator_id = "MA4UJ9XY0",
                                     .legal_representative = "张三",
                                     .contact_name = "李四",
                                     .mobile = "13900000000",
                                     .email = "fuzz@example.com",
                                     .address = "中山市东区"};
    const char *field = NULL;
    int created = 0;
    struct db_account a;
    if (db_admin_ensure(m->db, "admin", hash, &created) != DB_OK ||
        db_account_by_username(m->db, "admin", &a) != DB_OK)
        abort();
    m->admin_id = a.id;
    db_account_clear(&a);
    if (db_operator_register(m->db, "fuzzop", hash, &org, &m->operator_id, &field) != DB_OK ||
        db_operator_set_status(m->db, m->operator_id, "pending", "active", NULL, m->admin_id,
                               "account.approve") != DB_OK)
        abort();
}
