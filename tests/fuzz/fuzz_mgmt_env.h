/* What the mgmt fuzz targets share: a temporary directory (removed at exit) with a migrated
 * database, mgmt's configuration pointing at it, an admin and an active operator. */
#ifndef EVGATE_FUZZ_MGMT_ENV_H
#define EVGATE_FUZZ_MGMT_ENV_H

#include "common/config.h"

#include <stdint.h>

struct db;

struct fuzz_mgmt {
    char dir[64];
    struct evg_config cfg;
    struct db *db;
    int64_t admin_id, operator_id;
};

/* Sets `m` up (aborts on failure). `listen` is mgmt_listen ("127.0.0.1:0" when no server runs). */
void fuzz_mgmt_setup(struct fuzz_mgmt *m, const char *listen);

#endif
