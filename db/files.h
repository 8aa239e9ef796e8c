/* Uploaded files: metadata rows; the bytes live under data_dir/uploads/ by a random name. */
#ifndef EVGATE_DB_FILES_H
#define EVGATE_DB_FILES_H

#include "db/db.h"

#include <stdint.h>

struct db_file {
    int64_t id;
    int64_t owner_account_id; /* 0 while an upload has no account yet (registration) */
    char purpose[32];
    char original_name[256];
    char stored_name[80];
    char mime[64];
    int64_t size;
    char sha256[65];
};

/* Inserts the row described by `f` (id ignored); *id is the new row. */
int db_file_add(struct db *db, const struct db_file *f, int64_t *id);

/* Reads file `id` into *out. DB_NOTFOUND when none. */
int db_file_get(struct db *db, int64_t id, struct db_file *out);

/* Sets the owner of a file uploaded before its account existed. */
int db_file_set_owner(struct db *db, int64_t id, int64_t owner_account_id);

/* Deletes file row `id` (the caller removes the bytes). */
int db_file_delete(struct db *db, int64_t id);

#endif
